"""The day view: every technician's route of one day as timeline, map and list, with the
day's key figures."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l

from booking.dispatch import bp, my_business, requested_day
from booking.services.boards import day_board, day_figures
from booking.services.problems import describe
from booking.services.routemap import map_data
from booking.services.sheets import SheetLink, sign_sheet
from booking.services.timeline import SegmentKind, axis_for
from booking.services.weeks import monday_of

SEGMENT_LABELS = {
    SegmentKind.TRAVEL: _l("Driving"),
    SegmentKind.SERVICE: _l("Service"),
    SegmentKind.WAIT: _l("Waiting"),
    SegmentKind.LUNCH: _l("Lunch"),
}


@bp.app_template_global()
def segment_label(kind: SegmentKind) -> str:
    """A timeline segment's name, for its hover title."""
    return str(SEGMENT_LABELS[kind])


@bp.get("/")
def day():
    business = my_business()
    shown = requested_day(business)
    secret = current_app.config["SECRET_KEY"]
    board = day_board(business, shown)
    sheets = {
        entry.technician.id: sign_sheet(
            SheetLink(entry.technician.id, shown, entry.technician.sheet_key), secret
        )
        for entry in board
    }
    figures = day_figures(business, shown, board)
    technicians = {entry.technician.id: entry.technician for entry in board}
    appointments = {stop.appointment_id: stop.appointment for e in board for stop in e.stops}
    violations = {
        entry.technician.id: [describe(v, technicians, appointments) for v in entry.violations]
        for entry in board
    }
    return render_template(
        "dispatch/day.html",
        business=business,
        day=shown,
        board=board,
        violations=violations,
        sheets=sheets,
        figures=figures,
        axis=axis_for(e.timeline for e in board if e.timeline is not None),
        map_data=map_data(business, board),
        week_start=monday_of(shown),
        previous_day=shown - timedelta(days=1),
        next_day=shown + timedelta(days=1),
        # kept for templates and helpers written against the first day view
        total_jobs=figures.jobs,
        total_meters=figures.travel_meters,
        total_travel_s=figures.travel_s,
        approximate=figures.approximate,
    )
