"""A customer books through the pages; the booking lands in a route and keeps its price."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import Appointment, Customer, DayPlan, RouteStop
from booking.services.invariants import broken_promises
from booking.services.offering import Address
from booking.services.quotes import Quote, read_quote, sign_quote
from optimizer.pricing import PriceBreakdown
from tests.booking.pages import ADDRESS, book, count, quotes_on, slot_quotes
from tests.factories import TUESDAY, make_business

H = 3600


def test_customer_books_a_slot_and_it_appears_in_a_route(client: FlaskClient) -> None:
    """Service → address → slots → details → confirm stores one appointment, in one route,
    with the quoted price and a planned start inside the promised window."""
    business = make_business()
    assert "Armatur tauschen" in client.get("/").get_data(as_text=True)
    quotes = slot_quotes(client, "tap")
    # 14 days ahead minus two weekends = 10 working days, 4 slots, 2 half days and the whole
    # day each, all free; and "any day this week" for the two weeks with several days.
    assert len(quotes) == 10 * 7 + 2
    details = client.post("/book/details", data={"quote": quotes[0]})
    assert "Ihre Angaben" in details.get_data(as_text=True)
    quoted = read_quote(quotes[0], "test-secret", 900)
    response = book(client, quotes[0])
    assert response.status_code == 302
    appointment = db.session.scalars(select(Appointment)).one()
    assert response.headers["Location"].endswith(f"/appointment/{appointment.manage_token}?new=1")
    assert appointment.day == TUESDAY
    assert (appointment.window_start_s, appointment.window_end_s) == (8 * H, 10 * H)
    assert appointment.price == quoted.price
    stop = db.session.scalars(select(RouteStop)).one()
    assert stop.appointment_id == appointment.id
    assert 8 * H <= stop.planned_start_s <= 10 * H
    assert broken_promises(business) == []
    manage = client.get(f"/appointment/{appointment.manage_token}?new=1").get_data(as_text=True)
    assert "Ihr Termin ist gebucht" in manage
    assert "Breiter Weg 10" in manage


def test_the_pages_switch_to_english(client: FlaskClient) -> None:
    """?lang=en shows English and is remembered for the next page."""
    make_business()
    assert "Book an appointment online" in client.get("/?lang=en").get_data(as_text=True)
    assert "Tap replacement" in client.get("/").get_data(as_text=True)


def test_a_nearby_slot_is_cheaper_than_a_lonely_one(client: FlaskClient) -> None:
    """After a booking on Tuesday 08-10, a neighbour's Tuesday 10-12 slot rides along and
    earns a combination discount; the same window on an empty day does not."""
    make_business()
    book(client, slot_quotes(client, "tap")[0])  # Tuesday 08-10, Breiter Weg
    quotes = [read_quote(q, "test-secret", 900) for q in slot_quotes(client, "tap")]
    tuesday_late = next(q for q in quotes if q.day == TUESDAY and q.window_start_s == 10 * H)
    wednesday_late = next(
        q for q in quotes if q.day == date(2026, 11, 25) and q.window_start_s == 10 * H
    )
    assert tuesday_late.price.discount_cents > 0
    assert wednesday_late.price.discount_cents == 0
    assert tuesday_late.price.total_cents < wednesday_late.price.total_cents


def test_cancelling_frees_the_capacity(client: FlaskClient) -> None:
    """Two 7-hour jobs fill both technicians on Tuesday; the 08-10 window is then gone, and
    cancelling one of them brings it back."""
    business = make_business()
    first = slot_quotes(client, "bigjob")[0]
    book(client, first)
    book(client, slot_quotes(client, "bigjob")[0], email="zweiter@example.de")
    remaining = [read_quote(q, "test-secret", 900) for q in slot_quotes(client, "bigjob")]
    assert all(q.day != TUESDAY for q in remaining)
    appointment = db.session.scalars(select(Appointment).order_by(Appointment.id)).first()
    assert appointment is not None
    client.post(f"/appointment/{appointment.manage_token}/cancel")
    assert appointment.status == "cancelled"
    again = [read_quote(q, "test-secret", 900) for q in slot_quotes(client, "bigjob")]
    assert any(q.day == TUESDAY and q.window_start_s == 8 * H for q in again)
    assert count(RouteStop) == 1
    assert broken_promises(business) == []


def test_a_slot_taken_meanwhile_gets_a_clear_answer_and_stores_nothing(client: FlaskClient) -> None:
    """A quote for Tuesday 08-10 whose capacity went to two others in between is refused
    with "just taken" and fresh slots; no customer or appointment is written for it."""
    make_business()
    stale = slot_quotes(client, "bigjob")[0]
    book(client, slot_quotes(client, "bigjob")[0], email="a@example.de")
    book(client, slot_quotes(client, "bigjob")[0], email="b@example.de")
    before = (count(Customer), count(Appointment), count(RouteStop))
    response = book(client, stale, email="late@example.de")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "gerade vergeben" in html
    assert quotes_on(html)  # fresh alternatives on other days
    assert (count(Customer), count(Appointment), count(RouteStop)) == before


def test_offering_never_changes_the_stored_plan(client: FlaskClient) -> None:
    """Looking at slots writes nothing: same stops, same plan versions."""
    make_business()
    book(client, slot_quotes(client, "tap")[0])
    versions = db.session.execute(select(DayPlan.day, DayPlan.version)).all()
    stops = db.session.execute(select(RouteStop.id, RouteStop.planned_start_s)).all()
    slot_quotes(client, "tap")
    slot_quotes(client, "gasboiler")
    assert db.session.execute(select(DayPlan.day, DayPlan.version)).all() == versions
    assert db.session.execute(select(RouteStop.id, RouteStop.planned_start_s)).all() == stops


def test_confirmed_prices_never_change(client: FlaskClient) -> None:
    """A later booking next door changes the route but not the first customer's price."""
    make_business()
    book(client, slot_quotes(client, "tap")[0])
    first = db.session.scalars(select(Appointment)).one()
    price = first.price
    book(client, slot_quotes(client, "tap")[1], email="next@example.de")
    db.session.refresh(first)
    assert first.price == price


# --- bad input: a clear message, nothing stored ------------------------------------------


def test_unknown_postcode_names_the_phone_number(client: FlaskClient) -> None:
    """A postcode the geocoder does not know gets a message with the firm's phone."""
    make_business()
    response = client.get("/book/tap/slots", query_string={**ADDRESS, "postcode": "99999"})
    assert response.status_code == 422
    assert "0391 000 111" in response.get_data(as_text=True)
    assert count(Appointment) == 0


def test_malformed_address_fields_get_messages_next_to_them(client: FlaskClient) -> None:
    """Empty street and a four-digit postcode: a message for each field."""
    make_business()
    response = client.get(
        "/book/tap/slots", query_string={"street": "", "postcode": "3910", "city": "Magdeburg"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte geben Sie Ihre Straße ein." in html
    assert "fünf Ziffern" in html


def test_unknown_service_is_not_found(client: FlaskClient) -> None:
    """A service code that does not exist is a 404, not a crash."""
    make_business()
    assert client.get("/book/teleport/slots", query_string=ADDRESS).status_code == 404
    assert client.get("/book/teleport").status_code == 404


def test_tampered_quote_is_refused_and_stores_nothing(client: FlaskClient) -> None:
    """Changing one character of the signed quote makes it invalid."""
    make_business()
    quote = slot_quotes(client, "tap")[0]
    tampered = quote[:-3] + ("AAA" if not quote.endswith("AAA") else "BBB")
    response = book(client, tampered)
    assert response.status_code == 302
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "ungültig" in follow
    assert count(Appointment) == count(Customer) == 0


def test_expired_quote_brings_fresh_offers(app: Flask, client: FlaskClient) -> None:
    """After the quote's lifetime the customer sees the slots again with current prices."""
    make_business()
    quote = slot_quotes(client, "tap")[0]
    app.config["QUOTE_TTL_S"] = -1  # every quote is older than this
    response = book(client, quote)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "abgelaufen" in html
    assert quotes_on(html)
    assert count(Appointment) == 0


def test_a_quote_for_a_past_day_is_refused(client: FlaskClient) -> None:
    """A correctly signed quote for today (not bookable online) or the past stores nothing."""
    business = make_business()
    service = next(s for s in business.services if s.code == "tap")
    address = Address("Breiter Weg 10", "39104", "Magdeburg", 52.1243, 11.6322, "postcode")
    price = PriceBreakdown(8900, 0, 0, 8900, 0)
    for day in (date(2026, 11, 23), date(2026, 11, 20)):
        quote = Quote(business.id, service.id, day, 8 * H, 10 * H, address, price, 600, 1200)
        response = book(client, sign_quote(quote, "test-secret"))
        assert response.status_code == 409
        assert "nicht mehr buchbar" in response.get_data(as_text=True)
    assert count(Appointment) == count(Customer) == 0


def test_missing_contact_details_get_messages_and_store_nothing(client: FlaskClient) -> None:
    """Empty name, bad phone, bad email and no consent: four messages, nothing stored, and
    the quote stays on the page so the customer can correct and book."""
    make_business()
    quote = slot_quotes(client, "tap")[0]
    response = client.post(
        "/book/confirm", data={"quote": quote, "name": "", "phone": "abc", "email": "nope"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in (
        "Bitte geben Sie Ihren Namen ein.",
        "gültige Telefonnummer",
        "gültige E-Mail-Adresse",
        "Einwilligung",
    ):
        assert message in html
    assert quotes_on(html) == [quote]
    assert count(Appointment) == count(Customer) == 0


def test_script_tags_are_shown_as_text(client: FlaskClient) -> None:
    """A name and notes with markup are stored as typed and escaped on every page."""
    make_business()
    book(
        client, slot_quotes(client, "tap")[0], name="<script>alert(1)</script>", notes="<b>Hof</b>"
    )
    appointment = db.session.scalars(select(Appointment)).one()
    assert appointment.customer.name == "<script>alert(1)</script>"
    html = client.get(f"/appointment/{appointment.manage_token}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unknown_manage_token_is_not_found(client: FlaskClient) -> None:
    """Guessing a manage link gives 404 and cancels nothing."""
    make_business()
    assert client.get("/appointment/not-a-token").status_code == 404
    assert client.post("/appointment/not-a-token/cancel").status_code == 404
    assert client.get("/appointment/" + "x" * 200).status_code == 404
