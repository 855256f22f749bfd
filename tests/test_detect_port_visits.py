"""Port visits: GFW pipe-anchorages events->visits fixture, and positions->events on tiny tracks."""

from __future__ import annotations

import json
import random
from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest
from _detect_data import hours, positions_table

from corridor.detect.params import DetectParams, PortVisitParams
from corridor.detect.pipeline import detect_vessel
from corridor.detect.port_visits import PortEvent, PortVisitDetector, visits_from_port_events
from corridor.places import PlaceIndex

FIXTURE = "gfw-fixtures/pipe-anchorages/port_visit_cases.json"
KM_LAT = 1 / 111.195  # degrees of latitude per km
PORT = (43.0, 132.0)


def _fixture_event(e: dict) -> PortEvent:
    return PortEvent(
        ts_us=int(e["timestamp"] * 1e6), kind=e["event_type"], place_id=e["anchorage_id"],
        place_lat=e["lat"], place_lon=e["lon"], vessel_lat=e["vessel_lat"],
        vessel_lon=e["vessel_lon"], segment_id=str(e["seg_id"]))


def test_gfw_port_visit_cases_independent_of_event_order(data_dir):
    fixture = json.loads((data_dir / FIXTURE).read_text())
    max_nm = fixture["params"]["max_interseg_dist_nm"]
    rng = random.Random(4321)
    assert len(fixture["cases"]) == 4 and all(c["expected_visits"] for c in fixture["cases"])
    for case in fixture["cases"]:
        expected = [(int(v["start_timestamp"] * 1e6), int(v["end_timestamp"] * 1e6),
                     v["start_anchorage_id"], v["end_anchorage_id"], v["confidence"],
                     round(v["duration_hrs"], 9)) for v in case["expected_visits"]]
        events = [_fixture_event(e) for e in case["input_events"]]
        for _ in range(3):
            rng.shuffle(events)
            visits = visits_from_port_events(events, max_nm)
            got = [(v.start_us, v.end_us, v.events[0].place_id, v.events[-1].place_id,
                    v.confidence, round(v.duration_hours, 9)) for v in visits]
            assert got == expected, case["name"]
            n_events = [len(v["events"]) for v in case["expected_visits"]]
            assert [len(v.events) for v in visits] == n_events


def _places(radius_m=None) -> PlaceIndex:
    return PlaceIndex.from_arrow(pa.table({
        "place_id": ["test-port"], "name": ["Test port"], "kind": ["port"],
        "lat": [PORT[0]], "lon": [PORT[1]], "radius_m": pa.array([radius_m], pa.float64())}))


def _track(legs: list[tuple[float, float, float]], mmsi: int = 273000001) -> pa.Table:
    """legs: (hour, km north of the port, sog) per position."""
    h = [x[0] for x in legs]
    lat = [PORT[0] + x[1] * KM_LAT for x in legs]
    return positions_table(mmsi, hours(*h), lat, [PORT[1]] * len(legs), sog=[x[2] for x in legs])


def _visit_track() -> list[tuple[float, float, float]]:
    arrive = [(i * 0.25, 20 - i * 2.0, 10.0) for i in range(10)]  # 20 km -> 2 km, 10 kn
    stay = [(2.5 + i * 0.5, 0.5, 0.0) for i in range(20)]  # 10 h stopped, 0.5 km out
    leave = [(12.5 + i * 0.25, 2.0 + i * 2.0, 10.0) for i in range(10)]
    return arrive + stay + leave


def _visits(t: pa.Table, **kw) -> list[dict]:
    res = detect_vessel(t, DetectParams(port_visit=PortVisitParams(**kw)), _places())
    return [e for e in res.events.to_pylist() if e["type"] == "port_visit"]


def test_entry_stop_exit_is_one_confidence_4_visit():
    (v,) = _visits(_track(_visit_track()))
    a = json.loads(v["attrs"])
    assert a["confidence"] == 4 and a["entry_seen"] and a["exit_seen"] and not a["open"]
    assert v["place_id"] == "test-port"
    # entry at the first position within 3 km (2 km out, hour 2.25); exit at the first
    # position beyond 4 km (hour 12.75)
    assert v["start_ts"] == datetime(2023, 9, 1, 2, 15) and v["end_ts"] == datetime(2023, 9, 1, 12, 45)
    assert a["stops"] == 1 and a["stopped_hours"] == pytest.approx(10.0)
    assert a["params"]["entry_distance_m"] == 3000.0
    assert 3 <= len(v["evidence"]) <= 20


def test_same_visit_whatever_the_input_order():
    t = _track(_visit_track())
    perm = np.random.default_rng(1).permutation(t.num_rows)
    assert _visits(t) == _visits(t.take(perm))


def test_track_starting_stopped_in_port_has_no_entry_and_confidence_3():
    legs = [x for x in _visit_track() if x[0] >= 3.0]
    (v,) = _visits(_track(legs))
    a = json.loads(v["attrs"])
    assert a["confidence"] == 3 and not a["entry_seen"] and a["exit_seen"]


def test_transit_past_a_port_without_stopping_is_not_a_visit():
    legs = [(i * 0.1, 10 - i * 1.0, 10.0) for i in range(21)]  # passes 0 km at 10 kn
    assert _visits(_track(legs)) == []
    # ... though GFW would record it as a confidence-1 visit
    (v,) = _visits(_track(legs), min_confidence=1)
    assert json.loads(v["attrs"])["confidence"] == 1


def test_an_in_port_silence_of_4_hours_is_a_port_gap():
    legs = [(i * 0.25, 8 - i * 2.0, 1.0) for i in range(4)]  # arrive slowly (1 kn)
    legs += [(1.0, 1.0, 1.0), (7.0, 1.0, 1.0)]  # 6 h silence in port, never below 0.2 kn
    legs += [(7.25 + i * 0.25, 2 + i * 2.0, 8.0) for i in range(4)]
    (v,) = _visits(_track(legs))
    a = json.loads(v["attrs"])
    assert a["port_gaps"] == 1 and a["stops"] == 0 and a["confidence"] == 4
    assert a["port_gap_hours"] == pytest.approx(2.0)  # GFW: gap begins 4 h after last message


def test_hysteresis_between_3_and_4_km_keeps_the_vessel_in_port():
    legs = [(0.0, 10.0, 10.0), (0.5, 2.5, 5.0), (1.0, 0.5, 0.0), (2.0, 0.5, 0.0)]
    legs += [(2.5 + i * 0.5, 3.5 if i % 2 else 3.2, 0.4) for i in range(8)]  # 3.2-3.5 km
    legs += [(7.0, 0.5, 0.0), (8.0, 8.0, 10.0)]
    (v,) = _visits(_track(legs))
    a = json.loads(v["attrs"])
    assert a["confidence"] == 4 and a["stops"] == 1


def test_radius_of_a_point_place_widens_the_geofence():
    det = PortVisitDetector(_places(radius_m=5000.0), PortVisitParams())
    t = _track([(0, 30.0, 10.0), (1, 7.0, 0.0), (2, 7.0, 0.0), (3, 30.0, 10.0)])
    ts = t["ts"].cast(pa.int64()).to_numpy()
    ev, _ = det.port_events("s", t["obs_id"].to_numpy(), ts, t["lat"].to_numpy(),
                            t["lon"].to_numpy(), t["sog"].to_numpy(zero_copy_only=False))
    assert [e.kind for e in ev] == ["PORT_ENTRY", "PORT_STOP_BEGIN", "PORT_STOP_END", "PORT_EXIT"]


def test_a_single_message_in_port_is_not_a_visit():
    # one stopped report inside the port between two far ones (a receiver snapshot)
    legs = [(0.0, 30.0, 10.0), (1.0, 0.5, 0.0), (2.0, 30.0, 10.0)]
    assert _visits(_track(legs)) == []
    (v,) = _visits(_track(legs), min_visit_positions=1)
    assert json.loads(v["attrs"])["confidence"] == 4


def test_a_ship_still_in_port_at_the_end_of_its_track_has_a_visit():
    # ten fixes at 0 kn, 0.5 km from the port, over 2 h: the segment starts and ends in
    # port, so the visit is open (PORT_STOP_BEGIN only) and must count all ten fixes
    legs = [(i * 2.0 / 9, 0.5, 0.0) for i in range(10)]
    (v,) = _visits(_track(legs))
    a = json.loads(v["attrs"])
    assert a["open"] and a["confidence"] == 2 and not a["entry_seen"]
    assert v["start_ts"] == datetime(2023, 9, 1, 0, 0) and v["end_ts"] == datetime(2023, 9, 1, 2, 0)


def test_a_visit_starting_with_a_port_gap_counts_the_fix_before_the_silence():
    # starts in port moving (no stop, no entry), 5 h silence, one fix, then leaves: the
    # visit's first event is PORT_GAP_BEGIN, dated 4 h after the first fix
    legs = [(0.0, 1.0, 1.0), (5.0, 1.0, 1.0), (5.5, 10.0, 10.0)]
    (v,) = _visits(_track(legs))
    a = json.loads(v["attrs"])
    assert a["port_gaps"] == 1 and a["confidence"] == 3 and a["exit_seen"]
    assert v["start_ts"] == datetime(2023, 9, 1, 4, 0)  # GFW dates the gap begin


def test_a_ship_in_port_before_its_stop_begins_counts_those_fixes():
    # real MarineCadastre pattern (MMSI 316019735, 2022-01-03): three fixes 44 m from a
    # port at 0.2, 0.3 and 0.1 kn; the stop begins only at the third, and the segment
    # started in port (no entry): the visit holds three fixes in port, not one
    legs = [(0.0, 0.04, 0.2), (0.15, 0.04, 0.3), (0.25, 0.04, 0.1)]
    (v,) = _visits(_track(legs))
    a = json.loads(v["attrs"])
    assert a["open"] and a["confidence"] == 2 and a["stops"] == 0
    assert v["start_ts"] == datetime(2023, 9, 1, 0, 15)  # dated by its first event (GFW)
    # a single message in port is still not a visit
    assert _visits(_track([(0.0, 30.0, 10.0), (0.5, 0.04, 0.1), (1.0, 30.0, 10.0)])) == []
