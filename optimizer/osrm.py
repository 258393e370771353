"""Road travel times from an OSRM server (the HTTP `table` service).

`OsrmTravelTime` is a `TravelTimeProvider`: it asks a running `osrm-routed` for the
durations and distances of the fastest road routes between locations. It keeps no memo of
its own, so put it behind `TravelTimes`, which remembers every leg once asked::

    from optimizer.osrm import OsrmTravelTime
    from optimizer.travel import TravelTimes

    travel = TravelTimes(OsrmTravelTime("http://127.0.0.1:5000"))
    travel.prefetch(stops, stops)    # a few bulk /table requests for the whole day
    travel.seconds(stops[0], stops[1])  # answered from the memo, no request

One request is ``GET {base_url}/table/v1/{profile}/{lon,lat;lon,lat;...}?sources=...&
destinations=...&annotations=duration,distance``. OSRM wants longitude first; coordinates
are sent with 6 decimals (about 0.1 m). A matrix with more distinct locations than
`max_locations_per_request` is split into blocks, each within the limit, and stitched back
in the order asked. Keep the limit at or below the server's ``--max-table-size`` (default
100), or the server answers ``TooBig``. Identical locations get a zero leg without asking.

The server must answer `distances`: a CH server does; an old MLD server answers
``NotImplemented``, which surfaces as an `OsrmError` like every other failure: the server
unreachable or too slow, an HTTP status other than 200, a `code` other than ``Ok``,
malformed JSON, a table of the wrong shape, or a ``null`` cell (no road route between a
pair, e.g. a location that snapped onto an island). An unreachable pair is never turned
into 0, since 0 would make the pair look free and attract bookings.

Retries: a request is retried at most once, and only when the connection was dropped
before any answer arrived (the server closed or reset it, as `osrm-routed` does while it
restarts); the retry is logged as a warning. Nothing else is retried: a refused
connection or a timeout would most likely fail again and double the wait of a customer
looking at offers, and an error answer is deterministic. `timeout_s` bounds the connect
and each read on the socket, not the whole transfer.

Proxies come from the environment as usual for `urllib` (``http_proxy``, ``no_proxy``).
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from optimizer.domain import Location
from optimizer.travel import ZERO_LEG, Leg

log = logging.getLogger(__name__)

_PROFILE = re.compile(r"[A-Za-z0-9_.-]+")
_EXCERPT_CHARS = 200


class OsrmError(RuntimeError):
    """The OSRM server could not answer a travel question; the message says why."""


class _Dropped(Exception):
    """The connection was closed or reset before any answer (the only retried failure)."""


@dataclass(frozen=True, slots=True)
class OsrmTravelTime:
    """Road legs from an OSRM server's `table` service (see the module docstring)."""

    base_url: str
    profile: str = "driving"
    timeout_s: float = 10.0
    max_locations_per_request: int = 100

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"OSRM base_url must be an http(s) URL with a host, got {self.base_url!r}"
            )
        _ = parts.port  # raises ValueError for a malformed port
        if parts.username is not None or parts.password is not None:
            raise ValueError("OSRM base_url must not carry credentials")
        if parts.query or parts.fragment:
            raise ValueError(
                f"OSRM base_url must not carry a query or fragment, got {self.base_url!r}"
            )
        object.__setattr__(
            self,
            "base_url",
            urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", "")),
        )
        if not _PROFILE.fullmatch(self.profile):
            raise ValueError(
                f"OSRM profile must be a plain name like 'driving', got {self.profile!r}"
            )
        if (
            isinstance(self.timeout_s, bool)
            or not isinstance(self.timeout_s, int | float)
            or not math.isfinite(self.timeout_s)
            or self.timeout_s <= 0
        ):
            raise ValueError(
                f"OSRM timeout must be a positive number of seconds, got {self.timeout_s!r}"
            )
        limit = self.max_locations_per_request
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 2:
            raise ValueError(
                f"max_locations_per_request must be a whole number >= 2, got {limit!r}"
            )

    # --- TravelTimeProvider -----------------------------------------------------------

    def matrix(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> list[list[Leg]]:
        """Legs from every origin to every destination, one row per origin, in order."""
        unique_origins = list(dict.fromkeys(origins))
        unique_destinations = list(dict.fromkeys(destinations))
        legs: dict[tuple[Location, Location], Leg] = {}
        for block_origins, block_destinations in self._blocks(unique_origins, unique_destinations):
            legs.update(self._table(block_origins, block_destinations))
        return [[ZERO_LEG if a == b else legs[(a, b)] for b in destinations] for a in origins]

    # --- blocking ---------------------------------------------------------------------

    def _blocks(
        self, origins: list[Location], destinations: list[Location]
    ) -> list[tuple[list[Location], list[Location]]]:
        """Blocks of distinct origins × destinations, each within the location limit.

        Only locations with at least one leg to a *different* location are asked for; a
        block of identical pairs alone is dropped.
        """
        origins = [a for a in origins if any(a != b for b in destinations)]
        destinations = [b for b in destinations if any(a != b for a in origins)]
        if not origins or not destinations:
            return []
        limit = self.max_locations_per_request
        if len(set(origins) | set(destinations)) <= limit:
            return [(origins, destinations)]
        rows, cols = _block_shape(len(origins), len(destinations), limit)
        blocks = []
        for i in range(0, len(origins), rows):
            for j in range(0, len(destinations), cols):
                block_o = origins[i : i + rows]
                block_d = destinations[j : j + cols]
                block_o = [a for a in block_o if any(a != b for b in block_d)]
                block_d = [b for b in block_d if any(a != b for a in block_o)]
                if block_o and block_d:
                    blocks.append((block_o, block_d))
        return blocks

    # --- one request ------------------------------------------------------------------

    def _table(
        self, origins: list[Location], destinations: list[Location]
    ) -> dict[tuple[Location, Location], Leg]:
        """One `table` request for distinct origins and destinations (within the limit)."""
        coordinates = list(dict.fromkeys([*origins, *destinations]))
        index = {loc: i for i, loc in enumerate(coordinates)}
        path = ";".join(f"{loc.lon:.6f},{loc.lat:.6f}" for loc in coordinates)
        query = (
            "sources="
            + ";".join(str(index[a]) for a in origins)
            + "&destinations="
            + ";".join(str(index[b]) for b in destinations)
            + "&annotations=duration,distance"
        )
        url = f"{self.base_url}/table/v1/{self.profile}/{path}?{query}"
        body = self._get(url)
        durations, distances = self._parse(body, len(origins), len(destinations))
        legs = {}
        for i, a in enumerate(origins):
            for j, b in enumerate(destinations):
                if a == b:
                    continue
                seconds, meters = durations[i][j], distances[i][j]
                if seconds is None or meters is None:
                    raise OsrmError(
                        f"OSRM at {self.base_url} found no route from {a!r} to "
                        f"{b!r} (null in the table)"
                    )
                legs[(a, b)] = Leg(seconds=round(seconds), meters=round(meters))
        return legs

    def _get(self, url: str) -> dict[str, Any]:
        """The JSON object answered to a GET, retried once if the connection dropped."""
        try:
            return self._get_once(url)
        except _Dropped as first:
            log.warning(
                "OSRM at %s dropped the connection (%s); retrying once",
                self.base_url,
                first.__cause__,
            )
        try:
            return self._get_once(url)
        except _Dropped as second:
            raise OsrmError(
                f"OSRM at {self.base_url} dropped the connection twice: {second.__cause__}"
            ) from second.__cause__

    def _get_once(self, url: str) -> dict[str, Any]:
        request = urllib.request.Request(
            url, headers={"Accept": "application/json", "User-Agent": "KombiTermin-optimizer"}
        )
        opener = urllib.request.build_opener()
        try:
            with opener.open(request, timeout=self.timeout_s) as response:
                status = response.status
                body = response.read()
        except urllib.error.HTTPError as err:
            with err:
                try:
                    error_body = err.read()
                except (OSError, http.client.HTTPException):
                    error_body = b""
            raise OsrmError(self._describe_error_answer(err.code, error_body)) from err
        except urllib.error.URLError as err:
            reason = err.reason
            if isinstance(reason, TimeoutError):
                raise OsrmError(self._too_slow()) from err
            if isinstance(reason, ConnectionRefusedError):
                raise OsrmError(f"OSRM at {self.base_url} unreachable: connection refused") from err
            if isinstance(reason, ConnectionResetError | ConnectionAbortedError):
                raise _Dropped() from err
            raise OsrmError(f"OSRM at {self.base_url} unreachable: {reason}") from err
        except TimeoutError as err:
            raise OsrmError(self._too_slow()) from err
        except (
            http.client.RemoteDisconnected,
            ConnectionResetError,
            ConnectionAbortedError,
        ) as err:
            raise _Dropped() from err
        except (OSError, http.client.HTTPException) as err:
            raise OsrmError(
                f"OSRM at {self.base_url} broke off its answer: {type(err).__name__}: {err}"
            ) from err
        if status != 200:
            raise OsrmError(self._describe_error_answer(status, body))
        try:
            answer = json.loads(body)
        except ValueError as err:
            raise OsrmError(
                f"OSRM at {self.base_url} answered malformed JSON ({err}): {_excerpt(body)}"
            ) from err
        if not isinstance(answer, dict):
            raise OsrmError(
                f"OSRM at {self.base_url} answered JSON that is not an object: {_excerpt(body)}"
            )
        if answer.get("code") != "Ok":
            raise OsrmError(self._describe_error_answer(status, body, answer))
        return answer

    def _parse(
        self, answer: dict[str, Any], n_rows: int, n_cols: int
    ) -> tuple[list[list[float | None]], list[list[float | None]]]:
        tables = []
        for key in ("durations", "distances"):
            if key not in answer:
                raise OsrmError(
                    f"OSRM at {self.base_url} answered without {key!r} "
                    f"(keys: {', '.join(sorted(answer))})"
                )
            table = answer[key]
            if (
                not isinstance(table, list)
                or len(table) != n_rows
                or any(not isinstance(row, list) or len(row) != n_cols for row in table)
            ):
                raise OsrmError(
                    f"OSRM at {self.base_url} answered {key!r} that is not a "
                    f"{n_rows}×{n_cols} table: {_excerpt(json.dumps(table))}"
                )
            for row in table:
                for cell in row:
                    if cell is not None and (
                        isinstance(cell, bool)
                        or not isinstance(cell, int | float)
                        or not math.isfinite(cell)
                        or cell < 0
                    ):
                        raise OsrmError(
                            f"OSRM at {self.base_url} answered {key!r} with an "
                            f"invalid value {cell!r}"
                        )
            tables.append(table)
        return tables[0], tables[1]

    # --- messages ---------------------------------------------------------------------

    def _too_slow(self) -> str:
        return f"OSRM at {self.base_url} did not answer within {self.timeout_s:g} s (timeout)"

    def _describe_error_answer(self, status: int, body: bytes, answer: object = None) -> str:
        """'answered 400 InvalidQuery: message' for an OSRM error, else the body's start."""
        if answer is None:
            try:
                answer = json.loads(body)
            except ValueError:
                answer = None
        if isinstance(answer, dict) and isinstance(answer.get("code"), str):
            message = answer.get("message")
            detail = f": {message}" if message else ""
            return f"OSRM at {self.base_url} answered {status} {answer['code']}{detail}"
        return f"OSRM at {self.base_url} answered HTTP {status}: {_excerpt(body)}"


def _block_shape(n_rows: int, n_cols: int, limit: int) -> tuple[int, int]:
    """Rows and columns per block (rows + cols <= limit) needing the fewest requests."""
    best: tuple[int, int, int] | None = None
    for rows in range(1, limit):
        r = min(rows, n_rows)
        c = min(limit - rows, n_cols)
        requests = -(-n_rows // r) * -(-n_cols // c)
        if best is None or requests < best[0]:
            best = (requests, r, c)
    assert best is not None  # limit >= 2
    return best[1], best[2]


def _excerpt(body: bytes | str) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    if not text:
        return "(empty body)"
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "…"
