"""Event rows: deterministic ids, parameters in attrs, the EVENTS schema."""

from __future__ import annotations

import json

from corridor.detect.events import event_id, events_table, iso_us, make_event
from corridor.ids import stable_id
from corridor.schema import EVENTS


def test_event_id_is_the_agreed_stable_id():
    start = 1_693_526_400_000_000
    expected = stable_id("gap", 1, None, iso_us(start), {"min_gap_hours": 6.0})
    assert event_id("gap", 1, None, start, {"min_gap_hours": 6.0}) == expected
    ev = make_event("gap", 1, start, start + 1, params={"min_gap_hours": 6.0})
    assert ev["event_id"] == expected


def test_other_parameters_or_keys_give_other_ids_and_attrs_hold_params():
    a = make_event("gap", 1, 0, 1, params={"x": 1}, attrs={"distance_m": float("nan")})
    b = make_event("gap", 1, 0, 1, params={"x": 2})
    c = make_event("gap", 1, 0, 1, params={"x": 1}, id_key={"field": "name"})
    assert len({a["event_id"], b["event_id"], c["event_id"]}) == 3
    attrs = json.loads(a["attrs"])
    assert attrs == {"distance_m": None, "params": {"x": 1}}


def test_events_table_has_the_events_schema_and_unique_evidence():
    rows = [make_event("gap", 2, 10, 20, params={}, evidence=[5, 5, 6]),
            make_event("loitering", 1, 0, 5, params={}, lat=1.0, lon=2.0)]
    t = events_table(rows)
    assert t.schema == EVENTS
    assert t["type"].to_pylist() == ["loitering", "gap"]  # sorted by start
    assert t["evidence"].to_pylist()[1] == [5, 6]


def test_ids_and_attrs_are_the_plain_serialisation_when_params_are_reused_or_changed():
    """make_event serialises a detector's parameter dict once; the id and attrs must stay
    exactly what stable_id and json.dumps give for every event, and follow a dict that
    is changed in place."""
    import numpy as np

    params = {"min_gap_hours": 6.0, "ports": ["b", "a"], "nested": {"z": 1, "a": float("nan")}}
    cases = [
        dict(type_="gap", mmsi=5, start_us=1_693_526_400_123_456, other_mmsi=None,
             attrs={"distance_m": 12.3456789, "params": "overwritten", "open": True}),
        dict(type_="encounter", mmsi=np.int64(7), start_us=60_000_000, other_mmsi=9,
             attrs={"pairs": [np.float64(1.5), {"k": np.int32(3)}]}),
        dict(type_="loitering", mmsi=None, start_us=0, other_mmsi=None, attrs=None),
    ]
    seen = []
    for _ in range(2):  # the second round uses the serialisation made by the first
        for c in cases:
            ev = make_event(c["type_"], c["mmsi"], c["start_us"], None, params=params,
                            attrs=c["attrs"], other_mmsi=c["other_mmsi"],
                            evidence=np.array([3, 1, 3], dtype=np.int64))
            clean = {"min_gap_hours": 6.0, "nested": {"a": None, "z": 1}, "ports": ["b", "a"]}
            assert ev["event_id"] == stable_id(c["type_"], c["mmsi"], c["other_mmsi"],
                                               iso_us(c["start_us"]), clean)
            attrs = json.loads(ev["attrs"])
            assert attrs["params"] == clean
            assert ev["attrs"] == json.dumps(attrs, sort_keys=True, separators=(",", ":"))
            assert ev["evidence"] == [3, 1]
            seen.append(ev["event_id"])
    assert len(set(seen)) == len(cases)
    params["min_gap_hours"] = 8.0  # changed in place: a new id, new attrs
    ev = make_event("gap", 5, 0, None, params=params)
    assert json.loads(ev["attrs"])["params"]["min_gap_hours"] == 8.0
    assert ev["event_id"] == stable_id("gap", 5, None, iso_us(0), {
        "min_gap_hours": 8.0, "nested": {"a": None, "z": 1}, "ports": ["b", "a"]})
