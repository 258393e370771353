"""Slots for a requested job over the booking horizon, priced from the routes in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, select

from booking.extensions import db
from booking.models import Appointment, Business, ServiceType
from booking.services.clock import bookable_days
from booking.services.horizons import horizon
from booking.services.travel import travel_times
from booking.validation import looks_like_code
from optimizer.domain import Location, TimeWindow
from optimizer.offers import JobRequest, OfferWindow, Slot, offer_slots, offer_windows
from optimizer.pricing import PricingPolicy

# A "week" that the horizon cuts down to one working day leaves the business no choice of
# day, so it would sell the whole-day window at the bigger week discount; it is not offered.
MIN_WEEK_DAYS = 2


@dataclass(frozen=True, slots=True)
class Address:
    """A geocoded customer address as the booking keeps it."""

    street: str
    postcode: str
    city: str
    lat: float
    lon: float
    precision: str

    @property
    def location(self) -> Location:
        return Location(self.lat, self.lon)

    @property
    def label(self) -> str:
        return f"{self.street}, {self.postcode} {self.city}"

    @classmethod
    def of(cls, appointment: Appointment) -> Address:
        """Where a booked appointment takes place."""
        return cls(
            street=appointment.street,
            postcode=appointment.postcode,
            city=appointment.city,
            lat=appointment.lat,
            lon=appointment.lon,
            precision=appointment.geo_precision,
        )


@cache
def _service_by_code() -> Select[tuple[ServiceType]]:
    """Built once: every offers request runs it, and building it cost more than running."""
    return select(ServiceType).where(
        ServiceType.business_id == bindparam("business_id"),
        ServiceType.code == bindparam("code"),
        ServiceType.active.is_(True),
    )


def bookable_service(
    business: Business, *, code: str | None = None, service_id: int | None = None
) -> ServiceType | None:
    """An active service of this business, by code or by id; None for anything else."""
    if code is not None:
        if not looks_like_code(code):
            return None
        return db.session.scalar(_service_by_code(), {"business_id": business.id, "code": code})
    service = db.session.get(ServiceType, service_id) if service_id is not None else None
    if service is None or service.business_id != business.id or not service.active:
        return None
    return service


def pricing_policy(business: Business) -> PricingPolicy:
    return PricingPolicy.from_dict(business.pricing)


def slot_windows(business: Business) -> list[TimeWindow]:
    return [TimeWindow(start, end) for start, end in business.slot_windows]


def bookable_windows(business: Business) -> list[OfferWindow]:
    """Every window a customer of this business may choose: the 2-hour slots, the two half
    days, the whole day and any day of a week. Offering and confirming both use this."""
    return offer_windows(slot_windows(business))


def depot(business: Business) -> Location:
    return Location(business.depot_lat, business.depot_lon)


def job_request(service: ServiceType, address: Address) -> JobRequest:
    return JobRequest(
        address.location, service.duration_s, service.job_skills, service.base_price_cents
    )


def find_slots(
    business: Business,
    service: ServiceType,
    address: Address,
    now: datetime,
    *,
    moving: Appointment | None = None,
) -> list[Slot]:
    """Every bookable (day, window), each with its offer or None; reads, never writes.

    Per day the slots, then the half days and the whole day; after all days one "any day
    this week" choice per calendar week. Days on which no technician works (weekends,
    holidays) are closed, not fully booked, and are left out. `moving`: an appointment
    the customer wants to move; the routes are taken as if it were not booked.
    """
    travel = travel_times()
    slots = offer_slots(
        job_request(service, address),
        horizon(business, bookable_days(business, now), travel, without=moving),
        bookable_windows(business),
        depot(business),
        travel,
        pricing_policy(business),
    )
    return [slot for slot in slots if slot.kind != "week" or len(slot.days) >= MIN_WEEK_DAYS]
