"""The second shipped case (grain from occupied Crimea by sea, 2022) goes through exactly the same
code as the first: loaded, reconstructed, its claims judged and its report written."""

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
        assert summary.stored["vessels"] == 4 and summary.stored["sources"] == 12
        return reconstruct(store, CASE, save=False)


def test_every_row_cites_sources_that_exist_and_invents_no_identity():
    d = case_dir(CASE)
    tags = {r["tag"]: r for r in csv.DictReader(open(d / "sources.csv", encoding="utf-8"))}
    assert all(r["url"].startswith("https://") for r in tags.values())
    n = 0
    for name in ("places.csv", "vessels.csv", "sightings.csv", "claims.csv"):
        for r in csv.DictReader(open(d / name, encoding="utf-8")):
            cited = (r.get("sources") or r.get("source") or "").split(";")
            assert all(t in tags for t in cited if t), (name, r)
            n += 1
    assert n >= 25
    vessels = list(csv.DictReader(open(d / "vessels.csv", encoding="utf-8")))
    assert all(v["imo"] == "" and v["mmsi"] == "" for v in vessels)  # none in the sources


def test_the_shuttle_is_reconstructed_with_its_marks(rec):
    by = {(s.vessel_id, s.to_place_id, s.depart.earliest.date().isoformat()): s
          for s in rec.shipments}
    assert len(rec.shipments) >= 6
    nen = by[("mikhail-nenashev", "derince", "2022-04-15")]
    assert nen.tier == "confirmed" and "⚠" in nen.marks  # the conflicting dates are carried
    poz = next(s for s in rec.shipments if s.vessel_id == "matros-pozynich"
               and s.to_place_id == "latakia")
    assert poz.tier == "confirmed" and (poz.cargo.low, poz.cargo.high) == (27000.0, 30000.0)
    # Finikia's unloading place is disputed (⚠ only): held at probable by the marks rule
    fin = next(s for s in rec.shipments if s.vessel_id == "finikia"
               and s.to_place_id == "iskenderun")
    assert fin.tier == "probable" and "rests only on evidence marked ⚠" in fin.tier_capped_by
    unloc = [c for c in rec.context if c["reason"] == "unlocated"]
    assert len(unloc) == 2  # "off the coast of Crimea", "between Cyprus and Syria"


def test_the_claims_get_verdicts_in_tonnes_and_calls(rec):
    v = {c.key: c for c in rec.claims}
    assert set(v) == {"seakrime-april-100000", "ua-27000-pozynich", "ua-mod-400000",
                      "pozynich-trips-2"}
    assert v["seakrime-april-100000"].measure == "tonnes"
    assert v["seakrime-april-100000"].verdict == "evidence falls short"
    assert "without a cargo figure" in v["seakrime-april-100000"].arithmetic
    assert v["ua-27000-pozynich"].verdict == "consistent"
    assert v["ua-mod-400000"].verdict == "untestable"
    assert v["pozynich-trips-2"].measure == "calls"
    j = json.loads(rec.to_json_text())
    assert j["format"] == "corridor.reconstruction/1" and j["corridor"]["cargo_unit"] == "tonnes"
    assert {s["tag"] for s in j["sources"]} >= {"S1", "S2", "S6", "S8", "S10"}


def test_the_report_is_written_by_the_same_code(tmp_path):
    from corridor.report.build import write_report
    from corridor.store import Store

    with Store.open(tmp_path / "r.duckdb") as store:
        load_case(store, CASE)
        out = write_report(store, CASE, tmp_path / "crimea.html")
    html = out.read_text(encoding="utf-8")
    assert "MATROS POZYNICH" in html and "Sevastopol" in html
    assert load_corridor(CASE).case == CASE
