"""Tests for optimizer.solomon: reader, integer problem, float checker, and the solver on a
hand-solved instance.

The tiny instance TINY (Solomon layout, CRLF) lies on one line of slope 4/3, so every
distance is a multiple of the 3-4-5 triangle and exact in floats:

    place  (x, y)    demand  window    service      distances   0   1   2   3
    0      (10, 10)     -    [0, 60]      0          depot 0      -   5   5  10
    1  X   (13, 14)    10    [5, 20]      2          X     1      5   -  10  15
    2  Y   (7, 6)      20    [0, 5]       2          Y     2      5  10   -   5
    3  Z   (4, 2)      30    [30, 40]     2          Z     3     10  15   5   -

3 vehicles of capacity 60. Y is due at 5, exactly its distance from the depot, so Y must be
the first stop of its route. Worked by hand:
- one vehicle: only Y→X→Z works (Y 5-7, X arrives 17 ≤ 20, Z arrives 34 ≤ 40, back at 46),
  distance 5 + 10 + 15 + 10 = 40; Y→Z→X reaches X at 47 > 20; any other order is late at Y;
- two vehicles: {X} + {Y→Z} = 10 + 20 = 30 (Z waits from 12 to 30, back at 42);
  {Y→X} + {Z} = 20 + 20 = 40; {X→Z} + {Y} = 30 + 10 = 40; three vehicles 10 + 10 + 20 = 40.
So the distance optimum is [[1], [2, 3]] at 30.0 with 2 vehicles, and the vehicles-first
optimum is [[2, 1, 3]] at 40.0 with 1 vehicle.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from optimizer.planner import PlanParameters, solve
from optimizer.solomon import (
    BestKnown,
    Customer,
    SolomonInstance,
    check_solution,
    read_bks,
    read_solomon,
    to_problem,
    vehicle_fixed_cost,
)

TINY_LINES = [
    "TINY",
    "",
    "VEHICLE",
    "NUMBER     CAPACITY",
    "  3          60",
    "",
    "CUSTOMER",
    "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME",
    " ",
    "    0      10         10          0          0         60          0   ",
    "    1      13         14         10          5         20          2   ",
    "    2       7          6         20          0          5          2   ",
    "    3       4          2         30         30         40          2   ",
    "",
]


def tiny_text(name: str = "TINY", rows: list[str] | None = None) -> str:
    lines = [name, *TINY_LINES[1:]]
    if rows is not None:
        lines = [*lines[:9], *rows, ""]
    return "\r\n".join(lines)


def write_tiny(folder: Path, name: str = "TINY", rows: list[str] | None = None) -> Path:
    path = folder / f"{name}.txt"
    path.write_bytes(tiny_text(name, rows).encode("ascii"))
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> SolomonInstance:
    return read_solomon(write_tiny(tmp_path))


# --- reader ------------------------------------------------------------------------------


def test_reader_reads_every_field_of_a_crlf_file(tmp_path: Path):
    path = write_tiny(tmp_path)
    assert b"\r\n" in path.read_bytes()
    instance = read_solomon(path)
    assert instance.name == "TINY"
    assert (instance.vehicles, instance.capacity) == (3, 60)
    assert instance.depot == Customer(0, 10, 10, 0, 0, 60, 0)
    assert instance.customers == (
        Customer(1, 13, 14, 10, 5, 20, 2),
        Customer(2, 7, 6, 20, 0, 5, 2),
        Customer(3, 4, 2, 30, 30, 40, 2),
    )
    assert all(type(v) is int for v in dataclasses.astuple(instance.customers[0]))


def test_reader_takes_lf_decimals_and_more_customers(tmp_path: Path):
    """Nothing assumes 100 customers or 25 vehicles; decimals stay floats."""
    rows = [f"  {i}  {i}.5  {2 * i}  1  0  100  0.25" for i in range(1, 8)]
    path = tmp_path / "BIG.txt"
    path.write_text(tiny_text("BIG", ["0 0 0 0 0 100 0", *rows]).replace("\r\n", "\n"))
    instance = read_solomon(path)
    assert len(instance.customers) == 7
    assert instance.customers[6] == Customer(7, 7.5, 14, 1, 0, 100, 0.25)
    assert type(instance.customers[6].x) is float


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        (["0 10 10 0 0 60 0", "1 13 14 10 5 20"], 11, "expected 7 columns"),
        (["0 10 10 0 0 60 0", "1 13 14 ten 5 20 2"], 11, "could not convert"),
        (["0 10 10 0 0 60 0", "1 13 14 10 5 2 2"], 11, "due date before ready time"),
        (["0 10 10 0 0 60 0", "1 13 14 10 5 20 2", "1 7 6 20 0 5 2"], 12, "appears twice"),
        (["0 10 10 0 0 60 0", "1 13 14 1.5 5 20 2"], 11, "whole number"),
    ],
)
def test_reader_names_file_and_line_of_a_bad_row(tmp_path, rows, line, message):
    path = write_tiny(tmp_path, "BAD", rows)
    with pytest.raises(ValueError, match=message) as caught:
        read_solomon(path)
    assert f"BAD.txt:{line}:" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("X\r\nVEHICLE\r\nNUMBER CAPACITY\r\n3 60\r\n", "missing the CUSTOMER section"),
        ("X\r\nVEHICLE\r\nNUMBER CAPACITY\r\n3\r\nCUSTOMER\r\n0 0 0 0 0 1 0\r\n", "2 numbers"),
        ("X\r\nVEHICLE\r\n3 60\r\nCUSTOMER\r\nCUST NO.\r\n", "has no rows"),
        ("X\r\nCUSTOMER\r\n0 0 0 0 0 1 0\r\n", "expected 'VEHICLE'"),
    ],
)
def test_reader_rejects_a_broken_layout(tmp_path, text, message):
    path = tmp_path / "BROKEN.txt"
    path.write_bytes(text.encode("ascii"))
    with pytest.raises(ValueError, match=message) as caught:
        read_solomon(path)
    assert "BROKEN.txt" in str(caught.value)


def test_read_bks(tmp_path: Path):
    path = tmp_path / "bks.csv"
    path.write_text(
        'instance,vehicles,distance,source\r\nTINY,2,30.00,by hand\r\nC101,10,828.94,"a, b"\r\n'
    )
    assert read_bks(path) == {"TINY": BestKnown(2, 30.0), "C101": BestKnown(10, 828.94)}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,vehicles,distance\nTINY,2,30\n", "missing column"),
        ("instance,vehicles,distance\nTINY,two,30\n", ":2: vehicles must be a whole number"),
        ("instance,vehicles,distance\nTINY,2,30\nTINY,2,31\n", ":3: instance TINY listed"),
        ("instance,vehicles,distance\n", "no best-known"),
    ],
)
def test_read_bks_rejects_bad_files(tmp_path, text, message):
    path = tmp_path / "bks.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_bks(path)


# --- the integer problem -------------------------------------------------------------------


def test_to_problem_scales_matrices_windows_and_fleet(tiny):
    problem = to_problem(tiny, "distance")
    exact = [
        [0, 5000, 5000, 10000],
        [5000, 0, 10000, 15000],
        [5000, 10000, 0, 5000],
        [10000, 15000, 5000, 0],
    ]
    assert [list(row) for row in problem.time] == exact
    assert [list(row) for row in problem.cost] == exact
    assert [(s.id, s.place, s.service, s.demand) for s in problem.stops] == [
        ("1", 1, 2000, 10),
        ("2", 2, 2000, 20),
        ("3", 3, 2000, 30),
    ]
    assert [(w.start, w.end) for s in problem.stops for w in s.windows] == [
        (5000, 20000),
        (0, 5000),
        (30000, 40000),
    ]
    assert all(s.drop_penalty is None and s.vehicles is None for s in problem.stops)
    assert len(problem.vehicles) == 3
    for vehicle in problem.vehicles:
        assert (vehicle.start_place, vehicle.end_place) == (0, 0)
        assert (vehicle.shift.start, vehicle.shift.end) == (0, 60000)
        assert (vehicle.capacity, vehicle.fixed_cost) == (60, 0)


def test_vehicles_objective_prices_a_vehicle_above_any_total_distance(tiny):
    problem = to_problem(tiny, "vehicles")
    # 3 vehicles × longest depot arc 10000 + longest arc out of X, Y, Z: 15000 + 10000 + 15000
    assert {v.fixed_cost for v in problem.vehicles} == {70001}
    assert vehicle_fixed_cost([list(r) for r in problem.cost], 3) == 70001
    # every plan, even the worst conceivable one, drives less than one vehicle costs
    worst = 3 * 10000 + 15000 + 10000 + 15000
    assert worst < 70001


def test_travel_time_rounds_up_and_cost_to_nearest():
    """5.0001 × 1000 = 5000.1: the solver's time is 5001 (never optimistic), its cost 5000."""
    depot = Customer(0, 0, 0, 0, 0, 100, 0)
    far = Customer(1, 5.0001, 0, 1, 0.0005, 1.0005, 0.0001)
    instance = SolomonInstance("ROUND", 1, 10, depot, (far,))
    problem = to_problem(instance, "distance", scale=1000)
    assert problem.time[0][1] == problem.time[1][0] == 5001
    assert problem.cost[0][1] == problem.cost[1][0] == 5000
    # windows shrink inward (0.5 → 1, 1000.5 → 1000), service rounds up (0.1 → 1)
    (window,) = problem.stops[0].windows
    assert (window.start, window.end, problem.stops[0].service) == (1, 1000, 1)
    coarse = to_problem(instance, "distance", scale=10)  # 50.001
    assert (coarse.time[0][1], coarse.cost[0][1]) == (51, 50)


def test_to_problem_rejects_bad_arguments(tiny):
    with pytest.raises(ValueError, match="objective"):
        to_problem(tiny, "time")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scale"):
        to_problem(tiny, "distance", scale=0)


# --- the float checker ---------------------------------------------------------------------


def test_checker_accepts_the_hand_optima_with_exact_distances(tiny):
    two = check_solution(tiny, [[1], [], [2, 3]])  # an empty route is an unused vehicle
    assert (two.feasible, two.vehicles, two.distance, two.violations) == (True, 2, 30.0, [])
    one = check_solution(tiny, [[2, 1, 3]])  # load 60 = capacity, Y starts at its due date
    assert (one.feasible, one.vehicles, one.distance, one.violations) == (True, 1, 40.0, [])


def _with_customer(instance: SolomonInstance, cid: int, **changes) -> SolomonInstance:
    customers = tuple(
        dataclasses.replace(c, **changes) if c.id == cid else c for c in instance.customers
    )
    return dataclasses.replace(instance, customers=customers)


@pytest.mark.parametrize(
    ("routes", "change", "violation"),
    [
        ([[1], [2]], {}, "1 customer(s) not served: 3"),
        ([[1], [2, 3], [2]], {}, "customer 2 is served 2 times"),
        ([[2, 1, 3]], {"capacity": 50}, "route 1: load 60 exceeds the capacity 50"),
        (
            [[3], [1, 2]],
            {},
            "route 2: customer 2 starts service at 17.000000, after its due date 5",
        ),
        (
            [[2, 1, 3]],
            {"depot": Customer(0, 10, 10, 0, 0, 45, 0)},
            "route 1: back at the depot at 46.000000, after its due date 45",
        ),
        ([[1], [2, 3, 9]], {}, "unknown customer 9"),
        ([[1], [2, 3]], {"vehicles": 1}, "2 routes but the fleet has 1 vehicles"),
    ],
    ids=["missing", "duplicate", "capacity", "late-start", "late-return", "unknown", "fleet"],
)
def test_checker_reports_each_violation(tiny, routes, change, violation):
    report = check_solution(dataclasses.replace(tiny, **change), routes)
    assert report.feasible is False
    assert report.violations == [violation]


def test_checker_times_have_a_tolerance_of_one_millionth(tiny):
    """Y arrives at 5.0; a due date 1e-7 earlier still passes, 1e-5 earlier does not."""
    assert check_solution(_with_customer(tiny, 2, due=5 - 1e-7), [[1], [2, 3]]).feasible
    late = check_solution(_with_customer(tiny, 2, due=5 - 1e-5), [[1], [2, 3]])
    assert not late.feasible and "customer 2 starts service" in late.violations[0]


def test_checker_counts_service_and_waiting(tiny):
    """With Z due at 33.9: X→Z (X served 5-7, Z reached at 22, waits until 30) passes;
    Y→X→Z (Y 5-7, X 17-19, Z reached at 34) is late."""
    strict = _with_customer(tiny, 3, due=33.9)
    assert check_solution(strict, [[1, 3], [2]]).feasible
    report = check_solution(strict, [[2, 1, 3]])
    assert report.violations == [
        "route 1: customer 3 starts service at 34.000000, after its due date 33.9"
    ]
    assert math.isclose(report.distance, 40.0)


# --- the solver finds the hand optimum -----------------------------------------------------


def _solve_ids(instance: SolomonInstance, objective: str) -> tuple[list[list[int]], int]:
    solution, _status = solve(to_problem(instance, objective), PlanParameters(time_limit_s=1.0))
    assert solution is not None and solution.dropped == ()
    routes = [[instance.customers[s].id for s in route] for route in solution.routes if route]
    return sorted(routes), solution.objective


def test_solve_finds_the_distance_optimum(tiny):
    routes, objective = _solve_ids(tiny, "distance")
    assert routes == [[1], [2, 3]]
    assert objective == 30000
    assert check_solution(tiny, routes).distance == 30.0


def test_solve_vehicles_first_uses_one_vehicle(tiny):
    routes, objective = _solve_ids(tiny, "vehicles")
    assert routes == [[2, 1, 3]]
    assert objective == 40000 + 70001
    report = check_solution(tiny, routes)
    assert (report.feasible, report.vehicles, report.distance) == (True, 1, 40.0)
