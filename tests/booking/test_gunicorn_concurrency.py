"""The real app under gunicorn (4 worker processes) on PostgreSQL, raced over real HTTP:
50 confirmations of a slot only one can have, 50 cancellations, and re-optimisations of
a day while bookings for it come in. Nothing doubled, nothing lost, every promise kept."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask import Flask
from sqlalchemy import select

from booking import create_app
from booking.bench.served import JsonClient, gunicorn, prepare_database, throwaway_database
from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, Business, RouteStop
from booking.services.invariants import broken_promises
from booking.services.planning import replan_day
from optimizer.planner import PlanParameters
from tests.booking.pages import ADDRESS, count
from tests.conftest import NOW, POSTGRES_ENV, empty_every_table
from tests.factories import TUESDAY, make_business

pytestmark = pytest.mark.postgres

RACERS = 50
SECRET = "gunicorn-test-secret"
CONTACT = {"name": "Erika Mustermann", "phone": "0391 123456", "consent": True}
T = TypeVar("T")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(
            f"the gunicorn tests need PostgreSQL: set {POSTGRES_ENV}, "
            "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
    with throwaway_database(server) as url:
        prepare_database(url, lambda: None)  # migrated; each test seeds its own business
        yield url


@pytest.fixture(scope="module")
def settings(database: str, geodata_dir: Path) -> dict[str, Any]:
    """What both the served app and this test's own app run with."""
    return {
        "SQLALCHEMY_DATABASE_URI": database,
        "SECRET_KEY": SECRET,
        "GEOCODER": "postcode",
        "GEODATA_DIR": str(geodata_dir),
    }


@pytest.fixture(scope="module")
def base_url(settings: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    outbox = tmp_path_factory.mktemp("outbox")
    env = {
        "DATABASE_URL": settings["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": SECRET,
        "GEOCODER": "postcode",
        "GEODATA_DIR": settings["GEODATA_DIR"],
        # pgeocode's converted copy of our few postcodes; never the instance folder's
        "PGEOCODE_DATA_DIR": str(tmp_path_factory.mktemp("pgeocode")),
        "RATELIMIT_ENABLED": "0",  # 50 bookings from one address are the point here
        "MAILER": "outbox",
        "MAIL_OUTBOX": str(outbox),
    }
    with gunicorn("tests.booking.served_app:app", env, workers=4, threads=2) as url:
        yield url


@pytest.fixture
def local(settings: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    """This process's own app on the served database, for seeding and checking; every
    table is emptied afterwards."""
    app = create_app({**settings, "NOW": lambda: NOW}, instance_path=str(tmp_path))
    with app.app_context():
        yield app
        empty_every_table()


def offered(client: JsonClient, service: str) -> list[dict[str, Any]]:
    status, body = client.post("/api/v1/offers", {"service": service, **ADDRESS})
    assert status == 200, body
    return [slot for slot in body["slots"] if slot["offered"]]


def book(client: JsonClient, quote: str, n: int = 0) -> tuple[int, dict[str, Any]]:
    return client.post(
        "/api/v1/bookings", {"quote": quote, **CONTACT, "email": f"kunde{n}@example.de"}
    )


def post_once(base_url: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One request on a connection of its own, as from another customer's browser."""
    with JsonClient(base_url) as client:
        return client.post(path, body)


def book_once(base_url: str, quote: str, n: int) -> tuple[int, dict[str, Any]]:
    with JsonClient(base_url) as client:
        return book(client, quote, n)


def all_at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run every call in its own thread, released together by a barrier."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls, timeout=120))


def confirmed_on(day: date) -> list[Appointment]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Appointment).where(
                Appointment.day == day, Appointment.status == AppointmentStatus.CONFIRMED
            )
        )
    )


def no_business_broken() -> None:
    db.session.expire_all()
    for business in db.session.scalars(select(Business)):
        assert broken_promises(business) == []


def test_fifty_confirmations_of_the_last_slot_one_wins_the_rest_get_alternatives(
    local: Flask, base_url: str, request: pytest.FixtureRequest
) -> None:
    """Tuesday has room for one more 7-hour job once Anna or Gerd has one (a working day
    is 8.5 hours). 50 customers confirm the same quote for it at once, through 4 gunicorn
    workers: exactly one is booked (201); 49 hear 409 slot_taken with fresh offers, none
    of them on Tuesday, which is full. Tuesday holds exactly two appointments, one stop
    each."""
    make_business()
    client = JsonClient(base_url)
    request.addfinalizer(client.close)
    first = offered(client, "bigjob")[0]
    assert first["day"] == TUESDAY.isoformat()
    assert book(client, first["quote"])[0] == 201
    last = offered(client, "bigjob")[0]
    assert last["day"] == TUESDAY.isoformat()

    answers = all_at_once(
        [lambda n=n: book_once(base_url, last["quote"], n) for n in range(RACERS)]
    )

    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 409: RACERS - 1}
    for status, body in answers:
        if status == 409:
            assert body["error"]["code"] == "slot_taken"
            alternatives = body["error"]["alternatives"]
            assert alternatives and all(a["quote"] for a in alternatives)
            assert TUESDAY.isoformat() not in {a["day"] for a in alternatives}
    on_tuesday = confirmed_on(TUESDAY)
    assert len(on_tuesday) == 2
    winner = next(body for status, body in answers if status == 201)
    assert winner["appointment"]["manage_token"] in {a.manage_token for a in on_tuesday}
    assert count(RouteStop) == 2
    no_business_broken()


def test_fifty_cancellations_cancel_each_appointment_exactly_once(
    local: Flask, base_url: str, request: pytest.FixtureRequest
) -> None:
    """Eight 1-hour jobs on Tuesday; 50 cancellations at once: 26 of the first appointment
    and 4 of each of the next six. Every answer is 200, and for each of the seven exactly
    one answer says it cancelled it (only that one sends the email, `email_sent`). The
    eighth stays, alone in its re-timed route at position 0."""
    make_business()
    client = JsonClient(base_url)
    request.addfinalizer(client.close)
    tokens = []
    for n in range(8):
        slot = next(s for s in offered(client, "tap") if s["day"] == TUESDAY.isoformat())
        status, body = book(client, slot["quote"], n)
        assert status == 201, body
        tokens.append(body["appointment"]["manage_token"])
    targets = [tokens[0]] * 26 + [token for token in tokens[1:7] for _ in range(4)]
    assert len(targets) == RACERS

    answers = all_at_once(
        [
            lambda t=t: post_once(base_url, f"/api/v1/appointments/{t}/cancel", {})
            for t in targets
        ]
    )

    assert {status for status, _ in answers} == {200}
    cancelled_by = Counter(
        body["appointment"]["manage_token"] for _, body in answers if "email_sent" in body
    )
    assert cancelled_by == {token: 1 for token in tokens[:7]}
    remaining = confirmed_on(TUESDAY)
    assert [a.manage_token for a in remaining] == [tokens[7]]
    stops = db.session.scalars(select(RouteStop)).all()
    assert [(s.appointment_id, s.position) for s in stops] == [(remaining[0].id, 0)]
    no_business_broken()


def test_reoptimisations_while_bookings_come_in_keep_every_booking(
    local: Flask, base_url: str, request: pytest.FixtureRequest
) -> None:
    """Six 1-hour jobs on Tuesday, then at once: three re-optimisations of Tuesday (as
    `flask plan-day` runs them, 0.5 s of solver each) and twelve customers confirming
    Tuesday quotes over HTTP. Each re-optimisation either applies or keeps the plan for a
    stated reason; every confirmed booking (201) is on Tuesday in exactly one route, and
    the day holds the six plus exactly the confirmed ones."""
    business_id = make_business().id
    client = JsonClient(base_url)
    request.addfinalizer(client.close)
    for n in range(6):
        slot = next(s for s in offered(client, "tap") if s["day"] == TUESDAY.isoformat())
        assert book(client, slot["quote"], n)[0] == 201
    quotes = [s["quote"] for s in offered(client, "tap") if s["day"] == TUESDAY.isoformat()]
    assert quotes

    def replan() -> str:
        with local.app_context():
            business = db.session.get(Business, business_id)
            assert business is not None
            outcome = replan_day(business, TUESDAY, PlanParameters(time_limit_s=0.5))
            db.session.remove()
            return outcome.reason

    def booking(n: int) -> str:
        status, body = book_once(base_url, quotes[n % len(quotes)], 100 + n)
        assert status in {201, 409}, body
        return body["appointment"]["manage_token"] if status == 201 else ""

    results = all_at_once([replan] * 3 + [lambda n=n: booking(n) for n in range(12)])

    reasons, tokens = results[:3], [t for t in results[3:] if t]
    allowed = {"improved", "no_improvement", "would_drop_jobs", "changed_meanwhile"}
    assert set(reasons) <= allowed
    assert tokens  # the first booking of each quote fits at least
    on_tuesday = confirmed_on(TUESDAY)
    assert len(on_tuesday) == 6 + len(tokens)
    assert set(tokens) <= {a.manage_token for a in on_tuesday}
    assert count(RouteStop) == len(on_tuesday)
    no_business_broken()
