"""Distance from shore and land/sea from the bundled Natural Earth 1:10m land."""

from __future__ import annotations

import numpy as np
import pytest

from corridor import shore
from corridor.geo import EARTH_RADIUS_M


def exact_m(lat: float, lon: float) -> float:
    """Reference: great-circle distance to every coastline edge, no index, no raster."""
    coast = shore.load_land().coast
    return float(coast.edge_distance_m(lat, lon, np.arange(len(coast.a))).min())


def test_vladivostok_golden_horn_is_sea_and_close_to_shore():
    lat, lon = np.array([43.108]), np.array([131.905])  # inside Zolotoy Rog bay
    assert not shore.on_land(lat, lon)[0]
    assert 0 < shore.distance_to_shore_m(lat, lon)[0] < 1_000


def test_mid_pacific_is_far_from_shore():
    d = shore.distance_to_shore_m(np.array([30.0]), np.array([-150.0]))[0]
    assert d > 1_000_000
    assert d == pytest.approx(exact_m(30.0, -150.0), rel=0.01)


def test_inland_points_are_on_land_with_zero_distance():
    lat = np.array([45.85, 42.26, 55.75])  # Tikhoretsk, Rajin town, Moscow
    lon = np.array([40.12, 130.29, 37.62])
    assert shore.on_land(lat, lon).all()
    assert (shore.distance_to_shore_m(lat, lon) == 0).all()


def test_distances_near_rajin_match_brute_force_exactly():
    rng = np.random.default_rng(7)
    lat = rng.uniform(41.8, 42.6, 16)
    lon = rng.uniform(130.0, 131.2, 16)
    d = shore.distance_to_shore_m(lat, lon)
    land = shore.on_land(lat, lon)
    assert land.any() and (~land).any()
    for i in np.flatnonzero(~land):
        ref = exact_m(lat[i], lon[i])
        assert d[i] == pytest.approx(ref, abs=max(1.0, 1e-3 * ref))


@pytest.mark.parametrize(
    "lat, lon",
    [(-16.9, 179.999), (-16.9, -179.999), (-17.3, 180.0), (64.5, 179.9), (64.5, -179.9),
     (65.5, -179.0)],
)
def test_antimeridian_points_fiji_and_chukotka(lat, lon):
    d = shore.distance_to_shore_m(np.array([lat]), np.array([lon]))[0]
    if shore.on_land(np.array([lat]), np.array([lon]))[0]:
        assert d == 0
    else:
        ref = exact_m(lat, lon)
        assert d == pytest.approx(ref, abs=max(1.0, 1e-3 * ref))
        # Natural Earth's cut along 180 degrees is not coast: a point 100 m off the
        # meridian must not be 100 m from shore because of it.
        assert d > 1_000


def test_same_point_either_side_of_antimeridian_gives_same_distance():
    d = shore.distance_to_shore_m(np.array([-17.3, -17.3]), np.array([180.0, -180.0]))
    assert d[0] == pytest.approx(d[1], abs=1.0)


def test_chukotka_land_across_the_antimeridian():
    # Chukotka peninsula spans 180 degrees: inland points on both sides are land.
    assert shore.on_land(np.array([67.0, 67.0]), np.array([179.5, -179.5])).all()


def test_vectorised_shapes_and_empty_input():
    assert shore.distance_to_shore_m(np.array([]), np.array([])).shape == (0,)
    assert shore.on_land(np.array([]), np.array([])).shape == (0,)
    lat = np.full(1000, 43.0)
    lon = np.linspace(131.0, 134.0, 1000)
    d = shore.distance_to_shore_m(lat, lon)
    assert d.shape == (1000,) and np.isfinite(d).all() and (d >= 0).all()


def test_grid_answers_agree_with_exact_search_on_random_points():
    land = shore.load_land()
    rng = np.random.default_rng(3)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 3000)))
    lon = rng.uniform(-180, 180, 3000)
    fast = land.distance_to_shore_m(lat, lon)
    exact = land.exact_distance_to_shore_m(lat, lon)
    assert (land.on_land(lat, lon) == land.exact_on_land(lat, lon)).all()
    err = np.abs(fast - exact)
    assert err.max() <= shore.FAR_ABS_ERROR_M
    # Within FAR_FROM_SHORE_M of a coast the answer is the exact search itself.
    near = exact < shore.FAR_FROM_SHORE_M
    assert near.sum() > 1000 and (err[near] <= np.maximum(1.0, 1e-3 * exact[near])).all()
    # The exact search itself against every edge, for a few of them.
    for i in np.flatnonzero((exact > 0) & near)[:3]:
        assert exact[i] == pytest.approx(exact_m(lat[i], lon[i]), abs=max(1.0, 1e-3 * exact[i]))


def test_segment_index_distance_is_spherical_not_degrees():
    # One edge along the equator; a point 1 degree of latitude north at 60N-equivalent.
    idx = shore.SegmentIndex.from_edges(np.array([[60.0, 0.0]]), np.array([[60.0, 2.0]]))
    d, e = idx.distance_m(np.array([60.0]), np.array([4.0]))
    # Nearest point is the end (60N, 2E): 2 degrees of longitude at 60N ~ 111 km.
    ref = 2 * EARTH_RADIUS_M * np.arcsin(np.cos(np.radians(60)) * np.sin(np.radians(1.0)))
    assert d[0] == pytest.approx(ref, rel=1e-9) and e[0] == 0


def test_unusable_positions_give_nan_not_an_error():
    lat = np.array([np.nan, 91.0, 43.108])
    lon = np.array([131.9, 131.9, 131.905])
    d = shore.distance_to_shore_m(lat, lon)
    assert np.isnan(d[:2]).all() and 0 < d[2] < 1_000
    assert shore.on_land(lat, lon).tolist() == [False, False, False]
