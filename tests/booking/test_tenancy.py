"""Two businesses in one database: nothing of one is reachable from the other.

The dispatcher sweep enumerates the dispatch blueprint's URL rules from `app.url_map`, so
a new route with an id in its path is covered (or fails here until its id is named in
`FOREIGN_IDS`). Single actions of another firm are tested where they live
(test_dispatch*, test_sheet_links, test_progress, test_emergency, test_absence); this
file proves the whole surface at once and the token boundaries."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEntry,
    Business,
    PlanProposal,
    ProposalStatus,
    TechnicianAbsence,
    UserRole,
)
from booking.services.feed_tokens import FeedLink, sign_feed
from booking.services.invariants import broken_promises
from booking.services.offering import Address
from booking.services.sheets import SheetLink, sign_sheet
from tests.booking.test_dispatch import confirm, login
from tests.factories import TUESDAY, make_business, make_user

THURSDAY = date(2026, 11, 26)
HARZ_ADDRESS = Address("Harzweg 1", "39112", "Magdeburg", 52.1094, 11.6039, "house")
ELBE_ADDRESS = Address("Elbuferweg 2", "39104", "Magdeburg", 52.1243, 11.6322, "house")
# Every name below appears only in business B's rows.
B_NAMES = ("Berta Harzerin", "Hanna Harz", "Bernd Brocken", "Harzer Spezial", "Dora Dispo")


@dataclass
class Firms:
    a: Business
    b: Business
    a_appointment: Appointment
    b_appointment: Appointment
    b_absence: TechnicianAbsence
    b_proposal: PlanProposal
    b_user_id: int


def two_firms() -> Firms:
    """A ("elbe", admin logged in below) and B ("harz"), each with a booked Tuesday job;
    B also has an absence on Thursday, a ready proposal and a dispatcher of its own."""
    a = make_business("elbe")
    admin = make_user(a)
    admin.role = UserRole.ADMIN
    b = make_business("harz")
    b.technicians[0].name, b.technicians[1].name = "Hanna Harz", "Bernd Brocken"
    b.services[0].name_de = "Harzer Spezial"
    db.session.commit()
    a_appointment = confirm(a, "tap", ELBE_ADDRESS, "Erika Elbe")
    b_appointment = confirm(b, "tap", HARZ_ADDRESS, "Berta Harzerin")
    absence = TechnicianAbsence(technician=b.technicians[1], first_day=THURSDAY, last_day=THURSDAY)
    proposal = PlanProposal(
        business_id=b.id, day=TUESDAY, kind="reoptimise", status=ProposalStatus.READY,
        base_version=0, plan={}, summary={},
    )  # fmt: skip
    db.session.add_all([absence, proposal])
    db.session.commit()
    b_user = make_user(b, email="dispo@harz.example")
    b_user.name = "Dora Dispo"
    db.session.commit()
    return Firms(a, b, a_appointment, b_appointment, absence, proposal, b_user.id)


def snapshot(firms: Firms) -> dict[str, object]:
    """What a foreign request could have changed in B."""
    db.session.expire_all()
    b = firms.b
    return {
        "appointment": (firms.b_appointment.status, firms.b_appointment.stop is not None,
                        firms.b_appointment.customer.name, firms.b_appointment.day),
        "technicians": [(t.name, t.active, t.sheet_key, t.working_hours) for t in b.technicians],
        "services": [(s.name_de, s.base_price_cents, s.active) for s in b.services],
        "absences": db.session.scalar(select(func.count()).select_from(TechnicianAbsence)),
        "proposal": firms.b_proposal.status,
        "business": (b.name, b.pricing, b.cancel_cutoff_hours),
        "audit": db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.business_id == b.id)
        ),
    }  # fmt: skip


def foreign_ids(firms: Firms) -> dict[str, int]:
    """For every id a dispatch URL takes, one that belongs to business B."""
    return {
        "appointment_id": firms.b_appointment.id,
        "technician_id": firms.b.technicians[1].id,
        "proposal_id": firms.b_proposal.id,
        "absence_id": firms.b_absence.id,
        "service_id": firms.b.services[0].id,
        "user_id": firms.b_user_id,
    }


def test_a_dispatcher_reaches_nothing_of_another_business_on_any_dispatch_url(
    app: Flask, client: FlaskClient
) -> None:
    """Logged in as A's admin, every dispatch URL with an id, filled with B's ids, answers
    404 (or 403) for every method, and B is exactly as before."""
    firms = two_firms()
    ids = foreign_ids(firms)
    before = snapshot(firms)
    assert login(client).status_code == 302
    tried = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("dispatch.") or not rule.arguments:
            continue
        missing = rule.arguments - ids.keys()
        assert not missing, f"{rule.rule}: name an id of business B for {sorted(missing)}"
        url = app.url_for(rule.endpoint, **{name: ids[name] for name in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"day": TUESDAY.isoformat(), "step": "on_the_way"}
            response = client.open(url, method=method, data=data)
            assert response.status_code in (403, 404), (method, url, response.status_code)
            tried += 1
    assert tried >= 20  # the sweep really ran over the blueprint
    # B's absence through A's own technician: the pairing is checked too.
    own = firms.a.technicians[0].id
    response = client.post(f"/dispatch/technicians/{own}/absences/{firms.b_absence.id}/delete")
    assert response.status_code == 404
    assert snapshot(firms) == before
    assert broken_promises(firms.b) == []


def test_a_dispatcher_s_pages_show_nothing_of_another_business(
    app: Flask, client: FlaskClient
) -> None:
    """Every dispatch page without an id (day, week, lists, audit log, phone booking…),
    on the day both firms have a job, names none of B's customers, staff or services."""
    firms = two_firms()
    assert login(client).status_code == 302
    pages = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("dispatch.") or rule.arguments:
            continue
        if "GET" not in rule.methods or rule.rule.endswith(".pdf"):  # PDF: test_sheet_pdf
            continue
        response = client.get(rule.rule, query_string={"day": TUESDAY.isoformat()})
        assert response.status_code == 200, rule.rule
        html = response.get_data(as_text=True)
        for name in B_NAMES:
            assert name not in html, (rule.rule, name)
        pages += 1
    assert pages >= 10
    day = client.get("/dispatch/", query_string={"day": TUESDAY.isoformat()})
    assert "Erika Elbe" in day.get_data(as_text=True)  # A's own job is there
    assert firms.b_appointment.id  # B's rows exist all along


def _with_technician(token: str, technician_id: int) -> str:
    """The token's payload with another technician id, its signature left as it was."""
    payload, rest = token.split(".", 1)
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["t"] = technician_id
    encoded = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return encoded.decode().rstrip("=") + "." + rest


def test_sheet_and_feed_links_of_one_business_open_nothing_of_another(
    client: FlaskClient,
) -> None:
    """A's sheet link shows A's job only, its PDF too, and cannot report on B's stop; with
    B's technician id put into it, it is not valid. A's feed lists A's job only, and the
    same forgery fails."""
    firms = two_firms()
    secret = current_app.config["SECRET_KEY"]
    anna, hanna = firms.a.technicians[0], firms.b.technicians[1]
    a_stop_owner = firms.a_appointment.stop.technician_id
    sheet = sign_sheet(SheetLink(a_stop_owner, TUESDAY), secret)
    page = client.get(f"/sheets/{sheet}")
    assert page.status_code == 200
    assert "Erika Elbe" in page.get_data(as_text=True)
    assert all(name not in page.get_data(as_text=True) for name in B_NAMES)
    assert client.get(f"/sheets/{sheet}.pdf").status_code == 200
    progress = client.post(
        f"/sheets/{sheet}/stops/{firms.b_appointment.id}/progress", data={"step": "on_the_way"}
    )
    assert progress.status_code == 404
    for forged in (_with_technician(sheet, hanna.id), _with_technician(sheet, anna.id + 1000)):
        assert client.get(f"/sheets/{forged}").status_code == 404
        assert client.get(f"/sheets/{forged}.pdf").status_code == 404
    assert client.get(f"/sheets/{_with_technician(sheet, a_stop_owner)}").status_code == 200

    feed = sign_feed(FeedLink(a_stop_owner), secret)
    calendar = client.get(f"/sheets/feed/{feed}.ics")
    assert calendar.status_code == 200
    assert "Erika Elbe" in calendar.get_data(as_text=True)
    assert "Berta Harzerin" not in calendar.get_data(as_text=True)
    assert client.get(f"/sheets/feed/{_with_technician(feed, hanna.id)}.ics").status_code == 404
    db.session.expire_all()
    assert firms.b_appointment.progress == "planned"


@pytest.mark.parametrize("api", [False, True], ids=["pages", "api"])
def test_a_manage_token_reaches_its_own_appointment_only(client: FlaskClient, api: bool) -> None:
    """A's manage link shows and cancels A's appointment; it cannot move it with a move
    quote made for B's appointment; B's appointment is untouched throughout."""
    firms = two_firms()
    a_token, b_token = firms.a_appointment.manage_token, firms.b_appointment.manage_token
    prefix = "/api/v1/appointments" if api else "/appointment"
    shown = client.get(f"{prefix}/{a_token}")
    assert shown.status_code == 200
    assert "Berta Harzerin" not in shown.get_data(as_text=True)
    if api:
        assert shown.get_json()["appointment"]["address"]["street"] == "Elbuferweg 2"
    else:
        assert "Elbuferweg 2" in shown.get_data(as_text=True)

    # A move quote bound to B's appointment (got through B's own manage link)
    offers = client.post(f"/api/v1/appointments/{b_token}/offers", json={})
    assert offers.status_code == 200, offers.get_data(as_text=True)
    b_quote = next(s["quote"] for s in offers.get_json()["slots"] if s.get("quote"))
    if api:
        moved = client.post(f"{prefix}/{a_token}/reschedule", json={"quote": b_quote})
        assert moved.status_code == 422 and moved.get_json()["error"]["code"] == "quote_invalid"
    else:
        moved = client.post(f"{prefix}/{a_token}/reschedule", data={"quote": b_quote})
        # refused as quote_invalid: back to A's own manage page with the message
        assert moved.status_code == 302 and moved.headers["Location"].endswith(a_token)
    db.session.expire_all()
    assert firms.a_appointment.day == TUESDAY and firms.b_appointment.day == TUESDAY
    before_b = (firms.b_appointment.window_start_s, firms.b_appointment.price_total_cents)

    cancelled = client.post(f"{prefix}/{a_token}/cancel", **({"json": {}} if api else {}))
    assert cancelled.status_code in (200, 302)
    db.session.expire_all()
    assert firms.a_appointment.status == AppointmentStatus.CANCELLED
    assert firms.b_appointment.status == AppointmentStatus.CONFIRMED
    assert (firms.b_appointment.window_start_s, firms.b_appointment.price_total_cents) == before_b
    assert broken_promises(firms.a) == [] and broken_promises(firms.b) == []
