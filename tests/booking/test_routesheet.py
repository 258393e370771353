"""Technicians open their route sheet through a signed, expiring link: no login needed."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import RouteStop, Technician
from booking.services.clock import hhmm
from booking.services.quotes import read_quote
from booking.services.sheets import SheetLink, read_sheet, sign_sheet
from tests.booking.pages import book, slot_quotes
from tests.factories import TUESDAY, make_business, make_user

H = 3600

# Two neighbours on Breiter Weg (postcode 39104: located at 52.1243, 11.6322).
ERIKA = {"name": "Erika Mustermann", "phone": "0391 123456", "notes": "Hinterhaus, 2. OG"}
KARL = {"name": "Karl Nachbar", "phone": "0391 654321", "notes": "Klingel defekt, bitte anrufen"}


def tuesday_tap(client: FlaskClient, window_start: int) -> str:
    """The customer page's quote for a tap on Tuesday in the window starting then."""
    secret = current_app.config["SECRET_KEY"]
    return next(
        token
        for token in slot_quotes(client, "tap")
        if (q := read_quote(token, secret, 900)).day == TUESDAY and q.window_start_s == window_start
    )


def book_two_neighbours(client: FlaskClient) -> None:
    """Taps for Erika (Tuesday 08-10) and Karl (Tuesday 10-12), booked on the customer pages."""
    book(client, tuesday_tap(client, 8 * H), **ERIKA, email="erika@example.de")
    book(client, tuesday_tap(client, 10 * H), **KARL, email="karl@example.de")


def sheet_links_on_day_view(client: FlaskClient) -> dict[int, str]:
    """Log in and collect the day view's route-sheet links, by technician id."""
    client.post("/login", data={"email": "dispo@test.example", "password": "secret-123"})
    html = client.get("/dispatch/", query_string={"day": TUESDAY.isoformat()}).get_data(
        as_text=True
    )
    links = [unescape(href) for href in re.findall(r'href="(/sheets/[^"]+)"', html)]
    secret = current_app.config["SECRET_KEY"]
    by_technician = {}
    for link in links:
        sheet = read_sheet(link.removeprefix("/sheets/"), secret, 3600)
        assert sheet is not None
        assert sheet.day == TUESDAY
        by_technician[sheet.technician_id] = link
    return by_technician


def test_the_day_view_links_each_technician_to_their_route_sheet(client: FlaskClient) -> None:
    """Both technicians get a link, and each opens (without login) on their own name."""
    business = make_business()
    make_user(business)
    links = sheet_links_on_day_view(client)
    assert set(links) == {t.id for t in business.technicians}
    client.post("/logout")
    for technician in business.technicians:
        response = client.get(links[technician.id])
        assert response.status_code == 200
        assert f"<h1>{technician.name}</h1>" in response.get_data(as_text=True)


def test_the_route_sheet_lists_the_stops_in_order(client: FlaskClient) -> None:
    """Erika's and Karl's taps share one route; its sheet shows them in route order with
    planned time, name, tel: link, geo: link and the customer's notes."""
    business = make_business()
    make_user(business)
    book_two_neighbours(client)
    stops = db.session.scalars(select(RouteStop).order_by(RouteStop.position)).all()
    assert len({s.technician_id for s in stops}) == 1  # Karl's job rides along Erika's route
    technician = db.session.get(Technician, stops[0].technician_id)
    assert technician is not None
    link = sheet_links_on_day_view(client)[technician.id]
    client.post("/logout")

    html = client.get(link).get_data(as_text=True)

    assert f"<h1>{technician.name}</h1>" in html
    assert "Dienstag, 24. November 2026" in html
    assert [s.appointment.customer.name for s in stops] == ["Erika Mustermann", "Karl Nachbar"]
    expected = [
        (f"<strong>{hhmm(stops[0].planned_start_s)}</strong>", "Fenster 08:00–10:00"),
        ("Erika Mustermann", 'href="tel:0391123456"'),
        ("Hinterhaus, 2. OG", f"<strong>{hhmm(stops[1].planned_start_s)}</strong>"),
        ("Fenster 10:00–12:00", "Karl Nachbar"),
        ('href="tel:0391654321"', "Klingel defekt, bitte anrufen"),
    ]
    sequence = [text for pair in expected for text in pair]
    positions = [html.find(text) for text in sequence]
    assert -1 not in positions, [t for t, p in zip(sequence, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    assert html.count('href="geo:52.1243,11.6322"') == 2
    assert "Armatur tauschen" in html


def test_a_technician_without_jobs_gets_an_empty_sheet(client: FlaskClient) -> None:
    """Gerd has nothing on Tuesday: his sheet opens and says "Noch keine Aufträge."."""
    business = make_business()
    gerd = business.technicians[1]
    token = sign_sheet(SheetLink(gerd.id, TUESDAY), current_app.config["SECRET_KEY"])
    response = client.get(f"/sheets/{token}")
    assert response.status_code == 200
    assert "Noch keine Aufträge." in response.get_data(as_text=True)


# --- links that must not open ----------------------------------------------------------------


def valid_token(business_technician: Technician) -> str:
    return sign_sheet(SheetLink(business_technician.id, TUESDAY), current_app.config["SECRET_KEY"])


def test_a_tampered_token_is_not_found(client: FlaskClient) -> None:
    """Changing the last characters of a good token (its signature) gives 404."""
    business = make_business()
    token = valid_token(business.technicians[0])
    assert client.get(f"/sheets/{token}").status_code == 200
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.get(f"/sheets/{tampered}").status_code == 404


def test_an_expired_token_is_not_found(app: Flask, client: FlaskClient) -> None:
    """With a lifetime below zero days every link is expired: 404."""
    business = make_business()
    token = valid_token(business.technicians[0])
    app.config["SHEET_LINK_TTL_DAYS"] = -1
    assert client.get(f"/sheets/{token}").status_code == 404


def test_a_token_signed_with_another_secret_is_not_found(client: FlaskClient) -> None:
    """A well-formed link signed with someone else's key gives 404."""
    business = make_business()
    foreign = sign_sheet(SheetLink(business.technicians[0].id, TUESDAY), "another-secret")
    assert client.get(f"/sheets/{foreign}").status_code == 404


def test_a_token_for_an_unknown_technician_is_not_found(client: FlaskClient) -> None:
    """A correctly signed link for a technician id that does not exist gives 404."""
    business = make_business()
    missing = max(t.id for t in business.technicians) + 1000
    token = sign_sheet(SheetLink(missing, TUESDAY), current_app.config["SECRET_KEY"])
    assert client.get(f"/sheets/{token}").status_code == 404


@pytest.mark.parametrize("token", ["not-a-token", "x" * 300, "eyJ0IjoxfQ.AAAA.BBBB"])
def test_garbage_tokens_are_not_found(client: FlaskClient, token: str) -> None:
    """Anything that is not one of our signed links gives 404."""
    make_business()
    assert client.get(f"/sheets/{token}").status_code == 404


def test_a_link_of_a_since_deactivated_technician_does_not_crash(client: FlaskClient) -> None:
    """A link sent to Anna before she was deactivated (no jobs that day) answers 404, not a
    server error."""
    business = make_business()
    anna = business.technicians[0]
    token = valid_token(anna)
    anna.active = False
    db.session.commit()
    assert client.get(f"/sheets/{token}").status_code == 404
