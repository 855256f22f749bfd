"""Watchlists: FollowTheMoney entity lines and plain CSV, matched to the case's vessels."""

from __future__ import annotations

import json

from corridor.corridors.case import load_case
from corridor.corridors.reconstruct import reconstruct
from corridor.ingest.watchlist import ingest_watchlist


def ftm_lines() -> str:
    ents = [
        {"id": "ofac-lady-r", "schema": "Vessel", "datasets": ["us_ofac_sdn"],
         "first_seen": "2022-05-09T00:00:00",
         "properties": {"name": ["LADY R"], "imoNumber": ["IMO 9161003"], "flag": ["ru"],
                        "alias": ["LADY-R"], "topics": ["sanction"]}},
        {"id": "ofac-lady-r-sanction", "schema": "Sanction",
         "properties": {"entity": ["ofac-lady-r"], "program": ["RUSSIA-EO14024"],
                        "authority": ["Office of Foreign Assets Control"],
                        "startDate": ["2022-05-08"]}},
        {"id": "eu-maya", "schema": "Vessel", "datasets": ["eu_fsf"],
         "properties": {"name": ["MAYA-1"], "imoNumber": ["9161004"]}},  # bad check digit
        {"id": "some-person", "schema": "Person", "properties": {"name": ["A Person"]}},
        {"id": "nameless", "schema": "Vessel", "properties": {"imoNumber": ["9179842"]}},
    ]
    return "\n".join(json.dumps(e) for e in ents) + "\n{not json\n"


def test_ftm_vessels_with_sanctions_are_stored_and_the_rest_counted(store, tmp_path):
    f = tmp_path / "entities.ftm.json"
    f.write_text(ftm_lines())
    s = ingest_watchlist(store, f)
    assert s.status == "done" and s.stored == {"watchlist": 2}
    assert s.skipped["not a Vessel (Person)"] == 1
    assert s.skipped["not JSON"] == 1 and s.examples["not JSON"] == [6]
    assert s.skipped["vessel without a name"] == 1
    assert s.skipped["invalid IMO (row kept without it)"] == 1
    rows = {r["entity_id"]: r for r in store.query("SELECT * FROM watchlist").to_pylist()}
    lady = rows["ofac-lady-r"]
    assert lady["imo"] == 9161003 and lady["flag"] == "ru" and lady["aliases"] == ["LADY-R"]
    assert lady["programs"] == ["sanction", "RUSSIA-EO14024", "us_ofac_sdn"]
    assert str(lady["listed_on"]) == "2022-05-08"
    assert lady["authority"] == "Office of Foreign Assets Control"
    assert rows["eu-maya"]["imo"] is None
    assert ingest_watchlist(store, f).status == "skipped_duplicate"


def test_plain_csv_watchlist_and_missing_name_column(store, tmp_path):
    f = tmp_path / "list.csv"
    f.write_text("name,imo,mmsi,flag,programs,listed_on\nANGARA,9179842,,RU,EU;KR,2024-06-24\n"
                 ",9161003,,,,\nMARIA,,,RU,US,12/12/2023\n")
    s = ingest_watchlist(store, f)
    assert s.stored == {"watchlist": 1} and s.skipped == {"no name": 1, "bad date": 1}
    row = store.query("SELECT name, imo, programs, listed_on FROM watchlist").to_pylist()[0]
    assert (row["name"], row["imo"], row["programs"]) == ("ANGARA", 9179842, ["EU", "KR"])
    bad = tmp_path / "bad.csv"
    bad.write_text("vessel,imo\nX,9161003\n")
    r = ingest_watchlist(store, bad)
    assert r.status == "failed" and "missing column 'name'" in r.message and str(bad) in r.message


def test_watchlist_entries_attach_to_the_reconstructed_vessels(store, tmp_path):
    load_case(store, "dprk-russia-2023")
    f = tmp_path / "entities.ftm.json"
    f.write_text(ftm_lines())
    ingest_watchlist(store, f)
    rec = reconstruct(store, "dprk-russia-2023", save=False).to_json()
    v = {x["vessel_id"]: x for x in rec["vessels"]}
    assert [w["entity_id"] for w in v["lady-r"]["watchlist"]] == ["ofac-lady-r"]
    assert v["lady-r"]["watchlist"][0]["matched_on"] == "imo"
    # the EU entry spells MAYA-1 and has an invalid IMO: matched by name (transliteration fold)
    assert [(w["entity_id"], w["matched_on"]) for w in v["maia-1"]["watchlist"]] == \
        [("eu-maya", "name")]
    # the case's own sourced sanctions are listed separately, with dates and marks
    maria_us = [s for s in v["maria"]["sanctions"] if s["authority"] == "US"][0]
    assert maria_us["listed_on"] == "2023-12-12" and "⚠" in maria_us["marks"]
