"""The contact step: name, phone, email, notes, access hints ("Hinterhaus, 2. OG") and
consent with a link to the privacy notice. Every field is checked on the server with its
message next to it (and tied to it for screen readers); bad input stores nothing and is
never reflected unescaped. The access hints reach the dispatcher and the route sheet; the
time of consent is stored with the appointment.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import refresh
from sqlalchemy import select

from booking.extensions import db
from booking.models import Appointment, Customer, RouteStop
from booking.services.bookings import Contact
from tests.booking.pages import CONTACT, book, count, slot_quotes
from tests.conftest import NOW
from tests.factories import TUESDAY, make_business, make_user

API = "/api/v1"
HINTS = "Hinterhaus, 2. OG"
API_CONTACT = {
    "name": "Erika Mustermann",
    "phone": "0391 123456",
    "email": "erika@example.de",
    "consent": True,
}


def nothing_stored() -> bool:
    return count(Customer) == count(Appointment) == count(RouteStop) == 0


def api_quote(client: FlaskClient) -> str:
    response = client.post(
        f"{API}/offers",
        json={"service": "tap", "street": "Breiter Weg 10", "postcode": "39104",
              "city": "Magdeburg"},
    )  # fmt: skip
    return next(slot["quote"] for slot in response.get_json()["slots"] if slot["offered"])


def api_book(client: FlaskClient, **fields: Any):
    return client.post(f"{API}/bookings", json={"quote": api_quote(client), **API_CONTACT,
                                                **fields})  # fmt: skip


def board_html(client: FlaskClient) -> str:
    client.post("/login", data={"email": "dispo@test.example", "password": "secret-123"})
    response = client.get("/dispatch/", query_string={"day": TUESDAY.isoformat()})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def sheet_html(client: FlaskClient, board: str) -> str:
    links = re.findall(r'href="(/sheets/[^"]+)"', board)
    pages = [client.get(link).get_data(as_text=True) for link in links]
    return next(page for page in pages if "Erika" in page)


# --- the form ------------------------------------------------------------------------------


def test_the_details_page_has_access_hints_and_links_the_privacy_notice(
    client: FlaskClient,
) -> None:
    """The details form asks for access hints (with an example, tied to the field) and
    links the consent to /datenschutz."""
    make_business()
    html = client.post("/book/details", data={"quote": slot_quotes(client, "tap")[0]}).get_data(
        as_text=True
    )
    assert "Zugangshinweise" in html
    assert 'aria-describedby="access_hints-hint"' in html
    assert "Zum Beispiel: Hinterhaus, 2. OG; bei Müller klingeln." in html
    assert 'href="/datenschutz"' in html
    assert "Ich bin einverstanden" in html
    assert '="None"' not in html


def test_access_hints_and_the_time_of_consent_are_stored(client: FlaskClient) -> None:
    """A booking on the pages keeps the access hints and the moment of consent (now)."""
    make_business()
    response = book(client, slot_quotes(client, "tap")[0], access_hints=HINTS)
    assert response.status_code == 302
    appointment = db.session.scalars(select(Appointment)).one()
    assert appointment.access_hints == HINTS
    assert appointment.notes == CONTACT["notes"]
    assert appointment.consent_at == NOW


def test_messages_sit_next_to_their_fields_for_screen_readers(client: FlaskClient) -> None:
    """Empty name, bad email, over-long access hints and no consent: each field is marked
    invalid, names its message with aria-describedby, and the message stands right after
    it; a summary at the top says to check the marked fields. Nothing is stored."""
    make_business()
    response = client.post(
        "/book/confirm",
        data={"quote": slot_quotes(client, "tap")[0], "name": "", "phone": "0391 123456",
              "email": "nope", "access_hints": "h" * 201},
    )  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte prüfen Sie die markierten Felder." in html
    for name in ("name", "email", "access_hints"):
        tag = re.search(rf'<(?:input|textarea)[^>]*\bid="{name}"[^>]*>', html)
        assert tag is not None, name
        assert 'aria-invalid="true"' in tag.group(0)
        assert f"{name}-error" in tag.group(0)
        assert html.index(f'id="{name}-error"') > tag.start()
    assert "Bitte höchstens 200 Zeichen." in html
    consent = re.search(r'<input[^>]*\bid="consent"[^>]*>', html)
    assert consent is not None and "consent-error" in consent.group(0)
    assert 'aria-invalid="false"' in re.search(r'<input[^>]*\bid="phone"[^>]*>', html).group(0)
    assert '="None"' not in html  # attributes not given are left out
    assert nothing_stored()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("access_hints", "h" * 201, "höchstens 200 Zeichen"),
        ("access_hints", "Hof\x07links", "nur Buchstaben"),
        ("notes", "n" * 1001, "höchstens 1000 Zeichen"),
        ("name", "E" * 121, "Bitte 2 bis 120 Zeichen."),
        ("phone", "<script>", "gültige Telefonnummer"),
        ("consent", "", "Einwilligung"),
    ],
)
def test_bad_contact_fields_on_the_page_store_nothing(
    client: FlaskClient, field: str, value: str, message: str
) -> None:
    """Each bad field is answered with 422 and its message; nothing is stored."""
    make_business()
    data = {**CONTACT, field: value}
    if field == "consent":
        del data["consent"]
    response = client.post("/book/confirm", data={"quote": slot_quotes(client, "tap")[0],
                                                  **data})  # fmt: skip
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert "<script>" not in response.get_data(as_text=True)
    assert nothing_stored()


def test_script_tags_in_access_hints_are_shown_as_text(client: FlaskClient) -> None:
    """Access hints with markup are stored as typed and escaped on the dispatcher's day
    view and on the route sheet, where they appear with the stop."""
    business = make_business()
    make_user(business)
    book(client, slot_quotes(client, "tap")[0], access_hints="<b>Hof</b> <script>x()</script>")
    board = board_html(client)
    sheet = sheet_html(client, board)
    for html in (board, sheet):
        assert "<script>x()</script>" not in html
        assert "&lt;b&gt;Hof&lt;/b&gt; &lt;script&gt;x()&lt;/script&gt;" in html
        assert "Zugang" in html


def test_access_hints_reach_the_dispatcher_and_the_route_sheet(client: FlaskClient) -> None:
    """ "Hinterhaus, 2. OG" is on the day view next to the address and on the route sheet
    after the address, marked as access."""
    business = make_business()
    make_user(business)
    book(client, slot_quotes(client, "tap")[0], access_hints=HINTS)
    board = board_html(client)
    assert f"Zugang: {HINTS}" in board
    sheet = sheet_html(client, board)
    assert f"<strong>Zugang:</strong> {HINTS}" in sheet
    assert sheet.index("Breiter Weg 10") < sheet.index(HINTS)


# --- the API -------------------------------------------------------------------------------


def test_the_api_stores_access_hints_and_consent(client: FlaskClient) -> None:
    """bookings with access_hints: 201, the hints come back on the appointment, and the
    consent time is stored."""
    make_business()
    response = api_book(client, access_hints=HINTS)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["appointment"]["access_hints"] == HINTS
    appointment = db.session.scalars(select(Appointment)).one()
    assert (appointment.access_hints, appointment.consent_at) == (HINTS, NOW)


@pytest.mark.parametrize(
    "value", [["Hof"], 2, True, {"floor": 2}], ids=["list", "number", "bool", "object"]
)
def test_access_hints_of_the_wrong_type_are_named(client: FlaskClient, value: Any) -> None:
    """Anything but text in access_hints: 422 invalid_field naming it; nothing stored."""
    make_business()
    response = api_book(client, access_hints=value)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["code"], list(error["fields"])) == ("invalid_field", ["access_hints"])
    assert nothing_stored()


@pytest.mark.parametrize(
    "value", ["h" * 201, "Hof\x00links", "Hof\x1blinks"], ids=["too-long", "nul", "escape"]
)
def test_bad_access_hints_in_the_api_store_nothing(
    app: Flask, client: FlaskClient, value: str
) -> None:
    """Over-long hints or control characters: 422 on access_hints, never a 500."""
    make_business()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer a crash with a 500 like production
    response = api_book(client, access_hints=value)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(response.get_json()["error"]["fields"]) == ["access_hints"]
    assert nothing_stored()


def test_missing_consent_with_other_errors_is_invalid_field(client: FlaskClient) -> None:
    """Consent missing and the email malformed: invalid_field naming both (consent_required
    is the code only when consent is all that is missing)."""
    make_business()
    body = {**API_CONTACT, "email": "nope"}
    del body["consent"]
    response = client.post(f"{API}/bookings", json={"quote": api_quote(client), **body})
    error = response.get_json()["error"]
    assert response.status_code == 422
    assert error["code"] == "invalid_field"
    assert set(error["fields"]) == {"email", "consent"}
    assert nothing_stored()


# --- the service layer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"access_hints": "h" * 201}, "access_hints must have at most 200"),
        ({"access_hints": " Hof"}, "access_hints must be stripped"),
        ({"consent_at": NOW.replace(tzinfo=None)}, "consent_at must be timezone-aware"),
    ],
)
def test_contact_checks_access_hints_and_consent_time(
    changes: dict[str, Any], message: str
) -> None:
    """The service layer refuses what the forms refuse: over-long or padded hints, and a
    consent time without a zone."""
    values: dict[str, Any] = {"name": "Erika", "phone": "0391 123456",
                              "email": "erika@example.de"} | changes  # fmt: skip
    with pytest.raises(ValueError, match=message):
        Contact(**values)


# --- the privacy notice --------------------------------------------------------------------


def test_the_privacy_notice_says_what_is_stored_and_whom_to_ask(client: FlaskClient) -> None:
    """/datenschutz in German: what is stored and why, the legal basis, the firm's name,
    address, phone and email; with the offline geocoder no address leaves the server."""
    make_business()
    response = client.get("/datenschutz")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in (
        "Datenschutzhinweise",
        "Zugangshinweise",
        "Art. 6 Abs. 1 lit. b DSGVO",
        "Sanitär Test GmbH, Sternstraße 12, 39104 Magdeburg",
        "0391 000 111",
        "info@test.example",
        "an niemanden übermittelt",
        "kein Tracking",
    ):
        assert text in html, text


def test_the_privacy_notice_is_in_english_too(client: FlaskClient) -> None:
    make_business()
    html = client.get("/datenschutz?lang=en").get_data(as_text=True)
    assert "Privacy notice" in html
    assert "Art. 6(1)(b) GDPR" in html
    assert "info@test.example" in html
    refresh()


def test_the_privacy_notice_names_a_remote_address_search(
    migrated: dict[str, object], app: Flask
) -> None:
    """With GEOCODER=photon, the notice names the server that sees street, postcode and city."""
    from tests.conftest import make_app

    make_business()
    web = make_app({**migrated, "GEOCODER": "photon", "PHOTON_URL": "https://photon.example:2322"})
    with web.app_context():
        html = web.test_client().get("/datenschutz").get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()
    assert "an die Adresssuche unter photon.example" in html
