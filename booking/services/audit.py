"""The audit log: who changed what, when. One row per change a person made.

`record` adds the row to the session of the change itself, so the entry commits (or rolls
back) with what it describes: there is never an entry for a change that did not happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEntry, User


def record(
    business_id: int, user: User | None, action: str, subject: str, **details: Any
) -> AuditEntry:
    """Log `action` on `subject` ("appointment 17") by `user` (None: customer or system).

    `details` must be JSON-serialisable: ids, days as ISO strings, minutes, short reasons.
    Personal data (names, phone numbers, addresses) stays out: the log outlives erasure.
    """
    entry = AuditEntry(
        business_id=business_id,
        user_id=user.id if user is not None else None,
        action=action,
        subject=subject,
        details=details,
    )
    db.session.add(entry)
    return entry


def recent(business_id: int, limit: int = 200, offset: int = 0) -> Sequence[AuditEntry]:
    """The business's latest entries, newest first."""
    return db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.business_id == business_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
