"""Signed, expiring links to a technician's route sheet: no login to type on a phone.

Each link carries the technician's `sheet_key` at signing. A dispatcher who revokes the
links raises the key (booking/dispatch/sheet_links.py), and every link signed before no
longer matches: revoking needs no table of issued links.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from itsdangerous import BadSignature, URLSafeTimedSerializer

_SALT = "kombitermin.sheet.v1"


@dataclass(frozen=True, slots=True)
class SheetLink:
    technician_id: int
    day: date
    # the technician's sheet_key when the link was signed; 0 until the first revocation
    key: int = 0


def sign_sheet(link: SheetLink, secret_key: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=_SALT).dumps(
        {"t": link.technician_id, "d": link.day.isoformat(), "k": link.key}
    )


def read_sheet(token: str, secret_key: str, max_age_s: int) -> SheetLink | None:
    """The link behind a token, or None when it is tampered with, malformed or expired.

    Whether it is still valid (its key is the technician's current one) is for the caller
    to check against the row: see booking.routesheet.open_sheet. Links signed before keys
    existed carry none and count as key 0."""
    try:
        payload = URLSafeTimedSerializer(secret_key, salt=_SALT).loads(token, max_age=max_age_s)
        return SheetLink(
            int(payload["t"]), date.fromisoformat(payload["d"]), int(payload.get("k", 0))
        )
    except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
        return None
