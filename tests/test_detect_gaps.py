"""AIS gaps: GFW pipe-gaps fixture cases, the Welch et al. disabling rule, real shore distances."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from _detect_data import hours, positions_table

from corridor.detect.gaps import GapDetector, gap_indices, positions_before
from corridor.detect.params import GapParams
from corridor.detect.pipeline import detect_vessel
from corridor.detect.tracks import segment_track
from corridor.shore import distance_to_shore_m

FIXTURE = "gfw-fixtures/pipe-gaps/gap_test_cases.json"


def _gaps_of_messages(messages: list[dict], threshold_h: float) -> list[dict]:
    """Run the batch detector per ssvid (pipe-gaps groups by ssvid) on fixture messages."""
    out = []
    for ssvid in sorted({m["ssvid"] for m in messages}):
        ms = [m for m in messages if m["ssvid"] == ssvid]
        ts = np.array([np.datetime64(m["timestamp"].rstrip("Z"), "us").astype(np.int64) for m in ms])
        t = positions_table(int(ssvid), ts, [m["lat"] for m in ms],
                            [m["lon"] if m["lon"] is not None else 0.0 for m in ms])
        tr, _ = segment_track(t)
        det = GapDetector(GapParams(min_gap_hours=threshold_h))
        for seg_id, idx in tr.segment_indices():
            out += det.apply(tr.mmsi, seg_id, tr.obs_id[idx], tr.ts[idx], tr.lat[idx], tr.lon[idx])
    return out


def _cases(data_dir, group: str) -> list[dict]:
    return json.loads((data_dir / FIXTURE).read_text())["cases"][group]


# The groups a batch detector over a vessel's whole history can be held to. Not applied:
# OPEN_GAPS, CLOSING_GAPS, GAP_BETWEEN_ARBITRARY_PERIODS and DAILY_MODE test pipe-gaps'
# day-by-day windows and its persisted "open gap" state between runs (a gap still open at
# the end of a processing day); corridor recomputes a vessel over all its positions, so
# it has no open gaps to carry and reports a gap once it is closed by the next position.
@pytest.mark.parametrize("group", ["GAP_BETWEEN_YEARS", "NO_GAPS_DUPLICATION"])
def test_pipe_gaps_fixture_counts(data_dir, group):
    cases = _cases(data_dir, group)
    assert len(cases) >= 1 and sum(c["expected_gaps"] for c in cases) > 0
    for case in cases:
        got = _gaps_of_messages(case["messages"], case["threshold"])
        assert len(got) == case["expected_gaps"], case["id"]


def test_pipe_gaps_fixture_positions_hours_before(data_dir):
    (case,) = _cases(data_dir, "POSITIONS_HOURS_BEFORE")
    got = _gaps_of_messages(case["messages"], case["threshold"])
    expected = [e["positions_hours_before"] for e in case["expected_gaps"]]
    assert [json.loads(g["attrs"])["positions_before"] for g in got] == expected


def test_pipe_gaps_fixture_between_days_batch(data_dir):
    # pipe-gaps reports, for the processing day, gaps closed on that day (the OFF message
    # may be from the day before); the batch detector finds them among all gaps.
    case = _cases(data_dir, "GAP_BETWEEN_DAYS")[0]
    got = _gaps_of_messages(case["messages"], case["threshold"])
    lo, hi = (np.datetime64(d, "us").astype(np.int64) for d in case["date_range"])
    in_day = [g for g in got if lo <= g["end_ts"] < hi]
    assert [json.loads(g["attrs"])["positions_before"] for g in in_day] == [
        e["positions_hours_before"] for e in case["expected_gaps"]]


def test_gap_is_strictly_longer_than_threshold():
    ts = hours(0, 6, 12.5)
    assert gap_indices(ts, 6.0).tolist() == [1]
    assert positions_before(ts, np.array([2]), 12.0).tolist() == [2]  # 6 h and 12.5 h


def _offshore_track(gap_hours: float, n_before: int) -> pa.Table:
    # mid North Atlantic, far from any shore; n_before positions every 30 min, then silence
    h = list(np.arange(n_before) * 0.5)
    last = h[-1]
    h += [last + gap_hours, last + gap_hours + 0.5]
    lat = 35.0 + np.arange(len(h)) * 0.08  # about 9.6 kn, not loitering
    return positions_table(538000001, hours(*h), lat, np.full(len(h), -40.0))


def test_offshore_long_gap_with_reception_before_is_likely_disabling():
    res = detect_vessel(_offshore_track(20.0, 20))
    (gap,) = res.events.to_pylist()
    attrs = json.loads(gap["attrs"])
    assert gap["type"] == "gap" and attrs["likely_disabling"] is True
    assert attrs["off_distance_from_shore_m"] > 50 * 1852
    assert attrs["duration_hours"] == pytest.approx(20.0)
    assert attrs["params"]["disabling_min_positions_before"] == 14
    assert len(gap["evidence"]) == 2


@pytest.mark.parametrize("gap_hours,n_before", [(8.0, 20), (20.0, 5)])
def test_short_gap_or_sparse_reception_is_not_disabling(gap_hours, n_before):
    (gap,) = detect_vessel(_offshore_track(gap_hours, n_before)).events.to_pylist()
    assert json.loads(gap["attrs"])["likely_disabling"] is False


def test_gap_near_shore_is_not_disabling_and_records_both_shore_distances():
    # Tsugaru Strait area, within a few nm of Japan
    h = list(np.arange(20) * 0.5) + [30.0, 30.5]
    t = positions_table(431000001, hours(*h), np.full(22, 41.6), np.full(22, 140.8))
    (gap,) = detect_vessel(t).events.to_pylist()
    attrs = json.loads(gap["attrs"])
    assert attrs["likely_disabling"] is False
    expected = float(distance_to_shore_m(np.array([41.6]), np.array([140.8]))[0])
    assert attrs["off_distance_from_shore_m"] == pytest.approx(expected, rel=1e-6)
    assert attrs["on_distance_from_shore_m"] == pytest.approx(expected, rel=1e-6)


def test_distance_and_implied_speed_across_the_gap():
    t = positions_table(1, hours(0, 10), [0.0, 0.0], [10.0, 11.0])
    (gap,) = detect_vessel(t).events.to_pylist()
    attrs = json.loads(gap["attrs"])
    assert attrs["distance_m"] == pytest.approx(111195, rel=1e-3)
    assert attrs["implied_speed_knots"] == pytest.approx(111195 / 1852 / 10, rel=1e-3)
