"""The day view: every technician's route of one day, with its figures."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template

from booking.dispatch import bp, my_business, requested_day
from booking.services.boards import day_board
from booking.services.sheets import SheetLink, sign_sheet


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
