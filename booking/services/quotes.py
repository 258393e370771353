"""Signed quotes: an offered slot with its price, valid for a few minutes.

The quote travels through the customer's browser (or the API client) and comes back at
confirmation; the signature makes its price and slot tamper-proof, the timestamp lets it
expire. No draft is stored server-side.

A quote names the kind of window the customer chose ("slot", "half_day", "day" or "week")
and its price carries the flexibility discount that kind earned. For "week" the quote is
for the concrete day the offer engine chose, with the whole-day window: that is the promise.

A quote for moving a booked appointment names it (`appointment_id`); it moves only that
appointment and books nothing new, and a quote without it moves nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, fields
from datetime import date
from functools import lru_cache
from typing import Any

from booking.services.offering import Address
from optimizer.offers import Offer
from optimizer.pricing import WINDOW_KINDS, PriceBreakdown, WindowKind

# v3: a compact token signed with HMAC-SHA256 (v2 was an itsdangerous serializer). A new
# salt makes every older quote fail its signature check, so it is refused as invalid,
# never half-understood; quotes live minutes, so nobody holds one across a deploy for long.
_SALT = "kombitermin.quote.v3"


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


# The fields in the order the token lists them. A token is a bare JSON array, not an object
# with long keys: the ~70 quotes of one offers answer were a third of its cost.
_ADDRESS_FIELDS = tuple(f.name for f in fields(Address))
_PRICE_FIELDS = tuple(f.name for f in fields(PriceBreakdown))
_LENGTH = 9 + len(_ADDRESS_FIELDS) + len(_PRICE_FIELDS)


@lru_cache(maxsize=4)
def _key(secret_key: str) -> bytes:
    """The quote key, derived from SECRET_KEY once per secret (not once per token): a
    different key from every other token the app signs."""
    return hmac.new(secret_key.encode(), _SALT.encode(), hashlib.sha256).digest()


def _signature(key: bytes, message: bytes) -> bytes:
    return base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()).rstrip(b"=")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class QuoteSigner:
    """Signs the quotes of one answer. The business, service, address and appointment are
    the same in each, so their part of the token is written once, and the rest is plain
    numbers: signing the ~70 quotes of an offers answer one JSON document each was a
    tenth of the answer's cost. `now_s`: the time of signing (tests)."""

    def __init__(
        self,
        secret_key: str,
        business_id: int,
        service_id: int,
        address: Address,
        appointment_id: int | None = None,
        now_s: int | None = None,
    ) -> None:
        self._key = _key(secret_key)
        address_json = _json([getattr(address, name) for name in _ADDRESS_FIELDS])
        self._head = f"[{int(business_id)},{int(service_id)},"
        self._address = address_json[1:-1]
        self._tail = _json(None if appointment_id is None else int(appointment_id))
        signed_at = int(time.time() if now_s is None else now_s)
        self._stamp = _b64(signed_at.to_bytes(5, "big"))

    def sign(self, offer: Offer) -> str:
        return self._sign(
            offer.day, offer.window.start, offer.window.end, offer.price,
            offer.detour_seconds, offer.standalone_seconds, offer.kind,
        )  # fmt: skip

    def _sign(
        self, day: date, start_s: int, end_s: int, price: PriceBreakdown, detour_s: int,
        standalone_s: int, kind: WindowKind,
    ) -> str:  # fmt: skip
        """`payload.timestamp.signature`, each URL-safe base64; the HMAC-SHA256 signature
        covers the payload and the time of signing."""
        if kind not in WINDOW_KINDS:
            raise ValueError(f"kind must be one of {WINDOW_KINDS}, got {kind!r}")
        prices = ",".join(str(int(getattr(price, name))) for name in _PRICE_FIELDS)
        text = (
            f"{self._head}{day.toordinal()},{int(start_s)},{int(end_s)},{self._address},"
            f'{prices},{int(detour_s)},{int(standalone_s)},"{kind}",{self._tail}]'
        )
        message = f"{_b64(text.encode())}.{self._stamp}"
        return f"{message}.{_signature(self._key, message.encode()).decode()}"


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def sign_quote(quote: Quote, secret_key: str, now_s: int | None = None) -> str:
    """The token of one quote (see `QuoteSigner`)."""
    signer = QuoteSigner(
        secret_key, quote.business_id, quote.service_id, quote.address, quote.appointment_id,
        now_s,
    )  # fmt: skip
    return signer._sign(
        quote.day, quote.window_start_s, quote.window_end_s, quote.price, quote.detour_s,
        quote.standalone_s, quote.kind,
    )  # fmt: skip


def read_quote(token: str, secret_key: str, max_age_s: int) -> Quote:
    if not token.isascii() or token.count(".") != 2:
        raise QuoteError("quote_invalid")  # we sign in URL-safe ASCII, in three parts
    message, signature = token.rsplit(".", 1)
    # compare_digest through the module, so its time does not depend on where they differ
    if not hmac.compare_digest(signature.encode(), _signature(_key(secret_key), message.encode())):
        raise QuoteError("quote_invalid")
    payload, stamp = message.split(".")
    try:
        values = json.loads(_unb64(payload))
        signed_s = int.from_bytes(_unb64(stamp), "big")
    except ValueError as error:  # signed by us, so never; but never a 500 either
        raise QuoteError("quote_invalid") from error
    quote = _quote_from(values)
    if quote is None:
        # Signed by us but of another shape: an old quote format.
        raise QuoteError("quote_invalid")
    age_s = int(time.time()) - signed_s  # whole seconds, as itsdangerous counted them
    if not 0 <= age_s <= max_age_s:
        # The signature was good, only too old: its service and address can be offered anew.
        raise QuoteError("quote_expired", quote)
    return quote


def _quote_from(values: Any) -> Quote | None:
    """The quote a token's values list; None for any other shape."""
    if not isinstance(values, list) or len(values) != _LENGTH:
        return None
    head, rest = values[:5], values[5:]
    address = dict(zip(_ADDRESS_FIELDS, rest[: len(_ADDRESS_FIELDS)], strict=True))
    rest = rest[len(_ADDRESS_FIELDS) :]
    price = dict(zip(_PRICE_FIELDS, rest[: len(_PRICE_FIELDS)], strict=True))
    detour_s, standalone_s, kind, appointment_id = rest[len(_PRICE_FIELDS) :]
    if kind not in WINDOW_KINDS:
        return None
    if appointment_id is not None and (
        not isinstance(appointment_id, int) or isinstance(appointment_id, bool)
    ):
        return None
    try:
        return Quote(
            business_id=int(head[0]),
            service_id=int(head[1]),
            day=date.fromordinal(head[2]),
            window_start_s=int(head[3]),
            window_end_s=int(head[4]),
            address=Address(**address),
            price=PriceBreakdown(**price),
            detour_s=int(detour_s),
            standalone_s=int(standalone_s),
            kind=kind,
            appointment_id=appointment_id,
        )
    except (TypeError, ValueError, OverflowError):
        return None
