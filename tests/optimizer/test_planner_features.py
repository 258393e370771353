"""The full field-service model: several windows, capacity, pins, optional jobs with
priorities, soft overtime, distance cost, vehicles-first, workers, determinism.

Same line world as test_planner: mark k is k km along a line, |i − j| minutes apart.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimizer.domain import LunchBreak, TimeWindow
from optimizer.planner import PlanParameters, plan_day, solve
from optimizer.problem import RoutingProblem, Stop, Vehicle
from optimizer.schedule import check_route
from optimizer.sisr import warm_up
from optimizer.travel import TravelTimes
from tests.optimizer.test_planner import FAST, SEARCH, Line, hm, job, tech


def ids(result) -> list[list[str]]:
    return [[j.id for j in route.jobs] for route in result.routes]


def feasible(result, travel: TravelTimes) -> bool:
    return all(check_route(route, travel).feasible for route in result.routes)


def test_a_job_with_two_windows_is_served_in_the_one_that_fits() -> None:
    """B can be served 08:00-08:30 or 12:00-13:00. A, fixed 08:00-08:10 at mark 10, takes
    the morning (arrive 08:10, 30 min job until 08:40); B at mark 20 cannot start by 08:30
    then, so it waits for its second window: starts 12:00."""
    travel = TravelTimes(Line())
    a = job("A", 10, window=(hm(8), hm(8, 10)))
    b = replace(
        job("B", 20, window=(hm(8), hm(8, 30))), extra_windows=(TimeWindow(hm(12), hm(13)),)
    )
    result = plan_day([tech()], [a, b], travel, parameters=FAST)
    assert ids(result) == [["A", "B"]]
    schedule = check_route(result.routes[0], travel).schedule
    assert [v.start for v in schedule.visits] == [hm(8, 10), hm(12)]


def test_capacity_splits_jobs_between_technicians() -> None:
    """Three jobs of demand 4 and two vans of capacity 8: no van carries all three."""
    travel = TravelTimes(Line())
    vans = [replace(tech("V1"), capacity=8), replace(tech("V2"), capacity=8)]
    jobs = [replace(job(name, mark), demand=4) for name, mark in (("A", 1), ("B", 2), ("C", 3))]
    result = plan_day(vans, jobs, travel, parameters=SEARCH)
    assert sorted(len(r) for r in ids(result)) == [1, 2]
    assert not result.dropped
    assert feasible(result, travel)


def test_a_pinned_job_stays_with_its_technician_at_its_position() -> None:
    """T2 lives at mark 30 next to A; but A is pinned to T1 as T1's second stop (the order
    a dispatcher fixed), so T1 serves B (mark 5) first and A second."""
    travel = TravelTimes(Line())
    a = replace(job("A", 30), pinned_to="T1", pinned_position=1)
    b = job("B", 5)
    result = plan_day([tech("T1", 0), tech("T2", 30)], [a, b], travel, parameters=SEARCH)
    assert ids(result) == [["B", "A"], []]


def test_pinned_to_an_absent_technician_means_it_cannot_be_placed() -> None:
    """A job pinned to someone not working today is reported, never moved silently."""
    travel = TravelTimes(Line())
    a = replace(job("A", 3), pinned_to="T9")
    result = plan_day([tech("T1")], [a], travel, parameters=FAST)
    assert [j.id for j in result.dropped] == ["A"]


def test_optional_jobs_are_dropped_by_priority_before_promises() -> None:
    """A 4-hour shift and three 2-hour jobs next door: only two fit. The promise P stays,
    of the optional ones the higher priority H wins over L."""
    travel = TravelTimes(Line())
    short_day = tech(shift=(hm(8), hm(12)))
    p = job("P", 0, minutes=110)
    h = replace(job("H", 0, minutes=110), optional=True, priority=5)
    low = replace(job("L", 0, minutes=110), optional=True, priority=1)
    result = plan_day([short_day], [low, h, p], travel, parameters=SEARCH)
    assert sorted(ids(result)[0]) == ["H", "P"]
    assert [j.id for j in result.dropped] == ["L"]


def test_overtime_is_allowed_up_to_its_limit_and_costs() -> None:
    """Shift 08:00-09:00 with 60 min overtime allowed: a 90-minute job at the depot ends
    09:30 and is served (30 min overtime); a second one would end 11:00 and is dropped."""
    travel = TravelTimes(Line())
    t = replace(tech(shift=(hm(8), hm(9))), overtime_max=3600, overtime_cost=1)
    first = replace(job("A", 0, minutes=90), optional=True)
    second = replace(job("B", 0, minutes=90), optional=True)
    result = plan_day([t], [first, second], travel, parameters=SEARCH)
    assert len(ids(result)[0]) == 1
    schedule = check_route(result.routes[0], travel).schedule
    assert schedule.overtime == 30 * 60


def test_distance_cost_prefers_the_shorter_of_two_equally_fast_routes() -> None:
    """Seconds_per_km enters the objective: with a problem whose two arcs take the same
    time but differ in cost, the solver picks the cheaper (solve() on a RoutingProblem)."""
    # places: 0 depot, 1 A, 2 B. Depot→A→B→depot vs depot→B→A→depot take equal time, but
    # the cost matrix makes A→B cheaper than B→A.
    time = [[0, 10, 10], [10, 0, 10], [10, 10, 0]]
    cost = [[0, 10, 10], [10, 0, 1], [10, 50, 0]]
    window = (TimeWindow(0, 1000),)
    stops = (Stop("A", 1, 0, window), Stop("B", 2, 0, window))
    problem = RoutingProblem(stops, (Vehicle("V", 0, 0, TimeWindow(0, 1000)),), time, cost)
    solution, _status = solve(problem, SEARCH)
    assert solution is not None
    assert solution.routes == ((0, 1),)
    assert solution.objective == 10 + 1 + 10


def test_vehicles_first_uses_fewer_vehicles_than_distance_first() -> None:
    """Two customers on opposite sides: one vehicle visiting both drives 40, two vehicles
    drive 20 + 20 = 40 too, but with a fixed cost per vehicle one vehicle wins outright;
    without it the solver may use either (both cost 40)."""
    time = [[0, 10, 10], [10, 0, 20], [10, 20, 0]]
    window = (TimeWindow(0, 1000),)
    stops = (Stop("A", 1, 0, window), Stop("B", 2, 0, window))
    fleet = tuple(Vehicle(f"V{v}", 0, 0, TimeWindow(0, 1000), fixed_cost=1000) for v in range(2))
    solution, _status = solve(RoutingProblem(stops, fleet, time, time), SEARCH)
    assert solution is not None
    assert sorted(len(route) for route in solution.routes) == [0, 2]


def test_every_stop_is_placed_or_reported_even_when_nothing_fits() -> None:
    """A must-serve stop whose window closes before anyone can arrive: the solver still
    returns a solution, with that stop listed as dropped."""
    time = [[0, 100], [100, 0]]
    problem = RoutingProblem(
        (Stop("X", 1, 0, (TimeWindow(0, 50),)),),
        (Vehicle("V", 0, 0, TimeWindow(0, 1000)),),
        time,
        time,
    )
    solution, _status = solve(problem, FAST)
    assert solution is not None
    assert solution.dropped == (0,)


def test_solution_limit_makes_local_search_deterministic() -> None:
    """Guided local search stopped after a fixed number of solutions repeats exactly."""
    travel = TravelTimes(Line())
    techs = [tech("T1", 0), tech("T2", 40)]
    jobs = [job(f"J{k}", k * 7 % 50) for k in range(12)]
    limited = PlanParameters(time_limit_s=30, solution_limit=200)
    first = plan_day(techs, jobs, travel, parameters=limited)
    second = plan_day(techs, jobs, travel, parameters=limited)
    assert ids(first) == ids(second)
    assert first.travel_seconds == second.travel_seconds


@pytest.mark.parametrize("metaheuristic", ["gls", "greedy"])
def test_each_search_keeps_every_rule(metaheuristic: str) -> None:
    """Every search strategy returns checker-feasible routes placing all jobs."""
    travel = TravelTimes(Line())
    techs = [tech("T1", 0), tech("T2", 40)]
    jobs = [job(f"J{k}", k * 7 % 50, window=(hm(8 + k % 6), hm(10 + k % 6))) for k in range(10)]
    parameters = PlanParameters(time_limit_s=1.0, metaheuristic=metaheuristic)  # type: ignore[arg-type]
    result = plan_day(techs, jobs, travel, parameters=parameters)
    assert not result.dropped
    assert feasible(result, travel)


def test_two_workers_return_the_better_of_two_searches() -> None:
    """A portfolio of two searches in parallel processes returns a feasible plan at
    least as good as one search alone with the same first strategy."""
    travel = TravelTimes(Line())
    techs = [tech("T1", 0), tech("T2", 40)]
    jobs = [job(f"J{k}", k * 7 % 50) for k in range(12)]
    one = plan_day(techs, jobs, travel, parameters=PlanParameters(time_limit_s=1.0))
    two = plan_day(techs, jobs, travel, parameters=PlanParameters(time_limit_s=1.0, workers=2))
    assert feasible(two, travel) and not two.dropped
    assert two.travel_seconds <= one.travel_seconds


def test_bad_search_settings_are_refused() -> None:
    """Unknown strategies and out-of-range settings name what was expected."""
    with pytest.raises(ValueError, match="unknown first solution strategy"):
        PlanParameters(first_solution="magic")
    with pytest.raises(ValueError, match="unknown metaheuristic"):
        PlanParameters(metaheuristic="quantum")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="workers"):
        PlanParameters(workers=0)


def test_sisr_solves_a_benchmark_style_problem_and_gls_covers_the_rest() -> None:
    """Identical vehicles from one depot, one window per stop: SISR takes it (status SISR)
    and finds the obvious optimum depot→A→B→depot = 10 + 1 + 10. A working day with lunch
    breaks is outside SISR's scope and is planned by guided local search instead."""
    warm_up()  # a fresh checkout compiles first; that must not eat the time limit
    time = [[0, 10, 10], [10, 0, 1], [10, 1, 0]]
    window = (TimeWindow(0, 1000),)
    stops = (Stop("A", 1, 0, window), Stop("B", 2, 0, window))
    fleet = tuple(Vehicle(f"V{v}", 0, 0, TimeWindow(0, 1000)) for v in range(2))
    solution, status = solve(
        RoutingProblem(stops, fleet, time, time),
        PlanParameters(time_limit_s=1.0, metaheuristic="sisr"),
    )
    assert status == "SISR"
    assert solution is not None and solution.objective == 21

    travel = TravelTimes(Line())
    lunch_tech = tech(lunch=LunchBreak(hm(11), hm(13), 1800))
    result = plan_day(
        [lunch_tech],
        [job("A", 3)],
        travel,
        parameters=PlanParameters(time_limit_s=0.5, metaheuristic="sisr"),
    )
    assert ids(result) == [["A"]]
    assert "SISR" not in result.solver_status
