"""The Solomon VRPTW benchmark: reader, integer problem, and an independent float checker.

Solomon's 56 instances (and the Gehring-Homberger 200-1000 customer ones, same layout)
are plain text with CRLF line endings::

    C101

    VEHICLE
    NUMBER     CAPACITY
      25         200

    CUSTOMER
    CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

        0      40         50          0          0       1236          0
        1      45         68         10        912        967         90

Row 0 is the depot; its due date is the planning horizon. The other rows are customers:
ready time = earliest start of service, due date = latest START of service. Waiting is
allowed, every vehicle must be back at the depot by the depot's due date. Distance is the
plain float Euclidean distance and travel time equals distance.

- `read_solomon(path)` and `read_bks(path)` read an instance and a best-known-solutions CSV
  (`instance,vehicles,distance[,source]`).
- `to_problem(instance, objective, scale)` builds the integer `RoutingProblem` for the
  solver: travel times are rounded UP (so every plan feasible in integers is feasible in
  floats), arc costs are rounded to nearest; objective "vehicles" adds a fixed cost per
  used vehicle that exceeds any possible total distance, so fewer vehicles always win.
- `check_solution(instance, routes)` re-checks routes of customer ids in floats, with no
  solver involved, and computes the float distance to compare against best-known values.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from optimizer.domain import TimeWindow
from optimizer.problem import RoutingProblem, Stop, Vehicle

Objective = Literal["distance", "vehicles"]
OBJECTIVES: tuple[Objective, ...] = ("distance", "vehicles")
TIME_TOLERANCE = 1e-6  # on every time comparison of the float checker
_SNAP = 1e-9  # a scaled window bound this close to a whole number is that number


@dataclass(frozen=True, slots=True)
class Customer:
    """One row of the CUSTOMER table (row 0 is the depot). Numbers keep the file's type:
    an integer in the file is an int here, a decimal a float."""

    id: int
    x: float
    y: float
    demand: int
    ready: float
    due: float
    service: float


@dataclass(frozen=True, slots=True)
class SolomonInstance:
    name: str
    vehicles: int  # fleet size
    capacity: int
    depot: Customer
    customers: tuple[Customer, ...]


@dataclass(frozen=True, slots=True)
class BestKnown:
    vehicles: int
    distance: float


@dataclass(frozen=True, slots=True)
class CheckReport:
    feasible: bool
    vehicles: int  # non-empty routes
    distance: float  # float Euclidean, depot legs included
    violations: list[str]


# --- reading -----------------------------------------------------------------------------


def _number(token: str) -> int | float:
    try:
        return int(token)
    except ValueError:
        value = float(token)  # ValueError on anything that is not a number
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {token!r}")
    return value


def _whole(value: int | float) -> int:
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"expected a whole number, got {value}")
        return int(value)
    return value


def _is_numeric_row(fields: list[str]) -> bool:
    try:
        for field in fields:
            _number(field)
    except ValueError:
        return False
    return bool(fields)


def read_solomon(path: str | Path) -> SolomonInstance:
    """Read a Solomon / Gehring-Homberger instance file.

    Tolerates CRLF or LF line endings, blank lines, trailing spaces and any number of
    customers and vehicles. Raises ValueError naming the file and line on malformed input.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not a text file ({error.reason})") from None
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)]
    lines = [(number, line) for number, line in lines if line]

    def fail(number: int | None, message: str) -> ValueError:
        where = f"{path}:{number}" if number is not None else str(path)
        return ValueError(f"{where}: {message}")

    if not lines:
        raise fail(None, "empty file")
    position = 0
    name = path.stem
    if lines[0][1].upper() != "VEHICLE":
        name = lines[0][1]
        position = 1

    def expect_keyword(keyword: str) -> None:
        nonlocal position
        if position >= len(lines):
            raise fail(None, f"missing the {keyword} section")
        number, line = lines[position]
        if line.upper() != keyword:
            raise fail(number, f"expected {keyword!r}, got {line!r}")
        position += 1

    def skip_headers() -> None:
        nonlocal position
        while position < len(lines) and not _is_numeric_row(lines[position][1].split()):
            if lines[position][1].upper() in ("VEHICLE", "CUSTOMER"):
                return
            position += 1

    expect_keyword("VEHICLE")
    skip_headers()
    if position >= len(lines) or not _is_numeric_row(lines[position][1].split()):
        raise fail(
            lines[position][0] if position < len(lines) else None,
            "missing the vehicle NUMBER and CAPACITY line",
        )
    number, line = lines[position]
    fields = line.split()
    if len(fields) != 2:
        raise fail(number, f"expected 2 numbers (vehicles, capacity), got {line!r}")
    try:
        vehicles, capacity = (_whole(_number(f)) for f in fields)
    except ValueError as error:
        raise fail(number, str(error)) from None
    if vehicles < 1 or capacity < 0:
        raise fail(number, f"needs at least 1 vehicle and a capacity >= 0, got {line!r}")
    position += 1

    expect_keyword("CUSTOMER")
    skip_headers()
    rows: list[Customer] = []
    seen: set[int] = set()
    for number, line in lines[position:]:
        fields = line.split()
        if len(fields) != 7:
            raise fail(
                number,
                f"expected 7 columns (id x y demand ready due service), got {len(fields)}: "
                f"{line!r}",
            )
        try:
            values = [_number(f) for f in fields]
            customer = Customer(
                id=_whole(values[0]),
                x=values[1],
                y=values[2],
                demand=_whole(values[3]),
                ready=values[4],
                due=values[5],
                service=values[6],
            )
        except ValueError as error:
            raise fail(number, f"{error} in {line!r}") from None
        if customer.demand < 0 or customer.service < 0 or customer.ready < 0:
            raise fail(number, f"demand, ready time and service must not be negative: {line!r}")
        if customer.due < customer.ready:
            raise fail(number, f"due date before ready time: {line!r}")
        if customer.id in seen:
            raise fail(number, f"customer id {customer.id} appears twice")
        seen.add(customer.id)
        rows.append(customer)
    if not rows:
        raise fail(None, "the CUSTOMER table has no rows (needs the depot first)")
    return SolomonInstance(name, vehicles, capacity, rows[0], tuple(rows[1:]))


def read_bks(path: str | Path) -> dict[str, BestKnown]:
    """Best-known solutions by instance name from a CSV with the columns
    `instance,vehicles,distance` (further columns such as `source` are ignored)."""
    path = Path(path)
    result: dict[str, BestKnown] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"instance", "vehicles", "distance"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}:1: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            line = reader.line_num
            name = (row["instance"] or "").strip()
            try:
                vehicles = int((row["vehicles"] or "").strip())
                distance = float((row["distance"] or "").strip())
            except ValueError:
                raise ValueError(
                    f"{path}:{line}: vehicles must be a whole number and distance a number, "
                    f"got {row['vehicles']!r}, {row['distance']!r}"
                ) from None
            if not name or vehicles < 1 or not (math.isfinite(distance) and distance > 0):
                raise ValueError(f"{path}:{line}: needs a name, vehicles >= 1, distance > 0")
            if name in result:
                raise ValueError(f"{path}:{line}: instance {name} listed twice")
            result[name] = BestKnown(vehicles, distance)
    if not result:
        raise ValueError(f"{path}: no best-known solutions")
    return result


# --- the integer problem -------------------------------------------------------------------


def _euclid(a: Customer, b: Customer) -> float:
    return math.hypot(a.x - b.x, a.y - b.y)


def _scaled(value: float, scale: int, *, up: bool) -> int:
    """value × scale as a whole number: exact when it is one (up to float noise),
    otherwise rounded up or down, whichever keeps integer plans feasible in floats."""
    product = value * scale
    nearest = round(product)
    if abs(product - nearest) <= _SNAP * max(1.0, abs(product)):
        return int(nearest)
    return math.ceil(product) if up else math.floor(product)


def vehicle_fixed_cost(cost: list[list[int]], fleet: int) -> int:
    """A per-vehicle cost larger than the cost of any plan's total distance: every place
    is left at most once (customers) or once per vehicle (the depot), so the sum of the
    largest outgoing arcs bounds every plan."""
    depot_out = max(cost[0][1:], default=0)
    customers_out = sum(max(row) for row in cost[1:])
    return fleet * depot_out + customers_out + 1


def to_problem(
    instance: SolomonInstance, objective: Objective = "distance", scale: int = 1000
) -> RoutingProblem:
    """The instance as an integer problem: place 0 is the depot, place i the i-th customer
    (stop i-1). Times and distances are multiplied by `scale`; travel time is rounded up,
    arc cost to nearest, windows inward, service up. Every stop is mandatory."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive whole number, got {scale!r}")
    places = (instance.depot, *instance.customers)
    exact = [[_euclid(a, b) for b in places] for a in places]
    time = [[math.ceil(d * scale) for d in row] for row in exact]
    cost = [[round(d * scale) for d in row] for row in exact]
    stops = tuple(
        Stop(
            id=str(c.id),
            place=place,
            service=_scaled(c.service, scale, up=True),
            windows=(
                TimeWindow(_scaled(c.ready, scale, up=True), _scaled(c.due, scale, up=False)),
            ),
            demand=c.demand,
            drop_penalty=None,
        )
        for place, c in enumerate(instance.customers, start=1)
    )
    depot = instance.depot
    shift = TimeWindow(_scaled(depot.ready, scale, up=True), _scaled(depot.due, scale, up=False))
    fixed = vehicle_fixed_cost(cost, instance.vehicles) if objective == "vehicles" else 0
    vehicles = tuple(
        Vehicle(
            id=f"vehicle {v + 1}",
            start_place=0,
            end_place=0,
            shift=shift,
            capacity=instance.capacity,
            fixed_cost=fixed,
        )
        for v in range(instance.vehicles)
    )
    return RoutingProblem(stops, vehicles, time, cost)


# --- the independent float checker ---------------------------------------------------------


def check_solution(instance: SolomonInstance, routes: list[list[int]]) -> CheckReport:
    """Check routes of customer ids in plain float arithmetic.

    Every customer exactly once, no unknown ids, at most the fleet's number of non-empty
    routes, load within capacity, service starting at max(ready, arrival) no later than
    the due date, every vehicle back at the depot by the depot's due date (the vehicle
    leaves the depot at its ready time). Empty routes are unused vehicles. Times are
    compared with a tolerance of 1e-6; the distance is the plain float sum of the arcs.
    """
    by_id = {c.id: c for c in instance.customers}
    depot = instance.depot
    violations: list[str] = []
    used = [list(route) for route in routes if len(route) > 0]
    if len(used) > instance.vehicles:
        violations.append(f"{len(used)} routes but the fleet has {instance.vehicles} vehicles")

    counts = Counter(cid for route in used for cid in route)
    for cid in sorted(set(counts) - set(by_id)):
        violations.append(f"unknown customer {cid}")
    for cid in sorted(c for c, n in counts.items() if n > 1 and c in by_id):
        violations.append(f"customer {cid} is served {counts[cid]} times")
    missing = [c.id for c in instance.customers if c.id not in counts]
    if missing:
        shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
        violations.append(f"{len(missing)} customer(s) not served: {shown}")

    distance = 0.0
    for r, route in enumerate(used, start=1):
        visits = [by_id[cid] for cid in route if cid in by_id]
        load = sum(c.demand for c in visits)
        if load > instance.capacity:
            violations.append(f"route {r}: load {load} exceeds the capacity {instance.capacity}")
        here, clock = depot, float(depot.ready)
        for c in visits:
            leg = _euclid(here, c)
            distance += leg
            arrival = clock + leg
            start = max(float(c.ready), arrival)
            if start > c.due + TIME_TOLERANCE:
                violations.append(
                    f"route {r}: customer {c.id} starts service at {start:.6f}, "
                    f"after its due date {c.due}"
                )
            clock = start + c.service
            here = c
        leg = _euclid(here, depot)
        distance += leg
        back = clock + leg
        if back > depot.due + TIME_TOLERANCE:
            violations.append(
                f"route {r}: back at the depot at {back:.6f}, after its due date {depot.due}"
            )
    return CheckReport(not violations, len(used), distance, violations)
