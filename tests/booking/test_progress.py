"""Progress from the route sheet: the technician taps on the way, arrived, done or customer not
home; the expected arrivals of the later stops move on the sheet and the dispatcher's view.

The day: Anna serves Wilma West (Westring 1, window 08-10, 841 s from the depot) and then
Walter West (Westring 9, window 10-12, 41 s further). Planned: Wilma 08:14-09:14, Walter
reached 09:14 and served from 10:00. "Now" is Tuesday, the route's day (Berlin = UTC+1).
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from html import unescape
from pathlib import Path

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import Appointment, AuditEntry, RouteStop, Technician
from booking.services.mail import init_mailer
from booking.services.notices import GATEWAY_KEY
from booking.services.sheets import SheetLink, sign_sheet
from tests.booking.test_dispatch import WEST_1, WEST_2, confirm, day_view, login
from tests.factories import TUESDAY, make_business, make_user

H = 3600


def at(hour: int, minute: int) -> None:
    """Set "now" to Tuesday hour:minute in Magdeburg (UTC+1 in November)."""
    moment = datetime(2026, 11, 24, hour - 1, minute, tzinfo=UTC)
    current_app.config["NOW"] = lambda: moment


class Texts:
    """A text-message gateway that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))


@pytest.fixture
def outbox(app: Flask, tmp_path: Path) -> Path:
    folder = tmp_path / "outbox"
    app.config.update(MAILER="outbox", MAIL_OUTBOX=str(folder))
    init_mailer(app)
    return folder


@pytest.fixture
def texts(app: Flask) -> Texts:
    gateway = Texts()
    app.extensions[GATEWAY_KEY] = gateway
    return gateway


def mails(folder: Path) -> list[EmailMessage]:
    if not folder.exists():
        return []
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted(folder.glob("*.eml"))
    ]


def anna_day() -> tuple[Technician, Appointment, Appointment, str]:
    """Wilma's and Walter's taps in Anna's route (booked on Monday); Anna's sheet link."""
    business = make_business()
    make_user(business)
    wilma = confirm(business, "tap", WEST_1, "Wilma West")
    walter = confirm(business, "tap", WEST_2, "Walter West", 10 * H)
    anna = business.technicians[0]
    stops = db.session.scalars(select(RouteStop).order_by(RouteStop.position)).all()
    assert [(s.technician_id, s.appointment_id) for s in stops] == [
        (anna.id, wilma.id),
        (anna.id, walter.id),
    ]
    token = sign_sheet(SheetLink(anna.id, TUESDAY), current_app.config["SECRET_KEY"])
    return anna, wilma, walter, token


def tap(client: FlaskClient, token: str, appointment: Appointment, step: str) -> str:
    """POST a step from the sheet; the sheet page it lands on."""
    response = client.post(
        f"/sheets/{token}/stops/{appointment.id}/progress",
        data={"step": step},
        follow_redirects=True,
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def flashes(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<p class="flash [^"]*"[^>]*>([^<]*)</p>', html)]


def stop_html(html: str, appointment: Appointment) -> str:
    """The sheet's list item of this appointment."""
    match = re.search(rf'<li id="stop-{appointment.id}".*?</li>', html, re.S)
    assert match is not None
    return match.group(0)


def expected_on_day_view(html: str, appointment: Appointment) -> str:
    """The dispatcher list's progress cell of this appointment's row."""
    rows = re.findall(r"<tr>.*?</tr>", html, re.S)
    row = next(r for r in rows if f'data-appointment="{appointment.id}"' in r)
    match = re.search(r'<td class="progress".*?</td>', row, re.S)
    assert match is not None
    return match.group(0)


def fresh(appointment: Appointment) -> Appointment:
    db.session.expire_all()
    found = db.session.get(Appointment, appointment.id)
    assert found is not None
    return found


def test_arrived_and_done_move_the_next_stop_s_expected_arrival(client: FlaskClient) -> None:
    """Planned: Walter reached at 09:14. Anna arrives at Wilma's at 08:30 and is done at
    09:40 (26 minutes late): Walter is now expected at 09:40 + 41 s = 09:40, on the sheet
    and in the dispatcher's list, which also shows Wilma's reported times. Walter's window
    opens at 10:00, so he is not at risk; 1 of 1 reported arrivals was on time."""
    _anna, wilma, walter, token = anna_day()
    at(8, 0)
    html = client.get(f"/sheets/{token}").get_data(as_text=True)
    assert "voraussichtlich 09:14" in stop_html(html, walter)

    at(8, 30)
    html = tap(client, token, wilma, "arrived")
    assert flashes(html) == ["Angekommen: gespeichert um 08:30."]
    assert "angekommen 08:30" in stop_html(html, wilma)
    assert "voraussichtlich 09:30" in stop_html(html, walter)  # done expected 09:30, + 41 s

    at(9, 40)
    html = tap(client, token, wilma, "done")
    assert flashes(html) == ["Erledigt: gespeichert um 09:40."]
    assert "voraussichtlich 09:40" in stop_html(html, walter)
    assert "verpasst das Zeitfenster" not in html
    assert fresh(wilma).progress == "done"

    login(client)
    view = day_view(client)
    assert "voraussichtlich 09:40" in expected_on_day_view(view, walter)
    wilma_cell = expected_on_day_view(view, wilma)
    assert "Erledigt" in wilma_cell and "angekommen 08:30" in wilma_cell
    assert "abgefahren 09:40" in wilma_cell
    assert re.search(r'<dd class="ontime-actual">100 %</dd>', view)


def test_a_late_finish_flags_the_next_stop_for_the_dispatcher(client: FlaskClient) -> None:
    """Wilma done at 12:00: Walter (window 10-12) is reached at 12:00 + 41 s = 12:00:41,
    after his window closed: flagged on the sheet and at risk on the day view."""
    _anna, wilma, walter, token = anna_day()
    at(8, 20)
    tap(client, token, wilma, "arrived")
    at(12, 0)
    html = tap(client, token, wilma, "done")
    assert "verpasst das Zeitfenster" in stop_html(html, walter)
    login(client)
    view = day_view(client)
    assert re.search(rf'data-appointment="{walter.id}" class="atrisk"', view)
    assert re.search(r'<dd class="atrisk">1</dd>', view)


def test_bad_steps_are_refused_with_a_message_and_change_nothing(client: FlaskClient) -> None:
    """Done before arrived, a step back, a second stop under way, and a report on another
    day are refused with their German message; the appointment stays as it was."""
    _anna, wilma, walter, token = anna_day()
    at(8, 5)
    assert flashes(tap(client, token, wilma, "done")) == ["Bitte zuerst „Angekommen“ tippen."]
    assert fresh(wilma).progress == "planned"

    tap(client, token, wilma, "arrived")
    assert flashes(tap(client, token, wilma, "on_the_way")) == [
        "Dieser Auftrag ist schon weiter; ein Schritt zurück ist nicht möglich."
    ]
    assert flashes(tap(client, token, walter, "on_the_way")) == [
        "Bitte zuerst Auftrag 1 abschließen („Erledigt“ oder „Nicht angetroffen“)."
    ]
    assert fresh(walter).progress == "planned" and fresh(walter).on_the_way_at is None
    assert fresh(wilma).on_the_way_at is None

    at(9, 10)
    tap(client, token, wilma, "done")
    assert flashes(tap(client, token, wilma, "arrived")) == [
        "Dieser Auftrag ist bereits abgeschlossen."
    ]
    assert flashes(tap(client, token, wilma, "nonsense")) == [
        "Unbekannter Schritt; bitte die Knöpfe auf dem Tourenzettel benutzen."
    ]

    current_app.config["NOW"] = lambda: datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday
    assert flashes(tap(client, token, walter, "on_the_way")) == [
        "Fortschritt kann nur am Tag der Route gemeldet werden."
    ]
    assert fresh(walter).progress == "planned"
    steps = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "progress")).all()
    assert [(e.user_id, e.details["step"]) for e in steps] == [(None, "arrived"), (None, "done")]


def test_not_home_settles_a_no_show_and_keeps_the_stop(client: FlaskClient) -> None:
    """Wilma is not at home at 08:20: her appointment is a no-show, her stop stays first in
    Anna's route, the buttons are gone, and Walter is expected at 08:20 + 41 s = 08:20."""
    anna, wilma, walter, token = anna_day()
    at(8, 20)
    html = tap(client, token, wilma, "not_home")
    assert flashes(html) == ["Nicht angetroffen: gespeichert um 08:20."]
    assert fresh(wilma).status == "no_show"
    assert fresh(wilma).progress == "not_home"
    stop = db.session.scalar(select(RouteStop).where(RouteStop.appointment_id == wilma.id))
    assert stop is not None and (stop.technician_id, stop.position) == (anna.id, 0)
    assert "<button" not in stop_html(html, wilma)
    assert "voraussichtlich 08:20" in stop_html(html, walter)


def test_on_the_way_emails_the_customer_once_with_the_expected_arrival(
    client: FlaskClient, outbox: Path, texts: Texts
) -> None:
    """On the way to Wilma at 08:00: one email to her in German with the expected arrival
    08:00 + 841 s = 08:14, and one text message to her number; a second tap is refused
    and sends nothing."""
    _anna, wilma, _walter, token = anna_day()
    booked = len(mails(outbox))
    at(8, 0)
    tap(client, token, wilma, "on_the_way")
    assert flashes(tap(client, token, wilma, "on_the_way")) == [
        "Dieser Auftrag ist schon weiter; ein Schritt zurück ist nicht möglich."
    ]
    sent = mails(outbox)[booked:]
    assert len(sent) == 1
    assert sent[0]["Subject"] == "Ihr Monteur ist unterwegs: Armatur tauschen"
    assert sent[0]["To"].addresses[0].addr_spec == "kunde@example.de"
    body = sent[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Voraussichtliche Ankunft: gegen 08:14 Uhr." in body
    assert texts.sent == [
        (
            "0391 765432",
            "Sanitär Test GmbH: Ihr Monteur ist unterwegs zu Westring 1 und voraussichtlich "
            "gegen 08:14 Uhr da.",
        )
    ]


def test_a_failing_notice_does_not_undo_the_progress(app: Flask, client: FlaskClient) -> None:
    """A text-message gateway that raises: the step is still saved and the page answers."""

    class Broken:
        def send(self, phone: str, text: str) -> None:
            raise ConnectionError("gateway down")

    app.extensions[GATEWAY_KEY] = Broken()
    _anna, wilma, _walter, token = anna_day()
    at(8, 0)
    assert flashes(tap(client, token, wilma, "on_the_way")) == ["Unterwegs: gespeichert um 08:00."]
    assert fresh(wilma).progress == "on_the_way"


def test_another_technician_s_or_firm_s_stop_cannot_be_updated(client: FlaskClient) -> None:
    """Gerd's link cannot report on Anna's stop, nor Anna's link on another firm's stop:
    404, nothing changed."""
    anna, wilma, _walter, _token = anna_day()
    gerd = anna.business.technicians[1]
    gerd_token = sign_sheet(SheetLink(gerd.id, TUESDAY), current_app.config["SECRET_KEY"])
    other = make_business("andere")
    foreign = confirm(other, "tap", WEST_1, "Fremd Kunde")
    anna_token = sign_sheet(SheetLink(anna.id, TUESDAY), current_app.config["SECRET_KEY"])
    at(8, 0)
    for token, appointment in ((gerd_token, wilma), (anna_token, foreign)):
        response = client.post(
            f"/sheets/{token}/stops/{appointment.id}/progress", data={"step": "on_the_way"}
        )
        assert response.status_code == 404
        assert fresh(appointment).progress == "planned"
