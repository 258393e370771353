"""Database rows. Times of day are whole seconds since local midnight (as in the optimizer),
money is whole cents, timestamps are timezone-aware UTC."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from booking.extensions import db
from optimizer.pricing import PriceBreakdown

# An appointment's progress before its technician reports anything from the route sheet.
PLANNED = "planned"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always hands back aware datetimes, also from SQLite which drops the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Business(TimestampMixin, db.Model):
    __tablename__ = "businesses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    # The host name its public site and API answer on, lower-case, without port
    # ("termine.mueller-sanitaer.de"); None: reached only as the deployment's only or
    # default business (booking.tenancy).
    host: Mapped[str | None] = mapped_column(String(253), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(200))
    depot_lat: Mapped[float]
    depot_lon: Mapped[float]
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    horizon_days: Mapped[int] = mapped_column(default=14)
    # [[start_s, end_s], ...]: the arrival windows offered to customers
    slot_windows: Mapped[list[list[int]]] = mapped_column(JSON)
    # optimizer.pricing.PricingPolicy.to_dict()
    pricing: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Customers may reschedule or cancel online until this many hours before their window
    # starts (business-local time); after that they call.
    cancel_cutoff_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    # Service area: addresses within this straight-line radius of the depot, or in one of
    # these postcodes, are served; with neither set, every address is.
    service_radius_km: Mapped[float | None]
    service_postcodes: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # The firm's own words on the start page, below the heading
    intro_de: Mapped[str] = mapped_column(Text, default="", server_default="")
    intro_en: Mapped[str] = mapped_column(Text, default="", server_default="")

    technicians: Mapped[list[Technician]] = relationship(
        back_populates="business", order_by="Technician.id"
    )
    services: Mapped[list[ServiceType]] = relationship(
        back_populates="business", order_by="ServiceType.sort_order"
    )


class Technician(TimestampMixin, db.Model):
    __tablename__ = "technicians"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    color: Mapped[str] = mapped_column(String(7), default="#1f77b4")
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_label: Mapped[str] = mapped_column(String(200))
    start_lat: Mapped[float]
    start_lon: Mapped[float]
    end_label: Mapped[str] = mapped_column(String(200))
    end_lat: Mapped[float]
    end_lon: Mapped[float]
    # {"0": [start_s, end_s], ...}: Monday = "0"; a missing weekday is a day off
    working_hours: Mapped[dict[str, list[int]]] = mapped_column(JSON)
    lunch_earliest_s: Mapped[int | None]
    lunch_latest_s: Mapped[int | None]
    lunch_duration_s: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    # Part of every signed route-sheet link: raising it (a dispatcher revokes the links)
    # makes all links signed before invalid, without a table of issued links.
    sheet_key: Mapped[int] = mapped_column(default=0, server_default="0")

    business: Mapped[Business] = relationship(back_populates="technicians")
    absences: Mapped[list[TechnicianAbsence]] = relationship(
        back_populates="technician", order_by="TechnicianAbsence.first_day"
    )

    def absent_on(self, day: date) -> bool:
        return any(absence.covers(day) for absence in self.absences)


class ServiceType(TimestampMixin, db.Model):
    __tablename__ = "service_types"
    __table_args__ = (UniqueConstraint("business_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name_de: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_de: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # What the technician takes along for this job, printed on the route sheet.
    materials: Mapped[str] = mapped_column(Text, default="", server_default="")
    duration_s: Mapped[int]
    base_price_cents: Mapped[int]
    required_skill: Mapped[str | None] = mapped_column(String(32))
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    business: Mapped[Business] = relationship(back_populates="services")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_de

    def description(self, locale: str) -> str:
        return self.description_en if locale == "en" else self.description_de

    @property
    def job_skills(self) -> frozenset[str]:
        """What a technician must be able to do for it, as the optimizer's Job takes it."""
        return self.skills_for(self.required_skill)

    @staticmethod
    def skills_for(required_skill: str | None) -> frozenset[str]:
        return frozenset([required_skill]) if required_skill else frozenset()


class Customer(TimestampMixin, db.Model):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(200))


class AppointmentStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    # The technician came, the customer was not there: the stop stays in its route (it
    # was driven) and the promise is settled.
    NO_SHOW = "no_show"
    # A promise the plan can no longer keep (the technician fell ill and no one else can
    # take it on its day): in no route, waiting for the customer to pick a new time.
    UNPLACED = "unplaced"


class AppointmentSource(enum.StrEnum):
    ONLINE = "online"
    PHONE = "phone"  # entered by a dispatcher, with the same offers and prices
    EMERGENCY = "emergency"  # Notdienst: inserted by a dispatcher at the best position now


def new_manage_token() -> str:
    # 256 random bits. Pages and API find the appointment through the unique index on
    # manage_token, never by comparing in Python: the index lookup's timing cannot help
    # anyone towards a token that has to be guessed whole.
    return secrets.token_urlsafe(32)


class Appointment(TimestampMixin, db.Model):
    """A promise: a day, an arrival window (of a kind: slot, half day, whole day, or a day
    of the week the engine chose) and a locked price."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    service_type_id: Mapped[int] = mapped_column(ForeignKey("service_types.id"))
    street: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(120))
    lat: Mapped[float]
    lon: Mapped[float]
    # "house", "street" or "postcode": how exact the coordinates are
    geo_precision: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date, index=True)
    window_start_s: Mapped[int]
    window_end_s: Mapped[int]
    # optimizer.pricing.WindowKind: how wide a window the customer left open. The server
    # default lets the migration fill rows booked before flexible windows existed.
    window_kind: Mapped[str] = mapped_column(String(16), default="slot", server_default="slot")
    status: Mapped[str] = mapped_column(String(16), default=AppointmentStatus.CONFIRMED)
    price_base_cents: Mapped[int]
    price_travel_fee_cents: Mapped[int]
    price_discount_cents: Mapped[int]
    # the flexibility discount for a wide window, on top of the combination discount
    price_flexibility_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    price_total_cents: Mapped[int]
    saving_pct: Mapped[int]
    detour_s: Mapped[int]
    standalone_s: Mapped[int]
    notes: Mapped[str] = mapped_column(Text, default="")
    # How the technician gets in ("Hinterhaus, 2. OG"): on the dispatcher view and route sheet
    access_hints: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # When the customer agreed to the processing of their data (None: booked before the
    # consent was recorded, or entered by the firm)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    manage_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_manage_token)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The customer's language at booking ("de" or "en"): every email about it uses it.
    language: Mapped[str] = mapped_column(String(8), default="de", server_default="de")
    # The calendar file's SEQUENCE: 0 at booking, one more with every reschedule or cancel.
    calendar_sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    # AppointmentSource: how the promise was made
    source: Mapped[str] = mapped_column(
        String(16), default=AppointmentSource.ONLINE, server_default="online"
    )

    # What the technician reported from the route sheet (booking.services.progress
    # .Progress). Kept here, not on RouteStop: stops are re-created whenever a plan is saved.
    progress: Mapped[str] = mapped_column(String(16), default=PLANNED, server_default=PLANNED)
    on_the_way_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when the technician left: the job done, or the customer not at home
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()
    service: Mapped[ServiceType] = relationship()
    stop: Mapped[RouteStop | None] = relationship(back_populates="appointment")

    @property
    def is_confirmed(self) -> bool:
        return self.status == AppointmentStatus.CONFIRMED

    @property
    def is_open(self) -> bool:
        """Still the customer's to move or cancel: confirmed, or unplaced by us and
        waiting for a new time."""
        return self.status in (AppointmentStatus.CONFIRMED, AppointmentStatus.UNPLACED)

    @property
    def is_unplaced(self) -> bool:
        return self.status == AppointmentStatus.UNPLACED

    @property
    def started(self) -> bool:
        """The technician reported setting off to it, arriving or leaving: it happened (or
        is happening) where it is, so no re-planning may move it."""
        return self.progress != PLANNED

    @property
    def price(self) -> PriceBreakdown:
        """The locked price, as it was quoted and confirmed."""
        return PriceBreakdown(
            base_cents=self.price_base_cents,
            travel_fee_cents=self.price_travel_fee_cents,
            discount_cents=self.price_discount_cents,
            total_cents=self.price_total_cents,
            saving_pct=self.saving_pct,
            flexibility_cents=self.price_flexibility_cents,
        )

    @property
    def job_id(self) -> str:
        """The id this appointment carries inside the optimizer."""
        return str(self.id)


class DayPlan(db.Model):
    """The plan in force for one business and day.

    Its row is the lock that serialises every change to that day's routes: a change first
    bumps `version`, which takes a row lock on PostgreSQL and the write lock on SQLite.
    """

    __tablename__ = "day_plans"
    __table_args__ = (UniqueConstraint("business_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    stops: Mapped[list[RouteStop]] = relationship(
        back_populates="day_plan", order_by="(RouteStop.technician_id, RouteStop.position)"
    )


class RouteStop(db.Model):
    """One appointment at its place in a technician's route, with its planned times."""

    __tablename__ = "route_stops"

    id: Mapped[int] = mapped_column(primary_key=True)
    day_plan_id: Mapped[int] = mapped_column(ForeignKey("day_plans.id"), index=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    position: Mapped[int]
    # unique: a confirmed appointment sits in exactly one route
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), unique=True)
    planned_arrival_s: Mapped[int]
    planned_start_s: Mapped[int]
    planned_end_s: Mapped[int]
    # A dispatcher fixed this stop to its technician and position: re-planning keeps it.
    pinned: Mapped[bool] = mapped_column(default=False, server_default=false())

    day_plan: Mapped[DayPlan] = relationship(back_populates="stops")
    technician: Mapped[Technician] = relationship()
    appointment: Mapped[Appointment] = relationship(back_populates="stop")


class TechnicianAbsence(TimestampMixin, db.Model):
    """Days a technician does not work (ill, holiday, training), both ends included."""

    __tablename__ = "technician_absences"

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="", server_default="")

    technician: Mapped[Technician] = relationship(back_populates="absences")

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


class ProposalStatus(enum.StrEnum):
    RUNNING = "running"  # the solver is still at work (re-optimisation in the background)
    READY = "ready"  # computed and checked: the dispatcher may apply it
    APPLIED = "applied"
    DISCARDED = "discarded"
    STALE = "stale"  # the day changed after it was computed: compute it afresh
    FAILED = "failed"  # nothing to apply; `message` says why


class PlanProposal(TimestampMixin, db.Model):
    """A change to one day's routes, computed and checked, waiting for the dispatcher.

    Every dispatcher action is shown before it is applied: the action computes the new
    routes and their effect (`summary`) against the plan at `base_version`; applying it
    re-checks everything under the day's lock and refuses when the day changed meanwhile.
    """

    __tablename__ = "plan_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    # booking.services.proposals.ProposalKind: reoptimise, move, pin, absence, emergency, ...
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.RUNNING)
    base_version: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # booking.services.proposals.Plan.to_dict(): routes by technician, status changes
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # booking.services.proposals.Effect.to_dict(): what the dispatcher is shown
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The appointment applying it created (an emergency job), for the follow-up email
    created_appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"))
    message: Mapped[str] = mapped_column(Text, default="", server_default="")


class AuditEntry(db.Model):
    """Who changed what, when: one row per change a person made."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    # None: the customer (through their manage link) or the system (nightly planning)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(64))
    # what it was done to, e.g. "appointment 17", "technician 3", "day 2026-11-24"
    subject: Mapped[str] = mapped_column(String(120))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()


class GeocodeCacheEntry(db.Model):
    """One geocoder's answer to one normalised address query, kept across restarts.

    `found` False records "unknown address" (its coordinates are empty). `source` names
    the geocoder ("nominatim", "photon", "postcode"): answers of one never stand in for
    another's.
    """

    __tablename__ = "geocode_cache"
    __table_args__ = (UniqueConstraint("source", "query"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    # booking.services.geocoding.query_key: street|postcode|city, case- and space-folded
    query: Mapped[str] = mapped_column(String(400))
    found: Mapped[bool]
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    precision: Mapped[str | None] = mapped_column(String(16))
    postcode: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(200), default="")
    label: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserRole(enum.StrEnum):
    DISPATCHER = "dispatcher"
    ADMIN = "admin"


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default=UserRole.DISPATCHER)
    active: Mapped[bool] = mapped_column(default=True)

    business: Mapped[Business] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active
