"""Tests for `python -m booking.bench simulate`: the calendar rule, the customers' choice,
the request stream, and a tiny in-process run whose figures are checked for consistency.

Times below are written as hm(8) = 08:00 in seconds since midnight.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from booking.bench import simulate
from booking.bench.simulate import (
    AHEAD_DAYS,
    Calendar,
    Option,
    Request,
    Settings,
    choose,
    demo_firm,
    free_start,
    request_stream,
    run_calendar,
    run_kombi,
)
from optimizer.domain import Location, LunchBreak, Technician, TimeWindow
from optimizer.offers import JobRequest
from optimizer.planner import PlanParameters
from optimizer.travel import GeodesicTravelTime, TravelTimes

LAST_LINE = re.compile(
    r"km_per_job_calendar=(\d+\.\d\d) km_per_job_kombi=(\d+\.\d\d) "
    r"km_saving_pct=(-?\d+\.\d) served_calendar=(\d+) served_kombi=(\d+) "
    r"discounts_eur=(\d+\.\d\d) travel_saved_eur=(-?\d+\.\d\d)"
)
FAST = Settings(plan=PlanParameters(time_limit_s=0.1), ahead=PlanParameters(time_limit_s=0.05))
MAGDEBURG = Location(52.1270, 11.6330)


def hm(hours: int, minutes: int = 0) -> int:
    return hours * 3600 + minutes * 60


SHIFT = TimeWindow(hm(7), hm(16, 30))
EARLY = TimeWindow(hm(8), hm(10))


def test_a_calendar_slot_needs_duration_plus_buffer_free_from_inside_the_window() -> None:
    """Busy 08:00-09:00 and 10:30-12:00. In the 08:00-10:00 window the gap 09:00-10:30 is
    90 minutes: a 45-min job + 30 min buffer (75) and a 60-min job + buffer (90, exactly)
    start at 09:00; a 90-min job would fit alone, but not with its buffer (120), and the
    next gap opens at 12:00, after the window: the slot is taken."""
    busy = [(hm(8), hm(9)), (hm(10, 30), hm(12))]
    assert free_start(busy, SHIFT, EARLY, 75 * 60) == hm(9)
    assert free_start(busy, SHIFT, EARLY, 90 * 60) == hm(9)
    assert free_start(busy, SHIFT, EARLY, 90 * 60 - 1800) == hm(9)  # without the buffer
    assert free_start(busy, SHIFT, EARLY, 120 * 60) is None


def test_a_calendar_block_may_run_past_the_window_but_not_past_the_shift() -> None:
    """Only the block's start lies in the arrival window: a 120-min job + buffer from 14:00
    ends 16:30, the shift end, so it fits; with a 15-minute longer job it does not."""
    late = TimeWindow(hm(14), hm(16))
    assert free_start([], SHIFT, late, 150 * 60) == hm(14)
    assert free_start([], SHIFT, late, 165 * 60) is None


def test_the_calendar_books_a_qualified_technician_around_lunch() -> None:
    """Water-only Jana and gas-fitter Mehmet, lunch fixed at 11:30-12:00 in the calendar.
    A gas job goes to Mehmet. Two 45-min water jobs (75-min blocks) in 10:00-12:00: the
    first takes 10:00-11:15, the second cannot start 11:15 (lunch) and starts at 12:00,
    the window's last minute."""
    lunch = LunchBreak(hm(11, 30), hm(13), 1800)
    jana = Technician("jana", MAGDEBURG, MAGDEBURG, SHIFT, frozenset({"water"}), lunch)
    mehmet = Technician("mehmet", MAGDEBURG, MAGDEBURG, SHIFT, frozenset({"gas"}), lunch)
    calendar = Calendar(buffer=1800)
    gas = JobRequest(MAGDEBURG, 3600, frozenset({"gas"}), 12900)
    assert calendar.free(1, [jana, mehmet], EARLY, gas) == (mehmet, hm(8))

    water = JobRequest(MAGDEBURG, 45 * 60, frozenset({"water"}), 8900)
    morning = TimeWindow(hm(10), hm(12))
    assert calendar.free(1, [jana, mehmet], morning, water) == (jana, hm(10))
    calendar.book(1, jana, hm(10), water)
    assert calendar.free(1, [jana, mehmet], morning, water) == (jana, hm(12))
    calendar.book(1, jana, hm(12), water)
    assert calendar.free(1, [jana, mehmet], morning, water) is None


def _request(preferred_day: int, window: TimeWindow) -> Request:
    firm = demo_firm()
    return Request("r", 0, MAGDEBURG, firm.services[0], preferred_day, window, 0.5)


def test_price_sensitive_customers_take_the_cheapest_slot_the_others_their_own() -> None:
    """Wanted: day 3, 08:00-10:00. The price-sensitive take the week window on day 4 at
    105 € (the cheapest); the others ignore wide windows and take their own slot."""
    options = [
        Option(3, EARLY, "slot", 12000),
        Option(3, TimeWindow(hm(10), hm(12)), "slot", 11000),
        Option(4, TimeWindow(hm(8), hm(16)), "week", 10500),
    ]
    request = _request(3, EARLY)
    assert choose(request, options, price_sensitive=True) == 2
    assert choose(request, options, price_sensitive=False) == 0


def test_without_their_slot_customers_take_the_nearest_and_price_ties_go_to_it() -> None:
    """Wanted: day 4, 14:00-16:00, which is not offered. Day 3 10:00-12:00 (1 day and 2 h
    away) is nearer than day 3 08:00-10:00 (1 day, 4 h) and than day 6 (2 days). At equal
    prices a price-sensitive customer takes that nearest one too."""
    options = [
        Option(3, EARLY, "slot", 11000),
        Option(3, TimeWindow(hm(10), hm(12)), "slot", 11000),
        Option(6, TimeWindow(hm(14), hm(16)), "slot", 11000),
    ]
    request = _request(4, TimeWindow(hm(14), hm(16)))
    assert choose(request, options, price_sensitive=False) == 1
    assert choose(request, options, price_sensitive=True) == 1
    assert choose(request, [], price_sensitive=True) is None


def test_the_request_stream_is_fixed_by_the_seed_and_shares_nest() -> None:
    """The same seed gives the same customers; each wants a day 1..10 working days ahead
    and a slot window of the firm; whoever is price-sensitive at 25 % is so at 50 %."""
    firm = demo_firm()
    stream = request_stream(firm, 7, days=3, per_day=5)
    assert stream == request_stream(firm, 7, days=3, per_day=5)
    assert stream != request_stream(firm, 8, days=3, per_day=5)
    assert len(stream) == 15
    assert all(1 <= r.preferred_day - r.day <= AHEAD_DAYS for r in stream)
    assert all(r.preferred_window in firm.windows for r in stream)
    assert all(r.price_sensitive(50) for r in stream if r.price_sensitive(25))


def test_one_customer_alone_books_the_week_if_price_sensitive_else_their_slot() -> None:
    """A lone tap replacement (89.00 €) on an empty calendar. Nothing to ride along on, so
    no combination discount; the price-sensitive customer takes "any day this week" for
    2 % of 89.00 € = 1.78 € → 1.00 € off (the default policy). The other books their own
    slot at full price; (A) books that slot too. Each job is served."""
    firm = demo_firm()
    tap = next(s for s in firm.services if s.code == "tap")
    request = Request("r", 0, MAGDEBURG, tap, 2, EARLY, sensitivity=0.5)
    travel = TravelTimes(GeodesicTravelTime())

    keen = run_kombi(firm, [request], 100, travel, FAST)
    assert (keen.served, dict(keen.kinds)) == (1, {"week": 1})
    assert (keen.discount_cents, keen.flexibility_cents) == (0, 100)

    other = run_kombi(firm, [request], 0, travel, FAST)
    assert (other.served, dict(other.kinds), other.discounts_eur) == (1, {"slot": 1}, 0.0)
    calendar = run_calendar(firm, [request], travel, FAST)
    assert (calendar.served, calendar.technician_days) == (1, 1)
    assert calendar.km_per_job > 0


def test_a_tiny_run_prints_consistent_figures_and_the_fixed_last_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two days of eight requests with short plans: the table has a row per mode, the
    last line has exactly the summary keys, and the figures agree with the JSON and with
    each other (served ≤ booked ≤ requests, (B) never drops a booked job)."""
    out = tmp_path / "sim.json"
    argv = ["--seed", "3", "--days", "2", "--requests-per-day", "8", "--shares", "50"]
    short = ["--plan-seconds", "0.1", "--ahead-seconds", "0.05"]
    code = simulate.main([*argv, *short, "--json", str(out)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert lines[0].startswith("simulate: seed=3 days=2 requests_per_day=8")
    assert [line.split()[1] for line in lines if line.startswith("  50%")] == ["calendar", "kombi"]
    match = LAST_LINE.fullmatch(lines[-1])
    assert match is not None, lines[-1]
    assert [part.split("=")[0] for part in lines[-1].split()] == [
        "km_per_job_calendar", "km_per_job_kombi", "km_saving_pct", "served_calendar",
        "served_kombi", "discounts_eur", "travel_saved_eur",
    ]  # fmt: skip

    [comparison] = json.loads(out.read_text(encoding="utf-8"))["comparisons"]
    for mode, served in (("calendar", match[4]), ("kombi", match[5])):
        figures = comparison[mode]
        assert figures["served"] == int(served)
        assert 0 < figures["served"] <= figures["booked"] <= figures["requests"] == 16
        assert figures["km_per_job"] > 0
        assert figures["km_per_job"] == pytest.approx(figures["meters"] / 1000 / figures["served"])
        assert sum(figures["kinds"].values()) == figures["served"]
    kombi = comparison["kombi"]
    assert kombi["booked"] == kombi["served"]
    assert float(match[6]) == pytest.approx(kombi["discounts_eur"], abs=0.005)
    assert float(match[7]) == pytest.approx(comparison["travel_saved_eur"], abs=0.005)


@pytest.mark.parametrize(
    "argv",
    [
        ["--days", "2"],  # no seed
        ["--seed", "1", "--days", "0"],
        ["--seed", "1", "--shares", "25,75"],  # the summary needs 50 %
        ["--seed", "1", "--shares", "50,120"],
        ["--seed", "1", "--plan-seconds", "soon"],
        ["--seed", "1", "--cost-per-km", "-1"],
    ],
)
def test_bad_options_exit_2_with_a_message(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        simulate.main(argv)
    assert exited.value.code == 2
    assert "error:" in capsys.readouterr().err
