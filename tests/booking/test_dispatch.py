"""Dispatchers log in, see their own firm's routes per technician, and re-optimise a day."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.auth import DEMO_EMAIL, DEMO_PASSWORD
from booking.extensions import db
from booking.models import Appointment, AuditEntry, Business, DayPlan, RouteStop, User
from booking.services.background import job_queue
from booking.services.boards import day_board
from booking.services.bookings import Contact, confirm_booking
from booking.services.clock import hhmm, now_utc
from booking.services.dayplans import job_for, load_days, lock_day, save_routes
from booking.services.invariants import broken_promises
from booking.services.offering import Address, find_slots
from booking.services.quotes import Quote, read_quote
from booking.services.sheets import read_sheet
from booking.services.travel import travel_times
from optimizer.domain import Route
from optimizer.schedule import check_route
from seeds.demo import create_demo_login
from tests.booking.pages import ADDRESS, book, slot_quotes
from tests.factories import TUESDAY, make_business, make_user, service

H = 3600
EMAIL = "dispo@test.example"
PASSWORD = "secret-123"
WRONG_LOGIN = "E-Mail oder Passwort ist falsch."
SOLVER_S = 0.3  # four or fewer jobs: OR-Tools finds the best order at once
ALL_DAY = [[8 * H, 16 * H]]  # one wide arrival window, so any order of a day's jobs keeps it

OLVENSTEDTER = {"street": "Olvenstedter Straße 5", "postcode": "39108", "city": "Magdeburg"}
# Two streets in the west and two in the east of Magdeburg, about 11 km apart.
WEST_1 = Address("Westring 1", "39110", "Magdeburg", 52.1190, 11.5500, "house")
WEST_2 = Address("Westring 9", "39110", "Magdeburg", 52.1210, 11.5520, "house")
EAST_1 = Address("Ostring 1", "39114", "Magdeburg", 52.1190, 11.7100, "house")
EAST_2 = Address("Ostring 9", "39114", "Magdeburg", 52.1210, 11.7080, "house")


# --- helpers -------------------------------------------------------------------------------


def login(client: FlaskClient, email: str = EMAIL, password: str = PASSWORD, **query: str):
    return client.post(
        "/login", data={"email": email, "password": password}, query_string=query or None
    )


def day_view(client: FlaskClient, day: date = TUESDAY) -> str:
    response = client.get("/dispatch/", query_string={"day": day.isoformat()})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def quote_for(client: FlaskClient, code: str, address: dict[str, str], window_start: int) -> str:
    """The customer page's signed quote for Tuesday's window starting at `window_start`."""
    secret = current_app.config["SECRET_KEY"]
    return next(
        token
        for token in slot_quotes(client, code, address)
        if (q := read_quote(token, secret, 900)).day == TUESDAY and q.window_start_s == window_start
    )


def confirm(
    business: Business, code: str, address: Address, name: str, window_start: int = 8 * H
) -> Appointment:
    """Book Tuesday's slot for `business` through the same services the customer pages use."""
    wanted = service(business, code)
    slot = next(
        s
        for s in find_slots(business, wanted, address, now_utc())
        if s.day == TUESDAY and s.window.start == window_start
    )
    assert slot.offer is not None
    quote = Quote.from_offer(business.id, wanted.id, address, slot.offer)
    contact = Contact(name, "0391 765432", "kunde@example.de")
    return confirm_booking(business, quote, contact, now_utc())


def stops_and_version() -> tuple[list[tuple[int, int, int, int]], list[tuple[date, int]]]:
    """Every stop (appointment, technician, position, planned start) and every plan version."""
    db.session.expire_all()
    stops = db.session.execute(
        select(
            RouteStop.appointment_id,
            RouteStop.technician_id,
            RouteStop.position,
            RouteStop.planned_start_s,
        ).order_by(RouteStop.appointment_id)
    ).all()
    versions = db.session.execute(select(DayPlan.day, DayPlan.version)).all()
    return [tuple(s) for s in stops], [tuple(v) for v in versions]


def tuesday_travel_s(business: Business) -> int:
    return sum(entry.travel_s for entry in day_board(business, TUESDAY))


def fresh_get(app: Flask, client: FlaskClient, path: str):
    """GET in an app context of its own, as every request has in production: the test's
    shared context would keep Flask-Login's user of an earlier request cached in `g`."""
    with app.app_context():
        return client.get(path)


def flashes(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<p class="flash [^"]*"[^>]*>([^<]*)</p>', html)]


# --- who may see the dispatcher pages --------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login(client: FlaskClient) -> None:
    """GET /dispatch/ and POST /dispatch/replan without login redirect to /login; the
    replan request changes no stop and no plan version."""
    make_business()
    book(client, slot_quotes(client, "tap")[0])
    before = stops_and_version()
    for response in (
        client.get("/dispatch/"),
        client.post("/dispatch/replan", data={"day": TUESDAY.isoformat()}),
    ):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    assert stops_and_version() == before


def test_a_wrong_password_is_refused_with_a_german_message(client: FlaskClient) -> None:
    """The right email with a wrong password gives 401 and "E-Mail oder Passwort ist falsch.",
    and the dispatcher pages stay closed."""
    make_user(make_business())
    response = login(client, password="not-the-password")
    assert response.status_code == 401
    assert WRONG_LOGIN in response.get_data(as_text=True)
    assert client.get("/dispatch/").status_code == 302


def test_an_unknown_email_gets_the_same_answer(client: FlaskClient) -> None:
    """An email nobody has gives the same 401 and message as a wrong password."""
    make_user(make_business())
    response = login(client, email="nobody@test.example")
    assert response.status_code == 401
    assert WRONG_LOGIN in response.get_data(as_text=True)
    assert client.get("/dispatch/").status_code == 302


def test_login_follows_next_to_a_same_site_path(client: FlaskClient) -> None:
    """next=/dispatch/?day=2026-11-25 is honoured after a successful login."""
    make_user(make_business())
    response = login(client, next="/dispatch/?day=2026-11-25")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dispatch/?day=2026-11-25"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\t/evil.example/",  # browsers drop the tab: "//evil.example/"
        "javascript:alert(1)",
    ],
)
def test_login_never_redirects_to_another_site(client: FlaskClient, target: str) -> None:
    """A `next` that leaves the site is replaced by the day view."""
    make_user(make_business())
    response = login(client, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dispatch/"


# --- the day view ------------------------------------------------------------------------------


def test_the_day_view_shows_each_technician_and_the_booked_jobs(client: FlaskClient) -> None:
    """Two bookings on Tuesday (a tap at Breiter Weg 08-10, a gas boiler at Olvenstedter
    Straße 10-12) appear with technician, customer, address, service and planned time."""
    business = make_business()
    make_user(business)
    book(client, quote_for(client, "tap", ADDRESS, 8 * H))
    book(
        client,
        quote_for(client, "gasboiler", OLVENSTEDTER, 10 * H),
        name="Bernd Beispiel",
        email="bernd@example.de",
    )
    assert login(client).headers["Location"] == "/dispatch/"
    html = day_view(client, TUESDAY)
    assert "Touren am Dienstag, 24. November 2026" in html
    for text in (
        "Anna Wasser",
        "Gerd Gas",
        "Erika Mustermann",
        "Bernd Beispiel",
        "Breiter Weg 10, 39104 Magdeburg",
        "Olvenstedter Straße 5, 39108 Magdeburg",
        "Armatur tauschen",
        "Gastherme warten",
    ):
        assert text in html, text
    stops = db.session.scalars(select(RouteStop)).all()
    assert len(stops) == 2
    for stop in stops:
        assert f"{hhmm(stop.planned_start_s)}–{hhmm(stop.planned_end_s)}" in html


def test_the_day_view_defaults_to_tomorrow(client: FlaskClient) -> None:
    """Without ?day= the view shows tomorrow, Tuesday 24 November."""
    make_user(make_business())
    login(client)
    html = client.get("/dispatch/").get_data(as_text=True)
    assert "Touren am Dienstag, 24. November 2026" in html


@pytest.mark.parametrize("raw", ["2026-13-45", "<script>alert(1)</script>", "tomorrow"])
def test_an_invalid_day_falls_back_to_tomorrow(client: FlaskClient, raw: str) -> None:
    """A day that is no date shows tomorrow and echoes no unescaped markup."""
    make_user(make_business())
    login(client)
    response = client.get("/dispatch/", query_string={"day": raw})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Touren am Dienstag, 24. November 2026" in html
    assert 'name="day" value="2026-11-24"' in html
    assert f'value="{raw}"' not in html
    assert "<script>" not in html


@pytest.mark.parametrize("raw", ["0001-01-01", "9999-12-31"])
def test_a_day_at_the_edge_of_the_calendar_does_not_crash(client: FlaskClient, raw: str) -> None:
    """A well-formed first or last representable date renders a page instead of a 500
    (the previous/next-day links must not overflow)."""
    make_user(make_business())
    login(client)
    assert client.get("/dispatch/", query_string={"day": raw}).status_code == 200


def test_a_dispatcher_sees_only_their_own_firm(client: FlaskClient) -> None:
    """Dispatcher of firm "a" sees a's Tuesday booking, not firm "b"'s, and gets route-sheet
    links only for a's technicians."""
    firm_a = make_business(slug="a")
    firm_a.host = "localhost"  # the test client's host: the customer pages serve a
    make_user(firm_a)
    firm_b = make_business(slug="b")
    book(client, slot_quotes(client, "tap")[0])
    other = confirm(
        firm_b,
        "tap",
        Address("Geheimweg 7", "39112", "Magdeburg", 52.1094, 11.6039, "house"),
        "Berta Fremd",
    )
    assert other.business_id == firm_b.id
    login(client)
    html = day_view(client, TUESDAY)
    assert "Erika Mustermann" in html
    assert "Berta Fremd" not in html
    assert "Geheimweg" not in html
    tokens = re.findall(r'href="/sheets/([^"]+)"', html)
    secret = current_app.config["SECRET_KEY"]
    shown = {link.technician_id for t in tokens if (link := read_sheet(t, secret, 3600))}
    assert shown == {t.id for t in firm_a.technicians}


def test_logout_ends_the_session(app: Flask, client: FlaskClient) -> None:
    """After POST /logout the day view redirects to the login again."""
    make_user(make_business())
    login(client)
    assert client.get("/dispatch/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    after = fresh_get(app, client, "/dispatch/")
    assert after.status_code == 302
    assert after.headers["Location"].startswith("/login")


# --- the demo account ----------------------------------------------------------------------


def test_the_demo_login_is_refused_outside_demo_mode(app: Flask, client: FlaskClient) -> None:
    """With DEMO_MODE off the demo row exists, but dispo@example.com/demo1234 gets 401."""
    create_demo_login(make_business())
    db.session.commit()
    assert db.session.scalar(select(User).where(User.email == DEMO_EMAIL)) is not None
    assert app.config["DEMO_MODE"] is False
    response = login(client, email=DEMO_EMAIL, password=DEMO_PASSWORD)
    assert response.status_code == 401
    assert WRONG_LOGIN in response.get_data(as_text=True)
    assert client.get("/dispatch/").status_code == 302


def test_the_demo_login_works_in_demo_mode(app: Flask, client: FlaskClient) -> None:
    """With DEMO_MODE on, the demo account logs in and sees the day view."""
    create_demo_login(make_business())
    db.session.commit()
    app.config["DEMO_MODE"] = True
    response = login(client, email=DEMO_EMAIL, password=DEMO_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dispatch/"
    assert client.get("/dispatch/").status_code == 200


def test_a_demo_session_stops_working_when_demo_mode_is_off(
    app: Flask, client: FlaskClient
) -> None:
    """A session logged in as the demo account in demo mode is no longer accepted once
    DEMO_MODE is off."""
    create_demo_login(make_business())
    db.session.commit()
    app.config["DEMO_MODE"] = True
    assert login(client, email=DEMO_EMAIL, password=DEMO_PASSWORD).status_code == 302
    assert client.get("/dispatch/").status_code == 200
    app.config["DEMO_MODE"] = False
    response = fresh_get(app, client, "/dispatch/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- re-optimising a day -----------------------------------------------------------------


def criss_cross_tuesday(business: Business) -> list[Appointment]:
    """Four one-hour taps, two in the west and two in the east, all in Anna's route in the
    order west, east, west, east (Gerd idle): feasible, but driving across town three times."""
    west_1 = confirm(business, "tap", WEST_1, "Wilma West")
    east_1 = confirm(business, "tap", EAST_1, "Otto Ost")
    west_2 = confirm(business, "tap", WEST_2, "Walter West")
    east_2 = confirm(business, "tap", EAST_2, "Olga Ost")
    anna, gerd = business.technicians
    state = load_days(business, [TUESDAY])[0]
    workers = {route.technician.id: route.technician for route in state.routes.routes}
    zigzag = Route(
        workers[str(anna.id)], tuple(job_for(a) for a in (west_1, east_1, west_2, east_2))
    )
    check = check_route(zigzag, travel_times())
    assert check.feasible, check.violations
    idle = check_route(Route(workers[str(gerd.id)]), travel_times()).schedule
    plan = lock_day(business.id, TUESDAY)
    save_routes(plan, {anna.id: check.schedule, gerd.id: idle}, state.appointments)
    db.session.commit()
    return [west_1, east_1, west_2, east_2]


def reoptimise(app: Flask, client: FlaskClient, day: date = TUESDAY) -> str:
    """Start a re-optimisation, wait for the background solver; the proposal page's path."""
    response = client.post("/dispatch/replan", data={"day": day.isoformat()})
    assert response.status_code == 302
    path = response.headers["Location"]
    assert re.fullmatch(r"/dispatch/proposals/\d+", path), path
    assert job_queue().wait_idle(timeout_s=60)
    return path


def test_replanning_a_criss_crossing_day_shortens_the_driving(
    app: Flask, client: FlaskClient
) -> None:
    """The zigzag Tuesday gets a shorter plan: first shown (nothing changes yet: same stops,
    same version), then applied with "Übernommen": less travel on the board, no broken
    promise, every appointment in exactly one route at its old price, one audit entry."""
    business = make_business(windows=ALL_DAY)
    user = make_user(business)
    appointments = criss_cross_tuesday(business)
    assert broken_promises(business) == []
    prices = {a.id: a.price for a in appointments}
    travel_before = tuesday_travel_s(business)
    before = stops_and_version()

    app.config["SOLVER_TIME_LIMIT_S"] = SOLVER_S
    login(client)
    path = reoptimise(app, client)
    page = client.get(path).get_data(as_text=True)
    assert 'data-status="ready"' in page
    assert "Übernehmen" in page
    assert stops_and_version() == before  # shown, not applied

    response = client.post(f"{path}/apply", follow_redirects=True)
    assert response.request.path == "/dispatch/"
    messages = flashes(response.get_data(as_text=True))
    assert len(messages) == 1
    assert messages[0].startswith("Übernommen:"), messages
    db.session.expire_all()
    assert tuesday_travel_s(business) < travel_before
    assert broken_promises(business) == []
    stops = db.session.scalars(select(RouteStop)).all()
    assert sorted(s.appointment_id for s in stops) == sorted(prices)
    for appointment in db.session.scalars(select(Appointment)):
        assert appointment.price == prices[appointment.id]
    entries = db.session.scalars(select(AuditEntry)).all()
    assert [(e.action, e.user_id, e.subject) for e in entries] == [
        ("reoptimise", user.id, f"day {TUESDAY.isoformat()}")
    ]


def test_replanning_an_optimal_day_changes_nothing(app: Flask, client: FlaskClient) -> None:
    """A Tuesday with a single job cannot get shorter: "kein besserer Plan", nothing to
    apply, same stops and the same plan version."""
    business = make_business()
    make_user(business)
    confirm(business, "tap", WEST_1, "Wilma West")
    before = stops_and_version()
    app.config["SOLVER_TIME_LIMIT_S"] = SOLVER_S
    login(client)
    path = reoptimise(app, client)
    page = client.get(path).get_data(as_text=True)
    assert 'data-status="failed"' in page
    assert "Es wurde kein besserer Plan gefunden; der aktuelle Plan bleibt." in page
    assert client.post(f"{path}/apply").status_code == 302
    assert stops_and_version() == before
    assert broken_promises(business) == []
