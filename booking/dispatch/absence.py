"""A technician is absent (ill) for a day: hand their jobs on, shown before it applies."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from booking.dispatch import bp, my_business, requested_day
from booking.extensions import db
from booking.models import Technician
from booking.services.absences import AbsenceError, start_absence
from booking.services.dayplans import worker_for_day
from booking.validation import plain_text, strip


class AbsenceForm(FlaskForm):
    reason = StringField(
        _l("Reason (for the log, not shown to customers)"),
        filters=[strip],
        validators=[Length(max=200, message=_l("At most 200 characters, please.")), plain_text],
    )


@bp.route("/absence/<int:technician_id>", methods=["GET", "POST"])
def absence(technician_id: int):
    business = my_business()
    technician = db.session.get(Technician, technician_id)
    if technician is None or technician.business_id != business.id:
        abort(404)
    day = requested_day(business)
    form = AbsenceForm()
    working = worker_for_day(technician, day) is not None
    if request.method == "POST" and working and form.validate_on_submit():
        try:
            proposal = start_absence(
                business,
                day,
                technician,
                form.reason.data or "",
                current_user,
                current_app.config["SOLVER_TIME_LIMIT_S"],
            )
        except AbsenceError as error:
            if error.code == "started":
                flash(
                    _(
                        "%(name)s has already reported progress today: move the remaining "
                        "stops one by one instead.",
                        name=technician.name,
                    ),
                    "error",
                )
                return redirect(url_for("dispatch.day", day=day.isoformat()))
            working = False
        else:
            return redirect(url_for("dispatch.proposal", proposal_id=proposal.id))
    status = 200 if working and not form.errors else 422
    return render_template(
        "dispatch/absence.html",
        business=business,
        technician=technician,
        day=day,
        form=form,
        working=working,
    ), status
