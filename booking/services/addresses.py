"""Turning a customer's address into coordinates with the configured geocoder."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from booking.services.geocoding import Geocoder, GeocoderUnavailable, build_geocoder
from booking.services.offering import Address

_KEY = "kombitermin.geocoder"


def init_geocoder(app: Flask) -> None:
    source = app.config["GEODATA_DIR"]
    app.extensions[_KEY] = build_geocoder(
        app.config["GEOCODER"],
        source_dir=Path(source) if source else None,
        cache_dir=Path(app.instance_path) / "pgeocode",
        nominatim_url=app.config["NOMINATIM_URL"],
        user_agent="KombiTermin/0.1",
    )


class AddressNotFound(Exception):
    pass


def locate(street: str, postcode: str, city: str) -> Address:
    """The address with coordinates; AddressNotFound or GeocoderUnavailable otherwise."""
    geocoder: Geocoder = current_app.extensions[_KEY]
    found = geocoder.geocode(street.strip(), postcode.strip(), city.strip())
    if found is None:
        raise AddressNotFound(postcode)
    return Address(
        street=street.strip(),
        postcode=found.postcode,
        city=found.city,
        lat=found.lat,
        lon=found.lon,
        precision=found.precision,
    )


__all__ = ["AddressNotFound", "GeocoderUnavailable", "locate"]
