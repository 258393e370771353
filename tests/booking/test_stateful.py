"""Random sequences of what happens to a firm's plans, through the service layer: offer and
book, cancel, reschedule, re-optimise, a technician's absence, an emergency. After every
step every promise of DESIGN.md holds (hypothesis, stateful; SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Business,
    PlanProposal,
    ProposalStatus,
    RouteStop,
    Technician,
)
from booking.services.absences import run_absence
from booking.services.bookings import (
    Contact,
    cancel_appointment,
    confirm_booking,
    reschedule_appointment,
)
from booking.services.dayplans import worker_for_day
from booking.services.emergency import Caller, emergency_plan
from booking.services.followups import notify_customers
from booking.services.invariants import broken_promises
from booking.services.offering import Address, find_slots
from booking.services.planning import replan_day
from booking.services.proposals import (
    ApplyError,
    ProposalKind,
    apply_proposal,
    propose,
    start_proposal,
)
from booking.services.quotes import Quote
from optimizer.domain import TimeWindow
from optimizer.planner import PlanParameters
from tests.conftest import GEONAMES_ROWS, NOW
from tests.factories import TUESDAY, make_business

H = 3600
SOLVER_S = 0.2
# Most steps aim at the first two working days, so that they meet in the same routes.
DAYS = (TUESDAY, TUESDAY + timedelta(days=1))
ADDRESSES = tuple(
    Address(f"Teststraße {n}", code, place, lat, lon, "postcode")
    for n, (code, place, lat, lon) in enumerate(GEONAMES_ROWS, start=1)
)
CONTACT = Contact("Erika Mustermann", "0391 123456", "erika@example.de", consent_at=NOW)


class Promises(RuleBasedStateMachine):
    """The firm of `tests.factories` (two technicians, three services), from empty."""

    def __init__(self) -> None:
        super().__init__()
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        self.business_id = make_business().id
        self.prices: dict[int, int] = {}  # appointment id → the price promised for it
        self.cancelled: set[int] = set()  # by a rule of ours
        self.told_unplaced: set[int] = set()  # unplaced and emailed the request to rebook

    # --- helpers -----------------------------------------------------------------------

    @property
    def business(self) -> Business:
        business = db.session.get(Business, self.business_id)
        assert business is not None
        return business

    def open_appointments(self) -> list[Appointment]:
        return list(
            db.session.scalars(
                select(Appointment)
                .where(Appointment.status == AppointmentStatus.CONFIRMED)
                .order_by(Appointment.id)
            )
        )

    def apply(self, proposal: PlanProposal) -> None:
        """Apply a ready proposal as the dispatcher would, and tell the customers."""
        db.session.refresh(proposal)
        if proposal.status != ProposalStatus.READY:
            return
        try:
            apply_proposal(proposal, None, NOW)
        except ApplyError:
            return  # stale or broken now: nothing was written
        if proposal.created_appointment_id is not None:  # an emergency job, at its price
            created = db.session.get(Appointment, proposal.created_appointment_id)
            assert created is not None
            self.prices[created.id] = created.price_total_cents
        for notice in notify_customers(proposal, NOW):
            if notice.change == "unplaced" and notice.sent:
                self.told_unplaced.add(notice.appointment.id)

    # --- rules ---------------------------------------------------------------------------

    @rule(
        code=st.sampled_from(["tap", "gasboiler", "bigjob"]),
        address=st.sampled_from(ADDRESSES),
        pick=st.integers(0, 10_000),
    )
    def offer_and_book(self, code: str, address: Address, pick: int) -> None:
        """An offered slot is confirmable at its quoted price while nothing changed."""
        business = self.business
        service = next(s for s in business.services if s.code == code)
        offered = [s for s in find_slots(business, service, address, NOW) if s.offer]
        near = [s for s in offered if s.day in DAYS] or offered
        if not near:
            return
        slot = near[pick % len(near)]
        assert slot.offer is not None
        quote = Quote.from_offer(business.id, service.id, address, slot.offer)
        appointment = confirm_booking(business, quote, CONTACT, NOW)
        assert appointment.price_total_cents == slot.offer.price.total_cents
        assert (appointment.day, appointment.window_kind) == (quote.day, quote.kind)
        self.prices[appointment.id] = appointment.price_total_cents

    @rule(pick=st.integers(0, 10_000))
    def cancel(self, pick: int) -> None:
        appointments = self.open_appointments()
        if not appointments:
            return
        appointment = appointments[pick % len(appointments)]
        assert cancel_appointment(appointment, NOW, by_customer=True)
        assert not cancel_appointment(appointment, NOW, by_customer=True)  # only once
        self.cancelled.add(appointment.id)

    @rule(pick=st.integers(0, 10_000), choice=st.integers(0, 10_000))
    def reschedule(self, pick: int, choice: int) -> None:
        """Moving to an offered slot works while nothing changed, at the new quoted price."""
        appointments = self.open_appointments()
        if not appointments:
            return
        appointment = appointments[pick % len(appointments)]
        business = self.business
        address = Address.of(appointment)
        slots = find_slots(business, appointment.service, address, NOW, moving=appointment)
        offered = [s for s in slots if s.offer is not None]
        if not offered:
            return
        slot = offered[choice % len(offered)]
        assert slot.offer is not None
        quote = Quote.from_offer(
            business.id, appointment.service_type_id, address, slot.offer, appointment.id
        )
        moved = reschedule_appointment(appointment, quote, NOW)
        assert (moved.day, moved.window_start_s) == (quote.day, quote.window_start_s)
        assert moved.price_total_cents == slot.offer.price.total_cents
        self.prices[moved.id] = moved.price_total_cents

    @rule(day=st.sampled_from(DAYS))
    def reoptimise(self, day: date) -> None:
        outcome = replan_day(self.business, day, PlanParameters(time_limit_s=SOLVER_S))
        assert outcome.reason in {"improved", "no_improvement", "would_drop_jobs"}

    @rule(day=st.sampled_from(DAYS), which=st.integers(0, 1))
    def absence(self, day: date, which: int) -> None:
        """A technician falls ill: their jobs go to the colleague or are unplaced."""
        business = self.business
        technician = db.session.scalars(
            select(Technician)
            .where(Technician.business_id == business.id)
            .order_by(Technician.id)
            .offset(which)
        ).first()
        assert technician is not None
        if worker_for_day(technician, day) is None:
            return  # absent already
        proposal = start_proposal(business, day, ProposalKind.ABSENCE, None)
        run_absence(proposal.id, technician.id, "krank", SOLVER_S)
        self.apply(proposal)

    @rule(day=st.sampled_from(DAYS), address=st.sampled_from(ADDRESSES), start=st.integers(8, 14))
    def emergency(self, day: date, address: Address, start: int) -> None:
        business = self.business
        service = next(s for s in business.services if s.code == "tap")
        window = TimeWindow(start * H, (start + 2) * H)
        caller = Caller("Notfall Kunde", "0391 999999", "notfall@example.de")
        plan = emergency_plan(business, day, service, address, window, caller, NOW)
        if plan is None:
            return
        self.apply(propose(business, day, ProposalKind.EMERGENCY, plan, None))

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def every_promise_holds(self) -> None:
        """Every confirmed appointment in exactly one route, inside its window, shifts,
        lunch breaks and skills kept (`broken_promises`)."""
        db.session.expire_all()
        assert broken_promises(self.business) == []

    @invariant()
    def nothing_lost_doubled_or_repriced(self) -> None:
        """Each appointment we made is still there, once, at its promised price; it was
        cancelled only by us; unplaced only by an absence, with the customer told."""
        rows = {a.id: a for a in db.session.scalars(select(Appointment))}
        assert set(rows) == set(self.prices)
        stops = db.session.scalar(select(func.count()).select_from(RouteStop)) or 0
        confirmed = [a for a in rows.values() if a.status == AppointmentStatus.CONFIRMED]
        assert stops == len(confirmed)
        for appointment_id, appointment in rows.items():
            assert appointment.price_total_cents == self.prices[appointment_id]
            if appointment.status == AppointmentStatus.CANCELLED:
                assert appointment_id in self.cancelled
            elif appointment.status == AppointmentStatus.UNPLACED:
                assert appointment_id in self.told_unplaced
            else:
                assert appointment.status == AppointmentStatus.CONFIRMED


Promises.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.usefixtures("outbox")  # "told" means the email went out, into the outbox
def test_random_sequences_of_changes_keep_every_promise(app: Flask) -> None:
    """15 derandomised sequences of up to 10 steps on the two-technician firm."""
    run_state_machine_as_test(Promises, settings=Promises.TestCase.settings)
