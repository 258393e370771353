"""The JSON API for website widgets: the booking flow as JSON, and every error as JSON with
a machine-readable code, never an HTML page, never a 500, and nothing stored."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import Appointment, Customer, RouteStop
from booking.services.geocoding import GeocoderUnavailable
from booking.services.invariants import broken_promises
from booking.services.quotes import read_quote
from tests.booking.pages import ADDRESS, count
from tests.factories import TUESDAY, make_business

API = "/api/v1"
CONTACT = {
    "name": "Erika Mustermann",
    "phone": "0391 123456",
    "email": "erika@example.de",
    "notes": "Hinterhaus, 2. OG",
    "consent": True,
}


def offers(client: FlaskClient, service: Any = "tap", **address: Any):
    return client.post(f"{API}/offers", json={"service": service, **ADDRESS, **address})


def offered_quotes(client: FlaskClient, service: str = "tap") -> list[str]:
    """The quotes of every offered slot, in order."""
    response = offers(client, service)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [slot["quote"] for slot in response.get_json()["slots"] if slot["offered"]]


def book(client: FlaskClient, quote: str, /, **overrides: Any):
    return client.post(f"{API}/bookings", json={"quote": quote, **CONTACT, **overrides})


def error_of(response, status: int) -> dict[str, Any]:
    """The JSON error body of a response that must have this status."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    return error


def nothing_stored() -> bool:
    return count(Customer) == count(Appointment) == count(RouteStop) == 0


# --- the flow -----------------------------------------------------------------------------


def test_services_lists_code_names_duration_and_base_price(client: FlaskClient) -> None:
    """GET services returns the firm's intro and contact details, then the three services
    of the factory with both names and descriptions, minutes, base price and "from" price
    in cents, in their sort order. From prices with the default policy: the 15 % tier, capped
    at 30 €, and the 8 % week discount, each rounded down to whole euros: 89 € − 13 € − 7 €
    = 69 €; 189 € − 28 € − 15 € = 146 €; 990 € − 30 € (cap) − 79 € = 881 €."""
    make_business()
    response = client.get(f"{API}/services")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "business": {
            "name": "Sanitär Test GmbH",
            "intro_de": "",
            "intro_en": "",
            "address": "Sternstraße 12, 39104 Magdeburg",
            "phone": "0391 000 111",
            "email": "info@test.example",
        },
        "services": [
            {
                "code": "tap",
                "name_de": "Armatur tauschen",
                "name_en": "Tap replacement",
                "description_de": "",
                "description_en": "",
                "duration_minutes": 60,
                "base_price_cents": 8900,
                "from_price_cents": 6900,
            },
            {
                "code": "gasboiler",
                "name_de": "Gastherme warten",
                "name_en": "Gas boiler service",
                "description_de": "",
                "description_en": "",
                "duration_minutes": 120,
                "base_price_cents": 18900,
                "from_price_cents": 14600,
            },
            {
                "code": "bigjob",
                "name_de": "Badsanierung Tag",
                "name_en": "Bathroom day",
                "description_de": "",
                "description_en": "",
                "duration_minutes": 420,
                "base_price_cents": 99000,
                "from_price_cents": 88100,
            },
        ],
    }


def test_offers_cover_the_horizon_and_price_every_offered_slot(client: FlaskClient) -> None:
    """Offers for a tap at Breiter Weg 10: the address located by postcode; per working day
    of the horizon its 4 slots, 2 half days and the whole day; then "any day this week" per
    week; all offered, each with kind, days, price, reasons and quote."""
    make_business()
    response = offers(client)
    assert response.status_code == 200
    body = response.get_json()
    assert body["address"] == {
        "street": "Breiter Weg 10",
        "postcode": "39104",
        "city": "Magdeburg",
        "precision": "postcode",
    }
    slots = body["slots"]
    # Every (day, window) from tomorrow (Tue 24 Nov) through today + 14 (Mon 7 Dec) is
    # listed, except weekend days: nobody works then, so those days are closed, not booked.
    days = [TUESDAY + timedelta(days=n) for n in range(14)]
    working = [d for d in days if d.weekday() < 5]
    per_day = [s for s in slots if s["kind"] != "week"]
    assert [s["day"] for s in per_day] == [d.isoformat() for d in working for _ in range(7)]
    assert all(s["days"] == [s["day"]] for s in per_day)
    assert [(s["kind"], s["window_start"], s["window_end"]) for s in per_day[:7]] == [
        ("slot", "08:00", "10:00"),
        ("slot", "10:00", "12:00"),
        ("slot", "12:00", "14:00"),
        ("slot", "14:00", "16:00"),
        ("half_day", "08:00", "12:00"),
        ("half_day", "12:00", "16:00"),
        ("day", "08:00", "16:00"),
    ]
    # The weeks come last: Tue 24-Fri 27 Nov and Mon 30 Nov-Fri 4 Dec. Mon 7 Dec is the
    # only day of its week inside the horizon, which leaves no choice: no week entry.
    weeks = slots[len(per_day) :]
    assert [s["days"] for s in weeks] == [
        [d.isoformat() for d in working[:4]],
        [d.isoformat() for d in working[4:9]],
    ]
    assert {(s["kind"], s["window_start"], s["window_end"]) for s in weeks} == {
        ("week", "08:00", "16:00")
    }
    # Every day is empty, so every day costs the same and the engine takes the first.
    assert [s["day"] for s in weeks] == ["2026-11-24", "2026-11-30"]
    assert all(slot["offered"] for slot in slots)
    offered = [s for s in slots if s["offered"]]
    # 10 working days: Tue-Fri, Mon-Fri, Mon; 7 free windows each, and 2 weeks.
    assert len(offered) == 72
    assert Counter(date.fromisoformat(s["day"]).weekday() for s in per_day) == {
        0: 14,
        1: 14,
        2: 14,
        3: 14,
        4: 14,
    }
    # Breiter Weg is 0.6 km from the depot (no travel fee), alone on an empty day (no
    # combination discount). Flexibility: 3 / 5 / 8 % of 89.00 € = 2.67 / 4.45 / 7.12 €,
    # rounded down to whole euros.
    flexibility = {"slot": 0, "half_day": 200, "day": 400, "week": 700}
    for slot in offered:
        price = slot["price"]
        assert price["base_cents"] == 8900
        assert price["discount_cents"] == 0
        assert price["flexibility_discount_cents"] == flexibility[slot["kind"]]
        assert price["total_cents"] == (
            price["base_cents"]
            + price["travel_fee_cents"]
            - price["discount_cents"]
            - price["flexibility_discount_cents"]
        )
        assert isinstance(slot["reason"], str) and slot["reason"]
        assert slot["reason"] == slot["reasons"]["de"]  # German unless asked otherwise
        assert set(slot["reasons"]) == {"de", "en"}
        quote = read_quote(slot["quote"], "test-secret", 900)
        assert quote.day.isoformat() == slot["day"]
        assert quote.kind == slot["kind"]
        assert quote.price.total_cents == price["total_cents"]
    assert nothing_stored()  # looking at offers writes nothing


def test_book_show_and_cancel_through_the_api(client: FlaskClient) -> None:
    """offers → bookings (201, confirmed, quoted price) → GET → cancel → GET shows it
    cancelled; the promises hold throughout and the slot is offered again afterwards."""
    business = make_business()
    first = offers(client).get_json()["slots"][0]
    assert (first["day"], first["window_start"]) == ("2026-11-24", "08:00")

    response = book(client, first["quote"])
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    booked = response.get_json()["appointment"]
    token = booked["manage_token"]
    assert isinstance(token, str) and len(token) >= 20
    assert booked == {
        "status": "confirmed",
        "service": "tap",
        "day": "2026-11-24",
        "window_start": "08:00",
        "window_end": "10:00",
        "window_kind": "slot",
        "address": {
            "street": "Breiter Weg 10",
            "postcode": "39104",
            "city": "Magdeburg",
            "precision": "postcode",
        },
        "access_hints": "",
        "price": first["price"],
        "manage_token": token,
        # Booked in German; changeable online until 12 hours (the factory's cut-off) before
        # Tuesday 08:00, i.e. Monday 20:00 in Magdeburg.
        "language": "de",
        "can_change": True,
        "change_deadline": "2026-11-23T20:00:00+01:00",
    }
    assert response.get_json()["email_sent"] is True
    assert count(Customer) == count(Appointment) == count(RouteStop) == 1
    assert broken_promises(business) == []
    shown = client.get(f"{API}/appointments/{token}")
    assert shown.status_code == 200
    assert shown.get_json() == {"appointment": booked}

    cancelled = client.post(f"{API}/appointments/{token}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.get_json()["appointment"] == {
        **booked,
        "status": "cancelled",
        "can_change": False,
    }
    assert cancelled.get_json()["email_sent"] is True
    assert client.get(f"{API}/appointments/{token}").get_json()["appointment"]["status"] == (
        "cancelled"
    )
    assert count(RouteStop) == 0
    assert broken_promises(business) == []

    # The freed slot is offered again, at the price of an empty day (as before booking).
    again = offers(client).get_json()["slots"][0]
    assert (again["day"], again["window_start"], again["offered"]) == ("2026-11-24", "08:00", True)
    assert again["price"] == first["price"]
    # Cancelling twice is harmless and still answers with the cancelled appointment.
    twice = client.post(f"{API}/appointments/{token}/cancel")
    assert twice.status_code == 200
    assert twice.get_json()["appointment"]["status"] == "cancelled"
    assert "email_sent" not in twice.get_json()  # nothing changed, no second email


def test_a_stale_quote_for_a_taken_slot_gets_409_with_alternatives(client: FlaskClient) -> None:
    """Two 7-hour jobs fill both technicians on Tuesday; a quote for Tuesday 08-10 fetched
    before is refused with slot_taken and fresh slots on other days; nothing is stored."""
    business = make_business()
    stale = offered_quotes(client, "bigjob")[0]
    for email in ("a@example.de", "b@example.de"):
        assert book(client, offered_quotes(client, "bigjob")[0], email=email).status_code == 201
    before = (count(Customer), count(Appointment), count(RouteStop))
    assert before == (2, 2, 2)

    error = error_of(book(client, stale, email="late@example.de"), 409)
    assert error["code"] == "slot_taken"
    alternatives = error["alternatives"]
    assert alternatives
    assert all(s["offered"] and s["quote"] for s in alternatives)
    assert all(s["day"] != "2026-11-24" for s in alternatives)
    assert (count(Customer), count(Appointment), count(RouteStop)) == before
    emails = db.session.scalars(select(Customer.email)).all()
    assert "late@example.de" not in emails
    assert broken_promises(business) == []


def test_cancelling_through_the_api_brings_a_full_day_back(client: FlaskClient) -> None:
    """Two 7-hour jobs fill Tuesday, so no Tuesday window is offered; cancelling one of
    them through the API makes Tuesday 08-10 bookable again."""
    business = make_business()
    tokens = []
    for email in ("a@example.de", "b@example.de"):
        response = book(client, offered_quotes(client, "bigjob")[0], email=email)
        assert response.status_code == 201
        tokens.append(response.get_json()["appointment"]["manage_token"])

    def offered_tuesday_windows() -> list[str]:
        slots = offers(client, "bigjob").get_json()["slots"]
        return [s["window_start"] for s in slots if s["day"] == "2026-11-24" and s["offered"]]

    assert offered_tuesday_windows() == []
    assert client.post(f"{API}/appointments/{tokens[0]}/cancel").status_code == 200
    assert "08:00" in offered_tuesday_windows()
    assert count(RouteStop) == 1
    assert broken_promises(business) == []


def test_the_api_needs_no_csrf_token(app: Flask, client: FlaskClient) -> None:
    """With CSRF protection switched on, offers and bookings still work without a token:
    the API blueprint is exempt (it uses no session cookie)."""
    make_business()
    app.config["WTF_CSRF_ENABLED"] = True
    # The HTML form is protected now: posting it without a token is refused ...
    assert client.post("/book/confirm", data={"quote": "x"}).status_code == 400
    # ... while the API answers normally.
    response = book(client, offered_quotes(client)[0])
    assert response.status_code == 201, response.get_data(as_text=True)
    token = response.get_json()["appointment"]["manage_token"]
    assert client.post(f"{API}/appointments/{token}/cancel").status_code == 200


# --- bad requests: a JSON error with a code, nothing stored ------------------------------


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("this is not json", "application/json"),
        ('{"service": "tap",', "application/json"),
        ('["tap", "Breiter Weg 10"]', "application/json"),
        ('"tap"', "application/json"),
        ("", "application/json"),
        ("", None),
        ('{"service": "tap"}', "text/plain"),
    ],
    ids=["garbage", "truncated", "array", "string", "empty", "no-body", "text-plain"],
)
@pytest.mark.parametrize("path", ["/offers", "/bookings"])
def test_a_body_that_is_not_a_json_object_is_400(
    client: FlaskClient, path: str, data: str, content_type: str | None
) -> None:
    """Anything but a JSON object (garbage, arrays, empty, wrong content type) is 400
    invalid_json."""
    make_business()
    response = client.post(API + path, data=data, content_type=content_type)
    assert error_of(response, 400)["code"] == "invalid_json"
    assert nothing_stored()


@pytest.mark.parametrize(
    ("field", "value"),
    [("street", 10), ("postcode", 39104), ("city", ["Magdeburg"]), ("city", {"x": 1})],
)
def test_an_offer_field_of_the_wrong_type_is_named(
    client: FlaskClient, field: str, value: Any
) -> None:
    """A number or list where text belongs is 422 invalid_field naming that field."""
    make_business()
    error = error_of(offers(client, **{field: value}), 422)
    assert error["code"] == "invalid_field"
    assert list(error["fields"]) == [field]
    assert field in error["message"]
    assert nothing_stored()


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", ["Erika"]), ("phone", 391123456), ("email", True), ("quote", {"a": 1})],
)
def test_a_booking_field_of_the_wrong_type_is_named(
    client: FlaskClient, field: str, value: Any
) -> None:
    """A list, number or boolean where text belongs is 422 invalid_field naming the field;
    nothing is stored."""
    make_business()
    quote = offered_quotes(client)[0]
    error = error_of(book(client, quote, **{field: value}), 422)
    assert error["code"] == "invalid_field"
    assert list(error["fields"]) == [field]
    assert nothing_stored()


def test_missing_and_malformed_address_fields_get_a_message_each(client: FlaskClient) -> None:
    """No street, a four-digit postcode and an empty city: one message per field."""
    make_business()
    response = client.post(f"{API}/offers", json={"service": "tap", "postcode": "3910", "city": ""})
    error = error_of(response, 422)
    assert error["code"] == "invalid_field"
    assert set(error["fields"]) == {"street", "postcode", "city"}
    assert error["fields"]["street"] == ["Bitte geben Sie Ihre Straße ein."]
    assert any("fünf Ziffern" in m for m in error["fields"]["postcode"])
    assert nothing_stored()


def test_a_four_digit_postcode_alone_is_422(client: FlaskClient) -> None:
    """Postcode "3910" with a valid street and city: 422 for the postcode only."""
    make_business()
    error = error_of(offers(client, postcode="3910"), 422)
    assert error["code"] == "invalid_field"
    assert list(error["fields"]) == ["postcode"]
    assert nothing_stored()


def test_an_unknown_postcode_is_unknown_address(client: FlaskClient) -> None:
    """Postcode 99999 is well-formed but unknown: 422 unknown_address with the phone."""
    make_business()
    error = error_of(offers(client, postcode="99999"), 422)
    assert error["code"] == "unknown_address"
    assert "0391 000 111" in error["message"]
    assert nothing_stored()


@pytest.mark.parametrize("service", ["teleport", "", None, 1, ["tap"], {"code": "tap"}, "x" * 300])
def test_an_unknown_or_malformed_service_is_404(client: FlaskClient, service: Any) -> None:
    """A service code that does not exist, or is no string at all, is 404 unknown_service."""
    make_business()
    assert error_of(offers(client, service), 404)["code"] == "unknown_service"
    assert nothing_stored()


def test_a_tampered_quote_is_quote_invalid(client: FlaskClient) -> None:
    """Changing the end of a signed quote (or sending rubbish) is 422 quote_invalid."""
    make_business()
    quote = offered_quotes(client)[0]
    tampered = quote[:-3] + ("AAA" if not quote.endswith("AAA") else "BBB")
    for bad in (tampered, "not-a-quote"):
        assert error_of(book(client, bad), 422)["code"] == "quote_invalid"
    assert nothing_stored()


def test_an_expired_quote_is_409(app: Flask, client: FlaskClient) -> None:
    """A quote older than QUOTE_TTL_S is 409 quote_expired; nothing is stored."""
    make_business()
    quote = offered_quotes(client)[0]
    app.config["QUOTE_TTL_S"] = -1  # every quote is older than this
    assert error_of(book(client, quote), 409)["code"] == "quote_expired"
    assert nothing_stored()


@pytest.mark.parametrize("consent", ["missing", False, "true", 1, None])
def test_a_booking_without_consent_is_422(client: FlaskClient, consent: Any) -> None:
    """Only "consent": true counts as consent; anything else is 422 consent_required on the
    consent field."""
    make_business()
    body = {"quote": offered_quotes(client)[0], **CONTACT}
    if consent == "missing":
        del body["consent"]
    else:
        body["consent"] = consent
    error = error_of(client.post(f"{API}/bookings", json=body), 422)
    assert error["code"] == "consent_required"
    assert list(error["fields"]) == ["consent"]
    assert nothing_stored()


def test_missing_and_empty_contact_fields_get_a_message_each(client: FlaskClient) -> None:
    """No quote, empty name, no phone, a malformed email and no consent: five messages."""
    make_business()
    response = client.post(f"{API}/bookings", json={"name": "", "email": "nope"})
    error = error_of(response, 422)
    assert error["code"] == "invalid_field"
    assert set(error["fields"]) == {"quote", "name", "phone", "email", "consent"}
    assert error["fields"]["name"] == ["Bitte geben Sie Ihren Namen ein."]
    assert all(error["fields"][f] for f in error["fields"])
    assert nothing_stored()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "E" * 500),
        ("name", "E"),
        ("email", "x" * 300 + "@example.de"),
        ("notes", "n" * 1001),
    ],
)
def test_over_long_or_too_short_contact_fields_are_422(
    client: FlaskClient, field: str, value: str
) -> None:
    """A 500-character name, a one-letter name, an over-long email or notes: 422 naming
    the field, nothing stored."""
    make_business()
    error = error_of(book(client, offered_quotes(client)[0], **{field: value}), 422)
    assert error["code"] == "invalid_field"
    assert list(error["fields"]) == [field]
    assert nothing_stored()


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "  E  "), ("phone", "     1")],
    ids=["name-one-letter-padded", "phone-one-digit-padded"],
)
def test_padded_contact_fields_are_validated_like_the_stored_value(
    app: Flask, client: FlaskClient, field: str, value: str
) -> None:
    """A value long enough only because of surrounding spaces is 422 on that field, not a
    500: the form checks the raw text, the booking strips it and checks again."""
    make_business()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer a crash with a 500 like production
    error = error_of(book(client, offered_quotes(client)[0], **{field: value}), 422)
    assert error["code"] == "invalid_field"
    assert list(error["fields"]) == [field]
    assert nothing_stored()


def test_an_email_the_form_accepts_is_never_a_500(app: Flask, client: FlaskClient) -> None:
    """An address with an internationalised top-level domain (erika@beispiel.рф) passes the
    form's email check; the booking must then either be made (201) or refused as 422 on the
    email field, never crash."""
    make_business()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer a crash with a 500 like production
    response = book(client, offered_quotes(client)[0], email="erika@beispiel.рф")
    assert response.mimetype == "application/json"
    assert response.status_code in (201, 422), response.get_data(as_text=True)
    if response.status_code == 201:
        assert db.session.scalars(select(Customer.email)).one() == "erika@beispiel.рф"
    else:
        assert list(response.get_json()["error"]["fields"]) == ["email"]
        assert nothing_stored()


def test_markup_in_the_name_is_stored_verbatim_and_answered_as_json(client: FlaskClient) -> None:
    """Script tags in name and notes are stored as typed; the answer is JSON, not HTML, so
    no escaping is needed and no markup is echoed back."""
    make_business()
    response = book(
        client, offered_quotes(client)[0], name="<script>alert(1)</script>", notes="<b>Hof</b>"
    )
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    customer = db.session.scalars(select(Customer)).one()
    assert customer.name == "<script>alert(1)</script>"
    assert db.session.scalars(select(Appointment.notes)).one() == "<b>Hof</b>"
    token = response.get_json()["appointment"]["manage_token"]
    shown = client.get(f"{API}/appointments/{token}")
    assert shown.mimetype == "application/json"
    # The appointment JSON carries no contact details, so the name is not echoed at all.
    assert "<script>" not in shown.get_data(as_text=True)


@pytest.mark.parametrize("token", ["not-a-token", "x" * 64, "x" * 300])
def test_an_unknown_manage_token_is_404(client: FlaskClient, token: str) -> None:
    """Unknown or absurdly long manage tokens: 404 unknown_appointment for GET and cancel."""
    make_business()
    book(client, offered_quotes(client)[0])
    assert error_of(client.get(f"{API}/appointments/{token}"), 404)["code"] == (
        "unknown_appointment"
    )
    cancel = client.post(f"{API}/appointments/{token}/cancel")
    assert error_of(cancel, 404)["code"] == "unknown_appointment"
    assert db.session.scalars(select(Appointment.status)).one() == "confirmed"


def test_unknown_routes_and_wrong_methods_answer_in_json(client: FlaskClient) -> None:
    """An unknown path under /api/v1/ is a JSON 404, GET on bookings a JSON 405."""
    make_business()
    assert error_of(client.get(f"{API}/nothing-here"), 404)["code"] == "not_found"
    assert error_of(client.post(f"{API}/services"), 405)["code"] == "method_not_allowed"
    wrong = client.get(f"{API}/bookings")
    assert error_of(wrong, 405)["code"] == "method_not_allowed"
    assert nothing_stored()


def test_a_nul_character_in_a_manage_token_is_404(app: Flask, client: FlaskClient) -> None:
    """A manage token with a NUL character is just an unknown token (404 JSON), on
    PostgreSQL too, where text cannot contain NUL."""
    make_business()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer a crash with a 500 like production
    shown = client.get(f"{API}/appointments/abc%00def")
    assert error_of(shown, 404)["code"] == "unknown_appointment"
    cancel = client.post(f"{API}/appointments/abc%00def/cancel")
    assert error_of(cancel, 404)["code"] == "unknown_appointment"


def test_a_nul_character_in_a_service_code_is_404(app: Flask, client: FlaskClient) -> None:
    """A service code with a NUL character is just an unknown service (404 JSON), on
    PostgreSQL too."""
    make_business()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer a crash with a 500 like production
    assert error_of(offers(client, "ta\x00p"), 404)["code"] == "unknown_service"


def test_a_nul_character_in_the_name_is_never_a_500(app: Flask, client: FlaskClient) -> None:
    """A name with a NUL character is either booked verbatim (201) or refused as 422 on the
    name field with nothing stored; it must not crash on PostgreSQL."""
    make_business()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer a crash with a 500 like production
    response = book(client, offered_quotes(client)[0], name="Erika\x00Mustermann")
    assert response.mimetype == "application/json"
    assert response.status_code in (201, 422), response.get_data(as_text=True)
    if response.status_code == 201:
        assert db.session.scalars(select(Customer.name)).one() == "Erika\x00Mustermann"
    else:
        assert list(response.get_json()["error"]["fields"]) == ["name"]
        assert nothing_stored()


@pytest.mark.parametrize("path", ["/geocode", "/offers", "/bookings"])
def test_a_body_nested_too_deeply_is_400_not_a_500(
    app: Flask, client: FlaskClient, path: str
) -> None:
    """100,000 opening brackets exceed the JSON parser's recursion: 400 invalid_json, as for
    any body that is not a JSON object (it was a 500)."""
    make_business()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer a crash with a 500 like production
    response = client.post(API + path, data="[" * 100_000, content_type="application/json")
    assert error_of(response, 400)["code"] == "invalid_json"


LONE_SURROGATE = "\\ud800"  # valid JSON, but no UTF-8 text: a database cannot store it


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/geocode", "street"),
        ("/offers", "city"),
        ("/bookings", "name"),
        ("/bookings", "notes"),
        ("/bookings", "access_hints"),
        ("/bookings", "email"),
    ],
)
def test_a_lone_surrogate_in_a_text_field_is_422_on_that_field(
    app: Flask, client: FlaskClient, path: str, field: str
) -> None:
    """A JSON string with an unpaired surrogate escape (\\ud800) in a text field is refused
    as 422 on that field, nothing stored; it was a 500 when it reached the database."""
    make_business()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer a crash with a 500 like production
    body: dict[str, Any] = {"service": "tap", **ADDRESS}
    if path == "/bookings":
        body = {"quote": offered_quotes(client)[0], **CONTACT}
    body[field] = "Erika"  # replaced by Erika + the surrogate below
    data = json.dumps(body).replace('"Erika"', f'"Erika{LONE_SURROGATE}"')
    response = client.post(API + path, data=data, content_type="application/json")
    error = error_of(response, 422)
    assert error["code"] == "invalid_field"
    assert list(error["fields"]) == [field]
    assert nothing_stored()


def test_a_quote_with_a_lone_surrogate_is_quote_invalid(app: Flask, client: FlaskClient) -> None:
    """Quotes are URL-safe ASCII; one with an unpaired surrogate is 422 quote_invalid (it
    was a 500 in the signature check)."""
    make_business()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer a crash with a 500 like production
    body = json.dumps({**CONTACT, "quote": "Erika"}).replace('"Erika"', f'"x{LONE_SURROGATE}"')
    response = client.post(f"{API}/bookings", data=body, content_type="application/json")
    assert error_of(response, 422)["code"] == "quote_invalid"
    assert nothing_stored()


def test_the_geocoder_down_is_503_with_retry_after(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the address server cannot be reached, offers answer 503 geocoder_unavailable
    with retry_after_s, and the Retry-After header says the same (as on 429)."""
    make_business()

    def down(street: str, postcode: str, city: str):
        raise GeocoderUnavailable("down")

    monkeypatch.setattr("booking.api.locate", down)
    response = offers(client)
    error = error_of(response, 503)
    assert error["code"] == "geocoder_unavailable"
    assert response.headers["Retry-After"] == str(error["retry_after_s"]) == "30"
