"""The promises of DESIGN.md, checked against the database: a list of what is broken.

- every confirmed appointment sits in exactly one route; a no-show stays in at most the
  one it was driven in; a cancelled or unplaced one sits in none;
- stops of a route are numbered 0..n-1 and lie on the appointment's day;
- each planned start lies inside its promised window;
- every route keeps shift, lunch break and skills (the optimizer's independent checker).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, Business, DayPlan, RouteStop
from booking.services.dayplans import load_days
from booking.services.travel import travel_times
from optimizer.schedule import check_route

# Statuses whose capacity is free again: such an appointment must not hold a stop.
FREED = frozenset({AppointmentStatus.CANCELLED, AppointmentStatus.UNPLACED})


def broken_promises(business: Business) -> list[str]:
    problems: list[str] = []
    appointments = db.session.scalars(
        select(Appointment).where(Appointment.business_id == business.id)
    ).all()
    stops = db.session.scalars(
        select(RouteStop).join(DayPlan).where(DayPlan.business_id == business.id)
    ).all()
    stops_of: dict[int, list[RouteStop]] = defaultdict(list)
    for stop in stops:
        stops_of[stop.appointment_id].append(stop)
    for appointment in appointments:
        own = stops_of.get(appointment.id, [])
        if appointment.status == AppointmentStatus.CONFIRMED and len(own) != 1:
            problems.append(f"appointment {appointment.id} is in {len(own)} routes, not 1")
        if appointment.status == AppointmentStatus.NO_SHOW and len(own) > 1:
            problems.append(f"no-show appointment {appointment.id} is in {len(own)} routes")
        if appointment.status in FREED and own:
            problems.append(f"{appointment.status} appointment {appointment.id} is in a route")
        for stop in own:
            if stop.day_plan.day != appointment.day:
                problems.append(f"appointment {appointment.id} is planned on another day")
            if not appointment.window_start_s <= stop.planned_start_s <= appointment.window_end_s:
                problems.append(f"appointment {appointment.id} planned outside its window")
    positions: dict[tuple[int, int], list[int]] = defaultdict(list)
    for stop in stops:
        positions[(stop.day_plan_id, stop.technician_id)].append(stop.position)
    for (plan_id, technician_id), numbers in positions.items():
        if sorted(numbers) != list(range(len(numbers))):
            problems.append(
                f"route of technician {technician_id} in plan {plan_id} "
                f"has positions {sorted(numbers)}"
            )
    days = sorted({appointment.day for appointment in appointments})
    for state in load_days(business, days):
        for route in state.routes.routes:
            problems.extend(
                f"{state.routes.day}: {violation}"
                for violation in check_route(route, travel_times()).violations
            )
    return problems
