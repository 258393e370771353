"""Configuration from environment variables; every setting has a working embedded default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEFAULT_SECRET_KEY = "dev-only-change-me"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _optional_float(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    return float(value) if value else None


def _default_geodata_dir() -> str:
    # Beside a checkout, the shared data folder holds GeoNames postcodes for offline use.
    shared = PROJECT_ROOT.parent / "shared" / "geodata"
    return str(shared) if shared.is_dir() else ""


def config_from_env(instance_path: str) -> dict[str, Any]:
    """Flask config keys read from the environment (names in the README)."""
    demo = _flag("KOMBITERMIN_DEMO")
    # Secure cookies travel only over https; `make run` (demo mode) and `flask run --debug`
    # serve plain http on 127.0.0.1, where the login would silently never stick.
    secure_cookies = _flag("SESSION_COOKIE_SECURE", default=not (demo or _flag("FLASK_DEBUG")))
    database_url = os.environ.get("DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "kombitermin.db")
    )
    if database_url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    redis_url = os.environ.get("REDIS_URL", "").strip()
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A pooled connection the server has ended meanwhile (a restart, a failover, an idle
        # timeout) is replaced at checkout instead of failing the next request.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "DEMO_MODE": demo,
        # Slug of the business that answers on a host name no business has (booking.tenancy)
        "DEFAULT_BUSINESS": os.environ.get("DEFAULT_BUSINESS", "").strip(),
        "GEOCODER": os.environ.get("GEOCODER", "postcode"),
        "NOMINATIM_URL": os.environ.get("NOMINATIM_URL", "https://nominatim.openstreetmap.org"),
        "GEODATA_DIR": os.environ.get("GEODATA_DIR", _default_geodata_dir()),
        # pgeocode's own data folder (its DE.txt); empty: <instance>/pgeocode
        "PGEOCODE_DATA_DIR": os.environ.get("PGEOCODE_DATA_DIR", ""),
        "PHOTON_URL": os.environ.get("PHOTON_URL", "https://photon.komoot.io"),
        "GEOCODER_USER_AGENT": os.environ.get("GEOCODER_USER_AGENT", "KombiTermin/0.1"),
        "GEOCODER_TIMEOUT_S": float(os.environ.get("GEOCODER_TIMEOUT_S", "5")),
        "GEOCODER_MIN_DELAY_S": float(os.environ.get("GEOCODER_MIN_DELAY_S", "1")),
        "GEOCODER_PAUSE_S": float(os.environ.get("GEOCODER_PAUSE_S", "30")),
        # Empty: cached addresses never expire (unknown ones are asked again after a day).
        "GEOCODER_CACHE_MAX_AGE_DAYS": _optional_float("GEOCODER_CACHE_MAX_AGE_DAYS"),
        # Flask-Limiter reads the RATELIMIT_* keys it knows; SEARCH and BOOKING are ours.
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", default=True),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_SEARCH": os.environ.get("RATELIMIT_SEARCH", "30 per minute"),
        "RATELIMIT_BOOKING": os.environ.get("RATELIMIT_BOOKING", "10 per minute"),
        # Retry-After is set on the 429 answer itself (booking.ratelimits), in agreement
        # with the wait its message names.
        "RATELIMIT_HEADERS_ENABLED": False,
        # How many reverse proxies in front set X-Forwarded-For (0: none, the peer is the client)
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "TRAVEL_PROVIDER": os.environ.get("TRAVEL_PROVIDER", "geodesic"),
        "OSRM_URL": os.environ.get("OSRM_URL", "http://127.0.0.1:5001"),
        "OSRM_TIMEOUT_S": float(os.environ.get("OSRM_TIMEOUT_S", "10")),
        "TRAVEL_CIRCUITY": float(os.environ.get("TRAVEL_CIRCUITY", "1.3")),
        "TRAVEL_SPEED_KMH": float(os.environ.get("TRAVEL_SPEED_KMH", "30")),
        "SOLVER_TIME_LIMIT_S": float(os.environ.get("SOLVER_TIME_LIMIT_S", "3")),
        # Background jobs (solver runs, emails, notices) go to RQ workers when Redis is there
        "REDIS_URL": redis_url,
        # "rq" (workers on Redis), "thread" (in this process) or "inline" (at once)
        "BACKGROUND_QUEUE": os.environ.get("BACKGROUND_QUEUE", "rq" if redis_url else "thread"),
        # The RQ queue's name: deployments that share one Redis need one each
        "RQ_QUEUE": os.environ.get("RQ_QUEUE", "kombitermin"),
        # A job running longer is stopped and retried; a dead worker's job is retried after it
        "RQ_JOB_TIMEOUT_S": int(os.environ.get("RQ_JOB_TIMEOUT_S", "120")),
        "QUOTE_TTL_S": int(os.environ.get("QUOTE_TTL_S", "900")),
        "SHEET_LINK_TTL_DAYS": int(os.environ.get("SHEET_LINK_TTL_DAYS", "3")),
        "MAILER": os.environ.get("MAILER", "outbox"),
        "MAIL_OUTBOX": os.environ.get("MAIL_OUTBOX") or str(Path(instance_path) / "outbox"),
        # Empty: the business's own name and address are the sender.
        "MAIL_FROM": os.environ.get("MAIL_FROM", ""),
        "SMTP_HOST": os.environ.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "587")),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _flag("SMTP_STARTTLS", default=True),
        "SMTP_TIMEOUT_S": float(os.environ.get("SMTP_TIMEOUT_S", "10")),
        # Text messages ("technician on the way"): "none" logs that one was skipped
        "SMS_GATEWAY": os.environ.get("SMS_GATEWAY", "none"),
        # The dispatcher map's background; empty: no tiles, the routes alone (offline)
        "MAP_TILE_URL": os.environ.get(
            "MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
        ),
        "MAP_TILE_ATTRIBUTION": os.environ.get(
            "MAP_TILE_ATTRIBUTION",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
        ),
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Berlin",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "WTF_CSRF_TIME_LIMIT": 3600,
    }
