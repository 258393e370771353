"""A technician falls ill: their day's jobs go to the others, as far as every promise allows.

`start_absence` opens a proposal and computes it in the background: the absent
technician's jobs are first inserted where each fits best (cheapest insertion, tightest
windows first), then the solver improves the whole day from there with every other
customer's window still a hard promise. Jobs that fit nowhere become UNPLACED: out of
every route, their customers asked by email to pick a new time (booking.services.followups,
after the dispatcher applied it). Nothing is written before the dispatcher applies it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

from booking.extensions import db
from booking.models import (
    AppointmentStatus,
    Business,
    PlanProposal,
    ProposalStatus,
    Technician,
    User,
)
from booking.services.background import job_queue
from booking.services.dayplans import current_version, load_days, worker_for_day
from booking.services.planning import fail_proposal
from booking.services.proposals import Plan, ProposalKind, Stop, propose, start_proposal
from booking.services.travel import travel_times
from optimizer.domain import Job
from optimizer.insertion import best_insertion
from optimizer.planner import PlanParameters, plan_day

logger = logging.getLogger(__name__)


class AbsenceError(Exception):
    """Why an absence cannot be planned: "not_working" (off that day or absent already),
    "started" (they already reported progress that day: what they did stays theirs, so
    hand on their remaining stops one by one with "move")."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def start_absence(
    business: Business,
    day: date,
    technician: Technician,
    reason: str,
    user: User | None,
    time_limit_s: float,
) -> PlanProposal:
    if technician.business_id != business.id or worker_for_day(technician, day) is None:
        raise AbsenceError("not_working")
    state = load_days(business, [day])[0]
    if any(
        a.started and a.stop is not None and a.stop.technician_id == technician.id
        for a in state.appointments.values()
    ):
        raise AbsenceError("started")
    proposal = start_proposal(business, day, ProposalKind.ABSENCE, user)
    if not job_queue().enqueue(run_absence, proposal.id, technician.id, reason, time_limit_s):
        fail_proposal(proposal, "solver_failed", proposal.base_version)  # e.g. Redis is down
    return proposal


def _unpinned(job: Job) -> Job:
    return replace(job, pinned_to=None, pinned_position=None)


def run_absence(proposal_id: int, technician_id: int, reason: str, time_limit_s: float) -> None:
    """The background job: hand the absent technician's jobs on, then propose the day."""
    proposal = db.session.get(PlanProposal, proposal_id)
    if proposal is None or proposal.status != ProposalStatus.RUNNING:
        return
    business = db.session.get(Business, proposal.business_id)
    assert business is not None
    day = proposal.day
    try:
        travel = travel_times()
        version = current_version(business.id, day)
        state = load_days(business, [day])[0]
        absent = str(technician_id)
        others = [r for r in state.routes.routes if r.technician.id != absent]
        orphans = [
            _unpinned(job)
            for r in state.routes.routes
            if r.technician.id == absent
            for job in r.jobs
        ]
        # Tightest windows first: they have the fewest places left to go.
        routes = list(others)
        for job in sorted(orphans, key=lambda j: (j.window.end - j.window.start, j.id)):
            insertion = best_insertion(routes, job, travel)
            if insertion is not None:
                index = next(
                    k for k, r in enumerate(routes)
                    if r.technician.id == insertion.technician_id
                )
                routes[index] = insertion.route
        jobs = [job for r in others for job in r.jobs] + orphans
        result = plan_day(
            [r.technician for r in others],
            jobs,
            travel,
            initial=routes,
            parameters=PlanParameters(time_limit_s=time_limit_s),
        )
        dropped = {int(job.id) for job in result.dropped}
        plan = Plan(
            routes={
                **{
                    state.technicians[r.technician.id].id: tuple(
                        Stop(int(job.id), job.pinned_position is not None) for job in r.jobs
                    )
                    for r in result.routes
                },
                technician_id: (),
            },
            statuses=dict.fromkeys(dropped, AppointmentStatus.UNPLACED),
            absent=technician_id,
            reason=reason,
        )
        db.session.refresh(proposal)
        if proposal.status != ProposalStatus.RUNNING:
            return
        if current_version(business.id, day) != version:
            proposal.status = ProposalStatus.FAILED
            proposal.message = "changed_meanwhile"
            db.session.commit()
            return
        propose(
            business, day, ProposalKind.ABSENCE, plan, None,
            into=proposal, base_version=version,
        )
    except Exception:
        db.session.rollback()
        logger.exception("planning the absence on %s of business %s failed", day, business.id)
        db.session.refresh(proposal)
        if proposal.status == ProposalStatus.RUNNING:
            proposal.status = ProposalStatus.FAILED
            proposal.message = "solver_failed"
            db.session.commit()
