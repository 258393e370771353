"""The cached horizon of offers is reused while its plans are unchanged, and rebuilt after
any change another process commits: a day plan's version, a technician's row, an absence,
a service. Each change is written through a connection of its own, as another web
process or a worker would write it, never through this test's session."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, update

from booking.extensions import db
from booking.models import Business, DayPlan, ServiceType, Technician, TechnicianAbsence
from booking.services.horizons import horizon
from booking.services.travel import travel_times
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
