"""Telling the customer that the technician is on the way, with the expected arrival.

By email through the app's mailer (plain text, in the language the customer booked in)
and by text message through a `TextMessageGateway`. `SMS_GATEWAY=none` (the default)
sends no text messages: it only logs that one was skipped, without number or text. A real
gateway plugs in by implementing the Protocol and being named in `build_gateway`.

Like every email, the notice goes out after the change is committed, through the
background queue (`queue_on_the_way`), and never undoes the progress: a notice that
cannot be sent is logged; RQ tries the email again later.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address as MailAddress
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Protocol

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from booking.extensions import db
from booking.models import Appointment, Business
from booking.services.background import RETRY_DELIVERY, job_queue
from booking.services.clock import hhmm
from booking.services.mail import send_mail

GATEWAY_KEY = "kombitermin.sms"
log = logging.getLogger(__name__)


class TextMessageGateway(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Hand the text message over for delivery, or raise."""
        ...


@dataclass(frozen=True, slots=True)
class NoTextMessages:
    """No SMS gateway configured: nothing is sent; the log says so without personal data."""

    def send(self, phone: str, text: str) -> None:
        log.info("text message not sent: no SMS gateway configured (%d characters)", len(text))


def build_gateway(config: Mapping[str, Any]) -> TextMessageGateway:
    """The gateway the configuration names (see the README's table)."""
    kind = config.get("SMS_GATEWAY", "none")
    if kind == "none":
        return NoTextMessages()
    raise ValueError(f"SMS_GATEWAY must be 'none', got {kind!r}")


def gateway() -> TextMessageGateway:
    """The app's gateway, built from its configuration on first use (tests may put their
    own into app.extensions[GATEWAY_KEY])."""
    extensions = current_app.extensions
    if GATEWAY_KEY not in extensions:
        extensions[GATEWAY_KEY] = build_gateway(current_app.config)
    found: TextMessageGateway = extensions[GATEWAY_KEY]
    return found


def on_the_way_text(appointment: Appointment, business: Business, arrival_s: int) -> str:
    """The short notice, in the customer's language (the text message, and the email's core)."""
    with force_locale(appointment.language):
        return _(
            "%(business)s: your technician is on the way to %(street)s and expected at about "
            "%(time)s.",
            business=business.name,
            street=appointment.street,
            time=hhmm(arrival_s),
        )


def on_the_way_email(
    appointment: Appointment, business: Business, arrival_s: int, now: datetime
) -> EmailMessage:
    with force_locale(appointment.language):
        service = appointment.service.name(appointment.language)
        lines = [
            _("Hello %(name)s,", name=appointment.customer.name),
            "",
            _("your technician is on the way to you now."),
            _("Expected arrival: about %(time)s.", time=hhmm(arrival_s)),
            "",
            service,
            f"{appointment.street}, {appointment.postcode} {appointment.city}",
            "",
            _("Questions? Call us at %(phone)s.", phone=business.phone),
            "",
            _("Kind regards"),
            business.name,
            business.address,
            business.phone,
        ]
        subject = _("Your technician is on the way: %(service)s", service=service)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config.get("MAIL_FROM") or MailAddress(
        business.name, addr_spec=business.email
    )
    message["Reply-To"] = MailAddress(business.name, addr_spec=business.email)
    message["To"] = MailAddress(appointment.customer.name, addr_spec=appointment.customer.email)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("kombitermin", domain=business.email.rpartition("@")[2])
    message.set_content("\n".join(lines) + "\n")
    return message


def notify_on_the_way(appointment: Appointment, arrival_s: int, now: datetime) -> bool:
    """Email and text the customer; whether the email went out. Never raises."""
    sent = False
    try:
        business = db.session.get(Business, appointment.business_id)
        assert business is not None
        if appointment.customer.email:
            sent = send_mail(on_the_way_email(appointment, business, arrival_s, now), "on_the_way")
        if appointment.customer.phone:
            gateway().send(
                appointment.customer.phone, on_the_way_text(appointment, business, arrival_s)
            )
    except Exception as error:  # a notice must never undo or hide the reported progress
        log.warning("on-the-way notice not sent: %s", type(error).__name__)
    return sent


class NoticeNotSent(Exception):
    """Raised by the job so that a retrying queue tries again; names no person."""


def queue_on_the_way(appointment: Appointment, arrival_s: int, now: datetime) -> bool:
    """`notify_on_the_way` in the background; False when it ran at once and failed."""
    return job_queue().enqueue(
        send_on_the_way_job, appointment.id, arrival_s, now.isoformat(),
        retry_after_s=RETRY_DELIVERY,
    )


def send_on_the_way_job(appointment_id: int, arrival_s: int, at: str) -> None:
    """The background job. Raises NoticeNotSent when the email did not go out; the retry
    sends the text message again too."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None:
        return  # erased meanwhile
    sent = notify_on_the_way(appointment, arrival_s, datetime.fromisoformat(at))
    if appointment.customer.email and not sent:
        raise NoticeNotSent("on-the-way email not sent")
