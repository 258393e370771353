"""Signed, expiring links to a technician's route sheet: no login to type on a phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from itsdangerous import BadSignature, URLSafeTimedSerializer

_SALT = "kombitermin.sheet.v1"


@dataclass(frozen=True, slots=True)
class SheetLink:
    technician_id: int
    day: date


def sign_sheet(link: SheetLink, secret_key: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=_SALT).dumps(
        {"t": link.technician_id, "d": link.day.isoformat()}
    )


def read_sheet(token: str, secret_key: str, max_age_s: int) -> SheetLink | None:
    """The link behind a token, or None when it is tampered with, malformed or expired."""
    try:
        payload = URLSafeTimedSerializer(secret_key, salt=_SALT).loads(token, max_age=max_age_s)
        return SheetLink(int(payload["t"]), date.fromisoformat(payload["d"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
