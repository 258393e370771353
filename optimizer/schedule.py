"""Timing of a route, and the plain-Python check that it keeps every promise.

This is the independent checker: it knows nothing of OR-Tools, so a plan the solver returns
is verified here before anyone relies on it.

Timing rules (the same ones the OR-Tools model states):
- the technician leaves the start location at the start of the shift;
- service starts in the first of the job's windows that has not closed on arrival, at
  max(arrival, window start); a job whose last window has closed is late;
- the technician must be back at the end location by the end of the shift, or within the
  allowed overtime after it (which is then reported);
- the summed demand of a route stays within the technician's capacity;
- a pinned job stays with its technician, at its pinned position when it has one;
- a lunch break of `duration` starts within [earliest_start, latest_start]; it may overlap
  driving and waiting but not a job. Taken in the gap between leaving `t` and the next
  address `tau` seconds away, it starts at max(earliest, t) and the technician is ready
  at the next address at max(earliest, t + tau) + duration. Every gap is tried, the one
  with the earliest return wins (travel does not depend on where the break falls).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from optimizer.domain import Job, LunchBreak, Route
from optimizer.travel import TravelTimes


def clock(seconds: int) -> str:
    """Seconds since midnight as HH:MM, for messages."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True, slots=True)
class Visit:
    job: Job
    arrival: int  # at the address (after a break taken on the way)
    start: int  # service starts: the time promised inside the window
    end: int


@dataclass(frozen=True, slots=True)
class Schedule:
    route: Route
    departure: int
    visits: tuple[Visit, ...]
    lunch_start: int | None
    return_time: int
    travel_seconds: int
    travel_meters: int

    @property
    def overtime(self) -> int:
        """Seconds past the end of the shift (allowed up to the technician's overtime_max)."""
        return max(0, self.return_time - self.route.technician.shift.end)


class ViolationKind(enum.StrEnum):
    LUNCH = "lunch"  # the break cannot start by its latest start
    CAPACITY = "capacity"
    SKILLS = "skills"  # `detail`: the missing skills
    PINNED_TECHNICIAN = "pinned_technician"  # `detail`: the technician it is pinned to
    PINNED_POSITION = "pinned_position"  # `detail`: pinned position / planned position
    LATE = "late"  # service would start at `at`, after the job's last window
    RETURN = "return"  # back at `at`, after the shift (`detail`: "overtime allowed" or "")


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule, with what an interface needs to word it in any language."""

    kind: ViolationKind
    technician_id: str
    job_id: str | None = None
    at: int | None = None  # the time that breaks the rule
    limit: tuple[int, int] | None = None  # the window or shift it breaks
    detail: str = ""

    def __str__(self) -> str:
        tech, job = self.technician_id, self.job_id
        match self.kind:
            case ViolationKind.LUNCH:
                return f"{tech}: lunch break cannot start by {clock(self.at or 0)}"
            case ViolationKind.CAPACITY:
                return f"{tech}: {self.detail}"
            case ViolationKind.SKILLS:
                return f"{tech}: job {job} needs skills {self.detail}"
            case ViolationKind.PINNED_TECHNICIAN:
                return f"{tech}: job {job} is pinned to {self.detail}"
            case ViolationKind.PINNED_POSITION:
                return f"{tech}: job {job} is pinned to position {self.detail}"
            case ViolationKind.LATE:
                start, end = self.limit or (0, 0)
                return (
                    f"{tech}: job {job} starts {clock(self.at or 0)}, after its window "
                    f"{clock(start)}-{clock(end)}"
                )
            case ViolationKind.RETURN:
                overtime = " and the allowed overtime" if self.detail else ""
                return (
                    f"{tech}: returns {clock(self.at or 0)}, after the shift ends "
                    f"{clock((self.limit or (0, 0))[1])}{overtime}"
                )


@dataclass(frozen=True, slots=True)
class RouteCheck:
    """A schedule with the promises it breaks; feasible when there are none."""

    schedule: Schedule
    issues: tuple[Violation, ...]

    @property
    def violations(self) -> tuple[str, ...]:
        """The broken rules in words (English, for logs and tests)."""
        return tuple(str(issue) for issue in self.issues)

    @property
    def feasible(self) -> bool:
        return not self.issues


def check_route(route: Route, travel: TravelTimes) -> RouteCheck:
    """Time the route and list every broken rule (skills, windows, shift end, lunch)."""
    lunch = route.technician.lunch
    if lunch is None or not route.jobs:
        return _simulate(route, travel, lunch=None, lunch_gap=None)
    best: RouteCheck | None = None
    for gap in range(len(route.jobs) + 1):
        candidate = _simulate(route, travel, lunch=lunch, lunch_gap=gap)
        if best is None or _better(candidate, best):
            best = candidate
    assert best is not None
    return best


def schedule_route(route: Route, travel: TravelTimes) -> Schedule | None:
    """The feasible schedule of a route, or None when it breaks a rule."""
    result = check_route(route, travel)
    return result.schedule if result.feasible else None


def _better(a: RouteCheck, b: RouteCheck) -> bool:
    return (len(a.issues), a.schedule.return_time) < (
        len(b.issues),
        b.schedule.return_time,
    )


def _simulate(
    route: Route, travel: TravelTimes, lunch: LunchBreak | None, lunch_gap: int | None
) -> RouteCheck:
    tech = route.technician
    violations: list[Violation] = []
    visits: list[Visit] = []
    t = tech.shift.start
    here = tech.start
    lunch_start: int | None = None
    travel_seconds = 0
    travel_meters = 0

    def drive(to_location_seconds: int, gap: int) -> int:
        """Time ready at the next address, taking the break in this gap if chosen."""
        nonlocal lunch_start
        if lunch is None or gap != lunch_gap:
            return t + to_location_seconds
        lunch_start = max(lunch.earliest_start, t)
        if lunch_start > lunch.latest_start:
            violations.append(Violation(ViolationKind.LUNCH, tech.id, at=lunch.latest_start))
        return max(lunch.earliest_start, t + to_location_seconds) + lunch.duration

    demand = sum(job.demand for job in route.jobs)
    if tech.capacity is not None and demand > tech.capacity:
        violations.append(
            Violation(
                ViolationKind.CAPACITY,
                tech.id,
                detail=f"load {demand} exceeds capacity {tech.capacity}",
            )
        )
    for index, job in enumerate(route.jobs):
        if not job.skills <= tech.skills:
            missing = ", ".join(sorted(job.skills - tech.skills))
            violations.append(Violation(ViolationKind.SKILLS, tech.id, job.id, detail=missing))
        if job.pinned_to is not None and job.pinned_to != tech.id:
            violations.append(
                Violation(ViolationKind.PINNED_TECHNICIAN, tech.id, job.id, detail=job.pinned_to)
            )
        if job.pinned_position is not None and job.pinned_position != index:
            violations.append(
                Violation(
                    ViolationKind.PINNED_POSITION,
                    tech.id,
                    job.id,
                    detail=f"{job.pinned_position}, planned at {index}",
                )
            )
        leg = travel.leg(here, job.location)
        travel_seconds += leg.seconds
        travel_meters += leg.meters
        arrival = drive(leg.seconds, index)
        window = next((w for w in job.windows if arrival <= w.end), None)
        if window is None:
            start = arrival
            last = job.windows[-1]
            violations.append(
                Violation(
                    ViolationKind.LATE, tech.id, job.id, at=start, limit=(last.start, last.end)
                )
            )
        else:
            start = max(arrival, window.start)
        end = start + job.duration
        visits.append(Visit(job=job, arrival=arrival, start=start, end=end))
        t = end
        here = job.location

    if route.jobs:
        leg = travel.leg(here, tech.end)
        travel_seconds += leg.seconds
        travel_meters += leg.meters
        return_time = drive(leg.seconds, len(route.jobs))
    else:
        return_time = tech.shift.start
    if return_time > tech.latest_return:
        violations.append(
            Violation(
                ViolationKind.RETURN,
                tech.id,
                at=return_time,
                limit=(tech.shift.start, tech.shift.end),
                detail="overtime allowed" if tech.overtime_max else "",
            )
        )
    schedule = Schedule(
        route=route,
        departure=tech.shift.start,
        visits=tuple(visits),
        lunch_start=lunch_start,
        return_time=return_time,
        travel_seconds=travel_seconds,
        travel_meters=travel_meters,
    )
    return RouteCheck(schedule=schedule, issues=tuple(violations))
