"""What every browser test needs: the app on a real HTTP server, and a headless chromium.

Debian's chromium (/usr/bin/chromium) driven by Playwright for Python; `.ci/run` installs
chromium where it is missing, and the tests skip with the reason where it or Playwright is
absent. Screenshots go to test-artifacts/browser/ (or the folder in KOMBITERMIN_ARTIFACTS).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from booking.extensions import db
from tests.conftest import make_app

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("KOMBITERMIN_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
SECRET = "browser-test-secret"
NO_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"  # port 9 (discard): nothing answers


def browser_config(tmp_path: Path, geodata_dir: Path, **settings: object) -> dict[str, object]:
    """An app on its own SQLite file with CSRF on, offline geocoding and no rate limits;
    `settings` add to or override that."""
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'browser.db'}",
        "SECRET_KEY": SECRET,
        "WTF_CSRF_ENABLED": True,
        "GEOCODER": "postcode",
        "GEODATA_DIR": str(geodata_dir),
        "RATELIMIT_ENABLED": False,
        "SOLVER_TIME_LIMIT_S": 1.0,
        # Emails at once, so the outbox holds them when the page has loaded.
        "BACKGROUND_QUEUE": "inline",
        "MAP_TILE_URL": NO_TILES,
        "_instance_path": str(tmp_path / "instance"),
        **settings,
    }


@contextmanager
def serving(
    config: dict[str, object], setup: Callable[[Flask], Any]
) -> Iterator[tuple[str, Flask, Any]]:
    """The migrated app with `setup(app)`'s data on a real HTTP server on a free port:
    (base URL, app, what `setup` returned)."""
    app = make_app(config)
    with app.app_context():
        upgrade()
        made = setup(app)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app, made
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


@contextmanager
def browser_page(sync_api: Any, **context_options: Any) -> Iterator[Any]:
    """A page of a fresh headless chromium context (German locale unless told otherwise)."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(**{"locale": "de-DE", **context_options})
        try:
            page = context.new_page()
            # Chromium reports what the Content-Security-Policy (booking/security.py)
            # blocked on the console: every browser test fails on such a report.
            blocked: list[str] = []
            page.on("console", lambda m: blocked.append(m.text) if _csp_report(m.text) else None)
            yield page
            assert blocked == [], blocked
        finally:
            context.close()
            browser.close()


def _csp_report(text: str) -> bool:
    return "Content Security Policy" in text


def shot(page: Any, name: str) -> None:
    """A full-page screenshot as test-artifacts/browser/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
