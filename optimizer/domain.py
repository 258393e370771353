"""Domain objects of the routing core.

Units are whole numbers throughout: times are seconds since local midnight of the planned
day, durations are seconds, distances are metres. OR-Tools callbacks are integer, and a
single unit keeps the web layer from mixing minutes and seconds.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

DAY_SECONDS = 24 * 3600


def _require_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be a whole number of seconds, got {value!r}")


@dataclass(frozen=True, slots=True)
class Location:
    """A point on earth in WGS84 degrees."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise ValueError(f"latitude must lie in [-90, 90], got {self.lat!r}")
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"longitude must lie in [-180, 180], got {self.lon!r}")


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A closed interval [start, end] of seconds since local midnight."""

    start: int
    end: int

    def __post_init__(self) -> None:
        _require_int("TimeWindow.start", self.start)
        _require_int("TimeWindow.end", self.end)
        if self.start < 0:
            raise ValueError(f"a time window cannot start before midnight, got {self.start}")
        if self.end < self.start:
            raise ValueError(
                f"a time window must not end ({self.end}) before it starts ({self.start})"
            )

    def contains(self, t: int) -> bool:
        return self.start <= t <= self.end

    def overlaps(self, other: TimeWindow) -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True, slots=True)
class LunchBreak:
    """A break of `duration` seconds that must start within [earliest_start, latest_start].

    The break may overlap travel and waiting but never a job: the technician pauses on the
    way or before the next customer, as OR-Tools models vehicle breaks.
    """

    earliest_start: int
    latest_start: int
    duration: int

    def __post_init__(self) -> None:
        for name in ("earliest_start", "latest_start", "duration"):
            _require_int(f"LunchBreak.{name}", getattr(self, name))
        if self.duration <= 0:
            raise ValueError(f"a lunch break needs a positive duration, got {self.duration}")
        if not 0 <= self.earliest_start <= self.latest_start:
            raise ValueError(
                "a lunch break needs 0 <= earliest_start <= latest_start, got "
                f"{self.earliest_start}..{self.latest_start}"
            )


@dataclass(frozen=True, slots=True)
class Technician:
    """One technician's working day: where they start and end, when, and what they can do.

    `overtime_max` seconds past the shift end are allowed at `overtime_cost` objective
    units (travel seconds) per second; `capacity` limits the summed demand of a route
    (None: unlimited, as for most craft jobs; the VRPTW benchmark uses it).
    """

    id: str
    start: Location
    end: Location
    shift: TimeWindow
    skills: frozenset[str] = frozenset()
    lunch: LunchBreak | None = None
    capacity: int | None = None
    overtime_max: int = 0
    overtime_cost: int = 0

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a technician needs a non-empty id")
        if not isinstance(self.skills, frozenset):
            raise TypeError("Technician.skills must be a frozenset of skill names")
        for name in ("overtime_max", "overtime_cost"):
            _require_int(f"Technician.{name}", getattr(self, name))
            if getattr(self, name) < 0:
                raise ValueError(f"technician {self.id}: {name} must not be negative")
        if self.capacity is not None:
            _require_int("Technician.capacity", self.capacity)
            if self.capacity < 0:
                raise ValueError(f"technician {self.id}: capacity must not be negative")
        if self.lunch is not None and not (
            self.shift.start <= self.lunch.earliest_start
            and self.lunch.latest_start + self.lunch.duration <= self.shift.end
        ):
            raise ValueError(
                f"technician {self.id}: the lunch break must lie inside the shift "
                f"{self.shift.start}..{self.shift.end}"
            )

    @property
    def latest_return(self) -> int:
        return self.shift.end + self.overtime_max

    def can_do(self, job: Job) -> bool:
        return job.skills <= self.skills and (job.pinned_to is None or job.pinned_to == self.id)


@dataclass(frozen=True, slots=True)
class Job:
    """A job to be served: the technician must *arrive* (start service) inside `window`,
    or inside one of `extra_windows` when the customer offered several.

    The window is the promise made to the customer; the service may run past its end.
    `optional` jobs may be left out at a cost that grows with `priority`; the others are
    promises and are left out only when nothing else is possible (and then reported).
    A job `pinned_to` a technician stays with them, at `pinned_position` (0 = first stop)
    when given: the job in progress, or one the dispatcher fixed by hand.
    """

    id: str
    location: Location
    duration: int
    window: TimeWindow
    skills: frozenset[str] = field(default_factory=frozenset)
    extra_windows: tuple[TimeWindow, ...] = ()
    demand: int = 0
    optional: bool = False
    priority: int = 1
    pinned_to: str | None = None
    pinned_position: int | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a job needs a non-empty id")
        _require_int("Job.duration", self.duration)
        if self.duration <= 0:
            raise ValueError(f"job {self.id}: duration must be positive, got {self.duration}")
        if not isinstance(self.skills, frozenset):
            raise TypeError("Job.skills must be a frozenset of skill names")
        if not isinstance(self.extra_windows, tuple):
            raise TypeError("Job.extra_windows must be a tuple of TimeWindow")
        windows = self.windows
        if any(a.end >= b.start for a, b in itertools.pairwise(windows)):
            raise ValueError(f"job {self.id}: windows must not overlap or touch")
        for name in ("demand", "priority"):
            _require_int(f"Job.{name}", getattr(self, name))
        if self.demand < 0:
            raise ValueError(f"job {self.id}: demand must not be negative")
        if self.priority < 1:
            raise ValueError(f"job {self.id}: priority must be at least 1")
        if self.pinned_position is not None:
            _require_int("Job.pinned_position", self.pinned_position)
            if self.pinned_to is None or self.pinned_position < 0:
                raise ValueError(
                    f"job {self.id}: a pinned position needs a technician and must not be negative"
                )

    @property
    def windows(self) -> tuple[TimeWindow, ...]:
        """All allowed arrival windows, earliest first."""
        if not self.extra_windows:  # nearly every job: no sorting on the offers' hot path
            return (self.window,)
        return tuple(sorted((self.window, *self.extra_windows), key=lambda w: w.start))


@dataclass(frozen=True, slots=True)
class Route:
    """The ordered jobs of one technician on one day."""

    technician: Technician
    jobs: tuple[Job, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.jobs, tuple):
            raise TypeError("Route.jobs must be a tuple")
        ids = [job.id for job in self.jobs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"route of {self.technician.id} visits a job twice: {ids}")

    def with_job(self, job: Job, position: int) -> Route:
        if not 0 <= position <= len(self.jobs):
            raise ValueError(f"position {position} outside 0..{len(self.jobs)}")
        return Route(self.technician, (*self.jobs[:position], job, *self.jobs[position:]))

    def without_job(self, job_id: str) -> Route:
        """The route without that job. A job pinned to a position behind it moves up one:
        a pin holds a stop's place among the others, which taking one out does not change."""
        removed = next((k for k, job in enumerate(self.jobs) if job.id == job_id), None)
        if removed is None:
            return self
        jobs = []
        for index, job in enumerate(self.jobs):
            if index == removed:
                continue
            if index > removed and job.pinned_position is not None:
                job = replace(job, pinned_position=job.pinned_position - 1)
            jobs.append(job)
        return Route(self.technician, tuple(jobs))
