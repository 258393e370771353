"""Routing with OR-Tools: the only module of the project that imports ortools.

Two layers:
- `solve(problem, parameters, initial)` solves an integer `RoutingProblem` and owns the
  index ⇄ node translation. The Solomon benchmark calls it directly.
- `plan_day(technicians, jobs, travel, ...)` turns a working day into such a problem,
  solves it, and re-verifies every route with the plain-Python checker
  `schedule.check_route` before anyone relies on it.

Rules of `plan_day`:
- It always returns, with one route per technician in the order given; every job that is
  not on a route is listed in `dropped`, none is silently lost.
- Every route returned by the solver passes `check_route`; otherwise the solver's answer
  is not used at all.
- With `initial` (the plan in force) the result is never worse: it keeps every job the
  initial plan placed and, placing the same jobs, does not drive more. If the solver's
  answer breaks any of this (or there is none), the initial plan is returned as given,
  status "FALLBACK_INITIAL". An initial plan that fails the checker itself sets no bar.
- Without `initial` and without a usable answer every technician gets an empty route and
  every job is dropped; the status says why ("NO_SOLUTION:…", "CHECK_FAILED:…").

Model (the timing rules of `schedule`, stated for OR-Tools):
- nodes 0..J-1 are the stops, J+2v and J+2v+1 the start and end of vehicle v;
- arc cost from the problem's cost matrix (travel seconds, plus metres at a configurable
  rate for a working day); start→end of an empty route costs and takes nothing;
- time dimension: the cumul at a stop is its service start; transit i→j = service(i) +
  travel(i, j); slack is waiting (and room for the lunch break); the cumul lies inside
  one of the stop's windows (the gaps between windows are removed from its domain);
  start cumul inside the shift, end cumul by the shift end plus allowed overtime, which
  is a soft bound priced per second;
- capacity: a load dimension with the vehicles' capacities, when any is set;
- skills and pins: a stop's vehicle variable allows only its permitted vehicles (or -1);
  a pinned position fixes the stop's cumul in a visit-counting dimension;
- lunch: a mandatory fixed-duration interval starting in [earliest_start, latest_start],
  a vehicle break with the service durations as visit transits, so it may overlap
  driving and waiting but never a service; an empty route takes it before its start;
- every stop sits in a disjunction, so "nothing performed" is always a solution and the
  search can never end without one. Optional jobs cost `drop_penalty_s × priority`;
  promises cost more than all optional jobs together, and promises the initial plan
  keeps cost more than all other jobs together, so no exchange can look profitable;
- a fixed cost per used vehicle in the vehicles-first mode of the benchmark.

Search: a first-solution strategy (parallel cheapest insertion by default), then guided
local search, greedy descent, or nothing, until the time limit or a solution limit
(deterministic). For problems within its scope (the VRPTW benchmark) the SISR engine of
`optimizer.sisr` is far stronger than guided local search and can be chosen instead.
With several workers the strategies of a portfolio (or SISR seeds) run in parallel
processes and the best objective wins.
A warm start reads `initial` with ReadAssignmentFromRoutes; without local search it runs
a plain greedy descent from it so that new jobs get inserted.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import time as clock
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from optimizer.domain import Job, Location, Route, Technician
from optimizer.problem import RoutingProblem, Solution, Stop, Vehicle
from optimizer.schedule import RouteCheck, check_route
from optimizer.travel import TravelTimes

T = TypeVar("T")

logger = logging.getLogger(__name__)

FALLBACK_INITIAL = "FALLBACK_INITIAL"
NO_JOBS = "NO_JOBS"
NO_TECHNICIANS = "NO_TECHNICIANS"
WARM_START = "WARM_START"  # prefix: solved from the initial plan
INITIAL_UNREADABLE = "INITIAL_UNREADABLE"  # prefix: initial plan rejected, solved from scratch
NO_SOLUTION = "NO_SOLUTION"  # prefix: the solver returned nothing
CHECK_FAILED = "CHECK_FAILED"  # prefix: a solver route failed check_route
SOLVER_ERROR = "SOLVER_ERROR"  # prefix: OR-Tools raised

_TIME = "Time"
_LOAD = "Load"
_POSITION = "Position"
_MAX_TIME_LIMIT_S = 86_400.0
_MAX_DROP_PENALTY_S = 10**12  # with the travel seconds the objective stays inside int64
_MAX_PENALTY = 2**60  # all penalties together stay well inside int64
_NO_SOLUTION_LIMIT = 2**63 - 1  # the default of RoutingSearchParameters.solution_limit
_POOL_TEARDOWN_S = 0.25  # measured: collecting results and stopping spawned workers

Metaheuristic = Literal["gls", "sisr", "greedy", "none"]
FIRST_SOLUTIONS = {
    name.lower(): value
    for name, value in routing_enums_pb2.FirstSolutionStrategy.Value.items()
    if name not in {"UNSET", "AUTOMATIC"}
}


@dataclass(frozen=True, slots=True)
class PlanParameters:
    """How hard to search.

    time_limit_s: wall-clock limit of the search, in (0, 86400].
    drop_penalty_s: cost of leaving an optional job of priority 1 unplaced, in travel
        seconds (1..10**12); promises cost far more (see the module docstring).
    use_local_search: False = first solution only (a greedy descent from a warm start),
        fast and deterministic; True = `metaheuristic` until the time limit.
    metaheuristic: "gls" guided local search, "greedy" descent to a local optimum,
        "sisr" the SISR ruin-and-recreate engine of `optimizer.sisr` where the problem is
        within its scope (identical vehicles from one depot, one window per stop, all
        stops mandatory: the VRPTW benchmark), else guided local search.
        (OR-Tools 9.15's iterated local search is not offered: through the Python
        bindings it stops after the first descent without perturbing, as measured.)
    first_solution: an OR-Tools first-solution strategy in lower case.
    solution_limit: stop after this many solutions (deterministic runs); None: no limit.
    seconds_per_km: objective weight of distance (a km costs like this many seconds).
    gls_lambda: guided local search penalty factor.
    workers: >1 runs a portfolio of strategies in parallel processes, keeping the best.
    """

    time_limit_s: float = 5.0
    drop_penalty_s: int = 1_000_000
    use_local_search: bool = True
    metaheuristic: Metaheuristic = "gls"
    first_solution: str = "parallel_cheapest_insertion"
    solution_limit: int | None = None
    seconds_per_km: int = 0
    gls_lambda: float = 0.1
    workers: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.time_limit_s, bool) or not isinstance(self.time_limit_s, int | float):
            raise TypeError(f"time_limit_s must be a number, got {self.time_limit_s!r}")
        if not (math.isfinite(self.time_limit_s) and 0 < self.time_limit_s <= _MAX_TIME_LIMIT_S):
            raise ValueError(
                f"time_limit_s must lie in (0, {_MAX_TIME_LIMIT_S}], got {self.time_limit_s}"
            )
        for name in ("drop_penalty_s", "seconds_per_km", "workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be a whole number, got {value!r}")
        if not 0 < self.drop_penalty_s <= _MAX_DROP_PENALTY_S:
            raise ValueError(
                f"drop_penalty_s must lie in 1..{_MAX_DROP_PENALTY_S}, got {self.drop_penalty_s}"
            )
        if self.seconds_per_km < 0 or not 1 <= self.workers <= 16:
            raise ValueError("seconds_per_km must not be negative; workers must lie in 1..16")
        if self.metaheuristic not in ("gls", "sisr", "greedy", "none"):
            raise ValueError(f"unknown metaheuristic {self.metaheuristic!r}")
        if self.first_solution not in FIRST_SOLUTIONS:
            raise ValueError(
                f"unknown first solution strategy {self.first_solution!r}; "
                f"choose from {', '.join(sorted(FIRST_SOLUTIONS))}"
            )
        if self.solution_limit is not None and self.solution_limit < 1:
            raise ValueError("solution_limit must be at least 1")
        if not 0 < self.gls_lambda <= 10:
            raise ValueError(f"gls_lambda must lie in (0, 10], got {self.gls_lambda}")


DEFAULT_PARAMETERS = PlanParameters()


# --- solving an integer problem -------------------------------------------------------


def solve(
    problem: RoutingProblem,
    parameters: PlanParameters = DEFAULT_PARAMETERS,
    initial: Sequence[Sequence[int]] | None = None,
) -> tuple[Solution | None, str]:
    """Solve the problem: the best solution found (None if OR-Tools returned nothing)
    and the search status. `initial` lists stop indices per vehicle; stops it leaves out
    start unassigned."""
    deadline = clock.monotonic() + parameters.time_limit_s
    if parameters.use_local_search and parameters.metaheuristic == "sisr":
        from optimizer import sisr  # numba loads only where SISR is asked for

        reason = sisr.applicable(problem)
        if reason is None:
            return _solve_sisr(problem, parameters, initial, deadline)
        logger.info("SISR does not apply (%s); using guided local search", reason)
        parameters = replace(parameters, metaheuristic="gls")
    if parameters.workers > 1:
        return _solve_portfolio(problem, parameters, initial, deadline)
    return _solve_once(problem, parameters, initial, deadline)


def portfolio(parameters: PlanParameters) -> list[PlanParameters]:
    """Differently configured searches for parallel workers; the first is the given one."""
    variants = [
        replace(parameters, workers=1),
        replace(
            parameters,
            workers=1,
            metaheuristic="gls",
            gls_lambda=0.2,
            first_solution="local_cheapest_insertion",
        ),
        replace(parameters, workers=1, metaheuristic="gls", gls_lambda=0.3),
        replace(parameters, workers=1, metaheuristic="gls", first_solution="savings"),
    ]
    unique = list(dict.fromkeys(variants))
    return unique[: parameters.workers]


def _solve_portfolio(
    problem: RoutingProblem,
    parameters: PlanParameters,
    initial: Sequence[Sequence[int]] | None,
    deadline: float,
) -> tuple[Solution | None, str]:
    plans = portfolio(parameters)
    frozen = None if initial is None else tuple(tuple(r) for r in initial)
    # fork: the problem's matrices are shared with the workers without pickling them.
    results = _in_processes("fork", [(_solve_once, (problem, p, frozen, deadline)) for p in plans])
    found = [solution for solution, _status in results if solution is not None]
    if not found:
        return None, "PORTFOLIO:" + ",".join(status for _solution, status in results)
    best = min(found, key=lambda s: s.objective)
    return best, best.status


def _solve_sisr(
    problem: RoutingProblem,
    parameters: PlanParameters,
    initial: Sequence[Sequence[int]] | None,
    deadline: float,
) -> tuple[Solution | None, str]:
    """One SISR run per worker with its own seed, in parallel processes; the best wins."""
    frozen = None if initial is None else tuple(tuple(r) for r in initial)
    if parameters.workers == 1:
        found = [_sisr_worker(problem, deadline, 0, frozen)]
    else:
        # spawn, not fork: LLVM (under numba) is not fork-safe once loaded; measured, forked
        # workers overran a 1 s limit by 15 s. CLOCK_MONOTONIC is shared between processes,
        # so the deadline holds in the workers, start-up included.
        end = deadline - _POOL_TEARDOWN_S
        calls = [(_sisr_worker, (problem, end, seed, frozen)) for seed in range(parameters.workers)]
        found = _in_processes("spawn", calls)
    solutions = [s for s in found if s is not None]
    if not solutions:
        return None, "SISR:NO_COMPLETE_SOLUTION"
    best = min(solutions, key=lambda s: s.objective)
    return best, best.status


def _in_processes(method: str, calls: Sequence[tuple[Callable[..., T], tuple]]) -> list[T]:
    """Each call's result, the calls running in parallel processes started by `method`."""
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=len(calls), mp_context=context) as pool:
        futures = [pool.submit(function, *arguments) for function, arguments in calls]
        return [future.result() for future in futures]


def _sisr_worker(
    problem: RoutingProblem,
    deadline: float,
    seed: int,
    initial: Sequence[Sequence[int]] | None,
) -> Solution | None:
    from optimizer.sisr import solve_sisr

    return solve_sisr(problem, max(0.05, deadline - clock.monotonic()), seed, initial)


@dataclass
class _Model:
    """An OR-Tools model with its index manager, built once per solve."""

    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel


def _solve_once(
    problem: RoutingProblem,
    parameters: PlanParameters,
    initial: Sequence[Sequence[int]] | None,
    deadline: float,
) -> tuple[Solution | None, str]:
    model = _build(problem)
    # Building a large model takes seconds; the search gets what is left of the limit.
    remaining = max(0.05, deadline - clock.monotonic())
    search = _search_parameters(replace(parameters, time_limit_s=remaining))
    routing, manager = model.routing, model.manager
    routing.CloseModelWithParameters(search)

    start = None
    prefix = ""
    if initial is not None:
        routes = [[manager.NodeToIndex(stop) for stop in route] for route in initial]
        start = routing.ReadAssignmentFromRoutes(routes, False)
        if start is None:
            logger.info("the initial plan does not fit the model; solving from scratch")
            prefix = f"{INITIAL_UNREADABLE}:"
        else:
            prefix = f"{WARM_START}:"
            if not parameters.use_local_search or parameters.metaheuristic == "none":
                # The initial plan already is a first solution; jobs it does not place are
                # inserted by a plain descent to the first local optimum (deterministic).
                search.solution_limit = parameters.solution_limit or _NO_SOLUTION_LIMIT
                search.local_search_metaheuristic = (
                    routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
                )
    if start is not None:
        assignment = routing.SolveFromAssignmentWithParameters(start, search)
    else:
        assignment = routing.SolveWithParameters(search)
    status = prefix + routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status())
    if assignment is None:
        return None, status
    routes = []
    for v in range(len(problem.vehicles)):
        route: list[int] = []
        index = assignment.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        routes.append(tuple(route))
    placed = {stop for route in routes for stop in route}
    dropped = tuple(i for i in range(len(problem.stops)) if i not in placed)
    return Solution(tuple(routes), dropped, assignment.ObjectiveValue(), status), status


def _build(problem: RoutingProblem) -> _Model:
    stops, vehicles = problem.stops, problem.vehicles
    n_stops, n_vehicles = len(stops), len(vehicles)
    n_nodes = n_stops + 2 * n_vehicles
    starts = [n_stops + 2 * v for v in range(n_vehicles)]
    ends = [n_stops + 2 * v + 1 for v in range(n_vehicles)]
    place = [s.place for s in stops]
    for vehicle in vehicles:
        place += [vehicle.start_place, vehicle.end_place]
    nodes = np.asarray(place)
    time_nodes = np.asarray(problem.time, dtype=np.int64)[np.ix_(nodes, nodes)]
    cost_nodes = np.asarray(problem.cost, dtype=np.int64)[np.ix_(nodes, nodes)]
    # Arcs between depot nodes are 0: start→end of one vehicle is an empty route, which
    # drives nothing (as in check_route) and so can never make the model infeasible; the
    # others (into a start, out of an end, between vehicles) cannot occur.
    time_nodes[n_stops:, n_stops:] = 0
    cost_nodes[n_stops:, n_stops:] = 0
    service_nodes = np.array([s.service for s in stops] + [0] * (2 * n_vehicles), dtype=np.int64)
    service = service_nodes.tolist()
    cost = cost_nodes.tolist()
    transit = (time_nodes + service_nodes[:, None]).tolist()
    horizon = max(
        [v.shift.end + v.overtime_max for v in vehicles] + [w.end for s in stops for w in s.windows]
    )

    manager = pywrapcp.RoutingIndexManager(n_nodes, n_vehicles, starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    # Transit matrices are indexed by node; OR-Tools translates indices itself.
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(cost))
    routing.AddDimension(routing.RegisterTransitMatrix(transit), horizon, horizon, False, _TIME)
    time_dim = routing.GetDimensionOrDie(_TIME)

    if any(v.capacity is not None for v in vehicles) and any(s.demand for s in stops):
        demand = [s.demand for s in stops] + [0] * (2 * n_vehicles)
        unlimited = sum(demand)
        routing.AddDimensionWithVehicleCapacity(
            routing.RegisterUnaryTransitVector(demand),
            0,
            [unlimited if v.capacity is None else v.capacity for v in vehicles],
            True,
            _LOAD,
        )
    if any(s.pinned_position is not None for s in stops):
        # Counts visits: the first stop of a route has cumul 1, the second 2, ...
        ones = [1] * n_stops + [1, 0] * n_vehicles
        routing.AddDimension(routing.RegisterUnaryTransitVector(ones), 0, n_nodes, True, _POSITION)

    penalties = _penalties(problem)
    for node, stop in enumerate(stops):
        index = manager.NodeToIndex(node)
        cumul = time_dim.CumulVar(index)
        cumul.SetRange(stop.windows[0].start, stop.windows[-1].end)
        for before, after in zip(stop.windows, stop.windows[1:], strict=False):
            cumul.RemoveInterval(before.end + 1, after.start - 1)
        allowed = set(range(n_vehicles)) if stop.vehicles is None else set(stop.vehicles)
        if stop.pinned_vehicle is not None:
            allowed &= {stop.pinned_vehicle}
        routing.VehicleVar(index).SetValues([*sorted(allowed), -1])
        if stop.pinned_position is not None:
            position = routing.GetDimensionOrDie(_POSITION).CumulVar(index)
            position.SetValue(stop.pinned_position + 1)
        routing.AddDisjunction([index], penalties[node])

    # Breaks take visit transits per index, not per node: the service part of a transit.
    visit = [service[manager.IndexToNode(i)] for i in range(routing.Size() + n_vehicles)]
    solver = routing.solver()
    for v, vehicle in enumerate(vehicles):
        shift = vehicle.shift
        time_dim.CumulVar(routing.Start(v)).SetRange(shift.start, shift.end)
        time_dim.CumulVar(routing.End(v)).SetRange(shift.start, shift.end + vehicle.overtime_max)
        if vehicle.overtime_max and vehicle.overtime_cost:
            time_dim.SetCumulVarSoftUpperBound(routing.End(v), shift.end, vehicle.overtime_cost)
        if vehicle.fixed_cost:
            routing.SetFixedCostOfVehicle(vehicle.fixed_cost, v)
        if vehicle.lunch is not None:
            lunch = solver.FixedDurationIntervalVar(
                vehicle.lunch.earliest_start,
                vehicle.lunch.latest_start,
                vehicle.lunch.duration,
                False,  # mandatory; an empty route takes it before its start or after its end
                f"lunch {vehicle.id}",
            )
            time_dim.SetBreakIntervalsOfVehicle([lunch], v, visit)
    return _Model(manager, routing)


def _penalties(problem: RoutingProblem) -> list[int]:
    """Optional stops cost their own penalty. A promise costs more than all optional stops
    together and more than opening any vehicle just for it (fixed cost plus a round trip
    over the longest arc), so the solver never drops one to save a vehicle."""
    stops = problem.stops
    optional_total = sum(s.drop_penalty for s in stops if s.drop_penalty is not None)
    longest_arc = max((max(row) for row in problem.cost), default=0)
    max_fixed = max((v.fixed_cost for v in problem.vehicles), default=0)
    promise = max(optional_total + 1, 10**9, 4 * (max_fixed + 2 * longest_arc))
    promise = min(promise, _MAX_PENALTY // max(1, len(stops)))
    return [promise if s.drop_penalty is None else s.drop_penalty for s in stops]


def _search_parameters(parameters: PlanParameters) -> object:
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = FIRST_SOLUTIONS[parameters.first_solution]
    heuristics = routing_enums_pb2.LocalSearchMetaheuristic
    if not parameters.use_local_search or parameters.metaheuristic == "none":
        search.solution_limit = 1  # stop at the first solution: fast and deterministic
    elif parameters.metaheuristic == "gls":
        search.local_search_metaheuristic = heuristics.GUIDED_LOCAL_SEARCH
        search.guided_local_search_lambda_coefficient = parameters.gls_lambda
    else:
        search.local_search_metaheuristic = heuristics.GREEDY_DESCENT
    if parameters.solution_limit is not None:
        search.solution_limit = parameters.solution_limit
    search.time_limit.FromMilliseconds(max(1, round(parameters.time_limit_s * 1000)))
    search.log_search = False
    return search


# --- planning a working day ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanResult:
    """The planned day: routes in technician order, the jobs left out, and totals."""

    routes: tuple[Route, ...]
    dropped: tuple[Job, ...]
    travel_seconds: int
    travel_meters: int
    solver_status: str

    @property
    def placed_job_ids(self) -> frozenset[str]:
        return frozenset(job.id for route in self.routes for job in route.jobs)


@dataclass(frozen=True, slots=True)
class _Checked:
    """Routes with their checker verdicts."""

    routes: tuple[Route, ...]
    checks: tuple[RouteCheck, ...]

    @property
    def feasible(self) -> bool:
        return all(check.feasible for check in self.checks)

    @property
    def violations(self) -> tuple[str, ...]:
        return tuple(v for check in self.checks for v in check.violations)

    @property
    def placed(self) -> frozenset[str]:
        return frozenset(job.id for route in self.routes for job in route.jobs)

    @property
    def travel_seconds(self) -> int:
        return sum(check.schedule.travel_seconds for check in self.checks)

    @property
    def travel_meters(self) -> int:
        return sum(check.schedule.travel_meters for check in self.checks)


def plan_day(
    technicians: Sequence[Technician],
    jobs: Sequence[Job],
    travel: TravelTimes,
    *,
    initial: Sequence[Route] | None = None,
    parameters: PlanParameters = DEFAULT_PARAMETERS,
) -> PlanResult:
    """Assign and order the day's jobs; see the module docstring for the guarantees."""
    technicians = tuple(technicians)
    jobs = tuple(jobs)
    _validate(technicians, jobs)
    baseline = None if initial is None else _resolve_initial(initial, technicians, jobs)

    if not technicians:
        return _result(_check((), travel), jobs, NO_TECHNICIANS)
    if not jobs:
        return _result(_check(tuple(Route(t) for t in technicians), travel), jobs, NO_JOBS)

    baseline_checked = None if baseline is None else _check(baseline, travel)
    if baseline_checked is not None and not baseline_checked.feasible:
        logger.warning("initial plan fails the checker: %s", "; ".join(baseline_checked.violations))

    try:
        solved, status = _solve_day(technicians, jobs, travel, baseline, parameters)
    except Exception as error:  # OR-Tools must never take the plan in force down with it
        logger.exception("OR-Tools raised while planning")
        solved, status = None, f"{SOLVER_ERROR}:{type(error).__name__}"

    reason: str | None = None
    candidate = None
    if solved is None:
        reason = status if status.startswith(SOLVER_ERROR) else f"{NO_SOLUTION}:{status}"
    else:
        candidate = _check(solved, travel)
        if not candidate.feasible:
            reason = f"{CHECK_FAILED}:{status}"
            logger.error("solver plan fails the checker: %s", "; ".join(candidate.violations))
        elif baseline_checked is not None and baseline_checked.feasible:
            lost = baseline_checked.placed - candidate.placed
            if lost:
                reason = f"drops initially placed jobs {sorted(lost)}"
            elif (
                candidate.placed == baseline_checked.placed
                and candidate.travel_seconds > baseline_checked.travel_seconds
            ):
                reason = (
                    f"same jobs with more travel ({candidate.travel_seconds} s > "
                    f"{baseline_checked.travel_seconds} s)"
                )

    if reason is None:
        assert candidate is not None
        return _result(candidate, jobs, status)
    if baseline_checked is not None:
        logger.info("keeping the initial plan: %s", reason)
        return _result(baseline_checked, jobs, FALLBACK_INITIAL)
    logger.warning("no usable plan: %s", reason)
    return _result(_check(tuple(Route(t) for t in technicians), travel), jobs, reason)


def day_problem(
    technicians: tuple[Technician, ...],
    jobs: tuple[Job, ...],
    travel: TravelTimes,
    parameters: PlanParameters,
    kept: frozenset[str] = frozenset(),
) -> RoutingProblem:
    """The working day as an integer problem: seconds, and metres priced per km."""
    locations: dict[Location, int] = {}
    for location in [
        *(j.location for j in jobs),
        *(p for t in technicians for p in (t.start, t.end)),
    ]:
        locations.setdefault(location, len(locations))
    places = list(locations)
    travel.prefetch(places, places)
    legs = [[travel.leg(a, b) for b in places] for a in places]
    time = [[leg.seconds for leg in row] for row in legs]
    cost = [
        [leg.seconds + leg.meters * parameters.seconds_per_km // 1000 for leg in row]
        for row in legs
    ]
    index_of = {t.id: v for v, t in enumerate(technicians)}
    optional_total = sum(parameters.drop_penalty_s * j.priority for j in jobs if j.optional)
    promise = min(optional_total + parameters.drop_penalty_s, _MAX_PENALTY // (4 * len(jobs)))
    keep = min(promise * (len(jobs) + 1), _MAX_PENALTY // (2 * len(jobs)))
    stops = []
    for job in jobs:
        if job.id in kept:
            penalty = keep
        elif job.optional:
            penalty = parameters.drop_penalty_s * job.priority
        else:
            penalty = promise
        pinned = index_of.get(job.pinned_to) if job.pinned_to is not None else None
        allowed = frozenset(v for v, t in enumerate(technicians) if t.can_do(job))
        stops.append(
            Stop(
                id=job.id,
                place=locations[job.location],
                service=job.duration,
                windows=job.windows,
                demand=job.demand,
                vehicles=allowed,
                drop_penalty=penalty,
                pinned_vehicle=pinned,
                pinned_position=job.pinned_position if pinned is not None else None,
            )
        )
    vehicles = tuple(
        Vehicle(
            id=t.id,
            start_place=locations[t.start],
            end_place=locations[t.end],
            shift=t.shift,
            capacity=t.capacity,
            lunch=t.lunch,
            overtime_max=t.overtime_max,
            overtime_cost=t.overtime_cost,
        )
        for t in technicians
    )
    return RoutingProblem(tuple(stops), vehicles, time, cost)


def _solve_day(
    technicians: tuple[Technician, ...],
    jobs: tuple[Job, ...],
    travel: TravelTimes,
    baseline: tuple[Route, ...] | None,
    parameters: PlanParameters,
) -> tuple[tuple[Route, ...] | None, str]:
    """Solve the day as an integer problem; the routes it found (or None) and a status."""
    kept = frozenset() if baseline is None else frozenset(j.id for r in baseline for j in r.jobs)
    problem = day_problem(technicians, jobs, travel, parameters, kept)  # provider errors propagate
    initial = None
    if baseline is not None:
        node_of = {job.id: node for node, job in enumerate(jobs)}
        initial = [[node_of[j.id] for j in route.jobs] for route in baseline]
    solution, status = solve(problem, parameters, initial)
    if solution is None:
        return None, status
    routes = tuple(
        Route(tech, tuple(jobs[stop] for stop in route))
        for tech, route in zip(technicians, solution.routes, strict=True)
    )
    return routes, solution.status


def _validate(technicians: tuple[Technician, ...], jobs: tuple[Job, ...]) -> None:
    for what, ids in (("technician", [t.id for t in technicians]), ("job", [j.id for j in jobs])):
        duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
        if duplicates:
            raise ValueError(f"{what} ids must be unique, duplicated: {', '.join(duplicates)}")


def _resolve_initial(
    initial: Sequence[Route], technicians: tuple[Technician, ...], jobs: tuple[Job, ...]
) -> tuple[Route, ...]:
    """The initial plan as one route per technician (in order), built from the given objects."""
    tech_by_id = {t.id: t for t in technicians}
    job_by_id = {j.id: j for j in jobs}
    by_tech: dict[str, tuple[Job, ...]] = {}
    placed: set[str] = set()
    for route in initial:
        tech_id = route.technician.id
        if tech_id not in tech_by_id:
            raise ValueError(f"initial route of unknown technician {tech_id}")
        if tech_id in by_tech:
            raise ValueError(f"initial plan has two routes for technician {tech_id}")
        for job in route.jobs:
            if job.id not in job_by_id:
                raise ValueError(f"initial route of {tech_id} has unknown job {job.id}")
            if job.id in placed:
                raise ValueError(f"initial plan places job {job.id} twice")
            placed.add(job.id)
        by_tech[tech_id] = tuple(job_by_id[job.id] for job in route.jobs)
    return tuple(Route(t, by_tech.get(t.id, ())) for t in technicians)


def _check(routes: tuple[Route, ...], travel: TravelTimes) -> _Checked:
    return _Checked(routes, tuple(check_route(route, travel) for route in routes))


def _result(checked: _Checked, jobs: tuple[Job, ...], status: str) -> PlanResult:
    placed = checked.placed
    return PlanResult(
        routes=checked.routes,
        dropped=tuple(job for job in jobs if job.id not in placed),
        travel_seconds=checked.travel_seconds,
        travel_meters=checked.travel_meters,
        solver_status=status,
    )
