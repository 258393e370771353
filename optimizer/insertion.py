"""Cheapest feasible insertion of one job into existing routes.

Candidates are tried in order of their marginal travel time, so the first feasible one is
the best. Feasibility comes from the route's time slack in O(1) per position
(`optimizer.slack`); only the winner is timed in full by the checker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.domain import Job, Location, Route, Technician
from optimizer.schedule import Schedule, schedule_route
from optimizer.slack import route_slack
from optimizer.travel import ZERO_LEG, TravelTimes


@dataclass(frozen=True, slots=True)
class Insertion:
    """Where a job fits: the new route, its timing and what the job adds in travel."""

    route: Route
    position: int
    detour_seconds: int
    detour_meters: int
    schedule: Schedule

    @property
    def technician_id(self) -> str:
        return self.route.technician.id

    @property
    def planned_start(self) -> int:
        return self.schedule.visits[self.position].start

    def nearest_stop_meters(self, travel: TravelTimes) -> int | None:
        """Road distance to the closest job next to it on the route (None: no neighbour)."""
        jobs = self.route.jobs
        job = jobs[self.position]
        neighbours = [jobs[i] for i in (self.position - 1, self.position + 1) if 0 <= i < len(jobs)]
        if not neighbours:
            return None
        return min(travel.leg(n.location, job.location).meters for n in neighbours)


def _stops(route: Route) -> list[Location]:
    tech = route.technician
    return [tech.start, *(job.location for job in route.jobs), tech.end]


def detours(route: Route, job: Job, travel: TravelTimes) -> list[tuple[int, int, int]]:
    """(detour seconds, detour metres, position) for every position in the route.

    Inserting between a and b replaces the leg a→b by a→job→b; an empty route costs the
    whole round trip start→job→end.
    """
    stops = _stops(route)
    result = []
    for position in range(len(stops) - 1):
        a, b = stops[position], stops[position + 1]
        to_job, from_job = travel.leg(a, job.location), travel.leg(job.location, b)
        direct = travel.leg(a, b) if route.jobs else ZERO_LEG  # idle technicians do not drive
        seconds = to_job.seconds + from_job.seconds - direct.seconds
        meters = to_job.meters + from_job.meters - direct.meters
        result.append((seconds, meters, position))
    return result


def best_insertion(routes: Sequence[Route], job: Job, travel: TravelTimes) -> Insertion | None:
    """The feasible insertion with the least added travel time over all qualified routes.

    Positions are screened in O(1) with the routes' slack; the winner is re-timed by the
    independent checker before it is returned."""
    candidates = []
    # Every leg to and from the new place, asked in bulk: one by one, each was a provider
    # call of its own (a numpy pass for one pair, or a request to a routing server).
    places = list(dict.fromkeys(place for route in routes for place in _stops(route)))
    travel.prefetch(places, [job.location])
    travel.prefetch([job.location], places)
    slacks = [route_slack(route, travel) for route in routes]
    for route_index, (route, slack) in enumerate(zip(routes, slacks, strict=True)):
        if not slack.allows(job):
            continue
        for seconds, meters, position in detours(route, job, travel):
            candidates.append((seconds, meters, route_index, position))
    candidates.sort()
    for seconds, meters, route_index, position in candidates:
        slack = slacks[route_index]
        tin = travel.seconds(slack.places[position], job.location)
        tout = travel.seconds(job.location, slack.places[position + 1])
        if slack.insertion_start(job, position, tin, tout) is None:
            continue
        new_route = routes[route_index].with_job(job, position)
        schedule = schedule_route(new_route, travel)
        if schedule is not None:
            return Insertion(new_route, position, seconds, meters, schedule)
    return None


def standalone_seconds(
    technicians: Sequence[Technician], job: Job, travel: TravelTimes
) -> int | None:
    """Travel time of serving the job alone: nearest qualified start → job → that end."""
    times = [
        travel.seconds(t.start, job.location) + travel.seconds(job.location, t.end)
        for t in technicians
        if t.can_do(job)
    ]
    return min(times) if times else None
