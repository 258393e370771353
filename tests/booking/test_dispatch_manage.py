"""Managing the firm: technicians, absences, services, settings and prices, logins.

Roles: administrators change all of it; dispatchers see technicians, services and
settings read-only (and enter absences, which is day work) but get a 403 on every change
and on the logins page. Every change that could break a planned route is re-checked and
refused with the days and reasons, nothing written.
"""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.config import config_from_env
from booking.extensions import db
from booking.models import (
    AuditEntry,
    Business,
    RouteStop,
    ServiceType,
    Technician,
    TechnicianAbsence,
    User,
    UserRole,
)
from booking.services import audit
from booking.services.clock import hhmm, now_utc
from booking.services.offering import find_slots
from tests.booking.pages import count
from tests.booking.test_dispatch import EAST_1, WEST_1, confirm, login, stops_and_version
from tests.factories import make_business, make_user, service

H = 3600
WEDNESDAY = date(2026, 11, 25)
ADMIN_EMAIL = "chefin@test.example"
PASSWORD = "secret-123"


# --- helpers -------------------------------------------------------------------------------


def make_admin(business: Business, email: str = ADMIN_EMAIL) -> User:
    user = make_user(business, email=email, password=PASSWORD)
    user.role = UserRole.ADMIN
    db.session.commit()
    return user


def technician(business: Business, name: str) -> Technician:
    return next(t for t in business.technicians if t.name == name)


def page(response) -> str:
    return unescape(response.get_data(as_text=True))


def technician_form(row: Technician, **changes: str) -> dict[str, object]:
    """The technician's edit form as the page fills it in, with `changes` on top."""
    data: dict[str, object] = {
        "name": row.name,
        "color": row.color,
        "skills": list(row.skills),
        "other_skills": "",
        "lunch_earliest": "",
        "lunch_latest": "",
        "lunch_minutes": "",
        "end_same_as_start": "y",
    }
    for weekday in range(7):
        start, end = row.working_hours.get(str(weekday)) or (None, None)
        data[f"day{weekday}_start"] = hhmm(start) if start is not None else ""
        data[f"day{weekday}_end"] = hhmm(end) if end is not None else ""
    data.update(changes)
    return data


def service_form(row: ServiceType, **changes: str) -> dict[str, object]:
    data: dict[str, object] = {
        "name_de": row.name_de,
        "name_en": row.name_en,
        "description_de": row.description_de,
        "description_en": row.description_en,
        "materials": row.materials,
        "duration_minutes": str(row.duration_s // 60),
        "base_price": f"{row.base_price_cents // 100},{row.base_price_cents % 100:02d}",
        "required_skill": row.required_skill or "",
        "sort_order": str(row.sort_order),
        "active": "y",
    }
    data.update(changes)
    return data


SETTINGS = {
    "slot_windows": "08:00-10:00\n10:00-12:00\n12:00-14:00\n14:00-16:00",
    "cancel_cutoff_hours": "12",
    "service_radius_km": "",
    "service_postcodes": "",
    "intro_de": "",
    "intro_en": "",
    "travel_fee_free_km": "10",
    "travel_fee_per_km": "1,00",
    "travel_fee_max": "40,00",
    "discount_max": "30,00",
    "floor_pct": "70",
    "tier0_saving": "75",
    "tier0_discount": "15",
    "tier1_saving": "50",
    "tier1_discount": "10",
    "tier2_saving": "25",
    "tier2_discount": "5",
    "half_day_discount_pct": "3",
    "day_discount_pct": "5",
    "week_discount_pct": "8",
}  # the test firm's ROUND_POLICY as the form shows it


def audit_actions(business: Business) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.business_id == business.id)
            .order_by(AuditEntry.id)
        )
    )


def gas_job_on_tuesday(business: Business) -> RouteStop:
    """A 2-hour gas boiler service on Tuesday 14-16: only Gerd Gas can do it."""
    appointment = confirm(business, "gasboiler", WEST_1, "Kunde Gas", window_start=14 * H)
    stop = db.session.scalars(
        select(RouteStop).where(RouteStop.appointment_id == appointment.id)
    ).one()
    assert stop.technician.name == "Gerd Gas"
    return stop


# --- access ----------------------------------------------------------------------------------


def test_anonymous_visitors_get_the_login_and_change_nothing(client: FlaskClient) -> None:
    """Every management page and change redirects to /login without a session; Gerd's
    hours stay as they are."""
    business = make_business()
    gerd = technician(business, "Gerd Gas")
    hours = dict(gerd.working_hours)
    for path in ("technicians", "services", "settings", "users", "audit", f"technicians/{gerd.id}"):
        response = client.get(f"/dispatch/{path}")
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login")
    response = client.post(
        f"/dispatch/technicians/{gerd.id}", data=technician_form(gerd, day0_end="12:00")
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert technician(business, "Gerd Gas").working_hours == hours


def test_a_dispatcher_sees_the_pages_read_only_and_may_not_change_them(
    client: FlaskClient,
) -> None:
    """A dispatcher reads technicians, services and settings (the form in a disabled
    fieldset, no save button) but every change answers 403 with the German explanation,
    and the logins page is closed; nothing is written."""
    business = make_business()
    make_user(business)
    login(client)
    gerd = technician(business, "Gerd Gas")
    for path in ("technicians", f"technicians/{gerd.id}", "services", "settings", "audit"):
        response = client.get(f"/dispatch/{path}")
        assert response.status_code == 200, path
    html = page(client.get(f"/dispatch/technicians/{gerd.id}"))
    assert "<fieldset disabled>" in html
    assert "Nur lesen" in html
    assert "Benutzer" not in page(client.get("/dispatch/technicians"))  # no Users link
    refused = [
        client.post(f"/dispatch/technicians/{gerd.id}", data=technician_form(gerd, name="X")),
        client.post(f"/dispatch/technicians/{gerd.id}/active"),
        client.get("/dispatch/technicians/new"),
        client.post(f"/dispatch/services/{service(business, 'tap').id}", data={}),
        client.post("/dispatch/settings", data=SETTINGS),
        client.get("/dispatch/users"),
        client.post("/dispatch/users", data={"email": "x@test.example"}),
    ]
    for response in refused:
        assert response.status_code == 403
        assert "Nur Administratoren dürfen das" in page(response)
    assert technician(business, "Gerd Gas").name == "Gerd Gas"
    assert audit_actions(business) == []


def test_users_of_one_firm_cannot_reach_another_firms_rows(client: FlaskClient) -> None:
    """An administrator of firm A guessing firm B's ids gets 404 for B's technician,
    absence, service and user, and nothing of B changes; A's audit page lists none of
    B's entries."""
    a = make_business("firm-a")
    b = make_business("firm-b")
    make_admin(a)
    other_admin = make_admin(b, email="b-admin@test.example")
    b_user = make_user(b, email="b-dispo@test.example")
    b_gerd = technician(b, "Gerd Gas")
    b_absence = TechnicianAbsence(
        technician_id=b_gerd.id, first_day=WEDNESDAY, last_day=WEDNESDAY, reason="Urlaub"
    )
    db.session.add(b_absence)
    audit.record(b.id, other_admin, "technician_update", f"technician {b_gerd.id}")
    db.session.commit()
    b_tap = service(b, "tap")
    login(client, email=ADMIN_EMAIL)
    requests = [
        client.get(f"/dispatch/technicians/{b_gerd.id}"),
        client.post(f"/dispatch/technicians/{b_gerd.id}", data=technician_form(b_gerd, name="X")),
        client.post(f"/dispatch/technicians/{b_gerd.id}/active"),
        client.post(
            f"/dispatch/technicians/{b_gerd.id}/absences",
            data={"first_day": "2026-12-01", "last_day": "2026-12-02"},
        ),
        client.post(f"/dispatch/technicians/{b_gerd.id}/absences/{b_absence.id}/delete"),
        client.get(f"/dispatch/services/{b_tap.id}"),
        client.post(f"/dispatch/services/{b_tap.id}", data=service_form(b_tap, name_de="X")),
        client.post(f"/dispatch/users/{b_user.id}/active"),
    ]
    assert [r.status_code for r in requests] == [404] * len(requests)
    # A's own absence route with B's absence id: still nothing
    a_gerd = technician(a, "Gerd Gas")
    response = client.post(f"/dispatch/technicians/{a_gerd.id}/absences/{b_absence.id}/delete")
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Technician, b_gerd.id).name == "Gerd Gas"
    assert db.session.get(Technician, b_gerd.id).active
    assert db.session.get(ServiceType, b_tap.id).name_de == "Armatur tauschen"
    assert db.session.get(User, b_user.id).active
    assert count(TechnicianAbsence) == 1
    assert audit_actions(a) == []
    assert f"technician {b_gerd.id}" not in page(client.get("/dispatch/audit"))


def test_the_navigation_links_the_workspace(client: FlaskClient) -> None:
    """An administrator's pages link day view, technicians, services, settings, users and
    audit log, and carry the logout button."""
    make_admin(make_business())
    login(client, email=ADMIN_EMAIL)
    html = page(client.get("/dispatch/services"))
    links = ("technicians", "services", "settings", "users", "audit")
    for href in ("/dispatch/", "/logout", *(f"/dispatch/{link}" for link in links)):
        assert f'"{href}"' in html, href


# --- technicians -----------------------------------------------------------------------------


def test_an_admin_adds_a_technician_whose_start_is_geocoded(client: FlaskClient) -> None:
    """A new technician starting at "Breiter Weg 1, 39104 Magdeburg" gets that postcode's
    coordinates (52.1243, 11.6322 in the test geodata), the hours as seconds, a
    technician_create audit entry, and can be offered on Tuesday."""
    business = make_business()
    make_admin(business)
    login(client, email=ADMIN_EMAIL)
    data = {
        "name": "Lena Lötkolben",
        "color": "#AA3300",
        "skills": ["water"],
        "other_skills": "solar, heating",
        "day1_start": "07:00",
        "day1_end": "15:30",
        "lunch_earliest": "11:30",
        "lunch_latest": "13:00",
        "lunch_minutes": "30",
        "start_street": "Breiter Weg 1",
        "start_postcode": "39104",
        "start_city": "Magdeburg",
        "end_same_as_start": "y",
    }
    response = client.post("/dispatch/technicians/new", data=data)
    assert response.status_code == 302
    lena = db.session.scalars(select(Technician).where(Technician.name == "Lena Lötkolben")).one()
    assert lena.color == "#aa3300"
    assert lena.skills == ["heating", "solar", "water"]
    assert lena.working_hours == {"1": [7 * H, 15 * H + 1800]}
    assert (lena.lunch_earliest_s, lena.lunch_latest_s, lena.lunch_duration_s) == (
        11 * H + 1800, 13 * H, 1800,
    )  # fmt: skip
    assert (lena.start_lat, lena.start_lon) == (52.1243, 11.6322)
    assert (lena.end_lat, lena.end_lon) == (52.1243, 11.6322)
    assert lena.start_label == "Breiter Weg 1, 39104 Magdeburg"
    assert audit_actions(business) == ["technician_create"]


def test_an_unknown_start_address_is_refused(client: FlaskClient) -> None:
    """Postcode 01067 is not in the test geodata: the form comes back (422) with
    "Diese Adresse wurde nicht gefunden" at the street, and no technician is added."""
    business = make_business()
    make_admin(business)
    login(client, email=ADMIN_EMAIL)
    response = client.post(
        "/dispatch/technicians/new",
        data={
            "name": "Nirgendwo",
            "color": "#123456",
            "day0_start": "08:00",
            "day0_end": "16:00",
            "start_street": "Hauptstraße 1",
            "start_postcode": "01067",
            "start_city": "Dresden",
            "end_same_as_start": "y",
        },
    )
    assert response.status_code == 422
    assert "Diese Adresse wurde nicht gefunden" in page(response)
    assert count(Technician) == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"day0_end": "07:00"}, "Das Arbeitsende muss nach dem Arbeitsbeginn liegen."),
        ({"day0_end": ""}, "Bitte beide Zeiten angeben, oder keine für einen freien Tag."),
        ({"day0_start": "8 Uhr"}, "Bitte eine Uhrzeit wie 07:30 angeben."),
        (
            {"lunch_earliest": "13:00", "lunch_latest": "12:00", "lunch_minutes": "30"},
            "Der späteste Beginn darf nicht vor dem frühesten liegen.",
        ),
        (
            {"lunch_earliest": "16:00", "lunch_latest": "16:15", "lunch_minutes": "30"},
            "Die Mittagspause muss in jeden Arbeitstag fallen: am Montag wird 08:00–16:30 "
            "gearbeitet.",
        ),
        ({"color": "red"}, "Eine Farbe sieht aus wie #1f77b4."),
        ({"other_skills": "Solar Technik"}, "Solar passt nicht"),
        ({"name": ""}, "Bitte einen Namen angeben."),
    ],
)
def test_technician_fields_are_checked_with_german_messages(
    client: FlaskClient, changes: dict[str, str], message: str
) -> None:
    """Each wrong entry comes back (422) with its German message; the row is unchanged."""
    business = make_business()
    make_admin(business)
    login(client, email=ADMIN_EMAIL)
    anna = technician(business, "Anna Wasser")
    response = client.post(
        f"/dispatch/technicians/{anna.id}", data=technician_form(anna, **changes)
    )
    assert response.status_code == 422
    assert message in page(response)
    db.session.expire_all()
    assert technician(business, "Anna Wasser").working_hours["0"] == [8 * H, 16 * H + 1800]
    assert audit_actions(business) == []


def test_hours_that_would_break_a_planned_route_are_refused(client: FlaskClient) -> None:
    """Gerd has a gas job on Tuesday 14-16. Ending his Tuesdays at 13:00 would leave it
    unreachable: refused (409) naming "Dienstag, 24. November 2026" and why; his hours,
    every stop and every plan version stay, and no audit entry is written."""
    business = make_business()
    make_admin(business)
    gas_job_on_tuesday(business)
    login(client, email=ADMIN_EMAIL)
    gerd = technician(business, "Gerd Gas")
    before = stops_and_version()
    response = client.post(
        f"/dispatch/technicians/{gerd.id}", data=technician_form(gerd, day1_end="13:00")
    )
    assert response.status_code == 409
    html = page(response)
    assert "Nicht gespeichert" in html
    assert "Dienstag, 24. November 2026" in html
    assert "Gerd Gas wäre erst um" in html  # back only after the end of work at 13:00
    assert stops_and_version() == before
    assert technician(business, "Gerd Gas").working_hours["1"] == [8 * H, 16 * H + 1800]
    assert audit_actions(business) == []


def test_taking_a_skill_a_planned_job_needs_is_refused(client: FlaskClient) -> None:
    """Without "gas", Gerd could not do Tuesday's gas job: refused, skills unchanged."""
    business = make_business()
    make_admin(business)
    gas_job_on_tuesday(business)
    login(client, email=ADMIN_EMAIL)
    gerd = technician(business, "Gerd Gas")
    response = client.post(
        f"/dispatch/technicians/{gerd.id}", data=technician_form(gerd, skills=["water"])
    )
    assert response.status_code == 409
    assert "Gerd Gas fehlt die Fähigkeit gas" in page(response)
    db.session.expire_all()
    assert technician(business, "Gerd Gas").skills == ["water", "gas"]


def test_a_harmless_hours_change_is_saved_and_audited(client: FlaskClient) -> None:
    """Gerd's Tuesday gas job keeps its window when he works Tuesdays from 07:00 to
    17:00: saved, with a technician_update entry naming working_hours; the stop stays."""
    business = make_business()
    make_admin(business)
    stop = gas_job_on_tuesday(business)
    login(client, email=ADMIN_EMAIL)
    gerd = technician(business, "Gerd Gas")
    response = client.post(
        f"/dispatch/technicians/{gerd.id}",
        data=technician_form(gerd, day1_start="07:00", day1_end="17:00"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert technician(business, "Gerd Gas").working_hours["1"] == [7 * H, 17 * H]
    assert db.session.get(RouteStop, stop.id).technician_id == gerd.id
    entry = db.session.scalars(select(AuditEntry)).one()
    assert entry.action == "technician_update"
    assert entry.details["changed"] == ["working_hours"]


def test_deactivating_a_technician_with_planned_stops_is_refused(client: FlaskClient) -> None:
    """Gerd has Tuesday's gas job: deactivating him is refused (409) and he stays
    active; Anna, with no stops, is deactivated, with an audit entry."""
    business = make_business()
    make_admin(business)
    gas_job_on_tuesday(business)
    login(client, email=ADMIN_EMAIL)
    gerd, anna = technician(business, "Gerd Gas"), technician(business, "Anna Wasser")
    response = client.post(f"/dispatch/technicians/{gerd.id}/active")
    assert response.status_code == 409
    assert "1 Termin verlöre seinen Monteur" in page(response)
    assert client.post(f"/dispatch/technicians/{anna.id}/active").status_code == 302
    db.session.expire_all()
    assert technician(business, "Gerd Gas").active
    assert not technician(business, "Anna Wasser").active
    assert audit_actions(business) == ["technician_deactivate"]


# --- absences ----------------------------------------------------------------------------------


def test_an_absence_over_planned_stops_is_refused(client: FlaskClient) -> None:
    """Gerd is away Monday to Wednesday, but has a job on Tuesday: refused (409) naming
    Tuesday and pointing to "Monteur fällt aus" in the day view; no absence is stored."""
    business = make_business()
    make_user(business)  # absences are day work: a dispatcher may enter them
    gas_job_on_tuesday(business)
    login(client)
    gerd = technician(business, "Gerd Gas")
    before = stops_and_version()
    response = client.post(
        f"/dispatch/technicians/{gerd.id}/absences",
        data={"first_day": "2026-11-23", "last_day": "2026-11-25", "reason": "Urlaub"},
    )
    assert response.status_code == 409
    html = page(response)
    assert "Gerd Gas hat an diesen Tagen geplante Termine" in html
    assert "Dienstag, 24. November 2026" in html
    assert "/dispatch/?day=2026-11-24" in html or "day=2026-11-24" in html
    assert count(TechnicianAbsence) == 0
    assert stops_and_version()[0] == before[0]
    assert audit_actions(business) == []


def test_an_absence_takes_the_technician_off_the_offers_and_can_be_removed(
    client: FlaskClient,
) -> None:
    """With both technicians away on Wednesday, Wednesday is no longer offered (the cached
    horizon sees the absence); removing Anna's absence opens it again. Each step is
    audited."""
    business = make_business()
    make_user(business)
    login(client)
    tap = service(business, "tap")

    def wednesday_offered() -> bool:
        db.session.expire_all()
        slots = find_slots(business, tap, EAST_1, now_utc())
        return any(s.day == WEDNESDAY and s.offer is not None for s in slots)

    assert wednesday_offered()
    for name in ("Anna Wasser", "Gerd Gas"):
        response = client.post(
            f"/dispatch/technicians/{technician(business, name).id}/absences",
            data={"first_day": "2026-11-25", "last_day": "2026-11-25", "reason": "Schulung"},
        )
        assert response.status_code == 302
    assert not wednesday_offered()
    anna = technician(business, "Anna Wasser")
    absence = anna.absences[0]
    response = client.post(f"/dispatch/technicians/{anna.id}/absences/{absence.id}/delete")
    assert response.status_code == 302
    assert wednesday_offered()
    assert audit_actions(business) == ["absence_add", "absence_add", "absence_remove"]


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2026-11-26", "2026-11-25", "Der letzte Tag darf nicht vor dem ersten liegen."),
        ("morgen", "2026-11-25", "Bitte ein Datum wie 2026-11-24 angeben."),
        ("2026-01-01", "2027-06-01", "Eine Abwesenheit dauert höchstens 366 Tage."),
    ],
)
def test_absence_dates_are_checked(
    client: FlaskClient, first: str, last: str, message: str
) -> None:
    """Wrong dates come back (422) with the German message; nothing is stored."""
    business = make_business()
    make_user(business)
    login(client)
    gerd = technician(business, "Gerd Gas")
    response = client.post(
        f"/dispatch/technicians/{gerd.id}/absences", data={"first_day": first, "last_day": last}
    )
    assert response.status_code == 422
    assert message in page(response)
    assert count(TechnicianAbsence) == 0


# --- services ----------------------------------------------------------------------------------


def test_an_admin_adds_and_edits_a_service(client: FlaskClient) -> None:
    """A service "Rohrreinigung" of 45 minutes, 95,50 € becomes 2700 s and 9550 cents; a second
    service with its code is refused in German; renaming it is audited."""
    business = make_business()
    make_admin(business)
    login(client, email=ADMIN_EMAIL)
    data = {
        "code": "drain",
        "name_de": "Rohrreinigung",
        "name_en": "Drain cleaning",
        "duration_minutes": "45",
        "base_price": "95,50",
        "required_skill": "water",
        "sort_order": "4",
        "active": "y",
    }
    assert client.post("/dispatch/services/new", data=data).status_code == 302
    drain = db.session.scalars(select(ServiceType).where(ServiceType.code == "drain")).one()
    assert (drain.duration_s, drain.base_price_cents, drain.required_skill) == (2700, 9550, "water")
    again = client.post("/dispatch/services/new", data=data)
    assert again.status_code == 422
    assert "Eine andere Leistung hat diesen Code schon." in page(again)
    response = client.post(
        f"/dispatch/services/{drain.id}", data=service_form(drain, name_de="Abfluss frei")
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ServiceType, drain.id).name_de == "Abfluss frei"
    assert audit_actions(business) == ["service_create", "service_update"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"duration_minutes": "0"}, "Bitte eine ganze Zahl von 5 bis 720 angeben."),
        ({"base_price": "neunzig"}, "Bitte einen Betrag in Euro angeben, etwa 89,50."),
        ({"required_skill": "Gas Wasser"}, "Eine Fähigkeit ist ein kurzes kleingeschriebenes Wort"),
        ({"name_de": ""}, "Bitte einen Namen angeben."),
    ],
)
def test_service_fields_are_checked_with_german_messages(
    client: FlaskClient, changes: dict[str, str], message: str
) -> None:
    business = make_business()
    make_admin(business)
    login(client, email=ADMIN_EMAIL)
    tap = service(business, "tap")
    response = client.post(f"/dispatch/services/{tap.id}", data=service_form(tap, **changes))
    assert response.status_code == 422
    assert message in page(response)
    db.session.expire_all()
    assert service(business, "tap").duration_s == 3600


def test_a_longer_duration_that_breaks_a_route_is_refused(client: FlaskClient) -> None:
    """Tuesday's gas job starts at 14:00 at the earliest; at 3 hours instead of 2 Gerd
    would be back after 16:30: refused (409) naming Tuesday, duration and stops unchanged.
    2 h 15 min still fits: saved, the stop's planned end moves 15 minutes later."""
    business = make_business()
    make_admin(business)
    stop = gas_job_on_tuesday(business)
    planned_end = stop.planned_end_s
    login(client, email=ADMIN_EMAIL)
    gas = service(business, "gasboiler")
    before = stops_and_version()
    response = client.post(
        f"/dispatch/services/{gas.id}", data=service_form(gas, duration_minutes="180")
    )
    assert response.status_code == 409
    assert "Dienstag, 24. November 2026" in page(response)
    assert stops_and_version() == before
    assert service(business, "gasboiler").duration_s == 2 * H
    response = client.post(
        f"/dispatch/services/{gas.id}", data=service_form(gas, duration_minutes="135")
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(RouteStop, stop.id).planned_end_s == planned_end + 900
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.details) == (
        "service_update", {"changed": ["duration_s"], "retimed_stops": 1},
    )  # fmt: skip


# --- settings and prices -----------------------------------------------------------------------


def test_the_settings_form_shows_the_stored_policy(client: FlaskClient) -> None:
    """The form shows ROUND_POLICY in euros and percent: saving it unchanged writes no
    audit entry."""
    business = make_business()
    make_admin(business)
    login(client, email=ADMIN_EMAIL)
    html = page(client.get("/dispatch/settings"))
    for value in ('value="1,00"', 'value="40,00"', 'value="30,00"', 'value="75"', 'value="8"'):
        assert value in html, value
    assert "08:00-10:00" in html
    assert client.post("/dispatch/settings", data=SETTINGS).status_code == 302
    assert audit_actions(business) == []


def test_a_pricing_edit_changes_the_offered_prices_and_is_audited(client: FlaskClient) -> None:
    """EAST_1 lies about 6 km from the depot, inside the 10 km free radius: no travel fee.
    With no free radius at 2,00 €/km, every offer carries a fee (whole euros), and a
    settings_update entry names "pricing"."""
    business = make_business()
    make_admin(business)
    login(client, email=ADMIN_EMAIL)
    tap = service(business, "tap")
    fees = {s.offer.price.travel_fee_cents for s in find_slots(business, tap, EAST_1, now_utc())
            if s.offer}  # fmt: skip
    assert fees == {0}
    response = client.post(
        "/dispatch/settings",
        data={**SETTINGS, "travel_fee_free_km": "0", "travel_fee_per_km": "2,00"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    business = db.session.get(Business, business.id)
    assert business.pricing["travel_fee_free_meters"] == 0
    assert business.pricing["travel_fee_cents_per_km"] == 200
    offers = [s.offer for s in find_slots(business, tap, EAST_1, now_utc()) if s.offer]
    assert offers and all(o.price.travel_fee_cents >= 1000 for o in offers)
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.subject, entry.details) == (
        "settings_update", "business", {"changed": ["pricing"]},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tier1_saving": "75"}, "Jede Stufe braucht ihre eigene Schwelle."),
        ({"tier0_discount": "2"}, "Eine größere Ersparnis darf nie weniger Rabatt bringen."),
        ({"tier1_discount": ""}, "Bitte beide oder keines ausfüllen."),
        ({"week_discount_pct": "1"}, "Ein breiteres Fenster darf nie weniger Rabatt bringen"),
        ({"floor_pct": "120"}, "Bitte eine ganze Zahl von 0 bis 100 angeben."),
        ({"travel_fee_per_km": "-1"}, "Bitte einen Betrag in Euro angeben"),
        ({"slot_windows": "10:00-08:00"}, "Ein Fenster muss nach seinem Beginn enden"),
        ({"slot_windows": "08:00-10:00\n09:00-11:00"}, "Fenster dürfen sich nicht überschneiden."),
        ({"slot_windows": "morgens"}, "Jedes Fenster bitte wie 08:00-10:00 schreiben"),
        ({"service_postcodes": "39104, 3910"}, "3910 ist keine deutsche Postleitzahl"),
        ({"service_radius_km": "0"}, "Bitte einen Radius zwischen 0 und 500 km angeben."),
    ],
)
def test_settings_fields_are_checked_with_german_messages(
    client: FlaskClient, changes: dict[str, str], message: str
) -> None:
    business = make_business()
    make_admin(business)
    login(client, email=ADMIN_EMAIL)
    pricing = dict(business.pricing)
    response = client.post("/dispatch/settings", data={**SETTINGS, **changes})
    assert response.status_code == 422
    assert message in page(response)
    db.session.expire_all()
    assert db.session.get(Business, business.id).pricing == pricing


def test_the_policys_own_objection_is_a_form_error_not_a_500(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should PricingPolicy refuse what the form let through, its reason is shown as a
    form error (422) and nothing is saved."""
    business = make_business()
    make_admin(business)
    login(client, email=ADMIN_EMAIL)

    def refuse(*args: object, **kwargs: object) -> None:
        raise ValueError("floor_pct must lie in [0, 100], got 170")

    monkeypatch.setattr("booking.dispatch.settings.PricingPolicy", refuse)
    response = client.post("/dispatch/settings", data={**SETTINGS, "floor_pct": "60"})
    assert response.status_code == 422
    assert "Die Preisparameter passen nicht zusammen: floor_pct must lie" in page(response)
    assert audit_actions(business) == []


def test_area_windows_and_cutoff_are_stored(client: FlaskClient) -> None:
    """Windows, cut-off, radius 12,5 km and postcodes are stored in their units."""
    business = make_business()
    make_admin(business)
    login(client, email=ADMIN_EMAIL)
    data = {
        **SETTINGS,
        "slot_windows": "13:00-15:00, 07:30-09:30",
        "cancel_cutoff_hours": "48",
        "service_radius_km": "12,5",
        "service_postcodes": "39179 39104",
        "intro_de": "Willkommen",
    }
    assert client.post("/dispatch/settings", data=data).status_code == 302
    db.session.expire_all()
    stored = db.session.get(Business, business.id)
    assert stored.slot_windows == [[7 * H + 1800, 9 * H + 1800], [13 * H, 15 * H]]
    assert stored.cancel_cutoff_hours == 48
    assert stored.service_radius_km == 12.5
    assert stored.service_postcodes == ["39104", "39179"]
    assert stored.intro_de == "Willkommen"


# --- users -------------------------------------------------------------------------------------


def test_an_admin_adds_and_deactivates_a_login(app: Flask, client: FlaskClient) -> None:
    """A password of 7 characters is refused in German; with 8 the dispatcher is created
    and can log in; deactivated, they cannot any more. Both changes are audited; the
    admin cannot deactivate their own login."""
    business = make_business()
    admin = make_admin(business)
    login(client, email=ADMIN_EMAIL)
    data = {"email": "Neu@Test.example", "name": "Nele Neu", "role": "dispatcher"}
    short = client.post("/dispatch/users", data={**data, "password": "1234567"})
    assert short.status_code == 422
    assert "Das Passwort braucht mindestens 8 Zeichen." in page(short)
    assert client.post("/dispatch/users", data={**data, "password": "12345678"}).status_code == 302
    nele = db.session.scalars(select(User).where(User.email == "neu@test.example")).one()
    assert (nele.role, nele.business_id) == ("dispatcher", business.id)
    taken = client.post("/dispatch/users", data={**data, "password": "12345678"})
    assert "Es gibt schon einen Zugang mit dieser E-Mail-Adresse." in page(taken)
    response = client.post(f"/dispatch/users/{admin.id}/active")
    assert response.status_code == 302
    assert db.session.get(User, admin.id).active
    assert client.post(f"/dispatch/users/{nele.id}/active").status_code == 302
    assert audit_actions(business) == ["user_create", "user_deactivate"]
    with app.app_context():  # a request of its own: no logged-in user cached in `g`
        refused = login(app.test_client(), email="neu@test.example", password="12345678")
    assert refused.status_code == 401


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "secure"),
    [
        ({}, True),
        ({"KOMBITERMIN_DEMO": "1"}, False),  # `make run` serves plain http on 127.0.0.1
        ({"FLASK_DEBUG": "1"}, False),
        ({"KOMBITERMIN_DEMO": "1", "SESSION_COOKIE_SECURE": "1"}, True),
        ({"SESSION_COOKIE_SECURE": "0"}, False),
    ],
)
def test_session_cookies_are_secure_outside_demo_and_debug(
    monkeypatch: pytest.MonkeyPatch, tmp_path, env: dict[str, str], secure: bool
) -> None:
    """Session and remember cookies are HttpOnly and SameSite=Lax always, Secure unless
    in demo or debug mode (or the variable says otherwise)."""
    for name in ("KOMBITERMIN_DEMO", "FLASK_DEBUG", "SESSION_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = config_from_env(str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is secure
    assert config["REMEMBER_COOKIE_SECURE"] is secure
    assert config["SESSION_COOKIE_HTTPONLY"] and config["REMEMBER_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_SAMESITE"] == config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
