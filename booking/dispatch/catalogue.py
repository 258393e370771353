"""Managing the services customers book: names, descriptions, duration, price, skill, and
the materials a technician takes along (shown on the route sheet).

A price change applies to new offers only (confirmed prices are locked). A new duration
or required skill applies to booked appointments too, because their technician needs
that time on site: the change is refused when a planned route would then break a promise
(the days and reasons are shown), and otherwise the planned times are updated.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from booking.auth import admin_required, is_admin
from booking.dispatch import bp, my_business
from booking.dispatch.forms import ServiceForm, euro_text, number, parse_cents
from booking.extensions import db
from booking.models import Business, ServiceType
from booking.services import audit
from booking.services.clock import now_utc
from booking.services.routechecks import DayProblem, guarded_edit


def own_service(business: Business, service_id: int) -> ServiceType:
    service = db.session.get(ServiceType, service_id)
    if service is None or service.business_id != business.id:
        abort(404)
    return service


def form_data(service: ServiceType) -> dict[str, Any]:
    return {
        "code": service.code,
        "name_de": service.name_de,
        "name_en": service.name_en,
        "description_de": service.description_de,
        "description_en": service.description_en,
        "materials": service.materials,
        "duration_minutes": str(service.duration_s // 60),
        "base_price": euro_text(service.base_price_cents),
        "required_skill": service.required_skill or "",
        "sort_order": str(service.sort_order),
        "active": service.active,
    }


@bp.get("/services")
def services():
    business = my_business()
    return render_template(
        "dispatch/manage/services.html",
        business=business,
        services=business.services,
        can_edit=is_admin(),
    )


def _render(
    business: Business,
    form: ServiceForm,
    service: ServiceType | None,
    problems: list[DayProblem] | None = None,
    status: int = 200,
):
    skills = sorted(
        {s.required_skill for s in business.services if s.required_skill}
        | {skill for t in business.technicians for skill in t.skills}
    )
    return (
        render_template(
            "dispatch/manage/service.html",
            business=business,
            form=form,
            service=service,
            skills=skills,
            problems=problems or [],
            can_edit=is_admin(),
        ),
        status,
    )


@bp.get("/services/new")
@admin_required
def service_new():
    return _render(my_business(), ServiceForm(formdata=None), None)


@bp.post("/services/new")
@admin_required
def service_create():
    business = my_business()
    form = ServiceForm()
    if not form.validate():
        return _render(business, form, None, status=422)
    taken = db.session.scalar(
        select(ServiceType.id).where(
            ServiceType.business_id == business.id, ServiceType.code == form.code.data
        )
    )
    if taken is not None:
        form.code.errors.append(_("Another service has this code already."))
        return _render(business, form, None, status=422)
    service = ServiceType(business_id=business.id, code=form.code.data)
    _apply(form, service)
    db.session.add(service)
    db.session.flush()
    audit.record(business.id, current_user, "service_create", f"service {service.id}")
    db.session.commit()
    flash(_("Service %(name)s added.", name=service.name_de), "info")
    return redirect(url_for("dispatch.service", service_id=service.id))


@bp.get("/services/<int:service_id>")
def service(service_id: int):
    business = my_business()
    row = own_service(business, service_id)
    return _render(business, ServiceForm(formdata=None, data=form_data(row)), row)


# What a route depends on: a change to these is checked against the planned routes.
ROUTE_FIELDS = frozenset({"duration_s", "required_skill"})


def _values(form: ServiceForm) -> dict[str, Any]:
    """The row's values as the form has them (the code stays: links and the API name
    services by it)."""
    minutes = number(form.duration_minutes)
    cents = parse_cents(form.base_price.data)
    assert minutes is not None and cents is not None  # validate() made sure
    return {
        "name_de": form.name_de.data,
        "name_en": form.name_en.data,
        "description_de": form.description_de.data or "",
        "description_en": form.description_en.data or "",
        "materials": form.materials.data or "",
        "duration_s": minutes * 60,
        "base_price_cents": cents,
        "required_skill": form.required_skill.data or None,
        "sort_order": number(form.sort_order) or 0,
        "active": bool(form.active.data),
    }


def _apply(form: ServiceForm, service: ServiceType) -> list[str]:
    """Write the form into the row; returns the names of what changed."""
    changed = []
    for name, value in _values(form).items():
        if getattr(service, name, None) != value:
            setattr(service, name, value)
            changed.append(name)
    return changed


@bp.post("/services/<int:service_id>")
@admin_required
def service_update(service_id: int):
    business = my_business()
    row = own_service(business, service_id)
    form = ServiceForm()
    form.code.data = row.code  # not editable; the form shows it read-only
    if not form.validate():
        return _render(business, form, row, status=422)
    touches_routes = any(
        getattr(row, k) != v for k, v in _values(form).items() if k in ROUTE_FIELDS
    )
    edit = guarded_edit(business, now_utc(), touches_routes, lambda: _apply(form, row))
    if edit.problems:
        return _render(business, form, row, problems=edit.problems, status=409)
    if edit.changed:
        audit.record(
            business.id, current_user, "service_update", f"service {row.id}",
            changed=edit.changed, retimed_stops=edit.retimed,
        )  # fmt: skip
    db.session.commit()
    flash(_("Changes to %(name)s saved.", name=row.name_de), "info")
    return redirect(url_for("dispatch.service", service_id=row.id))
