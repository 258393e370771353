"""Geocoding answers are kept in the database (table geocode_cache): a second lookup of the
same address, also after a restart, does not ask the geocoding server again; unknown
addresses and old answers expire; a fallback answer never stands in for the server's.

The servers are local (tests/booking/geoservers.py) and count their requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from booking.extensions import db
from booking.models import GeocodeCacheEntry
from booking.services.geocache import DatabaseCachedGeocoder
from booking.services.geocoding import GeocodedAddress, GeocoderUnavailable
from tests.booking.geoservers import BREITER_WEG_10_PHOTON, FakeServer, photon_answer
from tests.booking.pages import ADDRESS
from tests.conftest import NOW, make_app
from tests.factories import make_business

# Nominatim's answer for Breiter Weg 10 (house precision), as in test_geocoding.py.
BREITER_WEG_10 = {
    "lat": "52.1271",
    "lon": "11.6351",
    "display_name": "10, Breiter Weg, Altstadt, Magdeburg, Sachsen-Anhalt, 39104, Deutschland",
    "address": {
        "house_number": "10",
        "road": "Breiter Weg",
        "city": "Magdeburg",
        "postcode": "39104",
        "country_code": "de",
    },
}


@pytest.fixture
def remote_config(migrated: dict[str, object]) -> dict[str, object]:
    """The test config, ready for a remote geocoder. The apps built from it share the
    database of the `app` fixture, which empties every table afterwards."""
    return {**migrated, "GEOCODER_MIN_DELAY_S": 0.0, "GEOCODER_TIMEOUT_S": 2.0}


def with_app(config: dict[str, object]) -> Iterator[Flask]:
    app = make_app(config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def lookup(app: Flask, address: dict[str, str] = ADDRESS) -> Any:
    """GET the slot page of a tap at `address` in a request context of its own."""
    with app.app_context():
        return app.test_client().get("/book/tap/slots", query_string=address)


def cached_rows() -> list[tuple[str, str, bool, str | None]]:
    db.session.expire_all()
    rows = db.session.scalars(select(GeocodeCacheEntry).order_by(GeocodeCacheEntry.id)).all()
    return [(r.source, r.query, r.found, r.precision) for r in rows]


def test_a_second_lookup_is_answered_from_the_cache(
    app: Flask, remote_config: dict[str, object], nominatim_server: FakeServer
) -> None:
    """Two searches for Breiter Weg 10 (the second typed differently) cost one request to
    Nominatim; the answer is stored under the normalised query with house precision."""
    make_business()
    nominatim_server.body = [BREITER_WEG_10]
    config = {**remote_config, "GEOCODER": "nominatim", "NOMINATIM_URL": nominatim_server.url}
    for web in with_app(config):
        assert lookup(web).status_code == 200
        again = {"street": "breiter  weg 10", "postcode": "39104", "city": "MAGDEBURG"}
        assert lookup(web, again).status_code == 200
    assert len(nominatim_server.requests) == 1
    assert cached_rows() == [("nominatim", "breiter weg 10|39104|magdeburg", True, "house")]


def test_the_cache_survives_a_restart(
    app: Flask, remote_config: dict[str, object], photon_server: FakeServer
) -> None:
    """A new app on the same database (a restart, or a second process) finds the answer
    in the table: Photon is asked once for three searches in two apps."""
    make_business()
    photon_server.body = photon_answer(BREITER_WEG_10_PHOTON)
    config = {**remote_config, "GEOCODER": "photon", "PHOTON_URL": photon_server.url}
    for first in with_app(config):
        html = lookup(first).get_data(as_text=True)
        assert "Breiter Weg 10, 39104 Magdeburg" in html
        assert "nach Postleitzahl verortet" not in html  # located to the house
    for second in with_app(config):
        assert lookup(second).status_code == 200
        assert lookup(second).status_code == 200
    assert len(photon_server.requests) == 1
    assert cached_rows() == [("photon", "breiter weg 10|39104|magdeburg", True, "house")]


def test_a_fallback_answer_is_not_kept_as_the_servers(
    app: Flask, remote_config: dict[str, object], nominatim_server: FakeServer
) -> None:
    """While Nominatim fails, the postcode centroid answers and is not stored; once the
    server is back, a restarted app asks it and gets the house."""
    make_business()
    nominatim_server.status = 500
    config = {**remote_config, "GEOCODER": "nominatim", "NOMINATIM_URL": nominatim_server.url}
    for web in with_app(config):
        assert "nach Postleitzahl verortet" in lookup(web).get_data(as_text=True)
    assert cached_rows() == []

    nominatim_server.status, nominatim_server.body = 200, [BREITER_WEG_10]
    for web in with_app(config):
        assert "nach Postleitzahl verortet" not in lookup(web).get_data(as_text=True)
    assert len(nominatim_server.requests) == 2
    assert cached_rows() == [("nominatim", "breiter weg 10|39104|magdeburg", True, "house")]


# --- the table itself, with a stub in front of it -------------------------------------------

MAGDEBURG = GeocodedAddress(52.1243, 11.6322, "postcode", "39104", "Magdeburg", "39104 Magdeburg")


class Stub:
    """A geocoder that answers with the given outcomes in turn and counts its calls."""

    def __init__(self, *outcomes: GeocodedAddress | Exception | None) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def geocode(self, street: str, postcode: str, city: str) -> GeocodedAddress | None:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def test_a_stored_answer_comes_back_whole(app: Flask) -> None:
    """Coordinates, precision, postcode, city and label come back as they were stored."""
    stub = Stub(MAGDEBURG)
    cache = DatabaseCachedGeocoder(stub, "postcode")
    assert cache.geocode("", "39104", "Magdeburg") == MAGDEBURG
    assert DatabaseCachedGeocoder(Stub(), "postcode").geocode("", "39104", "magdeburg") == (
        MAGDEBURG
    )
    assert stub.calls == 1


def test_answers_are_kept_per_source(app: Flask) -> None:
    """An answer stored for "postcode" is not one for "nominatim"."""
    DatabaseCachedGeocoder(Stub(MAGDEBURG), "postcode").geocode("", "39104", "")
    nominatim = Stub(None)
    assert DatabaseCachedGeocoder(nominatim, "nominatim").geocode("", "39104", "") is None
    assert nominatim.calls == 1


def test_unknown_is_believed_for_a_day(app: Flask) -> None:
    """ "Unknown" is stored and answered for 23 hours; after 24 hours the geocoder is asked
    again, and its new answer replaces the old row."""
    clock = Clock()
    stub = Stub(None, MAGDEBURG)
    cache = DatabaseCachedGeocoder(stub, "photon", clock=clock)
    assert cache.geocode("Neubauweg 1", "39104", "") is None
    clock.now += timedelta(hours=23)
    assert cache.geocode("Neubauweg 1", "39104", "") is None
    assert stub.calls == 1
    clock.now += timedelta(hours=1)
    assert cache.geocode("Neubauweg 1", "39104", "") == MAGDEBURG
    assert stub.calls == 2
    assert [row[2] for row in cached_rows()] == [True]


def test_found_addresses_expire_after_max_age(app: Flask) -> None:
    """With max_age of 30 days, an answer is reused on day 29 and asked again on day 30;
    without max_age it is kept for good."""
    clock = Clock()
    stub = Stub(MAGDEBURG, MAGDEBURG)
    cache = DatabaseCachedGeocoder(stub, "nominatim", max_age=timedelta(days=30), clock=clock)
    forever = DatabaseCachedGeocoder(Stub(), "nominatim", clock=clock)
    cache.geocode("", "39104", "")
    clock.now += timedelta(days=29)
    cache.geocode("", "39104", "")
    assert stub.calls == 1
    clock.now += timedelta(days=1)
    cache.geocode("", "39104", "")
    assert stub.calls == 2
    clock.now += timedelta(days=3650)
    assert forever.geocode("", "39104", "") == MAGDEBURG


def test_unavailable_is_not_stored(app: Flask) -> None:
    """GeocoderUnavailable passes through and leaves no row: the next lookup asks again."""
    stub = Stub(GeocoderUnavailable("down"), MAGDEBURG)
    cache = DatabaseCachedGeocoder(stub, "nominatim")
    with pytest.raises(GeocoderUnavailable):
        cache.geocode("", "39104", "")
    assert cached_rows() == []
    assert cache.geocode("", "39104", "") == MAGDEBURG


def test_a_broken_cache_table_never_stops_a_lookup(app: Flask) -> None:
    """Without the table (a database not migrated yet), lookups still work; nothing is
    stored, and the error is logged rather than raised."""
    table = GeocodeCacheEntry.__table__
    table.drop(db.engine)
    try:
        stub = Stub(MAGDEBURG, MAGDEBURG)
        cache = DatabaseCachedGeocoder(stub, "postcode")
        assert cache.geocode("", "39104", "") == MAGDEBURG
        assert cache.geocode("", "39104", "") == MAGDEBURG
        assert stub.calls == 2
    finally:
        table.create(db.engine)


def test_overlong_or_odd_queries_are_looked_up_but_not_stored(app: Flask) -> None:
    """A query longer than the key column, or with a control character, is passed on to
    the geocoder and not stored."""
    stub = Stub(None, None)
    cache = DatabaseCachedGeocoder(stub, "postcode")
    cache.geocode("x" * 500, "39104", "")
    cache.geocode("Weg\x001", "39104", "")
    assert stub.calls == 2
    assert cached_rows() == []


def test_max_age_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_age"):
        DatabaseCachedGeocoder(Stub(), "postcode", max_age=timedelta(0))


def test_the_upgrade_forgets_the_postcode_answers_stored_before(app: Flask) -> None:
    """Stored before the postcode table's answers stopped being cached, they would never
    be read again and hold customers' streets: the migration deletes them, and only them."""
    db.session.close()  # no open transaction may hold a lock on the table
    try:
        downgrade(revision="7fa29d0dbd02")
        for source in ("postcode", "nominatim"):
            DatabaseCachedGeocoder(Stub(MAGDEBURG), source).geocode("Breiter Weg 5", "39104", "")
    finally:
        upgrade()
    assert [row[0] for row in cached_rows()] == ["nominatim"]
