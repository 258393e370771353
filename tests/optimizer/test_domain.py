"""Tests for optimizer.domain: validation of the value objects and Route editing."""

from __future__ import annotations

import dataclasses

import pytest

from optimizer.domain import Job, Location, LunchBreak, Route, Technician, TimeWindow
from tests.optimizer.lineworld import hm, job, lunch_break, mark, route, tech

# --- Location -------------------------------------------------------------------------


def test_location_accepts_the_extremes():
    """Latitude ±90 and longitude ±180 are valid corners of the map."""
    assert Location(90.0, 180.0).lat == 90.0
    assert Location(-90.0, -180.0).lon == -180.0


@pytest.mark.parametrize("lat", [90.0001, -91.0, float("nan"), float("inf")])
def test_location_rejects_a_bad_latitude(lat):
    """A latitude outside [-90, 90] (or not finite) is refused, naming the range."""
    with pytest.raises(ValueError, match=r"latitude must lie in \[-90, 90\]"):
        Location(lat, 11.6)


@pytest.mark.parametrize("lon", [180.5, -181.0, float("nan")])
def test_location_rejects_a_bad_longitude(lon):
    """A longitude outside [-180, 180] (or NaN) is refused, naming the range."""
    with pytest.raises(ValueError, match=r"longitude must lie in \[-180, 180\]"):
        Location(52.1, lon)


def test_location_is_frozen_and_hashable():
    """Locations are immutable values usable as memo keys."""
    a = Location(52.1307, 11.6270)
    assert {a: 1}[Location(52.1307, 11.6270)] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.lat = 0.0  # type: ignore[misc]


# --- TimeWindow -----------------------------------------------------------------------


def test_time_window_end_before_start_is_refused():
    """A window ending before it starts names both ends in the message."""
    with pytest.raises(ValueError, match=r"must not end \(28800\) before it starts \(32400\)"):
        TimeWindow(hm(9), hm(8))


def test_time_window_may_be_a_single_instant():
    """start == end is a valid (closed) window containing exactly that second."""
    w = TimeWindow(hm(9), hm(9))
    assert w.contains(hm(9))
    assert not w.contains(hm(9) + 1)


def test_time_window_before_midnight_is_refused():
    """A window cannot start at a negative time."""
    with pytest.raises(ValueError, match="before midnight"):
        TimeWindow(-1, hm(8))


@pytest.mark.parametrize("bad", [8.5, "28800", True, None])
def test_time_window_needs_whole_seconds(bad):
    """Floats, strings, bools and None are not whole seconds: TypeError naming the field."""
    with pytest.raises(TypeError, match=r"TimeWindow.start must be a whole number of seconds"):
        TimeWindow(bad, hm(9))
    with pytest.raises(TypeError, match=r"TimeWindow.end must be a whole number of seconds"):
        TimeWindow(hm(8), bad)


def test_time_window_contains_and_overlaps_are_closed():
    """Both ends belong to the window; touching windows overlap."""
    # [08:00, 09:00] and [09:00, 10:00] share the instant 09:00.
    a, b, c = TimeWindow(hm(8), hm(9)), TimeWindow(hm(9), hm(10)), TimeWindow(hm(10, 1), hm(11))
    assert a.contains(hm(8)) and a.contains(hm(9)) and not a.contains(hm(9) + 1)
    assert a.overlaps(b) and b.overlaps(a)
    assert not a.overlaps(c) and not c.overlaps(a)


# --- Job, LunchBreak, Technician ------------------------------------------------------


def test_job_duration_must_be_whole_seconds():
    """A job lasting 1.5 seconds is refused with a TypeError naming Job.duration."""
    with pytest.raises(TypeError, match=r"Job.duration must be a whole number of seconds"):
        Job("A", mark(1), 1.5, TimeWindow(hm(8), hm(9)))  # type: ignore[arg-type]


@pytest.mark.parametrize("duration", [0, -60])
def test_job_duration_must_be_positive(duration):
    """A job of no (or negative) duration is refused, naming the job."""
    with pytest.raises(ValueError, match=r"job A: duration must be positive"):
        Job("A", mark(1), duration, TimeWindow(hm(8), hm(9)))


def test_job_needs_an_id_and_frozenset_skills():
    """An empty id and a set (not frozenset) of skills are refused."""
    with pytest.raises(ValueError, match="non-empty id"):
        Job("", mark(1), 60, TimeWindow(hm(8), hm(9)))
    with pytest.raises(TypeError, match="frozenset"):
        Job("A", mark(1), 60, TimeWindow(hm(8), hm(9)), skills={"gas"})  # type: ignore[arg-type]


def test_lunch_break_needs_whole_seconds_and_a_positive_duration():
    """LunchBreak fields must be ints; the duration must be > 0; earliest <= latest."""
    with pytest.raises(TypeError, match=r"LunchBreak.duration must be a whole number"):
        LunchBreak(hm(12), hm(13), 1800.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive duration"):
        LunchBreak(hm(12), hm(13), 0)
    with pytest.raises(ValueError, match="earliest_start <= latest_start"):
        LunchBreak(hm(13), hm(12), 1800)


def test_lunch_must_lie_inside_the_shift():
    """A lunch starting before the shift, or ending after it, is refused, naming the shift."""
    # Shift 08:00-17:00. Earliest 07:30 starts before the shift.
    with pytest.raises(ValueError, match=r"technician T1: the lunch break must lie inside the "
                                         r"shift 28800\.\.61200"):
        tech(lunch=lunch_break(hm(7, 30), hm(12)))
    # Latest 16:45 + 30 min = 17:15 ends after the shift.
    with pytest.raises(ValueError, match="must lie inside the shift"):
        tech(lunch=lunch_break(hm(12), hm(16, 45), 30))
    # Latest 16:30 + 30 min = 17:00 ends exactly with the shift: allowed.
    assert tech(lunch=lunch_break(hm(12), hm(16, 30), 30)).lunch is not None


def test_technician_needs_an_id_and_frozenset_skills():
    """An empty technician id and a list of skills are refused."""
    shift = TimeWindow(hm(8), hm(17))
    with pytest.raises(ValueError, match="non-empty id"):
        Technician("", mark(0), mark(0), shift)
    with pytest.raises(TypeError, match="frozenset"):
        Technician("T1", mark(0), mark(0), shift, skills=["gas"])  # type: ignore[arg-type]


def test_can_do_is_a_subset_test_on_skills():
    """A technician can do a job when they hold every skill it needs (no skills: anyone)."""
    plumber = tech(skills={"water", "gas"})
    assert plumber.can_do(job("A", 1))
    assert plumber.can_do(job("B", 1, skills={"gas"}))
    assert not plumber.can_do(job("C", 1, skills={"gas", "electric"}))


# --- Route ----------------------------------------------------------------------------


def test_route_refuses_a_job_twice():
    """The same job id twice in one route is refused, naming technician and ids."""
    a = job("A", 1)
    with pytest.raises(ValueError, match=r"route of T1 visits a job twice: \['A', 'A'\]"):
        route(tech(), a, a)


def test_route_jobs_must_be_a_tuple():
    """A list of jobs is refused (routes are immutable values)."""
    with pytest.raises(TypeError, match="tuple"):
        Route(tech(), [job("A", 1)])  # type: ignore[arg-type]


def test_with_job_inserts_at_every_position_without_changing_the_original():
    """with_job(j, p) puts j before the job at index p; the original route is unchanged."""
    a, b, x = job("A", 1), job("B", 2), job("X", 3)
    r = route(tech(), a, b)
    assert r.with_job(x, 0).jobs == (x, a, b)
    assert r.with_job(x, 1).jobs == (a, x, b)
    assert r.with_job(x, 2).jobs == (a, b, x)
    assert r.jobs == (a, b)
    assert r.with_job(x, 1).technician is r.technician


@pytest.mark.parametrize("position", [-1, 3])
def test_with_job_refuses_a_position_outside_the_route(position):
    """Positions run 0..len(jobs); anything else is refused with the valid range."""
    r = route(tech(), job("A", 1), job("B", 2))
    with pytest.raises(ValueError, match=rf"position {position} outside 0\.\.2"):
        r.with_job(job("X", 3), position)


def test_with_job_refuses_a_job_already_on_the_route():
    """Inserting a job id already on the route fails the duplicate check."""
    r = route(tech(), job("A", 1))
    with pytest.raises(ValueError, match="visits a job twice"):
        r.with_job(job("A", 5), 1)


def test_without_job_removes_by_id_and_round_trips_with_job():
    """without_job drops the job with that id; with_job then without_job is the identity."""
    a, b, x = job("A", 1), job("B", 2), job("X", 3)
    r = route(tech(), a, b)
    assert r.with_job(x, 1).without_job("X") == r
    assert r.without_job("A").jobs == (b,)
    # An unknown id leaves the route as it is (no error).
    assert r.without_job("nope") == r


def test_taking_a_job_out_keeps_the_pins_behind_it_in_their_place():
    """Route A, B, C with C pinned at position 2: without A, C is the second stop, pinned
    at position 1; without C's successor nothing moves; a pin before the gap stays."""
    a = job("A", 1)
    b = dataclasses.replace(job("B", 2), pinned_to="T1", pinned_position=1)
    c = dataclasses.replace(job("C", 3), pinned_to="T1", pinned_position=2)
    r = route(tech(), a, b, c)
    without_a = r.without_job("A")
    assert [(j.id, j.pinned_position) for j in without_a.jobs] == [("B", 0), ("C", 1)]
    without_b = r.without_job("B")
    assert [(j.id, j.pinned_position) for j in without_b.jobs] == [("A", None), ("C", 1)]
    without_c = r.without_job("C")
    assert [(j.id, j.pinned_position) for j in without_c.jobs] == [("A", None), ("B", 1)]
