"""Offers: for a requested job, every (day, window) with a concrete feasible insertion.

No slot is offered without the insertion that proves it: the offer names the technician,
the position in their route and the planned start, and its price follows from the detour.
Offering reads the routes and never changes them.

Speed. The plans in force are flattened once into a `Horizon`: one row per insertion
position of every route of every day, carrying the route's time slack around it
(`optimizer.slack`). A request then costs two bulk leg look-ups (every stop → the job,
the job → every stop) and, per window, a handful of numpy operations over all rows:
feasibility of a position is O(1), the physical bound being one such check per
(day, window, technician, position). The cheapest feasible row per day wins, with the
same order of preference as `insertion.best_insertion` (least added seconds, then
metres, then technician and position in route order).

Windows. Besides the business's slot windows ("slot"), a customer may leave a wider one
open: half a day, the whole day ("half_day", "day"), or any day of a week ("week": the
engine picks the day whose insertion costs least and promises the whole-day window on
it). Wider windows earn the flexibility discount of `pricing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from optimizer.domain import Job, Location, Route, TimeWindow
from optimizer.pricing import PriceBreakdown, PricingPolicy, WindowKind, price_slot
from optimizer.reasons import Reason, route_reason
from optimizer.slack import INF, RouteSlack, route_slack
from optimizer.travel import Places, TravelTimes

NEW_JOB_ID = "__new__"


@dataclass(frozen=True, slots=True)
class JobRequest:
    """What the customer asks for, before a window is chosen."""

    location: Location
    duration: int
    skills: frozenset[str]
    base_price_cents: int

    def __post_init__(self) -> None:
        if not isinstance(self.duration, int) or self.duration <= 0:
            raise ValueError(
                f"duration must be a positive whole number of seconds, got {self.duration!r}"
            )
        if not isinstance(self.skills, frozenset):
            raise TypeError("JobRequest.skills must be a frozenset of skill names")
        if self.base_price_cents < 0:
            raise ValueError(f"base price cannot be negative, got {self.base_price_cents}")

    def job(self, job_id: str, window: TimeWindow) -> Job:
        return Job(job_id, self.location, self.duration, window, self.skills)


@dataclass(frozen=True, slots=True)
class DayRoutes:
    """The plan in force for one day: a route (maybe empty) per working technician."""

    day: date
    routes: tuple[Route, ...]


@dataclass(frozen=True, slots=True)
class OfferWindow:
    """A window the customer can choose, and how wide a choice it leaves the business."""

    kind: WindowKind
    window: TimeWindow


def offer_windows(slots: Sequence[TimeWindow], *, flexible: bool = True) -> list[OfferWindow]:
    """The slot windows, then (with `flexible`) the wider ones: the two half days (the
    first and the second half of the slots, each spanning at least two slots), the whole
    day and any day of the week (with at least two slots). A wider window never equals a
    slot: it would earn the flexibility discount for leaving no extra freedom."""
    ordered = sorted(slots, key=lambda w: (w.start, w.end))
    result = [OfferWindow("slot", w) for w in ordered]
    if not flexible or len(ordered) < 2:
        return result

    def span(part: Sequence[TimeWindow]) -> TimeWindow:
        return TimeWindow(part[0].start, max(w.end for w in part))

    middle = (len(ordered) + 1) // 2
    halves = [ordered[:middle], ordered[middle:]]
    if all(len(half) >= 2 for half in halves):
        result += [OfferWindow("half_day", span(half)) for half in halves]
    whole = span(ordered)
    result += [OfferWindow("day", whole), OfferWindow("week", whole)]
    return result


@dataclass(frozen=True, slots=True)
class Offer:
    day: date
    window: TimeWindow
    technician_id: str
    position: int
    planned_start: int
    detour_seconds: int
    standalone_seconds: int
    nearest_stop_meters: int | None
    price: PriceBreakdown
    kind: WindowKind = "slot"
    detour_meters: int = 0
    reason: Reason | None = None


@dataclass(frozen=True, slots=True)
class Slot:
    """One choice of the horizon; `offer` is None when nothing fits. `days` are the days
    the customer leaves open: one, or every day of the week for kind "week" (then `day`
    is the day the offer chose, or the week's first day when nothing fits)."""

    day: date
    window: TimeWindow
    offer: Offer | None
    kind: WindowKind = "slot"
    days: tuple[date, ...] = ()


class DayBlock:
    """One day's part of a `Horizon`: its insertion rows, with route and place numbers of
    its own. A horizon is the blocks put end to end, so when one day's plan changes only
    that day's block is built again (it reads every route's legs, the costly part)."""

    def __init__(self, day: DayRoutes, travel: TravelTimes) -> None:
        self.day = day
        self.slacks: list[RouteSlack] = []
        place_index: dict[Location, int] = {}

        def place(location: Location) -> int:
            return place_index.setdefault(location, len(place_index))

        rows: dict[str, list[int]] = {name: [] for name in _ROW_FIELDS}
        self.route_start: list[int] = []
        self.route_end: list[int] = []
        for route in day.routes:
            slack = route_slack(route, travel)
            r = len(self.slacks)
            self.slacks.append(slack)
            nodes = [place(p) for p in slack.places]
            self.route_start.append(nodes[0])
            self.route_end.append(nodes[-1])
            if not slack.feasible:
                continue
            lunch = route.technician.lunch
            n = len(route.jobs)
            for i in range(slack.first_position, n + 1):
                values = (
                    0, r, i, nodes[i], nodes[i + 1],
                    slack.legs[i].seconds if n else 0, slack.legs[i].meters if n else 0,
                    slack.leave_done[i], slack.leave_due[i],
                    slack.ready_done[i + 1], slack.ready_due[i + 1],
                    lunch.earliest_start if lunch else 0,
                    lunch.latest_start if lunch else -INF,
                    lunch.duration if lunch else 0,
                    int(lunch is not None), int(i > 0), int(i < n),
                )  # fmt: skip
                for name, value in zip(_ROW_FIELDS, values, strict=True):
                    rows[name].append(value)
        self.places = Places(place_index)
        self.rows = {name: np.array(values, dtype=np.int64) for name, values in rows.items()}


class Horizon:
    """The plans in force of several days, flattened for vectorised insertion checks.

    Build it once per version of the plans (it reads every route's legs) and reuse it for
    every request until a plan changes; `from_blocks` reuses the unchanged days' blocks.
    Rows are insertion positions in day, route and position order; routes that break a
    rule already (a promise the dispatcher must fix) and positions that would move a
    pinned job have no rows.
    """

    def __init__(self, days: Sequence[DayRoutes], travel: TravelTimes) -> None:
        self._join([DayBlock(day, travel) for day in days])

    @classmethod
    def from_blocks(cls, blocks: Sequence[DayBlock]) -> Horizon:
        horizon = cls.__new__(cls)
        horizon._join(blocks)
        return horizon

    def _join(self, blocks: Sequence[DayBlock]) -> None:
        """The blocks end to end: day, route and place numbers shifted past the earlier
        blocks'. Places are not merged across days: a technician's home then appears once
        per day, a few more legs per request, but a join (one per booking, in every web
        process) no longer hashes the horizon's thousand places."""
        self.days = tuple(block.day for block in blocks)
        self.routes: list[tuple[int, RouteSlack]] = []  # (day index, slack)
        self.route_start: list[int] = []
        self.route_end: list[int] = []
        parts: dict[str, list[np.ndarray]] = {name: [] for name in _ROW_FIELDS}
        place_offset = 0
        for d, block in enumerate(blocks):
            route_offset = len(self.routes)
            self.routes += [(d, slack) for slack in block.slacks]
            self.route_start += [p + place_offset for p in block.route_start]
            self.route_end += [p + place_offset for p in block.route_end]
            for name in _ROW_FIELDS:
                column = block.rows[name]
                if name in ("prev", "next"):
                    column = column + place_offset
                elif name == "day":
                    column = column + d
                elif name == "route":
                    column = column + route_offset
                parts[name].append(column)
            place_offset += len(block.places)
        self.places = Places.joined([block.places for block in blocks])
        self.rows = {
            name: np.concatenate(arrays) if arrays else np.array([], dtype=np.int64)
            for name, arrays in parts.items()
        }
        self.size = len(self.rows["day"])

    @property
    def checks_per_window(self) -> int:
        """Insertion positions examined per window of a request (the O(1) checks)."""
        return self.size


_ROW_FIELDS = (
    "day", "route", "position", "prev", "next", "direct_s", "direct_m",
    "leave_done", "leave_due", "ready_done", "ready_due",
    "lunch_earliest", "lunch_latest", "lunch_duration", "has_lunch", "prev_is_job",
    "next_is_job",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Legs:
    """Legs between the request's address and every place of the horizon."""

    to_s: np.ndarray  # place → job, seconds
    to_m: np.ndarray
    from_s: np.ndarray  # job → place
    from_m: np.ndarray


def feasible_starts(
    rows: dict[str, np.ndarray], tin: np.ndarray, tout: np.ndarray, window: TimeWindow,
    duration: int,
) -> np.ndarray:  # fmt: skip
    """Service start per row for a job in `window` (INF where it does not fit). The same
    case analysis as `RouteSlack.insertion_start`, on all rows at once."""
    e, latest, length = rows["lunch_earliest"], rows["lunch_latest"], rows["lunch_duration"]
    leave_done, leave_due = rows["leave_done"], rows["leave_due"]
    ready_done, ready_due = rows["ready_done"], rows["ready_due"]
    has_lunch = rows["has_lunch"] == 1
    # Break before the job: taken earlier, or in the gap into it.
    via_gap = np.where(
        has_lunch & (leave_due < INF) & (leave_due <= latest),
        np.maximum(e, leave_due + tin) + length,
        INF,
    )
    ready = np.minimum(np.where(leave_done < INF, leave_done + tin, INF), via_gap)
    start = np.maximum(ready, window.start)
    before = (ready <= window.end) & (start + duration + tout <= ready_done)
    best = np.where(before, start, INF)
    # Break after the job: in the gap out of it, or later.
    ready = np.where(leave_due < INF, leave_due + tin, INF)
    start = np.maximum(ready, window.start)
    done = start + duration
    later = done + tout <= ready_due
    in_gap = (done <= latest) & (np.maximum(e, done + tout) + length <= ready_done)
    after = has_lunch & (ready <= window.end) & (later | in_gap)
    return np.where(after, np.minimum(best, start), best)


def offer_slots(
    request: JobRequest,
    days: Horizon | Sequence[DayRoutes],
    windows: Sequence[OfferWindow | TimeWindow],
    depot: Location,
    travel: TravelTimes,
    policy: PricingPolicy,
) -> list[Slot]:
    """Every (day, window) in order, each with its offer or None; windows of kind "week"
    collapse to one slot per calendar week, after the days."""
    horizon = days if isinstance(days, Horizon) else Horizon(days, travel)
    choices = [w if isinstance(w, OfferWindow) else OfferWindow("slot", w) for w in windows]
    probe = request.job(NEW_JOB_ID, choices[0].window if choices else TimeWindow(0, 0))
    allowed = np.array([slack.allows(probe) for _, slack in horizon.routes] or [0], dtype=bool)
    rows = horizon.rows
    legs = _legs(request.location, horizon, travel)
    standalone = _standalone(probe, horizon, legs)
    depot_meters = travel.leg(depot, request.location).meters

    tin, tout = legs.to_s[rows["prev"]], legs.from_s[rows["next"]]
    detour_s = tin + tout - rows["direct_s"]
    detour_m = legs.to_m[rows["prev"]] + legs.from_m[rows["next"]] - rows["direct_m"]
    usable = allowed[rows["route"]] if horizon.size else np.zeros(0, dtype=bool)

    best: dict[tuple[int, int], Offer] = {}
    for w, choice in enumerate(choices):
        starts = feasible_starts(rows, tin, tout, choice.window, request.duration)
        candidates = np.flatnonzero(usable & (starts < INF))
        if not candidates.size:
            continue
        order = np.lexsort((candidates, detour_m[candidates], detour_s[candidates],
                            rows["day"][candidates]))  # fmt: skip
        ranked = candidates[order]
        _, first = np.unique(rows["day"][ranked], return_index=True)
        for row in ranked[first].tolist():
            d = int(rows["day"][row])
            best[(d, w)] = _offer(
                horizon, row, choice, int(starts[row]), int(detour_s[row]),
                int(detour_m[row]), standalone[d], legs, depot_meters, request, policy,
            )  # fmt: skip

    slots = [
        Slot(day.day, choice.window, best.get((d, w)), choice.kind, (day.day,))
        for d, day in enumerate(horizon.days)
        for w, choice in enumerate(choices)
        if choice.kind != "week"
    ]
    for w, choice in enumerate(choices):
        if choice.kind == "week":
            slots += _weeks(horizon, w, choice, best)
    return slots


def offer_for(
    request: JobRequest,
    day: DayRoutes,
    window: TimeWindow,
    depot: Location,
    travel: TravelTimes,
    policy: PricingPolicy,
    kind: WindowKind = "slot",
) -> Offer | None:
    """The offer for one day and window (None: nothing fits)."""
    [slot] = offer_slots(
        request, [day], [OfferWindow(kind, window)], depot, travel, policy
    )  # fmt: skip
    return slot.offer


def _legs(location: Location, horizon: Horizon, travel: TravelTimes) -> _Legs:
    if not horizon.places:
        empty = np.zeros(0, dtype=np.int64)
        return _Legs(empty, empty, empty, empty)
    to_s, to_m = travel.arrays(horizon.places, [location])
    from_s, from_m = travel.arrays([location], horizon.places)
    return _Legs(to_s[:, 0], to_m[:, 0], from_s[0], from_m[0])


def _standalone(job: Job, horizon: Horizon, legs: _Legs) -> list[int | None]:
    """Per day: travel of serving the job alone, nearest qualified start → job → that
    technician's end (None: nobody qualified works that day)."""
    result: list[int | None] = [None] * len(horizon.days)
    for r, (d, slack) in enumerate(horizon.routes):
        if not slack.route.technician.can_do(job):
            continue
        alone = int(legs.to_s[horizon.route_start[r]] + legs.from_s[horizon.route_end[r]])
        current = result[d]
        result[d] = alone if current is None else min(current, alone)
    return result


def _offer(
    horizon: Horizon, row: int, choice: OfferWindow, start: int, detour_s: int, detour_m: int,
    standalone: int | None, legs: _Legs, depot_meters: int, request: JobRequest,
    policy: PricingPolicy,
) -> Offer:  # fmt: skip
    rows = horizon.rows
    d, slack = horizon.routes[int(rows["route"][row])]
    neighbours = []
    if rows["prev_is_job"][row]:
        neighbours.append(int(legs.to_m[rows["prev"][row]]))
    if rows["next_is_job"][row]:
        neighbours.append(int(legs.from_m[rows["next"][row]]))
    nearest = min(neighbours) if neighbours else None
    # A qualified technician works that day (this one), so standalone is known.
    alone = standalone if standalone is not None else detour_s
    price = price_slot(
        base_cents=request.base_price_cents,
        depot_meters=depot_meters,
        detour_seconds=detour_s,
        standalone_seconds=alone,
        policy=policy,
        kind=choice.kind,
    )
    reason = Reason(
        route=route_reason(detour_s, nearest, price.discount_cents),
        minutes=max(1, round(detour_s / 60)),
        nearest_meters=nearest,
        kind=choice.kind,
        flexibility_cents=price.flexibility_cents,
    )
    return Offer(
        day=horizon.days[d].day,
        window=choice.window,
        technician_id=slack.route.technician.id,
        position=int(rows["position"][row]),
        planned_start=start,
        detour_seconds=detour_s,
        standalone_seconds=alone,
        nearest_stop_meters=nearest,
        price=price,
        kind=choice.kind,
        detour_meters=detour_m,
        reason=reason,
    )


def _weeks(
    horizon: Horizon, w: int, choice: OfferWindow, best: dict[tuple[int, int], Offer]
) -> list[Slot]:
    """One slot per calendar week: the day whose insertion adds the least travel (then
    the earliest day)."""
    weeks: dict[tuple[int, int], list[int]] = {}
    for d, day in enumerate(horizon.days):
        weeks.setdefault(day.day.isocalendar()[:2], []).append(d)
    slots = []
    for members in weeks.values():
        offers = [best[(d, w)] for d in members if (d, w) in best]
        chosen = min(offers, key=lambda o: (o.detour_seconds, o.detour_meters, o.day), default=None)
        days = tuple(horizon.days[d].day for d in members)
        slots.append(Slot(chosen.day if chosen else days[0], choice.window, chosen, "week", days))
    return slots
