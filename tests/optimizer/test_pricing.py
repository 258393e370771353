"""Tests for optimizer.pricing: travel fee, saving ratio, tiers, cap, floor and rounding.

All amounts in cents. The policy of most tests (tests/policies.py): 10 km free, then
1.00 €/km up to 40.00 €; tiers 75 % → 15 %, 50 % → 10 %, 25 % → 5 %; discount cap
30.00 €; floor 70 % of the base. The shipped defaults are pinned at the end.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from optimizer.pricing import (
    DEFAULT_TIERS,
    DiscountTier,
    PriceBreakdown,
    PricingPolicy,
    discount_pct,
    price_slot,
    saving_pct,
    travel_fee_cents,
)
from tests.policies import ROUND_POLICY

DEFAULT = ROUND_POLICY
S = 2400  # a standalone trip of 40 min


def test_round_policy_example_is_80_euros():
    """Under the round policy: 89.00 € base, 14 km, Δ 6 min, S 40 min → 4.00 € fee,
    13.00 € off, 80.00 € total."""
    # fee: (14 000 - 10 000) m × 100 ct/km = 400; r = 1 - 360/2400 = 85 % → tier 15 %;
    # 8900 × 15 % = 1335 → rounded down to 1300; total 8900 + 400 - 1300 = 8000.
    price = price_slot(8900, 14_000, 360, 2400, DEFAULT)
    assert price == PriceBreakdown(base_cents=8900, travel_fee_cents=400, discount_cents=1300,
                                   total_cents=8000, saving_pct=85)


# --- saving ratio ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("detour", "standalone", "expected"),
    [
        (0, 2400, 100),     # rides along for free
        (600, 2400, 75),    # 1 - 1/4
        (1200, 2400, 50),
        (1800, 2400, 25),
        (2400, 2400, 0),    # the detour is the whole trip
        (3000, 2400, 0),    # Δ > S: clipped to 0
        (-120, 2400, 100),  # Δ < 0 (a shortcut): clipped to 100
        (300, 0, 0),        # S = 0: no saving defined
        (0, 0, 0),
    ],
)
def test_saving_pct_is_clipped_to_0_100(detour, standalone, expected):
    """r = 1 - Δ/S in whole percent, clipped to [0, 100]; S = 0 gives 0."""
    assert saving_pct(detour, standalone) == expected


def test_saving_pct_rounds_down_to_whole_percent():
    """74.958… % is 74 %, not 75 %: the tier boundary is not reached by rounding."""
    # 1 - 601/2400 = 0.749583…
    assert saving_pct(601, S) == 74


@pytest.mark.parametrize(
    ("detour", "standalone", "expected"),
    [(240, 300, 20), (1440, 1800, 20), (9, 10, 10)],
)
def test_saving_pct_of_an_exact_ratio_is_exact(detour, standalone, expected):
    """An exact whole-percent ratio is reported as that percent (no float truncation)."""
    # 1 - 240/300 = 1/5 = 20 % exactly; 1 - 1440/1800 (24 of 30 min) = 20 %;
    # 1 - 9/10 = 10 %.
    assert saving_pct(detour, standalone) == expected


def test_tier_at_an_exact_ratio_applies():
    """A custom 20 % tier applies to a saving of exactly 20 % (24 of 30 min)."""
    policy = PricingPolicy(discount_tiers=(DiscountTier(20, 10),))
    # r = 1 - 1440/1800 = 20 % → 10 % of 100.00 € = 10.00 € off.
    price = price_slot(10_000, 0, 1440, 1800, policy)
    assert price.saving_pct == 20
    assert price.discount_cents == 1000


# --- tiers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("detour", "saving", "pct", "discount"),
    [
        (600, 75, 15, 1300),   # exactly 75 % → 15 %: 1335 → 1300
        (601, 74, 10, 800),    # just below → 10 %: 890 → 800
        (1200, 50, 10, 800),   # exactly 50 % → 10 %
        (1201, 49, 5, 400),    # just below → 5 %: 445 → 400
        (1800, 25, 5, 400),    # exactly 25 % → 5 %
        (1801, 24, 0, 0),      # below every tier
    ],
)
def test_tier_boundaries(detour, saving, pct, discount):
    """A tier applies from its min_saving_pct on (inclusive); base 89.00 €, no fee."""
    assert discount_pct(saving, DEFAULT) == pct
    price = price_slot(8900, 0, detour, S, DEFAULT)
    assert (price.saving_pct, price.discount_cents) == (saving, discount)
    assert price.total_cents == 8900 - discount


def test_no_tiers_means_no_discount():
    """An empty tier list never discounts."""
    policy = PricingPolicy(discount_tiers=())
    assert price_slot(8900, 0, 0, S, policy).discount_cents == 0


# --- cap, floor, rounding -------------------------------------------------------------


def test_discount_is_capped_by_discount_max_cents():
    """15 % of 300.00 € is 45.00 € but the default cap is 30.00 €."""
    price = price_slot(30_000, 0, 0, S, DEFAULT)
    assert price.discount_cents == 3000
    assert price.total_cents == 27_000


def test_custom_cap_is_rounded_down_to_euros_too():
    """A cap of 12.34 € gives 12.00 € off (15 % of 300.00 € = 45.00 € > cap)."""
    policy = replace(ROUND_POLICY, discount_max_cents=1234)
    assert price_slot(30_000, 0, 0, S, policy).discount_cents == 1200


def test_floor_price_limits_the_discount():
    """A 50 % tier on 100.00 € with a 70 % floor leaves exactly 70.00 €."""
    policy = PricingPolicy(discount_tiers=(DiscountTier(0, 50),), discount_max_cents=100_000)
    # discount 5000 > 10 000 - 7000 = 3000 → 3000.
    price = price_slot(10_000, 0, 0, S, policy)
    assert (price.discount_cents, price.total_cents) == (3000, 7000)


def test_floor_counts_the_travel_fee():
    """The fee is part of what may be discounted down to the floor (base share only)."""
    policy = PricingPolicy(discount_tiers=(DiscountTier(0, 50),), discount_max_cents=100_000)
    # 15 km → fee 500; discount min(5000, 10 000 + 500 - 7000 = 3500) = 3500; total 7000.
    price = price_slot(10_000, 15_000, 0, S, policy)
    assert (price.travel_fee_cents, price.discount_cents, price.total_cents) == (500, 3500, 7000)


def test_rounding_down_keeps_the_total_above_the_floor():
    """Base 99.50 €: floor 69.65 €, room 29.85 € → 29.00 € off → 70.50 €."""
    policy = PricingPolicy(discount_tiers=(DiscountTier(0, 50),), discount_max_cents=100_000)
    price = price_slot(9950, 0, 0, S, policy)
    assert (price.discount_cents, price.total_cents) == (2900, 7050)
    assert price.total_cents >= 9950 * 70 // 100


def test_discount_is_rounded_down_to_whole_euros():
    """15 % of 89.50 € is 13.425 € → 13.42 € → 13.00 € off → 76.50 €."""
    price = price_slot(8950, 0, 0, S, DEFAULT)
    assert (price.discount_cents, price.total_cents) == (1300, 7650)


def test_discount_below_one_euro_vanishes():
    """5 % of 19.00 € is 0.95 € → rounded down to 0."""
    assert price_slot(1900, 0, 1800, S, DEFAULT).discount_cents == 0


# --- travel fee -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meters", "fee"),
    [
        (0, 0),
        (10_000, 0),       # exactly the free radius
        (10_009, 0),       # 9 m × 0.1 ct/m = 0.9 ct → 0
        (10_990, 0),       # 99 ct → rounded down to whole euros → 0
        (11_000, 100),     # 1 km over → 1.00 €
        (14_000, 400),     # 4 km × 1.00 €
        (14_500, 400),     # 4.50 € → rounded down to 4.00 €
        (50_000, 4000),    # 40 km → exactly the maximum
        (80_000, 4000),    # capped
    ],
)
def test_travel_fee_defaults(meters, fee):
    """Free within 10 km, then 1.00 €/km pro rata, rounded down to whole euros, max 40.00 €."""
    assert travel_fee_cents(meters, DEFAULT) == fee


def test_travel_fee_custom_policy():
    """No free radius, 2.50 €/km, max 5.00 €: 1 km → 2.50 € → 2.00 € (whole euros),
    2 km → 5.00 €, 3 km → capped at 5.00 €."""
    policy = PricingPolicy(travel_fee_free_meters=0, travel_fee_cents_per_km=250,
                           travel_fee_max_cents=500)
    assert travel_fee_cents(1000, policy) == 200
    assert travel_fee_cents(2000, policy) == 500
    assert travel_fee_cents(3000, policy) == 500


def test_price_adds_the_fee_to_the_total():
    """No saving, 25 km: 89.00 € + 15.00 € = 104.00 €."""
    price = price_slot(8900, 25_000, S, S, DEFAULT)
    assert (price.travel_fee_cents, price.discount_cents, price.total_cents) == (1500, 0, 10_400)


# --- policy ---------------------------------------------------------------------------


def test_policy_round_trips_through_a_dict():
    """from_dict(to_dict(p)) == p, also through JSON (tuples become lists)."""
    policy = PricingPolicy(travel_fee_free_meters=5000, travel_fee_cents_per_km=150,
                           travel_fee_max_cents=2500,
                           discount_tiers=(DiscountTier(60, 20), DiscountTier(30, 5)),
                           discount_max_cents=2000, floor_pct=60)
    data = policy.to_dict()
    assert data["discount_tiers"][0] == {"min_saving_pct": 60, "discount_pct": 20}
    assert PricingPolicy.from_dict(data) == policy
    assert PricingPolicy.from_dict(json.loads(json.dumps(data))) == policy


def test_policy_from_partial_dict_uses_defaults():
    """Missing keys fall back to the defaults; DiscountTier objects are accepted as is."""
    policy = PricingPolicy.from_dict({"floor_pct": 80, "discount_tiers": [DiscountTier(50, 5)]})
    assert policy.floor_pct == 80
    assert policy.discount_tiers == (DiscountTier(50, 5),)
    assert policy.travel_fee_free_meters == 10_000
    assert PricingPolicy.from_dict({}).discount_tiers == DEFAULT_TIERS


def test_policy_from_dict_refuses_unknown_keys():
    """A typo in a stored policy is an error, not silently ignored."""
    with pytest.raises(TypeError):
        PricingPolicy.from_dict({"floor_percent": 70})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("travel_fee_free_meters", -1),
        ("travel_fee_cents_per_km", -100),
        ("travel_fee_max_cents", 1.5),
        ("discount_max_cents", "3000"),
    ],
)
def test_policy_refuses_negative_or_non_integer_amounts(field, value):
    """Amounts must be non-negative whole numbers; the message names the field."""
    with pytest.raises(ValueError, match=f"{field} must be a non-negative whole number"):
        PricingPolicy(**{field: value})


@pytest.mark.parametrize("floor", [-1, 101])
def test_policy_refuses_a_floor_outside_0_100(floor):
    """floor_pct must lie in [0, 100]."""
    with pytest.raises(ValueError, match=r"floor_pct must lie in \[0, 100\]"):
        PricingPolicy(floor_pct=floor)


@pytest.mark.parametrize(
    "tiers",
    [
        (DiscountTier(50, 10), DiscountTier(75, 15)),  # rising
        (DiscountTier(50, 10), DiscountTier(50, 5)),   # equal thresholds
    ],
)
def test_policy_refuses_tiers_not_strictly_falling(tiers):
    """Tiers must be ordered by strictly falling min_saving_pct."""
    with pytest.raises(ValueError, match="strictly falling"):
        PricingPolicy(discount_tiers=tiers)


@pytest.mark.parametrize(("min_saving", "pct"), [(-1, 5), (101, 5), (50, -1), (50, 101)])
def test_discount_tier_percentages_lie_in_0_100(min_saving, pct):
    """Both percentages of a tier must lie in [0, 100]."""
    with pytest.raises(ValueError, match=r"must lie in \[0, 100\]"):
        DiscountTier(min_saving, pct)


def test_price_breakdown_checks_its_sum_and_signs():
    """A breakdown whose total is not base + fee - discount, or negative, is refused."""
    with pytest.raises(ValueError, match="total must equal"):
        PriceBreakdown(base_cents=100, travel_fee_cents=0, discount_cents=0, total_cents=99,
                       saving_pct=0)
    with pytest.raises(ValueError, match="cannot be negative"):
        PriceBreakdown(base_cents=100, travel_fee_cents=0, discount_cents=-100,
                       total_cents=200, saving_pct=0)


def test_the_shipped_defaults_are_the_calibrated_small_discounts():
    """The defaults (see the module docstring): r ≥ 90 % → 2 %, ≥ 75 % → 1 %, at most
    10.00 €; flexibility 1 / 1 / 2 %. The docstring's example: 149.00 € base, 14 km,
    Δ 2 min, S 40 min → 4.00 € fee, 2 % of 149.00 = 2.98 → 2.00 € off: 151.00 €; as a
    whole day 1 % more (1.49 → 1.00 €): 150.00 €; any day of the week 2 %: 149.00 €."""
    policy = PricingPolicy()
    assert policy.discount_tiers == (DiscountTier(90, 2), DiscountTier(75, 1))
    assert policy.discount_max_cents == 1000
    assert (policy.half_day_discount_pct, policy.day_discount_pct,
            policy.week_discount_pct) == (1, 1, 2)  # fmt: skip
    assert price_slot(14_900, 14_000, 120, 2400, policy).total_cents == 15_100
    assert price_slot(14_900, 14_000, 120, 2400, policy, "day").total_cents == 15_000
    assert price_slot(14_900, 14_000, 120, 2400, policy, "week").total_cents == 14_900
    # 74 % saving earns nothing: the discount is for riding along, not for driving less
    assert price_slot(14_900, 0, 625, 2400, policy).discount_cents == 0
