"""Jinja filters and globals: money, dates and times in the visitor's locale."""

from __future__ import annotations

from datetime import date

from flask import Flask, request, url_for
from flask_babel import format_currency, format_date, format_decimal, get_locale
from flask_babel import lazy_gettext as _l

from booking.services.clock import hhmm


def euros(cents: int) -> str:
    return format_currency(cents / 100, "EUR")


def long_date(day: date) -> str:
    return format_date(day, "EEEE, d. MMMM y" if str(get_locale()) == "de" else "EEEE, d MMMM y")


def short_date(day: date) -> str:
    return format_date(day, "EEE d.M." if str(get_locale()) == "de" else "EEE d/M")


def kilometres(meters: int) -> str:
    """Metres as kilometres with one decimal in the visitor's locale: 1,4 or 1.4."""
    return format_decimal(meters / 1000, format="#,##0.0")


def language_url(locale: str) -> str:
    """This page in another language; pages answering a POST fall back to the start page."""
    if request.method != "GET" or request.endpoint is None:
        return url_for("customer.index", lang=locale)
    args = {k: v for k, v in request.args.items() if k != "lang"}
    return url_for(request.endpoint, **(request.view_args or {}), **args, lang=locale)


SKILL_NAMES = {"water": _l("water"), "heating": _l("heating"), "gas": _l("gas")}


def skill_names(skills: list[str]) -> str:
    return ", ".join(str(SKILL_NAMES.get(skill, skill)) for skill in skills)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(
        euros=euros,
        long_date=long_date,
        short_date=short_date,
        hhmm=hhmm,
        km=kilometres,
        skills=skill_names,
    )
    app.jinja_env.globals.update(
        current_locale=lambda: str(get_locale()), language_url=language_url
    )
