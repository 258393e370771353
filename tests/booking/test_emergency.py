"""Emergency jobs (Notdienst): inserted at the best position, after the stops under way,
shown with whose arrival shifts, applied only while every window holds."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentSource,
    AuditEntry,
    PlanProposal,
    RouteStop,
)
from booking.services.invariants import broken_promises
from tests.booking.mailbox import mails, text_of
from tests.booking.test_absence import put, stops_of
from tests.booking.test_dispatch import EAST_1, WEST_1, confirm, login, stops_and_version
from tests.factories import TUESDAY, make_business, make_user, service

H = 3600
# 39108 Magdeburg: the tests' postcode geocoder puts it at 52.1286, 11.6064, about 2 km
# from the depot and on the way from the Westring (4 km west) to the Ostring (7 km east).
CALLER = {
    "name": "Erna Eilig",
    "phone": "0391 555 0101",
    "email": "erna@example.de",
    "street": "Olvenstedter Straße 9",
    "postcode": "39108",
    "city": "Magdeburg",
    "notes": "Rohrbruch im Keller",
}


def call_in(client: FlaskClient, code_id: int, start: str, end: str, **overrides: str):
    data = {**CALLER, "service": str(code_id), "arrive_from": start, "arrive_until": end,
            "day": TUESDAY.isoformat(), **overrides}  # fmt: skip
    return client.post("/dispatch/emergency", data=data)


def two_taps_for_anna(app: Flask):
    """Anna: tap in the west 8-10 (starts 08:00), tap in the east 10-12; Gerd: nothing."""
    business = make_business()
    make_user(business)
    west = confirm(business, "tap", WEST_1, "Wilma West", window_start=8 * H)
    east = confirm(business, "tap", EAST_1, "Otto Ost", window_start=10 * H)
    put(business, {"Anna Wasser": [west, east], "Gerd Gas": []})
    return business, west, east


def test_an_emergency_rides_along_with_the_nearest_route_and_is_applied(
    app: Flask, client: FlaskClient, outbox: Path
) -> None:
    """A burst pipe on Anna's way from west to east, to be reached 09:00-11:00 on Tuesday:
    the cheapest place is between her two jobs (about 0.3 km extra; Gerd would drive
    about 3.8 km out and back alone; before her first job it would make her late there).
    The preview shows the new job and Otto Ost's later start, still inside his 10-12
    window, and writes nothing; applied, the job is Anna's second stop, confirmed, booked
    by the dispatcher as an emergency at base price plus travel fee, the caller gets the
    confirmation, and the log has the entry."""
    business, west, east = two_taps_for_anna(app)
    before = stops_and_version()
    login(client)
    tap = service(business, "tap")

    response = call_in(client, tap.id, "09:00", "11:00")
    assert response.status_code == 302, response.get_data(as_text=True)
    path = response.headers["Location"]
    assert re.fullmatch(r"/dispatch/proposals/\d+", path)
    page = client.get(path).get_data(as_text=True)
    assert 'data-status="ready"' in page
    assert "Erna Eilig" in page and "Otto Ost" in page
    assert stops_and_version() == before

    client.post(f"{path}/apply")
    db.session.expire_all()
    new = db.session.scalars(select(Appointment).where(Appointment.id.not_in([west.id, east.id])))
    [created] = new.all()
    assert stops_of(business, "Anna Wasser") == [west.id, created.id, east.id]
    assert created.source == AppointmentSource.EMERGENCY
    assert (created.window_start_s, created.window_end_s) == (9 * H, 11 * H)
    assert created.price_discount_cents == 0
    assert created.price_total_cents == tap.base_price_cents + created.price_travel_fee_cents
    otto = db.session.scalars(select(RouteStop).where(RouteStop.appointment_id == east.id)).one()
    assert 10 * H <= otto.planned_start_s <= 12 * H
    assert broken_promises(business) == []
    [message] = mails(outbox)
    assert message["To"].addresses[0].addr_spec == "erna@example.de"
    assert "Olvenstedter Straße 9" in text_of(message)
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.details["created"]) == ("emergency", created.id)


def test_on_the_day_itself_the_job_goes_after_the_stops_under_way(
    app: Flask, client: FlaskClient
) -> None:
    """The same call at Tuesday 10:05 (09:05 UTC), to be reached 10:15-12:15: both of
    Anna's stops were planned to start by then (08:00, and 10:00 at the opening of the
    window after arriving about 09:28). Between them it would still fit on paper (after
    west until 09:00, at the caller 10:15-11:15, in the east by about 11:34) and cost the
    least, but that is the past: it goes after them or to Gerd, and every stop before it
    started by 10:05."""
    business, west, east = two_taps_for_anna(app)
    app.config["NOW"] = lambda: datetime(2026, 11, 24, 9, 5, tzinfo=UTC)
    login(client)
    response = call_in(client, service(business, "tap").id, "10:15", "12:15")
    assert response.status_code == 302, response.get_data(as_text=True)
    client.post(f"{response.headers['Location']}/apply")

    db.session.expire_all()
    created = db.session.scalars(
        select(Appointment).where(Appointment.id.not_in([west.id, east.id]))
    ).one()
    stop = created.stop
    assert stop is not None
    earlier = db.session.scalars(
        select(RouteStop).where(
            RouteStop.technician_id == stop.technician_id,
            RouteStop.position < stop.position,
        )
    ).all()
    assert all(s.planned_start_s <= 10 * H + 300 for s in earlier)
    assert stops_of(business, "Anna Wasser")[:2] == [west.id, east.id]
    assert broken_promises(business) == []


def test_an_emergency_nobody_can_reach_is_refused_with_the_reason(
    app: Flask, client: FlaskClient
) -> None:
    """A gas emergency (only Gerd has the gas skill) for 09:00-11:00 while Gerd spends the
    day on a 7-hour job from 08:00: nobody can take it without breaking a promise. The
    form says so, and no proposal or appointment appears."""
    business = make_business()
    make_user(business)
    big = confirm(business, "bigjob", EAST_1, "Otto Ost", window_start=8 * H)
    put(business, {"Anna Wasser": [], "Gerd Gas": [big]})
    login(client)
    response = call_in(client, service(business, "gasboiler").id, "09:00", "11:00")
    assert response.status_code == 422
    assert "Kein Monteur kann diese Adresse in diesem Zeitfenster erreichen" in (
        response.get_data(as_text=True)
    )
    assert db.session.scalars(select(PlanProposal)).all() == []
    assert db.session.scalars(select(Appointment)).all() == [big]


def test_bad_emergency_input_gets_german_messages_and_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    """An impossible time, a window ending before it starts, and another firm's service
    are each refused on the form with a reason; nothing is proposed."""
    business, _west, _east = two_taps_for_anna(app)
    other = make_business("saale")
    login(client)
    tap = service(business, "tap")
    bad_time = call_in(client, tap.id, "25:00", "11:00")
    assert bad_time.status_code == 422
    assert "Bitte eine Uhrzeit wie 14:30." in bad_time.get_data(as_text=True)
    backwards = call_in(client, tap.id, "11:00", "09:00")
    assert backwards.status_code == 422
    assert "Das Zeitfenster muss nach seinem Beginn enden." in backwards.get_data(as_text=True)
    foreign = call_in(client, service(other, "tap").id, "09:00", "11:00")
    assert foreign.status_code == 422
    assert db.session.scalars(select(PlanProposal)).all() == []
