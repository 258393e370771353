"""Tests for optimizer.insertion: detours, cheapest feasible insertion, standalone cost.

Line world: driving between marks i and j takes |i - j| minutes over |i - j| km, so a
detour of d minutes is (60 d seconds, 1000 d metres).
"""

from __future__ import annotations

from optimizer.insertion import best_insertion, detours, standalone_seconds
from optimizer.schedule import check_route
from tests.optimizer.lineworld import hm, job, km, minutes, route, tech, travel


def d(mins: int, position: int) -> tuple[int, int, int]:
    """A detour row of `mins` line-world minutes at `position`."""
    return (minutes(mins), km(mins), position)


# --- detours --------------------------------------------------------------------------


def test_detours_between_stops_and_at_both_ends():
    """Home 0 → A 10 → B 20 → home; X at 25 replaces each leg a→b by a→X→b."""
    r = route(tech(), job("A", 10), job("B", 20))
    # pos 0 (home→A): 25 + 15 - 10 = 30 min
    # pos 1 (A→B):    15 +  5 - 10 = 10 min
    # pos 2 (B→home):  5 + 25 - 20 = 10 min
    assert detours(r, job("X", 25), travel()) == [d(30, 0), d(10, 1), d(10, 2)]


def test_detour_on_the_way_is_free():
    """A job lying between two stops on the line adds no travel at all."""
    r = route(tech(), job("A", 10), job("B", 20))
    # pos 1: 10→15 + 15→20 - 10→20 = 5 + 5 - 10 = 0.
    assert detours(r, job("X", 15), travel())[1] == d(0, 1)


def test_detour_into_an_empty_route_is_the_whole_round_trip():
    """An idle technician does not drive, so the only position costs start → X → end."""
    # Home 0, X at 7: 7 + 7 = 14 min.
    assert detours(route(tech()), job("X", 7), travel()) == [d(14, 0)]
    # Start 0, end 4, X at 7: 7 + 3 = 10 min (not 10 - 4: the idle technician stays put).
    assert detours(route(tech(end=4)), job("X", 7), travel()) == [d(10, 0)]


def test_detour_with_different_start_and_end():
    """Start 0, end 30, A 10, B 20: the legs are 0→10, 10→20, 20→30."""
    r = route(tech(end=30), job("A", 10), job("B", 20))
    # X at 15: pos 0: 15 + 5 - 10 = 10; pos 1: 5 + 5 - 10 = 0; pos 2: 5 + 15 - 10 = 10.
    assert detours(r, job("X", 15), travel()) == [d(10, 0), d(0, 1), d(10, 2)]


# --- best_insertion -------------------------------------------------------------------


def test_best_insertion_takes_the_least_detour():
    """Of all positions in all routes the cheapest feasible one wins."""
    r1 = route(tech("T1", 0, end=30), job("A", 10), job("B", 20))
    r2 = route(tech("T2", 100))
    x = job("X", 15)
    ins = best_insertion([r1, r2], x, travel())
    # T1: pos 1 costs 0 (see test_detour_with_different_start_and_end); T2: 85 + 85 = 170.
    assert ins is not None
    assert (ins.technician_id, ins.position) == ("T1", 1)
    assert (ins.detour_seconds, ins.detour_meters) == (0, 0)
    assert ins.route.jobs == (r1.jobs[0], x, r1.jobs[1])
    # A 08:10-08:40, X at 15: 08:45.
    assert ins.planned_start == hm(8, 45)


def test_best_insertion_asks_for_the_new_places_legs_in_two_bulk_calls():
    """The legs to and from X (at 15) come in one call each, for every place of both
    routes (0, 10, 20, 30, 100); nothing about X is asked one leg at a time."""
    r1 = route(tech("T1", 0, end=30), job("A", 10), job("B", 20))
    r2 = route(tech("T2", 100))
    memo = travel()
    best_insertion([r1, r2], job("X", 15), memo)
    about_x = [call for call in memo.provider.calls if 15 in call[0] + call[1]]
    assert about_x == [((0, 10, 20, 30, 100), (15,)), ((15,), (0, 10, 20, 30, 100))]


def test_best_insertion_prefers_the_nearer_idle_technician():
    """With two empty routes the nearer home wins (smaller round trip)."""
    x = job("X", 90)
    ins = best_insertion([route(tech("T1", 0)), route(tech("T2", 100))], x, travel())
    # T1: 90 + 90 = 180 min; T2: 10 + 10 = 20 min.
    assert ins is not None
    assert (ins.technician_id, ins.position, ins.detour_seconds) == ("T2", 0, minutes(20))
    assert ins.planned_start == hm(8, 10)


def test_best_insertion_skips_a_cheaper_position_that_breaks_a_window():
    """The free position comes too late for X's window; the next cheapest is taken."""
    r = route(tech(end=30), job("A", 10, window=(hm(8), hm(12))),
              job("B", 20, window=(hm(8), hm(12))))
    x = job("X", 25, window=(hm(8), hm(9)), minutes=30)
    # Detours (start 0, end 30): pos 0: 25 + 15 - 10 = 30; pos 1: 15 + 5 - 10 = 10;
    # pos 2: 5 + 5 - 10 = 0.
    # pos 2: A 08:10-08:40, B 08:50-09:20, X would arrive 09:25 > 09:00: infeasible.
    # pos 1: A 08:10-08:40, X 08:55-09:25, B 09:30-10:00, end 10:10: feasible.
    ins = best_insertion([r], x, travel())
    assert ins is not None
    assert ins.position == 1
    assert (ins.detour_seconds, ins.detour_meters) == (minutes(10), km(10))
    assert ins.planned_start == hm(8, 55)


def test_best_insertion_skips_a_position_that_breaks_an_existing_window():
    """Putting X first would make A miss its tight window, so X goes after A."""
    r = route(tech("T1", 0), job("A", 10, window=(hm(8, 10), hm(8, 10))))
    x = job("X", 5, minutes=30)
    # pos 0: 5 + 5 - 10 = 0, but then A arrives 08:05 + 30 + 5 = 08:40 > 08:10.
    # pos 1: 5 + 5 - 10 = 0 as well; A 08:10-08:40, X 08:45-09:15, home 09:20.
    ins = best_insertion([r], x, travel())
    assert ins is not None
    assert ins.position == 1 and ins.detour_seconds == 0
    assert ins.planned_start == hm(8, 45)


def test_best_insertion_respects_skills():
    """A nearer technician without the skill is not considered at all."""
    water = route(tech("T1", 0, skills={"water"}))
    gas = route(tech("T2", 40, skills={"gas", "water"}))
    x = job("X", 10, skills={"gas"})
    ins = best_insertion([water, gas], x, travel())
    # T1 would cost 20 min but cannot do gas; T2 costs 30 + 30 = 60 min.
    assert ins is not None
    assert ins.technician_id == "T2"
    assert ins.detour_seconds == minutes(60)


def test_best_insertion_returns_none_when_nothing_fits():
    """Unreachable window, no qualified technician, no routes: None each time."""
    tt = travel()
    far = job("X", 100, window=(hm(8), hm(8, 30)))  # earliest arrival 09:40
    assert best_insertion([route(tech("T1", 0))], far, tt) is None
    gas = job("Y", 10, skills={"gas"})
    assert best_insertion([route(tech("T1", 0, skills={"water"}))], gas, tt) is None
    assert best_insertion([], job("Z", 10), tt) is None


def test_best_insertion_returns_none_when_the_shift_is_too_short():
    """A job that would bring the technician home after the shift is refused."""
    t = tech(shift=(hm(8), hm(9)))
    # X at 20 lasting 30 min: 08:20-08:50, home 09:10 > 09:00.
    assert best_insertion([route(t)], job("X", 20), travel()) is None


def test_insertion_keeps_every_existing_promise():
    """The new route passes check_route, every old job keeps its window, order is kept."""
    tt = travel()
    a = job("A", 10, window=(hm(8), hm(9)))
    b = job("B", 20, window=(hm(9, 30), hm(10)))
    c = job("C", 30, window=(hm(10), hm(12)))
    r = route(tech(end=40), a, b, c)
    x = job("X", 15, minutes=90)
    # Detours (start 0, end 40): pos 0: 15 + 5 - 10 = 10; pos 1: 5 + 5 - 10 = 0;
    # pos 2: 5 + 15 - 10 = 10; pos 3: 15 + 25 - 10 = 30.
    # pos 1: A 08:10-08:40, X 08:45-10:15, B would arrive 10:20 > 10:00.
    # pos 0: X 08:15-09:45, A would arrive 09:50 > 09:00.
    # pos 2: A 08:10-08:40, B 08:50 waits to 09:30-10:00, X 10:05-11:35, C 11:50-12:20,
    #        end at 40 at 12:30: feasible.
    ins = best_insertion([r], x, tt)
    assert ins is not None
    assert (ins.position, ins.detour_seconds, ins.planned_start) == (2, minutes(10), hm(10, 5))
    check = check_route(ins.route, tt)
    assert check.feasible
    assert ins.schedule == check.schedule
    for visit in check.schedule.visits:
        assert visit.job.window.contains(visit.start), visit.job.id
    assert ins.route.without_job("X") == r
    assert ins.schedule.visits[ins.position].job == x


def test_detour_equals_the_added_travel_of_the_route():
    """detour_seconds/metres are exactly new route travel minus old route travel."""
    tt = travel()
    r = route(tech(end=30), job("A", 10), job("B", 20))
    ins = best_insertion([r], job("X", 25, window=(hm(8), hm(9))), tt)
    assert ins is not None
    before, after = check_route(r, tt).schedule, ins.schedule
    assert ins.detour_seconds == after.travel_seconds - before.travel_seconds
    assert ins.detour_meters == after.travel_meters - before.travel_meters


# --- standalone_seconds ---------------------------------------------------------------


def test_standalone_is_the_cheapest_qualified_round_trip():
    """S = min over technicians of start → job → end."""
    t1, t2 = tech("T1", 0), tech("T2", 30, end=40)
    x = job("X", 25)
    # T1: 25 + 25 = 50 min; T2: 5 + 15 = 20 min.
    assert standalone_seconds([t1, t2], x, travel()) == minutes(20)


def test_standalone_ignores_unqualified_technicians():
    """Only technicians who can do the job count; none qualified gives None."""
    t1, t2 = tech("T1", 0, skills={"gas"}), tech("T2", 30, end=40)
    x = job("X", 25, skills={"gas"})
    # Only T1: 25 + 25 = 50 min.
    assert standalone_seconds([t1, t2], x, travel()) == minutes(50)
    assert standalone_seconds([t2], x, travel()) is None
    assert standalone_seconds([], x, travel()) is None


# --- nearest_stop_meters --------------------------------------------------------------


def test_nearest_stop_is_the_closer_of_both_neighbours():
    """Between A at 10 and B at 20, X at 25 is 5 km from B (and 15 km from A)."""
    tt = travel()
    r = route(tech(end=30), job("A", 10), job("B", 20))
    ins = best_insertion([r], job("X", 25, window=(hm(8), hm(9))), tt)
    assert ins is not None and ins.position == 1
    assert ins.nearest_stop_meters(tt) == km(5)


def test_nearest_stop_at_the_end_has_one_neighbour():
    """Inserted last, only the job before counts (the depot is no stop)."""
    tt = travel()
    r = route(tech(end=40), job("A", 10))
    # Start 0, end 40: pos 0: 30 + 20 - 10 = 40; pos 1: 20 + 10 - 30 = 0 → last.
    ins = best_insertion([r], job("X", 30), tt)
    assert ins is not None and ins.position == 1
    assert ins.nearest_stop_meters(tt) == km(20)


def test_nearest_stop_in_an_empty_route_is_none():
    """Alone on its route the job has no neighbouring stop."""
    tt = travel()
    ins = best_insertion([route(tech())], job("X", 5), tt)
    assert ins is not None
    assert ins.nearest_stop_meters(tt) is None
