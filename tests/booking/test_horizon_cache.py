"""The cached horizon of offers is reused while its plans are unchanged, and rebuilt after
any change another process commits: a day plan's version, a technician's row, an absence,
a service. Each change is written through a connection of its own, as another web
process or a worker would write it, never through this test's session."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, update

from booking.extensions import db
from booking.models import Business, DayPlan, ServiceType, Technician, TechnicianAbsence
from booking.services import horizons
from booking.services.dayplans import day_workers
from booking.services.horizons import horizon, plans_in_force
from booking.services.travel import travel_times
from optimizer.domain import Route
from optimizer.offers import Horizon
from tests.factories import TUESDAY, make_business

WEDNESDAY = date(2026, 11, 25)
DAYS = (TUESDAY, WEDNESDAY)


def elsewhere(statement: Any) -> None:
    """Commit a statement on a connection of its own, as another process would."""
    with db.engine.begin() as connection:
        connection.execute(statement)


def current(business: Business) -> Horizon:
    db.session.rollback()  # a new request: a new transaction sees what others committed
    return horizon(business, DAYS, travel_times())


def some_technician(business: Business) -> Technician:
    return business.technicians[0]


def tap(business: Business) -> ServiceType:
    return next(s for s in business.services if s.code == "tap")


CHANGES = {
    "day plan version": lambda b: insert(DayPlan).values(business_id=b.id, day=TUESDAY, version=3),
    "working hours": lambda b: (
        update(Technician)
        .where(Technician.id == some_technician(b).id)
        .values(working_hours={"1": [9 * 3600, 12 * 3600]})
    ),
    "skills": lambda b: (
        update(Technician)
        .where(Technician.id == some_technician(b).id)
        .values(skills=["water", "heating"])
    ),
    "start coordinate": lambda b: (
        update(Technician)
        .where(Technician.id == some_technician(b).id)
        .values(start_lat=some_technician(b).start_lat + 1e-9)
    ),
    "lunch break": lambda b: (
        update(Technician)
        .where(Technician.id == some_technician(b).id)
        .values(lunch_earliest_s=12 * 3600, lunch_latest_s=13 * 3600, lunch_duration_s=1800)
    ),
    "active": lambda b: (
        update(Technician).where(Technician.id == some_technician(b).id).values(active=False)
    ),
    "absence": lambda b: insert(TechnicianAbsence).values(
        technician_id=some_technician(b).id, first_day=WEDNESDAY, last_day=WEDNESDAY
    ),
    "service duration": lambda b: (
        update(ServiceType)
        .where(ServiceType.id == tap(b).id)
        .values(duration_s=tap(b).duration_s + 60)
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_committed_elsewhere_rebuilds_the_horizon(app: Flask, change: str) -> None:
    """Asked twice without a change, the very same horizon comes back (the cache); after
    the change, committed by another connection, a new one is built."""
    business = make_business()
    db.session.commit()
    first = current(business)
    assert current(business) is first
    elsewhere(CHANGES[change](business))
    assert current(business) is not first


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_cached_technicians_follow_a_change_committed_elsewhere(
    app: Flask, change: str
) -> None:
    """The technicians of each day are cached too (by the same fingerprint): after any
    change, the routes a booking inserts into have the technicians as the rows now say,
    shift, skills, start, lunch, absence and all."""
    business = make_business()
    db.session.commit()
    before = current(business)
    assert [p.routes for p in plans_in_force(business, DAYS)] == [
        tuple(Route(worker) for worker in day_workers(business, [day])[day]) for day in DAYS
    ]
    elsewhere(CHANGES[change](business))
    db.session.rollback()
    fresh = day_workers(business, DAYS)
    assert [tuple(r.technician for r in p.routes) for p in plans_in_force(business, DAYS)] == [
        fresh[day] for day in DAYS
    ]
    assert current(business) is not before


def test_threads_missing_the_same_horizon_build_it_once(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a change, six requests of one process ask at the same moment: one thread
    loads the changed day, the other five wait for it and get the very same horizon."""
    business = make_business()
    db.session.commit()
    current(business)
    elsewhere(CHANGES["day plan version"](business))
    loads: list[list[date]] = []
    real_load = horizons.load_routes

    def slow_load(*args: Any) -> Any:
        loads.append(list(args[1]))
        time.sleep(0.2)  # long enough that all six are waiting meanwhile
        return real_load(*args)

    monkeypatch.setattr(horizons, "load_routes", slow_load)
    start = threading.Barrier(6)
    found: list[Horizon] = []

    def ask() -> None:
        with app.app_context():
            mine = db.session.get(Business, business.id)
            start.wait()
            found.append(horizon(mine, DAYS, travel_times()))
            db.session.remove()

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == [[TUESDAY]]
    assert len(found) == 6 and all(h is found[0] for h in found)
