"""Progress the technician reports from the route sheet: on the way, arrived, done, or the
customer not at home.

The reports are stored on the appointment (stops are re-created whenever a plan is
saved). Steps go forward only: on the way → arrived → done, where "on the way" may be
skipped and "not at home" ends a stop from any open state; a technician is at one stop at
a time. "Not at home" also settles the appointment as a no-show, and like every status
change it takes the day's lock, so proposals computed before it go stale. The step is
written with a compare-and-set on the state read, so a double tap cannot report twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Business,
    DayPlan,
    RouteStop,
    Technician,
)
from booking.services import audit
from booking.services.clock import local_today, seconds_of_day
from booking.services.dayplans import lock_day
from booking.services.eta import StopProgress, StopState

STEPS = (StopState.ON_THE_WAY, StopState.ARRIVED, StopState.DONE, StopState.NOT_HOME)
_RANK = {
    StopState.PLANNED: 0,
    StopState.ON_THE_WAY: 1,
    StopState.ARRIVED: 2,
    StopState.DONE: 3,
    StopState.NOT_HOME: 3,
}
_ACTIVE = (StopState.ON_THE_WAY, StopState.ARRIVED)


class ProgressError(Exception):
    """A step that is refused; `code` is machine-readable, the page words it.

    Codes: "not_on_sheet" (not a stop of this technician's route that day), "not_open"
    (cancelled, unplaced or settled by the dispatcher), "not_today", "finished",
    "backwards" (the stop is already at or past that step), "not_arrived" (done before
    arrived), "busy" (another stop is under way: `number` is its 1-based position),
    "changed" (changed by a request at the same moment)."""

    def __init__(self, code: str, number: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.number = number


def refusal(current: StopState, step: StopState) -> str | None:
    """Why `step` may not follow `current` (a ProgressError code), or None when it may."""
    if current.finished:
        return "finished"
    if _RANK[step] <= _RANK[current]:
        return "backwards"
    if step == StopState.DONE and current != StopState.ARRIVED:
        return "not_arrived"
    return None


def stop_progress(business: Business, appointment: Appointment) -> StopProgress:
    """The appointment's reports in seconds of the business's day, for booking.services.eta."""

    def seconds(moment: datetime | None) -> int | None:
        return None if moment is None else seconds_of_day(business, moment)

    return StopProgress(
        StopState(appointment.progress),
        seconds(appointment.on_the_way_at),
        seconds(appointment.arrived_at),
        seconds(appointment.done_at),
    )


def route_stops(technician: Technician, day: date) -> list[RouteStop]:
    """The technician's stops on `day`, in route order (only their own business's plan)."""
    return list(
        db.session.scalars(
            select(RouteStop)
            .join(DayPlan)
            .where(
                DayPlan.business_id == technician.business_id,
                DayPlan.day == day,
                RouteStop.technician_id == technician.id,
            )
            .order_by(RouteStop.position)
        )
    )


@dataclass(frozen=True)
class Reported:
    appointment: Appointment
    step: StopState


def report(
    business: Business,
    technician: Technician,
    day: date,
    appointment_id: int,
    step: StopState,
    now: datetime,
) -> Reported:
    """Record `step` for the appointment at `now` and commit, with its audit entry; raise
    ProgressError (nothing written) when the step is refused."""
    if step not in STEPS:
        raise ValueError(f"step must be one of {STEPS}, got {step!r}")
    stops = route_stops(technician, day)
    stop = next((s for s in stops if s.appointment_id == appointment_id), None)
    if stop is None or technician.business_id != business.id:
        raise ProgressError("not_on_sheet")
    appointment = stop.appointment
    if appointment.status != AppointmentStatus.CONFIRMED:
        raise ProgressError("not_open")
    if day != local_today(business, now):
        raise ProgressError("not_today")
    current = StopState(appointment.progress)
    code = refusal(current, step)
    if code is not None:
        raise ProgressError(code)
    busy = next(
        (
            index
            for index, other in enumerate(stops, start=1)
            if other.appointment_id != appointment_id and other.appointment.progress in _ACTIVE
        ),
        None,
    )
    if busy is not None:
        raise ProgressError("busy", busy)

    values: dict[str, object] = {"progress": step.value}
    if step == StopState.ON_THE_WAY:
        values["on_the_way_at"] = now
    elif step == StopState.ARRIVED:
        values["arrived_at"] = now
    else:
        values["done_at"] = now
    if step == StopState.NOT_HOME:
        lock_day(business.id, day)  # a status change: pending proposals go stale
        values["status"] = AppointmentStatus.NO_SHOW.value
    changed = db.session.execute(
        update(Appointment)
        .where(
            Appointment.id == appointment_id,
            Appointment.progress == current.value,
            Appointment.status == AppointmentStatus.CONFIRMED.value,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise ProgressError("changed")
    audit.record(
        business.id,
        None,
        "progress",
        f"appointment {appointment_id}",
        step=step.value,
        technician=technician.id,
    )
    db.session.commit()
    db.session.refresh(appointment)
    return Reported(appointment, step)
