"""GDPR: export everything stored about a customer, and erase it.

`flask --app booking gdpr-export --email X [--business SLUG] [--out FILE]` and
`flask --app booking gdpr-delete --email X [--business SLUG] [--yes]`.

A customer is every `Customer` row with that email address (case folded): each booking
makes its own row. Besides those rows and their appointments, personal data lives in the
geocode cache (the normalised address of an appointment), in an emergency proposal's
draft (name, phone, email, address of the caller), in the audit log (entries about their
appointments; the log holds ids and figures only, see booking/services/audit.py) and, with
`MAILER=outbox`, in the `.eml` files of the outbox.

Erasure keeps what the books need (the appointment rows with day, window, service and
prices) and removes the person: name, email, phone, street, postcode, city, notes and
access hints are emptied and coordinates are rounded to about a kilometre. Appointments
still to come are first cancelled through the normal cancellation, so their stops leave
the routes and the rest is re-timed; a job the technician is on right now is refused
(erase after it is done). Each erased appointment gets a fresh manage token, so the link
in old emails opens nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_binary_file, policy
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEntry,
    Business,
    Customer,
    GeocodeCacheEntry,
    PlanProposal,
    new_manage_token,
)
from booking.services import audit
from booking.services.bookings import cancel_appointment
from booking.services.clock import local_datetime, now_utc
from booking.services.eta import StopState
from booking.services.geocoding import query_key

# Fields of an emergency draft (booking.services.proposals.Draft) that name the caller.
DRAFT_PERSONAL = ("name", "phone", "email", "street", "postcode", "city", "notes", "access_hints")
UNDER_WAY = (StopState.ON_THE_WAY, StopState.ARRIVED)
# Two decimals of a degree: about 1 km north-south, a neighbourhood rather than a house.
COORDINATE_DECIMALS = 2


class GdprError(Exception):
    """A request that cannot be carried out; the message says why."""


@dataclass
class Erasure:
    """What an erasure did, by id (printed by the command; no personal data)."""

    customers: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    anonymised: list[int] = field(default_factory=list)
    geocode_entries: int = 0
    proposals: int = 0
    outbox_files: int = 0


def _normalised(email: str) -> str:
    address = email.strip().lower()  # as SQL's lower() folds the stored addresses
    if "@" not in address:
        raise GdprError(f"not an email address: {email!r}")
    return address


def _business(slug: str | None) -> Business | None:
    if slug is None:
        return None
    business = db.session.scalar(select(Business).where(Business.slug == slug))
    if business is None:
        raise GdprError(f"no business with slug {slug!r}")
    return business


def customers_with_email(email: str, business: Business | None = None) -> list[Customer]:
    query = select(Customer).where(func.lower(Customer.email) == _normalised(email))
    if business is not None:
        query = query.where(Customer.business_id == business.id)
    return list(db.session.scalars(query.order_by(Customer.id)))


def _appointments(customers: list[Customer]) -> list[Appointment]:
    if not customers:
        return []
    ids = [customer.id for customer in customers]
    query = select(Appointment).where(Appointment.customer_id.in_(ids)).order_by(Appointment.id)
    return list(db.session.scalars(query))


def _address_keys(appointments: list[Appointment]) -> set[str]:
    return {query_key(a.street, a.postcode, a.city) for a in appointments}


def _geocode_entries(appointments: list[Appointment]) -> list[GeocodeCacheEntry]:
    keys = _address_keys(appointments)
    if not keys:
        return []
    query = select(GeocodeCacheEntry).where(GeocodeCacheEntry.query.in_(sorted(keys)))
    return list(db.session.scalars(query.order_by(GeocodeCacheEntry.id)))


def _audit_entries(appointments: list[Appointment]) -> list[AuditEntry]:
    if not appointments:
        return []
    subjects = [f"appointment {a.id}" for a in appointments]
    businesses = sorted({a.business_id for a in appointments})
    query = select(AuditEntry).where(
        AuditEntry.business_id.in_(businesses), AuditEntry.subject.in_(subjects)
    )
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


def _proposals(
    email: str, appointments: list[Appointment], business: Business | None
) -> list[PlanProposal]:
    """Proposals whose emergency draft names this email, or that created one of these
    appointments (the draft is a copy of its contact data). The draft is JSON, so the
    proposals are read and matched here; erasure is rare and proposals are few."""
    ids = {a.id for a in appointments}
    query = select(PlanProposal).order_by(PlanProposal.id)
    if business is not None:
        query = query.where(PlanProposal.business_id == business.id)
    found = []
    for proposal in db.session.scalars(query):
        draft = (proposal.plan or {}).get("draft") or {}
        named = str(draft.get("email", "")).strip().lower() == email
        if named or proposal.created_appointment_id in ids:
            found.append(proposal)
    return found


def _outbox_files(email: str) -> list[tuple[Path, str]]:
    """The outbox's `.eml` files sent to this address, with their subjects."""
    if current_app.config.get("MAILER") != "outbox":
        return []
    folder = Path(current_app.config["MAIL_OUTBOX"])
    found = []
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
        with path.open("rb") as file:
            message = message_from_binary_file(file, policy=policy.default)
        recipients = getaddresses(message.get_all("To", []) + message.get_all("Cc", []))
        if any(address.lower() == email for _name, address in recipients):
            found.append((path, str(message.get("Subject", ""))))
    return found


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _appointment_record(appointment: Appointment) -> dict[str, Any]:
    business = db.session.get(Business, appointment.business_id)
    assert business is not None
    day, start, end = appointment.day, appointment.window_start_s, appointment.window_end_s
    return {
        "id": appointment.id,
        "service": appointment.service.name_de,
        "day": day.isoformat(),
        "window_start": local_datetime(business, day, start).isoformat(),
        "window_end": local_datetime(business, day, end).isoformat(),
        "window_kind": appointment.window_kind,
        "status": appointment.status,
        "source": appointment.source,
        "street": appointment.street,
        "postcode": appointment.postcode,
        "city": appointment.city,
        "lat": appointment.lat,
        "lon": appointment.lon,
        "geo_precision": appointment.geo_precision,
        "notes": appointment.notes,
        "access_hints": appointment.access_hints,
        "language": appointment.language,
        "price_cents": {
            "base": appointment.price_base_cents,
            "travel_fee": appointment.price_travel_fee_cents,
            "discount": appointment.price_discount_cents,
            "flexibility_discount": appointment.price_flexibility_cents,
            "total": appointment.price_total_cents,
        },
        "consent_at": _iso(appointment.consent_at),
        "booked_at": _iso(appointment.created_at),
        "cancelled_at": _iso(appointment.cancelled_at),
        "progress": appointment.progress,
        "on_the_way_at": _iso(appointment.on_the_way_at),
        "arrived_at": _iso(appointment.arrived_at),
        "done_at": _iso(appointment.done_at),
    }


def export_customer(email: str, slug: str | None = None) -> dict[str, Any]:
    """Everything stored about the customer with this email, as one JSON-ready document.

    The manage tokens are left out: they are keys, not data about the person."""
    address = _normalised(email)
    business = _business(slug)
    customers = customers_with_email(address, business)
    appointments = _appointments(customers)
    by_customer: dict[int, list[Appointment]] = {c.id: [] for c in customers}
    for appointment in appointments:
        by_customer[appointment.customer_id].append(appointment)
    slugs = {b.id: b.slug for b in db.session.scalars(select(Business))}
    return {
        "email": address,
        "exported_at": now_utc().isoformat(),
        "customers": [
            {
                "id": customer.id,
                "business": slugs[customer.business_id],
                "name": customer.name,
                "email": customer.email,
                "phone": customer.phone,
                "created_at": _iso(customer.created_at),
                "appointments": [_appointment_record(a) for a in by_customer[customer.id]],
            }
            for customer in customers
        ],
        "geocode_cache": [
            {
                "source": entry.source,
                "query": entry.query,
                "found": entry.found,
                "lat": entry.lat,
                "lon": entry.lon,
                "label": entry.label,
                "stored_at": _iso(entry.created_at),
            }
            for entry in _geocode_entries(appointments)
        ],
        "proposals": [
            {
                "id": proposal.id,
                "business": slugs[proposal.business_id],
                "day": proposal.day.isoformat(),
                "kind": proposal.kind,
                "status": proposal.status,
                "draft": (proposal.plan or {}).get("draft"),
            }
            for proposal in _proposals(address, appointments, business)
        ],
        "audit_log": [
            {
                "at": _iso(entry.at),
                "action": entry.action,
                "subject": entry.subject,
                "details": entry.details,
            }
            for entry in _audit_entries(appointments)
        ],
        "emails": [
            {"file": path.name, "subject": subject} for path, subject in _outbox_files(address)
        ],
    }


def _to_cancel(appointment: Appointment, now: datetime) -> bool:
    """Open and not yet begun: its promise is withdrawn by cancelling, which frees its stop."""
    if not appointment.is_open:
        return False
    business = db.session.get(Business, appointment.business_id)
    assert business is not None
    return local_datetime(business, appointment.day, appointment.window_start_s) > now


def _anonymise(appointment: Appointment) -> None:
    appointment.street = ""
    appointment.postcode = ""
    appointment.city = ""
    appointment.notes = ""
    appointment.access_hints = ""
    appointment.lat = round(appointment.lat, COORDINATE_DECIMALS)
    appointment.lon = round(appointment.lon, COORDINATE_DECIMALS)
    appointment.manage_token = new_manage_token()


def erase_customer(email: str, slug: str | None = None, now: datetime | None = None) -> Erasure:
    """Erase the personal data of the customer with this email (see the module docstring).

    Cancellations commit one by one (each under its day's lock, like any cancellation);
    the anonymisation of every row then commits at once. Should it stop in between, running
    it again finishes the job: cancelled appointments are not cancelled twice."""
    address = _normalised(email)
    now = now or now_utc()
    business = _business(slug)
    customers = customers_with_email(address, business)
    appointments = _appointments(customers)
    under_way = [
        a.id
        for a in appointments
        if a.status == AppointmentStatus.CONFIRMED and a.progress in UNDER_WAY
    ]
    if under_way:
        raise GdprError(
            f"appointment(s) {under_way} are under way right now; erase after they are done"
        )
    done = Erasure(customers=[c.id for c in customers])
    for appointment in appointments:
        if _to_cancel(appointment, now):
            cancel_appointment(appointment, now)
            done.cancelled.append(appointment.id)
    entries = _geocode_entries(appointments)
    proposals = _proposals(address, appointments, business)
    outbox = _outbox_files(address)
    for appointment in appointments:
        _anonymise(appointment)
        done.anonymised.append(appointment.id)
    for customer in customers:
        customer.name = ""
        customer.email = ""
        customer.phone = ""
        audit.record(
            customer.business_id,
            None,
            "gdpr_erase",
            f"customer {customer.id}",
            appointments=[a.id for a in appointments if a.customer_id == customer.id],
        )
    for entry in entries:
        db.session.delete(entry)
    for proposal in proposals:
        plan = dict(proposal.plan or {})
        if plan.get("draft"):
            plan["draft"] = {**plan["draft"], **{name: "" for name in DRAFT_PERSONAL}}
            proposal.plan = plan
    db.session.commit()
    done.geocode_entries, done.proposals = len(entries), len(proposals)
    for path, _subject in outbox:  # after the commit: files cannot roll back
        path.unlink(missing_ok=True)
    done.outbox_files = len(outbox)
    return done


def register_gdpr_commands(app: Flask) -> None:
    @app.cli.command("gdpr-export")
    @click.option("--email", required=True, help="the customer's email address")
    @click.option("--business", "slug", help="only this business (its slug); default: all")
    @click.option("--out", type=click.Path(dir_okay=False, writable=True), help="write here")
    def gdpr_export_command(email: str, slug: str | None, out: str | None) -> None:
        """Print (or write to --out) everything stored about a customer, as JSON."""
        try:
            document = export_customer(email, slug)
        except GdprError as error:
            raise click.ClickException(str(error)) from error
        text = json.dumps(document, ensure_ascii=False, indent=2)
        if out:
            Path(out).write_text(text + "\n", encoding="utf-8")
            click.echo(f"Wrote {len(document['customers'])} customer record(s) to {out}.")
        else:
            click.echo(text)

    @app.cli.command("gdpr-delete")
    @click.option("--email", required=True, help="the customer's email address")
    @click.option("--business", "slug", help="only this business (its slug); default: all")
    @click.option("--yes", is_flag=True, help="do not ask for confirmation")
    def gdpr_delete_command(email: str, slug: str | None, yes: bool) -> None:
        """Erase a customer's personal data: cancel what is to come, anonymise the rest."""
        try:
            found = customers_with_email(email, _business(slug))
        except GdprError as error:
            raise click.ClickException(str(error)) from error
        if not found:
            click.echo("No customer with that email address; nothing to erase.")
            return
        if not yes:
            click.confirm(
                f"Erase {len(found)} customer record(s) and their appointments' personal data?",
                abort=True,
            )
        try:
            done = erase_customer(email, slug)
        except GdprError as error:
            raise click.ClickException(str(error)) from error
        click.echo(
            f"Erased customer record(s) {done.customers}: cancelled appointment(s) "
            f"{done.cancelled}, anonymised {done.anonymised}; removed "
            f"{done.geocode_entries} geocode cache entr(y/ies), {done.outbox_files} outbox "
            f"file(s); cleaned {done.proposals} proposal(s)."
        )
