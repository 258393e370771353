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


@dataclass(frozen=True, slots=True)
class RouteCheck:
    """A schedule with the promises it breaks; feasible when there are none."""

    schedule: Schedule
    violations: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations


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
    return (len(a.violations), a.schedule.return_time) < (
        len(b.violations),
        b.schedule.return_time,
    )


def _simulate(
    route: Route, travel: TravelTimes, lunch: LunchBreak | None, lunch_gap: int | None
) -> RouteCheck:
    tech = route.technician
    violations: list[str] = []
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
            violations.append(
                f"{tech.id}: lunch break cannot start by {clock(lunch.latest_start)}"
            )
        return max(lunch.earliest_start, t + to_location_seconds) + lunch.duration

    demand = sum(job.demand for job in route.jobs)
    if tech.capacity is not None and demand > tech.capacity:
        violations.append(f"{tech.id}: load {demand} exceeds capacity {tech.capacity}")
    for index, job in enumerate(route.jobs):
        if not job.skills <= tech.skills:
            missing = ", ".join(sorted(job.skills - tech.skills))
            violations.append(f"{tech.id}: job {job.id} needs skills {missing}")
        if job.pinned_to is not None and job.pinned_to != tech.id:
            violations.append(f"{tech.id}: job {job.id} is pinned to {job.pinned_to}")
        if job.pinned_position is not None and job.pinned_position != index:
            violations.append(
                f"{tech.id}: job {job.id} is pinned to position {job.pinned_position}, "
                f"planned at {index}"
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
                f"{tech.id}: job {job.id} starts {clock(start)}, after its window "
                f"{clock(last.start)}-{clock(last.end)}"
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
        overtime = " and the allowed overtime" if tech.overtime_max else ""
        violations.append(
            f"{tech.id}: returns {clock(return_time)}, after the shift ends "
            f"{clock(tech.shift.end)}{overtime}"
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
    return RouteCheck(schedule=schedule, violations=tuple(violations))
