"""Management forms: technicians, absences, services, business settings, users.

People type euros, kilometres, percent and clock times; the rows store cents, metres,
whole percent and seconds since midnight. The fields here accept what people type (a
German "89,50" as well as "89.50") and hand back the stored unit, with every message in
the user's language next to the field.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    Form,
    PasswordField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp, ValidationError

from booking.models import UserRole
from booking.tenancy import normalise_host
from booking.validation import email_address, looks_like_code, plain_text, strip

H = 3600
WEEKDAYS = range(7)  # Monday = 0, as Technician.working_hours keys them
WEEKDAY_NAMES = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
TIME_PATTERN = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
SKILL_PATTERN = re.compile(r"^[a-z0-9_\-]{1,32}$")
MONEY_PATTERN = re.compile(r"^\d{1,6}([.,]\d{1,2})?$")
DECIMAL_PATTERN = re.compile(r"^\d{1,6}([.,]\d{1,3})?$")
POSTCODE_PATTERN = re.compile(r"^\d{5}$")
COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_TIERS = 4
MAX_ABSENCE_DAYS = 366


# --- conversions (what people type → what rows store) ---------------------------------------


def parse_time(text: str) -> int | None:
    """ "07:30" (or "7.30") → 27000 seconds since midnight; None if it is not a time."""
    match = TIME_PATTERN.match(text.strip())
    if match is None:
        return None
    return int(match.group(1)) * H + int(match.group(2)) * 60


def time_text(seconds: int | None) -> str:
    return "" if seconds is None else f"{seconds // H:02d}:{seconds % H // 60:02d}"


def parse_cents(text: str) -> int | None:
    """ "89,50", "89.5" or "89" euros → cents; None if it is no amount."""
    cleaned = text.replace("€", "").strip()
    if not MONEY_PATTERN.match(cleaned):
        return None
    return int(Decimal(cleaned.replace(",", ".")) * 100)


def euro_text(cents: int) -> str:
    """Cents as the form shows them: "89,50" (German decimal comma, as people type it)."""
    return f"{cents // 100},{cents % 100:02d}"


def parse_decimal(text: str) -> Decimal | None:
    cleaned = text.strip()
    if not DECIMAL_PATTERN.match(cleaned):
        return None
    try:
        return Decimal(cleaned.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


def decimal_text(value: float | int) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def split_list(text: str) -> list[str]:
    """ "water, gas  solar" → ["water", "gas", "solar"]."""
    return [part for part in re.split(r"[\s,;]+", text.strip()) if part]


# --- validators -----------------------------------------------------------------------------


def clock_time(form: Form, field: Field) -> None:
    if field.data and parse_time(field.data) is None:
        raise ValidationError(_l("Please enter a time like 07:30."))


def money(form: Form, field: Field) -> None:
    if field.data and parse_cents(field.data) is None:
        raise ValidationError(_l("Please enter an amount in euros, like 89,50."))


def decimal_number(form: Form, field: Field) -> None:
    if field.data and parse_decimal(field.data) is None:
        raise ValidationError(_l("Please enter a number, like 12,5."))


def whole_number(low: int, high: int) -> Any:
    def check(form: Form, field: Field) -> None:
        text = (field.data or "").strip()
        if not text:
            return
        if not text.isdigit() or not low <= int(text) <= high:
            raise ValidationError(
                _l("Please enter a whole number from %(low)d to %(high)d.", low=low, high=high)
            )

    return check


def iso_day(form: Form, field: Field) -> None:
    if field.data and parse_day(field.data) is None:
        raise ValidationError(_l("Please enter a date like 2026-11-24."))


class CheckboxListField(SelectMultipleField):
    """Several values as checkboxes (skills); the template renders the boxes."""

    def pre_validate(self, form: Form) -> None:
        # The choices are offered, not enforced: a skill no service needs yet is fine.
        return None


def at_most(length: int) -> Length:
    return Length(max=length, message=_l("At most %(max)d characters, please.", max=length))


# --- field factories: a rule that several fields share, spelled once ------------------------


def required(label: Any, message: Any, *validators: Any) -> StringField:
    """A one-line field that must be filled in (`message` otherwise), then `validators`."""
    return StringField(label, filters=[strip], validators=[DataRequired(message), *validators])


def amount(label: Any) -> StringField:
    return required(label, _l("Please enter an amount."), money)


def percentage(label: Any) -> StringField:
    return required(label, _l("Please enter a percentage."), whole_number(0, 100))


def prose(label: Any) -> TextAreaField:
    """A description or introduction in one language: free text, but no control characters."""
    return TextAreaField(label, filters=[strip], validators=[at_most(2000), plain_text])


def number(field: Field) -> int | None:
    text = (field.data or "").strip()
    return int(text) if text else None


# --- technicians ----------------------------------------------------------------------------


ADDRESS_LABELS = {
    "start": (_l("Start: street and house number"), _l("Start: postcode"), _l("Start: city")),
    "end": (_l("End: street and house number"), _l("End: postcode"), _l("End: city")),
}


def _address_fields(prefix: str) -> dict[str, Field]:
    street, postcode, city = ADDRESS_LABELS[prefix]
    return {
        f"{prefix}_street": StringField(
            street, filters=[strip], validators=[Length(max=120), plain_text]
        ),
        f"{prefix}_postcode": StringField(
            postcode,
            filters=[strip],
            validators=[
                Optional(),
                Regexp(POSTCODE_PATTERN, message=_l("A German postcode has five digits.")),
            ],
        ),
        f"{prefix}_city": StringField(
            city, filters=[strip], validators=[Length(max=60), plain_text]
        ),
    }


class TechnicianFormBase(FlaskForm):
    name = required(_l("Name"), _l("Please enter a name."), at_most(120), plain_text)
    color = StringField(
        _l("Colour"),
        filters=[strip],
        default="#1f77b4",
        validators=[
            DataRequired(_l("Please choose a colour.")),
            Regexp(COLOR_PATTERN, message=_l("A colour looks like #1f77b4.")),
        ],
    )
    skills = CheckboxListField(_l("Skills"), choices=[])
    skill_options: tuple[str, ...] = ()  # set by `technician_form`
    other_skills = StringField(
        _l("Further skills"),
        filters=[strip],
        validators=[Length(max=200), plain_text],
    )
    lunch_earliest = StringField(_l("Lunch break from"), filters=[strip], validators=[clock_time])
    lunch_latest = StringField(
        _l("Lunch break starts by"), filters=[strip], validators=[clock_time]
    )
    lunch_minutes = StringField(
        _l("Lunch break (minutes)"), filters=[strip], validators=[whole_number(0, 180)]
    )
    end_same_as_start = BooleanField(_l("Ends the day where it starts"), default=True)

    # set by `technician_form`: whether a start place must be given (a new technician)
    place_required = False

    def validate_other_skills(self, field: Field) -> None:
        for skill in split_list(field.data or ""):
            if not SKILL_PATTERN.match(skill):
                raise ValidationError(
                    _l(
                        "Skills are short words in lower case without spaces, like "
                        '"water" or "solar": %(skill)s does not fit.',
                        skill=skill,
                    )
                )

    def all_skills(self) -> list[str]:
        chosen = list(self.skills.data or []) + split_list(self.other_skills.data or "")
        return sorted(set(chosen))

    def hours_field(self, weekday: int, end: bool) -> Field:
        return self[f"day{weekday}_{'end' if end else 'start'}"]

    def working_hours(self) -> dict[str, list[int]]:
        """{"0": [start_s, end_s], ...}; a weekday without times is a day off."""
        hours = {}
        for weekday in WEEKDAYS:
            start = parse_time(self.hours_field(weekday, False).data or "")
            end = parse_time(self.hours_field(weekday, True).data or "")
            if start is not None and end is not None:
                hours[str(weekday)] = [start, end]
        return hours

    def lunch(self) -> tuple[int, int, int] | None:
        minutes = number(self.lunch_minutes)
        if not minutes:
            return None
        earliest = parse_time(self.lunch_earliest.data or "")
        latest = parse_time(self.lunch_latest.data or "")
        assert earliest is not None and latest is not None  # validate() made sure
        return earliest, latest, minutes * 60

    def place(self, prefix: str) -> tuple[str, str, str] | None:
        """(street, postcode, city) if any of them was given."""
        parts = tuple(
            self[f"{prefix}_{part}"].data or "" for part in ("street", "postcode", "city")
        )
        return parts if any(parts) else None  # type: ignore[return-value]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        for weekday in WEEKDAYS:
            start_field, end_field = (
                self.hours_field(weekday, False),
                self.hours_field(weekday, True),
            )
            start, end = parse_time(start_field.data or ""), parse_time(end_field.data or "")
            if start_field.errors or end_field.errors:
                ok = False
            elif (start is None) != (end is None):
                (end_field if end is None else start_field).errors.append(
                    _l("Please give both times, or neither for a day off.")
                )
                ok = False
            elif start is not None and end is not None and start >= end:
                end_field.errors.append(_l("The end of work must come after its start."))
                ok = False
        if ok and not self.working_hours():
            self.hours_field(0, False).errors.append(_l("Please give at least one working day."))
            ok = False
        if ok and not self._lunch_is_valid():
            ok = False
        for prefix in ("start", "end"):
            if prefix == "end" and self.end_same_as_start.data:
                continue
            place = self.place(prefix)
            if place is None and self.place_required:
                self[f"{prefix}_street"].errors.append(_l("Please enter the address."))
                ok = False
            elif place is not None:
                for part, text in zip(("street", "postcode", "city"), place, strict=True):
                    if not text:
                        self[f"{prefix}_{part}"].errors.append(
                            _l("Please give street, postcode and city.")
                        )
                        ok = False
        return ok

    def _lunch_is_valid(self) -> bool:
        minutes = number(self.lunch_minutes)
        earliest = parse_time(self.lunch_earliest.data or "")
        latest = parse_time(self.lunch_latest.data or "")
        if not minutes:
            if earliest is not None or latest is not None:
                self.lunch_minutes.errors.append(
                    _l("Please give the length of the lunch break, or clear its times.")
                )
                return False
            return True
        if earliest is None or latest is None:
            field = self.lunch_earliest if earliest is None else self.lunch_latest
            field.errors.append(_l("A lunch break needs its earliest and latest start."))
            return False
        if earliest > latest:
            self.lunch_latest.errors.append(
                _l("The latest start cannot come before the earliest start.")
            )
            return False
        for weekday, (start, end) in sorted(self.working_hours().items()):
            if not (start <= earliest and latest + minutes * 60 <= end):
                self.lunch_latest.errors.append(
                    _l(
                        "The lunch break must lie inside every working day: on %(day)s work "
                        "runs %(start)s–%(end)s.",
                        day=WEEKDAY_NAMES[int(weekday)],
                        start=time_text(start),
                        end=time_text(end),
                    )
                )
                return False
        return True


def _with_hours(base: type[TechnicianFormBase]) -> type[TechnicianFormBase]:
    """The form class with a start and an end field per weekday and the two places."""
    fields: dict[str, Field] = {}
    for weekday in WEEKDAYS:
        name = WEEKDAY_NAMES[weekday]
        fields[f"day{weekday}_start"] = StringField(
            _l("%(day)s: start", day=name), filters=[strip], validators=[clock_time]
        )
        fields[f"day{weekday}_end"] = StringField(
            _l("%(day)s: end", day=name), filters=[strip], validators=[clock_time]
        )
    fields.update(_address_fields("start"))
    fields.update(_address_fields("end"))
    return type("TechnicianForm", (base,), fields)


TechnicianForm = _with_hours(TechnicianFormBase)


def technician_form(skill_choices: Sequence[str], *, new: bool, **kwargs: Any) -> Any:
    form = TechnicianForm(**kwargs)
    form.skill_options = tuple(skill_choices)  # the template renders them as checkboxes
    form.place_required = new
    return form


class AbsenceForm(FlaskForm):
    first_day = required(_l("First day"), _l("Please enter the first day."), iso_day)
    last_day = required(_l("Last day"), _l("Please enter the last day."), iso_day)
    reason = StringField(_l("Reason"), filters=[strip], validators=[at_most(200), plain_text])

    def validate_last_day(self, field: Field) -> None:
        first, last = parse_day(self.first_day.data or ""), parse_day(field.data or "")
        if first is None or last is None:
            return
        if last < first:
            raise ValidationError(_l("The last day cannot come before the first day."))
        if (last - first).days >= MAX_ABSENCE_DAYS:
            raise ValidationError(
                _l("An absence lasts at most %(days)d days.", days=MAX_ABSENCE_DAYS)
            )


# --- services -------------------------------------------------------------------------------


class ServiceForm(FlaskForm):
    code = required(_l("Code"), _l("Please enter a code."))
    name_de = required(_l("Name (German)"), _l("Please enter a name."), Length(max=200), plain_text)
    name_en = required(
        _l("Name (English)"), _l("Please enter a name."), Length(max=200), plain_text
    )
    description_de = prose(_l("Description (German)"))
    description_en = prose(_l("Description (English)"))
    materials = prose(_l("Materials to take along"))
    duration_minutes = required(
        _l("Duration (minutes)"), _l("Please enter the duration."), whole_number(5, 720)
    )
    base_price = required(_l("Base price (€)"), _l("Please enter the base price."), money)
    required_skill = StringField(
        _l("Required skill"),
        filters=[strip],
        validators=[Length(max=32)],
    )
    sort_order = StringField(
        _l("Sort order"), filters=[strip], default="0", validators=[whole_number(0, 999)]
    )
    active = BooleanField(_l("Bookable"), default=True)

    def validate_code(self, field: Field) -> None:
        if field.data and not looks_like_code(field.data):
            raise ValidationError(_l('A code is lower case letters, digits, - and _, like "tap".'))

    def validate_required_skill(self, field: Field) -> None:
        if field.data and not SKILL_PATTERN.match(field.data):
            raise ValidationError(
                _l('A skill is a short word in lower case without spaces, like "water".')
            )


# --- business settings and pricing ----------------------------------------------------------


def _tier_fields() -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for n in range(MAX_TIERS):
        fields[f"tier{n}_saving"] = StringField(
            _l("From saving (percent)"), filters=[strip], validators=[whole_number(0, 100)]
        )
        fields[f"tier{n}_discount"] = StringField(
            _l("Discount (percent)"), filters=[strip], validators=[whole_number(0, 100)]
        )
    return fields


class SettingsFormBase(FlaskForm):
    slot_windows = TextAreaField(
        _l("Arrival windows"),
        filters=[strip],
        validators=[DataRequired(_l("Please give at least one window."))],
    )
    cancel_cutoff_hours = required(
        _l("Online changes until (hours before the window)"),
        _l("Please enter a number of hours."),
        whole_number(0, 720),
    )
    service_radius_km = StringField(
        _l("Service radius (km)"), filters=[strip], validators=[decimal_number]
    )
    service_postcodes = TextAreaField(
        _l("Postcodes served"), filters=[strip], validators=[Length(max=4000)]
    )
    intro_de = prose(_l("Introduction (German)"))
    intro_en = prose(_l("Introduction (English)"))
    host = StringField(_l("Host name of the booking site"), filters=[strip])
    travel_fee_free_km = required(
        _l("Free travel radius (km)"), _l("Please enter a number."), decimal_number
    )
    travel_fee_per_km = amount(_l("Travel fee per km beyond it (€)"))
    travel_fee_max = amount(_l("Highest travel fee (€)"))
    discount_max = amount(_l("Highest combination discount (€)"))
    floor_pct = percentage(_l("Lowest price (percent of the base price)"))
    half_day_discount_pct = percentage(_l("Discount for a flexible half day (percent)"))
    day_discount_pct = percentage(_l("Discount for a flexible whole day (percent)"))
    week_discount_pct = percentage(_l("Discount for any day of a week (percent)"))

    def windows(self) -> list[list[int]]:
        """One "08:00-10:00" per line (or separated by commas) → [[28800, 36000], ...]."""
        windows = []
        for part in re.split(r"[\n,;]+", self.slot_windows.data or ""):
            if not part.strip():
                continue
            bounds = re.split(r"\s*[-–]\s*", part.strip())
            times = [parse_time(bound) for bound in bounds]
            if len(times) != 2 or None in times:
                raise ValidationError(
                    _l("Write each window as 08:00-10:00: %(text)s does not fit.", text=part)
                )
            start, end = times
            assert start is not None and end is not None
            if start >= end:
                raise ValidationError(
                    _l("A window must end after it starts: %(text)s.", text=part.strip())
                )
            windows.append([start, end])
        return sorted(windows)

    def validate_slot_windows(self, field: Field) -> None:
        windows = self.windows()
        if not windows:
            raise ValidationError(_l("Please give at least one window."))
        if len(windows) > 12:
            raise ValidationError(_l("At most 12 windows, please."))
        for (_, end), (start, _) in itertools.pairwise(windows):
            if start < end:
                raise ValidationError(_l("Windows must not overlap."))

    def postcodes(self) -> list[str]:
        return sorted(set(split_list(self.service_postcodes.data or "")))

    def validate_service_postcodes(self, field: Field) -> None:
        for code in self.postcodes():
            if not POSTCODE_PATTERN.match(code):
                raise ValidationError(
                    _l("%(code)s is no German postcode (five digits).", code=code)
                )

    def host_name(self) -> str | None:
        """The host name as stored (lower case, Punycode); None when the field is empty."""
        return normalise_host(self.host.data) if self.host.data else None

    def validate_host(self, field: Field) -> None:
        if field.data and self.host_name() is None:
            raise ValidationError(
                _l(
                    "Please give a host name only, without https:// or a path, e.g. "
                    "termine.mueller-sanitaer.de."
                )
            )

    def validate_service_radius_km(self, field: Field) -> None:
        value = parse_decimal(field.data or "")
        if value is not None and not 0 < value <= 500:
            raise ValidationError(_l("Please give a radius between 0 and 500 km."))

    def validate_travel_fee_free_km(self, field: Field) -> None:
        value = parse_decimal(field.data or "")
        if value is not None and value > 500:
            raise ValidationError(_l("At most 500 km, please."))

    def tiers(self) -> list[tuple[int, int]]:
        """(min saving %, discount %) of every filled-in row, highest saving first."""
        tiers = []
        for n in range(MAX_TIERS):
            saving, discount = number(self[f"tier{n}_saving"]), number(self[f"tier{n}_discount"])
            if saving is not None and discount is not None:
                tiers.append((saving, discount))
        return sorted(tiers, reverse=True)

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        for n in range(MAX_TIERS):
            saving, discount = self[f"tier{n}_saving"], self[f"tier{n}_discount"]
            if saving.errors or discount.errors:
                ok = False
            elif bool(saving.data) != bool(discount.data):
                (discount if saving.data else saving).errors.append(
                    _l("Please fill in both or neither.")
                )
                ok = False
        tiers = self.tiers()
        savings = [saving for saving, _ in tiers]
        if len(set(savings)) != len(savings):
            self.tier0_saving.errors.append(_l("Each tier needs its own saving threshold."))
            ok = False
        elif any(a[1] < b[1] for a, b in itertools.pairwise(tiers)):
            self.tier0_discount.errors.append(
                _l("A bigger saving must never earn a smaller discount.")
            )
            ok = False
        flex = [number(self[name]) for name in FLEX_FIELDS]
        if None not in flex and any(
            a > b
            for a, b in itertools.pairwise(flex)  # type: ignore[operator]
        ):
            self.week_discount_pct.errors.append(
                _l(
                    "A wider window must never earn a smaller discount: half day ≤ whole "
                    "day ≤ any day of a week."
                )
            )
            ok = False
        return ok


FLEX_FIELDS = ("half_day_discount_pct", "day_discount_pct", "week_discount_pct")
SettingsForm = type("SettingsForm", (SettingsFormBase,), _tier_fields())


# --- users ----------------------------------------------------------------------------------


ROLE_NAMES = {
    UserRole.DISPATCHER.value: _l("Dispatcher"),
    UserRole.ADMIN.value: _l("Administrator"),
}


class UserForm(FlaskForm):
    email = required(_l("Email"), _l("Please enter an email address."), email_address)
    name = required(_l("Name"), _l("Please enter a name."), Length(max=120), plain_text)
    # rendered as radio buttons by the template (ROLE_NAMES); no SelectField, whose way
    # of declaring choices changes between WTForms releases
    role = StringField(
        _l("Role"),
        default=UserRole.DISPATCHER.value,
        validators=[AnyOf(list(ROLE_NAMES), message=_l("Please choose a role."))],
    )
    password = PasswordField(
        _l("Initial password"),
        validators=[
            DataRequired(_l("Please enter a password.")),
            Length(
                min=8,
                max=200,
                message=_l("The password needs at least 8 characters."),
            ),
        ],
    )


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
