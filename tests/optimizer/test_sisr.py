"""Tests for optimizer.sisr: the SISR ruin-and-recreate metaheuristic.

The hand-solved instance LINE lies on one line of slope 4/3 through the depot, so every
distance is a multiple of the 3-4-5 triangle and exact in floats:

    stop  id  (x, y)    demand  window    service   from depot
    0     1   (3, 4)      10    [0, 100]     1          5
    1     2   (6, 8)      10    [0, 10]      1         10
    2     3   (-3, -4)    10    [0, 5]       1          5
    3     4   (-6, -8)    10    [0, 100]     1         10

Capacity 20, so a vehicle serves at most two stops. Pairing the two stops of one side
costs 20 + 20 = 40; any other pairing crosses the depot: {1,3}+{2,4} = 20 + 40 and
{1,4}+{2,3} = 30 + 30. Stop 2 is due at 10, exactly its distance, so it comes first on its
route (1 then 2 reaches 2 at 5 + 1 + 5 = 11); stop 3 is due at 5 and comes first as well.
The optimum is therefore [[2, 1], [3, 4]] (ids), stop indices ((1, 0), (2, 3)), at 40.
"""

from __future__ import annotations

import dataclasses
import random

import pytest

from optimizer.domain import LunchBreak, TimeWindow
from optimizer.problem import RoutingProblem, Stop, Vehicle
from optimizer.sisr import applicable, solve_sisr, warm_up
from optimizer.solomon import Customer, SolomonInstance, check_solution, to_problem

DEPOT = Customer(0, 0, 0, 0, 0, 100, 0)
LINE = SolomonInstance(
    "LINE",
    vehicles=3,
    capacity=20,
    depot=DEPOT,
    customers=(
        Customer(1, 3, 4, 10, 0, 100, 1),
        Customer(2, 6, 8, 10, 0, 10, 1),
        Customer(3, -3, -4, 10, 0, 5, 1),
        Customer(4, -6, -8, 10, 0, 100, 1),
    ),
)
OPTIMUM = {(1, 0), (2, 3)}


def ids(instance: SolomonInstance, routes: tuple[tuple[int, ...], ...]) -> list[list[int]]:
    return [[instance.customers[stop].id for stop in route] for route in routes if route]


def scattered(seed: int, n: int = 30) -> SolomonInstance:
    """n customers at random in a 50 x 50 square, each feasible on its own route."""
    rng = random.Random(seed)
    depot = Customer(0, 25, 25, 0, 0, 400, 0)
    customers = []
    for cid in range(1, n + 1):
        x, y = rng.randint(0, 50), rng.randint(0, 50)
        reach = ((x - 25) ** 2 + (y - 25) ** 2) ** 0.5
        ready = rng.randint(0, 300)
        due = max(ready + rng.choice((10, 30, 100)), int(reach) + 1)
        customers.append(Customer(cid, x, y, rng.randint(1, 20), ready, min(due, 350), 5))
    return SolomonInstance(f"S{seed}", vehicles=10, capacity=60, depot=depot,
                           customers=tuple(customers))  # fmt: skip


def test_finds_the_hand_worked_optimum() -> None:
    """LINE: the two one-sided routes, each in its forced order, at distance 40."""
    solution = solve_sisr(to_problem(LINE), 5.0, seed=1, iterations=300)
    assert solution is not None
    assert {route for route in solution.routes if route} == OPTIMUM
    assert len(solution.routes) == 3 and solution.routes[2] == ()
    assert (solution.dropped, solution.objective, solution.status) == ((), 40_000, "SISR")
    report = check_solution(LINE, ids(LINE, solution.routes))
    assert report.feasible and report.distance == 40.0


def test_vehicles_objective_adds_the_fixed_cost() -> None:
    """With the vehicles objective the two used vehicles' fixed costs are in the objective."""
    problem = to_problem(LINE, "vehicles")
    solution = solve_sisr(problem, 5.0, iterations=300)
    assert solution is not None
    assert {route for route in solution.routes if route} == OPTIMUM
    assert solution.objective == 40_000 + 2 * problem.vehicles[0].fixed_cost


def test_fleet_minimisation_merges_routes() -> None:
    """Four stops 5, 10, 15, 20 out on one ray, four vehicles, vehicles objective: the start
    (one route per stop) is merged into one route out and back, 40."""
    ray = tuple(Customer(k, 3 * k, 4 * k, 1, 0, 1000, 0) for k in (1, 2, 3, 4))
    instance = SolomonInstance("RAY", 4, 10, Customer(0, 0, 0, 0, 0, 1000, 0), ray)
    problem = to_problem(instance, "vehicles")
    solution = solve_sisr(problem, 5.0, iterations=400)
    assert solution is not None and solution.routes[1:] == ((), (), ())
    assert solution.routes[0] in ((0, 1, 2, 3), (3, 2, 1, 0))
    assert solution.objective == 40_000 + problem.vehicles[0].fixed_cost


def test_routes_keep_windows_and_capacity() -> None:
    """On 30 scattered customers every route passes the independent float checker."""
    instance = scattered(7)
    solution = solve_sisr(to_problem(instance), 0.5, seed=3)
    assert solution is not None and solution.dropped == ()
    report = check_solution(instance, ids(instance, solution.routes))
    assert report.feasible, report.violations
    assert round(report.distance * 1000) == pytest.approx(solution.objective, abs=30)


def test_deterministic_for_seed_and_iterations() -> None:
    """Same seed and iteration count: the same routes; the search really improves."""
    problem = to_problem(scattered(11))
    first = solve_sisr(problem, 30.0, seed=5, iterations=3000)
    second = solve_sisr(problem, 30.0, seed=5, iterations=3000)
    greedy = solve_sisr(problem, 30.0, seed=5, iterations=1)
    assert first is not None and second is not None and greedy is not None
    assert first == second
    assert first.objective < greedy.objective


def test_initial_solution_is_the_start() -> None:
    """iterations=0 returns the initial plan as given; an infeasible route is repaired."""
    problem = to_problem(LINE)
    kept = solve_sisr(problem, 5.0, initial=[[2, 3], [1, 0]], iterations=0)
    assert kept is not None and kept.routes == ((2, 3), (1, 0), ()) and kept.objective == 40_000
    # 1 then 2 reaches stop 2 at 11 > 10: that route's stops are left out and re-inserted
    repaired = solve_sisr(problem, 5.0, initial=[[0, 1], [2, 3]], iterations=200)
    assert repaired is not None and {r for r in repaired.routes if r} == OPTIMUM
    with pytest.raises(ValueError, match="appears twice"):
        solve_sisr(problem, 5.0, initial=[[0, 1], [1]])


def test_none_when_a_window_closes_before_anyone_arrives() -> None:
    """Stop 1 is 5 away but due at 3: no solution (and no search needed to see it)."""
    late = dataclasses.replace(LINE.customers[0], due=3)
    instance = dataclasses.replace(LINE, customers=(late, *LINE.customers[1:]))
    assert solve_sisr(to_problem(instance), 60.0) is None


def test_none_when_the_fleet_is_too_small() -> None:
    """One vehicle of capacity 20 cannot carry four stops of 10: no complete solution."""
    instance = dataclasses.replace(LINE, vehicles=1)
    assert solve_sisr(to_problem(instance), 5.0, iterations=200) is None


def test_warm_up() -> None:
    """warm_up compiles or loads the core and reports the seconds it took."""
    assert 0 < warm_up() < 120


def test_no_stops() -> None:
    """Without stops every vehicle gets an empty route at cost 0."""
    problem = dataclasses.replace(to_problem(LINE), stops=())
    assert solve_sisr(problem, 1.0) == solve_sisr(problem, 1.0, iterations=5)
    solution = solve_sisr(problem, 1.0)
    assert solution is not None and solution.routes == ((), (), ()) and solution.objective == 0


def _stop(problem: RoutingProblem, **changes: object) -> RoutingProblem:
    stops = (dataclasses.replace(problem.stops[0], **changes), *problem.stops[1:])
    return dataclasses.replace(problem, stops=stops)


def _vehicle(problem: RoutingProblem, **changes: object) -> RoutingProblem:
    vehicles = (*problem.vehicles[:-1], dataclasses.replace(problem.vehicles[-1], **changes))
    return dataclasses.replace(problem, vehicles=vehicles)


BASE = to_problem(LINE)


@pytest.mark.parametrize(
    ("problem", "reason"),
    [
        (_stop(BASE, windows=(TimeWindow(0, 10), TimeWindow(20, 30))), "several windows"),
        (_stop(BASE, vehicles=frozenset({0})), "restricted to some vehicles"),
        (_stop(BASE, pinned_vehicle=0), "pinned"),
        (_stop(BASE, drop_penalty=5), "optional"),
        (_vehicle(BASE, end_place=1), "start and end at the same place"),
        (_vehicle(BASE, start_place=1, end_place=1), "start and end at the same place"),
        (_vehicle(BASE, shift=TimeWindow(0, 50)), "different shifts"),
        (_vehicle(BASE, capacity=None), "different capacities"),
        (_vehicle(BASE, lunch=LunchBreak(10, 20, 5)), "lunch"),
        (_vehicle(BASE, overtime_max=10), "overtime"),
        (_vehicle(BASE, fixed_cost=7), "different fixed costs"),
        (dataclasses.replace(BASE, vehicles=()), "no vehicles"),
    ],
)
def test_applicable_names_the_unsupported_feature(problem: RoutingProblem, reason: str) -> None:
    """Each unsupported feature is named; solve_sisr refuses such a problem."""
    found = applicable(problem)
    assert found is not None and reason in found
    with pytest.raises(ValueError, match="SISR cannot solve"):
        solve_sisr(problem, 1.0)


def test_applicable_accepts_the_supported_features() -> None:
    """Solomon problems, no capacity, equal fixed costs, all-vehicle sets: supported."""
    assert applicable(BASE) is None
    assert applicable(to_problem(LINE, "vehicles")) is None
    uncapped = dataclasses.replace(
        BASE, vehicles=tuple(dataclasses.replace(v, capacity=None) for v in BASE.vehicles)
    )
    assert applicable(uncapped) is None
    assert applicable(_stop(BASE, vehicles=frozenset({0, 1, 2}))) is None


def test_unlimited_capacity_uses_one_route() -> None:
    """Without a capacity one vehicle can serve all four stops; the cheapest is still 40:
    stop 3 due at 5 and stop 2 due at 10 cannot both be first, so two routes remain."""
    problem = dataclasses.replace(
        BASE,
        vehicles=tuple(dataclasses.replace(v, capacity=None) for v in BASE.vehicles),
        stops=tuple(dataclasses.replace(s, demand=0) for s in BASE.stops),
    )
    solution = solve_sisr(problem, 5.0, iterations=300)
    assert solution is not None and solution.objective == 40_000
    lone = Vehicle("solo", 0, 0, TimeWindow(0, 100_000))
    one = dataclasses.replace(problem, vehicles=(lone,))
    assert solve_sisr(one, 5.0, iterations=200) is None
    assert isinstance(one.stops[0], Stop)
