"""The simulator: labelled fictitious ships, real ports, streamed Parquet, truth that holds."""

from __future__ import annotations

import json
from itertools import combinations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from corridor.geo import haversine_m
from corridor.ids import position_obs_ids
from corridor.schema import POSITIONS
from corridor.shore import on_land
from corridor.sim import SIM_MMSI_BASE, SimConfig, places_table, simulate
from corridor.sim_scenarios import CORRIDOR_PORTS, PORTS, lane


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    out = tmp_path_factory.mktemp("mixed")
    res = simulate(SimConfig(vessels=12, days=4, seed=7, row_group_rows=5000), out)
    return res, pq.read_table(res.paths["positions"]), pq.read_table(res.paths["truth"])


@pytest.fixture(scope="module")
def corridor(tmp_path_factory):
    out = tmp_path_factory.mktemp("corridor")
    res = simulate(SimConfig(vessels=4, days=6, seed=2, scenario="corridor"), out)
    return res, pq.read_table(res.paths["positions"]), pq.read_table(res.paths["truth"])


def _us(col):
    return col.cast(pa.int64()).to_numpy()


def test_positions_are_canonical_labelled_and_fictitious(mixed):
    res, pos, _ = mixed
    assert pos.schema == POSITIONS
    assert pos.num_rows == res.positions > 10_000
    assert set(pos["source"].unique().to_pylist()) == {"simulated"}
    mmsi = pos["mmsi"].to_numpy()
    assert mmsi.min() > SIM_MMSI_BASE and mmsi.max() <= SIM_MMSI_BASE + 12
    assert not np.isin(mmsi // 100_000_000, [2, 3, 4, 5, 6, 7]).any()  # no ship MID
    ids = position_obs_ids(mmsi, _us(pos["ts"]), pos["lat"].to_numpy(), pos["lon"].to_numpy(),
                           pos["msg_type"].to_numpy())
    assert np.array_equal(ids, pos["obs_id"].to_numpy())
    assert len(np.unique(ids)) == pos.num_rows
    reports = pq.read_table(res.paths["vessel_reports"])
    assert all(n.startswith("SIM VESSEL ") for n in reports["name"].to_pylist())
    assert reports["imo"].null_count == reports.num_rows
    manifest = json.loads(res.paths["manifest"].read_text())
    assert "SIMULATED" in manifest["label"] and manifest["positions"] == res.positions
    # streamed in row groups of the requested size
    assert pq.ParquetFile(res.paths["positions"]).metadata.num_row_groups > 3


def test_same_seed_same_bytes_other_seed_other_data(mixed, tmp_path):
    res, pos, truth = mixed
    again = simulate(SimConfig(vessels=12, days=4, seed=7, row_group_rows=5000), tmp_path / "a")
    assert pq.read_table(again.paths["positions"]).equals(pos)
    assert pq.read_table(again.paths["truth"]).equals(truth)
    other = simulate(SimConfig(vessels=12, days=4, seed=8), tmp_path / "b")
    assert not pq.read_table(other.paths["positions"]).equals(pos)


def test_positions_target_sets_the_size(tmp_path):
    res = simulate(SimConfig(vessels=5, days=2, seed=1, positions=20_000), tmp_path)
    assert 15_000 <= res.positions <= 20_000  # minus lost reports and dark stretches


def test_every_lane_stays_on_water():
    # every lane between every two ports, sampled every ~1 km, except the last 500 m at a berth
    for a, b in combinations(PORTS, 2):
        wps, _ = lane(a, b)
        for (la0, lo0), (la1, lo1) in zip(wps[:-1], wps[1:], strict=True):
            n = max(int(haversine_m(la0, lo0, la1, lo1) / 1000), 2)
            f = np.linspace(0, 1, n)
            lat, lon = la0 + (la1 - la0) * f, lo0 + (lo1 - lo0) * f
            ends = (haversine_m(lat, lon, la0, lo0) < 500) | (haversine_m(lat, lon, la1, lo1) < 500)
            assert not on_land(lat[~ends], lon[~ends]).any(), (a, b)
    places = places_table()
    assert set(places["place_id"].to_pylist()) == {p.place_id for p in PORTS.values()}


def test_truth_holds_in_the_positions(mixed):
    _, pos, truth = mixed
    types = set(truth["type"].to_pylist())
    assert {"port_visit", "voyage", "gap", "loitering", "encounter", "position_conflict"} <= types
    ts = _us(pos["ts"])
    mmsi = pos["mmsi"].to_numpy()
    conflict = truth.filter(pc.equal(truth["type"], "position_conflict")).to_pylist()[0]
    for r in truth.to_pylist():
        s = int(pa.scalar(r["start_ts"], pa.timestamp("us")).cast(pa.int64()).as_py())
        e = int(pa.scalar(r["end_ts"], pa.timestamp("us")).cast(pa.int64()).as_py())
        if r["type"] == "gap" and r["mmsi"] != conflict["mmsi"]:  # transponder off: no report
            assert not ((mmsi == r["mmsi"]) & (ts > s) & (ts < e)).any()
            assert (e - s) / 3.6e9 >= 6.5
        if r["type"] == "encounter" and r["complete"]:
            a = (mmsi == r["mmsi"]) & (ts >= s) & (ts <= e)
            b = (mmsi == r["other_mmsi"]) & (ts >= s) & (ts <= e)
            la, lb = pos.filter(pa.array(a)), pos.filter(pa.array(b))
            d = haversine_m(np.median(la["lat"]), np.median(la["lon"]),
                            np.median(lb["lat"]), np.median(lb["lon"]))
            assert d < 300 and la.num_rows > 20 and lb.num_rows > 20
    # the shared MMSI: two ships, two names, positions far apart at the same time
    assert len(json.loads(conflict["attrs"])["vessels"]) == 2
    shared = pos.filter(pc.equal(pos["mmsi"], conflict["mmsi"]))
    assert haversine_m(shared["lat"].to_numpy().min(), 0, shared["lat"].to_numpy().max(), 0) > 1e5


def test_corridor_scenario_shuttles_dark_between_najin_and_dunai(corridor):
    _, pos, truth = corridor
    visits = truth.filter(pc.equal(truth["type"], "port_visit"))
    assert set(visits["place_id"].to_pylist()) == {PORTS[p].place_id for p in CORRIDOR_PORTS}
    voyages = truth.filter(pc.equal(truth["type"], "voyage"))
    assert voyages.num_rows >= 8
    gaps = truth.filter(pc.equal(truth["type"], "gap"))
    assert gaps.num_rows >= 0.6 * voyages.num_rows  # most crossings are dark
    # every report lies near Najin, near Dunai or on the lane between them
    lat, lon = pos["lat"].to_numpy(), pos["lon"].to_numpy()
    assert lat.min() > 42.0 and lat.max() < 42.95 and lon.min() > 130.3 and lon.max() < 132.4
