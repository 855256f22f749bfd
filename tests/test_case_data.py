"""The shipped dprk-russia-2023 case: every row sourced, marked, and true to the case file."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from corridor.corridors.case import CaseError, load_case, read_places
from corridor.corridors.model import case_dir
from corridor.identity import imo_valid

CASE = case_dir("dprk-russia-2023")
MARKS = {"C", "I", "U", "⚠"}


def rows(name: str) -> list[dict]:
    with open(CASE / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def case_text(case_notes: Path) -> str:
    return case_notes.read_text(encoding="utf-8")


def test_every_row_cites_sources_that_exist_with_urls():
    tags = {r["tag"]: r for r in rows("sources.csv")}
    assert len(tags) >= 30
    for name in ("places.csv", "vessels.csv", "sanctions.csv", "sightings.csv", "rail.csv",
                 "claims.csv"):
        assert rows(name), f"{name} is empty"
        for i, r in enumerate(rows(name), start=2):
            cited = [t for t in r["sources"].split(";") if t] if "sources" in r else \
                [t for t in r["source"].split(";") if t]
            assert cited, f"{name}:{i} has no source"
            for t in cited:
                assert t in tags, f"{name}:{i} cites {t}, not in sources.csv"
                leaf = tags[t]
                has_url = leaf["url"] or any(x["url"] for x in tags.values() if x["parent"] == t)
                assert has_url, f"{t} has no URL"


def test_every_row_carries_a_case_file_mark():
    for name, col in (("places.csv", "mark"), ("vessels.csv", "marks"), ("sanctions.csv", "marks"),
                      ("sightings.csv", "mark"), ("rail.csv", "mark"), ("claims.csv", "mark")):
        assert rows(name), f"{name} is empty"
        for i, r in enumerate(rows(name), start=2):
            marks = {m for m in r[col].split(";") if m}
            assert marks and marks <= MARKS, f"{name}:{i}: marks {r[col]!r}"


def test_identities_are_the_case_files_and_nothing_invented(case_text):
    vessels = {r["vessel_id"]: r for r in rows("vessels.csv")}
    assert vessels["lady-r"]["imo"] == "9161003" and vessels["lady-r"]["imo_status"] == "confirmed"
    assert vessels["angara"]["imo"] == "9179842" and vessels["angara"]["imo_status"] == "unverified"
    assert "U" in vessels["angara"]["marks"].split(";")
    assert vessels["maia-1"]["imo"] == "" and vessels["maria"]["imo"] == ""
    assert all(r["mmsi"] == "" for r in vessels.values()), "no source gives any MMSI"
    for r in vessels.values():
        if r["imo"]:
            assert imo_valid(r["imo"]) and r["imo"] in case_text
    assert {"Maya-1", "Maia"} <= set(vessels["maia-1"]["aliases"].split(";"))


def test_coordinates_and_precision_are_exactly_the_case_files(case_text):
    for r in rows("places.csv"):
        assert r["precision"] in {"facility", "settlement", "approximate"}
        if r["lat"]:
            # the very digits of the case file's §3 table, not a rounded or looked-up value
            assert r["lat"].rstrip("0") in case_text and r["lon"].rstrip("0") in case_text, r
        else:
            assert r["precision"] == "approximate"
    places = {r["place_id"]: r for r in rows("places.csv")}
    assert places["tikhoretsk-depot"]["precision"] == "facility"
    assert places["rajin"]["precision"] == "settlement" and "not the piers" in \
        places["rajin"]["precision_note"]
    assert places["vostochny"]["precision"] == "approximate" and places["vostochny"]["mark"] == "U"
    assert places["friendship-bridge"]["lat"] == "" and places["friendship-bridge"]["mark"] == "I"
    assert {"Najin", "Rajin", "Rason"} <= set(places["rajin"]["aliases"].split(";"))
    assert {"Dunai", "Dunay", "~Danube"} <= set(places["dunay"]["aliases"].split(";"))


def test_places_without_a_sourced_coordinate_are_not_stored():
    tbl, skipped = read_places(CASE, "dprk-russia-2023")
    ids = set(tbl["place_id"].to_pylist())
    assert "friendship-bridge" not in ids and "vladivostok" not in ids
    assert any("friendship-bridge" in s and "no sourced coordinate" in s for s in skipped)


def test_sighting_dates_come_from_the_case_files_rows(case_text):
    s = rows("sightings.csv")
    by_row = {}
    for r in s:
        by_row.setdefault(r["case_row"], []).append(r)
    assert len(set(by_row)) >= 30  # the §2 rows (aggregate-only ones are in claims.csv)
    assert by_row["4"][0]["vessel_name"] == "ANGARA" and by_row["4"][0]["date"] == "2023-09-12"
    assert by_row["3"][0]["count"] == "300" and "⚠" in by_row["3"][0]["mark"]
    assert by_row["10"][0]["date"].startswith("weekend of 14–15 Oct 2023")
    assert by_row["14"][0]["date"] == "Sep–Dec 2023"
    for r in s:
        m = re.match(r"(\d{4}-\d{2}-\d{2})$", r["date"])
        if m:
            assert m.group(1) in case_text or m.group(1)[5:] in case_text, r


def test_claims_carry_the_section_4_figures(case_text):
    claims = {r["key"]: r for r in rows("claims.csv")}
    k = claims["wh-1000-containers"]
    assert (k["quantity"], k["qualifier"], k["period_start"], k["period_end"]) == \
        ("1000", "more_than", "2023-09-07", "2023-10-01")
    assert "1,000 containers" in case_text
    assert claims["state-10000-containers"]["sources"] == "S22;S22b"
    assert claims["shin-5000-containers"]["mark"] == "U"


def test_loading_is_idempotent_and_reports_what_it_left_out(store):
    first = load_case(store, "dprk-russia-2023")
    counts = {t: store.count(t) for t in ("places", "vessels", "sightings", "rail_observations",
                                          "claims", "sources", "watchlist")}
    second = load_case(store, "dprk-russia-2023")
    assert counts == {t: store.count(t) for t in counts}
    assert counts["sightings"] == len(rows("sightings.csv"))
    assert counts["rail_observations"] == len(rows("rail.csv"))
    assert all(s.status == "skipped_duplicate" for s in second.ingests)
    assert any("vladivostok" in x for x in first.not_stored)
    angara = store.query("SELECT imo, imo_status, mmsi FROM vessels WHERE vessel_id='angara'")
    assert angara.to_pylist() == [{"imo": 9179842, "imo_status": "unverified", "mmsi": None}]


def test_a_broken_case_directory_names_the_file_and_column(tmp_path, store):
    d = tmp_path / "broken"
    d.mkdir()
    for name in ("places.csv", "vessels.csv", "sanctions.csv", "sightings.csv", "rail.csv",
                 "claims.csv", "sources.csv"):
        (d / name).write_bytes((CASE / name).read_bytes())
    (d / "vessels.csv").write_text("vessel_id,imo\nx,9161003\n")  # no name
    with pytest.raises(CaseError, match=r"vessels\.csv: missing column 'name'"):
        load_case(store, d)
    assert store.count("places") == 0


def test_a_corridor_file_naming_its_case_loads_that_case(store, tmp_path):
    from corridor.corridors.model import shipped_dir

    summary = load_case(store, shipped_dir() / "dprk-russia-2023.yaml")
    assert summary.case_id == "dprk-russia-2023" and store.count("vessels") == 4
    with pytest.raises(CaseError, match="not a shipped case"):
        load_case(store, "no-such-case")


def test_users_add_their_own_numbered_sources(store, tmp_path):
    from corridor.corridors.case import ingest_sources

    f = tmp_path / "my-sources.csv"
    f.write_text("tag,parent,publisher,title,date,url,citation\n"
                 "S901,,My Outlet,A story,2024-01-02,https://example.org/a,\"My Outlet, A story\"\n")
    assert ingest_sources(store, f) == 1
    row = store.query("SELECT collection, tag, url FROM sources").to_pylist()
    assert row == [{"collection": "my-sources", "tag": "S901", "url": "https://example.org/a"}]
    bad = tmp_path / "bad.csv"
    bad.write_text("tag,url\nS1,http://x\n")
    with pytest.raises(CaseError, match="bad.csv: missing column 'citation'"):
        ingest_sources(store, bad)
