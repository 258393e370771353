"""Quote tokens: `payload.timestamp.signature`, HMAC-SHA256 over the first two parts. Every
field comes back as signed; a changed payload or time, another secret, an older format
and a token past its age are refused."""

from __future__ import annotations

import base64
import json
import time
from datetime import date

import pytest
from itsdangerous import URLSafeTimedSerializer

from booking.services.offering import Address
from booking.services.quotes import Quote, QuoteError, QuoteSigner, read_quote, sign_quote
from optimizer.domain import TimeWindow
from optimizer.offers import Offer
from optimizer.pricing import PriceBreakdown

SECRET = "quote-secret"
QUOTE = Quote(
    business_id=3,
    service_id=7,
    day=date(2026, 11, 24),
    window_start_s=8 * 3600,
    window_end_s=10 * 3600,
    address=Address("Breiter Weg 5", "39104", "Magdeburg", 52.1245, 11.6341, "house"),
    price=PriceBreakdown(9900, 1500, 800, 10100, 42, 500),  # 9900 + 1500 - 800 - 500
    detour_s=300,
    standalone_s=1200,
    kind="half_day",
    appointment_id=11,
)


def now() -> int:
    """The time of signing, read when a test runs (not at import: the suite takes minutes)."""
    return int(time.time())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_quote_comes_back_with_every_field() -> None:
    token = sign_quote(QUOTE, SECRET, now())
    assert token.isascii() and token.count(".") == 2
    assert read_quote(token, SECRET, 900) == QUOTE


def test_one_signer_signs_each_offer_of_an_answer_as_sign_quote_does() -> None:
    """The signer writes the shared part once; each token equals the one-quote function's,
    for the same time of signing, and reads back as that offer's quote. An umlaut in the
    street and a new appointment (no id) survive too."""
    address = Address("Große Straße 1", "39104", "Magdeburg", 52.1, 11.6, "postcode")
    offers = [
        Offer(
            day=date(2026, 11, 24 + n),
            window=TimeWindow(8 * 3600, 10 * 3600),
            technician_id="1",
            position=n,
            planned_start=8 * 3600,
            detour_seconds=60 * n,
            standalone_seconds=900,
            nearest_stop_meters=None,
            price=PriceBreakdown(8900, 500, 100 * n, 9400 - 100 * n, n),
            kind="slot",
        )
        for n in range(3)
    ]
    signed_at = now()
    signer = QuoteSigner(SECRET, 3, 7, address, None, signed_at)
    for offer in offers:
        token = signer.sign(offer)
        quote = Quote.from_offer(3, 7, address, offer)
        assert token == sign_quote(quote, SECRET, signed_at)
        assert read_quote(token, SECRET, 900) == quote


def test_a_changed_price_under_the_old_signature_is_invalid() -> None:
    """The total lowered by 1000 cents (and the base with it, so the price is consistent),
    the payload re-encoded, the signature kept: refused."""
    payload, stamp, signature = sign_quote(QUOTE, SECRET, now()).split(".")
    values = json.loads(unb64(payload))
    assert values[11:17] == [9900, 1500, 800, 10100, 42, 500]
    values[11], values[14] = 8900, 9100
    forged = f"{b64(json.dumps(values).encode())}.{stamp}.{signature}"
    with pytest.raises(QuoteError) as refused:
        read_quote(forged, SECRET, 900)
    assert refused.value.code == "quote_invalid"


def test_a_later_time_under_the_old_signature_is_invalid() -> None:
    """Moving the time of signing forward would stretch a quote's life: refused."""
    payload, _, signature = sign_quote(QUOTE, SECRET, now() - 1000).split(".")
    later = b64(now().to_bytes(5, "big"))
    with pytest.raises(QuoteError) as refused:
        read_quote(f"{payload}.{later}.{signature}", SECRET, 900)
    assert refused.value.code == "quote_invalid"


@pytest.mark.parametrize(
    "token",
    [
        sign_quote(QUOTE, "another-secret", now()),
        # the v2 format: an itsdangerous serializer over a JSON object
        URLSafeTimedSerializer(SECRET, salt="kombitermin.quote.v2").dumps({"kind": "slot"}),
        "not-a-quote",
        "a.b.c",
        "",
    ],
)
def test_tokens_not_signed_by_us_in_this_format_are_invalid(token: str) -> None:
    with pytest.raises(QuoteError) as refused:
        read_quote(token, SECRET, 900)
    assert refused.value.code == "quote_invalid"


def test_a_quote_older_than_its_age_is_expired_and_still_names_its_job() -> None:
    """Signed 901 s ago with 900 s to live: expired, and the quote is handed back so its
    service and address can be offered anew; signed 890 s ago, still good."""
    with pytest.raises(QuoteError) as refused:
        read_quote(sign_quote(QUOTE, SECRET, now() - 901), SECRET, 900)
    assert refused.value.code == "quote_expired"
    assert refused.value.expired == QUOTE
    assert read_quote(sign_quote(QUOTE, SECRET, now() - 890), SECRET, 900) == QUOTE
