"""What the dispatcher and the plumber see of a day: stops in order with times and totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from booking.extensions import db
from booking.models import Appointment, Business, DayPlan, RouteStop, Technician
from booking.services.dayplans import load_days
from booking.services.travel import travel_times
from optimizer.schedule import check_route


@dataclass(frozen=True)
class TechnicianDay:
    technician: Technician
    working: bool
    stops: list[RouteStop]
    travel_s: int
    travel_meters: int
    lunch_start_s: int | None
    return_s: int | None
    violations: tuple[str, ...]


def day_board(business: Business, day: date) -> list[TechnicianDay]:
    """Every active technician's day, in technician order, re-checked against the rules."""
    stops = db.session.scalars(
        select(RouteStop)
        .join(DayPlan)
        .where(DayPlan.business_id == business.id, DayPlan.day == day)
        .options(
            joinedload(RouteStop.appointment).joinedload(Appointment.service),
            joinedload(RouteStop.appointment).joinedload(Appointment.customer),
        )
        .order_by(RouteStop.technician_id, RouteStop.position)
    ).all()
    state = load_days(business, [day])[0]
    routes = {route.technician.id: route for route in state.routes.routes}
    board = []
    for row in business.technicians:
        own = [s for s in stops if s.technician_id == row.id]
        route = routes.get(str(row.id))
        if not row.active and not own:
            continue
        if route is None:
            board.append(TechnicianDay(row, False, own, 0, 0, None, None, ()))
            continue
        check = check_route(route, travel_times())
        schedule = check.schedule
        board.append(
            TechnicianDay(
                technician=row,
                working=True,
                stops=own,
                travel_s=schedule.travel_seconds,
                travel_meters=schedule.travel_meters,
                lunch_start_s=schedule.lunch_start,
                return_s=schedule.return_time if route.jobs else None,
                violations=check.violations,
            )
        )
    return board
