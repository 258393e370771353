"""The audit log page: who changed what, when (local time), newest first, 100 per page."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.dispatch.auditlog import ACTION_LABELS, action_label
from booking.extensions import db
from booking.models import AuditEntry
from booking.services import audit
from booking.services.clock import now_utc
from tests.booking.test_dispatch import login
from tests.factories import make_business, make_user


def rows(html: str) -> list[list[str]]:
    """The cells of every body row of the audit table, as text."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""

    def text(cell: str) -> str:
        return unescape(re.sub(r"<[^>]+>", "", cell)).strip()

    return [
        [text(cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_entries_show_who_when_what_newest_first(client: FlaskClient) -> None:
    """Two entries: the dispatcher's technician change at "now" (09:00 UTC = 10:00 in
    Magdeburg) and a customer's cancellation an hour earlier. The page lists the change
    first with the user's name, local time and German label, then the cancellation by
    "Kunde oder System"."""
    business = make_business()
    user = make_user(business)
    now = now_utc()
    audit.record(business.id, None, "cancel", "appointment 7").at = now - timedelta(hours=1)
    audit.record(
        business.id, user, "technician_update", "technician 3", changed=["working_hours"]
    ).at = now
    db.session.commit()
    login(client)
    response = client.get("/dispatch/audit")
    assert response.status_code == 200
    assert rows(response.get_data(as_text=True)) == [
        ["23.11.2026 10:00", "Disponent", "Monteur geändert", "technician 3",
         "changed: working_hours"],
        ["23.11.2026 09:00", "Kunde oder System", "Termin storniert", "appointment 7", ""],
    ]  # fmt: skip


def test_the_log_is_paged_by_a_hundred(client: FlaskClient) -> None:
    """101 entries: page 1 shows the newest 100 and links to older ones; page 2 shows
    the oldest (number 0) and links back; a page that is no number shows page 1."""
    business = make_business()
    make_user(business)
    start = now_utc()
    for n in range(101):
        audit.record(business.id, None, "pin", f"appointment {n}").at = start + timedelta(
            minutes=n
        )
    db.session.commit()
    login(client)
    first = client.get("/dispatch/audit").get_data(as_text=True)
    assert len(rows(first)) == 100
    assert rows(first)[0][3] == "appointment 100"
    assert "page=2" in first and "Ältere" in first
    second = client.get("/dispatch/audit?page=2").get_data(as_text=True)
    assert [row[3] for row in rows(second)] == ["appointment 0"]
    assert "Neuere" in second and "page=3" not in second
    assert len(rows(client.get("/dispatch/audit?page=x").get_data(as_text=True))) == 100


def test_only_the_own_firms_entries_are_shown(client: FlaskClient) -> None:
    """Firm B's entry never appears on firm A's page."""
    a, b = make_business("firm-a"), make_business("firm-b")
    make_user(a)
    audit.record(a.id, None, "move", "appointment 1")
    audit.record(b.id, None, "move", "appointment 2")
    db.session.commit()
    login(client)
    html = client.get("/dispatch/audit").get_data(as_text=True)
    assert [row[3] for row in rows(html)] == ["appointment 1"]


def test_an_action_without_a_label_shows_its_own_name(client: FlaskClient) -> None:
    """An action recorded by code newer than the labels ("merge_days") still shows, by
    its name."""
    business = make_business()
    make_user(business)
    audit.record(business.id, None, "merge_days", "day 2026-11-24")
    db.session.commit()
    login(client)
    assert rows(client.get("/dispatch/audit").get_data(as_text=True))[0][2] == "merge_days"


@pytest.mark.parametrize(
    ("action", "german"),
    [
        ("pin", "Stopp fixiert"),
        ("move", "Termin verschoben"),
        ("reoptimise", "Tag neu optimiert"),
        ("absence", "Monteur fällt aus, Tag neu geplant"),
        ("emergency", "Notdienst eingeplant"),
        ("cancel", "Termin storniert"),
        ("no_show", "Kunde nicht angetroffen"),
        ("phone_booking", "Termin telefonisch gebucht"),
        ("settings_update", "Einstellungen geändert"),
    ],
)
def test_the_day_works_actions_have_german_labels(app: Flask, action: str, german: str) -> None:
    """The actions of the other parts of the workspace read in German (the default)."""
    with app.test_request_context("/dispatch/audit"):
        assert action_label(action) == german
    assert action in ACTION_LABELS


def test_anonymous_visitors_get_the_login(client: FlaskClient) -> None:
    make_business()
    response = client.get("/dispatch/audit")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert db.session.query(AuditEntry).count() == 0
