"""Route sheets for technicians, reached by a signed, expiring link."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from booking.extensions import db
from booking.models import Business, Technician
from booking.services.boards import day_board
from booking.services.sheets import read_sheet

bp = Blueprint("routesheet", __name__)


@bp.get("/<token>")
def sheet(token: str):
    link = read_sheet(
        token,
        current_app.config["SECRET_KEY"],
        current_app.config["SHEET_LINK_TTL_DAYS"] * 86400,
    )
    technician = db.session.get(Technician, link.technician_id) if link else None
    if link is None or technician is None:
        abort(404)
    business = db.session.get(Business, technician.business_id)
    assert business is not None
    entry = next(
        (e for e in day_board(business, link.day) if e.technician.id == technician.id), None
    )
    if entry is None:  # deactivated since the link was sent, with nothing planned that day
        abort(404)
    return render_template("routesheet/sheet.html", business=business, entry=entry, day=link.day)


# More views on `bp`: the PDF and the calendar feed; imported last because they import bp.
from booking.routesheet import feed, pdf  # noqa: E402,F401
