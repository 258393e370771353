"""Line world: a toy map on which every expected number can be worked out by hand.

Locations lie on a line of "kilometre marks": `mark(k)` is the point at mark k. Driving
between marks i and j takes exactly |i - j| minutes over exactly |i - j| km, so a leg of
`d` marks is `Leg(seconds=60 * d, meters=1000 * d)`.

Times are seconds since midnight (`hm(8, 30)` is 08:30); durations are given in minutes to
the factories and stored in seconds, as the routing core wants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from optimizer.domain import Job, Location, LunchBreak, Route, Technician, TimeWindow
from optimizer.travel import Leg, TravelTimes

LAT = 52.0  # the line runs along this parallel; only the longitude encodes the mark


def mark(k: int) -> Location:
    """The location at kilometre mark k (k / 100 degrees of longitude)."""
    return Location(lat=LAT, lon=k / 100)


def mark_of(location: Location) -> int:
    """The kilometre mark of a location made by `mark`."""
    return round(location.lon * 100)


def hm(hours: int, minutes: int = 0) -> int:
    """Clock time as seconds since midnight: hm(8, 30) == 30600."""
    return hours * 3600 + minutes * 60


def minutes(n: int) -> int:
    """A duration of n minutes in seconds."""
    return n * 60


def km(n: int) -> int:
    """A distance of n kilometres in metres."""
    return n * 1000


def line_leg(i: int, j: int) -> Leg:
    """The leg between marks i and j: |i - j| minutes and |i - j| km."""
    d = abs(i - j)
    return Leg(seconds=minutes(d), meters=km(d))


class LineWorld:
    """A `TravelTimeProvider` on the line; records every `matrix` call as marks."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[int, ...], tuple[int, ...]]] = []

    def matrix(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> list[list[Leg]]:
        o = tuple(mark_of(a) for a in origins)
        d = tuple(mark_of(b) for b in destinations)
        self.calls.append((o, d))
        return [[line_leg(i, j) for j in d] for i in o]


def travel() -> TravelTimes:
    """A fresh memo in front of a fresh line world (reach the provider as `.provider`)."""
    return TravelTimes(LineWorld())


def lunch_break(earliest: int, latest: int, duration_minutes: int = 30) -> LunchBreak:
    """A lunch break starting within [earliest, latest], lasting `duration_minutes`."""
    return LunchBreak(earliest_start=earliest, latest_start=latest,
                      duration=minutes(duration_minutes))


def tech(
    id: str = "T1",
    home: int = 0,
    *,
    end: int | None = None,
    shift: tuple[int, int] = (hm(8), hm(17)),
    skills: Iterable[str] = (),
    lunch: LunchBreak | None = None,
) -> Technician:
    """A technician starting at mark `home` and ending at `end` (default: home again)."""
    return Technician(
        id=id,
        start=mark(home),
        end=mark(home if end is None else end),
        shift=TimeWindow(*shift),
        skills=frozenset(skills),
        lunch=lunch,
    )


def job(
    id: str,
    at: int,
    *,
    window: tuple[int, int] = (hm(8), hm(17)),
    minutes: int = 30,
    skills: Iterable[str] = (),
) -> Job:
    """A job at mark `at`, arrival promised inside `window`, lasting `minutes` minutes."""
    return Job(
        id=id,
        location=mark(at),
        duration=minutes * 60,
        window=TimeWindow(*window),
        skills=frozenset(skills),
    )


def route(technician: Technician, *jobs: Job) -> Route:
    return Route(technician, tuple(jobs))
