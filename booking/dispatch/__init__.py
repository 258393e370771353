"""Dispatcher pages: the day's routes per technician, and re-planning."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from booking.extensions import db
from booking.models import Business
from booking.services.boards import day_board
from booking.services.clock import local_today, now_utc
from booking.services.planning import replan_day
from booking.services.sheets import SheetLink, sign_sheet
from optimizer.planner import PlanParameters

bp = Blueprint("dispatch", __name__)

REPLAN_MESSAGES = {
    "improved": "",
    "no_improvement": _l("The solver found no better plan; the current plan stays."),
    "would_drop_jobs": _l("The new plan would not keep every promise; the current plan stays."),
    "changed_meanwhile": _l("The day changed while planning; please try again."),
}


@bp.before_request
@login_required
def require_login() -> None:
    """Every dispatcher page needs a logged-in user."""


def my_business() -> Business:
    business = db.session.get(Business, current_user.business_id)
    if business is None:
        abort(404)
    return business


def requested_day(business: Business) -> date:
    """The day asked for, or tomorrow; within ten years either way, so ±1 day never overflows."""
    today = local_today(business, now_utc())
    try:
        asked = date.fromisoformat(request.values.get("day", ""))
    except ValueError:
        return today + timedelta(days=1)
    if abs((asked - today).days) > 3650:
        return today + timedelta(days=1)
    return asked


@bp.get("/")
def day():
    business = my_business()
    shown = requested_day(business)
    secret = current_app.config["SECRET_KEY"]
    board = day_board(business, shown)
    sheets = {
        entry.technician.id: sign_sheet(SheetLink(entry.technician.id, shown), secret)
        for entry in board
    }
    return render_template(
        "dispatch/day.html",
        business=business,
        day=shown,
        board=board,
        sheets=sheets,
        previous_day=shown - timedelta(days=1),
        next_day=shown + timedelta(days=1),
        total_jobs=sum(len(e.stops) for e in board),
        total_meters=sum(e.travel_meters for e in board),
        total_travel_s=sum(e.travel_s for e in board),
        approximate=sum(
            1 for e in board for s in e.stops if s.appointment.geo_precision != "house"
        ),
    )


@bp.post("/replan")
def replan():
    business = my_business()
    shown = requested_day(business)
    outcome = replan_day(
        business, shown, PlanParameters(time_limit_s=current_app.config["SOLVER_TIME_LIMIT_S"])
    )
    if outcome.applied:
        flash(
            _(
                "Plan improved: %(minutes)d minutes and %(km).1f km less driving.",
                minutes=(outcome.travel_before_s - outcome.travel_after_s) // 60,
                km=(outcome.meters_before - outcome.meters_after) / 1000,
            ),
            "info",
        )
    else:
        flash(str(REPLAN_MESSAGES[outcome.reason]), "info")
    return redirect(url_for("dispatch.day", day=shown.isoformat()))
