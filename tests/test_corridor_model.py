"""Corridor definitions: the shipped ones load; a user's mistakes are named by file and field."""

from __future__ import annotations

import json
from datetime import date

import pytest
import yaml
from typer.testing import CliRunner

from corridor.cli import app
from corridor.corridors.model import CorridorError, load_corridor, shipped_corridors

BASE = {
    "id": "mine", "title": "My corridor", "window": {"start": "2023-08-01", "end": "2023-12-31"},
    "nodes": [{"place": "a", "role": "origin"}, {"place": "b", "role": "destination"}],
    "legs": [{"id": "a-b", "from": "a", "to": "b", "mode": "sea", "duration_hours": [6, 240]}],
}


def write(tmp_path, doc) -> str:
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc)
    return str(p)


def test_the_shipped_corridors_load_and_validate():
    ids = {p.stem for p in shipped_corridors()}
    assert {"dprk-russia-2023", "sim-najin-dunai"} <= ids
    c = load_corridor("dprk-russia-2023")
    assert c.case == "dprk-russia-2023" and c.data == "real"
    assert [n.place_id for n in c.nodes if n.role == "origin"] == ["rajin", "tumangang"]
    sea = {g.leg_id: g for g in c.legs if g.mode == "sea"}
    assert sea["rajin-dunay"].active_end.isoformat() == "2023-12-31"
    assert not sea["rajin-dunay"].active_on(date(2024, 1, 5))  # Dunay quiet from late Dec 2023
    assert (c.cargo.per_load_low, c.cargo.per_load_high) == (270, 330)
    assert c.cargo.sources == ("S6", "S19b")
    assert load_corridor("sim-najin-dunai").data == "simulated"


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"titel": "x"}, "titel", "unknown key"),
        ({"id": "Has Spaces"}, "id", "slug"),
        ({"window": {"start": "2023-12-31", "end": "2023-01-01"}}, "window.end", "before"),
        ({"window": {"start": "13 Aug", "end": "2023-01-01"}}, "window.start", "not a date"),
        ({"nodes": [{"place": "a", "role": "source"}]}, "nodes[0].role", "not one of"),
        ({"legs": [{"from": "a", "to": "z", "mode": "sea", "duration_hours": [1, 2]}]},
         "legs[0].to", "'z' is not one of the nodes"),
        ({"legs": [{"from": "a", "to": "b", "mode": "air", "duration_hours": [1, 2]}]},
         "legs[0].mode", "not one of sea, rail"),
        ({"legs": [{"from": "a", "to": "b", "mode": "sea", "duration_hours": [9, 2]}]},
         "legs[0].duration_hours", "min <= max"),
        ({"legs": [{"from": "a", "to": "b", "mode": "sea", "duration_hours": ["6h", 9]}]},
         "legs[0].duration_hours[0]", "not a number"),
        ({"cargo": {"per_load": {"low": 300}}}, "cargo.per_load", "both low and high"),
        ({"data": "fake"}, "data", "not one of real, simulated, all"),
    ],
)
def test_mistakes_are_named_by_file_and_field(tmp_path, change, field, words):
    path = write(tmp_path, {**BASE, **change})
    with pytest.raises(CorridorError) as exc:
        load_corridor(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path}: {field}: "), msg
    assert words in msg


def test_yaml_syntax_errors_give_the_line(tmp_path):
    path = write(tmp_path, "id: x\ntitle: [unclosed\nnodes: []\n")
    with pytest.raises(CorridorError, match=r"not valid YAML \(line \d+, column \d+\)"):
        load_corridor(path)


def test_unknown_corridor_ids_list_the_shipped_ones():
    with pytest.raises(CorridorError, match="shipped: .*dprk-russia-2023"):
        load_corridor("no-such-corridor")


def test_a_users_minimal_corridor_gets_defaults(tmp_path):
    c = load_corridor(write(tmp_path, BASE))
    assert c.claims.case and c.claims.match and c.data == "real"
    assert c.legs_from("a")[0].max_duration_hours == 240.0 and c.node("b").role == "destination"


def test_cli_lists_corridors(db_file):
    res = CliRunner().invoke(app, ["--db", str(db_file), "corridors", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = {r["id"]: r for r in json.loads(res.output)}
    assert rows["dprk-russia-2023"]["window"] == "2023-08-01 – 2024-02-29"
    assert rows["dprk-russia-2023"]["case"] == "dprk-russia-2023"
