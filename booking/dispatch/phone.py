"""A booking taken by phone: the dispatcher sees the same offers and prices as online.

The steps are those of the customer pages, on one address: service and address (GET,
geocoded the same way), the slot picker with signed quotes (find_slots, slot_views), then
the customer's details and `confirm_booking` with the chosen quote, so the "just taken"
check under the day's lock is the very same. The appointment is marked source=phone and
gets an audit entry in its own transaction. A booking is its own proof: no proposal.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice  # WTForms 3.3: tuples are deprecated

from booking import LOCALES, fields
from booking.customer.forms import AddressForm
from booking.customer.views import (
    BOOKING_ERRORS,
    UnbookableQuote,
    bookable_quote,
    by_week,
    cheapest_picks,
    geocoder_down_message,
    slot_views,
    unknown_address_message,
)
from booking.dispatch import bp, my_business
from booking.models import AppointmentSource, Business, ServiceType
from booking.services.addresses import (
    AddressNotFound,
    GeocoderUnavailable,
    in_service_area,
    locate,
)
from booking.services.bookings import BookingError, Contact, confirm_booking
from booking.services.clock import now_utc
from booking.services.emails import queue_email
from booking.services.offering import Address, bookable_service, find_slots
from booking.services.quotes import Quote
from booking.validation import email_address, strip

LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


class PhoneSearchForm(AddressForm):
    """Service and address; submitted with GET like the customer's address step."""

    service = SelectField(_l("Service"), coerce=int)


class PhoneContactForm(FlaskForm):
    """The customer's details as the dispatcher takes them down. Unlike online, the email
    is optional (no email, no confirmation mail) and there is no consent box: the firm
    enters the data itself, so no consent time is recorded."""

    quote = fields.chosen_quote()
    name = fields.person_name(_l("Please enter the customer's name."))
    phone = fields.phone()
    email = StringField(_l("Email (optional)"), filters=[strip], validators=[email_address])
    notes = fields.notes()
    access_hints = fields.access_hints()
    language = SelectField(
        _l("Language of the emails"),
        choices=[SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in LOCALES],
        default="de",
    )


def _services(business: Business) -> list[ServiceType]:
    return sorted((s for s in business.services if s.active), key=lambda s: s.sort_order)


def _search_form(business: Business) -> PhoneSearchForm:
    form = PhoneSearchForm(request.args)
    form.service.choices = [
        SelectChoice(str(s.id), s.name(str(get_locale()))) for s in _services(business)
    ]
    return form


def _render_search(
    business: Business,
    form: PhoneSearchForm,
    service: ServiceType | None = None,
    address: Address | None = None,
    status: int = 200,
):
    """The search form, and below it the slot picker when a service and address are known."""
    weeks, picks, offered = [], [], 0
    if service is not None and address is not None:
        slots = find_slots(business, service, address, now_utc())
        views = slot_views(business, service, address, slots)
        weeks, picks = by_week(views), cheapest_picks(views)
        offered = sum(1 for view in views if view.quote is not None)
    return render_template(
        "dispatch/phone_booking.html",
        business=business,
        form=form,
        service=service,
        address=address,
        weeks=weeks,
        picks=picks,
        offered=offered,
        choose_url=url_for("dispatch.phone_booking"),
    ), status


@bp.get("/phone-booking")
def phone_booking():
    business = my_business()
    form = _search_form(business)
    if "service" not in request.args:  # the first visit (a ?lang= switch included)
        return _render_search(business, form)
    if not form.validate():
        return _render_search(business, form, status=422)
    service = bookable_service(business, service_id=form.service.data)
    if service is None:  # deactivated since the form was shown
        form.service.errors = [_("This service is not available any more.")]
        return _render_search(business, form, status=422)
    try:
        found = locate(form.street.data, form.postcode.data, form.city.data)
    except AddressNotFound:
        form.postcode.errors = [unknown_address_message(business)]
        return _render_search(business, form, status=422)
    except GeocoderUnavailable:
        flash(geocoder_down_message(business), "error")
        return _render_search(business, form, status=503)
    if not in_service_area(business, found):
        # Online, the customer is told to call; on the phone the dispatcher decides.
        flash(_("This address is outside the service area; online it would be refused."), "info")
    return _render_search(business, form, service, found)


def _slots_again(business: Business, service: ServiceType, address: Address, status: int):
    form = _search_form(business)
    form.service.data = service.id
    form.street.data, form.postcode.data, form.city.data = (
        address.street,
        address.postcode,
        address.city,
    )
    return _render_search(business, form, service, address, status)


@bp.post("/phone-booking")
def phone_booking_confirm():
    """With a chosen quote alone: the details form. With `confirm`: book it."""
    business = my_business()
    form = PhoneContactForm()
    try:
        quote, service = bookable_quote(form.quote.data or "", business)
    except UnbookableQuote as refused:
        flash(str(BOOKING_ERRORS[refused.code]), "error")
        if refused.again is not None:
            return _slots_again(business, *refused.again, 409)
        return redirect(url_for("dispatch.phone_booking"))
    if request.form.get("confirm") != "1":
        form = PhoneContactForm(formdata=None, quote=form.quote.data)
        return _details(business, service, quote, form)
    if not form.validate():
        return _details(business, service, quote, form, 422)
    now = now_utc()
    contact = Contact(
        form.name.data,
        form.phone.data,
        form.email.data or "",
        form.notes.data or "",
        access_hints=form.access_hints.data or "",
    )
    try:
        appointment = confirm_booking(
            business,
            quote,
            contact,
            now,
            form.language.data,
            source=AppointmentSource.PHONE,
            by=current_user,
        )
    except BookingError as error:
        flash(str(BOOKING_ERRORS[error.code]), "error")
        if error.code in {"slot_taken", "not_bookable"}:
            return _slots_again(business, service, quote.address, 409)
        return redirect(url_for("dispatch.phone_booking"))
    flash(_("Booked by phone for %(name)s.", name=appointment.customer.name), "info")
    if not contact.email:
        flash(_("No email address given: no confirmation was sent."), "info")
    elif queue_email(appointment, "booked", now):
        flash(_("The confirmation was sent to %(email)s.", email=contact.email), "info")
    else:
        flash(_("The confirmation email could not be sent; the booking stands."), "error")
    return redirect(url_for("dispatch.appointment", appointment_id=appointment.id))


def _details(
    business: Business, service: ServiceType, quote: Quote, form: PhoneContactForm, status=200
):
    return render_template(
        "dispatch/phone_details.html", business=business, service=service, quote=quote, form=form
    ), status
