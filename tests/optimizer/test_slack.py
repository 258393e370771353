"""Tests for optimizer.slack: forward/backward slack and the O(1) insertion check.

Hand cases on the line world (1 mark = 1 minute = 1 km), then a random cross-check of
every insertion position against the independent checker `check_route`.
"""

from __future__ import annotations

import random

import pytest

from optimizer.domain import Job, Route, Technician, TimeWindow
from optimizer.schedule import check_route
from optimizer.slack import INF, NEG, route_slack
from tests.optimizer.lineworld import hm, job, lunch_break, mark, minutes, route, tech, travel


def test_forward_and_backward_times_of_a_two_job_route():
    """Home at 0, shift 8-17. A at mark 10 (window 9:00-9:30, 30 min), B at mark 20 (any
    time, 60 min). Forward: leave home 8:00, ready at A 8:10, wait to 9:00, leave 9:30;
    ready at B 9:40, leave 10:40. Backward: back home by 17:00 means leaving B by 16:40,
    ready at B by 15:40; leaving A by 15:30 but its window closes 9:30, so ready by 9:30."""
    a = job("A", 10, window=(hm(9), hm(9, 30)))
    b = job("B", 20, minutes=60)
    slack = route_slack(route(tech(), a, b), travel())
    assert slack.feasible
    assert slack.leave_done == (hm(8), hm(9, 30), hm(10, 40), INF)
    assert slack.ready_done == (NEG, hm(9, 30), hm(15, 40), hm(17))


def test_an_insertion_that_pushes_a_later_window_is_refused():
    """B at mark 20 must start by 9:00; inserting a 30-min job at mark 10 first makes B's
    arrival 8:10 + 30 + 10 = 8:50 (fits), a 45-min job makes it 9:05 (too late)."""
    b = job("B", 20, window=(hm(8), hm(9)))
    slack = route_slack(route(tech(), b), travel())
    short, long = job("X", 10, minutes=30), job("Y", 10, minutes=45)
    assert slack.insertion_start(short, 0, minutes(10), minutes(10)) == hm(8, 10)
    assert slack.insertion_start(long, 0, minutes(10), minutes(10)) is None
    # After B there is room until 17:00: leave B 8:50, ready at mark 10 at 9:00.
    assert slack.insertion_start(long, 1, minutes(10), minutes(10)) == hm(9)


def test_the_lunch_break_moves_into_the_new_gap_when_it_must():
    """Lunch 30 min starting 12:00-12:30. A at mark 5 at 11:00-11:00 (60 min, done 12:00),
    B at mark 5 at 12:30-12:30. Break between A and B: ready at B 12:30, fits. A 20-min job
    X at mark 5 between them: if the break comes first (12:00-12:30), X starts 12:30 and B
    starts 12:50, too late; the break after X would start 12:20 and end 12:50, too late."""
    t = tech(lunch=lunch_break(hm(12), hm(12, 30)))
    a = job("A", 5, window=(hm(11), hm(11)), minutes=60)
    b = job("B", 5, window=(hm(12, 30), hm(12, 30)))
    slack = route_slack(route(t, a, b), travel())
    assert slack.feasible
    x = job("X", 5, minutes=20)
    assert slack.insertion_start(x, 1, 0, 0) is None
    assert not check_route(route(t, a, x, b), travel()).feasible
    # After B (done 13:00) there is room: X starts 13:00.
    assert slack.insertion_start(x, 2, 0, 0) == hm(13)


def test_a_job_into_an_empty_route_takes_the_break_with_it():
    """An idle technician with lunch 12:00-12:30: a 4-hour job at 10:00 sharp keeps them busy
    until 14:00, past the latest break start, and the break cannot come before 12:00."""
    t = tech(lunch=lunch_break(hm(12), hm(12, 30)))
    slack = route_slack(route(t), travel())
    long = job("X", 10, window=(hm(10), hm(10)), minutes=240)
    assert slack.insertion_start(long, 0, minutes(10), minutes(10)) is None
    short = job("Y", 10, window=(hm(10), hm(10)), minutes=60)
    assert slack.insertion_start(short, 0, minutes(10), minutes(10)) == hm(10)


def test_pinned_positions_and_capacity_limit_the_insertions():
    """A job pinned to position 0 keeps its place, so nothing goes before it; a full
    technician takes no job with demand."""
    t = Technician("T1", mark(0), mark(0), TimeWindow(hm(8), hm(17)), capacity=5)
    pinned = Job("P", mark(3), 600, TimeWindow(hm(8), hm(17)), pinned_to="T1", pinned_position=0,
                 demand=5)  # fmt: skip
    slack = route_slack(Route(t, (pinned,)), travel())
    x = job("X", 1)
    assert slack.insertion_start(x, 0, 60, 120) is None
    assert slack.insertion_start(x, 1, 120, 60) is not None
    assert slack.allows(x)
    assert not slack.allows(Job("Y", mark(1), 600, TimeWindow(hm(8), hm(17)), demand=1))


MEMO = travel()


def _random_case(rng: random.Random) -> tuple[Route, Job]:
    lunch = None
    if rng.random() < 0.6:
        earliest = hm(11) + 60 * rng.randint(0, 90)
        lunch = lunch_break(earliest, earliest + 60 * rng.randint(0, 60), rng.choice((30, 45)))
    t = Technician(
        "T",
        mark(rng.randint(0, 40)),
        mark(rng.randint(0, 40)),
        TimeWindow(hm(7) + 60 * rng.randint(0, 90), hm(15) + 60 * rng.randint(0, 150)),
        lunch=lunch,
        overtime_max=rng.choice((0, 0, 1800)),
    )

    def random_job(name: str) -> Job:
        begin = hm(7) + 60 * rng.randint(0, 600)
        window = TimeWindow(begin, begin + 60 * rng.choice((0, 30, 120, 240)))
        extra = ()
        if rng.random() < 0.15:
            later = window.end + 60 * rng.randint(30, 120)
            extra = (TimeWindow(later, later + 3600),)
        return Job(name, mark(rng.randint(0, 40)), 60 * rng.choice((20, 30, 60, 90)), window,
                   extra_windows=extra)  # fmt: skip

    # Mostly feasible routes: a random job joins the end only if the checker accepts it,
    # and now and then one joins regardless, so that broken routes are covered too.
    r = Route(t)
    for k in range(rng.randint(0, 12)):
        longer = r.with_job(random_job(f"J{k}"), len(r.jobs))
        if rng.random() < 0.05 or check_route(longer, MEMO).feasible:
            r = longer
    return r, random_job("X")


@pytest.mark.parametrize("seed", range(4))
def test_slack_agrees_with_the_checker_on_random_routes(seed):
    """For 500 random routes (lunch, overtime, several windows, idle technicians) the
    route's feasibility and every insertion position agree with `check_route`."""
    rng = random.Random(seed)
    memo = MEMO
    positions_checked = feasible_insertions = 0
    for _ in range(500):
        r, x = _random_case(rng)
        slack = route_slack(r, memo)
        assert slack.feasible == check_route(r, memo).feasible
        if not slack.feasible:
            continue
        for position in range(len(r.jobs) + 1):
            places = slack.places
            tin = memo.seconds(places[position], x.location)
            tout = memo.seconds(x.location, places[position + 1])
            start = slack.insertion_start(x, position, tin, tout)
            check = check_route(r.with_job(x, position), memo)
            assert (start is not None) == check.feasible, (r, x, position)
            positions_checked += 1
            feasible_insertions += start is not None
    # The random cases must exercise both answers, or the test proves nothing.
    assert positions_checked > 500 and 0 < feasible_insertions < positions_checked
