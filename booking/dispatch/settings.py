"""The business's settings: pricing parameters, arrival windows, cut-off, service area,
the start page's introduction.

The page shows euros, kilometres and percent; the row stores the PricingPolicy in cents
and metres. Confirmed prices never change: new parameters apply to the next offer (offers
read the policy at every request; the cached route horizons hold no prices).
"""

from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from booking.auth import admin_required, is_admin
from booking.dispatch import bp, my_business
from booking.dispatch.forms import (
    FLEX_FIELDS,
    MAX_TIERS,
    SettingsForm,
    decimal_text,
    euro_text,
    number,
    parse_cents,
    parse_decimal,
    time_text,
)
from booking.extensions import db
from booking.models import Business
from booking.services import audit
from optimizer.pricing import DiscountTier, PricingPolicy


def form_data(business: Business) -> dict[str, Any]:
    policy = PricingPolicy.from_dict(business.pricing)
    data: dict[str, Any] = {
        "slot_windows": "\n".join(
            f"{time_text(start)}-{time_text(end)}" for start, end in business.slot_windows
        ),
        "cancel_cutoff_hours": str(business.cancel_cutoff_hours),
        "service_radius_km": decimal_text(business.service_radius_km)
        if business.service_radius_km is not None
        else "",
        "service_postcodes": ", ".join(business.service_postcodes or []),
        "intro_de": business.intro_de,
        "intro_en": business.intro_en,
        "host": business.host or "",
        "travel_fee_free_km": decimal_text(policy.travel_fee_free_meters / 1000),
        "travel_fee_per_km": euro_text(policy.travel_fee_cents_per_km),
        "travel_fee_max": euro_text(policy.travel_fee_max_cents),
        "discount_max": euro_text(policy.discount_max_cents),
        "floor_pct": str(policy.floor_pct),
    }
    for name in FLEX_FIELDS:
        data[name] = str(getattr(policy, name))
    for n, tier in enumerate(policy.discount_tiers[:MAX_TIERS]):
        data[f"tier{n}_saving"] = str(tier.min_saving_pct)
        data[f"tier{n}_discount"] = str(tier.discount_pct)
    return data


def policy_from(form: Any) -> PricingPolicy:
    """The PricingPolicy the form describes; ValueError if its parts do not fit."""
    free_km = parse_decimal(form.travel_fee_free_km.data)
    assert free_km is not None  # validate() made sure
    return PricingPolicy(
        travel_fee_free_meters=int(free_km * 1000),
        travel_fee_cents_per_km=parse_cents(form.travel_fee_per_km.data) or 0,
        travel_fee_max_cents=parse_cents(form.travel_fee_max.data) or 0,
        discount_tiers=tuple(DiscountTier(saving, discount) for saving, discount in form.tiers()),
        discount_max_cents=parse_cents(form.discount_max.data) or 0,
        floor_pct=number(form.floor_pct) or 0,
        half_day_discount_pct=number(form.half_day_discount_pct) or 0,
        day_discount_pct=number(form.day_discount_pct) or 0,
        week_discount_pct=number(form.week_discount_pct) or 0,
    )


def host_taken(host: str, business: Business) -> bool:
    other = db.session.scalar(
        select(Business.id).where(Business.host == host, Business.id != business.id)
    )
    return other is not None


def _render(business: Business, form: Any, status: int = 200):
    return (
        render_template(
            "dispatch/manage/settings.html",
            business=business,
            form=form,
            tiers=range(MAX_TIERS),
            can_edit=is_admin(),
        ),
        status,
    )


@bp.get("/settings")
def settings():
    business = my_business()
    return _render(business, SettingsForm(formdata=None, data=form_data(business)))


@bp.post("/settings")
@admin_required
def settings_update():
    business = my_business()
    form = SettingsForm()
    if not form.validate():
        return _render(business, form, 422)
    try:
        policy = policy_from(form)
    except ValueError as error:
        # The policy checks itself; whatever the form's own rules missed shows here.
        form.form_errors.append(
            _("The pricing parameters do not fit together: %(reason)s", reason=str(error))
        )
        return _render(business, form, 422)
    radius = parse_decimal(form.service_radius_km.data or "")
    new: dict[str, Any] = {
        # as the JSON column hands it back (lists, not tuples), so "unchanged" compares equal
        "pricing": json.loads(json.dumps(policy.to_dict())),
        "slot_windows": form.windows(),
        "cancel_cutoff_hours": number(form.cancel_cutoff_hours),
        "service_radius_km": float(radius) if radius is not None else None,
        "service_postcodes": form.postcodes(),
        "intro_de": form.intro_de.data or "",
        "intro_en": form.intro_en.data or "",
    }
    host = form.host_name()
    if host is not None and host_taken(host, business):
        form.host.errors.append(_("Another business already uses this host name."))
        return _render(business, form, 422)
    new["host"] = host
    changed = []
    for name, value in new.items():
        if getattr(business, name) != value:
            setattr(business, name, value)
            changed.append(name)
    if changed:
        audit.record(business.id, current_user, "settings_update", "business", changed=changed)
    try:
        db.session.commit()
    except IntegrityError:
        # Another business took the host name since host_taken() looked: only `host` is
        # unique among these columns.
        db.session.rollback()
        form.host.errors.append(_("Another business already uses this host name."))
        return _render(my_business(), form, 422)
    flash(_("Settings saved."), "info")
    return redirect(url_for("dispatch.settings"))
