"""Expected times of the remaining stops from the technician's reports (booking.services.eta),
on tiny routes where every drive takes ten minutes, so each number can be redone by hand."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from booking.services.eta import Forecast, StopProgress, StopState, forecast
from optimizer.domain import Job, Location, LunchBreak, Route, Technician, TimeWindow
from optimizer.schedule import check_route
from optimizer.travel import Leg, TravelTimes

H = 3600
M = 60
DRIVE = 10 * M


class TenMinutes:
    """Every drive between two different places takes ten minutes."""

    def matrix(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> list[list[Leg]]:
        return [[Leg(0 if a == b else DRIVE, 0) for b in destinations] for a in origins]


TRAVEL = TravelTimes(TenMinutes())
DEPOT = Location(52.10, 11.60)


def job(name: str, window: tuple[int, int], lat: float) -> Job:
    return Job(name, Location(lat, 11.60), 60 * M, TimeWindow(*window))


def route(*jobs: Job, lunch: LunchBreak | None = None) -> Route:
    technician = Technician("anna", DEPOT, DEPOT, TimeWindow(8 * H, 17 * H), lunch=lunch)
    return Route(technician, jobs)


# A 08-10, B 09-12, C 10-11; one hour each. Planned: A 08:10-09:10, B 09:20-10:20,
# C 10:30-11:30.
A = job("A", (8 * H, 10 * H), 52.11)
B = job("B", (9 * H, 12 * H), 52.12)
C = job("C", (10 * H, 11 * H), 52.13)


def run(r: Route, progress: dict[str, StopProgress], now: int | None) -> Forecast:
    return forecast(r, check_route(r, TRAVEL).schedule, progress, now, TRAVEL)


def arrivals(result: Forecast) -> dict[str, int]:
    return {stop.job_id: stop.arrival for stop in result.stops}


def test_without_reports_the_plan_stands() -> None:
    """Nothing reported: the expected arrivals are the planned ones, at 08:10, 09:20, 10:30."""
    result = run(route(A, B, C), {}, now=7 * H)
    assert arrivals(result) == {"A": 8 * H + 10 * M, "B": 9 * H + 20 * M, "C": 10 * H + 30 * M}
    assert result.at_risk == frozenset()


def test_a_stop_done_20_minutes_late_moves_the_next_stops_by_20_minutes() -> None:
    """A done at 09:30 instead of 09:10: B is reached at 09:40 (not 09:20) and served until
    10:40; C at 10:50 (not 10:30), still inside its window 10:00-11:00."""
    done = StopProgress(StopState.DONE, arrived_at=8 * H + 30 * M, done_at=9 * H + 30 * M)
    result = run(route(A, B, C), {"A": done}, now=9 * H + 30 * M)
    by_job = result.by_job()
    assert by_job["A"].arrival == 8 * H + 30 * M and by_job["A"].arrival_reported
    assert by_job["A"].end == 9 * H + 30 * M and by_job["A"].end_reported
    assert (by_job["B"].arrival, by_job["B"].end) == (9 * H + 40 * M, 10 * H + 40 * M)
    assert (by_job["C"].arrival, by_job["C"].start) == (10 * H + 50 * M, 10 * H + 50 * M)
    assert result.at_risk == frozenset()


def test_waiting_for_a_later_window_absorbs_the_delay() -> None:
    """C's window is 11:00-12:00: planned, the technician waits from 10:30 to 11:00. With A
    done 20 minutes late, C is reached at 10:50 and still starts at 11:00."""
    late_c = job("C", (11 * H, 12 * H), 52.13)
    planned = run(route(A, B, late_c), {}, now=None).by_job()["C"]
    assert (planned.arrival, planned.start) == (10 * H + 30 * M, 11 * H)
    done = StopProgress(StopState.DONE, arrived_at=8 * H + 30 * M, done_at=9 * H + 30 * M)
    expected = run(route(A, B, late_c), {"A": done}, now=9 * H + 30 * M).by_job()["C"]
    assert (expected.arrival, expected.start) == (10 * H + 50 * M, 11 * H)
    assert not expected.misses_window


def test_a_stop_expected_after_its_window_is_flagged() -> None:
    """A done at 10:00 (50 minutes late): B 10:10-11:10, C reached at 11:20, after its
    window 10:00-11:00 closed: C will miss its window, B will not."""
    done = StopProgress(StopState.DONE, arrived_at=9 * H, done_at=10 * H)
    result = run(route(A, B, C), {"A": done}, now=10 * H)
    assert result.by_job()["C"].arrival == 11 * H + 20 * M
    assert result.at_risk == frozenset({"C"})


def test_arrived_means_done_after_the_job_s_duration() -> None:
    """A arrived at 08:30: done expected at 09:30, so B at 09:40. At 09:45 with A still not
    reported done, A's end is pushed to now (09:45) and B to 09:55."""
    arrived = StopProgress(StopState.ARRIVED, arrived_at=8 * H + 30 * M)
    result = run(route(A, B, C), {"A": arrived}, now=8 * H + 40 * M)
    assert result.by_job()["A"].end == 9 * H + 30 * M
    assert result.by_job()["B"].arrival == 9 * H + 40 * M
    overdue = run(route(A, B, C), {"A": arrived}, now=9 * H + 45 * M)
    assert overdue.by_job()["A"].end == 9 * H + 45 * M
    assert overdue.by_job()["B"].arrival == 9 * H + 55 * M


def test_on_the_way_means_arriving_after_the_drive_from_the_previous_place() -> None:
    """A done at 09:10, on the way to B at 09:15: B expected at 09:25 (ten minutes' drive
    from A), C at 10:35. Without an arrival report by 09:40, B is expected "now"."""
    done = StopProgress(StopState.DONE, arrived_at=8 * H + 10 * M, done_at=9 * H + 10 * M)
    going = StopProgress(StopState.ON_THE_WAY, on_the_way_at=9 * H + 15 * M)
    result = run(route(A, B, C), {"A": done, "B": going}, now=9 * H + 15 * M)
    assert result.by_job()["B"].arrival == 9 * H + 25 * M
    assert not result.by_job()["B"].arrival_reported
    assert result.by_job()["C"].arrival == 10 * H + 35 * M
    overdue = run(route(A, B, C), {"A": done, "B": going}, now=9 * H + 40 * M)
    assert overdue.by_job()["B"].arrival == 9 * H + 40 * M


def test_a_skipped_stop_is_driven_to_after_the_latest_report() -> None:
    """The technician did B first (done 09:30) and left A open: A follows at 09:40 (still
    in its window 08-10), then C at 10:50."""
    done_b = StopProgress(StopState.DONE, arrived_at=8 * H + 30 * M, done_at=9 * H + 30 * M)
    result = run(route(A, B, C), {"B": done_b}, now=9 * H + 30 * M)
    assert arrivals(result) == {"A": 9 * H + 40 * M, "B": 8 * H + 30 * M, "C": 10 * H + 50 * M}


def test_lunch_stays_in_the_gap_the_plan_put_it() -> None:
    """Lunch 30 min, from 12:00 to 13:00 at the latest; B's window 12:30-14:00. The plan
    takes the break on the way to B (after A): B at max(12:00, 09:20) + 30 min = 12:30.
    A done at 12:10: B at max(12:00, 12:20) + 30 min = 12:50."""
    lunch = LunchBreak(12 * H, 13 * H, 30 * M)
    late_b = job("B", (12 * H + 30 * M, 14 * H), 52.12)
    r = route(A, late_b, lunch=lunch)
    schedule = check_route(r, TRAVEL).schedule
    assert schedule.lunch_start == 12 * H
    assert schedule.visits[1].arrival == 12 * H + 30 * M
    done = StopProgress(StopState.DONE, arrived_at=11 * H, done_at=12 * H + 10 * M)
    assert run(r, {"A": done}, now=12 * H + 10 * M).by_job()["B"].arrival == 12 * H + 50 * M


def test_reports_out_of_order_are_refused() -> None:
    """A stop cannot be done before it was arrived at, nor be "done" without a time."""
    with pytest.raises(ValueError, match="in order"):
        StopProgress(StopState.DONE, arrived_at=10 * H, done_at=9 * H)
    with pytest.raises(ValueError, match="needs the time"):
        StopProgress(StopState.DONE)
