"""The dispatcher's day view (timeline, map, list, key figures), the week overview and the
Leaflet files, on small days worked out by hand.

Travel runs on the line world of tests/optimizer/lineworld.py, put in place of the app's
travel memo: the depot and both technicians' homes lie at mark 0, an address at mark k
lies at (52.0, k/100), and driving between marks i and j takes |i - j| minutes over
|i - j| km. Both technicians work 08:00-16:30 on weekdays (510 minutes); Anna also takes
30 minutes of lunch, starting between 12:00 and 13:00 (480 minutes available).
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Business,
    Customer,
    RouteStop,
    Technician,
    TechnicianAbsence,
)
from booking.services import travel as app_travel
from booking.services.dayplans import job_for, lock_day, save_routes, worker_for_day
from booking.services.weeks import week_board
from optimizer.domain import Route
from optimizer.schedule import check_route
from tests.booking.test_dispatch import day_view, login
from tests.factories import TUESDAY, make_business, make_user, service
from tests.optimizer.lineworld import LAT, hm, mark, travel

MONDAY = TUESDAY - timedelta(days=1)
FRIDAY = TUESDAY + timedelta(days=3)
ANNA_COLOR, GERD_COLOR = "#d62728", "#2ca02c"


# --- building a day by hand ---------------------------------------------------------------


def line_firm(app: Flask, slug: str = "elbe") -> Business:
    """The factories' firm moved onto the line world: depot and homes at mark 0, Anna with
    a lunch break, each technician with a colour of their own."""
    app.extensions[app_travel._KEY] = travel()
    business = make_business(slug=slug)
    home = mark(0)
    business.depot_lat, business.depot_lon = home.lat, home.lon
    anna, gerd = business.technicians
    for row, color in ((anna, ANNA_COLOR), (gerd, GERD_COLOR)):
        row.start_lat = row.end_lat = home.lat
        row.start_lon = row.end_lon = home.lon
        row.color = color
    anna.lunch_earliest_s, anna.lunch_latest_s, anna.lunch_duration_s = hm(12), hm(13), 1800
    db.session.commit()
    return business


def appointment(
    business: Business,
    code: str,
    at: int,
    window: tuple[int, int],
    name: str,
    day: date = TUESDAY,
    *,
    status: AppointmentStatus = AppointmentStatus.CONFIRMED,
    discount: int = 0,
    flexibility: int = 0,
    precision: str = "house",
) -> Appointment:
    """A booked job at mark `at`, priced 100 € before its discounts."""
    customer = Customer(business_id=business.id, name=name, phone="0391 1", email="k@example.de")
    where = mark(at)
    row = Appointment(
        business_id=business.id,
        customer=customer,
        service=service(business, code),
        street=f"Linienweg {at}",
        postcode="39104",
        city="Magdeburg",
        lat=where.lat,
        lon=where.lon,
        geo_precision=precision,
        day=day,
        window_start_s=window[0],
        window_end_s=window[1],
        status=status,
        price_base_cents=10000,
        price_travel_fee_cents=0,
        price_discount_cents=discount,
        price_flexibility_cents=flexibility,
        price_total_cents=10000 - discount - flexibility,
        saving_pct=0,
        detour_s=0,
        standalone_s=0,
    )
    db.session.add_all([customer, row])
    db.session.flush()
    return row


def plan(business: Business, day: date, routes: dict[Technician, list[Appointment]]) -> None:
    """Save the routes as given (in this order), timed by the checker, even when late."""
    world = travel()
    lock = lock_day(business.id, day)
    schedules = {}
    appointments = {}
    for row, jobs in routes.items():
        worker = worker_for_day(row, day)
        assert worker is not None
        check = check_route(Route(worker, tuple(job_for(a) for a in jobs)), world)
        schedules[row.id] = check.schedule
        appointments.update({a.job_id: a for a in jobs})
    save_routes(lock, schedules, appointments)
    db.session.commit()


def hand_tuesday(business: Business) -> dict[str, Appointment]:
    """Tuesday 24 November, by hand.

    Anna (lunch 12:00-13:00, 30 min), two one-hour taps:
      1 mark 10, window 08-10: drive 08:00-08:10, tap 08:10-09:10, drive 09:10-09:20
      2 mark 20, window 11-14, pinned: wait 09:20-11:00, tap 11:00-12:00,
        lunch 12:00-12:30, drive home 20 min 12:30-12:50
      → 7 segments; 40 min and 40 km driving, 120 min service; 480 min available:
        utilisation (120 + 40) / 480 = 33 %.
    Gerd (no lunch):
      1 gas boiler (2 h) at mark 30, window 08-10: drive 08:00-08:30, boiler 08:30-10:30
      2 tap at mark 40, window 08-09: drive 10:30-10:40, tap 10:40-11:40 (late: at risk),
        drive home 40 min 11:40-12:20
      → 5 segments; 80 min and 80 km driving, 180 min service; 510 min available:
        utilisation (180 + 80) / 510 = 51 %.
    Day: 4 jobs, 120 km, 120 min driving; utilisation (300 + 120) / 990 = 42 %; planned on
    time 3 of 4 = 75 %; discounts 5 + (3 + 2) + 10 = 20 € on the planned jobs.
    Not in any route: one unplaced and one confirmed job (2 unplaced); a cancelled one and
    Wednesday's unplaced one do not count, nor does the unplaced job's discount.
    """
    anna, gerd = business.technicians
    jobs = {
        "a1": appointment(business, "tap", 10, (hm(8), hm(10)), "Anna Eins", discount=500),
        "a2": appointment(
            business, "tap", 20, (hm(11), hm(14)), "Anna Zwei", discount=300, flexibility=200
        ),
        "g1": appointment(
            business, "gasboiler", 30, (hm(8), hm(10)), "Gerd Eins", precision="postcode"
        ),
        "g2": appointment(business, "tap", 40, (hm(8), hm(9)), "Gerd Zwei", discount=1000),
    }
    plan(business, TUESDAY, {anna: [jobs["a1"], jobs["a2"]], gerd: [jobs["g1"], jobs["g2"]]})
    pinned = db.session.scalars(
        select(RouteStop).where(RouteStop.appointment_id == jobs["a2"].id)
    ).one()
    pinned.pinned = True
    jobs["lost"] = appointment(
        business, "tap", 5, (hm(8), hm(10)), "Ulla Ungeplant",
        status=AppointmentStatus.UNPLACED, discount=700,
    )  # fmt: skip
    jobs["loose"] = appointment(business, "tap", 6, (hm(10), hm(12)), "Lose Lotte")
    appointment(
        business, "tap", 7, (hm(8), hm(10)), "Carl Storno", status=AppointmentStatus.CANCELLED
    )
    appointment(
        business, "tap", 8, (hm(8), hm(10)), "Mittwoch Mia", TUESDAY + timedelta(days=1),
        status=AppointmentStatus.UNPLACED,
    )  # fmt: skip
    db.session.commit()
    return jobs


# --- reading the page ---------------------------------------------------------------------


def timeline_of(html: str, technician: Technician) -> list[tuple[str, str, str]]:
    """(kind, start, end) of each segment in the technician's timeline bar."""
    row = re.search(
        rf'<div class="tl-row" data-technician="{technician.id}">(.*?)</svg>', html, re.S
    )
    assert row, f"no timeline for {technician.name}"
    return re.findall(
        r'data-kind="(\w+)"(?: data-stop="\d+")? data-start="([\d:]+)" data-end="([\d:]+)"',
        row.group(1),
    )


def figure_row(html: str, technician: Technician | None) -> dict[str, str]:
    """The key-figure cells of a technician's row (None: the total row), by class."""
    if technician is None:
        match = re.search(r'<tr class="total">(.*?)</tr>', html, re.S)
    else:
        match = re.search(rf'<tr data-technician="{technician.id}">(.*?)</tr>', html, re.S)
    assert match
    return dict(re.findall(r'<td class="(\w+)">([^<]*)</td>', match.group(1)))


def day_key(html: str, name: str) -> str:
    match = re.search(rf'<dd class="{name}"[^>]*>([^<]*)</dd>', html)
    assert match, name
    return unescape(match.group(1)).strip()


def map_json(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="routes-map-data">(.*?)</script>', html)
    assert match
    return json.loads(match.group(1))


# --- the day view ---------------------------------------------------------------------------


def test_each_technician_gets_a_timeline_of_the_hand_worked_day(
    app: Flask, client: FlaskClient
) -> None:
    """Anna's bar has the 7 segments and Gerd's the 5 of the docstring of hand_tuesday, at
    those times; the service segments carry their stop numbers; Anna's second stop has the
    pin, Gerd's late second stop is marked late."""
    business = line_firm(app)
    make_user(business)
    hand_tuesday(business)
    anna, gerd = business.technicians
    login(client)
    html = day_view(client, TUESDAY)
    assert timeline_of(html, anna) == [
        ("travel", "08:00", "08:10"),
        ("service", "08:10", "09:10"),
        ("travel", "09:10", "09:20"),
        ("wait", "09:20", "11:00"),
        ("service", "11:00", "12:00"),
        ("lunch", "12:00", "12:30"),
        ("travel", "12:30", "12:50"),
    ]
    assert timeline_of(html, gerd) == [
        ("travel", "08:00", "08:30"),
        ("service", "08:30", "10:30"),
        ("travel", "10:30", "10:40"),
        ("service", "10:40", "11:40"),
        ("travel", "11:40", "12:20"),
    ]
    assert html.count('<circle class="pin"') == 1
    assert html.count('class="seg seg-service late"') == 1
    # the hover title names the stop, its window and the customer
    assert "2. 11:00–12:00 · Fenster 11:00–14:00 · Anna Zwei, Linienweg 20 · fixiert" in html


def test_the_map_data_holds_every_route_in_order_and_colour(
    app: Flask, client: FlaskClient
) -> None:
    """The JSON for the map: the depot at mark 0 and, per technician, start, the stops in
    route order with their numbers and positions, and end, in the technician's colour;
    the tile URL comes from MAP_TILE_URL; the map script and Leaflet are linked."""
    business = line_firm(app)
    make_user(business)
    hand_tuesday(business)
    app.config["MAP_TILE_URL"] = "http://127.0.0.1:9/{z}/{x}/{y}.png"
    login(client)
    html = day_view(client, TUESDAY)
    data = map_json(html)
    assert (data["depot"]["lat"], data["depot"]["lon"]) == (LAT, 0.0)
    assert data["tiles"]["url"] == "http://127.0.0.1:9/{z}/{x}/{y}.png"
    routes = {r["technician"]: r for r in data["routes"]}
    assert set(routes) == {"Anna Wasser", "Gerd Gas"}
    for name, color, marks in (
        ("Anna Wasser", ANNA_COLOR, [10, 20]),
        ("Gerd Gas", GERD_COLOR, [30, 40]),
    ):
        route = routes[name]
        assert route["color"] == color
        assert route["start"] == route["end"] == [LAT, 0.0]
        assert [s["number"] for s in route["stops"]] == [1, 2]
        assert [(s["lat"], s["lon"]) for s in route["stops"]] == [(LAT, m / 100) for m in marks]
    assert [s["pinned"] for s in routes["Anna Wasser"]["stops"]] == [False, True]
    assert (
        routes["Anna Wasser"]["stops"][0]["label"]
        == "1. Anna Wasser 08:10: Linienweg 10, Magdeburg"
    )
    assert "/leaflet/leaflet.js" in html
    assert "/leaflet/leaflet.css" in html
    assert "/static/dispatch/map.js" in html
    assert " on" + "click=" not in html.lower()  # no inline handlers: the script file draws


def test_the_key_figures_of_the_hand_worked_day(app: Flask, client: FlaskClient) -> None:
    """Jobs, km, driving, service and utilisation per technician and in total, discounts,
    planned on-time share, unplaced, at-risk and approximate counts as in hand_tuesday."""
    business = line_firm(app)
    make_user(business)
    hand_tuesday(business)
    anna, gerd = business.technicians
    login(client)
    html = day_view(client, TUESDAY)
    assert figure_row(html, anna) == {
        "jobs": "2", "km": "40,0", "driving": "40 Min.", "service": "120 Min.",
        "utilisation": "33 %",
    }  # fmt: skip
    assert figure_row(html, gerd) == {
        "jobs": "2", "km": "80,0", "driving": "80 Min.", "service": "180 Min.",
        "utilisation": "51 %",
    }  # fmt: skip
    assert figure_row(html, None) == {
        "jobs": "4", "km": "120,0", "driving": "120 Min.", "service": "300 Min.",
        "utilisation": "42 %",
    }  # fmt: skip
    assert day_key(html, "discounts") == "20,00\xa0€"
    assert day_key(html, "ontime") == "75 %"
    assert day_key(html, "unplaced") == "2"
    assert day_key(html, "atrisk") == "1"
    assert day_key(html, "approximate") == "1"
    unplaced = re.search(r'<ul class="problems unplaced-list">(.*?)</ul>', html, re.S)
    assert unplaced and "Ulla Ungeplant" in unplaced.group(1) and "Lose Lotte" in unplaced.group(1)
    assert "Carl Storno" not in html and "Mittwoch Mia" not in html
    at_risk = re.search(r'<ul class="problems atrisk-list">(.*?)</ul>', html, re.S)
    assert at_risk and "Gerd Zwei" in at_risk.group(1) and "Gerd Eins" not in at_risk.group(1)
    assert "Auslastung = (Einsatzzeit + Fahrzeit)" in html  # the definition is on the page
    assert "Tatsächlich pünktlich" not in html  # no progress reports yet (issue 7)


def test_the_list_marks_pins_risks_and_no_shows(app: Flask, client: FlaskClient) -> None:
    """Anna's pinned stop gets the "fixiert" badge, Gerd's late stop "gefährdet", a no-show
    "nicht angetroffen"; without a dispatch.appointment view there are no detail links."""
    business = line_firm(app)
    make_user(business)
    jobs = hand_tuesday(business)
    jobs["a1"].status = AppointmentStatus.NO_SHOW
    db.session.commit()
    login(client)
    html = day_view(client, TUESDAY)

    def row(key: str) -> str:
        match = re.search(rf'<tr>\s*<td data-appointment="{jobs[key].id}"(.*?)</tr>', html, re.S)
        assert match
        return match.group(0)

    assert 'class="badge pin"' in row("a2") and 'class="badge pin"' not in row("a1")
    assert "gefährdet" in row("g2") and 'class="atrisk"' in row("g2")
    assert "gefährdet" not in row("g1")
    assert "nicht angetroffen" in row("a1")
    # The re-check's finding, in words: Gerd reaches his second customer at 10:40.
    assert "Gerd Zwei: Gerd Gas würde um 10:40 beginnen, nach dem Zeitfenster 08:00–09:00." in (
        unescape(html)
    )


def test_stops_link_to_their_appointment_page(app: Flask, client: FlaskClient) -> None:
    """Each list row links to the appointment's page with its actions."""
    business = line_firm(app)
    make_user(business)
    jobs = hand_tuesday(business)
    login(client)
    html = day_view(client, TUESDAY)
    for key in ("a1", "a2", "g1", "g2"):
        assert f'href="/dispatch/appointments/{jobs[key].id}"' in html


def test_an_absent_technician_with_stops_left_is_shown_and_the_stops_at_risk(
    app: Flask, client: FlaskClient
) -> None:
    """Gerd falls ill on Tuesday after his jobs were planned: he has no timeline, is shown
    as absent, and both his stops count as at risk (planned on time: 2 of 4 = 50 %)."""
    business = line_firm(app)
    make_user(business)
    hand_tuesday(business)
    anna, gerd = business.technicians
    db.session.add(TechnicianAbsence(technician=gerd, first_day=TUESDAY, last_day=TUESDAY))
    db.session.commit()
    login(client)
    html = day_view(client, TUESDAY)
    assert len(timeline_of(html, anna)) == 7
    row = re.search(rf'<div class="tl-row" data-technician="{gerd.id}">(.*?)</div>', html, re.S)
    assert row and "Abwesend" in row.group(1) and "<svg" not in row.group(1)
    assert day_key(html, "atrisk") == "2"
    assert day_key(html, "ontime") == "50 %"


def test_a_day_without_jobs_renders_with_empty_figures(app: Flask, client: FlaskClient) -> None:
    """No stops: utilisation 0 %, on-time share "–", an empty list of routes for the map."""
    business = line_firm(app)
    make_user(business)
    login(client)
    html = day_view(client, TUESDAY)
    assert figure_row(html, None)["utilisation"] == "0 %"
    assert day_key(html, "ontime") == "–"
    assert map_json(html)["routes"] == []


# --- the week overview ----------------------------------------------------------------------


def hand_week(business: Business) -> None:
    """Hand Tuesday, one tap of Anna's on Friday at mark 15 (window 08-10: 60 min service,
    15 + 15 = 30 min driving), and Gerd absent Wednesday and Thursday."""
    hand_tuesday(business)
    anna, gerd = business.technicians
    friday = appointment(business, "tap", 15, (hm(8), hm(10)), "Frida Freitag", FRIDAY)
    plan(business, FRIDAY, {anna: [friday]})
    db.session.add(
        TechnicianAbsence(
            technician=gerd,
            first_day=TUESDAY + timedelta(days=1),
            last_day=TUESDAY + timedelta(days=2),
        )
    )
    db.session.commit()


def week_cells(html: str, technician: Technician | None) -> dict[str, dict[str, str]]:
    """Each cell's data-* numbers and class by day (None: the totals row)."""
    if technician is None:
        match = re.search(r'<tr class="total">(.*?)</tr>', html, re.S)
    else:
        match = re.search(rf'<tr data-technician="{technician.id}">(.*?)</tr>', html, re.S)
    assert match
    cells = {}
    for attrs, body in re.findall(r"<td([^>]*)>(.*?)</td>", match.group(1), re.S):
        values = dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
        values["text"] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()
        cells[values["data-day"]] = values
    return cells


def test_the_week_overview_of_a_hand_built_week(app: Flask, client: FlaskClient) -> None:
    """Week of Monday 23 November from any day in it. Anna: Tuesday 2 jobs, 120 + 40 of 480
    min (33 %), Friday 1 job, 60 + 30 of 480 (19 %), weekend off. Gerd: Tuesday 2 jobs,
    180 + 80 of 510 (51 %), absent Wednesday and Thursday. Totals: Tuesday 4 jobs, 300 + 120
    of 990 (42 %) and 2 unplaced; Wednesday 480 available; the week 5 jobs, 360 + 150 of
    3 × 990 + 2 × 480 = 3930 min (13 %). Day headers link to the day view."""
    business = line_firm(app)
    make_user(business)
    hand_week(business)
    anna, gerd = business.technicians
    login(client)
    response = client.get("/dispatch/week", query_string={"start": "2026-11-26"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Woche vom Montag, 23. November 2026" in html

    cells = week_cells(html, anna)
    tuesday = cells["2026-11-24"]
    assert (tuesday["class"], tuesday["data-jobs"]) == ("working", "2")
    assert (tuesday["data-service"], tuesday["data-travel"], tuesday["data-available"]) == (
        "120", "40", "480",
    )  # fmt: skip
    assert cells["2026-11-24"]["text"].startswith("33 %")
    assert (cells["2026-11-27"]["data-jobs"], cells["2026-11-27"]["data-service"]) == ("1", "60")
    assert cells["2026-11-27"]["data-travel"] == "30" and cells["2026-11-27"]["text"].startswith(
        "19 %"
    )
    assert cells["2026-11-28"]["class"] == "off" and "frei" in cells["2026-11-28"]["text"]

    cells = week_cells(html, gerd)
    assert cells["2026-11-24"]["text"].startswith("51 %")
    assert (cells["2026-11-24"]["data-service"], cells["2026-11-24"]["data-travel"]) == (
        "180",
        "80",
    )
    for day in ("2026-11-25", "2026-11-26"):
        assert cells[day]["class"] == "absent" and cells[day]["data-available"] == "0"
        assert "abwesend" in cells[day]["text"]

    totals = week_cells(html, None)
    assert totals["2026-11-24"]["data-jobs"] == "4" and totals["2026-11-24"]["text"].startswith(
        "42 %"
    )
    assert totals["2026-11-24"]["data-unplaced"] == "2"
    assert totals["2026-11-25"]["data-available"] == "480"
    assert totals["2026-11-25"]["data-unplaced"] == "1"
    assert totals["week"]["data-jobs"] == "5"
    assert totals["week"]["data-available"] == "3930"
    assert totals["week"]["text"].startswith("13 %")
    for n in range(7):
        day = date(2026, 11, 23) + timedelta(days=n)
        assert f'href="/dispatch/?day={day.isoformat()}"' in html
    assert 'href="/dispatch/week?start=2026-11-16"' in html  # the week before
    assert 'href="/dispatch/week?start=2026-11-30"' in html  # the week after


def test_the_week_shows_nothing_of_another_firm(app: Flask, client: FlaskClient) -> None:
    """Firm "b"'s technician and Tuesday job stay out of firm "a"'s week, and its jobs are
    not counted in a's totals."""
    firm_a = line_firm(app, slug="a")
    make_user(firm_a)
    firm_b = make_business(slug="b")
    other = firm_b.technicians[0]
    other.name = "Fritz Fremd"
    job = appointment(firm_b, "tap", 3, (hm(8), hm(10)), "Berta Fremd")
    plan(firm_b, TUESDAY, {other: [job]})
    login(client)
    html = client.get("/dispatch/week", query_string={"start": "2026-11-24"}).get_data(as_text=True)
    assert "Fritz Fremd" not in html and "Berta Fremd" not in html
    assert week_cells(html, None)["week"]["data-jobs"] == "0"
    assert {t.id for t in firm_b.technicians}.isdisjoint(
        int(i) for i in re.findall(r'<tr data-technician="(\d+)"', html)
    )


def test_the_week_takes_a_fixed_number_of_queries(app: Flask) -> None:
    """Stops, unplaced counts and technicians with absences: at most four SELECTs for the
    whole week, however many cells."""
    business = line_firm(app)
    hand_week(business)
    db.session.expire_all()
    business = db.session.get(Business, business.id)
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        board = week_board(business, MONDAY)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(board.rows) == 2 and len(board.days) == 7
    assert len(statements) <= 4, statements


def test_the_day_and_week_views_link_to_each_other(app: Flask, client: FlaskClient) -> None:
    """The day view links to its week (from Monday), the week view back to a day view."""
    make_user(line_firm(app))
    login(client)
    day_html = day_view(client, TUESDAY)
    assert 'href="/dispatch/week?start=2026-11-23"' in day_html
    week_html = client.get("/dispatch/week").get_data(as_text=True)
    assert 'href="/dispatch/?day=2026-11-23"' in week_html  # this week: "now" is Monday 23rd


def test_a_bad_week_start_shows_this_week(client: FlaskClient) -> None:
    """?start=not-a-date and a date centuries away fall back to this week."""
    make_user(make_business())
    login(client)
    for raw in ("not-a-date", "0001-01-01", "<b>"):
        response = client.get("/dispatch/week", query_string={"start": raw})
        assert response.status_code == 200
        assert "Woche vom Montag, 23. November 2026" in response.get_data(as_text=True)


def test_anonymous_visitors_do_not_get_the_week(client: FlaskClient) -> None:
    """Without login the week view redirects to the login (Leaflet's own files are public:
    the route sheet needs them without a login)."""
    response = client.get("/dispatch/week")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- Leaflet from the Python package ------------------------------------------------------


def test_leaflet_is_served_from_the_package(client: FlaskClient) -> None:
    """leaflet.js, leaflet.css and its marker image come from XStatic-Leaflet, without a
    login; a path out of the package folder is a 404."""
    make_business()

    def fetch(name: str) -> tuple[int, str, bytes]:
        # A file is streamed: close the response, or its open file outlives the test.
        with client.get(f"/leaflet/{name}") as response:
            return response.status_code, response.headers["Content-Type"], response.get_data()

    status, kind, script = fetch("leaflet.js")
    assert status == 200 and "javascript" in kind and b"Leaflet" in script[:500]
    status, kind, style = fetch("leaflet.css")
    assert status == 200 and b".leaflet-container" in style
    assert fetch("images/marker-icon.png")[:2] == (200, "image/png")
    assert fetch("../__init__.py")[0] == 404
    assert fetch("nothing.js")[0] == 404


def test_the_day_and_week_views_speak_english_on_request(app: Flask, client: FlaskClient) -> None:
    """With ?lang=en the new headings, the utilisation note and the week's cells are English."""
    business = line_firm(app)
    make_user(business)
    hand_week(business)
    login(client)
    html = client.get("/dispatch/", query_string={"day": "2026-11-24", "lang": "en"}).get_data(
        as_text=True
    )
    for text in ("Key figures", "Discounts granted", "On time (planned)", "Timeline", "Map"):
        assert text in html, text
    assert "Utilisation = (service time + driving time)" in html
    html = client.get("/dispatch/week", query_string={"start": "2026-11-24"}).get_data(as_text=True)
    assert "Week of Monday, 23 November 2026" in html
    assert "absent" in html and "day off" in html and "2 jobs" in html
