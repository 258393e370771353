"""Tests for booking.services.geocoding: pgeocode postcodes, Nominatim and Photon over HTTP
(local servers, see `tests/booking/geoservers.py`), composition."""

from __future__ import annotations

import math
import socket
import time
from pathlib import Path
from typing import Any

import pgeocode
import pytest

from booking.extensions import db
from booking.services.geocoding import (
    CachingGeocoder,
    FallbackGeocoder,
    GeocodedAddress,
    GeocoderUnavailable,
    NominatimGeocoder,
    PausingGeocoder,
    PhotonGeocoder,
    PostcodeGeocoder,
    build_geocoder,
    query_key,
)
from tests.booking.geoservers import (
    BREITER_WEG_10_PHOTON,
    FakeServer,
    photon_answer,
    photon_feature,
)

# What both servers' answers for Breiter Weg 10 must turn into.
BREITER_WEG_10_FOUND = GeocodedAddress(
    lat=52.1271,
    lon=11.6351,
    precision="house",
    postcode="39104",
    city="Magdeburg",
    label="Breiter Weg 10, 39104 Magdeburg",
)


def geonames_line(postcode: str, place: str, community: str, lat: str, lon: str, acc: str) -> str:
    """One line of the raw GeoNames export: 12 tab-separated fields, no quoting."""
    fields = ["DE", postcode, place, "Sachsen-Anhalt", "ST", "", "00", community, "15003"]
    return "\t".join([*fields, lat, lon, acc]) + "\n"


# Real GeoNames points for Magdeburg; the 39326 villages are rounded. Rogätz has no
# accuracy value, as some real rows do.
GEONAMES_TEXT = "".join(
    [
        geonames_line(
            "39104", "Magdeburg", "Landeshauptstadt Magdeburg", "52.1243", "11.6322", "4"
        ),
        geonames_line(
            "39108", "Magdeburg", "Landeshauptstadt Magdeburg", "52.1333", "11.6167", "4"
        ),
        geonames_line("39326", "Barleben", "Börde", "52.2000", "11.6000", "4"),
        geonames_line("39326", "Rogätz", "Börde", "52.3000", "11.7000", ""),
    ]
)


@pytest.fixture
def source_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "geodata"
    folder.mkdir()
    (folder / "DE.txt").write_text(GEONAMES_TEXT, encoding="utf-8")
    return folder


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "instance" / "pgeocode"


# ------------------------------------------------------------------ GeocodedAddress


def make_address(**changes: Any) -> GeocodedAddress:
    values: dict[str, Any] = {
        "lat": 52.1243,
        "lon": 11.6322,
        "precision": "postcode",
        "postcode": "39104",
        "city": "Magdeburg",
        "label": "39104 Magdeburg",
    }
    return GeocodedAddress(**(values | changes))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lat": 90.5}, "lat must be within"),
        ({"lon": -180.1}, "lon must be within"),
        ({"lat": math.nan}, "lat must be finite"),
        ({"lon": math.inf}, "lon must be finite"),
        ({"precision": "city"}, "precision must be one of house, street, postcode"),
    ],
)
def test_address_rejects_invalid_values(changes: dict[str, Any], message: str) -> None:
    """Out-of-range or non-finite coordinates and unknown precisions raise ValueError."""
    with pytest.raises(ValueError, match=message):
        make_address(**changes)


def test_address_accepts_boundary_values() -> None:
    """The poles and the antimeridian are valid coordinates."""
    assert make_address(lat=-90.0, lon=180.0).lat == -90.0


# ----------------------------------------------------------------- PostcodeGeocoder


def test_postcode_converts_raw_file_and_finds_centroid(source_dir: Path, cache_dir: Path) -> None:
    """First use writes pgeocode's CSV cache and 39104 resolves to its GeoNames point."""
    geocoder = PostcodeGeocoder(source_dir, cache_dir)

    result = geocoder.geocode("Breiter Weg 10", "39104", "Magdeburg")

    assert result == GeocodedAddress(
        lat=52.1243,
        lon=11.6322,
        precision="postcode",
        postcode="39104",
        city="Magdeburg",
        label="Breiter Weg 10, 39104 Magdeburg",
    )
    header = (cache_dir / "DE.txt").read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(pgeocode.DATA_FIELDS)
    assert [p.name for p in cache_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_postcode_reuses_cache_without_source(source_dir: Path, cache_dir: Path) -> None:
    """Once the cache exists, a new geocoder needs no source directory."""
    PostcodeGeocoder(source_dir, cache_dir).geocode("", "39104", "")
    (source_dir / "DE.txt").unlink()

    result = PostcodeGeocoder(None, cache_dir).geocode("", "39108", "Magdeburg")

    assert result is not None
    assert (result.lat, result.lon, result.label) == (52.1333, 11.6167, "39108 Magdeburg")


def test_postcode_conversion_removes_stale_pgeocode_index(
    source_dir: Path, cache_dir: Path
) -> None:
    """An old DE-index.txt left in the cache directory does not shadow freshly converted data."""
    cache_dir.mkdir(parents=True)
    header = ",".join(pgeocode.DATA_FIELDS)
    (cache_dir / "DE-index.txt").write_text(
        f"{header}\nDE,39104,Nowhere,,,,,,,1.0,1.0,4\n", encoding="utf-8"
    )

    result = PostcodeGeocoder(source_dir, cache_dir).geocode("", "39104", "")

    assert result is not None
    assert (result.lat, result.city) == (52.1243, "Magdeburg")


@pytest.mark.parametrize("postcode", ["123", "ABCDE", "", "391040", "3910A"])
def test_postcode_invalid_format_is_unknown(
    source_dir: Path, cache_dir: Path, postcode: str
) -> None:
    """Anything but five digits is answered with None."""
    assert PostcodeGeocoder(source_dir, cache_dir).geocode("Weg 1", postcode, "") is None


def test_postcode_spaces_are_ignored(source_dir: Path, cache_dir: Path) -> None:
    """Spaces inside the postcode are dropped: " 39 104 " is 39104."""
    result = PostcodeGeocoder(source_dir, cache_dir).geocode("", " 39 104 ", "")
    assert result is not None
    assert result.postcode == "39104"


def test_postcode_unknown_is_none(source_dir: Path, cache_dir: Path) -> None:
    """A well-formed postcode missing from the data is answered with None."""
    assert PostcodeGeocoder(source_dir, cache_dir).geocode("", "99999", "") is None


def test_postcode_with_several_places_uses_their_mean(source_dir: Path, cache_dir: Path) -> None:
    """39326 (Barleben 52.2/11.6, Rogätz 52.3/11.7) resolves to the mean, named as asked."""
    geocoder = PostcodeGeocoder(source_dir, cache_dir)

    named = geocoder.geocode("Dorfstr. 1", "39326", "rogaetz")
    unnamed = geocoder.geocode("", "39326", "")

    assert named is not None and unnamed is not None
    assert named.lat == pytest.approx(52.25) and named.lon == pytest.approx(11.65)
    assert (named.city, named.label) == ("Rogätz", "Dorfstr. 1, 39326 Rogätz")
    assert (unnamed.lat, unnamed.lon, unnamed.city) == (named.lat, named.lon, "Barleben")


@pytest.mark.parametrize(
    ("city", "expected_city"),
    [("Magdeburg-Sudenburg", "Magdeburg"), ("MAGDEBURG", "Magdeburg"), ("Leipzig", "Magdeburg")],
)
def test_postcode_is_authoritative_over_city(
    source_dir: Path, cache_dir: Path, city: str, expected_city: str
) -> None:
    """The centroid of the postcode is returned whatever city the customer typed."""
    result = PostcodeGeocoder(source_dir, cache_dir).geocode("", "39104", city)
    assert result is not None
    assert (result.lat, result.lon, result.city) == (52.1243, 11.6322, expected_city)


def test_postcode_missing_data_is_unavailable(tmp_path: Path, cache_dir: Path) -> None:
    """Without cache or source file the geocoder raises, naming both paths."""
    geocoder = PostcodeGeocoder(tmp_path / "nothing-here", cache_dir)

    with pytest.raises(GeocoderUnavailable) as info:
        geocoder.geocode("", "39104", "")

    assert str(cache_dir / "DE.txt") in str(info.value)
    assert str(tmp_path / "nothing-here" / "DE.txt") in str(info.value)


def test_postcode_leaves_pgeocode_storage_dir_alone(source_dir: Path, cache_dir: Path) -> None:
    """pgeocode's process-wide STORAGE_DIR and DOWNLOAD_URL are restored after loading."""
    before = (pgeocode.STORAGE_DIR, list(pgeocode.DOWNLOAD_URL))

    PostcodeGeocoder(source_dir, cache_dir).geocode("", "39104", "")

    assert before == (pgeocode.STORAGE_DIR, pgeocode.DOWNLOAD_URL)
    assert (cache_dir / "DE-index.txt").is_file()  # pgeocode wrote its index where we said


# ------------------------------------------------------------------ Nominatim (HTTP)


BREITER_WEG_10 = {
    "place_id": 123,
    "licence": "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright",
    "osm_type": "node",
    "osm_id": 456,
    "lat": "52.1271",
    "lon": "11.6351",
    "class": "place",
    "type": "house",
    "place_rank": 30,
    "importance": 0.00001,
    "addresstype": "place",
    "name": "",
    "display_name": "10, Breiter Weg, Altstadt, Magdeburg, Sachsen-Anhalt, 39104, Deutschland",
    "address": {
        "house_number": "10",
        "road": "Breiter Weg",
        "suburb": "Altstadt",
        "city": "Magdeburg",
        "state": "Sachsen-Anhalt",
        "ISO3166-2-lvl4": "DE-ST",
        "postcode": "39104",
        "country": "Deutschland",
        "country_code": "de",
    },
    "boundingbox": ["52.1270", "52.1272", "11.6350", "11.6352"],
}


def nominatim(url: str, timeout_s: float = 2.0) -> NominatimGeocoder:
    return NominatimGeocoder(url, "KombiTermin-tests", timeout_s=timeout_s, min_delay_s=0.0)


def test_nominatim_sends_structured_query_and_reads_house(
    nominatim_server: FakeServer,
) -> None:
    """The structured fields reach /search and a house_number yields precision "house"."""
    nominatim_server.body = [BREITER_WEG_10]

    result = nominatim(nominatim_server.url).geocode("Breiter Weg 10", "39104", "Magdeburg")

    assert result == BREITER_WEG_10_FOUND
    [(path, params, user_agent)] = nominatim_server.requests
    assert path == "/search"
    assert params == {
        "street": ["Breiter Weg 10"],
        "postalcode": ["39104"],
        "city": ["Magdeburg"],
        "country": ["Germany"],
        "format": ["json"],
        "limit": ["1"],
        "addressdetails": ["1"],
    }
    assert user_agent == "KombiTermin-tests"


def test_nominatim_base_url_path_is_kept(nominatim_server: FakeServer) -> None:
    """A server below a path prefix (https://host/nominatim) is queried at prefix/search."""
    nominatim(nominatim_server.url + "/nominatim/").geocode("", "39104", "")
    assert nominatim_server.requests[0][0] == "/nominatim/search"


@pytest.mark.parametrize(
    ("address", "precision", "label"),
    [
        (
            {"road": "Breiter Weg", "postcode": "39104", "city": "Magdeburg"},
            "street",
            "Breiter Weg, 39104 Magdeburg",
        ),
        ({"postcode": "39104", "city": "Magdeburg"}, "postcode", "Breiter Weg 99, 39104 Magdeburg"),
    ],
)
def test_nominatim_precision_without_house_number(
    nominatim_server: FakeServer, address: dict[str, str], precision: str, label: str
) -> None:
    """A road without house number is "street"; neither road nor number is "postcode"."""
    nominatim_server.body = [BREITER_WEG_10 | {"address": address}]

    result = nominatim(nominatim_server.url).geocode("Breiter Weg 99", "39104", "Magdeburg")

    assert result is not None
    assert (result.precision, result.label) == (precision, label)


def test_nominatim_empty_answer_is_unknown(nominatim_server: FakeServer) -> None:
    """An empty JSON list from /search means the address is unknown."""
    nominatim_server.body = []
    assert nominatim(nominatim_server.url).geocode("Nirgendwo 1", "39104", "Magdeburg") is None


def test_nominatim_server_error_is_unavailable(nominatim_server: FakeServer) -> None:
    """HTTP 500 raises GeocoderUnavailable (with geopy's error as cause), without retrying."""
    nominatim_server.status = 500
    nominatim_server.body = {"error": "internal"}

    with pytest.raises(GeocoderUnavailable) as info:
        nominatim(nominatim_server.url).geocode("Breiter Weg 10", "39104", "Magdeburg")

    assert info.value.__cause__ is not None
    assert len(nominatim_server.requests) == 1


def test_nominatim_timeout_is_unavailable(nominatim_server: FakeServer) -> None:
    """A reply slower than timeout_s raises GeocoderUnavailable after a single request."""
    nominatim_server.delay_s = 0.5
    with pytest.raises(GeocoderUnavailable):
        nominatim(nominatim_server.url, timeout_s=0.1).geocode("Breiter Weg 10", "39104", "")
    assert len(nominatim_server.requests) == 1


def test_nominatim_malformed_reply_is_unavailable(nominatim_server: FakeServer) -> None:
    """A result without usable coordinates is a service fault, not an unknown address."""
    nominatim_server.body = [{"lat": "north", "lon": "11.6", "address": {}}]
    with pytest.raises(GeocoderUnavailable):
        nominatim(nominatim_server.url).geocode("Breiter Weg 10", "39104", "")


def test_nominatim_not_listening_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A port where nobody listens raises GeocoderUnavailable."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The port was free a moment ago and nothing listens on it now.
    with pytest.raises(GeocoderUnavailable):
        nominatim(f"http://127.0.0.1:{port}").geocode("Breiter Weg 10", "39104", "")


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "ftp://example.org", "http://"])
def test_nominatim_rejects_bad_urls(url: str) -> None:
    """Base URLs without http(s) scheme and host are refused at construction."""
    with pytest.raises(ValueError, match="Nominatim URL"):
        nominatim(url)


# --------------------------------------------------------------------- Photon (HTTP)


def photon(url: str, timeout_s: float = 2.0, min_delay_s: float = 0.0) -> PhotonGeocoder:
    return PhotonGeocoder(url, "KombiTermin-tests", timeout_s=timeout_s, min_delay_s=min_delay_s)


def test_photon_sends_free_text_and_reads_house(photon_server: FakeServer) -> None:
    """The address goes to /api as one line of text, in German, asking for five candidates;
    a feature with house number and street yields precision "house"."""
    photon_server.body = photon_answer(BREITER_WEG_10_PHOTON)

    result = photon(photon_server.url).geocode("Breiter Weg 10", "39104", "Magdeburg")

    assert result == BREITER_WEG_10_FOUND
    [(path, params, user_agent)] = photon_server.requests
    assert path == "/api"
    assert params == {
        "q": ["Breiter Weg 10, 39104 Magdeburg"],
        "limit": ["5"],
        "lang": ["de"],
    }
    assert user_agent == "KombiTermin-tests"


def test_photon_base_url_path_is_kept(photon_server: FakeServer) -> None:
    """A self-hosted server below a path prefix (http://host/photon) is asked at prefix/api."""
    photon(photon_server.url + "/photon/").geocode("", "39104", "Magdeburg")
    assert photon_server.requests[0][0] == "/photon/api"


def test_photon_street_feature_is_street_precision(photon_server: FakeServer) -> None:
    """A feature that is the street itself (type "street", its name the street's) is
    "street"; the customer's house number stays in the street they typed."""
    photon_server.body = photon_answer(
        photon_feature(
            52.127, 11.635, type="street", osm_key="highway", name="Breiter Weg",
            postcode="39104", city="Magdeburg",
        )
    )  # fmt: skip

    result = photon(photon_server.url).geocode("Breiter Weg 999", "39104", "Magdeburg")

    assert result is not None
    assert (result.precision, result.label) == ("street", "Breiter Weg, 39104 Magdeburg")


def test_photon_prefers_a_candidate_in_the_given_postcode(photon_server: FakeServer) -> None:
    """Of two German "Breiter Weg 10", the one in the postcode the customer gave wins, and a
    candidate abroad is never taken."""
    elsewhere = photon_feature(
        51.0, 12.0, type="house", housenumber="10", street="Breiter Weg", postcode="06108",
        city="Halle",
    )  # fmt: skip
    abroad = photon_feature(
        47.0, 8.0, countrycode="CH", type="house", housenumber="10", street="Breiter Weg",
        postcode="39104", city="Zürich",
    )  # fmt: skip
    photon_server.body = photon_answer(abroad, elsewhere, BREITER_WEG_10_PHOTON)

    result = photon(photon_server.url).geocode("Breiter Weg 10", "39104", "Magdeburg")

    assert result is not None
    assert (result.lat, result.city) == (52.1271, "Magdeburg")


def test_photon_only_abroad_is_unknown(photon_server: FakeServer) -> None:
    """Candidates outside Germany only: the address is unknown (None)."""
    photon_server.body = photon_answer(
        photon_feature(48.2, 16.4, countrycode="AT", type="city", name="Wien", postcode="1010")
    )
    assert photon(photon_server.url).geocode("Ring 1", "39104", "Wien") is None


@pytest.mark.parametrize(
    ("postcode_of_feature", "expected"),
    [("39104", "postcode"), ("39999", None), (None, None)],
    ids=["same-postcode", "other-postcode", "no-postcode"],
)
def test_photon_coarse_answer_counts_only_in_the_given_postcode(
    photon_server: FakeServer, postcode_of_feature: str | None, expected: str | None
) -> None:
    """A town or district (no street) stands for the address only when it lies in the
    postcode given: then precision "postcode"; otherwise the address is unknown."""
    properties = {"type": "city", "name": "Magdeburg", "city": "Magdeburg"}
    if postcode_of_feature:
        properties["postcode"] = postcode_of_feature
    photon_server.body = photon_answer(photon_feature(52.13, 11.62, **properties))

    result = photon(photon_server.url).geocode("Nirgendwo 1", "39104", "Magdeburg")

    assert (result.precision if result else None) == expected


def test_photon_empty_answer_is_unknown(photon_server: FakeServer) -> None:
    """An empty FeatureCollection means the address is unknown."""
    assert photon(photon_server.url).geocode("Nirgendwo 1", "39104", "Magdeburg") is None


@pytest.mark.parametrize(
    "body",
    [
        {"error": "no features"},
        photon_answer({"type": "Feature", "geometry": {}, "properties": {}}),
        photon_answer(photon_feature("north", 11.6, type="house", housenumber="1", street="X")),  # type: ignore[arg-type]
    ],
    ids=["no-features-key", "no-coordinates", "latitude-not-a-number"],
)
def test_photon_malformed_reply_is_unavailable(photon_server: FakeServer, body: Any) -> None:
    """A reply we cannot read is a service fault, not an unknown address."""
    photon_server.body = body
    with pytest.raises(GeocoderUnavailable):
        photon(photon_server.url).geocode("Breiter Weg 10", "39104", "Magdeburg")


def test_photon_server_error_is_unavailable_without_retry(photon_server: FakeServer) -> None:
    """HTTP 502 raises GeocoderUnavailable after exactly one request."""
    photon_server.status = 502
    with pytest.raises(GeocoderUnavailable) as info:
        photon(photon_server.url).geocode("Breiter Weg 10", "39104", "Magdeburg")
    assert info.value.__cause__ is not None
    assert len(photon_server.requests) == 1


def test_photon_timeout_is_unavailable(photon_server: FakeServer) -> None:
    """A reply slower than timeout_s raises GeocoderUnavailable after a single request."""
    photon_server.delay_s = 0.5
    with pytest.raises(GeocoderUnavailable):
        photon(photon_server.url, timeout_s=0.1).geocode("Breiter Weg 10", "39104", "")
    assert len(photon_server.requests) == 1


def test_photon_keeps_the_minimum_delay_between_requests(photon_server: FakeServer) -> None:
    """With min_delay_s=0.3, three lookups take at least 0.6 s: the rate limiter waits
    before the second and the third request (public servers allow about one a second)."""
    photon_server.body = photon_answer(BREITER_WEG_10_PHOTON)
    geocoder = photon(photon_server.url, min_delay_s=0.3)
    started = time.monotonic()
    for number in range(3):
        geocoder.geocode(f"Breiter Weg {number}", "39104", "Magdeburg")
    assert time.monotonic() - started >= 0.6
    assert len(photon_server.requests) == 3


@pytest.mark.parametrize("url", ["photon.example", "ftp://example.org", "http://"])
def test_photon_rejects_bad_urls(url: str) -> None:
    """Base URLs without http(s) scheme and host are refused at construction."""
    with pytest.raises(ValueError, match="Photon URL"):
        photon(url)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"user_agent": " "}, "user agent"),
        ({"timeout_s": 0}, "timeout_s must be positive"),
        ({"min_delay_s": -1}, "min_delay_s must be zero or positive"),
    ],
)
def test_remote_geocoders_check_their_settings(changes: dict[str, Any], message: str) -> None:
    """An empty user agent, a zero timeout or a negative delay is refused at construction."""
    settings: dict[str, Any] = {"user_agent": "KombiTermin-tests", "timeout_s": 1.0,
                                "min_delay_s": 0.0} | changes  # fmt: skip
    for kind in (PhotonGeocoder, NominatimGeocoder):
        with pytest.raises(ValueError, match=message):
            kind("http://127.0.0.1:9", **settings)


# -------------------------------------------------------------------- composition

MAGDEBURG = make_address()


class StubGeocoder:
    """Answers with the given outcomes in turn (address, None or exception); records calls."""

    def __init__(self, *outcomes: GeocodedAddress | Exception | None) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[str, str, str]] = []

    def geocode(self, street: str, postcode: str, city: str) -> GeocodedAddress | None:
        self.calls.append((street, postcode, city))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def test_fallback_used_when_primary_unavailable() -> None:
    """GeocoderUnavailable from the primary sends the same query to the fallback."""
    primary = StubGeocoder(GeocoderUnavailable("down"))
    fallback = StubGeocoder(MAGDEBURG)

    assert FallbackGeocoder(primary, fallback).geocode("Weg 1", "39104", "Magdeburg") is MAGDEBURG
    assert fallback.calls == [("Weg 1", "39104", "Magdeburg")]


def test_fallback_not_used_when_primary_says_unknown() -> None:
    """None from the primary is returned as is; the fallback is not asked."""
    fallback = StubGeocoder(MAGDEBURG)

    assert FallbackGeocoder(StubGeocoder(None), fallback).geocode("Weg 1", "39104", "") is None
    assert fallback.calls == []


def test_fallback_unavailable_when_both_are() -> None:
    """If the fallback is unavailable too, its GeocoderUnavailable reaches the caller."""
    both_down = FallbackGeocoder(
        StubGeocoder(GeocoderUnavailable("a")), StubGeocoder(GeocoderUnavailable("b"))
    )
    with pytest.raises(GeocoderUnavailable, match="b"):
        both_down.geocode("", "39104", "")


def test_cache_asks_inner_once_per_address() -> None:
    """Repeated queries, differing only in case and spacing, reach the inner geocoder once."""
    inner = StubGeocoder(MAGDEBURG, None)
    cache = CachingGeocoder(inner)

    assert cache.geocode("Breiter Weg 10", "39104", "Magdeburg") is MAGDEBURG
    assert cache.geocode(" breiter  weg 10", "39 104", "MAGDEBURG ") is MAGDEBURG
    assert cache.geocode("Nirgendwo 1", "39104", "Magdeburg") is None
    assert cache.geocode("Nirgendwo 1", "39104", "Magdeburg") is None
    assert len(inner.calls) == 2


def test_cache_does_not_keep_unavailable() -> None:
    """After GeocoderUnavailable the next identical query asks the inner geocoder again."""
    inner = StubGeocoder(GeocoderUnavailable("down"), MAGDEBURG)
    cache = CachingGeocoder(inner)

    with pytest.raises(GeocoderUnavailable):
        cache.geocode("", "39104", "")
    assert cache.geocode("", "39104", "") is MAGDEBURG
    assert len(inner.calls) == 2


def test_cache_forgets_least_recently_used() -> None:
    """With max_entries=2, the address not used for longest is asked again."""
    inner = StubGeocoder(None, None, None, None)
    cache = CachingGeocoder(inner, max_entries=2)

    for postcode in ["11111", "22222", "11111", "33333", "11111", "22222"]:
        cache.geocode("", postcode, "")

    assert [call[1] for call in inner.calls] == ["11111", "22222", "33333", "22222"]


# ------------------------------------------------------------------- build_geocoder


def test_build_postcode(source_dir: Path, cache_dir: Path) -> None:
    """Kind "postcode" gives the offline geocoder itself, which works end to end."""
    geocoder = build_geocoder("postcode", source_dir=source_dir, cache_dir=cache_dir)

    assert isinstance(geocoder, PostcodeGeocoder)
    result = geocoder.geocode("", "39104", "")
    assert result is not None and result.precision == "postcode"


def test_each_postcode_is_looked_up_in_the_table_once(source_dir: Path, cache_dir: Path) -> None:
    """Three addresses in 39104 and one unknown postcode asked twice: pgeocode is asked
    once per postcode, and each address still gets its own street and place."""
    geocoder = PostcodeGeocoder(source_dir, cache_dir)
    table = geocoder._load()
    asked: list[str] = []
    original = table.query_postal_code

    def counting(code: str) -> object:
        asked.append(code)
        return original(code)

    table.query_postal_code = counting  # type: ignore[method-assign]
    first = geocoder.geocode("Breiter Weg 1", "39104", "Magdeburg")
    second = geocoder.geocode("Hasselbachplatz 2", "39104", "magdeburg")
    geocoder.geocode("", "39104", "")
    assert geocoder.geocode("", "00000", "") is None
    assert geocoder.geocode("", "00000", "") is None
    assert asked == ["39104", "00000"]
    assert first is not None and second is not None
    assert (first.lat, first.lon) == (second.lat, second.lon)
    assert first.label.startswith("Breiter Weg 1") and second.label.startswith("Hasselbachplatz 2")


def test_build_nominatim_falls_back_to_postcodes(
    source_dir: Path, cache_dir: Path, nominatim_server: FakeServer
) -> None:
    """Kind "nominatim" answers from postcode centroids while the server returns 500."""
    nominatim_server.status = 500
    geocoder = build_geocoder(
        "nominatim",
        source_dir=source_dir,
        cache_dir=cache_dir,
        nominatim_url=nominatim_server.url,
        timeout_s=2.0,
    )

    result = geocoder.geocode("Breiter Weg 10", "39104", "Magdeburg")

    assert result is not None
    assert (result.precision, result.lat, result.lon) == ("postcode", 52.1243, 11.6322)
    assert len(nominatim_server.requests) == 1


def test_build_rejects_unknown_kind(tmp_path: Path) -> None:
    """An unknown kind raises ValueError listing the valid kinds."""
    with pytest.raises(ValueError, match="valid kinds: postcode, nominatim"):
        build_geocoder("google", source_dir=None, cache_dir=tmp_path)


def test_build_nominatim_needs_url(tmp_path: Path) -> None:
    """Kind "nominatim" without a URL raises ValueError."""
    with pytest.raises(ValueError, match="nominatim_url"):
        build_geocoder("nominatim", source_dir=None, cache_dir=tmp_path)


def test_build_photon_falls_back_to_postcodes(
    source_dir: Path, cache_dir: Path, photon_server: FakeServer
) -> None:
    """Kind "photon" answers from postcode centroids while the server returns 500; a second
    lookup within the pause does not ask the server again."""
    photon_server.status = 500
    geocoder = build_geocoder(
        "photon",
        source_dir=source_dir,
        cache_dir=cache_dir,
        photon_url=photon_server.url,
        timeout_s=2.0,
        min_delay_s=0.0,
    )

    first = geocoder.geocode("Breiter Weg 10", "39104", "Magdeburg")
    second = geocoder.geocode("Breiter Weg 12", "39104", "Magdeburg")

    assert first is not None and second is not None
    assert (first.precision, first.lat, first.lon) == ("postcode", 52.1243, 11.6322)
    assert len(photon_server.requests) == 1


def test_build_photon_needs_url(tmp_path: Path) -> None:
    """Kind "photon" without a URL raises ValueError."""
    with pytest.raises(ValueError, match="photon_url"):
        build_geocoder("photon", source_dir=None, cache_dir=tmp_path)


def test_build_stores_each_source_apart(source_dir: Path, cache_dir: Path) -> None:
    """The persistent store wraps only the remote geocoder, under its name; the postcode
    table (local, fast) is never stored, so a fallback answer never stands in for the
    server's."""
    names: list[str] = []

    def store(name: str, geocoder: Any) -> Any:
        names.append(name)
        return geocoder

    build_geocoder("postcode", source_dir=source_dir, cache_dir=cache_dir, store=store)
    build_geocoder(
        "nominatim", source_dir=source_dir, cache_dir=cache_dir, store=store,
        nominatim_url="http://127.0.0.1:9",
    )  # fmt: skip
    assert names == ["nominatim"]


def test_query_key_folds_case_and_spacing() -> None:
    """Case, repeated spaces and spaces inside the postcode make no new query."""
    assert query_key(" Breiter  WEG 10", "39 104", "magdeburg ") == (
        "breiter weg 10|39104|magdeburg"
    )


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pausing_geocoder_skips_a_failed_server_for_a_while() -> None:
    """After GeocoderUnavailable, the next 30 s answer "unavailable" without asking; at
    30 s the server is asked again, and it is asked as long as it answers."""
    inner = StubGeocoder(GeocoderUnavailable("down"), MAGDEBURG, None)
    clock = Clock()
    pausing = PausingGeocoder(inner, pause_s=30, clock=clock)

    with pytest.raises(GeocoderUnavailable, match="down"):
        pausing.geocode("", "39104", "")
    clock.now += 29.9
    with pytest.raises(GeocoderUnavailable, match="paused"):
        pausing.geocode("", "39104", "")
    assert len(inner.calls) == 1
    clock.now += 0.1
    assert pausing.geocode("", "39104", "") is MAGDEBURG
    assert pausing.geocode("", "39108", "") is None
    assert len(inner.calls) == 3


def test_pausing_geocoder_refuses_a_negative_pause() -> None:
    with pytest.raises(ValueError, match="pause_s"):
        PausingGeocoder(StubGeocoder(), pause_s=-1)


def test_cache_forgets_after_max_age() -> None:
    """With max_age_s=60, an answer is reused for 59.9 s and asked again at 60 s."""
    inner = StubGeocoder(MAGDEBURG, None)
    clock = Clock()
    cache = CachingGeocoder(inner, max_age_s=60, clock=clock)

    assert cache.geocode("", "39104", "") is MAGDEBURG
    clock.now += 59.9
    assert cache.geocode("", "39104", "") is MAGDEBURG
    clock.now += 0.1
    assert cache.geocode("", "39104", "") is None
    assert len(inner.calls) == 2


def test_pgeocode_data_dir_is_read_as_pgeocodes_own_folder(tmp_path, geodata_dir, migrated, app):
    """PGEOCODE_DATA_DIR holding a DE.txt in pgeocode's format is used without any GeoNames
    source: the app geocodes 39104 from it (the conversion of the fixture's rows). The
    `app` fixture empties the tables afterwards (the geocoding cache is one)."""
    from booking.services.addresses import locate
    from booking.services.geocoding import PostcodeGeocoder
    from tests.conftest import make_app

    own = tmp_path / "pgeocode-data"
    PostcodeGeocoder(geodata_dir, own).geocode("", "39104", "Magdeburg")  # writes own/DE.txt
    assert (own / "DE.txt").is_file()
    other = make_app({**migrated, "GEODATA_DIR": "", "PGEOCODE_DATA_DIR": str(own)})
    with other.app_context():
        found = locate("Breiter Weg 5", "39104", "Magdeburg")
        db.session.remove()
        db.engine.dispose()
    assert (found.postcode, found.precision) == ("39104", "postcode")
    assert abs(found.lat - 52.1243) < 1e-3
