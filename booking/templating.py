"""Jinja filters and globals: money, dates and times in the visitor's locale."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask_babel import format_currency, format_date, get_locale

from booking.services.clock import hhmm


def euros(cents: int) -> str:
    return format_currency(cents / 100, "EUR")


def long_date(day: date) -> str:
    return format_date(day, "EEEE, d. MMMM y" if str(get_locale()) == "de" else "EEEE, d MMMM y")


def short_date(day: date) -> str:
    return format_date(day, "EEE d.M." if str(get_locale()) == "de" else "EEE d/M")


def kilometres(meters: int) -> str:
    value = f"{meters / 1000:.1f}"
    return value.replace(".", ",") if str(get_locale()) == "de" else value


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(
        euros=euros, long_date=long_date, short_date=short_date, hhmm=hhmm, km=kilometres
    )
    app.jinja_env.globals.update(current_locale=lambda: str(get_locale()))
