"""Fixtures of the booking tests: local geocoding servers (see `geoservers`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.booking.geoservers import FakeServer, photon_answer, serve


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
