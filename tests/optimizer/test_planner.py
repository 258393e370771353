"""Tests for optimizer.planner.plan_day: the OR-Tools day planner.

Line world of this file: a location is a kilometre mark k on a line (`at(k)`); driving
between marks i and j takes |i - j| minutes over |i - j| km. Every route returned is
re-checked with schedule.check_route here as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest

from optimizer import planner
from optimizer.domain import Job, Location, LunchBreak, Route, Technician, TimeWindow
from optimizer.planner import PlanParameters, PlanResult, plan_day
from optimizer.schedule import RouteCheck, check_route
from optimizer.travel import Leg, TravelTimes

FAST = PlanParameters(time_limit_s=1.0, use_local_search=False)  # first solution only
SEARCH = PlanParameters(time_limit_s=1.0)  # guided local search for one second


def at(k: int) -> Location:
    """The location at kilometre mark k (k / 100 degrees of longitude)."""
    return Location(lat=52.0, lon=k / 100)


class Line:
    """A travel-time provider on the line: |i - j| minutes and |i - j| km."""

    def matrix(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> list[list[Leg]]:
        marks = [[abs(round(a.lon * 100) - round(b.lon * 100)) for b in destinations]
                 for a in origins]
        return [[Leg(seconds=60 * d, meters=1000 * d) for d in row] for row in marks]


def hm(hours: int, minutes: int = 0) -> int:
    return hours * 3600 + minutes * 60


def tech(
    id: str = "T1",
    home: int = 0,
    *,
    end: int | None = None,
    shift: tuple[int, int] = (hm(8), hm(17)),
    skills: Iterable[str] = (),
    lunch: LunchBreak | None = None,
) -> Technician:
    return Technician(
        id=id,
        start=at(home),
        end=at(home if end is None else end),
        shift=TimeWindow(*shift),
        skills=frozenset(skills),
        lunch=lunch,
    )


def job(
    id: str,
    mark: int,
    *,
    window: tuple[int, int] = (hm(8), hm(17)),
    minutes: int = 30,
    skills: Iterable[str] = (),
) -> Job:
    return Job(
        id=id,
        location=at(mark),
        duration=minutes * 60,
        window=TimeWindow(*window),
        skills=frozenset(skills),
    )


def lunch(earliest: int, latest: int, minutes: int = 30) -> LunchBreak:
    return LunchBreak(earliest_start=earliest, latest_start=latest, duration=minutes * 60)


def ids(result: PlanResult) -> list[list[str]]:
    return [[j.id for j in r.jobs] for r in result.routes]


def verified(result: PlanResult, travel: TravelTimes) -> list[RouteCheck]:
    """Every route passes check_route and the totals are the checker's sums."""
    checks = [check_route(r, travel) for r in result.routes]
    assert [c.violations for c in checks] == [()] * len(checks)
    assert result.travel_seconds == sum(c.schedule.travel_seconds for c in checks)
    assert result.travel_meters == sum(c.schedule.travel_meters for c in checks)
    return checks


def solved(result: PlanResult) -> bool:
    """The plan came from the solver, not from a fallback."""
    return result.solver_status.startswith(("ROUTING_", "WARM_START:", "INITIAL_UNREADABLE:"))


def starts(check: RouteCheck) -> dict[str, int]:
    return {v.job.id: v.start for v in check.schedule.visits}


def lunch_clear_of_jobs(check: RouteCheck) -> bool:
    technician_lunch = check.schedule.route.technician.lunch
    assert technician_lunch is not None and check.schedule.lunch_start is not None
    s = check.schedule.lunch_start
    e = s + technician_lunch.duration
    return all(e <= v.start or v.end <= s for v in check.schedule.visits)


# --- the plan itself --------------------------------------------------------------------


def test_two_jobs_on_a_line_are_served_in_the_obvious_order():
    """Home 0 → A at 10 → B at 20 → end at 30: in line order, 30 minutes of driving."""
    travel = TravelTimes(Line())
    a, b = job("A", 10), job("B", 20)
    result = plan_day([tech(end=30)], [b, a], travel, parameters=FAST)
    # 0→10→20→30 = 10 + 10 + 10 = 30 min; the other order 0→20→10→30 would be 50 min.
    assert solved(result)
    assert ids(result) == [["A", "B"]]
    assert result.dropped == ()
    assert (result.travel_seconds, result.travel_meters) == (30 * 60, 30 * 1000)
    # Leave 08:00 → A 08:10-08:40 → B 08:50.
    assert starts(verified(result, travel)[0]) == {"A": hm(8, 10), "B": hm(8, 50)}


def test_time_windows_force_a_non_geographic_order():
    """The far job's early window puts it before the near job on the way."""
    travel = TravelTimes(Line())
    near = job("NEAR", 10, window=(hm(11), hm(11, 30)))
    far = job("FAR", 20, window=(hm(8), hm(9)))
    result = plan_day([tech()], [near, far], travel, parameters=FAST)
    # Near first would reach NEAR 08:10, wait until 11:00, FAR at 11:40 > 09:00: infeasible.
    # So: FAR 08:20-08:50, NEAR arrive 09:00, wait, serve 11:00; home 0.
    # Travel 20 + 10 + 10 = 40 min.
    assert ids(result) == [["FAR", "NEAR"]]
    assert result.travel_seconds == 40 * 60
    assert starts(verified(result, travel)[0]) == {"FAR": hm(8, 20), "NEAR": hm(11)}


def test_gas_job_goes_only_to_the_technician_with_gas():
    """A gas job next to the plain technician is driven to by the gas technician."""
    travel = TravelTimes(Line())
    plain = tech("PLAIN", home=0)
    gas = tech("GAS", home=50, skills={"gas"})
    boiler = job("BOILER", 5, skills={"gas"})
    result = plan_day([plain, gas], [boiler], travel, parameters=FAST)
    # Routes in technician order; GAS drives 50→5→50 = 45 + 45 = 90 min.
    assert [r.technician.id for r in result.routes] == ["PLAIN", "GAS"]
    assert ids(result) == [[], ["BOILER"]]
    assert result.travel_seconds == 90 * 60
    verified(result, travel)


def test_job_needing_a_skill_nobody_has_is_dropped():
    """No technician has "electric": that job is reported dropped, the other is planned."""
    travel = TravelTimes(Line())
    wiring = job("WIRING", 0, skills={"electric"})
    tap = job("TAP", 10)
    result = plan_day([tech(skills={"gas"})], [wiring, tap], travel, parameters=FAST)
    # TAP: 0→10→0 = 20 min.
    assert ids(result) == [["TAP"]]
    assert result.dropped == (wiring,)
    assert result.travel_seconds == 20 * 60


def test_unreachable_window_drops_that_job_and_plans_the_rest():
    """A window over before the technician can get there: dropped and reported."""
    travel = TravelTimes(Line())
    a, b = job("A", 10), job("B", 20)
    remote = job("REMOTE", 90, window=(hm(8), hm(9)))
    result = plan_day([tech()], [a, remote, b], travel, parameters=FAST)
    # Leaving 08:00 the earliest arrival at mark 90 is 09:30, after 09:00.
    # The rest: 0→10→20→0 = 10 + 10 + 20 = 40 min.
    assert result.dropped == (remote,)
    assert sorted(ids(result)[0]) == ["A", "B"]
    assert result.travel_seconds == 40 * 60
    verified(result, travel)


def test_lunch_break_is_taken_around_a_job_in_the_lunch_window():
    """A 12:00 job of an hour inside lunch 12:00-13:00: served at 12:00, lunch at 13:00."""
    travel = TravelTimes(Line())
    technician = tech(lunch=lunch(hm(12), hm(13), minutes=30))
    noon = job("NOON", 10, window=(hm(12), hm(12, 15)), minutes=60)
    other = job("OTHER", 20, minutes=60)
    result = plan_day([technician], [noon, other], travel, parameters=FAST)
    # NOON occupies 12:00-13:00, so lunch can only start at 13:00, its latest start.
    # Travel either way round is 10 + 10 + 20 = 40 min.
    (check,) = verified(result, travel)
    assert sorted(ids(result)[0]) == ["NOON", "OTHER"]
    assert starts(check)["NOON"] == hm(12)
    assert check.schedule.lunch_start == hm(13)
    assert lunch_clear_of_jobs(check)
    assert result.travel_seconds == 40 * 60


def test_fixed_lunch_pushes_a_job_behind_it():
    """Lunch fixed at 12:00-13:00 and a job window 12:00-14:00: service starts at 13:00."""
    travel = TravelTimes(Line())
    technician = tech(lunch=lunch(hm(12), hm(12), minutes=60))
    visit = job("VISIT", 10, window=(hm(12), hm(14)))
    result = plan_day([technician], [visit], travel, parameters=FAST)
    # Serving at 12:00 would overlap the break; after the job (12:30) it is too late for a
    # break that must start at 12:00. So: break 12:00-13:00 on the way, service 13:00.
    (check,) = verified(result, travel)
    assert starts(check) == {"VISIT": hm(13)}
    assert check.schedule.lunch_start == hm(12)
    assert result.travel_seconds == 20 * 60


@pytest.mark.parametrize(
    ("window", "minutes", "served"),
    [
        ((hm(12), hm(12, 30)), 30, False),  # would start inside the break
        ((hm(11, 30), hm(11, 45)), 60, False),  # would run into the break (ends ≥ 12:30)
        ((hm(11), hm(11)), 60, True),  # 11:00-12:00 ends just as the break starts
        ((hm(13), hm(13)), 30, True),  # starts just as the break ends
    ],
    ids=["starts-in-break", "runs-into-break", "ends-at-break", "starts-after-break"],
)
def test_a_service_never_overlaps_a_fixed_lunch(window, minutes, served):
    """Lunch fixed at 12:00-13:00: a job that would overlap it is dropped, touching is fine."""
    travel = TravelTimes(Line())
    technician = tech(lunch=lunch(hm(12), hm(12), minutes=60))
    tight = job("TIGHT", 0, window=window, minutes=minutes)  # at the technician's home
    other = job("OTHER", 10)
    result = plan_day([technician], [tight, other], travel, parameters=FAST)
    # OTHER is always planned (0→10→0 = 20 min); TIGHT only if it fits around the break.
    assert solved(result)
    assert ("TIGHT" in ids(result)[0]) is served
    assert result.dropped == (() if served else (tight,))
    assert result.travel_seconds == 20 * 60
    (check,) = verified(result, travel)
    assert check.schedule.lunch_start == hm(12)
    assert lunch_clear_of_jobs(check)


def test_unused_technician_with_lunch_does_not_break_the_plan():
    """An idle technician (lunch, start 100 and end 700 apart) stays empty; the rest plans."""
    travel = TravelTimes(Line())
    near = tech("NEAR", home=0, lunch=lunch(hm(12), hm(13)))
    # 100→700 is 600 min, longer than the 9-hour shift: only an empty route is feasible,
    # and it must neither drive start→end nor fail on its lunch break.
    idle = tech("IDLE", home=100, end=700, lunch=lunch(hm(12), hm(13)))
    a = job("A", 10)
    result = plan_day([near, idle], [a], travel, parameters=FAST)
    assert solved(result)
    assert ids(result) == [["A"], []]
    assert result.travel_seconds == 20 * 60  # 0→10→0
    verified(result, travel)


def test_overfull_day_drops_the_surplus():
    """Five one-hour jobs in a four-hour shift: three fit, two are dropped."""
    travel = TravelTimes(Line())
    technician = tech(shift=(hm(8), hm(12)))
    jobs = [job(f"J{i}", 5, minutes=60) for i in range(1, 6)]  # all at the same address
    result = plan_day([technician], jobs, travel, parameters=FAST)
    # 5 min there + 5 min back leave 230 minutes: three jobs (180) fit, four (240) do not.
    assert len(ids(result)[0]) == 3
    assert len(result.dropped) == 2
    assert {j.id for j in result.dropped} | set(ids(result)[0]) == {j.id for j in jobs}
    assert result.travel_seconds == 10 * 60
    verified(result, travel)


def test_a_day_too_full_for_two_technicians_uses_both():
    """Two technicians with lunch share eight jobs; every route is checker-feasible."""
    travel = TravelTimes(Line())
    technicians = [
        tech("T1", home=0, lunch=lunch(hm(12), hm(13))),
        tech("T2", home=40, skills={"gas"}, lunch=lunch(hm(11, 30), hm(12, 30))),
    ]
    jobs = [
        job(f"J{k}", k, minutes=90, skills={"gas"} if k % 20 == 0 else ())
        for k in (5, 10, 15, 20, 25, 30, 35, 40)
    ]
    result = plan_day(technicians, jobs, travel, parameters=SEARCH)
    # 8 × 90 min = 12 h of service and 2 × 8.5 h of shift after lunch: not all can fit,
    # but whatever is planned keeps every rule, and nothing disappears.
    checks = verified(result, travel)
    assert all(lunch_clear_of_jobs(c) for c in checks if c.schedule.visits)
    assert all(r.jobs for r in result.routes)
    placed = {j for route in ids(result) for j in route}
    assert placed | {j.id for j in result.dropped} == {j.id for j in jobs}
    assert "J20" in ids(result)[1] and "J40" in ids(result)[1]  # gas jobs on T2 only


# --- warm start and fallback ----------------------------------------------------------------


@pytest.mark.parametrize("parameters", [FAST, SEARCH], ids=["first-solution", "local-search"])
def test_warm_start_keeps_initial_jobs_and_adds_the_new_one(parameters):
    """From the plan in force A, B, C the new job N on the way is added at no extra travel."""
    travel = TravelTimes(Line())
    technician = tech(lunch=lunch(hm(12), hm(13)))
    a, b, c = job("A", 10), job("B", 20), job("C", 30)
    new = job("N", 15)
    initial = [Route(technician, (a, b, c))]
    # Initial: 0→10→20→30→0 = 60 min. N at 15 lies on the way: still 60 min.
    result = plan_day([technician], [a, b, c, new], travel, initial=initial,
                      parameters=parameters)
    assert result.solver_status.startswith("WARM_START:")
    assert result.placed_job_ids >= {"A", "B", "C"}
    assert ids(result) == [["A", "N", "B", "C"]]
    assert result.dropped == ()
    assert result.travel_seconds == 60 * 60
    verified(result, travel)


@pytest.mark.parametrize("parameters", [FAST, SEARCH], ids=["first-solution", "local-search"])
def test_warm_start_never_trades_a_confirmed_job_for_a_cheaper_new_one(parameters):
    """Only one of X (confirmed, far) and Y (new, near) fits: X stays, Y is dropped."""
    travel = TravelTimes(Line())
    technician = tech(shift=(hm(8), hm(10)))
    confirmed = job("X", 30, minutes=60)  # 30 + 60 + 30 = 120 min: the whole shift
    newcomer = job("Y", 5, minutes=60)  # 5 + 60 + 5 = 70 min
    initial = [Route(technician, (confirmed,))]
    result = plan_day([technician], [confirmed, newcomer], travel, initial=initial,
                      parameters=parameters)
    # Swapping X for Y would save 50 min of driving at the same number of jobs, but the
    # plan in force must keep X; the solver itself must see that (no fallback needed).
    assert result.solver_status.startswith("WARM_START:")
    assert ids(result) == [["X"]]
    assert result.dropped == (newcomer,)
    assert result.travel_seconds == 60 * 60


def test_warm_start_from_a_detour_is_never_worse():
    """An initial plan with a detour is straightened out, no job lost."""
    travel = TravelTimes(Line())
    technician = tech()
    a, b, c = job("A", 10), job("B", 20), job("C", 30)
    initial = [Route(technician, (c, a, b))]
    # Initial 0→30→10→20→0 = 30 + 20 + 10 + 20 = 80 min; the line order needs 60 min.
    assert check_route(initial[0], travel).schedule.travel_seconds == 80 * 60
    result = plan_day([technician], [a, b, c], travel, initial=initial, parameters=SEARCH)
    assert result.dropped == ()
    assert result.travel_seconds == 60 * 60
    verified(result, travel)


def test_initial_plan_the_model_cannot_read_is_solved_from_scratch():
    """A gas job on a technician without gas in the initial plan: planned afresh, correctly."""
    travel = TravelTimes(Line())
    plain, gas = tech("PLAIN"), tech("GAS", home=50, skills={"gas"})
    boiler = job("BOILER", 5, skills={"gas"})
    initial = [Route(plain, (boiler,))]  # breaks the skill rule: sets no bar
    result = plan_day([plain, gas], [boiler], travel, initial=initial, parameters=FAST)
    assert result.solver_status.startswith("INITIAL_UNREADABLE:")
    assert ids(result) == [[], ["BOILER"]]
    verified(result, travel)


def _fake_solver(monkeypatch: pytest.MonkeyPatch, answer: Sequence[Route] | None) -> None:
    """Make the OR-Tools part of plan_day answer with `answer` (None: no solution)."""

    def fake(technicians, jobs, travel, baseline, parameters):
        return (None if answer is None else tuple(answer)), "ROUTING_FAKE"

    monkeypatch.setattr(planner, "_solve_day", fake)


T1 = tech("T1")
A, B, C, D = job("A", 10), job("B", 20), job("C", 30), job("D", 40)
LATE = job("LATE", 90, window=(hm(8), hm(9)))  # cannot be reached by 09:00 from mark 0


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (None, "no solution"),
        ([Route(T1, (A, LATE))], "a route the checker rejects"),
        ([Route(T1, (A, D))], "drops B, which the initial plan placed"),
    ],
    ids=["none", "infeasible", "drops-initial"],
)
def test_bad_solver_answers_fall_back_to_the_initial_plan(monkeypatch, answer, why):
    """Whatever goes wrong in the solver, the plan in force comes back unchanged."""
    travel = TravelTimes(Line())
    _fake_solver(monkeypatch, answer)
    initial = [Route(T1, (A, B))]
    result = plan_day([T1], [A, B, D, LATE], travel, initial=initial, parameters=FAST)
    assert result.solver_status == "FALLBACK_INITIAL", why
    assert ids(result) == [["A", "B"]]
    assert result.dropped == (D, LATE)  # what the initial plan did not place, in job order
    assert result.travel_seconds == 40 * 60  # 0→10→20→0


def test_same_jobs_with_more_travel_fall_back_to_the_initial_plan(monkeypatch):
    """The solver placing exactly the initial jobs on a longer route is not accepted."""
    travel = TravelTimes(Line())
    technician = tech(end=30)
    initial = [Route(technician, (A, B))]  # 0→10→20→30 = 30 min
    _fake_solver(monkeypatch, [Route(technician, (B, A))])  # 0→20→10→30 = 50 min
    result = plan_day([technician], [A, B], travel, initial=initial, parameters=FAST)
    assert result.solver_status == "FALLBACK_INITIAL"
    assert ids(result) == [["A", "B"]]
    assert result.travel_seconds == 30 * 60


def test_more_jobs_at_more_travel_is_better_than_the_initial_plan(monkeypatch):
    """Placing an extra job is worth its travel: the solver's answer is kept."""
    travel = TravelTimes(Line())
    initial = [Route(T1, (A,))]  # 20 min
    _fake_solver(monkeypatch, [Route(T1, (A, B))])  # 40 min, but B placed too
    result = plan_day([T1], [A, B], travel, initial=initial, parameters=FAST)
    assert result.solver_status == "ROUTING_FAKE"
    assert ids(result) == [["A", "B"]]


def test_no_solution_without_initial_drops_everything(monkeypatch):
    """No initial plan and no solver answer: empty routes, every job dropped, status why."""
    travel = TravelTimes(Line())
    _fake_solver(monkeypatch, None)
    result = plan_day([T1, tech("T2")], [A, B], travel, parameters=FAST)
    assert ids(result) == [[], []]
    assert result.dropped == (A, B)
    assert (result.travel_seconds, result.travel_meters) == (0, 0)
    assert result.solver_status == "NO_SOLUTION:ROUTING_FAKE"


def test_solver_exception_falls_back_to_the_initial_plan(monkeypatch):
    """OR-Tools raising does not take the plan in force down."""
    travel = TravelTimes(Line())

    def boom(*args):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(planner, "_solve_day", boom)
    result = plan_day([T1], [A, B], travel, initial=[Route(T1, (A,))], parameters=FAST)
    assert result.solver_status == "FALLBACK_INITIAL"
    assert ids(result) == [["A"]]
    assert result.dropped == (B,)


# --- determinism, trivial days, validation ----------------------------------------------------


def test_first_solution_mode_is_deterministic():
    """Two first-solution runs on the same day give identical plans."""
    technicians = [
        tech("T1", home=0, lunch=lunch(hm(12), hm(13))),
        tech("T2", home=30, skills={"gas"}, lunch=lunch(hm(11, 30), hm(12, 30))),
        tech("T3", home=60, end=10),
    ]
    jobs = [
        job(f"J{k}", k, window=(hm(8 + k % 7), hm(10 + k % 7)), minutes=45,
            skills={"gas"} if k % 3 == 0 else ())
        for k in range(2, 70, 5)
    ]
    first = plan_day(technicians, jobs, TravelTimes(Line()), parameters=FAST)
    second = plan_day(technicians, jobs, TravelTimes(Line()), parameters=FAST)
    assert first == second
    verified(first, TravelTimes(Line()))


def test_day_without_jobs_or_technicians():
    """No jobs: empty routes; no technicians: every job dropped."""
    travel = TravelTimes(Line())
    no_jobs = plan_day([T1], [], travel, parameters=FAST)
    assert (ids(no_jobs), no_jobs.dropped, no_jobs.travel_seconds) == ([[]], (), 0)
    no_technicians = plan_day([], [A], travel, parameters=FAST)
    assert (no_technicians.routes, no_technicians.dropped) == ((), (A,))


@pytest.mark.parametrize(
    ("technicians", "jobs", "initial", "message"),
    [
        ([T1], [A, job("A", 5)], None, "job ids must be unique"),
        ([T1, tech("T1", home=9)], [A], None, "technician ids must be unique"),
        ([T1], [A], [Route(tech("GHOST"), (A,))], "unknown technician GHOST"),
        ([T1], [A], [Route(T1, (B,))], "unknown job B"),
        ([T1, tech("T2")], [A], [Route(T1, (A,)), Route(tech("T2"), (A,))], "job A twice"),
        ([T1], [A, B], [Route(T1, (A,)), Route(T1, (B,))], "two routes for technician T1"),
    ],
    ids=["dup-job", "dup-tech", "unknown-tech", "unknown-job", "job-twice", "tech-twice"],
)
def test_invalid_input_is_rejected(technicians, jobs, initial, message):
    """Duplicate ids and initial plans referring to unknown or repeated objects: ValueError."""
    with pytest.raises(ValueError, match=message):
        plan_day(technicians, jobs, TravelTimes(Line()), initial=initial, parameters=FAST)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"time_limit_s": 0}, ValueError),
        ({"time_limit_s": -1.0}, ValueError),
        ({"time_limit_s": float("nan")}, ValueError),
        ({"drop_penalty_s": 0}, ValueError),
        ({"drop_penalty_s": 1.5}, TypeError),
    ],
)
def test_invalid_parameters_are_rejected(kwargs, error):
    """A time limit must be positive, a drop penalty a positive whole number."""
    with pytest.raises(error):
        PlanParameters(**kwargs)
