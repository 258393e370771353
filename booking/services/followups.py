"""What customers hear after a dispatcher applied a proposal.

A created appointment (an emergency job) gets the confirmation; a cancelled appointment
gets the cancellation email; an unplaced one (we cannot keep it) gets the request to pick
a new time with its manage link. Stops that only move within their promised windows need
no email: the promise the customer holds is unchanged. Sent after the commit: a mail
that fails is reported to the dispatcher (to phone instead), never undoing the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, PlanProposal, ProposalStatus
from booking.services.emails import Change, queue_email
from booking.services.proposals import Plan

EMAIL_FOR: dict[AppointmentStatus, Change] = {
    AppointmentStatus.CANCELLED: "withdrawn",  # cancelled by the firm, not through the link
    AppointmentStatus.UNPLACED: "unplaced",
}


@dataclass(frozen=True, slots=True)
class Notice:
    appointment: Appointment
    change: Change
    sent: bool | None  # None: no email address to send it to


def _notice(appointment: Appointment, change: Change, now: datetime) -> Notice:
    if not appointment.customer.email:
        return Notice(appointment, change, None)
    return Notice(appointment, change, queue_email(appointment, change, now))


def notify_customers(proposal: PlanProposal, now: datetime) -> list[Notice]:
    """Email every customer whose appointment the applied proposal created, cancelled or
    unplaced; what became of each email."""
    if proposal.status != ProposalStatus.APPLIED:
        return []
    notices = []
    if proposal.created_appointment_id is not None:
        created = db.session.get(Appointment, proposal.created_appointment_id)
        if created is not None:
            notices.append(_notice(created, "booked", now))
    for appointment_id, status in Plan.from_dict(proposal.plan).statuses.items():
        change = EMAIL_FOR.get(status)
        appointment = db.session.get(Appointment, appointment_id)
        if change is None or appointment is None or appointment.status != status:
            continue
        notices.append(_notice(appointment, change, now))
    return notices
