"""The plans of the booking horizon, ready for offers, cached per version of the plans.

Every offer request needs the routes of the next 14 days. Loading them from the database
and timing every route costs far more than the offer itself, and they change only when a
booking, cancellation or re-plan commits. Each of those takes the day's lock first, which
bumps the day's `DayPlan.version` (`dayplans.lock_day`); technicians and services, which
shape the routes too, enter the key through a fingerprint of their rows. So a cached
horizon is reused exactly while nothing it was built from has changed, checked with one
small query per request. Each app (so each process) keeps its own small cache; nothing
is shared, so several web processes stay correct without coordination.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from datetime import date

from flask import Flask, current_app
from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    Appointment,
    Business,
    DayPlan,
    ServiceType,
    Technician,
    TechnicianAbsence,
)
from booking.services.dayplans import load_days
from optimizer.offers import DayBlock, DayRoutes, Horizon
from optimizer.travel import TravelTimes

_KEY = "kombitermin.horizons"
_MAX_ENTRIES = 32  # a few businesses × a few horizons (the day rolls over)


class _Cache:
    def __init__(self) -> None:
        self.entries: OrderedDict[Hashable, Horizon] = OrderedDict()
        # Each day's block by (business, day, version, fingerprint, travel): a booking
        # changes one day, so a new horizon loads and flattens that day alone, not all 14.
        self.days: OrderedDict[Hashable, DayBlock] = OrderedDict()
        self.lock = threading.Lock()


def init_horizons(app: Flask) -> None:
    app.extensions[_KEY] = _Cache()


def plan_versions(business_id: int, days: Sequence[date]) -> tuple[int, ...]:
    """The version of each day's plan (0: no plan row yet, so no stops)."""
    rows = db.session.execute(
        select(DayPlan.day, DayPlan.version).where(
            DayPlan.business_id == business_id, DayPlan.day.in_(list(days))
        )
    ).all()
    known = {day: version for day, version in rows}
    return tuple(known.get(day, 0) for day in days)


def _fingerprint(business: Business) -> Hashable:
    """Everything besides the stops that shapes a day's routes.

    Read with three column queries, not through the ORM relationships: this runs on
    every offer request, and loading each technician's absences lazily cost one round
    trip per technician (about 50 ms for 20 technicians under load)."""
    T = Technician
    technicians = tuple(
        (
            row.id, row.active, repr(sorted(row.working_hours.items())),
            tuple(sorted(row.skills)), row.start_lat, row.start_lon, row.end_lat, row.end_lon,
            row.lunch_earliest_s, row.lunch_latest_s, row.lunch_duration_s,
        )
        for row in db.session.execute(
            select(
                T.id, T.active, T.working_hours, T.skills, T.start_lat, T.start_lon,
                T.end_lat, T.end_lon, T.lunch_earliest_s, T.lunch_latest_s,
                T.lunch_duration_s,
            )
            .where(T.business_id == business.id)
            .order_by(T.id)
        )
    )  # fmt: skip
    # an absence takes the technician off its days, stops or none
    absences = tuple(
        tuple(row)
        for row in db.session.execute(
            select(
                TechnicianAbsence.technician_id,
                TechnicianAbsence.first_day,
                TechnicianAbsence.last_day,
            )
            .join(Technician)
            .where(Technician.business_id == business.id)
            .order_by(TechnicianAbsence.id)
        )
    )
    services = tuple(
        tuple(row)
        for row in db.session.execute(
            select(ServiceType.id, ServiceType.duration_s, ServiceType.required_skill)
            .where(ServiceType.business_id == business.id)
            .order_by(ServiceType.id)
        )
    )
    return technicians, absences, services


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
    if without is not None:
        return _build(business, days, travel, without=without.job_id)
    versions = plan_versions(business.id, days)
    fingerprint = _fingerprint(business)
    key = (business.id, days, versions, fingerprint, id(travel))
    cache: _Cache = current_app.extensions[_KEY]
    with cache.lock:
        cached = cache.entries.get(key)
        if cached is not None:
            cache.entries.move_to_end(key)
            return cached
    day_keys = {
        day: (business.id, day, version, fingerprint, id(travel))
        for day, version in zip(days, versions, strict=True)
    }
    with cache.lock:
        blocks = {day: cache.days[k] for day, k in day_keys.items() if k in cache.days}
    missing = [day for day in days if day not in blocks]
    if missing:
        loaded = {
            state.routes.day: DayBlock(state.routes, travel)
            for state in load_days(business, missing)
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


def _build(
    business: Business, days: Sequence[date], travel: TravelTimes, without: str | None = None
) -> Horizon:
    states = [state for state in load_days(business, days) if state.routes.routes]
    plans = [state.routes for state in states]
    if without is not None:
        plans = [
            DayRoutes(plan.day, tuple(route.without_job(without) for route in plan.routes))
            for plan in plans
        ]
    return Horizon(plans, travel)
