"""Tests for optimizer.offers: a priced slot per (day, window), each proved by an insertion.

Line world: driving between marks i and j takes |i - j| minutes over |i - j| km.

The day used throughout ("Monday"):
- depot at mark 0;
- T1 starts at 0, ends at 40, shift 08:00-17:00, route A at 10 then B at 30
  (both 30 min, window 08:00-12:00);
- T2 starts and ends at 50, shift 08:00-17:00, no jobs.
The request X: mark 20, 60 min, base price 89.00 €.
"""

from __future__ import annotations

import copy
from datetime import date

import pytest

from optimizer.domain import TimeWindow
from optimizer.insertion import best_insertion
from optimizer.offers import NEW_JOB_ID, DayRoutes, JobRequest, offer_for, offer_slots
from optimizer.pricing import PricingPolicy, price_slot
from tests.optimizer.lineworld import hm, job, km, mark, minutes, route, tech, travel

MONDAY, TUESDAY = date(2025, 3, 3), date(2025, 3, 4)
DEPOT = mark(0)
POLICY = PricingPolicy()

MORNING = TimeWindow(hm(8), hm(12))
TOO_EARLY = TimeWindow(hm(8), hm(8, 15))  # nobody can be at mark 20 by 08:15
AFTERNOON = TimeWindow(hm(13), hm(14))

T1 = tech("T1", 0, end=40)
T2 = tech("T2", 50)
A = job("A", 10, window=(hm(8), hm(12)), minutes=30)
B = job("B", 30, window=(hm(8), hm(12)), minutes=30)


def monday() -> DayRoutes:
    return DayRoutes(MONDAY, (route(T1, A, B), route(T2)))


def tuesday() -> DayRoutes:
    """Nothing planned yet: both technicians idle."""
    return DayRoutes(TUESDAY, (route(T1), route(T2)))


def request(at: int = 20, skills: frozenset[str] = frozenset()) -> JobRequest:
    return JobRequest(location=mark(at), duration=minutes(60), skills=skills,
                      base_price_cents=8900)


def test_offer_rides_along_between_a_and_b():
    """Morning on Monday: X fits between A and B for free; price worked out by hand."""
    offer = offer_for(request(), monday(), MORNING, DEPOT, travel(), POLICY)
    # T1 legs 0→10, 10→30, 30→40. X at 20: pos 0: 20 + 10 - 10 = 20; pos 1: 10 + 10 - 20
    # = 0; pos 2: 10 + 20 - 10 = 20. T2 idle: 30 + 30 = 60. Best: T1 pos 1, Δ = 0.
    # Timing: A 08:10-08:40, X 08:50-09:50, B 10:00-10:30 (window 08:00-12:00 kept).
    # S = min(T1 0→20→40 = 40, T2 50→20→50 = 60) = 40 min; r = 100 % → 15 % of 89.00 €
    # = 13.35 € → 13.00 €. Fee: 20 km from the depot, 10 km over → 10.00 €.
    # Total 89.00 + 10.00 - 13.00 = 86.00 €. Nearest stop: A and B are both 10 km away.
    assert offer is not None
    assert (offer.day, offer.window) == (MONDAY, MORNING)
    assert (offer.technician_id, offer.position, offer.planned_start) == ("T1", 1, hm(8, 50))
    assert (offer.detour_seconds, offer.standalone_seconds) == (0, minutes(40))
    assert offer.nearest_stop_meters == km(10)
    p = offer.price
    assert (p.base_cents, p.travel_fee_cents, p.discount_cents, p.total_cents) == (
        8900, 1000, 1300, 8600)
    assert p.saving_pct == 100


def test_offer_matches_a_hand_made_insertion_and_price():
    """The offer is exactly best_insertion + standalone + price_slot, no more, no less."""
    tt = travel()
    day = monday()
    offer = offer_for(request(), day, AFTERNOON, DEPOT, tt, POLICY)
    x = request().job(NEW_JOB_ID, AFTERNOON)
    ins = best_insertion(day.routes, x, tt)
    # Afternoon: pos 1 would make B wait past 12:00; pos 0 would make A late; pos 2 (after
    # B): A 08:10-08:40, B 09:00-09:30, X 09:40 waits to 13:00-14:00, end 14:20: Δ = 20 min.
    assert ins is not None and offer is not None
    assert (ins.technician_id, ins.position, ins.detour_seconds) == ("T1", 2, minutes(20))
    assert (offer.technician_id, offer.position) == (ins.technician_id, ins.position)
    assert offer.planned_start == ins.planned_start == hm(13)
    assert offer.detour_seconds == ins.detour_seconds
    # r = 1 - 20/40 = 50 % → 10 % of 89.00 € = 8.90 € → 8.00 €; total 89 + 10 - 8 = 91.00 €.
    expected = price_slot(8900, km(20), minutes(20), minutes(40), POLICY)
    assert offer.price == expected
    assert (expected.discount_cents, expected.total_cents) == (800, 9100)


def test_unreachable_window_has_no_offer():
    """Nobody can reach mark 20 by 08:15 (T1 at 08:20 at best): no offer."""
    assert offer_for(request(), monday(), TOO_EARLY, DEPOT, travel(), POLICY) is None


def test_offer_slots_lists_every_day_and_window_in_order():
    """One Slot per (day, window), days outer, windows inner; unreachable ones are None."""
    windows = [MORNING, TOO_EARLY, AFTERNOON]
    slots = offer_slots(request(), [monday(), tuesday()], windows, DEPOT, travel(), POLICY)
    assert [(s.day, s.window) for s in slots] == [
        (MONDAY, MORNING), (MONDAY, TOO_EARLY), (MONDAY, AFTERNOON),
        (TUESDAY, MORNING), (TUESDAY, TOO_EARLY), (TUESDAY, AFTERNOON),
    ]
    assert [s.offer is None for s in slots] == [False, True, False, False, True, False]
    for s in slots:
        if s.offer is not None:
            assert (s.offer.day, s.offer.window) == (s.day, s.window)
            assert s.window.contains(s.offer.planned_start)


def test_idle_day_gets_no_discount():
    """Tuesday nobody drives yet: Δ equals the standalone trip, so r = 0 and no discount."""
    slots = offer_slots(request(), [tuesday()], [MORNING], DEPOT, travel(), POLICY)
    offer = slots[0].offer
    # T1 0→20→40 = 40 min (T2 60 min): Δ = S = 40 min; X at 08:20. 89 + 10 = 99.00 €.
    assert offer is not None
    assert (offer.technician_id, offer.position, offer.planned_start) == ("T1", 0, hm(8, 20))
    assert offer.detour_seconds == offer.standalone_seconds == minutes(40)
    assert (offer.price.discount_cents, offer.price.total_cents) == (0, 9900)
    assert offer.nearest_stop_meters is None


def test_near_a_route_beats_far_from_it():
    """A job on T1's way gets a bigger discount than one beyond T2's home."""
    tt = travel()
    near = offer_for(request(20), monday(), MORNING, DEPOT, tt, POLICY)
    far = offer_for(request(60), monday(), MORNING, DEPOT, tt, POLICY)
    # Near: Δ = 0, S = 40 → 100 % → 13.00 € off (see above).
    # Far (mark 60): T2 idle 10 + 10 = 20 min; T1 after B: 30 + 20 - 10 = 40 min.
    # Δ = 20 = S (T2's round trip) → 0 % → no discount.
    assert near is not None and far is not None
    assert far.technician_id == "T2"
    assert (far.detour_seconds, far.standalone_seconds) == (minutes(20), minutes(20))
    assert near.price.discount_cents == 1300
    assert far.price.discount_cents == 0
    assert near.price.saving_pct > far.price.saving_pct


def test_offer_respects_skills():
    """Only T2 does gas: the offer is T2's, and S counts only T2."""
    t2_gas = tech("T2", 50, skills={"gas"})
    day = DayRoutes(MONDAY, (route(T1, A, B), route(t2_gas)))
    offer = offer_for(request(20, frozenset({"gas"})), day, MORNING, DEPOT, travel(), POLICY)
    # T2: 30 + 30 = 60 min both as Δ and as S → no discount.
    assert offer is not None
    assert offer.technician_id == "T2"
    assert offer.detour_seconds == offer.standalone_seconds == minutes(60)


def test_offering_never_changes_the_routes():
    """The input days compare equal before/after and keep the very same route objects."""
    days = [monday(), tuesday()]
    before = copy.deepcopy(days)
    routes_before = [r for d in days for r in d.routes]
    offer_slots(request(), days, [MORNING, TOO_EARLY, AFTERNOON], DEPOT, travel(), POLICY)
    assert days == before
    assert [r for d in days for r in d.routes] == routes_before
    assert all(a is b for a, b in zip([r for d in days for r in d.routes], routes_before,
                                      strict=True))
    assert all(NEW_JOB_ID not in [j.id for j in r.jobs] for r in routes_before)


def test_job_request_builds_the_job_and_checks_itself():
    """JobRequest.job carries location, duration and skills; bad requests are refused."""
    req = request(20, frozenset({"gas"}))
    x = req.job("X", MORNING)
    assert (x.id, x.location, x.duration, x.window, x.skills) == (
        "X", mark(20), 3600, MORNING, frozenset({"gas"}))
    with pytest.raises(ValueError, match="duration must be a positive whole number"):
        JobRequest(mark(1), 0, frozenset(), 100)
    with pytest.raises(ValueError, match="base price cannot be negative"):
        JobRequest(mark(1), 60, frozenset(), -1)
