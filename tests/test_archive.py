"""The Parquet archive: export from the store, append without one, read back, same layout."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corridor import archive
from corridor.cli import app
from corridor.ids import position_obs_ids
from corridor.schema import EVENTS, POSITIONS, VESSEL_REPORTS
from corridor.store import Store


def noaa_positions(data_dir: Path) -> pa.Table:
    """The MarineCadastre sample mapped to the POSITIONS schema (511 heading = unknown)."""
    src = data_dir / "ais-positions" / "noaa-us-2022-01-03" / "*.parquet"
    t = (
        duckdb.connect()
        .sql(
            f"""SELECT MMSI::BIGINT AS mmsi,
                   strptime(BaseDateTime, '%Y-%m-%dT%H:%M:%S')::TIMESTAMP AS ts,
                   LAT AS lat, LON AS lon, SOG::REAL AS sog,
                   CASE WHEN COG >= 360 THEN NULL ELSE COG END::REAL AS cog,
                   CASE WHEN Heading = 511 THEN NULL ELSE Heading END::SMALLINT AS heading
                FROM read_parquet('{src}')"""
        )
        .to_arrow_table()
    )
    ts_us = pc.cast(t["ts"], pa.int64()).to_numpy()
    n = t.num_rows
    ids = position_obs_ids(
        t["mmsi"].to_numpy(), ts_us, t["lat"].to_numpy(), t["lon"].to_numpy(), np.zeros(n)
    )
    t = t.append_column("obs_id", pa.array(ids, pa.int64()))
    t = t.append_column("nav_status", pa.nulls(n, pa.int8()))
    t = t.append_column("msg_type", pa.nulls(n, pa.int8()))
    t = t.append_column("source", pa.array(["noaa-us-2022-01-03"] * n))
    return t.select(POSITIONS.names).cast(POSITIONS)


@pytest.fixture(scope="module")
def noaa(data_dir: Path) -> pa.Table:
    return noaa_positions(data_dir)


@pytest.fixture()
def noaa_store(store: Store, noaa: pa.Table) -> Store:
    store.insert_arrow("positions", noaa)
    return store


def by_obs(t: pa.Table) -> pa.Table:
    return t.sort_by([("obs_id", "ascending")])


def test_export_positions_round_trip_real_data(noaa_store: Store, noaa: pa.Table, tmp_path: Path):
    stored = noaa_store.count("positions")
    assert stored > 90_000  # the sample, minus exact duplicate receptions
    out = tmp_path / "arc"
    summary = archive.export_positions(noaa_store, out, n_buckets=8)
    assert summary.rows == stored
    assert summary.days == 1
    back = archive.read_positions(out)
    assert back.schema == POSITIONS
    expected = noaa_store.query(f"SELECT {', '.join(POSITIONS.names)} FROM positions")
    assert by_obs(back).equals(by_obs(expected.cast(POSITIONS)))


def test_partition_directories_hold_the_vessel_bucket(noaa_store: Store, tmp_path: Path):
    out = tmp_path / "arc"
    archive.export_positions(noaa_store, out, n_buckets=8)
    files = sorted((out / "positions").rglob("*.parquet"))
    assert {f.parent.parent.name for f in files} == {"day=2022-01-03"}
    for f in files[:4]:
        part = pq.read_table(f)
        # partition values live in the path only; the file has the canonical columns and
        # the GeoParquet point geometry
        assert part.schema.names == [*POSITIONS.names, "geometry"]
        bucket = int(f.parent.name.split("=")[1])
        assert set(archive.vessel_bucket(part["mmsi"], 8).tolist()) == {bucket}
    manifest = json.loads((out / archive.MANIFEST).read_text())
    assert manifest["n_buckets"] == 8 and manifest["tables"]["positions"]["rows"] > 90_000


def test_append_writes_the_same_layout_as_export(noaa_store: Store, noaa: pa.Table, tmp_path):
    exported, appended = tmp_path / "exp", tmp_path / "app"
    archive.export_positions(noaa_store, exported, n_buckets=8)
    stored = noaa_store.query(f"SELECT {', '.join(POSITIONS.names)} FROM positions")
    archive.append_positions(stored.cast(POSITIONS), appended, n_buckets=8)

    def placement(root: Path) -> dict[int, str]:
        out = {}
        for f in (root / "positions").rglob("*.parquet"):
            key = f"{f.parent.parent.name}/{f.parent.name}"
            for o in pq.read_table(f, columns=["obs_id"])["obs_id"].to_pylist():
                out[o] = key
        return out

    assert placement(exported) == placement(appended)
    assert by_obs(archive.read_positions(appended)).equals(by_obs(archive.read_positions(exported)))


def test_append_spanning_more_than_a_thousand_partitions(tmp_path: Path):
    """A month of a fleet in one batch: 40 days x up to 32 buckets."""
    n = 4000
    mmsi = 100_000_001 + np.arange(n) % 200
    ts = (np.datetime64("2023-09-01", "us") + (np.arange(n) // 100) * np.timedelta64(1, "D")
          + (np.arange(n) % 100) * np.timedelta64(1, "m"))
    lat, lon = np.zeros(n), np.arange(n) * 1e-4
    t = pa.table({
        "obs_id": position_obs_ids(mmsi, ts.astype(np.int64), lat, lon, np.ones(n)),
        "mmsi": mmsi, "ts": ts, "lat": lat, "lon": lon,
    })
    for f in POSITIONS:
        if f.name not in t.column_names:
            t = t.append_column(f.name, pa.nulls(n, f.type))
    s = archive.append_positions(t.select(POSITIONS.names).cast(POSITIONS), tmp_path / "a",
                                 n_buckets=32)
    assert s.days == 40 and s.files > 1024
    assert archive.read_positions(tmp_path / "a").num_rows == n


def test_read_prunes_by_vessel_and_day(noaa_store: Store, noaa: pa.Table, tmp_path: Path):
    out = tmp_path / "arc"
    archive.export_positions(noaa_store, out, n_buckets=8)
    mmsi = int(noaa["mmsi"][0].as_py())
    one = archive.read_positions(out, mmsi=[mmsi])
    assert one.num_rows == noaa_store.query(
        "SELECT count(*) AS n FROM positions WHERE mmsi = ?", [mmsi]
    )["n"][0].as_py()
    assert set(one["mmsi"].to_pylist()) == {mmsi}
    assert archive.read_positions(out, days=["2022-01-04"]).num_rows == 0


def test_reexport_replaces_the_snapshot(noaa_store: Store, tmp_path: Path):
    out = tmp_path / "arc"
    archive.export_positions(noaa_store, out, n_buckets=8)
    s2 = archive.export_positions(noaa_store, out)  # n_buckets from the manifest
    assert archive.read_positions(out).num_rows == s2.rows == noaa_store.count("positions")
    with pytest.raises(archive.ArchiveError, match="8 vessel buckets"):
        archive.export_positions(noaa_store, out, n_buckets=16)


def test_refuses_to_write_into_a_foreign_directory(noaa_store: Store, tmp_path: Path):
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(archive.ArchiveError, match="not a corridor archive"):
        archive.export_positions(noaa_store, foreign)
    assert [p.name for p in foreign.iterdir()] == ["holiday.jpg"]
    with pytest.raises(archive.ArchiveError, match="not a corridor archive"):
        archive.read_positions(foreign)


def test_export_events_keeps_evidence_attrs_and_start_day(store: Store, tmp_path: Path):
    events = pa.table(
        {
            "event_id": ["e1", "e2"],
            "type": ["encounter", "gap"],
            "mmsi": [273000001, 273000002],
            "other_mmsi": [273000002, None],
            "segment_id": [None, "s1"],
            "start_ts": [datetime(2023, 9, 7, 23, 50), datetime(2023, 9, 8, 1)],
            "end_ts": [datetime(2023, 9, 8, 2), datetime(2023, 9, 9)],
            "lat": [42.2, 43.0],
            "lon": [130.4, 179.99],
            "place_id": [None, None],
            "from_place_id": [None, None],
            "to_place_id": [None, None],
            "attrs": [json.dumps({"distance_m": 120.5}), json.dumps({"offshore": True})],
            "evidence": [[1, 2, 3], [-5, 7]],
        },
        schema=EVENTS,
    )
    store.insert_arrow("events", events)
    out = tmp_path / "arc"
    archive.export_events(store, out, n_buckets=4)
    back = archive.read_events(out).sort_by("event_id")
    assert back.schema == EVENTS
    assert back.column("evidence").to_pylist() == [[1, 2, 3], [-5, 7]]
    assert [json.loads(a) for a in back["attrs"].to_pylist()] == [
        {"distance_m": 120.5},
        {"offshore": True},
    ]
    days = sorted(p.name for p in (out / "events").iterdir())
    assert days == ["day=2023-09-07", "day=2023-09-08"]  # the day an event starts


def test_positions_export_brings_reports_and_places(store: Store, tmp_path: Path):
    store.con.execute(
        "INSERT INTO vessel_reports (obs_id, mmsi, ts, msg_type, imo, name, source) VALUES "
        "(1, 273000001, '2023-09-07 10:00', 5, 9074729, 'ANGARA', 'x'), "
        "(2, 273000001, '2023-09-08 10:00', 5, 9074729, 'LADY R', 'x')"
    )
    store.con.execute(
        "INSERT INTO places (place_id, name, kind, lat, lon, radius_m, source) VALUES "
        "('rajin', 'Rajin', 'port', 42.24, 130.29, 3000, 'test')"
    )
    out = tmp_path / "arc"
    archive.export_positions(store, out, n_buckets=4)
    reps = archive.read_table(out, "vessel_reports").sort_by("obs_id")
    assert reps.schema == VESSEL_REPORTS
    assert reps["name"].to_pylist() == ["ANGARA", "LADY R"]
    assert archive.read_table(out, "places")["place_id"].to_pylist() == ["rajin"]
    assert archive.read_positions(out).num_rows == 0  # no positions: an empty, valid table


def test_export_shipments_including_rail_without_mmsi(store: Store, tmp_path: Path):
    store.con.execute(
        "INSERT INTO shipments (shipment_id, corridor_id, mode, mmsi, depart_earliest, tier, "
        "evidence) VALUES ('s1', 'dprk-russia', 'sea', 273000001, '2023-09-07 10:00', "
        "'probable', ['e1']), ('s2', 'dprk-russia', 'rail', NULL, NULL, 'possible', [])"
    )
    out = tmp_path / "arc"
    summary = archive.export_shipments(store, out, n_buckets=4)
    assert summary.rows == 2
    back = archive.read_table(out, "shipments").sort_by("shipment_id")
    assert back["mode"].to_pylist() == ["sea", "rail"]
    assert back["evidence"].to_pylist() == [["e1"], []]
    assert sorted(p.name for p in (out / "shipments").iterdir()) == [
        "day=2023-09-07",
        "day=none",
    ]


def test_cli_export_positions(noaa_store: Store, tmp_path: Path):
    db = noaa_store.path
    n = noaa_store.count("positions")
    noaa_store.close()
    out = tmp_path / "arc"
    res = CliRunner().invoke(app, ["--db", db, "export", "positions", "--to", str(out)])
    assert res.exit_code == 0, res.output
    assert f"exported {n:,} positions" in res.output
    assert archive.read_positions(out).num_rows == n
    assert (out / "places" / "places.parquet").is_file()
    bad = CliRunner().invoke(app, ["--db", db, "export", "positions", "--to", str(out),
                                   "--buckets", "3"])
    assert bad.exit_code == 2 and "vessel buckets" in bad.output
    # reopen for the fixture's close()
    noaa_store.con = duckdb.connect(db)


def test_import_back_into_a_store_is_idempotent(noaa_store: Store, tmp_path: Path):
    out = tmp_path / "arc"
    archive.export_positions(noaa_store, out, n_buckets=8)
    fresh = Store.open(tmp_path / "fresh.duckdb")
    try:
        n = archive.import_positions(fresh, out)
        assert n == noaa_store.count("positions")
        assert archive.import_positions(fresh, out) == 0
    finally:
        fresh.close()
