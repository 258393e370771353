"""JSON API for a website widget: the customer flow as JSON, errors as JSON too."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from booking.customer.forms import AddressForm, ContactForm
from booking.customer.views import (
    BOOKING_ERRORS,
    change_error_message,
    geocoder_down_message,
    is_current,
    outside_area_message,
    unknown_address_message,
)
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
from booking.services.clock import hhmm, now_utc
from booking.services.emails import queue_email
from booking.services.offering import Address, bookable_service, find_slots, pricing_policy
from booking.services.quotes import Quote, QuoteError, QuoteSigner, read_quote
from booking.tenancy import current_business
from booking.validation import looks_like_token
from optimizer.offers import Offer
from optimizer.pricing import PriceBreakdown, PricingPolicy, lowest_price_cents
from optimizer.reasons import LANGUAGES, Reason

bp = Blueprint("api", __name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.extra = status, code, message, extra


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    body = {"error": {"code": error.code, "message": error.message, **error.extra}}
    response = jsonify(body)
    if "retry_after_s" in error.extra:  # in the header too, as on 429 rate_limited
        response.headers["Retry-After"] = str(error.extra["retry_after_s"])
    return response, error.status


@bp.app_errorhandler(HTTPException)
def _http_error(error: HTTPException):
    if not request.path.startswith("/api/"):
        return error
    code = (error.name or "error").lower().replace(" ", "_")
    body = {"error": {"code": code, "message": error.description}}
    return jsonify(body), error.code or 500


def json_body() -> dict[str, Any]:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: no object we could read
        data = None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", _("The request body must be a JSON object."))
    return data


def form_data(data: dict[str, Any], fields: tuple[str, ...]) -> MultiDict[str, str]:
    """Only string fields pass into the forms; anything else is a clear 422."""
    values: MultiDict[str, str] = MultiDict()
    for name in fields:
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ApiError(
                422,
                "invalid_field",
                _("Field %(name)s must be text.", name=name),
                fields={name: [_("Must be text.")]},
            )
        values[name] = value
    return values


def signed_quote(token: str) -> Quote:
    """The quote behind a token; an expired one is 409 (fresh offers will do), a forged
    or malformed one 422."""
    try:
        return read_quote(
            token, current_app.config["SECRET_KEY"], current_app.config["QUOTE_TTL_S"]
        )
    except QuoteError as error:
        raise ApiError(
            409 if error.code == "quote_expired" else 422,
            error.code,
            str(BOOKING_ERRORS[error.code]),
        ) from error


def validation_error(errors: dict[str, list[str]]) -> ApiError:
    messages = {name: [str(m) for m in msgs] for name, msgs in errors.items()}
    return ApiError(422, "invalid_field", _("Please check the marked fields."), fields=messages)


def price_json(price: PriceBreakdown) -> dict[str, int]:
    return {
        "base_cents": price.base_cents,
        "travel_fee_cents": price.travel_fee_cents,
        "discount_cents": price.discount_cents,
        "flexibility_discount_cents": price.flexibility_cents,
        "total_cents": price.total_cents,
        "saving_pct": price.saving_pct,
    }


def service_json(service: ServiceType, policy: PricingPolicy) -> dict[str, Any]:
    """A service as the catalogue shows it: `from_price_cents` is the lowest it can cost
    (next to the depot, riding along a route, any day of a week), as on the start page."""
    return {
        "code": service.code,
        "name_de": service.name_de,
        "name_en": service.name_en,
        "description_de": service.description_de,
        "description_en": service.description_en,
        "duration_minutes": service.duration_s // 60,
        "base_price_cents": service.base_price_cents,
        "from_price_cents": lowest_price_cents(service.base_price_cents, policy),
    }


def business_json(business: Business) -> dict[str, Any]:
    return {
        "name": business.name,
        "intro_de": business.intro_de,
        "intro_en": business.intro_en,
        "address": business.address,
        "phone": business.phone,
        "email": business.email,
    }


def address_json(address: Address) -> dict[str, Any]:
    return {
        "street": address.street,
        "postcode": address.postcode,
        "city": address.city,
        "precision": address.precision,
    }


def appointment_json(appointment: Appointment) -> dict[str, Any]:
    return {
        "status": appointment.status,
        "service": appointment.service.code,
        "day": appointment.day.isoformat(),
        "window_start": hhmm(appointment.window_start_s),
        "window_end": hhmm(appointment.window_end_s),
        "window_kind": appointment.window_kind,
        "address": {
            "street": appointment.street,
            "postcode": appointment.postcode,
            "city": appointment.city,
            "precision": appointment.geo_precision,
        },
        "access_hints": appointment.access_hints,
        "price": price_json(appointment.price),
        "manage_token": appointment.manage_token,
        **changes_json(appointment),
    }


def changes_json(appointment: Appointment) -> dict[str, Any]:
    """Whether the customer may still move or cancel online, and until when (ISO 8601 in
    the business's zone); after that, `reschedule` and `cancel` answer cutoff_passed."""
    business = db.session.get(Business, appointment.business_id)
    assert business is not None
    deadline = change_deadline(business, appointment)
    return {
        "language": appointment.language,
        "can_change": can_change(business, appointment, now_utc()),
        "change_deadline": deadline.astimezone(ZoneInfo(business.timezone)).isoformat(),
    }


def active_service(business: Business, code: Any) -> ServiceType:
    service = bookable_service(business, code=code) if isinstance(code, str) else None
    if service is None:
        raise ApiError(404, "unknown_service", _("There is no such service."))
    return service


def reasons_json(offer: Offer, locale: str) -> dict[str, Any]:
    """The engine's sentence in the request's language (`locale`), and in each language we
    speak, so a widget can switch language without asking for offers again."""
    if offer.reason is None:  # the engine explains every offer; a missing sentence is no error
        return {"reason": "", "reasons": dict.fromkeys(LANGUAGES, "")}
    return _reason_texts(offer.reason, locale)


@lru_cache(maxsize=8192)
def _reason_texts(reason: Reason, locale: str) -> dict[str, Any]:
    """Kept for the process: an answer names some 50 different reasons, most of them
    named in earlier answers too, and the sentences never change. Callers only read it."""
    reasons = {language: reason.text(language) for language in LANGUAGES}
    in_locale = reasons[locale] if locale in reasons else reason.text(locale)
    return {"reason": in_locale, "reasons": reasons}


def slots_json(
    business: Business,
    service: ServiceType,
    address: Address,
    moving: Appointment | None = None,
) -> list[dict[str, Any]]:
    """Per day its slots and flexible windows, then one "any day this week" entry per week:
    `day` is the day the offer is for (for a week, the day the engine chose; the booking is
    a whole day on it), `days` the days the customer leaves open. `moving`: offers for
    moving this appointment (quotes bound to it, its own window marked `current`)."""
    signer = QuoteSigner(
        current_app.config["SECRET_KEY"], business.id, service.id, address,
        moving.id if moving else None,
    )  # fmt: skip
    locale = str(get_locale())
    result = []
    for slot in find_slots(business, service, address, now_utc(), moving=moving):
        entry: dict[str, Any] = {
            "day": slot.day.isoformat(),
            "days": [day.isoformat() for day in slot.days],
            "kind": slot.kind,
            "window_start": hhmm(slot.window.start),
            "window_end": hhmm(slot.window.end),
            "offered": slot.offer is not None,
        }
        if slot.offer is not None:
            entry.update(
                price=price_json(slot.offer.price),
                **reasons_json(slot.offer, locale),
                quote=signer.sign(slot.offer),
            )
        if moving is not None:
            entry["current"] = is_current(slot, moving)
        result.append(entry)
    return result


@bp.get("/services")
def services():
    """The catalogue: the firm's intro and contact details, then every active service."""
    business = current_business()
    policy = pricing_policy(business)
    return jsonify(
        {
            "business": business_json(business),
            "services": [service_json(s, policy) for s in business.services if s.active],
        }
    )


def located_address(business: Business, data: dict[str, Any]) -> Address:
    """The geocoded address of a request's street, postcode and city; ApiError otherwise."""
    form = AddressForm(formdata=form_data(data, ("street", "postcode", "city")))
    if not form.validate():
        raise validation_error(form.errors)
    try:
        return locate(form.street.data, form.postcode.data, form.city.data)
    except AddressNotFound as error:
        raise ApiError(422, "unknown_address", unknown_address_message(business)) from error
    except GeocoderUnavailable as error:
        raise ApiError(
            503, "geocoder_unavailable", geocoder_down_message(business), retry_after_s=30
        ) from error


@bp.post("/geocode")
@search_limit
def geocode():
    """Where an address is, how exactly it was found ("house", "street" or "postcode"),
    and whether the firm serves it. Outside the service area is an answer here (200, with
    the message to show); `offers` refuses such an address."""
    business = current_business()
    address = located_address(business, json_body())
    inside = in_service_area(business, address)
    body: dict[str, Any] = {
        **address_json(address),
        "lat": address.lat,
        "lon": address.lon,
        "label": address.label,
        "inside_service_area": inside,
    }
    if not inside:
        body["message"] = outside_area_message(business)
    return jsonify(body)


@bp.post("/offers")
@search_limit
def offers():
    business = current_business()
    data = json_body()
    service = active_service(business, data.get("service"))
    address = located_address(business, data)
    if not in_service_area(business, address):
        raise ApiError(422, "outside_service_area", outside_area_message(business))
    return jsonify(
        {"address": address_json(address), "slots": slots_json(business, service, address)}
    )


@bp.post("/bookings")
@booking_limit
def bookings():
    """Book a quote for a customer. `consent: true` (JSON true, nothing else) records their
    agreement to the processing of their data; without it the answer is 422
    consent_required, or invalid_field when other fields are wrong too."""
    business = current_business()
    data = json_body()
    values = form_data(data, ("quote", "name", "phone", "email", "notes", "access_hints"))
    if data.get("consent") is True:
        values["consent"] = "y"
    form = ContactForm(formdata=values, meta={"csrf": False})
    if not form.validate():
        if set(form.errors) == {"consent"}:
            raise ApiError(
                422,
                "consent_required",
                str(form.consent.errors[0]),
                fields={"consent": [str(m) for m in form.consent.errors]},
            )
        raise validation_error(form.errors)
    quote = signed_quote(form.quote.data)
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
        extra: dict[str, Any] = {}
        service = db.session.get(ServiceType, quote.service_id)
        if error.code in {"slot_taken", "not_bookable"} and service is not None:
            extra["alternatives"] = [
                s for s in slots_json(business, service, quote.address) if s["offered"]
            ]
        # A quote for a window this business does not offer is as invalid as a bad
        # signature (422, like read_quote's); the rest changed meanwhile (409).
        status = 422 if error.code == "quote_invalid" else 409
        raise ApiError(status, error.code, str(BOOKING_ERRORS[error.code]), **extra) from error
    sent = queue_email(appointment, "booked", now)
    return jsonify({"appointment": appointment_json(appointment), "email_sent": sent}), 201


def appointment_for(token: str) -> Appointment:
    appointment = None
    if looks_like_token(token):
        appointment = db.session.scalar(
            select(Appointment).where(Appointment.manage_token == token)
        )
    if appointment is None:
        raise ApiError(404, "unknown_appointment", _("There is no such appointment."))
    return appointment


@bp.get("/appointments/<token>")
def appointment(token: str):
    return jsonify({"appointment": appointment_json(appointment_for(token))})


@bp.post("/appointments/<token>/cancel")
@booking_limit
def cancel(token: str):
    """Cancel until the cut-off (409 cutoff_passed after it). Cancelling a cancelled
    appointment changes nothing and sends no email: then `email_sent` is absent."""
    found = appointment_for(token)
    now = now_utc()
    try:
        cancelled = cancel_appointment(found, now, by_customer=True)
    except BookingError as error:
        raise change_error(error.code, found) from error
    body: dict[str, Any] = {"appointment": appointment_json(found)}
    if cancelled:
        body["email_sent"] = queue_email(found, "cancelled", now)
    return jsonify(body)


def change_error(code: str, appointment: Appointment, **extra: Any) -> ApiError:
    """A refused change as JSON: an invalid quote is 422, everything else changed meanwhile
    or is too late (409)."""
    business = db.session.get(Business, appointment.business_id)
    assert business is not None
    status = 422 if code == "quote_invalid" else 409
    return ApiError(status, code, change_error_message(code, business), **extra)


from booking.api import manage  # noqa: E402,F401  (routes register on import)
