"""The app's one travel-time memo, shared by offers, bookings and plans."""

from __future__ import annotations

from flask import Flask, current_app

from optimizer.travel import GeodesicTravelTime, TravelTimes

_KEY = "kombitermin.travel"


def init_travel(app: Flask) -> None:
    provider = GeodesicTravelTime(
        circuity=app.config["TRAVEL_CIRCUITY"], speed_kmh=app.config["TRAVEL_SPEED_KMH"]
    )
    app.extensions[_KEY] = TravelTimes(provider)


def travel_times() -> TravelTimes:
    travel: TravelTimes = current_app.extensions[_KEY]
    return travel
