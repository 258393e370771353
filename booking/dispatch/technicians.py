"""Managing technicians: hours, lunch break, skills, start and end place, absences.

Everyone logged in sees the technicians; only administrators change them (dispatchers
see the same pages read-only). Absences are day work: dispatchers add and remove them too.
A change that would break a planned route, or an absence over days with stops, is
refused with the days and reasons, and nothing is written.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from booking.auth import admin_required, is_admin
from booking.dispatch import bp, my_business
from booking.dispatch.forms import (
    WEEKDAY_NAMES,
    WEEKDAYS,
    AbsenceForm,
    ConfirmForm,
    parse_day,
    technician_form,
    time_text,
)
from booking.extensions import db
from booking.models import Business, DayPlan, RouteStop, Technician, TechnicianAbsence
from booking.services import audit
from booking.services.addresses import AddressNotFound, GeocoderUnavailable, locate
from booking.services.clock import local_today, now_utc
from booking.services.dayplans import lock_day
from booking.services.routechecks import DayProblem, RouteGuard, guarded_edit
from booking.templating import skill_names


def own_technician(business: Business, technician_id: int) -> Technician:
    """The technician if it belongs to this business; 404 otherwise (ids of other firms
    are not even confirmed to exist)."""
    technician = db.session.get(Technician, technician_id)
    if technician is None or technician.business_id != business.id:
        abort(404)
    return technician


def skill_choices(business: Business, technician: Technician | None = None) -> list[str]:
    """The skills the firm's services require, plus those the technician has already."""
    skills = {s.required_skill for s in business.services if s.required_skill}
    if technician is not None:
        skills |= set(technician.skills)
    return sorted(skills)


def form_data(technician: Technician) -> dict[str, Any]:
    """The form's fields as the row is now (places stay empty: leave them to keep them)."""
    data: dict[str, Any] = {
        "name": technician.name,
        "color": technician.color,
        "skills": list(technician.skills),
        "lunch_earliest": time_text(technician.lunch_earliest_s),
        "lunch_latest": time_text(technician.lunch_latest_s),
        "lunch_minutes": str(technician.lunch_duration_s // 60)
        if technician.lunch_duration_s
        else "",
        "end_same_as_start": (technician.start_lat, technician.start_lon)
        == (technician.end_lat, technician.end_lon),
    }
    for weekday in WEEKDAYS:
        hours = technician.working_hours.get(str(weekday))
        data[f"day{weekday}_start"] = time_text(hours[0]) if hours else ""
        data[f"day{weekday}_end"] = time_text(hours[1]) if hours else ""
    return data


def hours_summary(technician: Technician) -> list[str]:
    """ "Mo 08:00–16:30" per working day, for the list."""
    return [
        f"{str(WEEKDAY_NAMES[int(day)])[:2]} {time_text(start)}–{time_text(end)}"
        for day, (start, end) in sorted(technician.working_hours.items())
    ]


def absent_action_url(day: date, technician: Technician) -> str:
    """Where the dispatcher re-plans a technician's stops away: the day view's "Technician
    absent" action if this installation has it, else the day view itself."""
    if "dispatch.absence" in current_app.view_functions:
        try:
            return url_for("dispatch.absence", day=day.isoformat(), technician=technician.id)
        except BuildError:
            pass
    return url_for("dispatch.day", day=day.isoformat())


@bp.get("/technicians")
def technicians():
    business = my_business()
    today = local_today(business, now_utc())
    upcoming = {t.id: [a for a in t.absences if a.last_day >= today] for t in business.technicians}
    return render_template(
        "dispatch/manage/technicians.html",
        business=business,
        technicians=business.technicians,
        hours_summary=hours_summary,
        upcoming=upcoming,
        can_edit=is_admin(),
    )


def _render_form(
    business: Business,
    form: Any,
    technician: Technician | None,
    problems: list[DayProblem] | None = None,
    absence_form: AbsenceForm | None = None,
    absence_conflicts: list[date] | None = None,
    status: int = 200,
):
    today = local_today(business, now_utc())
    return (
        render_template(
            "dispatch/manage/technician.html",
            business=business,
            form=form,
            technician=technician,
            weekdays=[(d, WEEKDAY_NAMES[d]) for d in WEEKDAYS],
            skill_label=lambda skill: skill_names([skill]),
            problems=problems or [],
            absence_form=absence_form or AbsenceForm(formdata=None),
            absence_conflicts=absence_conflicts or [],
            absent_action_url=absent_action_url,
            absences=[a for a in technician.absences if a.last_day >= today] if technician else [],
            confirm=ConfirmForm(),
            can_edit=is_admin(),
        ),
        status,
    )


@bp.get("/technicians/new")
@admin_required
def technician_new():
    business = my_business()
    form = technician_form(skill_choices(business), new=True, formdata=None)
    return _render_form(business, form, None)


@bp.post("/technicians/new")
@admin_required
def technician_create():
    business = my_business()
    form = technician_form(skill_choices(business), new=True)
    if not form.validate():
        return _render_form(business, form, None, status=422)
    places = _locate_places(form)
    if places is None:
        return _render_form(business, form, None, status=422)
    technician = Technician(business_id=business.id, start_label="", start_lat=0.0,
                            start_lon=0.0, end_label="", end_lat=0.0, end_lon=0.0,
                            working_hours={})  # fmt: skip
    _apply(form, technician, places)
    db.session.add(technician)
    db.session.flush()
    audit.record(business.id, current_user, "technician_create", f"technician {technician.id}")
    db.session.commit()
    flash(_("Technician %(name)s added.", name=technician.name), "info")
    return redirect(url_for("dispatch.technician", technician_id=technician.id))


@bp.get("/technicians/<int:technician_id>")
def technician(technician_id: int):
    business = my_business()
    row = own_technician(business, technician_id)
    form = technician_form(
        skill_choices(business, row), new=False, formdata=None, data=form_data(row)
    )
    return _render_form(business, form, row)


Place = tuple[str, float, float]  # label, lat, lon


def _locate_places(form: Any) -> dict[str, Place] | None:
    """The geocoded start and end places that were given; None (with the message on the
    field) if one cannot be found."""
    places: dict[str, Place] = {}
    for prefix in ("start", "end"):
        if prefix == "end" and form.end_same_as_start.data:
            continue
        given = form.place(prefix)
        if given is None:
            continue
        street, postcode, city = given
        try:
            found = locate(street, postcode, city)
        except AddressNotFound:
            form[f"{prefix}_street"].errors.append(
                _("This address was not found; please check street and postcode.")
            )
            return None
        except GeocoderUnavailable:
            form[f"{prefix}_street"].errors.append(
                _("The address lookup is not available right now; please try again later.")
            )
            return None
        label = f"{found.street}, {found.postcode} {found.city}"
        places[prefix] = (label[:200], found.lat, found.lon)
    return places


# Everything but name and colour shapes the routes: a change to it is checked first.
LOOKS_ONLY = frozenset({"name", "color"})


def _values(form: Any, technician: Technician, places: dict[str, Place]) -> dict[str, Any]:
    """The row's values as the form has them; a place left empty stays as it is."""
    lunch = form.lunch()
    skills = form.all_skills()
    new: dict[str, Any] = {
        "name": form.name.data,
        "color": form.color.data.lower(),
        # the same skills in another order are no change
        "skills": technician.skills if set(skills) == set(technician.skills or []) else skills,
        "working_hours": form.working_hours(),
        "lunch_earliest_s": lunch[0] if lunch else None,
        "lunch_latest_s": lunch[1] if lunch else None,
        "lunch_duration_s": lunch[2] if lunch else None,
    }
    if "start" in places:
        new["start_label"], new["start_lat"], new["start_lon"] = places["start"]
    if form.end_same_as_start.data:
        start = places.get("start") or (
            technician.start_label,
            technician.start_lat,
            technician.start_lon,
        )
        new["end_label"], new["end_lat"], new["end_lon"] = start
    elif "end" in places:
        new["end_label"], new["end_lat"], new["end_lon"] = places["end"]
    return new


def _apply(form: Any, technician: Technician, places: dict[str, Place]) -> list[str]:
    """Write the form into the row; returns the names of what changed."""
    changed = []
    for name, value in _values(form, technician, places).items():
        if getattr(technician, name) != value:
            setattr(technician, name, value)
            changed.append(name)
    return changed


@bp.post("/technicians/<int:technician_id>")
@admin_required
def technician_update(technician_id: int):
    business = my_business()
    row = own_technician(business, technician_id)
    form = technician_form(skill_choices(business, row), new=False)
    if not form.validate():
        return _render_form(business, form, row, status=422)
    places = _locate_places(form)  # before the locks: a geocoder may take seconds
    if places is None:
        return _render_form(business, form, row, status=422)
    touches_routes = any(
        getattr(row, k) != v for k, v in _values(form, row, places).items() if k not in LOOKS_ONLY
    )
    edit = guarded_edit(business, now_utc(), touches_routes, lambda: _apply(form, row, places))
    if edit.problems:
        return _render_form(business, form, row, problems=edit.problems, status=409)
    if edit.changed:
        audit.record(
            business.id, current_user, "technician_update", f"technician {row.id}",
            changed=edit.changed, retimed_stops=edit.retimed,
        )  # fmt: skip
    db.session.commit()
    flash(_("Changes to %(name)s saved.", name=row.name), "info")
    return redirect(url_for("dispatch.technician", technician_id=row.id))


@bp.post("/technicians/<int:technician_id>/active")
@admin_required
def technician_active(technician_id: int):
    """Deactivate (history keeps referring to the row, so it is never deleted) or
    reactivate. Deactivating someone with planned stops is refused."""
    business = my_business()
    row = own_technician(business, technician_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not row.active:
        row.active = True
        audit.record(business.id, current_user, "technician_activate", f"technician {row.id}")
        db.session.commit()
        flash(_("%(name)s is active again.", name=row.name), "info")
        return redirect(url_for("dispatch.technician", technician_id=row.id))
    guard = RouteGuard(business, now_utc())
    row.active = False
    problems = guard.verdict()
    if problems:
        db.session.rollback()
        form = technician_form(
            skill_choices(business, row), new=False, formdata=None, data=form_data(row)
        )
        return _render_form(business, form, row, problems=problems, status=409)
    audit.record(business.id, current_user, "technician_deactivate", f"technician {row.id}")
    db.session.commit()
    flash(_("%(name)s is deactivated.", name=row.name), "info")
    return redirect(url_for("dispatch.technicians"))


def days_with_stops(technician: Technician, first: date, last: date) -> list[date]:
    return sorted(
        db.session.scalars(
            select(DayPlan.day)
            .join(RouteStop, RouteStop.day_plan_id == DayPlan.id)
            .where(
                RouteStop.technician_id == technician.id,
                DayPlan.day >= first,
                DayPlan.day <= last,
            )
            .distinct()
        ).all()
    )


def _lock_absence_days(business: Business, first: date, last: date) -> None:
    """Lock the days of the absence where a stop could appear meanwhile: those with a plan
    and the bookable ones (a booking may open a day's first plan)."""
    today = local_today(business, now_utc())
    horizon_end = today + timedelta(days=business.horizon_days)
    planned = set(
        db.session.scalars(
            select(DayPlan.day).where(
                DayPlan.business_id == business.id, DayPlan.day >= first, DayPlan.day <= last
            )
        ).all()
    )
    bookable = {
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if today <= first + timedelta(days=n) <= horizon_end
    }
    for day in sorted(planned | bookable):
        lock_day(business.id, day)


@bp.post("/technicians/<int:technician_id>/absences")
def absence_add(technician_id: int):
    business = my_business()
    row = own_technician(business, technician_id)
    absence_form = AbsenceForm()
    form = technician_form(
        skill_choices(business, row), new=False, formdata=None, data=form_data(row)
    )
    if not absence_form.validate():
        return _render_form(business, form, row, absence_form=absence_form, status=422)
    first = parse_day(absence_form.first_day.data)
    last = parse_day(absence_form.last_day.data)
    assert first is not None and last is not None
    _lock_absence_days(business, first, last)
    conflicts = days_with_stops(row, first, last)
    if conflicts:
        db.session.rollback()
        return _render_form(
            business, form, row, absence_form=absence_form, absence_conflicts=conflicts,
            status=409,
        )  # fmt: skip
    absence = TechnicianAbsence(
        technician_id=row.id, first_day=first, last_day=last, reason=absence_form.reason.data
    )
    db.session.add(absence)
    db.session.flush()
    audit.record(
        business.id, current_user, "absence_add", f"technician {row.id}",
        first_day=first.isoformat(), last_day=last.isoformat(), absence=absence.id,
    )  # fmt: skip
    db.session.commit()
    flash(_("Absence of %(name)s saved.", name=row.name), "info")
    return redirect(url_for("dispatch.technician", technician_id=row.id))


@bp.post("/technicians/<int:technician_id>/absences/<int:absence_id>/delete")
def absence_remove(technician_id: int, absence_id: int):
    business = my_business()
    row = own_technician(business, technician_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    absence = db.session.get(TechnicianAbsence, absence_id)
    if absence is None or absence.technician_id != row.id:
        abort(404)
    audit.record(
        business.id, current_user, "absence_remove", f"technician {row.id}",
        first_day=absence.first_day.isoformat(), last_day=absence.last_day.isoformat(),
    )  # fmt: skip
    db.session.delete(absence)
    db.session.commit()
    flash(_("Absence of %(name)s removed.", name=row.name), "info")
    return redirect(url_for("dispatch.technician", technician_id=row.id))
