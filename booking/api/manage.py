"""Moving a booked appointment through the API: offers for it, then the move.

`POST appointments/<token>/offers` lists the same slots as `POST offers`, for the booked
service and address, computed on the routes without this appointment: its own window is
offered too and marked `current`. Their quotes move only this appointment; `POST
bookings` refuses them, and `reschedule` refuses quotes for new bookings (422
quote_invalid). Both answer 409 cutoff_passed after the business's cut-off.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from booking.api import (
    appointment_for,
    appointment_json,
    bp,
    change_error,
    form_data,
    json_body,
    signed_quote,
    slots_json,
    validation_error,
)
from booking.customer.forms import QuoteForm
from booking.extensions import db
from booking.models import Appointment, Business, ServiceType
from booking.ratelimits import booking_limit, search_limit
from booking.services.bookings import BookingError, can_change, reschedule_appointment
from booking.services.clock import now_utc
from booking.services.emails import queue_email
from booking.services.offering import Address, bookable_service


def _movable(appointment: Appointment) -> tuple[Business, ServiceType]:
    """The business and service of an appointment the customer may move now; else the
    ApiError that says why not."""
    business = db.session.get(Business, appointment.business_id)
    assert business is not None
    if not appointment.is_open:
        raise change_error("appointment_cancelled", appointment)
    if not can_change(business, appointment, now_utc()):
        raise change_error("cutoff_passed", appointment)
    service = bookable_service(business, service_id=appointment.service_type_id)
    if service is None:
        raise change_error("service_unavailable", appointment)
    return business, service


def _alternatives(appointment: Appointment) -> list[dict[str, Any]]:
    business, service = _movable(appointment)
    return [
        slot
        for slot in slots_json(business, service, Address.of(appointment), moving=appointment)
        if slot["offered"]
    ]


@bp.post("/appointments/<token>/offers")
@search_limit
def reschedule_offers(token: str):
    """Offers for moving the appointment. The body may be empty or a JSON object (its
    fields are not used: the booked service and address are)."""
    appointment = appointment_for(token)
    if request.get_data():
        json_body()
    business, service = _movable(appointment)
    return jsonify(
        {
            "appointment": appointment_json(appointment),
            "slots": slots_json(business, service, Address.of(appointment), moving=appointment),
        }
    )


@bp.post("/appointments/<token>/reschedule")
@booking_limit
def reschedule(token: str):
    """Move the appointment to a quote from its `offers`: 200 with the moved appointment
    and `email_sent`; 409 slot_taken with fresh `alternatives` if it no longer fits
    (nothing changed then)."""
    appointment = appointment_for(token)
    form = QuoteForm(formdata=form_data(json_body(), ("quote",)), meta={"csrf": False})
    if not form.validate():
        raise validation_error(form.errors)
    quote = signed_quote(form.quote.data)
    now = now_utc()
    try:
        reschedule_appointment(appointment, quote, now)
    except BookingError as error:
        extra: dict[str, Any] = {}
        if error.code in {"slot_taken", "not_bookable"}:
            extra["alternatives"] = _alternatives(appointment)
        raise change_error(error.code, appointment, **extra) from error
    sent = queue_email(appointment, "rescheduled", now)
    return jsonify({"appointment": appointment_json(appointment), "email_sent": sent})
