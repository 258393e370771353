"""Nightly planning: every business's next days re-optimised while nobody books.

One background job per business and day, so the days of many businesses spread over the
workers and a failed or abandoned day is retried alone. Each job is `replan_day` with its
safety rules (warm start, applied only if every route passes the checker, no job dropped,
not worse, and the day unchanged while the solver ran), so a job that runs twice applies
at most once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from booking.extensions import db
from booking.models import Business
from booking.services.background import job_queue
from booking.services.clock import bookable_days
from booking.services.dayplans import current_version
from booking.services.planning import replan_day
from optimizer.planner import PlanParameters

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NightlyDay:
    business_id: int
    day: date


def nightly_days(now: datetime, days: int | None = None) -> list[NightlyDay]:
    """Per business, its bookable days (tomorrow on, the first `days` of them; all of its
    booking horizon by default) that have a plan: a day nobody booked has nothing to
    improve."""
    found = []
    for business in db.session.scalars(select(Business).order_by(Business.id)):
        ahead = bookable_days(business, now)
        for day in ahead if days is None else ahead[:days]:
            if current_version(business.id, day) > 0:
                found.append(NightlyDay(business.id, day))
    return found


def queue_nightly_planning(now: datetime, time_limit_s: float, days: int | None = None) -> int:
    """One `plan_day_job` per business and day; how many were queued."""
    planned = nightly_days(now, days)
    for entry in planned:
        job_queue().enqueue(plan_day_job, entry.business_id, entry.day.isoformat(), time_limit_s)
    return len(planned)


def plan_day_job(business_id: int, day_iso: str, time_limit_s: float) -> None:
    """The background job: re-optimise one day and apply the result if it is safe and
    better. Raises what the solver or the database raise, so RQ retries the day."""
    business = db.session.get(Business, business_id)
    if business is None:
        return  # removed meanwhile
    day = date.fromisoformat(day_iso)
    outcome = replan_day(business, day, PlanParameters(time_limit_s=time_limit_s))
    logger.info(
        "nightly planning of business %s, %s: %s (travel %d → %d s)",
        business_id, day_iso, outcome.reason, outcome.travel_before_s, outcome.travel_after_s,
    )
