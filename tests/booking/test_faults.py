"""Faults: the solver, the geocoder, the mail server or the database fails.

What every test here checks: the request ends cleanly (a message in the user's language,
JSON under /api/, 503 with Retry-After where trying again helps), never a 500; nothing is
half-written; the plan in force (every stop and every day's version) is as before.

The faults are real where the machine allows: a port where nothing listens stands in for
the geocoding server, the mail server and the database; PostgreSQL's own
pg_terminate_backend cuts the app's connection in the middle of a booking. OR-Tools is
made to answer as it does when its time runs out before any solution (no assignment,
status ROUTING_FAIL_TIMEOUT) or to raise, by replacing `optimizer.planner.solve`, the one
function that calls it.

The firm is the factory's (tests/factories.py): Anna (water) and Gerd (water and gas) in
Magdeburg, 2-hour slots from 08:00; "now" is Monday 23 November 2026, 10:00.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Customer,
    GeocodeCacheEntry,
    PlanProposal,
    RouteStop,
)
from booking.services.addresses import init_geocoder
from optimizer.domain import Route
from tests.booking.pages import ADDRESS, CONTACT, book, count, slot_quotes
from tests.booking.test_absence import SOLVER_S, put, report_absence, technician
from tests.booking.test_api import API, error_of, offered_quotes
from tests.booking.test_api import book as api_book
from tests.booking.test_dispatch import (
    ALL_DAY,
    WEST_1,
    confirm,
    criss_cross_tuesday,
    flashes,
    login,
    reoptimise,
    stops_and_version,
)
from tests.booking.test_emails import free_port, use_smtp
from tests.booking.test_emergency import call_in, two_taps_for_anna
from tests.conftest import make_app
from tests.factories import TUESDAY, make_business, make_user, service

DB_DOWN_DE = "Das Buchungssystem ist kurz nicht erreichbar. Es wurde nichts gespeichert."
DB_DOWN_EN = "The booking system is briefly unavailable. Nothing was saved."
NO_BETTER_PLAN = "Es wurde kein besserer Plan gefunden; der aktuelle Plan bleibt."
SOLVER_FAILED = "Die Optimierung ist fehlgeschlagen; der aktuelle Plan bleibt."


# --- the solver ------------------------------------------------------------------------------


def or_tools_times_out(*_args: Any, **_kwargs: Any) -> tuple[None, str]:
    """What `optimizer.planner.solve` answers when the limit passes before any solution."""
    return None, "ROUTING_FAIL_TIMEOUT"


def or_tools_raises(*_args: Any, **_kwargs: Any) -> tuple[None, str]:
    raise RuntimeError("CP Solver fail")


OR_TOOLS_FAULTS = {"timeout": or_tools_times_out, "exception": or_tools_raises}


@pytest.mark.parametrize("fault", list(OR_TOOLS_FAULTS))
def test_reoptimising_keeps_the_plan_when_or_tools_fails(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """The zigzag Tuesday could be shortened, but OR-Tools times out or raises: the
    proposal says no better plan was found, applying it changes nothing, the day (stops
    and version) is as before."""
    business = make_business(windows=ALL_DAY)
    make_user(business)
    criss_cross_tuesday(business)
    before = stops_and_version()
    app.config["SOLVER_TIME_LIMIT_S"] = SOLVER_S
    monkeypatch.setattr("optimizer.planner.solve", OR_TOOLS_FAULTS[fault])
    login(client)

    path = reoptimise(app, client)
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-status="failed"' in html
    assert NO_BETTER_PLAN in html
    assert client.post(f"{path}/apply").status_code == 302
    assert stops_and_version() == before


def test_reoptimising_keeps_the_plan_when_the_planner_itself_raises(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash around OR-Tools (in plan_day itself, e.g. a bad model): the proposal says
    the optimisation failed, and the day is as before."""
    business = make_business(windows=ALL_DAY)
    make_user(business)
    criss_cross_tuesday(business)
    before = stops_and_version()
    monkeypatch.setattr("booking.services.planning.plan_day", or_tools_raises)
    login(client)

    html = client.get(reoptimise(app, client)).get_data(as_text=True)
    assert 'data-status="failed"' in html
    assert SOLVER_FAILED in html
    assert stops_and_version() == before


@pytest.mark.parametrize("fault", list(OR_TOOLS_FAULTS))
def test_an_absence_without_or_tools_still_gets_a_proposal_and_changes_nothing(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """Anna (one job in the west) falls ill while OR-Tools times out or raises. The
    planner falls back to the plan it started from: Anna's job inserted into Gerd's empty
    day by the cheapest insertion. That is shown as a proposal; until it is applied the
    plan in force is as before."""
    app.config["SOLVER_TIME_LIMIT_S"] = SOLVER_S
    business = make_business()
    make_user(business)
    west = confirm(business, "tap", WEST_1, "Wilma West")
    put(business, {"Anna Wasser": [west], "Gerd Gas": []})
    before = stops_and_version()
    monkeypatch.setattr("optimizer.planner.solve", OR_TOOLS_FAULTS[fault])
    login(client)

    page = client.get(report_absence(client, technician(business, "Anna Wasser")))
    assert page.status_code == 200
    assert 'data-status="ready"' in page.get_data(as_text=True)
    assert stops_and_version() == before


def test_an_emergency_whose_planning_crashes_is_refused_and_writes_nothing(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The insertion search raises while an emergency is called in: 503 with the form and
    a German message, no proposal, no appointment, the day as before."""
    business, _west, _east = two_taps_for_anna(app)
    before = stops_and_version()
    login(client)
    monkeypatch.setattr("booking.services.emergency.best_insertion", or_tools_raises)

    response = call_in(client, service(business, "tap").id, "09:00", "11:00")
    assert response.status_code == 503
    assert "Die Planung ist fehlgeschlagen; es wurde nichts geändert." in " ".join(
        flashes(response.get_data(as_text=True))
    )
    assert count(PlanProposal) == 0
    assert count(Appointment) == 2
    assert stops_and_version() == before


def plan_day(app: Flask) -> Any:
    return app.test_cli_runner().invoke(
        args=["plan-day", "--business", "elbe", "--day", TUESDAY.isoformat(),
              "--time-limit", str(SOLVER_S)]
    )  # fmt: skip


def test_plan_day_keeps_the_plan_when_or_tools_times_out(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`flask plan-day` on the zigzag day with OR-Tools out of time: "no_improvement …
    (kept)", exit code 0, the day as before."""
    business = make_business(windows=ALL_DAY)
    criss_cross_tuesday(business)
    before = stops_and_version()
    monkeypatch.setattr("optimizer.planner.solve", or_tools_times_out)

    result = plan_day(app)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("no_improvement:")
    assert "(kept)" in result.output
    assert stops_and_version() == before


def test_plan_day_reports_a_crashing_planner_in_one_line(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planner raises: exit code 1, one line naming the error's kind and that the
    plan stays (no traceback), the day as before."""
    business = make_business(windows=ALL_DAY)
    criss_cross_tuesday(business)
    before = stops_and_version()
    monkeypatch.setattr("booking.services.planning.plan_day", or_tools_raises)

    result = plan_day(app)
    assert result.exit_code == 1
    assert result.output == "Error: the solver failed (RuntimeError); the plan in force stays\n"
    assert stops_and_version() == before


# --- the geocoder ----------------------------------------------------------------------------


@pytest.fixture
def geocoder_down(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Photon at a port where nothing listens, and no postcode data to fall back on."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    app.config.update(
        GEOCODER="photon",
        PHOTON_URL=f"http://127.0.0.1:{free_port()}",
        GEOCODER_MIN_DELAY_S=0.0,
        GEODATA_DIR=str(tmp_path / "no-geodata"),
        PGEOCODE_DATA_DIR=str(tmp_path / "no-pgeocode-cache"),
    )
    init_geocoder(app)


def nothing_written() -> bool:
    """No customer, appointment, stop or cached address."""
    return (
        count(Customer) == count(Appointment) == count(RouteStop) == count(GeocodeCacheEntry) == 0
    )


@pytest.mark.usefixtures("geocoder_down")
def test_the_slots_page_explains_a_geocoder_outage_in_the_users_language(
    app: Flask, client: FlaskClient
) -> None:
    """The address step cannot be located: 503, the form again with the firm's phone
    number, in German and, with ?lang=en, in English; nothing written."""
    make_business()
    german = client.get("/book/tap/slots", query_string=ADDRESS)
    assert german.status_code == 503
    assert (
        "Die Adresssuche ist gerade nicht erreichbar. Bitte versuchen Sie es erneut oder rufen "
        "Sie uns an: 0391 000 111." in flashes(german.get_data(as_text=True))
    )
    with app.app_context():  # a context of its own: Flask-Babel keeps the locale in one
        english = client.get("/book/tap/slots", query_string={**ADDRESS, "lang": "en"})
    assert english.status_code == 503
    assert (
        "Address lookup is unavailable right now. Please try again or call us at 0391 000 111."
        in flashes(english.get_data(as_text=True))
    )
    assert nothing_written()


@pytest.mark.usefixtures("geocoder_down")
@pytest.mark.parametrize("path", ["geocode", "offers"])
def test_the_api_answers_a_geocoder_outage_with_503_and_retry_after(
    client: FlaskClient, path: str
) -> None:
    """POST geocode and POST offers: 503 geocoder_unavailable, retry_after_s 30 in the body
    and the Retry-After header; nothing written."""
    make_business()
    response = client.post(f"{API}/{path}?lang=en", json={"service": "tap", **ADDRESS})
    error = error_of(response, 503)
    assert error["code"] == "geocoder_unavailable"
    assert error["retry_after_s"] == 30
    assert response.headers["Retry-After"] == "30"
    assert error["message"].startswith("Address lookup is unavailable right now.")
    assert nothing_written()


@pytest.mark.usefixtures("geocoder_down")
def test_an_emergency_during_a_geocoder_outage_is_refused_and_writes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    """The dispatcher's emergency form: 503, a German message, no proposal."""
    business = make_business()
    make_user(business)
    login(client)
    response = call_in(client, service(business, "tap").id, "09:00", "11:00")
    assert response.status_code == 503
    assert "Die Adresssuche ist gerade nicht erreichbar; bitte versuchen Sie es erneut." in (
        flashes(response.get_data(as_text=True))
    )
    assert count(PlanProposal) == 0
    assert nothing_written()


def test_a_remote_geocoder_outage_falls_back_to_the_postcode(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Photon down but the postcode data at hand: offers still come, located at the
    postcode's centre (precision "postcode"), so customers can book on."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    app.config.update(
        GEOCODER="photon", PHOTON_URL=f"http://127.0.0.1:{free_port()}", GEOCODER_MIN_DELAY_S=0.0
    )
    init_geocoder(app)
    make_business()
    response = client.post(f"{API}/offers", json={"service": "tap", **ADDRESS})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["address"]["precision"] == "postcode"
    assert any(slot["offered"] for slot in response.get_json()["slots"])


# --- the mail server -------------------------------------------------------------------------


def test_a_mail_server_that_is_down_costs_no_booking_and_no_cancellation(
    app: Flask, client: FlaskClient
) -> None:
    """SMTP at a port where nothing listens. Through the pages: booked, the confirmation
    page says so and that no email went out. Through the API: booked (201) and cancelled
    (200), each with email_sent false; the cancelled appointment has left its route."""
    use_smtp(app, free_port())
    make_business()

    response = book(client, slot_quotes(client, "tap")[0])
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ihr Termin ist gebucht" in page
    assert "Wir konnten Ihnen gerade keine E-Mail schicken." in page

    booked = api_book(client, offered_quotes(client)[0])
    assert booked.status_code == 201
    assert booked.get_json()["email_sent"] is False
    token = booked.get_json()["appointment"]["manage_token"]
    assert count(Appointment) == count(RouteStop) == 2

    cancelled = client.post(f"{API}/appointments/{token}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.get_json()["email_sent"] is False
    assert cancelled.get_json()["appointment"]["status"] == AppointmentStatus.CANCELLED
    assert count(RouteStop) == 1


# --- the database ----------------------------------------------------------------------------


def unreachable(database_url: str, folder: Path) -> str:
    """A database URL of the same kind that cannot be opened: a SQLite file in a folder
    (inside `folder`) that does not exist, or a PostgreSQL port where nothing listens."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{folder / 'no-such-folder' / 'kombitermin.db'}"
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/kombitermin"


@pytest.fixture
def cut_off(
    app: Flask, migrated: dict[str, object], database_url: str, tmp_path: Path
) -> Iterator[FlaskClient]:
    """A client of an app whose database cannot be reached."""
    broken = make_app({**migrated, "SQLALCHEMY_DATABASE_URI": unreachable(database_url, tmp_path)})
    yield broken.test_client()
    with broken.app_context():
        db.engine.dispose()


LOGIN = {"email": "dispo@test.example", "password": "secret-123"}
PAGES = [("get", "/", None), ("get", "/book/tap", None), ("post", "/login", LOGIN)]
API_CALLS = [
    ("get", f"{API}/services", None),
    ("post", f"{API}/offers", {"service": "tap", **ADDRESS}),
    ("post", f"{API}/bookings", {"quote": "x", **CONTACT, "consent": True}),
    ("get", f"{API}/appointments/{'a' * 43}", None),
    ("post", f"{API}/appointments/{'a' * 43}/cancel", None),
]


def test_pages_answer_an_unreachable_database_with_503_in_the_users_language(
    cut_off: FlaskClient,
) -> None:
    """Customer and dispatcher pages: 503, Retry-After 30, a page that says nothing was
    saved, in German and (?lang=en) in English."""
    for method, path, form in PAGES:
        response = getattr(cut_off, method)(path, data=form)
        assert response.status_code == 503, (path, response.status_code)
        assert response.headers["Retry-After"] == "30"
        assert DB_DOWN_DE in flashes(response.get_data(as_text=True))[0], path
    english = cut_off.get("/", query_string={"lang": "en"})
    assert english.status_code == 503
    assert DB_DOWN_EN in flashes(english.get_data(as_text=True))[0]


def test_the_api_answers_an_unreachable_database_with_503_json(cut_off: FlaskClient) -> None:
    """Every kind of API call: 503 temporarily_unavailable, retry_after_s 30 in the body
    and in the Retry-After header."""
    for method, path, body in API_CALLS:
        response = getattr(cut_off, method)(path, json=body)
        error = error_of(response, 503)
        assert error["code"] == "temporarily_unavailable", path
        assert error["retry_after_s"] == 30
        assert response.headers["Retry-After"] == "30"
        assert error["message"].startswith(DB_DOWN_DE)


def test_a_request_that_gets_no_pooled_connection_is_503(
    app: Flask, migrated: dict[str, object]
) -> None:
    """A pool of one connection, held elsewhere, and a tenth of a second to wait: the
    request answers 503 temporarily_unavailable instead of hanging or failing with 500."""
    make_business()
    db.session.commit()
    small = make_app(
        {
            **migrated,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.1},
        }
    )
    with small.app_context():
        held = db.engine.connect()
        try:
            response = small.test_client().get(f"{API}/services")
        finally:
            held.close()
            db.engine.dispose()
    assert error_of(response, 503)["code"] == "temporarily_unavailable"
    assert response.headers["Retry-After"] == "30"


@pytest.fixture
def terminate_backend(database_url: str) -> Iterator[Callable[..., None]]:
    """A function that ends a PostgreSQL connection of the app (the session's, or the one
    with this backend pid) from a second one, as a restart or a failover would."""
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")

    def terminate(pid: int | None = None) -> None:
        if pid is None:
            pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    yield terminate
    admin.dispose()


def cut_during_the_insertion(
    monkeypatch: pytest.MonkeyPatch, terminate: Callable[..., None]
) -> None:
    """Terminate the booking's connection right after the day is locked and the insertion
    is found, before the appointment is written."""
    from booking.services import bookings

    real = bookings.best_insertion

    def insertion_then_cut(routes: list[Route], *args: Any) -> Any:
        found = real(routes, *args)
        terminate()
        return found

    monkeypatch.setattr(bookings, "best_insertion", insertion_then_cut)


def test_a_connection_lost_mid_booking_writes_nothing_and_a_retry_books(
    app: Flask,
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    terminate_backend: Callable[..., None],
) -> None:
    """PostgreSQL ends the connection while the booking holds the day's lock: the API
    answers 503 temporarily_unavailable with Retry-After; no customer, appointment or stop
    was written and the day's version is as before. The same request again books (201)."""
    make_business()
    quote = offered_quotes(client)[0]
    before = stops_and_version()
    with monkeypatch.context() as patch:
        cut_during_the_insertion(patch, terminate_backend)
        response = api_book(client, quote)
    error = error_of(response, 503)
    assert error["code"] == "temporarily_unavailable"
    assert response.headers["Retry-After"] == "30"
    assert count(Customer) == count(Appointment) == 0
    assert stops_and_version() == before

    again = api_book(client, quote)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert count(Appointment) == count(RouteStop) == 1


def test_a_connection_ended_between_requests_is_replaced_unnoticed(
    app: Flask, client: FlaskClient, terminate_backend: Callable[..., None]
) -> None:
    """PostgreSQL ends the idle pooled connection (a restart, an idle timeout): the next
    request gets a fresh one (pool_pre_ping) and answers 200, not 503."""
    make_business()
    db.session.commit()
    db.engine.dispose()
    with db.engine.connect() as connection:  # the pool's only connection from now on
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    terminate_backend(pid)
    response = client.get(f"{API}/services")
    assert response.status_code == 200, response.get_data(as_text=True)


def test_a_connection_lost_mid_booking_on_the_pages_is_a_503_page(
    app: Flask,
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    terminate_backend: Callable[..., None],
) -> None:
    """The same through the booking page: a 503 page saying nothing was saved."""
    make_business()
    quote = slot_quotes(client, "tap")[0]
    before = stops_and_version()
    cut_during_the_insertion(monkeypatch, terminate_backend)
    response = book(client, quote)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert DB_DOWN_DE in flashes(response.get_data(as_text=True))[0]
    assert count(Customer) == count(Appointment) == 0
    assert stops_and_version() == before
