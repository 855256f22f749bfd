"""The second shipped case (grain from occupied Crimea by sea, 2022 – 2023) goes through exactly
the same code as the first: loaded, reconstructed, its claims judged and its report written."""

from __future__ import annotations

import csv
import json

import pytest

from corridor.corridors.case import load_case
from corridor.corridors.model import case_dir, load_corridor
from corridor.corridors.reconstruct import reconstruct

CASE = "crimea-grain-2022"


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    from corridor.store import Store

    with Store.open(tmp_path_factory.mktemp("crimea") / "c.duckdb") as store:
        summary = load_case(store, CASE)
        assert summary.stored["vessels"] == 13 and summary.stored["sources"] == 95
        return reconstruct(store, CASE, save=False)


def test_every_row_cites_sources_that_exist_and_invents_no_identity():
    d = case_dir(CASE)
    tags = {r["tag"]: r for r in csv.DictReader(open(d / "sources.csv", encoding="utf-8"))}
    assert all(r["url"].startswith(("https://", "http://")) for r in tags.values())
    assert all(r["parent"] in tags for r in tags.values() if r["parent"])
    n = 0
    for name in ("places.csv", "vessels.csv", "sanctions.csv", "sightings.csv", "claims.csv"):
        for r in csv.DictReader(open(d / name, encoding="utf-8")):
            cited = [t for t in (r.get("sources") or r.get("source") or "").split(";") if t]
            assert cited and all(t in tags for t in cited), (name, r)
            n += 1
    assert n >= 140
    vessels = {v["vessel_id"]: v for v in csv.DictReader(open(d / "vessels.csv", encoding="utf-8"))}
    # an IMO only where the case file publishes one, always with its status; one MMSI (U)
    with_imo = {k: v["imo_status"] for k, v in vessels.items() if v["imo"]}
    assert with_imo == {"mikhail-nenashev": "confirmed", "matros-pozynich": "unverified",
                        "matros-koshka": "unverified", "finikia": "unverified",
                        "laodicea": "unverified", "zafar": "unverified"}
    assert all(v["imo_status"] == "" for v in vessels.values() if not v["imo"])
    assert {k for k, v in vessels.items() if v["mmsi"]} == {"mikhail-nenashev"}
    # places: a coordinate only where a source gives one (Izmir, the Bosphorus: none)
    places = {p["place_id"]: p for p in csv.DictReader(open(d / "places.csv", encoding="utf-8"))}
    assert places["izmir"]["lat"] == "" and places["bosphorus"]["lat"] == ""
    assert all(p["precision"] and p["precision_note"] for p in places.values() if p["lat"])


def test_the_continuation_after_2023_stays_out_of_the_sheets():
    d = case_dir(CASE)
    rows = list(csv.DictReader(open(d / "sightings.csv", encoding="utf-8")))
    assert len(rows) >= 70
    assert not [r for r in rows if "2024" in r["date"] or "2025" in r["date"]]
    assert str(load_corridor(CASE).window_end) <= "2023-12-31"


def test_the_shuttle_is_reconstructed_with_its_marks(rec):
    by = {(s.vessel_id, s.to_place_id, s.depart.earliest.date().isoformat()): s
          for s in rec.shipments}
    assert len(rec.shipments) >= 12
    # Skhemy alone (U) with a conflicting copy (⚠): the shipment is held at possible
    nen = by[("mikhail-nenashev", "derince", "2022-04-15")]
    assert nen.tier == "possible" and "⚠" in nen.marks and "U" in nen.marks
    assert "marked U/⚠" in nen.tier_capped_by
    # seen loading (Maxar) and arriving (Maxar, Planet): confirmed, with the conflicting loads
    poz = [s for s in rec.shipments if s.vessel_id == "matros-pozynich"
           and s.to_place_id == "latakia"]
    assert len(poz) == 2 and all(s.tier == "confirmed" for s in poz)
    assert all((s.cargo.low, s.cargo.high) == (27000.0, 30000.0) for s in poz)
    # Finikia's unloading place is disputed (Dörtyol vs Nemrut, both from Skhemy copies)
    fin = by[("finikia", "dortyol", "2022-04-20")]
    assert fin.tier == "possible" and "⚠" in fin.marks
    # Feodosia → Tripoli: a second origin, with the Laodicea's load from the manifest and buyer
    lao = by[("laodicea", "tripoli-lb", "2022-07-11")]
    assert lao.tier == "confirmed" and (lao.cargo.low, lao.cargo.high) == (9700.0, 10000.0)
    # the rest of its cargo went on to Tartus (Tripoli is a transit node): not counted twice
    on = by[("laodicea", "tartus", "2022-07-27")]
    assert on.from_place_id == "tripoli-lb" and on.counts_toward_totals is False
    # the stay at Tripoli (27 Jul - 2 Aug, seized and released) is one call, not four
    assert sum(1 for c in rec.calls if c.place_id == "tripoli-lb") == 1
    unloc = {c["place_text"] for c in rec.context if c["reason"] == "unlocated"}
    assert {"off the coast of Crimea", "between Cyprus and Syria, about 47 km from Latakia",
            "Bosphorus, southbound"} <= unloc


def test_the_claims_get_verdicts_in_tonnes_and_calls(rec):
    v = {c.key: c for c in rec.claims}
    assert len(v) == 19 and {"seakrime-april-100000", "ua-27000-pozynich", "ua-30000-pozynich",
                             "ua-mod-400000", "pozynich-trips-2"} <= set(v)
    assert v["seakrime-april-100000"].measure == "tonnes"
    assert v["seakrime-april-100000"].verdict == "evidence falls short"
    assert "without a cargo figure" in v["seakrime-april-100000"].arithmetic
    assert v["ua-27000-pozynich"].verdict == "consistent"
    assert v["ua-30000-pozynich"].verdict == "consistent"
    assert v["pozynich-trips-2"].measure == "calls"
    assert v["pozynich-trips-2"].verdict == "consistent"  # 27 and 29 May are one call
    # three accounts of the Laodicea's cargo: all consistent with the load, none independent
    for key in ("embassy-laodicea-10000", "loyalagro-laodicea-9700", "ap-manifest-laodicea-10000"):
        assert v[key].verdict == "consistent" and v[key].independence, key
    assert v["skhemy-may-12-ships"].measure == "calls"
    assert v["skhemy-may-12-ships"].verdict == "evidence falls short"
    assert v["ap-50-voyages"].measure == "shipments"
    assert v["bellingcat-179-days"].verdict == "untestable"  # days are not counted
    j = json.loads(rec.to_json_text())
    assert j["format"] == "corridor.reconstruction/1" and j["corridor"]["cargo_unit"] == "tonnes"
    assert {s["tag"] for s in j["sources"]} >= {"S1", "S2", "S6", "S8", "S21e", "S60"}


def test_the_report_is_written_by_the_same_code(tmp_path):
    from corridor.report.build import write_report
    from corridor.store import Store

    with Store.open(tmp_path / "r.duckdb") as store:
        load_case(store, CASE)
        out = write_report(store, CASE, tmp_path / "crimea.html")
    html = out.read_text(encoding="utf-8")
    assert "MATROS POZYNICH" in html and "Sevastopol" in html
    assert load_corridor(CASE).case == CASE
