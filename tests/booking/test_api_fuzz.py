"""Fuzzing the JSON API with schemathesis against its own document, /api/openapi.json.

For every operation the document names, schemathesis generates requests that fit the
document (positive) and requests that break it (negative), sends them to the app, and
checks each answer: no 5xx; the status is documented for that operation; the media type,
the required headers and the body match what the document says for that status.

The firm is seeded with real data (tests/factories.py): one booked and one cancelled
appointment. In about half of the requests, generated manage tokens, quotes, service codes
and address parts are swapped for real ones, so that the fuzzer reaches past "unknown
appointment", "invalid quote" and "unknown address" into the offer and booking code.

Deterministic (derandomize) and bounded: KOMBITERMIN_FUZZ_EXAMPLES examples per
operation and mode (default 12). The number of generated cases is printed (run with -s)
and recorded as the test's `generated_cases` property.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from booking.api.openapi import DOCUMENT_PATH
from booking.models import Appointment, Customer
from tests.booking.pages import ADDRESS, count
from tests.booking.test_api import API, error_of, offered_quotes
from tests.booking.test_api import book as api_book
from tests.factories import make_business

EXAMPLES = int(os.environ.get("KOMBITERMIN_FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def real_tokens_and_quotes(client: FlaskClient) -> tuple[list[str], list[str]]:
    """Book two appointments and cancel one; their manage tokens and two fresh quotes."""
    quotes = offered_quotes(client)
    tokens = []
    for quote in quotes[:2]:
        response = api_book(client, quote)
        assert response.status_code == 201, response.get_data(as_text=True)
        tokens.append(response.get_json()["appointment"]["manage_token"])
    assert client.post(f"{API}/appointments/{tokens[1]}/cancel").status_code == 200
    return tokens, quotes[2:4]


def real_values(client: FlaskClient) -> dict[str, list[str]]:
    """What may replace a generated value, by its name: manage tokens (of a booked and a
    cancelled appointment), fresh quotes, service codes and known addresses' parts."""
    tokens, quotes = real_tokens_and_quotes(client)
    return {
        "token": tokens,
        "quote": quotes,
        "service": ["tap", "gasboiler", "bigjob"],
        "postcode": ["39104", "39179"],
        "city": ["Magdeburg", "Barleben"],
        "street": ["Breiter Weg 10"],
    }


def fuzz(
    operation: Any, mode: GenerationMode, real: dict[str, list[str]], seen: Counter[str]
) -> None:
    """Run EXAMPLES generated requests of one operation and mode through the checks, and
    count them by operation, mode and status. In about half of them each token, quote,
    service or address part is a real one."""

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        swaps=st.fixed_dictionaries(
            {name: st.sampled_from([None, *values]) for name, values in real.items()}
        ),
        swap=st.booleans(),
    )
    def call(case: Any, swaps: dict[str, str | None], swap: bool) -> None:
        if swap:
            with_real_data(case, swaps)
        response = case.call_and_validate(checks=CHECKS)
        seen[f"{operation.label} {mode} {response.status_code}"] += 1

    call()


def with_real_data(case: Any, swaps: dict[str, str | None]) -> None:
    """Put the chosen real values where the generated request has a field of that name."""
    for name, value in swaps.items():
        if value is None:
            continue
        if name in case.path_parameters:
            case.path_parameters[name] = value
        if isinstance(case.body, dict) and name in case.body:
            case.body[name] = value


def test_fuzz_every_operation_against_the_document(
    app: Flask, client: FlaskClient, record_property: Any
) -> None:
    """No generated request gets a 5xx or an answer the document does not describe."""
    make_business()
    real = real_values(client)
    schema = schemathesis.openapi.from_wsgi(DOCUMENT_PATH, app)
    generated: Counter[str] = Counter()
    for result in schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(result.ok(), mode, real, generated)

    total = sum(generated.values())
    record_property("generated_cases", total)
    print(f"\nschemathesis: {total} generated cases (operation, mode, status: how many)")
    for label, number in sorted(generated.items()):
        print(f"  {number:5d}  {label}")
    operations = {label.rsplit(" ", 2)[0] for label in generated}
    assert len(operations) == 8  # every operation ran


# --- what the fuzzer found ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Erika\nMustermann"),
        ("name", "Erika\rMustermann"),
        ("name", "Erika\u2028Mustermann"),
        ("access_hints", "Hinterhaus\n2. OG"),
    ],
)
def test_a_line_break_inside_a_one_line_field_is_refused(
    client: FlaskClient, field: str, value: str
) -> None:
    """A name with a line break was booked, and then its confirmation could not be built
    (an email header refuses line breaks): now it is 422 invalid_field naming the field,
    and nothing is stored. (Leading and trailing ones are stripped as before.)"""
    make_business()
    response = api_book(client, offered_quotes(client)[0], **{field: value})
    error = error_of(response, 422)
    assert error["code"] == "invalid_field"
    assert error["fields"] == {field: ["Bitte in einer Zeile schreiben."]}
    assert count(Appointment) == count(Customer) == 0


@pytest.mark.parametrize("field", ["street", "city"])
def test_a_line_break_inside_an_address_is_refused(client: FlaskClient, field: str) -> None:
    """The same for the street and the city of POST offers."""
    make_business()
    response = client.post(
        f"{API}/offers", json={"service": "tap", **ADDRESS, field: f"{ADDRESS[field]}\nX"}
    )
    assert error_of(response, 422)["fields"] == {field: ["Bitte in einer Zeile schreiben."]}


def test_an_email_address_we_could_not_write_to_is_refused(
    client: FlaskClient, outbox: Path
) -> None:
    """Letters beyond ASCII before the @ (müller@…) were accepted, and the confirmation
    could not be built: now the address is refused like any invalid one. After the @ they
    are fine (Python's email package writes such domains)."""
    make_business()
    quotes = offered_quotes(client)
    refused = api_book(client, quotes[0], email="müller@example.de")
    invalid = ["Bitte geben Sie eine gültige E-Mail-Adresse ein."]
    assert error_of(refused, 422)["fields"] == {"email": invalid}
    accepted = api_book(client, quotes[0], email="kunde@müller.de")
    assert accepted.status_code == 201, accepted.get_data(as_text=True)
    assert accepted.get_json()["email_sent"] is True
