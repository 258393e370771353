"""Expected times of a technician's remaining stops, from what they reported so far.

Pure: no Flask, no database. The inputs are the route in force (optimizer `Route`), its
planned `Schedule` (from check_route), each stop's reported `StopProgress` in seconds of
the day, and the time now; the answer is one `StopEta` per stop, in route order.

Rules (kept simple on purpose, so a dispatcher can redo them by hand):

- Nothing reported yet: the plan stands (the expected times are the planned ones).
- Otherwise the *anchor* is the stop with the latest report. From it:
  done (or not at home) at t → the technician leaves it at t;
  arrived at t → done at t + the job's duration;
  on the way at t → arrives at t + the drive from the previous place (the stop finished
  last before it, or the start location), then serves as planned.
  An expected event that should already have happened but was not reported is pushed to
  `now`: the technician is evidently not there yet.
- The remaining stops (no report yet) follow in route order from the anchor: drive,
  wait for the window to open, serve. A stop skipped earlier in the route is among them,
  so it is driven to after the anchor.
- Lunch as in the plan: the break stays in the gap before the same stop as planned. If that
  stop is still ahead, the break is taken on the way to it, starting no earlier than its
  earliest start and lasting its duration (the plan's own rule). If that stop is already
  under way or done, the break counts as taken.
- A stop whose expected start lies after the end of its last window will miss it:
  `misses_window`. Reported arrivals are facts, not forecasts, and are never flagged.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from optimizer.domain import Job, Location, Route
from optimizer.schedule import Schedule
from optimizer.travel import TravelTimes


class StopState(enum.StrEnum):
    """Where a stop stands, as the technician reported it from the route sheet."""

    PLANNED = "planned"
    ON_THE_WAY = "on_the_way"
    ARRIVED = "arrived"
    DONE = "done"
    NOT_HOME = "not_home"  # the customer was not there: the technician left again

    @property
    def finished(self) -> bool:
        return self in (StopState.DONE, StopState.NOT_HOME)


@dataclass(frozen=True, slots=True)
class StopProgress:
    """One stop's reports in seconds since local midnight (None: not reported)."""

    state: StopState = StopState.PLANNED
    on_the_way_at: int | None = None
    arrived_at: int | None = None
    done_at: int | None = None  # when the technician left (done or not at home)

    def __post_init__(self) -> None:
        needed = {
            StopState.ON_THE_WAY: self.on_the_way_at,
            StopState.ARRIVED: self.arrived_at,
            StopState.DONE: self.done_at,
            StopState.NOT_HOME: self.done_at,
        }
        if self.state in needed and needed[self.state] is None:
            raise ValueError(f"a stop reported {self.state} needs the time of that report")
        times = [t for t in (self.on_the_way_at, self.arrived_at, self.done_at) if t is not None]
        if times != sorted(times):
            raise ValueError(f"reports must follow in order, got {times}")

    @property
    def last_report(self) -> int | None:
        times = [t for t in (self.on_the_way_at, self.arrived_at, self.done_at) if t is not None]
        return max(times) if times else None


@dataclass(frozen=True, slots=True)
class StopEta:
    """A stop's times: reported ones where there are reports, expected ones otherwise.

    `arrival_reported` / `end_reported` say which of `arrival` and `end` are facts."""

    job_id: str
    state: StopState
    arrival: int
    start: int
    end: int
    arrival_reported: bool = False
    end_reported: bool = False
    misses_window: bool = False


@dataclass(frozen=True, slots=True)
class Forecast:
    stops: tuple[StopEta, ...]

    def by_job(self) -> dict[str, StopEta]:
        return {stop.job_id: stop for stop in self.stops}

    @property
    def at_risk(self) -> frozenset[str]:
        """Job ids of the stops expected to miss their window."""
        return frozenset(stop.job_id for stop in self.stops if stop.misses_window)


def _serve(job: Job, arrival: int) -> tuple[int, int, bool]:
    """(start, end, misses window) for arriving at `arrival`: as optimizer.schedule times it."""
    window = next((w for w in job.windows if arrival <= w.end), None)
    start = arrival if window is None else max(arrival, window.start)
    return start, start + job.duration, window is None


def forecast(
    route: Route,
    schedule: Schedule,
    progress: Mapping[str, StopProgress],
    now: int | None,
    travel: TravelTimes,
) -> Forecast:
    """Every stop's reported or expected times, in route order (see the module's rules).

    `progress` maps job ids to reports (a missing id: nothing reported); `now` is seconds
    since local midnight on the route's day, or None on another day (no clock to push
    overdue events to)."""
    jobs = route.jobs
    planned = {visit.job.id: visit for visit in schedule.visits}
    reports = {job.id: progress.get(job.id, StopProgress()) for job in jobs}
    reported = [job for job in jobs if reports[job.id].last_report is not None]
    if not reported:
        return Forecast(
            tuple(
                StopEta(
                    job.id,
                    StopState.PLANNED,
                    planned[job.id].arrival,
                    planned[job.id].start,
                    planned[job.id].end,
                    misses_window=_serve(job, planned[job.id].arrival)[2],
                )
                for job in jobs
            )
        )

    def not_before_now(t: int) -> int:
        return t if now is None else max(t, now)

    # The anchor: the latest report (ties: the later stop in the route, reported after).
    anchor = max(reported, key=lambda job: (reports[job.id].last_report or 0, jobs.index(job)))
    times: dict[str, StopEta] = {}
    for job in reported:  # the finished and current stops: facts, and the anchor's forecast
        report = reports[job.id]
        if report.state.finished:
            assert report.done_at is not None
            arrival = report.arrived_at if report.arrived_at is not None else report.done_at
            times[job.id] = StopEta(
                job.id,
                report.state,
                arrival,
                arrival,
                report.done_at,
                arrival_reported=report.arrived_at is not None,
                end_reported=True,
            )
        elif report.state == StopState.ARRIVED:
            assert report.arrived_at is not None
            end = not_before_now(report.arrived_at + job.duration)
            times[job.id] = StopEta(
                job.id, report.state, report.arrived_at, report.arrived_at, end, True
            )
        else:  # on the way
            assert report.on_the_way_at is not None
            finished_before = [
                other
                for other in reported
                if reports[other.id].state.finished
                and (reports[other.id].done_at or 0) <= report.on_the_way_at
            ]
            came_from = (
                max(finished_before, key=lambda other: reports[other.id].done_at or 0).location
                if finished_before
                else route.technician.start
            )
            arrival = not_before_now(report.on_the_way_at + travel.seconds(came_from, job.location))
            start, end, late = _serve(job, arrival)
            times[job.id] = StopEta(job.id, report.state, arrival, start, end, misses_window=late)

    t = times[anchor.id].end
    here: Location = anchor.location
    lunch = route.technician.lunch
    lunch_before = _lunch_gap_job(route, schedule)
    for job in jobs:
        if job.id in times:
            continue
        drive = travel.seconds(here, job.location)
        if lunch is not None and job.id == lunch_before:
            arrival = max(lunch.earliest_start, t + drive) + lunch.duration
        else:
            arrival = t + drive
        start, end, late = _serve(job, arrival)
        times[job.id] = StopEta(job.id, StopState.PLANNED, arrival, start, end, misses_window=late)
        t, here = end, job.location
    return Forecast(tuple(times[job.id] for job in jobs))


def _lunch_gap_job(route: Route, schedule: Schedule) -> str | None:
    """The job the plan takes the lunch break on the way to (None: none, or on the way
    back). The break starts after leaving every visit that ends by its start."""
    if schedule.lunch_start is None:
        return None
    before = sum(1 for visit in schedule.visits if visit.end <= schedule.lunch_start)
    return route.jobs[before].id if before < len(route.jobs) else None
