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
