"""`python -m booking.bench offers`: how fast are route-aware offers?

The set-up the issue asks for: a business with 10 technicians, 8 jobs per technician per
working day over a 14-day horizon (10 working days: 800 planned jobs), four 2-hour
windows plus the flexible ones (two half days, the whole day, any day of the week), and
500 random requests. The plans are built once into an SQLite file: each technician's day
is a feasible route of 8 jobs in nearest-neighbour order, every job promised the 2-hour
window it starts in.

Two figures per request, p50 and p95 in milliseconds:
- engine: `offer_slots` alone, on the horizon as the web app caches it (built once per
  version of the plans; its one-off build time is printed too);
- endpoint: `POST /api/v1/offers` through Flask's test client on the SQLite file, i.e.
  request parsing, postcode geocoding (cached in the database after the first request
  per postcode), the version check of the horizon cache, the engine, signing a quote per
  offered slot and the JSON answer.
Engine requests go to random addresses around Magdeburg; endpoint requests name a random
postcode of the demo districts (the offline geocoder places them at its centroid).

The physical bound: every request must examine each (day, window, technician, insertion
position) once. The bench prints that count, the time of the bare vectorised checks over
it, and how much of the engine's time is spent elsewhere (leg look-ups, ranking,
pricing, reasons).
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from booking import create_app
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Business,
    Customer,
    ServiceType,
    Technician,
)
from booking.services.clock import bookable_days
from booking.services.dayplans import job_for, lock_day, save_routes, worker_for_day
from booking.services.horizons import horizon
from booking.services.offering import depot, pricing_policy, slot_windows
from booking.services.travel import travel_times
from optimizer.domain import Job, Location, Route, TimeWindow
from optimizer.domain import Technician as Worker
from optimizer.offers import (
    Horizon,
    JobRequest,
    OfferWindow,
    Slot,
    feasible_starts,
    offer_slots,
    offer_windows,
)
from optimizer.schedule import schedule_route
from optimizer.travel import TravelTimes
from seeds.demo import DISTRICTS, SERVICES, TECHNICIANS, create_business

MONDAY_MORNING = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 07:00 in Magdeburg
JOBS_PER_TECHNICIAN = 8
JOB_MINUTES = 45


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p95: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Percentiles:
        ms = np.array(seconds) * 1000.0
        return cls(float(np.percentile(ms, 50)), float(np.percentile(ms, 95)))


def _around(rng: random.Random) -> tuple[float, float]:
    """A random address: a demo district's centre, spread by about 1.5 km."""
    district = rng.choice(DISTRICTS)
    return district.lat + rng.uniform(-0.012, 0.012), district.lon + rng.uniform(-0.02, 0.02)


def staff(business: Business, total: int) -> None:
    """Bring the demo's five technicians to `total`: fewer are sent home (inactive), more
    start from the demo districts (skills and hours of the demo technician they copy)."""
    existing = list(business.technicians)
    for extra in existing[total:]:
        extra.active = False
    for n in range(len(existing), total):
        model = TECHNICIANS[n % len(TECHNICIANS)]
        district = DISTRICTS[n % len(DISTRICTS)]
        name, color, skills, _label, _lat, _lon, hours = model
        label = f"Wohnung {district.city}, {district.postcode}"
        db.session.add(
            Technician(
                business=business,
                name=f"{name} ({n + 1})",
                color=color,
                skills=list(skills),
                start_label=label,
                start_lat=district.lat,
                start_lon=district.lon,
                end_label=label,
                end_lat=district.lat,
                end_lon=district.lon,
                working_hours=hours,
                lunch_earliest_s=existing[0].lunch_earliest_s,
                lunch_latest_s=existing[0].lunch_latest_s,
                lunch_duration_s=existing[0].lunch_duration_s,
            )
        )
    db.session.flush()


@dataclass(frozen=True)
class _Visit:
    lat: float
    lon: float
    service: ServiceType
    window: TimeWindow


def _day_route(
    worker: Worker,
    services: Sequence[ServiceType],
    rng: random.Random,
    travel: TravelTimes,
    windows: Sequence[TimeWindow],
) -> list[_Visit] | None:
    """JOBS_PER_TECHNICIAN random customers in nearest-neighbour order from the start,
    each promised the 2-hour window its service starts in; None if they do not fit in
    the shift (the caller draws again)."""
    points = [_around(rng) for _ in range(JOBS_PER_TECHNICIAN)]
    here = (worker.start.lat, worker.start.lon)
    order = []
    while points:
        nearest = min(points, key=lambda p: (p[0] - here[0]) ** 2 + (p[1] - here[1]) ** 2)
        points.remove(nearest)
        order.append(nearest)
        here = nearest
    whole_day = TimeWindow(windows[0].start, windows[-1].end)
    route, visits = Route(worker), []
    for k, (lat, lon) in enumerate(order):
        service = rng.choice(services)
        job = Job(f"j{k}", Location(lat, lon), service.duration_s, whole_day)
        schedule = schedule_route(route.with_job(job, len(route.jobs)), travel)
        if schedule is None:
            return None
        start = schedule.visits[-1].start
        window = next((w for w in windows if w.start <= start <= w.end), None)
        if window is None:
            return None
        route = route.with_job(replace(job, window=window), len(route.jobs))
        visits.append(_Visit(lat, lon, service, window))
    return visits


def _appointment(business: Business, day: date, visit: _Visit) -> Appointment:
    service = visit.service
    return Appointment(
        business_id=business.id,
        customer=Customer(
            business_id=business.id,
            name="Bench Kunde",
            phone="0391 555 0000",
            email="bench@example.de",
        ),
        service=service,
        street="Benchstraße 1",
        postcode="39104",
        city="Magdeburg",
        lat=visit.lat,
        lon=visit.lon,
        geo_precision="house",
        day=day,
        window_start_s=visit.window.start,
        window_end_s=visit.window.end,
        status=AppointmentStatus.CONFIRMED,
        price_base_cents=service.base_price_cents,
        price_travel_fee_cents=0,
        price_discount_cents=0,
        price_total_cents=service.base_price_cents,
        saving_pct=0,
        detour_s=0,
        standalone_s=0,
    )


def build_business(technicians: int, seed: int, now: datetime) -> tuple[Business, int]:
    """The benchmark firm with full routes over its horizon; (business, planned jobs).

    Every service is shortened to JOB_MINUTES so that 8 jobs fit a technician's day."""
    rng = random.Random(seed)
    business = create_business()
    staff(business, technicians)
    for service in business.services:
        service.duration_s = JOB_MINUTES * 60
    travel = travel_times()
    windows = slot_windows(business)
    planned = 0
    for day in bookable_days(business, now):
        plan = None
        for technician in business.technicians:
            worker = worker_for_day(technician, day)  # None: inactive or a day off
            if worker is None:
                continue  # a day off
            services = [s for s in business.services if s.required_skill in technician.skills]
            for _attempt in range(200):
                visits = _day_route(worker, services, rng, travel, windows)
                if visits is not None:
                    break
            else:
                raise RuntimeError(f"no feasible day of 8 jobs for {technician.name}")
            appointments = [_appointment(business, day, visit) for visit in visits]
            db.session.add_all(appointments)
            db.session.flush()
            route = Route(worker, tuple(job_for(a) for a in appointments))
            schedule = schedule_route(route, travel)
            assert schedule is not None, "the windows were read off this very schedule"
            plan = plan or lock_day(business.id, day)
            save_routes(plan, {technician.id: schedule}, {a.job_id: a for a in appointments})
            planned += len(appointments)
    db.session.commit()
    return business, planned


def _time(calls: Sequence[Callable[[], object]]) -> list[float]:
    seconds = []
    for call in calls:
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    return seconds


def run(requests: int, technicians: int, seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="kombitermin-bench-") as folder:
        _run(Path(folder), requests, technicians, seed)


def _run(folder: Path, requests: int, technicians: int, seed: int) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
            "NOW": lambda: MONDAY_MORNING,
            "SECRET_KEY": secrets.token_hex(32),  # a throw-away app: any key, never the default
            "RATELIMIT_ENABLED": False,  # 500 requests from one client measure speed, not abuse
        },
        instance_path=str(folder),
    )
    rng = random.Random(seed + 1)
    with app.app_context():
        db.create_all()
        began = time.perf_counter()
        business, planned = build_business(technicians, seed, MONDAY_MORNING)
        print(
            f"# built {planned} planned jobs for {technicians} technicians in "
            f"{time.perf_counter() - began:.1f} s (SQLite)"
        )
        travel = travel_times()
        days = bookable_days(business, MONDAY_MORNING)
        windows = offer_windows(slot_windows(business))
        policy, home = pricing_policy(business), depot(business)
        began = time.perf_counter()
        cached = horizon(business, days, travel)
        build_ms = (time.perf_counter() - began) * 1000
        services = list(business.services)
        weights = [row[-1] for row in SERVICES]
        codes = {s.id: s.code for s in services}

        def engine_call() -> Callable[[], list[Slot]]:
            service = rng.choices(services, weights)[0]
            lat, lon = _around(rng)
            request = JobRequest(
                Location(lat, lon), service.duration_s, service.job_skills, service.base_price_cents
            )
            return lambda: offer_slots(request, cached, windows, home, travel, policy)

        engine_calls = [engine_call() for _ in range(requests)]
        for call in engine_calls[:20]:  # warm-up: numpy's first calls
            call()
        engine = Percentiles.of(_time(engine_calls))
        bare = Percentiles.of(_time([_bare_checks(cached, windows) for _ in range(requests)]))
        offered = [sum(s.offer is not None for s in call()) for call in engine_calls]
        choices = len(engine_calls[0]())

    client = app.test_client()

    def endpoint_call() -> Callable[[], object]:
        service_id = rng.choices(list(codes), weights)[0]
        district = rng.choice(DISTRICTS)
        body = {
            "service": codes[service_id],
            "street": f"{district.streets[0]} 1",
            "postcode": district.postcode,
            "city": district.city,
        }

        def call() -> None:
            response = client.post("/api/v1/offers", json=body)
            if response.status_code != 200:
                raise RuntimeError(f"offers answered {response.status_code}: {response.text}")

        return call

    endpoint_calls = [endpoint_call() for _ in range(requests)]
    for call in endpoint_calls[:20]:  # warm-up: geocoder cache, first queries
        call()
    endpoint = Percentiles.of(_time(endpoint_calls))
    with app.app_context():
        db.engine.dispose()  # close the SQLite file before its folder goes

    checks = cached.size * len(windows)
    kinds = ", ".join(dict.fromkeys(w.kind for w in windows))
    print(
        f"# horizon: {len(cached.days)} working days of {len(days)}, {technicians} technicians, "
        f"{planned} jobs; {len(windows)} windows per day ({kinds}); cached horizon built "
        f"once in {build_ms:.1f} ms"
    )
    print(
        f"# offered per request: median {statistics.median(offered):.0f} of {choices} choices "
        f"(min {min(offered)}, max {max(offered)})"
    )
    print(
        f"# bound: {checks} insertion checks per request ({cached.size} positions x "
        f"{len(windows)} windows); the bare vectorised checks take p50 {bare.p50:.2f} ms "
        f"({1e6 * bare.p50 / checks:.0f} ns per check); the engine's other p50 "
        f"{engine.p50 - bare.p50:.2f} ms go to legs, ranking, prices and reasons"
    )
    print(
        f"engine_p50_ms={engine.p50:.2f} engine_p95_ms={engine.p95:.2f} "
        f"endpoint_p50_ms={endpoint.p50:.2f} endpoint_p95_ms={endpoint.p95:.2f}"
    )


def _bare_checks(horizon: Horizon, windows: Sequence[OfferWindow]) -> Callable[[], object]:
    """Only the O(1) checks of every row for every window, with random legs: the floor."""
    rng = np.random.default_rng(len(horizon.rows["day"]))
    tin = rng.integers(60, 1200, horizon.size)
    tout = rng.integers(60, 1200, horizon.size)
    return lambda: [feasible_starts(horizon.rows, tin, tout, w.window, 2700) for w in windows]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m booking.bench offers", description="Latency of route-aware offers."
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--technicians", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 100_000 or not 1 <= args.technicians <= 200:
        parser.error("--requests must lie in 1..100000 and --technicians in 1..200")
    run(args.requests, args.technicians, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
