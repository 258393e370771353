"""Local HTTP servers that answer like a geocoding server (Nominatim's /search, Photon's
/api), so the tests never reach the internet; they record every request."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class FakeServer:
    """What the server answers (status, JSON body, delay) and every request it got:
    (path, query parameters, User-Agent)."""

    url: str
    status: int = 200
    body: Any = field(default_factory=list)
    delay_s: float = 0.0
    requests: list[tuple[str, dict[str, list[str]], str]] = field(default_factory=list)


@contextmanager
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    # A proxy configured in the environment must not intercept calls to 127.0.0.1.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    state: FakeServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            state.requests.append((parts.path, parse_qs(parts.query), self.headers["User-Agent"]))
            time.sleep(state.delay_s)
            payload = json.dumps(state.body).encode()
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the timeout test's client has hung up already, as intended

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = FakeServer(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def photon_feature(
    lat: float, lon: float, countrycode: str = "DE", **properties: Any
) -> dict[str, Any]:
    """One GeoJSON feature as Photon returns it; `properties` as Photon names them
    (housenumber, street, postcode, city, type, name, osm_key, ...)."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"osm_type": "N", "osm_id": 1, "countrycode": countrycode, **properties},
    }


def photon_answer(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


BREITER_WEG_10_PHOTON = photon_feature(
    52.1271,
    11.6351,
    osm_key="building",
    osm_value="yes",
    type="house",
    housenumber="10",
    street="Breiter Weg",
    postcode="39104",
    city="Magdeburg",
    district="Altstadt",
    state="Sachsen-Anhalt",
    country="Deutschland",
)
