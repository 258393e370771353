"""The dispatcher's timeline bars (booking.services.timeline), worked out by hand.

Line world (tests/optimizer/lineworld.py): driving between marks i and j takes |i - j|
minutes. Every technician starts and ends at mark 0 and works 08:00-17:00.
"""

from __future__ import annotations

import itertools

import pytest

from booking.services.clock import hhmm
from booking.services.timeline import Axis, Segment, SegmentKind, Timeline, axis_for, build_timeline
from optimizer.schedule import check_route
from tests.optimizer.lineworld import hm, job, lunch_break, route, tech, travel

TRAVEL, SERVICE, WAIT, LUNCH = (
    SegmentKind.TRAVEL,
    SegmentKind.SERVICE,
    SegmentKind.WAIT,
    SegmentKind.LUNCH,
)


def bar(*jobs, lunch=None, pinned=()) -> Timeline:
    world = travel()
    check = check_route(route(tech(lunch=lunch), *jobs), world)
    return build_timeline(check.schedule, world, pinned)


def shown(timeline: Timeline) -> list[tuple[str, str, str]]:
    """(kind, start, end) of every segment, times as HH:MM."""
    return [(str(s.kind), hhmm(s.start), hhmm(s.end)) for s in timeline.segments]


def test_travel_service_and_waiting_for_a_window():
    """A at 10 (window 08-12, 30 min), B at 20 (window 10-12, 60 min), no lunch: drive
    08:00-08:10, A 08:10-08:40, drive 08:40-08:50, wait for B's window 08:50-10:00,
    B 10:00-11:00, drive home 20 min 11:00-11:20."""
    timeline = bar(
        job("A", 10, window=(hm(8), hm(12)), minutes=30),
        job("B", 20, window=(hm(10), hm(12)), minutes=60),
    )
    assert shown(timeline) == [
        ("travel", "08:00", "08:10"),
        ("service", "08:10", "08:40"),
        ("travel", "08:40", "08:50"),
        ("wait", "08:50", "10:00"),
        ("service", "10:00", "11:00"),
        ("travel", "11:00", "11:20"),
    ]
    services = [s for s in timeline.segments if s.kind == SERVICE]
    assert [(s.stop, s.job_id, s.window) for s in services] == [
        (1, "A", (hm(8), hm(12))),
        (2, "B", (hm(10), hm(12))),
    ]
    # 10 + 10 + 20 = 40 min driving, 30 + 60 = 90 min service, 70 min waiting
    assert (timeline.seconds(TRAVEL), timeline.seconds(SERVICE), timeline.seconds(WAIT)) == (
        40 * 60,
        90 * 60,
        70 * 60,
    )
    assert (timeline.shift_start, timeline.shift_end) == (hm(8), hm(17))


def test_lunch_between_two_waits():
    """A at 10 (window 08-09) 08:10-08:40, B at 20 (window 13-14, 60 min); lunch 30 min from
    12:00 at the earliest, 13:00 at the latest. The checker puts the break before B: it
    starts at 12:00, so the technician drives 08:40-08:50, waits until 12:00, lunches until
    12:30 and waits for B's window until 13:00; B 13:00-14:00, home 14:00-14:20."""
    timeline = bar(
        job("A", 10, window=(hm(8), hm(9)), minutes=30),
        job("B", 20, window=(hm(13), hm(14)), minutes=60),
        lunch=lunch_break(hm(12), hm(13)),
    )
    assert shown(timeline) == [
        ("travel", "08:00", "08:10"),
        ("service", "08:10", "08:40"),
        ("travel", "08:40", "08:50"),
        ("wait", "08:50", "12:00"),
        ("lunch", "12:00", "12:30"),
        ("wait", "12:30", "13:00"),
        ("service", "13:00", "14:00"),
        ("travel", "14:00", "14:20"),
    ]


def test_lunch_interrupts_a_drive():
    """A at 30 (200 min) runs 08:30-11:50; the 30-minute drive home is split by the break
    that may start at 12:00: drive 11:50-12:00, lunch 12:00-12:30, drive the other 20
    minutes 12:30-12:50 (the checker's return time)."""
    timeline = bar(job("A", 30, minutes=200), lunch=lunch_break(hm(12), hm(13)))
    assert shown(timeline) == [
        ("travel", "08:00", "08:30"),
        ("service", "08:30", "11:50"),
        ("travel", "11:50", "12:00"),
        ("lunch", "12:00", "12:30"),
        ("travel", "12:30", "12:50"),
    ]
    assert timeline.seconds(TRAVEL) == 60 * 60  # 30 min out, 30 min back
    assert timeline.seconds(LUNCH) == 30 * 60


def test_lunch_right_after_a_job_and_a_pinned_stop():
    """A at 10, window 11-12, 60 min: drive 08:00-08:10, wait until 11:00, A 11:00-12:00;
    lunch starts as A ends (12:00-12:30), then the 10-minute drive home 12:30-12:40.
    A is pinned: its service segment carries the pin."""
    timeline = bar(
        job("A", 10, window=(hm(11), hm(12)), minutes=60),
        lunch=lunch_break(hm(12), hm(13)),
        pinned={"A"},
    )
    assert shown(timeline) == [
        ("travel", "08:00", "08:10"),
        ("wait", "08:10", "11:00"),
        ("service", "11:00", "12:00"),
        ("lunch", "12:00", "12:30"),
        ("travel", "12:30", "12:40"),
    ]
    [service] = [s for s in timeline.segments if s.kind == SERVICE]
    assert service.pinned and not service.late


def test_a_missed_window_is_marked_late():
    """A at 60 with window 08:00-08:30 is reached at 09:00: service 09:00-09:30 is late."""
    timeline = bar(job("A", 60, window=(hm(8), hm(8, 30)), minutes=30))
    [service] = [s for s in timeline.segments if s.kind == SERVICE]
    assert (hhmm(service.start), service.late, service.pinned) == ("09:00", True, False)


def test_the_segments_fill_the_day_from_departure_to_return():
    """Without gaps or overlaps: the durations add up to return minus departure."""
    world = travel()
    jobs = (
        job("A", 10, window=(hm(8), hm(9)), minutes=30),
        job("B", 25, window=(hm(11), hm(13)), minutes=45),
        job("C", 5, window=(hm(14), hm(15)), minutes=20),
    )
    check = check_route(route(tech(lunch=lunch_break(hm(11, 30), hm(13))), *jobs), world)
    timeline = build_timeline(check.schedule, world)
    segments = timeline.segments
    assert segments[0].start == check.schedule.departure
    assert segments[-1].end == check.schedule.return_time
    assert all(a.end == b.start for a, b in itertools.pairwise(segments))


def test_a_day_without_jobs_has_no_segments():
    """An empty route: the shift frame only."""
    assert bar().segments == ()


def test_segments_validate_themselves():
    """Empty or reversed segments, and service segments without a stop number, are refused."""
    with pytest.raises(ValueError, match="end after"):
        Segment(TRAVEL, hm(9), hm(9))
    with pytest.raises(ValueError, match="stop number"):
        Segment(SERVICE, hm(9), hm(10))
    with pytest.raises(ValueError, match="stop number"):
        Segment(WAIT, hm(9), hm(10), stop=1)
    with pytest.raises(ValueError, match="overlap"):
        Timeline(hm(8), hm(17), (Segment(TRAVEL, hm(8), hm(9)), Segment(WAIT, hm(8, 30), hm(10))))


def test_the_axis_spans_whole_hours_and_places_times_in_percent():
    """Shifts 08:00-16:30 and one return at 17:10 give the axis 08:00-18:00 (10 hours):
    12:00 lies at 40 %, a 30-minute segment is 5 % wide; times off the axis are clamped."""
    early = Timeline(hm(8), hm(16, 30), ())
    late = Timeline(hm(8), hm(16, 30), (Segment(TRAVEL, hm(16, 40), hm(17, 10)),))
    axis = axis_for([early, late])
    assert axis == Axis(hm(8), hm(18))
    assert axis.percent(hm(12)) == 40.0
    assert axis.width(hm(12), hm(12, 30)) == 5.0
    assert axis.percent(hm(6)) == 0.0 and axis.percent(hm(20)) == 100.0
    assert axis.hours[0] == hm(8) and axis.hours[-1] == hm(18) and len(axis.hours) == 11
    assert axis_for([]) == Axis(hm(7), hm(18))
