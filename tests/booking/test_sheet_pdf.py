"""The route sheet as PDF: every stop in route order, German text intact, names outside the
core font's range printed close instead of crashing, behind the same signed link as the
page; and all technicians of a day in one file for the dispatcher."""

from __future__ import annotations

import io
import re
from datetime import date
from html import unescape

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from pypdf import PdfReader

from booking.models import Appointment, Business, RouteStop
from booking.services.bookings import Contact, confirm_booking
from booking.services.clock import hhmm, now_utc
from booking.services.offering import Address, find_slots
from booking.services.quotes import Quote
from booking.services.sheet_pdf import SheetData, SheetStop, printable, sheet_pdf, sheets_pdf
from booking.services.sheets import SheetLink, sign_sheet
from tests.booking.test_dispatch import login
from tests.factories import TUESDAY, make_business, make_user, service

H = 3600
BREITER_WEG = Address("Breiter Weg 10", "39104", "Magdeburg", 52.1243, 11.6322, "house")
KNOCHENHAUER = Address("Knochenhaueruferstraße 3", "39104", "Magdeburg", 52.1250, 11.6330, "house")


def pdf_pages(body: bytes) -> list[str]:
    """The text of each page; the PDF must open."""
    assert body.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(body)).pages]


def assert_in_order(text: str, expected: list[str]) -> None:
    positions = [text.find(part) for part in expected]
    assert -1 not in positions, [p for p, i in zip(expected, positions, strict=True) if i < 0]
    assert positions == sorted(positions), expected


def book(
    business: Business,
    address: Address,
    name: str,
    window_start: int,
    code: str = "tap",
    **contact: str,
) -> Appointment:
    """Book Tuesday's window starting at `window_start` through the booking services."""
    wanted = service(business, code)
    slot = next(
        s
        for s in find_slots(business, wanted, address, now_utc())
        if s.day == TUESDAY and s.window.start == window_start
    )
    assert slot.offer is not None
    quote = Quote.from_offer(business.id, wanted.id, address, slot.offer)
    return confirm_booking(
        business, quote, Contact(name, "0391 765432", "kunde@example.de", **contact), now_utc()
    )


def sheet_token(technician_id: int, day: date = TUESDAY) -> str:
    return sign_sheet(SheetLink(technician_id, day), current_app.config["SECRET_KEY"])


def stop(number: int, customer: str, street: str, start_h: int, **extra: str) -> SheetStop:
    return SheetStop(
        number=number,
        planned_start_s=start_h * H + 900,
        window_start_s=start_h * H,
        window_end_s=(start_h + 2) * H,
        service="Armatur tauschen",
        duration_s=H,
        customer=customer,
        phone="0391 123456",
        street=street,
        postcode="39104",
        city="Magdeburg",
        precision=extra.pop("precision", "house"),
        **extra,
    )


def sheet(technician: str, stops: list[SheetStop]) -> SheetData:
    return SheetData(
        business="Sanitär Test GmbH",
        business_phone="0391 000 111",
        technician=technician,
        day=TUESDAY,
        working=True,
        start_label="Depot",
        end_label="Depot",
        lunch_start_s=12 * H,
        return_s=15 * H,
        travel_meters=12_300,
        travel_s=1800,
        stops=tuple(stops),
    )


# --- the PDF from plain data ---------------------------------------------------------------


def test_printable_keeps_german_and_maps_the_rest(app: Flask) -> None:
    """Umlauts, ß, € and the en dash are in the font's range and stay; Ł has no
    decomposition and gets its stand-in L, Ş loses its cedilla, ≈ becomes ~, and a
    character with no Latin equivalent becomes ?."""
    assert printable("Müller-Weiß, 50 € – Straße") == "Müller-Weiß, 50 € – Straße"
    assert printable("Łukasz Şahin") == "Lukasz Sahin"
    assert printable("≈ Straße") == "~ Straße"
    assert printable("Herr 王") == "Herr ?"


def test_the_pdf_lists_every_stop_in_order_with_german_text_intact(app: Flask) -> None:
    """Two stops: the extracted text shows header, then stop 1 (planned time, window,
    customer, address, access hint, notes with €) before stop 2, and the footer."""
    data = sheet(
        "Anna Wasser",
        [
            stop(
                1,
                "Jürgen Müller",
                "Große Straße 5",
                8,
                notes="Bar zahlen: 50 €",
                access_hints="Hinterhaus, 2. OG",
            ),
            stop(2, "Erika Weiß", "Breiter Weg 10", 10, precision="street"),
        ],
    )
    with app.test_request_context("/"):
        (text,) = pdf_pages(sheet_pdf(data))
    assert_in_order(
        text,
        [
            "Sanitär Test GmbH",
            "Anna Wasser",
            "Dienstag, 24. November 2026",
            "2 Aufträge · 12,3 km · 30 Min. Fahrt",
            "12,3 km",
            "Pause 12:00",
            "1.  08:15",
            "Fenster 08:00–10:00",
            "Armatur tauschen",
            "60 Min.",
            "Jürgen Müller",
            "0391 123456",
            "Große Straße 5, 39104 Magdeburg",
            "Zugang: Hinterhaus, 2. OG",
            "Bar zahlen: 50 €",
            "2.  10:15",
            "Fenster 10:00–12:00",
            "Erika Weiß",
            "Breiter Weg 10, 39104 Magdeburg (~ Straße)",
            "zurück 15:00",
            "Seite 1 von 1",
        ],
    )


def test_a_name_outside_the_font_prints_close_instead_of_crashing(app: Flask) -> None:
    """ "Łukasz Şahin" on "Ulica Łódzka" renders; the PDF shows "Lukasz Sahin"."""
    data = sheet("Łukasz Şahin", [stop(1, "Łukasz Şahin", "Ulica Łódzka 1", 8)])
    with app.test_request_context("/"):
        (text,) = pdf_pages(sheet_pdf(data))
    assert text.count("Lukasz Sahin") == 3  # the header, the stop and the footer
    assert "Ulica Lódzka 1" in text  # ó is in the font, Ł is not


def test_a_long_day_runs_over_pages_with_page_numbers(app: Flask) -> None:
    """Fourteen stops with notes do not fit one A4 page: every page says "Seite i von n",
    the stops keep their order across the pages, and the day's end is on the last page."""
    stops = [
        stop(n, f"Kunde {n:02d}", f"Weg {n}", 7 + n % 8, notes="Schlüssel beim Nachbarn")
        for n in range(1, 15)
    ]
    with app.test_request_context("/"):
        pages = pdf_pages(sheet_pdf(sheet("Anna Wasser", stops)))
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert page.rstrip().endswith(f"Seite {number} von {len(pages)}")
    assert "Kunde 14" in pages[-1] and "Ende: Depot" in pages[-1]
    assert_in_order("".join(pages), [f"Kunde {n:02d}" for n in range(1, 15)])


def test_every_technician_starts_on_a_page_of_their_own(app: Flask) -> None:
    """Two sheets in one file: two pages, each with its own technician and customer."""
    with app.test_request_context("/"):
        pages = pdf_pages(
            sheets_pdf(
                [
                    sheet("Anna Wasser", [stop(1, "Erika Weiß", "Breiter Weg 10", 8)]),
                    sheet("Gerd Gas", [stop(1, "Karl Nachbar", "Breiter Weg 12", 10)]),
                ]
            )
        )
    assert len(pages) == 2
    assert "Anna Wasser" in pages[0] and "Erika Weiß" in pages[0]
    assert "Gerd Gas" in pages[1] and "Karl Nachbar" in pages[1]
    assert "Gerd Gas" not in pages[0] and "Anna Wasser" not in pages[1]


# --- the technician's link ------------------------------------------------------------------


def test_the_sheet_pdf_behind_the_signed_link_has_every_stop(client: FlaskClient) -> None:
    """Two jobs booked on Tuesday ride in one route; /sheets/<token>.pdf (no login) is a
    PDF named after technician and day, with both customers, addresses, windows and
    planned times in route order, and the access hint with its umlaut."""
    business = make_business()
    book(business, BREITER_WEG, "Erika Mustermann", 8 * H, access_hints="Hinterhof, Tür grün")
    book(business, KNOCHENHAUER, "Karl Nachbar", 10 * H, notes="Rückruf vorher")
    stops = RouteStop.query.order_by(RouteStop.position).all()
    assert len({s.technician_id for s in stops}) == 1
    technician = stops[0].technician

    response = client.get(f"/sheets/{sheet_token(technician.id)}.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    slug = "anna-wasser" if technician.name == "Anna Wasser" else "gerd-gas"
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="tourenzettel-2026-11-24-{slug}.pdf"'
    )
    (text,) = pdf_pages(response.data)
    assert_in_order(
        text,
        [
            technician.name,
            f"1.  {hhmm(stops[0].planned_start_s)}",
            "Fenster 08:00–10:00",
            "Erika Mustermann",
            "Breiter Weg 10, 39104 Magdeburg",
            "Zugang: Hinterhof, Tür grün",
            f"2.  {hhmm(stops[1].planned_start_s)}",
            "Fenster 10:00–12:00",
            "Karl Nachbar",
            "Knochenhaueruferstraße 3, 39104 Magdeburg",
            "Rückruf vorher",
        ],
    )


def test_the_sheet_page_links_its_pdf(client: FlaskClient) -> None:
    """The sheet page's "Als PDF" link opens the PDF of the same technician and day."""
    business = make_business()
    token = sheet_token(business.technicians[1].id)
    html = client.get(f"/sheets/{token}").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">Als PDF</a>', html)
    assert link is not None and unescape(link.group(1)) == f"/sheets/{token}.pdf"
    (text,) = pdf_pages(client.get(link.group(1)).data)
    assert "Gerd Gas" in text and "Noch keine Aufträge." in text


@pytest.mark.parametrize("kind", ["tampered", "foreign", "garbage", "expired", "unknown"])
def test_a_bad_token_gives_no_pdf(app: Flask, client: FlaskClient, kind: str) -> None:
    """Changed signature, another key, not a token, an expired link, or a technician that
    does not exist: 404."""
    business = make_business()
    good = sheet_token(business.technicians[0].id)
    assert client.get(f"/sheets/{good}.pdf").status_code == 200
    token = {
        "tampered": good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
        "foreign": sign_sheet(SheetLink(business.technicians[0].id, TUESDAY), "other-key"),
        "garbage": "not-a-token",
        "expired": good,
        "unknown": sheet_token(max(t.id for t in business.technicians) + 1000),
    }[kind]
    if kind == "expired":
        app.config["SHEET_LINK_TTL_DAYS"] = -1
    assert client.get(f"/sheets/{token}.pdf").status_code == 404


# --- the dispatcher's file of the whole day --------------------------------------------------


def test_the_dispatcher_pdf_needs_a_login(client: FlaskClient) -> None:
    """Without login /dispatch/sheets.pdf redirects to the login page, and sends no PDF."""
    make_business()
    response = client.get("/dispatch/sheets.pdf", query_string={"day": TUESDAY.isoformat()})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_dispatcher_pdf_has_every_technician_of_the_own_firm_only(
    client: FlaskClient,
) -> None:
    """Elbe has Anna (one job) and Gerd (none); another firm has Otto with a job for
    "Fremde Kundin". The day view links "Alle Tourenzettel als PDF"; the file has one page
    per Elbe technician, in order, and nothing of the other firm."""
    business = make_business()
    make_user(business)
    other = make_business(slug="other")
    for technician in other.technicians:
        technician.name = "Otto Fremd"
    book(other, BREITER_WEG, "Fremde Kundin", 8 * H)
    book(business, BREITER_WEG, "Erika Mustermann", 8 * H)
    login(client)

    html = client.get("/dispatch/", query_string={"day": TUESDAY.isoformat()}).get_data(
        as_text=True
    )
    link = re.search(r'<a [^>]*href="([^"]+)">Alle Tourenzettel als PDF</a>', html)
    assert link is not None
    response = client.get(unescape(link.group(1)))

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'inline; filename="tourenzettel-2026-11-24.pdf"'
    )
    pages = pdf_pages(response.data)
    assert len(pages) == 2
    assert "Anna Wasser" in pages[0] and "Gerd Gas" in pages[1]
    everything = "".join(pages)
    assert "Erika Mustermann" in everything
    assert "Otto Fremd" not in everything and "Fremde Kundin" not in everything
