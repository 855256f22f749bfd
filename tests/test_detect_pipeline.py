"""detect_vessel on real tracks: deterministic, segments kept apart, plausible port calls."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.compute as pc
import pytest
from _detect_data import gpsdio_track

from corridor.detect.pipeline import detect_vessel, split_by_mmsi
from corridor.places import PlaceIndex, gazetteer_table

TRACKS = "ais-tracks/gfw-gpsdio-segment-point-pair"


@pytest.fixture(scope="module")
def gazetteer() -> PlaceIndex:
    return PlaceIndex.from_arrow(gazetteer_table())


def test_same_rows_and_ids_whatever_the_input_order(data_dir, gazetteer):
    t, _ = gpsdio_track(data_dir / TRACKS / "230942350.msg.gz")
    a = detect_vessel(t, places=gazetteer)
    perm = np.random.default_rng(7).permutation(t.num_rows)
    b = detect_vessel(t.take(perm), places=gazetteer)
    assert a.events.equals(b.events) and a.events.num_rows > 0
    assert a.marks.sort_by("obs_id").equals(b.marks.sort_by("obs_id"))


def test_gulf_of_bothnia_ship_calls_kaskinen_and_naantali(data_dir, gazetteer):
    """230942350 (Aug 2014): checked by hand on the map, it lies at Kaskinen, sails to
    Naantali (near Turku), stays ten days and returns to Kaskinen."""
    t, _ = gpsdio_track(data_dir / TRACKS / "230942350.msg.gz")
    ev = detect_vessel(t, places=gazetteer).events
    visits = ev.filter(pc.equal(ev["type"], "port_visit")).to_pylist()
    voyages = ev.filter(pc.equal(ev["type"], "voyage")).to_pylist()
    assert [v["place_id"] for v in visits] == ["fi-kaskinen", "fi-naantali", "fi-kaskinen"]
    assert [(v["from_place_id"], v["to_place_id"]) for v in voyages] == [
        ("fi-kaskinen", "fi-naantali"), ("fi-naantali", "fi-kaskinen")]
    for v in voyages:
        a = json.loads(v["attrs"])
        # Kaskinen-Naantali is about 220 km in a straight line, more by sea
        assert 220_000 < a["distance_sailed_m"] < 450_000
    # it left Kaskinen while dark (a 162 h silence from inside the port)
    first = json.loads(voyages[0]["attrs"])
    assert first["departed_dark"] and first["gaps"] == 1 and first["gap_hours"] > 100


def test_shared_mmsi_events_never_cross_segments(data_dir, gazetteer):
    t, _ = gpsdio_track(data_dir / TRACKS / "240000000.msg.gz")
    ev = detect_vessel(t, places=gazetteer).events
    types = set(ev["type"].to_pylist())
    assert "position_conflict" in types and "gap" in types
    for g in ev.filter(pc.equal(ev["type"], "gap")).to_pylist():
        a = json.loads(g["attrs"])
        assert a["implied_speed_knots"] < 50  # never Caribbean -> Bay of Bengal
    assert all(s is not None for s in ev["segment_id"].to_pylist())


def test_without_places_no_port_visits(data_dir):
    t, _ = gpsdio_track(data_dir / TRACKS / "230942350.msg.gz")
    types = set(detect_vessel(t).events["type"].to_pylist())
    assert "port_visit" not in types and "voyage" not in types


def test_split_by_mmsi_slices_a_sorted_table(data_dir):
    a, _ = gpsdio_track(data_dir / TRACKS / "600011817.msg.gz")
    b, _ = gpsdio_track(data_dir / TRACKS / "227317360.msg.gz")
    import pyarrow as pa

    both = pa.concat_tables([b, a]).sort_by([("mmsi", "ascending"), ("ts", "ascending")])
    parts = split_by_mmsi(both)
    assert [p["mmsi"][0].as_py() for p in parts] == [227317360, 600011817]
    assert sum(p.num_rows for p in parts) == both.num_rows
