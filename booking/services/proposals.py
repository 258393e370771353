"""Plan proposals: every dispatcher change is computed, checked and shown before it applies.

An action (re-optimise, move, pin, absence, emergency, ...) states the day's routes it
wants as a `Plan`. `evaluate` turns the plan into optimizer routes against the day as it
stands, re-checks every route with the independent checker, and compares with the plan in
force: which stops move where, whose arrival shifts, the km and minutes, and every promise
it would break. `propose` stores that as a `PlanProposal` for the dispatcher to look at;
`apply_proposal` does it all again under the day's lock and writes only when the day has
not changed since (the version the proposal was computed against) and every promise holds.

Nothing here talks to the solver: an action that needs it (re-optimisation) computes its
plan first, possibly in the background, and then proposes it like any other.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Business,
    Customer,
    PlanProposal,
    ProposalStatus,
    RouteStop,
    ServiceType,
    TechnicianAbsence,
    User,
)
from booking.services.audit import record
from booking.services.dayplans import (
    DayState,
    current_version,
    job_for,
    load_days,
    lock_day,
    save_routes,
)
from booking.services.offering import Address, job_request
from booking.services.problems import Problem, ProblemCode
from booking.services.travel import travel_times
from optimizer.domain import Job, Route, TimeWindow
from optimizer.schedule import RouteCheck, check_route


class ProposalKind(enum.StrEnum):
    REOPTIMISE = "reoptimise"
    MOVE = "move"
    PIN = "pin"
    UNPIN = "unpin"
    ABSENCE = "absence"
    EMERGENCY = "emergency"
    CANCEL = "cancel"
    NO_SHOW = "no_show"


# Statuses an action may set; a freed appointment leaves its route, a no-show stays in it.
SETTABLE = frozenset(
    {AppointmentStatus.CANCELLED, AppointmentStatus.UNPLACED, AppointmentStatus.NO_SHOW}
)
FREED = frozenset({AppointmentStatus.CANCELLED, AppointmentStatus.UNPLACED})


@dataclass(frozen=True)
class Stop:
    """One stop of a planned route: the appointment and whether it is pinned there."""

    appointment_id: int
    pinned: bool = False


# The id a plan gives the one appointment it creates (an emergency job, `Plan.draft`).
NEW_APPOINTMENT = 0
ADDRESS_FIELDS = tuple(f.name for f in fields(Address))


@dataclass(frozen=True)
class Draft:
    """An appointment that applying the plan creates: an emergency job entered by phone.

    The price is fixed when the proposal is computed and stored as it is shown."""

    service_id: int
    name: str
    phone: str
    email: str
    address: Address
    window_start_s: int
    window_end_s: int
    base_cents: int
    travel_fee_cents: int
    notes: str = ""
    access_hints: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.window_start_s <= self.window_end_s <= 86400:
            raise ValueError("the arrival window must lie within the day, start before end")
        if self.base_cents < 0 or self.travel_fee_cents < 0:
            raise ValueError("prices must not be negative")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(data.pop("address"))  # stored flat: street, postcode, ... beside the name
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Draft:
        rest = dict(data)
        address = Address(**{name: rest.pop(name) for name in ADDRESS_FIELDS})
        return cls(address=address, **rest)


@dataclass(frozen=True)
class Plan:
    """What applying a proposal writes for one day.

    `routes`: technician row id → its stops in order; technicians not named keep their
    route as it stands. `statuses`: appointment id → new status (cancelled, unplaced,
    no-show). `absent`: a technician who is off this day from now on (their route must be
    named and empty). `draft`: an appointment to create, planned as NEW_APPOINTMENT.
    `reason`: a short text for the audit log.
    """

    routes: Mapping[int, tuple[Stop, ...]]
    statuses: Mapping[int, AppointmentStatus] = field(default_factory=dict)
    absent: int | None = None
    reason: str = ""
    draft: Draft | None = None

    def __post_init__(self) -> None:
        seen: set[int] = set()
        for technician_id, stops in self.routes.items():
            for stop in stops:
                if stop.appointment_id in seen:
                    raise ValueError(f"appointment {stop.appointment_id} is planned twice")
                seen.add(stop.appointment_id)
            if technician_id == self.absent and stops:
                raise ValueError(f"technician {technician_id} is absent but has stops")
        if self.absent is not None and self.absent not in self.routes:
            raise ValueError("an absent technician's route must be named (and empty)")
        if (NEW_APPOINTMENT in seen) != (self.draft is not None):
            raise ValueError("a draft appointment must be planned, and only a draft")
        for appointment_id, status in self.statuses.items():
            if status not in SETTABLE:
                raise ValueError(f"status {status!r} cannot be set by a proposal")
            if status in FREED and appointment_id in seen:
                raise ValueError(f"appointment {appointment_id} is {status} but still planned")

    def to_dict(self) -> dict[str, Any]:
        return {
            "routes": {
                str(t): [[s.appointment_id, s.pinned] for s in stops]
                for t, stops in self.routes.items()
            },
            "statuses": {str(a): str(s) for a, s in self.statuses.items()},
            "absent": self.absent,
            "reason": self.reason,
            "draft": self.draft.to_dict() if self.draft else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        return cls(
            routes={
                int(t): tuple(Stop(int(a), bool(p)) for a, p in stops)
                for t, stops in data["routes"].items()
            },
            statuses={int(a): AppointmentStatus(s) for a, s in data["statuses"].items()},
            absent=data.get("absent"),
            reason=data.get("reason", ""),
            draft=Draft.from_dict(data["draft"]) if data.get("draft") else None,
        )


@dataclass(frozen=True)
class Placement:
    technician_id: int
    position: int
    arrival_s: int
    start_s: int


@dataclass(frozen=True)
class StopChange:
    """An appointment whose technician, position or planned start changes (or that leaves)."""

    appointment_id: int
    before: Placement | None
    after: Placement | None
    window_start_s: int
    window_end_s: int

    @property
    def shift_s(self) -> int | None:
        """How much later (negative: earlier) service starts; None when not on both plans."""
        if self.before is None or self.after is None:
            return None
        return self.after.start_s - self.before.start_s

    @property
    def window_holds(self) -> bool:
        return self.after is None or self.window_start_s <= self.after.start_s <= self.window_end_s


@dataclass(frozen=True)
class Effect:
    """What a plan does to the day: the figures before and after, and every change."""

    travel_before_s: int
    travel_after_s: int
    meters_before: int
    meters_after: int
    changes: tuple[StopChange, ...]
    problems: tuple[Problem, ...]

    @property
    def feasible(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        def placement(p: Placement | None) -> list[int] | None:
            return None if p is None else [p.technician_id, p.position, p.arrival_s, p.start_s]

        return {
            "travel_before_s": self.travel_before_s,
            "travel_after_s": self.travel_after_s,
            "meters_before": self.meters_before,
            "meters_after": self.meters_after,
            "changes": [
                [c.appointment_id, placement(c.before), placement(c.after),
                 c.window_start_s, c.window_end_s]
                for c in self.changes
            ],
            "problems": [problem.to_list() for problem in self.problems],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Effect:
        def placement(p: list[int] | None) -> Placement | None:
            return None if p is None else Placement(*p)

        return cls(
            travel_before_s=data["travel_before_s"],
            travel_after_s=data["travel_after_s"],
            meters_before=data["meters_before"],
            meters_after=data["meters_after"],
            changes=tuple(
                StopChange(a, placement(b), placement(c), ws, we)
                for a, b, c, ws, we in data["changes"]
            ),
            problems=tuple(Problem.from_list(p) for p in data["problems"]),
        )


@dataclass(frozen=True)
class Evaluation:
    effect: Effect
    state: DayState  # the day as it stands
    checks: Mapping[int, RouteCheck]  # the planned routes by technician row id


def _placements(checks: Mapping[int, RouteCheck]) -> dict[int, Placement]:
    return {
        int(visit.job.id): Placement(technician_id, position, visit.arrival, visit.start)
        for technician_id, check in checks.items()
        for position, visit in enumerate(check.schedule.visits)
    }


def _current_stops(business: Business, day: date) -> dict[int, RouteStop]:
    from booking.models import DayPlan

    return {
        stop.appointment_id: stop
        for stop in db.session.scalars(
            select(RouteStop)
            .join(DayPlan)
            .where(DayPlan.business_id == business.id, DayPlan.day == day)
        )
    }


def evaluate(business: Business, day: date, plan: Plan) -> Evaluation:
    """The plan against the day as it stands now; reads only."""
    travel = travel_times()
    state = load_days(business, [day])[0]
    by_row = {row.id: worker_id for worker_id, row in state.technicians.items()}
    stops = _current_stops(business, day)
    problems: list[Problem] = []
    rows = {worker_id: row.id for worker_id, row in state.technicians.items()}

    before = {
        state.technicians[route.technician.id].id: check_route(route, travel)
        for route in state.routes.routes
    }
    # Stops of technicians who are off the day (absent, day off) count as they stand.
    appointments = dict(state.appointments)

    after: dict[int, RouteCheck] = {}
    for technician_id, planned in plan.routes.items():
        if technician_id == plan.absent:
            continue
        worker_id = by_row.get(technician_id)
        if worker_id is None:
            problems.append(Problem(ProblemCode.NOT_WORKING, technician_id))
            continue
        worker = next(r.technician for r in state.routes.routes if r.technician.id == worker_id)
        jobs: list[Job] = []
        for position, stop in enumerate(planned):
            if stop.appointment_id == NEW_APPOINTMENT and plan.draft is not None:
                draft_job = _draft_job(business, plan.draft)
                if draft_job is None:
                    problems.append(Problem(ProblemCode.SERVICE_GONE))
                    continue
                jobs.append(draft_job)
                continue
            appointment = appointments.get(str(stop.appointment_id))
            if appointment is None:
                appointment = _appointment_of(business, day, stop.appointment_id)
                if appointment is None:
                    problems.append(
                        Problem(ProblemCode.NOT_ON_DAY, appointment_id=stop.appointment_id)
                    )
                    continue
                appointments[appointment.job_id] = appointment
            if appointment.status in FREED:
                problems.append(Problem(ProblemCode.NOT_OPEN, appointment_id=appointment.id))
                continue
            current = stops.get(appointment.id)
            if current is not None and current.technician_id not in plan.routes:
                problems.append(Problem(ProblemCode.TWICE, appointment_id=appointment.id))
            pin = (worker_id, position) if stop.pinned else None
            jobs.append(job_for(appointment, pin))
        after[technician_id] = check_route(Route(worker, tuple(jobs)), travel)
    for technician_id, check in before.items():
        if technician_id not in plan.routes:
            after[technician_id] = check

    for check in after.values():
        problems.extend(Problem.of(issue, rows) for issue in check.issues)
    planned_ids = {int(v.job.id) for c in after.values() for v in c.schedule.visits}
    for appointment_id, stop in stops.items():
        status = plan.statuses.get(appointment_id)
        gone = status in FREED
        if appointment_id not in planned_ids and not gone:
            if stop.technician_id in plan.routes or stop.technician_id == plan.absent:
                problems.append(Problem(ProblemCode.LOSES_PLACE, appointment_id=appointment_id))
            elif stop.technician_id not in before:  # off the day, and not handed on
                problems.append(Problem(ProblemCode.WITH_ABSENT, appointment_id=appointment_id))

    old = {
        appointment_id: Placement(s.technician_id, s.position, s.planned_arrival_s,
                                  s.planned_start_s)
        for appointment_id, s in stops.items()
    }
    new = _placements(after)
    changes = []
    for appointment_id in sorted(set(old) | set(new)):
        b, a = old.get(appointment_id), new.get(appointment_id)
        if b == a:
            continue
        if appointment_id == NEW_APPOINTMENT and plan.draft is not None:
            window = (plan.draft.window_start_s, plan.draft.window_end_s)
        else:
            appointment = appointments.get(str(appointment_id)) or _appointment_of(
                business, day, appointment_id
            )
            assert appointment is not None
            window = (appointment.window_start_s, appointment.window_end_s)
        changes.append(StopChange(appointment_id, b, a, *window))
    effect = Effect(
        travel_before_s=sum(c.schedule.travel_seconds for c in before.values()),
        travel_after_s=sum(c.schedule.travel_seconds for c in after.values()),
        meters_before=sum(c.schedule.travel_meters for c in before.values()),
        meters_after=sum(c.schedule.travel_meters for c in after.values()),
        changes=tuple(changes),
        problems=tuple(dict.fromkeys(problems)),
    )
    return Evaluation(effect, state, after)


def _draft_job(business: Business, draft: Draft) -> Job | None:
    service = db.session.get(ServiceType, draft.service_id)
    if service is None or service.business_id != business.id or not service.active:
        return None
    window = TimeWindow(draft.window_start_s, draft.window_end_s)
    return job_request(service, draft.address).job(str(NEW_APPOINTMENT), window)


def _create(business: Business, day: date, draft: Draft, now: datetime) -> Appointment:
    """The draft as a confirmed appointment with its customer, price locked as shown."""
    customer = Customer(
        business_id=business.id, name=draft.name, phone=draft.phone, email=draft.email
    )
    total = draft.base_cents + draft.travel_fee_cents
    appointment = Appointment(
        business_id=business.id,
        customer=customer,
        service_type_id=draft.service_id,
        street=draft.address.street,
        postcode=draft.address.postcode,
        city=draft.address.city,
        lat=draft.address.lat,
        lon=draft.address.lon,
        geo_precision=draft.address.precision,
        day=day,
        window_start_s=draft.window_start_s,
        window_end_s=draft.window_end_s,
        window_kind="slot",
        status=AppointmentStatus.CONFIRMED,
        source=AppointmentSource.EMERGENCY,
        price_base_cents=draft.base_cents,
        price_travel_fee_cents=draft.travel_fee_cents,
        price_discount_cents=0,
        price_flexibility_cents=0,
        price_total_cents=total,
        saving_pct=0,
        detour_s=0,
        standalone_s=0,
        notes=draft.notes,
        access_hints=draft.access_hints,
        language="de",
    )
    db.session.add(appointment)
    db.session.flush()
    return appointment


def _appointment_of(business: Business, day: date, appointment_id: int) -> Appointment | None:
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.business_id != business.id or appointment.day != day:
        return None
    return appointment


def start_proposal(
    business: Business, day: date, kind: ProposalKind, user: User | None
) -> PlanProposal:
    """A RUNNING proposal, committed so the page can show it, for a background job to fill
    in with `propose(..., into=...)`; its base version is the day's version now."""
    proposal = PlanProposal(
        business_id=business.id,
        day=day,
        kind=kind,
        status=ProposalStatus.RUNNING,
        base_version=current_version(business.id, day),
        created_by_id=user.id if user is not None else None,
    )
    db.session.add(proposal)
    db.session.commit()
    return proposal


def propose(
    business: Business,
    day: date,
    kind: ProposalKind,
    plan: Plan,
    user: User | None,
    *,
    into: PlanProposal | None = None,
    base_version: int | None = None,
) -> PlanProposal:
    """Evaluate the plan and store it for the dispatcher: READY when it keeps every
    promise, FAILED with the reasons otherwise. `into` fills a proposal that was created
    while its plan was being computed; `base_version` is the version the plan was
    computed against (default: the day's version now)."""
    version = current_version(business.id, day) if base_version is None else base_version
    effect = evaluate(business, day, plan).effect
    proposal = into or PlanProposal(
        business_id=business.id,
        day=day,
        kind=kind,
        created_by_id=user.id if user is not None else None,
    )
    proposal.base_version = version
    proposal.plan = plan.to_dict()
    proposal.summary = effect.to_dict()
    proposal.status = ProposalStatus.READY if effect.feasible else ProposalStatus.FAILED
    proposal.message = "; ".join(str(problem) for problem in effect.problems)
    db.session.add(proposal)
    db.session.commit()
    return proposal


class ApplyError(Exception):
    """The proposal cannot be applied; `code` is machine-readable, the UI words it."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


def apply_proposal(proposal: PlanProposal, user: User | None, now: datetime) -> Effect:
    """Write the proposal's plan, if the day is as it was and every promise still holds.

    ApplyError codes: "not_ready" (running, failed, applied or discarded), "stale" (the
    day changed since it was computed; the proposal is marked stale), "broken" (it would
    break a promise now; the proposal is marked failed with the reasons). Nothing is
    written on any error but that mark.
    """
    if proposal.status != ProposalStatus.READY:
        raise ApplyError("not_ready", str(proposal.status))
    business = db.session.get(Business, proposal.business_id)
    assert business is not None
    plan = Plan.from_dict(proposal.plan)
    try:
        day_plan = lock_day(business.id, proposal.day)
        if day_plan.version != proposal.base_version + 1:
            db.session.rollback()
            proposal.status = ProposalStatus.STALE
            db.session.commit()
            raise ApplyError("stale")
        evaluation = evaluate(business, proposal.day, plan)
        if not evaluation.effect.feasible:
            # Keep what breaks now on the proposal, so its page shows the reasons.
            db.session.rollback()
            proposal.summary = evaluation.effect.to_dict()
            proposal.status = ProposalStatus.FAILED
            proposal.message = "; ".join(str(p) for p in evaluation.effect.problems)
            db.session.commit()
            raise ApplyError("broken", proposal.message)
        appointments = {
            **evaluation.state.appointments,
            **{
                str(a.id): a
                for a in (
                    _appointment_of(business, proposal.day, s.appointment_id)
                    for stops in plan.routes.values()
                    for s in stops
                )
                if a is not None
            },
        }
        if plan.draft is not None:
            created = _create(business, proposal.day, plan.draft, now)
            appointments[str(NEW_APPOINTMENT)] = created
            proposal.created_appointment_id = created.id
        if plan.absent is not None:
            _clear_route(day_plan.id, plan.absent)
            db.session.add(
                TechnicianAbsence(
                    technician_id=plan.absent,
                    first_day=proposal.day,
                    last_day=proposal.day,
                    reason=plan.reason,
                )
            )
        for appointment_id, status in plan.statuses.items():
            appointment = _appointment_of(business, proposal.day, appointment_id)
            if appointment is None or not appointment.is_confirmed:
                raise ApplyError("broken", f"appointment {appointment_id} changed meanwhile")
            if status in FREED:
                _clear_stop(appointment_id)
            appointment.status = status
            if status == AppointmentStatus.CANCELLED:
                appointment.cancelled_at = now
            if status in FREED:
                appointment.calendar_sequence += 1
        changed = {
            technician_id: check.schedule
            for technician_id, check in evaluation.checks.items()
            if technician_id in plan.routes
        }
        save_routes(day_plan, changed, appointments)
        record(
            business.id,
            user,
            str(proposal.kind),
            f"day {proposal.day.isoformat()}",
            proposal=proposal.id,
            reason=plan.reason,
            created=proposal.created_appointment_id,
            moved=len(evaluation.effect.changes),
            km_before=round(evaluation.effect.meters_before / 1000, 1),
            km_after=round(evaluation.effect.meters_after / 1000, 1),
        )
        proposal.status = ProposalStatus.APPLIED
        db.session.commit()
    except ApplyError as error:
        if error.code not in ("stale", "broken"):  # those two committed their mark
            db.session.rollback()
        raise
    except BaseException:
        db.session.rollback()
        raise
    return evaluation.effect


def _clear_route(day_plan_id: int, technician_id: int) -> None:
    for stop in db.session.scalars(
        select(RouteStop).where(
            RouteStop.day_plan_id == day_plan_id, RouteStop.technician_id == technician_id
        )
    ):
        db.session.delete(stop)
    db.session.flush()


def _clear_stop(appointment_id: int) -> None:
    for stop in db.session.scalars(
        select(RouteStop).where(RouteStop.appointment_id == appointment_id)
    ):
        db.session.delete(stop)
    db.session.flush()


def discard(proposal: PlanProposal) -> None:
    if proposal.status in (ProposalStatus.READY, ProposalStatus.RUNNING, ProposalStatus.FAILED):
        proposal.status = ProposalStatus.DISCARDED
        db.session.commit()


def current_routes(state: DayState) -> dict[int, tuple[Stop, ...]]:
    """The day's routes as a plan's routes (technician row id → stops), pins included."""
    return {
        state.technicians[route.technician.id].id: tuple(
            Stop(int(job.id), job.pinned_position is not None) for job in route.jobs
        )
        for route in state.routes.routes
    }
