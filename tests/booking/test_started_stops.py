"""What the technician has started stays where it is: re-planning, moves and absences
leave stops alone once progress was reported from the route sheet."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import Appointment, PlanProposal, RouteStop
from booking.services.invariants import broken_promises
from tests.booking.test_dispatch import (
    ALL_DAY,
    SOLVER_S,
    criss_cross_tuesday,
    flashes,
    login,
    reoptimise,
    stops_and_version,
)
from tests.booking.test_dispatch_actions import placing
from tests.factories import TUESDAY, make_business, make_user

TUESDAY_0930 = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # 09:30 in Magdeburg


def report(appointment: Appointment, progress: str) -> None:
    """Progress as the route sheet stores it (the sheet's own rules are tested elsewhere)."""
    appointment.progress = progress
    appointment.arrived_at = TUESDAY_0930
    if progress == "done":
        appointment.done_at = TUESDAY_0930
    db.session.commit()


def test_re_optimising_keeps_started_stops_in_place(app: Flask, client: FlaskClient) -> None:
    """Anna zigzags west 1, east 1, west 2, east 2; Gerd is idle. She is done in the west
    and has arrived in the east. Re-optimising may still shorten the day, but only behind
    those two: west 1 stays her first stop and east 1 her second (without the rule, the
    solver would pair the two west and the two east jobs). Neither is marked pinned: they
    are held by their progress, not by a dispatcher's pin."""
    app.config["SOLVER_TIME_LIMIT_S"] = SOLVER_S
    business = make_business(windows=ALL_DAY)
    make_user(business)
    west_1, east_1, *_others = criss_cross_tuesday(business)
    report(west_1, "done")
    report(east_1, "arrived")
    login(client)
    path = reoptimise(app, client)
    assert 'data-status="ready"' in client.get(path).get_data(as_text=True)
    client.post(f"{path}/apply")

    assert placing(west_1) == ("Anna Wasser", 0, False)
    assert placing(east_1) == ("Anna Wasser", 1, False)
    assert broken_promises(business) == []


def test_a_started_appointment_cannot_be_moved(client: FlaskClient) -> None:
    """The technician is at east 1: moving it to Gerd is refused with the reason, and no
    proposal is made."""
    business = make_business(windows=ALL_DAY)
    make_user(business)
    _west_1, east_1, _west_2, _east_2 = criss_cross_tuesday(business)
    report(east_1, "arrived")
    gerd = business.technicians[1]
    login(client)
    before = stops_and_version()
    response = client.post(
        f"/dispatch/appointments/{east_1.id}/move",
        data={"technician": str(gerd.id), "position": "best"},
        follow_redirects=True,
    )
    assert (
        "Der Monteur ist schon unterwegs dorthin, vor Ort oder fertig: Der Termin lässt sich "
        "nicht mehr verschieben." in flashes(response.get_data(as_text=True))
    )
    assert db.session.scalars(select(PlanProposal)).all() == []
    assert stops_and_version() == before


def test_a_technician_who_started_the_day_is_not_handed_over_whole(client: FlaskClient) -> None:
    """Anna already finished west 1: reporting her absent for the day would hand that job
    to Gerd as if it had not happened. The absence is refused with what to do instead."""
    business = make_business(windows=ALL_DAY)
    make_user(business)
    west_1, *_rest = criss_cross_tuesday(business)
    report(west_1, "done")
    anna = business.technicians[0]
    login(client)
    response = client.post(
        f"/dispatch/absence/{anna.id}",
        query_string={"day": TUESDAY.isoformat()},
        data={"reason": "krank"},
        follow_redirects=True,
    )
    assert any(
        "hat heute schon Fortschritt gemeldet" in m
        for m in flashes(response.get_data(as_text=True))
    )
    assert db.session.scalars(select(PlanProposal)).all() == []
    stop = db.session.scalars(select(RouteStop).where(RouteStop.appointment_id == west_1.id)).one()
    assert stop.technician_id == anna.id
