from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from booking.customer import bp
from booking.customer.forms import AddressForm, ContactForm
from booking.extensions import db
from booking.models import Appointment, Business, ServiceType
from booking.services.addresses import AddressNotFound, GeocoderUnavailable, locate
from booking.services.bookings import BookingError, Contact, cancel_appointment, confirm_booking
from booking.services.clock import now_utc
from booking.services.offering import Address, bookable_service, find_slots, pricing_policy
from booking.services.quotes import Quote, QuoteError, read_quote, sign_quote
from booking.templating import kilometres
from booking.validation import looks_like_token
from optimizer.offers import Offer, Slot
from optimizer.pricing import lowest_price_cents

BOOKING_ERRORS = {
    "slot_taken": _l("Sorry, this slot was just taken. Here are the slots that are free now."),
    "quote_expired": _l("Your offer has expired. Here are fresh slots with current prices."),
    "quote_invalid": _l("This offer is not valid. Please choose a slot again."),
    "not_bookable": _l("This day can no longer be booked. Please choose another slot."),
    "service_unavailable": _l("This service is not available any more."),
}


def current_business() -> Business:
    """The business this site serves; one per deployment for now."""
    business = db.session.scalars(select(Business).order_by(Business.id)).first()
    if business is None:
        abort(503)
    return business


def service_by_code(business: Business, code: str) -> ServiceType:
    service = bookable_service(business, code=code)
    if service is None:
        abort(404)
    return service


NEARBY_METERS = 3000  # a neighbouring stop this close is worth naming in the reason


def slot_reason(offer: Offer) -> str:
    """One sentence that explains the price of a slot, true to how it was computed."""
    minutes = max(1, round(offer.detour_seconds / 60))
    if offer.price.discount_cents > 0:
        if offer.nearest_stop_meters is not None and offer.nearest_stop_meters <= NEARBY_METERS:
            km = kilometres(offer.nearest_stop_meters)
            return _("A technician is already %(km)s km from you that day.", km=km)
        return _(
            "A technician passes near you that day: only %(minutes)d minutes of detour.",
            minutes=minutes,
        )
    if offer.nearest_stop_meters is None:
        return _("A technician drives out just for you.")
    return _("Fits into a route with %(minutes)d extra minutes of driving.", minutes=minutes)


@dataclass(frozen=True, slots=True)
class SlotView:
    """What the slot list shows for one (day, window)."""

    slot: Slot
    quote: str | None
    reason: str | None
    cheapest: bool


def render_slots(business: Business, service: ServiceType, address: Address, status: int = 200):
    slots = find_slots(business, service, address, now_utc())
    prices = [s.offer.price.total_cents for s in slots if s.offer is not None]
    cheapest = min(prices, default=None)
    secret = current_app.config["SECRET_KEY"]
    days: OrderedDict[date, list[SlotView]] = OrderedDict()
    for slot in slots:
        offer = slot.offer
        view = SlotView(
            slot=slot,
            quote=sign_quote(Quote.from_offer(business.id, service.id, address, offer), secret)
            if offer
            else None,
            reason=slot_reason(offer) if offer else None,
            cheapest=offer is not None and offer.price.total_cents == cheapest,
        )
        days.setdefault(slot.day, []).append(view)
    return render_template(
        "customer/slots.html",
        business=business,
        service=service,
        address=address,
        days=days,
        offered=len(prices),
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


@bp.get("/book/<code>")
def address(code: str):
    business = current_business()
    service = service_by_code(business, code)
    form = AddressForm(request.args)
    return render_template("customer/address.html", business=business, service=service, form=form)


@bp.get("/book/<code>/slots")
def slots(code: str):
    business = current_business()
    service = service_by_code(business, code)
    form = AddressForm(request.args)
    if not form.validate():
        return render_template(
            "customer/address.html", business=business, service=service, form=form
        ), 422
    try:
        found = locate(form.street.data, form.postcode.data, form.city.data)
    except AddressNotFound:
        form.postcode.errors = [
            _(
                "We could not find this address. Please check it or call us at %(phone)s.",
                phone=business.phone,
            )
        ]
        return render_template(
            "customer/address.html", business=business, service=service, form=form
        ), 422
    except GeocoderUnavailable:
        flash(
            _(
                "Address lookup is unavailable right now. Please try again or call us at "
                "%(phone)s.",
                phone=business.phone,
            ),
            "error",
        )
        return render_template(
            "customer/address.html", business=business, service=service, form=form
        ), 503
    return render_slots(business, service, found)


def _quote_or_restart(form: ContactForm, business: Business):
    """The quote behind a form and its service, or a response that lets the customer
    choose again: fresh slots for an expired quote, the start page otherwise."""
    try:
        quote = read_quote(
            form.quote.data or "",
            current_app.config["SECRET_KEY"],
            current_app.config["QUOTE_TTL_S"],
        )
    except QuoteError as error:
        flash(str(BOOKING_ERRORS[error.code]), "error")
        expired = error.expired
        service = bookable_service(business, service_id=expired.service_id) if expired else None
        if expired and service:
            return None, None, render_slots(business, service, expired.address, status=409)
        return None, None, redirect(url_for("customer.index"))
    service = bookable_service(business, service_id=quote.service_id)
    if quote.business_id != business.id or service is None:
        flash(str(BOOKING_ERRORS["quote_invalid"]), "error")
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
    contact = Contact(form.name.data, form.phone.data, form.email.data, form.notes.data or "")
    try:
        appointment = confirm_booking(business, quote, contact, now_utc())
    except BookingError as error:
        flash(str(BOOKING_ERRORS[error.code]), "error")
        if error.code in {"slot_taken", "not_bookable"}:
            return render_slots(business, service, quote.address, status=409)
        return redirect(url_for("customer.index"))
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
    return render_template(
        "customer/manage.html",
        business=business,
        appointment=appointment,
        new=request.args.get("new") == "1",
    )


@bp.post("/appointment/<token>/cancel")
def cancel(token: str):
    appointment = appointment_by_token(token)
    cancel_appointment(appointment, now_utc())
    flash(_("Your appointment is cancelled."), "info")
    return redirect(url_for("customer.manage", token=token))
