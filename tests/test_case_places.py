"""Place names come from the case and the gazetteer, never from generic code: the case's places
win, `places list --name` finds names and aliases, datelines are not places, guarded aliases
need a cue, and quantities attach to the cargo noun."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from corridor.claims.extract import extract_claims
from corridor.claims.places import Gazetteer, find_places
from corridor.cli import app
from corridor.corridors.model import case_dir

SRC = Path(__file__).resolve().parents[1] / "src" / "corridor"


def test_no_place_of_a_shipped_case_in_generic_claims_or_corridors_code():
    names: set[str] = set()
    cases = sorted(p for p in case_dir("x").parent.iterdir() if (p / "places.csv").exists())
    assert len(cases) >= 2  # both shipped cases
    for d in cases:
        with open(d / "places.csv", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                for n in [row["name"].split(" (")[0], *row["aliases"].split(";")]:
                    n = n.strip().lstrip("~")
                    if len(n) >= 5 and n[0].isupper():
                        names.add(n)
    assert {"Rajin", "Najin", "Dunay", "Tikhoretsk", "Vostochny", "Sevastopol", "Latakia"} <= names
    rx = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in sorted(names)) + r")\b")
    hits = []
    files = sorted((SRC / "claims").glob("*.py")) + sorted((SRC / "corridors").glob("*.py"))
    assert len(files) > 10
    for f in files:
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if rx.search(line):
                hits.append(f"{f.name}:{i}: {line.strip()}")
    assert hits == []


def _table(rows: list[tuple[str, str, list[str], str, str]]) -> pa.Table:
    return pa.table({"place_id": [r[0] for r in rows], "name": [r[1] for r in rows],
                     "aliases": [r[2] for r in rows], "kind": [r[3] for r in rows],
                     "source": [r[4] for r in rows]})


def test_the_loaded_cases_place_wins_over_gazetteer_places_of_the_same_name():
    gaz = Gazetteer.of(_table([
        ("zz-alder", "Alder", [], "port", "World Port Index"),
        ("zz-alder-anch", "Alder", [], "anchorage", "Global Fishing Watch"),
        ("port-alder", "Port Alder (town)", ["Alder"], "port", "[S1] (case alder-birch)"),
    ]))
    found = find_places("The ship left Alder on 2 March.", 0, gaz)
    assert [(p["text"], p["place_id"]) for p in found] == [("Alder", "port-alder")]
    assert set(found[0]["candidates"]) == {"zz-alder", "zz-alder-anch", "port-alder"}


def test_a_guarded_alias_needs_a_place_cue():
    gaz = Gazetteer.of(_table([("dn", "Dunmore", ["~Danube"], "port", "(case x)")]))
    assert find_places("Barges on the Danube carried grain.", 0, gaz) == []
    cued = find_places("The ship docked at the village of Danube.", 0, gaz)
    assert [(p["text"], p["place_id"]) for p in cued] == [("Danube", "dn")]


@pytest.fixture(scope="module")
def world():
    from corridor.places import gazetteer_table

    return Gazetteer.of(gazetteer_table())


@pytest.mark.parametrize("text", [
    "LONDON, Feb 2 (Reuters) - Two ships sailed.",
    "LONDON (Reuters) — Two ships sailed.",
    "LONDON — Two ships sailed.",
])
def test_a_dateline_is_not_a_place(world, text):
    assert len(world.names["london"]) > 20  # the world gazetteer knows many Londons
    assert find_places(text, 0, world) == []


def test_a_city_named_in_the_sentence_is_still_a_place(world):
    found = find_places("The ships were insured in London, brokers said.", 0, world)
    assert [p["text"] for p in found] == ["London"]


def test_approximately_200_new_shipping_containers_is_200_containers(world):
    text = ("LONDON, Feb 2 (Reuters) - Two ships delivered approximately 200 new shipping "
            "containers of drones to the port in January 2024, officials said.")
    claims = extract_claims(text, "r", date(2024, 2, 2), world)
    assert len(claims) == 1
    c = claims[0]
    assert (c.quantity, c.quantity_unit, c.qualifier) == (200.0, "containers", "about")
    assert c.places == []  # LONDON is the dateline


def test_places_list_by_name_searches_names_and_aliases_case_first(db_file, tmp_path):
    d = tmp_path / "alder"
    d.mkdir()
    (d / "corridor.yaml").write_text(
        "id: alder\ntitle: A\nwindow: {start: 2024-01-01, end: 2024-02-01}\n"
        "nodes: [{place: port-alder, role: origin}]\n", encoding="utf-8")
    (d / "places.csv").write_text(
        "place_id,name,kind,lat,lon,precision,aliases,sources\n"
        "port-alder,Port Alder,port,10,50,settlement,Najinport;Alderhaven,S1\n", encoding="utf-8")
    runner = CliRunner()
    db = ["--db", str(db_file)]
    assert runner.invoke(app, db + ["init"]).exit_code == 0
    assert runner.invoke(app, db + ["corridors", "load", str(d)]).exit_code == 0
    res = runner.invoke(app, db + ["places", "list", "--name", "najin", "--format", "csv"])
    assert res.exit_code == 0, res.output
    ids = [line.split(",")[0] for line in res.output.strip().splitlines()[1:]]
    assert ids[0] == "port-alder"  # by alias, the case's place first
    assert "kp-najin" in ids  # the gazetteer's port of that name
    alias = runner.invoke(app, db + ["places", "list", "--name", "alderhaven", "--format", "csv"])
    assert [x.split(",")[0] for x in alias.output.strip().splitlines()[1:]] == ["port-alder"]


def test_no_anchorage_is_labelled_with_another_countrys_port():
    from corridor.places import gazetteer_table

    t = gazetteer_table().to_pylist()
    anch = {r["name"]: r for r in t if r["kind"] == "anchorage"}
    assert len(anch) > 1000
    # GFW sublabels naming a port of another country, far away, are not used as names
    assert "Canakkale (Novorossiysk)" not in anch and "Canakkale" in anch
    assert anch["Canakkale"]["country"] == "TR"
    assert "Kavarna Anchorage (Kherson)" not in anch and "Kavarna Anchorage" in anch
    noted = [r for r in t if "names a port of another country" in (r["source"] or "")]
    assert len(noted) >= 100
