"""The route sheet's overview map and navigation links: the map holds this technician's
route only (start, stops in route order, end), Leaflet's files are public, and every stop
has a Google Maps directions link next to geo: and OSM."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import Business, RouteStop, Technician
from tests.booking.test_day_view import map_json
from tests.booking.test_dispatch import EAST_1, WEST_1, WEST_2, confirm
from tests.booking.test_sheet_pdf import sheet_token
from tests.factories import make_business

H = 3600


def book_both_sides(business: Business) -> dict[int, list[RouteStop]]:
    """Two taps in the west (08-10, 10-12) and a gas boiler service in the east (08-10; only
    Gerd may do gas), and each technician's stops in route order."""
    confirm(business, "tap", WEST_1, "Wilma West")
    confirm(business, "tap", WEST_2, "Walter West", 10 * H)
    confirm(business, "gasboiler", EAST_1, "Otto Ost")
    stops = db.session.scalars(select(RouteStop).order_by(RouteStop.position)).all()
    by_technician: dict[int, list[RouteStop]] = {}
    for stop in stops:
        by_technician.setdefault(stop.technician_id, []).append(stop)
    assert len(by_technician) == 2, "the test needs a route for each technician"
    return by_technician


def test_the_sheet_map_holds_this_technicians_route_only(app: Flask, client: FlaskClient) -> None:
    """Each technician's sheet carries the map JSON with one route: their colour, start and
    end, and exactly their stops numbered 1, 2, ... at the customers' positions in route
    order; the other technician's name and stops are not in it. The tile URL comes from
    MAP_TILE_URL, and the page links Leaflet (public path) and map.js, with no inline JS."""
    business = make_business()
    by_technician = book_both_sides(business)
    app.config["MAP_TILE_URL"] = "http://127.0.0.1:9/{z}/{x}/{y}.png"

    for technician_id, stops in by_technician.items():
        technician = db.session.get(Technician, technician_id)
        assert technician is not None
        html = client.get(f"/sheets/{sheet_token(technician_id)}").get_data(as_text=True)
        data = map_json(html)

        (route,) = data["routes"]
        assert route["technician"] == technician.name
        assert route["color"] == technician.color
        assert route["start"] == [technician.start_lat, technician.start_lon]
        assert route["end"] == [technician.end_lat, technician.end_lon]
        assert [s["number"] for s in route["stops"]] == list(range(1, len(stops) + 1))
        assert [(s["lat"], s["lon"]) for s in route["stops"]] == [
            (s.appointment.lat, s.appointment.lon) for s in stops
        ]
        others = [s for t, rest in by_technician.items() if t != technician_id for s in rest]
        for other in others:
            assert other.appointment.street not in html
            assert other.technician.name not in html
        assert data["tiles"]["url"] == "http://127.0.0.1:9/{z}/{x}/{y}.png"
        assert '<link rel="stylesheet" href="/leaflet/leaflet.css">' in html
        assert '<script src="/leaflet/leaflet.js" defer></script>' in html
        assert '<script src="/static/dispatch/map.js" defer></script>' in html
        assert " on" + "click=" not in html.lower()


def test_a_day_without_jobs_has_no_map(client: FlaskClient) -> None:
    """Nothing planned: the sheet says so and draws no map (no empty map, no Leaflet)."""
    business = make_business()
    html = client.get(f"/sheets/{sheet_token(business.technicians[1].id)}").get_data(as_text=True)
    assert "Noch keine Aufträge." in html
    assert 'id="routes-map"' not in html and "leaflet.js" not in html


def test_leaflet_files_are_public_and_hold_only_the_library(client: FlaskClient) -> None:
    """Without any login or token, /leaflet/ serves Leaflet's script, stylesheet and marker
    image from the package; a path out of its folder or to app code is a 404."""
    make_business()

    def fetch(name: str) -> tuple[int, bytes]:
        with client.get(f"/leaflet/{name}") as response:  # streamed: close the file
            return response.status_code, response.get_data()

    status, script = fetch("leaflet.js")
    assert status == 200 and b"Leaflet" in script[:500]
    status, style = fetch("leaflet.css")
    assert status == 200 and b".leaflet-container" in style
    assert fetch("images/marker-icon.png")[0] == 200
    for outside in ("../__init__.py", "../../booking/config.py", "%2e%2e/__init__.py", "none.js"):
        assert fetch(outside)[0] == 404


def test_every_stop_links_google_maps_directions(client: FlaskClient) -> None:
    """Each stop's address has geo:, OSM and a Google Maps directions link to its position."""
    business = make_business()
    by_technician = book_both_sides(business)
    technician_id, stops = next(iter(by_technician.items()))
    html = client.get(f"/sheets/{sheet_token(technician_id)}").get_data(as_text=True)
    for stop in stops:
        a = stop.appointment
        assert f'href="geo:{a.lat},{a.lon}"' in html
        assert f"https://www.openstreetmap.org/?mlat={a.lat}&amp;mlon={a.lon}" in html
        assert (
            f'<a href="https://www.google.com/maps/dir/?api=1&amp;destination={a.lat},{a.lon}"'
            ' class="gmaps">Google Maps</a>'
        ) in html
    assert html.count('class="gmaps"') == len(stops)
