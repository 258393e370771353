"""Turning a customer's address into coordinates with the configured geocoder, and
deciding whether the firm serves it."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app

from booking.models import Business
from booking.services.geocache import DatabaseCachedGeocoder
from booking.services.geocoding import Geocoder, GeocoderUnavailable, build_geocoder
from booking.services.offering import Address

_KEY = "kombitermin.geocoder"
EARTH_RADIUS_KM = 6371.0088


def init_geocoder(app: Flask) -> None:
    source = app.config["GEODATA_DIR"]
    max_age_days = app.config["GEOCODER_CACHE_MAX_AGE_DAYS"]
    max_age = timedelta(days=max_age_days) if max_age_days else None
    app.extensions[_KEY] = build_geocoder(
        app.config["GEOCODER"],
        source_dir=Path(source) if source else None,
        cache_dir=Path(app.config["PGEOCODE_DATA_DIR"] or Path(app.instance_path) / "pgeocode"),
        nominatim_url=app.config["NOMINATIM_URL"],
        photon_url=app.config["PHOTON_URL"],
        user_agent=app.config["GEOCODER_USER_AGENT"],
        timeout_s=app.config["GEOCODER_TIMEOUT_S"],
        min_delay_s=app.config["GEOCODER_MIN_DELAY_S"],
        pause_s=app.config["GEOCODER_PAUSE_S"],
        store=lambda name, geocoder: DatabaseCachedGeocoder(geocoder, name, max_age),
    )


class AddressNotFound(Exception):
    pass


def locate(street: str, postcode: str, city: str) -> Address:
    """The address with coordinates; AddressNotFound or GeocoderUnavailable otherwise."""
    geocoder: Geocoder = current_app.extensions[_KEY]
    found = geocoder.geocode(street.strip(), postcode.strip(), city.strip())
    if found is None:
        raise AddressNotFound(postcode)
    # A server may answer with several postcodes ("39104;39106") or a long place name;
    # what the customer typed is kept then, so the appointment can always be stored.
    found_postcode = found.postcode if found.postcode.isdigit() and len(found.postcode) == 5 else ""
    return Address(
        street=street.strip(),
        postcode=found_postcode or postcode.strip(),
        city=found.city if 0 < len(found.city) <= 120 else city.strip(),
        lat=found.lat,
        lon=found.lon,
        precision=found.precision,
    )


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def in_service_area(business: Business, address: Address) -> bool:
    """Whether the firm comes to this address: within its radius of the depot (straight
    line) or in one of its postcodes. A firm that sets neither serves every address."""
    radius = business.service_radius_km
    postcodes = {code.strip() for code in business.service_postcodes or []}
    if radius is None and not postcodes:
        return True
    if address.postcode in postcodes:
        return True
    return radius is not None and (
        distance_km(business.depot_lat, business.depot_lon, address.lat, address.lon) <= radius
    )


__all__ = ["AddressNotFound", "GeocoderUnavailable", "in_service_area", "locate"]
