"""Two businesses in one database, each on its own host name: the start page, the service
list, offers and bookings (pages and API) of a host are its business's only.

Elbe answers on termine.elbe.example and offers "tap" at 89 € and the 7-hour "bigjob";
Harz answers on termine.harz.example, has its own technicians, calls "tap" "Harzer
Armatur" at 129 € and does not offer "bigjob". The test client's default host,
"localhost", belongs to neither. How a host is resolved: booking/tenancy.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import event, select

from booking.extensions import db
from booking.models import Appointment, Business, RouteStop, UserRole
from booking.services.clock import now_utc
from booking.services.emails import appointment_email
from booking.services.invariants import broken_promises
from booking.services.quotes import read_quote
from booking.tenancy import current_business
from tests.booking.mailbox import mails, text_of
from tests.booking.pages import ADDRESS, CONTACT, count, quotes_on
from tests.booking.test_dispatch import login
from tests.booking.test_dispatch_manage import SETTINGS
from tests.factories import make_business, make_user, service

ELBE_HOST = "termine.elbe.example"
HARZ_HOST = "termine.harz.example"
API = "/api/v1"
API_CONTACT = {**CONTACT, "consent": True}


@dataclass
class Firms:
    elbe: Business
    harz: Business


def two_firms() -> Firms:
    elbe = make_business("elbe")
    elbe.name, elbe.host = "Sanitär Elbe GmbH", ELBE_HOST
    harz = make_business("harz")
    harz.name, harz.host = "Harzer Heizung KG", HARZ_HOST
    harz.technicians[0].name, harz.technicians[1].name = "Hanna Harz", "Bernd Brocken"
    tap = service(harz, "tap")
    tap.name_de, tap.base_price_cents = "Harzer Armatur", 12900
    service(harz, "bigjob").active = False
    db.session.commit()
    return Firms(elbe, harz)


class HostClient(FlaskClient):
    """A browser that opens every page under one host name (the test client's own
    base_url, per request)."""

    def __init__(self, app: Flask, host: str) -> None:
        super().__init__(app, app.response_class, use_cookies=True)
        self.host = host

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("base_url", f"http://{self.host}")
        return super().open(*args, **kwargs)


def on(app: Flask, host: str) -> FlaskClient:
    return HostClient(app, host)


def api_offers(client: FlaskClient, code: str = "tap") -> list[dict]:
    response = client.post(f"{API}/offers", json={"service": code, **ADDRESS})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [slot for slot in response.get_json()["slots"] if slot["offered"]]


def quote_business(token: str) -> int:
    secret = current_app.config["SECRET_KEY"]
    return read_quote(token, secret, current_app.config["QUOTE_TTL_S"]).business_id


def test_each_host_shows_its_own_firm_and_services(app: Flask) -> None:
    """Start page, service list, privacy page and a service's address page: Elbe's on
    Elbe's host, Harz's on Harz's; Harz's host does not know Elbe's "bigjob"."""
    firms = two_firms()
    elbe, harz = on(app, ELBE_HOST), on(app, HARZ_HOST)

    elbe_page = elbe.get("/").get_data(as_text=True)
    assert "Sanitär Elbe GmbH" in elbe_page and "Armatur tauschen" in elbe_page
    assert "Harz" not in elbe_page
    harz_page = harz.get("/").get_data(as_text=True)
    assert "Harzer Heizung KG" in harz_page and "Harzer Armatur" in harz_page
    assert "Elbe" not in harz_page and "/book/bigjob" not in harz_page
    assert "Harzer Heizung KG" in harz.get("/datenschutz").get_data(as_text=True)

    catalogue = harz.get(f"{API}/services").get_json()
    assert catalogue["business"]["name"] == "Harzer Heizung KG"
    assert [(s["code"], s["base_price_cents"]) for s in catalogue["services"]] == [
        ("tap", 12900),
        ("gasboiler", service(firms.harz, "gasboiler").base_price_cents),
    ]
    assert [s["code"] for s in elbe.get(f"{API}/services").get_json()["services"]] == [
        "tap",
        "gasboiler",
        "bigjob",
    ]
    assert elbe.get("/book/bigjob").status_code == 200
    assert harz.get("/book/bigjob").status_code == 404
    assert harz.post(f"{API}/offers", json={"service": "bigjob", **ADDRESS}).status_code == 404


def test_offers_on_each_host_are_its_firm_s_with_its_prices(app: Flask) -> None:
    """The same request on the two hosts: quotes signed for that host's business, at its
    base price (89 € and 129 €), on the slot pages and in the API."""
    firms = two_firms()
    for host, business, base in ((ELBE_HOST, firms.elbe, 8900), (HARZ_HOST, firms.harz, 12900)):
        client = on(app, host)
        slots = api_offers(client)
        assert slots and {s["price"]["base_cents"] for s in slots} == {base}
        assert {quote_business(s["quote"]) for s in slots} == {business.id}
        page = client.get("/book/tap/slots", query_string=ADDRESS)
        assert page.status_code == 200
        quotes = quotes_on(page.get_data(as_text=True))
        assert quotes and {quote_business(q) for q in quotes} == {business.id}


@pytest.mark.parametrize("api", [False, True], ids=["pages", "api"])
def test_a_quote_of_one_firm_books_nothing_at_the_other(app: Flask, api: bool) -> None:
    """Elbe's quote posted to Harz's host is refused (the API: 422 quote_invalid; the
    pages: back to Harz's start page) and writes nothing. Posted to Elbe's host, it books
    one appointment of Elbe's, on a route of one of Elbe's technicians; Harz has none."""
    firms = two_firms()
    elbe, harz = on(app, ELBE_HOST), on(app, HARZ_HOST)
    quote = api_offers(elbe)[0]["quote"]

    if api:
        refused = harz.post(f"{API}/bookings", json={"quote": quote, **API_CONTACT})
        assert refused.status_code == 422
        assert refused.get_json()["error"]["code"] == "quote_invalid"
    else:
        refused = harz.post("/book/confirm", data={"quote": quote, **CONTACT})
        assert refused.status_code == 302 and refused.headers["Location"] == "/"
    assert count(Appointment) == 0 and count(RouteStop) == 0

    if api:
        booked = elbe.post(f"{API}/bookings", json={"quote": quote, **API_CONTACT})
        assert booked.status_code == 201, booked.get_data(as_text=True)
    else:
        booked = elbe.post("/book/confirm", data={"quote": quote, **CONTACT})
        assert booked.status_code == 302 and "/appointment/" in booked.headers["Location"]
    appointment = db.session.scalars(select(Appointment)).one()
    assert appointment.business_id == firms.elbe.id
    assert appointment.stop is not None
    assert appointment.stop.technician_id in {t.id for t in firms.elbe.technicians}
    harz_appointments = select(Appointment).where(Appointment.business_id == firms.harz.id)
    assert db.session.scalars(harz_appointments).all() == []
    assert broken_promises(firms.elbe) == [] and broken_promises(firms.harz) == []


def test_a_host_of_no_business_gets_a_clear_404_when_there_are_several(app: Flask) -> None:
    """localhost names neither firm: every public page is the "no business" 404 (German
    by default), the API answers 404 unknown_business; nothing is booked. Dispatchers are not
    affected: they log in on any host."""
    firms = two_firms()
    stranger = on(app, "localhost")
    for path in ("/", "/datenschutz", "/book/tap", "/book/tap/slots"):
        response = stranger.get(path, query_string=ADDRESS)
        assert response.status_code == 404, path
        assert "Diese Adresse gehört zu keinem Betrieb." in response.get_data(as_text=True)
    for method, path in (("get", "/services"), ("post", "/offers"), ("post", "/bookings")):
        response = stranger.open(f"{API}{path}", method=method, json={"service": "tap"})
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "unknown_business"
    assert stranger.post("/book/confirm", data={"quote": "x", **CONTACT}).status_code == 404
    assert count(Appointment) == 0

    make_user(firms.harz)
    assert login(stranger).status_code == 302
    assert stranger.get("/dispatch/").status_code == 200


def test_the_no_business_page_speaks_english_on_request(app: Flask) -> None:
    two_firms()
    english = on(app, "localhost").get("/?lang=en")
    assert english.status_code == 404
    assert "This address belongs to no business." in english.get_data(as_text=True)


def test_the_host_is_matched_without_port_and_case(app: Flask) -> None:
    """Browsers may send "Termine.Harz.Example:8443": still Harz."""
    two_firms()
    page = on(app, "Termine.Harz.Example:8443").get("/")
    assert page.status_code == 200
    assert "Harzer Heizung KG" in page.get_data(as_text=True)


def test_default_business_answers_on_hosts_of_no_business(app: Flask) -> None:
    """With DEFAULT_BUSINESS = "harz", localhost shows Harz; Elbe's host still shows Elbe."""
    two_firms()
    app.config["DEFAULT_BUSINESS"] = "harz"
    assert "Harzer Heizung KG" in on(app, "localhost").get("/").get_data(as_text=True)
    assert "Sanitär Elbe GmbH" in on(app, ELBE_HOST).get("/").get_data(as_text=True)
    app.config["DEFAULT_BUSINESS"] = "nobody"  # a slug no business has: as if unset
    assert on(app, "localhost").get("/").status_code == 404


def test_with_one_business_every_host_shows_it(app: Flask) -> None:
    """The embedded default, `make run` and the demo: one firm, any host, its host set or
    not."""
    business = make_business()
    for host in ("localhost", "127.0.0.1:5000", "anything.example"):
        assert on(app, host).get("/").status_code == 200
        assert on(app, host).get(f"{API}/services").status_code == 200
    business.host = ELBE_HOST
    db.session.commit()
    assert on(app, "anything.example").get("/").status_code == 200


def test_the_business_of_a_request_costs_one_query(app: Flask) -> None:
    """Whether by host, as the only one or as the default: one SELECT per request."""
    firms = two_firms()
    app.config["DEFAULT_BUSINESS"] = "harz"
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        for host, expected in ((ELBE_HOST, firms.elbe), ("localhost", firms.harz)):
            db.session.expire_all()
            statements.clear()
            with app.test_request_context("/", headers={"Host": host}):
                assert current_business().id == expected.id
            assert len(statements) == 1, statements
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def admin_client(app: Flask, business: Business, host: str) -> FlaskClient:
    user = make_user(business, email=f"chef@{business.slug}.example")
    user.role = UserRole.ADMIN
    db.session.commit()
    client = on(app, host)
    assert login(client, email=user.email).status_code == 302
    return client


def test_an_admin_sets_the_host_name_on_the_settings_page(app: Flask) -> None:
    """Stored lower-case and Punycode; a URL instead of a host name, or Harz's host, is
    refused with a German message and changes nothing; empty clears it."""
    firms = two_firms()
    client = admin_client(app, firms.elbe, ELBE_HOST)
    assert client.get("/dispatch/settings").get_data(as_text=True).count(ELBE_HOST) >= 1

    for wrong, message in (
        ("https://termine.elbe.example/", "Bitte nur den Hostnamen angeben"),
        ("termine elbe", "Bitte nur den Hostnamen angeben"),
        ("Termine.Harz.Example", "Diesen Hostnamen nutzt schon ein anderer Betrieb."),
    ):
        refused = client.post("/dispatch/settings", data={**SETTINGS, "host": wrong})
        assert refused.status_code == 422, wrong
        assert message in refused.get_data(as_text=True), wrong
        db.session.expire_all()
        assert db.session.get(Business, firms.elbe.id).host == ELBE_HOST

    saved = client.post("/dispatch/settings", data={**SETTINGS, "host": " Termine.Müller.Example "})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Business, firms.elbe.id).host == "termine.xn--mller-kva.example"
    assert on(app, "termine.xn--mller-kva.example").get("/").status_code == 200

    assert client.post("/dispatch/settings", data={**SETTINGS, "host": ""}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Business, firms.elbe.id).host is None


def test_a_dispatcher_sees_the_host_name_but_cannot_change_it(app: Flask) -> None:
    """The settings page shows the host name to a dispatcher; changing it is for admins."""
    firms = two_firms()
    make_user(firms.harz)
    client = on(app, HARZ_HOST)
    assert login(client).status_code == 302
    assert HARZ_HOST in client.get("/dispatch/settings").get_data(as_text=True)
    refused = client.post("/dispatch/settings", data={**SETTINGS, "host": "x.example"})
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(Business, firms.harz.id).host == HARZ_HOST


def test_email_links_go_to_the_firm_s_own_host(app: Flask, outbox: Path) -> None:
    """Booked on Harz's host, the confirmation links there. An email written while a
    request is on another host (a dispatcher's, here localhost) links to Harz's host too:
    the manage link and, once cancelled, the start page."""
    firms = two_firms()
    harz = on(app, HARZ_HOST)
    quote = api_offers(harz)[0]["quote"]
    booked = harz.post(f"{API}/bookings", json={"quote": quote, **API_CONTACT})
    assert booked.status_code == 201, booked.get_data(as_text=True)
    token = booked.get_json()["appointment"]["manage_token"]
    manage_url = f"http://{HARZ_HOST}/appointment/{token}"
    [confirmation] = mails(outbox)
    assert manage_url in text_of(confirmation)

    appointment = db.session.scalars(select(Appointment)).one()
    assert appointment.business_id == firms.harz.id
    with app.test_request_context("/dispatch/", base_url="http://localhost"):
        assert manage_url in text_of(appointment_email(appointment, "booked", now_utc()))
        cancelled = text_of(appointment_email(appointment, "cancelled", now_utc()))
    assert f"http://{HARZ_HOST}/\n" in cancelled and "localhost" not in cancelled


CREATE_ELBE = [
    "create-business", "--slug", "elbe", "--name", "Sanitär Elbe GmbH",
    "--street", "Sternstraße 12", "--postcode", "39104", "--city", "Magdeburg",
    "--phone", "0391 000 222", "--email", "Info@Elbe.example", "--host", "Termine.Elbe.Example",
]  # fmt: skip


def test_create_business_makes_a_firm_on_its_own_host(app: Flask) -> None:
    """A second firm beside Harz: created with its host name, located at its workshop
    (39104's centroid in the test geodata), with the standard windows and prices; its
    host shows it (no services yet), Harz's host still shows Harz."""
    make_business("harz").host = HARZ_HOST
    db.session.commit()
    result = app.test_cli_runner().invoke(args=CREATE_ELBE)
    assert result.exit_code == 0, result.output
    assert "https://termine.elbe.example/" in result.output
    elbe = db.session.scalars(select(Business).where(Business.slug == "elbe")).one()
    assert (elbe.host, elbe.email, elbe.address) == (
        ELBE_HOST, "info@elbe.example", "Sternstraße 12, 39104 Magdeburg"
    )
    assert (elbe.depot_lat, elbe.depot_lon) == (52.1243, 11.6322)
    assert elbe.slot_windows == [[8 * 3600, 10 * 3600], [10 * 3600, 12 * 3600],
                                 [12 * 3600, 14 * 3600], [14 * 3600, 16 * 3600]]  # fmt: skip
    assert "Sanitär Elbe GmbH" in on(app, ELBE_HOST).get("/").get_data(as_text=True)
    assert "Sanitär Elbe GmbH" not in on(app, HARZ_HOST).get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--slug", "harz", "a business with slug 'harz' exists already"),
        ("--host", "termine.harz.example", "another business has the host name"),
        ("--host", "https://termine.elbe.example", "--host must be a host name"),
        ("--slug", "Elbe Nord", "--slug must be lower-case"),
        ("--postcode", "99999", "no place is known at this address"),
    ],
)
def test_create_business_refuses_what_does_not_fit(
    app: Flask, option: str, value: str, message: str
) -> None:
    make_business("harz").host = HARZ_HOST
    db.session.commit()
    args = list(CREATE_ELBE)
    args[args.index(option) + 1] = value
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0 and message in result.output, result.output
    assert count(Business) == 1
