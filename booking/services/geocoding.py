"""Turn customer addresses into coordinates for route planning.

Three sources: a Nominatim or a Photon server (house-number precision, needs the network)
and the GeoNames postcode table read through pgeocode (offline, postcode-centroid
precision). This module takes plain values only; the Flask app decides which geocoder to
build and where its answers are cached (`booking.services.geocache`).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import pgeocode

Precision = Literal["house", "street", "postcode"]
PRECISIONS: tuple[str, ...] = get_args(Precision)

GEOCODER_KINDS = ("postcode", "nominatim", "photon")


@dataclass(frozen=True, slots=True)
class GeocodedAddress:
    """A geocoded address; `precision` says how exact the point is."""

    lat: float
    lon: float
    precision: Precision
    postcode: str
    city: str
    label: str

    def __post_init__(self) -> None:
        for name, value, limit in (("lat", self.lat, 90.0), ("lon", self.lon, 180.0)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
            if not -limit <= value <= limit:
                raise ValueError(f"{name} must be within [-{limit:g}, {limit:g}], got {value!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )


class GeocoderUnavailable(Exception):
    """The geocoding service could not be reached or failed; the caller may fall back."""


class Geocoder(Protocol):
    def geocode(self, street: str, postcode: str, city: str) -> GeocodedAddress | None:
        """None = the address is unknown. Raises GeocoderUnavailable when the service is down."""
        ...


def _format_label(street: str, postcode: str, city: str) -> str:
    place = f"{postcode} {city}".strip()
    street = street.strip()
    return f"{street}, {place}" if street and place else street or place


# --------------------------------------------------------------------------- postcode

_POSTCODE_RE = re.compile(r"[0-9]{5}")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# pgeocode reads its data directory from a module global; two geocoders loading at
# once must not see each other's directory.
_PGEOCODE_GLOBALS_LOCK = threading.Lock()


def _normalise_place(name: str) -> str:
    return " ".join(name.casefold().translate(_UMLAUTS).split())


def _same_place(given: str, known: str) -> bool:
    """True for equal names, or when one is the other plus a district ("Magdeburg-Sudenburg")."""
    a, b = sorted((_normalise_place(given), _normalise_place(known)), key=len)
    if not a:
        return False
    # A word boundary is required so "Magdeburg" does not match "Magdeburgerforth".
    return b == a or (b.startswith(a) and not b[len(a)].isalnum())


def _normalise_postcode(postcode: str) -> str | None:
    compact = "".join(postcode.split())
    return compact if _POSTCODE_RE.fullmatch(compact) else None


@dataclass(frozen=True, slots=True)
class _PostcodeArea:
    """A postcode's centroid and the places that share the postcode."""

    lat: float
    lon: float
    places: tuple[str, ...]


class PostcodeGeocoder:
    """Offline geocoding to German postcode-area centroids (GeoNames data via pgeocode).

    `source_dir` may hold the raw GeoNames export `DE.txt` (tab-separated, no header);
    `cache_dir` holds pgeocode's own cache format and is written on first use.
    """

    COUNTRY = "DE"

    def __init__(self, source_dir: Path | None, cache_dir: Path) -> None:
        self._source_file = Path(source_dir) / "DE.txt" if source_dir is not None else None
        self._cache_dir = Path(cache_dir)
        self._cache_file = self._cache_dir / "DE.txt"
        self._lock = threading.Lock()
        self._nominatim: pgeocode.Nominatim | None = None
        # pgeocode answers one postcode through a pandas merge (milliseconds), and every
        # offer asks; Germany has about 8,000 postcodes, so each is asked once.
        self._areas: dict[str, _PostcodeArea | None] = {}

    def geocode(self, street: str, postcode: str, city: str) -> GeocodedAddress | None:
        code = _normalise_postcode(postcode)
        if code is None:
            return None
        area = self._area(code)
        if area is None:
            return None
        place = self._pick_place(area.places, city)
        return GeocodedAddress(
            lat=area.lat,
            lon=area.lon,
            precision="postcode",
            postcode=code,
            city=place,
            label=_format_label(street, code, place),
        )

    def _area(self, code: str) -> _PostcodeArea | None:
        if code in self._areas:
            return self._areas[code]
        row = self._load().query_postal_code(code)
        lat, lon, names = row["latitude"], row["longitude"], row["place_name"]
        area = None
        if not (_is_missing(lat) or _is_missing(lon)):
            # pgeocode joins all places sharing a postcode with ", " (39326 has 20 villages)
            places = () if _is_missing(names) else tuple(p for p in str(names).split(", ") if p)
            area = _PostcodeArea(float(lat), float(lon), places)
        self._areas[code] = area  # threads racing here store the same answer
        return area

    @staticmethod
    def _pick_place(places: tuple[str, ...], city: str) -> str:
        # Show the place the customer named, else the first; the centroid is the same
        # either way because the postcode is authoritative. (GeoNames' community_name
        # for Germany is the district, e.g. "Börde", so it is no use as a city.)
        return next((p for p in places if _same_place(city, p)), places[0] if places else "")

    def _load(self) -> pgeocode.Nominatim:
        with self._lock:
            if self._nominatim is None:
                self._ensure_cache_file()
                self._nominatim = self._read_with_pgeocode()
            return self._nominatim

    def _ensure_cache_file(self) -> None:
        if self._cache_file.is_file():
            return
        if self._source_file is None or not self._source_file.is_file():
            raise GeocoderUnavailable(
                f"No postcode data: neither {self._cache_file} nor "
                f"{self._source_file or '<no source directory>'} exists"
            )
        try:
            self._convert_source()
        except (OSError, ValueError) as exc:
            raise GeocoderUnavailable(
                f"Could not convert {self._source_file} into {self._cache_file}: {exc}"
            ) from exc

    def _convert_source(self) -> None:
        # pandas and pgeocode are imported on first use: pandas alone adds about half a
        # second to every process start, including CLI commands that never geocode.
        import pandas as pd
        import pgeocode

        assert self._source_file is not None
        data = pd.read_csv(
            self._source_file,
            sep="\t",
            header=None,
            names=pgeocode.DATA_FIELDS,
            dtype={"postal_code": str},
            na_values=pgeocode.NA_VALUES,
            keep_default_na=False,
        )
        if not all(pd.api.types.is_numeric_dtype(data[c]) for c in ("latitude", "longitude")):
            raise ValueError("latitude/longitude columns are not numeric; not a GeoNames export")
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self._cache_dir, prefix=".DE.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as tmp:
                data.to_csv(tmp, index=False)
            # mkstemp creates the file private (0600); the cache is plain public data
            # that a web server running as another user may need to read.
            os.chmod(tmp_name, 0o644)
            # pgeocode keeps a derived DE-index.txt beside DE.txt and never checks that it
            # is older than DE.txt, so a leftover one would shadow the new data.
            (self._cache_dir / "DE-index.txt").unlink(missing_ok=True)
            os.replace(tmp_name, self._cache_file)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def _read_with_pgeocode(self) -> pgeocode.Nominatim:
        import pgeocode

        with _PGEOCODE_GLOBALS_LOCK:
            # pgeocode takes its directory only from the STORAGE_DIR global (read from
            # PGEOCODE_DATA_DIR at import, which is too late to set from app config), and
            # downloads when the file is missing. Point it at our cache for the load only,
            # with no download URLs, so it can never reach the network.
            saved = pgeocode.STORAGE_DIR, pgeocode.DOWNLOAD_URL
            pgeocode.STORAGE_DIR, pgeocode.DOWNLOAD_URL = str(self._cache_dir), []
            try:
                # Also writes DE-index.txt (unique postcodes) into cache_dir on first load.
                return pgeocode.Nominatim(self.COUNTRY.lower())
            except (OSError, ValueError) as exc:
                raise GeocoderUnavailable(
                    f"Could not load postcode data from {self._cache_file}: {exc}"
                ) from exc
            finally:
                pgeocode.STORAGE_DIR, pgeocode.DOWNLOAD_URL = saved


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# ------------------------------------------------------------------ remote servers


def _server_parts(base_url: str, service: str) -> tuple[str, str]:
    """(scheme, host[:port][/path]) of a server's base URL, which may carry a path prefix."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ValueError(
            f"{service} URL must look like https://host[:port][/path], got {base_url!r}"
        )
    return parts.scheme, parts.netloc + parts.path.rstrip("/")


class _RemoteGeocoder:
    """What Nominatim and Photon share: geopy's client without its own retries, and
    geopy's RateLimiter keeping `min_delay_s` between the requests of this process."""

    SERVICE = ""

    def __init__(
        self, client_class: Any, base_url: str, user_agent: str, timeout_s: float,
        min_delay_s: float,
    ) -> None:  # fmt: skip
        scheme, domain = _server_parts(base_url, self.SERVICE)
        if not user_agent.strip():
            raise ValueError(f"{self.SERVICE} needs a user agent that identifies the application")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s!r}")
        if not min_delay_s >= 0:
            raise ValueError(f"min_delay_s must be zero or positive, got {min_delay_s!r}")
        self.user_agent = user_agent
        self.timeout_s = timeout_s
        self.min_delay_s = min_delay_s
        self._client = client_class(
            domain=domain,
            scheme=scheme,
            user_agent=user_agent,
            timeout=timeout_s,
            adapter_factory=self._adapter_factory(),
        )
        self._search = self._rate_limited(self._client.geocode)

    @staticmethod
    def _adapter_factory() -> Any:
        from geopy.adapters import RequestsAdapter

        # geopy's requests adapter retries refused connections and read timeouts twice
        # on its own, so a hung server would cost three times timeout_s.
        return partial(RequestsAdapter, max_retries=0) if RequestsAdapter.is_available else None

    def _rate_limited(self, search: Callable[..., Any]) -> Callable[..., Any]:
        from geopy.extra.rate_limiter import RateLimiter

        # RateLimiter's defaults retry twice with 5 s pauses and then swallow the error,
        # returning None, which would read as "address unknown". We want a quick, loud
        # failure so the caller can fall back to postcode centroids.
        return RateLimiter(
            search,
            min_delay_seconds=self.min_delay_s,
            max_retries=0,
            error_wait_seconds=self.min_delay_s,
            swallow_exceptions=False,
        )

    def _ask(self, search: Callable[[], Any]) -> Any:
        from geopy.exc import GeopyError

        try:
            return search()
        except GeopyError as exc:
            raise GeocoderUnavailable(f"{self.SERVICE} request failed: {exc}") from exc
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            # geopy parses the reply inside the call: one we cannot interpret is a service
            # fault, not an unknown address.
            raise GeocoderUnavailable(f"Unexpected {self.SERVICE} reply: {exc!r}") from exc


class NominatimGeocoder(_RemoteGeocoder):
    """Geocoding through a Nominatim server (public or self-hosted, e.g. http://127.0.0.1:8080)."""

    SERVICE = "Nominatim"

    def __init__(
        self,
        base_url: str,
        user_agent: str,
        timeout_s: float = 5.0,
        min_delay_s: float = 1.0,
    ) -> None:
        from geopy.geocoders import Nominatim

        super().__init__(Nominatim, base_url, user_agent, timeout_s, min_delay_s)

    def geocode(self, street: str, postcode: str, city: str) -> GeocodedAddress | None:
        query = {
            key: value.strip()
            for key, value in (("street", street), ("postalcode", postcode), ("city", city))
            if value.strip()
        }
        if not query:
            return None
        query["country"] = "Germany"
        location = self._ask(lambda: self._search(query, exactly_one=True, addressdetails=True))
        if location is None:
            return None
        try:
            return self._to_address(location.raw, street, postcode, city)
        except (KeyError, TypeError, ValueError) as exc:
            # A reply we cannot interpret is a service fault, not an unknown address.
            raise GeocoderUnavailable(f"Unexpected Nominatim reply: {exc!r}") from exc

    @staticmethod
    def _to_address(raw: dict[str, Any], street: str, postcode: str, city: str) -> GeocodedAddress:
        address: dict[str, str] = raw.get("address") or {}
        house, road = address.get("house_number"), address.get("road")
        precision: Precision = "house" if house else "street" if road else "postcode"
        found_postcode = address.get("postcode") or postcode.strip()
        found_city = next(
            (address[k] for k in ("city", "town", "village", "municipality") if address.get(k)),
            city.strip(),
        )
        found_street = f"{road} {house}" if road and house else road or street
        return GeocodedAddress(
            lat=float(raw["lat"]),
            lon=float(raw["lon"]),
            precision=precision,
            postcode=found_postcode,
            city=found_city,
            label=_format_label(found_street, found_postcode, found_city),
        )


class PhotonGeocoder(_RemoteGeocoder):
    """Geocoding through a Photon server (komoot's public one or self-hosted).

    Photon searches free text and answers GeoJSON features. It has no structured query and
    no country filter, so this asks for a few candidates and keeps the first German one,
    preferring one in the postcode the customer gave. A candidate coarser than a street
    (a town, a district) counts only when it lies in that postcode; otherwise the address
    is unknown, as with Nominatim's structured search.
    """

    SERVICE = "Photon"
    CANDIDATES = 5

    def __init__(
        self,
        base_url: str,
        user_agent: str,
        timeout_s: float = 5.0,
        min_delay_s: float = 1.0,
        language: str = "de",
    ) -> None:
        from geopy.geocoders import Photon

        super().__init__(Photon, base_url, user_agent, timeout_s, min_delay_s)
        self.language = language

    def geocode(self, street: str, postcode: str, city: str) -> GeocodedAddress | None:
        text = _format_label(street, postcode, city)
        if not text:
            return None
        locations = self._ask(
            lambda: self._search(
                text, exactly_one=False, limit=self.CANDIDATES, language=self.language
            )
        )
        try:
            features = [location.raw for location in locations or []]
            return self._pick(features, street, postcode.strip(), city)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            raise GeocoderUnavailable(f"Unexpected Photon reply: {exc!r}") from exc

    @classmethod
    def _pick(
        cls, features: list[dict[str, Any]], street: str, postcode: str, city: str
    ) -> GeocodedAddress | None:
        german = [
            f
            for f in features
            if str((f.get("properties") or {}).get("countrycode", "DE")).upper() == "DE"
        ]
        in_postcode = [f for f in german if f["properties"].get("postcode") == postcode]
        for feature in in_postcode + [f for f in german if f not in in_postcode]:
            found = cls._to_address(feature, street, postcode, city)
            if found.precision != "postcode" or feature in in_postcode:
                return found
        return None

    @staticmethod
    def _to_address(
        feature: dict[str, Any], street: str, postcode: str, city: str
    ) -> GeocodedAddress:
        props: dict[str, Any] = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"][:2]
        house = props.get("housenumber")
        road = props.get("street")
        if not road and (props.get("type") == "street" or props.get("osm_key") == "highway"):
            road = props.get("name")  # the feature is the street itself
        precision: Precision = "house" if house and road else "street" if road else "postcode"
        found_postcode = str(props.get("postcode") or "")
        found_city = str(
            next((props[k] for k in ("city", "town", "village", "locality") if props.get(k)), "")
            or city.strip()
        )
        found_street = f"{road} {house}" if precision == "house" else road or street
        return GeocodedAddress(
            lat=float(lat),
            lon=float(lon),
            precision=precision,
            postcode=found_postcode or postcode,
            city=found_city,
            label=_format_label(found_street, found_postcode or postcode, found_city),
        )


# ----------------------------------------------------------------------- composition


def query_key(street: str, postcode: str, city: str) -> str:
    """The normalised query that caches are keyed by: case, spacing and the spaces inside
    a postcode do not make a new address."""
    return "|".join(
        (
            " ".join(street.casefold().split()),
            "".join(postcode.split()),
            " ".join(city.casefold().split()),
        )
    )


class FallbackGeocoder:
    """Ask `primary`; only when it is unavailable ask `fallback`."""

    def __init__(self, primary: Geocoder, fallback: Geocoder) -> None:
        self.primary = primary
        self.fallback = fallback

    def geocode(self, street: str, postcode: str, city: str) -> GeocodedAddress | None:
        try:
            return self.primary.geocode(street, postcode, city)
        except GeocoderUnavailable:
            # "Unknown" (None) from the primary is an answer and is not retried.
            return self.fallback.geocode(street, postcode, city)


class PausingGeocoder:
    """After `inner` was unavailable, answer GeocoderUnavailable at once for `pause_s`
    seconds instead of asking it: a server that is down would otherwise cost every
    customer the full timeout before the fallback answers."""

    def __init__(
        self, inner: Geocoder, pause_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not pause_s >= 0:
            raise ValueError(f"pause_s must be zero or positive, got {pause_s!r}")
        self.inner = inner
        self.pause_s = pause_s
        self._clock = clock
        self._paused_until = -math.inf

    def geocode(self, street: str, postcode: str, city: str) -> GeocodedAddress | None:
        if self._clock() < self._paused_until:
            raise GeocoderUnavailable("paused after the last failure")
        try:
            return self.inner.geocode(street, postcode, city)
        except GeocoderUnavailable:
            self._paused_until = self._clock() + self.pause_s
            raise


class CachingGeocoder:
    """Remembers answers, including "unknown", for the most recent `max_entries` addresses,
    each for at most `max_age_s` seconds (None: as long as it is among them)."""

    def __init__(
        self,
        inner: Geocoder,
        max_entries: int = 10_000,
        max_age_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        if max_age_s is not None and not max_age_s > 0:
            raise ValueError(f"max_age_s must be positive or None, got {max_age_s!r}")
        self.inner = inner
        self.max_entries = max_entries
        self.max_age_s = max_age_s
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, GeocodedAddress | None]] = OrderedDict()
        self._lock = threading.Lock()

    def geocode(self, street: str, postcode: str, city: str) -> GeocodedAddress | None:
        key = query_key(street, postcode, city)
        with self._lock:
            if key in self._entries:
                stored_at, result = self._entries[key]
                if self.max_age_s is None or self._clock() - stored_at < self.max_age_s:
                    self._entries.move_to_end(key)
                    return result
                del self._entries[key]
        # The lock is not held here so a slow lookup does not block other addresses;
        # two threads asking for the same new address may both ask the inner geocoder.
        result = self.inner.geocode(street, postcode, city)
        with self._lock:
            self._entries[key] = (self._clock(), result)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return result


def _no_store(source: str, geocoder: Geocoder) -> Geocoder:
    return geocoder


# The in-memory caches in front of the persistent one forget after an hour.
MEMORY_MAX_AGE_S = 3600.0


def build_geocoder(
    kind: str,
    *,
    source_dir: Path | None,
    cache_dir: Path,
    nominatim_url: str | None = None,
    photon_url: str | None = None,
    user_agent: str = "KombiTermin",
    timeout_s: float = 5.0,
    min_delay_s: float = 1.0,
    pause_s: float = 30.0,
    store: Callable[[str, Geocoder], Geocoder] = _no_store,
    memory_max_age_s: float | None = MEMORY_MAX_AGE_S,
) -> Geocoder:
    """Build the geocoder named by configuration: "postcode", "nominatim" or "photon".

    `store(source, geocoder)` may wrap the remote server in a persistent cache (the app's
    database), in front of which sits an in-memory cache that forgets after
    `memory_max_age_s`, so that an expiry in the persistent cache takes effect. A server
    that failed is left alone for `pause_s` seconds, and the postcode centroids answer
    meanwhile. Those are never stored, so a centroid handed out while the server was down
    never stands in for the server's own answer later.
    """

    def cached(source: str, geocoder: Geocoder) -> Geocoder:
        return CachingGeocoder(store(source, geocoder), max_age_s=memory_max_age_s)

    # The postcode table is local and answers in microseconds: caching its answers would
    # cost a database write per new address and keep customers' streets for nothing.
    postcode = PostcodeGeocoder(source_dir, cache_dir)
    if kind == "postcode":
        return postcode
    remote: Geocoder
    if kind == "nominatim":
        if not nominatim_url:
            raise ValueError('Geocoder kind "nominatim" needs nominatim_url')
        remote = NominatimGeocoder(nominatim_url, user_agent, timeout_s, min_delay_s)
    elif kind == "photon":
        if not photon_url:
            raise ValueError('Geocoder kind "photon" needs photon_url')
        remote = PhotonGeocoder(photon_url, user_agent, timeout_s, min_delay_s)
    else:
        raise ValueError(
            f"Unknown geocoder kind {kind!r}; valid kinds: {', '.join(GEOCODER_KINDS)}"
        )
    return FallbackGeocoder(cached(kind, PausingGeocoder(remote, pause_s)), postcode)
