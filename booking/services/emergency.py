"""An emergency job (Notdienst): inserted at the best position now, every promise kept.

The job goes where it adds the least driving among the technicians who can reach it
within its arrival window without breaking any other customer's window, shift, lunch or
skill. On the day itself, stops planned to start by now are under way or done: the job
is only inserted after them. It is priced at the base price plus the travel fee, without
combination or flexibility discounts: it is the firm that bends its routes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from booking.models import Business, ServiceType
from booking.services.clock import local_today, seconds_of_day
from booking.services.dayplans import load_days
from booking.services.offering import Address, depot, job_request, pricing_policy
from booking.services.proposals import NEW_APPOINTMENT, Draft, Plan, Stop
from booking.services.travel import travel_times
from optimizer.domain import Route, TimeWindow
from optimizer.insertion import best_insertion
from optimizer.pricing import travel_fee_cents


@dataclass(frozen=True, slots=True)
class Caller:
    name: str
    phone: str
    email: str = ""
    notes: str = ""
    access_hints: str = ""


def _under_way(route: Route, starts: dict[str, int], now_s: int) -> Route:
    """The route with every stop planned to start by `now_s` held at its place, so the
    insertion can only go after them."""
    jobs = tuple(
        replace(job, pinned_to=route.technician.id, pinned_position=index)
        if starts.get(job.id, now_s + 1) <= now_s
        else job
        for index, job in enumerate(route.jobs)
    )
    return Route(route.technician, jobs)


def emergency_plan(
    business: Business,
    day: date,
    service: ServiceType,
    address: Address,
    window: TimeWindow,
    caller: Caller,
    now: datetime,
) -> Plan | None:
    """The day's plan with the emergency job at its best place; None when no technician
    can take it in that window without breaking a promise."""
    travel = travel_times()
    state = load_days(business, [day])[0]
    routes = list(state.routes.routes)
    if day == local_today(business, now):
        now_s = seconds_of_day(business, now)
        starts = {
            appointment.job_id: appointment.stop.planned_start_s
            for appointment in state.appointments.values()
            if appointment.stop is not None
        }
        routes = [_under_way(route, starts, now_s) for route in routes]
    job = job_request(service, address).job(str(NEW_APPOINTMENT), window)
    insertion = best_insertion(routes, job, travel)
    if insertion is None:
        return None
    technician = state.technicians[insertion.technician_id]
    original = next(r for r in state.routes.routes if r.technician.id == insertion.technician_id)
    stops = [Stop(int(j.id), j.pinned_position is not None) for j in original.jobs]
    stops.insert(insertion.position, Stop(NEW_APPOINTMENT))
    policy = pricing_policy(business)
    fee = travel_fee_cents(travel.leg(depot(business), address.location).meters, policy)
    draft = Draft(
        service_id=service.id,
        name=caller.name,
        phone=caller.phone,
        email=caller.email,
        address=address,
        window_start_s=window.start,
        window_end_s=window.end,
        base_cents=service.base_price_cents,
        travel_fee_cents=fee,
        notes=caller.notes,
        access_hints=caller.access_hints,
    )
    return Plan(routes={technician.id: tuple(stops)}, draft=draft, reason="emergency")
