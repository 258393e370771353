"""The audit log page: who changed what, when, newest first, a page of entries at a time.

Every logged-in user of the firm may read it (dispatchers see who moved what too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template, request
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l

from booking.dispatch import bp, my_business
from booking.services.audit import recent

PER_PAGE = 100

# Action names as the code records them → what people read. An action without a label
# (one added later) shows by its own name rather than not at all.
ACTION_LABELS = {
    # management (this part of the workspace)
    "technician_create": _l("Technician added"),
    "technician_update": _l("Technician changed"),
    "technician_deactivate": _l("Technician deactivated"),
    "technician_activate": _l("Technician reactivated"),
    "absence_add": _l("Absence entered"),
    "absence_remove": _l("Absence removed"),
    "service_create": _l("Service added"),
    "service_update": _l("Service changed"),
    "settings_update": _l("Settings changed"),
    "user_create": _l("Login created"),
    "user_deactivate": _l("Login deactivated"),
    "user_activate": _l("Login reactivated"),
    # day work (the other parts of the workspace)
    "pin": _l("Stop pinned"),
    "unpin": _l("Stop unpinned"),
    "move": _l("Appointment moved"),
    "reoptimise": _l("Day re-optimised"),
    "replan": _l("Day re-optimised"),
    "absence": _l("Technician absent, day re-planned"),
    "emergency": _l("Emergency job inserted"),
    "cancel": _l("Appointment cancelled"),
    "no_show": _l("Customer not met (no-show)"),
    "phone_booking": _l("Appointment booked by phone"),
    "reschedule": _l("Appointment rescheduled"),
    "book": _l("Appointment booked"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def local_time(moment: datetime, zone: str) -> str:
    """ "23.11.2026 10:00" in the firm's time zone (English: "23/11/2026 10:00")."""
    pattern = "dd.MM.y HH:mm" if str(get_locale()) == "de" else "dd/MM/y HH:mm"
    return format_datetime(moment.astimezone(ZoneInfo(zone)), pattern, rebase=False)


def details_text(details: dict[str, Any]) -> str:
    """ "changed: working_hours, skills · retimed_stops: 2"."""
    parts = []
    for key, value in details.items():
        shown = ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else value
        parts.append(f"{key}: {shown}")
    return " · ".join(parts)


@bp.get("/audit")
def audit_log():
    business = my_business()
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and 0 < int(page) <= 100_000 else 1
    # one more than shown: whether there is a next page
    entries = list(recent(business.id, limit=PER_PAGE + 1, offset=(number - 1) * PER_PAGE))
    return render_template(
        "dispatch/manage/audit.html",
        business=business,
        entries=entries[:PER_PAGE],
        page=number,
        has_next=len(entries) > PER_PAGE,
        action_label=action_label,
        local_time=lambda moment: local_time(moment, business.timezone),
        details_text=details_text,
    )
