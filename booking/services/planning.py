"""Re-optimising a day with OR-Tools, applied only when it keeps every promise and helps.

The solver runs without holding the day's lock, so bookings are not kept waiting; the
result is applied only if the day did not change meanwhile (version check under the lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from booking.extensions import db
from booking.models import Business
from booking.services.dayplans import current_version, load_days, lock_day, save_routes
from booking.services.travel import travel_times
from optimizer.planner import PlanParameters, plan_day
from optimizer.schedule import check_route


@dataclass(frozen=True, slots=True)
class ReplanOutcome:
    applied: bool
    reason: str  # "improved", "no_improvement", "would_drop_jobs", "changed_meanwhile"
    travel_before_s: int
    travel_after_s: int
    meters_before: int
    meters_after: int


def replan_day(business: Business, day: date, parameters: PlanParameters) -> ReplanOutcome:
    travel = travel_times()
    version = current_version(business.id, day)
    state = load_days(business, [day])[0]
    routes = state.routes.routes
    before = [check_route(route, travel).schedule for route in routes]
    travel_before = sum(s.travel_seconds for s in before)
    meters_before = sum(s.travel_meters for s in before)
    jobs = [job for route in routes for job in route.jobs]
    result = plan_day(
        [r.technician for r in routes], jobs, travel, initial=routes, parameters=parameters
    )

    def outcome(applied: bool, reason: str) -> ReplanOutcome:
        return ReplanOutcome(
            applied,
            reason,
            travel_before,
            result.travel_seconds,
            meters_before,
            result.travel_meters,
        )

    if result.dropped:
        return outcome(False, "would_drop_jobs")
    if result.travel_seconds >= travel_before:
        return outcome(False, "no_improvement")
    checks = [check_route(route, travel) for route in result.routes]
    if not all(check.feasible for check in checks):
        return outcome(False, "would_drop_jobs")
    try:
        plan = lock_day(business.id, day)
        if plan.version != version + 1:
            db.session.rollback()
            return outcome(False, "changed_meanwhile")
        save_routes(
            plan,
            {state.technicians[c.schedule.route.technician.id].id: c.schedule for c in checks},
            state.appointments,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return outcome(True, "improved")
