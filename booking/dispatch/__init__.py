"""Dispatcher pages: one module per part of the workspace, all on this blueprint.

Every page needs a logged-in user and shows only that user's business.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from booking.extensions import db
from booking.models import Business
from booking.services.clock import local_today, now_utc

bp = Blueprint("dispatch", __name__)


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


# The views register themselves on `bp`; imported last because they import from here.
from booking.dispatch import (  # noqa: E402,F401
    absence,
    appointments,
    auditlog,
    catalogue,
    day,
    emergency,
    navigation,
    phone,
    proposals,
    settings,
    sheet_links,
    sheets_pdf,
    technicians,
    users,
    week,
)
