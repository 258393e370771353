"""Re-optimising a day with OR-Tools, applied only when it keeps every promise and helps.

The solver runs without holding the day's lock, so bookings are not kept waiting; the
result is applied only if the day did not change meanwhile (version check under the lock).

Two ways in: `replan_day` applies at once (the command line, nightly planning);
`start_reoptimisation` computes a proposal in the background that the dispatcher looks
at before applying it (booking.services.proposals).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from booking.extensions import db
from booking.models import Business, PlanProposal, ProposalStatus, User
from booking.services.background import job_queue
from booking.services.dayplans import DayState, current_version, load_days, lock_day, save_routes
from booking.services.proposals import Plan, ProposalKind, Stop, propose, start_proposal
from booking.services.travel import travel_times
from optimizer.planner import PlanParameters, PlanResult, plan_day
from optimizer.schedule import check_route

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplanOutcome:
    applied: bool
    reason: str  # "improved", "no_improvement", "would_drop_jobs", "changed_meanwhile"
    travel_before_s: int
    travel_after_s: int
    meters_before: int
    meters_after: int


@dataclass(frozen=True, slots=True)
class _Solved:
    version: int  # of the day the solver started from
    state: DayState
    travel_before_s: int
    meters_before: int
    result: PlanResult

    @property
    def verdict(self) -> str:
        if self.result.dropped:
            return "would_drop_jobs"
        if self.result.travel_seconds >= self.travel_before_s:
            return "no_improvement"
        return "improved"


def _solve(business: Business, day: date, parameters: PlanParameters) -> _Solved:
    travel = travel_times()
    version = current_version(business.id, day)
    state = load_days(business, [day])[0]
    routes = state.routes.routes
    before = [check_route(route, travel).schedule for route in routes]
    jobs = [job for route in routes for job in route.jobs]
    result = plan_day(
        [r.technician for r in routes], jobs, travel, initial=routes, parameters=parameters
    )
    return _Solved(
        version,
        state,
        sum(s.travel_seconds for s in before),
        sum(s.travel_meters for s in before),
        result,
    )


def replan_day(business: Business, day: date, parameters: PlanParameters) -> ReplanOutcome:
    travel = travel_times()
    solved = _solve(business, day, parameters)
    result = solved.result

    def outcome(applied: bool, reason: str) -> ReplanOutcome:
        return ReplanOutcome(
            applied,
            reason,
            solved.travel_before_s,
            result.travel_seconds,
            solved.meters_before,
            result.travel_meters,
        )

    if solved.verdict != "improved":
        return outcome(False, solved.verdict)
    checks = [check_route(route, travel) for route in result.routes]
    if not all(check.feasible for check in checks):
        return outcome(False, "would_drop_jobs")
    try:
        plan = lock_day(business.id, day)
        if plan.version != solved.version + 1:
            db.session.rollback()
            return outcome(False, "changed_meanwhile")
        save_routes(
            plan,
            {
                solved.state.technicians[c.schedule.route.technician.id].id: c.schedule
                for c in checks
            },
            solved.state.appointments,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return outcome(True, "improved")


# What the dispatcher reads when a re-optimisation has nothing to apply.
NOTHING_TO_APPLY = {
    "no_improvement": _l("The solver found no better plan; the current plan stays."),
    "would_drop_jobs": _l("The new plan would not keep every promise; the current plan stays."),
    "changed_meanwhile": _l("The day changed while planning; please try again."),
    "solver_failed": _l("The solver failed; the current plan stays."),
}


def start_reoptimisation(
    business: Business, day: date, user: User | None, time_limit_s: float
) -> PlanProposal:
    """A proposal that is RUNNING until the background solver fills it in."""
    proposal = start_proposal(business, day, ProposalKind.REOPTIMISE, user)
    if not job_queue().enqueue(run_reoptimisation, proposal.id, time_limit_s):
        # Not queued (Redis unreachable): the dispatcher sees why instead of a proposal
        # that stays RUNNING for good.
        fail_proposal(proposal, "solver_failed", proposal.base_version)
    return proposal


def run_reoptimisation(proposal_id: int, time_limit_s: float) -> None:
    """The background job: solve, then propose the result (or say why there is none).

    A crash leaves the proposal FAILED and the plan in force untouched: this job never
    writes routes, only the proposal.
    """
    proposal = db.session.get(PlanProposal, proposal_id)
    if proposal is None or proposal.status != ProposalStatus.RUNNING:
        return  # discarded meanwhile, or run twice by a retrying queue
    business = db.session.get(Business, proposal.business_id)
    assert business is not None
    day = proposal.day
    try:
        solved = _solve(business, day, PlanParameters(time_limit_s=time_limit_s))
        verdict = solved.verdict
        if verdict == "improved" and current_version(business.id, day) != solved.version:
            verdict = "changed_meanwhile"
        if verdict != "improved":
            fail_proposal(proposal, verdict, solved.version)
            return
        plan = Plan(
            routes={
                solved.state.technicians[route.technician.id].id: tuple(
                    Stop(int(job.id), job.pinned_position is not None) for job in route.jobs
                )
                for route in solved.result.routes
            },
            reason="re-optimised",
        )
        db.session.refresh(proposal)
        if proposal.status != ProposalStatus.RUNNING:
            return  # discarded while the solver ran
        propose(
            business, day, ProposalKind.REOPTIMISE, plan, None,
            into=proposal, base_version=solved.version,
        )
    except Exception:
        db.session.rollback()
        logger.exception("re-optimising %s of business %s failed", day, business.id)
        fail_proposal(proposal, "solver_failed", proposal.base_version)


def fail_proposal(proposal: PlanProposal, reason: str, version: int) -> None:
    """A RUNNING proposal becomes FAILED with `reason` (one of NOTHING_TO_APPLY's keys)."""
    db.session.refresh(proposal)
    if proposal.status != ProposalStatus.RUNNING:
        return
    proposal.status = ProposalStatus.FAILED
    proposal.base_version = version
    proposal.message = reason
    db.session.commit()
