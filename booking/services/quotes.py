"""Signed quotes: an offered slot with its price, valid for a few minutes.

The quote travels through the customer's browser (or the API client) and comes back at
confirmation; the signature makes its price and slot tamper-proof, the timestamp lets it
expire. No draft is stored server-side.

A quote names the kind of window the customer chose ("slot", "half_day", "day" or "week")
and its price carries the flexibility discount that kind earned. For "week" the quote is
for the concrete day the offer engine chose, with the whole-day window: that is the promise.

A quote for moving a booked appointment names it (`appointment_id`); it moves only that
appointment and books nothing new, and a quote without it moves nothing. Quotes signed
before the field existed lack it: they are quotes for new bookings, as they always were.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from booking.services.offering import Address
from optimizer.offers import Offer
from optimizer.pricing import WINDOW_KINDS, PriceBreakdown, WindowKind

# v2: quotes carry the window kind and the flexibility discount. A new salt makes every
# v1 quote fail its signature check, so it is refused as invalid, never half-understood.
_SALT = "kombitermin.quote.v2"


class QuoteError(Exception):
    def __init__(self, code: str, expired: Quote | None = None) -> None:
        super().__init__(code)
        self.code = code  # "quote_expired" or "quote_invalid"
        # An expired quote was still signed by us: its service and address can be offered anew.
        self.expired = expired


@dataclass(frozen=True, slots=True)
class Quote:
    business_id: int
    service_id: int
    day: date
    window_start_s: int
    window_end_s: int
    address: Address
    price: PriceBreakdown
    detour_s: int
    standalone_s: int
    kind: WindowKind = "slot"
    appointment_id: int | None = None  # set: a quote for moving this appointment

    @classmethod
    def from_offer(
        cls,
        business_id: int,
        service_id: int,
        address: Address,
        offer: Offer,
        appointment_id: int | None = None,
    ) -> Quote:
        return cls(
            business_id=business_id,
            service_id=service_id,
            day=offer.day,
            window_start_s=offer.window.start,
            window_end_s=offer.window.end,
            address=address,
            price=offer.price,
            detour_s=offer.detour_seconds,
            standalone_s=offer.standalone_seconds,
            kind=offer.kind,
            appointment_id=appointment_id,
        )


@lru_cache(maxsize=4)
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def sign_quote(quote: Quote, secret_key: str) -> str:
    # Field by field rather than dataclasses.asdict, whose deep copy was the larger part
    # of signing the ~70 quotes of one offers answer. The same payload either way.
    payload = {
        "business_id": quote.business_id,
        "service_id": quote.service_id,
        "day": quote.day.isoformat(),
        "window_start_s": quote.window_start_s,
        "window_end_s": quote.window_end_s,
        "address": _fields(quote.address),
        "price": _fields(quote.price),
        "detour_s": quote.detour_s,
        "standalone_s": quote.standalone_s,
        "kind": quote.kind,
        "appointment_id": quote.appointment_id,
    }
    return _serializer(secret_key).dumps(payload)


def _fields(value: Any) -> dict[str, Any]:
    """A flat dataclass of plain values as a dict (Address, PriceBreakdown)."""
    return {f.name: getattr(value, f.name) for f in fields(value)}


def read_quote(token: str, secret_key: str, max_age_s: int) -> Quote:
    if not token.isascii():  # we sign in URL-safe ASCII; anything else cannot be ours
        raise QuoteError("quote_invalid")
    serializer = _serializer(secret_key)
    try:
        payload: dict[str, Any] = serializer.loads(token, max_age=max_age_s)
    except SignatureExpired as error:
        # The signature was good, only too old: itsdangerous hands back the raw payload.
        expired = None
        if error.payload is not None:
            raw = serializer.load_payload(error.payload)
            expired = _quote_from(raw) if isinstance(raw, dict) else None
        raise QuoteError("quote_expired", expired) from error
    except BadSignature as error:
        raise QuoteError("quote_invalid") from error
    quote = _quote_from(payload)
    if quote is None:
        # Signed by us but of another shape: an old quote format.
        raise QuoteError("quote_invalid")
    return quote


def _quote_from(payload: dict[str, Any]) -> Quote | None:
    kind = payload.get("kind")
    if kind not in WINDOW_KINDS:
        return None
    appointment_id = payload.get("appointment_id")
    if appointment_id is not None and (
        not isinstance(appointment_id, int) or isinstance(appointment_id, bool)
    ):
        return None
    try:
        return Quote(
            business_id=int(payload["business_id"]),
            service_id=int(payload["service_id"]),
            day=date.fromisoformat(payload["day"]),
            window_start_s=int(payload["window_start_s"]),
            window_end_s=int(payload["window_end_s"]),
            address=Address(**payload["address"]),
            price=PriceBreakdown(**payload["price"]),
            detour_s=int(payload["detour_s"]),
            standalone_s=int(payload["standalone_s"]),
            kind=kind,
            appointment_id=appointment_id,
        )
    except (KeyError, TypeError, ValueError):
        return None
