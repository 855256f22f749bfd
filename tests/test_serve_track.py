"""Track thinning for the map (:mod:`corridor.serve.track`): pure function over Arrow."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa

from corridor.serve.track import ThinParams, TrackCache, thin_track


def _track(n: int, gap_after: int | None = None) -> pa.Table:
    """A straight run east with a wiggle every 10th position; a 12 h silence after ``gap_after``."""
    t0 = datetime(2023, 9, 1)
    ts = [t0 + timedelta(minutes=10 * i) + (timedelta(hours=12) if gap_after is not None and i > gap_after
                                              else timedelta(0)) for i in range(n)]
    lon = np.linspace(130.0, 131.0, n)
    lat = 42.0 + np.where(np.arange(n) % 10 == 5, 0.01, 0.0)
    return pa.table({"obs_id": pa.array(np.arange(n, dtype=np.int64) + (1 << 62)),
                     "ts": pa.array(ts, pa.timestamp("us")), "lat": lat, "lon": lon,
                     "sog": pa.array([10.0] * n, pa.float32())})


def test_thinning_keeps_shape_ends_and_ids():
    tbl = _track(500)
    coarse = thin_track(tbl, ThinParams(zoom=3))
    fine = thin_track(tbl, ThinParams(zoom=16))
    assert coarse["positions"] == fine["positions"] == 500
    assert coarse["points"] == 2  # the wiggles (0.01 deg) are below a pixel at zoom 3
    assert fine["points"] > 100  # and above one at zoom 16: every wiggle is kept
    seg = fine["segments"][0]
    assert seg["obs_id"][0] == str(1 << 62) and seg["obs_id"][-1] == str((1 << 62) + 499)
    assert all(len(seg[k]) == fine["points"] for k in ("coords", "ts", "obs_id", "sog"))
    assert seg["ts"] == sorted(seg["ts"])


def test_track_is_cut_at_a_silence_and_capped():
    tbl = _track(300, gap_after=149)
    out = thin_track(tbl, ThinParams(zoom=16, break_hours=6))
    assert [len(s["coords"]) > 0 for s in out["segments"]] == [True, True]
    assert out["segments"][0]["obs_id"][-1] == str((1 << 62) + 149)
    assert out["segments"][1]["obs_id"][0] == str((1 << 62) + 150)
    capped = thin_track(tbl, ThinParams(zoom=22, max_points=20))
    assert capped["points"] <= 20 + 4 and len(capped["segments"]) == 2


def test_empty_track():
    assert thin_track(_track(0)) == {"segments": [], "positions": 0, "points": 0}


def test_track_cache_reads_again_after_a_write_and_stays_bounded():
    reads = []

    def reader(n):
        def read():
            reads.append(n)
            return _track(n)
        return read

    cache = TrackCache(max_rows=250)
    assert cache.get("a", 1, reader(100)).num_rows == 100
    assert cache.get("a", 1, reader(100)).num_rows == 100 and reads == [100]  # kept
    cache.get("a", 2, reader(100))  # the store changed: read again
    assert reads == [100, 100]
    cache.get("b", 2, reader(100))
    cache.get("c", 2, reader(100))  # 300 rows > 250: "a", the least recently used, goes
    cache.get("b", 2, reader(100))
    assert reads == [100, 100, 100, 100]
    cache.get("a", 2, reader(100))
    assert reads == [100, 100, 100, 100, 100]
    cache.get("huge", 2, reader(300))  # larger than the whole cache: returned, not kept
    cache.get("huge", 2, reader(300))
    assert reads[-2:] == [300, 300]
