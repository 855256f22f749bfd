"""Sightings and rail CSVs: explicit date ranges, places resolved or refused, clear errors."""

from __future__ import annotations

from datetime import datetime

import pytest
from typer.testing import CliRunner

from corridor.cli import app
from corridor.corridors.case import load_case
from corridor.ingest.observations import DateParseError, ingest_rail, ingest_sightings, parse_date_range

HEADER = "date,place_id,place,lat,lon,place_text,vessel_name,imo,subject,count,activity,source,mark\n"


@pytest.fixture()
def case_store(store):
    load_case(store, "dprk-russia-2023")
    return store


@pytest.mark.parametrize(
    "text, start, end, uncertain",
    [
        ("2023-09-12", "2023-09-12", "2023-09-13", False),
        ("2023-09-07/08", "2023-09-07", "2023-09-09", False),
        ("2023-09-30/10-01", "2023-09-30", "2023-10-02", False),
        ("mid-Aug 2023", "2023-08-11", "2023-08-21", True),
        ("late Dec 2023", "2023-12-21", "2024-01-01", True),
        ("Sep–Dec 2023", "2023-09-01", "2024-01-01", True),
        ("weekend of 14–15 Oct 2023 (image dated 16 Oct)", "2023-10-14", "2023-10-16", True),
        ("mid-Aug 2023 → 2023-10-14", "2023-08-11", "2023-10-15", True),
        ("Aug 2023 – Feb 2024", "2023-08-01", "2024-03-01", True),
    ],
)
def test_vague_dates_become_explicit_flagged_ranges(text, start, end, uncertain):
    r = parse_date_range(text)
    assert (r.start, r.end, r.uncertain) == (datetime.fromisoformat(start),
                                             datetime.fromisoformat(end), uncertain)
    assert r.text == text


@pytest.mark.parametrize("text, words", [("mid-Oct", "has no year"), ("Oct", "has no year"),
                                         ("soon", "not a date"), ("2023-10-14/12", "ends before")])
def test_dates_corridor_would_have_to_guess_are_refused(text, words):
    with pytest.raises(DateParseError, match=words):
        parse_date_range(text)


def test_bad_rows_are_skipped_with_line_and_reason_the_rest_stored(case_store, tmp_path):
    f = tmp_path / "s.csv"
    f.write_text(
        HEADER
        + "2023-09-12,dunay,,,,,ANGARA,,vessel,,berthed,[S6],C\n"          # line 2: fine
        + "mid-Oct,rajin,,,,,Maya-1,,vessel,,loading,[S99],C\n"             # line 3: no year
        + "2023-10-12,narnia,,,,,,,vessel,,,[S99],C\n"                      # line 4: unknown place
        + "2023-10-13,,Najin,,,,,,containers,300,,[S99],C;⚠\n"            # line 5: alias → rajin
        + "2023-10-14,,,42.88,132.34,,Lady R,,vessel,,,[S99],\n"            # line 6: coordinate
        + "2024-02-09,,,,,Zhoushan Xinya Shipyard,ANGARA,,vessel,,,[S29],C\n"  # 7: unlocated
        + "2023-10-15,rajin,,,,,,,vessel,,,,C\n"                            # line 8: no source
    )
    s = ingest_sightings(case_store, f)
    assert s.status == "done" and s.stored == {"sightings": 4}
    assert s.skipped == {"bad date": 1, "unknown place": 1, "no source": 1}
    assert s.examples["bad date"] == [3] and s.examples["unknown place"] == [4]
    assert "has no year" in s.details["bad date"] and "narnia" in s.details["unknown place"]
    got = {r["date_text"]: r for r in case_store.query(
        "SELECT * FROM sightings WHERE source LIKE '%S99%' OR source = '[S29]' "
        "AND place_text LIKE 'Zhoushan%'").to_pylist()}
    assert got["2023-10-13"]["place_id"] == "rajin" and got["2023-10-13"]["marks"] == ["C", "⚠"]
    assert got["2023-10-13"]["confidence"] == "conflicting"
    assert got["2023-10-14"]["place_id"] == "dunay" and got["2023-10-14"]["vessel_id"] == "lady-r"
    unloc = got["2024-02-09"]
    assert unloc["place_id"] is None and unloc["place_text"] == "Zhoushan Xinya Shipyard"
    again = ingest_sightings(case_store, f)
    assert again.status == "skipped_duplicate"


def test_a_csv_missing_a_column_fails_whole_and_names_it(case_store, tmp_path):
    f = tmp_path / "nosource.csv"
    f.write_text("date,place_id,vessel_name\n2023-09-12,dunay,ANGARA\n")
    before = case_store.count("sightings")
    s = ingest_sightings(case_store, f)
    assert s.status == "failed"
    assert str(f) in s.message and "'source'" in s.message and "found: date, place_id" in s.message
    assert case_store.count("sightings") == before


def test_ambiguous_vessel_names_are_stored_unresolved_and_noted(case_store, tmp_path):
    case_store.con.execute("INSERT INTO vessels (vessel_id, name, aliases) VALUES "
                           "('angara-2', 'ANGARA', [])")
    f = tmp_path / "amb.csv"
    f.write_text(HEADER + "2023-09-13,dunay,,,,,Angara,,vessel,,,[S6],C\n")
    notes: list[str] = []
    ingest_sightings(case_store, f, notes=notes)
    row = case_store.query("SELECT vessel_id, vessel_name FROM sightings "
                           "WHERE ts_start = '2023-09-13'").to_pylist()
    assert row == [{"vessel_id": None, "vessel_name": "Angara"}]
    assert notes and "ambiguous" in notes[0] and "angara, angara-2" in notes[0]


def test_rail_counts_and_baselines(case_store, tmp_path):
    rows = case_store.query("SELECT kind, railcars, qualifier, date_uncertain FROM rail_observations "
                            "WHERE place_id = 'tumangang' AND kind <> 'statement' "
                            "ORDER BY obs_date").to_pylist()
    assert rows[0] == {"kind": "baseline", "railcars": 20, "qualifier": "at_most_about",
                       "date_uncertain": True}
    assert {"kind": "count", "railcars": 73, "qualifier": "about", "date_uncertain": False} in rows
    f = tmp_path / "r.csv"
    f.write_text("date,place_id,kind,railcars,source\n2023-10-06,khasan,count,40,[S1]\n"
                 "2023-10-07,khasan,count,,[S1]\n2023-10-08,atlantis,count,3,[S1]\n")
    s = ingest_rail(case_store, f)
    assert s.stored == {"rail_observations": 1}
    assert s.skipped == {"bad value": 1, "unknown place": 1}
    assert s.examples == {"bad value": [3], "unknown place": [4]}


def test_cli_ingest_sightings_reports_skips_and_exit_code(db_file, tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["--db", str(db_file), "corridors", "load", "dprk-russia-2023"]
                         ).exit_code == 0
    f = tmp_path / "s.csv"
    f.write_text(HEADER + "2023-09-12,dunay,,,,,ANGARA,,vessel,,,[S6],C\n"
                 "mid-Oct,rajin,,,,,Maya-1,,vessel,,,[S6],C\n")
    res = runner.invoke(app, ["--db", str(db_file), "ingest", "sightings", str(f)])
    assert res.exit_code == 3, res.output
    assert "stored 1 sightings" in res.output and "1 bad date (lines 3)" in res.output
    assert "'mid-Oct' has no year" in res.output
