"""A computed change to a day, shown before it is applied: preview, apply, discard."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from booking.dispatch import bp, my_business, requested_day
from booking.extensions import db
from booking.models import Appointment, PlanProposal, ProposalStatus, Technician
from booking.services.clock import now_utc
from booking.services.followups import Notice, notify_customers
from booking.services.planning import NOTHING_TO_APPLY, start_reoptimisation
from booking.services.problems import describe
from booking.services.proposals import (
    NEW_APPOINTMENT,
    ApplyError,
    Effect,
    Plan,
    apply_proposal,
    discard,
)

STATUS_LABELS = {
    ProposalStatus.RUNNING: _l("The solver is at work…"),
    ProposalStatus.READY: _l("Ready: check the effect, then apply or discard it."),
    ProposalStatus.APPLIED: _l("Applied."),
    ProposalStatus.DISCARDED: _l("Discarded; the plan in force stays."),
    ProposalStatus.STALE: _l("The day changed after this was computed; the plan in force stays."),
    ProposalStatus.FAILED: _l("Nothing to apply."),
}

KIND_LABELS = {
    "reoptimise": _l("Re-optimise the day"),
    "move": _l("Move an appointment"),
    "pin": _l("Pin a stop"),
    "unpin": _l("Unpin a stop"),
    "absence": _l("Technician absent"),
    "emergency": _l("Emergency job"),
    "cancel": _l("Cancel an appointment"),
    "no_show": _l("Customer not at home"),
}

APPLY_ERRORS = {
    "not_ready": _l("This proposal cannot be applied any more."),
    "stale": _l(
        "The day changed after this was computed; nothing was applied. Please compute it again."
    ),
    "broken": _l("It would break a promise now; nothing was applied."),
}


def _notice_message(notice: Notice) -> tuple[str, str]:
    """What the dispatcher learns about one customer's email: sent, or phone them."""
    name = notice.appointment.customer.name
    if notice.sent is None:
        return _("%(name)s has no email address: please tell them by phone.", name=name), "info"
    if not notice.sent:
        return _(
            "The email to %(name)s could not be sent: please tell them by phone.", name=name
        ), "error"
    if notice.change == "withdrawn":
        return _("%(name)s was sent the cancellation by email.", name=name), "info"
    if notice.change == "unplaced":
        return _("%(name)s was asked by email to choose a new time.", name=name), "info"
    return _("%(name)s was sent the confirmation by email.", name=name), "info"


def _own_proposal(proposal_id: int) -> PlanProposal:
    business = my_business()
    proposal = db.session.get(PlanProposal, proposal_id)
    if proposal is None or proposal.business_id != business.id:
        abort(404)
    return proposal


@bp.post("/replan")
def replan():
    """Re-optimise the day in the background; the page shows the result when it is ready."""
    business = my_business()
    shown = requested_day(business)
    proposal = start_reoptimisation(
        business, shown, current_user, current_app.config["SOLVER_TIME_LIMIT_S"]
    )
    return redirect(url_for("dispatch.proposal", proposal_id=proposal.id))


@bp.get("/proposals/<int:proposal_id>")
def proposal(proposal_id: int):
    proposal = _own_proposal(proposal_id)
    business = my_business()
    effect = Effect.from_dict(proposal.summary) if proposal.summary else None
    ids = [c.appointment_id for c in effect.changes] if effect else []
    ids += [p.appointment_id for p in effect.problems if p.appointment_id] if effect else []
    appointments = {
        a.id: a
        for a in db.session.scalars(
            select(Appointment).where(
                Appointment.business_id == business.id, Appointment.id.in_(ids)
            )
        )
    }
    technicians = {
        t.id: t
        for t in db.session.scalars(
            select(Technician).where(Technician.business_id == business.id)
        )
    }
    reason = NOTHING_TO_APPLY.get(proposal.message)
    draft = Plan.from_dict(proposal.plan).draft if proposal.plan else None
    return render_template(
        "dispatch/proposal.html",
        business=business,
        proposal=proposal,
        effect=effect,
        appointments=appointments,
        technicians=technicians,
        status_label=STATUS_LABELS[ProposalStatus(proposal.status)],
        kind_label=KIND_LABELS.get(proposal.kind, proposal.kind),
        reason=str(reason) if reason else "",
        running=proposal.status == ProposalStatus.RUNNING,
        draft=draft,
        new_id=NEW_APPOINTMENT,
        problems=[describe(p, technicians, appointments) for p in effect.problems]
        if effect
        else [],
    )


@bp.post("/proposals/<int:proposal_id>/apply")
def apply(proposal_id: int):
    proposal = _own_proposal(proposal_id)
    now = now_utc()
    try:
        effect = apply_proposal(proposal, current_user, now)
    except ApplyError as error:
        flash(str(APPLY_ERRORS[error.code]), "error")
        return redirect(url_for("dispatch.proposal", proposal_id=proposal.id))
    flash(
        _(
            "Applied: %(changes)d stops changed, %(km).1f km and %(minutes)d minutes less "
            "driving.",
            changes=len(effect.changes),
            km=(effect.meters_before - effect.meters_after) / 1000,
            minutes=(effect.travel_before_s - effect.travel_after_s) // 60,
        ),
        "info",
    )
    for notice in notify_customers(proposal, now):
        flash(*_notice_message(notice))
    return redirect(url_for("dispatch.day", day=proposal.day.isoformat()))


@bp.post("/proposals/<int:proposal_id>/discard")
def discard_proposal(proposal_id: int):
    proposal = _own_proposal(proposal_id)
    discard(proposal)
    flash(_("Discarded; the plan in force stays."), "info")
    return redirect(url_for("dispatch.day", day=proposal.day.isoformat()))
