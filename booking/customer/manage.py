"""Moving a booked appointment from its manage page: fresh offers, a review, the move.

The offers are computed on the routes without this appointment, so its own window is on
offer too (marked); their quotes are bound to it. Until the business's cut-off only: after
it the manage page says why and gives the phone number.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from booking.customer import bp
from booking.customer.forms import QuoteForm
from booking.customer.views import (
    appointment_by_token,
    by_week,
    change_error_message,
    cheapest_picks,
    flash_mail,
    slot_views,
)
from booking.extensions import db
from booking.models import Appointment, Business
from booking.ratelimits import booking_limit, search_limit
from booking.services.bookings import BookingError, can_change, reschedule_appointment
from booking.services.clock import now_utc
from booking.services.emails import queue_email
from booking.services.offering import Address, bookable_service, find_slots
from booking.services.quotes import Quote, QuoteError, read_quote


def _business_of(appointment: Appointment) -> Business:
    business = db.session.get(Business, appointment.business_id)
    assert business is not None
    return business


def _back_to_manage(appointment: Appointment, message: str):
    flash(message, "error")
    return redirect(url_for("customer.manage", token=appointment.manage_token))


def render_reschedule(appointment: Appointment, status: int = 200):
    """The slot picker for moving this appointment, or back to its page with the reason."""
    business = _business_of(appointment)
    now = now_utc()
    if not appointment.is_open:
        return _back_to_manage(appointment, change_error_message("appointment_cancelled", business))
    if not can_change(business, appointment, now):
        return _back_to_manage(appointment, change_error_message("cutoff_passed", business))
    service = bookable_service(business, service_id=appointment.service_type_id)
    if service is None:
        return _back_to_manage(appointment, change_error_message("service_unavailable", business))
    address = Address.of(appointment)
    slots = find_slots(business, service, address, now, moving=appointment)
    views = slot_views(business, service, address, slots, moving=appointment)
    return render_template(
        "customer/reschedule.html",
        business=business,
        service=service,
        address=address,
        appointment=appointment,
        weeks=by_week(views),
        picks=cheapest_picks(views),
        offered=sum(1 for view in views if view.quote is not None),
        choose_url=url_for("customer.reschedule_review", token=appointment.manage_token),
    ), status


def _quote_for(appointment: Appointment, form: QuoteForm) -> Quote | str:
    """The form's quote if it is one for moving this appointment; else the error code."""
    if not form.validate():
        return "quote_invalid"
    try:
        quote = read_quote(
            form.quote.data, current_app.config["SECRET_KEY"], current_app.config["QUOTE_TTL_S"]
        )
    except QuoteError as error:
        return error.code
    if quote.appointment_id != appointment.id:
        return "quote_invalid"
    return quote


def _refused(appointment: Appointment, code: str):
    """After a refused quote or move: fresh offers where they help, else the manage page."""
    business = _business_of(appointment)
    message = change_error_message(code, business)
    if code in {"slot_taken", "not_bookable", "quote_expired"}:
        flash(message, "error")
        return render_reschedule(appointment, status=409)
    return _back_to_manage(appointment, message)


@bp.get("/appointment/<token>/reschedule")
@search_limit
def reschedule(token: str):
    return render_reschedule(appointment_by_token(token))


@bp.post("/appointment/<token>/reschedule/review")
def reschedule_review(token: str):
    appointment = appointment_by_token(token)
    business = _business_of(appointment)
    if not can_change(business, appointment, now_utc()):
        code = "cutoff_passed" if appointment.is_open else "appointment_cancelled"
        return _back_to_manage(appointment, change_error_message(code, business))
    form = QuoteForm()
    quote = _quote_for(appointment, form)
    if isinstance(quote, str):
        return _refused(appointment, quote)
    return render_template(
        "customer/reschedule_review.html",
        business=business,
        appointment=appointment,
        quote=quote,
        form=form,
    )


@bp.post("/appointment/<token>/reschedule")
@booking_limit
def reschedule_confirm(token: str):
    appointment = appointment_by_token(token)
    quote = _quote_for(appointment, QuoteForm())
    if isinstance(quote, str):
        return _refused(appointment, quote)
    now = now_utc()
    try:
        reschedule_appointment(appointment, quote, now)
    except BookingError as error:
        return _refused(appointment, error.code)
    flash(_("Your appointment has been moved."), "info")
    flash_mail(queue_email(appointment, "rescheduled", now), appointment)
    return redirect(url_for("customer.manage", token=token))
