"""A technician works through the route sheet on a phone: in a real browser, CSRF on.

Debian's chromium (/usr/bin/chromium, headless) driven by Playwright for Python, against
the app on a real HTTP server, at 390×844 (a phone). Anna's day: Wilma West (Westring 1,
window 08-10, 841 s from the depot) then Walter West (Westring 9, 41 s further, window
10-12). She taps "Angekommen" and "Erledigt" at Wilma's; Walter's expected arrival moves
from the planned 09:14 to 09:40. The sheet's map draws her route (one line, markers 1 and
2) with tiles pointed at a port where nothing listens, as offline. Screenshot:
test-artifacts/browser/route-sheet-phone.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from booking.services.sheets import SheetLink, sign_sheet
from tests.booking.test_dispatch import WEST_1, WEST_2, confirm
from tests.browser.support import CHROMIUM, SECRET, browser_config, browser_page, serving, shot
from tests.conftest import NOW
from tests.factories import TUESDAY, make_business

H = 3600
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is missing")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM}")


class Clock:
    """The app's NOW, moved by the test while the server runs."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def served(tmp_path: Path, geodata_dir: Path) -> Iterator[tuple[str, str, Clock, list[int]]]:
    """The app on a real HTTP server: (base URL, Anna's sheet token, clock, [Wilma's id,
    Walter's id]), booked on Monday."""
    clock = Clock(NOW)
    config = browser_config(
        tmp_path,
        geodata_dir,
        MAILER="outbox",
        MAIL_OUTBOX=str(tmp_path / "outbox"),
        NOW=clock,
        SERVER_NAME=None,
    )

    def setup(_app: Flask) -> tuple[str, list[int]]:
        business = make_business()
        wilma = confirm(business, "tap", WEST_1, "Wilma West")
        walter = confirm(business, "tap", WEST_2, "Walter West", 10 * H)
        anna = business.technicians[0]
        token = sign_sheet(SheetLink(anna.id, TUESDAY, anna.sheet_key), SECRET)
        return token, [wilma.id, walter.id]

    with serving(config, setup) as (base, _app, (token, ids)):
        yield base, token, clock, ids


@pytest.fixture
def phone() -> Iterator[object]:
    phone_screen = {"width": 390, "height": 844}
    options = {"device_scale_factor": 2, "is_mobile": True, "has_touch": True}
    with browser_page(sync_api, viewport=phone_screen, **options) as page:
        yield page


def test_a_technician_reports_progress_from_the_phone(served, phone) -> None:
    """Arrived at 08:30 and done at 09:40 at Wilma's: Walter's expected arrival goes from
    09:14 (planned) to 09:30 and then to 09:40 (09:40 + 41 s)."""
    base, token, clock, (wilma, walter) = served
    page = phone
    clock.moment = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)  # Tuesday 08:30 in Magdeburg
    page.goto(f"{base}/sheets/{token}")  # type: ignore[attr-defined]
    walter_eta = page.locator(f"#stop-{walter} .eta")  # type: ignore[attr-defined]
    assert walter_eta.inner_text() == "voraussichtlich 09:14"

    # The day's map: Anna's route as one line through stops 1 and 2, drawn without tiles.
    page.wait_for_selector("#routes-map[data-routes-drawn='1']")  # type: ignore[attr-defined]
    route = page.locator("#routes-map .leaflet-overlay-pane path.map-route")  # type: ignore[attr-defined]
    assert route.count() == 1
    assert len(route.get_attribute("d") or "") > 10  # a drawn line, not an empty path
    stops = page.locator("#routes-map .leaflet-marker-pane .map-stop")  # type: ignore[attr-defined]
    assert stops.all_inner_texts() == ["1", "2"]
    assert page.locator("#routes-map img.leaflet-tile-loaded").count() == 0  # type: ignore[attr-defined]

    page.locator(f"#stop-{wilma} button", has_text="Angekommen").tap()  # type: ignore[attr-defined]
    page.wait_for_selector(".flash.success")  # type: ignore[attr-defined]
    assert "angekommen 08:30" in page.locator(f"#stop-{wilma} .progress").inner_text()  # type: ignore[attr-defined]
    assert walter_eta.inner_text() == "voraussichtlich 09:30"

    clock.moment = datetime(2026, 11, 24, 8, 40, tzinfo=UTC)  # 09:40
    page.locator(f"#stop-{wilma} button", has_text="Erledigt").tap()  # type: ignore[attr-defined]
    page.wait_for_selector(f"#stop-{wilma}.progress-done")  # type: ignore[attr-defined]
    assert page.locator(".flash.success").inner_text() == "Erledigt: gespeichert um 09:40."  # type: ignore[attr-defined]
    assert walter_eta.inner_text() == "voraussichtlich 09:40"
    assert page.locator(f"#stop-{wilma} button").count() == 0  # type: ignore[attr-defined]
    # Phone-first: nothing wider than the screen.
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 390

    shot(page, "route-sheet-phone")
