"""The service area: a radius around the depot and/or a list of postcodes per business.
An address outside gets a clear message with the firm's phone number, next to the address
fields (422) and in the API (outside_service_area); nothing is offered or stored.

Distances from the factory depot (52.1190, 11.6290), straight line: the centroid of 39104
(52.1243, 11.6322) is 0.6 km away, Barleben's 39179 (52.2031, 11.6231) 9.4 km.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import refresh

from booking.extensions import db
from booking.models import Business
from booking.services.addresses import distance_km, in_service_area
from booking.services.offering import Address
from seeds.demo import create_business
from tests.booking.pages import ADDRESS, count, quotes_on
from tests.factories import DEPOT, make_business

API = "/api/v1"
BARLEBEN = {"street": "Breiteweg 1", "postcode": "39179", "city": "Barleben"}
PHONE = "0391 000 111"


def with_area(radius_km: float | None = None, postcodes: list[str] | None = None) -> Business:
    business = make_business()
    business.service_radius_km = radius_km
    business.service_postcodes = postcodes or []
    db.session.commit()
    return business


def at(lat: float, lon: float, postcode: str = "39104") -> Address:
    return Address("Weg 1", postcode, "Ort", lat, lon, "postcode")


def test_distance_is_the_great_circle() -> None:
    """Depot to Barleben's centroid: 9.4 km; one degree of latitude: 111.2 km."""
    assert distance_km(*DEPOT, 52.2031, 11.6231) == pytest.approx(9.36, abs=0.01)
    assert distance_km(52.0, 11.0, 53.0, 11.0) == pytest.approx(111.2, abs=0.1)


@pytest.mark.parametrize(
    ("radius", "postcodes", "barleben_inside", "centre_inside"),
    [
        (None, [], True, True),  # neither set: every address is served
        (10.0, [], True, True),  # 9.4 km ≤ 10 km
        (9.0, [], False, True),
        (None, ["39104"], False, True),  # the list alone
        (0.5, ["39179"], True, False),  # the list or the radius (0.6 km > 0.5 km)
    ],
)
def test_inside_is_within_the_radius_or_in_a_listed_postcode(
    app: Flask, radius: float | None, postcodes: list[str], barleben_inside: bool,
    centre_inside: bool,
) -> None:  # fmt: skip
    """Inside means within the radius or in a listed postcode; with neither, everywhere."""
    business = with_area(radius, postcodes)
    assert in_service_area(business, at(52.2031, 11.6231, "39179")) is barleben_inside
    assert in_service_area(business, at(52.1243, 11.6322, "39104")) is centre_inside


def test_an_address_outside_gets_the_phone_number_next_to_the_fields(
    client: FlaskClient,
) -> None:
    """Radius 5 km: Barleben is outside. The address page comes back with 422, the message
    with the phone number under the postcode field, the typed address kept; no slots."""
    with_area(5.0)
    response = client.get("/book/tap/slots", query_string=BARLEBEN)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "außerhalb unseres Einsatzgebiets" in html
    assert PHONE in html
    assert 'id="postcode-error"' in html
    assert 'aria-describedby="postcode-error"' in html
    assert 'value="Breiteweg 1"' in html
    assert quotes_on(html) == []


def test_the_outside_message_is_in_english_too(client: FlaskClient) -> None:
    """With ?lang=en the same refusal is in English, with the phone number."""
    with_area(5.0)
    response = client.get("/book/tap/slots", query_string={**BARLEBEN, "lang": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "outside our service area" in html
    assert PHONE in html
    refresh()


def test_an_address_inside_gets_its_slots(client: FlaskClient) -> None:
    """Radius 5 km: Breiter Weg (0.6 km) is inside and gets offers."""
    with_area(5.0)
    assert client.get("/book/tap/slots", query_string=ADDRESS).status_code == 200


def test_the_api_refuses_offers_outside_with_a_code(client: FlaskClient) -> None:
    """POST offers for Barleben with a 5 km radius: 422 outside_service_area with the phone."""
    with_area(5.0)
    response = client.post(f"{API}/offers", json={"service": "tap", **BARLEBEN})
    assert response.status_code == 422
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "outside_service_area"
    assert PHONE in error["message"]


def test_a_listed_postcode_is_served_beyond_the_radius(client: FlaskClient) -> None:
    """Radius 5 km plus postcode 39179: Barleben gets offers again."""
    with_area(5.0, ["39179"])
    response = client.post(f"{API}/offers", json={"service": "tap", **BARLEBEN})
    assert response.status_code == 200
    assert any(slot["offered"] for slot in response.get_json()["slots"])


# --- POST /api/v1/geocode ----------------------------------------------------------------


def geocode(client: FlaskClient, body: Any, **query: str):
    return client.post(f"{API}/geocode", json=body, query_string=query or None)


def test_geocode_answers_position_precision_label_and_area(client: FlaskClient) -> None:
    """Breiter Weg 10, 39104: the postcode centroid (the test geocoder is offline), its
    precision, the label and inside_service_area true."""
    with_area(5.0)
    response = geocode(client, ADDRESS)
    assert response.status_code == 200
    assert response.get_json() == {
        "street": "Breiter Weg 10",
        "postcode": "39104",
        "city": "Magdeburg",
        "precision": "postcode",
        "lat": 52.1243,
        "lon": 11.6322,
        "label": "Breiter Weg 10, 39104 Magdeburg",
        "inside_service_area": True,
    }


def test_geocode_says_when_an_address_is_outside(client: FlaskClient) -> None:
    """Barleben with a 5 km radius: 200, inside_service_area false, and the message (in the
    request's language) with the phone number to show the customer."""
    with_area(5.0)
    body = geocode(client, BARLEBEN, lang="en").get_json()
    assert body["inside_service_area"] is False
    assert "outside our service area" in body["message"]
    assert PHONE in body["message"]
    refresh()


@pytest.mark.parametrize(
    ("body", "status", "code", "fields"),
    [
        ({}, 422, "invalid_field", {"street", "postcode", "city"}),
        ({"street": "", "postcode": "", "city": ""}, 422, "invalid_field",
         {"street", "postcode", "city"}),
        ({**ADDRESS, "street": "x" * 201}, 422, "invalid_field", {"street"}),
        ({**ADDRESS, "city": "y" * 121}, 422, "invalid_field", {"city"}),
        ({**ADDRESS, "postcode": "391040"}, 422, "invalid_field", {"postcode"}),
        ({**ADDRESS, "postcode": 39104}, 422, "invalid_field", {"postcode"}),
        ({**ADDRESS, "street": ["Breiter Weg"]}, 422, "invalid_field", {"street"}),
        ({**ADDRESS, "city": None}, 422, "invalid_field", {"city"}),
        ({**ADDRESS, "city": {"name": "Magdeburg"}}, 422, "invalid_field", {"city"}),
        ({**ADDRESS, "street": "Weg\x001"}, 422, "invalid_field", {"street"}),
        ({**ADDRESS, "postcode": "99999"}, 422, "unknown_address", None),
        (["Breiter Weg 10"], 400, "invalid_json", None),
        ("39104", 400, "invalid_json", None),
    ],
    ids=["missing", "empty", "street-too-long", "city-too-long", "postcode-six-digits",
         "postcode-number", "street-list", "city-null", "city-object", "nul-character",
         "unknown", "array-body", "string-body"],
)  # fmt: skip
def test_geocode_refuses_bad_input_with_a_json_error(
    app: Flask, client: FlaskClient, body: Any, status: int, code: str, fields: set[str] | None
) -> None:
    """Empty, too long, wrong types, a NUL character, an unknown postcode, a body that is
    not an object: a JSON error with a code (and the fields to fix), never a 500."""
    make_business()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer a crash with a 500 like production
    response = geocode(client, body)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    if fields is not None:
        assert set(error["fields"]) == fields


def test_script_tags_in_the_address_are_never_reflected_raw(client: FlaskClient) -> None:
    """A street with a script tag: on the slot page, the address page after an error and in
    the API answer, it appears only escaped (or as JSON text), never as markup."""
    make_business()
    evil = {**ADDRESS, "street": "<script>alert(1)</script> 1"}
    slots = client.get("/book/tap/slots", query_string=evil).get_data(as_text=True)
    refused = client.get("/book/tap/slots", query_string={**evil, "postcode": "99999"}).get_data(
        as_text=True
    )
    for html in (slots, refused):
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    answer = geocode(client, evil)
    assert answer.mimetype == "application/json"
    assert answer.get_json()["street"] == "<script>alert(1)</script> 1"


# --- the demo firm -----------------------------------------------------------------------


def test_the_demo_firm_serves_magdeburg_and_around_but_not_further(app: Flask) -> None:
    """The demo firm's 25 km radius: every demo district (Schönebeck, the farthest, is 13 km
    away), Burg (23 km) and Haldensleben (24 km) are in; Staßfurt (30 km) and Berlin out."""
    from seeds.demo import DISTRICTS

    business = create_business()
    db.session.commit()
    assert business.service_radius_km == 25.0
    for district in DISTRICTS:
        assert in_service_area(business, at(district.lat, district.lon, district.postcode))
    assert in_service_area(business, at(52.2727, 11.8550, "39288"))  # Burg
    assert in_service_area(business, at(52.2889, 11.4089, "39340"))  # Haldensleben
    assert not in_service_area(business, at(51.8533, 11.5856, "39418"))  # Staßfurt
    assert not in_service_area(business, at(52.5200, 13.4050, "10117"))  # Berlin
    assert count(Business) == 1


def test_the_demo_seed_has_intro_texts(app: Flask) -> None:
    """The demo firm introduces itself in both languages."""
    business = create_business()
    assert business.intro_de.startswith("Seit 1998")
    assert business.intro_en.startswith("Your master plumbers")
