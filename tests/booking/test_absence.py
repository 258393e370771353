"""A technician falls ill: their jobs go to the others, shown first, applied on request;
jobs that fit nowhere are unplaced and their customers asked to pick a new time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEntry,
    Business,
    PlanProposal,
    ProposalStatus,
    RouteStop,
    TechnicianAbsence,
)
from booking.services.background import job_queue
from booking.services.bookings import reschedule_appointment
from booking.services.clock import now_utc
from booking.services.dayplans import job_for, load_days, lock_day, save_routes
from booking.services.invariants import broken_promises
from booking.services.offering import find_slots
from booking.services.quotes import Quote
from booking.services.travel import travel_times
from optimizer.domain import Route
from optimizer.schedule import check_route
from tests.booking.mailbox import mails, text_of
from tests.booking.test_dispatch import (
    EAST_1,
    WEST_1,
    WEST_2,
    confirm,
    flashes,
    login,
    stops_and_version,
)
from tests.factories import TUESDAY, make_business, make_user, service

H = 3600
SOLVER_S = 0.3
WEDNESDAY = TUESDAY.replace(day=TUESDAY.day + 1)
SATURDAY = TUESDAY.replace(day=TUESDAY.day + 4)


def put(business: Business, routes: dict[str, list[Appointment]]) -> None:
    """Lay Tuesday's routes out by hand: technician name → appointments in order."""
    state = load_days(business, [TUESDAY])[0]
    by_name = {t.name: t for t in business.technicians}
    workers = {route.technician.id: route.technician for route in state.routes.routes}
    schedules = {}
    for name, appointments in routes.items():
        row = by_name[name]
        check = check_route(
            Route(workers[str(row.id)], tuple(job_for(a) for a in appointments)), travel_times()
        )
        assert check.feasible, check.violations
        schedules[row.id] = check.schedule
    plan = lock_day(business.id, TUESDAY)
    save_routes(plan, schedules, state.appointments)
    db.session.commit()


def technician(business: Business, name: str) -> int:
    return next(t.id for t in business.technicians if t.name == name)


def report_absence(client: FlaskClient, technician_id: int, reason: str = "krank") -> str:
    """Ask for the absence plan, wait for the background solver; the proposal's path."""
    response = client.post(
        f"/dispatch/absence/{technician_id}",
        query_string={"day": TUESDAY.isoformat()},
        data={"reason": reason},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    path = response.headers["Location"]
    assert re.fullmatch(r"/dispatch/proposals/\d+", path), path
    assert job_queue().wait_idle(timeout_s=60)
    return path


def stops_of(business: Business, name: str) -> list[int]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(RouteStop.appointment_id)
            .where(RouteStop.technician_id == technician(business, name))
            .order_by(RouteStop.position)
        )
    )


def test_an_ill_technicians_jobs_go_to_the_colleague_after_the_preview(
    app: Flask, client: FlaskClient, outbox: Path
) -> None:
    """Anna has two taps on Tuesday (8-10 west, 10-12 east), Gerd none. Anna falls ill:
    the preview lists both customers moving to Gerd and changes nothing; applied, Gerd
    has both, Anna is recorded absent and has none, every promise holds, nobody is
    emailed (their windows hold) and the log names the dispatcher."""
    app.config["SOLVER_TIME_LIMIT_S"] = SOLVER_S
    business = make_business()
    user = make_user(business)
    west = confirm(business, "tap", WEST_1, "Wilma West", window_start=8 * H)
    east = confirm(business, "tap", EAST_1, "Otto Ost", window_start=10 * H)
    put(business, {"Anna Wasser": [west, east], "Gerd Gas": []})
    before = stops_and_version()
    login(client)

    path = report_absence(client, technician(business, "Anna Wasser"))
    page = client.get(path).get_data(as_text=True)
    assert 'data-status="ready"' in page
    assert "Wilma West" in page and "Otto Ost" in page
    assert page.count("Gerd Gas #") == 2  # both after-columns name Gerd
    assert stops_and_version() == before

    response = client.post(f"{path}/apply", follow_redirects=True)
    assert flashes(response.get_data(as_text=True))[0].startswith("Übernommen: 2 Stopps")
    assert stops_of(business, "Gerd Gas") == [west.id, east.id]
    assert stops_of(business, "Anna Wasser") == []
    absences = db.session.scalars(select(TechnicianAbsence)).all()
    assert [(a.first_day, a.last_day, a.reason) for a in absences] == [
        (TUESDAY, TUESDAY, "krank")
    ]
    assert broken_promises(business) == []
    assert mails(outbox) == []
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.user_id, entry.details["reason"]) == ("absence", user.id, "krank")
    # An absent technician gets no new work that day: every Tuesday offer now names Gerd.
    slots = find_slots(business, service(business, "tap"), WEST_2, now_utc())
    tuesday = [s for s in slots if s.day == TUESDAY and s.offer is not None]
    assert tuesday
    assert {s.offer.technician_id for s in tuesday} == {str(technician(business, "Gerd Gas"))}


def test_a_job_that_fits_nowhere_is_unplaced_and_its_customer_rebooks(
    app: Flask, client: FlaskClient, outbox: Path
) -> None:
    """Both technicians have a 7-hour bathroom day from 08:00 (shift 08:00-16:30): one
    cannot take the other's. Gerd falls ill: his job is shown as no longer planned, and
    applied it is unplaced (in no route), its customer emailed a link to pick a new time.
    Through that link they move it to Wednesday, and it is confirmed and planned again."""
    app.config["SOLVER_TIME_LIMIT_S"] = SOLVER_S
    business = make_business()
    make_user(business)
    anna_job = confirm(business, "bigjob", WEST_1, "Wilma West", window_start=8 * H)
    gerd_job = confirm(business, "bigjob", EAST_1, "Otto Ost", window_start=8 * H)
    put(business, {"Anna Wasser": [anna_job], "Gerd Gas": [gerd_job]})
    login(client)

    path = report_absence(client, technician(business, "Gerd Gas"))
    page = client.get(path).get_data(as_text=True)
    assert 'data-status="ready"' in page
    assert "nicht mehr eingeplant" in page
    client.post(f"{path}/apply")

    db.session.expire_all()
    unplaced = db.session.get(Appointment, gerd_job.id)
    assert unplaced is not None and unplaced.status == AppointmentStatus.UNPLACED
    assert stops_of(business, "Anna Wasser") == [anna_job.id]
    assert broken_promises(business) == []
    [message] = mails(outbox)
    assert message["To"].addresses[0].display_name == "Otto Ost"
    assert "Bitte wählen Sie einen neuen Termin" in message["Subject"]
    assert f"/appointment/{unplaced.manage_token}" in text_of(message)

    manage = client.get(f"/appointment/{unplaced.manage_token}").get_data(as_text=True)
    assert 'id="unplaced"' in manage
    assert client.get(f"/appointment/{unplaced.manage_token}/reschedule").status_code == 200

    bigjob = service(business, "bigjob")
    slot = next(
        s
        for s in find_slots(business, bigjob, EAST_1, now_utc(), moving=unplaced)
        if s.day == WEDNESDAY and s.offer is not None and s.window.start == 8 * H
    )
    assert slot.offer is not None
    quote = Quote.from_offer(
        business.id, bigjob.id, EAST_1, slot.offer, appointment_id=unplaced.id
    )
    reschedule_appointment(unplaced, quote, now_utc())
    db.session.expire_all()
    moved = db.session.get(Appointment, gerd_job.id)
    assert moved is not None
    assert (moved.status, moved.day) == (AppointmentStatus.CONFIRMED, WEDNESDAY)
    assert moved.stop is not None
    assert broken_promises(business) == []


def test_a_technician_off_that_day_cannot_be_reported_absent(client: FlaskClient) -> None:
    """Saturday is nobody's working day: the page says there is nothing to hand on, and
    no proposal is made."""
    business = make_business()
    make_user(business)
    login(client)
    response = client.post(
        f"/dispatch/absence/{technician(business, 'Anna Wasser')}",
        query_string={"day": SATURDAY.isoformat()},
        data={"reason": "krank"},
    )
    assert response.status_code == 422
    assert "arbeitet an diesem Tag nicht" in response.get_data(as_text=True)
    assert db.session.scalars(select(PlanProposal)).all() == []


def test_another_firms_dispatcher_reaches_neither_technician_nor_proposal(
    app: Flask, client: FlaskClient
) -> None:
    """Elbe's absence proposal and technicians are 404 for Saale's dispatcher, who can
    neither see nor apply it; nothing changes."""
    app.config["SOLVER_TIME_LIMIT_S"] = SOLVER_S
    elbe = make_business("elbe")
    make_user(elbe)
    west = confirm(elbe, "tap", WEST_1, "Wilma West")
    put(elbe, {"Anna Wasser": [west], "Gerd Gas": []})
    saale = make_business("saale")
    make_user(saale, email="saale@test.example")
    login(client)
    path = report_absence(client, technician(elbe, "Anna Wasser"))
    client.post("/logout")
    before = stops_and_version()

    login(client, email="saale@test.example")
    anna = technician(elbe, "Anna Wasser")
    for response in (
        client.get(f"/dispatch/absence/{anna}"),
        client.post(f"/dispatch/absence/{anna}", data={"reason": "x"}),
        client.get(path),
        client.post(f"{path}/apply"),
        client.post(f"{path}/discard"),
    ):
        assert response.status_code == 404
    assert stops_and_version() == before
    proposal = db.session.scalars(select(PlanProposal)).one()
    db.session.refresh(proposal)
    assert proposal.status == ProposalStatus.READY


def test_a_proposal_is_refused_when_the_day_changed_before_applying(
    app: Flask, client: FlaskClient
) -> None:
    """The absence plan is computed; then a customer books Tuesday. Applying the old plan
    would ignore the new booking: it is refused as out of date, nothing is written, and
    the proposal is marked stale."""
    app.config["SOLVER_TIME_LIMIT_S"] = SOLVER_S
    business = make_business()
    make_user(business)
    west = confirm(business, "tap", WEST_1, "Wilma West")
    put(business, {"Anna Wasser": [west], "Gerd Gas": []})
    login(client)
    path = report_absence(client, technician(business, "Anna Wasser"))
    confirm(business, "tap", WEST_2, "Walter West", window_start=12 * H)
    before = stops_and_version()

    response = client.post(f"{path}/apply", follow_redirects=True)
    assert any("Der Tag hat sich geändert" in m for m in flashes(response.get_data(as_text=True)))
    assert stops_and_version() == before
    proposal = db.session.scalars(select(PlanProposal)).one()
    db.session.refresh(proposal)
    assert proposal.status == ProposalStatus.STALE
    assert db.session.scalars(select(TechnicianAbsence)).all() == []
    assert broken_promises(business) == []


def test_a_solver_crash_leaves_the_plan_alone(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the planner raises in the background job, the proposal says the solver failed,
    there is nothing to apply, and the day is exactly as before."""
    app.config["SOLVER_TIME_LIMIT_S"] = SOLVER_S
    business = make_business()
    make_user(business)
    west = confirm(business, "tap", WEST_1, "Wilma West")
    put(business, {"Anna Wasser": [west], "Gerd Gas": []})
    before = stops_and_version()

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("solver down")

    monkeypatch.setattr("booking.services.absences.plan_day", crash)
    login(client)
    path = report_absence(client, technician(business, "Anna Wasser"))
    page = client.get(path).get_data(as_text=True)
    assert 'data-status="failed"' in page
    assert "Die Optimierung ist fehlgeschlagen" in page
    assert client.post(f"{path}/apply").status_code == 302
    assert stops_and_version() == before


def test_the_day_view_offers_the_absence_and_emergency_actions(client: FlaskClient) -> None:
    """Each working technician's section links to their absence form for that day, and
    the day links to the emergency form for that day."""
    business = make_business()
    make_user(business)
    login(client)
    page = client.get("/dispatch/", query_string={"day": TUESDAY.isoformat()}).get_data(
        as_text=True
    )
    for row in business.technicians:
        assert f'href="/dispatch/absence/{row.id}?day={TUESDAY.isoformat()}"' in page
    assert f'href="/dispatch/emergency?day={TUESDAY.isoformat()}"' in page
    assert 'href="/dispatch/phone-booking"' in page
