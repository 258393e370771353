"""The migrations build exactly the models' schema; the demo seed keeps every promise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import Appointment, Business, RouteStop, ServiceType, Technician, User
from booking.services.emails import appointment_email
from booking.services.invariants import broken_promises
from booking.services.travel import travel_times
from optimizer.osrm import OsrmTravelTime
from seeds.demo import mail_name, seed_demo
from tests.booking.pages import count
from tests.conftest import make_app

MONDAY_MORNING = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def test_migrations_match_the_models(app: Flask) -> None:
    """Autogenerate finds nothing to add: the migrated database equals the models."""
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_demo_seed_builds_the_magdeburg_firm_with_routed_appointments(app: Flask) -> None:
    """5 technicians, 9 services, two weeks of confirmed appointments, every one in a route
    inside its window, some with a combination discount; no demo login unless asked."""
    business = seed_demo(MONDAY_MORNING, with_demo_login=False)
    assert count(Technician) == 5
    assert count(ServiceType) == 9
    assert count(User) == 0
    appointments = db.session.scalars(select(Appointment)).all()
    days = {a.day for a in appointments}
    assert len(days) == 10  # two working weeks from Monday 23 November
    assert count(RouteStop) == len(appointments) > 100
    assert any(a.price_discount_cents > 0 for a in appointments)
    assert {a.service.required_skill for a in appointments} == {"water", "heating", "gas"}
    assert broken_promises(business) == []


def test_every_demo_customer_can_be_sent_their_confirmation(app: Flask) -> None:
    """Each seeded appointment's email builds (a non-ASCII address could not be sent);
    "Jürgen" writes as "juergen"."""
    seed_demo(MONDAY_MORNING, with_demo_login=False)
    appointments = db.session.scalars(select(Appointment)).all()
    with app.test_request_context():
        for appointment in appointments:
            message = appointment_email(appointment, "booked", MONDAY_MORNING)
            assert message["To"].addresses[0].addr_spec == appointment.customer.email
    assert mail_name("Jürgen") == "juergen" and mail_name("Weiß") == "weiss"


def test_demo_seed_is_deterministic(app: Flask) -> None:
    """Seeding twice from the same morning gives the same customers at the same places."""

    def snapshot() -> list[tuple[object, ...]]:
        rows = db.session.execute(
            select(
                Appointment.day,
                Appointment.street,
                Appointment.lat,
                Appointment.lon,
                Appointment.window_start_s,
                Appointment.price_total_cents,
            ).order_by(Appointment.id)
        ).all()
        return [tuple(row) for row in rows]

    seed_demo(MONDAY_MORNING, with_demo_login=True)
    first = snapshot()
    assert count(User) == 1
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    seed_demo(MONDAY_MORNING, with_demo_login=True)
    assert snapshot() == first


def test_seed_command_runs_once(app: Flask) -> None:
    """`flask seed-demo` seeds an empty database and leaves a seeded one alone."""
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert "Seeded demo business" in first.output
    booked = count(Appointment)
    second = runner.invoke(args=["seed-demo"])
    assert "nothing seeded" in second.output
    assert count(Appointment) == booked
    assert count(Business) == 1
    check = runner.invoke(args=["check-plans"])
    assert check.exit_code == 0, check.output
    assert "0 broken promises" in check.output


def test_seed_command_names_the_demo_login_on_the_port_of_make_run(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In demo mode the login is printed with the port `make run PORT=…` serves on."""
    app.config["DEMO_MODE"] = True
    monkeypatch.setenv("PORT", "5077")
    output = app.test_cli_runner().invoke(args=["seed-demo"]).output
    assert "dispo@example.com / demo1234 at http://127.0.0.1:5077/login" in output


def test_the_travel_provider_is_chosen_by_configuration(migrated: dict[str, object]) -> None:
    """TRAVEL_PROVIDER=osrm puts the OSRM client behind the memo; unknown kinds fail fast."""
    app = make_app({**migrated, "TRAVEL_PROVIDER": "osrm", "OSRM_URL": "http://127.0.0.1:5999"})
    with app.app_context():
        assert isinstance(travel_times().provider, OsrmTravelTime)
    with pytest.raises(ValueError, match="TRAVEL_PROVIDER"):
        make_app({**migrated, "TRAVEL_PROVIDER": "teleport"})
