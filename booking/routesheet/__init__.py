"""Route sheets for technicians, reached by a signed, expiring, revocable link.

The blueprint is public: every view first opens the link (`open_sheet`), and reaches
only that technician's stops on that day. The progress buttons post back to the same
link, so a tap is checked exactly as the page was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from booking.extensions import db
from booking.models import Business, Technician
from booking.services.boards import day_board
from booking.services.clock import hhmm, local_today, now_utc, seconds_of_day
from booking.services.eta import StopState
from booking.services.notices import queue_on_the_way
from booking.services.progress import STEPS, ProgressError, refusal, report
from booking.services.routemap import map_data
from booking.services.sheets import SheetLink, read_sheet

bp = Blueprint("routesheet", __name__)

STEP_LABELS = {
    StopState.PLANNED: _l("Planned"),
    StopState.ON_THE_WAY: _l("On the way"),
    StopState.ARRIVED: _l("Arrived"),
    StopState.DONE: _l("Done"),
    StopState.NOT_HOME: _l("Customer not home"),
}


@bp.app_template_global()
def progress_label(state: str) -> str:
    """A stop's progress in words, for the sheet and the dispatcher's day view."""
    return str(STEP_LABELS[StopState(state)])


@bp.app_template_global()
def reported_at(business: Business, moment: datetime | None) -> str:
    """A reported time as HH:MM on the business's clock; "" when not reported."""
    return "" if moment is None else hhmm(seconds_of_day(business, moment))


@bp.app_template_global()
def next_steps(state: str) -> list[StopState]:
    """The steps the sheet offers after `state`, in the order of the buttons."""
    return [step for step in STEPS if refusal(StopState(state), step) is None]


@dataclass(frozen=True)
class OpenSheet:
    link: SheetLink
    technician: Technician
    business: Business


def open_sheet(token: str) -> OpenSheet:
    """The link's technician and business, or a 404 page "this link is not valid" when it
    is tampered with, expired, revoked (its key is not the technician's current one) or
    names no technician. One answer for every case: a stranger learns nothing."""
    link = read_sheet(
        token,
        current_app.config["SECRET_KEY"],
        current_app.config["SHEET_LINK_TTL_DAYS"] * 86400,
    )
    technician = db.session.get(Technician, link.technician_id) if link else None
    if link is None or technician is None or technician.sheet_key != link.key:
        abort(invalid_link())
    business = db.session.get(Business, technician.business_id)
    assert business is not None
    return OpenSheet(link, technician, business)


def invalid_link() -> Response:
    return make_response(render_template("routesheet/invalid.html", business=None), 404)


@bp.get("/<token>")
def sheet(token: str):
    opened = open_sheet(token)
    technician, business, day = opened.technician, opened.business, opened.link.day
    entry = next((e for e in day_board(business, day) if e.technician.id == technician.id), None)
    if entry is None:  # deactivated since the link was sent, with nothing planned that day
        abort(invalid_link())
    return render_template(
        "routesheet/sheet.html",
        business=business,
        entry=entry,
        day=day,
        token=token,
        today=day == local_today(business, now_utc()),
        steps=STEPS,
        step_labels=STEP_LABELS,
        map_data=map_data(business, [entry]),  # this technician's route only
    )


def _refusal_text(error: ProgressError) -> str:
    match error.code:
        case "not_open":
            return _("This job is no longer open; please ask the office.")
        case "not_today":
            return _("Progress can only be reported on the day of the route.")
        case "finished":
            return _("This job is already finished.")
        case "backwards":
            return _("This job is already further along; a step back is not possible.")
        case "not_arrived":
            return _("Please tap “Arrived” first.")
        case "busy":
            return _(
                "Please finish job %(number)d first (“Done” or “Customer not home”).",
                number=error.number or 0,
            )
        case _:
            return _("This job was changed at the same moment; please try again.")


@bp.post("/<token>/stops/<int:appointment_id>/progress")
def progress(token: str, appointment_id: int):
    opened = open_sheet(token)
    try:
        step = StopState(request.form.get("step", ""))
    except ValueError:
        step = StopState.PLANNED
    if step not in STEPS:
        flash(_("Unknown step; please use the buttons on the sheet."), "error")
        return redirect(url_for(".sheet", token=token))
    now = now_utc()
    try:
        reported = report(
            opened.business, opened.technician, opened.link.day, appointment_id, step, now
        )
    except ProgressError as error:
        if error.code == "not_on_sheet":  # another technician's or firm's stop: not here
            abort(invalid_link())
        flash(_refusal_text(error), "error")
        return redirect(url_for(".sheet", token=token, _anchor=f"stop-{appointment_id}"))
    flash(
        _("%(step)s: saved at %(time)s.", step=STEP_LABELS[step], time=_local_hhmm(opened, now)),
        "success",
    )
    if step == StopState.ON_THE_WAY:
        _notify(opened, reported.appointment.id, now)
    return redirect(url_for(".sheet", token=token, _anchor=f"stop-{appointment_id}"))


def _local_hhmm(opened: OpenSheet, now: datetime) -> str:
    return hhmm(seconds_of_day(opened.business, now))


def _notify(opened: OpenSheet, appointment_id: int, now: datetime) -> None:
    """The customer's notice with the arrival expected now that the technician set off;
    after the commit, and never undoing it."""
    entry = next(
        (
            e
            for e in day_board(opened.business, opened.link.day)
            if e.technician.id == opened.technician.id
        ),
        None,
    )
    if entry is None or appointment_id not in entry.eta:
        return
    stop = next(s for s in entry.stops if s.appointment_id == appointment_id)
    queue_on_the_way(stop.appointment, entry.eta[appointment_id].arrival, now)


# More views on `bp`: the PDF and the calendar feed; imported last because they import bp.
from booking.routesheet import feed, pdf  # noqa: E402,F401
