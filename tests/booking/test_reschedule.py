"""The manage link: moving an appointment (fresh offers on the routes without it, quotes
bound to it, the move in one transaction) and cancelling it, both until the business's
cut-off; on the pages and in the API, with bad input refused and nothing changed.

The factory firm: two technicians, 08:00-16:30 on weekdays; slots 08-10, 10-12, 12-14,
14-16. A "bigjob" takes 7 hours, so two of them fill a day. "Now" is Monday 23 November
2026, 10:00 in Magdeburg; Tuesday is the 24th, Wednesday the 25th.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text

from booking.extensions import db
from booking.models import Appointment, Business, DayPlan, RouteStop
from booking.services.invariants import broken_promises
from booking.services.quotes import read_quote, sign_quote
from tests.booking.pages import ADDRESS, book, quotes_on, slot_quotes
from tests.factories import TUESDAY, make_business

H = 3600
API = "/api/v1"
SECRET = "test-secret"
WEDNESDAY = date(2026, 11, 25)
CONTACT = {"name": "Erika Mustermann", "phone": "0391 123456", "consent": True}


# --- helpers --------------------------------------------------------------------------------


def api_offers(client: FlaskClient, code: str = "tap") -> list[dict[str, Any]]:
    response = client.post(f"{API}/offers", json={"service": code, **ADDRESS})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [s for s in response.get_json()["slots"] if s["offered"]]


def api_book(
    client: FlaskClient,
    code: str = "tap",
    email: str = "erika@example.de",
    pick: Callable[[dict[str, Any]], bool] = lambda slot: True,
) -> str:
    """Book the first offer that `pick` accepts; its manage token."""
    slot = next(s for s in api_offers(client, code) if pick(s))
    response = client.post(f"{API}/bookings", json={"quote": slot["quote"], **CONTACT,
                                                    "email": email})  # fmt: skip
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["appointment"]["manage_token"])


def at(day: date, start: str, kind: str = "slot") -> Callable[[dict[str, Any]], bool]:
    def pick(slot: dict[str, Any]) -> bool:
        return (
            slot["day"] == day.isoformat()
            and slot["window_start"] == start
            and (slot["kind"] == kind)
        )

    return pick


def move_offers(client: FlaskClient, token: str) -> list[dict[str, Any]]:
    response = client.post(f"{API}/appointments/{token}/offers")
    assert response.status_code == 200, response.get_data(as_text=True)
    return [s for s in response.get_json()["slots"] if s["offered"]]


def move(client: FlaskClient, token: str, quote: Any):
    return client.post(f"{API}/appointments/{token}/reschedule", json={"quote": quote})


def by_token(token: str) -> Appointment:
    db.session.expire_all()
    return db.session.scalars(select(Appointment).where(Appointment.manage_token == token)).one()


def error_of(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    return error


def snapshot() -> tuple[list[Any], ...]:
    """Every column of every route stop, day plan and appointment, in id order."""
    db.session.expire_all()
    return tuple(
        [tuple(row) for row in db.session.execute(select(table).order_by(table.c.id)).all()]
        for table in (RouteStop.__table__, DayPlan.__table__, Appointment.__table__)
    )


def set_now(app: Flask, moment: datetime) -> None:
    app.config["NOW"] = lambda: moment


# --- offers for a move ------------------------------------------------------------------------


def test_move_offers_include_the_own_slot_marked_and_are_bound_to_the_appointment(
    client: FlaskClient,
) -> None:
    """Two 7-hour jobs fill Tuesday. For one of them, Tuesday 08-10 is offered again (the
    routes are taken without it), marked current, at an empty day's 990.00 €; every quote
    names the appointment. A new customer gets nothing on Tuesday."""
    make_business()
    first = api_book(client, "bigjob", "a@example.de")
    api_book(client, "bigjob", "b@example.de")
    assert all(s["day"] != TUESDAY.isoformat() for s in api_offers(client, "bigjob"))

    offers = move_offers(client, first)
    own = next(s for s in offers if at(TUESDAY, "08:00")(s))
    assert own["current"] is True
    assert own["price"]["total_cents"] == 99000
    assert [s for s in offers if s["current"]] == [own]
    appointment = by_token(first)
    assert {read_quote(s["quote"], SECRET, 900).appointment_id for s in offers} == {appointment.id}


def test_the_move_page_shows_the_picker_with_the_current_slot(client: FlaskClient) -> None:
    """The manage page links to "Termin verschieben"; its picker is the slot picker, every
    button posting to the review of this move, Tuesday 08-10 badged as the current one."""
    make_business()
    response = book(client, slot_quotes(client, "tap")[0])
    token = by_token_of_first().manage_token
    manage = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'href="/appointment/{token}/reschedule"' in manage
    assert "Termin verschieben" in manage and "Termin stornieren" in manage
    assert "Bis Montag, 23. November 2026, 20:00 können Sie diesen Termin online" in manage

    page = client.get(f"/appointment/{token}/reschedule")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count(f'action="/appointment/{token}/reschedule/review"') == len(quotes_on(html))
    assert 'action="/book/details"' not in html
    start = html.index('id="2026-11-24-slot-28800"')
    assert "Ihr bisheriger Termin" in html[start : html.index("</li>", start)]
    assert html.count("Ihr bisheriger Termin") == 1


def by_token_of_first() -> Appointment:
    db.session.expire_all()
    return db.session.scalars(select(Appointment).order_by(Appointment.id)).first()


# --- the move -------------------------------------------------------------------------------


def test_moving_to_another_day_on_the_pages_frees_the_old_slot(client: FlaskClient) -> None:
    """Two 7-hour jobs fill Tuesday. One moves to Wednesday 08-10 through review and
    confirm: it leaves Tuesday's route and sits in Wednesday's, its window and price are
    the new ones, the promises hold, and Tuesday is offered to new customers again."""
    firm = make_business()
    token = api_book(client, "bigjob", "a@example.de")
    api_book(client, "bigjob", "b@example.de")
    html = client.get(f"/appointment/{token}/reschedule").get_data(as_text=True)
    quote = next(
        q for q in quotes_on(html)
        if (r := read_quote(q, SECRET, 900)).day == WEDNESDAY and r.kind == "slot"
        and r.window_start_s == 8 * H
    )  # fmt: skip

    review = client.post(f"/appointment/{token}/reschedule/review", data={"quote": quote})
    text = review.get_data(as_text=True)
    assert review.status_code == 200
    assert "Bisher gebucht" in text and "Neuer Termin" in text
    assert "Mittwoch, 25. November 2026, Ankunft zwischen 08:00 und 10:00" in text
    assert by_token(token).day == TUESDAY  # reviewing changes nothing

    done = client.post(f"/appointment/{token}/reschedule", data={"quote": quote})
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/appointment/{token}")
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Ihr Termin ist verschoben." in page
    assert "Mittwoch, 25. November 2026" in page

    moved = by_token(token)
    assert (moved.day, moved.window_start_s, moved.window_end_s) == (WEDNESDAY, 8 * H, 10 * H)
    assert moved.price == read_quote(quote, SECRET, 900).price
    assert moved.calendar_sequence == 1
    assert moved.stop is not None and moved.stop.day_plan.day == WEDNESDAY
    assert broken_promises(firm) == []
    assert any(at(TUESDAY, "08:00")(s) for s in api_offers(client, "bigjob"))


def test_moving_within_the_day_through_the_api_retimes_the_route(client: FlaskClient) -> None:
    """A tap job moves from Tuesday 08-10 to Tuesday 14-16: one stop, now planned inside
    14-16; the answer is the moved appointment with email_sent."""
    firm = make_business()
    token = api_book(client, pick=at(TUESDAY, "08:00"))
    target = next(s for s in move_offers(client, token) if at(TUESDAY, "14:00")(s))
    response = move(client, token, target["quote"])
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["email_sent"] is True
    assert (body["appointment"]["day"], body["appointment"]["window_start"]) == (
        "2026-11-24",
        "14:00",
    )
    assert body["appointment"]["price"] == target["price"]
    stops = db.session.scalars(select(RouteStop)).all()
    assert len(stops) == 1
    assert 14 * H <= stops[0].planned_start_s <= 16 * H
    assert broken_promises(firm) == []


def test_a_taken_target_is_refused_with_fresh_offers_and_nothing_changes(
    client: FlaskClient,
) -> None:
    """A 7-hour job on Tuesday holds a move quote for Wednesday 08-10; two other 7-hour
    jobs then fill Wednesday. The move is refused: 409 slot_taken with fresh offers (none
    on Wednesday, its own Tuesday among them); every stop, plan and appointment is as it
    was. The page does the same with the picker (409)."""
    firm = make_business()
    token = api_book(client, "bigjob", "a@example.de", pick=at(TUESDAY, "08:00"))
    stale = next(s for s in move_offers(client, token) if at(WEDNESDAY, "08:00")(s))
    for email in ("b@example.de", "c@example.de"):
        api_book(client, "bigjob", email, pick=at(WEDNESDAY, "08:00"))
    before = snapshot()

    error = error_of(move(client, token, stale["quote"]), 409)
    assert error["code"] == "slot_taken"
    assert all(s["day"] != WEDNESDAY.isoformat() for s in error["alternatives"])
    assert any(s["current"] for s in error["alternatives"])
    assert snapshot() == before

    page = client.post(f"/appointment/{token}/reschedule", data={"quote": stale["quote"]})
    assert page.status_code == 409
    assert "gerade vergeben" in page.get_data(as_text=True)
    assert quotes_on(page.get_data(as_text=True))
    assert snapshot() == before
    assert broken_promises(firm) == []


def test_moving_sends_an_updated_calendar_file(
    app: Flask, client: FlaskClient, tmp_path: Any
) -> None:
    """The move's email: subject "Termin verschoben", the new day, and an .ics REQUEST for
    the same UID with SEQUENCE 1 at the new time (Wednesday 10:00 Berlin = 09:00 UTC)."""
    import email
    import email.policy

    from icalendar import Calendar

    from booking.services.mail import init_mailer

    app.config["MAIL_OUTBOX"] = str(tmp_path)
    init_mailer(app)
    make_business()
    token = api_book(client)
    target = next(s for s in move_offers(client, token) if at(WEDNESDAY, "10:00")(s))
    assert move(client, token, target["quote"]).status_code == 200
    booked, moved = (
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(tmp_path.glob("*.eml"))
    )
    assert moved["Subject"] == "Termin verschoben: Armatur tauschen am Mittwoch, 25. November 2026"

    def event(message: Any) -> Any:
        [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
        calendar = Calendar.from_ical(part.get_content())
        assert str(calendar["METHOD"]) == "REQUEST"
        return calendar.walk("VEVENT")[0]

    first, second = event(booked), event(moved)
    assert str(second["UID"]) == str(first["UID"])
    assert (int(first["SEQUENCE"]), int(second["SEQUENCE"])) == (0, 1)
    assert second["DTSTART"].dt.astimezone(UTC) == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


# --- quotes are bound: a move quote books nothing, a booking quote moves nothing -------------


def test_a_move_quote_cannot_book_a_new_appointment(client: FlaskClient) -> None:
    """The move quote for Wednesday 08-10, sent to POST bookings: 422 quote_invalid; on the
    pages: back to the start with "ungültig". Only the one appointment exists."""
    make_business()
    token = api_book(client)
    quote = move_offers(client, token)[0]["quote"]
    before = snapshot()
    response = client.post(f"{API}/bookings", json={"quote": quote, **CONTACT,
                                                    "email": "neu@example.de"})  # fmt: skip
    assert error_of(response, 422)["code"] == "quote_invalid"
    page = book(client, quote, email="neu@example.de")
    assert page.status_code == 302
    assert "ungültig" in client.get(page.headers["Location"]).get_data(as_text=True)
    assert snapshot() == before


def test_a_booking_quote_or_another_appointments_quote_moves_nothing(
    client: FlaskClient,
) -> None:
    """A plain booking quote, and a move quote of another customer's appointment, sent to
    this appointment's reschedule: 422 quote_invalid, nothing changes."""
    make_business()
    mine = api_book(client, email="a@example.de")
    theirs = api_book(client, email="b@example.de")
    booking_quote = api_offers(client)[5]["quote"]
    their_quote = move_offers(client, theirs)[5]["quote"]
    before = snapshot()
    for quote in (booking_quote, their_quote):
        assert error_of(move(client, mine, quote), 422)["code"] == "quote_invalid"
        page = client.post(f"/appointment/{mine}/reschedule", data={"quote": quote})
        assert page.status_code == 302
        assert "ungültig" in client.get(page.headers["Location"]).get_data(as_text=True)
    assert snapshot() == before


def test_a_signed_move_quote_for_another_service_is_refused(client: FlaskClient) -> None:
    """Even signed by us, a move quote naming this appointment but another service does
    not turn a tap job into a gas boiler service: 422 quote_invalid."""
    from dataclasses import replace

    firm = make_business()
    token = api_book(client)
    quote = read_quote(move_offers(client, token)[0]["quote"], SECRET, 900)
    gas = next(s for s in firm.services if s.code == "gasboiler")
    forged = sign_quote(replace(quote, service_id=gas.id), SECRET)
    before = snapshot()
    assert error_of(move(client, token, forged), 422)["code"] == "quote_invalid"
    assert snapshot() == before


# --- the cut-off -------------------------------------------------------------------------------


# Tuesday 14-16 with a 24-hour cut-off: changeable until Monday 14:00 in Magdeburg, 13:00 UTC.
DEADLINE = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "allowed"),
    [(timedelta(hours=-3), True), (timedelta(seconds=-1), True), (timedelta(0), False),
     (timedelta(seconds=1), False), (timedelta(hours=5), False)],
)  # fmt: skip
def test_the_api_allows_changes_until_the_cutoff(
    app: Flask, client: FlaskClient, offset: timedelta, allowed: bool
) -> None:
    """Until one second before the deadline the API shows can_change and gives move offers;
    from the deadline on, offers, reschedule and cancel answer 409 cutoff_passed with the
    phone number, and the appointment stays as it is."""
    make_business(cutoff_hours=24)
    token = api_book(client, pick=at(TUESDAY, "14:00"))
    quote = move_offers(client, token)[0]["quote"]
    set_now(app, DEADLINE + offset)

    shown = client.get(f"{API}/appointments/{token}").get_json()["appointment"]
    assert shown["change_deadline"] == "2026-11-23T14:00:00+01:00"
    assert shown["can_change"] is allowed
    offers = client.post(f"{API}/appointments/{token}/offers")
    if allowed:
        assert offers.status_code == 200
        assert client.post(f"{API}/appointments/{token}/cancel").status_code == 200
        assert by_token(token).status == "cancelled"
        return
    before = snapshot()
    for response in (offers, move(client, token, quote),
                     client.post(f"{API}/appointments/{token}/cancel")):  # fmt: skip
        error = error_of(response, 409)
        assert error["code"] == "cutoff_passed"
        assert "24 Stunden" in error["message"] and "0391 000 111" in error["message"]
    assert snapshot() == before


def test_after_the_cutoff_the_page_gives_the_reason_and_the_phone(
    app: Flask, client: FlaskClient
) -> None:
    """At the deadline the manage page has neither "move" nor "cancel" but says why and
    whom to call; posting cancel or a move anyway changes nothing and says the same."""
    make_business(cutoff_hours=24)
    token = api_book(client, pick=at(TUESDAY, "14:00"))
    quote = move_offers(client, token)[0]["quote"]
    set_now(app, DEADLINE)
    page = client.get(f"/appointment/{token}").get_data(as_text=True)
    reason = "Online können Sie den Termin bis 24 Stunden vor Beginn ändern."
    assert reason in page and "0391 000 111" in page
    assert "Termin stornieren" not in page and "/reschedule" not in page
    before = snapshot()
    for response in (
        client.post(f"/appointment/{token}/cancel"),
        client.get(f"/appointment/{token}/reschedule"),
        client.post(f"/appointment/{token}/reschedule/review", data={"quote": quote}),
        client.post(f"/appointment/{token}/reschedule", data={"quote": quote}),
    ):
        assert response.status_code == 302
        assert reason in client.get(response.headers["Location"]).get_data(as_text=True)
    assert snapshot() == before
    assert by_token(token).is_confirmed


def test_rows_from_before_the_manage_link_get_their_true_defaults(client: FlaskClient) -> None:
    """Rows written without the new columns (as every row before this migration was) read
    as a 24-hour cut-off, a German booking and calendar sequence 0: the database's own
    defaults, which the migration also used to fill existing rows."""
    make_business()
    token = api_book(client)
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO businesses (slug, name, address, phone, email, depot_lat, "
                "depot_lon, timezone, horizon_days, slot_windows, pricing, created_at, "
                "updated_at) SELECT 'alt', name, address, phone, email, depot_lat, "
                "depot_lon, timezone, horizon_days, slot_windows, pricing, created_at, "
                "updated_at FROM businesses"
            )
        )
        connection.execute(
            text(
                "INSERT INTO appointments (business_id, customer_id, service_type_id, street, "
                "postcode, city, lat, lon, geo_precision, day, window_start_s, window_end_s, "
                "status, price_base_cents, price_travel_fee_cents, price_discount_cents, "
                "price_total_cents, saving_pct, detour_s, standalone_s, notes, manage_token, "
                "created_at, updated_at) SELECT business_id, customer_id, service_type_id, "
                "street, postcode, city, lat, lon, geo_precision, day, window_start_s, "
                "window_end_s, 'cancelled', price_base_cents, price_travel_fee_cents, "
                "price_discount_cents, price_total_cents, saving_pct, detour_s, "
                "standalone_s, notes, 'old-token-0123456789', created_at, updated_at "
                "FROM appointments WHERE manage_token = :token"
            ),
            {"token": token},
        )
    db.session.expire_all()
    old_firm = db.session.scalars(select(Business).filter_by(slug="alt")).one()
    assert old_firm.cancel_cutoff_hours == 24
    old = by_token("old-token-0123456789")
    assert (old.language, old.calendar_sequence) == ("de", 0)


# --- cancelled appointments and bad input ------------------------------------------------------


def test_a_cancelled_appointment_cannot_be_moved(client: FlaskClient) -> None:
    """After cancelling, move offers and a move (even with a quote fetched before) answer
    409 appointment_cancelled; the page sends the customer back to the cancelled one."""
    make_business()
    token = api_book(client)
    quote = move_offers(client, token)[0]["quote"]
    assert client.post(f"{API}/appointments/{token}/cancel").status_code == 200
    before = snapshot()
    for response in (client.post(f"{API}/appointments/{token}/offers"),
                     move(client, token, quote)):  # fmt: skip
        assert error_of(response, 409)["code"] == "appointment_cancelled"
    page = client.get(f"/appointment/{token}/reschedule")
    assert page.status_code == 302
    assert "Dieser Termin ist storniert." in client.get(page.headers["Location"]).get_data(
        as_text=True
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "invalid_field"),
        ({"quote": ""}, 422, "invalid_field"),
        ({"quote": 12345}, 422, "invalid_field"),
        ({"quote": ["a"]}, 422, "invalid_field"),
        ({"quote": "x" * 5000}, 422, "invalid_field"),
        ({"quote": "<script>alert(1)</script>"}, 422, "quote_invalid"),
        ("not json", 400, "invalid_json"),
        ([1, 2], 400, "invalid_json"),
    ],
)
def test_bad_move_requests_get_a_json_error_and_change_nothing(
    client: FlaskClient, body: Any, status: int, code: str
) -> None:
    """Missing, empty, non-text, overlong or forged quotes and bodies that are no JSON
    object: a JSON error with its code, never the input echoed, nothing changed."""
    make_business()
    token = api_book(client)
    before = snapshot()
    if isinstance(body, str):
        response = client.post(f"{API}/appointments/{token}/reschedule", data=body,
                               content_type="application/json")  # fmt: skip
    else:
        response = client.post(f"{API}/appointments/{token}/reschedule", json=body)
    error = error_of(response, status)
    assert error["code"] == code
    assert "<script>" not in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "x" * 65, "<script>alert(1)</script>", "a%00b", "0" * 43],
)
def test_unknown_or_malformed_tokens_are_404_everywhere(client: FlaskClient, token: str) -> None:
    """Guessed, overlong, scripted or NUL tokens: 404 unknown_appointment from the API's
    offers and reschedule, 404 pages for the move pages; nothing is reflected."""
    make_business()
    api_book(client)
    before = snapshot()
    for path in (f"{API}/appointments/{token}/offers", f"{API}/appointments/{token}/reschedule"):
        response = client.post(path, json={"quote": "x"})
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] in {"unknown_appointment", "not_found"}
        assert "<script>" not in response.get_data(as_text=True)
    for response in (
        client.get(f"/appointment/{token}/reschedule"),
        client.post(f"/appointment/{token}/reschedule/review", data={"quote": "x"}),
        client.post(f"/appointment/{token}/reschedule", data={"quote": "x"}),
    ):
        assert response.status_code == 404
        assert "<script>" not in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize("quote", ["", "x" * 5000, "<script>alert(1)</script>", "abc\x00def"])
def test_bad_quotes_on_the_move_pages_change_nothing(client: FlaskClient, quote: str) -> None:
    """Review or confirm with an empty, overlong, scripted or NUL quote: back to the manage
    page with "ungültig", the input not shown, nothing changed."""
    make_business()
    token = api_book(client)
    before = snapshot()
    for path in (f"/appointment/{token}/reschedule/review", f"/appointment/{token}/reschedule"):
        response = client.post(path, data={"quote": quote})
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Dieses Angebot ist ungültig" in page
        assert "<script>alert" not in page
    assert snapshot() == before


def test_an_expired_move_quote_gets_fresh_offers(app: Flask, client: FlaskClient) -> None:
    """Older than QUOTE_TTL_S: the API answers 409 quote_expired, the page shows fresh
    move offers (409) saying it expired; nothing changes."""
    make_business()
    token = api_book(client)
    quote = move_offers(client, token)[3]["quote"]
    app.config["QUOTE_TTL_S"] = -1
    before = snapshot()
    assert error_of(move(client, token, quote), 409)["code"] == "quote_expired"
    page = client.post(f"/appointment/{token}/reschedule", data={"quote": quote})
    app.config["QUOTE_TTL_S"] = 900  # to read the fresh quotes back below
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert "Ihr Angebot ist abgelaufen" in html
    assert all(read_quote(q, SECRET, 900).appointment_id for q in quotes_on(html))
    assert snapshot() == before


def test_the_manage_page_escapes_what_the_customer_typed(client: FlaskClient) -> None:
    """A name with a script tag is shown as text on the manage and move pages."""
    make_business()
    response = book(client, slot_quotes(client, "tap")[0], name="<script>alert(1)</script>")
    token = by_token_of_first().manage_token
    for path in (response.headers["Location"], f"/appointment/{token}/reschedule"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(f"/appointment/{token}").get_data(
        as_text=True
    )


# --- two moves at once ------------------------------------------------------------------------


def test_two_opposite_moves_at_once_both_land_without_deadlock(app: Flask) -> None:
    """A is on Tuesday, B on Wednesday. At the same moment A moves to Wednesday 10-12 and
    B to Tuesday 10-12: both moves land and every promise holds. (Whether the two requests
    overlap at the locks is up to the scheduler; the lock order that rules out a deadlock
    when they do is checked deterministically by the next test.)"""
    firm = make_business()
    client = app.test_client()
    a = api_book(client, email="a@example.de", pick=at(TUESDAY, "08:00"))
    b = api_book(client, email="b@example.de", pick=at(WEDNESDAY, "08:00"))
    quotes = {
        a: next(s for s in move_offers(client, a) if at(WEDNESDAY, "10:00")(s))["quote"],
        b: next(s for s in move_offers(client, b) if at(TUESDAY, "10:00")(s))["quote"],
    }
    start = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def race(token: str) -> None:
        racer = app.test_client()
        start.wait()
        statuses[token] = move(racer, token, quotes[token]).status_code

    threads = [threading.Thread(target=race, args=(token,)) for token in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == {a: 200, b: 200}
    assert (by_token(a).day, by_token(b).day) == (WEDNESDAY, TUESDAY)
    assert broken_promises(firm) == []


def test_a_move_locks_both_days_in_date_order(client: FlaskClient) -> None:
    """Moving from Wednesday back to Tuesday takes Tuesday's lock first, then Wednesday's:
    the order is by date, not by "from, to", so a move the other way cannot hold one lock
    while waiting for the other (the deadlock the test above races for)."""
    make_business()
    token = api_book(client, pick=at(WEDNESDAY, "08:00"))
    quote = next(s for s in move_offers(client, token) if at(TUESDAY, "10:00")(s))["quote"]
    locked: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE DAY_PLANS SET VERSION"):
            values = parameters.values() if isinstance(parameters, dict) else parameters
            locked.extend(str(v) for v in values if len(str(v)) == 10 and str(v)[4] == "-")

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert move(client, token, quote).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert locked == ["2026-11-24", "2026-11-25"]
