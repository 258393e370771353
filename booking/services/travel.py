"""The app's one travel-time memo, shared by offers, bookings and plans."""

from __future__ import annotations

from flask import Flask, current_app

from optimizer.osrm import OsrmTravelTime
from optimizer.travel import GeodesicTravelTime, TravelTimeProvider, TravelTimes

_KEY = "kombitermin.travel"


def init_travel(app: Flask) -> None:
    """Geodesic estimates by default; road times from an OSRM server when configured."""
    kind = app.config["TRAVEL_PROVIDER"]
    provider: TravelTimeProvider
    if kind == "geodesic":
        provider = GeodesicTravelTime(
            circuity=app.config["TRAVEL_CIRCUITY"], speed_kmh=app.config["TRAVEL_SPEED_KMH"]
        )
    elif kind == "osrm":
        provider = OsrmTravelTime(app.config["OSRM_URL"], timeout_s=app.config["OSRM_TIMEOUT_S"])
    else:
        raise ValueError(f"TRAVEL_PROVIDER must be 'geodesic' or 'osrm', got {kind!r}")
    app.extensions[_KEY] = TravelTimes(provider)


def travel_times() -> TravelTimes:
    travel: TravelTimes = current_app.extensions[_KEY]
    return travel
