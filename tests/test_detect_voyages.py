"""Voyages: legs between consecutive port visits, with distance sailed and dark gaps inside."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from _detect_data import hours, positions_table

from corridor.detect.pipeline import detect_vessel
from corridor.places import PlaceIndex

# Two ports on one meridian, 1 degree of latitude apart (~111 km)
PLACES = PlaceIndex.from_arrow(pa.table({
    "place_id": ["port-a", "port-b"], "name": ["A", "B"], "kind": ["port", "port"],
    "lat": [42.0, 43.0], "lon": [131.0, 131.0]}))


def _shuttle(dark_hours: float) -> pa.Table:
    """Stopped at A 6 h, sails north at ~10 kn, (optionally dark mid-way), stopped at B 6 h."""
    h, lat, sog = [], [], []
    for i in range(13):  # at A
        h.append(i * 0.5), lat.append(42.0), sog.append(0.0)
    t = 6.0
    for k in range(1, 36):  # 35 steps of 0.2 h x 10 kn ~ 0.0333 deg each: 42 -> 43.17
        t += 0.2
        if k == 15:
            t += dark_hours
        h.append(t), lat.append(42.0 + k * 0.0333 * 0.8571), sog.append(10.0)
    lat[-1] = 43.0
    for i in range(1, 13):  # at B
        h.append(t + i * 0.5), lat.append(43.0), sog.append(0.0)
    lon = np.full(len(h), 131.0)
    return positions_table(440000001, hours(*h), lat, lon, sog=sog)


def test_two_visits_make_one_voyage_from_a_to_b():
    ev = detect_vessel(_shuttle(0.0), places=PLACES).events.to_pylist()
    visits = [e for e in ev if e["type"] == "port_visit"]
    (voy,) = [e for e in ev if e["type"] == "voyage"]
    assert [v["place_id"] for v in visits] == ["port-a", "port-b"]
    assert voy["from_place_id"] == "port-a" and voy["to_place_id"] == "port-b"
    assert voy["start_ts"] == visits[0]["end_ts"] and voy["end_ts"] == visits[1]["start_ts"]
    a = json.loads(voy["attrs"])
    assert a["gaps"] == 0
    # from the exit (4 km out of A) to the entry (3 km out of B): about 111 - 7 km
    assert a["distance_sailed_m"] == pytest.approx(104_000, rel=0.05)
    assert a["from_visit"] == visits[0]["event_id"] and a["to_visit"] == visits[1]["event_id"]


def test_a_dark_stretch_inside_the_voyage_is_counted():
    ev = detect_vessel(_shuttle(10.0), places=PLACES).events.to_pylist()
    (voy,) = [e for e in ev if e["type"] == "voyage"]
    (gap,) = [e for e in ev if e["type"] == "gap"]
    a = json.loads(voy["attrs"])
    assert a["gaps"] == 1 and a["gap_hours"] == pytest.approx(10.2, abs=0.01)
    assert voy["start_ts"] < gap["start_ts"] < gap["end_ts"] < voy["end_ts"]


def test_one_visit_makes_no_voyage():
    t = _shuttle(0.0)
    first_half = t.filter(pa.compute.less(t["lat"], 42.5))
    ev = detect_vessel(first_half, places=PLACES).events.to_pylist()
    assert [e["type"] for e in ev if e["type"] in ("port_visit", "voyage")] == ["port_visit"]
