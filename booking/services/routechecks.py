"""Does a change to technicians or services keep every planned route? Checked before commit.

Working hours, lunch breaks, skills, start places and service durations shape every
planned route. A management edit applies its change to the rows in the session, then
`RouteGuard.verdict()` times the future days again with the optimizer's checker and
compares with the same days before the change: a route that held before and breaks now,
or a stop that loses its technician (day off, deactivated, absent), refuses the edit.
Routes that were already broken before do not block an unrelated edit.

The guard takes the lock of every day it checks (and of every bookable day, where a
booking could place a first stop meanwhile) before it looks, so no booking slips in
between the check and the commit. When the change is accepted, the stops keep their
order and pins; only their planned times are updated to the new timing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from booking.extensions import db
from booking.models import Business, DayPlan, RouteStop
from booking.services.clock import hhmm, local_today
from booking.services.dayplans import DayState, load_days, lock_day
from booking.services.travel import travel_times
from optimizer.domain import Route
from optimizer.schedule import RouteCheck, ViolationKind, check_route


@dataclass(frozen=True)
class DayProblem:
    """What the change would break on one day, in words for the dispatcher."""

    day: date
    reasons: tuple[str, ...]


def future_plan_days(business: Business, today: date) -> list[date]:
    """Days from today on whose plan holds at least one stop."""
    rows = db.session.scalars(
        select(DayPlan.day)
        .join(RouteStop, RouteStop.day_plan_id == DayPlan.id)
        .where(DayPlan.business_id == business.id, DayPlan.day >= today)
        .distinct()
    ).all()
    return sorted(rows)


def _health(state: DayState) -> tuple[dict[str, RouteCheck], set[str]]:
    """Each route's check by technician id, and the jobs that sit in a route."""
    travel = travel_times()
    checks = {route.technician.id: check_route(route, travel) for route in state.routes.routes}
    placed = {job.id for route in state.routes.routes for job in route.jobs}
    return checks, placed


def _explain(route: Route, check: RouteCheck, name: str) -> list[str]:
    """The route's broken rules in the dispatcher's language."""
    tech = route.technician
    schedule = check.schedule
    reasons = []
    for visit in schedule.visits:
        if not visit.job.skills <= tech.skills:
            reasons.append(
                _(
                    "%(name)s lacks the skill %(skill)s for the appointment at %(time)s.",
                    name=name,
                    skill=", ".join(sorted(visit.job.skills - tech.skills)),
                    time=hhmm(visit.start),
                )
            )
        last = visit.job.windows[-1]
        if visit.start > last.end:
            reasons.append(
                _(
                    "%(name)s would reach the appointment promised for %(start)s–%(end)s "
                    "only at %(time)s.",
                    name=name,
                    start=hhmm(visit.job.windows[0].start),
                    end=hhmm(last.end),
                    time=hhmm(visit.start),
                )
            )
    if route.jobs and schedule.return_time > tech.latest_return:
        reasons.append(
            _(
                "%(name)s would be back only at %(time)s, after the end of work at %(end)s.",
                name=name,
                time=hhmm(schedule.return_time),
                end=hhmm(tech.shift.end),
            )
        )
    if any(issue.kind == ViolationKind.LUNCH for issue in check.issues):
        reasons.append(_("%(name)s's lunch break would no longer fit.", name=name))
    if not reasons:  # a rule we have no words for: show the checker's own
        reasons.extend(check.violations)
    return reasons


class RouteGuard:
    """Before/after check of the future routes around one management edit.

    Create it before changing any row (it locks and times the days as they are), change
    the rows, then ask `verdict()`; with no problems, `retime()` stores the new times.
    """

    def __init__(self, business: Business, now: datetime) -> None:
        self.business = business
        today = local_today(business, now)
        bookable = {today + timedelta(days=n) for n in range(business.horizon_days + 1)}
        self.days = future_plan_days(business, today)
        # Sorted, like every other writer, so two writers never wait on each other crosswise.
        for day in sorted(bookable | set(self.days)):
            lock_day(business.id, day)
        self.before = {state.routes.day: _health(state) for state in load_days(business, self.days)}
        self.after: list[DayState] = []

    def verdict(self) -> list[DayProblem]:
        """The days the change would break, each with its reasons; empty: it is safe."""
        db.session.flush()
        self.after = load_days(self.business, self.days)
        problems = []
        for state in self.after:
            checks_before, placed_before = self.before[state.routes.day]
            checks, placed = _health(state)
            reasons: list[str] = []
            lost = placed_before - placed
            if lost:
                reasons.append(
                    ngettext(
                        "%(num)d appointment would lose its technician (not working that day).",
                        "%(num)d appointments would lose their technician (not working that day).",
                        len(lost),
                    )
                )
            for route in state.routes.routes:
                check = checks[route.technician.id]
                held = checks_before.get(route.technician.id)
                if check.feasible or (held is not None and not held.feasible):
                    continue
                name = state.technicians[route.technician.id].name
                reasons.extend(_explain(route, check, name))
            if reasons:
                problems.append(DayProblem(state.routes.day, tuple(reasons)))
        return problems

    def retime(self) -> int:
        """Store the new planned times of every checked stop; returns how many changed.

        The stops stay where they are (order, technician, pin): only the timing moves, as
        the new hours, lunch break or duration make it."""
        changed = 0
        for state in self.after:
            stops = {
                stop.appointment.job_id: stop
                for stop in db.session.scalars(
                    select(RouteStop)
                    .join(DayPlan)
                    .where(
                        DayPlan.business_id == self.business.id,
                        DayPlan.day == state.routes.day,
                    )
                )
            }
            for route in state.routes.routes:
                for visit in check_route(route, travel_times()).schedule.visits:
                    stop = stops[visit.job.id]
                    timing = (visit.arrival, visit.start, visit.end)
                    if timing != (stop.planned_arrival_s, stop.planned_start_s, stop.planned_end_s):
                        stop.planned_arrival_s, stop.planned_start_s, stop.planned_end_s = timing
                        changed += 1
        return changed


@dataclass(frozen=True)
class GuardedEdit:
    """What `guarded_edit` did: the changed field names, or the problems that refused it."""

    changed: list[str]
    problems: list[DayProblem]
    retimed: int  # stops whose planned times moved


def guarded_edit(
    business: Business, now: datetime, touches_routes: bool, apply: Callable[[], list[str]]
) -> GuardedEdit:
    """Run `apply` (it changes the rows, returns what it changed) under a RouteGuard when
    the edit touches the routes. A refused edit is rolled back; nothing is committed."""
    guard = RouteGuard(business, now) if touches_routes else None
    changed = apply()
    problems = guard.verdict() if guard else []
    if problems:
        db.session.rollback()
        return GuardedEdit(changed, problems, 0)
    return GuardedEdit(changed, [], guard.retime() if guard else 0)
