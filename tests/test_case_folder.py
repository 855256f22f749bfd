"""Case folders: `corridor case new`, `corridor case check` (every problem with file, line and
column), sheets as CSV or XLSX, and docs/your-own-case.md followed command by command."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corridor.cli import app
from corridor.corridors.check import check_case
from corridor.corridors.folder import new_case

DOC = Path(__file__).resolve().parents[1] / "docs" / "your-own-case.md"


def test_case_new_writes_the_corridor_every_sheet_and_a_readme(tmp_path):
    d = new_case(tmp_path / "My Case")
    names = {p.name for p in d.iterdir()}
    assert names == {"corridor.yaml", "README.md", "places.csv", "vessels.csv", "sanctions.csv",
                     "sightings.csv", "rail.csv", "claims.csv", "sources.csv"}
    assert "id: my-case" in (d / "corridor.yaml").read_text()
    sight = (d / "sightings.csv").read_text().splitlines()
    assert sight[0].startswith("date,") and all(x.startswith("#") for x in sight[1:])
    assert len(sight) >= 5
    # a template with only comments checks clean except for the placeholder nodes
    problems, _ = check_case(d)
    assert [p.message.split(":")[0] for p in problems] == ["nodes.0.place", "nodes.1.place"]
    with pytest.raises(ValueError, match="not empty"):
        new_case(d)


def _run_doc(tmp_path: Path, monkeypatch) -> list[tuple[str, int, str]]:
    """Write the page's files and run its commands, in order, in ``tmp_path``."""
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"(?:<!-- file: (\S+) -->\n)?```(\w+)\n(.*?)```", text, re.S)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    db = ["--db", str(tmp_path / "corridor.duckdb")]
    out = []
    case = None
    for fname, lang, body in blocks:
        if fname:
            assert case is not None, "a file block before `case new`"
            (tmp_path / case / fname).write_text(body, encoding="utf-8")
        elif lang == "console":
            for line in body.splitlines():
                assert line.startswith("$ corridor "), line
                args = shlex.split(line[len("$ corridor "):])
                if args[:2] == ["case", "new"]:
                    case = args[2]
                res = runner.invoke(app, db + args)
                out.append((line, res.exit_code, res.output))
    return out


def test_the_your_own_case_page_runs_as_written(tmp_path, monkeypatch):
    runs = _run_doc(tmp_path, monkeypatch)
    assert len(runs) == 7
    for line, code, output in runs:
        assert code == 0, (line, output)
    by = {line: output for line, _, output in runs}
    assert "no problems" in by["$ corridor case check alder-birch"]
    table = by["$ corridor reconstruct alder-birch"]
    assert len(re.findall(r"\bconfirmed\s+sea\b", table)) == 2, table
    assert "[consistent] ministry-200" in table and "not independent" in table
    assert "[untestable] ministry-tonnes" in table and "no evidence counts tonnes" in table
    import json

    j = json.loads(by["$ corridor reconstruct alder-birch --format json --no-save"])
    assert j["format"] == "corridor.reconstruction/1"
    alder = [c for c in j["calls"] if c["place_id"] == "port-alder" and c["vessel_id"] == "alder-star"]
    assert len(alder) == 1 and alder[0]["departed"]["earliest"] == "2024-03-06T00:00:00"
    node = next(n for n in j["nodes"] if n["place_id"] == "port-alder")
    assert node["precision_note"] == "town centre; the quays are 2 km east" and node["mark"] == "C"
    html = (tmp_path / "alder-birch.html").read_text(encoding="utf-8")
    assert "ALDER STAR" in html and "ministry-200" in html or "about 200 containers" in html


# ------------------------------------------------------------ ten planted mistakes
PLANTED = {
    "corridor.yaml": """\
id: planted
title: Planted mistakes
window: {start: 2024-01-01, end: 2024-02-30}
nodes:
  - {place: port-a, role: origin}
  - {place: port-b, role: destinaton}
legs:
  - {from: port-a, to: port-b, mode: air, duration_hours: [12, 96]}
""",
    "places.csv": """\
place_id,name,kind,country,lat,lon,precision,sources
# comment lines are fine
port-a,Port A,port,XA,95.0,50.0,settlement,S1
port-b,Port B,harbour,XB,12.0,53.0,facility,S1
""",
    "vessels.csv": """\
vessel_id,name,imo,sources
ship-x,SHIP X,1234568,S1
""",
    "sightings.csv": """\
date,place_id,vessel_name,subject,count,source,mark
2024-09-31,port-a,SHIP X,vessel,,S1,C
2024-01-05,port-z,SHIP X,vessel,,S1,C
2024-01-06,port-b,SHIP X,containers,many,S1,Q
""",
    "claims.csv": """\
key,sentence,quantity,unit,qualifier,period_start,period_end,sources,mark
c1,about 100 containers,100,containers,roughly,2024-01-01,2024-01-31,S9,C
""",
    "sources.csv": """\
tag,parent,publisher,title,date,url,citation
S1,,Example,Title,2024,https://example.org,Example 2024
""",
}
EXPECTED = [  # file, line, column, words
    ("corridor.yaml", 3, 34, "not a real date"),
    ("corridor.yaml", 6, 27, "'destinaton' is not allowed"),
    ("corridor.yaml", 8, 38, "'air' is not allowed"),
    ("places.csv", 3, 5, "95.0 is out of range"),
    ("places.csv", 4, 3, "'harbour' is not allowed"),
    ("vessels.csv", 2, 3, "not a valid IMO number"),
    ("sightings.csv", 2, 1, "'2024-09-31' is not a real date"),
    ("sightings.csv", 3, 2, "'port-z' is not in the places sheet"),
    ("sightings.csv", 4, 5, "'many' is not a number"),
    ("sightings.csv", 4, 7, "unknown mark 'Q'"),
    ("claims.csv", 2, 5, "'roughly' is not allowed"),
    ("claims.csv", 2, 8, "S9 is not in the sources sheet"),
]


def _planted(tmp_path: Path) -> Path:
    d = tmp_path / "planted"
    d.mkdir()
    for name, text in PLANTED.items():
        (d / name).write_text(text, encoding="utf-8")
    return d


def test_case_check_reports_every_planted_mistake_with_file_line_and_column(tmp_path):
    d = _planted(tmp_path)
    res = CliRunner().invoke(app, ["case", "check", str(d)])
    assert res.exit_code == 1
    lines = [x for x in res.output.splitlines() if re.match(r".+:\d+:\d+: ", x)]
    assert len(EXPECTED) >= 10
    for fname, line, col, words in EXPECTED:
        hit = [x for x in lines if x.startswith(f"{d / fname}:{line}:{col}: ") and words in x]
        assert len(hit) == 1, (fname, line, col, words, lines)
        assert "expected" in hit[0]  # what is wrong, and what is expected
    assert len(lines) == len(EXPECTED), lines


def test_sheets_may_be_xlsx_with_the_same_columns(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    d = _planted(tmp_path)
    (d / "sightings.csv").unlink()
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in PLANTED["sightings.csv"].splitlines():
        ws.append(row.split(","))
    wb.save(d / "sightings.xlsx")
    problems, _ = check_case(d)
    xl = [p for p in problems if p.file.endswith("sightings.xlsx")]
    assert [(p.line, p.column) for p in xl] == [(2, 1), (3, 2), (4, 5), (4, 7)]
    assert "not a real date" in xl[0].message


def test_an_xlsx_case_loads_and_reconstructs(tmp_path, store):
    openpyxl = pytest.importorskip("openpyxl")
    from corridor.corridors.case import load_case
    from corridor.corridors.reconstruct import reconstruct

    d = tmp_path / "xl-case"
    new_case(d)
    (d / "corridor.yaml").write_text(PLANTED["corridor.yaml"].replace("2024-02-30", "2024-02-28")
                                     .replace("destinaton", "destination").replace("air", "sea"),
                                     encoding="utf-8")
    for name in ("sightings", "places", "sources"):
        (d / f"{name}.csv").unlink()
    sheets = {
        "places": [["place_id", "name", "kind", "lat", "lon", "precision", "sources"],
                   ["port-a", "Port A", "port", 10.0, 50.0, "settlement", "S1"],
                   ["port-b", "Port B", "port", 12.0, 53.0, "facility", "S1"]],
        "sightings": [["date", "place_id", "vessel_name", "subject", "source", "mark"],
                      ["# a comment row"],
                      ["2024-01-03", "port-a", "SHIP X", "vessel", "S1", "C"],
                      ["2024-01-06", "port-b", "SHIP X", "vessel", "S1", "C"]],
        "sources": [["tag", "parent", "publisher", "title", "date", "url", "citation"],
                    ["S1", None, "Example", "T", "2024", "https://example.org", "Example 2024"]],
    }
    for name, rows in sheets.items():
        wb = openpyxl.Workbook()
        for r in rows:
            wb.active.append(r)
        wb.save(d / f"{name}.xlsx")
    (d / "vessels.csv").write_text("vessel_id,name,sources\nship-x,SHIP X,S1\n", encoding="utf-8")
    problems, _ = check_case(d)
    assert problems == []
    load_case(store, d)
    rec = reconstruct(store, d, save=False)
    assert [(s.vessel_id, s.tier) for s in rec.shipments] == [("ship-x", "possible")] or \
        [(s.vessel_id, s.tier) for s in rec.shipments] == [("ship-x", "confirmed")]
    assert rec.sources and rec.sources[0]["url"] == "https://example.org"


def test_every_shipped_case_folder_checks_clean_against_its_shipped_corridor(tmp_path):
    from corridor.corridors.model import case_dir, shipped_corridors

    cases = [p.stem for p in shipped_corridors() if case_dir(p.stem).is_dir()]
    assert {"dprk-russia-2023", "crimea-grain-2022"} <= set(cases)
    for case in cases:
        problems, _ = check_case(case_dir(case))
        assert problems == [], (case, [str(p) for p in problems])
    # a copy of a shipped case elsewhere is a user's folder: it needs its own corridor.yaml
    copy = tmp_path / "crimea-grain-2022"
    copy.mkdir()
    (copy / "places.csv").write_bytes((case_dir("crimea-grain-2022") / "places.csv").read_bytes())
    problems, _ = check_case(copy)
    assert [p.message for p in problems] == ["missing, expected the corridor file (corridor case "
                                             "new writes one)"]
