"""The week overview: capacity and utilisation per technician and day."""

from __future__ import annotations

from datetime import date, timedelta

from flask import render_template, request

from booking.dispatch import bp, my_business
from booking.models import Business
from booking.services.clock import local_today, now_utc
from booking.services.weeks import monday_of, week_board


def requested_monday(business: Business) -> date:
    """The Monday of ?start=YYYY-MM-DD, or of this week; within ten years, as the day view."""
    today = local_today(business, now_utc())
    try:
        asked = date.fromisoformat(request.args.get("start", ""))
    except ValueError:
        asked = today
    if abs((asked - today).days) > 3650:
        asked = today
    return monday_of(asked)


@bp.get("/week")
def week():
    business = my_business()
    monday = requested_monday(business)
    return render_template(
        "dispatch/week.html",
        business=business,
        board=week_board(business, monday),
        previous_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
    )
