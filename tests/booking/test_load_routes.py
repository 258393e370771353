"""`load_routes` (the offers' lean read of the plans in force) gives exactly the routes of
`load_days` (the ORM read that bookings and re-plans use), pinned and started stops
included, so the two can never offer and confirm against different routes."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import DayPlan, RouteStop, Technician, TechnicianAbsence
from booking.services.dayplans import load_days, load_routes
from seeds.demo import seed_demo

MONDAY_MORNING = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
DAYS = [date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 28)]  # Tue, Wed, Saturday


def test_load_routes_equals_the_routes_of_load_days(app: Flask) -> None:
    """On the demo firm, with a pinned stop, a started stop, an absent technician and a
    day nobody works: both reads give equal routes, stop by stop."""
    business = seed_demo(MONDAY_MORNING, with_demo_login=False, days=3)
    stops = db.session.scalars(
        select(RouteStop).join(DayPlan).where(DayPlan.day == DAYS[0]).order_by(RouteStop.id)
    ).all()
    stops[0].pinned = True
    stops[1].appointment.progress = "arrived"
    stops[2].appointment.progress = "finished"
    absent = db.session.scalars(select(Technician).order_by(Technician.id.desc())).first()
    assert absent is not None
    db.session.add(TechnicianAbsence(technician=absent, first_day=DAYS[1], last_day=DAYS[1]))
    db.session.commit()

    lean = load_routes(business, DAYS)
    full = [state.routes for state in load_days(business, DAYS)]
    assert lean == full
    held = [job for plan in lean for route in plan.routes for job in route.jobs if job.pinned_to]
    assert len(held) == 3  # the pinned stop and the two started ones
    assert lean[2].routes == ()  # Saturday: nobody works
    assert all(route.technician.id != str(absent.id) for route in lean[1].routes)
