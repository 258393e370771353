"""Travel times and distances between locations.

A provider answers bulk questions (`matrix`); `TravelTimes` memoises single legs on top of
any provider, so repeated offers and plans of the same day do not recompute them.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from geopy.distance import EARTH_RADIUS

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


class BulkTravelTimeProvider(TravelTimeProvider, Protocol):
    """A provider that also answers whole matrices as arrays, without a Leg per cell."""

    def arrays(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True, slots=True)
class GeodesicTravelTime:
    """Road legs estimated from the geodesic on the earth's mean sphere.

    Roads are longer than the straight line by a circuity factor (about 1.3 in German
    towns) and driven at an average speed that includes junctions and parking. The
    distance is geopy's great-circle formula (mean radius 6371.009 km), computed with
    numpy so that the legs of an offer, one per stop of the horizon, come in one pass;
    a single leg takes the same path, so both always agree to the second.
    """

    circuity: float = 1.3
    speed_kmh: float = 30.0

    def __post_init__(self) -> None:
        if not 1.0 <= self.circuity <= 3.0:
            raise ValueError(f"circuity factor must lie in [1, 3], got {self.circuity}")
        if not 1.0 <= self.speed_kmh <= 200.0:
            raise ValueError(f"average speed must lie in [1, 200] km/h, got {self.speed_kmh}")

    def arrays(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(seconds, metres) as int64 arrays of shape (origins, destinations)."""
        a = np.radians(_coordinates(origins))
        b = np.radians(_coordinates(destinations))
        sin1, cos1 = np.sin(a[:, :1]), np.cos(a[:, :1])
        sin2, cos2 = np.sin(b[:, 0])[None, :], np.cos(b[:, 0])[None, :]
        delta = b[:, 1][None, :] - a[:, 1:]
        sin_d, cos_d = np.sin(delta), np.cos(delta)
        central = np.arctan2(
            np.hypot(cos2 * sin_d, cos1 * sin2 - sin1 * cos2 * cos_d),
            sin1 * sin2 + cos1 * cos2 * cos_d,
        )
        meters = central * (EARTH_RADIUS * 1000.0 * self.circuity)
        seconds = meters / (self.speed_kmh / 3.6)
        return np.rint(seconds).astype(np.int64), np.rint(meters).astype(np.int64)

    def leg(self, a: Location, b: Location) -> Leg:
        if a == b:
            return ZERO_LEG
        seconds, meters = self.arrays([a], [b])
        return Leg(seconds=int(seconds[0, 0]), meters=int(meters[0, 0]))

    def matrix(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> list[list[Leg]]:
        seconds, meters = self.arrays(origins, destinations)
        rows = zip(origins, seconds.tolist(), meters.tolist(), strict=True)
        return [
            [
                ZERO_LEG if a == b else Leg(s, m)
                for b, s, m in zip(destinations, srow, mrow, strict=True)
            ]
            for a, srow, mrow in rows
        ]


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

    def arrays(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(seconds, metres) int64 arrays of shape (origins, destinations), equal to the
        single legs. A provider with its own `arrays` answers directly (the geodesic one
        computes faster than a lookup, and a one-off customer location would only crowd
        the memo); any other provider is asked once in bulk through the memo."""
        if not origins or not destinations:
            empty = np.zeros((len(origins), len(destinations)), dtype=np.int64)
            return empty, empty.copy()
        bulk = getattr(self.provider, "arrays", None)
        if bulk is not None:
            seconds, meters = bulk(origins, destinations)
            same = _same_places(origins, destinations)
            if same.any():  # a place to itself is the zero leg, as in leg()
                seconds, meters = np.where(same, 0, seconds), np.where(same, 0, meters)
            return seconds, meters
        self.prefetch(origins, destinations)
        legs = [[self.leg(a, b) for b in destinations] for a in origins]
        seconds = np.array([[leg.seconds for leg in row] for row in legs], dtype=np.int64)
        meters = np.array([[leg.meters for leg in row] for row in legs], dtype=np.int64)
        return seconds, meters

    def _make_room(self, needed: int) -> None:
        # A full reset is crude but bounded and cheap; legs are recomputed on demand.
        if len(self._legs) + needed > self.max_entries:
            self._legs.clear()


class Places(tuple[Location, ...]):
    """Locations whose (lat, lon) array is built once: a cached horizon's thousand or so
    places go to the provider twice with every offer request, and turning them into an
    array each time was a third of computing their legs."""

    coordinates: np.ndarray

    def __new__(cls, places: Iterable[Location], coordinates: np.ndarray | None = None) -> Places:
        self = super().__new__(cls, places)
        self.coordinates = _array(self) if coordinates is None else coordinates
        self.coordinates.flags.writeable = False
        return self

    @classmethod
    def joined(cls, parts: Sequence[Places]) -> Places:
        """The parts end to end, their arrays joined rather than built again."""
        if not parts:
            return cls(())
        return cls(
            itertools.chain.from_iterable(parts),
            np.concatenate([part.coordinates for part in parts]),
        )


def _array(places: Sequence[Location]) -> np.ndarray:
    return np.array([(p.lat, p.lon) for p in places], dtype=np.float64).reshape(-1, 2)


def _coordinates(places: Sequence[Location]) -> np.ndarray:
    """(lat, lon) per place, shape (n, 2)."""
    return places.coordinates if isinstance(places, Places) else _array(places)


def _same_places(origins: Sequence[Location], destinations: Sequence[Location]) -> np.ndarray:
    """Which (origin, destination) pairs are one place, as Location's == says (equal lat
    and lon), compared in one numpy pass: a Python loop of == over an offer's ~600 legs
    was a tenth of the offer engine's time."""
    a, b = _coordinates(origins), _coordinates(destinations)
    return (a[:, None, 0] == b[None, :, 0]) & (a[:, None, 1] == b[None, :, 1])
