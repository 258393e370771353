"""The OpenAPI document at /api/openapi.json (booking/api/openapi.py) against the API itself.

- The document is valid OpenAPI 3.1 (openapi-spec-validator).
- Every route under /api/ is in it, and everything in it is a route (from the url_map).
- Real answers match it: for every (path, method, status) the document names, a case below
  makes the API give that answer, and `check` validates it against the documented schema
  (JSON Schema 2020-12, $refs resolved in the document). An answer whose status the
  document does not name fails `check`.

The factory firm (tests/factories.py): two technicians in Magdeburg, 2-hour slots from
08:00 to 16:00; "now" is Monday 23 November 2026, 10:00; a 7-hour "bigjob" takes a
technician's whole day, so two of them fill a day. Customers may change online until
12 hours before their window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from booking.api.openapi import DOCUMENT_PATH, SERVER_URL, openapi_document
from booking.extensions import db
from booking.services.geocoding import GeocoderUnavailable
from tests.booking.pages import ADDRESS
from tests.booking.test_faults import unreachable
from tests.conftest import make_app
from tests.factories import TUESDAY, make_business

API = SERVER_URL
DOC_URI = "urn:kombitermin:openapi"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
WEDNESDAY = date(2026, 11, 25)
BARLEBEN = {"street": "Breiteweg 1", "postcode": "39179", "city": "Barleben"}  # 9.4 km out
CONTACT = {
    "name": "Erika Mustermann",
    "phone": "0391 123456",
    "email": "erika@example.de",
    "notes": "Hund bellt, beißt aber nicht",
    "access_hints": "Hinterhaus, 2. OG",
    "consent": True,
}


# --- the one helper that looks an answer up in the document and validates it --------------


def _pointer(*segments: str) -> str:
    """A JSON pointer as a URI fragment: ~ and / escaped, then percent-encoded."""
    escaped = (s.replace("~", "~0").replace("/", "~1") for s in segments)
    return quote("/" + "/".join(escaped), safe="/~")


def check(response: Any, path: str, method: str, document: dict[str, Any] | None = None) -> Any:
    """Validate a real answer of `method path` against the document: its status must be
    documented, its media type and required headers too, and its JSON body must match the
    schema documented for that status. Returns the body."""
    document = openapi_document() if document is None else document
    operation = document["paths"][path][method]
    status = str(response.status_code)
    text = response.get_data(as_text=True)
    assert status in operation["responses"], (
        f"{method.upper()} {path} answered {status}, which the document does not name: {text[:300]}"
    )
    documented = operation["responses"][status]
    pointer = _pointer("paths", path, method, "responses", status)
    if "$ref" in documented:
        pointer = documented["$ref"].removeprefix("#")
        documented = document["components"]["responses"][pointer.rsplit("/", 1)[-1]]
    assert response.mimetype in documented["content"], (status, response.mimetype, text[:300])
    for name, header in documented.get("headers", {}).items():
        value = response.headers.get(name)
        assert value is not None or not header.get("required"), f"{status} lacks {name}"
        if value is not None and header["schema"].get("type") == "integer":
            assert value.isdigit() and int(value) >= header["schema"].get("minimum", 0)
    body = response.get_json()
    schema = {"$ref": f"{DOC_URI}#{pointer}{_pointer('content', response.mimetype, 'schema')}"}
    registry = Registry().with_resource(
        DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    errors = [
        f"at {'/'.join(map(str, e.absolute_path)) or 'the top'}: {e.message}"
        for e in validator.iter_errors(body)
    ]
    assert not errors, f"{method.upper()} {path} {status} does not match: {errors} in {text[:500]}"
    return body


# --- the document itself ------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1() -> None:
    """openapi-spec-validator accepts it: OpenAPI 3.1, every $ref resolves, every path
    parameter is declared."""
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    assert document["servers"][0]["url"] == "/api/v1"
    validate_spec(document)


def test_the_document_is_served_as_json_without_a_rate_limit(
    app: Flask, migrated: dict[str, object]
) -> None:
    """GET /api/openapi.json answers the document, also from an app with tiny rate limits
    (1 search an hour) on the fifth request in a row."""
    make_business()
    web = make_app({**migrated, "RATELIMIT_ENABLED": True, "RATELIMIT_SEARCH": "1 per hour",
                    "RATELIMIT_BOOKING": "1 per hour"})  # fmt: skip
    client = web.test_client()
    with web.app_context():
        answers = [client.get(DOCUMENT_PATH) for _ in range(5)]
        db.session.remove()
        db.engine.dispose()
    assert [a.status_code for a in answers] == [200] * 5
    assert answers[-1].mimetype == "application/json"
    assert answers[-1].get_json() == openapi_document()


def routes_against_document(app: Flask, document: dict[str, Any]) -> tuple[set, set]:
    """(routes under /api/ the document lacks, documented operations no route serves), as
    (path, method) pairs relative to the server URL. The document's own route is the one
    /api/ route outside the server URL and needs no entry."""
    server = document["servers"][0]["url"]
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule == DOCUMENT_PATH:
            continue
        assert rule.rule.startswith(server + "/"), f"{rule.rule} is outside {server}"
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix(server))
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        routed |= {(path, method.lower()) for method in methods}
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    return routed - documented, documented - routed


def test_every_api_route_is_documented_and_nothing_else(app: Flask) -> None:
    """The url_map's rules under /api/ (without HEAD and OPTIONS) and the document's
    operations are the same set: the eight of the README's API line."""
    undocumented, unrouted = routes_against_document(app, openapi_document())
    assert undocumented == set()
    assert unrouted == set()
    paths = openapi_document()["paths"]
    assert sum(method in HTTP_METHODS for item in paths.values() for method in item) == 8


def test_a_new_route_without_documentation_is_caught(migrated: dict[str, object]) -> None:
    """A route added under /api/v1 and one dropped from the document both show up."""
    web = make_app(migrated)
    web.add_url_rule(f"{API}/invoices/<int:number>", "invoice", lambda number: "", methods=["PUT"])
    document = openapi_document()
    del document["paths"]["/services"]
    undocumented, unrouted = routes_against_document(web, document)
    assert undocumented == {("/invoices/{number}", "put"), ("/services", "get")}
    assert unrouted == set()
    with web.app_context():
        db.engine.dispose()


def test_every_error_shape_of_the_code_is_described() -> None:
    """Every documented error response narrows `code` to codes the error table explains,
    and every operation names its JSON media type."""
    document = openapi_document()
    explained = document["components"]["schemas"]["ErrorDetail"]["properties"]["code"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            assert operation["operationId"]
            for status, answer in operation["responses"].items():
                if "$ref" in answer:
                    answer = document["components"]["responses"][answer["$ref"].split("/")[-1]]
                assert list(answer["content"]) == ["application/json"], (path, status)
                if int(status) >= 400:
                    schema = answer["content"]["application/json"]["schema"]
                    codes = schema["properties"]["error"]["properties"]["code"]["enum"]
                    assert all(f"`{code}`" in explained["description"] for code in codes)


# --- cases: one real answer for every documented (path, method, status) -------------------


@dataclass
class Ctx:
    app: Flask
    client: FlaskClient
    migrated: dict[str, object]
    monkeypatch: pytest.MonkeyPatch
    cleanups: list[Callable[[], None]] = field(default_factory=list)


@dataclass(frozen=True)
class Case:
    path: str
    method: str
    status: int
    make: Callable[[Ctx], Any]


CASES: dict[str, Case] = {}


def case(path: str, method: str, status: int):
    def register(make: Callable[[Ctx], Any]) -> Callable[[Ctx], Any]:
        CASES[make.__name__] = Case(path, method, status, make)
        return make

    return register


def offered(client: FlaskClient, code: str = "tap", address: dict[str, str] = ADDRESS) -> list:
    response = client.post(f"{API}/offers", json={"service": code, **address})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [slot for slot in response.get_json()["slots"] if slot["offered"]]


def at(day: date, start: str = "08:00") -> Callable[[dict[str, Any]], bool]:
    return lambda s: (s["day"], s["window_start"], s["kind"]) == (day.isoformat(), start, "slot")


def book(client: FlaskClient, quote: Any, **overrides: Any):
    return client.post(f"{API}/bookings", json={"quote": quote, **CONTACT, **overrides})


def booked(
    client: FlaskClient,
    code: str = "tap",
    email: str = "erika@example.de",
    pick: Callable[[dict[str, Any]], bool] = lambda slot: True,
) -> str:
    """Book the first offer `pick` accepts; its manage token."""
    slot = next(s for s in offered(client, code) if pick(s))
    response = book(client, slot["quote"], email=email)
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["appointment"]["manage_token"])


def move_offers(client: FlaskClient, token: str) -> list[dict[str, Any]]:
    response = client.post(f"{API}/appointments/{token}/offers")
    assert response.status_code == 200, response.get_data(as_text=True)
    return [slot for slot in response.get_json()["slots"] if slot["offered"]]


def after_the_cutoff(ctx: Ctx) -> None:
    """Monday 20:00 in Magdeburg (19:00 UTC): 12 hours before Tuesday 08:00, too late."""
    ctx.app.config["NOW"] = lambda: datetime(2026, 11, 23, 19, 0, tzinfo=UTC)


def geocoder_down(ctx: Ctx) -> None:
    def down(street: str, postcode: str, city: str):
        raise GeocoderUnavailable("down")

    ctx.monkeypatch.setattr("booking.api.locate", down)


def over_the_limit(ctx: Ctx, path: str, **kwargs: Any):
    """The second of two identical POSTs to an app that allows one search and one booking
    an hour; the database is the test's."""
    web = make_app({**ctx.migrated, "RATELIMIT_ENABLED": True, "RATELIMIT_SEARCH": "1 per hour",
                    "RATELIMIT_BOOKING": "1 per hour"})  # fmt: skip

    def dispose() -> None:
        with web.app_context():
            db.session.remove()
            db.engine.dispose()

    ctx.cleanups.append(dispose)
    client = web.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.1"
    with web.app_context():
        client.post(path, **kwargs)
        return client.post(path, **kwargs)


def firms_on_their_own_hosts() -> None:
    """Two firms, each with its own host name: the test client's "localhost" is neither's."""
    make_business("elbe").host = "termine.elbe.example"
    make_business("harz").host = "termine.harz.example"
    db.session.commit()


# GET services


@case("/services", "get", 200)
def services(ctx: Ctx):
    make_business()
    return ctx.client.get(f"{API}/services")


@case("/services", "get", 503)
def services_without_a_business(ctx: Ctx):
    return ctx.client.get(f"{API}/services")


@case("/services", "get", 404)
def services_on_a_host_of_no_business(ctx: Ctx):
    firms_on_their_own_hosts()
    return ctx.client.get(f"{API}/services")


# POST geocode


@case("/geocode", "post", 200)
def geocode_inside(ctx: Ctx):
    make_business()
    return ctx.client.post(f"{API}/geocode", json=ADDRESS)


@case("/geocode", "post", 200)
def geocode_outside_with_its_message(ctx: Ctx):
    business = make_business()
    business.service_radius_km = 5.0
    db.session.commit()
    return ctx.client.post(f"{API}/geocode?lang=en", json=BARLEBEN)


@case("/geocode", "post", 400)
def geocode_of_an_array(ctx: Ctx):
    make_business()
    return ctx.client.post(f"{API}/geocode", json=["Breiter Weg 10"])


@case("/geocode", "post", 422)
def geocode_of_nothing(ctx: Ctx):
    make_business()
    return ctx.client.post(f"{API}/geocode", json={"street": 10, "postcode": "3910"})


@case("/geocode", "post", 422)
def geocode_of_an_unknown_postcode(ctx: Ctx):
    make_business()
    return ctx.client.post(f"{API}/geocode", json={**ADDRESS, "postcode": "99999"})


@case("/geocode", "post", 429)
def geocode_over_the_limit(ctx: Ctx):
    make_business()
    return over_the_limit(ctx, f"{API}/geocode", json=ADDRESS)


@case("/geocode", "post", 503)
def geocode_with_the_geocoder_down(ctx: Ctx):
    make_business()
    geocoder_down(ctx)
    return ctx.client.post(f"{API}/geocode", json=ADDRESS)


@case("/geocode", "post", 503)
def geocode_without_a_business(ctx: Ctx):
    return ctx.client.post(f"{API}/geocode", json=ADDRESS)


@case("/geocode", "post", 404)
def geocode_on_a_host_of_no_business(ctx: Ctx):
    firms_on_their_own_hosts()
    return ctx.client.post(f"{API}/geocode", json=ADDRESS)


# POST offers


@case("/offers", "post", 200)
def offers(ctx: Ctx):
    make_business()
    return ctx.client.post(f"{API}/offers?lang=en", json={"service": "tap", **ADDRESS})


@case("/offers", "post", 200)
def offers_on_a_full_day(ctx: Ctx):
    """Two bigjobs fill Tuesday: its windows are listed, but not offered (no price, no
    quote)."""
    make_business()
    booked(ctx.client, "bigjob")
    booked(ctx.client, "bigjob", "b@example.de")
    response = ctx.client.post(f"{API}/offers", json={"service": "gasboiler", **ADDRESS})
    tuesday = [s for s in response.get_json()["slots"] if s["day"] == TUESDAY.isoformat()]
    assert tuesday and not any(s["offered"] for s in tuesday)
    return response


@case("/offers", "post", 400)
def offers_of_garbage(ctx: Ctx):
    make_business()
    return ctx.client.post(f"{API}/offers", data="{", content_type="application/json")


@case("/offers", "post", 404)
def offers_for_an_unknown_service(ctx: Ctx):
    make_business()
    return ctx.client.post(f"{API}/offers", json={"service": "teleport", **ADDRESS})


@case("/offers", "post", 404)
def offers_on_a_host_of_no_business(ctx: Ctx):
    firms_on_their_own_hosts()
    return ctx.client.post(f"{API}/offers", json={"service": "tap", **ADDRESS})


@case("/offers", "post", 422)
def offers_for_a_malformed_address(ctx: Ctx):
    make_business()
    return ctx.client.post(f"{API}/offers", json={"service": "tap", "city": ["Magdeburg"]})


@case("/offers", "post", 422)
def offers_outside_the_service_area(ctx: Ctx):
    business = make_business()
    business.service_radius_km = 5.0
    db.session.commit()
    return ctx.client.post(f"{API}/offers", json={"service": "tap", **BARLEBEN})


@case("/offers", "post", 429)
def offers_over_the_limit(ctx: Ctx):
    make_business()
    return over_the_limit(ctx, f"{API}/offers", json={"service": "tap", **ADDRESS})


@case("/offers", "post", 503)
def offers_with_the_geocoder_down(ctx: Ctx):
    make_business()
    geocoder_down(ctx)
    return ctx.client.post(f"{API}/offers", json={"service": "tap", **ADDRESS})


@case("/offers", "post", 503)
def offers_without_a_business(ctx: Ctx):
    return ctx.client.post(f"{API}/offers", json={"service": "tap", **ADDRESS})


# POST bookings


@case("/bookings", "post", 201)
def booking(ctx: Ctx):
    make_business()
    return book(ctx.client, offered(ctx.client)[0]["quote"])


@case("/bookings", "post", 201)
def booking_of_a_week_in_english_without_optional_fields(ctx: Ctx):
    make_business()
    week = next(s for s in offered(ctx.client) if s["kind"] == "week")
    body = {"quote": week["quote"], **CONTACT, "notes": None}
    del body["access_hints"]
    return ctx.client.post(f"{API}/bookings?lang=en", json=body)


@case("/bookings", "post", 400)
def booking_of_a_string(ctx: Ctx):
    make_business()
    return ctx.client.post(f"{API}/bookings", json="quote")


@case("/bookings", "post", 409)
def booking_of_a_taken_slot(ctx: Ctx):
    make_business()
    stale = offered(ctx.client, "bigjob")[0]["quote"]
    booked(ctx.client, "bigjob", "a@example.de")
    booked(ctx.client, "bigjob", "b@example.de")
    response = book(ctx.client, stale)
    assert response.get_json()["error"]["alternatives"]
    return response


@case("/bookings", "post", 409)
def booking_of_an_expired_quote(ctx: Ctx):
    make_business()
    quote = offered(ctx.client)[0]["quote"]
    ctx.app.config["QUOTE_TTL_S"] = -1
    return book(ctx.client, quote)


@case("/bookings", "post", 422)
def booking_with_bad_fields(ctx: Ctx):
    make_business()
    return ctx.client.post(f"{API}/bookings", json={"name": "E", "email": "nope"})


@case("/bookings", "post", 422)
def booking_without_consent(ctx: Ctx):
    make_business()
    return book(ctx.client, offered(ctx.client)[0]["quote"], consent="yes")


@case("/bookings", "post", 422)
def booking_of_a_forged_quote(ctx: Ctx):
    make_business()
    return book(ctx.client, "not-a-quote")


@case("/bookings", "post", 429)
def booking_over_the_limit(ctx: Ctx):
    make_business()
    return over_the_limit(ctx, f"{API}/bookings", json={"quote": "x", **CONTACT})


@case("/bookings", "post", 503)
def booking_without_a_business(ctx: Ctx):
    return book(ctx.client, "x")


@case("/bookings", "post", 404)
def booking_on_a_host_of_no_business(ctx: Ctx):
    firms_on_their_own_hosts()
    return book(ctx.client, "x")


# GET appointments/{token}


@case("/appointments/{token}", "get", 200)
def appointment(ctx: Ctx):
    make_business()
    return ctx.client.get(f"{API}/appointments/{booked(ctx.client)}")


@case("/appointments/{token}", "get", 404)
def appointment_unknown(ctx: Ctx):
    make_business()
    return ctx.client.get(f"{API}/appointments/not-a-token")


@case("/appointments/{token}", "get", 404)
def appointment_with_a_slash_in_the_token(ctx: Ctx):
    make_business()
    return ctx.client.get(f"{API}/appointments/a%2Fb")


# POST appointments/{token}/offers


@case("/appointments/{token}/offers", "post", 200)
def move_offers_without_a_body(ctx: Ctx):
    make_business()
    token = booked(ctx.client, "bigjob")
    return ctx.client.post(f"{API}/appointments/{token}/offers")


@case("/appointments/{token}/offers", "post", 200)
def move_offers_with_an_empty_object(ctx: Ctx):
    make_business()
    token = booked(ctx.client)
    return ctx.client.post(f"{API}/appointments/{token}/offers?lang=en", json={})


@case("/appointments/{token}/offers", "post", 400)
def move_offers_with_a_body_that_is_no_object(ctx: Ctx):
    make_business()
    token = booked(ctx.client)
    return ctx.client.post(f"{API}/appointments/{token}/offers", json=[1])


@case("/appointments/{token}/offers", "post", 404)
def move_offers_unknown(ctx: Ctx):
    make_business()
    return ctx.client.post(f"{API}/appointments/not-a-token/offers")


@case("/appointments/{token}/offers", "post", 409)
def move_offers_after_the_cutoff(ctx: Ctx):
    make_business()
    token = booked(ctx.client)
    after_the_cutoff(ctx)
    return ctx.client.post(f"{API}/appointments/{token}/offers")


@case("/appointments/{token}/offers", "post", 409)
def move_offers_of_a_cancelled_appointment(ctx: Ctx):
    make_business()
    token = booked(ctx.client)
    assert ctx.client.post(f"{API}/appointments/{token}/cancel").status_code == 200
    return ctx.client.post(f"{API}/appointments/{token}/offers")


@case("/appointments/{token}/offers", "post", 429)
def move_offers_over_the_limit(ctx: Ctx):
    make_business()
    return over_the_limit(ctx, f"{API}/appointments/not-a-token/offers")


# POST appointments/{token}/reschedule


@case("/appointments/{token}/reschedule", "post", 200)
def reschedule(ctx: Ctx):
    make_business()
    token = booked(ctx.client, pick=at(TUESDAY))
    target = next(s for s in move_offers(ctx.client, token) if at(WEDNESDAY, "14:00")(s))
    return ctx.client.post(
        f"{API}/appointments/{token}/reschedule", json={"quote": target["quote"]}
    )


@case("/appointments/{token}/reschedule", "post", 400)
def reschedule_with_garbage(ctx: Ctx):
    make_business()
    token = booked(ctx.client)
    return ctx.client.post(f"{API}/appointments/{token}/reschedule", data="quote=x")


@case("/appointments/{token}/reschedule", "post", 404)
def reschedule_unknown(ctx: Ctx):
    make_business()
    return ctx.client.post(f"{API}/appointments/not-a-token/reschedule", json={"quote": "x"})


@case("/appointments/{token}/reschedule", "post", 409)
def reschedule_to_a_taken_slot(ctx: Ctx):
    """A bigjob on Tuesday holds a move quote for Wednesday 08-10; two other bigjobs then
    fill Wednesday: slot_taken, with fresh move offers (its own Tuesday marked current)."""
    make_business()
    token = booked(ctx.client, "bigjob", "a@example.de", pick=at(TUESDAY))
    stale = next(s for s in move_offers(ctx.client, token) if at(WEDNESDAY)(s))
    booked(ctx.client, "bigjob", "b@example.de", pick=at(WEDNESDAY))
    booked(ctx.client, "bigjob", "c@example.de", pick=at(WEDNESDAY))
    response = ctx.client.post(
        f"{API}/appointments/{token}/reschedule", json={"quote": stale["quote"]}
    )
    assert any(s["current"] for s in response.get_json()["error"]["alternatives"])
    return response


@case("/appointments/{token}/reschedule", "post", 409)
def reschedule_after_the_cutoff(ctx: Ctx):
    make_business()
    token = booked(ctx.client)
    quote = move_offers(ctx.client, token)[-1]["quote"]
    after_the_cutoff(ctx)
    return ctx.client.post(f"{API}/appointments/{token}/reschedule", json={"quote": quote})


@case("/appointments/{token}/reschedule", "post", 422)
def reschedule_with_a_booking_quote(ctx: Ctx):
    make_business()
    token = booked(ctx.client)
    quote = offered(ctx.client)[-1]["quote"]
    return ctx.client.post(f"{API}/appointments/{token}/reschedule", json={"quote": quote})


@case("/appointments/{token}/reschedule", "post", 422)
def reschedule_without_a_quote(ctx: Ctx):
    make_business()
    token = booked(ctx.client)
    return ctx.client.post(f"{API}/appointments/{token}/reschedule", json={"quote": None})


@case("/appointments/{token}/reschedule", "post", 429)
def reschedule_over_the_limit(ctx: Ctx):
    make_business()
    return over_the_limit(ctx, f"{API}/appointments/not-a-token/reschedule", json={"quote": "x"})


# POST appointments/{token}/cancel


@case("/appointments/{token}/cancel", "post", 200)
def cancel(ctx: Ctx):
    make_business()
    return ctx.client.post(f"{API}/appointments/{booked(ctx.client)}/cancel")


@case("/appointments/{token}/cancel", "post", 200)
def cancel_twice(ctx: Ctx):
    make_business()
    token = booked(ctx.client)
    ctx.client.post(f"{API}/appointments/{token}/cancel")
    response = ctx.client.post(f"{API}/appointments/{token}/cancel")
    assert "email_sent" not in response.get_json()
    return response


@case("/appointments/{token}/cancel", "post", 404)
def cancel_unknown(ctx: Ctx):
    make_business()
    return ctx.client.post(f"{API}/appointments/{'x' * 300}/cancel")


@case("/appointments/{token}/cancel", "post", 409)
def cancel_after_the_cutoff(ctx: Ctx):
    make_business()
    token = booked(ctx.client)
    after_the_cutoff(ctx)
    return ctx.client.post(f"{API}/appointments/{token}/cancel")


@case("/appointments/{token}/cancel", "post", 429)
def cancel_over_the_limit(ctx: Ctx):
    make_business()
    return over_the_limit(ctx, f"{API}/appointments/not-a-token/cancel")


# Every operation when the database cannot be reached (tests/booking/test_faults.py)


def database_down(ctx: Ctx) -> FlaskClient:
    """A client of an app whose database cannot be reached."""
    url = unreachable(
        str(ctx.migrated["SQLALCHEMY_DATABASE_URI"]), Path(str(ctx.migrated["_instance_path"]))
    )
    web = make_app({**ctx.migrated, "SQLALCHEMY_DATABASE_URI": url})

    def dispose() -> None:
        with web.app_context():
            db.engine.dispose()

    ctx.cleanups.append(dispose)
    return web.test_client()


SOME_TOKEN = "a" * 43


@case("/services", "get", 503)
def services_without_a_database(ctx: Ctx):
    return database_down(ctx).get(f"{API}/services")


@case("/geocode", "post", 503)
def geocode_without_a_database(ctx: Ctx):
    return database_down(ctx).post(f"{API}/geocode", json=ADDRESS)


@case("/offers", "post", 503)
def offers_without_a_database(ctx: Ctx):
    return database_down(ctx).post(f"{API}/offers", json={"service": "tap", **ADDRESS})


@case("/bookings", "post", 503)
def book_without_a_database(ctx: Ctx):
    return database_down(ctx).post(f"{API}/bookings", json={"quote": "x", **CONTACT})


@case("/appointments/{token}", "get", 503)
def appointment_without_a_database(ctx: Ctx):
    return database_down(ctx).get(f"{API}/appointments/{SOME_TOKEN}")


@case("/appointments/{token}/offers", "post", 503)
def move_offers_without_a_database(ctx: Ctx):
    return database_down(ctx).post(f"{API}/appointments/{SOME_TOKEN}/offers")


@case("/appointments/{token}/reschedule", "post", 503)
def reschedule_without_a_database(ctx: Ctx):
    return database_down(ctx).post(
        f"{API}/appointments/{SOME_TOKEN}/reschedule", json={"quote": "x"}
    )


@case("/appointments/{token}/cancel", "post", 503)
def cancel_without_a_database(ctx: Ctx):
    return database_down(ctx).post(f"{API}/appointments/{SOME_TOKEN}/cancel")


@pytest.fixture
def ctx(
    app: Flask, client: FlaskClient, migrated: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Ctx]:
    context = Ctx(app, client, migrated, monkeypatch)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 answer, as in production
    yield context
    for cleanup in context.cleanups:
        cleanup()


@pytest.mark.parametrize("name", list(CASES))
def test_real_answers_match_the_document(ctx: Ctx, name: str) -> None:
    """Each case gives the answer it is named for (its status), and `check` finds that
    status documented and the body valid against its schema."""
    answer = CASES[name]
    response = answer.make(ctx)
    assert response.status_code == answer.status, response.get_data(as_text=True)
    check(response, answer.path, answer.method)


def test_every_documented_answer_has_a_case() -> None:
    """The cases above cover every (path, method, status) in the document, and nothing
    the document lacks: every documented answer has been seen for real."""
    document = openapi_document()
    documented = {
        (path, method, int(status))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
        for status in operation["responses"]
    }
    assert {(c.path, c.method, c.status) for c in CASES.values()} == documented


# --- the whole flow, and what `check` refuses -------------------------------------------------


def test_the_whole_flow_matches_the_document(client: FlaskClient) -> None:
    """services → geocode → offers → bookings → GET → move offers → reschedule → GET →
    cancel, each answer checked against the document."""
    make_business()
    services = check(client.get(f"{API}/services"), "/services", "get")
    code = services["services"][0]["code"]
    check(client.post(f"{API}/geocode", json=ADDRESS), "/geocode", "post")
    slots = check(
        client.post(f"{API}/offers", json={"service": code, **ADDRESS}), "/offers", "post"
    )["slots"]
    first = next(s for s in slots if s["offered"])
    created = check(book(client, first["quote"]), "/bookings", "post")
    token = created["appointment"]["manage_token"]
    shown = check(client.get(f"{API}/appointments/{token}"), "/appointments/{token}", "get")
    assert shown == {"appointment": created["appointment"]}
    moves = check(
        client.post(f"{API}/appointments/{token}/offers"), "/appointments/{token}/offers", "post"
    )["slots"]
    target = next(s for s in moves if s["offered"] and not s["current"])
    moved = check(
        client.post(f"{API}/appointments/{token}/reschedule", json={"quote": target["quote"]}),
        "/appointments/{token}/reschedule",
        "post",
    )
    assert moved["appointment"]["day"] == target["day"]
    cancelled = check(
        client.post(f"{API}/appointments/{token}/cancel"), "/appointments/{token}/cancel", "post"
    )
    assert cancelled["appointment"]["status"] == "cancelled"


def test_an_undocumented_status_fails_the_check(client: FlaskClient) -> None:
    """A real 409 slot_taken, checked against a document without the 409 of bookings,
    fails with "does not name"; so does a real 405 on a path the document has."""
    make_business()
    stale = offered(client, "bigjob")[0]["quote"]
    booked(client, "bigjob", "a@example.de")
    booked(client, "bigjob", "b@example.de")
    taken = book(client, stale)
    assert taken.status_code == 409
    check(taken, "/bookings", "post")
    document = openapi_document()
    del document["paths"]["/bookings"]["post"]["responses"]["409"]
    with pytest.raises(AssertionError, match="409, which the document does not name"):
        check(taken, "/bookings", "post", document)
    with pytest.raises(AssertionError, match="405, which the document does not name"):
        check(client.put(f"{API}/services"), "/services", "get")


def test_a_body_off_the_schema_fails_the_check(client: FlaskClient) -> None:
    """The real catalogue against a document whose Service lacks `from_price_cents`
    (closed objects: an unknown field fails), and whose Price needs a `currency`."""
    make_business()
    answer = client.get(f"{API}/services")
    document = openapi_document()
    del document["components"]["schemas"]["Service"]["properties"]["from_price_cents"]
    with pytest.raises(AssertionError, match="from_price_cents"):
        check(answer, "/services", "get", document)
    created = book(client, offered(client)[0]["quote"])
    document = openapi_document()
    document["components"]["schemas"]["Price"]["required"].append("currency")
    with pytest.raises(AssertionError, match="currency"):
        check(created, "/bookings", "post", document)
