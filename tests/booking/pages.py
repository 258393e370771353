"""Helpers that drive the customer pages the way a browser would."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db

ADDRESS = {"street": "Breiter Weg 10", "postcode": "39104", "city": "Magdeburg"}
CONTACT = {
    "name": "Erika Mustermann",
    "phone": "0391 123456",
    "email": "erika@example.de",
    "notes": "Hinterhaus, 2. OG",
    "consent": "y",
}


def quotes_on(html: str) -> list[str]:
    """The signed quotes behind every bookable slot button, in page order."""
    return [unescape(q) for q in re.findall(r'<input[^>]*name="quote"[^>]*value="([^"]+)"', html)]


def slot_quotes(client: FlaskClient, code: str, address: dict[str, str] = ADDRESS) -> list[str]:
    response = client.get(f"/book/{code}/slots", query_string=address)
    assert response.status_code == 200, response.get_data(as_text=True)
    return quotes_on(response.get_data(as_text=True))


def book(client: FlaskClient, quote: str, **overrides: Any):
    return client.post("/book/confirm", data={"quote": quote, **CONTACT, **overrides})


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0
