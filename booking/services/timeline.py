"""A technician's day as a bar of segments: travel, service, waiting and lunch.

Derived from the independent checker's Schedule (optimizer.schedule), which knows when each
visit is reached, starts and ends, and when lunch starts. Between two fixed points (leaving
one address, starting service at the next) the technician drives the leg, may take the
lunch break, and waits for the rest; the checker's rule for a break taken on the way is:
it starts at max(earliest, leaving time) and the drive goes on after it. So in each gap

- travel fills the time from leaving onwards, skipping over the break: the part of the leg
  before the break starts is driven before it, the rest after it;
- the break is the lunch segment;
- whatever is left of the gap is waiting (for the window to open, or for lunch to be
  allowed to start).

Pure Python on optimizer objects, so the numbers can be checked by hand in unit tests.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from optimizer.schedule import Schedule
from optimizer.travel import TravelTimes

HOUR = 3600


class SegmentKind(enum.StrEnum):
    TRAVEL = "travel"
    SERVICE = "service"
    WAIT = "wait"
    LUNCH = "lunch"


@dataclass(frozen=True, slots=True)
class Segment:
    """[start, end) seconds since midnight of one activity; a service segment names its stop
    (1 = first of the day), the job and the customer's promised window."""

    kind: SegmentKind
    start: int
    end: int
    stop: int | None = None
    job_id: str | None = None
    window: tuple[int, int] | None = None
    pinned: bool = False
    late: bool = False  # service starts outside every promised window (a broken promise)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, SegmentKind):
            raise TypeError(f"Segment.kind must be a SegmentKind, got {self.kind!r}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"Segment.{name} must be whole seconds, got {value!r}")
        if self.end <= self.start:
            raise ValueError(f"a segment must end after it starts, got {self.start}..{self.end}")
        if (self.kind == SegmentKind.SERVICE) != (self.stop is not None):
            raise ValueError("a service segment, and only one, names its stop number")
        if self.stop is not None and self.stop < 1:
            raise ValueError(f"stop numbers start at 1, got {self.stop}")

    @property
    def duration(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Timeline:
    """One technician's day: the shift and the segments in time order, without gaps
    between the departure and the return."""

    shift_start: int
    shift_end: int
    segments: tuple[Segment, ...]

    def __post_init__(self) -> None:
        if self.shift_end <= self.shift_start:
            raise ValueError(
                f"a shift must end after it starts, got {self.shift_start}..{self.shift_end}"
            )
        for before, after in itertools.pairwise(self.segments):
            if after.start < before.end:
                raise ValueError(
                    f"segments overlap: {before.kind} ends {before.end}, "
                    f"{after.kind} starts {after.start}"
                )

    def seconds(self, kind: SegmentKind) -> int:
        return sum(s.duration for s in self.segments if s.kind == kind)

    @property
    def first(self) -> int:
        return min([self.shift_start, *(s.start for s in self.segments)])

    @property
    def last(self) -> int:
        """The end of the shift, or of the return drive when it runs later (overtime)."""
        return max([self.shift_end, *(s.end for s in self.segments)])


def build_timeline(
    schedule: Schedule, travel: TravelTimes, pinned: Collection[str] = ()
) -> Timeline:
    """The segments of a checked schedule; `pinned` names the job ids to mark with a pin."""
    tech = schedule.route.technician
    lunch: tuple[int, int] | None = None
    if tech.lunch is not None and schedule.lunch_start is not None:
        lunch = (schedule.lunch_start, schedule.lunch_start + tech.lunch.duration)
    segments: list[Segment] = []
    here = tech.start
    leaving = schedule.departure
    for number, visit in enumerate(schedule.visits, start=1):
        job = visit.job
        leg = travel.leg(here, job.location).seconds
        segments.extend(_gap(leaving, visit.start, leg, lunch))
        segments.append(
            Segment(
                SegmentKind.SERVICE,
                visit.start,
                visit.end,
                stop=number,
                job_id=job.id,
                window=(job.window.start, job.window.end),
                pinned=job.id in pinned,
                late=not any(w.contains(visit.start) for w in job.windows),
            )
        )
        leaving = visit.end
        here = job.location
    if schedule.visits:
        leg = travel.leg(here, tech.end).seconds
        segments.extend(_gap(leaving, schedule.return_time, leg, lunch))
    return Timeline(tech.shift.start, tech.shift.end, tuple(segments))


def _gap(begin: int, end: int, drive: int, lunch: tuple[int, int] | None) -> list[Segment]:
    """Travel, lunch and waiting between leaving at `begin` and the next fixed point `end`."""
    pieces: list[tuple[SegmentKind, int, int]] = []
    if lunch is not None and begin <= lunch[0] < end:
        lunch_start, lunch_end = lunch
        before = min(drive, lunch_start - begin)  # driven before the break starts
        pieces.append((SegmentKind.TRAVEL, begin, begin + before))
        pieces.append((SegmentKind.LUNCH, lunch_start, lunch_end))
        pieces.append((SegmentKind.TRAVEL, lunch_end, lunch_end + drive - before))
    else:
        pieces.append((SegmentKind.TRAVEL, begin, begin + drive))
    segments: list[Segment] = []
    cursor = begin
    for kind, start, stop in sorted(pieces, key=lambda p: p[1]):
        # Clipped to the gap: a consistent schedule never needs it, a stale one must not crash.
        start, stop = max(start, cursor), min(stop, end)
        if stop <= start:
            continue
        if start > cursor:
            segments.append(Segment(SegmentKind.WAIT, cursor, start))
        segments.append(Segment(kind, start, stop))
        cursor = stop
    if cursor < end:
        segments.append(Segment(SegmentKind.WAIT, cursor, end))
    return segments


@dataclass(frozen=True, slots=True)
class Axis:
    """The common hour scale of the day's bars: whole hours from `start` to `end`."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end <= self.start or self.start % HOUR or self.end % HOUR:
            raise ValueError(f"an axis spans whole hours, got {self.start}..{self.end}")

    def percent(self, t: int) -> float:
        """Where `t` lies on the bar, in percent of its width (clamped to the bar)."""
        share = (min(max(t, self.start), self.end) - self.start) / (self.end - self.start)
        return round(100 * share, 3)

    def width(self, start: int, end: int) -> float:
        return round(self.percent(end) - self.percent(start), 3)

    @property
    def hours(self) -> list[int]:
        """Every full hour on the axis, in seconds since midnight."""
        return list(range(self.start, self.end + 1, HOUR))


DEFAULT_AXIS = Axis(7 * HOUR, 18 * HOUR)


def axis_for(timelines: Iterable[Timeline]) -> Axis:
    """From the full hour at or before the earliest shift start to the full hour at or after
    the latest end (shift end or return); 07:00-18:00 when nobody works."""
    shown = list(timelines)
    if not shown:
        return DEFAULT_AXIS
    first = min(t.first for t in shown) // HOUR * HOUR
    last = math.ceil(max(t.last for t in shown) / HOUR) * HOUR
    return Axis(first, max(last, first + HOUR))
