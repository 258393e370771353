"""The checker on the field-service rules added to the model: several windows, capacity,
pins and overtime. Line world: mark k is k km along a line, |i − j| minutes apart."""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimizer.domain import Route, TimeWindow
from optimizer.schedule import check_route
from optimizer.travel import TravelTimes
from tests.optimizer.test_planner import Line, hm, job, tech


def test_the_second_window_is_used_when_the_first_has_closed() -> None:
    """Arriving 08:20 at a job with windows 08:00-08:10 and 09:00-10:00: service 09:00."""
    late_start = tech(shift=(hm(8), hm(17)))
    j = replace(job("A", 20, window=(hm(8), hm(8, 10))), extra_windows=(TimeWindow(hm(9), hm(10)),))
    check = check_route(Route(late_start, (j,)), TravelTimes(Line()))
    assert check.feasible
    assert check.schedule.visits[0].start == hm(9)


def test_missing_every_window_names_the_last_one() -> None:
    """Arriving 10:30 after both windows closed is late for the 09:00-10:00 window."""
    t = tech(shift=(hm(10, 10), hm(17)))
    j = replace(job("A", 20, window=(hm(8), hm(8, 10))), extra_windows=(TimeWindow(hm(9), hm(10)),))
    check = check_route(Route(t, (j,)), TravelTimes(Line()))
    assert check.violations == ("T1: job A starts 10:30, after its window 09:00-10:00",)


def test_capacity_is_checked_per_route() -> None:
    """Demands 5 + 4 = 9 on a van of capacity 8."""
    van = replace(tech(), capacity=8)
    jobs = (replace(job("A", 1), demand=5), replace(job("B", 2), demand=4))
    check = check_route(Route(van, jobs), TravelTimes(Line()))
    assert check.violations == ("T1: load 9 exceeds capacity 8",)


def test_pins_to_another_technician_or_position_are_violations() -> None:
    """A is pinned to T2; B is pinned to T1 as first stop but planned second."""
    a = replace(job("A", 1), pinned_to="T2")
    b = replace(job("B", 2), pinned_to="T1", pinned_position=0)
    check = check_route(Route(tech("T1"), (a, b)), TravelTimes(Line()))
    assert check.violations == (
        "T1: job A is pinned to T2",
        "T1: job B is pinned to position 0, planned at 1",
    )


def test_overtime_within_the_allowance_is_reported_not_refused() -> None:
    """Shift to 09:00 + 30 min overtime: back 09:20 is fine (20 min overtime), and with
    no allowance it is a violation."""
    t = replace(tech(shift=(hm(8), hm(9))), overtime_max=1800)
    j = job("A", 10, minutes=60)  # 08:10 arrive, 09:10 done, 09:20 back at mark 0
    allowed = check_route(Route(t, (j,)), TravelTimes(Line()))
    assert allowed.feasible
    assert allowed.schedule.overtime == 20 * 60
    refused = check_route(Route(replace(t, overtime_max=0), (j,)), TravelTimes(Line()))
    assert refused.violations == ("T1: returns 09:20, after the shift ends 09:00",)


def test_new_job_fields_validate_themselves() -> None:
    """Overlapping windows, priority 0, a position without a technician: clear errors."""
    base = job("A", 1, window=(hm(8), hm(10)))
    with pytest.raises(ValueError, match="must not overlap"):
        replace(base, extra_windows=(TimeWindow(hm(9), hm(11)),))
    with pytest.raises(ValueError, match="priority must be at least 1"):
        replace(base, priority=0)
    with pytest.raises(ValueError, match="pinned position needs a technician"):
        replace(base, pinned_position=0)
    with pytest.raises(ValueError, match="capacity must not be negative"):
        replace(tech(), capacity=-1)
