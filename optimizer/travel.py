"""Travel times and distances between locations.

A provider answers bulk questions (`matrix`); `TravelTimes` memoises single legs on top of
any provider, so repeated offers and plans of the same day do not recompute them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from geopy.distance import geodesic

from optimizer.domain import Location


@dataclass(frozen=True, slots=True)
class Leg:
    """Driving from one location to another: whole seconds and whole metres."""

    seconds: int
    meters: int

    def __post_init__(self) -> None:
        if self.seconds < 0 or self.meters < 0:
            raise ValueError(f"a leg cannot be negative, got {self.seconds} s, {self.meters} m")


ZERO_LEG = Leg(0, 0)


class TravelTimeProvider(Protocol):
    """Answers the travel legs from every origin to every destination (row per origin)."""

    def matrix(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> list[list[Leg]]: ...


@dataclass(frozen=True, slots=True)
class GeodesicTravelTime:
    """Road legs estimated from the geodesic distance.

    Roads are longer than the straight line by a circuity factor (about 1.3 in German
    towns) and driven at an average speed that includes junctions and parking.
    """

    circuity: float = 1.3
    speed_kmh: float = 30.0

    def __post_init__(self) -> None:
        if not 1.0 <= self.circuity <= 3.0:
            raise ValueError(f"circuity factor must lie in [1, 3], got {self.circuity}")
        if not 1.0 <= self.speed_kmh <= 200.0:
            raise ValueError(f"average speed must lie in [1, 200] km/h, got {self.speed_kmh}")

    def leg(self, a: Location, b: Location) -> Leg:
        if a == b:
            return ZERO_LEG
        meters = geodesic((a.lat, a.lon), (b.lat, b.lon)).meters * self.circuity
        seconds = meters / (self.speed_kmh / 3.6)
        return Leg(seconds=round(seconds), meters=round(meters))

    def matrix(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> list[list[Leg]]:
        return [[self.leg(a, b) for b in destinations] for a in origins]


class TravelTimes:
    """A memo of legs in front of a provider; safe to share between threads."""

    def __init__(self, provider: TravelTimeProvider, max_entries: int = 500_000) -> None:
        self.provider = provider
        self.max_entries = max_entries
        self._legs: dict[tuple[Location, Location], Leg] = {}
        self._lock = threading.Lock()

    def prefetch(self, origins: Sequence[Location], destinations: Sequence[Location]) -> None:
        """Ask the provider once, in bulk, for every leg not known yet."""
        missing_origins = [
            a for a in dict.fromkeys(origins)
            if any((a, b) not in self._legs for b in destinations)
        ]
        if not missing_origins:
            return
        unique_destinations = list(dict.fromkeys(destinations))
        rows = self.provider.matrix(missing_origins, unique_destinations)
        with self._lock:
            self._make_room(len(missing_origins) * len(unique_destinations))
            for a, row in zip(missing_origins, rows, strict=True):
                for b, leg in zip(unique_destinations, row, strict=True):
                    self._legs[(a, b)] = leg

    def leg(self, a: Location, b: Location) -> Leg:
        if a == b:
            return ZERO_LEG
        known = self._legs.get((a, b))
        if known is not None:
            return known
        leg = self.provider.matrix([a], [b])[0][0]
        with self._lock:
            self._make_room(1)
            self._legs[(a, b)] = leg
        return leg

    def seconds(self, a: Location, b: Location) -> int:
        return self.leg(a, b).seconds

    def _make_room(self, needed: int) -> None:
        # A full reset is crude but bounded and cheap; legs are recomputed on demand.
        if len(self._legs) + needed > self.max_entries:
            self._legs.clear()
