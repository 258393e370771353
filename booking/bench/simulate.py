"""Simulation: calendar booking (A) against KombiTermin offers (B) on one request stream.

    python -m booking.bench simulate --seed 1 [--days 20] [--requests-per-day 32]
        [--shares 25,50,75] [--buffer-min 30] [--plan-seconds 1] [--cost-per-km 0.30]
        [--cost-per-hour 60] [--pricing FILE] [--json OUT]

The demo firm of `seeds.demo` (5 technicians with their skills, shifts, start points and
lunch; 9 services; the districts of Magdeburg and surroundings; the 2-hour slot windows;
the default pricing policy) runs in memory with the optimizer objects, no database.

The request stream (one per seed, the same for every mode and share):
- on each of `--days` working days (Mon-Fri) `--requests-per-day` customers ask; each has
  a service drawn with the demo's weights, a place spread around a district drawn
  uniformly (as the demo seed does), a preferred day 1..10 working days ahead (the
  booking horizon of 14 calendar days, no same-day bookings), nearer days likelier
  (weights 10, 9, …, 1: a plumbing problem wants fixing soon), a preferred 2-hour
  window drawn uniformly, and a number u in [0, 1): the customer is price-sensitive
  when u < share, so a higher share turns the same customers price-sensitive.
- The default rate, 32 a day, is about the firm's capacity as measured: when more ask
  (40 or 48 a day), the evening plans of (B) hold 28-32 jobs a day, about 6 per
  technician, and the calendar of (A) fills at 22-24. An empty calendar would make the
  comparison meaningless.

How a customer chooses (both modes): price-sensitive customers take the cheapest offered
slot, any kind of window; ties go to the slot nearest their preference. The others
consider only 2-hour slots: their preferred one if offered, else the nearest offered
one. "Nearest" is by working days apart, then by the gap between the windows, then the
earlier slot. Nothing offered: the request is turned away (not served).

(A) Calendar, as tools without routing book: a busy block per booking in a calendar per
technician and day, plus a fixed lunch block at the earliest lunch start. A slot (day,
2-hour window) is free when some qualified technician has the job's duration plus the
travel buffer (`--buffer-min`) free in a block that starts inside the window and ends
by the shift end (the window promises the arrival, so the block may run past it: a
2-hour gas boiler service plus buffer could never fit inside a 2-hour window); the
booking takes the earliest such block (the first technician in roster order on ties).
One price for all slots: base + travel fee, no discount. So a price-sensitive
customer's cheapest slot is every slot and the tie-break makes them choose like the
others: (A) does not depend on the share and runs once. Each evening the next day's
bookings are planned by `optimizer.planner.plan_day` (arrival windows = the booked
2-hour windows, any qualified technician), warm-started from the night before's plan
of that day (see below; from scratch without one); a job the plan drops counts as not
served.

(B) KombiTermin: for each request, `optimizer.offers.offer_slots` over the routes in
force of the next 10 working days, with the slot windows and the flexible ones
(half day, day, week) of `offer_windows`, priced by the default `PricingPolicy` (or the
one in `--pricing FILE`, to measure an alternative).
The chosen offer is booked by inserting the job at the offered position
(`Route.with_job`) and re-checked with `check_route`. Each evening the next day is
re-planned by `plan_day` warm-started from the routes in force (never worse, never
drops a booked job). Served = booked and kept in the evening plan.

Both modes plan alike: each evening the next day gets its final plan (guided local
search for `--plan-seconds`). With `--ahead-seconds S`, every booked day after it also
gets a nightly plan of S seconds (warm-started from the plan in force), as KombiTermin
can plan the days ahead each night. In (B) the next offers see those routes; in (A) the
calendar never looks at routes, so the nightly plans only warm-start the final one.
This is off by default (`--ahead-seconds 0`): measured at 0.3 s on seeds 1 and 2, it
helped (A) as much as (B) (km saving 16.2 % and 12.0 % against 17.5 % and 15.1 %
without). After the last request day the days still booked are planned too, so every
booking is either served or dropped.

Also measured without a robust gain, and not adopted: choosing the day of a "week" window
by its detour scaled by how full the day is (an empty day's detour counted half, a full
day's in full, so that days far ahead, whose detour runs to a technician's start, are not
misjudged). Paired with the unchanged engine at 50 %, the km saving's mean went from
14.1 % to 14.4 % on seeds 1-12 and from 11.4 % to 11.1 % on seeds 13-24.

Metrics per mode: km per served job and driving minutes per served job (from the
evening plans' routes, by the same travel estimate: geodesic × 1.3 at 30 km/h, the app's
defaults); jobs per technician-day (served jobs / routes with at least one job, the
technician-days actually worked); served share (served / requests); discounts granted
(B: combination + flexibility discounts of served jobs); travel cost per served job
= km × cost per km + driving hours × cost per hour; travel saved (B's row) = (A's
travel cost per job − B's) × jobs B served.

Targets (at 50 % price-sensitive): B drives at least 15 % fewer km per job than A,
serves at least as many requests, and grants less in discounts than it saves in travel.
The last line states the 50 % figures with fixed keys. The planning search is
time-limited, so exact figures can vary slightly between runs of the same seed. The
exit code is 0 when the run completes (a missed target is a measurement, not an error)
and 2 on bad options.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from optimizer.domain import Job, Location, LunchBreak, Route, Technician, TimeWindow
from optimizer.offers import DayRoutes, Horizon, JobRequest, Offer, offer_slots, offer_windows
from optimizer.planner import PlanParameters, PlanResult, plan_day
from optimizer.pricing import PricingPolicy, WindowKind, travel_fee_cents
from optimizer.schedule import check_route
from optimizer.travel import GeodesicTravelTime, TravelTimes
from seeds import demo

FIRST_DAY = date(2026, 11, 23)  # a Monday; only weekdays and calendar weeks matter
AHEAD_DAYS = 10  # working days bookable: tomorrow through 14 calendar days
PREFERENCE_WEIGHTS = tuple(range(AHEAD_DAYS, 0, -1))  # 1 day ahead: 10, …, 10 days: 1
DEFAULT_REQUESTS_PER_DAY = 32
AHEAD_PLAN_SECONDS = 0.0  # nightly plans of the days after tomorrow: off unless asked
DEFAULT_SHARES = (25, 50, 75)
SUMMARY_SHARE = 50
TARGET_KM_SAVING_PCT = 15.0


# --- the firm and its customers ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Service:
    code: str
    duration: int  # seconds
    skills: frozenset[str]
    base_price_cents: int
    weight: int  # how often customers ask for it, relative


@dataclass(frozen=True, slots=True)
class Firm:
    """The demo firm as the optimizer sees it."""

    rosters: tuple[tuple[Technician, ...], ...]  # by weekday, Monday = 0
    services: tuple[Service, ...]
    districts: tuple[demo.District, ...]
    windows: tuple[TimeWindow, ...]  # the business's 2-hour slot windows
    depot: Location
    policy: PricingPolicy

    def workers(self, day: date) -> tuple[Technician, ...]:
        return self.rosters[day.weekday()]


def demo_firm() -> Firm:
    """The firm `seeds.demo` seeds, built from its plain data (ids are the names)."""
    lunch = LunchBreak(demo.LUNCH_EARLIEST_S, demo.LUNCH_LATEST_S, demo.LUNCH_DURATION_S)
    rosters = []
    for weekday in range(7):
        workers = []
        for name, _colour, skills, _label, lat, lon, hours in demo.TECHNICIANS:
            shift = hours.get(str(weekday))
            if shift:
                home = Location(lat, lon)
                workers.append(
                    Technician(name, home, home, TimeWindow(*shift), frozenset(skills), lunch)
                )
        rosters.append(tuple(workers))
    services = tuple(
        Service(code, minutes * 60, frozenset([skill]), cents, weight)
        for code, _de, _en, _dd, _de2, minutes, cents, skill, weight in demo.SERVICES
    )
    return Firm(
        rosters=tuple(rosters),
        services=services,
        districts=demo.DISTRICTS,
        windows=tuple(TimeWindow(a, b) for a, b in demo.SLOT_WINDOWS),
        depot=Location(demo.DEPOT_LAT, demo.DEPOT_LON),
        policy=PricingPolicy(),
    )


def working_day(index: int) -> date:
    """The index-th working day (Mon-Fri) from FIRST_DAY (index 0)."""
    weeks, weekday = divmod(index, 5)
    return FIRST_DAY + timedelta(days=7 * weeks + weekday)


@dataclass(frozen=True, slots=True)
class Request:
    """One customer asking on working day `day` (an index, as are the other days)."""

    id: str
    day: int
    location: Location
    service: Service
    preferred_day: int
    preferred_window: TimeWindow
    sensitivity: float  # price-sensitive when below the share

    def price_sensitive(self, share_pct: int) -> bool:
        return self.sensitivity < share_pct / 100

    def job_request(self) -> JobRequest:
        s = self.service
        return JobRequest(self.location, s.duration, s.skills, s.base_price_cents)

    def job(self, window: TimeWindow) -> Job:
        return self.job_request().job(self.id, window)


def request_stream(firm: Firm, seed: int, days: int, per_day: int) -> list[Request]:
    """The customers of `days` working days, drawn from one random stream per seed."""
    rng = random.Random(seed)
    weights = [s.weight for s in firm.services]
    stream = []
    for day in range(days):
        for n in range(per_day):
            service = rng.choices(firm.services, weights)[0]
            lat, lon = demo.customer_location(rng.choice(firm.districts), rng)
            ahead = rng.choices(range(1, AHEAD_DAYS + 1), PREFERENCE_WEIGHTS)[0]
            stream.append(
                Request(
                    id=f"d{day:02d}r{n:02d}",
                    day=day,
                    location=Location(lat, lon),
                    service=service,
                    preferred_day=day + ahead,
                    preferred_window=rng.choice(firm.windows),
                    sensitivity=rng.random(),
                )
            )
    return stream


# --- the customer's choice --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Option:
    """A slot as the customer sees it: when, what kind of window, and what it costs."""

    day: int
    window: TimeWindow
    kind: WindowKind
    total_cents: int


def window_gap(a: TimeWindow, b: TimeWindow) -> int:
    """Seconds between two windows of a day; 0 when they overlap."""
    return max(0, a.start - b.end, b.start - a.end)


def preference_distance(request: Request, option: Option) -> tuple[int, int, int, int]:
    """Working days apart, then seconds between the windows, then earlier first."""
    return (
        abs(option.day - request.preferred_day),
        window_gap(option.window, request.preferred_window),
        option.day,
        option.window.start,
    )


def choose(request: Request, options: Sequence[Option], price_sensitive: bool) -> int | None:
    """The index of the option the customer books (None: nothing acceptable offered)."""
    if price_sensitive:
        return min(
            range(len(options)),
            key=lambda i: (options[i].total_cents, preference_distance(request, options[i])),
            default=None,
        )
    slots = [i for i, o in enumerate(options) if o.kind == "slot"]
    return min(slots, key=lambda i: preference_distance(request, options[i]), default=None)


# --- (A) the calendar -------------------------------------------------------------------


def free_start(
    busy: Sequence[tuple[int, int]], shift: TimeWindow, window: TimeWindow, length: int
) -> int | None:
    """The earliest start of a free block of `length` seconds that starts inside `window`
    (and the shift) and ends by the shift end, between the busy blocks [start, end)."""
    candidates = [max(window.start, shift.start)]
    candidates += [end for _start, end in busy if window.start < end]
    for start in sorted(candidates):
        if start > window.end or start + length > shift.end:
            continue
        if all(start + length <= b_start or b_end <= start for b_start, b_end in busy):
            return start
    return None


@dataclass
class Calendar:
    """Busy blocks per (day, technician): bookings of duration + buffer, and lunch."""

    buffer: int
    busy: dict[tuple[int, str], list[tuple[int, int]]] = field(default_factory=dict)

    def blocks(self, day: int, worker: Technician) -> list[tuple[int, int]]:
        key = (day, worker.id)
        if key not in self.busy:
            # A calendar knows no break that floats: lunch is blocked at its earliest start.
            lunch = worker.lunch
            self.busy[key] = [] if lunch is None else [
                (lunch.earliest_start, lunch.earliest_start + lunch.duration)
            ]  # fmt: skip
        return self.busy[key]

    def free(
        self, day: int, workers: Sequence[Technician], window: TimeWindow, job: JobRequest
    ) -> tuple[Technician, int] | None:
        """The qualified technician with the earliest free block in the window (roster
        order on ties) and that block's start; None when the slot is taken."""
        best: tuple[int, int, Technician] | None = None
        for order, worker in enumerate(workers):
            if not job.skills <= worker.skills:
                continue
            start = free_start(
                self.blocks(day, worker), worker.shift, window, job.duration + self.buffer
            )
            if start is not None and (best is None or (start, order) < best[:2]):
                best = (start, order, worker)
        return None if best is None else (best[2], best[0])

    def book(self, day: int, worker: Technician, start: int, job: JobRequest) -> None:
        self.blocks(day, worker).append((start, start + job.duration + self.buffer))


# --- running a mode ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Settings:
    """`plan`: the evening's final plan of the next day; `ahead`: the nightly plan of each
    booked day after it (None: no nightly planning of the days ahead)."""

    buffer_s: int = 1800
    plan: PlanParameters = field(default_factory=lambda: PlanParameters(time_limit_s=1.0))
    ahead: PlanParameters | None = None
    cost_per_km: float = 0.30
    cost_per_hour: float = 60.0


@dataclass
class Outcome:
    """What one mode achieved on the stream; money in cents, distances in metres."""

    mode: str
    share_pct: int
    requests: int = 0
    booked: int = 0
    served: int = 0
    technician_days: int = 0
    meters: int = 0
    seconds: int = 0
    discount_cents: int = 0  # combination discounts of served jobs
    flexibility_cents: int = 0  # flexibility discounts of served jobs
    kinds: Counter[str] = field(default_factory=Counter)  # windows of the served jobs
    plan_seconds: float = 0.0  # wall time spent in evening planning

    @property
    def dropped(self) -> int:
        return self.booked - self.served

    @property
    def km_per_job(self) -> float:
        return self.meters / 1000 / self.served if self.served else 0.0

    @property
    def drive_min_per_job(self) -> float:
        return self.seconds / 60 / self.served if self.served else 0.0

    @property
    def jobs_per_technician_day(self) -> float:
        return self.served / self.technician_days if self.technician_days else 0.0

    @property
    def served_pct(self) -> float:
        return 100 * self.served / self.requests if self.requests else 0.0

    @property
    def discounts_eur(self) -> float:
        return (self.discount_cents + self.flexibility_cents) / 100

    def travel_cost_per_job(self, settings: Settings) -> float:
        """EUR per served job: km at the van's rate plus driving hours at the technician's."""
        if not self.served:
            return 0.0
        cost = (
            self.meters / 1000 * settings.cost_per_km + self.seconds / 3600 * settings.cost_per_hour
        )
        return cost / self.served


def _evening(
    outcome: Outcome, workers: Sequence[Technician], jobs: Sequence[Job], travel: TravelTimes,
    settings: Settings, initial: Sequence[Route] | None,
) -> PlanResult:  # fmt: skip
    """Plan a day and count what it serves and drives."""
    began = time.perf_counter()
    result = plan_day(workers, jobs, travel, initial=initial, parameters=settings.plan)
    outcome.plan_seconds += time.perf_counter() - began
    outcome.served += len(result.placed_job_ids)
    outcome.technician_days += sum(1 for route in result.routes if route.jobs)
    outcome.meters += result.travel_meters
    outcome.seconds += result.travel_seconds
    return result


def _by_day(stream: Sequence[Request]) -> dict[int, list[Request]]:
    days: dict[int, list[Request]] = {}
    for request in stream:
        days.setdefault(request.day, []).append(request)
    return days


def _last_day(stream: Sequence[Request]) -> int:
    """The last day anyone can book: AHEAD_DAYS after the last request day."""
    return max((r.day for r in stream), default=-1) + AHEAD_DAYS


def run_calendar(
    firm: Firm, stream: Sequence[Request], travel: TravelTimes, settings: Settings
) -> Outcome:
    """(A): calendar slots at one price, each evening a plan from scratch."""
    outcome = Outcome("calendar", -1, requests=len(stream))
    calendar = Calendar(settings.buffer_s)
    booked: dict[int, list[Job]] = {}
    planned: dict[int, tuple[Route, ...]] = {}  # last night's plan of each day ahead
    requests = _by_day(stream)
    for today in range(_last_day(stream)):
        for request in requests.get(today, []):
            job = request.job_request()
            fee = travel_fee_cents(travel.leg(firm.depot, request.location).meters, firm.policy)
            price = job.base_price_cents + fee
            free: list[tuple[Option, Technician, int]] = []
            for day in range(today + 1, today + AHEAD_DAYS + 1):
                workers = firm.workers(working_day(day))
                for window in firm.windows:
                    found = calendar.free(day, workers, window, job)
                    if found is not None:
                        free.append((Option(day, window, "slot", price), *found))
            # One price everywhere, so the cheapest slot is every slot, and the tie-break
            # of the price-sensitive is the others' rule: everyone chooses alike.
            pick = choose(request, [option for option, _w, _s in free], price_sensitive=False)
            if pick is None:
                continue
            option, worker, start = free[pick]
            calendar.book(option.day, worker, start, job)
            booked.setdefault(option.day, []).append(request.job(option.window))
            outcome.booked += 1
        tomorrow = today + 1
        for day in sorted(d for d in booked if d > tomorrow):
            workers = firm.workers(working_day(day))
            ahead = _ahead(workers, booked[day], travel, settings, planned.get(day))
            if ahead is not None:
                planned[day] = ahead.routes
        if booked.get(tomorrow):
            workers = firm.workers(working_day(tomorrow))
            jobs = booked.pop(tomorrow)
            result = _evening(outcome, workers, jobs, travel, settings, planned.pop(tomorrow, None))
            outcome.kinds["slot"] += len(result.placed_job_ids)
    return outcome


def _ahead(
    workers: Sequence[Technician], jobs: Sequence[Job], travel: TravelTimes, settings: Settings,
    initial: Sequence[Route] | None,
) -> PlanResult | None:  # fmt: skip
    """The nightly plan of a booked day after tomorrow, warm-started from the plan in
    force; None without nightly planning. Both modes do it alike: (B)'s offers then see
    better routes, (A)'s final plan starts from it (its calendar never looks at routes)."""
    if settings.ahead is None or not jobs:
        return None
    return plan_day(workers, jobs, travel, initial=initial, parameters=settings.ahead)


def run_kombi(
    firm: Firm, stream: Sequence[Request], share_pct: int, travel: TravelTimes,
    settings: Settings,
) -> Outcome:  # fmt: skip
    """(B): offers from the routes in force, booked by insertion, re-planned each evening."""
    outcome = Outcome("kombi", share_pct, requests=len(stream))
    windows = offer_windows(firm.windows)
    routes: dict[int, tuple[Route, ...]] = {}
    prices: dict[str, Offer] = {}
    requests = _by_day(stream)

    def day_routes(day: int) -> tuple[Route, ...]:
        if day not in routes:
            routes[day] = tuple(Route(w) for w in firm.workers(working_day(day)))
        return routes[day]

    for today in range(_last_day(stream)):
        for request in requests.get(today, []):
            bookable = range(today + 1, today + AHEAD_DAYS + 1)
            index_of = {working_day(day): day for day in bookable}
            horizon = Horizon(
                [DayRoutes(working_day(day), day_routes(day)) for day in bookable], travel
            )
            slots = offer_slots(
                request.job_request(), horizon, windows, firm.depot, travel, firm.policy
            )
            offered = [slot.offer for slot in slots if slot.offer is not None]
            options = [
                Option(index_of[o.day], o.window, o.kind, o.price.total_cents) for o in offered
            ]
            pick = choose(request, options, request.price_sensitive(share_pct))
            if pick is None:
                continue
            offer, day = offered[pick], options[pick].day
            routes[day] = _insert(day_routes(day), request.job(offer.window), offer, travel)
            prices[request.id] = offer
            outcome.booked += 1
        tomorrow = today + 1
        for day in sorted(d for d in routes if d > tomorrow):
            current = routes[day]
            jobs = [job for route in current for job in route.jobs]
            ahead = _ahead([r.technician for r in current], jobs, travel, settings, current)
            if ahead is not None and not ahead.dropped:  # never worse, never drops a promise
                routes[day] = ahead.routes
        if any(route.jobs for route in routes.get(tomorrow, ())):
            current = routes.pop(tomorrow)
            jobs = [job for route in current for job in route.jobs]
            result = _evening(
                outcome, [r.technician for r in current], jobs, travel, settings, current
            )
            for job_id in result.placed_job_ids:
                offer = prices[job_id]
                outcome.discount_cents += offer.price.discount_cents
                outcome.flexibility_cents += offer.price.flexibility_cents
                outcome.kinds[offer.kind] += 1
    return outcome


def _insert(
    routes: tuple[Route, ...], job: Job, offer: Offer, travel: TravelTimes
) -> tuple[Route, ...]:
    """The day's routes with the job at the offered place, re-checked like a booking."""
    result = []
    for route in routes:
        if route.technician.id == offer.technician_id:
            route = route.with_job(job, offer.position)
            check = check_route(route, travel)
            if not check.feasible:  # the offer engine promised this insertion
                raise RuntimeError(f"offered insertion fails the checker: {check.violations}")
        result.append(route)
    return tuple(result)


# --- comparing and reporting ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """(A) against (B) at one share of price-sensitive customers."""

    share_pct: int
    calendar: Outcome
    kombi: Outcome
    settings: Settings

    @property
    def km_saving_pct(self) -> float:
        a, b = self.calendar.km_per_job, self.kombi.km_per_job
        return 100 * (a - b) / a if a else 0.0

    @property
    def travel_saved_eur(self) -> float:
        per_job = self.calendar.travel_cost_per_job(self.settings) - self.kombi.travel_cost_per_job(
            self.settings
        )
        return per_job * self.kombi.served

    @property
    def targets(self) -> dict[str, bool]:
        return {
            "km_saving": self.km_saving_pct >= TARGET_KM_SAVING_PCT,
            "served": self.kombi.served >= self.calendar.served,
            "economics": self.kombi.discounts_eur < self.travel_saved_eur,
        }

    def line(self) -> str:
        return (
            f"km_per_job_calendar={self.calendar.km_per_job:.2f} "
            f"km_per_job_kombi={self.kombi.km_per_job:.2f} "
            f"km_saving_pct={self.km_saving_pct:.1f} "
            f"served_calendar={self.calendar.served} served_kombi={self.kombi.served} "
            f"discounts_eur={self.kombi.discounts_eur:.2f} "
            f"travel_saved_eur={self.travel_saved_eur:.2f}"
        )


COLUMNS = (
    ("share", 5), ("mode", 8), ("requests", 8), ("booked", 6), ("served", 6),
    ("served_%", 8), ("dropped", 7), ("km/job", 6), ("drive_min/job", 13),
    ("jobs/tech-day", 13), ("cost/job_eur", 12), ("discounts_eur", 13), ("saved_eur", 9),
    ("windows", 0),
)  # fmt: skip


def table_row(cells: Sequence[object]) -> str:
    return "  ".join(
        f"{cell!s:<{width}}" if name in ("mode", "windows") else f"{cell!s:>{width}}"
        for (name, width), cell in zip(COLUMNS, cells, strict=True)
    ).rstrip()


def outcome_row(comparison: Comparison, outcome: Outcome) -> str:
    kombi = outcome is comparison.kombi
    kinds = " ".join(f"{k}:{n}" for k, n in sorted(outcome.kinds.items()))
    return table_row(
        [
            f"{comparison.share_pct}%", outcome.mode, outcome.requests, outcome.booked,
            outcome.served, f"{outcome.served_pct:.1f}", outcome.dropped,
            f"{outcome.km_per_job:.2f}", f"{outcome.drive_min_per_job:.1f}",
            f"{outcome.jobs_per_technician_day:.2f}",
            f"{outcome.travel_cost_per_job(comparison.settings):.2f}",
            f"{outcome.discounts_eur:.2f}" if kombi else "-",
            f"{comparison.travel_saved_eur:.2f}" if kombi else "-",
            kinds,
        ]
    )  # fmt: skip


def header(args: argparse.Namespace, firm: Firm, settings: Settings) -> list[str]:
    staff = sum(len(r) for r in firm.rosters[:5]) // 5
    return [
        f"simulate: seed={args.seed} days={args.days} requests_per_day={args.requests_per_day} "
        f"shares={','.join(str(s) for s in args.shares)}%",
        f"firm: demo (seeds.demo), {staff} technicians, {len(firm.services)} services, "
        f"{len(firm.districts)} districts, slots "
        + ",".join(f"{w.start // 3600}-{w.end // 3600}" for w in firm.windows)
        + f", bookable 1..{AHEAD_DAYS} working days ahead",
        f"(A) calendar: duration + {settings.buffer_s // 60} min buffer free in a block "
        "starting inside the window, fixed lunch block, one price; price-sensitive "
        "customers see equal prices and choose like the others; run once",
        "(B) kombi: offers with combination and flexibility discounts "
        f"({'pricing ' + str(args.pricing) if args.pricing else 'default pricing'}), "
        "price-sensitive take the cheapest (ties: nearest), others their slot or the nearest",
        f"evening planning: plan_day, guided local search {settings.plan.time_limit_s:g} s "
        "for the next day"
        + (
            f", {settings.ahead.time_limit_s:g} s nightly for each booked day after it"
            if settings.ahead
            else ", no nightly planning of the days ahead"
        )
        + " (time-limited: figures may vary slightly between runs)",
        f"travel cost: {settings.cost_per_km:.2f} EUR/km + {settings.cost_per_hour:.2f} "
        "EUR/driving hour; saved = (cost/job A - cost/job B) x jobs served by B",
    ]


# --- command line -----------------------------------------------------------------------


def _number(
    kind: Callable[[str], float], low: float, high: float, what: str
) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must lie in [{low:g}, {high:g}], got {text}")
        return value

    return parse


def _shares(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of percentages: {text!r}"
        ) from None
    if any(not 0 <= v <= 100 for v in values):
        raise argparse.ArgumentTypeError(f"percentages must lie in 0..100, got {text}")
    if SUMMARY_SHARE not in values:
        raise argparse.ArgumentTypeError(f"must include {SUMMARY_SHARE} (the summary line's case)")
    return tuple(sorted(set(values)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m booking.bench simulate",
        description="Calendar booking against KombiTermin offers on one simulated request stream.",
    )
    parser.add_argument("--seed", type=int, required=True, help="seed of the request stream")
    parser.add_argument(
        "--days", type=_number(int, 1, 250, "a whole number"), default=20,
        help="working days of requests (default 20)",
    )  # fmt: skip
    parser.add_argument(
        "--requests-per-day", type=_number(int, 1, 500, "a whole number"),
        default=DEFAULT_REQUESTS_PER_DAY,
        help=f"customers asking per working day (default {DEFAULT_REQUESTS_PER_DAY})",
    )  # fmt: skip
    parser.add_argument(
        "--shares", type=_shares, default=DEFAULT_SHARES,
        help="percent price-sensitive customers, comma-separated, must include 50 "
        "(default 25,50,75)",
    )  # fmt: skip
    parser.add_argument(
        "--buffer-min", type=_number(int, 0, 240, "a whole number"), default=30,
        help="(A) travel buffer per booking in minutes (default 30)",
    )  # fmt: skip
    parser.add_argument(
        "--plan-seconds", type=_number(float, 0.01, 600, "a number"), default=1.0,
        help="time limit of each evening plan (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--ahead-seconds", type=_number(float, 0, 600, "a number"), default=AHEAD_PLAN_SECONDS,
        help="time limit of the nightly plan of each booked day after tomorrow, in both "
        f"modes; 0: no nightly planning ahead (default {AHEAD_PLAN_SECONDS})",
    )  # fmt: skip
    parser.add_argument(
        "--cost-per-km", type=_number(float, 0, 100, "a number"), default=0.30,
        help="van cost in EUR per km (default 0.30)",
    )  # fmt: skip
    parser.add_argument(
        "--cost-per-hour", type=_number(float, 0, 1000, "a number"), default=60.0,
        help="technician's cost in EUR per driving hour (default 60)",
    )  # fmt: skip
    parser.add_argument(
        "--pricing", type=Path, metavar="FILE",
        help="(B) a pricing policy as JSON (the fields of optimizer.pricing.PricingPolicy, "
        "as stored per business) instead of the demo's default, to measure alternatives",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, metavar="OUT", help="write every figure here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.json is not None and not args.json.parent.is_dir():
        parser.error(f"--json: the folder {args.json.parent} does not exist")
    settings = Settings(
        buffer_s=int(args.buffer_min) * 60,
        plan=PlanParameters(time_limit_s=float(args.plan_seconds)),
        ahead=(
            PlanParameters(time_limit_s=float(args.ahead_seconds)) if args.ahead_seconds else None
        ),
        cost_per_km=float(args.cost_per_km),
        cost_per_hour=float(args.cost_per_hour),
    )
    firm = demo_firm()
    if args.pricing is not None:
        try:
            data = json.loads(args.pricing.read_text(encoding="utf-8"))
            firm = replace(firm, policy=PricingPolicy.from_dict(data))
        except (OSError, ValueError, TypeError, AttributeError) as error:
            parser.error(f"--pricing: {error}")
    travel = TravelTimes(GeodesicTravelTime())
    stream = request_stream(firm, args.seed, int(args.days), int(args.requests_per_day))
    for line in header(args, firm, settings):
        print(line)

    began = time.perf_counter()
    calendar = run_calendar(firm, stream, travel, settings)
    _progress(f"calendar done after {time.perf_counter() - began:.0f} s")
    comparisons = []
    for share in args.shares:
        kombi = run_kombi(firm, stream, share, travel, settings)
        _progress(f"kombi {share}% done after {time.perf_counter() - began:.0f} s")
        comparisons.append(Comparison(share, calendar, kombi, settings))

    print(table_row([name for name, _width in COLUMNS]))
    for comparison in comparisons:
        print(outcome_row(comparison, comparison.calendar))
        print(outcome_row(comparison, comparison.kombi))
    for comparison in comparisons:
        met = " ".join(f"{k}={'met' if v else 'missed'}" for k, v in comparison.targets.items())
        print(f"targets at {comparison.share_pct}%: {met}")
    print(f"seconds={time.perf_counter() - began:.0f}")
    summary = next(c for c in comparisons if c.share_pct == SUMMARY_SHARE)
    if args.json is not None:
        _write_json(args, comparisons, summary)
    print(summary.line())
    return 0


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _write_json(
    args: argparse.Namespace, comparisons: Sequence[Comparison], summary: Comparison
) -> None:
    def figures(outcome: Outcome, comparison: Comparison) -> dict[str, object]:
        data = asdict(outcome)
        data["kinds"] = dict(outcome.kinds)
        data.update(
            km_per_job=outcome.km_per_job,
            drive_min_per_job=outcome.drive_min_per_job,
            jobs_per_technician_day=outcome.jobs_per_technician_day,
            served_pct=outcome.served_pct,
            discounts_eur=outcome.discounts_eur,
            travel_cost_per_job_eur=outcome.travel_cost_per_job(comparison.settings),
        )
        return data

    document = {
        "options": {
            k: (list(v) if isinstance(v, tuple) else str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
        },
        "comparisons": [
            {
                "share_pct": c.share_pct,
                "calendar": figures(c.calendar, c),
                "kombi": figures(c.kombi, c),
                "km_saving_pct": c.km_saving_pct,
                "travel_saved_eur": c.travel_saved_eur,
                "targets": c.targets,
            }
            for c in comparisons
        ],
        "summary": summary.line(),
    }
    args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
