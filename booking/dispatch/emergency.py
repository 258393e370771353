"""Emergency job (Notdienst) by phone: the best position now, shown before it applies."""

from __future__ import annotations

import logging

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Optional, Regexp

from booking import fields
from booking.dispatch import bp, my_business, requested_day
from booking.extensions import db
from booking.models import Business, ServiceType
from booking.services.addresses import AddressNotFound, locate
from booking.services.clock import hhmm, local_today, now_utc, seconds_of_day
from booking.services.emergency import Caller, emergency_plan
from booking.services.geocoding import GeocoderUnavailable
from booking.services.proposals import ProposalKind, propose
from booking.validation import email_address, strip
from optimizer.domain import TimeWindow

logger = logging.getLogger(__name__)

H = 3600
DEFAULT_REACH_S = 2 * H  # "within two hours": what a Notdienst usually promises
TIME = r"^([01]\d|2[0-3]):[0-5]\d$"


class EmergencyForm(FlaskForm):
    service = SelectField(_l("Service"), coerce=int)
    name = fields.person_name(_l("Please enter the name."))
    phone = fields.phone()
    email = StringField(
        _l("Email (optional, for the confirmation)"), filters=[strip],
        validators=[Optional(), email_address],
    )
    street = fields.street(_l("Please enter the street."))
    postcode = fields.postcode(_l("Please enter the postcode."))
    city = fields.city(_l("Please enter the city."))
    arrive_from = StringField(
        _l("Arrival from"), filters=[strip],
        validators=[DataRequired(), Regexp(TIME, message=_l("A time like 14:30, please."))],
    )
    arrive_until = StringField(
        _l("Arrival until"), filters=[strip],
        validators=[DataRequired(), Regexp(TIME, message=_l("A time like 14:30, please."))],
    )
    notes = fields.notes(_l("What is wrong"))


def _seconds(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * H + int(minutes) * 60


def _services(business: Business) -> list[ServiceType]:
    return [s for s in business.services if s.active]


@bp.route("/emergency", methods=["GET", "POST"])
def emergency():
    business = my_business()
    now = now_utc()
    today = local_today(business, now)
    day = requested_day(business) if request.values.get("day") else today
    form = EmergencyForm()
    form.service.choices = [(s.id, s.name_de) for s in _services(business)]
    if request.method == "GET":
        start = seconds_of_day(business, now) if day == today else 8 * H
        start = min(start - start % 900 + 900, 24 * H - DEFAULT_REACH_S)  # next quarter hour
        form.arrive_from.data = hhmm(start)
        form.arrive_until.data = hhmm(start + DEFAULT_REACH_S)
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        status = 422
        window_start, window_end = _seconds(form.arrive_from.data), _seconds(form.arrive_until.data)
        service = next(s for s in _services(business) if s.id == form.service.data)
        if window_end <= window_start:
            form.arrive_until.errors = [_("The window must end after it starts.")]
        elif day < today:
            flash(_("That day is over; choose today or a later day."), "error")
        else:
            try:
                address = locate(form.street.data, form.postcode.data, form.city.data)
            except AddressNotFound:
                form.postcode.errors = [_("We could not find this address. Please check it.")]
            except GeocoderUnavailable:
                flash(_("The address search is not reachable right now; please retry."), "error")
                status = 503
            else:
                caller = Caller(
                    form.name.data, form.phone.data, form.email.data or "", form.notes.data or ""
                )
                try:
                    plan = emergency_plan(
                        business, day, service, address, TimeWindow(window_start, window_end),
                        caller, now,
                    )
                except Exception as error:  # a planner bug must not become a 500
                    db.session.rollback()
                    # The kind of error only: the caller's name and address stay out of logs.
                    logger.error("planning an emergency failed: %s", type(error).__name__)
                    flash(_("Planning failed; nothing was changed. Please try again."), "error")
                    status = 503
                else:
                    if plan is None:
                        flash(
                            _(
                                "No technician can reach this address in that window without "
                                "breaking another promise. Widen the window or choose another "
                                "day."
                            ),
                            "error",
                        )
                    else:
                        proposal = propose(
                            business, day, ProposalKind.EMERGENCY, plan, current_user
                        )
                        return redirect(url_for("dispatch.proposal", proposal_id=proposal.id))
    elif request.method == "POST":
        status = 422
    return render_template(
        "dispatch/emergency.html", business=business, form=form, day=day, today=today
    ), status
