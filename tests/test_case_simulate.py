"""`corridor simulate --corridor FILE`: SIMULATED ships (fictitious MMSIs) sail a corridor's own
sea legs between its nodes — here two nodes on the Caspian Sea, which the built-in Sea of Japan
scenarios do not reach — with AIS off on the crossings as the YAML says; detection and
reconstruction then find the shipments."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from corridor.cli import app
from corridor.corridors.case import load_case
from corridor.corridors.model import load_corridor
from corridor.corridors.reconstruct import reconstruct
from corridor.corridors.simulate import corridor_geography, land_share

CORRIDOR = """\
id: caspian-sim-test
title: Simulated Caspian test corridor (fictitious ships)
data: simulated
window: {start: 2024-01-01, end: 2024-01-20}
nodes:
  - {place: north-port, role: origin}
  - {place: south-port, role: destination}
legs:
  - {id: n-s, from: north-port, to: south-port, mode: sea, duration_hours: [24, 150],
     ais_dark_share: 1.0}
claims: {case: false, match: false}
"""
# approximate port positions on the western and southern Caspian shore (test values, mark I)
PLACES = """\
place_id,name,kind,lat,lon,precision,radius_m,mark,sources
north-port,North port (test),port,42.98,47.52,approximate,8000,I,
south-port,South port (test),port,36.86,53.36,approximate,8000,I,
"""


def _folder(tmp_path: Path) -> Path:
    d = tmp_path / "caspian-sim-test"
    d.mkdir()
    (d / "corridor.yaml").write_text(CORRIDOR, encoding="utf-8")
    (d / "places.csv").write_text(PLACES, encoding="utf-8")
    return d


def test_a_corridors_own_sea_legs_are_simulated_detected_and_reconstructed(store, tmp_path):
    from corridor.engines.local import run_detect
    from corridor.evaluate import load_simulation
    from corridor.sim import SimConfig, simulate

    d = _folder(tmp_path)
    geo = corridor_geography(load_corridor(d))
    assert set(geo.ports) == {"north-port", "south-port"}
    assert all(p.berth_shift_m < 30_000 for p in geo.ports.values())
    assert max(land_share(geo).values()) < 0.1  # the lane keeps to the sea
    out = tmp_path / "sim"
    res = simulate(SimConfig(vessels=2, days=19, seed=2, scenario="corridor",
                             start=datetime(2024, 1, 1),
                             report_interval_s=900), out, geography=geo)
    truth = pq.read_table(res.paths["truth"]).to_pylist()
    voyages = Counter((t["from_place_id"], t["to_place_id"]) for t in truth
                      if t["type"] == "voyage" and t["complete"])
    assert voyages[("sim-north-port", "sim-south-port")] >= 2
    assert voyages[("sim-south-port", "sim-north-port")] >= 2
    gaps = [t for t in truth if t["type"] == "gap"]
    assert len(gaps) >= sum(voyages.values()) - 2  # AIS off on every crossing long enough
    load_case(store, d)
    load_simulation(store, out)
    run_detect(store, workers=1)
    rec = reconstruct(store, d, save=False)
    ships = [s for s in rec.shipments if s.from_place_id == "north-port"
             and s.to_place_id == "south-port"]
    assert len(ships) >= 2
    strong = [s for s in ships if s.tier in ("confirmed", "probable")]
    assert len(strong) >= voyages[("sim-north-port", "sim-south-port")] - 1
    w0, w1 = datetime(2024, 1, 1), datetime(2024, 1, 21)
    for s in ships:  # a possible shipment only where the window cuts a crossing
        if s.tier == "possible":
            assert s.depart.earliest < w0 + timedelta(days=2) \
                or s.arrive.latest > w1 - timedelta(days=2), s
    assert all(s.mmsi is not None and s.mmsi // 1000 == 100000 for s in ships)


def test_simulate_cli_takes_a_corridor_and_names_nodes_without_coordinates(tmp_path):
    d = _folder(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["simulate", "--corridor", str(d), "--out", str(tmp_path / "o"),
                              "--vessels", "1", "--days", "3"])
    assert res.exit_code == 0, res.output
    assert "north-port: berth on water" in res.output
    (d / "places.csv").write_text(PLACES.replace("36.86,53.36", ","), encoding="utf-8")
    bad = runner.invoke(app, ["simulate", "--corridor", str(d), "--out", str(tmp_path / "p")])
    assert bad.exit_code == 1 and "'south-port' has no coordinate" in bad.output
