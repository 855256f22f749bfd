"""Every way the Spark engine can run an archive gives the local engine's events and segment
runs, id for id.

A small archive finishes in one Python task (``gathered``): on one core the whole run is one
Spark task (its per-vessel tasks one after the other); on several, the per-vessel tasks'
results are gathered into one task for encounters and identity. A large one (here forced
with ``gather_rows=0``) runs encounters and identity in distributed stages (``staged``).

The data mixes the hand-built edge scenarios of ``test_engine_spark`` (encounters across
bucket edges, the antimeridian, a shared MMSI, a gap) with one day of real US AIS (one
vessel in 20: port visits, gaps, identity changes).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from corridor import archive
from corridor.engines import spark as sp
from corridor.ingest.summary import ingest_file
from corridor.ingest.tables import table_parser
from corridor.places import load_gazetteer
from corridor.store import Store

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark():
    session = sp.spark_session("local[2]", shuffle_partitions=4)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def case(tmp_path_factory, data_dir: Path) -> dict:
    from test_engine_spark import edge_scenario, local_events

    tmp = tmp_path_factory.mktemp("paths")
    with Store.open(tmp / "paths.duckdb") as store:
        f = data_dir / "ais-positions/noaa-us-2022-01-03/AISdata_2022-01-03_first99999.parquet"
        assert ingest_file(store, f, "positions", table_parser()).status == "done"
        for t in ("positions", "vessel_reports"):
            store.con.execute(f"DELETE FROM {t} WHERE (mmsi // 10) % 20 <> 0")
        store.insert_arrow("positions", edge_scenario())
        load_gazetteer(store)
        local = local_events(store)
        segments = store.query("SELECT mmsi, segment_id, start_ts, end_ts, positions FROM segments")
        archive.export_positions(store, tmp / "archive", n_buckets=8)
    types = set(local["type"].to_pylist())
    assert {"encounter", "gap", "identity_change", "port_visit", "position_conflict"} <= types
    return {"dir": tmp, "local": local, "segments": segments}


def _sorted(t: pa.Table, keys: list[str]) -> list[dict]:
    return t.sort_by([(k, "ascending") for k in keys]).to_pylist()


@pytest.mark.parametrize(("kw", "mode", "tasks"), [
    ({"cores": 1}, "gathered", 1),  # the whole run is one Spark task
    ({"cores": 1, "target_rows": 3_000}, "gathered", 3),  # one Spark task, task after task
    ({"target_rows": 3_000}, "gathered", 3),  # on two cores, then gathered into one task
    ({"gather_rows": 0}, "staged", 2),  # encounters and identity in distributed stages
])
def test_every_path_gives_the_local_engines_events_and_segments(spark, case, kw, mode, tasks):
    from test_engine_spark import assert_same

    out = case["dir"] / f"out-{mode}-{tasks}-{len(kw)}"
    s = sp.run_detect_spark(case["dir"] / "archive", out, spark=spark, **kw)
    assert s.mode == mode
    assert s.tasks >= tasks
    assert s.failed == []
    ev = archive.read_events(out)
    assert s.events == ev.num_rows == case["local"].num_rows
    assert_same(case["local"], ev)
    seg = sp.read_segments(out)
    assert seg.num_rows == case["segments"].num_rows > 0
    key = ["mmsi", "start_ts", "segment_id"]
    assert _sorted(seg, key) == _sorted(case["segments"].select(seg.column_names), key)
