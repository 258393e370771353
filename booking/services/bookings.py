"""Confirming and cancelling appointments: the promise and its proof change together.

Every change takes the day's lock first, re-checks against the routes in force and then
writes the appointment and its route in one transaction; on any failure it rolls back,
so no half-written booking and no broken plan remain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Business,
    Customer,
    RouteStop,
    ServiceType,
)
from booking.services.clock import bookable_days
from booking.services.dayplans import load_days, lock_day, save_routes
from booking.services.offering import bookable_windows, job_request
from booking.services.quotes import Quote
from booking.services.travel import travel_times
from booking.validation import has_control_characters, is_valid_email, is_valid_phone
from optimizer.domain import TimeWindow
from optimizer.insertion import best_insertion
from optimizer.offers import NEW_JOB_ID, OfferWindow
from optimizer.schedule import check_route


class BookingError(Exception):
    """A booking that cannot be made; `code` is machine-readable, the UI words it."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    phone: str
    email: str
    notes: str = ""

    """Contact details as stored: already stripped, checked by the rules the forms use."""

    def __post_init__(self) -> None:
        for name in ("name", "phone", "email", "notes"):
            value = getattr(self, name)
            if value != value.strip() or has_control_characters(value):
                raise ValueError(f"{name} must be stripped text without control characters")
        if not 2 <= len(self.name) <= 120:
            raise ValueError("name must have 2 to 120 characters")
        if not is_valid_phone(self.phone):
            raise ValueError("phone must be 6 to 30 digits, spaces, +, -, / or brackets")
        if not is_valid_email(self.email):
            raise ValueError("email must look like name@example.de")
        if len(self.notes) > 1000:
            raise ValueError("notes must have at most 1000 characters")


def confirm_booking(
    business: Business, quote: Quote, contact: Contact, now: datetime
) -> Appointment:
    """Book the quoted slot at the quoted price if it still fits; else BookingError.

    The window must be one this business offers, of the quoted kind: a signed quote from
    before the business changed its windows is refused. A "week" quote names the day the
    offer engine chose; it is booked like a whole day on that day, with its own discount.

    Codes: "quote_invalid" (not for this business or window), "not_bookable" (day outside
    the horizon), "service_unavailable", "slot_taken" (no longer fits).
    """
    window = TimeWindow(quote.window_start_s, quote.window_end_s)
    offered = OfferWindow(quote.kind, window)
    if quote.business_id != business.id or offered not in bookable_windows(business):
        raise BookingError("quote_invalid")
    if quote.day not in bookable_days(business, now):
        raise BookingError("not_bookable")
    service = db.session.get(ServiceType, quote.service_id)
    if service is None or service.business_id != business.id or not service.active:
        raise BookingError("service_unavailable")
    try:
        plan = lock_day(business.id, quote.day)
        state = load_days(business, [quote.day])[0]
        job = job_request(service, quote.address).job(NEW_JOB_ID, window)
        insertion = best_insertion(state.routes.routes, job, travel_times())
        if insertion is None:
            raise BookingError("slot_taken")
        customer = Customer(
            business_id=business.id, name=contact.name, phone=contact.phone, email=contact.email
        )
        appointment = Appointment(
            business_id=business.id,
            customer=customer,
            service=service,
            street=quote.address.street,
            postcode=quote.address.postcode,
            city=quote.address.city,
            lat=quote.address.lat,
            lon=quote.address.lon,
            geo_precision=quote.address.precision,
            day=quote.day,
            window_start_s=window.start,
            window_end_s=window.end,
            window_kind=quote.kind,
            status=AppointmentStatus.CONFIRMED,
            price_base_cents=quote.price.base_cents,
            price_travel_fee_cents=quote.price.travel_fee_cents,
            price_discount_cents=quote.price.discount_cents,
            price_flexibility_cents=quote.price.flexibility_cents,
            price_total_cents=quote.price.total_cents,
            saving_pct=quote.price.saving_pct,
            detour_s=quote.detour_s,
            standalone_s=quote.standalone_s,
            notes=contact.notes,
        )
        db.session.add(appointment)
        db.session.flush()
        technician = state.technicians[insertion.technician_id]
        save_routes(
            plan,
            {technician.id: insertion.schedule},
            {**state.appointments, NEW_JOB_ID: appointment},
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return appointment


def cancel_appointment(appointment: Appointment, now: datetime) -> None:
    """Cancel and free the capacity: the stop leaves its route, the rest is re-timed."""
    if not appointment.is_confirmed:
        return
    business = db.session.get(Business, appointment.business_id)
    assert business is not None
    try:
        plan = lock_day(business.id, appointment.day)
        stop = db.session.scalar(
            select(RouteStop).where(RouteStop.appointment_id == appointment.id)
        )
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancelled_at = now
        if stop is not None:
            technician_id = stop.technician_id
            state = load_days(business, [appointment.day])[0]
            route = next(
                (r for r in state.routes.routes if r.technician.id == str(technician_id)), None
            )
            if route is None:
                db.session.delete(stop)  # technician no longer works that day; nothing to re-time
            else:
                remaining = route.without_job(appointment.job_id)
                save_routes(
                    plan,
                    {technician_id: check_route(remaining, travel_times()).schedule},
                    state.appointments,
                )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
