"""Fields that the customer's and the dispatcher's forms both ask for: who, where, what.

One factory per field (`phone = fields.phone()` in a form class), so that the online
booking, the phone booking and the emergency form accept the same names, numbers and
addresses. The "please enter" message is a parameter where a form speaks to the customer
("your street") and to the dispatcher ("the street"); the rules are the same everywhere.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from booking.validation import ACCESS_HINTS_MAX, one_line, phone_number, plain_text, strip

NAME_LENGTH_MESSAGE = _l("Between 2 and 120 characters, please.")
NOTES_LABEL = _l("Notes")


def chosen_quote() -> HiddenField:
    """The signed quote of the chosen slot, carried from page to page."""
    return HiddenField(validators=[DataRequired(), Length(max=4000)])


def person_name(required: Any) -> StringField:
    return StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(required),
            Length(min=2, max=120, message=NAME_LENGTH_MESSAGE),
            plain_text,
            one_line,
        ],
    )


def phone() -> StringField:
    return StringField(
        _l("Phone"),
        filters=[strip],
        validators=[DataRequired(_l("Please enter a phone number.")), phone_number],
    )


def notes(label: Any = NOTES_LABEL) -> TextAreaField:
    return TextAreaField(
        label,
        filters=[strip],
        validators=[
            Length(max=1000, message=_l("At most 1000 characters, please.")),
            plain_text,
        ],
    )


def access_hints() -> StringField:
    return StringField(
        _l("Access hints"),
        filters=[strip],
        validators=[
            Length(
                max=ACCESS_HINTS_MAX,
                message=_l("At most %(max)d characters, please.", max=ACCESS_HINTS_MAX),
            ),
            plain_text,
            one_line,
        ],
    )


def street(required: Any) -> StringField:
    return StringField(
        _l("Street and house number"),
        filters=[strip],
        validators=[DataRequired(required), Length(max=200), plain_text, one_line],
    )


def postcode(required: Any) -> StringField:
    return StringField(
        _l("Postcode"),
        filters=[strip],
        validators=[
            DataRequired(required),
            Regexp(r"^\d{5}$", message=_l("A German postcode has five digits.")),
        ],
    )


def city(required: Any) -> StringField:
    return StringField(
        _l("City"),
        filters=[strip],
        validators=[DataRequired(required), Length(max=120), plain_text, one_line],
    )
