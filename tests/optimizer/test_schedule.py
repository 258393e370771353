"""Tests for optimizer.schedule.check_route: the independent timing checker.

Line world: driving between marks i and j takes |i - j| minutes over |i - j| km.
"""

from __future__ import annotations

from optimizer.schedule import RouteCheck, Visit, check_route, clock, schedule_route
from tests.optimizer.lineworld import hm, job, km, lunch_break, minutes, route, tech, travel


def times(check: RouteCheck) -> list[tuple[int, int, int]]:
    """(arrival, start, end) of every visit."""
    return [(v.arrival, v.start, v.end) for v in check.schedule.visits]


def assert_lunch_clear_of_jobs(check: RouteCheck) -> None:
    """The lunch break [start, start + duration) overlaps no job [start, end)."""
    lunch = check.schedule.route.technician.lunch
    assert lunch is not None and check.schedule.lunch_start is not None
    s, e = check.schedule.lunch_start, check.schedule.lunch_start + lunch.duration
    for v in check.schedule.visits:
        assert e <= v.start or v.end <= s, f"lunch {clock(s)}-{clock(e)} overlaps {v.job.id}"


def test_clock_formats_hours_and_minutes():
    """clock() renders seconds since midnight as HH:MM (seconds dropped)."""
    assert clock(hm(8, 5)) == "08:05"
    assert clock(hm(17) + 59) == "17:00"


def test_easy_route_has_exact_times():
    """Home 0 → A at 10 → B at 20 → home: every time and the travel totals by hand."""
    a = job("A", 10, window=(hm(8), hm(12)), minutes=30)
    b = job("B", 20, window=(hm(8), hm(12)), minutes=60)
    check = check_route(route(tech(), a, b), travel())
    # Leave 08:00, drive 10 min → A 08:10-08:40; drive 10 min → B 08:50-09:50;
    # drive 20 min home → 10:10. Travel 10 + 10 + 20 = 40 min over 40 km.
    assert check.feasible and check.violations == ()
    assert times(check) == [(hm(8, 10), hm(8, 10), hm(8, 40)), (hm(8, 50), hm(8, 50), hm(9, 50))]
    s = check.schedule
    assert s.departure == hm(8)
    assert s.return_time == hm(10, 10)
    assert s.travel_seconds == minutes(40)
    assert s.travel_meters == km(40)
    assert s.lunch_start is None
    assert s.visits[0] == Visit(job=a, arrival=hm(8, 10), start=hm(8, 10), end=hm(8, 40))


def test_different_end_location_is_driven_to():
    """A technician ending at mark 5 drives from the last job there, not home."""
    # Start 0 → A at 10 (08:10-08:40) → end at 5: 5 min → 08:45; 15 min and 15 km in all.
    check = check_route(route(tech(end=5), job("A", 10)), travel())
    assert check.schedule.return_time == hm(8, 45)
    assert check.schedule.travel_seconds == minutes(15)
    assert check.schedule.travel_meters == km(15)


def test_waits_until_the_window_opens():
    """Arriving before the window, the technician waits: service starts at window start."""
    a = job("A", 10, window=(hm(9), hm(10)), minutes=30)
    check = check_route(route(tech(), a), travel())
    # Arrive 08:10, wait until 09:00, serve until 09:30, home at 09:40.
    assert check.feasible
    assert times(check) == [(hm(8, 10), hm(9), hm(9, 30))]
    assert check.schedule.return_time == hm(9, 40)


def test_arriving_exactly_at_window_end_is_on_time():
    """The window is closed: starting at its last second keeps the promise."""
    a = job("A", 10, window=(hm(8), hm(8, 10)))  # arrival 08:10 exactly
    assert check_route(route(tech(), a), travel()).feasible


def test_missed_window_is_a_violation_naming_the_job():
    """Arriving after the window closes lists a violation with job, start and window."""
    a = job("A", 10, window=(hm(8), hm(8, 5)))
    check = check_route(route(tech(), a), travel())
    # Earliest arrival 08:10 > 08:05.
    assert not check.feasible
    assert check.violations == ("T1: job A starts 08:10, after its window 08:00-08:05",)
    assert schedule_route(route(tech(), a), travel()) is None


def test_window_missed_because_of_an_earlier_job():
    """A long first job pushes the second past its window; only the second is named."""
    a = job("A", 10, minutes=120)  # 08:10-10:10
    b = job("B", 11, window=(hm(8), hm(10)))  # arrival 10:11 > 10:00
    check = check_route(route(tech(), a, b), travel())
    assert check.violations == ("T1: job B starts 10:11, after its window 08:00-10:00",)


def test_return_after_shift_end_is_a_violation():
    """Coming home after the shift ends is a violation giving both times."""
    # Shift 08:00-09:00; A at 30: arrive 08:30, serve until 09:00, home at 09:30.
    t = tech(shift=(hm(8), hm(9)))
    check = check_route(route(t, job("A", 30)), travel())
    assert check.schedule.return_time == hm(9, 30)
    assert check.violations == ("T1: returns 09:30, after the shift ends 09:00",)


def test_returning_exactly_at_shift_end_is_fine():
    """Back at the last second of the shift is still inside it."""
    # Shift 08:00-09:20; A at 10 lasting 60 min: 08:10-09:10, home at 09:20.
    t = tech(shift=(hm(8), hm(9, 20)))
    check = check_route(route(t, job("A", 10, minutes=60)), travel())
    assert check.schedule.return_time == hm(9, 20)
    assert check.feasible


def test_missing_skill_is_a_violation():
    """A job needing a skill the technician lacks is named with the missing skills."""
    t = tech(skills={"water"})
    a = job("A", 10, skills={"gas", "water", "electric"})
    check = check_route(route(t, a), travel())
    assert check.violations == ("T1: job A needs skills electric, gas",)


def test_several_violations_are_all_listed():
    """Skills, window and shift end are each reported, in route order."""
    t = tech(shift=(hm(8), hm(9)))
    a = job("A", 30, window=(hm(8), hm(8, 15)), skills={"gas"})
    check = check_route(route(t, a), travel())
    # Arrive 08:30 (window ended 08:15), serve until 09:00, home 09:30 (> 09:00).
    assert check.violations == (
        "T1: job A needs skills gas",
        "T1: job A starts 08:30, after its window 08:00-08:15",
        "T1: returns 09:30, after the shift ends 09:00",
    )


def test_empty_route_is_feasible_without_travel():
    """An idle technician (even one with a lunch) drives nothing and is done at shift start."""
    t = tech(lunch=lunch_break(hm(12), hm(13)))
    check = check_route(route(t), travel())
    assert check.feasible
    s = check.schedule
    assert (s.visits, s.travel_seconds, s.travel_meters) == ((), 0, 0)
    assert s.return_time == hm(8) and s.departure == hm(8)
    assert s.lunch_start is None


# --- lunch break ----------------------------------------------------------------------


def test_lunch_goes_to_the_gap_with_the_earliest_return():
    """Every gap is tried; the break lands where the technician gets home earliest."""
    t = tech(lunch=lunch_break(hm(12), hm(13), 30))
    a = job("A", 10, window=(hm(8), hm(8, 30)), minutes=180)
    b = job("B", 20, window=(hm(11), hm(14)), minutes=60)
    check = check_route(route(t, a, b), travel())
    # Gap 0 (before A): break 12:00, A starts 12:30 > 08:30 → violation.
    # Gap 1 (A → B): A 08:10-11:10, break 12:00-12:30, B 12:30-13:30, home 13:50.
    # Gap 2 (B → home): A 08:10-11:10, B 11:20-12:20, break 12:20, home 12:20+20+30 = 13:10.
    # Gap 2 wins (13:10 < 13:50).
    assert check.feasible
    assert times(check) == [(hm(8, 10), hm(8, 10), hm(11, 10)),
                            (hm(11, 20), hm(11, 20), hm(12, 20))]
    assert check.schedule.lunch_start == hm(12, 20)
    assert check.schedule.return_time == hm(13, 10)
    assert_lunch_clear_of_jobs(check)


def test_lunch_may_overlap_a_drive():
    """The break starts mid-drive at its earliest time; the drive resumes after it."""
    t = tech(shift=(hm(11, 30), hm(17)), lunch=lunch_break(hm(12), hm(12, 30), 30))
    a = job("A", 60, window=(hm(11), hm(14)), minutes=60)
    check = check_route(route(t, a), travel())
    # Leave 11:30 for a 60-min drive; break 12:00-12:30 on the way; ready at A at
    # 11:30 + 60 + 30 = 13:00, serve until 14:00, home at 15:00.
    # (After A the break would start 14:00 > latest 12:30.)
    assert check.feasible
    assert check.schedule.lunch_start == hm(12)
    assert times(check) == [(hm(13), hm(13), hm(14))]
    assert check.schedule.return_time == hm(15)
    # The break starts inside the drive 11:30-12:30 (first 30 min driven before it).
    assert hm(11, 30) <= check.schedule.lunch_start < hm(12, 30)


def test_lunch_is_taken_while_waiting_for_a_window_at_no_cost():
    """Waiting for a window absorbs the break: the return is as early as without lunch."""
    t = tech(lunch=lunch_break(hm(12), hm(13), 30))
    a = job("A", 10, window=(hm(12, 30), hm(13)), minutes=30)
    check = check_route(route(t, a), travel())
    # Gap 0: arrive 08:10, wait; break 12:00-12:30; A 12:30-13:00; home 13:10.
    # Gap 1: A 12:30-13:00, break 13:00 (= latest), home 13:10 + 30 = 13:40.
    assert check.feasible
    assert check.schedule.lunch_start == hm(12)
    assert times(check) == [(hm(12, 30), hm(12, 30), hm(13))]
    assert check.schedule.return_time == hm(13, 10)
    no_lunch = check_route(route(tech(), a), travel())
    assert no_lunch.schedule.return_time == check.schedule.return_time


def test_lunch_never_overlaps_a_job():
    """A job running over the break's earliest start pushes the break after the job."""
    t = tech(lunch=lunch_break(hm(12), hm(13), 30))
    a = job("A", 10, window=(hm(11, 40), hm(11, 50)), minutes=40)
    check = check_route(route(t, a), travel())
    # A runs 11:40-12:20 over 12:00. Gap 0 would put the break at 12:00 and make A start
    # 12:30 > 11:50. Gap 1: break 12:20 (when A ends), home 12:20 + 10 + 30 = 13:00.
    assert check.feasible
    assert check.schedule.lunch_start == hm(12, 20)
    assert times(check) == [(hm(8, 10), hm(11, 40), hm(12, 20))]
    assert check.schedule.return_time == hm(13)
    assert_lunch_clear_of_jobs(check)


def test_lunch_impossible_during_a_long_job_is_a_violation():
    """A job running through the whole lunch window makes the break a violation."""
    t = tech(lunch=lunch_break(hm(11, 30), hm(12), 30))
    a = job("A", 10, window=(hm(8), hm(11)), minutes=240)
    check = check_route(route(t, a), travel())
    # Gap 0: break 11:30, A would start 12:00 > 11:00 → window violation.
    # Gap 1: A 08:10-12:10, break would start 12:10 > latest 12:00 → lunch violation.
    # One violation each; gap 1 gets home earlier (12:10 + 10 + 30 = 12:50 vs 16:10).
    assert not check.feasible
    assert check.violations == ("T1: lunch break cannot start by 12:00",)
    assert check.schedule.return_time == hm(12, 50)
    assert schedule_route(route(t, a), travel()) is None


def test_checker_asks_each_leg_once_across_lunch_gaps():
    """Trying every lunch gap reuses the memo: each distinct leg reaches the provider once."""
    tt = travel()
    t = tech(lunch=lunch_break(hm(12), hm(13), 30))
    check_route(route(t, job("A", 10), job("B", 20)), tt)
    # Legs 0→10, 10→20, 20→0: three provider calls although three gaps were simulated.
    assert len(tt.provider.calls) == 3
