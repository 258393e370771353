"""Slot prices: base price + travel fee − combination discount, in euro cents.

The combination discount rewards a job that "rides along" on an existing route. With Δ the
marginal travel time of its best insertion and S the travel time of serving it alone
(nearest qualified start → job → back), the saving ratio is r = 1 − Δ/S, clipped to
[0, 1]. The discount is a share of the base price chosen by tier of r, capped in cents and
by a floor price. A customer who leaves the business a wider window (half a day, the whole
day, any day of a week) gets a flexibility discount on top, a share of the base price per
kind of window: the planner gains room to fit the job where it costs least. Travel fee and
discounts are rounded down to whole euros, so customers see round numbers; when the floor
price binds, the combination discount is kept and the flexibility discount shrinks first.

Example with the defaults: base 149.00 €, job 14 km from the depot (4 km over the free
radius at 1.00 €/km → 4.00 € travel fee), Δ = 2 min, S = 40 min → r = 95 % → tier 2 % of
149.00 € = 2.98 € → 2.00 € discount → total 149.00 + 4.00 − 2.00 = 151.00 €. The same
slot as "any time that day" takes 1 % of 149.00 € = 1.49 € → 1.00 € more off: 150.00 €.

Why the defaults are small: a discount is affordable only while it costs less than the
travel it saves. `python -m booking.bench simulate` measures that saving against
calendar-style booking: 1.31-2.49 € per job on twelve simulated request streams, at
0.30 €/km and 60 € per driving hour, and nearly all of it comes from customers who leave
a whole day or week open. With these defaults the discounts granted (1.40-1.60 € per job)
stayed below that saving on 11 of the 12 streams; a firm with other costs sets its own
(every parameter is per business).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

WindowKind = Literal["slot", "half_day", "day", "week"]
WINDOW_KINDS: tuple[WindowKind, ...] = ("slot", "half_day", "day", "week")


def _require_whole(name: str, value: object) -> None:
    # Stored policies come from JSON, where 12.5 or true would slip through silently.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, got {value!r}")


@dataclass(frozen=True, slots=True)
class DiscountTier:
    """From `min_saving_pct` saving ratio on, `discount_pct` of the base price is taken off."""

    min_saving_pct: int
    discount_pct: int

    def __post_init__(self) -> None:
        _require_whole("min_saving_pct", self.min_saving_pct)
        _require_whole("discount_pct", self.discount_pct)
        if not 0 <= self.min_saving_pct <= 100:
            raise ValueError(f"min_saving_pct must lie in [0, 100], got {self.min_saving_pct}")
        if not 0 <= self.discount_pct <= 100:
            raise ValueError(f"discount_pct must lie in [0, 100], got {self.discount_pct}")


DEFAULT_TIERS = (DiscountTier(90, 2), DiscountTier(75, 1))


@dataclass(frozen=True, slots=True)
class PricingPolicy:
    """A business's pricing parameters; every amount in cents, distances in metres."""

    travel_fee_free_meters: int = 10_000
    travel_fee_cents_per_km: int = 100
    travel_fee_max_cents: int = 4_000
    discount_tiers: tuple[DiscountTier, ...] = DEFAULT_TIERS
    discount_max_cents: int = 1_000
    floor_pct: int = 70
    half_day_discount_pct: int = 1
    day_discount_pct: int = 1
    week_discount_pct: int = 2

    def __post_init__(self) -> None:
        for name in (
            "travel_fee_free_meters",
            "travel_fee_cents_per_km",
            "travel_fee_max_cents",
            "discount_max_cents",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative whole number, got {value!r}")
        for name in ("floor_pct", "half_day_discount_pct", "day_discount_pct", "week_discount_pct"):
            _require_whole(name, getattr(self, name))
            if not 0 <= getattr(self, name) <= 100:
                raise ValueError(f"{name} must lie in [0, 100], got {getattr(self, name)}")
        flex = (self.half_day_discount_pct, self.day_discount_pct, self.week_discount_pct)
        if any(a > b for a, b in itertools.pairwise(flex)):
            raise ValueError(
                "a wider window must never earn a smaller discount: half_day_discount_pct "
                "<= day_discount_pct <= week_discount_pct"
            )
        thresholds = [tier.min_saving_pct for tier in self.discount_tiers]
        strictly_falling = all(a > b for a, b in itertools.pairwise(thresholds))
        if not strictly_falling:
            raise ValueError("discount tiers must be ordered by strictly falling min_saving_pct")
        discounts = [tier.discount_pct for tier in self.discount_tiers]
        if any(a < b for a, b in itertools.pairwise(discounts)):
            raise ValueError(
                "a bigger saving must never earn a smaller discount: discount_pct "
                "must not rise as min_saving_pct falls"
            )

    def flexibility_pct(self, kind: WindowKind) -> int:
        """The flexibility discount for a kind of window, in percent of the base price."""
        return {
            "slot": 0,
            "half_day": self.half_day_discount_pct,
            "day": self.day_discount_pct,
            "week": self.week_discount_pct,
        }[kind]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PricingPolicy:
        values = dict(data)
        if "discount_tiers" in values:
            values["discount_tiers"] = tuple(
                tier if isinstance(tier, DiscountTier) else DiscountTier(**tier)
                for tier in values["discount_tiers"]
            )
        return cls(**values)


@dataclass(frozen=True, slots=True)
class PriceBreakdown:
    """discount_cents is the combination discount, flexibility_cents the one for a wide
    window; total = base + travel fee − both."""

    base_cents: int
    travel_fee_cents: int
    discount_cents: int
    total_cents: int
    saving_pct: int
    flexibility_cents: int = 0

    def __post_init__(self) -> None:
        expected = (
            self.base_cents + self.travel_fee_cents - self.discount_cents - self.flexibility_cents
        )
        if self.total_cents != expected:
            raise ValueError("total must equal base + travel fee − discounts")
        parts = (self.base_cents, self.travel_fee_cents, self.discount_cents, self.total_cents)
        if min(*parts, self.flexibility_cents) < 0:
            raise ValueError("price components cannot be negative")

    @property
    def discounts_cents(self) -> int:
        return self.discount_cents + self.flexibility_cents


def saving_pct(detour_seconds: int, standalone_seconds: int) -> int:
    """r = 1 − Δ/S in whole percent, clipped to [0, 100]; no saving when S is 0."""
    if standalone_seconds <= 0:
        return 0
    # Whole-number arithmetic: 1 - 240/300 in floats is 0.1999…, which would truncate to 19.
    return max(0, min(100, 100 * (standalone_seconds - detour_seconds) // standalone_seconds))


def travel_fee_cents(depot_meters: int, policy: PricingPolicy) -> int:
    """Road distance beyond the free radius at the per-km rate, rounded down to whole euros."""
    chargeable = max(0, depot_meters - policy.travel_fee_free_meters)
    fee = min(policy.travel_fee_max_cents, chargeable * policy.travel_fee_cents_per_km // 1000)
    return fee - fee % 100


def discount_pct(saving: int, policy: PricingPolicy) -> int:
    for tier in policy.discount_tiers:
        if saving >= tier.min_saving_pct:
            return tier.discount_pct
    return 0


def price_slot(
    base_cents: int,
    depot_meters: int,
    detour_seconds: int,
    standalone_seconds: int,
    policy: PricingPolicy,
    kind: WindowKind = "slot",
) -> PriceBreakdown:
    fee = travel_fee_cents(depot_meters, policy)
    saving = saving_pct(detour_seconds, standalone_seconds)
    discount = min(base_cents * discount_pct(saving, policy) // 100, policy.discount_max_cents)
    room = max(0, base_cents + fee - base_cents * policy.floor_pct // 100)
    discount = min(discount, room)
    discount -= discount % 100
    flexibility = min(base_cents * policy.flexibility_pct(kind) // 100, room - discount)
    flexibility -= flexibility % 100
    return PriceBreakdown(
        base_cents=base_cents,
        travel_fee_cents=fee,
        discount_cents=discount,
        total_cents=base_cents + fee - discount - flexibility,
        saving_pct=saving,
        flexibility_cents=flexibility,
    )


def lowest_price_cents(base_cents: int, policy: PricingPolicy) -> int:
    """The "from" price: next to the depot, riding along at no detour at all, any day of
    a week."""
    return price_slot(base_cents, 0, 0, 1, policy, "week").total_cents
