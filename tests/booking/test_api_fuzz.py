"""Fuzzing the JSON API with schemathesis against its own document, /api/openapi.json.

For every operation the document names, schemathesis generates requests that fit the
document (positive) and requests that break it (negative), sends them to the app, and
checks each answer: no 5xx; the status is documented for that operation; the media type,
the required headers and the body match what the document says for that status.

The firm is seeded with real data (tests/factories.py): one booked and one cancelled
appointment, so that a third of the generated manage tokens and quotes are real ones and
the fuzzer reaches past "unknown appointment" and "invalid quote" into the booking code.

Deterministic (derandomize) and bounded: KOMBITERMIN_FUZZ_EXAMPLES examples per
operation and mode (default 12). The number of generated cases is printed (run with -s)
and recorded as the test's `generated_cases` property.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

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
from tests.booking.test_api import API, offered_quotes
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


def with_real_data(case: Any, token: str | None, quote: str | None) -> None:
    """Put a real token into the path and a real quote into the body, where they fit."""
    if token is not None and "token" in case.path_parameters:
        case.path_parameters["token"] = token
    if quote is not None and isinstance(case.body, dict) and "quote" in case.body:
        case.body["quote"] = quote


def fuzz(
    operation: Any, mode: GenerationMode, real: tuple[list[str], list[str]], seen: Counter[str]
) -> None:
    """Run EXAMPLES generated requests of one operation and mode through the checks."""
    tokens, quotes = real

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
        token=st.sampled_from([None, None, *tokens]),
        quote=st.sampled_from([None, None, *quotes]),
    )
    def call(case: Any, token: str | None, quote: str | None) -> None:
        seen[f"{operation.label} {mode}"] += 1
        with_real_data(case, token, quote)
        case.call_and_validate(checks=CHECKS)

    call()


def test_fuzz_every_operation_against_the_document(
    app: Flask, client: FlaskClient, record_property: Any
) -> None:
    """No generated request gets a 5xx or an answer the document does not describe."""
    make_business()
    real = real_tokens_and_quotes(client)
    schema = schemathesis.openapi.from_wsgi(DOCUMENT_PATH, app)
    generated: Counter[str] = Counter()
    for result in schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(result.ok(), mode, real, generated)

    total = sum(generated.values())
    record_property("generated_cases", total)
    print(f"\nschemathesis: {total} generated cases")
    for label, number in sorted(generated.items()):
        print(f"  {number:5d}  {label}")
    assert len({label.rsplit(" ", 1)[0] for label in generated}) == 8  # every operation ran
