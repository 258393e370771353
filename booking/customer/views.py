from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from booking.customer import bp
from booking.customer.forms import AddressForm, ContactForm
from booking.extensions import db
from booking.models import Appointment, Business, ServiceType
from booking.ratelimits import booking_limit, search_limit
from booking.services.addresses import (
    AddressNotFound,
    GeocoderUnavailable,
    in_service_area,
    locate,
)
from booking.services.bookings import (
    BookingError,
    Contact,
    can_change,
    cancel_appointment,
    change_deadline,
    confirm_booking,
)
from booking.services.clock import now_utc
from booking.services.emails import queue_email
from booking.services.offering import Address, bookable_service, find_slots, pricing_policy
from booking.services.quotes import Quote, QuoteError, QuoteSigner, read_quote
from booking.tenancy import current_business
from booking.validation import looks_like_token
from optimizer.offers import Slot
from optimizer.pricing import WINDOW_KINDS, lowest_price_cents

BOOKING_ERRORS = {
    "slot_taken": _l("Sorry, this slot was just taken. Here are the slots that are free now."),
    "quote_expired": _l("Your offer has expired. Here are fresh slots with current prices."),
    "quote_invalid": _l("This offer is not valid. Please choose a slot again."),
    "not_bookable": _l("This day can no longer be booked. Please choose another slot."),
    "service_unavailable": _l("This service is not available any more."),
    "appointment_cancelled": _l("This appointment is cancelled."),
    "appointment_changed": _l(
        "This appointment was changed at the same time. Please look at it again."
    ),
}


def cutoff_message(business: Business) -> str:
    return _(
        "Online changes are possible until %(hours)d hours before the appointment. Please "
        "call us at %(phone)s.",
        hours=business.cancel_cutoff_hours,
        phone=business.phone,
    )


def change_error_message(code: str, business: Business) -> str:
    """The words for a BookingError code, also those of moving and cancelling."""
    if code == "cutoff_passed":
        return cutoff_message(business)
    return str(BOOKING_ERRORS[code])


def flash_mail(sent: bool, appointment: Appointment) -> None:
    """Tell the customer whether their email went out; the change stands either way."""
    if sent:
        flash(_("We have sent an email to %(email)s.", email=appointment.customer.email), "info")
    else:
        flash(
            _(
                "We could not send you an email just now. Your appointment is valid all the "
                "same: please keep this page's address."
            ),
            "error",
        )


def unknown_address_message(business: Business) -> str:
    return _(
        "We could not find this address. Please check it or call us at %(phone)s.",
        phone=business.phone,
    )


def outside_area_message(business: Business) -> str:
    return _(
        "Sorry, this address is outside our service area, so we cannot offer appointments "
        "there online. Please call us at %(phone)s – perhaps we can still help.",
        phone=business.phone,
    )


def geocoder_down_message(business: Business) -> str:
    return _(
        "Address lookup is unavailable right now. Please try again or call us at %(phone)s.",
        phone=business.phone,
    )


def service_by_code(business: Business, code: str) -> ServiceType:
    service = bookable_service(business, code=code)
    if service is None:
        abort(404)
    return service


@dataclass(frozen=True, slots=True)
class SlotView:
    """What the slot picker shows for one choice: a window on a day, or any day of a week."""

    slot: Slot
    quote: str | None
    reason: str | None  # the engine's sentence, in the visitor's language
    cheapest: bool  # the lowest price among the choices of its kind
    anchor: str  # element id, so the summary of cheapest choices can link to it
    current: bool = False  # the customer's present appointment, when moving it


@dataclass(slots=True)
class DayView:
    day: date
    slots: list[SlotView] = field(default_factory=list)  # the business's slot windows
    flexible: list[SlotView] = field(default_factory=list)  # half days, whole day


@dataclass(slots=True)
class WeekView:
    """The days of one calendar week, then "any day this week" (None: not offered)."""

    days: list[DayView] = field(default_factory=list)
    any_day: SlotView | None = None


def _anchor(slot: Slot) -> str:
    if slot.kind == "week":
        return f"{slot.days[0].isoformat()}-week"
    return f"{slot.day.isoformat()}-{slot.kind}-{slot.window.start}"


def _week_of(day: date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso.year, iso.week


def is_current(slot: Slot, appointment: Appointment) -> bool:
    """Whether a choice is the window this appointment holds now."""
    if slot.kind != appointment.window_kind:
        return False
    window = (slot.window.start, slot.window.end)
    held = (appointment.window_start_s, appointment.window_end_s)
    return window == held and appointment.day in (slot.days or (slot.day,))


def slot_views(
    business: Business,
    service: ServiceType,
    address: Address,
    slots: list[Slot],
    moving: Appointment | None = None,
) -> list[SlotView]:
    """Every slot with its signed quote and reason; the cheapest of each kind marked, so
    the cheapest plain slot is not hidden behind the always cheaper wide windows.
    `moving`: the quotes are for moving this appointment, and its window is marked."""
    locale = str(get_locale())
    signer = QuoteSigner(
        current_app.config["SECRET_KEY"], business.id, service.id, address,
        moving.id if moving else None,
    )  # fmt: skip
    lowest: dict[str, int] = {}
    for slot in slots:
        if slot.offer is not None:
            total = slot.offer.price.total_cents
            lowest[slot.kind] = min(total, lowest.get(slot.kind, total))
    views = []
    for slot in slots:
        offer = slot.offer
        quote = signer.sign(offer) if offer is not None else None
        views.append(
            SlotView(
                slot=slot,
                quote=quote,
                reason=offer.reason.text(locale) if offer and offer.reason else None,
                cheapest=offer is not None and offer.price.total_cents == lowest[slot.kind],
                anchor=_anchor(slot),
                current=moving is not None and is_current(slot, moving),
            )
        )
    return views


def by_week(views: list[SlotView]) -> list[WeekView]:
    """Calendar weeks in order; per day its slots, then its flexible windows; per week the
    "any day" choice after its days."""
    weeks: dict[tuple[int, int], WeekView] = {}
    days: dict[date, DayView] = {}
    for view in views:
        slot = view.slot
        if slot.kind == "week":
            weeks.setdefault(_week_of(slot.days[0]), WeekView()).any_day = view
            continue
        if slot.day not in days:
            days[slot.day] = DayView(slot.day)
            weeks.setdefault(_week_of(slot.day), WeekView()).days.append(days[slot.day])
        target = days[slot.day].slots if slot.kind == "slot" else days[slot.day].flexible
        target.append(view)
    return list(weeks.values())


def cheapest_picks(views: list[SlotView]) -> list[SlotView]:
    """The first cheapest choice of each kind, in the order slot, half day, day, week."""
    picks: dict[str, SlotView] = {}
    for view in views:
        if view.cheapest:
            picks.setdefault(view.slot.kind, view)
    return [picks[kind] for kind in WINDOW_KINDS if kind in picks]


def render_slots(business: Business, service: ServiceType, address: Address, status: int = 200):
    slots = find_slots(business, service, address, now_utc())
    views = slot_views(business, service, address, slots)
    return render_template(
        "customer/slots.html",
        business=business,
        service=service,
        address=address,
        weeks=by_week(views),
        picks=cheapest_picks(views),
        offered=sum(1 for view in views if view.quote is not None),
    ), status


@bp.get("/")
def index():
    business = current_business()
    services = [s for s in business.services if s.active]
    policy = pricing_policy(business)
    from_prices = {s.id: lowest_price_cents(s.base_price_cents, policy) for s in services}
    return render_template(
        "customer/index.html", business=business, services=services, from_prices=from_prices
    )


@bp.get("/datenschutz")
def privacy():
    """What the firm stores about a customer, why, and whom to ask. It names the address
    search server when addresses leave the firm's own server."""
    kind = current_app.config["GEOCODER"]
    server = {"nominatim": "NOMINATIM_URL", "photon": "PHOTON_URL"}.get(kind)
    host = urlsplit(current_app.config[server]).hostname if server else None
    return render_template("customer/privacy.html", business=current_business(), geocoder_host=host)


@bp.get("/book/<code>")
def address(code: str):
    business = current_business()
    service = service_by_code(business, code)
    form = AddressForm(request.args)
    return render_template("customer/address.html", business=business, service=service, form=form)


@bp.get("/book/<code>/slots")
@search_limit
def slots(code: str):
    business = current_business()
    service = service_by_code(business, code)
    form = AddressForm(request.args)

    def again(status: int):
        return render_template(
            "customer/address.html", business=business, service=service, form=form
        ), status

    if not form.validate():
        return again(422)
    try:
        found = locate(form.street.data, form.postcode.data, form.city.data)
    except AddressNotFound:
        form.postcode.errors = [unknown_address_message(business)]
        return again(422)
    except GeocoderUnavailable:
        flash(geocoder_down_message(business), "error")
        return again(503)
    if not in_service_area(business, found):
        form.postcode.errors = [outside_area_message(business)]
        return again(422)
    return render_slots(business, service, found)


class UnbookableQuote(Exception):
    """Why a chosen quote cannot be booked: `code` (a key of BOOKING_ERRORS) and, for an
    expired quote, `again`: the service and address to offer fresh slots for."""

    def __init__(self, code: str, again: tuple[ServiceType, Address] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.again = again


def bookable_quote(token: str, business: Business) -> tuple[Quote, ServiceType]:
    """The quote a booking form carries, with its service, if this business can book it.

    Shared by the online and the phone booking, so both refuse the same quotes."""
    try:
        quote = read_quote(
            token, current_app.config["SECRET_KEY"], current_app.config["QUOTE_TTL_S"]
        )
    except QuoteError as error:
        expired = error.expired
        service = None
        if expired is not None and expired.business_id == business.id:
            service = bookable_service(business, service_id=expired.service_id)
        again = (service, expired.address) if expired and service else None
        raise UnbookableQuote(error.code, again) from error
    service = bookable_service(business, service_id=quote.service_id)
    # A quote for moving an appointment books nothing new.
    if quote.business_id != business.id or service is None or quote.appointment_id is not None:
        raise UnbookableQuote("quote_invalid")
    return quote, service


def _quote_or_restart(form: ContactForm, business: Business):
    """The quote behind a form and its service, or a response that lets the customer
    choose again: fresh slots for an expired quote, the start page otherwise."""
    try:
        quote, service = bookable_quote(form.quote.data or "", business)
    except UnbookableQuote as refused:
        flash(str(BOOKING_ERRORS[refused.code]), "error")
        if refused.again is not None:
            service, address = refused.again
            return None, None, render_slots(business, service, address, status=409)
        return None, None, redirect(url_for("customer.index"))
    return quote, service, None


@bp.post("/book/details")
def details():
    business = current_business()
    form = ContactForm()
    quote, service, restart = _quote_or_restart(form, business)
    if restart is not None:
        return restart
    return render_template(
        "customer/details.html", business=business, service=service, quote=quote, form=form
    )


@bp.post("/book/confirm")
@booking_limit
def confirm():
    business = current_business()
    form = ContactForm()
    quote, service, restart = _quote_or_restart(form, business)
    if restart is not None:
        return restart
    if not form.validate():
        return render_template(
            "customer/details.html", business=business, service=service, quote=quote, form=form
        ), 422
    now = now_utc()
    contact = Contact(
        form.name.data,
        form.phone.data,
        form.email.data,
        form.notes.data or "",
        access_hints=form.access_hints.data or "",
        consent_at=now,
    )
    try:
        appointment = confirm_booking(business, quote, contact, now, str(get_locale()))
    except BookingError as error:
        flash(str(BOOKING_ERRORS[error.code]), "error")
        if error.code in {"slot_taken", "not_bookable"}:
            return render_slots(business, service, quote.address, status=409)
        return redirect(url_for("customer.index"))
    flash_mail(queue_email(appointment, "booked", now), appointment)
    return redirect(url_for("customer.manage", token=appointment.manage_token, new=1))


def appointment_by_token(token: str) -> Appointment:
    if not looks_like_token(token):
        abort(404)
    appointment = db.session.scalar(select(Appointment).where(Appointment.manage_token == token))
    if appointment is None:
        abort(404)
    return appointment


@bp.get("/appointment/<token>")
def manage(token: str):
    appointment = appointment_by_token(token)
    business = db.session.get(Business, appointment.business_id)
    assert business is not None
    return render_template(
        "customer/manage.html",
        business=business,
        appointment=appointment,
        new=request.args.get("new") == "1",
        changeable=can_change(business, appointment, now_utc()),
        deadline=change_deadline(business, appointment),
        cutoff_message=cutoff_message(business),
    )


@bp.post("/appointment/<token>/cancel")
@booking_limit
def cancel(token: str):
    appointment = appointment_by_token(token)
    business = db.session.get(Business, appointment.business_id)
    assert business is not None
    now = now_utc()
    try:
        cancelled = cancel_appointment(appointment, now, by_customer=True)
    except BookingError as error:
        flash(change_error_message(error.code, business), "error")
        return redirect(url_for("customer.manage", token=token))
    flash(_("Your appointment is cancelled."), "info")
    if cancelled:
        flash_mail(queue_email(appointment, "cancelled", now), appointment)
    return redirect(url_for("customer.manage", token=token))
