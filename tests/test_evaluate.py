"""Scoring detections against the simulator's truth, and the simulate --evaluate loop."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from corridor.cli import app
from corridor.evaluate import SIM_TYPES, evaluate_sim, load_simulation, match, score
from corridor.sim import SimConfig, places_table, simulate
from corridor.store import Store

T0 = dt.datetime(2024, 1, 1)
H = dt.timedelta(hours=1)


def _ev(rows, complete=None):
    t = {
        "type": [r[0] for r in rows],
        "mmsi": [r[1] for r in rows],
        "other_mmsi": pa.array([r[2] for r in rows], pa.int64()),
        "start_ts": [T0 + r[3] * H for r in rows],
        "end_ts": [T0 + r[4] * H for r in rows],
    }
    if complete is not None:
        t["complete"] = complete
    return pa.table(t)


def test_matching_is_one_to_one_by_vessel_and_overlap():
    truth = _ev([("gap", 1, None, 0, 10), ("gap", 1, None, 20, 30), ("gap", 2, None, 0, 10)],
                complete=[True, True, True])
    det = _ev([("gap", 1, None, 1, 9), ("gap", 1, None, 2, 8),  # the same gap found twice
               ("gap", 2, None, 10.4, 12),  # touches truth within the 30-minute slack
               ("gap", 3, None, 0, 10)])  # another vessel: no match
    pairs = match(det, truth)
    assert sorted(pairs) == [(0, 0), (2, 2)]
    s = score(det, truth, types=("gap",))[0]
    assert (s.truth, s.matched) == (3, 2)
    assert s.recall == pytest.approx(2 / 3)
    # vessel 3 is not in the truth: not counted; the double detection is a false alarm
    assert s.detected == 3 and s.precision == pytest.approx(2 / 3)


def test_encounters_match_as_unordered_pairs_and_cut_truth_is_ignored():
    truth = _ev([("encounter", 5, 9, 0, 3), ("encounter", 5, 9, 100, 103)],
                complete=[True, False])
    det = _ev([("encounter", 9, 5, 0.2, 3.1), ("encounter", 5, 9, 100, 102)])
    s = score(det, truth, types=("encounter",))[0]
    assert (s.truth, s.detected, s.matched, s.precision, s.recall) == (1, 1, 1, 1.0, 1.0)


def test_loading_a_simulation_is_idempotent_and_respects_existing_ports(tmp_path):
    res = simulate(SimConfig(vessels=3, days=1, seed=3), tmp_path / "sim")
    with Store.open(tmp_path / "a.duckdb") as store:
        # an existing place 1 km from the simulated Najin berth: the simulator's is not added
        najin = places_table().filter(pa.compute.equal(places_table()["place_id"], "sim-najin"))
        mine = najin.set_column(0, "place_id", pa.array(["rajin-port"]))
        mine = mine.set_column(mine.schema.get_field_index("lat"), "lat",
                               pa.array([najin["lat"][0].as_py() + 0.009]))
        store.insert_arrow("places", mine)
        first = load_simulation(store, res.paths["positions"].parent)
        assert first["positions"] == res.positions
        assert first["places"] == places_table().num_rows - 1
        again = load_simulation(store, res.paths["positions"].parent)
        assert again == {"positions": 0, "vessel_reports": 0, "places": 0}
        assert store.count("positions") == res.positions


@pytest.fixture(scope="module")
def small_sim(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    simulate(SimConfig(vessels=16, days=5, seed=11), out)
    return out


def test_detection_finds_the_simulated_events(small_sim):
    scores = {s.type: s for s in evaluate_sim(small_sim)}
    assert set(scores) == set(SIM_TYPES)
    for typ, s in scores.items():
        assert s.truth >= 1, typ  # the scenario exercises every detector
        assert s.precision >= 0.95 and s.recall >= 0.95, s


def test_cli_simulate_evaluate_into_a_given_database(tmp_path, db_file):
    out = tmp_path / "cli"
    r = CliRunner().invoke(app, ["--db", str(db_file), "simulate", "--out", str(out),
                                 "--vessels", "6", "--days", "3", "--seed", "5",
                                 "--scenario", "corridor", "--evaluate", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert "positions/s" in r.output and (out / "truth.parquet").exists()
    lines = [ln for ln in r.output.splitlines() if ln.startswith(("gap,", "port_visit,"))]
    assert len(lines) == 2
    for ln in lines:
        precision, recall = map(float, ln.split(",")[-2:])
        assert precision >= 0.95 and recall >= 0.95, ln
    with Store.open(db_file) as store:
        assert store.count("events") > 0 and store.count("positions") > 0
