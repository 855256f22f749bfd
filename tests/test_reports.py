"""Report ingest: formats, idempotence, bad files, and the CLI commands."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from corridor.cli import app
from corridor.ingest.reports import ReportError, ingest_report, read_report, report_id_of


@pytest.fixture()
def seed(seed_article):
    return seed_article


def test_same_text_twice_is_stored_once(store, seed, tmp_path):
    from datetime import date

    r1 = ingest_report(store, seed, published=date(2023, 10, 13), publisher="Test")
    copy = tmp_path / "copy.txt"
    copy.write_bytes(seed.read_bytes().replace(b"\n", b"\r\n") + b"\r\n\r\n\r\n")
    r2 = ingest_report(store, copy, url="https://example.org/a")
    assert r1.status == "stored" and r2.status == "already_stored"
    assert r1.report_id == r2.report_id
    assert store.count("reports") == 1
    row = store.query("SELECT publisher, url, published FROM reports").to_pylist()[0]
    assert row["publisher"] == "Test" and row["url"] == "https://example.org/a"
    assert store.count("claims") == r1.claims == r2.claims > 10


def test_markdown_and_html(store, tmp_path):
    md = tmp_path / "r.md"
    md.write_text("# Shipments\n\n**North Korea** has sent [more than 1,000 containers](http://x) "
                  "to Russia.\n", encoding="utf-8")
    text, _, _ = read_report(md)
    assert text == "Shipments\n\nNorth Korea has sent more than 1,000 containers to Russia."
    html = tmp_path / "r.html"
    body = "<p>North Korea has sent more than 1,000 containers of ammunition to Russia, officials said.</p>"
    html.write_text(f"<html><head><title>Report</title></head><body><nav>Menu</nav><article>{body * 3}"
                    "</article></body></html>", encoding="utf-8")
    res = ingest_report(store, html)
    assert res.claims >= 1
    stored = store.query("SELECT text FROM reports").to_pylist()[0]["text"]
    assert "Menu" not in stored and "1,000 containers" in stored


@pytest.mark.parametrize("content", [b"", b"   \n\n", b"\x00\x01\x02PK\x03\x04" * 50])
def test_empty_and_binary_files_are_refused_cleanly(store, tmp_path, content):
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    with pytest.raises(ReportError, match="bad.txt"):
        ingest_report(store, f)
    assert store.count("reports") == 0 and store.count("claims") == 0


def test_latin1_and_foreign_scripts_do_not_crash(store, tmp_path):
    f = tmp_path / "mixed.txt"
    f.write_bytes("КНДР передала России снаряды. 북한은 포탄을 보냈다. ???? ????.\n".encode()
                  + b"Caf\xe9 owners said North Korea shipped 300 containers to Russia.")
    res = ingest_report(store, f)
    assert any("not UTF-8" in n for n in res.notes) and res.claims >= 1


def test_report_id_ignores_line_endings():
    assert report_id_of("a\r\nb\r\n") == report_id_of("a\nb")


def test_cli_ingest_list_and_correct(seed, tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "c.duckdb")
    r = runner.invoke(app, ["--db", db, "ingest", "report", str(seed), "--published", "2023-10-13",
                            "--title", "DPRK hands over containers"])
    assert r.exit_code == 0, r.output
    assert "claims extracted" in r.output
    r = runner.invoke(app, ["--db", db, "claims", "--format", "json"])
    rows = json.loads(r.output)
    budanov = next(x for x in rows if "Budanov" in x["sentence"])
    assert budanov["fields"]["attribution"]["speaker"]["name"] == "Kyrylo Budanov"
    fix = tmp_path / "fix.csv"
    fix.write_text(f"claim_id,recipient,places\n{budanov['claim_id']},Russia,tikhoretsk;dunai\n",
                   encoding="utf-8")
    r = runner.invoke(app, ["--db", db, "claims", "add", str(fix)])
    assert r.exit_code == 0 and "1 corrected" in r.output, r.output
    r = runner.invoke(app, ["--db", db, "claims", "--report", rows[0]["report_id"]])
    assert r.exit_code == 0 and "manual" in r.output
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    r = runner.invoke(app, ["--db", db, "ingest", "report", str(empty)])
    assert r.exit_code == 1 and "empty file" in r.output


def test_claims_resolve_against_the_case_gazetteer_in_either_order(store, seed):
    from datetime import date

    from corridor.claims.store import refresh_places
    from corridor.corridors.case import load_case

    ingest_report(store, seed, published=date(2023, 10, 13))  # before any places are known
    sql = "SELECT places FROM claims WHERE sentence LIKE 'North Korea has supplied Russia%'"
    assert store.query(sql).to_pylist()[0]["places"] == []
    summary = load_case(store, "dprk-russia-2023")  # loading places re-resolves stored claims
    assert summary.claims_re_resolved >= 3
    assert refresh_places(store) == 0  # nothing left to do
    places = set(store.query(sql).to_pylist()[0]["places"])
    # "the village of Danube" and "a depot near the city of Tikhoretsk", linked from other sentences
    assert {"dunay", "tikhoretsk-depot"} <= places


def test_seed_after_init_and_case_resolves_the_corridor_places_only(store, seed):
    """The usual order: ``corridor init`` (world gazetteer), the case, then the report."""
    from datetime import date

    from corridor.claims.store import refresh_places
    from corridor.corridors.case import load_case
    from corridor.places import init_store

    assert init_store(store)["added"] > 60_000
    load_case(store, "dprk-russia-2023")
    case_ids = set(store.query("SELECT place_id FROM places WHERE source NOT LIKE '%Global Fishing%' "
                               "AND source NOT LIKE '%World Port Index%'").column("place_id").to_pylist())
    res = ingest_report(store, seed, published=date(2023, 10, 13))
    rows = store.query("SELECT sentence, places, fields FROM claims WHERE report_id = ? "
                       "ORDER BY span_start", [res.report_id]).to_pylist()
    assert res.claims == len(rows) > 10
    main = next(r for r in rows if r["sentence"].startswith("North Korea has supplied Russia"))
    assert {"dunay", "tikhoretsk-depot"} <= set(main["places"])
    # every place named comes from the case: no port called "And", no anchorage "Unknown"
    assert set().union(*(r["places"] for r in rows)) <= case_ids
    texts = [p["text"] for r in rows for p in json.loads(r["fields"])["places"]]
    assert texts == ["Danube", "Tikhoretsk"]  # places of the case or after a place cue
    assert refresh_places(store) == 0  # re-resolving gives what the ingest stored
