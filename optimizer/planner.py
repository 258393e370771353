"""Plan a day with OR-Tools: which technician serves which jobs, in which order.

This is the only module of the project that imports ortools, and the only place that knows
the solver's index ⇄ node translation. Whatever the solver says is re-verified with the
plain-Python checker `schedule.check_route` before it is returned.

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
- one vehicle per technician, with its own start and end node; nodes 0..J-1 are the jobs,
  J+2v and J+2v+1 the start and end of technician v;
- arc cost = travel seconds; start→end of an empty route costs and takes nothing;
- time dimension: the cumul at a job is its service start; transit i→j = service(i) +
  travel(i, j); slack is waiting (and room for the lunch break); job cumul inside the job
  window; start cumul inside the shift (leaving later equals leaving at shift start and
  waiting); end cumul no later than shift end;
- skills: a job's vehicle variable only allows technicians having all its skills (or -1);
- lunch: a mandatory fixed-duration interval starting in [earliest_start, latest_start],
  registered as a vehicle break with the service durations as visit transits, so it may
  overlap driving and waiting but never a service. OR-Tools also allows it before the
  start or after the end of a route, which the checker's gaps 0 and n cover; an empty
  route can always take it there, since the break lies inside the shift;
- every job is optional at the cost of `drop_penalty_s` (disjunction), so the solver
  always has a solution; a job the initial plan places costs more to drop than all other
  jobs together, so the solver never trades a confirmed appointment for new ones.

Search: first solution by parallel cheapest insertion; with `use_local_search` guided
local search until the time limit, otherwise the first solution only (deterministic). A
warm start reads `initial` with ReadAssignmentFromRoutes (jobs it does not place start
unassigned) and, without local search, runs a plain greedy descent from it (deterministic)
so that new jobs get inserted; an initial plan the model rejects means a cold start.

`solver_status`: the OR-Tools status name ("ROUTING_SUCCESS", ...; first-solution-only runs
report "ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED") for a cold start without
`initial`, prefixed "WARM_START:" or "INITIAL_UNREADABLE:" when `initial` was given;
otherwise "FALLBACK_INITIAL", "NO_SOLUTION:<status>", "CHECK_FAILED:<status>",
"SOLVER_ERROR:<exception>", "NO_JOBS" or "NO_TECHNICIANS".
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from optimizer.domain import Job, Route, Technician
from optimizer.schedule import RouteCheck, check_route
from optimizer.travel import TravelTimes

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
_MAX_TIME_LIMIT_S = 86_400.0
_MAX_DROP_PENALTY_S = 10**12  # with the travel seconds the objective stays inside int64
_MAX_PENALTY = 2**60  # all penalties together stay well inside int64
_NO_SOLUTION_LIMIT = 2**63 - 1  # the default of RoutingSearchParameters.solution_limit


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
class PlanParameters:
    """How hard to search.

    time_limit_s: wall-clock limit of the search, in (0, 86400].
    drop_penalty_s: cost of leaving a job unplaced, in travel seconds (1..10**12).
    use_local_search: guided local search until the time limit; False = first solution
    only (a greedy descent from a warm start), fast and deterministic.
    """

    time_limit_s: float = 5.0
    drop_penalty_s: int = 1_000_000
    use_local_search: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.time_limit_s, bool) or not isinstance(self.time_limit_s, int | float):
            raise TypeError(f"time_limit_s must be a number, got {self.time_limit_s!r}")
        if not (math.isfinite(self.time_limit_s) and 0 < self.time_limit_s <= _MAX_TIME_LIMIT_S):
            raise ValueError(
                f"time_limit_s must lie in (0, {_MAX_TIME_LIMIT_S}], got {self.time_limit_s}"
            )
        if isinstance(self.drop_penalty_s, bool) or not isinstance(self.drop_penalty_s, int):
            raise TypeError(
                f"drop_penalty_s must be a whole number of seconds, got {self.drop_penalty_s!r}"
            )
        if not 0 < self.drop_penalty_s <= _MAX_DROP_PENALTY_S:
            raise ValueError(
                f"drop_penalty_s must lie in 1..{_MAX_DROP_PENALTY_S}, got {self.drop_penalty_s}"
            )


DEFAULT_PARAMETERS = PlanParameters()


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

    data = _matrices(technicians, jobs, travel)  # provider errors propagate to the caller
    try:
        solved, status = _solve(technicians, jobs, data, baseline, parameters)
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


@dataclass(frozen=True, slots=True)
class _Matrices:
    """Node-level data: nodes 0..J-1 are jobs, J+2v / J+2v+1 start / end of technician v."""

    drive: list[list[int]]  # travel seconds: the arc cost
    transit: list[list[int]]  # service(from) + travel: the time dimension
    service: list[int]
    starts: list[int]
    ends: list[int]
    horizon: int


def _matrices(
    technicians: tuple[Technician, ...], jobs: tuple[Job, ...], travel: TravelTimes
) -> _Matrices:
    n_jobs, n_vehicles = len(jobs), len(technicians)
    n_nodes = n_jobs + 2 * n_vehicles
    starts = [n_jobs + 2 * v for v in range(n_vehicles)]
    ends = [n_jobs + 2 * v + 1 for v in range(n_vehicles)]
    travel.prefetch(
        [t.start for t in technicians] + [j.location for j in jobs],
        [j.location for j in jobs] + [t.end for t in technicians],
    )
    origins = [(n, j.location) for n, j in enumerate(jobs)]
    origins += [(starts[v], t.start) for v, t in enumerate(technicians)]
    destinations = [(n, j.location) for n, j in enumerate(jobs)]
    destinations += [(ends[v], t.end) for v, t in enumerate(technicians)]
    # Arcs that cannot occur (into a start, out of an end, between depots of different
    # technicians) and start→end of one technician stay 0: an empty route drives nothing,
    # as in check_route, so it can never make the model infeasible.
    drive = [[0] * n_nodes for _ in range(n_nodes)]
    for a, a_location in origins:
        for b, b_location in destinations:
            if a < n_jobs or b < n_jobs:
                drive[a][b] = travel.seconds(a_location, b_location)
    service = [j.duration for j in jobs] + [0] * (2 * n_vehicles)
    transit = [[service[a] + drive[a][b] for b in range(n_nodes)] for a in range(n_nodes)]
    horizon = max(max(t.shift.end for t in technicians), max(j.window.end for j in jobs))
    return _Matrices(drive, transit, service, starts, ends, horizon)


def _solve(
    technicians: tuple[Technician, ...],
    jobs: tuple[Job, ...],
    data: _Matrices,
    baseline: tuple[Route, ...] | None,
    parameters: PlanParameters,
) -> tuple[tuple[Route, ...] | None, str]:
    """Build and solve the routing model; the routes it found (or None) and a status."""
    n_vehicles = len(technicians)
    manager = pywrapcp.RoutingIndexManager(len(data.service), n_vehicles, data.starts, data.ends)
    routing = pywrapcp.RoutingModel(manager)
    # Transit matrices are indexed by node; OR-Tools translates indices itself.
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(data.drive))
    routing.AddDimension(
        routing.RegisterTransitMatrix(data.transit),
        data.horizon,  # slack: waiting, and room for the lunch break
        data.horizon,
        False,
        _TIME,
    )
    time = routing.GetDimensionOrDie(_TIME)

    # A job the initial plan places (a confirmed appointment) costs more to drop than all
    # other jobs together, so no exchange of it for new jobs can look profitable.
    kept = set() if baseline is None else {j.id for r in baseline for j in r.jobs}
    keep_penalty = min(
        parameters.drop_penalty_s * (len(jobs) - len(kept) + 1), _MAX_PENALTY // len(jobs)
    )
    for node, job in enumerate(jobs):
        index = manager.NodeToIndex(node)
        time.CumulVar(index).SetRange(job.window.start, job.window.end)
        allowed = [v for v, t in enumerate(technicians) if t.can_do(job)]
        routing.VehicleVar(index).SetValues([*allowed, -1])
        penalty = keep_penalty if job.id in kept else parameters.drop_penalty_s
        routing.AddDisjunction([index], penalty)

    # Breaks take visit transits per index, not per node: the service part of a transit.
    visit = [data.service[manager.IndexToNode(i)] for i in range(routing.Size() + n_vehicles)]
    solver = routing.solver()
    for v, tech in enumerate(technicians):
        time.CumulVar(routing.Start(v)).SetRange(tech.shift.start, tech.shift.end)
        time.CumulVar(routing.End(v)).SetRange(tech.shift.start, tech.shift.end)
        if tech.lunch is not None:
            lunch = solver.FixedDurationIntervalVar(
                tech.lunch.earliest_start,
                tech.lunch.latest_start,
                tech.lunch.duration,
                False,  # mandatory; an empty route takes it before its start or after its end
                f"lunch {tech.id}",
            )
            time.SetBreakIntervalsOfVehicle([lunch], v, visit)

    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    if parameters.use_local_search:
        search.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
    else:
        search.solution_limit = 1  # stop at the first solution: fast and deterministic
    search.time_limit.FromMilliseconds(max(1, round(parameters.time_limit_s * 1000)))
    search.log_search = False
    routing.CloseModelWithParameters(search)

    start = None
    prefix = ""
    if baseline is not None:
        node_of = {job.id: node for node, job in enumerate(jobs)}
        routes = [[manager.NodeToIndex(node_of[j.id]) for j in r.jobs] for r in baseline]
        start = routing.ReadAssignmentFromRoutes(routes, False)
        if start is None:
            logger.info("the initial plan does not fit the model; solving from scratch")
            prefix = f"{INITIAL_UNREADABLE}:"
        else:
            prefix = f"{WARM_START}:"
            if not parameters.use_local_search:
                # The initial plan already is a first solution; jobs it does not place are
                # inserted by a plain descent to the first local optimum (deterministic).
                search.solution_limit = _NO_SOLUTION_LIMIT
                search.local_search_metaheuristic = (
                    routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
                )
    if start is not None:
        solution = routing.SolveFromAssignmentWithParameters(start, search)
    else:
        solution = routing.SolveWithParameters(search)
    status = prefix + routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status())
    if solution is None:
        return None, status
    logger.debug("%s: objective %d", status, solution.ObjectiveValue())

    planned = []
    for v, tech in enumerate(technicians):
        on_route: list[Job] = []
        index = solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(index):
            on_route.append(jobs[manager.IndexToNode(index)])
            index = solution.Value(routing.NextVar(index))
        planned.append(Route(tech, tuple(on_route)))
    return tuple(planned), status
