"""The OpenAPI 3.1 document of the JSON API, as plain data, served at `/api/openapi.json`.

It states what the code answers, status by status, so that a client (or a fuzzer) can rely
on it: tests/booking/test_openapi.py checks that every route under /api/ is in it and
nothing else is, and that real answers of every documented status validate against it.
Enumerations, patterns and lengths are read from the code that enforces them (the forms,
`booking.validation`, the optimizer's window kinds), so the two cannot drift apart.

Request schemas describe the shape the API accepts; the API may still refuse a
well-shaped request (an unknown postcode, a quote that is not ours): those answers are
documented too. Text fields are stripped of surrounding spaces before their checks.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from flask import Blueprint, jsonify
from wtforms.validators import Length

from booking import LOCALES
from booking.customer.forms import AddressForm, ContactForm, QuoteForm
from booking.models import AppointmentStatus
from booking.services.geocoding import PRECISIONS
from booking.validation import CODE_PATTERN, PHONE_PATTERN, TOKEN_PATTERN
from optimizer.pricing import WINDOW_KINDS
from optimizer.reasons import LANGUAGES

Schema = dict[str, Any]

# Where the API's paths start; the document itself is served beside it.
SERVER_URL = "/api/v1"
DOCUMENT_PATH = "/api/openapi.json"

docs = Blueprint("api_docs", __name__)


@docs.get(DOCUMENT_PATH)
def openapi_json():
    """The document; no rate limit, it is the same for everyone."""
    return jsonify(openapi_document())


def openapi_document() -> dict[str, Any]:
    """A fresh copy of the document (callers may change theirs)."""
    return copy.deepcopy(_document())


# --- building blocks --------------------------------------------------------------------


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _length(form: type, field: str) -> Schema:
    """minLength/maxLength of a form field's Length validator (checked on stripped text)."""
    for validator in getattr(form, field).kwargs.get("validators", ()):
        if isinstance(validator, Length):
            limits: Schema = {}
            if validator.min > 0:
                limits["minLength"] = validator.min
            if validator.max >= 0:
                limits["maxLength"] = validator.max
            return limits
    return {}


def _text(description: str, **constraints: Any) -> Schema:
    return {"type": "string", "description": description, **constraints}


# Every error code the API answers, with what it means for the client.
ERROR_CODES: dict[str, str] = {
    "invalid_json": "The body is not a JSON object: not JSON at all, an array, a string, "
    "empty, or nested too deeply.",
    "invalid_field": "Fields are missing or wrong; `fields` holds the messages per field.",
    "consent_required": "Everything else is fine, but `consent` is not JSON `true`; "
    "`fields.consent` holds the message.",
    "unknown_address": "No place is known at this address; the message names the firm's "
    "phone number.",
    "outside_service_area": "The firm does not serve this address; the message names its "
    "phone number.",
    "unknown_service": "There is no active service with this code.",
    "unknown_business": "The host name this request came to belongs to no business of this "
    "deployment (and it has several, and no default one). Call the API on the firm's own "
    "host name.",
    "unknown_appointment": "There is no appointment with this manage token.",
    "not_found": "The URL itself names nothing, e.g. a token that contains a slash.",
    "quote_invalid": "The quote is not one of ours, was changed, names a window the firm no "
    "longer offers, or is for the other purpose (a move quote cannot book, a booking quote "
    "cannot move).",
    "quote_expired": "The quote is older than its validity (15 minutes by default); ask for "
    "offers again.",
    "slot_taken": "The slot no longer fits the routes. Nothing was written; `alternatives` "
    "lists the slots free now (absent if the service is gone).",
    "not_bookable": "The quote's day can no longer be booked; `alternatives` lists fresh "
    "slots (absent if the service is gone).",
    "service_unavailable": "With 409: the service was withdrawn meanwhile. With 503: the "
    "booking service is not set up (no business), try again later.",
    "appointment_cancelled": "The appointment is cancelled; it cannot be moved.",
    "appointment_changed": "Another request changed the appointment at the same time; "
    "fetch it again.",
    "cutoff_passed": "Online changes ended at the appointment's `change_deadline`; the "
    "message names the firm's phone number.",
    "rate_limited": "Too many requests from this client address; wait `retry_after_s` "
    "seconds (also in the Retry-After header).",
    "geocoder_unavailable": "The address server cannot be reached; try again after "
    "`retry_after_s` seconds (also in the Retry-After header).",
    "temporarily_unavailable": "The database cannot be reached; nothing was written. Try "
    "again after `retry_after_s` seconds (also in the Retry-After header).",
}
FIELD_CODES = ("invalid_field", "consent_required")
RETRY_CODES = ("rate_limited", "geocoder_unavailable", "temporarily_unavailable")
ALTERNATIVES_CODES = ("slot_taken", "not_bookable")

RETRY_AFTER_HEADER: Schema = {
    "description": "Whole seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 1},
}


def _only_with(codes: tuple[str, ...], field: str, *, always: bool) -> Schema:
    """`field` belongs to the errors with these codes (and must be there if `always`)."""
    return {
        "if": {"properties": {"code": {"enum": list(codes)}}},
        "then": {"required": [field]} if always else True,
        "else": {"properties": {field: False}},
    }


def error_response(
    description: str, *codes: str, alternatives: str = "OfferedSlot"
) -> dict[str, Any]:
    """An error answer of one status that may carry these codes; the error envelope with
    its `code` narrowed to them. `alternatives`: the schema of their fresh offers."""
    unknown = set(codes) - set(ERROR_CODES)
    assert not unknown, f"undescribed error codes {unknown}"
    detail: Schema = {"properties": {"code": {"enum": list(codes)}}}
    if set(codes) & set(ALTERNATIVES_CODES):
        detail["properties"]["alternatives"] = {"items": ref(alternatives)}
    lines = "\n".join(f"- `{code}`: {ERROR_CODES[code]}" for code in codes)
    response: dict[str, Any] = {
        "description": f"{description}\n\n{lines}",
        "content": {
            "application/json": {
                "schema": {"allOf": [ref("Error")], "properties": {"error": detail}}
            }
        },
    }
    retry = [code for code in codes if code in RETRY_CODES]
    if retry:
        header = {**RETRY_AFTER_HEADER, "required": len(retry) == len(codes)}
        response["headers"] = {"Retry-After": header}
    return response


def ok_response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


INVALID_JSON = {"$ref": "#/components/responses/InvalidJson"}
RATE_LIMITED = {"$ref": "#/components/responses/RateLimited"}
TOKEN_NOT_FOUND = {"$ref": "#/components/responses/UnknownAppointment"}
NO_BUSINESS = "The booking service is not set up."
DATABASE_DOWN = "The database cannot be reached; nothing was written."
UNAVAILABLE = {"$ref": "#/components/responses/Unavailable"}
UNKNOWN_BUSINESS = error_response("No business answers on this host name.", "unknown_business")


def operation(
    operation_id: str,
    tag: str,
    summary: str,
    description: str,
    responses: dict[str, Any],
    body: Schema | None = None,
    *,
    body_required: bool = True,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": operation_id,
        "tags": [tag],
        "summary": summary,
        "description": description,
        "parameters": [{"$ref": "#/components/parameters/Lang"}],
        "responses": responses,
    }
    if body is not None:
        op["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": body}},
        }
    return op


# --- schemas --------------------------------------------------------------------------------


def _schemas() -> dict[str, Schema]:
    date = {"type": "string", "format": "date"}
    return {
        "Date": {**date, "description": "A day, ISO 8601 (2026-11-24)."},
        "Time": _text(
            "A time of day in the business's zone (Europe/Berlin), HH:MM.",
            pattern="^[0-9]{2}:[0-9]{2}$",
        ),
        "WindowKind": {
            "type": "string",
            "enum": list(WINDOW_KINDS),
            "description": "`slot`: a 2-hour slot; `half_day`: a morning or afternoon; "
            "`day`: the whole day; `week`: any day of a week (the engine chose `day` and "
            "promises its whole-day window).",
        },
        "Precision": {
            "type": "string",
            "enum": list(PRECISIONS),
            "description": "How exactly the address was located: to the house, the street or "
            "only the postcode's centre.",
        },
        "Price": {
            "type": "object",
            "description": "All amounts in euro cents: total = base + travel fee − discount − "
            "flexibility discount.",
            "additionalProperties": False,
            "required": [
                "base_cents",
                "travel_fee_cents",
                "discount_cents",
                "flexibility_discount_cents",
                "total_cents",
                "saving_pct",
            ],
            "properties": {
                "base_cents": {"type": "integer", "minimum": 0},
                "travel_fee_cents": {"type": "integer", "minimum": 0},
                "discount_cents": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "The combination discount (a route passes nearby).",
                },
                "flexibility_discount_cents": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "The discount for leaving a wider window open.",
                },
                "total_cents": {"type": "integer", "minimum": 0},
                "saving_pct": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 100,
                    "description": "How much of the travel of serving the job alone the "
                    "route saves, in percent.",
                },
            },
        },
        "Business": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "intro_de", "intro_en", "address", "phone", "email"],
            "properties": {
                "name": {"type": "string"},
                "intro_de": _text("A short introduction in German; may be empty."),
                "intro_en": _text("The same in English; may be empty."),
                "address": {"type": "string"},
                "phone": {"type": "string"},
                "email": {"type": "string"},
            },
        },
        "Service": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "code",
                "name_de",
                "name_en",
                "description_de",
                "description_en",
                "duration_minutes",
                "base_price_cents",
                "from_price_cents",
            ],
            "properties": {
                "code": _text("What `offers` takes as `service`.", pattern=CODE_PATTERN.pattern),
                "name_de": {"type": "string"},
                "name_en": {"type": "string"},
                "description_de": {"type": "string"},
                "description_en": {"type": "string"},
                "duration_minutes": {"type": "integer", "minimum": 0},
                "base_price_cents": {"type": "integer", "minimum": 0},
                "from_price_cents": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "The lowest it can cost: next to the depot, riding along a "
                    "route, any day of a week.",
                },
            },
        },
        "Catalogue": {
            "type": "object",
            "additionalProperties": False,
            "required": ["business", "services"],
            "properties": {
                "business": ref("Business"),
                "services": {"type": "array", "items": ref("Service")},
            },
        },
        "Address": {
            "type": "object",
            "description": "An address as located: the postcode and city may be the "
            "geocoder's spelling.",
            "required": ["street", "postcode", "city", "precision"],
            "properties": {
                "street": {"type": "string"},
                "postcode": {"type": "string"},
                "city": {"type": "string"},
                "precision": ref("Precision"),
            },
        },
        "GeocodeResult": {
            "type": "object",
            "allOf": [ref("Address")],
            "required": ["lat", "lon", "label", "inside_service_area"],
            "properties": {
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lon": {"type": "number", "minimum": -180, "maximum": 180},
                "label": _text("One line: street, postcode city."),
                "inside_service_area": {"type": "boolean"},
                "message": _text(
                    "Only when outside the service area: the sentence to show, with the "
                    "firm's phone number."
                ),
            },
            "if": {"properties": {"inside_service_area": {"const": False}}},
            "then": {"required": ["message"]},
            "else": {"properties": {"message": False}},
            "unevaluatedProperties": False,
        },
        "Reasons": {
            "type": "object",
            "description": "The engine's explanation of the price in each language.",
            "additionalProperties": False,
            "required": list(LANGUAGES),
            "properties": {language: {"type": "string"} for language in LANGUAGES},
        },
        "Slot": {
            "type": "object",
            "description": "One choice: a window on a day, or any day of a week. Offered ones "
            "carry their price, reasons and the signed quote to book them.",
            "additionalProperties": False,
            "required": ["day", "days", "kind", "window_start", "window_end", "offered"],
            "properties": {
                "day": {
                    **ref("Date"),
                    "description": "The day the offer is for (for `week`: the day chosen).",
                },
                "days": {
                    "type": "array",
                    "items": ref("Date"),
                    "minItems": 1,
                    "description": "The days the customer leaves open.",
                },
                "kind": ref("WindowKind"),
                "window_start": ref("Time"),
                "window_end": ref("Time"),
                "offered": {
                    "type": "boolean",
                    "description": "False: no technician's route can take the job then.",
                },
                "price": ref("Price"),
                "reason": _text("The explanation in the request's language."),
                "reasons": ref("Reasons"),
                "quote": _text(
                    "Signed offer: price, window and address, valid for 15 minutes by "
                    "default. Pass it to `bookings` (or, from a move's offers, to "
                    "`reschedule`).",
                    minLength=1,
                ),
                "current": {
                    "type": "boolean",
                    "description": "Only in offers for a move: this is the appointment's "
                    "present window.",
                },
            },
            "if": {"properties": {"offered": {"const": True}}},
            "then": {"required": ["price", "reason", "reasons", "quote"]},
            "else": {
                "properties": {"price": False, "reason": False, "reasons": False, "quote": False}
            },
        },
        "MoveSlot": {"allOf": [ref("Slot")], "required": ["current"]},
        "OfferedSlot": {"allOf": [ref("Slot")], "properties": {"offered": {"const": True}}},
        "OfferedMoveSlot": {
            "allOf": [ref("MoveSlot")],
            "properties": {"offered": {"const": True}},
        },
        "Offers": {
            "type": "object",
            "additionalProperties": False,
            "required": ["address", "slots"],
            "properties": {
                "address": {**ref("Address"), "unevaluatedProperties": False},
                "slots": {
                    "type": "array",
                    "items": ref("Slot"),
                    "description": "Per working day its slots, half days and whole day, then "
                    "one `week` entry per week.",
                },
            },
        },
        "Appointment": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "status",
                "service",
                "day",
                "window_start",
                "window_end",
                "window_kind",
                "address",
                "access_hints",
                "price",
                "manage_token",
                "language",
                "can_change",
                "change_deadline",
            ],
            "properties": {
                "status": {"type": "string", "enum": [s.value for s in AppointmentStatus]},
                "service": _text("The service's code.", pattern=CODE_PATTERN.pattern),
                "day": ref("Date"),
                "window_start": ref("Time"),
                "window_end": ref("Time"),
                "window_kind": ref("WindowKind"),
                "address": {**ref("Address"), "unevaluatedProperties": False},
                "access_hints": _text("How the technician gets in; may be empty."),
                "price": ref("Price"),
                "manage_token": _text(
                    "The secret of the manage link: `appointments/{token}`.",
                    pattern=TOKEN_PATTERN.pattern,
                ),
                "language": {
                    "type": "string",
                    "enum": list(LOCALES),
                    "description": "The language of the customer's emails.",
                },
                "can_change": {
                    "type": "boolean",
                    "description": "Whether it may still be moved or cancelled online.",
                },
                "change_deadline": {
                    "type": "string",
                    "format": "date-time",
                    "description": "Until when, in the business's zone (ISO 8601).",
                },
            },
        },
        "AppointmentAnswer": {
            "type": "object",
            "additionalProperties": False,
            "required": ["appointment"],
            "properties": {"appointment": ref("Appointment")},
        },
        "AppointmentChanged": {
            "type": "object",
            "additionalProperties": False,
            "required": ["appointment", "email_sent"],
            "properties": {
                "appointment": ref("Appointment"),
                "email_sent": {
                    "type": "boolean",
                    "description": "Whether the customer's email went out, or waits in "
                    "the background queue (which retries it); the change stands either way.",
                },
            },
        },
        "AppointmentCancelled": {
            "type": "object",
            "additionalProperties": False,
            "required": ["appointment"],
            "properties": {
                "appointment": ref("Appointment"),
                "email_sent": {
                    "type": "boolean",
                    "description": "Absent when it was cancelled already (no second email).",
                },
            },
        },
        "MoveOffers": {
            "type": "object",
            "additionalProperties": False,
            "required": ["appointment", "slots"],
            "properties": {
                "appointment": ref("Appointment"),
                "slots": {"type": "array", "items": ref("MoveSlot")},
            },
        },
        "FieldErrors": {
            "type": "object",
            "description": "Messages per field, in the request's language.",
            "minProperties": 1,
            "additionalProperties": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
            },
        },
        "ErrorDetail": {
            "type": "object",
            "additionalProperties": False,
            "required": ["code", "message"],
            "properties": {
                "code": _text(
                    "Machine-readable; the codes:\n\n"
                    + "\n".join(f"- `{code}`: {text}" for code, text in ERROR_CODES.items()),
                    pattern="^[a-z_]+$",
                ),
                "message": _text("For people, in the request's language.", minLength=1),
                "fields": ref("FieldErrors"),
                "retry_after_s": {"type": "integer", "minimum": 1},
                "alternatives": {
                    "type": "array",
                    "items": ref("Slot"),
                    "description": "The offered slots free now.",
                },
            },
            "allOf": [
                _only_with(FIELD_CODES, "fields", always=True),
                _only_with(RETRY_CODES, "retry_after_s", always=True),
                _only_with(ALTERNATIVES_CODES, "alternatives", always=False),
            ],
        },
        "Error": {
            "type": "object",
            "description": "Every error answer: JSON, never an HTML page.",
            "additionalProperties": False,
            "required": ["error"],
            "properties": {"error": ref("ErrorDetail")},
        },
        # --- request bodies ---
        "AddressInput": {
            "type": "object",
            "required": ["street", "postcode", "city"],
            "properties": {
                "street": _text("Street and house number.", **_length(AddressForm, "street")),
                "postcode": _text("A German postcode.", pattern="^[0-9]{5}$"),
                "city": _text("City.", **_length(AddressForm, "city")),
            },
        },
        "OffersRequest": {
            "type": "object",
            "allOf": [ref("AddressInput")],
            "required": ["service"],
            "properties": {
                "service": _text("A service's `code`.", pattern=CODE_PATTERN.pattern),
            },
        },
        "BookingRequest": {
            "type": "object",
            "required": ["quote", "name", "phone", "email", "consent"],
            "properties": {
                "quote": _text(
                    "An offered slot's `quote`.", minLength=1, **_length(ContactForm, "quote")
                ),
                "name": _text("The customer's name.", **_length(ContactForm, "name")),
                "phone": _text(
                    "Digits, spaces, +, -, / or brackets; at least 6 digits.",
                    pattern=PHONE_PATTERN.pattern,
                ),
                "email": _text("For the confirmation.", format="email", maxLength=200),
                "notes": {
                    "type": ["string", "null"],
                    "description": "What the technician should know.",
                    **_length(ContactForm, "notes"),
                },
                "access_hints": {
                    "type": ["string", "null"],
                    "description": 'How the technician gets in ("Hinterhaus, 2. OG").',
                    **_length(ContactForm, "access_hints"),
                },
                "consent": {
                    "const": True,
                    "description": "The customer agrees to the processing of their data to "
                    "carry out the appointment; JSON `true`, nothing else.",
                },
            },
        },
        "RescheduleRequest": {
            "type": "object",
            "required": ["quote"],
            "properties": {
                "quote": _text(
                    "The `quote` of one of this appointment's move offers.",
                    minLength=1,
                    **_length(QuoteForm, "quote"),
                ),
            },
        },
    }


# --- paths ------------------------------------------------------------------------------------


def _paths() -> dict[str, Any]:
    token_parameter = [{"$ref": "#/components/parameters/Token"}]
    return {
        "/services": {
            "get": operation(
                "listServices",
                "catalogue",
                "The firm and its services",
                "The firm's name, introduction and contact details, then every active "
                "service with its duration, base price and lowest possible price.",
                {
                    "200": ok_response("The catalogue.", "Catalogue"),
                    "404": UNKNOWN_BUSINESS,
                    "503": error_response(
                        f"{NO_BUSINESS} Or: {DATABASE_DOWN}",
                        "service_unavailable",
                        "temporarily_unavailable",
                    ),
                },
            )
        },
        "/geocode": {
            "post": operation(
                "geocodeAddress",
                "catalogue",
                "Locate an address",
                "Where an address is, how exactly it was found and whether the firm serves "
                "it. An address outside the service area is an answer here (200 with the "
                "`message` to show); `offers` refuses it.",
                {
                    "200": ok_response("The located address.", "GeocodeResult"),
                    "400": INVALID_JSON,
                    "404": UNKNOWN_BUSINESS,
                    "422": error_response(
                        "The address is malformed or unknown.", "invalid_field", "unknown_address"
                    ),
                    "429": RATE_LIMITED,
                    "503": error_response(
                        "The address cannot be located now, the booking service is not set up, "
                        "or the database cannot be reached.",
                        "geocoder_unavailable",
                        "service_unavailable",
                        "temporarily_unavailable",
                    ),
                },
                ref("AddressInput"),
            )
        },
        "/offers": {
            "post": operation(
                "listOffers",
                "booking",
                "Slots with prices for a service at an address",
                "Every (day, window) of the booking horizon, each proven against the "
                "technicians' routes: offered ones with their price, explanation and signed "
                "quote. Writes nothing.",
                {
                    "200": ok_response("The located address and its slots.", "Offers"),
                    "400": INVALID_JSON,
                    "404": error_response(
                        "No such service, or no business on this host name.",
                        "unknown_service",
                        "unknown_business",
                    ),
                    "422": error_response(
                        "The address is malformed, unknown or outside the service area.",
                        "invalid_field",
                        "unknown_address",
                        "outside_service_area",
                    ),
                    "429": RATE_LIMITED,
                    "503": error_response(
                        "The address cannot be located now, the booking service is not set up, "
                        "or the database cannot be reached.",
                        "geocoder_unavailable",
                        "service_unavailable",
                        "temporarily_unavailable",
                    ),
                },
                ref("OffersRequest"),
            )
        },
        "/bookings": {
            "post": operation(
                "createBooking",
                "booking",
                "Book an offered slot",
                "Books the quote at its price if it still fits the routes (checked again "
                "under the day's lock), in one transaction, and emails the customer.",
                {
                    "201": ok_response(
                        "Booked: the appointment with its manage token, and whether the "
                        "email went out.",
                        "AppointmentChanged",
                    ),
                    "400": INVALID_JSON,
                    "404": UNKNOWN_BUSINESS,
                    "409": error_response(
                        "The offer is stale: nothing was booked.",
                        "quote_expired",
                        "slot_taken",
                        "not_bookable",
                        "service_unavailable",
                    ),
                    "422": error_response(
                        "Fields are wrong, consent is missing, or the quote is not valid.",
                        "invalid_field",
                        "consent_required",
                        "quote_invalid",
                    ),
                    "429": RATE_LIMITED,
                    "503": error_response(
                        f"{NO_BUSINESS} Or: {DATABASE_DOWN}",
                        "service_unavailable",
                        "temporarily_unavailable",
                    ),
                },
                ref("BookingRequest"),
            )
        },
        "/appointments/{token}": {
            "parameters": token_parameter,
            "get": operation(
                "getAppointment",
                "manage",
                "An appointment by its manage token",
                "The appointment, whether it may still be changed online and until when.",
                {
                    "200": ok_response("The appointment.", "AppointmentAnswer"),
                    "404": TOKEN_NOT_FOUND,
                    "503": UNAVAILABLE,
                },
            ),
        },
        "/appointments/{token}/offers": {
            "parameters": token_parameter,
            "post": operation(
                "listMoveOffers",
                "manage",
                "Slots for moving an appointment",
                "The slots of `offers` for the booked service and address, computed on the "
                "routes without this appointment: its own window is offered too, marked "
                "`current`. Their quotes move only this appointment. The body may be "
                "absent or any JSON object (its fields are not used).",
                {
                    "200": ok_response("The appointment and its move offers.", "MoveOffers"),
                    "400": INVALID_JSON,
                    "404": TOKEN_NOT_FOUND,
                    "409": error_response(
                        "The appointment cannot be moved.",
                        "appointment_cancelled",
                        "cutoff_passed",
                        "service_unavailable",
                    ),
                    "429": RATE_LIMITED,
                    "503": UNAVAILABLE,
                },
                {"type": "object"},
                body_required=False,
            ),
        },
        "/appointments/{token}/reschedule": {
            "parameters": token_parameter,
            "post": operation(
                "rescheduleAppointment",
                "manage",
                "Move an appointment",
                "Moves it to a quote from its move offers, under both days' locks, in one "
                "transaction, and emails the customer. If the slot no longer fits, nothing "
                "changes.",
                {
                    "200": ok_response(
                        "Moved: the appointment with its new window and price.",
                        "AppointmentChanged",
                    ),
                    "400": INVALID_JSON,
                    "404": TOKEN_NOT_FOUND,
                    "409": error_response(
                        "Not moved: the offer is stale or the appointment cannot be moved.",
                        "quote_expired",
                        "slot_taken",
                        "not_bookable",
                        "service_unavailable",
                        "appointment_cancelled",
                        "appointment_changed",
                        "cutoff_passed",
                        alternatives="OfferedMoveSlot",
                    ),
                    "422": error_response(
                        "The quote is missing or not valid for moving this appointment.",
                        "invalid_field",
                        "quote_invalid",
                    ),
                    "429": RATE_LIMITED,
                    "503": UNAVAILABLE,
                },
                ref("RescheduleRequest"),
            ),
        },
        "/appointments/{token}/cancel": {
            "parameters": token_parameter,
            "post": operation(
                "cancelAppointment",
                "manage",
                "Cancel an appointment",
                "Cancels it and frees its place in the route; the customer gets an email. "
                "Cancelling a cancelled appointment changes nothing. No body is needed.",
                {
                    "200": ok_response("The cancelled appointment.", "AppointmentCancelled"),
                    "404": TOKEN_NOT_FOUND,
                    "409": error_response("Not cancelled.", "cutoff_passed", "appointment_changed"),
                    "429": RATE_LIMITED,
                    "503": UNAVAILABLE,
                },
            ),
        },
    }


DESCRIPTION = """\
The customer booking flow of KombiTermin as JSON, for a website widget:

1. `GET services`: the firm and its services.
2. `POST geocode` (optional): where an address is and whether the firm serves it.
3. `POST offers`: every slot of the next days for a service at an address, each proven
   against the technicians' routes, with its price and a signed `quote`.
4. `POST bookings`: book a quote with the customer's details; the answer carries the
   appointment's `manage_token`.
5. `GET appointments/{token}`, then `POST appointments/{token}/offers` and
   `…/reschedule` to move it, or `…/cancel`, until the firm's cut-off.

Every error is JSON: `{"error": {"code": …, "message": …}}`, some with `fields`,
`retry_after_s` or `alternatives` (see `ErrorDetail`). Messages and explanations are in
German unless `?lang=en` asks for English. Searches (`geocode`, `offers`, a move's
`offers`) and changes (`bookings`, `reschedule`, `cancel`) are rate-limited per client
address (429 `rate_limited`). When the database cannot be reached, every operation
answers 503 `temporarily_unavailable` with Retry-After, and nothing is written. No login:
quotes and manage tokens authorise. One deployment may serve several firms: the host
name the API is called on chooses the firm (404 `unknown_business` when it names none).
"""


@cache
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "KombiTermin booking API",
            "version": "1.0.0",
            "description": DESCRIPTION,
        },
        "servers": [{"url": SERVER_URL, "description": "On the host serving this document."}],
        "tags": [
            {"name": "catalogue", "description": "The firm, its services, addresses."},
            {"name": "booking", "description": "Offers and booking."},
            {"name": "manage", "description": "A booked appointment: show, move, cancel."},
        ],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "parameters": {
                "Lang": {
                    "name": "lang",
                    "in": "query",
                    "required": False,
                    "description": "`de` (the default) or `en`: the language of messages and "
                    "explanations, remembered in the session cookie. Other values are "
                    "ignored.",
                    "schema": {"type": "string"},
                },
                "Token": {
                    "name": "token",
                    "in": "path",
                    "required": True,
                    "description": "The appointment's `manage_token`.",
                    "schema": {"type": "string", "pattern": TOKEN_PATTERN.pattern},
                },
            },
            "responses": {
                "InvalidJson": error_response("The body is not a JSON object.", "invalid_json"),
                "RateLimited": error_response("Over the rate limit.", "rate_limited"),
                "Unavailable": error_response(DATABASE_DOWN, "temporarily_unavailable"),
                "UnknownAppointment": error_response(
                    "No appointment with this token.", "unknown_appointment", "not_found"
                ),
            },
        },
    }
