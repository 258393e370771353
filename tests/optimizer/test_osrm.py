"""Tests for optimizer.osrm against a real local HTTP server speaking OSRM's table format.

The fake server's road rule, checkable by hand: 1000 m per 0.01° of longitude difference
plus 2000 m per 0.01° of latitude difference (so swapping lon and lat changes the answer),
driven at 10 m/s: seconds = metres / 10.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from optimizer.domain import Location
from optimizer.osrm import OsrmError, OsrmTravelTime
from optimizer.travel import ZERO_LEG, Leg, TravelTimes

A = Location(52.12, 11.60)
B = Location(52.12, 11.61)  # A→B: 0.01° lon = 1000 m, 100 s
C = Location(52.12, 11.63)  # A→C: 0.03° lon = 3000 m, 300 s
D = Location(52.13, 11.60)  # A→D: 0.01° lat = 2000 m, 200 s
E = Location(52.14, 11.64)  # A→E: 0.04° lon + 0.02° lat = 4000 + 4000 = 8000 m, 800 s


def rule_meters(a: Location, b: Location) -> float:
    return abs(a.lon - b.lon) * 100_000 + abs(a.lat - b.lat) * 200_000


def rule_leg(a: Location, b: Location) -> Leg:
    meters = rule_meters(a, b)
    return Leg(seconds=round(meters / 10), meters=round(meters))


# --- the fake OSRM server ----------------------------------------------------------------


@dataclass
class FakeOsrm:
    """What the fake server was asked, and how it should answer next."""

    url: str
    mode: str = "ok"
    unreachable: tuple[int, int] | None = None  # (source index, destination index) → null
    drops_left: int = 0
    requests: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def paths(self) -> list[str]:
        return [urllib.parse.urlsplit(r).path for r in self.requests]

    def coordinate_counts(self) -> list[int]:
        return [len(p.rsplit("/", 1)[1].split(";")) for p in self.paths()]


def _indices(param: list[str] | None, n: int) -> list[int]:
    if not param or param[0] == "all":
        return list(range(n))
    return [int(i) for i in param[0].split(";")]


def _table(fake: FakeOsrm, path: str, query: dict[str, list[str]]) -> tuple[int, object]:
    """OSRM's answer to /[prefix]/table/v1/driving/{lon,lat;...}, by the rule above."""
    head, _, coords = path.rpartition("/")
    if not head.endswith("/table/v1/driving"):
        return 400, {"code": "InvalidUrl", "message": f"URL string malformed: {path}"}
    points = []
    for pair in coords.split(";"):
        lon, lat = (float(x) for x in pair.split(","))
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return 400, {"code": "InvalidValue", "message": "Invalid coordinate value."}
        points.append(Location(lat, lon))
    sources = _indices(query.get("sources"), len(points))
    destinations = _indices(query.get("destinations"), len(points))
    annotations = query.get("annotations", ["duration"])[0].split(",")
    distances: list[list[float | None]] = [
        [rule_meters(points[s], points[d]) for d in destinations] for s in sources
    ]
    durations: list[list[float | None]] = [[m / 10 for m in row] for row in distances]
    if fake.unreachable is not None:
        i, j = fake.unreachable
        durations[i][j] = distances[i][j] = None
    if fake.mode == "fractions":
        durations = [[12.4 for _ in row] for row in durations]
        distances = [[99.6 for _ in row] for row in distances]

    def waypoint(k: int) -> dict[str, object]:
        return {"hint": "", "distance": 0.0, "name": "", "location": [points[k].lon, points[k].lat]}

    answer: dict[str, object] = {
        "code": "Ok",
        "sources": [waypoint(k) for k in sources],
        "destinations": [waypoint(k) for k in destinations],
    }
    if "duration" in annotations:
        answer["durations"] = durations
    if "distance" in annotations:
        answer["distances"] = distances
    return 200, answer


def make_handler(fake: FakeOsrm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            fake.requests.append(self.path)
            if fake.drops_left > 0:
                fake.drops_left -= 1
                self.close_connection = True
                return  # close without a byte of answer
            if fake.mode == "slow":
                fake.release.wait(timeout=5)
            parts = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(parts.query)
            if fake.mode == "http500":
                self._send(500, b"Internal Server Error", "text/plain")
            elif fake.mode == "invalid_query":
                self._send_json(
                    400,
                    {
                        "code": "InvalidQuery",
                        "message": "Query string malformed close to position 7",
                    },
                )
            elif fake.mode == "malformed":
                self._send(200, b'{"code": "Ok", "durations": [[1', "application/json")
            elif fake.mode == "no_distances":
                self._send_json(200, {"code": "Ok", "durations": [[100.0]]})
            else:
                self._send_json(*_table(fake, parts.path, query))

        def _send_json(self, status: int, answer: object) -> None:
            self._send(status, json.dumps(answer).encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

    return Handler


class QuietServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every handler thread
    block_on_close = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variable of the environment may redirect requests to 127.0.0.1."""
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    fake = FakeOsrm(url="")
    server = QuietServer(("127.0.0.1", 0), make_handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- answers -----------------------------------------------------------------------------


def test_rule_numbers_by_hand():
    """The fake rule gives the numbers stated at the top (sanity of the test points)."""
    assert rule_leg(A, B) == Leg(100, 1000)
    assert rule_leg(A, C) == Leg(300, 3000)
    assert rule_leg(A, D) == Leg(200, 2000)
    assert rule_leg(A, E) == Leg(800, 8000)
    assert rule_leg(B, D) == Leg(300, 3000)  # 0.01° lon + 0.01° lat


def test_two_by_three_matrix_has_the_exact_legs(osrm: FakeOsrm):
    """Origins A, B × destinations B, C, D: the legs of the rule, B→B zero, one request."""
    rows = OsrmTravelTime(osrm.url).matrix([A, B], [B, C, D])
    assert rows == [
        [Leg(100, 1000), Leg(300, 3000), Leg(200, 2000)],
        [ZERO_LEG, Leg(200, 2000), Leg(300, 3000)],
    ]
    assert len(osrm.requests) == 1


def test_url_is_lon_lat_with_six_decimals_and_the_query(osrm: FakeOsrm):
    """The request sends lon,lat pairs once each, sources, destinations and annotations."""
    OsrmTravelTime(osrm.url).matrix([A, B], [B, C, D])
    assert osrm.requests == [
        "/table/v1/driving/"
        "11.600000,52.120000;11.610000,52.120000;11.630000,52.120000;11.600000,52.130000"
        "?sources=0;1&destinations=1;2;3&annotations=duration,distance"
    ]


def test_fractional_values_round_to_whole_seconds_and_metres(osrm: FakeOsrm):
    """12.4 s and 99.6 m from the server become Leg(12, 100)."""
    osrm.mode = "fractions"
    assert OsrmTravelTime(osrm.url).matrix([A], [B]) == [[Leg(12, 100)]]


def test_repeated_locations_are_asked_once_and_answered_in_order(osrm: FakeOsrm):
    """Duplicates in the question are sent once and every asked row and column is filled."""
    rows = OsrmTravelTime(osrm.url).matrix([A, C, A], [B, B])
    assert rows == [[Leg(100, 1000)] * 2, [Leg(200, 2000)] * 2, [Leg(100, 1000)] * 2]
    assert osrm.coordinate_counts() == [3]


def test_blocking_keeps_every_request_within_the_limit(osrm: FakeOsrm):
    """5×5 with at most 4 locations per request takes several requests and the same legs."""
    points = [A, B, C, D, E]
    whole = OsrmTravelTime(osrm.url).matrix(points, points)
    assert len(osrm.requests) == 1 and osrm.coordinate_counts() == [5]
    osrm.requests.clear()
    blocked = OsrmTravelTime(osrm.url, max_locations_per_request=4).matrix(points, points)
    assert blocked == whole
    assert blocked == [[rule_leg(a, b) for b in points] for a in points]
    assert len(osrm.requests) > 1
    assert max(osrm.coordinate_counts()) <= 4


def test_blocking_of_a_wide_matrix_with_the_smallest_limit(osrm: FakeOsrm):
    """With 2 locations per request, 2×3 distinct legs take 6 one-by-one requests."""
    rows = OsrmTravelTime(osrm.url, max_locations_per_request=2).matrix([A, D], [B, C, E])
    assert rows == [[rule_leg(a, b) for b in [B, C, E]] for a in [A, D]]
    assert osrm.coordinate_counts() == [2] * 6


def test_same_location_is_a_zero_leg_without_a_request(osrm: FakeOsrm):
    """A→A (and an empty question) is answered without asking the server."""
    provider = OsrmTravelTime(osrm.url)
    assert provider.matrix([A], [A]) == [[ZERO_LEG]]
    assert provider.matrix([A, A], [A]) == [[ZERO_LEG], [ZERO_LEG]]
    assert provider.matrix([], [A]) == []
    assert provider.matrix([A], []) == [[]]
    assert osrm.requests == []


def test_travel_times_asks_the_server_once_for_a_repeated_leg(osrm: FakeOsrm):
    """TravelTimes in front of the provider remembers A→B after the first request."""
    travel = TravelTimes(OsrmTravelTime(osrm.url))
    assert travel.leg(A, B) == Leg(100, 1000)
    assert travel.leg(A, B) == Leg(100, 1000)
    assert travel.seconds(A, B) == 100
    assert len(osrm.requests) == 1


def test_base_url_with_path_prefix_and_trailing_slash(osrm: FakeOsrm):
    """http://host:port/osrm/ asks /osrm/table/v1/driving/... (no double slash)."""
    provider = OsrmTravelTime(osrm.url + "/osrm/")
    assert provider.base_url == osrm.url + "/osrm"
    assert provider.matrix([A], [C]) == [[Leg(300, 3000)]]
    assert osrm.paths()[0].startswith("/osrm/table/v1/driving/11.600000,52.120000;")


def test_other_profile_goes_into_the_path(osrm: FakeOsrm):
    """profile='cycling' asks /table/v1/cycling/ (this fake knows 'driving' only: 400)."""
    with pytest.raises(OsrmError, match=r"answered 400 InvalidUrl"):
        OsrmTravelTime(osrm.url, profile="cycling").matrix([A], [B])
    assert osrm.paths()[0].startswith("/table/v1/cycling/")


# --- failures ----------------------------------------------------------------------------


def test_null_cell_raises_naming_the_pair(osrm: FakeOsrm):
    """A null duration (no road route A→C) is an error naming both locations, never 0."""
    osrm.unreachable = (0, 1)  # source 0 = A, destination 1 = C
    with pytest.raises(OsrmError) as caught:
        OsrmTravelTime(osrm.url).matrix([A], [B, C])
    message = str(caught.value)
    assert f"OSRM at {osrm.url} found no route" in message
    assert "Location(lat=52.12, lon=11.6) to Location(lat=52.12, lon=11.63)" in message


def test_http_500_raises_with_status_and_body(osrm: FakeOsrm):
    """A plain HTTP 500 names the URL, the status and the start of the body."""
    osrm.mode = "http500"
    with pytest.raises(OsrmError) as caught:
        OsrmTravelTime(osrm.url).matrix([A], [B])
    assert str(caught.value) == f"OSRM at {osrm.url} answered HTTP 500: Internal Server Error"
    assert caught.value.__cause__ is not None
    assert len(osrm.requests) == 1  # not retried


def test_osrm_error_code_with_status_400_raises_with_code_and_message(osrm: FakeOsrm):
    """{"code": "InvalidQuery", ...} with 400 names the code and OSRM's message."""
    osrm.mode = "invalid_query"
    with pytest.raises(OsrmError) as caught:
        OsrmTravelTime(osrm.url).matrix([A], [B])
    assert str(caught.value) == (
        f"OSRM at {osrm.url} answered 400 InvalidQuery: Query string malformed close to position 7"
    )
    assert isinstance(caught.value, RuntimeError)


def test_malformed_json_raises(osrm: FakeOsrm):
    """A cut-off JSON body is an error naming the URL and quoting the body."""
    osrm.mode = "malformed"
    with pytest.raises(OsrmError, match=r"answered malformed JSON .*durations") as caught:
        OsrmTravelTime(osrm.url).matrix([A], [B])
    assert osrm.url in str(caught.value)
    assert isinstance(caught.value.__cause__, ValueError)


def test_missing_key_raises(osrm: FakeOsrm):
    """An Ok answer without 'distances' is an error, not a guess."""
    osrm.mode = "no_distances"
    with pytest.raises(OsrmError, match=r"answered without 'distances'"):
        OsrmTravelTime(osrm.url).matrix([A], [B])


def test_server_that_never_answers_times_out_quickly(osrm: FakeOsrm):
    """timeout_s=0.2 against a handler that sleeps: an error after about 0.2 s, no retry."""
    osrm.mode = "slow"
    start = time.monotonic()
    with pytest.raises(OsrmError) as caught:
        OsrmTravelTime(osrm.url, timeout_s=0.2).matrix([A], [B])
    assert time.monotonic() - start < 2
    assert str(caught.value) == f"OSRM at {osrm.url} did not answer within 0.2 s (timeout)"
    assert isinstance(caught.value.__cause__, TimeoutError)
    assert len(osrm.requests) == 1


def test_port_nothing_listens_on_is_unreachable():
    """Connection refused names the URL and says so."""
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(OsrmError) as caught:
        OsrmTravelTime(url, timeout_s=2).matrix([A], [B])
    assert str(caught.value) == f"OSRM at {url} unreachable: connection refused"
    assert caught.value.__cause__ is not None


def test_dropped_connection_is_retried_once_with_a_warning(
    osrm: FakeOsrm, caplog: pytest.LogCaptureFixture
):
    """One connection closed without answer is retried (logged); the retry answers."""
    osrm.drops_left = 1
    with caplog.at_level(logging.WARNING, logger="optimizer.osrm"):
        assert OsrmTravelTime(osrm.url).matrix([A], [B]) == [[Leg(100, 1000)]]
    assert len(osrm.requests) == 2
    assert "retrying once" in caplog.text


def test_connection_dropped_twice_raises_after_one_retry(osrm: FakeOsrm):
    """Two dropped connections: an error after exactly two requests, never a third."""
    osrm.drops_left = 5
    with pytest.raises(OsrmError, match=r"dropped the connection twice"):
        OsrmTravelTime(osrm.url).matrix([A], [B])
    assert len(osrm.requests) == 2


# --- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "127.0.0.1:5000",
        "ftp://127.0.0.1:5000",
        "http://",
        "http:///table",
        "",
        "http://127.0.0.1:5000?x=1",
        "http://127.0.0.1:port",
        "http://user:pw@127.0.0.1:5000",
    ],
)
def test_base_url_must_be_http_with_a_host(url: str):
    """Not http(s), no host, a query, a bad port or credentials: ValueError."""
    with pytest.raises(ValueError):
        OsrmTravelTime(url)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout_s": 0},
        {"timeout_s": -1.0},
        {"timeout_s": float("nan")},
        {"max_locations_per_request": 1},
        {"max_locations_per_request": 2.5},
        {"profile": ""},
        {"profile": "driving/../x"},
    ],
)
def test_timeout_limit_and_profile_are_checked(kwargs: dict[str, object]):
    """timeout > 0, max locations >= 2 (whole), profile a plain name: else ValueError."""
    with pytest.raises(ValueError):
        OsrmTravelTime("http://127.0.0.1:5000", **kwargs)  # type: ignore[arg-type]


def test_https_url_with_trailing_slash_is_accepted():
    """https with a trailing slash is fine; the slash is dropped."""
    assert OsrmTravelTime("https://osrm.example.org/").base_url == "https://osrm.example.org"
