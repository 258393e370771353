"""Re-optimising a day with the solver."""

from __future__ import annotations

from flask import current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from booking.dispatch import bp, my_business, requested_day
from booking.services.planning import replan_day
from optimizer.planner import PlanParameters

REPLAN_MESSAGES = {
    "improved": "",
    "no_improvement": _l("The solver found no better plan; the current plan stays."),
    "would_drop_jobs": _l("The new plan would not keep every promise; the current plan stays."),
    "changed_meanwhile": _l("The day changed while planning; please try again."),
}


@bp.post("/replan")
def replan():
    business = my_business()
    shown = requested_day(business)
    outcome = replan_day(
        business, shown, PlanParameters(time_limit_s=current_app.config["SOLVER_TIME_LIMIT_S"])
    )
    if outcome.applied:
        flash(
            _(
                "Plan improved: %(minutes)d minutes and %(km).1f km less driving.",
                minutes=(outcome.travel_before_s - outcome.travel_after_s) // 60,
                km=(outcome.meters_before - outcome.meters_after) / 1000,
            ),
            "info",
        )
    else:
        flash(str(REPLAN_MESSAGES[outcome.reason]), "info")
    return redirect(url_for("dispatch.day", day=shown.isoformat()))
