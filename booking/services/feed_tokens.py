"""Signed links to a technician's calendar feed: subscribed once on the phone, so they do
not expire. The token names the technician and their sheet key: revoking the technician's
route-sheet links (a lost phone) raises the key and ends the feed links too. Everything
else is read fresh on every fetch."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

# Its own salt: a route-sheet token is never a valid feed token, nor the other way round.
_SALT = "kombitermin.feed.v1"


@dataclass(frozen=True, slots=True)
class FeedLink:
    technician_id: int
    key: int = 0  # Technician.sheet_key when it was signed


def sign_feed(link: FeedLink, secret_key: str) -> str:
    return URLSafeSerializer(secret_key, salt=_SALT).dumps({"t": link.technician_id, "k": link.key})


def read_feed(token: str, secret_key: str) -> FeedLink | None:
    """The link behind a token, or None when it is tampered with or malformed."""
    try:
        payload = URLSafeSerializer(secret_key, salt=_SALT).loads(token)
        technician_id, key = payload["t"], payload.get("k", 0)
    except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
        return None
    for number in (technician_id, key):
        if not isinstance(number, int) or isinstance(number, bool):
            return None
    return FeedLink(technician_id, key)
