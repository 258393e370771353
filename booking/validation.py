"""Text rules shared by the forms, the API and the service dataclasses, so that whatever
a form accepts the service layer accepts too (and the database can store)."""

from __future__ import annotations

import re
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms import Field, Form
from wtforms.validators import ValidationError

# PostgreSQL refuses NUL in text; other control characters have no business in a form.
# Lone surrogates (JSON may spell them, "\ud800") cannot be encoded for any database.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()/\-]{6,30}$")
# Manage tokens are secrets.token_urlsafe(32); service codes are slugs.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
CODE_PATTERN = re.compile(r"^[a-z0-9_\-]{1,64}$")
# A business's host name as stored: lower-case DNS labels joined by dots, no port, no scheme
_HOST_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
HOST_PATTERN = re.compile(rf"(?=.{{1,253}}\Z){_HOST_LABEL}(?:\.{_HOST_LABEL})*")
# "Hinterhaus, 2. OG, bei Müller klingeln": a line, not a letter
ACCESS_HINTS_MAX = 200


def strip(value: Any) -> Any:
    """WTForms filter: validate and store what the customer meant, not stray spaces."""
    return value.strip() if isinstance(value, str) else value


def has_control_characters(text: str) -> bool:
    return CONTROL_CHARACTERS.search(text) is not None


def is_valid_phone(text: str) -> bool:
    return PHONE_PATTERN.match(text) is not None and sum(c.isdigit() for c in text) >= 6


def is_valid_email(text: str) -> bool:
    try:
        # Letters beyond ASCII before the @ need SMTPUTF8, which an email header built by
        # Python's email package cannot carry: the confirmation could never be sent.
        validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return False
    return len(text) <= 200


def looks_like_token(text: str) -> bool:
    return TOKEN_PATTERN.match(text) is not None


def is_valid_host(text: str) -> bool:
    return HOST_PATTERN.fullmatch(text) is not None


def looks_like_code(text: str) -> bool:
    return CODE_PATTERN.match(text) is not None


def one_line(form: Form, field: Field) -> None:
    """WTForms validator: no line break of any kind. A name or an address with one cannot
    go into an email header or a route sheet's line."""
    if isinstance(field.data, str) and len(field.data.splitlines()) > 1:
        raise ValidationError(_l("Please write this on one line."))


def plain_text(form: Form, field: Field) -> None:
    """WTForms validator: no control characters."""
    if isinstance(field.data, str) and has_control_characters(field.data):
        raise ValidationError(_l("Please use letters, digits and punctuation only."))


def phone_number(form: Form, field: Field) -> None:
    if field.data and not is_valid_phone(field.data):
        raise ValidationError(_l("Please enter a valid phone number."))


def email_address(form: Form, field: Field) -> None:
    if field.data and not is_valid_email(field.data):
        raise ValidationError(_l("Please enter a valid email address."))
