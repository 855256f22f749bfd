"""Parameters: GFW defaults, units in names, hashing for incremental runs."""

from __future__ import annotations

import dataclasses
import json

import pytest

from corridor.detect.params import DetectParams, GapParams, PortVisitParams, SegmentParams


def test_defaults_are_the_published_gfw_values():
    p = DetectParams()
    assert (p.port_visit.entry_distance_m, p.port_visit.exit_distance_m) == (3000.0, 4000.0)
    assert (p.port_visit.stop_begin_speed_knots, p.port_visit.stop_end_speed_knots) == (0.2, 0.5)
    assert p.port_visit.min_port_gap_hours == 4.0
    assert (p.gap.min_gap_hours, p.gap.disabling_min_gap_hours) == (6.0, 12.0)
    assert p.gap.disabling_min_shore_distance_nm == 50.0
    assert (p.loitering.max_speed_knots, p.loitering.min_duration_hours) == (2.0, 4.0)
    assert p.loitering.min_shore_distance_nm == 20.0
    assert p.segment.max_speed_knots == 50.0


def test_parameters_are_frozen_and_carry_units():
    with pytest.raises(dataclasses.FrozenInstanceError):
        GapParams().min_gap_hours = 1.0  # type: ignore[misc]
    units = ("_m", "_km", "_nm", "_hours", "_minutes", "_knots", "_positions", "_before",
             "_segments", "confidence", "fields", "_value", "_evidence", "_fraction",
             "_exponent")
    for sub in (SegmentParams, PortVisitParams, GapParams):
        for f in dataclasses.fields(sub):
            assert f.name.endswith(units), f.name


def test_hash_changes_with_any_per_vessel_parameter_but_not_encounters():
    base = DetectParams()
    assert base.hash() == DetectParams().hash()
    assert base.hash() != DetectParams(segment=SegmentParams(max_speed_knots=30)).hash()
    d = base.to_dict()
    assert d["gap"]["min_gap_hours"] == 6.0 and "encounter" in d
    assert base.encounter is not None
    changed = dataclasses.replace(base.encounter, max_distance_m=base.encounter.max_distance_m / 2)
    other = dataclasses.replace(base, encounter=changed)
    assert other.encounter != base.encounter  # a real change of an encounter parameter ...
    assert other.hash() == base.hash()  # ... leaves the per-vessel hash alone
    assert other.to_dict()["encounter"]["max_distance_m"] == base.encounter.max_distance_m / 2



# ------------------------------------------------------------------ files and presets
def test_params_file_toml_and_yaml_give_the_same_parameters(tmp_path):
    from corridor.detect.params import load_params

    toml = tmp_path / "p.toml"
    toml.write_text("[gap]\nmin_gap_hours = 12\n\n[segment]\nmax_speed_knots = 30\n"
                    "max_idle_hours = 8\n\n[encounter]\nmax_interp_speed_knots = 'inf'\n")
    yml = tmp_path / "p.yaml"
    yml.write_text("gap:\n  min_gap_hours: 12\nsegment:\n  max_speed_knots: 30\n"
                   "  max_idle_hours: 8\nencounter:\n  max_interp_speed_knots: inf\n")
    a, b = load_params(toml), load_params(yml)
    assert a == b
    assert (a.gap.min_gap_hours, a.segment.max_speed_knots, a.segment.max_idle_hours) == (
        12.0, 30.0, 8.0)
    assert a.encounter.max_interp_speed_knots == float("inf")
    assert a.port_visit == PortVisitParams()  # untouched sections keep their defaults


@pytest.mark.parametrize("text,needle", [
    ("[gap]\nmin_gap = 12\n", "unknown key gap.min_gap; allowed: disabling_min_gap_hours"),
    ("[gaps]\nmin_gap_hours = 12\n", "unknown section gaps; allowed: encounter, gap"),
    ("[gap]\nmin_gap_hours = 'twelve'\n", "gap.min_gap_hours: expected a number"),
    ("[port_visit]\nmin_confidence = 2.5\n", "expected a whole number"),
    ("[encounter]\nmax_distance_m = 900\n", "cell_size_m (1000.0) must be >= 2 x max_distance_m"),
    ("[gap\n", "not valid TOML"),
])
def test_bad_parameters_are_refused_with_what_is_allowed(tmp_path, text, needle):
    from corridor.detect.params import ParamsError, load_params

    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ParamsError) as err:
        load_params(f)
    assert needle in str(err.value) and str(f) in str(err.value)


def test_gfw_preset_is_gfw_s_published_parameters():
    from corridor.detect.params import gfw_params

    p = gfw_params()
    assert (p.segment.max_speed_knots, p.segment.penalty_hours, p.segment.hours_exponent) == (
        25.0, 4.0, 0.5)
    # segments stay open across silence (pipe-gaps works per MMSI: closing segments after
    # pipe-segment's 8 h would hide every longer gap)
    assert p.segment.max_idle_hours is None and p.segment.linear_after_hours == 6.0
    assert (p.port_visit.entry_distance_m, p.port_visit.exit_distance_m) == (3000.0, 4000.0)
    assert p.port_visit.min_port_gap_hours == 4.0 and p.port_visit.min_confidence == 2
    assert p.gap.min_gap_hours == 6.0 and p.gap.disabling_min_shore_distance_nm == 50.0
    e = p.encounter
    assert (e.max_distance_m, e.min_duration_hours, e.max_median_speed_knots) == (500.0, 2.0, 2.0)
    assert (e.min_port_distance_m, e.step_minutes, e.max_gap_hours) == (10_000.0, 10.0, 1.0)
    assert e.merge_gap_hours == 4.0 and e.max_unobserved_hours == 0.0
    assert p.hash() != DetectParams().hash()


def _cli_store(tmp_path):
    import numpy as np
    from _detect_data import hours, positions_table

    from corridor.store import Store

    # one ship with a 9 h silence far offshore, and two ships side by side for 3 h
    h = [0, 0.5, 1, 1.5, 10.5, 11, 11.5]
    a = positions_table(273000001, hours(*h), [10 + x * 0.001 for x in h], [-30.0] * len(h))
    m = np.arange(0, 3.01, 1 / 6)
    b = positions_table(273000002, hours(*m), [5.0] * len(m), [-20.0 + x * 0.001 for x in m],
                        sog=[0.5] * len(m))
    c = positions_table(273000003, hours(*m), [5.002] * len(m), [-20.0 + x * 0.001 for x in m],
                        sog=[0.5] * len(m))
    db = tmp_path / "p.duckdb"
    with Store.open(db) as s:
        for t in (a, b, c):
            s.insert_arrow("positions", t)
    return db


def test_cli_detect_with_a_params_file_and_the_gfw_preset(tmp_path):
    from typer.testing import CliRunner

    from corridor.cli import app
    from corridor.engines.local import query_events
    from corridor.store import Store

    db = _cli_store(tmp_path)
    runner = CliRunner()
    f = tmp_path / "p.yaml"
    f.write_text("gap:\n  min_gap_hours: 8\n")
    res = runner.invoke(app, ["--db", str(db), "detect", "--params", str(f)])
    assert res.exit_code == 0, res.output
    with Store.open(db) as s:
        (gap,) = query_events(s, ["gap"]).to_pylist()
    assert json.loads(gap["attrs"])["params"]["min_gap_hours"] == 8.0

    res = runner.invoke(app, ["--db", str(db), "detect", "--preset", "gfw"])
    assert res.exit_code == 0, res.output
    assert "parameters gfw" in res.output
    with Store.open(db) as s:
        ev = query_events(s).to_pylist()
    (enc,) = [e for e in ev if e["type"] == "encounter"]
    params = json.loads(enc["attrs"])["params"]
    assert params["max_unobserved_hours"] == 0.0 and params["max_interp_speed_knots"] == "inf"
    (gap,) = [e for e in ev if e["type"] == "gap"]
    assert json.loads(gap["attrs"])["params"]["min_gap_hours"] == 6.0

    bad = tmp_path / "bad.toml"
    bad.write_text("[gap]\nmin_gap = 8\n")
    res = runner.invoke(app, ["--db", str(db), "detect", "--params", str(bad)])
    assert res.exit_code == 2 and "allowed: disabling_min_gap_hours" in res.output
    res = runner.invoke(app, ["--db", str(db), "detect", "--preset", "nope"])
    assert res.exit_code == 2 and "choose from gfw" in res.output
