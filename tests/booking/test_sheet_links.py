"""Route-sheet links: valid, expired, tampered and revoked. Every invalid link answers 404
with the page "Dieser Link ist nicht gültig" (one answer for all: a stranger learns
nothing about why)."""

from __future__ import annotations

import re
import time
from html import unescape

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEntry, Technician
from booking.services.sheets import SheetLink, read_sheet, sign_sheet
from tests.booking.test_dispatch import day_view, login
from tests.factories import TUESDAY, make_business, make_user

INVALID = "Dieser Link ist nicht gültig"
DAY = 86400


def anna_link(key: int = 0) -> tuple[Technician, str]:
    business = make_business()
    make_user(business)
    anna = business.technicians[0]
    return anna, sign_sheet(SheetLink(anna.id, TUESDAY, key), current_app.config["SECRET_KEY"])


def opens(client: FlaskClient, token: str) -> bool:
    response = client.get(f"/sheets/{token}")
    if response.status_code == 404:
        assert INVALID in response.get_data(as_text=True)
        return False
    assert response.status_code == 200
    return True


def sheet_link_on_day_view(html: str, technician: Technician) -> str:
    section = re.search(
        rf'<section class="techday" id="tech-{technician.id}".*?</section>', html, re.S
    )
    assert section is not None
    found = re.search(r'href="/sheets/([^"]+)"', section.group(0))
    assert found is not None
    return unescape(found.group(1))


def test_a_fresh_link_opens_and_carries_the_technician_s_key(client: FlaskClient) -> None:
    """The link signed with Anna's current key (0) opens her sheet."""
    anna, token = anna_link()
    assert opens(client, token)
    link = read_sheet(token, current_app.config["SECRET_KEY"], 3600)
    assert link == SheetLink(anna.id, TUESDAY, 0)


def test_a_link_expires_after_its_lifetime(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Links live SHEET_LINK_TTL_DAYS (3) days: one signed now still opens two days later,
    and no longer four days later. (itsdangerous stamps and checks with the real clock, so
    the test moves that clock, not the app's NOW.)"""
    app.config["SHEET_LINK_TTL_DAYS"] = 3
    signed_at = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at)
    _anna, token = anna_link()
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at + 2 * DAY)
    assert opens(client, token)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at + 4 * DAY)
    assert not opens(client, token)


def test_a_tampered_link_is_invalid(client: FlaskClient) -> None:
    """A changed signature, or a payload naming key 1 with the old signature: 404."""
    _anna, token = anna_link()
    payload, stamp, signature = token.split(".")
    assert not opens(client, f"{payload}.{stamp}.{signature[::-1]}")
    secret = current_app.config["SECRET_KEY"]
    other = sign_sheet(SheetLink(_anna.id, TUESDAY, 1), secret).split(".")[0]
    assert not opens(client, f"{other}.{stamp}.{signature}")


def test_a_link_with_an_old_key_is_invalid(client: FlaskClient) -> None:
    """Anna's key is 2 after two revocations: links signed with key 0 or 1 give 404."""
    anna, token = anna_link(key=1)
    anna.sheet_key = 2
    db.session.commit()
    assert not opens(client, token)
    assert opens(
        client, sign_sheet(SheetLink(anna.id, TUESDAY, 2), current_app.config["SECRET_KEY"])
    )


def test_a_dispatcher_revokes_every_link_and_gets_new_ones(client: FlaskClient) -> None:
    """The day view's link works; "Tourenzettel-Links sperren" makes it invalid (404), the
    audit log records it under the dispatcher's name, Gerd's link keeps working, and the
    day view then shows a new link for Anna that opens."""
    business = make_business()
    user = make_user(business)
    anna, gerd = business.technicians
    login(client)
    view = day_view(client)
    old_anna, old_gerd = sheet_link_on_day_view(view, anna), sheet_link_on_day_view(view, gerd)
    assert opens(client, old_anna)
    assert client.get(f"/sheets/{old_anna}.pdf").status_code == 200

    response = client.post(
        f"/dispatch/technicians/{anna.id}/revoke-sheets",
        data={"day": TUESDAY.isoformat()},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Alle Tourenzettel-Links von Anna Wasser sind jetzt ungültig" in response.get_data(
        as_text=True
    )
    assert not opens(client, old_anna)
    assert client.get(f"/sheets/{old_anna}.pdf").status_code == 404  # its PDF as well
    assert opens(client, old_gerd)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "revoke_sheets")).one()
    assert (entry.user_id, entry.subject, entry.details) == (
        user.id,
        f"technician {anna.id}",
        {"key": 1},
    )
    new_anna = sheet_link_on_day_view(day_view(client), anna)
    assert new_anna != old_anna and opens(client, new_anna)


def test_only_the_own_firm_s_technicians_can_be_revoked(client: FlaskClient) -> None:
    """Another firm's technician: 404 and their key stays; without login: to the login."""
    make_business()
    other = make_business("andere")
    make_user(other, email="andere@test.example")
    target = make_business("dritte").technicians[0]
    assert client.post(f"/dispatch/technicians/{target.id}/revoke-sheets").status_code == 302
    login(client, email="andere@test.example")
    assert client.post(f"/dispatch/technicians/{target.id}/revoke-sheets").status_code == 404
    db.session.expire_all()
    assert db.session.get(Technician, target.id).sheet_key == 0  # type: ignore[union-attr]
