"""Revoking a technician's route-sheet links (a lost phone, a link sent to the wrong person).

Raising the technician's sheet key makes every link signed before invalid at once; the
day view then signs new links with the new key.
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from booking.dispatch import bp, my_business, requested_day
from booking.extensions import db
from booking.models import Technician
from booking.services import audit


@bp.post("/technicians/<int:technician_id>/revoke-sheets")
def revoke_sheets(technician_id: int):
    business = my_business()
    technician = db.session.get(Technician, technician_id)
    if technician is None or technician.business_id != business.id:
        abort(404)  # another firm's technicians are not even confirmed to exist
    technician.sheet_key += 1
    audit.record(
        business.id,
        current_user,
        "revoke_sheets",
        f"technician {technician.id}",
        key=technician.sheet_key,
    )
    db.session.commit()
    flash(
        _(
            "Every route sheet link of %(name)s is now invalid; the new links are on this page.",
            name=technician.name,
        ),
        "success",
    )
    day = requested_day(business)
    return redirect(url_for("dispatch.day", day=day.isoformat(), _anchor=f"tech-{technician.id}"))
