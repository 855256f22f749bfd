"""Encounters: GFW's pipe-encounters fixtures, bucket boundaries, filters, merging, ids."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from corridor.detect.encounters import (
    EncounterParams,
    adjacent_pairs,
    detect_encounters,
    encounter_buckets,
    encounters_from_pairs,
    grid_pairs,
    space_cell,
)
from corridor.detect.resample import resample_positions
from corridor.ids import position_obs_ids
from corridor.schema import EVENTS

# GFW's fixture expectations were produced with *their* parameters (resample max gap 4200 s,
# 30-minute minimum, merge within 24 h, no speed filter at the raw stage, no port filter, runs
# bounded by the UTC day): we pass those as EncounterParams to compare like with like.
GFW = EncounterParams(
    max_distance_m=500.0,
    min_duration_hours=0.5,
    max_median_speed_knots=math.inf,
    merge_gap_hours=24.0,
    max_unobserved_hours=24.0,
    max_gap_hours=4200 / 3600,
    max_interp_speed_knots=math.inf,
)
UTC = dt.timezone.utc


def _positions(mmsi, ts, lat, lon) -> pa.Table:
    mmsi, lat, lon = (np.asarray(x) for x in (mmsi, lat, lon))
    us = np.array([int(t.replace(tzinfo=UTC).timestamp() * 1e6) for t in ts], dtype=np.int64)
    return pa.table({
        "obs_id": position_obs_ids(mmsi, us, lat, lon, np.zeros(len(us), dtype=np.int64)),
        "mmsi": mmsi.astype(np.int64), "ts": pa.array(us, pa.timestamp("us")),
        "lat": lat.astype(float), "lon": lon.astype(float),
    })


@pytest.fixture(scope="module")
def series(data_dir):
    rows = list(csv.DictReader(open(data_dir / "gfw-fixtures/pipe-encounters/encounter_series.csv")))

    def get(name):
        r = [x for x in rows if x["series"] == name]
        return _positions([int(x["vessel_id"]) for x in r],
                          [dt.datetime.fromisoformat(x["timestamp"].replace("Z", "")) for x in r],
                          [float(x["lat"]) for x in r], [float(x["lon"]) for x in r])
    return get


@pytest.fixture(scope="module")
def expected(data_dir):
    return json.loads((data_dir / "gfw-fixtures/pipe-encounters/expected_encounters.json")
                      .read_text())["cases"]


def _iso(x):
    return dt.datetime.fromisoformat(x.replace("Z", ""))


def test_real_mozambique_channel_meeting_is_one_encounter_like_gfw(series, expected):
    ev = detect_encounters(series("real"), GFW)
    assert ev.num_rows == 1
    e = ev.to_pylist()[0]
    gfw = expected["real"]["expected_merged"][0]
    assert (e["mmsi"], e["other_mmsi"]) == (441910000, 563418000)
    assert abs((e["start_ts"] - _iso(gfw["start_time"])).total_seconds()) <= 600
    assert abs((e["end_ts"] - _iso(gfw["end_time"])).total_seconds()) <= 600
    attrs = json.loads(e["attrs"])
    assert attrs["median_distance_m"] == pytest.approx(gfw["median_distance_km"] * 1000, abs=5)
    assert attrs["median_speed_knots"] == pytest.approx(
        expected["real"]["expected_raw_encounters"][0]["median_speed_knots"], abs=0.01)
    assert e["lat"] == pytest.approx(gfw["mean_latitude"], abs=0.01)
    assert e["lon"] == pytest.approx(gfw["mean_longitude"], abs=0.01)
    # evidence: raw positions of both vessels
    obs = series("real")
    owner = dict(zip(obs["obs_id"].to_pylist(), obs["mmsi"].to_pylist(), strict=True))
    assert {owner[o] for o in e["evidence"]} == {441910000, 563418000}


def test_real_case_with_our_defaults_keeps_the_first_observed_meeting(series):
    # both ships go dark 10:17-18:30; with our 1 h interpolation and 4 h bridging the meeting
    # seen after the gap (18:30-20:10, under 2 h) is not enough on its own
    ev = detect_encounters(series("real"), EncounterParams())
    assert ev.num_rows == 1
    e = ev.to_pylist()[0]
    assert e["start_ts"] == dt.datetime(2015, 3, 19, 7, 40)
    assert e["end_ts"] == dt.datetime(2015, 3, 19, 10, 10)
    assert json.loads(e["attrs"])["params"]["max_distance_m"] == 500.0


@pytest.mark.parametrize("name", ["simple", "dateline"])
def test_synthetic_cases_match_gfw_times_and_distance(series, expected, name):
    ev = detect_encounters(series(name), GFW)
    assert ev.num_rows == 1
    e = ev.to_pylist()[0]
    gfw = expected[name]["expected_raw_encounters"][0]
    assert (e["start_ts"], e["end_ts"]) == (_iso(gfw["start_time"]), _iso(gfw["end_time"]))
    assert json.loads(e["attrs"])["median_distance_m"] == pytest.approx(
        gfw["median_distance_km"] * 1000, rel=0.01)
    if name == "dateline":
        assert abs(e["lon"]) > 179.9


def test_fast_separation_gives_no_encounter(series, expected):
    assert expected["fastsep"]["expected_raw_encounters"] == []
    assert detect_encounters(series("fastsep"), GFW).num_rows == 0


def test_three_vessels_give_one_event_per_pair(series, expected):
    ev = detect_encounters(series("multi"), GFW)
    got = {(e["mmsi"], e["other_mmsi"]): (e["start_ts"], e["end_ts"]) for e in ev.to_pylist()}
    want = {}
    for g in expected["multi"]["expected_raw_encounters"]:
        a, b = sorted((int(g["vessel_1_id"]), int(g["vessel_2_id"])))
        span = (_iso(g["start_time"]), _iso(g["end_time"]))
        want[(a, b)] = (min(span[0], want.get((a, b), span)[0]), max(span[1], want.get((a, b), span)[1]))
    assert got == want


# ------------------------------------------------------------------ hand-built scenarios
T0 = dt.datetime(2024, 5, 1, 6, 0)


def _pair(lat, lon, hours=3.0, sep_m=100.0, speed_kn=0.0, step_min=3, mmsis=(273000001, 445000002),
          t0=T0):
    """Two vessels side by side (sep_m apart east-west), drifting north at speed_kn."""
    n = int(hours * 60 / step_min) + 1
    ts = [t0 + dt.timedelta(minutes=step_min * i) for i in range(n)]
    dlat = speed_kn * 1852 / 111195 * (step_min / 60) * np.arange(n)
    dlon = sep_m / (111195 * math.cos(math.radians(lat)))
    lon_b = ((lon + dlon + 180) % 360) - 180
    return _positions([mmsis[0]] * n + [mmsis[1]] * n, ts + ts,
                      np.concatenate([lat + dlat, lat + dlat]),
                      np.concatenate([np.full(n, lon), np.full(n, lon_b)]))


def test_meeting_on_a_bucket_boundary_and_on_the_antimeridian_is_found_once():
    p = EncounterParams()
    lat = 43.0
    # a longitude cell boundary near 132E: the first lon where the cell changes
    grid = np.linspace(132.0, 132.05, 50001)
    cells = space_cell(np.full(grid.size, lat), grid, p)
    boundary = grid[np.flatnonzero(np.diff(cells))[0] + 1]
    for lon in (boundary - 0.0007, 179.9995):  # the two ships 120 m apart, one each side
        pos = _pair(lat, lon, sep_m=120)
        home = set(space_cell(pos["lat"].to_numpy(), pos["lon"].to_numpy(), p).tolist())
        assert len(home) == 2
        assert detect_encounters(pos, p).num_rows == 1, lon
    # the ownership rule: any split of buckets into partitions gives the same pairs
    pos = pa.concat_tables([_pair(43.0, 132.0 + k * 0.0041, sep_m=300,
                                  mmsis=(273000100 + k, 273000200 + k)) for k in range(6)])
    b = encounter_buckets(resample_positions(pos, p.resample), p)
    assert b.num_rows <= 4 * pc.sum(b["home"]).as_py()
    whole = adjacent_pairs(b, p)
    key = pc.bit_wise_and(b["bucket"], 3)
    parts = [adjacent_pairs(b.filter(pc.equal(key, k)), p) for k in range(4)]
    split = pa.concat_tables(parts)
    sort = [("mmsi", "ascending"), ("other_mmsi", "ascending"), ("ts", "ascending")]
    assert split.num_rows == whole.num_rows > 0
    assert split.sort_by(sort).equals(whole.sort_by(sort))
    assert encounters_from_pairs(split, p).equals(encounters_from_pairs(whole, p))


def test_grid_pairs_equal_the_bucketed_pairs_row_by_row():
    """The local engine's pair search on index arrays gives the rows, in the order, of the
    bucketed path a distributed engine runs: across cell and band boundaries, the
    antimeridian, a crowd of ships within one cell and two segments of one MMSI."""
    p = EncounterParams()
    rng = np.random.default_rng(7)
    parts = [_pair(43.0, 132.0 + k * 0.0041, sep_m=300, mmsis=(273000100 + k, 273000200 + k))
             for k in range(6)]
    parts.append(_pair(-10.0, 179.9998, sep_m=250, mmsis=(273000300, 273000301)))
    # twelve ships drifting in a 1.5 km square: many pairs, some beyond 500 m
    n = 61
    for k in range(12):
        lat0, lon0 = 41.0 + rng.uniform(0, 0.012), 130.0 + rng.uniform(0, 0.016)
        ts = [T0 + dt.timedelta(minutes=3 * i) for i in range(n)]
        parts.append(_positions([273000400 + k] * n, ts, lat0 + np.cumsum(rng.normal(0, 2e-5, n)),
                                lon0 + np.cumsum(rng.normal(0, 2e-5, n))))
    pos = pa.concat_tables(parts)
    seg = pa.array([("s1" if m == 273000405 and i % 2 else None)
                    for i, m in enumerate(pos["mmsi"].to_pylist())], pa.string())
    grid = resample_positions(pos.append_column("segment_id", seg), p.resample)
    whole = adjacent_pairs(encounter_buckets(grid, p), p)
    assert whole.num_rows > 500
    assert len(set(whole["mmsi"].to_pylist())) > 10
    assert grid_pairs(grid, p).equals(whole)
    assert grid_pairs(grid.slice(0, 0), p).num_rows == 0


def test_thresholds_distance_duration_speed():
    p = EncounterParams()
    assert detect_encounters(_pair(40.0, 133.0, sep_m=100), p).num_rows == 1
    assert detect_encounters(_pair(40.0, 133.0, sep_m=700), p).num_rows == 0  # too far apart
    assert detect_encounters(_pair(40.0, 133.0, hours=1.5), p).num_rows == 0  # too short
    assert detect_encounters(_pair(40.0, 133.0, speed_kn=6.0), p).num_rows == 0  # sailing
    slow = detect_encounters(_pair(40.0, 133.0, speed_kn=1.0), p).to_pylist()[0]
    assert json.loads(slow["attrs"])["median_speed_knots"] == pytest.approx(1.0, abs=0.05)


def test_same_pair_within_merge_gap_is_one_event_and_ids_are_stable():
    p = EncounterParams()
    a = _pair(40.0, 133.0, hours=2.5)
    apart = _pair(40.0, 133.0, hours=2.0, sep_m=5000, t0=T0 + dt.timedelta(hours=2.75))
    b = _pair(40.0, 133.0, hours=2.5, t0=T0 + dt.timedelta(hours=5))  # back 2.5 h later
    c = _pair(40.0, 133.0, hours=2.5, t0=T0 + dt.timedelta(hours=14))  # 6.5 h later
    ev = detect_encounters(pa.concat_tables([a, apart, b, c]), p)
    assert ev.num_rows == 2
    first = ev.to_pylist()[0]
    assert first["start_ts"] == T0 and first["end_ts"] == T0 + dt.timedelta(hours=7.5)
    assert json.loads(first["attrs"])["runs"] == 2
    shuffled = pa.concat_tables([c, apart, a, b])
    again = detect_encounters(shuffled.take(
        pa.array(np.random.default_rng(1).permutation(shuffled.num_rows))), p)
    assert again["event_id"].to_pylist() == ev["event_id"].to_pylist()
    assert ev.schema == EVENTS
    assert all(e["type"] == "encounter" and e["mmsi"] < e["other_mmsi"] for e in ev.to_pylist())


def test_ships_that_go_dark_together_stay_one_encounter():
    p = EncounterParams()
    pos = _pair(40.0, 133.0, hours=5.0)
    ts = pos["ts"].cast(pa.int64()).to_numpy() / 1e6
    t0 = ts.min()
    dark = (ts > t0 + 1.5 * 3600) & (ts < t0 + 4.0 * 3600)  # 2.5 h without AIS, both ships
    ev = detect_encounters(pos.filter(pa.array(~dark)), p)
    assert ev.num_rows == 1
    assert json.loads(ev["attrs"][0].as_py())["duration_hours"] == pytest.approx(5.0)


def test_many_vessels_far_apart_are_not_compared():
    # 400 vessels on a 2 km lattice: no pairs, and bucket rows stay linear in the points
    rng = np.random.default_rng(0)
    n = 400
    lat0 = 40.0 + (np.arange(n) // 20) * 0.02
    lon0 = 133.0 + (np.arange(n) % 20) * 0.03
    ts = [T0 + dt.timedelta(minutes=10 * i) for i in range(20)]
    pos = _positions(np.repeat(np.arange(n) + 273000000, 20), ts * n,
                     np.repeat(lat0, 20) + rng.normal(0, 1e-5, 20 * n), np.repeat(lon0, 20))
    p = EncounterParams()
    b = encounter_buckets(resample_positions(pos, p.resample), p)
    assert b.num_rows <= 4 * 20 * n
    assert adjacent_pairs(b, p).num_rows == 0


def test_meetings_near_a_port_are_not_encounters_and_the_nearest_port_is_recorded():
    from corridor.places import PlaceIndex

    places = PlaceIndex.from_arrow(pa.table({
        "place_id": ["port-a"], "name": ["A"], "kind": ["port"], "lat": [40.0], "lon": [133.0],
        "radius_m": pa.array([None], pa.float64())}))
    p = EncounterParams()
    in_port = _pair(40.0 + 5000 / 111195, 133.0)  # 5 km north of the port
    offshore = _pair(40.0 + 15000 / 111195, 133.0, mmsis=(273000003, 273000004))
    ev = detect_encounters(pa.concat_tables([in_port, offshore]), p, places)
    assert ev["mmsi"].to_pylist() == [273000003]
    attrs = json.loads(ev["attrs"][0].as_py())
    assert attrs["nearest_port_id"] == "port-a"
    assert attrs["nearest_port_m"] == pytest.approx(15000, abs=100)
    # without places the filter is skipped
    assert detect_encounters(pa.concat_tables([in_port, offshore]), p, None).num_rows == 2


def _queue(lat: float, lon: float, ships: int = 6, hours: float = 6.0) -> pa.Table:
    """Ships waiting at anchor in a row, 200 m apart east-west, still for hours."""
    parts = [_pair(lat, lon + i * 200 / (111195 * math.cos(math.radians(lat))), hours=hours,
                   sep_m=200, mmsis=(273000100 + 2 * i, 273000101 + 2 * i)) for i in range(ships // 2)]
    return pa.concat_tables(parts)


def test_ships_queued_in_a_named_anchorage_are_not_encounters_with_the_gazetteer():
    """Ships waiting side by side in an anchorage are close and slow for hours, but they are not
    meeting at sea: with the gazetteer's ports and anchorages the port filter removes them, while
    the same queue far out at sea stays a set of encounters."""
    from corridor.places import PlaceIndex, gazetteer_table

    gaz = gazetteer_table()
    anchorages = gaz.filter(pc.equal(gaz["kind"], "anchorage")).sort_by("place_id")
    assert anchorages.num_rows > 1000
    ports = PlaceIndex.from_arrow(gaz.filter(pc.is_in(gaz["kind"], pa.array(["port", "anchorage"]))))
    p = EncounterParams()
    at_anchor = _queue(anchorages["lat"][0].as_py(), anchorages["lon"][0].as_py())
    without = detect_encounters(at_anchor, p, None)
    assert without.num_rows >= 2  # neighbours in the row, side by side for 6 h
    _, d = ports.nearest(without["lat"].to_numpy(), without["lon"].to_numpy(), 50_000.0)
    assert (d < p.min_port_distance_m).all()  # every one lies inside the anchorage area
    assert detect_encounters(at_anchor, p, ports).num_rows == 0
    at_sea = _queue(-20.0, -20.0)  # South Atlantic, over 1,000 km from any port
    assert detect_encounters(at_sea, p, ports).num_rows == without.num_rows


def test_port_filter_gives_the_same_events_with_or_without_the_bucket_prefilter():
    """Engines that bucket without places (Spark) get the same events as the local engine."""
    from corridor.places import PlaceIndex

    places = PlaceIndex.from_arrow(pa.table({
        "place_id": ["port-a"], "name": ["A"], "kind": ["port"], "lat": [40.0], "lon": [133.0],
        "radius_m": pa.array([None], pa.float64())}))
    p = EncounterParams()
    # a meeting that drifts north across the 10 km line: from 7 km to about 14 km
    pos = _pair(40.0 + 7000 / 111195, 133.0, hours=4.0, speed_kn=1.0)
    grid = resample_positions(pos, p.resample)
    local = detect_encounters(pos, p, places)
    spark_like = encounters_from_pairs(adjacent_pairs(encounter_buckets(grid, p), p), p, places)
    assert local.num_rows == 1 and local.equals(spark_like)
    assert local["start_ts"][0].as_py() > T0 + dt.timedelta(hours=1)  # starts at the 10 km line


def test_real_case_through_ingest_and_the_pipeline_gives_the_detector_s_encounter(
        series, expected, tmp_path):
    """The Mozambique Channel meeting ingested as a positions CSV and detected by
    ``Workspace.detect`` with GFW's parameters: the same encounter as the detector
    (07:40-20:10, GFW's merged event), the same id and evidence."""
    import corridor
    from corridor.detect.params import DetectParams

    obs = series("real")
    assert obs.num_rows == 346
    path = tmp_path / "real.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["mmsi", "timestamp", "lat", "lon"])
        for r in obs.to_pylist():
            w.writerow([r["mmsi"], r["ts"].isoformat() + "Z", repr(r["lat"]), repr(r["lon"])])
    with corridor.open(tmp_path / "ws.duckdb") as ws:
        (summary,) = ws.ingest_positions([path])
        assert summary.status == "done"
        ws.detect(params=DetectParams(encounter=GFW))
        got = ws.events(["encounter"]).to_pylist()
    (want,) = detect_encounters(obs, GFW).to_pylist()
    gfw = expected["real"]["expected_merged"][0]
    assert len(got) == 1
    e = got[0]
    assert (e["start_ts"], e["end_ts"]) == (want["start_ts"], want["end_ts"])
    assert (e["start_ts"], e["end_ts"]) == (_iso(gfw["start_time"]), _iso(gfw["end_time"]))
    assert (e["mmsi"], e["other_mmsi"], e["event_id"]) == (want["mmsi"], want["other_mmsi"],
                                                          want["event_id"])
