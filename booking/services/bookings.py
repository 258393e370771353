"""Confirming, moving and cancelling appointments: the promise and its proof change together.

Every change takes the day's lock first (both days' locks, in date order, to move an
appointment), re-checks against the routes in force and then writes the appointment and
its route in one transaction; on any failure it rolls back, so no half-written booking and
no broken plan remain.

Customers may move or cancel online until the business's cut-off (`cancel_cutoff_hours`
before their window starts); the dispatcher is not bound by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from booking import LOCALES
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Business,
    Customer,
    DayPlan,
    RouteStop,
    ServiceType,
    User,
)
from booking.services.audit import record
from booking.services.clock import bookable_days, local_datetime
from booking.services.dayplans import (
    load_days,
    lock_day,
    route_appointments,
    save_routes,
)
from booking.services.horizons import plans_in_force
from booking.services.offering import Address, bookable_windows, job_request
from booking.services.quotes import Quote
from booking.services.travel import travel_times
from booking.validation import (
    ACCESS_HINTS_MAX,
    has_control_characters,
    is_valid_email,
    is_valid_phone,
)
from optimizer.domain import Route, TimeWindow
from optimizer.insertion import best_insertion
from optimizer.offers import NEW_JOB_ID, OfferWindow
from optimizer.schedule import Schedule, check_route


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
    access_hints: str = ""  # how the technician gets in: "Hinterhaus, 2. OG"
    # when the customer agreed to the processing of their data; None: not recorded
    consent_at: datetime | None = None

    """Contact details as stored: already stripped, checked by the rules the forms use.

    The email may be empty only for a booking a dispatcher takes by phone from a customer
    who gave none (the online forms and the API require it); then no email is sent."""

    def __post_init__(self) -> None:
        for name in ("name", "phone", "email", "notes", "access_hints"):
            value = getattr(self, name)
            if value != value.strip() or has_control_characters(value):
                raise ValueError(f"{name} must be stripped text without control characters")
        if not 2 <= len(self.name) <= 120:
            raise ValueError("name must have 2 to 120 characters")
        if not is_valid_phone(self.phone):
            raise ValueError("phone must be 6 to 30 digits, spaces, +, -, / or brackets")
        if self.email and not is_valid_email(self.email):
            raise ValueError("email must look like name@example.de")
        if len(self.notes) > 1000:
            raise ValueError("notes must have at most 1000 characters")
        if len(self.access_hints) > ACCESS_HINTS_MAX:
            raise ValueError(f"access_hints must have at most {ACCESS_HINTS_MAX} characters")
        if self.consent_at is not None and self.consent_at.tzinfo is None:
            raise ValueError("consent_at must be timezone-aware")


def _check_quote(business: Business, quote: Quote, now: datetime) -> tuple[TimeWindow, ServiceType]:
    """The quote's window and service if this business still offers them on that day.

    The window must be one this business offers, of the quoted kind: a signed quote from
    before the business changed its windows is refused."""
    window = TimeWindow(quote.window_start_s, quote.window_end_s)
    offered = OfferWindow(quote.kind, window)
    if quote.business_id != business.id or offered not in bookable_windows(business):
        raise BookingError("quote_invalid")
    if quote.day not in bookable_days(business, now):
        raise BookingError("not_bookable")
    service = db.session.get(ServiceType, quote.service_id)
    if service is None or service.business_id != business.id or not service.active:
        raise BookingError("service_unavailable")
    return window, service


def _store_price(appointment: Appointment, quote: Quote) -> None:
    """The quoted promise and its locked price onto the appointment."""
    appointment.day = quote.day
    appointment.window_start_s = quote.window_start_s
    appointment.window_end_s = quote.window_end_s
    appointment.window_kind = quote.kind
    appointment.price_base_cents = quote.price.base_cents
    appointment.price_travel_fee_cents = quote.price.travel_fee_cents
    appointment.price_discount_cents = quote.price.discount_cents
    appointment.price_flexibility_cents = quote.price.flexibility_cents
    appointment.price_total_cents = quote.price.total_cents
    appointment.saving_pct = quote.price.saving_pct
    appointment.detour_s = quote.detour_s
    appointment.standalone_s = quote.standalone_s


def confirm_booking(
    business: Business,
    quote: Quote,
    contact: Contact,
    now: datetime,
    language: str = "de",
    *,
    source: AppointmentSource = AppointmentSource.ONLINE,
    by: User | None = None,
) -> Appointment:
    """Book the quoted slot at the quoted price if it still fits; else BookingError.

    `source`: how the promise was made (a dispatcher taking it by phone: PHONE); a booking
    made `by` a dispatcher gets its audit entry ("phone_booking") in the same transaction.

    A "week" quote names the day the offer engine chose; it is booked like a whole day on
    that day, with its own discount. A quote for moving an appointment books nothing.
    `language` is the customer's: their emails about this appointment use it.

    Codes: "quote_invalid" (not for this business or window, or for a move),
    "not_bookable" (day outside the horizon), "service_unavailable", "slot_taken" (no
    longer fits).
    """
    if quote.appointment_id is not None:
        raise BookingError("quote_invalid")
    if language not in LOCALES:
        raise ValueError(f"language must be one of {LOCALES}, got {language!r}")
    window, service = _check_quote(business, quote, now)
    try:
        plan = lock_day(business.id, quote.day)
        # The routes as plain values, not rows: the booking rewrites one route only, so
        # only that route's appointments are loaded into the session (below).
        (routes,) = plans_in_force(business, [quote.day])
        job = job_request(service, quote.address).job(NEW_JOB_ID, window)
        insertion = best_insertion(routes.routes, job, travel_times())
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
            status=AppointmentStatus.CONFIRMED,
            notes=contact.notes,
            access_hints=contact.access_hints,
            consent_at=contact.consent_at,
            language=language,
            source=source,
        )
        _store_price(appointment, quote)
        db.session.add(appointment)
        db.session.flush()
        if by is not None:
            record(
                business.id,
                by,
                f"{source}_booking",
                f"appointment {appointment.id}",
                day=quote.day.isoformat(),
                window=[quote.window_start_s, quote.window_end_s],
                total_cents=quote.price.total_cents,
            )
        technician_id = int(insertion.technician_id)  # the optimizer's id is the row id
        save_routes(
            plan,
            {technician_id: insertion.schedule},
            {**route_appointments(plan, technician_id), NEW_JOB_ID: appointment},
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return appointment


# --- the manage link: changes until the cut-off ---------------------------------------------


def change_deadline(business: Business, appointment: Appointment) -> datetime:
    """Until when the customer may move or cancel online: `cancel_cutoff_hours` real
    hours (not wall-clock ones across a DST switch) before the window starts."""
    starts = local_datetime(business, appointment.day, appointment.window_start_s)
    return starts.astimezone(UTC) - timedelta(hours=business.cancel_cutoff_hours)


def can_change(business: Business, appointment: Appointment, now: datetime) -> bool:
    """Whether the customer may still move or cancel this appointment online. One we
    could not keep (unplaced) is always theirs to rebook or cancel: the cut-off protects
    our plan, and that plan already let them down."""
    if appointment.is_unplaced:
        return True
    return appointment.is_confirmed and now < change_deadline(business, appointment)


def _check_change(business: Business, appointment: Appointment, now: datetime) -> None:
    if not appointment.is_open:
        raise BookingError("appointment_cancelled")
    if not can_change(business, appointment, now):
        raise BookingError("cutoff_passed")


def _lock_days_of(appointment: Appointment, also: date | None = None) -> dict[date, DayPlan]:
    """Take the locks of the appointment's day and of `also`, in date order (two moves
    between the same two days take them in the same order, so they cannot deadlock), and
    re-read the appointment under them. Should a concurrent move have taken it to another
    day meanwhile, its new day is locked instead."""
    for _attempt in range(3):
        day = appointment.day
        plans = {d: lock_day(appointment.business_id, d) for d in sorted({day, also or day})}
        db.session.refresh(appointment)
        if appointment.day == day:
            return plans
        db.session.rollback()
    raise BookingError("appointment_changed")


def _take_out(
    day_routes: Sequence[Route], appointment: Appointment
) -> tuple[list[Route], dict[int, Schedule]]:
    """The day's routes without this appointment, and the re-timed schedule of the route it
    leaves (by technician row id). A stop of a technician who no longer works that day is
    simply deleted: there is no route left to re-time."""
    routes = list(day_routes)
    stop = db.session.scalar(select(RouteStop).where(RouteStop.appointment_id == appointment.id))
    if stop is None:
        return routes, {}
    for index, route in enumerate(routes):
        if route.technician.id == str(stop.technician_id):
            routes[index] = route.without_job(appointment.job_id)
            return routes, {stop.technician_id: check_route(routes[index], travel_times()).schedule}
    db.session.delete(stop)
    db.session.flush()
    return routes, {}


def cancel_appointment(
    appointment: Appointment, now: datetime, *, by_customer: bool = False
) -> bool:
    """Cancel and free the capacity: the stop leaves its route, the rest is re-timed.

    Returns whether this call cancelled it (False: it was cancelled already). With
    `by_customer`, the cut-off applies: BookingError "cutoff_passed" after it.
    """
    if not appointment.is_open:
        return False
    business = db.session.get(Business, appointment.business_id)
    assert business is not None
    try:
        plan = _lock_days_of(appointment)[appointment.day]
        if not appointment.is_open:  # cancelled meanwhile, by a click in another tab
            db.session.rollback()
            return False
        if by_customer:
            _check_change(business, appointment, now)
        # As a booking does: the routes as plain values, the one changed route's rows.
        (day,) = plans_in_force(business, [appointment.day])
        _routes, retimed = _take_out(day.routes, appointment)
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancelled_at = now
        appointment.calendar_sequence += 1
        for technician_id, schedule in retimed.items():
            save_routes(plan, {technician_id: schedule}, route_appointments(plan, technician_id))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return True


def reschedule_appointment(appointment: Appointment, quote: Quote, now: datetime) -> Appointment:
    """Move the appointment to the quoted window at the quoted price, if it still fits.

    Under both days' locks: the appointment leaves its route (the rest is re-timed) and is
    inserted afresh, on the same day or another, in one transaction. If it no longer fits,
    BookingError "slot_taken" and nothing changed: the old appointment stands.

    Codes: "quote_invalid" (the quote is not for moving this appointment, or names a
    window not offered), "appointment_cancelled", "cutoff_passed", "not_bookable",
    "service_unavailable", "slot_taken", "appointment_changed" (moved meanwhile, again
    and again).
    """
    business = db.session.get(Business, appointment.business_id)
    assert business is not None
    if quote.appointment_id != appointment.id or quote.service_id != appointment.service_type_id:
        raise BookingError("quote_invalid")
    _check_change(business, appointment, now)
    window, service = _check_quote(business, quote, now)
    try:
        plans = _lock_days_of(appointment, also=quote.day)
        _check_change(business, appointment, now)
        old_day, new_day = appointment.day, quote.day
        states = {state.routes.day: state for state in load_days(business, sorted(plans))}
        old, new = states[old_day], states[new_day]
        routes, retimed = _take_out(old.routes.routes, appointment)
        if new_day != old_day:
            routes = list(new.routes.routes)
        job = job_request(service, Address.of(appointment)).job(appointment.job_id, window)
        insertion = best_insertion(routes, job, travel_times())
        if insertion is None:
            raise BookingError("slot_taken")
        inserted = {new.technicians[insertion.technician_id].id: insertion.schedule}
        appointments = {**old.appointments, **new.appointments, appointment.job_id: appointment}
        if new_day == old_day:
            save_routes(plans[old_day], {**retimed, **inserted}, appointments)
        else:
            save_routes(plans[old_day], retimed, appointments)  # frees the old stop first
            save_routes(plans[new_day], inserted, appointments)
        _store_price(appointment, quote)
        appointment.status = AppointmentStatus.CONFIRMED  # an unplaced one is placed again
        appointment.calendar_sequence += 1
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return appointment
