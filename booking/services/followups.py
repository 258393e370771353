"""What customers hear after a dispatcher applied a proposal.

A created appointment (an emergency job) gets the confirmation when an email address was
given; a cancelled appointment gets the cancellation email; an unplaced one (we cannot keep it)
gets the request to pick a new time with its manage link. Stops that only move within
their promised windows need no email: the promise the customer holds is unchanged.
Sent after the commit: a mail that fails is logged, never undoing the change.
"""

from __future__ import annotations

from datetime import datetime

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, PlanProposal
from booking.services.emails import Change, notify
from booking.services.proposals import Plan

EMAIL_FOR: dict[AppointmentStatus, Change] = {
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.UNPLACED: "unplaced",
}


def notify_customers(proposal: PlanProposal, now: datetime) -> int:
    """Email every customer whose appointment the applied proposal cancelled or unplaced;
    how many emails went out."""
    sent = 0
    if proposal.created_appointment_id is not None:
        created = db.session.get(Appointment, proposal.created_appointment_id)
        if created is not None and created.customer.email:
            sent += notify(created, "booked", now)
    for appointment_id, status in Plan.from_dict(proposal.plan).statuses.items():
        change = EMAIL_FOR.get(status)
        appointment = db.session.get(Appointment, appointment_id)
        if change is None or appointment is None or appointment.status != status:
            continue
        sent += notify(appointment, change, now)
    return sent
