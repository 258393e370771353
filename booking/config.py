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


def _default_geodata_dir() -> str:
    # Beside a checkout, the shared data folder holds GeoNames postcodes for offline use.
    shared = PROJECT_ROOT.parent / "shared" / "geodata"
    return str(shared) if shared.is_dir() else ""


def config_from_env(instance_path: str) -> dict[str, Any]:
    """Flask config keys read from the environment (names in the README)."""
    database_url = os.environ.get("DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "kombitermin.db")
    )
    if database_url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DEMO_MODE": _flag("KOMBITERMIN_DEMO"),
        "GEOCODER": os.environ.get("GEOCODER", "postcode"),
        "NOMINATIM_URL": os.environ.get("NOMINATIM_URL", "https://nominatim.openstreetmap.org"),
        "GEODATA_DIR": os.environ.get("GEODATA_DIR", _default_geodata_dir()),
        "TRAVEL_PROVIDER": os.environ.get("TRAVEL_PROVIDER", "geodesic"),
        "OSRM_URL": os.environ.get("OSRM_URL", "http://127.0.0.1:5001"),
        "OSRM_TIMEOUT_S": float(os.environ.get("OSRM_TIMEOUT_S", "10")),
        "TRAVEL_CIRCUITY": float(os.environ.get("TRAVEL_CIRCUITY", "1.3")),
        "TRAVEL_SPEED_KMH": float(os.environ.get("TRAVEL_SPEED_KMH", "30")),
        "SOLVER_TIME_LIMIT_S": float(os.environ.get("SOLVER_TIME_LIMIT_S", "3")),
        "QUOTE_TTL_S": int(os.environ.get("QUOTE_TTL_S", "900")),
        "SHEET_LINK_TTL_DAYS": int(os.environ.get("SHEET_LINK_TTL_DAYS", "3")),
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Berlin",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": 3600,
    }
