"""The week overview: capacity and use per technician and day, for seven days at once.

One query for the week's stops (with their places), one for the technicians with their
absences and one for the unplaced promises; travel comes from the app's travel-time memo.
Utilisation is the day view's: (service + travel) / (shift − lunch).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, Business, DayPlan, RouteStop, Technician
from booking.services.boards import available_seconds, utilisation_pct
from booking.services.dayplans import worker_for_day
from booking.services.travel import travel_times
from optimizer.domain import Location

WEEK_DAYS = 7


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


class CellState(enum.StrEnum):
    WORKING = "working"
    OFF = "off"  # no working hours that weekday (or the technician is inactive)
    ABSENT = "absent"  # ill, on holiday: a TechnicianAbsence covers the day


@dataclass(frozen=True, kw_only=True)
class Load:
    """Work and capacity: of one technician's day, of a day's team, of a whole week."""

    day: date
    jobs: int
    service_s: int
    travel_s: int
    available_s: int

    @property
    def utilisation_pct(self) -> int | None:
        return utilisation_pct(self.service_s, self.travel_s, self.available_s)


@dataclass(frozen=True, kw_only=True)
class WeekCell(Load):
    state: CellState


@dataclass(frozen=True, kw_only=True)
class DayTotal(Load):
    unplaced: int


def summed(day: date, loads: Sequence[Load], unplaced: int = 0) -> DayTotal:
    """Several loads as one, dated `day`."""
    return DayTotal(
        day=day,
        jobs=sum(load.jobs for load in loads),
        service_s=sum(load.service_s for load in loads),
        travel_s=sum(load.travel_s for load in loads),
        available_s=sum(load.available_s for load in loads),
        unplaced=unplaced,
    )


@dataclass(frozen=True)
class WeekRow:
    technician: Technician
    cells: tuple[WeekCell, ...]

    @property
    def total(self) -> DayTotal:
        """The technician's whole week (its `day` is the Monday)."""
        return summed(self.cells[0].day, self.cells)


@dataclass(frozen=True)
class WeekBoard:
    monday: date
    days: tuple[date, ...]
    rows: tuple[WeekRow, ...]
    totals: tuple[DayTotal, ...]

    @property
    def total(self) -> DayTotal:
        """The whole week as one (its `day` is the Monday)."""
        return summed(self.monday, self.totals, sum(t.unplaced for t in self.totals))


def week_board(business: Business, monday: date) -> WeekBoard:
    days = tuple(monday + timedelta(days=n) for n in range(WEEK_DAYS))
    rows = db.session.execute(
        select(
            DayPlan.day,
            RouteStop.technician_id,
            RouteStop.planned_start_s,
            RouteStop.planned_end_s,
            Appointment.lat,
            Appointment.lon,
        )
        .select_from(RouteStop)
        .join(DayPlan, RouteStop.day_plan_id == DayPlan.id)
        .join(Appointment, RouteStop.appointment_id == Appointment.id)
        .where(DayPlan.business_id == business.id, DayPlan.day.between(days[0], days[-1]))
        .order_by(DayPlan.day, RouteStop.technician_id, RouteStop.position)
    ).all()
    stops: dict[tuple[date, int], list[tuple[int, Location]]] = defaultdict(list)
    for day, technician_id, start, end, lat, lon in rows:
        stops[(day, technician_id)].append((end - start, Location(lat, lon)))
    unplaced = dict(
        db.session.execute(
            select(Appointment.day, func.count())
            .where(
                Appointment.business_id == business.id,
                Appointment.day.between(days[0], days[-1]),
                Appointment.status.in_([AppointmentStatus.UNPLACED, AppointmentStatus.CONFIRMED]),
                ~Appointment.stop.has(),
            )
            .group_by(Appointment.day)
        ).all()
    )
    technicians = db.session.scalars(
        select(Technician)
        .where(Technician.business_id == business.id)
        .options(selectinload(Technician.absences))
        .order_by(Technician.id)
    ).all()
    week_rows = []
    for technician in technicians:
        if not technician.active and not any((d, technician.id) in stops for d in days):
            continue
        cells = tuple(_cell(technician, day, stops.get((day, technician.id), [])) for day in days)
        week_rows.append(WeekRow(technician, cells))
    totals = tuple(
        summed(day, [row.cells[n] for row in week_rows], unplaced.get(day, 0))
        for n, day in enumerate(days)
    )
    return WeekBoard(monday, days, tuple(week_rows), totals)


def _cell(technician: Technician, day: date, stops: list[tuple[int, Location]]) -> WeekCell:
    """One technician's day. Stops still planned on a day off or an absence are counted
    (they need moving), with the drive from and back to the technician's own places."""
    worker = worker_for_day(technician, day)
    if worker is not None:
        state, available = CellState.WORKING, available_seconds(worker)
    elif technician.active and technician.absent_on(day):
        state, available = CellState.ABSENT, 0
    else:
        state, available = CellState.OFF, 0
    travel = travel_times()
    here = Location(technician.start_lat, technician.start_lon)
    travel_s = 0
    for _, there in stops:
        travel_s += travel.leg(here, there).seconds
        here = there
    if stops:
        travel_s += travel.leg(here, Location(technician.end_lat, technician.end_lon)).seconds
    return WeekCell(
        day=day,
        state=state,
        jobs=len(stops),
        service_s=sum(duration for duration, _ in stops),
        travel_s=travel_s,
        available_s=available,
    )
