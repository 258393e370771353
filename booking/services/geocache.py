"""Geocoding answers kept in the database, so a restart or a second process does not ask
the geocoding server again (Nominatim's public server allows one request per second).

Each answer of a geocoding server is stored per source ("nominatim", "photon") under the
normalised query (`geocoding.query_key`). An unknown address is stored too, but asked
again after a day at most: the customer may have typed a street that is new. A cache must
never stop a booking, so a database error here is logged and the lookup goes to the
geocoder.

Reads and writes use their own short connection, not the request's session: a GET that
commits nothing still keeps what it looked up, and nothing half-done of the request is
committed by the cache. Call it outside a write transaction (SQLite has one writer).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from booking.extensions import db
from booking.models import GeocodeCacheEntry
from booking.services.clock import now_utc
from booking.services.geocoding import GeocodedAddress, Geocoder, query_key
from booking.validation import has_control_characters

log = logging.getLogger(__name__)

# How long "unknown address" is believed, at most.
UNKNOWN_MAX_AGE = timedelta(days=1)
_QUERY_MAX = GeocodeCacheEntry.__table__.c.query.type.length
_LABEL_MAX = GeocodeCacheEntry.__table__.c.label.type.length


class DatabaseCachedGeocoder:
    """`inner`'s answers, remembered in the `geocode_cache` table under `source`."""

    def __init__(
        self,
        inner: Geocoder,
        source: str,
        max_age: timedelta | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        if max_age is not None and max_age <= timedelta(0):
            raise ValueError(f"max_age must be positive or None, got {max_age!r}")
        self.inner = inner
        self.source = source
        self.max_age = max_age
        self._clock = clock

    def geocode(self, street: str, postcode: str, city: str) -> GeocodedAddress | None:
        key = query_key(street, postcode, city)
        storable = len(key) <= _QUERY_MAX and not has_control_characters(key)
        if storable:
            hit, cached = self._read(key)
            if hit:
                return cached
        result = self.inner.geocode(street, postcode, city)
        if storable:
            self._write(key, result)
        return result

    def _oldest_valid(self, found: bool) -> datetime | None:
        ages = [age for age in (self.max_age, None if found else UNKNOWN_MAX_AGE) if age]
        return self._clock() - min(ages) if ages else None

    def _read(self, key: str) -> tuple[bool, GeocodedAddress | None]:
        """(True, the answer) for a valid stored answer, (False, None) otherwise."""
        table = GeocodeCacheEntry.__table__
        try:
            with db.engine.connect() as connection:
                row = connection.execute(
                    select(table).where(table.c.source == self.source, table.c.query == key)
                ).first()
        except SQLAlchemyError as error:
            # the error's text names the address (its SQL parameters): the class only
            log.warning("geocode cache unreadable (%s); asking the geocoder", type(error).__name__)
            return False, None
        if row is None:
            return False, None
        oldest = self._oldest_valid(row.found)
        if oldest is not None and row.created_at <= oldest:
            return False, None
        if not row.found:
            return True, None
        try:
            return True, GeocodedAddress(
                lat=row.lat,
                lon=row.lon,
                precision=row.precision,
                postcode=row.postcode,
                city=row.city,
                label=row.label,
            )
        except (TypeError, ValueError):
            log.warning("geocode cache row %s is invalid; asking the geocoder", row.id)
            return False, None

    def _write(self, key: str, result: GeocodedAddress | None) -> None:
        values = {
            "source": self.source,
            "query": key,
            "found": result is not None,
            "lat": result.lat if result else None,
            "lon": result.lon if result else None,
            "precision": result.precision if result else None,
            "postcode": result.postcode[:20] if result else "",
            "city": result.city[:200] if result else "",
            "label": result.label[:_LABEL_MAX] if result else "",
            "created_at": self._clock(),
        }
        table = GeocodeCacheEntry.__table__
        try:
            # Replace an expired answer; two processes storing the same new address at
            # once collide on the unique key, and the later one simply gives up.
            with db.engine.begin() as connection:
                connection.execute(
                    delete(table).where(table.c.source == self.source, table.c.query == key)
                )
                connection.execute(insert(table).values(values))
        except IntegrityError:
            log.debug("geocoding answer stored meanwhile by another request")
        except SQLAlchemyError as error:
            # the error's text names the address (its SQL parameters): the class only
            log.warning("could not store a geocoding answer (%s); continuing", type(error).__name__)
