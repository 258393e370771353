"""Rate limits on the booking endpoints (Flask-Limiter), per client address: the address
and slot search, the API's offers and geocode, and the offers for a move share one budget
(RATELIMIT_SEARCH); confirming, booking, moving and cancelling share another
(RATELIMIT_BOOKING). Over a limit, the
API answers 429 JSON with the code "rate_limited", the pages a 429 page in the visitor's
language; both say when to try again (Retry-After).

The other tests run with rate limits off (tests/conftest.py); these build an app with them
on and small budgets: 3 searches and 2 bookings an hour.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import refresh
from sqlalchemy import select

from booking.config import config_from_env
from booking.extensions import db
from booking.models import Business
from tests.booking.pages import ADDRESS, CONTACT, count
from tests.conftest import make_app
from tests.factories import make_business

API = "/api/v1"
HOUR_S = 3600


@pytest.fixture
def limited(app: Flask, migrated: dict[str, object]) -> Iterator[Flask]:
    """An app with rate limits on, sharing the `app` fixture's database (and its cleanup)."""
    make_business()
    web = make_app(
        {
            **migrated,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_SEARCH": "3 per hour",
            "RATELIMIT_BOOKING": "2 per hour",
        }
    )
    yield web
    dispose(web)


def dispose(web: Flask) -> None:
    """Close the extra app's database connections (PostgreSQL warns about open ones)."""
    with web.app_context():
        db.session.remove()
        db.engine.dispose()


def client_of(web: Flask, address: str = "192.0.2.1") -> FlaskClient:
    """A test client that comes from `address` (a documentation address by default)."""
    client = web.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def get_slots(web: Flask, client: FlaskClient, **query: str):
    with web.app_context():
        return client.get("/book/tap/slots", query_string={**ADDRESS, **query})


def post(web: Flask, client: FlaskClient, path: str, **kwargs: Any):
    with web.app_context():
        return client.post(path, **kwargs)


def assert_retry_after(response) -> int:
    seconds = int(response.headers["Retry-After"])
    assert 0 < seconds <= HOUR_S
    return seconds


def test_the_slot_search_is_limited_with_a_german_page(limited: Flask) -> None:
    """Three searches pass; the fourth is 429 with a German page that says how long to
    wait, offers the phone number, and sets Retry-After."""
    client = client_of(limited)
    for _ in range(3):
        assert get_slots(limited, client).status_code == 200
    response = get_slots(limited, client)
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert "Zu viele Anfragen" in html
    assert f"Bitte warten Sie {assert_retry_after(response)} Sekunden" in html
    assert "0391 000 111" in html


def test_the_limit_page_names_the_firm_of_the_host(limited: Flask) -> None:
    """With a second firm on its own host, the 429 page there gives that firm's phone
    number, not the first firm's."""
    with limited.app_context():
        make_business("harz")
        harz = db.session.scalars(select(Business).where(Business.slug == "harz")).one()
        harz.host, harz.phone = "termine.harz.example", "03943 222 333"
        db.session.commit()
    client = client_of(limited)
    for _ in range(4):
        with limited.app_context():
            response = client.get(
                "/book/tap/slots", query_string=ADDRESS, base_url="http://termine.harz.example"
            )
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "03943 222 333" in html and "0391 000 111" not in html


def test_the_limit_page_speaks_english(limited: Flask) -> None:
    client = client_of(limited)
    for _ in range(3):
        get_slots(limited, client, lang="en")
    with limited.app_context():
        response = client.get("/book/tap/slots", query_string={**ADDRESS, "lang": "en"})
        html = response.get_data(as_text=True)
        refresh()
    assert response.status_code == 429
    assert "Too many requests" in html


def test_the_api_answers_429_json_and_shares_the_search_budget(limited: Flask) -> None:
    """Two offers and one geocode use up the search budget of 3; the next geocode and the
    next offers are 429 JSON rate_limited with retry_after_s and Retry-After, and so is the
    slot page: the budget is shared."""
    client = client_of(limited)
    body = {"service": "tap", **ADDRESS}
    assert post(limited, client, f"{API}/offers", json=body).status_code == 200
    assert post(limited, client, f"{API}/offers", json=body).status_code == 200
    assert post(limited, client, f"{API}/geocode", json=ADDRESS).status_code == 200
    for path in ("/geocode", "/offers"):
        response = post(limited, client, API + path, json=body)
        assert response.status_code == 429
        assert response.mimetype == "application/json"
        error = response.get_json()["error"]
        assert error["code"] == "rate_limited"
        assert error["retry_after_s"] == assert_retry_after(response)
        assert error["message"]
    assert get_slots(limited, client).status_code == 429


def test_bad_requests_count_too(limited: Flask) -> None:
    """Refused input is no way around the limit: three invalid geocode requests (422) use
    the budget, the fourth is 429."""
    client = client_of(limited)
    for _ in range(3):
        assert post(limited, client, f"{API}/geocode", json={}).status_code == 422
    assert post(limited, client, f"{API}/geocode", json={}).status_code == 429


def test_bookings_have_their_own_budget(limited: Flask) -> None:
    """With the search budget used up, booking still works: confirm on the pages and
    bookings in the API share a budget of 2; the third is 429 and stores nothing."""
    client = client_of(limited)
    for _ in range(3):
        get_slots(limited, client)
    assert get_slots(limited, client).status_code == 429
    with limited.app_context():
        confirm = client.post("/book/confirm", data={"quote": "not-a-quote", **CONTACT})
    assert confirm.status_code == 302  # an invalid offer: back to the start page
    bad = post(limited, client, f"{API}/bookings", json={"quote": "x", **CONTACT})
    assert bad.status_code == 422
    third = post(limited, client, f"{API}/bookings", json={"quote": "x", **CONTACT})
    assert third.status_code == 429
    assert third.get_json()["error"]["code"] == "rate_limited"
    from booking.models import Appointment

    with limited.app_context():
        assert count(Appointment) == 0


def test_cancelling_is_limited(limited: Flask) -> None:
    """Cancelling (pages and API) is in the booking budget: guessing manage links is slow."""
    client = client_of(limited)
    assert post(limited, client, "/appointment/unknown-token/cancel").status_code == 404
    assert post(limited, client, f"{API}/appointments/unknown-token/cancel").status_code == 404
    response = post(limited, client, "/appointment/unknown-token/cancel")
    assert response.status_code == 429


def test_moving_is_limited(limited: Flask) -> None:
    """Offers for a move are searches; the move itself is in the booking budget."""
    client = client_of(limited)
    offers = f"{API}/appointments/unknown-token/offers"
    for _ in range(3):
        assert post(limited, client, offers, json={}).status_code == 404
    assert post(limited, client, offers, json={}).status_code == 429
    move = f"{API}/appointments/unknown-token/reschedule"
    for _ in range(2):
        assert post(limited, client, move, json={"quote": "x"}).status_code == 404
    assert post(limited, client, "/appointment/unknown-token/reschedule").status_code == 429


def test_each_client_address_has_its_own_budget(limited: Flask) -> None:
    """Another client address gets its own three searches."""
    first = client_of(limited)
    second = client_of(limited, "192.0.2.7")
    for _ in range(3):
        get_slots(limited, first)
    assert get_slots(limited, first).status_code == 429
    assert get_slots(limited, second).status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_client_counts(
    app: Flask, migrated: dict[str, object]
) -> None:
    """TRUSTED_PROXIES=1: requests through the same proxy from two clients (named in
    X-Forwarded-For) are counted apart; without it they would share the proxy's budget."""
    make_business()
    web = make_app({**migrated, "RATELIMIT_ENABLED": True, "RATELIMIT_SEARCH": "1 per hour",
                    "TRUSTED_PROXIES": 1})  # fmt: skip
    client = web.test_client()
    for forwarded, status in (("198.51.100.1", 200), ("198.51.100.1", 429),
                              ("198.51.100.2", 200)):  # fmt: skip
        with web.app_context():
            response = client.get(
                "/book/tap/slots", query_string=ADDRESS, headers={"X-Forwarded-For": forwarded}
            )
        assert response.status_code == status, forwarded
    dispose(web)


def test_this_machine_is_counted_too(limited: Flask) -> None:
    """Requests from 127.0.0.1 count like any other: a proxy on the same host that
    TRUSTED_PROXIES does not name must not switch the limits off (3 searches an hour)."""
    client = client_of(limited, "127.0.0.1")
    statuses = [get_slots(limited, client).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_limits_are_off_in_the_other_tests(client: FlaskClient) -> None:
    """The test config turns rate limits off: 40 geocode requests all succeed."""
    make_business()
    for _ in range(40):
        assert client.post(f"{API}/geocode", json=ADDRESS).status_code == 200


def test_the_defaults_and_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """On by default, in memory, 30 searches and 10 bookings a minute; each can be set
    through the environment (a redis:// storage for several processes, e.g.)."""
    for name in ("RATELIMIT_ENABLED", "RATELIMIT_STORAGE_URI", "RATELIMIT_SEARCH",
                 "RATELIMIT_BOOKING", "TRUSTED_PROXIES"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    config = config_from_env(str(tmp_path))
    assert (
        config["RATELIMIT_ENABLED"],
        config["RATELIMIT_STORAGE_URI"],
        config["RATELIMIT_SEARCH"],
        config["RATELIMIT_BOOKING"],
        config["TRUSTED_PROXIES"],
    ) == (True, "memory://", "30 per minute", "10 per minute", 0)
    monkeypatch.setenv("RATELIMIT_ENABLED", "0")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379")
    monkeypatch.setenv("RATELIMIT_BOOKING", "5 per minute; 20 per hour")
    config = config_from_env(str(tmp_path))
    assert config["RATELIMIT_ENABLED"] is False
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379"
    assert config["RATELIMIT_BOOKING"] == "5 per minute; 20 per hour"
