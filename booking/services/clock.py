"""The current time, business-local dates and windows; tests pin `now` through app config."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from booking.models import Business


def now_utc() -> datetime:
    fixed: Callable[[], datetime] | None = current_app.config.get("NOW")
    return fixed() if fixed is not None else datetime.now(UTC)


def local_today(business: Business, now: datetime) -> date:
    return now.astimezone(ZoneInfo(business.timezone)).date()


def bookable_days(business: Business, now: datetime) -> list[date]:
    """Tomorrow through the end of the booking horizon (no same-day online bookings)."""
    today = local_today(business, now)
    return [today + timedelta(days=n) for n in range(1, business.horizon_days + 1)]


def local_datetime(business: Business, day: date, seconds: int) -> datetime:
    """An aware datetime in the business's zone for a day and seconds since local midnight."""
    midnight = datetime.combine(day, time(0), tzinfo=ZoneInfo(business.timezone))
    # Seconds count wall-clock time, so add them to the wall clock, not across a DST jump.
    return (midnight.replace(tzinfo=None) + timedelta(seconds=seconds)).replace(
        tzinfo=ZoneInfo(business.timezone)
    )


def seconds_of_day(business: Business, moment: datetime) -> int:
    """Seconds since the business's local midnight at `moment` (wall clock)."""
    local = moment.astimezone(ZoneInfo(business.timezone))
    return local.hour * 3600 + local.minute * 60 + local.second


def hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
