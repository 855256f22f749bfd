"""Resampling onto the 10-minute grid: GFW's unit case, antimeridian, gaps, shared MMSIs."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pyarrow as pa
import pytest

from corridor.detect.resample import GRID, ResampleParams, resample_positions

T0 = dt.datetime(2024, 3, 1, 0, 0)


def _tab(rows, segment=None):
    """rows: (mmsi, minutes after T0, lat, lon)."""
    t = {
        "mmsi": [r[0] for r in rows],
        "ts": [T0 + dt.timedelta(minutes=r[1]) for r in rows],
        "lat": [float(r[2]) for r in rows],
        "lon": [float(r[3]) for r in rows],
        "obs_id": list(range(100, 100 + len(rows))),
    }
    if segment is not None:
        t["segment_id"] = segment
    return pa.table(t)


def test_gfw_resample_unit_case(data_dir):
    case = json.loads((data_dir / "gfw-fixtures/pipe-encounters/expected_encounters.json")
                      .read_text())["resample_unit_test"]
    ts = [dt.datetime.fromisoformat(r[0].replace("Z", "")) for r in case["input"]]
    pos = pa.table({"mmsi": [7] * len(ts), "ts": ts,
                    "lat": [r[1] for r in case["input"]], "lon": [r[2] for r in case["input"]],
                    "obs_id": list(range(len(ts)))})
    # GFW's case allows a 1 h gap; its 1 degree jump in 4 minutes is data, not a second vessel
    g = resample_positions(pos, ResampleParams(max_gap_hours=1.0, max_interp_speed_knots=math.inf))
    assert g.schema == GRID
    # GFW extrapolates after the last report in this unit case; we never extrapolate, so the
    # expected rows are those up to the last report (02:22)
    last = max(ts)
    expected = [e for e in case["expected"]
                if dt.datetime.fromisoformat(e[0].replace("Z", "")) <= last]
    assert len(expected) == 8
    got = g.to_pylist()
    assert [r["ts"] for r in got] == [dt.datetime.fromisoformat(e[0].replace("Z", ""))
                                      for e in expected]
    for r, e in zip(got, expected, strict=True):
        assert r["lat"] == pytest.approx(e[1]) and r["lon"] == pytest.approx(e[2])
        assert r["point_density"] == pytest.approx(e[3])
    # the 72-minute gap (00:26 -> 01:38) is not filled
    assert not any(dt.time(0, 30) <= r["ts"].time() <= dt.time(1, 30) for r in got)


def test_interpolates_across_the_antimeridian_the_short_way():
    g = resample_positions(_tab([(1, 5, 10.0, 179.95), (1, 25, 10.0, -179.95)]))
    lons = g["lon"].to_pylist()
    assert len(lons) == 2  # 00:10 and 00:20
    assert lons[0] == pytest.approx(179.975) and lons[1] == pytest.approx(-179.975)


def test_gap_longer_than_max_is_not_interpolated_and_grid_is_aligned():
    g = resample_positions(_tab([(1, 3, 0, 0), (1, 33, 0, 0.01), (1, 123, 0, 0.02)]))
    assert [r.minute for r in g["ts"].to_pylist()] == [10, 20, 30]
    assert all(t.second == 0 for t in g["ts"].to_pylist())


def test_impossible_jump_between_two_vessels_sharing_an_mmsi_is_not_interpolated():
    # one MMSI, reports alternating between two places 500 km apart
    rows = [(5, m, 0.0, 0.0 if i % 2 == 0 else 4.5) for i, m in enumerate(range(3, 60, 5))]
    g = resample_positions(_tab(rows))
    assert g.num_rows == 0
    # with track cleaning's segments the two vessels are resampled separately
    seg = ["a" if i % 2 == 0 else "b" for i in range(len(rows))]
    g2 = resample_positions(_tab(rows, segment=seg))
    by_seg = {s: set(np.round(g2.filter(pa.compute.equal(g2["segment_id"], s))["lon"]
                              .to_numpy(), 6)) for s in ("a", "b")}
    assert by_seg == {"a": {0.0}, "b": {4.5}}


def test_order_and_duplicates_do_not_matter_and_evidence_brackets_the_point():
    rows = [(2, 0, 0, 0), (2, 20, 0, 0.02), (2, 20, 0, 0.03), (3, 5, 1, 1), (3, 15, 1, 1.01)]
    t = _tab(rows)
    g1 = resample_positions(t)
    g2 = resample_positions(t.take(pa.array([4, 2, 0, 3, 1])))
    assert g1.equals(g2)  # of two reports at one time, the lowest obs_id is kept
    r = g1.filter(pa.compute.equal(g1["mmsi"], 3)).to_pylist()
    assert len(r) == 1 and r[0]["obs_before"] == 103 and r[0]["obs_after"] == 104
    assert r[0]["lon"] == pytest.approx(1.005)
    v2 = g1.filter(pa.compute.equal(g1["mmsi"], 2))
    assert v2["prev_ts"].to_pylist()[0] is None
    assert v2["prev_ts"].to_pylist()[1] == T0


def test_rows_without_a_usable_position_are_left_out_not_fatal():
    t = pa.table({
        "mmsi": [1, 1, 1, 1],
        "ts": [T0 + dt.timedelta(minutes=m) for m in (5, 8, 15, 25)],
        "lat": [0.0, None, float("nan"), 0.0],
        "lon": [0.0, 0.0, 200.0, 0.02],
        "obs_id": [1, 2, 3, 4],
    })
    g = resample_positions(t)
    assert g["lon"].to_pylist() == pytest.approx([0.005, 0.015])
    assert resample_positions(t.slice(1, 2)).num_rows == 0
