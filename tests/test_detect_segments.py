"""Segments made visible: a segment id per position in the store, the Python API and
``corridor track`` (table, CSV, GeoJSON with one line per segment)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
from _detect_data import hours, positions_table
from typer.testing import CliRunner

import corridor
from corridor.cli import app
from corridor.engines.local import run_detect

MMSI = 273000099


def _two_ships_and_a_spike() -> pa.Table:
    """Two ships on one MMSI, 3,300 km apart, reporting in turn every 15 min for 6 h, and
    one impossible fix far from both (a noise segment)."""
    h = np.arange(0, 6, 0.25)
    lat = np.where(np.arange(len(h)) % 2 == 0, 10.0, 40.0) + h * 0.01
    lon = np.zeros(len(h))
    return positions_table(MMSI, hours(*h, 3.1), [*lat, -30.0], [*lon, 50.0])


def _store_with(path, positions: pa.Table):
    ws = corridor.open(path)
    ws.store.insert_arrow("positions", positions)
    return ws


def test_every_position_has_its_segment_in_the_api(tmp_path):
    t = _two_ships_and_a_spike()
    with _store_with(tmp_path / "s.duckdb", t) as ws:
        before = ws.track(MMSI)
        assert before.num_rows == 25 and before["segment_id"].null_count == 25
        ws.detect()
        tr = ws.track(MMSI).to_pylist()
        runs = ws.query("SELECT * FROM segments ORDER BY start_ts").to_pylist()
    assert len(tr) == 25
    segs = {r["segment_id"] for r in tr if r["segment_id"]}
    assert len(segs) == 2
    for s in segs:  # each segment is one ship
        lats = [r["lat"] for r in tr if r["segment_id"] == s]
        assert len(lats) == 12 and max(lats) - min(lats) < 1.0
    (spike,) = [r for r in tr if r["lat"] == -30.0]
    assert spike["segment_id"] is None and spike["marks"] == "noise_segment"
    # the runs alternate (the two ships interleave) and cover 24 positions
    assert len(runs) == 24 and sum(r["positions"] for r in runs) == 24
    assert {r["segment_id"] for r in runs} == segs


def test_segment_ids_match_the_event_segment_ids(tmp_path):
    # one ship, a 7 h silence: a gap event inside the one segment
    h = [0, 0.5, 1, 1.5, 8.5, 9, 9.5]
    t = positions_table(MMSI, hours(*h), [10 + x * 0.01 for x in h], [0.0] * len(h))
    with _store_with(tmp_path / "s.duckdb", t) as ws:
        ws.detect()
        (gap,) = ws.events(["gap"]).to_pylist()
        tr = ws.track(MMSI)
    assert set(tr["segment_id"].to_pylist()) == {gap["segment_id"]}


def test_track_command_shows_segments_as_lines(tmp_path):
    db = tmp_path / "cli.duckdb"
    with _store_with(db, _two_ships_and_a_spike()) as ws:
        ws.detect()
    runner = CliRunner()
    res = runner.invoke(app, ["--db", str(db), "track", str(MMSI), "--format", "geojson"])
    assert res.exit_code == 0, res.output
    feats = json.loads(res.output)["features"]
    lines = [f for f in feats if f["geometry"]["type"] == "LineString"]
    points = [f for f in feats if f["geometry"]["type"] == "Point"]
    assert len(lines) == 2 and len(points) == 25
    assert sorted(f["properties"]["positions"] for f in lines) == [12, 12]
    assert {f["properties"]["segment_id"] for f in lines} == {
        p["properties"]["segment_id"] for p in points if p["properties"]["segment_id"]}
    csv_out = runner.invoke(app, ["--db", str(db), "track", str(MMSI), "--format", "csv"])
    header = csv_out.output.splitlines()[0].split(",")
    assert "segment_id" in header and "marks" in header
    table = runner.invoke(app, ["--db", str(db), "track", str(MMSI)])
    assert "segment_id" in table.output and "noise_segment" in table.output


def test_a_store_detected_before_segments_existed_gets_them_on_the_next_run(tmp_path):
    t = _two_ships_and_a_spike()
    with _store_with(tmp_path / "s.duckdb", t) as ws:
        ws.detect()
        n = ws.query("SELECT count(*) AS n FROM segments")["n"][0].as_py()
        assert n == 24
        ws.store.con.execute("DELETE FROM segments")  # as an upgraded store has them
        summary = run_detect(ws.store)
        assert summary.vessels_detected == 1
        assert ws.query("SELECT count(*) AS n FROM segments")["n"][0].as_py() == n
        assert run_detect(ws.store).vessels_detected == 0  # and then nothing to do


def test_type_27_reports_reach_detection_through_the_store(tmp_path):
    # msg_type is a column of positions: the engine reads it, the segmenter marks the
    # long-range reports beside class A reports, and `track` shows the mark
    h = np.arange(12) / 6.0
    a = positions_table(MMSI, hours(*h), 10.0 + h * 0.1, np.zeros(12))
    h27 = h[::3] + 5 / 60
    b = positions_table(MMSI, hours(*h27), 10.0 + h27 * 0.1 + 0.001, np.zeros(4),
                        msg_type=[27] * 4)
    with _store_with(tmp_path / "s.duckdb", pa.concat_tables([a, b])) as ws:
        summary = ws.detect()
        tr = ws.track(MMSI).to_pylist()
    assert summary.marks == {"type27_noise": 4}
    noise = [r for r in tr if r["msg_type"] == 27]
    assert len(noise) == 4 and all(r["marks"] == "type27_noise" and r["segment_id"] is None
                                   for r in noise)
    assert all(r["segment_id"] is not None for r in tr if r["msg_type"] == 1)
