"""Regression tests of the reconstruction's rules, each on a small fictitious case folder
(Port A → Port B, ships SHIP X/Y/Z/W; nothing here is a real place or ship):

- an arrival and a later departure at one place are one call;
- a voyage AIS shows returning to its origin is not a shipment elsewhere;
- a count covering several ships is shared between them, never added twice;
- a claim tested against evidence from its own source says so;
- source reliability marks bound the tier;
- cargo in any declared unit; a claim in a unit never counted stays untestable with the reason.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from corridor.corridors.case import load_case
from corridor.corridors.reconstruct import reconstruct
from corridor.detect.events import make_event
from corridor.schema import EVENTS

CORRIDOR = """\
id: rules-test
title: Rules test (fictitious)
window: {start: 2024-01-01, end: 2024-03-31}
nodes:
  - {place: port-a, role: origin}
  - {place: port-b, role: destination}
legs:
  - {id: a-b, from: port-a, to: port-b, mode: sea, duration_hours: [12, 240]}
cargo:
  unit: containers
  per_load: {low: 250, high: 300}
  basis: "fictitious per-load figure [S3] (I)"
  sources: [S3]
  units:
    - {unit: shells, aliases: [artillery shells, rounds], per_load: {low: 1000, high: 2000}}
    - {unit: tonnes}
"""
PLACES = """\
place_id,name,kind,country,lat,lon,precision,precision_note,radius_m,aliases,mark,sources,note
port-a,Port A,port,XA,10.0,50.0,settlement,fictitious,8000,Porta,C,S1,a note on Port A
port-b,Port B,port,XB,12.0,53.0,facility,fictitious,8000,,C,S1,
"""
VESSELS = """\
vessel_id,name,aliases,imo,imo_status,mmsi,flag,vessel_type,length_m,gross_tonnage,capacity_teu,owner,marks,sources,notes
ship-x,SHIP X,,,,,XA,general cargo,,,,,C,S1,
ship-y,SHIP Y,,,,,XA,general cargo,,,,,C,S1,
ship-z,SHIP Z,,,,,XA,general cargo,,,,,C,S1,
ship-w,SHIP W,,,,,XA,general cargo,,,,,C,S1,
ship-m,SHIP M,,,,100000777,XA,general cargo,,,,,C,S1,
"""
SOURCES = """\
tag,parent,publisher,title,date,url,other_urls,marks,citation
S1,,Example News,Ships,2024-02-01,https://example.org/1,,,Example News 1
S2,,Example Wire,More ships,2024-02-02,https://example.org/2,,,Example Wire 2
S3,,Example Analyst,Loads,2024-02-03,https://example.org/3,,,Example Analyst 3
"""
SIGHT_HEAD = "date,place_id,vessel_name,subject,count,unit,vessels,activity,source,mark\n"


def _case(tmp_path: Path, sightings: str, claims: str = "") -> Path:
    d = tmp_path / "rules-test"
    d.mkdir()
    (d / "corridor.yaml").write_text(CORRIDOR, encoding="utf-8")
    (d / "places.csv").write_text(PLACES, encoding="utf-8")
    (d / "vessels.csv").write_text(VESSELS, encoding="utf-8")
    (d / "sources.csv").write_text(SOURCES, encoding="utf-8")
    (d / "sightings.csv").write_text(SIGHT_HEAD + sightings, encoding="utf-8")
    if claims:
        (d / "claims.csv").write_text(
            "key,sentence,quantity,unit,qualifier,period_start,period_end,places,sources,mark\n"
            + claims, encoding="utf-8")
    return d


def _rec(store, d: Path):
    load_case(store, d)
    return reconstruct(store, d, save=False)


def test_an_arrival_and_a_later_departure_are_one_call(store, tmp_path):
    d = _case(tmp_path, "2024-01-27,port-a,SHIP X,vessel,,,,arrived,S1,C\n"
                        "2024-02-03,port-a,SHIP X,vessel,,,,departed,S1,C\n"
                        "2024-02-06,port-b,SHIP X,vessel,,,,arrived,S2,C\n")
    rec = _rec(store, d)
    at_a = [c for c in rec.calls if c.place_id == "port-a"]
    assert len(at_a) == 1, [c.time for c in at_a]
    call = at_a[0]
    assert call.time.earliest == datetime(2024, 1, 27)
    assert call.departed is not None and call.departed.earliest == datetime(2024, 2, 3)
    assert [s.tier for s in rec.shipments] == ["confirmed"]
    # the departure bounds the shipment, not the arrival a week earlier
    assert rec.shipments[0].depart.earliest == datetime(2024, 2, 3)


def test_a_departure_after_a_visit_elsewhere_is_not_merged(store, tmp_path):
    d = _case(tmp_path, "2024-01-10,port-a,SHIP X,vessel,,,,arrived,S1,C\n"
                        "2024-01-14,port-b,SHIP X,vessel,,,,arrived,S1,C\n"
                        "2024-01-20,port-a,SHIP X,vessel,,,,departed,S1,C\n")
    rec = _rec(store, d)
    assert len([c for c in rec.calls if c.place_id == "port-a"]) == 2


def _visit(mmsi: int, start: str, end: str, lat: float, lon: float) -> dict:
    us = lambda t: int(datetime.fromisoformat(t).timestamp() * 1e6)  # noqa: E731
    return make_event("port_visit", mmsi, us(start), us(end), params={"test": True}, lat=lat,
                      lon=lon, evidence=[1], attrs={})


def test_a_round_trip_back_to_the_origin_is_not_a_shipment(store, tmp_path):
    d = _case(tmp_path, "")
    load_case(store, d)
    rows = [  # AIS (constructed here) of SHIP M: A, out to sea and back to A, then to B
        _visit(100000777, "2024-02-01T00:00:00", "2024-02-01T12:00:00", 10.0, 50.0),
        _visit(100000777, "2024-02-03T00:00:00", "2024-02-04T00:00:00", 10.0, 50.0),
        _visit(100000777, "2024-02-06T00:00:00", "2024-02-06T12:00:00", 12.0, 53.0),
    ]
    store.insert_arrow("events", pa.Table.from_pylist(rows, schema=EVENTS))
    rec = reconstruct(store, d, save=False)
    assert len(rec.calls) == 3
    assert [(s.tier, s.from_place_id, s.to_place_id) for s in rec.shipments] == \
        [("confirmed", "port-a", "port-b")]
    assert rec.shipments[0].depart.earliest == datetime(2024, 2, 4)
    trips = [x for x in rec.context if x["reason"].startswith("round trip")]
    assert len(trips) == 1 and trips[0]["time"]["earliest"] == "2024-02-01T00:00:00"


def test_a_count_covering_two_ships_is_shared_not_added_twice(store, tmp_path):
    d = _case(
        tmp_path,
        "2024-02-01,port-a,SHIP X,vessel,,,,loading,S1,C\n"
        "2024-02-01,port-a,SHIP Y,vessel,,,,loading,S1,C\n"
        "2024-02-05,port-b,SHIP X,vessel,,,,arrived,S2,C\n"
        "2024-02-05,port-b,SHIP Y,vessel,,,,arrived,S2,C\n"
        # "about 200 containers aboard the two ships", written on one ship's row
        "2024-02-05,port-b,SHIP X,containers,200,,2,aboard,S2,C\n",
        claims="about-200,about 200 containers aboard the two ships,200,containers,about,"
               "2024-02-01,2024-02-10,port-a;port-b,S2,C\n")
    rec = _rec(store, d)
    sea = [s for s in rec.shipments if s.mode == "sea"]
    assert sorted(s.vessel_id for s in sea) == ["ship-x", "ship-y"]
    for s in sea:
        assert (s.cargo.low, s.cargo.high) == (90.0, 110.0), s.cargo
        assert "covers 2 ships" in s.cargo.basis
    claim = next(v for v in rec.claims if v.key == "about-200")
    e = next(x for x in rec.estimates if x.estimate_id == claim.estimate_id)
    assert (e.low, e.high) == (180.0, 220.0)
    assert claim.verdict == "consistent"


def test_a_claim_held_against_its_own_source_says_so(store, tmp_path):
    d = _case(
        tmp_path,
        "2024-02-01,port-a,SHIP X,vessel,,,,loading,S1,C\n"
        "2024-02-05,port-b,SHIP X,vessel,,,,arrived,S1,C\n",
        claims="own,one shipment,1,shipments,exact,2024-02-01,2024-02-10,port-a,S1,C\n"
               "other,one shipment,1,shipments,exact,2024-02-01,2024-02-10,port-a,S2,C\n")
    rec = _rec(store, d)
    v = {c.key: c for c in rec.claims}
    assert v["own"].verdict == "consistent" and len(v["own"].own_source_evidence) == 2
    assert "not independent" in v["own"].independence and "[S1]" in v["own"].independence
    assert v["other"].own_source_evidence == () and v["other"].independence is None
    assert "not independent" in rec.to_text()


def test_source_marks_bound_the_tier(store, tmp_path):
    d = _case(
        tmp_path,
        "2024-02-01,port-a,SHIP Z,vessel,,,,loading,S1,U\n"  # origin only unverified
        "2024-02-05,port-b,SHIP Z,vessel,,,,arrived,S2,C\n"
        "2024-02-01,port-a,SHIP W,vessel,,,,loading,S1,U\n"  # everything unverified
        "2024-02-05,port-b,SHIP W,vessel,,,,arrived,S2,U;I\n"
        "2024-02-01,port-a,SHIP X,vessel,,,,loading,S1,C;⚠\n"  # stated, detail in conflict
        "2024-02-05,port-b,SHIP X,vessel,,,,arrived,S2,C\n")
    rec = _rec(store, d)
    by = {s.vessel_id: s for s in rec.shipments}
    assert by["ship-x"].tier == "confirmed" and by["ship-x"].tier_capped_by is None
    assert by["ship-z"].tier == "probable"
    assert "origin rests only on evidence marked U" in by["ship-z"].tier_capped_by
    assert by["ship-w"].tier == "possible"
    assert "every piece of evidence is marked" in by["ship-w"].tier_reason


def test_cargo_in_declared_units_and_untestable_units_say_why(store, tmp_path):
    d = _case(
        tmp_path,
        "2024-02-01,port-a,SHIP X,vessel,,,,loading,S1,C\n"
        "2024-02-01,port-a,SHIP X,cargo,3000,artillery shells,,loaded,S1,C\n"
        "2024-02-05,port-b,SHIP X,vessel,,,,arrived,S2,C\n"
        "2024-02-20,port-a,SHIP Y,vessel,,,,loading,S1,C\n"
        "2024-02-24,port-b,SHIP Y,vessel,,,,arrived,S2,C\n"
        "2024-02-24,port-b,SHIP Y,cargo,12,drones,,unloading,S2,C\n",
        claims="shells,at least 4000 shells,4000,shells,at_least,2024-02-01,2024-02-28,port-a,S3,C\n"
               "tonnes,5000 tonnes,5000,tonnes,about,2024-02-01,2024-02-28,port-a,S3,C\n"
               "missiles,20 missiles,20,missiles,exact,2024-02-01,2024-02-28,port-a,S3,C\n")
    rec = _rec(store, d)
    x = next(s for s in rec.shipments if s.vessel_id == "ship-x")
    shells = x.cargo_in("shells")
    assert (shells.low, shells.high) == (2700.0, 3300.0)  # the count seen, ±10%
    assert (x.cargo.low, x.cargo.high) == (250.0, 300.0)  # containers: the per-load figure
    y = next(s for s in rec.shipments if s.vessel_id == "ship-y")
    assert (y.cargo_in("shells").low, y.cargo_in("shells").high) == (1000.0, 2000.0)
    v = {c.key: c for c in rec.claims}
    assert v["shells"].measure == "shells" and v["shells"].verdict == "consistent"
    e = next(x for x in rec.estimates if x.estimate_id == v["shells"].estimate_id)
    assert (e.unit, e.low, e.high) == ("shells", 3700.0, 5300.0)
    assert v["tonnes"].verdict == "untestable" and "no evidence counts tonnes" in v["tonnes"].arithmetic
    assert v["missiles"].verdict == "untestable"
    assert "unit 'missiles' is not something corridor counts (containers, shells, tonnes" \
        in v["missiles"].arithmetic
    assert any("'drones'" in w for w in rec.warnings)
    # the window in every declared unit
    assert {e.measure for e in rec.estimates} >= {"containers", "shipments", "shells", "tonnes"}
    j = rec.to_dict()
    sx = next(s for s in j["shipments"] if s["vessel_id"] == "ship-x")
    assert {c["unit"] for c in sx["cargo_by_unit"]} == {"shells", "tonnes"}


def test_the_analysts_notes_marks_and_precision_reach_the_json(store, tmp_path):
    d = _case(tmp_path, "2024-02-01,port-a,SHIP X,vessel,,,,loading,S1,C\n",
              claims="c1,one shipment,1,shipments,exact,2024-02-01,2024-02-10,port-a,S1,C\n")
    (d / "claims.csv").write_text(
        "key,sentence,quantity,unit,qualifier,period_start,period_end,places,sources,mark,note\n"
        "c1,one shipment,1,shipments,exact,2024-02-01,2024-02-10,port-a,S1,C,my note on c1\n",
        encoding="utf-8")
    j = _rec(store, d).to_dict()
    a = next(n for n in j["nodes"] if n["place_id"] == "port-a")
    assert (a["precision"], a["precision_note"], a["mark"], a["note"]) == \
        ("settlement", "fictitious", "C", "a note on Port A")
    assert a["sources"] == ["S1"]
    c1 = next(c for c in j["claims"] if c["key"] == "c1")
    assert c1["note"] == "my note on c1" and c1["marks"] == ["C"]


@pytest.mark.parametrize("bad", ["nowhere-case", "../nope"])
def test_an_unknown_case_is_refused(tmp_path, bad):
    from corridor.corridors.model import CorridorError, parse_corridor

    doc = {"id": "x", "title": "X", "case": bad, "window": {"start": "2024-01-01",
           "end": "2024-02-01"}, "nodes": [{"place": "a", "role": "origin"}]}
    with pytest.raises(CorridorError, match="neither a shipped case"):
        parse_corridor(doc, str(tmp_path / "c.yaml"))


def test_an_ingested_report_is_cited_with_its_own_source_tag(store, tmp_path):
    from corridor.ingest.reports import ingest_report

    d = _case(tmp_path, "2024-02-01,port-a,SHIP X,vessel,,,,loading,S1,C\n"
                        "2024-02-05,port-b,SHIP X,vessel,,,,arrived,S2,C\n")
    load_case(store, d)
    txt = tmp_path / "wire.txt"
    txt.write_text("Officials said that North Korea shipped more than 500 containers of "
                   "munitions to Russia from Port A between February 1 and February 10, 2024.\n",
                   encoding="utf-8")
    ingest_report(store, txt, published=datetime(2024, 2, 12).date())
    rec = reconstruct(store, d, save=False)
    extracted = [c for c in rec.claims if c.origin == "extracted"]
    assert len(extracted) == 1, [c.sentence for c in rec.claims]
    tag = extracted[0].sources[0]
    assert tag == "S4"  # after the case's S1-S3
    src = next(s for s in rec.sources if s["tag"] == tag)
    assert "ingested report" in src["citation"] and src["date"] == "2024-02-12"
    assert f"[{tag}]" in extracted[0].arithmetic
