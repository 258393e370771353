"""Why a plan would break a promise, in the dispatcher's words.

The checker (optimizer.schedule) reports broken rules as data about optimizer ids; a
proposal adds a few of its own (a stop that would lose its place...). `Problem` holds
either with the app's row ids, so the page can name the technician and the customer and
say it in German or English; `str()` gives the English line for logs.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from booking.models import Appointment, Technician
from booking.services.clock import hhmm
from optimizer.schedule import Violation, ViolationKind


class ProblemCode(enum.StrEnum):
    LUNCH = ViolationKind.LUNCH.value
    CAPACITY = ViolationKind.CAPACITY.value
    SKILLS = ViolationKind.SKILLS.value
    PINNED_TECHNICIAN = ViolationKind.PINNED_TECHNICIAN.value
    PINNED_POSITION = ViolationKind.PINNED_POSITION.value
    LATE = ViolationKind.LATE.value
    RETURN = ViolationKind.RETURN.value
    NOT_WORKING = "not_working"  # a planned route for a technician off that day
    SERVICE_GONE = "service_gone"  # the new job's service was withdrawn meanwhile
    NOT_ON_DAY = "not_on_day"  # an appointment of another day (or firm)
    NOT_OPEN = "not_open"  # cancelled or unplaced: it holds no promise to plan
    TWICE = "twice"
    LOSES_PLACE = "loses_place"  # planned before, in no route after, and not freed
    WITH_ABSENT = "with_absent"  # still with a technician who is off that day


@dataclass(frozen=True, slots=True)
class Problem:
    code: ProblemCode
    technician_id: int | None = None  # Technician row id
    appointment_id: int | None = None  # 0: the appointment the plan would create
    at: int | None = None
    limit: tuple[int, int] | None = None
    detail: str = ""

    def __str__(self) -> str:
        parts = []
        if self.technician_id is not None:
            parts.append(f"technician {self.technician_id}")
        if self.appointment_id is not None:
            parts.append(f"appointment {self.appointment_id}")
        if self.at is not None:
            parts.append(f"at {hhmm(self.at)}")
        if self.limit is not None:
            parts.append(f"limit {hhmm(self.limit[0])}-{hhmm(self.limit[1])}")
        if self.detail:
            parts.append(self.detail)
        return f"{self.code} ({', '.join(parts)})" if parts else str(self.code)

    def to_list(self) -> list[Any]:
        return [
            str(self.code), self.technician_id, self.appointment_id, self.at,
            list(self.limit) if self.limit else None, self.detail,
        ]

    @classmethod
    def from_list(cls, data: list[Any]) -> Problem:
        code, technician_id, appointment_id, at, limit, detail = data
        return cls(
            ProblemCode(code), technician_id, appointment_id, at,
            tuple(limit) if limit else None, detail,
        )

    @classmethod
    def of(cls, violation: Violation, technician_rows: Mapping[str, int]) -> Problem:
        """The checker's violation with row ids (`technician_rows`: optimizer id → row id)."""
        return cls(
            ProblemCode(violation.kind.value),
            technician_rows.get(violation.technician_id),
            int(violation.job_id) if violation.job_id is not None else None,
            violation.at,
            violation.limit,
            violation.detail,
        )


def describe(
    problem: Problem,
    technicians: Mapping[int, Technician],
    appointments: Mapping[int, Appointment],
) -> str:
    """One sentence in the current locale, naming technician and customer where known."""
    technician = technicians.get(problem.technician_id) if problem.technician_id else None
    tech = technician.name if technician else _("a technician")
    if problem.appointment_id == 0:
        who = _("the new job")
    else:
        appointment = appointments.get(problem.appointment_id or -1)
        who = appointment.customer.name if appointment else _("an appointment")
    at = hhmm(problem.at) if problem.at is not None else ""
    start, end = (hhmm(problem.limit[0]), hhmm(problem.limit[1])) if problem.limit else ("", "")
    match problem.code:
        case ProblemCode.LATE:
            return _(
                "%(who)s: %(tech)s would start at %(at)s, after the window %(start)s–%(end)s.",
                who=who, tech=tech, at=at, start=start, end=end,
            )
        case ProblemCode.RETURN:
            return _(
                "%(tech)s would be back at %(at)s, after the shift ends at %(end)s.",
                tech=tech, at=at, end=end,
            )
        case ProblemCode.LUNCH:
            return _("%(tech)s could not start the lunch break by %(at)s.", tech=tech, at=at)
        case ProblemCode.SKILLS:
            return _(
                "%(who)s needs the skill %(skill)s, which %(tech)s does not have.",
                who=who, skill=problem.detail, tech=tech,
            )
        case ProblemCode.PINNED_TECHNICIAN | ProblemCode.PINNED_POSITION:
            return _("%(who)s is pinned to another place in the plan.", who=who)
        case ProblemCode.CAPACITY:
            return _("%(tech)s would carry more than the van holds.", tech=tech)
        case ProblemCode.NOT_WORKING:
            return _("%(tech)s does not work on this day.", tech=tech)
        case ProblemCode.SERVICE_GONE:
            return _("The service is not offered any more.")
        case ProblemCode.NOT_ON_DAY:
            return _("An appointment of the plan is not on this day.")
        case ProblemCode.NOT_OPEN:
            return _("%(who)s is cancelled or unplaced.", who=who)
        case ProblemCode.TWICE:
            return _("%(who)s would be planned twice.", who=who)
        case ProblemCode.LOSES_PLACE:
            return _("%(who)s would lose their place in the plan.", who=who)
        case ProblemCode.WITH_ABSENT:
            return _("%(who)s is still with a technician who is off this day.", who=who)
