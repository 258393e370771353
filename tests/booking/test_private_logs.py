"""No personal data and no token in the logs, at any level: a booking, a geocoding server
that is down, a mail server that is down and a cancellation, with every logger at DEBUG."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import Appointment
from booking.services.addresses import init_geocoder
from booking.services.mail import init_mailer
from tests.booking.geoservers import FakeServer
from tests.booking.pages import ADDRESS, CONTACT, book, slot_quotes
from tests.factories import make_business

ACCESS = "Schlüssel beim Nachbarn Krause"


def everything_logged(records: list[logging.LogRecord]) -> str:
    """Each record's message, arguments and traceback, as a handler could write them."""
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(parts)


def test_booking_geocoding_and_failed_mail_log_no_personal_data(
    app: Flask,
    client: FlaskClient,
    nominatim_server: FakeServer,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """Nominatim answers 503 (the postcode table steps in), SMTP refuses the connection
    (port 9): both failures are logged, yet no record holds the customer's name, email,
    phone, street, notes, access hints, manage token or quote."""
    make_business()
    nominatim_server.status = 503
    app.config.update(
        GEOCODER="nominatim", NOMINATIM_URL=nominatim_server.url, GEOCODER_MIN_DELAY_S=0,
        MAILER="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=9, SMTP_TIMEOUT_S=2,
    )  # fmt: skip
    init_geocoder(app)
    init_mailer(app)
    caplog.set_level(logging.DEBUG)

    quote = slot_quotes(client, "tap")[0]
    assert len(nominatim_server.requests) == 1  # the server was asked, and failed
    booked = book(client, quote, access_hints=ACCESS)
    assert booked.status_code == 302
    token = db.session.scalars(select(Appointment)).one().manage_token
    assert client.post(f"/appointment/{token}/cancel").status_code in (200, 302)

    logged = everything_logged(caplog.records)
    # Both failures are logged (each also with the job's traceback, which names no one).
    assert "email booked not sent" in logged and "email cancelled not sent" in logged
    secrets = [
        CONTACT["name"], "Mustermann", CONTACT["email"], CONTACT["phone"], CONTACT["notes"],
        ACCESS, ADDRESS["street"], "breiter weg", "Breiter+Weg", "Breiter%20Weg", token, quote,
    ]  # fmt: skip
    for secret in secrets:
        assert secret not in logged, secret


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/appointment/Zq3_x-9AbC/reschedule", "/appointment/…/reschedule"),
        ("/api/v1/appointments/Zq3_x-9AbC/cancel", "/api/v1/appointments/…/cancel"),
        ("/sheets/eyJ0IjoxfQ.aBc.dEf.pdf", "/sheets/…"),
        ("/sheets/feed/eyJ0IjoxfQ.aBc.ics", "/sheets/feed/…"),
        ("/book/tap/slots?street=x", "/book/tap/slots?street=x"),  # no token: as it was
        ("/dispatch/appointments/17/cancel", "/dispatch/appointments/17/cancel"),  # an id
    ],
)
def test_the_request_log_shows_no_token(
    app: Flask, caplog: pytest.LogCaptureFixture, path: str, shown: str
) -> None:
    """The development server (`make run`) logs each request line through the werkzeug
    logger, as below; the app's filter replaces the token in the path."""
    caplog.set_level(logging.INFO)
    logging.getLogger("werkzeug").info(
        '%s - - [%s] %s', "127.0.0.1", "23/Nov/2026 10:00:00", f'"GET {path} HTTP/1.1" 200 -'
    )
    (record,) = [r for r in caplog.records if r.name == "werkzeug"]
    assert record.getMessage().endswith(f'"GET {shown} HTTP/1.1" 200 -')
