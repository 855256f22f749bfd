"""The Spark engine's per-vessel tasks: every position read by exactly one task, vessels whole,
rows in the local engine's order.

No Spark needed: the tasks are planned on the driver from the archive's files and read in the
Python workers with pyarrow, so planning and reading are tested here directly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from corridor import archive
from corridor.engines.spark import read_task, vessel_tasks
from corridor.ids import position_obs_ids
from corridor.schema import POSITIONS

N_BUCKETS = 8


def _positions(vessels: int, per_vessel: int, days: int = 3) -> pa.Table:
    mmsi = np.repeat(np.arange(vessels, dtype=np.int64) + 273_000_000, per_vessel)
    step = days * 86_400_000_000 // per_vessel
    t0 = np.datetime64("2023-09-07T00:00:00", "us").astype(np.int64)
    ts = t0 + np.tile(np.arange(per_vessel, dtype=np.int64) * step, vessels)
    lat = 40.0 + (mmsi % 100) / 100.0
    lon = 130.0 + np.tile(np.arange(per_vessel) / per_vessel, vessels)
    n = mmsi.size
    return pa.table({
        "obs_id": position_obs_ids(mmsi, ts, lat, lon, np.ones(n)), "mmsi": mmsi,
        "ts": pa.array(ts.astype("datetime64[us]"), pa.timestamp("us")), "lat": lat, "lon": lon,
        "sog": pa.array(np.full(n, 10.0), pa.float32()), "cog": pa.nulls(n, pa.float32()),
        "heading": pa.nulls(n, pa.int16()), "nav_status": pa.nulls(n, pa.int8()),
        "msg_type": pa.array(np.ones(n), pa.int8()), "source": pa.array(["simulated"] * n),
    }).cast(POSITIONS)


@pytest.fixture(scope="module")
def arc(tmp_path_factory) -> tuple[Path, pa.Table]:
    d = tmp_path_factory.mktemp("arc") / "archive"
    pos = _positions(vessels=40, per_vessel=500)
    archive.append_positions(pos, d, n_buckets=N_BUCKETS)
    return d, pos


@pytest.mark.parametrize(("target_rows", "min_tasks"), [(2_000_000, 1), (3_000, 1), (700, 1),
                                                         (2_000_000, 5)])
def test_every_position_in_exactly_one_task_and_every_vessel_whole(arc, target_rows, min_tasks):
    d, pos = arc
    tasks = vessel_tasks(d, target_rows, min_tasks=min_tasks)
    assert tasks
    parts = [read_task(t, N_BUCKETS) for t in tasks]
    got = pa.concat_tables(parts)
    assert got.schema == POSITIONS
    assert sorted(got["obs_id"].to_pylist()) == sorted(pos["obs_id"].to_pylist())
    owner: dict[int, int] = {}
    for i, part in enumerate(parts):
        for m in pc.unique(part["mmsi"]).to_pylist():
            assert owner.setdefault(m, i) == i, f"vessel {m} split over tasks"
    for part in parts:  # sorted as the local engine reads positions: mmsi, ts, obs_id
        key = [("mmsi", "ascending"), ("ts", "ascending"), ("obs_id", "ascending")]
        assert part.equals(part.sort_by(key))
    rows = [p.num_rows for p in parts]
    if target_rows == 2_000_000 and min_tasks == 1:  # all 20,000 rows fit one task
        assert len(tasks) == 1
    if target_rows == 700:  # each bucket (~2,500 rows) is split into shares
        assert max(rows) < 2_500 and any(t.parts > 1 for t in tasks)
    if min_tasks == 5:  # enough tasks for five cores
        assert len(tasks) >= 5


def test_the_plan_is_the_same_whatever_the_order_files_are_listed(arc):
    d, _ = arc
    assert vessel_tasks(d, 3_000) == vessel_tasks(d, 3_000)
