"""The Spark engine on a real standalone cluster gives the local engine's events, id for id.

A master and two workers run as separate JVMs (started from pyspark's own ``spark-class``);
``corridor``'s Spark entry point goes through ``spark-submit``; executors read the archive
from its path and run their own Python workers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import corridor.engines.spark as sp
from corridor import archive
from corridor.engines.standalone import StandaloneCluster
from corridor.ingest.summary import ingest_file
from corridor.ingest.tables import table_parser
from corridor.places import load_gazetteer
from corridor.store import Store

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_standalone_cluster_gives_the_local_engines_events(store: Store, tmp_path: Path,
                                                           data_dir: Path):
    from test_engine_spark import assert_same, local_events

    f = data_dir / "ais-positions/noaa-us-2022-01-03/AISdata_2022-01-03_first99999.parquet"
    assert ingest_file(store, f, "positions", table_parser()).status == "done"
    for t in ("positions", "vessel_reports"):  # one vessel in 20 keeps the test short
        store.con.execute(f"DELETE FROM {t} WHERE (mmsi // 10) % 20 <> 0")
    load_gazetteer(store)
    local = local_events(store)
    assert local.num_rows > 50
    arc, out = tmp_path / "archive", tmp_path / "out"
    archive.export_positions(store, arc, n_buckets=4)

    with StandaloneCluster(workers=2, cores_per_worker=1, memory_per_worker="1g") as cluster:
        state = cluster.state()
        assert cluster.alive_workers(state) == 2
        run = cluster.submit([sp.__file__, "--archive", str(arc), "--out", str(out),
                              "--shuffle-partitions", "4"])
        assert run.returncode == 0, run.stderr[-4000:] + cluster.logs()
        apps = cluster.state()["completedapps"]
    assert len(apps) == 1 and apps[0]["state"] == "FINISHED"  # it ran on the cluster
    assert f"{local.num_rows} events" in run.stdout
    assert_same(local, archive.read_events(out))
