"""The Spark engine gives the local engine's events, with the same ids, on the same data.

One local[2] SparkSession for the whole module. Each scenario is loaded into a store,
detected by the local engine (``corridor.engines.local.run_detect``), exported to an
archive and detected by Spark; the two event sets must be identical row for row.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corridor import archive
from corridor.detect.encounters import M_PER_DEG, EncounterParams, _cells_per_band, _grid_dims
from corridor.detect.params import DetectParams
from corridor.engines import spark as sp
from corridor.engines.local import run_detect
from corridor.ids import position_obs_ids
from corridor.ingest.summary import ingest_file
from corridor.ingest.tables import table_parser
from corridor.places import load_gazetteer
from corridor.schema import EVENTS, POSITIONS
from corridor.store import Store

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SIM_MMSI = 100_009_000  # fictitious: no ship MMSI starts with 1 (ITU ship MIDs are 201-775)


@pytest.fixture(scope="module")
def spark():
    session = sp.spark_session("local[2]", shuffle_partitions=4)
    yield session
    session.stop()


# ------------------------------------------------------------------ helpers
def track(mmsi: int, start: str, lat0: float, lon0: float, *, hours: float,
          dlat_per_h: float = 0.0, dlon_per_h: float = 0.0, every_min: float = 5.0,
          sog: float = 0.5) -> pa.Table:
    """A straight track (POSITIONS schema), longitudes wrapped to [-180, 180)."""
    n = int(hours * 60 / every_min) + 1
    t0 = np.datetime64(start, "us")
    ts = t0 + (np.arange(n) * every_min * 60e6).astype("timedelta64[us]")
    h = np.arange(n) * every_min / 60.0
    lat = lat0 + dlat_per_h * h
    lon = (lon0 + dlon_per_h * h + 180.0) % 360.0 - 180.0
    ids = position_obs_ids(np.full(n, mmsi), ts.astype(np.int64), lat, lon, np.ones(n))
    return pa.table({
        "obs_id": ids, "mmsi": np.full(n, mmsi, np.int64), "ts": pa.array(ts, pa.timestamp("us")),
        "lat": lat, "lon": lon, "sog": pa.array(np.full(n, sog), pa.float32()),
        "cog": pa.nulls(n, pa.float32()), "heading": pa.nulls(n, pa.int16()),
        "nav_status": pa.nulls(n, pa.int8()), "msg_type": pa.array(np.ones(n), pa.int8()),
        "source": pa.array(["simulated"] * n),
    }).cast(POSITIONS)


def cell_edges(lat: float, lon: float) -> tuple[float, float]:
    """The latitude band edge below ``lat`` and the longitude cell edge west of ``lon``."""
    p = EncounterParams()
    dlat, _, _ = _grid_dims(p)
    band = math.floor((lat + 90.0) / dlat)
    n = int(_cells_per_band(np.array([band]), dlat, p.cell_size_m)[0])
    width = 360.0 / n
    return -90.0 + band * dlat, -180.0 + math.floor((lon + 180.0) / width) * width


def local_events(store: Store, params: DetectParams | None = None) -> pa.Table:
    run_detect(store, params, full=True, workers=1)
    return store.query(
        f"SELECT {', '.join(n if n != 'attrs' else 'CAST(attrs AS VARCHAR) AS attrs' for n in EVENTS.names)} "  # noqa: E501
        "FROM events"
    ).cast(EVENTS)


def spark_events(spark, store: Store, tmp: Path, params: DetectParams | None = None) -> pa.Table:
    arc, out = tmp / "archive", tmp / "out"
    archive.export_positions(store, arc, n_buckets=4)
    summary = sp.run_detect_spark(arc, out, params, spark=spark)
    ev = archive.read_events(out)
    assert summary.events == ev.num_rows
    return ev


def rows(t: pa.Table) -> list[dict]:
    out = t.sort_by("event_id").to_pylist()
    for r in out:
        r["attrs"] = json.loads(r["attrs"]) if r["attrs"] else None
    return out


def assert_same(local: pa.Table, spark_ev: pa.Table) -> None:
    assert spark_ev.schema == EVENTS
    a, b = rows(local), rows(spark_ev)
    assert [r["event_id"] for r in a] == [r["event_id"] for r in b]
    for x, y in zip(a, b, strict=True):
        assert x == y, (x["type"], x["event_id"])


# ------------------------------------------------------------------ scenarios
@pytest.fixture(scope="module")
def scenario_positions() -> pa.Table:
    return edge_scenario()


def edge_scenario() -> pa.Table:
    """Hand-built, fictitious vessels.

    - A/B meet across a longitude cell edge (A sits exactly on it); C/D across a latitude
      band edge; both pairs slow, 3 h, 200-300 m apart;
    - E/F meet astride the antimeridian from 22:00 to 02:00 UTC (across midnight);
    - G is one MMSI transmitted by two ships 300 km apart for 8 h (a shared MMSI); the
      southern one meets H;
    - I goes dark for 14 h far offshore (a gap).
    """
    lat_edge, lon_edge = cell_edges(35.2, 140.5)
    off = 150.0 / (M_PER_DEG * math.cos(math.radians(35.2)))
    lat_edge2, _ = cell_edges(30.0, 150.0)
    dlat = 120.0 / M_PER_DEG
    s = SIM_MMSI
    parts = [
        track(s + 1, "2023-09-07T06:00", 35.2, lon_edge, hours=3),
        track(s + 2, "2023-09-07T06:02", 35.2005, lon_edge + off, hours=3),
        track(s + 3, "2023-09-07T09:00", lat_edge2 - dlat, 150.0, hours=3),
        track(s + 4, "2023-09-07T09:01", lat_edge2 + dlat, 150.0005, hours=3),
        track(s + 5, "2023-09-07T22:00", -20.0, 179.9995, hours=4, dlon_per_h=0.0004),
        track(s + 6, "2023-09-07T22:03", -20.0012, -179.9992, hours=4, dlon_per_h=0.0004),
        track(s + 7, "2023-09-08T00:00", 10.0, 160.0, hours=8, dlon_per_h=0.001),
        track(s + 7, "2023-09-08T00:02", 7.3, 160.0, hours=8, dlon_per_h=0.001),
        track(s + 8, "2023-09-08T00:04", 7.3015, 160.0002, hours=8, dlon_per_h=0.001),
        pa.concat_tables([
            track(s + 9, "2023-09-09T00:00", 0.0, -30.0, hours=6, dlon_per_h=0.15, sog=9),
            track(s + 9, "2023-09-09T20:00", 0.0, -26.0, hours=6, dlon_per_h=0.15, sog=9),
        ]),
    ]
    return pa.concat_tables(parts)


@pytest.fixture(scope="module")
def edge_run(spark, scenario_positions: pa.Table, tmp_path_factory) -> dict:
    """The edge scenarios detected once by each engine (shared by the tests below)."""
    tmp = tmp_path_factory.mktemp("edge")
    with Store.open(tmp / "edge.duckdb") as store:
        store.insert_arrow("positions", scenario_positions)
        local = local_events(store)
        segments = store.query("SELECT * FROM segments")
        ev = spark_events(spark, store, tmp)
    return {"local": local, "spark": ev, "dir": tmp, "local_segments": segments}


def test_identical_events_on_edge_scenarios(edge_run: dict):
    local, ev = edge_run["local"], edge_run["spark"]
    assert_same(local, ev)

    enc = ev.filter(pc.equal(ev["type"], "encounter"))
    pairs = sorted(zip(enc["mmsi"].to_pylist(), enc["other_mmsi"].to_pylist(), strict=True))
    s = SIM_MMSI
    # each boundary meeting found exactly once; the antimeridian one across midnight too
    assert pairs == [(s + 1, s + 2), (s + 3, s + 4), (s + 5, s + 6), (s + 7, s + 8)]
    am = enc.filter(pc.equal(enc["mmsi"], s + 5)).to_pylist()[0]
    assert am["start_ts"].date() != am["end_ts"].date()
    shared = enc.filter(pc.equal(enc["mmsi"], s + 7)).to_pylist()[0]
    assert json.loads(shared["attrs"])["segment_ids"]  # the southern ship's segment
    types = set(ev["type"].to_pylist())
    assert {"position_conflict", "gap", "encounter"} <= types


def test_identical_segment_ids_on_edge_scenarios(edge_run: dict):
    """Segment runs (each position's segment) are the same on both engines; the shared
    MMSI is two segments and every event's segment is among them."""
    key = ["mmsi", "start_ts", "segment_id"]
    local = edge_run["local_segments"].sort_by([(k, "ascending") for k in key])
    spark_seg = sp.read_segments(edge_run["dir"] / "out").sort_by([(k, "ascending") for k in key])
    assert local.num_rows > 0
    assert spark_seg.to_pylist() == local.select(spark_seg.column_names).to_pylist()
    shared = {r["segment_id"] for r in local.to_pylist() if r["mmsi"] == SIM_MMSI + 7}
    assert len(shared) == 2
    ev_segs = {x for x in edge_run["spark"]["segment_id"].to_pylist() if x}
    assert ev_segs <= set(local["segment_id"].to_pylist())


def test_events_are_written_in_the_archive_layout(edge_run: dict):
    ev = edge_run["spark"]
    files = list((edge_run["dir"] / "out" / "events").rglob("*.parquet"))
    assert files
    for f in files:
        day = f.parent.parent.name.split("=")[1]
        bucket = int(f.parent.name.split("=")[1])
        part = pq.read_table(f)
        assert {d.strftime("%Y-%m-%d") for d in part["start_ts"].to_pylist()} == {day}
        assert set(archive.vessel_bucket(part["mmsi"], 4).tolist()) == {bucket}
    assert ev.num_rows == sum(pq.read_metadata(f).num_rows for f in files)


def test_cli_rerun_with_other_partitioning_replaces_with_same_events(edge_run: dict):
    """Another grouping (3 shuffle partitions, not 4, and the distributed stages that
    ``--gather-rows 0`` asks for) and a re-run into the same output: the same events, not
    twice as many."""
    from corridor.cli import app

    arc, out = edge_run["dir"] / "archive", edge_run["dir"] / "out"
    res = CliRunner().invoke(app, ["detect-spark", "--archive", str(arc), "--out", str(out),
                                   "--shuffle-partitions", "3", "--gather-rows", "0"])
    assert res.exit_code == 0, res.output
    assert "(staged, " in res.output
    again = archive.read_events(out)
    assert f"{again.num_rows:,} events" in res.output
    assert rows(again) == rows(edge_run["spark"])
    # `corridor detect --engine spark` is the same command
    bad = CliRunner().invoke(app, ["detect", "--engine", "spark", "--archive", str(edge_run["dir"]),
                                   "--out", str(edge_run["dir"] / "o2")])
    assert bad.exit_code == 2 and "not a corridor archive" in bad.output


def test_identical_events_on_real_data(spark, store: Store, tmp_path: Path, data_dir: Path):
    """Real AIS: one day of US waters (MarineCadastre 2022-01-03; one vessel in 20, to keep
    the test fast), with the shipped gazetteer (port visits) and the static reports
    (identity changes)."""
    f = data_dir / "ais-positions/noaa-us-2022-01-03/AISdata_2022-01-03_first99999.parquet"
    assert ingest_file(store, f, "positions", table_parser()).status == "done"
    for t in ("positions", "vessel_reports"):
        store.con.execute(f"DELETE FROM {t} WHERE (mmsi // 10) % 20 <> 0")
    assert store.count("positions") > 10_000
    load_gazetteer(store)
    local = local_events(store)
    ev = spark_events(spark, store, tmp_path)
    assert local.num_rows > 50
    assert_same(local, ev)
    assert {"gap", "identity_change", "port_visit"} <= set(ev["type"].to_pylist())
