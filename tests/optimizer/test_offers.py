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
import random
from datetime import date, timedelta

import pytest

from optimizer.domain import TimeWindow
from optimizer.insertion import best_insertion
from optimizer.offers import (
    NEW_JOB_ID,
    DayBlock,
    DayRoutes,
    Horizon,
    JobRequest,
    offer_for,
    offer_slots,
    offer_windows,
)
from optimizer.pricing import price_slot
from optimizer.schedule import check_route
from tests.optimizer.lineworld import (
    hm,
    job,
    km,
    lunch_break,
    mark,
    minutes,
    route,
    tech,
    travel,
)
from tests.policies import ROUND_POLICY

MONDAY, TUESDAY = date(2025, 3, 3), date(2025, 3, 4)
DEPOT = mark(0)
POLICY = ROUND_POLICY

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


# --- flexible windows, reasons, and the vectorised engine against the checker ----------


def test_offer_windows_add_half_days_the_whole_day_and_the_week():
    """Four 2-hour slots 8-16: halves 8-12 and 12-16, the day 8-16, the week 8-16."""
    slots = [TimeWindow(hm(h), hm(h + 2)) for h in (8, 10, 12, 14)]
    kinds = [(w.kind, w.window) for w in offer_windows(slots)]
    assert kinds == [
        *(("slot", w) for w in slots),
        ("half_day", TimeWindow(hm(8), hm(12))),
        ("half_day", TimeWindow(hm(12), hm(16))),
        ("day", TimeWindow(hm(8), hm(16))),
        ("week", TimeWindow(hm(8), hm(16))),
    ]
    assert [w.kind for w in offer_windows(slots[:1])] == ["slot"]
    # Two or three slots: a half day would be a single slot, so there are none.
    assert [w.kind for w in offer_windows(slots[:3])] == ["slot"] * 3 + ["day", "week"]
    assert [w.kind for w in offer_windows(slots[:2])] == ["slot"] * 2 + ["day", "week"]
    assert [w.kind for w in offer_windows(slots, flexible=False)] == ["slot"] * 4


def test_a_whole_day_window_earns_the_flexibility_discount():
    """X between A and B on Monday (Δ = 0): the slot gets 13.00 € combination discount;
    "any time that day" adds 5 % of 89.00 € = 4.45 € → 4.00 €. With the 10.00 € travel
    fee (20 km, 10 over the free radius): 89 + 10 − 13 − 4 = 82.00 €."""
    tt = travel()
    slot = offer_for(request(), monday(), MORNING, DEPOT, tt, POLICY)
    day = offer_for(request(), monday(), TimeWindow(hm(8), hm(16)), DEPOT, tt, POLICY, "day")
    assert (slot.price.discount_cents, slot.price.flexibility_cents) == (1300, 0)
    assert (day.price.discount_cents, day.price.flexibility_cents) == (1300, 400)
    assert day.price.total_cents == 8900 + 1000 - 1300 - 400
    assert day.kind == "day" and day.reason.kind == "day"


def test_the_week_slot_picks_the_cheapest_day_of_the_week():
    """Monday has a route through mark 20 (Δ = 0), Tuesday is empty (Δ = 40 min): "any
    day this week" is Monday, with the week's 8 % flexibility (7.12 € → 7.00 €)."""
    windows = offer_windows([TimeWindow(hm(h), hm(h + 2)) for h in (8, 10, 12, 14)])
    slots = offer_slots(request(), [tuesday(), monday()], windows, DEPOT, travel(), POLICY)
    [week] = [s for s in slots if s.kind == "week"]
    assert week.days == (TUESDAY, MONDAY)  # both lie in ISO week 10 of 2025
    assert week.day == MONDAY and week.offer.detour_seconds == 0
    assert week.offer.price.flexibility_cents == 700
    # every other slot: 2 days × (4 slots + 2 half days + 1 day), in day and window order
    assert [(s.day, s.kind) for s in slots[:7]] == [(TUESDAY, "slot")] * 4 + [
        (TUESDAY, "half_day")] * 2 + [(TUESDAY, "day")]  # fmt: skip
    assert len(slots) == 15


def test_reasons_come_in_german_and_english():
    """Between A and B, both 10 km away (not "nearby", over 3 km), the reason names the
    detour of 0 minutes, shown as 1 minute; at mark 12, A is 2 km away and is named."""
    offer = offer_for(request(), monday(), MORNING, DEPOT, travel(), POLICY)
    assert offer.nearest_stop_meters == km(10)
    assert offer.reason.text("de") == (
        "Ein Monteur kommt an diesem Tag in Ihrer Nähe vorbei: nur 1 Minute Umweg."
    )
    assert offer.reason.text("en") == (
        "A technician passes near you that day: only 1 minute of detour."
    )
    near = offer_for(request(12), monday(), MORNING, DEPOT, travel(), POLICY)
    assert near.reason.route == "nearby"
    assert near.reason.text("de").startswith("Ein Monteur ist an diesem Tag schon 2,0 km")
    assert near.reason.text("en").startswith("A technician is already 2.0 km from you")
    day = offer_for(request(), monday(), TimeWindow(hm(8), hm(16)), DEPOT, travel(), POLICY,
                    "day")  # fmt: skip
    assert day.reason.text("de").endswith(
        "; weil Sie uns den ganzen Tag lassen, sparen Sie zusätzlich 4 €."
    )
    assert day.reason.text("en").endswith(
        "; because you leave us the whole day, you save another €4."
    )


def _random_day(rng: random.Random, when: date) -> DayRoutes:
    """Three technicians with random routes built by feasible insertions (lunch for some)."""
    routes = []
    for t in range(3):
        lunch = lunch_break(hm(11, 30), hm(13), 30) if rng.random() < 0.5 else None
        technician = tech(f"T{t}", rng.randint(0, 60), skills={"water", "gas"} if t else {"water"},
                          lunch=lunch)  # fmt: skip
        r = route(technician)
        for k in range(rng.randint(0, 8)):
            begin = hm(8) + 3600 * rng.randint(0, 7)
            j = job(f"{t}-{k}", rng.randint(0, 60), window=(begin, begin + 7200),
                    minutes=rng.choice((30, 60, 90)))  # fmt: skip
            ins = best_insertion([r], j, MEMO)
            if ins is not None:
                r = ins.route
        routes.append(r)
    return DayRoutes(when, tuple(routes))


MEMO = travel()


@pytest.mark.parametrize("seed", range(3))
def test_vectorised_offers_agree_with_best_insertion_and_the_checker(seed):
    """On random days, every (day, window) is offered exactly when `best_insertion` finds
    an insertion, with the same detour; and the offered position passes `check_route`."""
    rng = random.Random(seed)
    days = [_random_day(rng, MONDAY + timedelta(days=d)) for d in range(8)]
    windows = offer_windows([TimeWindow(hm(h), hm(h + 2)) for h in (8, 10, 12, 14)])
    offered = refused = 0
    for _ in range(12):
        req = JobRequest(mark(rng.randint(0, 60)), 60 * rng.choice((30, 60, 120)),
                         frozenset({"gas"}) if rng.random() < 0.3 else frozenset(), 8900)
        slots = offer_slots(req, days, windows, DEPOT, MEMO, POLICY)
        for slot in slots:
            if slot.kind == "week":
                continue
            day = next(d for d in days if d.day == slot.day)
            x = req.job(NEW_JOB_ID, slot.window)
            ins = best_insertion(day.routes, x, MEMO)
            assert (slot.offer is None) == (ins is None), (slot, ins)
            if slot.offer is None:
                refused += 1
                continue
            offered += 1
            assert slot.offer.detour_seconds == ins.detour_seconds
            assert (slot.offer.technician_id, slot.offer.position) == (
                ins.technician_id, ins.position)  # fmt: skip
            chosen = next(r for r in day.routes if r.technician.id == slot.offer.technician_id)
            check = check_route(chosen.with_job(x, slot.offer.position), MEMO)
            assert check.feasible
    assert offered > 50 and refused > 10  # both answers are exercised


def test_day_blocks_reused_in_other_horizons_give_the_offers_best_insertion_finds():
    """Blocks are built once per day (the web app caches them and rebuilds only the day a
    booking changed) and joined into horizons of other days around them: in every such
    horizon each (day, window) is offered exactly when `best_insertion` finds a place,
    with its detour. The horizon's places are the blocks' places end to end (a place the
    days share, a technician's home, once per day), with their coordinates."""
    rng = random.Random(7)
    days = [_random_day(rng, MONDAY + timedelta(days=d)) for d in range(4)]
    blocks = [DayBlock(day, MEMO) for day in days]
    windows = offer_windows([TimeWindow(hm(h), hm(h + 2)) for h in (8, 10, 12, 14)])
    req = JobRequest(mark(25), minutes(60), frozenset(), 8900)
    checked = 0
    for chosen in ([0, 1, 2, 3], [2, 3], [3, 1]):
        horizon = Horizon.from_blocks([blocks[k] for k in chosen])
        assert list(horizon.places) == [p for k in chosen for p in blocks[k].places]
        assert horizon.places.coordinates.tolist() == [[p.lat, p.lon] for p in horizon.places]
        for slot in offer_slots(req, horizon, windows, DEPOT, MEMO, POLICY):
            if slot.kind == "week":
                continue
            day = next(d for d in days if d.day == slot.day)
            found = best_insertion(day.routes, req.job(NEW_JOB_ID, slot.window), MEMO)
            assert (slot.offer is None) == (found is None), (chosen, slot)
            if slot.offer is not None and found is not None:
                assert slot.offer.detour_seconds == found.detour_seconds
                checked += 1
    assert checked > 10
