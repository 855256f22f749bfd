"""Identity changes: name/IMO/call sign/type changes under one MMSI, one IMO under several MMSIs."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
from _detect_data import gpsdio_track, hours

from corridor.detect.identity import detect_identity, field_changes, imo_valid, shared_imo
from corridor.detect.params import IdentityParams
from corridor.ids import combine_u64
from corridor.schema import VESSEL_REPORTS


def _reports(rows: list[tuple]) -> pa.Table:
    """rows: (mmsi, hour, imo, name, callsign, ship_type)."""
    mmsi = np.array([r[0] for r in rows], dtype=np.int64)
    ts = hours(*[r[1] for r in rows])
    return pa.table({
        "obs_id": combine_u64(mmsi, ts, np.arange(len(rows))),
        "mmsi": mmsi,
        "ts": pa.array(ts, pa.int64()).cast(pa.timestamp("us")),
        "msg_type": pa.array([5] * len(rows), pa.int8()),
        "imo": pa.array([r[2] for r in rows], pa.int64()),
        "name": [r[3] for r in rows],
        "callsign": [r[4] for r in rows],
        "ship_type": pa.array([r[5] for r in rows], pa.int16()),
        "length_m": pa.nulls(len(rows), pa.float32()),
        "beam_m": pa.nulls(len(rows), pa.float32()),
        "draught_m": pa.nulls(len(rows), pa.float32()),
        "destination": pa.nulls(len(rows), pa.string()),
        "source": ["test"] * len(rows),
    }, schema=VESSEL_REPORTS)


def test_imo_check_digit():
    assert imo_valid(np.array([9074729, 9176187, 9074720, 900000024, 0])).tolist() == [
        True, True, False, False, False]


def test_a_rename_is_one_event_with_old_and_new_and_evidence():
    r = _reports([(1, 0, 9074729, "ANGARA", "UBCX7", 70), (1, 5, 9074729, "ANGARA@@@", "UBCX7", 70),
                  (1, 10, 9074729, "LADY R", "UBCX7", 70), (1, 12, 9074729, "lady  r", None, 70)])
    (ev,) = field_changes(r)
    a = json.loads(ev["attrs"])
    assert (a["field"], a["old"], a["new"], a["times"]) == ("name", "ANGARA", "LADY R", 1)
    assert ev["start_ts"] == int(hours(10)[0])
    assert ev["evidence"] == r["obs_id"].to_pylist()[1:3]


def test_flip_flopping_values_give_one_event_per_direction():
    rows = [(2, h, None, "A" if h % 2 == 0 else "B", None, None) for h in range(10)]
    evs = field_changes(_reports(rows))
    got = sorted((json.loads(e["attrs"])["old"], json.loads(e["attrs"])["times"]) for e in evs)
    assert got == [("A", 5), ("B", 4)]
    assert len({e["event_id"] for e in evs}) == 2


def test_several_fields_changing_at_once_get_distinct_ids():
    r = _reports([(3, 0, 9074729, "X", "CS1", 70), (3, 1, 9176187, "Y", "CS2", 80)])
    evs = field_changes(r)
    assert sorted(json.loads(e["attrs"])["field"] for e in evs) == [
        "callsign", "imo", "name", "ship_type"]
    assert len({e["event_id"] for e in evs}) == 4


def test_one_imo_under_two_mmsis_is_a_cross_vessel_event():
    r = _reports([(10, 0, 9074729, "A", None, None), (10, 20, 9074729, "A", None, None),
                  (20, 5, 9074729, "A", None, None), (30, 1, 9176187, "C", None, None)])
    (ev,) = shared_imo(r)
    a = json.loads(ev["attrs"])
    assert (ev["mmsi"], ev["other_mmsi"], a["imo"], a["overlapping"]) == (10, 20, 9074729, True)
    assert ev["start_ts"] == int(hours(5)[0])
    t = detect_identity(r)
    assert t.num_rows == 1 and t["type"][0].as_py() == "identity_change"


def test_values_seen_too_rarely_are_ignored_when_asked():
    rows = [(4, h, None, "REAL NAME", None, None) for h in range(5)] + [(4, 5, None, "RE@L N@ME",
                                                                        None, None)]
    rows += [(4, 6, None, "REAL NAME", None, None)]
    assert len(field_changes(_reports(rows))) == 2
    assert field_changes(_reports(rows), IdentityParams(min_reports_per_value=2)) == []


def test_real_shared_mmsi_240000000_two_names(data_dir):
    _, static = gpsdio_track(data_dir / "ais-tracks/gfw-gpsdio-segment-point-pair/240000000.msg.gz")
    rows = [(240000000, 0, s.get("imo") or None, s.get("shipname"), s.get("callsign"),
             int(s["shiptype"]) if s.get("shiptype") not in (None, "") else None) for s in static]
    r = _reports(rows)
    ts = np.array([np.datetime64(s["timestamp"].rstrip("Z"), "us").astype(np.int64) for s in static])
    r = r.set_column(2, "ts", pa.array(ts, pa.int64()).cast(pa.timestamp("us")))
    evs = [json.loads(e["attrs"]) for e in field_changes(r)]
    names = {(a["old"], a["new"]) for a in evs if a["field"] == "name"}
    assert names == {("IMPALA MAGDALENA", "WARSHIP M71"), ("WARSHIP M71", "IMPALA MAGDALENA")}
    assert not [a for a in evs if a["field"] == "imo"]  # 900000024 is not a valid IMO
