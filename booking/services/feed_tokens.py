"""Signed links to a technician's calendar feed: subscribed once on the phone, so they do
not expire. The token names only the technician; everything else is read fresh on every
fetch. Kept in one place so a revocation check (a key version per technician) can be added
here without touching the routes."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

# Its own salt: a route-sheet token is never a valid feed token, nor the other way round.
_SALT = "kombitermin.feed.v1"


def sign_feed(technician_id: int, secret_key: str) -> str:
    return URLSafeSerializer(secret_key, salt=_SALT).dumps({"t": technician_id})


def read_feed(token: str, secret_key: str) -> int | None:
    """The technician's id behind a token, or None when it is tampered with or malformed."""
    try:
        payload = URLSafeSerializer(secret_key, salt=_SALT).loads(token)
        technician_id = payload["t"]
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if not isinstance(technician_id, int) or isinstance(technician_id, bool):
        return None
    return technician_id
