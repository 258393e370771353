"""Fixtures of the booking tests: local geocoding servers (see `geoservers`) and a mail
outbox (read it with `mailbox`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from booking.services.mail import init_mailer
from tests.booking.geoservers import FakeServer, photon_answer, serve


@pytest.fixture
def outbox(app: Flask, tmp_path: Path) -> Path:
    """A fresh outbox folder for this test's mails (the default mailer, MAILER=outbox)."""
    folder = tmp_path / "outbox"
    app.config.update(MAILER="outbox", MAIL_OUTBOX=str(folder))
    init_mailer(app)
    return folder


@pytest.fixture
def nominatim_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    """Answers like Nominatim's /search: a JSON list of places (set `body`)."""
    with serve(monkeypatch) as server:
        yield server


@pytest.fixture
def photon_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    """Answers like Photon's /api: a GeoJSON FeatureCollection (set `body`)."""
    with serve(monkeypatch) as server:
        server.body = photon_answer()
        yield server
