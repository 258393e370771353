"""An integer vehicle-routing problem with time windows: what the solver sees.

Plain data, no OR-Tools. `plan_day` builds one from technicians and jobs; the benchmark
reader builds one from a Solomon file. Places are indices into square matrices of travel
time (the time dimension) and arc cost (the objective), both in whole units chosen by the
caller: seconds for a working day, scaled Euclidean distance for the benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.domain import LunchBreak, TimeWindow


@dataclass(frozen=True, slots=True)
class Stop:
    """A visit to make: service starts inside one of `windows`.

    `drop_penalty` None means the visit is a promise: the solver leaves it out only when
    nothing else is possible. `vehicles` limits who may serve it (None: anyone).
    """

    id: str
    place: int
    service: int
    windows: tuple[TimeWindow, ...]
    demand: int = 0
    vehicles: frozenset[int] | None = None
    drop_penalty: int | None = None
    pinned_vehicle: int | None = None
    pinned_position: int | None = None

    def __post_init__(self) -> None:
        if not self.windows:
            raise ValueError(f"stop {self.id}: needs at least one time window")
        if self.service < 0 or self.demand < 0:
            raise ValueError(f"stop {self.id}: service and demand must not be negative")
        if self.drop_penalty is not None and self.drop_penalty <= 0:
            raise ValueError(f"stop {self.id}: a drop penalty must be positive")
        if self.pinned_position is not None and self.pinned_vehicle is None:
            raise ValueError(f"stop {self.id}: a pinned position needs a pinned vehicle")


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A technician (or a truck of the benchmark): start and end place, working time."""

    id: str
    start_place: int
    end_place: int
    shift: TimeWindow
    capacity: int | None = None
    lunch: LunchBreak | None = None
    overtime_max: int = 0
    overtime_cost: int = 0  # objective units per second past the shift end
    fixed_cost: int = 0  # objective units for using the vehicle at all


@dataclass(frozen=True)
class RoutingProblem:
    stops: tuple[Stop, ...]
    vehicles: tuple[Vehicle, ...]
    time: Sequence[Sequence[int]]  # travel time between places
    cost: Sequence[Sequence[int]]  # arc cost between places (the objective)

    def __post_init__(self) -> None:
        places = len(self.time)
        if len(self.cost) != places or any(
            len(row) != places for row in (*self.time, *self.cost)
        ):
            raise ValueError("time and cost must be square matrices of the same size")
        used = [s.place for s in self.stops]
        used += [p for v in self.vehicles for p in (v.start_place, v.end_place)]
        if any(not 0 <= p < places for p in used):
            raise ValueError(f"every place must index the {places}×{places} matrices")
        ids = [s.id for s in self.stops]
        if len(set(ids)) != len(ids):
            raise ValueError("stop ids must be unique")
        n = len(self.vehicles)
        for stop in self.stops:
            if stop.vehicles is not None and any(not 0 <= v < n for v in stop.vehicles):
                raise ValueError(f"stop {stop.id}: allowed vehicles outside 0..{n - 1}")
            if stop.pinned_vehicle is not None and not 0 <= stop.pinned_vehicle < n:
                raise ValueError(f"stop {stop.id}: pinned to a vehicle outside 0..{n - 1}")


@dataclass(frozen=True, slots=True)
class Solution:
    """Stop indices per vehicle in visiting order, and the stops left out."""

    routes: tuple[tuple[int, ...], ...]
    dropped: tuple[int, ...]
    objective: int
    status: str
