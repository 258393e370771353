"""One appointment and the dispatcher's actions on it: pin, unpin, move, cancel, no-show.

No action writes here. Each states the plan it wants (booking.services.stop_actions),
`propose` evaluates it against the day as it stands, and the dispatcher looks at its
effect on the proposal page before applying it there; a plan that would break a promise
becomes a failed proposal that lists why. `after_apply` sends the customer emails of an
applied change once it is committed.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from booking.dispatch import bp, my_business
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentSource,
    AppointmentStatus,
)
from booking.services.clock import local_today, now_utc
from booking.services.proposals import Plan, ProposalKind, propose
from booking.services.stop_actions import (
    ActionError,
    DayRoutes,
    best_position,
    cancel_plan,
    day_routes,
    move_plan,
    no_show_plan,
    pin_plan,
    positions,
)

ACTION_ERRORS = {
    "not_confirmed": _l("This appointment is no longer confirmed; nothing to change."),
    "not_planned": _l(
        "This appointment is not in the route of a technician working that day."
    ),
    "not_working": _l("This technician does not work on that day."),
    "bad_position": _l("Please choose a position in that technician's route."),
    "started": _l("The technician is on the way there, there already or done: it cannot move."),
    "future_day": _l(
        "A no-show can only be recorded on the day of the appointment or afterwards."
    ),
}

STATUS_LABELS = {
    AppointmentStatus.CONFIRMED: _l("confirmed"),
    AppointmentStatus.CANCELLED: _l("cancelled"),
    AppointmentStatus.NO_SHOW: _l("customer not at home"),
    AppointmentStatus.UNPLACED: _l("unplaced: needs a new time"),
}

SOURCE_LABELS = {
    AppointmentSource.ONLINE: _l("online"),
    AppointmentSource.PHONE: _l("by phone"),
    AppointmentSource.EMERGENCY: _l("emergency"),
}


def _own_appointment(appointment_id: int) -> Appointment:
    """The appointment if it belongs to the user's business; 404 otherwise, so another
    firm's ids reveal nothing."""
    business = my_business()
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.business_id != business.id:
        abort(404)
    return appointment


def _refused(appointment: Appointment, error: ActionError):
    flash(str(ACTION_ERRORS[error.code]), "error")
    return redirect(url_for("dispatch.appointment", appointment_id=appointment.id))


def _propose(appointment: Appointment, kind: ProposalKind, plan: Plan):
    proposal = propose(my_business(), appointment.day, kind, plan, current_user)
    return redirect(url_for("dispatch.proposal", proposal_id=proposal.id))


@bp.get("/appointments/<int:appointment_id>")
def appointment(appointment_id: int):
    appointment = _own_appointment(appointment_id)
    business = my_business()
    day = day_routes(business, appointment.day)
    placing = day.placing(appointment.id)
    movable = appointment.is_confirmed and placing is not None
    targets = _move_targets(day, appointment) if movable else []
    return render_template(
        "dispatch/appointment.html",
        business=business,
        appointment=appointment,
        stop=appointment.stop,
        placing=placing,
        movable=movable,
        targets=targets,
        most_positions=max((count for _id, _name, count, _best in targets), default=1),
        no_show_allowed=appointment.day <= local_today(business, now_utc()),
        status_label=STATUS_LABELS.get(
            AppointmentStatus(appointment.status), appointment.status
        ),
        source_label=SOURCE_LABELS.get(AppointmentSource(appointment.source), appointment.source),
    )


def _move_targets(
    day: DayRoutes, appointment: Appointment
) -> list[tuple[int, str, int, int | None]]:
    """Per working technician: row id, name, how many positions, and the best one (1-based;
    None when the appointment fits nowhere in their route)."""
    targets = []
    for technician in day.working():
        best = best_position(day, appointment, technician.id)
        targets.append(
            (
                technician.id,
                technician.name,
                positions(day, appointment, technician.id),
                None if best is None else best + 1,
            )
        )
    return targets


@bp.post("/appointments/<int:appointment_id>/pin")
def pin_stop(appointment_id: int):
    return _pin(appointment_id, pinned=True)


@bp.post("/appointments/<int:appointment_id>/unpin")
def unpin_stop(appointment_id: int):
    return _pin(appointment_id, pinned=False)


def _pin(appointment_id: int, pinned: bool):
    appointment = _own_appointment(appointment_id)
    try:
        plan = pin_plan(day_routes(my_business(), appointment.day), appointment, pinned)
    except ActionError as error:
        return _refused(appointment, error)
    return _propose(appointment, ProposalKind.PIN if pinned else ProposalKind.UNPIN, plan)


@bp.post("/appointments/<int:appointment_id>/move")
def move_appointment(appointment_id: int):
    """Technician (row id) and position (1-based, or "best": the cheapest feasible place
    in that route) from the form."""
    appointment = _own_appointment(appointment_id)
    raw_technician = request.form.get("technician", "")
    raw_position = request.form.get("position", "best")
    try:
        if not raw_technician.isdigit():
            raise ActionError("not_working")
        if raw_position != "best" and not raw_position.isdigit():
            raise ActionError("bad_position")
        position = None if raw_position == "best" else int(raw_position) - 1
        day = day_routes(my_business(), appointment.day)
        plan = move_plan(day, appointment, int(raw_technician), position)
    except ActionError as error:
        return _refused(appointment, error)
    return _propose(appointment, ProposalKind.MOVE, plan)


@bp.post("/appointments/<int:appointment_id>/cancel")
def cancel_by_dispatcher(appointment_id: int):
    appointment = _own_appointment(appointment_id)
    try:
        plan = cancel_plan(day_routes(my_business(), appointment.day), appointment)
    except ActionError as error:
        return _refused(appointment, error)
    return _propose(appointment, ProposalKind.CANCEL, plan)


@bp.post("/appointments/<int:appointment_id>/no-show")
def no_show(appointment_id: int):
    appointment = _own_appointment(appointment_id)
    business = my_business()
    try:
        plan = no_show_plan(appointment, local_today(business, now_utc()))
    except ActionError as error:
        return _refused(appointment, error)
    return _propose(appointment, ProposalKind.NO_SHOW, plan)
