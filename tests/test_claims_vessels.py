"""Vessels in claims: ship names, IMO numbers (check digit) and MMSIs, resolved against the
store's vessels; stored in the claim's fields, listed by ``corridor claims``, re-resolved
when a case's vessels arrive later."""

from __future__ import annotations

import json
from datetime import date

import pyarrow as pa
import pytest

from corridor.claims.extract import extract_claims
from corridor.claims.vessels import VesselIndex, find_vessels

PUB = date(2024, 3, 1)

#: Invented ships (no shipped case names them): a case vessel and a vessel stored otherwise.
FLEET = [
    {"vessel_id": "ocean-wren", "name": "OCEAN WREN", "aliases": ["Ocean Wren"], "imo": 9234563,
     "mmsi": None, "source": "[S1] (case test-case)"},
    {"vessel_id": "cape-holly", "name": "CAPE HOLLY", "aliases": [], "imo": None, "mmsi": 273456789,
     "source": "watchlist"},
    {"vessel_id": "other-wren", "name": "Ocean Wren", "aliases": [], "imo": None, "mmsi": None,
     "source": "another list"},
]


def _named(text, fleet=None):
    return [(v["name"], v["imo"], v["mmsi"], v["vessel_id"]) for v in find_vessels(text, 0, fleet)
            if not v.get("rejected")]


@pytest.mark.parametrize(("text", "imo"), [
    ("A ship with IMO 9515539 called at the port.", 9515539),
    ("The vessel, IMO number 9515539, called at the port.", 9515539),
    ("Its IMO no. 8712037 was painted over.", 8712037),
    ("registered as IMO: 9304124 in 2019", 9304124),
])
def test_imo_numbers_are_found(text, imo):
    assert _named(text) == [(None, imo, None, None)]


def test_an_imo_number_with_a_wrong_check_digit_names_no_vessel():
    found = find_vessels("A ship reporting IMO 9515538 was seen.", 0)
    assert len(found) == 1
    assert found[0]["imo"] is None and found[0]["vessel_id"] is None
    assert "check digit" in found[0]["rejected"]
    places = pa.table({"place_id": ["alder"], "name": ["Port Alder"], "aliases": [["Port Alder"]],
                       "kind": ["port"]})
    cs = extract_claims("A ship reporting IMO 9515538 was seen off Port Alder on 2 February.", "r", PUB,
                        places)
    assert len(cs) == 1 and cs[0].places == ["alder"]
    assert cs[0].vessels == [] and cs[0].fields["vessels"][0]["rejected"]


def test_mmsi_is_nine_digits_after_mmsi():
    assert _named("The freighter broadcast MMSI 445123000 until May.") == [(None, None, 445123000, None)]
    assert _named("The freighter broadcast MMSI 44512300 until May.") == []  # eight digits


@pytest.mark.parametrize(("text", "names"), [
    ("The cargo ship Baltic Heron left port.", ["Baltic Heron"]),
    ("A tanker named Pacific Alder took on fuel.", ["Pacific Alder"]),
    ("MV Sun Rise 8 sailed at dawn.", ["Sun Rise 8"]),
    ("The vessels Baltic Heron and Sun Rise 8 sailed in October.", ["Baltic Heron", "Sun Rise 8"]),
    ("The Russian-flagged “Sun Rise 8” left with an unknown cargo.", ["Sun Rise 8"]),
    ("Baltic Heron, a Panama-flagged bulk carrier, sailed on.", ["Baltic Heron"]),
])
def test_vessel_names_after_cues(text, names):
    assert [n for n, *_ in _named(text)] == names


def test_quotes_without_ships_are_not_vessels():
    assert _named('The minister called the talks "Very Useful" on Monday.') == []


def test_names_resolve_against_stored_vessels_case_first():
    idx = VesselIndex.from_rows(FLEET)
    # a stored name found without a cue, the case's vessel preferred over a namesake
    assert _named("Satellite images show the Ocean Wren at the pier.", idx) == [
        ("Ocean Wren", None, None, "ocean-wren")]
    # MMSI attached to a name: one vessel, resolved by the number
    assert _named("The bulk carrier Cape Holly (MMSI 273456789) went dark.", idx) == [
        ("Cape Holly", None, 273456789, "cape-holly")]
    # IMO number alone resolves
    assert _named("A ship, IMO 9234563, docked.", idx) == [(None, 9234563, None, "ocean-wren")]


def test_a_person_named_like_a_ship_is_not_the_ship():
    idx = VesselIndex.from_rows([{"vessel_id": "maria-x", "name": "MARIA", "aliases": ["Maria"],
                                 "imo": None, "mmsi": None, "source": "(case t)"}])
    assert _named("Spokeswoman Maria Ivanova said on Thursday that no ship had left.", idx) == []
    assert _named("The Maria left port on Thursday.", idx) == [("Maria", None, None, "maria-x")]


def test_a_ship_named_like_a_place_is_the_ship_not_the_place():
    places = pa.table({"place_id": ["alder"], "name": ["Alder"], "aliases": [["Alder"]], "kind": ["port"]})
    c = extract_claims("The cargo ship Alder docked at Port Birch on 3 May.", "r", PUB, places)[0]
    assert [v["name"] for v in c.fields["vessels"]] == ["Alder"]
    assert "alder" not in c.places


def test_a_named_ship_with_a_date_and_place_is_a_claim_with_its_vessel():
    idx = VesselIndex.from_rows(FLEET)
    cs = extract_claims("The tanker Cape Holly (MMSI 273456789) switched off its transponder on 4 June.",
                        "r", PUB, None, idx)
    assert len(cs) == 1
    assert cs[0].vessels == ["cape-holly"]
    v = cs[0].fields["vessels"][0]
    assert cs[0].sentence[v["start"]:v["end"]].startswith("Cape Holly")
    assert v["resolved_by"] == "mmsi"


def test_vessels_are_stored_listed_and_resolved_again_when_the_case_arrives(store, tmp_path):
    from corridor.claims.store import claim_vessels, list_claims, refresh_vessels
    from corridor.ingest.reports import ingest_report

    report = tmp_path / "r.txt"
    report.write_text("North Korea sent 300 containers of shells to Russia aboard the cargo ship Ocean Wren "
                      "(IMO 9234563) in September.\n", encoding="utf-8")
    ingest_report(store, report, published=PUB)
    rows = list_claims(store).to_pylist()
    assert len(rows) == 1
    assert claim_vessels(rows[0]["fields"]) == ["ocean wren"]  # no vessel stored yet: the name
    store.insert_arrow("vessels", pa.Table.from_pylist([dict(FLEET[0], marks=None)]))
    assert refresh_vessels(store) == 1
    assert refresh_vessels(store) == 0  # nothing left to do
    fields = json.loads(list_claims(store).to_pylist()[0]["fields"])
    assert fields["vessels"][0]["vessel_id"] == "ocean-wren"
    assert claim_vessels(fields) == ["ocean-wren"]
    # a new ingest resolves at once against the stored vessels
    report2 = tmp_path / "r2.txt"
    report2.write_text("Russia received 200 containers of shells from North Korea via MV Ocean Wren in "
                       "October.\n", encoding="utf-8")
    ingest_report(store, report2, published=PUB)
    got = [claim_vessels(r["fields"]) for r in list_claims(store).to_pylist()]
    assert got == [["ocean-wren"], ["ocean-wren"]]


def test_claims_cli_lists_vessels(store, tmp_path):
    from typer.testing import CliRunner

    from corridor.cli import app
    from corridor.ingest.reports import ingest_report

    report = tmp_path / "r.txt"
    report.write_text("North Korea sent 300 containers of shells to Russia aboard the cargo ship Baltic "
                      "Heron in September.\n", encoding="utf-8")
    ingest_report(store, report, published=PUB)
    path = store.path
    store.close()
    r = CliRunner().invoke(app, ["--db", path, "claims", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    rows = rows if isinstance(rows, list) else rows.get("rows", rows)
    assert len(rows) == 1 and rows[0]["vessels"] == ["baltic heron"]


def test_long_runs_of_hyphenated_capitals_are_read_once():
    """A hyphen joins the parts of one word, so "A-A-A-..." splits into words one way only
    (overlapping word and separator patterns made this run for minutes)."""
    text = "MV " + "A-" * 600 + "B sailed."
    found = find_vessels(text, 0)
    assert len(found) == 1 and found[0]["name"].startswith("A-A-")


def test_loading_a_case_resolves_ships_named_in_reports_stored_before(store, tmp_path):
    from corridor.claims.store import claim_vessels, list_claims
    from corridor.corridors.case import load_case, read_vessels
    from corridor.corridors.model import case_dir
    from corridor.ingest.reports import ingest_report

    vessels = read_vessels(case_dir("dprk-russia-2023"), "dprk-russia-2023").to_pylist()
    ship = next(v for v in vessels if v["imo"])  # a case vessel with an IMO number
    report = tmp_path / "r.txt"
    report.write_text(f"North Korea shipped 300 containers of shells to Russia on a vessel with IMO "
                      f"{ship['imo']} in September.\n", encoding="utf-8")
    ingest_report(store, report, published=PUB)
    assert claim_vessels(list_claims(store).to_pylist()[0]["fields"]) == [f"imo {ship['imo']}"]
    summary = load_case(store, "dprk-russia-2023")
    assert summary.claims_vessels_re_resolved == 1
    assert any("vessels of 1 stored claims" in line for line in summary.lines())
    mine = [r for r in list_claims(store).to_pylist() if f"IMO {ship['imo']}" in r["sentence"]]
    assert len(mine) == 1 and claim_vessels(mine[0]["fields"]) == [ship["vessel_id"]]


def test_a_stored_ship_named_like_a_case_place_gives_way_to_the_place_without_a_cue():
    places = pa.table({"place_id": ["birch"], "name": ["Birch"], "aliases": [["Birch"]], "kind": ["port"],
                       "source": ["[S1] (case t)"]})
    idx = VesselIndex.from_rows([{"vessel_id": "birch-ship", "name": "BIRCH", "aliases": ["Birch"],
                                 "imo": None, "mmsi": None, "source": "(case t)"}])
    c = extract_claims("North Korea sent 300 containers of shells to Russia via Birch on 3 May.", "r", PUB,
                       places, idx)[0]
    assert c.places == ["birch"] and c.vessels == []
    c = extract_claims("North Korea sent 300 containers of shells to Russia on the ship Birch on 3 May.",
                       "r", PUB, places, idx)[0]
    assert c.places == [] and c.vessels == ["birch-ship"]
    # a place of the world gazetteer (not the case's) gives way to the stored ship
    world = places.set_column(4, "source", pa.array(["World Port Index"]))
    c = extract_claims("North Korea sent 300 containers of shells to Russia as Birch sailed on 3 May.", "r",
                       PUB, world, idx)[0]
    assert c.places == [] and c.vessels == ["birch-ship"]
