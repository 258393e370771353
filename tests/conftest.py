"""App and database fixtures: every database test runs on SQLite and, when
KOMBITERMIN_TEST_POSTGRES_URL names a server, on a fresh PostgreSQL database too."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from booking import create_app
from booking.bench.served import throwaway_database
from booking.extensions import db

POSTGRES_ENV = "KOMBITERMIN_TEST_POSTGRES_URL"

# Monday 23 November 2026, 10:00 in Magdeburg: offers start on Tuesday the 24th.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# A few GeoNames rows of our own (tab-separated, the export's layout) for offline geocoding.
GEONAMES_ROWS = [
    ("39104", "Magdeburg", 52.1243, 11.6322),
    ("39108", "Magdeburg", 52.1286, 11.6064),
    ("39112", "Magdeburg", 52.1094, 11.6039),
    ("39179", "Barleben", 52.2031, 11.6231),
]


@pytest.fixture(scope="session")
def geodata_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("geodata")
    lines = [
        f"DE\t{code}\t{place}\tSachsen-Anhalt\tST\t\t00\t\t15003\t{lat}\t{lon}\t4"
        for code, place, lat, lon in GEONAMES_ROWS
    ]
    (folder / "DE.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
        return
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV}, "
            "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
    with throwaway_database(server, prefix="kombitermin_test") as url:
        yield url


@pytest.fixture(scope="session")
def migrated(
    database_url: str, geodata_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, object]:
    """Config of an app whose database has every migration applied, once per backend."""
    config: dict[str, object] = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "DEMO_MODE": False,
        "GEOCODER": "postcode",
        # Rate limits are off except in the tests about them (tests/booking/test_rate_limits.py).
        "RATELIMIT_ENABLED": False,
        "GEODATA_DIR": str(geodata_dir),
        "SOLVER_TIME_LIMIT_S": 1.0,
        # Background jobs (solver runs, emails) at once: a test sees their effect right
        # after its request. tests/booking/test_background_jobs.py covers the other queues.
        "BACKGROUND_QUEUE": "inline",
        "NOW": lambda: NOW,
        "SERVER_NAME": "localhost",
    }
    config["_instance_path"] = str(tmp_path_factory.mktemp("instance"))
    app = make_app(config)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return config


def make_app(config: dict[str, object]) -> Flask:
    settings = {k: v for k, v in config.items() if k != "_instance_path"}
    return create_app(settings, instance_path=str(config["_instance_path"]))


@pytest.fixture
def app(migrated: dict[str, object]) -> Iterator[Flask]:
    app = make_app(migrated)
    with app.app_context():
        yield app
        empty_every_table()


def empty_every_table() -> None:
    """Roll back, delete every row (children first) and let go of the connections: the
    next test starts from the migrated, empty schema."""
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    db.session.remove()
    db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
