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

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.booking.test_day_view import hand_tuesday, line_firm
from tests.browser.support import CHROMIUM, browser_config, browser_page, serving, shot
from tests.conftest import NOW
from tests.factories import TUESDAY, make_user

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is missing")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM} (.ci/run installs Debian's)"
)

EMAIL, PASSWORD = "dispo@test.example", "secret-123"


@pytest.fixture
def served(tmp_path: Path, geodata_dir: Path) -> Iterator[tuple[str, Flask]]:
    """The app with the hand-worked Tuesday on a real HTTP server: (base URL, app)."""

    def setup(app: Flask) -> None:
        business = line_firm(app)
        make_user(business, EMAIL, PASSWORD)
        hand_tuesday(business)

    with serving(browser_config(tmp_path, geodata_dir, NOW=lambda: NOW), setup) as served:
        base, app, _ = served
        yield base, app


@pytest.fixture
def page() -> Iterator[object]:
    with browser_page(sync_api, viewport={"width": 1200, "height": 900}) as page:
        yield page


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

    shot(page, "dispatch-day")

    # The week overview is one click away and leads back to the day.
    page.locator("a.weeklink").click()
    page.wait_for_selector("table.week")
    assert page.locator("table.week tbody tr").count() == 2
    shot(page, "dispatch-week")
    page.locator("table.week thead a").nth(1).click()
    page.wait_for_selector("#routes-map[data-routes-drawn='2']")
    assert errors == []
