"""Reconstruction: the 2023 shuttle from the case's sightings, rail surges, AIS-only shipments
(constructed events and the simulator's corridor scenario), the JSON contract."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corridor.cli import app
from corridor.corridors.case import load_case
from corridor.corridors.model import load_corridor, parse_corridor
from corridor.corridors.reconstruct import reconstruct
from corridor.detect.events import make_event
from corridor.schema import EVENTS

TOP_KEYS = {"format", "corridor", "window", "nodes", "legs", "vessels", "calls", "shipments",
            "rail", "estimates", "claims", "context", "sources", "warnings", "params"}


@pytest.fixture(scope="module")
def case_rec(tmp_path_factory):
    from corridor.store import Store

    with Store.open(tmp_path_factory.mktemp("case") / "case.duckdb") as store:
        load_case(store, "dprk-russia-2023")
        assert store.count("events") == 0  # the case has no AIS: it must work without events
        assert store.count("shipments") == 0
        reconstruct(store, "dprk-russia-2023")  # by default the store is only read
        assert store.count("shipments") == 0
        rec = reconstruct(store, "dprk-russia-2023", save=True).to_json()
        saved = store.query("SELECT shipment_id, tier FROM shipments ORDER BY shipment_id")
        again = reconstruct(store, "dprk-russia-2023", save=True).to_json()
    return rec, saved, again


def _one(rows, **kw):
    hit = [r for r in rows if all(r.get(k) == v for k, v in kw.items())]
    assert len(hit) == 1, (kw, [(r.get("vessel_name"), r.get("tier")) for r in rows])
    return hit[0]


def test_the_september_2023_shuttle_is_a_sea_leg_and_a_rail_leg(case_rec):
    rec = case_rec[0]
    sea = _one(rec["shipments"], mode="sea", vessel_id="angara", to_place_id="dunay")
    assert (sea["from_place_id"], sea["leg_id"], sea["tier"]) == ("rajin", "rajin-dunay", "probable")
    # Angara itself is seen only at Dunay; at Najin the image shows the ~300 containers
    roles = {(e["role"], e["place_id"]) for e in sea["evidence"]}
    assert roles == {("cargo", "rajin"), ("destination", "dunay")}
    najin = [e for e in sea["evidence"] if e["role"] == "cargo"][0]
    assert najin["time"]["earliest"] == "2023-09-07T00:00:00" and "⚠" in najin["marks"]
    assert sea["depart"]["earliest"] == "2023-09-07T00:00:00"
    assert sea["arrive"]["latest"] == "2023-09-13T00:00:00"
    assert {"S6", "S7"} <= set(sea["sources"]) and sea["counts_toward_totals"]
    assert (sea["cargo"]["low"], sea["cargo"]["high"]) == (270.0, 330.0)
    rail = _one([s for s in rec["shipments"] if s["arrive"]["earliest"] == "2023-10-01T00:00:00"],
                mode="rail")
    assert rail["arrive"] == {"earliest": "2023-10-01T00:00:00", "latest": "2023-10-02T00:00:00",
                              "uncertain": False, "text": "2023-10-01"}
    assert (rail["from_place_id"], rail["to_place_id"], rail["tier"]) == \
        ("dunay", "tikhoretsk-depot", "probable")
    assert rail["depart"]["earliest"] == "2023-09-12T00:00:00"
    assert "19.0 days earlier" in rail["tier_reason"]
    assert {"S6", "S7"} <= set(rail["sources"])
    # the train carries the ship's load: same cargo, not counted twice
    assert rail["carries_shipment_id"] == sea["shipment_id"]
    assert not rail["counts_toward_totals"] and rail["cargo"]["high"] == 330.0


def test_a_ship_seen_at_both_ends_is_confirmed(case_rec):
    lady = _one(case_rec[0]["shipments"], vessel_id="lady-r", tier="confirmed")
    assert (lady["from_place_id"], lady["to_place_id"]) == ("rajin", "vostochny")
    assert lady["depart"]["earliest"].startswith("2024-02-04")
    assert lady["arrive"]["latest"].startswith("2024-02-09")


def test_trip_counts_aug_2023_to_feb_2024_agree_with_the_case_file(case_rec):
    rec = case_rec[0]
    sea = [s for s in rec["shipments"] if s["mode"] == "sea" and s["from_place_id"] == "rajin"]
    # every dated ship at Rajin in §2 (26 Aug, 7-8 Sep containers→Angara, 10-12 Oct Maria
    # + the 110 m ship, weekend of 14-15 Oct, 19-20 Oct 115 m ship, 9 Dec, 8 Jan, 4 Feb, 12 Feb)
    days = sorted(s["depart"]["earliest"][:10] for s in sea)
    assert days == ["2023-08-26", "2023-09-07", "2023-10-10", "2023-10-14", "2023-10-20",
                    "2023-12-09", "2024-01-08", "2024-02-04", "2024-02-12"]
    assert Counter(s["tier"] for s in sea) == {"confirmed": 1, "probable": 1, "possible": 7}
    v = {c["key"]: c for c in rec["claims"]}
    counts = [k for k, c in v.items() if c["measure"] in ("shipments", "calls")
              and c["verdict"] != "untestable"]
    assert len(counts) >= 7
    # dated evidence never exceeds what the sources counted; it reaches the early counts
    assert all(v[k]["verdict"] in ("consistent", "evidence falls short") for k in counts)
    assert v["rusi-5-round-trips"]["verdict"] == "consistent"
    assert v["voa-4-large-ships"]["verdict"] == "consistent"
    assert v["csis-25-visits"]["verdict"] == "evidence falls short"
    assert "high 10 is below the claim's minimum 25" in v["csis-25-visits"]["arithmetic"]


def test_rail_counts_are_held_against_the_places_baseline(case_rec):
    rec = case_rec[0]
    surge = _one(rec["rail"]["surges"], place_id="tumangang")
    assert (surge["obs_date"], surge["railcars"], surge["baseline_railcars"]) == \
        ("2023-10-05", 73, 20)
    assert surge["surge"] and surge["ratio"] == 3.65
    assert "73 railcars [S12][S12c][S12d] / baseline 20" in surge["arithmetic"]
    assert "= 3.65 ≥ 2 → surge" in surge["arithmetic"]
    assert any("tikhoretsk-depot have no baseline" in w for w in rec["warnings"])


def test_the_json_contract_is_complete_and_deterministic(case_rec):
    rec, saved, again = case_rec
    assert set(rec) == TOP_KEYS and rec["format"] == "corridor.reconstruction/1"
    assert json.dumps(rec, sort_keys=True, default=str) == json.dumps(again, sort_keys=True,
                                                                      default=str)
    assert saved.num_rows == len(rec["shipments"])
    nodes = {n["place_id"]: n for n in rec["nodes"]}
    assert nodes["rajin"]["precision"] == "settlement" and nodes["rajin"]["lat"] == 42.34
    assert nodes["tikhoretsk-depot"]["precision"] == "facility"
    tags = {s["tag"]: s for s in rec["sources"]}
    for s in rec["shipments"]:
        assert s["tier"] in ("confirmed", "probable", "possible") and s["evidence"]
        for t in s["sources"]:
            assert tags[t]["url"], t
    reasons = Counter(c["reason"] for c in rec["context"])
    assert reasons["range too wide to date a shipment"] >= 3  # "Sep–Dec 2023", UK imagery
    assert reasons["unlocated"] >= 1
    angara = _one(rec["vessels"], vessel_id="angara")
    assert angara["imo_status"] == "unverified" and angara["mmsi"] is None


def test_cli_formats(db_file):
    runner = CliRunner()
    db = ["--db", str(db_file)]
    assert runner.invoke(app, db + ["corridors", "load", "dprk-russia-2023"]).exit_code == 0
    js = runner.invoke(app, db + ["reconstruct", "dprk-russia-2023", "--format", "json"])
    assert js.exit_code == 0 and json.loads(js.output)["format"] == "corridor.reconstruction/1"
    gj = json.loads(runner.invoke(app, db + ["reconstruct", "dprk-russia-2023", "--format",
                                             "geojson"]).output)
    kinds = Counter((f["properties"]["feature"], (f["geometry"] or {}).get("type"))
                    for f in gj["features"])
    assert kinds[("node", "Point")] == 7 and kinds[("shipment", "LineString")] >= 3
    assert kinds[("surge", "Point")] == 1
    table = runner.invoke(app, db + ["reconstruct", "dprk-russia-2023"]).output
    assert "[evidence falls short] wh-1000-containers" in table and "probable" in table
    bad = runner.invoke(app, db + ["reconstruct", "nowhere"])
    assert bad.exit_code == 1 and "no such corridor" in bad.output


# --------------------------------------------------------------- AIS-only shipments
SIM_CORRIDOR = {
    "id": "test-fictitious", "title": "Fictitious test corridor (constructed events)",
    "data": "all", "case": "dprk-russia-2023", "claims": {"case": False, "match": False},
    "window": {"start": "2023-09-01", "end": "2023-09-30"},
    "nodes": [{"place": "rajin", "role": "origin"}, {"place": "dunay", "role": "destination"}],
    "legs": [{"id": "r-d", "from": "rajin", "to": "dunay", "mode": "sea",
              "duration_hours": [6, 72]}],
}


def _ev(kind, mmsi, start, end, lat, lon, place=None, attrs=None):
    us = lambda t: int(datetime.fromisoformat(t).timestamp() * 1e6)  # noqa: E731
    return make_event(kind, mmsi, us(start), us(end), params={"test": True}, lat=lat, lon=lon,
                      place_id=place, evidence=[1, 2], attrs=attrs or {})


def test_constructed_port_visits_and_gaps_reconstruct_tiers(store):
    """Events built here by hand (fictitious MMSIs 100000901-2), not by the detector."""
    load_case(store, "dprk-russia-2023")
    rows = [
        # ship 901: AIS port visits at both ends -> confirmed
        _ev("port_visit", 100000901, "2023-09-02T00:00:00", "2023-09-02T20:00:00", 42.22, 130.34),
        _ev("port_visit", 100000901, "2023-09-03T10:00:00", "2023-09-04T02:00:00", 42.875, 132.36),
        # ship 902: seen in port at Rajin, then dark from off Rajin to off Dunay -> probable
        _ev("port_visit", 100000902, "2023-09-10T00:00:00", "2023-09-10T12:00:00", 42.22, 130.34),
        _ev("gap", 100000902, "2023-09-10T14:00:00", "2023-09-11T06:00:00", 42.10, 130.55,
            attrs={"off_lat": 42.10, "off_lon": 130.55, "on_lat": 42.70, "on_lon": 132.30,
                   "duration_hours": 16.0}),
    ]
    store.insert_arrow("events", pa.Table.from_pylist(rows, schema=EVENTS))
    c = parse_corridor(SIM_CORRIDOR, "test-corridor")
    rec = reconstruct(store, c, save=False).to_json()
    by = {s["mmsi"]: s for s in rec["shipments"]}
    assert by[100000901]["tier"] == "confirmed"
    assert by[100000901]["depart"] == {"earliest": "2023-09-02T20:00:00",
                                       "latest": "2023-09-02T20:00:00", "uncertain": False,
                                       "text": None}
    assert by[100000902]["tier"] == "probable" and by[100000902]["to_place_id"] == "dunay"
    assert [e["role"] for e in by[100000902]["evidence"]] == ["origin", "gap"]


def _match(truth: list[dict], shipments: list[dict], slack=timedelta(hours=1)) -> set[str]:
    """Shipment ids that match a true voyage (same ship, direction, overlapping times)."""
    def node(p):
        return "rajin" if "najin" in p else "dunay"
    used: set[str] = set()
    for tv in truth:
        for s in shipments:
            if (s["shipment_id"] in used or s["mmsi"] != tv["mmsi"]
                    or (s["from_place_id"], s["to_place_id"]) != (node(tv["from_place_id"]),
                                                                  node(tv["to_place_id"]))):
                continue
            a = datetime.fromisoformat(s["depart"]["earliest"])
            b = datetime.fromisoformat(s["arrive"]["latest"])
            if a <= tv["end_ts"] + slack and b >= tv["start_ts"] - slack:
                used.add(s["shipment_id"])
                break
    return used


def test_simulated_corridor_port_visits_and_gaps_alone_reconstruct_known_shipments(
        store, tmp_path, capsys):
    """SIMULATED data (corridor.sim, fictitious MMSIs) -> detection -> reconstruction."""
    from corridor.engines.local import run_detect
    from corridor.evaluate import load_simulation
    from corridor.sim import SimConfig, simulate

    load_case(store, "dprk-russia-2023")
    simulate(SimConfig(vessels=3, days=7, seed=3, scenario="corridor", report_interval_s=900),
             tmp_path / "sim")
    load_simulation(store, tmp_path / "sim")
    run_detect(store, workers=1)
    truth = [t for t in pq.read_table(tmp_path / "sim" / "truth.parquet").to_pylist()
             if t["type"] == "voyage" and t["complete"]]
    rec = reconstruct(store, "sim-najin-dunai", save=False).to_json()
    ships = rec["shipments"]
    strong = [s for s in ships if s["tier"] != "possible"]
    hits = _match(truth, ships)
    precision = len(hits & {s["shipment_id"] for s in strong}) / len(strong)
    recall = len(hits) / len(truth)
    # with AIS dark at the Dunai end too (port visits there removed): gaps carry the legs
    store.con.execute("DELETE FROM events WHERE type = 'voyage' OR (type = 'port_visit' "
                      "AND lat > 42.6)")
    dark = reconstruct(store, "sim-najin-dunai", save=False).to_json()["shipments"]
    dark_hits = _match(truth, dark)
    dark_strong = [s for s in dark if s["tier"] != "possible"]
    dark_precision = len(dark_hits & {s["shipment_id"] for s in dark_strong}) / len(dark_strong)
    dark_recall = len(dark_hits) / len(truth)
    with capsys.disabled():
        print(f"\nsimulated corridor: {len(truth)} true voyages; port visits + gaps: precision "
              f"{precision:.2f} recall {recall:.2f} ({Counter(s['tier'] for s in ships)}); "
              f"Dunai end dark: precision {dark_precision:.2f} recall {dark_recall:.2f} "
              f"({Counter(s['tier'] for s in dark)})")
    assert len(truth) >= 10
    assert precision >= 0.9 and recall >= 0.9  # 1.00 / 1.00 when written
    assert Counter(s["tier"] for s in strong)["confirmed"] >= 0.9 * len(strong)
    assert dark_precision >= 0.9 and dark_recall >= 0.8
    assert {s["tier"] for s in dark_strong} == {"probable"}
    # the real corridor never mixes simulated ships into its account
    real = reconstruct(store, load_corridor("dprk-russia-2023"), save=False).to_json()
    assert all(s["mmsi"] is None for s in real["shipments"])


def test_unknown_reconstruction_parameters_are_named(store):
    from corridor.corridors.reconstruct import ReconstructError

    c = parse_corridor({**SIM_CORRIDOR, "params": {"call_merge_hour": 6}}, "my.yaml")
    with pytest.raises(ReconstructError, match=r"my.yaml: params: unknown parameter "
                                               r"'call_merge_hour'"):
        reconstruct(store, c, save=False)
