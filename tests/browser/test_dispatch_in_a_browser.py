"""The dispatcher's day view in a real browser: the map draws every route without tiles.

Debian's chromium (/usr/bin/chromium, headless) driven by Playwright for Python, against
the app on a real HTTP server with CSRF protection on. The tile server is an address where
nothing listens (MAP_TILE_URL http://127.0.0.1:9/...), as in an offline test run: the
routes are vector layers and must show anyway. The day is tests/booking/test_day_view's
hand-worked Tuesday (two technicians with two stops each, on the line world). Full-page
screenshots go to test-artifacts/browser/dispatch-day.png and dispatch-week.png (or the
folder in KOMBITERMIN_ARTIFACTS).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from booking.extensions import db
from tests.booking.test_day_view import hand_tuesday, line_firm
from tests.browser.test_booking_in_a_browser import ARTIFACTS, CHROMIUM
from tests.conftest import NOW, make_app
from tests.factories import TUESDAY, make_user

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is missing")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM} (.ci/run installs Debian's)"
)

EMAIL, PASSWORD = "dispo@test.example", "secret-123"
NO_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"  # port 9 (discard): nothing answers


@pytest.fixture
def served(tmp_path: Path, geodata_dir: Path) -> Iterator[tuple[str, Flask]]:
    """The app with the hand-worked Tuesday on a real HTTP server: (base URL, app)."""
    config: dict[str, object] = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'browser.db'}",
        "SECRET_KEY": "browser-test-secret",
        "WTF_CSRF_ENABLED": True,
        "GEOCODER": "postcode",
        "GEODATA_DIR": str(geodata_dir),
        "RATELIMIT_ENABLED": False,
        "MAP_TILE_URL": NO_TILES,
        "NOW": lambda: NOW,
        "_instance_path": str(tmp_path / "instance"),
    }
    app = make_app(config)
    with app.app_context():
        upgrade()
        business = line_firm(app)
        make_user(business, EMAIL, PASSWORD)
        hand_tuesday(business)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def page() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="de-DE")
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def test_the_day_view_draws_routes_and_timelines_without_tiles(served, page) -> None:
    """Log in as the dispatcher and open Tuesday: Leaflet draws one line per route (two) and
    a numbered marker per stop (four) plus the depot, although no tile loads; each
    technician has a timeline bar with two numbered service segments; no script error. The
    week overview is linked, and its Tuesday leads back to the day."""
    base, _app = served
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(base + "/login")
    page.locator("input[name=email]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(base + "/dispatch/")

    page.goto(f"{base}/dispatch/?day={TUESDAY.isoformat()}")
    page.wait_for_selector("#routes-map[data-routes-drawn='2']")
    routes = page.locator("#routes-map .leaflet-overlay-pane path.map-route")
    assert routes.count() == 2
    strokes = sorted(routes.nth(n).get_attribute("stroke") or "" for n in range(2))
    assert strokes == ["#2ca02c", "#d62728"]  # Gerd's green, Anna's red
    stops = page.locator("#routes-map .leaflet-marker-pane .map-stop")
    assert sorted(stops.all_inner_texts()) == ["1", "1", "2", "2"]
    assert page.locator("#routes-map .leaflet-marker-pane .map-depot").count() == 1
    tiles = page.locator("#routes-map img.leaflet-tile-loaded")
    assert tiles.count() == 0  # nothing answered on port 9: the routes stand alone

    bars = page.locator("#timeline .tl-row[data-technician] svg.tl-bar")
    assert bars.count() == 2
    for n in range(2):
        labels = bars.nth(n).locator("g.seg-service text").all_text_contents()
        assert labels == ["1", "2"]
        box = bars.nth(n).bounding_box()
        assert box is not None and box["width"] > 500  # the bar spans the page
    assert errors == []

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dispatch-day.png"), full_page=True)

    # The week overview is one click away and leads back to the day.
    page.locator("a.weeklink").click()
    page.wait_for_selector("table.week")
    assert page.locator("table.week tbody tr").count() == 2
    page.screenshot(path=str(ARTIFACTS / "dispatch-week.png"), full_page=True)
    page.locator("table.week thead a").nth(1).click()
    page.wait_for_selector("#routes-map[data-routes-drawn='2']")
    assert errors == []
