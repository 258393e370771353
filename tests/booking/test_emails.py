"""Emails and calendar files: what the customer gets after booking, moving and cancelling,
in their language, with an `.ics` that calendars read at the right time; and a mail server
that is down never costs a booking.

The factory firm's Tuesday 24 November 2026 08:00-10:00 is 07:00-09:00 UTC (CET, UTC+1);
Monday 29 March 2027 08:00-10:00, the day after the clocks went forward, is 06:00-08:00
UTC (CEST, UTC+2).
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import refresh
from icalendar import Calendar
from sqlalchemy import select

from booking.extensions import db
from booking.models import Appointment
from booking.services.mail import (
    MAILER_KEY,
    MailError,
    OutboxMailer,
    SmtpMailer,
    build_mailer,
    init_mailer,
    send_mail,
)
from tests.booking.mailbox import mails, text_of
from tests.booking.pages import book, count, slot_quotes
from tests.factories import make_business

API = "/api/v1"
BERLIN = "Europe/Berlin"


# --- helpers --------------------------------------------------------------------------------


def calendar_of(message: EmailMessage) -> tuple[Calendar, Any]:
    """The attached calendar, parsed back, and its one event."""
    [attachment] = [
        part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"
    ]
    calendar = Calendar.from_ical(attachment.get_content())
    [event] = calendar.walk("VEVENT")
    assert attachment.get_param("method") == str(calendar["METHOD"])
    return calendar, event


def utc(event: Any, name: str) -> datetime:
    return event[name].dt.astimezone(UTC)


def first_slot_booking(client: FlaskClient, **overrides: str):
    """Book the first offered slot (Tuesday 08-10 on an empty plan) through the pages."""
    return book(client, slot_quotes(client, "tap")[0], **overrides)


def appointment() -> Appointment:
    return db.session.scalars(select(Appointment)).one()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    """A real SMTP server on a free local port; it accepts the login kombi / geheim."""

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
        def text(value: str | bytes) -> str:
            return value.decode() if isinstance(value, bytes) else value

        ok = isinstance(data, LoginPassword) and (text(data.login), text(data.password)) == (
            "kombi",
            "geheim",
        )
        # handled=False: the server answers 535 itself when the login is refused.
        return AuthResult(success=ok, handled=False)

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def use_smtp(app: Flask, port: int, **settings: Any) -> None:
    """MAILER=smtp on this local port, without STARTTLS (the test server has no
    certificate); `settings` override the rest."""
    defaults = {"SMTP_USER": "", "SMTP_PASSWORD": "", "SMTP_STARTTLS": False,
                "SMTP_TIMEOUT_S": 5.0}  # fmt: skip
    app.config.update(
        {**defaults, "MAILER": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, **settings}
    )
    init_mailer(app)


# --- the confirmation ---------------------------------------------------------------------


def test_the_confirmation_email_says_what_when_where_and_how_much_in_german(
    client: FlaskClient, outbox: Path
) -> None:
    """One email to the customer, from the business, German subject and body: the service,
    the date and window in German words, the address, the price in German format (89,00 €),
    the deadline for online changes (12 h before Tuesday 08:00 = Monday 20:00) and the
    absolute manage link."""
    make_business()
    response = first_slot_booking(client)
    assert response.status_code == 302
    booked = appointment()
    [message] = mails(outbox)
    assert message["Subject"] == (
        "Terminbestätigung: Armatur tauschen am Dienstag, 24. November 2026"
    )
    assert message["To"] == "Erika Mustermann <erika@example.de>"
    assert message["From"] == "Sanitär Test GmbH <info@test.example>"
    body = text_of(message)
    manage_url = f"http://localhost/appointment/{booked.manage_token}"
    for expected in (
        "Guten Tag Erika Mustermann,",
        "Armatur tauschen",
        "Dienstag, 24. November 2026, Ankunft zwischen 08:00 und 10:00",
        "Breiter Weg 10, 39104 Magdeburg",
        "Gesamt: 89,00\xa0€",
        "Bis Montag, 23. November 2026, 20:00 können Sie den Termin online verschieben",
        manage_url,
        "0391 000 111",
    ):
        assert expected in body
    assert "Hinterhaus" not in body  # the customer's own notes are not echoed back


def test_the_confirmation_page_says_the_email_was_sent(client: FlaskClient, outbox: Path) -> None:
    """After booking, the confirmation page names the address the email went to."""
    make_business()
    response = first_slot_booking(client)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ihr Termin ist gebucht" in page
    assert "Wir haben Ihnen eine E-Mail an erika@example.de geschickt." in page


def test_the_calendar_file_has_the_window_in_berlin_time(client: FlaskClient, outbox: Path) -> None:
    """The attached .ics: METHOD REQUEST, one event from 08:00 to 10:00 Europe/Berlin (07:00
    to 09:00 UTC in November), with its VTIMEZONE (whose own rules give the same instants),
    the service as summary, the address as location, and a description with the promise,
    the price and the manage link."""
    make_business()
    first_slot_booking(client)
    booked = appointment()
    calendar, event = calendar_of(mails(outbox)[0])
    assert str(calendar["METHOD"]) == "REQUEST"
    assert event["DTSTART"].params["TZID"] == BERLIN
    assert utc(event, "DTSTART") == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    assert utc(event, "DTEND") == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == BERLIN
    own_rules = zone.to_tz(lookup_tzid=False)  # its own rules, as a calendar without tzdata
    start = event["DTSTART"].dt.replace(tzinfo=own_rules)
    assert start.astimezone(UTC) == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    assert str(event["SUMMARY"]) == "Armatur tauschen – Sanitär Test GmbH"
    assert str(event["LOCATION"]) == "Breiter Weg 10, 39104 Magdeburg"
    description = str(event["DESCRIPTION"])
    assert "Ankunft zwischen 08:00 und 10:00" in description
    assert "89,00\xa0€" in description
    assert f"http://localhost/appointment/{booked.manage_token}" in description
    assert str(event["UID"]) == f"appointment-{booked.id}@elbe.kombitermin"
    assert int(event["SEQUENCE"]) == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ATTENDEE"]) == "mailto:erika@example.de"


def test_the_calendar_file_keeps_local_time_across_the_dst_switch(
    app: Flask, client: FlaskClient, outbox: Path
) -> None:
    """Booked on Friday 26 March 2027 for Monday 29 March, the day after the clocks went
    forward: 08:00-10:00 in Magdeburg is now 06:00-08:00 UTC, in the event and by the
    VTIMEZONE's own rules."""
    make_business()
    app.config["NOW"] = lambda: datetime(2027, 3, 26, 9, 0, tzinfo=UTC)
    first_slot_booking(client)
    assert appointment().day.isoformat() == "2027-03-29"
    calendar, event = calendar_of(mails(outbox)[0])
    assert utc(event, "DTSTART") == datetime(2027, 3, 29, 6, 0, tzinfo=UTC)
    assert utc(event, "DTEND") == datetime(2027, 3, 29, 8, 0, tzinfo=UTC)
    [zone] = calendar.walk("VTIMEZONE")
    start = event["DTSTART"].dt.replace(tzinfo=zone.to_tz(lookup_tzid=False))
    assert start.astimezone(UTC) == datetime(2027, 3, 29, 6, 0, tzinfo=UTC)


def test_an_english_booking_gets_english_emails_for_its_whole_life(
    app: Flask, client: FlaskClient, outbox: Path
) -> None:
    """Booked with ?lang=en: the confirmation is English (prices as €89.00, English dates);
    the language is stored, so the cancellation is English too even though the customer
    switched the page back to German meanwhile."""
    make_business()
    client.get("/?lang=en")
    refresh()  # the test's one app context caches the locale; each request has its own
    first_slot_booking(client)
    booked = appointment()
    assert booked.language == "en"
    [confirmation] = mails(outbox)
    assert confirmation["Subject"] == (
        "Appointment confirmed: Tap replacement on Tuesday, 24 November 2026"
    )
    body = text_of(confirmation)
    assert "Hello Erika Mustermann," in body
    assert "Tuesday, 24 November 2026, arrival between 08:00 and 10:00" in body
    assert "Total: €89.00" in body
    assert "Armatur" not in body
    client.get("/?lang=de")
    refresh()
    client.post(f"/appointment/{booked.manage_token}/cancel")
    cancellation = mails(outbox)[-1]
    assert cancellation["Subject"] == (
        "Appointment cancelled: Tap replacement on Tuesday, 24 November 2026"
    )


def test_the_api_booking_answers_email_sent_and_stores_the_language(
    client: FlaskClient, outbox: Path
) -> None:
    """POST bookings?lang=en: 201 with email_sent true, the appointment's language "en"
    and an English email in the outbox."""
    make_business()
    offers = client.post(
        f"{API}/offers", json={"service": "tap", "street": "Breiter Weg 10",
                               "postcode": "39104", "city": "Magdeburg"}
    ).get_json()["slots"]  # fmt: skip
    refresh()
    response = client.post(
        f"{API}/bookings?lang=en",
        json={"quote": offers[0]["quote"], "name": "Erika Mustermann", "phone": "0391 123456",
              "email": "erika@example.de", "consent": True},
    )  # fmt: skip
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["email_sent"] is True
    assert response.get_json()["appointment"]["language"] == "en"
    assert mails(outbox)[0]["Subject"].startswith("Appointment confirmed: Tap replacement")


def test_cancelling_sends_a_cancel_calendar_file_with_a_higher_sequence(
    client: FlaskClient, outbox: Path
) -> None:
    """The cancellation email carries METHOD:CANCEL for the same UID with SEQUENCE 1, so a
    calendar removes the event it has; STATUS is CANCELLED."""
    make_business()
    first_slot_booking(client)
    booked = appointment()
    response = client.post(f"/appointment/{booked.manage_token}/cancel")
    assert response.status_code == 302
    booking_mail, cancel_mail = mails(outbox)
    assert cancel_mail["Subject"] == (
        "Termin storniert: Armatur tauschen am Dienstag, 24. November 2026"
    )
    assert "Ihr Termin wurde wie gewünscht storniert" in text_of(cancel_mail)
    _calendar, first = calendar_of(booking_mail)
    calendar, cancelled = calendar_of(cancel_mail)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(cancelled["UID"]) == str(first["UID"])
    assert int(cancelled["SEQUENCE"]) == 1
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert utc(cancelled, "DTSTART") == utc(first, "DTSTART")
    # Cancelling again changes nothing and sends nothing.
    client.post(f"/appointment/{booked.manage_token}/cancel")
    assert len(mails(outbox)) == 2


def test_names_with_markup_stay_plain_text(client: FlaskClient, outbox: Path) -> None:
    """A name with a script tag is stored as typed and written as plain text: the email has
    no HTML part that could run it, and the calendar's attendee name is the same text."""
    make_business()
    first_slot_booking(client, name="<script>alert(1)</script> Erika")
    [message] = mails(outbox)
    assert [part.get_content_type() for part in message.walk() if not part.is_multipart()] == [
        "text/plain",
        "text/calendar",
    ]
    assert "Guten Tag <script>alert(1)</script> Erika," in text_of(message)
    _calendar, event = calendar_of(message)
    assert event["ATTENDEE"].params["CN"] == "<script>alert(1)</script> Erika"


# --- the mailers ------------------------------------------------------------------------------


def test_smtp_mailer_delivers_to_a_real_smtp_server(
    app: Flask, client: FlaskClient, smtp_server: tuple[Controller, Inbox]
) -> None:
    """MAILER=smtp with login: the booking's email reaches the server, from MAIL_FROM to
    the customer, with the calendar attached; the page says it was sent."""
    controller, inbox = smtp_server
    use_smtp(
        app,
        controller.port,
        SMTP_USER="kombi",
        SMTP_PASSWORD="geheim",
        MAIL_FROM="Termine <termine@test.example>",
    )
    make_business()
    response = first_slot_booking(client)
    assert response.status_code == 302
    [(sender, recipients, content)] = inbox.received
    assert sender == "termine@test.example"
    assert recipients == ["erika@example.de"]
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["From"] == "Termine <termine@test.example>"
    assert message["Reply-To"] == "Sanitär Test GmbH <info@test.example>"
    calendar, _event = calendar_of(message)  # type: ignore[arg-type]
    assert str(calendar["METHOD"]) == "REQUEST"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Wir haben Ihnen eine E-Mail an erika@example.de geschickt." in page


def test_smtp_mailer_with_a_wrong_password_fails_cleanly(
    smtp_server: tuple[Controller, Inbox],
) -> None:
    """A refused login is a MailError naming only the error class; nothing is delivered."""
    controller, inbox = smtp_server
    mailer = SmtpMailer("127.0.0.1", controller.port, "kombi", "falsch", starttls=False)
    message = EmailMessage()
    message["To"] = "erika@example.de"
    message["From"] = "info@test.example"
    message.set_content("Hallo")
    with pytest.raises(MailError, match="SMTPAuthenticationError") as raised:
        mailer.send(message)
    assert "erika" not in str(raised.value)
    assert inbox.received == []


def test_a_mail_server_that_is_down_never_costs_the_booking(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """SMTP on a port where nothing listens (connection refused): the booking is stored
    and in its route all the same; the page says the email could not be sent; the log
    says so without the customer's name or address."""
    use_smtp(app, free_port())
    make_business()
    with caplog.at_level(logging.WARNING, logger="booking.services.mail"):
        response = first_slot_booking(client)
    assert response.status_code == 302
    booked = appointment()
    assert booked.is_confirmed and booked.stop is not None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ihr Termin ist gebucht" in page
    assert "Wir konnten Ihnen gerade keine E-Mail schicken." in page
    logged = caplog.text
    assert "email booked not sent: SMTP delivery failed: ConnectionRefusedError" in logged
    for personal in ("Erika", "Mustermann", "erika@example.de", "0391 123456", "Breiter"):
        assert personal not in logged


def test_the_api_says_email_sent_false_when_the_server_is_down(
    app: Flask, client: FlaskClient
) -> None:
    """The same through the API: 201, the appointment, and email_sent false."""
    use_smtp(app, free_port())
    make_business()
    offers = client.post(
        f"{API}/offers", json={"service": "tap", "street": "Breiter Weg 10",
                               "postcode": "39104", "city": "Magdeburg"}
    ).get_json()["slots"]  # fmt: skip
    response = client.post(
        f"{API}/bookings",
        json={"quote": offers[0]["quote"], "name": "Erika Mustermann", "phone": "0391 123456",
              "email": "erika@example.de", "consent": True},
    )  # fmt: skip
    assert response.status_code == 201
    assert response.get_json()["email_sent"] is False
    assert response.get_json()["appointment"]["status"] == "confirmed"
    assert count(Appointment) == 1


def test_an_unwritable_outbox_is_a_mail_error_not_a_crash(tmp_path: Path) -> None:
    """The outbox is a file, not a folder: send_mail-style callers get MailError."""
    blocked = tmp_path / "outbox"
    blocked.write_text("not a folder")
    message = EmailMessage()
    message.set_content("Hallo")
    with pytest.raises(MailError, match="outbox not writable"):
        OutboxMailer(blocked).send(message)


def test_the_outbox_holds_one_complete_eml_file_per_message(tmp_path: Path) -> None:
    """Two messages, two .eml files that read back as sent; no temporary file remains."""
    mailer = OutboxMailer(tmp_path / "outbox")
    for subject in ("Eins", "Zwei"):
        message = EmailMessage()
        message["Subject"] = subject
        message.set_content(f"Text {subject}")
        mailer.send(message)
    assert sorted(m["Subject"] for m in mails(tmp_path / "outbox")) == ["Eins", "Zwei"]
    assert [p.suffix for p in (tmp_path / "outbox").iterdir()] == [".eml", ".eml"]


def test_the_mailer_is_chosen_by_configuration(tmp_path: Path) -> None:
    """outbox (the default) and smtp build their mailers from the settings; any other
    name is refused with a message that lists the choices."""
    settings = {"MAILER": "outbox", "MAIL_OUTBOX": str(tmp_path), "SMTP_HOST": "mail.example",
                "SMTP_PORT": 2525, "SMTP_USER": "u", "SMTP_PASSWORD": "p",
                "SMTP_STARTTLS": True, "SMTP_TIMEOUT_S": 3.0}  # fmt: skip
    assert build_mailer(settings) == OutboxMailer(tmp_path)
    assert build_mailer({**settings, "MAILER": "smtp"}) == SmtpMailer(
        "mail.example", 2525, "u", "p", starttls=True, timeout_s=3.0
    )
    with pytest.raises(ValueError, match="'outbox' or 'smtp'"):
        build_mailer({**settings, "MAILER": "pigeon"})


def test_send_mail_reports_instead_of_raising(app: Flask) -> None:
    """Whatever a mailer raises, send_mail answers False."""

    class Broken:
        def send(self, message: EmailMessage) -> None:
            raise RuntimeError("boom")

    app.extensions[MAILER_KEY] = Broken()
    assert send_mail(EmailMessage(), "booked") is False


def test_concurrent_smtp_sends_each_arrive(smtp_server: tuple[Controller, Inbox]) -> None:
    """One connection per message: four threads sending at once all get through."""
    controller, inbox = smtp_server
    mailer = SmtpMailer("127.0.0.1", controller.port, starttls=False)

    def send(n: int) -> None:
        message = EmailMessage()
        message["From"] = "info@test.example"
        message["To"] = f"kunde{n}@example.de"
        message.set_content("Hallo")
        mailer.send(message)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r[1][0] for r in inbox.received) == [f"kunde{n}@example.de" for n in range(4)]
