"""Security headers on every answer, and the refusal to run in production with the
development secret key.

Why each header is what it is:

- Content-Security-Policy: scripts only from our own origin, no inline script (the route
  map reads its data from a `<script type="application/json">` block, which is data and
  never executed). Styles allow 'unsafe-inline' because templates colour the technicians'
  swatches with `style="…"` attributes and Leaflet positions its panes and markers with
  inline styles; a style cannot run code. Images from our origin, `data:` (Leaflet) and the
  host of MAP_TILE_URL. No framing, no foreign form targets, no `<base>` elsewhere.
- Referrer-Policy strict-origin-when-cross-origin: manage links (/appointment/<token>) and
  route sheets (/sheets/<token>) carry secrets in their path, but this policy sends other
  sites only our origin, never the path, and nothing at all from https to http. Only our
  own server sees full referrers, and it knows the tokens anyway. `no-referrer` would not
  protect more, yet the tile servers' usage policies ask for a referrer (OpenStreetMap
  blocks anonymous bulk requests), so the sheet's map would lose its tiles.
- Permissions-Policy: no page uses geolocation, camera, microphone or payment (the route
  sheet links to the phone's navigation app instead of locating the phone itself).
- Strict-Transport-Security only when cookies are Secure: then the site is served over
  https; demo mode and `--debug` serve plain http on 127.0.0.1.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from flask import Flask, Response

from booking.config import DEFAULT_SECRET_KEY

HSTS = "max-age=31536000"
PERMISSIONS_POLICY = "geolocation=(), camera=(), microphone=(), payment=(), usb=()"


class InsecureConfiguration(RuntimeError):
    """The app would run in production with a setting that gives it away."""


def is_production(app: Flask) -> bool:
    """Production is everything that is not demo mode, debug mode or a test run."""
    return not (app.config.get("DEMO_MODE") or app.debug or app.testing)


def refuse_default_secret_key(app: Flask) -> None:
    """Anyone who knows the development key could forge quotes, route-sheet links, feed
    links and dispatcher sessions: in production it must be the operator's own."""
    key = app.config.get("SECRET_KEY")
    if is_production(app) and (not key or key == DEFAULT_SECRET_KEY):
        raise InsecureConfiguration(
            "SECRET_KEY is not set (or is the development key): KombiTermin refuses to run "
            "in production with the built-in development key, because anyone could forge "
            "its signed links and logins with it. Set SECRET_KEY to a long random value, "
            "the same for every process, e.g. "
            "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))'). "
            "For a local try-out, demo mode (KOMBITERMIN_DEMO=1, as `make run` does) or "
            "FLASK_DEBUG=1 run with the development key."
        )


def tile_source(tile_url: str) -> str | None:
    """The CSP source of a tile URL template: its scheme and host ("{s}" subdomains become
    a wildcard), or None when there are no tiles or the template names no host."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    host = parts.netloc
    if host.startswith("{s}."):  # Leaflet's subdomains a, b, c
        host = "*." + host.removeprefix("{s}.")
    if parts.scheme not in ("http", "https") or not host or "{" in host:
        return None
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_url: str) -> str:
    images = ["'self'", "data:"]
    tiles = tile_source(tile_url)
    if tiles:
        images.append(tiles)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # 'unsafe-inline' for styles only: swatch colours and Leaflet's layout (see above)
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": images,
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def security_headers(app: Flask) -> dict[str, str]:
    """The headers every answer of this app carries."""
    headers = {
        "Content-Security-Policy": content_security_policy(app.config.get("MAP_TILE_URL", "")),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
    }
    if app.config.get("SESSION_COOKIE_SECURE"):
        headers["Strict-Transport-Security"] = HSTS
    return headers


# Paths whose last part is a secret: manage links, route sheets and their feeds.
TOKEN_PATH = re.compile(r"/(appointment|api/v1/appointments|sheets/feed|sheets)/[^/\s?\"]+")
# Libraries that write request URLs (the address asked for) at DEBUG: geopy and urllib3.
URL_LOGGERS = ("geopy", "urllib3.connectionpool")


class RedactTokens(logging.Filter):
    """Replace the token in a logged request path with "…" (the development server logs
    every request line, e.g. `GET /appointment/<token>`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/…", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def keep_personal_data_out_of_logs() -> None:
    """Our own code logs ids and error classes only; this stops the libraries. Logger
    levels and filters are per process, so this is idempotent."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET (0) included: it would inherit DEBUG
            logger.setLevel(logging.INFO)
    requests_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactTokens) for f in requests_log.filters):
        requests_log.addFilter(RedactTokens())


def init_security(app: Flask) -> None:
    refuse_default_secret_key(app)
    keep_personal_data_out_of_logs()
    headers = security_headers(app)  # fixed per app: computed once

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
