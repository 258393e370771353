"""The customer's emails about an appointment: booked, moved, cancelled (by the customer,
or "withdrawn" by the firm's dispatcher), or unplaced (we
cannot keep it and ask them to pick a new time); each with its calendar file, in the
language the customer booked in.

Plain text only: nothing a customer typed can turn into markup, and every mail program
shows it. Amounts and dates are in the booking's locale, times in the business's zone.
Sending happens after the change is committed: `queue_email` hands it to the background
queue (`send_email_job` sends it there, and RQ retries it when the mail server is down);
`notify` sends at once. A mail that cannot be built or sent is logged and reported, never
undoing the change.
"""

from __future__ import annotations

import logging
from datetime import datetime
from email.headerregistry import Address as MailAddress
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from booking.extensions import db
from booking.models import Appointment, Business
from booking.services.background import (
    RETRY_DELIVERY,
    job_queue,
    links_from,
    request_base_url,
)
from booking.services.bookings import change_deadline
from booking.services.calendar_file import CalendarEvent, appointment_uid, calendar_file
from booking.services.clock import local_datetime
from booking.services.mail import send_mail
from booking.templating import euros, long_date, long_datetime, promise_text
from booking.tenancy import public_url

Change = Literal["booked", "rescheduled", "cancelled", "withdrawn", "unplaced"]
CHANGES: tuple[Change, ...] = ("booked", "rescheduled", "cancelled", "withdrawn", "unplaced")
# Changes after which the appointment's time no longer stands: the calendar entry goes.
REMOVED: tuple[Change, ...] = ("cancelled", "withdrawn", "unplaced")

log = logging.getLogger(__name__)


def notify(appointment: Appointment, change: Change, now: datetime) -> bool:
    """Email the customer about a committed change; whether the mail went out."""
    try:
        message = appointment_email(appointment, change, now)
    except Exception as error:  # a mail we cannot build must not turn a booking into a 500
        log.warning("email %s not built: %s", change, type(error).__name__)
        return False
    return send_mail(message, change)


class EmailNotSent(Exception):
    """Raised by the job so that a retrying queue tries again; names no person."""


def queue_email(appointment: Appointment, change: Change, now: datetime) -> bool:
    """Send the email about a committed change in the background; False when it ran at
    once and failed, True when it went out or waits in the queue."""
    return job_queue().enqueue(
        send_email_job,
        appointment.id,
        change,
        now.isoformat(),
        request_base_url(),
        retry_after_s=RETRY_DELIVERY,
    )


def send_email_job(appointment_id: int, change: Change, at: str, base_url: str) -> None:
    """The background job: the email as of the change at `at` (ISO time), links to
    `base_url`. Raises EmailNotSent, so RQ tries again later."""
    # with the customer and service the email names: one query, not three
    appointment = db.session.get(
        Appointment,
        appointment_id,
        options=[joinedload(Appointment.customer), joinedload(Appointment.service)],
    )
    if appointment is None:
        return  # erased meanwhile: nobody left to write to
    with links_from(base_url):
        if not notify(appointment, change, datetime.fromisoformat(at)):
            raise EmailNotSent(f"email {change} not sent")


def _subject(change: Change, service: str, day: str) -> str:
    if change == "booked":
        return _("Appointment confirmed: %(service)s on %(day)s", service=service, day=day)
    if change == "rescheduled":
        return _("Appointment moved: %(service)s on %(day)s", service=service, day=day)
    if change == "unplaced":
        return _("Please choose a new time: %(service)s on %(day)s", service=service, day=day)
    return _("Appointment cancelled: %(service)s on %(day)s", service=service, day=day)


def _opening(change: Change) -> str:
    if change == "booked":
        return _("thank you for your booking. Your appointment is confirmed:")
    if change == "rescheduled":
        return _("your appointment has been moved. This is your new appointment:")
    if change == "unplaced":
        return _(
            "we are sorry: we cannot keep this appointment as planned, because a "
            "technician is unavailable:"
        )
    if change == "withdrawn":
        return _("your appointment has been cancelled by us:")
    return _("your appointment has been cancelled as you asked:")


def _price_lines(appointment: Appointment) -> list[str]:
    price = appointment.price
    lines = [
        f"{_('Service')}: {euros(price.base_cents)}",
        f"{_('Travel fee')}: {euros(price.travel_fee_cents)}",
        f"{_('Combination discount')}: −{euros(price.discount_cents)}",
    ]
    if price.flexibility_cents:
        lines.append(f"{_('Flexibility discount')}: −{euros(price.flexibility_cents)}")
    lines.append(f"{_('Total')}: {euros(price.total_cents)}")
    return lines


def appointment_email(appointment: Appointment, change: Change, now: datetime) -> EmailMessage:
    """The email and its `.ics` for this change, in the appointment's language."""
    if change not in CHANGES:
        raise ValueError(f"change must be one of {CHANGES}, got {change!r}")
    business = db.session.get(Business, appointment.business_id)
    assert business is not None
    # On the firm's own host name: a dispatcher's change may be made on another one.
    manage_url = public_url(business, "customer.manage", token=appointment.manage_token)
    with force_locale(appointment.language):
        service = appointment.service.name(appointment.language)
        day = long_date(appointment.day)
        promise = promise_text(
            appointment.window_kind, appointment.window_start_s, appointment.window_end_s
        )
        address = f"{appointment.street}, {appointment.postcode} {appointment.city}"
        lines = [
            _("Hello %(name)s,", name=appointment.customer.name),
            "",
            _opening(change),
            "",
            service,
            f"{day}, {promise}",
            address,
        ]
        if change == "unplaced":
            lines += [
                "",
                _("Please choose a new time with one click here; there is no charge for it:"),
                manage_url,
                _("Questions? Call us at %(phone)s.", phone=business.phone),
            ]
        elif change not in REMOVED:
            lines += [
                "",
                *_price_lines(appointment),
                "",
                _(
                    "The technician arrives within this window. The attached calendar file "
                    "adds the appointment to your calendar."
                ),
            ]
            deadline = change_deadline(business, appointment)
            if now < deadline:
                lines.append(
                    _(
                        "You can move or cancel the appointment online until %(deadline)s:",
                        deadline=long_datetime(deadline, business.timezone),
                    )
                )
            else:
                lines.append(_("Your appointment online:"))
            lines += [
                manage_url,
                _("Questions? Call us at %(phone)s.", phone=business.phone),
            ]
        else:
            if change == "withdrawn":
                lines += [
                    "",
                    _(
                        "If we did not agree this with you, please call us at %(phone)s.",
                        phone=business.phone,
                    ),
                ]
            lines += [
                "",
                _(
                    "The attached calendar file removes the appointment from your calendar. "
                    "You are welcome to book a new one:"
                ),
                public_url(business, "customer.index"),
            ]
        lines += ["", _("Kind regards"), business.name, business.address, business.phone]
        description = "\n".join(
            [
                f"{day}, {promise}",
                f"{_('Total')}: {euros(appointment.price_total_cents)}",
                manage_url,
            ]
        )
        subject = _subject(change, service, day)

    message = EmailMessage()
    message["Subject"] = subject
    sender = current_app.config.get("MAIL_FROM") or MailAddress(
        business.name, addr_spec=business.email
    )
    message["From"] = sender
    message["Reply-To"] = MailAddress(business.name, addr_spec=business.email)
    message["To"] = MailAddress(appointment.customer.name, addr_spec=appointment.customer.email)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("kombitermin", domain=business.email.rpartition("@")[2])
    message.set_content("\n".join(lines) + "\n")

    method = "CANCEL" if change in REMOVED else "REQUEST"
    event = CalendarEvent(
        uid=appointment_uid(appointment.id, business.slug),
        sequence=appointment.calendar_sequence,
        start=local_datetime(business, appointment.day, appointment.window_start_s),
        end=local_datetime(business, appointment.day, appointment.window_end_s),
        summary=f"{service} – {business.name}",
        location=address,
        description=description,
        url=manage_url,
        organizer_name=business.name,
        organizer_email=business.email,
        attendee_name=appointment.customer.name,
        attendee_email=appointment.customer.email,
    )
    message.add_attachment(
        calendar_file(event, method, now).decode(),
        subtype="calendar",
        filename="termin.ics" if appointment.language == "de" else "appointment.ics",
        params={"method": method},
    )
    return message
