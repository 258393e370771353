"""The app writes JSON with orjson, and every answer reads as Flask's own provider would
write it: dates as HTTP dates, dataclasses, decimals, UUIDs, number keys as strings."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import Flask
from flask.json.provider import DefaultJSONProvider


@dataclasses.dataclass
class Pair:
    number: int
    text: str


VALUES = {
    "day": date(2026, 11, 24),
    "at": datetime(2026, 11, 24, 8, 30, tzinfo=UTC),
    "amount": Decimal("12.50"),
    "id": uuid.UUID(int=5),
    "pair": Pair(1, "Straße"),
    "by_number": {1: "one"},
    "text": "Müller <b> & Söhne",
    "list": [1, 2.5, None, True],
}


def test_answers_read_as_flasks_own_provider_writes_them(app: Flask) -> None:
    flasks = DefaultJSONProvider(app)
    ours = json.loads(app.json.dumps(VALUES))
    assert ours == json.loads(flasks.dumps(VALUES))
    assert ours["day"] == "Tue, 24 Nov 2026 00:00:00 GMT" and ours["by_number"] == {"1": "one"}
    assert list(ours) == list(VALUES)  # keys as built, not sorted


def test_options_go_to_flasks_provider(app: Flask) -> None:
    assert app.json.dumps({"b": 1, "a": 2}, indent=2) == '{\n  "b": 1,\n  "a": 2\n}'
