"""The route sheet as a PDF for printing, behind the same signed link as the page."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask import Response, abort
from flask_babel import get_locale

from booking.models import Business
from booking.routesheet import bp, invalid_link, open_sheet
from booking.services.boards import TechnicianDay, day_board
from booking.services.sheet_pdf import sheet_data, sheet_pdf


def pdf_filename(day: date, name: str | None = None) -> str:
    """ "tourenzettel-2026-11-24-anna-wasser.pdf": ASCII only, so every browser keeps it."""
    parts = ["tourenzettel", day.isoformat()]
    if name:
        ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
        if slug:
            parts.append(slug)
    return "-".join(parts) + ".pdf"


def pdf_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="application/pdf")
    # inline: the phone opens it in its viewer, from where it prints or saves
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"  # customer data
    return response


def _sheet_entry(token: str) -> tuple[Business, TechnicianDay, date]:
    """The board entry a route-sheet token opens, or 404: the page's own checks, revocation
    included."""
    opened = open_sheet(token)
    business, technician, day = opened.business, opened.technician, opened.link.day
    entry = next((e for e in day_board(business, day) if e.technician.id == technician.id), None)
    if entry is None:
        abort(invalid_link())
    return business, entry, day


@bp.get("/<token>.pdf")
def sheet_pdf_file(token: str):
    business, entry, day = _sheet_entry(token)
    body = sheet_pdf(sheet_data(business, day, entry, str(get_locale())))
    return pdf_response(body, pdf_filename(day, entry.technician.name))
