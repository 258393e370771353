"""The dispatcher's actions on one appointment, each stated as a plan for its day.

Pin, unpin, move, cancel and no-show change nothing here: each returns the `Plan` the
action wants (booking.services.proposals), built from the routes in force. The dispatcher
sees its evaluated effect (`propose`) and applies it under the day's lock, where every
promise is checked again; a plan that would break one is refused there with the reasons.

Each plan's reason names the appointment ("move appointment 17 to technician 3 #2"): the
audit entry that applying it writes says what changed, without personal data.

What cannot even be stated as a plan (the appointment is not in a working technician's
route, the technician does not work that day, no-show for a day still ahead) raises
`ActionError` with a code the page words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from booking.models import Appointment, AppointmentStatus, Business, Technician
from booking.services.dayplans import DayState, job_for, load_days
from booking.services.proposals import Plan, Stop, current_routes
from booking.services.travel import travel_times
from optimizer.insertion import best_insertion


class ActionError(Exception):
    """The action cannot be stated as a plan; `code` is machine-readable, the UI words it.

    Codes: "not_confirmed" (cancelled, no-show or unplaced already), "not_planned" (not in
    the route of a technician working that day), "not_working" (the chosen technician does
    not work that day), "bad_position" (outside 1..n+1), "future_day" (no-show for a day
    that has not come yet), "started" (the technician is on the way, there or done: it
    cannot move any more)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Placing:
    """Where an appointment sits in the plan in force: technician row id and index."""

    technician_id: int
    index: int
    pinned: bool


@dataclass(frozen=True)
class DayRoutes:
    """The day as it stands, and its routes in plan form (technician row id → stops)."""

    state: DayState
    routes: dict[int, tuple[Stop, ...]]

    def placing(self, appointment_id: int) -> Placing | None:
        for technician_id, stops in self.routes.items():
            for index, stop in enumerate(stops):
                if stop.appointment_id == appointment_id:
                    return Placing(technician_id, index, stop.pinned)
        return None

    def working(self) -> list[Technician]:
        """The technicians working this day, in the business's order."""
        return list(self.state.technicians.values())


def day_routes(business: Business, day: date) -> DayRoutes:
    state = load_days(business, [day])[0]
    return DayRoutes(state, current_routes(state))


def _confirmed(appointment: Appointment) -> None:
    if not appointment.is_confirmed:
        raise ActionError("not_confirmed")


def _placed(day: DayRoutes, appointment: Appointment) -> Placing:
    _confirmed(appointment)
    placing = day.placing(appointment.id)
    if placing is None:
        raise ActionError("not_planned")
    return placing


def pin_plan(day: DayRoutes, appointment: Appointment, pinned: bool) -> Plan:
    """The route with this stop's pinned flag set (or cleared); nothing else changes.

    A pinned stop stays with its technician at its position when the day is re-optimised.
    """
    placing = _placed(day, appointment)
    stops = list(day.routes[placing.technician_id])
    stops[placing.index] = Stop(appointment.id, pinned)
    reason = f"{'pin' if pinned else 'unpin'} appointment {appointment.id}"
    return Plan(routes={placing.technician_id: tuple(stops)}, reason=reason)


def positions(day: DayRoutes, appointment: Appointment, technician_id: int) -> int:
    """How many positions the technician's route offers this appointment: n + 1, where n
    counts their stops without it."""
    stops = day.routes.get(technician_id, ())
    return len([s for s in stops if s.appointment_id != appointment.id]) + 1


def best_position(day: DayRoutes, appointment: Appointment, technician_id: int) -> int | None:
    """The index where inserting the appointment into this technician's route (without
    it) adds the least driving and keeps every window there; None when it fits nowhere."""
    worker_id = str(technician_id)
    route = next((r for r in day.state.routes.routes if r.technician.id == worker_id), None)
    if route is None:
        return None
    job = job_for(appointment)  # unpinned: the dispatcher is choosing its place anew
    insertion = best_insertion([route.without_job(appointment.job_id)], job, travel_times())
    return None if insertion is None else insertion.position


def move_plan(
    day: DayRoutes, appointment: Appointment, technician_id: int, position: int | None
) -> Plan:
    """The appointment taken out of its route and put into `technician_id`'s at `position`
    (0-based; None: the best position there, or the end when it fits nowhere, so that the
    evaluation names what breaks). Its pinned flag goes with it."""
    placing = _placed(day, appointment)
    if appointment.started:
        raise ActionError("started")
    if technician_id not in day.routes:
        raise ActionError("not_working")
    available = positions(day, appointment, technician_id)
    if position is None:
        position = best_position(day, appointment, technician_id)
        if position is None:
            position = available - 1
    if not 0 <= position < available:
        raise ActionError("bad_position")
    source = tuple(
        s for s in day.routes[placing.technician_id] if s.appointment_id != appointment.id
    )
    target = source if technician_id == placing.technician_id else day.routes[technician_id]
    moved = (*target[:position], Stop(appointment.id, placing.pinned), *target[position:])
    routes = {placing.technician_id: source, technician_id: moved}
    reason = f"move appointment {appointment.id} to technician {technician_id} #{position + 1}"
    return Plan(routes=routes, reason=reason)


def cancel_plan(day: DayRoutes, appointment: Appointment) -> Plan:
    """Cancelled: the stop leaves its route and the rest of that route is re-timed. A stop
    with a technician who is off that day is simply removed when the plan is applied."""
    _confirmed(appointment)
    placing = day.placing(appointment.id)
    routes = {}
    if placing is not None:
        routes[placing.technician_id] = tuple(
            s for s in day.routes[placing.technician_id] if s.appointment_id != appointment.id
        )
    return Plan(
        routes=routes,
        statuses={appointment.id: AppointmentStatus.CANCELLED},
        reason=f"cancel appointment {appointment.id}",
    )


def no_show_plan(appointment: Appointment, today: date) -> Plan:
    """The customer was not at home: settled as a no-show, the stop stays in its route
    (it was driven). Only today or earlier: a visit still ahead cannot have failed."""
    _confirmed(appointment)
    if appointment.day > today:
        raise ActionError("future_day")
    return Plan(
        routes={},
        statuses={appointment.id: AppointmentStatus.NO_SHOW},
        reason=f"no-show appointment {appointment.id}",
    )

