"""Loading a day's routes into the optimizer and saving them back, under the day's lock."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, delete, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload, selectinload

from booking.extensions import db
from booking.models import (
    PLANNED,
    Appointment,
    Business,
    DayPlan,
    RouteStop,
    ServiceType,
    Technician,
)
from optimizer.domain import Job, Location, LunchBreak, Route, TimeWindow
from optimizer.domain import Technician as Worker
from optimizer.offers import DayRoutes
from optimizer.schedule import Schedule


def worker_for_day(row: Technician, day: date) -> Worker | None:
    """The technician as the optimizer sees them on `day`, or None on a day off or absent."""
    hours = row.working_hours.get(str(day.weekday()))
    if not row.active or not hours or row.absent_on(day):
        return None
    lunch = None
    if row.lunch_duration_s and row.lunch_earliest_s is not None and row.lunch_latest_s is not None:
        lunch = LunchBreak(row.lunch_earliest_s, row.lunch_latest_s, row.lunch_duration_s)
    return Worker(
        id=str(row.id),
        start=Location(row.start_lat, row.start_lon),
        end=Location(row.end_lat, row.end_lon),
        shift=TimeWindow(hours[0], hours[1]),
        skills=frozenset(row.skills),
        lunch=lunch,
    )


def job_for(appointment: Appointment, pinned_at: tuple[str, int] | None = None) -> Job:
    """The appointment as a job; `pinned_at` (technician id, position) fixes a pinned stop."""
    service = appointment.service
    return _job(
        appointment.job_id,
        Location(appointment.lat, appointment.lon),
        service.duration_s,
        TimeWindow(appointment.window_start_s, appointment.window_end_s),
        service.job_skills,
        pinned_at,
    )


def _job(
    job_id: str,
    location: Location,
    duration_s: int,
    window: TimeWindow,
    skills: frozenset[str],
    pinned_at: tuple[str, int] | None,
) -> Job:
    return Job(
        id=job_id,
        location=location,
        duration=duration_s,
        window=window,
        skills=skills,
        pinned_to=pinned_at[0] if pinned_at else None,
        pinned_position=pinned_at[1] if pinned_at else None,
    )


def job_at(stop: RouteStop, technician_id: str) -> Job:
    """A stop's job as the plan in force holds it: a pinned stop stays where it is, and so
    does one the technician has set off to, reached or finished."""
    held = stop.pinned or stop.appointment.started
    return job_for(stop.appointment, (technician_id, stop.position) if held else None)


@dataclass(frozen=True)
class DayState:
    """The plan in force for one day, with the rows behind it."""

    routes: DayRoutes
    appointments: dict[str, Appointment]  # by optimizer job id
    technicians: dict[str, Technician]  # by optimizer technician id


def load_days(business: Business, days: Iterable[date]) -> list[DayState]:
    """Routes of every technician working on each day, with their stops in order."""
    days = list(days)
    stops = db.session.scalars(
        select(RouteStop)
        .join(DayPlan)
        .where(DayPlan.business_id == business.id, DayPlan.day.in_(days))
        .options(
            joinedload(RouteStop.day_plan),
            joinedload(RouteStop.appointment).joinedload(Appointment.service),
        )
        .order_by(RouteStop.technician_id, RouteStop.position)
    ).all()
    by_day_tech: dict[tuple[date, int], list[RouteStop]] = defaultdict(list)
    for stop in stops:
        by_day_tech[(stop.day_plan.day, stop.technician_id)].append(stop)
    rows = _technician_rows(business)
    states = []
    for day in days:
        routes = []
        appointments: dict[str, Appointment] = {}
        technicians: dict[str, Technician] = {}
        for row in rows:
            worker = worker_for_day(row, day)
            route_stops = by_day_tech.get((day, row.id), [])
            for stop in route_stops:
                appointments[stop.appointment.job_id] = stop.appointment
            if worker is None:
                continue
            technicians[worker.id] = row
            routes.append(Route(worker, tuple(job_at(s, worker.id) for s in route_stops)))
        states.append(DayState(DayRoutes(day, tuple(routes)), appointments, technicians))
    return states


def _technician_rows(business: Business) -> Sequence[Technician]:
    """The active technicians with their absences, in one more query: worker_for_day asks
    each of them about each day, and loading absences lazily cost a round trip each."""
    return db.session.scalars(
        select(Technician)
        .where(Technician.business_id == business.id, Technician.active)
        .options(selectinload(Technician.absences))
        .order_by(Technician.id)
    ).all()


def day_workers(business: Business, days: Iterable[date]) -> dict[date, tuple[Worker, ...]]:
    """Per day, the technicians working it as the optimizer sees them, in `load_days`'
    order (by row id)."""
    rows = _technician_rows(business)
    return {
        day: tuple(worker for row in rows if (worker := worker_for_day(row, day)) is not None)
        for day in days
    }


def load_routes(
    business: Business,
    days: Iterable[date],
    workers: Mapping[date, Sequence[Worker]] | None = None,
) -> list[DayRoutes]:
    """The routes of `load_days`, without the rows behind them: for offers and bookings,
    which only read routes. The stops come as plain columns, not as stops, appointments
    and services loaded into the session: each web process rebuilds a day after every
    booking of it, and loading those objects was most of that. `workers`: each day's
    `day_workers`, when the caller has them already (cached per technicians' state)."""
    days = list(days)
    if workers is None:
        workers = day_workers(business, days)
    stops = db.session.execute(_stops_query(), {"business_id": business.id, "days": days}).all()
    by_day_tech: dict[tuple[date, int], list[Any]] = defaultdict(list)
    for stop in stops:
        by_day_tech[(stop[0], stop[1])].append(stop)
    plans = []
    for day in days:
        routes = []
        for worker in workers[day]:
            jobs = tuple(
                _job_of(
                    appointment_id, lat, lon, duration_s, start_s, end_s, required_skill,
                    worker.id if is_held else None, position if is_held else None,
                )
                for _, _, position, is_held, appointment_id, lat, lon, start_s, end_s, duration_s,
                required_skill in by_day_tech.get((day, int(worker.id)), [])
            )  # fmt: skip
            routes.append(Route(worker, jobs))
        plans.append(DayRoutes(day, tuple(routes)))
    return plans


@cache
def _stops_query() -> Select[Any]:
    """The stops of a business's days as plain columns, in route order. Built once: each
    web process runs it after every booking, and building it cost about as much as
    running it."""
    R, A, S = RouteStop, Appointment, ServiceType
    held = or_(R.pinned, A.progress != PLANNED)  # as job_at: pinned, or started
    return (
        select(
            DayPlan.day, R.technician_id, R.position, held, A.id, A.lat, A.lon,
            A.window_start_s, A.window_end_s, S.duration_s, S.required_skill,
        )
        .join(R.day_plan)
        .join(R.appointment)
        .join(A.service)
        .where(
            DayPlan.business_id == bindparam("business_id"),
            DayPlan.day.in_(bindparam("days", expanding=True)),
        )
        .order_by(R.technician_id, R.position)
    )  # fmt: skip


@lru_cache(maxsize=16_384)  # a few firms' horizons; a job is a few hundred bytes
def _job_of(
    appointment_id: int, lat: float, lon: float, duration_s: int, start_s: int, end_s: int,
    required_skill: str | None, pinned_to: str | None, pinned_position: int | None,
) -> Job:  # fmt: skip
    """The job of a stop's values. Jobs are immutable and a day rebuilt after a booking
    holds the same stops but one, so each is validated once, not on every rebuild (a
    rebuild is what every web process does after every booking)."""
    return _job(
        str(appointment_id),
        Location(lat, lon),
        duration_s,
        TimeWindow(start_s, end_s),
        ServiceType.skills_for(required_skill),
        (pinned_to, pinned_position) if pinned_to is not None and pinned_position is not None
        else None,
    )  # fmt: skip


def route_appointments(plan: DayPlan, technician_id: int) -> dict[str, Appointment]:
    """The appointments on one technician's route of `plan`, by optimizer job id: what
    `save_routes` needs to rewrite that route alone."""
    appointments = db.session.scalars(
        select(Appointment)
        .join(RouteStop, RouteStop.appointment_id == Appointment.id)
        .where(RouteStop.day_plan_id == plan.id, RouteStop.technician_id == technician_id)
    )
    return {appointment.job_id: appointment for appointment in appointments}


def lock_day(business_id: int, day: date) -> DayPlan:
    """Take the day's lock for this transaction and return its plan row.

    Bumping the version is a write: it row-locks on PostgreSQL and takes SQLite's write
    lock, so concurrent changes to the same day queue up here until commit or rollback.
    """
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(DayPlan)
        .values(business_id=business_id, day=day, version=0)
        .on_conflict_do_nothing(index_elements=["business_id", "day"])
    )
    db.session.execute(
        update(DayPlan)
        .where(DayPlan.business_id == business_id, DayPlan.day == day)
        .values(version=DayPlan.version + 1)
        .execution_options(synchronize_session=False)
    )
    return db.session.scalars(
        select(DayPlan)
        .where(DayPlan.business_id == business_id, DayPlan.day == day)
        .execution_options(populate_existing=True)
    ).one()


def current_version(business_id: int, day: date) -> int:
    version = db.session.scalar(
        select(DayPlan.version).where(DayPlan.business_id == business_id, DayPlan.day == day)
    )
    return version or 0


def save_routes(
    plan: DayPlan,
    schedules: Mapping[int, Schedule],
    appointments: Mapping[str, Appointment],
) -> None:
    """Replace the stops of the given technicians (by row id) by their schedules' visits.

    Two statements, a delete and one insert of all new rows, not the unit of work: it
    loaded each appointment's old stop to move the relationship over, most of a
    booking's cost. Objects already in the session learn of it: deleted stops leave it,
    and each appointment's `stop` and the plan's `stops` are read afresh when next used."""
    db.session.flush()  # new appointments get their ids; pending changes go first
    db.session.execute(
        delete(RouteStop).where(
            RouteStop.day_plan_id == plan.id, RouteStop.technician_id.in_(list(schedules))
        )
    )
    # Deleted first: an appointment may reappear elsewhere, and appointment_id is unique.
    rows = [
        {
            "day_plan_id": plan.id,
            "technician_id": technician_id,
            "position": position,
            "appointment_id": appointments[visit.job.id].id,
            "planned_arrival_s": visit.arrival,
            "planned_start_s": visit.start,
            "planned_end_s": visit.end,
            # A started stop is held by its progress, not by a dispatcher's pin.
            "pinned": visit.job.pinned_to is not None and not appointments[visit.job.id].started,
        }
        for technician_id, schedule in schedules.items()
        for position, visit in enumerate(schedule.visits)
    ]
    if rows:
        db.session.execute(insert(RouteStop), rows)
    db.session.expire(plan, ["stops"])
    for held in list(db.session.identity_map.values()):
        if isinstance(held, Appointment):
            db.session.expire(held, ["stop"])
