"""Sending email: a `Mailer` Protocol, an SMTP mailer and an outbox folder of `.eml` files.

`MAILER=outbox` (the default) writes every message as one `.eml` file into `MAIL_OUTBOX`,
so the app works without a mail server and a developer can open what a customer would
get. `MAILER=smtp` hands messages to an SMTP server.

Sending is the last step of a change, after its commit: `send_mail` never raises. A
message that cannot be sent is logged (its kind and the error's class, never an address
or a name) and reported as False, so the page or the API can say so; the booking stands.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app

MAILER_KEY = "kombitermin.mailer"
log = logging.getLogger(__name__)


class MailError(Exception):
    """A message that could not be handed over; the text names no person."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand the message over for delivery, or raise MailError."""
        ...


@dataclass(frozen=True, slots=True)
class SmtpMailer:
    """One SMTP connection per message: bookings are rare, and a fresh connection cannot
    go stale between them."""

    host: str
    port: int = 587
    user: str = ""
    password: str = ""
    starttls: bool = True
    timeout_s: float = 10.0

    def send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            # Only the class: SMTP errors may quote the recipients' addresses.
            raise MailError(f"SMTP delivery failed: {type(error).__name__}") from error


@dataclass(frozen=True, slots=True)
class OutboxMailer:
    """Every message as one `.eml` file in `folder`, named by time so `ls` sorts them."""

    folder: Path

    def send(self, message: EmailMessage) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            target = self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            # Write beside the target and rename: a reader never sees half a message.
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(handle, "wb") as file:
                file.write(message.as_bytes())
            os.replace(temporary, target)
        except OSError as error:
            raise MailError(f"outbox not writable: {type(error).__name__}") from error


def build_mailer(config: Mapping[str, Any]) -> Mailer:
    """The mailer the configuration names (see the README's table)."""
    kind = config["MAILER"]
    if kind == "outbox":
        return OutboxMailer(Path(config["MAIL_OUTBOX"]))
    if kind == "smtp":
        return SmtpMailer(
            host=config["SMTP_HOST"],
            port=int(config["SMTP_PORT"]),
            user=config["SMTP_USER"],
            password=config["SMTP_PASSWORD"],
            starttls=bool(config["SMTP_STARTTLS"]),
            timeout_s=float(config["SMTP_TIMEOUT_S"]),
        )
    raise ValueError(f"MAILER must be 'outbox' or 'smtp', got {kind!r}")


def init_mailer(app: Flask) -> None:
    app.extensions[MAILER_KEY] = build_mailer(app.config)


def mailer() -> Mailer:
    found: Mailer = current_app.extensions[MAILER_KEY]
    return found


def send_mail(message: EmailMessage, kind: str) -> bool:
    """Send and say whether it worked; a failure is logged by `kind`, never raised."""
    try:
        mailer().send(message)
    except Exception as error:  # whatever happens, the committed change stands
        reason = str(error) if isinstance(error, MailError) else type(error).__name__
        log.warning("email %s not sent: %s", kind, reason)
        return False
    return True
