"""The data the route map draws (static/dispatch/map.js): the depot and routes from their
start through the numbered stops back to their end. One builder for the dispatcher's day
view (every technician) and the route sheet (one technician), so both maps agree."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from booking.models import Business
from booking.services.boards import TechnicianDay
from booking.services.clock import hhmm


def map_data(business: Business, board: Iterable[TechnicianDay]) -> dict[str, Any]:
    """The depot and each route of `board` with stops, in the technician's colour. Plain
    JSON for the page; the script puts every text in as text, never as HTML. Only what is
    in `board` goes in: the route sheet passes its own technician's entry alone."""
    routes = []
    for entry in board:
        if not entry.stops:
            continue
        tech = entry.technician
        routes.append(
            {
                "technician": tech.name,
                "color": tech.color,
                "start": [tech.start_lat, tech.start_lon],
                "end": [tech.end_lat, tech.end_lon],
                "stops": [
                    {
                        "number": number,
                        "lat": stop.appointment.lat,
                        "lon": stop.appointment.lon,
                        "pinned": stop.pinned,
                        "label": (
                            f"{number}. {tech.name} {hhmm(stop.planned_start_s)}: "
                            f"{stop.appointment.street}, {stop.appointment.city}"
                        ),
                    }
                    for number, stop in enumerate(entry.stops, start=1)
                ],
            }
        )
    return {
        "depot": {
            "lat": business.depot_lat,
            "lon": business.depot_lon,
            "label": _("Depot") + ": " + business.address,
        },
        "tiles": {
            "url": current_app.config.get("MAP_TILE_URL", ""),
            "attribution": current_app.config.get("MAP_TILE_ATTRIBUTION", ""),
        },
        "routes": routes,
    }
