"""Concurrent confirmations of the last free slot: exactly one wins, nothing is doubled."""

from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy import select

from booking.extensions import db
from booking.models import Appointment, Business, RouteStop
from booking.services.invariants import broken_promises
from booking.services.quotes import read_quote
from tests.booking.pages import CONTACT, book, count, slot_quotes
from tests.factories import TUESDAY, make_business

RACERS = 6


def test_only_one_of_several_simultaneous_bookings_gets_the_last_slot(app: Flask) -> None:
    """Tuesday has room for one more 7-hour job (one technician is already taken). Six
    customers holding a valid quote for it confirm at the same moment: one is booked, five
    hear "just taken"; the day holds exactly two appointments, each in one route."""
    make_business()
    client = app.test_client()
    book(client, slot_quotes(client, "bigjob")[0])  # Anna or Gerd is busy all Tuesday
    quote = slot_quotes(client, "bigjob")[0]
    assert read_quote(quote, "test-secret", 900).day == TUESDAY

    start = threading.Barrier(RACERS)
    statuses: list[int] = []
    lock = threading.Lock()

    def race(n: int) -> None:
        racer = app.test_client()
        start.wait()
        response = racer.post(
            "/book/confirm", data={"quote": quote, **CONTACT, "email": f"racer{n}@example.de"}
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [302] + [409] * (RACERS - 1)
    db.session.expire_all()
    on_tuesday = db.session.scalars(select(Appointment).where(Appointment.day == TUESDAY)).all()
    assert len(on_tuesday) == 2
    assert count(RouteStop) == 2
    business = db.session.scalars(select(Business)).one()
    assert broken_promises(business) == []
