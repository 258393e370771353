"""The pricing policy the hand-computed tests use.

Big round tiers make every expected price easy to check by hand: r ≥ 75 % → 15 %,
≥ 50 % → 10 %, ≥ 25 % → 5 % of the base, capped at 30.00 €; flexibility 3 / 5 / 8 % for
a half day / the whole day / any day of a week. The shipped defaults are smaller
(calibrated with `python -m booking.bench simulate`); `test_pricing` pins those too.
"""

from __future__ import annotations

from optimizer.pricing import DiscountTier, PricingPolicy

ROUND_TIERS = (DiscountTier(75, 15), DiscountTier(50, 10), DiscountTier(25, 5))
ROUND_POLICY = PricingPolicy(
    discount_tiers=ROUND_TIERS,
    discount_max_cents=3000,
    half_day_discount_pct=3,
    day_discount_pct=5,
    week_discount_pct=8,
)
