"""The dispatcher sees which addresses are located only approximately: each stop whose
position is not exact to the house is flagged ("≈ PLZ-Bereich", "≈ Straße") on the day
view and the route sheet, and the day's figures count them."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from booking.models import Business
from booking.services.bookings import Contact, confirm_booking
from booking.services.clock import now_utc
from booking.services.offering import Address, find_slots
from booking.services.quotes import Quote
from tests.factories import TUESDAY, make_business, make_user, service

H = 3600


def book_at(business: Business, address: Address, name: str, window_start: int) -> None:
    """Book a tap on Tuesday through the services the pages use."""
    tap = service(business, "tap")
    slot = next(
        s
        for s in find_slots(business, tap, address, now_utc())
        if s.kind == "slot" and s.day == TUESDAY and s.window.start == window_start
    )
    assert slot.offer is not None
    quote = Quote.from_offer(business.id, tap.id, address, slot.offer)
    confirm_booking(business, quote, Contact(name, "0391 765432", "k@example.de"), now_utc())


def rows(html: str) -> dict[str, str]:
    """Each table row of the day view, by the customer's name in it."""
    found = {}
    for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S):
        for name in ("Hanna Haus", "Stefan Strasse", "Paul Plz"):
            if name in row:
                found[name] = row
    return found


def test_the_day_view_flags_approximate_addresses(client: FlaskClient) -> None:
    """Three stops on Tuesday: located to the house, to the street, to the postcode area.
    Only the last two are flagged, each with its kind, and the figures say 2 addresses."""
    business = make_business()
    make_user(business)
    book_at(business, Address("Breiter Weg 10", "39104", "Magdeburg", 52.1271, 11.6351, "house"),
            "Hanna Haus", 8 * H)  # fmt: skip
    book_at(business, Address("Leiterstraße", "39104", "Magdeburg", 52.1290, 11.6300, "street"),
            "Stefan Strasse", 10 * H)  # fmt: skip
    book_at(business, Address("Am Hang 3", "39108", "Magdeburg", 52.1286, 11.6064, "postcode"),
            "Paul Plz", 12 * H)  # fmt: skip
    client.post("/login", data={"email": "dispo@test.example", "password": "secret-123"})

    html = client.get("/dispatch/", query_string={"day": TUESDAY.isoformat()}).get_data(
        as_text=True
    )

    by_name = rows(html)
    assert set(by_name) == {"Hanna Haus", "Stefan Strasse", "Paul Plz"}
    assert "≈" not in by_name["Hanna Haus"]
    assert "≈ Straße" in by_name["Stefan Strasse"]
    assert "≈ PLZ-Bereich" in by_name["Paul Plz"]
    assert "2 Adressen nur ungefähr verortet" in html


def test_the_route_sheet_flags_an_address_located_by_postcode(client: FlaskClient) -> None:
    """A booking on the customer pages with the offline geocoder is located by postcode:
    the technician's sheet says so next to the address."""
    from tests.booking.pages import book, slot_quotes

    business = make_business()
    make_user(business)
    book(client, slot_quotes(client, "tap")[0])
    client.post("/login", data={"email": "dispo@test.example", "password": "secret-123"})
    day = client.get("/dispatch/", query_string={"day": TUESDAY.isoformat()}).get_data(as_text=True)
    assert "1 Adresse nur ungefähr verortet" in day
    sheets = [client.get(link).get_data(as_text=True)
              for link in re.findall(r'href="(/sheets/[^"]+)"', day)]  # fmt: skip
    sheet = next(page for page in sheets if "Erika Mustermann" in page)
    assert "Breiter Weg 10, 39104 Magdeburg" in sheet
    assert "≈ PLZ-Bereich" in sheet


def test_a_day_with_exact_addresses_has_no_flag(client: FlaskClient) -> None:
    business = make_business()
    make_user(business)
    book_at(business, Address("Breiter Weg 10", "39104", "Magdeburg", 52.1271, 11.6351, "house"),
            "Hanna Haus", 8 * H)  # fmt: skip
    client.post("/login", data={"email": "dispo@test.example", "password": "secret-123"})
    html = client.get("/dispatch/", query_string={"day": TUESDAY.isoformat()}).get_data(
        as_text=True
    )
    assert "Hanna Haus" in html
    assert "ungefähr" not in html
    assert "≈" not in html
