"""GDPR commands: `gdpr-export` shows everything stored about a customer, `gdpr-delete`
cancels what is to come, anonymises the rest and keeps every promise of the others."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from flask import Flask, current_app
from flask.testing import FlaskClient
from flask_babel import refresh
from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEntry,
    Customer,
    GeocodeCacheEntry,
    PlanProposal,
    ProposalStatus,
    RouteStop,
)
from booking.services.geocoding import query_key
from booking.services.invariants import broken_promises
from booking.services.quotes import read_quote
from tests.booking.pages import ADDRESS, CONTACT, book, count, slot_quotes
from tests.factories import TUESDAY, make_business

WEDNESDAY = date(2026, 11, 25)
OTHER_ADDRESS = {"street": "Lübecker Straße 3", "postcode": "39108", "city": "Magdeburg"}
OTHER_CONTACT = {**CONTACT, "name": "Otto Normal", "email": "otto@example.de",
                 "phone": "0391 999999", "notes": "Klingel defekt"}


def book_on(client: FlaskClient, day: date, address: dict[str, str], **contact: str) -> Appointment:
    """Book the first tap slot of `day` through the customer pages; the new appointment."""
    secret = current_app.config["SECRET_KEY"]
    quote = next(
        token
        for token in slot_quotes(client, "tap", address)
        if read_quote(token, secret, 900).day == day
    )
    response = book(client, quote, **contact)
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalars(select(Appointment).order_by(Appointment.id.desc())).first()


def remember_as_nominatim(address: dict[str, str], lat: float, lon: float) -> None:
    """The geocode cache's entry for `address`, as a firm geocoding with Nominatim has it
    (the tests geocode by postcode, whose answers are not stored)."""
    db.session.add(GeocodeCacheEntry(
        source="nominatim", query=query_key(**address), found=True, lat=lat, lon=lon,
        precision="house", postcode=address["postcode"], city=address["city"],
        label=f"{address['street']}, {address['postcode']} {address['city']}",
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
    ))  # fmt: skip
    db.session.commit()


def erika_and_otto(client: FlaskClient) -> tuple[Appointment, Appointment, Appointment]:
    """Erika books Tuesday and Wednesday at Breiter Weg 10, Otto Tuesday elsewhere; a
    dispatcher has also drafted an emergency job for Erika (a proposal not yet applied)."""
    tuesday = book_on(client, TUESDAY, ADDRESS)
    wednesday = book_on(client, WEDNESDAY, ADDRESS)
    otto = book_on(client, TUESDAY, OTHER_ADDRESS, **OTHER_CONTACT)
    for address in (ADDRESS, OTHER_ADDRESS):
        remember_as_nominatim(address, tuesday.lat, tuesday.lon)
    draft = {"name": CONTACT["name"], "email": "Erika@Example.de", "phone": CONTACT["phone"],
             **ADDRESS, "notes": "", "access_hints": "", "service_id": tuesday.service_type_id}
    db.session.add(PlanProposal(
        business_id=tuesday.business_id, day=WEDNESDAY, kind="emergency",
        status=ProposalStatus.READY, base_version=0, plan={"draft": draft}, summary={},
    ))  # fmt: skip
    db.session.commit()
    return tuesday, wednesday, otto


def test_export_has_the_customer_their_appointments_cache_entries_and_emails(
    app: Flask, client: FlaskClient, outbox: Path
) -> None:
    """Erika's two bookings, her address's geocode cache entry and her two confirmation
    emails; nothing of Otto's. The email is matched whatever its case."""
    make_business()
    tuesday, wednesday, _otto = erika_and_otto(client)
    result = app.test_cli_runner().invoke(args=["gdpr-export", "--email", "ERIKA@example.de"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["email"] == "erika@example.de"
    assert [c["name"] for c in document["customers"]] == ["Erika Mustermann"] * 2
    appointments = [a for c in document["customers"] for a in c["appointments"]]
    assert [a["id"] for a in appointments] == [tuesday.id, wednesday.id]
    assert {a["street"] for a in appointments} == {"Breiter Weg 10"}
    assert {a["notes"] for a in appointments} == {"Hinterhaus, 2. OG"}
    assert appointments[0]["day"] == "2026-11-24"
    assert appointments[0]["price_cents"]["total"] == tuesday.price_total_cents
    assert [e["query"] for e in document["geocode_cache"]] == ["breiter weg 10|39104|magdeburg"]
    assert len(document["emails"]) == 2  # one confirmation per booking
    assert [p["draft"]["street"] for p in document["proposals"]] == ["Breiter Weg 10"]
    text = json.dumps(document)
    assert "Otto" not in text and "otto@example.de" not in text and "Lübecker" not in text
    assert tuesday.manage_token not in text  # a key, not data about her


def test_export_writes_a_file_and_an_unknown_email_gives_an_empty_document(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    make_business()
    book_on(client, TUESDAY, ADDRESS)
    target = tmp_path / "erika.json"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["gdpr-export", "--email", "erika@example.de", "--out", target])
    assert result.exit_code == 0, result.output
    assert "1 customer record(s)" in result.output
    assert json.loads(target.read_text(encoding="utf-8"))["customers"][0]["phone"] == "0391 123456"
    nobody = json.loads(runner.invoke(args=["gdpr-export", "--email", "x@example.de"]).output)
    assert nobody["customers"] == [] and nobody["geocode_cache"] == []
    refused = runner.invoke(args=["gdpr-export", "--email", "a@b.de", "--business", "nix"])
    assert refused.exit_code == 1 and "no business with slug 'nix'" in refused.output


def test_delete_cancels_the_future_anonymises_the_past_and_keeps_every_promise(
    app: Flask, client: FlaskClient, outbox: Path
) -> None:
    """On Tuesday evening Erika asks to be erased. Tuesday's job is done and stays in its
    route for the books (price kept, person gone); Wednesday's is cancelled, leaves its
    route, and is anonymised too. Otto's booking and the plan's promises are untouched."""
    business = make_business()
    tuesday, wednesday, otto = erika_and_otto(client)
    old_token, price = tuesday.manage_token, tuesday.price_total_cents
    app.config["NOW"] = lambda: datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # 19:00 in Magdeburg

    result = app.test_cli_runner().invoke(
        args=["gdpr-delete", "--email", "erika@example.de", "--business", "elbe", "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert f"cancelled appointment(s) [{wednesday.id}]" in result.output
    db.session.expire_all()

    assert tuesday.status == AppointmentStatus.CONFIRMED and tuesday.stop is not None
    assert wednesday.status == AppointmentStatus.CANCELLED and wednesday.stop is None
    for erased in (tuesday, wednesday):
        assert (erased.street, erased.postcode, erased.city) == ("", "", "")
        assert (erased.notes, erased.access_hints) == ("", "")
        assert (erased.customer.name, erased.customer.email, erased.customer.phone) == ("", "", "")
        # about a kilometre: 52.12 / 11.63, no longer a house
        assert round(erased.lat, 2) == erased.lat and round(erased.lon, 2) == erased.lon
    assert tuesday.price_total_cents == price and tuesday.manage_token != old_token
    assert client.get(f"/appointment/{old_token}").status_code == 404
    assert otto.customer.name == "Otto Normal" and otto.street == "Lübecker Straße 3"
    assert broken_promises(business) == []

    queries = db.session.scalars(select(GeocodeCacheEntry.query)).all()
    assert "breiter weg 10|39104|magdeburg" not in queries
    assert "lübecker strasse 3|39108|magdeburg" in queries  # casefold: ß is ss
    left = [p.read_text(encoding="utf-8") for p in outbox.glob("*.eml")]
    assert len(left) == 1 and "otto@example.de" in left[0]  # Otto's confirmation only
    (draft,) = [p.plan["draft"] for p in db.session.scalars(select(PlanProposal))]
    assert (draft["name"], draft["email"], draft["phone"], draft["street"]) == ("", "", "", "")
    assert draft["service_id"] == tuesday.service_type_id  # the job itself stays
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "gdpr_erase")).all()
    assert len(entry) == 2  # one per customer row (each booking made one)
    assert "Erika" not in json.dumps([e.details for e in entry])
    leftover = db.session.scalars(
        select(Customer).where(Customer.email == "erika@example.de")
    ).all()
    assert leftover == []


def test_delete_asks_first_and_refuses_a_job_under_way(
    app: Flask, client: FlaskClient
) -> None:
    """Without --yes the command asks; "n" changes nothing. While the technician is at
    Erika's door, erasure waits: her address is what he needs."""
    make_business()
    tuesday = book_on(client, TUESDAY, ADDRESS)
    runner = app.test_cli_runner()
    asked = runner.invoke(args=["gdpr-delete", "--email", "erika@example.de"], input="n\n")
    assert asked.exit_code == 1 and "Erase 1 customer record(s)" in asked.output
    db.session.expire_all()
    assert tuesday.customer.name == "Erika Mustermann"

    tuesday.progress = "arrived"
    db.session.commit()
    refused = runner.invoke(args=["gdpr-delete", "--email", "erika@example.de", "--yes"])
    assert refused.exit_code == 1 and "under way" in refused.output
    db.session.expire_all()
    assert tuesday.street == "Breiter Weg 10" and tuesday.status == AppointmentStatus.CONFIRMED
    assert count(RouteStop) == 1

    unknown = runner.invoke(args=["gdpr-delete", "--email", "x@example.de", "--yes"])
    assert unknown.exit_code == 0 and "nothing to erase" in unknown.output


def test_the_privacy_notice_says_what_export_and_deletion_do(client: FlaskClient) -> None:
    make_business()
    german = client.get("/datenschutz").get_data(as_text=True)
    assert "als eine Datei" in german and "künftige Termine werden storniert" in german
    refresh()  # the test's one app context caches the locale; each request has its own
    english = client.get("/datenschutz?lang=en").get_data(as_text=True)
    assert "appointments still to come are cancelled" in english
