"""Time slack of a route, for checking an insertion in constant time (Savelsbergh 1992).

A route is the node sequence start, job 1, …, job n, end. For every node we keep

- the earliest time the technician can *leave* it (forward pass from the shift start), and
- the latest time they can be *ready* at it, so that everything after it still keeps its
  window and the return (backward pass from the latest return).

Inserting a job between node i and node i+1 is then feasible exactly when the job can be
reached from node i's earliest departure within its window, and node i+1 is reached from
the job by node i+1's latest ready time. Waiting is allowed, so every timing function is
non-decreasing ("leaving earlier never hurts"), which is what makes one number per node
enough.

The lunch break follows the checker's rule (`optimizer.schedule`): it starts within
[earliest, latest], may overlap driving and waiting but not a job, and is taken in exactly
one gap between two nodes of a route with jobs. Leaving node a at t for node b `tau`
seconds away with the break in that gap, the technician is ready at b at
max(earliest, t + tau) + duration, and needs t <= latest. So every node carries two values
of each kind, one with the break already taken ("done") and one with it still ahead
("due"); a technician without a lunch break has only "done" values.

Times are whole seconds; INF and NEG stand for "impossible" in the forward and backward
direction. The results agree with `check_route` exactly (tested against it on random
routes); the booking still re-checks the one insertion it writes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.domain import Job, Location, LunchBreak, Route, TimeWindow
from optimizer.travel import ZERO_LEG as ZERO
from optimizer.travel import Leg, TravelTimes

INF = 2**60  # "cannot leave in time"; far from int64 overflow after adding legs
NEG = -(2**60)  # "cannot be ready early enough"


def depart(windows: Sequence[TimeWindow], duration: int, ready: int) -> int:
    """When a job is done if the technician is ready at its address at `ready`: service
    starts in the first window not yet closed (INF: all closed)."""
    for window in windows:
        if ready <= window.end:
            return max(ready, window.start) + duration
    return INF


def latest_ready(windows: Sequence[TimeWindow], duration: int, leave_by: int) -> int:
    """The latest time to be ready at a job so that it is done by `leave_by` (NEG: never)."""
    start_by = leave_by - duration
    best = NEG
    for window in windows:
        if window.start <= start_by:
            best = max(best, min(window.end, start_by))
    return best


def lunch_forward(lunch: LunchBreak | None, leave: int, tau: int) -> int:
    """Ready at the next node when the break is taken in this gap (INF: too late for it)."""
    if lunch is None or leave >= INF or leave > lunch.latest_start:
        return INF
    return max(lunch.earliest_start, leave + tau) + lunch.duration


def lunch_backward(lunch: LunchBreak | None, ready_by: int, tau: int) -> int:
    """The latest departure into a gap that takes the break and is ready by `ready_by`."""
    if lunch is None or ready_by <= NEG or lunch.earliest_start + lunch.duration > ready_by:
        return NEG
    return min(lunch.latest_start, ready_by - lunch.duration - tau)


@dataclass(frozen=True, slots=True)
class RouteSlack:
    """Forward and backward times of a route's nodes (index 0 = start, n + 1 = end).

    leave_done[i] / leave_due[i]: earliest departure from node i with the break taken /
    still ahead. ready_done[i] / ready_due[i]: latest ready time at node i such that the
    rest works out with the break taken before i / still to be taken after i.
    `first_position`: insertion positions below it would move a job pinned to a position.
    """

    route: Route
    places: tuple[Location, ...]
    legs: tuple[Leg, ...]  # legs[i]: places[i] → places[i + 1] (zero for an empty route)
    leave_done: tuple[int, ...]
    leave_due: tuple[int, ...]
    ready_done: tuple[int, ...]
    ready_due: tuple[int, ...]
    feasible: bool
    first_position: int
    load: int

    @property
    def lunch(self) -> LunchBreak | None:
        return self.route.technician.lunch

    def allows(self, job: Job) -> bool:
        """Skills, pins and capacity: may the job go into this route at all?"""
        tech = self.route.technician
        if not (self.feasible and tech.can_do(job)):
            return False
        return tech.capacity is None or self.load + job.demand <= tech.capacity

    def insertion_start(self, job: Job, position: int, tin: int, tout: int) -> int | None:
        """Service start of `job` inserted at `position` (between node `position` and the
        next), reached in `tin` seconds and leaving for the next node in `tout`; None if
        the route would break a rule. Does not check `allows`."""
        if position < self.first_position:
            return None
        lunch, windows, duration = self.lunch, job.windows, job.duration
        i = position
        best = INF
        # The break before the job: taken earlier, or in the gap into the job.
        ready = min(
            self.leave_done[i] + tin if self.leave_done[i] < INF else INF,
            lunch_forward(lunch, self.leave_due[i], tin),
        )
        done = depart(windows, job.duration, ready)
        if done < INF and done + tout <= self.ready_done[i + 1]:
            best = done - duration
        # The break after the job: in the gap out of it, or later.
        if lunch is not None and self.leave_due[i] < INF:
            done = depart(windows, duration, self.leave_due[i] + tin)
            if done < INF and (
                done + tout <= self.ready_due[i + 1]
                or lunch_forward(lunch, done, tout) <= self.ready_done[i + 1]
            ):
                best = min(best, done - duration)
        return None if best >= INF else best


def route_slack(route: Route, travel: TravelTimes) -> RouteSlack:
    """The slack of a route in force (one forward and one backward pass)."""
    tech = route.technician
    lunch = tech.lunch
    jobs = route.jobs
    places = (tech.start, *(job.location for job in jobs), tech.end)
    # An idle technician does not drive: an empty route has one zero leg.
    legs = tuple(travel.leg(a, b) for a, b in itertools.pairwise(places)) if jobs else (ZERO,)
    n = len(jobs)

    leave_done = [INF] * (n + 2)
    leave_due = [INF] * (n + 2)
    if lunch is None:
        leave_done[0] = tech.shift.start
    else:
        leave_due[0] = tech.shift.start
    for k in range(1, n + 1):
        tau = legs[k - 1].seconds
        job = jobs[k - 1]
        before_done, before_due = leave_done[k - 1], leave_due[k - 1]
        ready_due = before_due + tau if before_due < INF else INF
        ready_done = min(
            before_done + tau if before_done < INF else INF,
            lunch_forward(lunch, before_due, tau),
        )
        leave_due[k] = depart(job.windows, job.duration, ready_due)
        leave_done[k] = depart(job.windows, job.duration, ready_done)
    if n == 0:
        feasible = True
    else:
        tau = legs[n].seconds
        back = min(
            leave_done[n] + tau if leave_done[n] < INF else INF,
            lunch_forward(lunch, leave_due[n], tau),
        )
        feasible = back <= tech.latest_return
    leave_done[n + 1] = leave_due[n + 1] = INF

    ready_done = [NEG] * (n + 2)
    ready_due = [NEG] * (n + 2)
    ready_done[n + 1] = tech.latest_return
    for k in range(n, 0, -1):
        tau = legs[k].seconds
        job = jobs[k - 1]
        after_done, after_due = ready_done[k + 1], ready_due[k + 1]
        leave_by_done = after_done - tau if after_done > NEG else NEG
        leave_by_due = max(
            after_due - tau if after_due > NEG else NEG,
            lunch_backward(lunch, after_done, tau),
        )
        ready_done[k] = latest_ready(job.windows, job.duration, leave_by_done)
        ready_due[k] = latest_ready(job.windows, job.duration, leave_by_due)

    pinned = [k for k, job in enumerate(jobs) if job.pinned_position is not None]
    return RouteSlack(
        route=route,
        places=places,
        legs=legs,
        leave_done=tuple(leave_done),
        leave_due=tuple(leave_due),
        ready_done=tuple(ready_done),
        ready_due=tuple(ready_due),
        feasible=feasible,
        first_position=max(pinned) + 1 if pinned else 0,
        load=sum(job.demand for job in jobs),
    )
