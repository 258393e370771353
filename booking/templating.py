"""Jinja filters and globals: money, dates and times in the visitor's locale."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, request, url_for
from flask_babel import (
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from booking.services.clock import hhmm


def euros(cents: int) -> str:
    return format_currency(cents / 100, "EUR")


def long_date(day: date) -> str:
    return format_date(day, "EEEE, d. MMMM y" if str(get_locale()) == "de" else "EEEE, d MMMM y")


def long_datetime(moment: datetime, zone: str = "Europe/Berlin") -> str:
    """A moment as the clock in `zone` shows it, e.g. "Montag, 23. November 2026, 14:00"."""
    pattern = "EEEE, d. MMMM y, HH:mm" if str(get_locale()) == "de" else "EEEE, d MMMM y, HH:mm"
    return format_datetime(moment.astimezone(ZoneInfo(zone)), pattern, rebase=False)


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


NOON_S = 12 * 3600


def is_morning(start: int, end: int) -> bool:
    """Whether a half-day window is the morning one: its middle lies before noon."""
    return (start + end) // 2 < NOON_S


def window_label(kind: str, start: int, end: int) -> str:
    """The name of a wide window on the slot picker; "" for a plain slot, whose times say
    it all."""
    if kind == "half_day":
        return _("Morning, flexible") if is_morning(start, end) else _("Afternoon, flexible")
    if kind == "day":
        return _("All day, flexible")
    if kind == "week":
        return _("Any day this week")
    return ""


def promise_text(kind: str, start: int, end: int) -> str:
    """The promised window in words, after the date on the details and manage pages. A week
    booking is a whole day on the day the engine chose: the text says who chose it."""
    times = {"start": hhmm(start), "end": hhmm(end)}
    if kind == "half_day" and is_morning(start, end):
        return _("flexible in the morning: arrival between %(start)s and %(end)s", **times)
    if kind == "half_day":
        return _("flexible in the afternoon: arrival between %(start)s and %(end)s", **times)
    if kind == "day":
        return _("flexible all day: arrival between %(start)s and %(end)s", **times)
    if kind == "week":
        return _(
            "day chosen by us within your week, flexible all day: arrival between %(start)s "
            "and %(end)s",
            **times,
        )
    return _("arrival between %(start)s and %(end)s", **times)


def approximate_label(precision: str) -> str:
    """The dispatcher's flag for an address not located to the house: "≈ PLZ-Bereich"."""
    if precision == "street":
        return "≈ " + _("street")
    if precision == "postcode":
        return "≈ " + _("postcode area")
    return ""


SKILL_NAMES = {"water": _l("water"), "heating": _l("heating"), "gas": _l("gas")}


def skill_names(skills: list[str]) -> str:
    return ", ".join(str(SKILL_NAMES.get(skill, skill)) for skill in skills)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(
        euros=euros,
        long_date=long_date,
        long_datetime=long_datetime,
        short_date=short_date,
        hhmm=hhmm,
        km=kilometres,
        skills=skill_names,
    )
    app.jinja_env.globals.update(
        current_locale=lambda: str(get_locale()),
        language_url=language_url,
        window_label=window_label,
        promise_text=promise_text,
        approximate_label=approximate_label,
    )
