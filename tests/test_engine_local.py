"""The local engine: incremental runs replace events (never duplicate), parallel = serial,
windowed runs, all-or-nothing writes, and the ``detect`` / ``events`` commands."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corridor.cli import app
from corridor.detect.encounters import EncounterParams
from corridor.detect.params import DetectParams, GapParams
from corridor.engines.local import query_events, run_detect
from corridor.evaluate import load_simulation, score
from corridor.sim import SimConfig, simulate
from corridor.store import Store

SPLIT = datetime(2023, 9, 3, 12)


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("sim")
    simulate(SimConfig(vessels=12, days=5, seed=12), d)  # simulated, fictitious MMSIs
    return d


def _events(store: Store) -> pa.Table:
    return store.query("SELECT event_id, type, mmsi, other_mmsi, start_ts, end_ts, "
                       "CAST(attrs AS VARCHAR) AS attrs, evidence FROM events ORDER BY event_id")


@pytest.fixture(scope="module")
def full_run(sim_dir, tmp_path_factory) -> tuple[Path, pa.Table, dict]:
    db = tmp_path_factory.mktemp("db") / "full.duckdb"
    with Store.open(db) as s:
        load_simulation(s, sim_dir)
        summary = run_detect(s, workers=1).to_dict()
        return db, _events(s), summary


def test_simulated_events_are_found(full_run, sim_dir):
    _, events, summary = full_run
    truth = pq.read_table(sim_dir / "truth.parquet")
    n_mmsi = len(pc.unique(pq.read_table(sim_dir / "positions.parquet")["mmsi"]))
    assert summary["vessels_detected"] == summary["vessels_total"] == n_mmsi
    for s in score(events, truth, types=("port_visit", "gap", "loitering", "voyage",
                                         "encounter", "position_conflict")):
        assert s.precision >= 0.95 and s.recall >= 0.95, s
    # the two ships sharing one MMSI report two names under it
    assert "identity_change" in events["type"].to_pylist()


def test_rerun_without_new_positions_changes_nothing(full_run):
    db, events, _ = full_run
    with Store.open(db) as s:
        summary = run_detect(s, workers=1)
        assert summary.vessels_detected == 0
        assert _events(s).equals(events)


def test_incremental_run_equals_a_full_run_and_never_duplicates(full_run, sim_dir, tmp_path):
    _, events, _ = full_run
    pos = pq.read_table(sim_dir / "positions.parquet")
    with Store.open(tmp_path / "inc.duckdb") as s:
        load_simulation(s, sim_dir)
        late = s.query("SELECT * FROM positions WHERE ts >= ?", [SPLIT])
        s.con.execute("DELETE FROM positions WHERE ts >= ?", [SPLIT])
        first = run_detect(s, workers=1)
        assert first.vessels_detected >= 9 and s.count("positions") < pos.num_rows
        s.insert_arrow("positions", late)
        second = run_detect(s, workers=1)
        assert 0 < second.vessels_detected <= first.vessels_detected
        got = _events(s)
        assert got["event_id"].to_pylist() == events["event_id"].to_pylist()
        assert got.equals(events)
        assert s.query("SELECT count(*) - count(DISTINCT event_id) AS d FROM events")["d"][0].as_py() == 0


def test_full_recompute_and_parallel_workers_give_the_same_rows(full_run, sim_dir, tmp_path):
    _, events, _ = full_run
    with Store.open(tmp_path / "par.duckdb") as s:
        load_simulation(s, sim_dir)
        # small chunks and encounter slices: many grid files, time slices and pair parts
        run_detect(s, workers=2, chunk_positions=12_000, encounter_slice_rows=2_000)
        assert _events(s).equals(events)
        marks = s.count("position_marks")
        run_detect(s, full=True, workers=1)
        assert _events(s).equals(events) and s.count("position_marks") == marks


def test_positions_stored_in_any_order_give_the_same_rows(full_run, sim_dir, tmp_path):
    """The per-vessel pass skips DuckDB's sort when the store returns a chunk already in
    (mmsi, ts, obs_id) order; a store filled in another order must give the same events."""
    _, events, _ = full_run
    with Store.open(tmp_path / "shuffled.duckdb") as s:
        load_simulation(s, sim_dir)
        n = s.count("positions")
        assert n > 10_000
        # rewrite the table in an order unrelated to mmsi and time (its obs_id hash)
        s.con.execute("CREATE TABLE _p AS SELECT * FROM positions ORDER BY hash(obs_id)")
        s.con.execute("DELETE FROM positions")
        s.con.execute("INSERT INTO positions SELECT * FROM _p")
        s.con.execute("DROP TABLE _p")
        first = s.query("SELECT mmsi, ts FROM positions LIMIT 1000")
        assert not first.equals(first.sort_by([("mmsi", "ascending"), ("ts", "ascending")]))
        run_detect(s, workers=2, chunk_positions=12_000)
        assert s.count("positions") == n
        assert _events(s).equals(events)


def test_new_parameters_recompute_and_replace(full_run, sim_dir, tmp_path):
    with Store.open(tmp_path / "p.duckdb") as s:
        load_simulation(s, sim_dir)
        run_detect(s, workers=1)
        n_gaps = s.query("SELECT count(*) n FROM events WHERE type = 'gap'")["n"][0].as_py()
        summary = run_detect(s, DetectParams(gap=GapParams(min_gap_hours=10.0)), workers=1)
        assert summary.vessels_detected == summary.vessels_total
        gaps = query_events(s, ["gap"])
        assert 0 < gaps.num_rows < n_gaps
        assert all(json.loads(a)["params"]["min_gap_hours"] == 10.0
                   for a in gaps["attrs"].to_pylist())


def test_new_encounter_parameters_recompute_every_encounter_without_full(full_run, sim_dir,
                                                                         tmp_path):
    _, events, _ = full_run
    encounters = events.filter(pc.equal(events["type"], "encounter"))
    assert encounters.num_rows >= 1
    longest = max((e - s).total_seconds() / 3600 for s, e in zip(
        encounters["start_ts"].to_pylist(), encounters["end_ts"].to_pylist(), strict=True))
    stricter = DetectParams(encounter=EncounterParams(min_duration_hours=longest + 1))
    with Store.open(tmp_path / "e.duckdb") as s:
        load_simulation(s, sim_dir)
        run_detect(s, workers=1)
        summary = run_detect(s, stricter, workers=1)
        assert summary.vessels_detected == 0  # no per-vessel parameter changed
        assert summary.encounter_range is not None
        assert query_events(s, ["encounter"]).num_rows == 0  # every old encounter replaced
        assert run_detect(s, stricter, workers=1).encounter_range is None  # now up to date
        run_detect(s, workers=1)  # back to the defaults: the same events as a first run
        assert _events(s).equals(events)


def test_windowed_run_replaces_only_its_window_and_resets_state(full_run, sim_dir, tmp_path):
    _, events, _ = full_run
    with Store.open(tmp_path / "w.duckdb") as s:
        load_simulation(s, sim_dir)
        run_detect(s, workers=1)
        vessel = int(pc.min(events["mmsi"]).as_py())
        run_detect(s, vessels=[vessel], since=SPLIT, workers=1)
        outside = s.query("SELECT count(*) n FROM events WHERE mmsi = ? AND start_ts < ? "
                          "AND type = 'port_visit'", [vessel, SPLIT])["n"][0].as_py()
        assert outside > 0  # earlier events of that vessel are kept
        assert s.query("SELECT count(*) n FROM detect_state WHERE mmsi = ?",
                       [vessel])["n"][0].as_py() == 0
        assert run_detect(s, workers=1).vessels_detected == 1  # the next plain run redoes it
        assert _events(s).equals(events)


def test_a_failing_run_leaves_the_store_as_it_was(full_run, sim_dir, tmp_path, monkeypatch):
    with Store.open(tmp_path / "f.duckdb") as s:
        load_simulation(s, sim_dir)
        run_detect(s, workers=1)
        before = _events(s)
        import corridor.detect.encounters as enc

        def boom(*a, **k):
            raise RuntimeError("disk full")

        monkeypatch.setattr(enc, "encounters_from_pairs", boom)  # the last stage, in-process
        with pytest.raises(RuntimeError):
            run_detect(s, full=True, workers=1)
        assert _events(s).equals(before)


def test_a_run_failing_after_the_vessel_rows_are_written_leaves_the_store_as_it_was(
        full_run, sim_dir, tmp_path, monkeypatch):
    """The per-vessel rows are written while the encounter pass runs, in the transaction
    that a later failure (here: the identity pass) rolls back."""
    import corridor.engines.local as local

    with Store.open(tmp_path / "g.duckdb") as s:
        load_simulation(s, sim_dir)
        run_detect(s, workers=1)
        before = _events(s)
        marks = s.query("SELECT * FROM position_marks ORDER BY obs_id, mark")
        segments = s.query("SELECT * FROM segments ORDER BY mmsi, segment_id, start_ts")
        assert before.num_rows > 0 and marks.num_rows > 0 and segments.num_rows > 0

        def boom(*a, **k):
            raise RuntimeError("disk full")

        monkeypatch.setattr(local, "_identity", boom)
        with pytest.raises(RuntimeError):
            run_detect(s, full=True, workers=2, chunk_positions=20_000)
        assert _events(s).equals(before)
        assert s.query("SELECT * FROM position_marks ORDER BY obs_id, mark").equals(marks)
        assert s.query("SELECT * FROM segments ORDER BY mmsi, segment_id, start_ts").equals(
            segments)


def test_cli_detect_and_events(sim_dir, tmp_path):
    db = tmp_path / "cli.duckdb"
    with Store.open(db) as s:
        load_simulation(s, sim_dir)
    runner = CliRunner()
    r = runner.invoke(app, ["--db", str(db), "detect", "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert "vessels" in r.output and "port_visit:" in r.output
    r = runner.invoke(app, ["--db", str(db), "detect", "--workers", "1"])
    assert "nothing changed" in r.output
    r = runner.invoke(app, ["--db", str(db), "events", "--type", "gap", "--format", "json"])
    rows = json.loads(r.output)
    assert rows and {x["type"] for x in rows} == {"gap"} and "params" in rows[0]["attrs"]
    r = runner.invoke(app, ["--db", str(db), "events", "--type", "encounter", "--format",
                            "geojson"])
    fc = json.loads(r.output)
    assert fc["type"] == "FeatureCollection" and fc["features"][0]["geometry"]["type"] == "Point"
    mmsi = rows[0]["mmsi"]
    r = runner.invoke(app, ["--db", str(db), "events", "--vessel", str(mmsi), "--since",
                            "2023-09-02", "--format", "csv"])
    assert r.exit_code == 0 and r.output.startswith("event_id,type,mmsi")
    r = runner.invoke(app, ["--db", str(db), "events", "--type", "nonsense"])
    assert r.exit_code != 0 and "unknown event type" in r.output


def test_a_vessel_that_fails_is_skipped_and_reported_the_rest_detected(full_run, sim_dir,
                                                                     tmp_path, monkeypatch):
    from corridor.detect import pipeline

    with Store.open(tmp_path / "bad.duckdb") as s:
        load_simulation(s, sim_dir)
        run_detect(s, workers=1)
        before = _events(s)
        victim = int(pc.min(before["mmsi"]).as_py())
        original = pipeline.VesselPipeline.apply

        def flaky(self, positions):
            if positions["mmsi"][0].as_py() == victim:
                raise ValueError("corrupt track")
            return original(self, positions)

        monkeypatch.setattr(pipeline.VesselPipeline, "apply", flaky)
        summary = run_detect(s, full=True, workers=1)
        assert summary.failed == 1 and "corrupt track" in summary.notes[-1]
        assert summary.vessels_detected == summary.vessels_total - 1
        assert _events(s).equals(before)  # the victim's previous events are kept
        assert s.query("SELECT count(*) n FROM detect_state WHERE mmsi = ?",
                       [victim])["n"][0].as_py() == 0  # so the next run retries it


def _logged_slice(*args, **kwargs):
    """The pair search, leaving a trace (run in a worker)."""
    import os

    import corridor.engines.local as local

    with open(os.environ["CORRIDOR_TEST_SLICE_LOG"], "a") as fh:
        fh.write("slice\n")
    return local._original_pairs_slice(*args, **kwargs)


def _slow_failing_slice(*args, **kwargs):
    """A pair search that takes a moment, leaves a trace and fails (run in a worker)."""
    import os
    import time

    time.sleep(0.3)  # longer than the parent's writes in the meantime
    with open(os.environ["CORRIDOR_TEST_SLICE_LOG"], "a") as fh:
        fh.write("slice\n")
    raise RuntimeError("slice failed")


def test_a_failing_encounter_slice_stops_the_run_without_searching_the_rest(
        full_run, sim_dir, tmp_path, monkeypatch):
    """Every time slice is queued at once; when one fails the run ends soon (the slices
    still queued are cancelled), with the error, and the store as it was."""
    import corridor.engines.local as local

    log = tmp_path / "slices.log"
    monkeypatch.setenv("CORRIDOR_TEST_SLICE_LOG", str(log))
    monkeypatch.setattr(local, "_original_pairs_slice", local._pairs_slice, raising=False)
    run = dict(full=True, workers=2, chunk_positions=5_000, encounter_slice_rows=200)
    with Store.open(tmp_path / "h.duckdb") as s:
        load_simulation(s, sim_dir)
        monkeypatch.setattr(local, "_pairs_slice", _logged_slice)  # forked workers see it
        run_detect(s, **run)
        before = _events(s)
        slices = log.read_text().count("slice")
        assert slices >= 12  # enough slices queued for the cancellation to show
        log.unlink()
        monkeypatch.setattr(local, "_pairs_slice", _slow_failing_slice)
        with pytest.raises(RuntimeError, match="slice failed"):
            run_detect(s, **run)
        assert _events(s).equals(before)
    ran = log.read_text().count("slice")
    assert 1 <= ran <= slices // 2, (ran, slices)  # not every queued slice searched
