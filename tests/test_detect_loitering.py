"""Loitering: slow at sea for hours, far from shore; agrees with Boston at-anchor reports and
with MovingPandas' stop detector on a real track."""

from __future__ import annotations

import json
import warnings
from datetime import timedelta

import numpy as np
import pytest
from _detect_data import boston, hours, positions_table

from corridor.detect.loitering import LoiteringDetector, hourly_samples, slow_runs
from corridor.detect.params import LoiteringParams
from corridor.detect.pipeline import detect_vessel
from corridor.detect.tracks import segment_track

BOSTON = "ais-positions/noaa-boston-2014/ais.gpkg"


def _drift(lat0: float, lon0: float, n: int, step_deg: float, every_h: float = 0.25):
    h = np.arange(n) * every_h
    return hours(*h), lat0 + np.arange(n) * step_deg, np.full(n, lon0)


def test_six_slow_hours_in_mid_ocean_are_one_loitering_event():
    ts, lat, lon = _drift(30.0, -150.0, 25, 0.0005)  # ~0.2 kn for 6 h, 1000+ nm offshore
    (ev,) = detect_vessel(positions_table(1, ts, lat, lon)).events.to_pylist()
    a = json.loads(ev["attrs"])
    assert ev["type"] == "loitering"
    assert a["duration_hours"] == pytest.approx(6.0)
    assert a["average_speed_knots"] < 2.0
    assert a["mean_distance_from_shore_nm"] > 500
    assert a["params"]["min_duration_hours"] == 4.0 and len(ev["evidence"]) == 3


def test_three_slow_hours_or_a_fast_ship_are_not_loitering():
    ts, lat, lon = _drift(30.0, -150.0, 13, 0.0005)  # 3 h
    assert detect_vessel(positions_table(1, ts, lat, lon)).events.num_rows == 0
    ts, lat, lon = _drift(30.0, -150.0, 40, 0.02)  # ~10 kn
    assert detect_vessel(positions_table(1, ts, lat, lon)).events.num_rows == 0


def test_slow_near_shore_is_recorded_only_when_the_threshold_allows():
    ts, lat, lon = _drift(42.35, -70.95, 25, 0.0005)  # Boston outer harbour
    tr, _ = segment_track(positions_table(1, ts, lat, lon))
    from corridor.shore import distance_to_shore_m

    args = (1, "s", tr.obs_id, tr.ts, tr.lat, tr.lon)
    assert LoiteringDetector(LoiteringParams(), distance_to_shore_m).apply(*args) == []
    (ev,) = LoiteringDetector(LoiteringParams(min_shore_distance_nm=0.0),
                              distance_to_shore_m).apply(*args)
    assert json.loads(ev["attrs"])["mean_distance_from_shore_nm"] < 20


def test_hourly_sampling_ignores_gps_jitter_between_close_fixes():
    # stationary with 30 m jitter every 10 s: fix-to-fix implied speed ~6 kn, hourly ~0
    n = 6 * 360
    rng = np.random.default_rng(0)
    ts = hours(*(np.arange(n) * 10 / 3600))
    lat = 30.0 + rng.normal(0, 0.0002, n)
    runs = slow_runs(ts, lat, np.full(n, -150.0), LoiteringParams())
    assert len(hourly_samples(ts)) == 6 and runs == [(0, int(hourly_samples(ts)[-1]))]


def _boston_stops(track, **kw):
    tr, _ = segment_track(track)
    p = LoiteringParams(min_duration_hours=2.0, max_sample_gap_hours=48.0, **kw)
    return tr, [(int(tr.ts[a]), int(tr.ts[b])) for a, b in slow_runs(tr.ts, tr.lat, tr.lon, p)]


def test_boston_at_anchor_period_is_a_slow_run(data_dir):
    """257990100 reports status 1 (at anchor) from 2014-01-06 05:59 to 01-07 04:21."""
    track, status = boston(data_dir / BOSTON)[257990100]
    ts = track["ts"].cast("int64").to_numpy()
    anchor = ts[status == 1]
    _, runs = _boston_stops(track)
    covering = [r for r in runs if r[0] <= anchor.min() + 3.6e9 and r[1] >= anchor.max() - 3.6e9]
    assert len(covering) == 1
    # and no slow run while it reported being under way at speed
    fast = ts[(status == 0) & (track["sog"].to_numpy(zero_copy_only=False) > 5)]
    assert not any(((fast > a) & (fast < b)).any() for a, b in runs)


def test_movingpandas_stop_detector_agrees_on_a_real_track(data_dir):
    """MovingPandas TrajectoryStopDetector (500 m diameter, 2 h) vs corridor's slow runs
    (< 2 kn hourly, 2 h, silences up to 48 h bridged as MovingPandas does) on Boston
    215020081: the same three stops, each boundary within an hour (ours are hourly)."""
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optional Stone Soup dependency
        import movingpandas as mpd
    track, _ = boston(data_dir / BOSTON)[215020081]
    tr, ours = _boston_stops(track)
    df = pd.DataFrame({"t": pd.to_datetime(tr.ts, unit="us"), "x": tr.lon, "y": tr.lat})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traj = mpd.Trajectory(df, 1, t="t", x="x", y="y", crs="EPSG:4326")
        stops = mpd.TrajectoryStopDetector(traj).get_stop_points(
            max_diameter=500, min_duration=timedelta(hours=2))
    theirs = [(pd.Timestamp(a).value // 1000, pd.Timestamp(b).value // 1000)
              for a, b in zip(stops["start_time"], stops["end_time"], strict=True)]
    assert len(theirs) == len(ours) == 3
    for (a1, b1), (a2, b2) in zip(sorted(ours), sorted(theirs), strict=True):
        assert abs(a1 - a2) <= 3.6e9 and abs(b1 - b2) <= 3.6e9
