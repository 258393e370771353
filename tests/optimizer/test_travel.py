"""Tests for optimizer.travel: geodesic legs and the memo in front of a provider."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import pytest
from geopy.distance import great_circle

from optimizer.domain import Location
from optimizer.travel import ZERO_LEG, GeodesicTravelTime, Leg, Places, TravelTimes
from tests.optimizer.lineworld import LineWorld, line_leg, mark

MAGDEBURG_HBF = Location(52.1307, 11.6270)
MAGDEBURG_DOM = Location(52.1245, 11.6341)


def straight_meters(a: Location, b: Location) -> float:
    return great_circle((a.lat, a.lon), (b.lat, b.lon)).meters


# --- Leg ------------------------------------------------------------------------------


def test_leg_cannot_be_negative():
    """Negative seconds or metres are refused."""
    with pytest.raises(ValueError, match="cannot be negative"):
        Leg(-1, 0)
    with pytest.raises(ValueError, match="cannot be negative"):
        Leg(0, -1)


# --- GeodesicTravelTime ---------------------------------------------------------------


def test_straight_line_hbf_to_dom_is_about_850_m():
    """The straight line Hauptbahnhof → Dom is about 0.85 km (sanity of the test points)."""
    assert 800 < straight_meters(MAGDEBURG_HBF, MAGDEBURG_DOM) < 900


def test_geodesic_leg_with_no_circuity_at_36_kmh():
    """Circuity 1 and 36 km/h = 10 m/s: metres = geodesic, seconds = metres / 10."""
    d = straight_meters(MAGDEBURG_HBF, MAGDEBURG_DOM)
    leg = GeodesicTravelTime(circuity=1.0, speed_kmh=36.0).leg(MAGDEBURG_HBF, MAGDEBURG_DOM)
    assert leg == Leg(seconds=round(d / 10), meters=round(d))


def test_geodesic_leg_with_the_defaults():
    """Defaults 1.3 × geodesic at 30 km/h (= 30/3.6 m/s): about 1.1 km in about 2 min."""
    d = straight_meters(MAGDEBURG_HBF, MAGDEBURG_DOM)
    leg = GeodesicTravelTime().leg(MAGDEBURG_HBF, MAGDEBURG_DOM)
    assert leg == Leg(seconds=round(d * 1.3 / (30 / 3.6)), meters=round(d * 1.3))
    assert 1_000 < leg.meters < 1_200 and 120 < leg.seconds < 145


def test_circuity_scales_metres_and_seconds():
    """Doubling circuity doubles the road metres and, at equal speed, the seconds."""
    d = straight_meters(MAGDEBURG_HBF, MAGDEBURG_DOM)
    leg = GeodesicTravelTime(circuity=2.0, speed_kmh=36.0).leg(MAGDEBURG_HBF, MAGDEBURG_DOM)
    # 2 d metres at 10 m/s take 2 d / 10 s.
    assert leg == Leg(seconds=round(2 * d / 10), meters=round(2 * d))


def test_speed_scales_only_the_seconds():
    """Driving at 72 km/h (20 m/s) halves the time of 36 km/h and keeps the metres."""
    d = straight_meters(MAGDEBURG_HBF, MAGDEBURG_DOM)
    leg = GeodesicTravelTime(circuity=1.0, speed_kmh=72.0).leg(MAGDEBURG_HBF, MAGDEBURG_DOM)
    assert leg == Leg(seconds=round(d / 20), meters=round(d))


def test_geodesic_same_location_is_the_zero_leg():
    """A leg from a place to itself is zero seconds and zero metres."""
    assert GeodesicTravelTime().leg(MAGDEBURG_DOM, MAGDEBURG_DOM) == ZERO_LEG


def test_geodesic_matrix_has_a_row_per_origin():
    """matrix(origins, destinations)[i][j] is the leg origins[i] → destinations[j]."""
    g = GeodesicTravelTime()
    rows = g.matrix([MAGDEBURG_HBF, MAGDEBURG_DOM], [MAGDEBURG_DOM])
    assert rows == [[g.leg(MAGDEBURG_HBF, MAGDEBURG_DOM)], [ZERO_LEG]]


def test_bulk_arrays_equal_the_single_legs():
    """An offer times a route with bulk legs and the booking re-checks it with single
    ones: both must agree exactly, also where a value ends in .5 after scaling."""
    rng = random.Random(7)
    points = [Location(rng.uniform(51.9, 52.4), rng.uniform(11.3, 12.0)) for _ in range(60)]
    g = GeodesicTravelTime()
    seconds, meters = g.arrays(points, points[:20])
    for i, a in enumerate(points):
        for j, b in enumerate(points[:20]):
            assert g.leg(a, b) == Leg(int(seconds[i, j]), int(meters[i, j]))
    memo = TravelTimes(g)
    assert (memo.arrays(points, points[:20])[0] == seconds).all()


def test_places_with_their_coordinates_give_the_same_legs_as_a_plain_list():
    """`Places` is a tuple of locations carrying its coordinate array; legs from and to it
    are those of the same locations as a list, the place to itself included."""
    rng = random.Random(8)
    points = [Location(rng.uniform(51.9, 52.4), rng.uniform(11.3, 12.0)) for _ in range(30)]
    places = Places(points)
    assert list(places) == points
    assert places.coordinates.tolist() == [[p.lat, p.lon] for p in points]
    memo = TravelTimes(GeodesicTravelTime())
    for origins, destinations in ((places, points[:3]), (points[:3], places)):
        plain = memo.arrays(list(origins), list(destinations))
        fast = memo.arrays(origins, destinations)
        assert all((a == b).all() for a, b in zip(plain, fast, strict=True))
    assert memo.arrays(places, [points[4]])[0][4, 0] == 0


def test_memo_arrays_of_a_plain_provider_come_from_single_legs():
    """A provider without `arrays` (the line world) is asked in bulk through the memo."""
    world = LineWorld()
    memo = TravelTimes(world)
    seconds, meters = memo.arrays([mark(3), mark(5)], [mark(10), mark(3)])
    assert seconds.tolist() == [[420, 0], [300, 120]]
    assert meters.tolist() == [[7000, 0], [5000, 2000]]


@pytest.mark.parametrize(
    ("circuity", "speed", "message"),
    [(0.9, 30.0, "circuity"), (3.1, 30.0, "circuity"), (1.3, 0.5, "speed"),
     (1.3, 201.0, "speed")],
)
def test_geodesic_parameters_are_checked(circuity, speed, message):
    """Circuity outside [1, 3] and speed outside [1, 200] km/h are refused."""
    with pytest.raises(ValueError, match=message):
        GeodesicTravelTime(circuity=circuity, speed_kmh=speed)


# --- TravelTimes (the memo) -----------------------------------------------------------


def test_line_world_is_minutes_and_kilometres():
    """The test helper itself: marks 3 → 10 are 7 min and 7 km apart, both ways."""
    world = LineWorld()
    assert world.matrix([mark(3)], [mark(10)]) == [[Leg(420, 7000)]]
    assert world.matrix([mark(10)], [mark(3)]) == [[Leg(420, 7000)]]


def test_memo_asks_the_provider_once_per_leg():
    """A repeated leg is answered from the memo: one provider call for two questions."""
    world = LineWorld()
    travel = TravelTimes(world)
    assert travel.leg(mark(0), mark(5)) == line_leg(0, 5)  # 5 min, 5 km
    assert travel.leg(mark(0), mark(5)) == line_leg(0, 5)
    assert travel.seconds(mark(0), mark(5)) == 300
    assert world.calls == [((0,), (5,))]


def test_memo_keeps_directions_apart():
    """a → b and b → a are separate entries (providers may be asymmetric)."""
    world = LineWorld()
    travel = TravelTimes(world)
    travel.leg(mark(0), mark(5))
    travel.leg(mark(5), mark(0))
    assert world.calls == [((0,), (5,)), ((5,), (0,))]


def test_same_location_is_zero_without_asking_the_provider():
    """A leg from a place to itself is the zero leg and costs no provider call."""
    world = LineWorld()
    assert TravelTimes(world).leg(mark(4), mark(4)) == ZERO_LEG
    assert world.calls == []


def test_prefetch_asks_once_in_bulk_then_legs_are_free():
    """prefetch makes one matrix call (deduplicated); later legs need no call."""
    world = LineWorld()
    travel = TravelTimes(world)
    stops = [mark(0), mark(2), mark(2), mark(7)]  # mark 2 twice: asked once
    travel.prefetch(stops, stops)
    assert world.calls == [((0, 2, 7), (0, 2, 7))]
    assert travel.leg(mark(2), mark(7)) == line_leg(2, 7)
    assert travel.leg(mark(7), mark(0)) == line_leg(7, 0)
    travel.prefetch(stops, stops)  # everything known: no second call
    assert len(world.calls) == 1


def test_prefetch_asks_only_for_origins_with_missing_legs():
    """An origin whose legs are all known is left out of the bulk request."""
    world = LineWorld()
    travel = TravelTimes(world)
    travel.prefetch([mark(0)], [mark(1), mark(2)])
    travel.prefetch([mark(0), mark(5)], [mark(1), mark(2)])
    assert world.calls == [((0,), (1, 2)), ((5,), (1, 2))]


def test_memo_is_bounded():
    """Past max_entries the memo is reset, so a forgotten leg is asked again."""
    world = LineWorld()
    travel = TravelTimes(world, max_entries=2)
    travel.leg(mark(0), mark(1))
    travel.leg(mark(0), mark(2))  # memo now full (2 entries)
    travel.leg(mark(0), mark(3))  # no room: reset, then store 0 → 3
    travel.leg(mark(0), mark(1))  # forgotten: asked again
    assert [c[1] for c in world.calls] == [(1,), (2,), (3,), (1,)]


class FlatBulk:
    """A provider with its own bulk `arrays`: every leg 60 s and 100 m, even to itself."""

    def arrays(
        self, origins: Sequence[Location], destinations: Sequence[Location]
    ) -> tuple[np.ndarray, np.ndarray]:
        shape = (len(origins), len(destinations))
        return np.full(shape, 60, dtype=np.int64), np.full(shape, 100, dtype=np.int64)


def test_bulk_arrays_zero_exactly_the_legs_from_a_place_to_itself():
    """Same latitude or same longitude is not the same place; only both make a zero leg."""
    here, same_lat, same_lon = Location(52.1, 11.6), Location(52.1, 11.7), Location(52.2, 11.6)
    seconds, meters = TravelTimes(FlatBulk()).arrays([here, same_lat], [here, same_lat, same_lon])
    assert seconds.tolist() == [[0, 60, 60], [60, 0, 60]]
    assert meters.tolist() == [[0, 100, 100], [100, 0, 100]]
