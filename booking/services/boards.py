"""What the dispatcher and the plumber see of a day: stops in order with times and totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Business,
    DayPlan,
    RouteStop,
    Technician,
)
from booking.services.clock import local_today, now_utc, seconds_of_day
from booking.services.dayplans import load_days
from booking.services.eta import StopEta, forecast
from booking.services.problems import Problem
from booking.services.progress import stop_progress
from booking.services.timeline import Timeline, build_timeline
from booking.services.travel import travel_times
from optimizer.domain import Technician as Worker
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
    violations: tuple[Problem, ...]  # what the re-check finds broken in this route
    absent: bool = False  # not working because of a TechnicianAbsence (not a day off)
    timeline: Timeline | None = None
    service_s: int = 0
    available_s: int = 0  # shift minus lunch: the time there is to serve and drive
    # Appointment ids of stops whose promise the re-check says will not be kept: the start
    # lies outside every window, or the technician does not work this day at all.
    at_risk: frozenset[int] = frozenset()
    # Reported and expected times per appointment id (booking.services.eta), from the
    # technician's progress reports; the at-risk stops include those expected to be late.
    eta: dict[int, StopEta] = field(default_factory=dict)

    @property
    def utilisation_pct(self) -> int | None:
        return utilisation_pct(self.service_s, self.travel_s, self.available_s)


def available_seconds(worker: Worker) -> int:
    """Shift length minus the lunch break: the working time there is to fill."""
    lunch = worker.lunch.duration if worker.lunch is not None else 0
    return worker.shift.end - worker.shift.start - lunch


def utilisation_pct(service_s: int, travel_s: int, available_s: int) -> int | None:
    """(service + travel) / (shift − lunch) in whole percent; None without working time.

    Waiting is not counted as use: a day full of waiting for windows to open is a day with
    room for more jobs. It can exceed 100 with overtime."""
    if available_s <= 0:
        return None
    return round(100 * (service_s + travel_s) / available_s)


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
    travel = travel_times()
    now = now_utc()
    # Overdue expected events are pushed to "now" only on the day itself.
    now_s = seconds_of_day(business, now) if local_today(business, now) == day else None
    board = []
    for row in business.technicians:
        own = [s for s in stops if s.technician_id == row.id]
        route = routes.get(str(row.id))
        if not row.active and not own:
            continue
        if route is None:
            board.append(
                TechnicianDay(
                    technician=row,
                    working=False,
                    stops=own,
                    travel_s=0,
                    travel_meters=0,
                    lunch_start_s=None,
                    return_s=None,
                    violations=(),
                    absent=row.active and row.absent_on(day),
                    at_risk=frozenset(s.appointment_id for s in own),
                )
            )
            continue
        check = check_route(route, travel)
        schedule = check.schedule
        pinned = {s.appointment.job_id for s in own if s.pinned}
        timeline = build_timeline(schedule, travel, pinned)
        late = {s.job_id for s in timeline.segments if s.late}
        expected = forecast(
            route,
            schedule,
            {s.appointment.job_id: stop_progress(business, s.appointment) for s in own},
            now_s,
            travel,
        ).by_job()
        # A finished stop is history: the plan's verdict on it no longer matters; a stop
        # expected to start after its window (from the reports so far) is at risk.
        late = {job for job in late if not expected[job].state.finished} | {
            job for job, e in expected.items() if e.misses_window
        }
        board.append(
            TechnicianDay(
                technician=row,
                working=True,
                stops=own,
                travel_s=schedule.travel_seconds,
                travel_meters=schedule.travel_meters,
                lunch_start_s=schedule.lunch_start,
                return_s=schedule.return_time if route.jobs else None,
                violations=tuple(
                    Problem.of(issue, {route.technician.id: row.id}) for issue in check.issues
                ),
                timeline=timeline,
                service_s=sum(v.end - v.start for v in schedule.visits),
                available_s=available_seconds(route.technician),
                at_risk=frozenset(s.appointment_id for s in own if s.appointment.job_id in late),
                eta={s.appointment_id: expected[s.appointment.job_id] for s in own},
            )
        )
    return board


@dataclass(frozen=True)
class DayFigures:
    """The day's key figures over every technician on the board."""

    jobs: int
    travel_meters: int
    travel_s: int
    service_s: int
    available_s: int
    discounts_cents: int  # combination + flexibility discounts of the day's planned jobs
    on_time_planned_pct: int | None  # stops whose re-checked start lies in their window
    unplaced: list[Appointment]  # promises of the day in no route
    at_risk: list[RouteStop]  # stops whose promise the re-check says will not be kept
    approximate: int  # stops at an address located only to the street or postcode
    # The share of reported arrivals that lay by the end of their window (None: no reports)
    on_time_actual_pct: int | None = None

    @property
    def utilisation_pct(self) -> int | None:
        return utilisation_pct(self.service_s, self.travel_s, self.available_s)


def day_figures(business: Business, day: date, board: list[TechnicianDay]) -> DayFigures:
    stops = [stop for entry in board for stop in entry.stops]
    at_risk = [s for entry in board for s in entry.stops if s.appointment_id in entry.at_risk]
    on_time = round(100 * (len(stops) - len(at_risk)) / len(stops)) if stops else None
    # A cancelled promise holds no stop; an unplaced one never does; a confirmed one without
    # a stop breaks the first invariant (every confirmed appointment sits in one route).
    unplaced = db.session.scalars(
        select(Appointment)
        .where(
            Appointment.business_id == business.id,
            Appointment.day == day,
            Appointment.status.in_([AppointmentStatus.UNPLACED, AppointmentStatus.CONFIRMED]),
            ~Appointment.stop.has(),
        )
        .options(joinedload(Appointment.customer), joinedload(Appointment.service))
        .order_by(Appointment.window_start_s, Appointment.id)
    ).all()
    return DayFigures(
        jobs=len(stops),
        travel_meters=sum(e.travel_meters for e in board),
        travel_s=sum(e.travel_s for e in board),
        service_s=sum(e.service_s for e in board),
        available_s=sum(e.available_s for e in board),
        discounts_cents=sum(s.appointment.price.discounts_cents for s in stops),
        on_time_planned_pct=on_time,
        unplaced=list(unplaced),
        at_risk=at_risk,
        approximate=sum(1 for s in stops if s.appointment.geo_precision != "house"),
        on_time_actual_pct=on_time_actual_pct(business, [s.appointment for s in stops]),
    )


def on_time_actual_pct(business: Business, appointments: list[Appointment]) -> int | None:
    """The share of reported arrivals that kept the promise, in whole percent; None before
    the first report. Arriving early keeps it (the technician waits for the window)."""
    arrivals = [
        (seconds_of_day(business, a.arrived_at), a.window_end_s)
        for a in appointments
        if a.arrived_at is not None
    ]
    if not arrivals:
        return None
    return round(100 * sum(1 for at, end in arrivals if at <= end) / len(arrivals))
