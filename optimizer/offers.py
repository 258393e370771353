"""Offers: for a requested job, every (day, window) with a concrete feasible insertion.

No slot is offered without the insertion that proves it: the offer names the technician,
the position in their route and the planned start, and its price follows from the detour.
Offering reads the routes and never changes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from optimizer.domain import Job, Location, Route, TimeWindow
from optimizer.insertion import best_insertion, standalone_seconds
from optimizer.pricing import PriceBreakdown, PricingPolicy, price_slot
from optimizer.travel import TravelTimes


@dataclass(frozen=True, slots=True)
class JobRequest:
    """What the customer asks for, before a window is chosen."""

    location: Location
    duration: int
    skills: frozenset[str]
    base_price_cents: int

    def __post_init__(self) -> None:
        if not isinstance(self.duration, int) or self.duration <= 0:
            raise ValueError(
                f"duration must be a positive whole number of seconds, got {self.duration!r}"
            )
        if not isinstance(self.skills, frozenset):
            raise TypeError("JobRequest.skills must be a frozenset of skill names")
        if self.base_price_cents < 0:
            raise ValueError(f"base price cannot be negative, got {self.base_price_cents}")

    def job(self, job_id: str, window: TimeWindow) -> Job:
        return Job(job_id, self.location, self.duration, window, self.skills)


@dataclass(frozen=True, slots=True)
class DayRoutes:
    """The plan in force for one day: a route (maybe empty) per working technician."""

    day: date
    routes: tuple[Route, ...]


@dataclass(frozen=True, slots=True)
class Offer:
    day: date
    window: TimeWindow
    technician_id: str
    position: int
    planned_start: int
    detour_seconds: int
    standalone_seconds: int
    nearest_stop_meters: int | None
    price: PriceBreakdown


@dataclass(frozen=True, slots=True)
class Slot:
    """One (day, window) of the horizon; `offer` is None when nothing fits."""

    day: date
    window: TimeWindow
    offer: Offer | None


NEW_JOB_ID = "__new__"


def offer_for(
    request: JobRequest,
    day: DayRoutes,
    window: TimeWindow,
    depot: Location,
    travel: TravelTimes,
    policy: PricingPolicy,
) -> Offer | None:
    job = request.job(NEW_JOB_ID, window)
    insertion = best_insertion(day.routes, job, travel)
    if insertion is None:
        return None
    alone = standalone_seconds([r.technician for r in day.routes], job, travel)
    assert alone is not None  # an insertion exists, so a qualified technician does too
    price = price_slot(
        base_cents=request.base_price_cents,
        depot_meters=travel.leg(depot, request.location).meters,
        detour_seconds=insertion.detour_seconds,
        standalone_seconds=alone,
        policy=policy,
    )
    return Offer(
        day=day.day,
        window=window,
        technician_id=insertion.technician_id,
        position=insertion.position,
        planned_start=insertion.planned_start,
        detour_seconds=insertion.detour_seconds,
        standalone_seconds=alone,
        nearest_stop_meters=insertion.nearest_stop_meters(travel),
        price=price,
    )


def offer_slots(
    request: JobRequest,
    days: Sequence[DayRoutes],
    windows: Sequence[TimeWindow],
    depot: Location,
    travel: TravelTimes,
    policy: PricingPolicy,
) -> list[Slot]:
    """Every (day, window) in order, each with its offer or None."""
    return [
        Slot(day.day, window, offer_for(request, day, window, depot, travel, policy))
        for day in days
        for window in windows
    ]
