"""The plans of the booking horizon, ready for offers, cached per version of the plans.

Every offer request needs the routes of the next 14 days. Loading them from the database
and timing every route costs far more than the offer itself, and they change only when a
booking, cancellation or re-plan commits. Each of those takes the day's lock first, which
bumps the day's `DayPlan.version` (`dayplans.lock_day`); technicians and services, which
shape the routes too, enter the key through a fingerprint of their rows. So a cached
horizon is reused exactly while nothing it was built from has changed, checked with one
query per request. Each app (so each process) keeps its own small cache; nothing
is shared, so several web processes stay correct without coordination.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from functools import cache
from typing import Any

from flask import Flask, current_app
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Date,
    Float,
    String,
    bindparam,
    cast,
    literal,
    null,
    select,
    text,
    union_all,
)

from booking.extensions import db
from booking.models import (
    Appointment,
    Business,
    DayPlan,
    ServiceType,
    Technician,
    TechnicianAbsence,
)
from booking.services.dayplans import day_workers, load_routes
from optimizer.domain import Technician as Worker
from optimizer.offers import DayBlock, DayRoutes, Horizon
from optimizer.travel import TravelTimes

_KEY = "kombitermin.horizons"
_MAX_ENTRIES = 32  # a few businesses × a few horizons (the day rolls over)


class _Cache:
    def __init__(self) -> None:
        self.entries: OrderedDict[Hashable, Horizon] = OrderedDict()
        self._building: dict[Hashable, threading.Lock] = {}
        # Each day's block by (business, day, version, fingerprint, travel): a booking
        # changes one day, so a new horizon loads and flattens that day alone, not all 14.
        self.days: OrderedDict[Hashable, DayBlock] = OrderedDict()
        # Each day's technicians by (business, fingerprint): loading them with their
        # absences cost a third of rebuilding a day, and they change far less often.
        self.workers: OrderedDict[Hashable, dict[date, tuple[Worker, ...]]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Hashable) -> Horizon | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    @contextmanager
    def building(self, key: Hashable) -> Iterator[None]:
        """Held while this thread builds the horizon of `key`; others asking for the same
        key wait here, then find it in the cache."""
        with self.lock:
            lock = self._building.setdefault(key, threading.Lock())
        try:
            with lock:
                yield
        finally:
            with self.lock:
                if self._building.get(key) is lock and not lock.locked():
                    del self._building[key]


def init_horizons(app: Flask) -> None:
    app.extensions[_KEY] = _Cache()


def _text(column: Any) -> ColumnElement[str | None]:
    return cast(column, String)


def _no_text(count: int) -> list[ColumnElement[str | None]]:
    return [cast(null(), String)] * count


def _no_day() -> ColumnElement[date | None]:
    return cast(null(), Date)


def _no_floats() -> list[ColumnElement[float | None]]:
    return [cast(null(), Float)] * 4


@cache
def _key_query() -> CompoundSelect[Any]:
    """The one query behind `_plans_key`, built once: building and hashing a statement of
    this size cost more CPU than running it."""
    T, A, S, P = Technician, TechnicianAbsence, ServiceType, DayPlan
    business_id = bindparam("business_id")
    technicians = select(
        literal("technician"), _no_day(), T.id, T.start_lat, T.start_lon, T.end_lat, T.end_lon,
        _text(T.active), _text(T.working_hours), _text(T.skills), _text(T.lunch_earliest_s),
        _text(T.lunch_latest_s), _text(T.lunch_duration_s),
    ).where(T.business_id == business_id)  # fmt: skip
    # an absence takes the technician off its days, stops or none
    absences = (
        select(
            literal("absence"),
            A.first_day,
            A.technician_id,
            *_no_floats(),
            _text(A.last_day),
            *_no_text(5),
        )
        .join(T)
        .where(T.business_id == business_id)
    )
    services = select(
        literal("service"), _no_day(), S.id, *_no_floats(), _text(S.duration_s),
        _text(S.required_skill), *_no_text(4),
    ).where(S.business_id == business_id)  # fmt: skip
    plans = select(literal("plan"), P.day, P.version, *_no_floats(), *_no_text(6)).where(
        P.business_id == business_id, P.day.in_(bindparam("days", expanding=True))
    )
    return union_all(technicians, absences, services, plans).order_by(
        text("1"), text("3"), text("2"), text("8")
    )


def _plans_key(business_id: int, days: Sequence[date]) -> tuple[tuple[int, ...], Hashable]:
    """The version of each day's plan (0: no plan row yet, so no stops), and a fingerprint
    of everything besides the stops that shapes a day's routes: technicians, their
    absences, services.

    One query, not four: this runs on every offer request, where each round trip cost
    about as much as the rest of the key. Every row comes back as (kind, day, number, four
    coordinates, text…), the other values cast to text, so one UNION ALL carries all four
    tables; a changed value changes its text (coordinates stay floats: SQLite's text of a
    float is rounded), so the fingerprint still sees every change of another process."""
    rows = db.session.execute(_key_query(), {"business_id": business_id, "days": list(days)}).all()
    known = {row[1]: row[2] for row in rows if row[0] == "plan"}
    versions = tuple(known.get(day, 0) for day in days)
    return versions, tuple(tuple(row) for row in rows if row[0] != "plan")


def horizon(
    business: Business,
    days: Sequence[date],
    travel: TravelTimes,
    *,
    without: Appointment | None = None,
) -> Horizon:
    """The working days among `days` (a day on which nobody works is closed and left
    out), flattened for offers; from the cache while their plans are unchanged.

    `without`: the plans as if this appointment were not booked, so a customer moving it
    is offered the room it takes now (their own slot included). Built afresh, not cached:
    it serves one customer's reschedule, and would only push shared entries out.
    """
    days = tuple(days)
    versions, fingerprint = _plans_key(business.id, days)
    if without is not None:
        workers = _workers(business, days, fingerprint)
        return _build(business, days, travel, workers, without=without.job_id)
    key = (business.id, days, versions, fingerprint, id(travel))
    cache: _Cache = current_app.extensions[_KEY]
    cached = cache.get(key)
    if cached is not None:
        return cached
    # One thread builds, the others wait for it: a booking makes every thread's next
    # offer miss at once, and each of them used to build the same day again.
    with cache.building(key):
        cached = cache.get(key)
        if cached is None:
            cached = _assemble(cache, key, business, days, versions, fingerprint, travel)
    return cached


def _assemble(
    cache: _Cache,
    key: Hashable,
    business: Business,
    days: tuple[date, ...],
    versions: tuple[int, ...],
    fingerprint: Hashable,
    travel: TravelTimes,
) -> Horizon:
    """The horizon of `key` from the cached days' blocks and the missing days, loaded."""
    day_keys = {
        day: (business.id, day, version, fingerprint, id(travel))
        for day, version in zip(days, versions, strict=True)
    }
    with cache.lock:
        blocks = {day: cache.days[k] for day, k in day_keys.items() if k in cache.days}
    missing = [day for day in days if day not in blocks]
    if missing:
        workers = _workers(business, missing, fingerprint)
        loaded = {
            plan.day: DayBlock(plan, travel) for plan in load_routes(business, missing, workers)
        }
        blocks.update(loaded)
        with cache.lock:
            for day, block in loaded.items():
                cache.days[day_keys[day]] = block
            while len(cache.days) > _MAX_ENTRIES * len(days):
                cache.days.popitem(last=False)
    built = Horizon.from_blocks([blocks[day] for day in days if blocks[day].day.routes])
    with cache.lock:
        cache.entries[key] = built
        while len(cache.entries) > _MAX_ENTRIES:
            cache.entries.popitem(last=False)
    return built


def plans_in_force(business: Business, days: Sequence[date]) -> list[DayRoutes]:
    """The routes of `days` as `load_routes` reads them, with the technicians from the
    cache while they are unchanged: for a booking, which inserts into one of them."""
    _versions, fingerprint = _plans_key(business.id, days)
    return load_routes(business, days, _workers(business, days, fingerprint))


def _workers(
    business: Business, days: Sequence[date], fingerprint: Hashable
) -> dict[date, tuple[Worker, ...]]:
    """`day_workers` of `days`, cached under the fingerprint of the technicians and their
    absences (`_plans_key`), which changes with any row they are built from."""
    cache: _Cache = current_app.extensions[_KEY]
    key = (business.id, fingerprint)
    with cache.lock:
        known = dict(cache.workers.get(key, {}))
    missing = [day for day in days if day not in known]
    if missing:
        loaded = day_workers(business, missing)
        known.update(loaded)
        with cache.lock:
            cache.workers.setdefault(key, {}).update(loaded)
            cache.workers.move_to_end(key)
            while len(cache.workers) > _MAX_ENTRIES:
                cache.workers.popitem(last=False)
    return {day: known[day] for day in days}


def _build(
    business: Business,
    days: Sequence[date],
    travel: TravelTimes,
    workers: dict[date, tuple[Worker, ...]],
    without: str | None = None,
) -> Horizon:
    plans = [plan for plan in load_routes(business, days, workers) if plan.routes]
    if without is not None:
        plans = [
            DayRoutes(plan.day, tuple(route.without_job(without) for route in plan.routes))
            for plan in plans
        ]
    return Horizon(plans, travel)
