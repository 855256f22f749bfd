"""Port visits against MovingPandas in-port stops on real AIS (MarineCadastre sample).

corridor's ``port_visit`` events (shipped gazetteer, default parameters) are compared
with the stops MovingPandas' ``TrajectoryStopDetector`` finds (``max_diameter`` 1 km,
``min_duration`` 15 min) that lie within the port-entry distance (3 km) of a place.
A stop "has a visit" when a port visit of the same MMSI overlaps it in time. Every
stop without a visit is put in one reason class (see :func:`_why`), so the remaining
differences are counted, not guessed.

Run: ``PYTHONPATH=src python bench/eval_port_visits.py [--data DIR] [--out FILE]``
(about a minute: MovingPandas' stop detector is a per-point Python loop).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

import corridor
from corridor.detect.params import PortVisitParams
from corridor.geo import haversine_m
from corridor.places import PlaceIndex

SAMPLE = "ais-positions/noaa-us-2022-01-03"
STOP_DIAMETER_M = 1000.0
STOP_MINUTES = 15


def _mpd_stops(positions: pa.Table) -> list[dict]:
    import geopandas as gpd
    import movingpandas as mpd
    import pandas as pd

    df = positions.select(["mmsi", "ts", "lat", "lon"]).to_pandas()
    df["ts"] = pd.to_datetime(df["ts"])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs="EPSG:4326")
    tc = mpd.TrajectoryCollection(gdf, "mmsi", t="ts")
    pts = mpd.TrajectoryStopDetector(tc).get_stop_points(
        max_diameter=STOP_DIAMETER_M, min_duration=timedelta(minutes=STOP_MINUTES))
    return [{"mmsi": int(r.traj_id), "start": r.start_time, "end": r.end_time,
             "lat": r.geometry.y, "lon": r.geometry.x} for r in pts.itertuples()]


def _why(stop: dict, pos: pa.Table, marks: dict[int, str], pv: PortVisitParams,
         places: PlaceIndex) -> str:
    """Why a MovingPandas in-port stop has no port visit: the first reason that holds."""
    sel = pos.filter(pa.array(
        (pos["mmsi"].to_numpy() == stop["mmsi"])
        & (pos["ts"].cast(pa.int64()).to_numpy() >= _us(stop["start"]))
        & (pos["ts"].cast(pa.int64()).to_numpy() <= _us(stop["end"]))))
    obs = sel["obs_id"].to_pylist()
    kept = [o for o in obs if marks.get(o) not in ("duplicate", "invalid_position", "noise_segment")]
    if len(kept) < 2:
        return "fewer than 2 kept fixes in the stop (duplicates / noise segment)"
    near, _ = places.nearest(sel["lat"].to_numpy(), sel["lon"].to_numpy(), pv.entry_distance_m)
    if int((np.asarray(near) >= 0).sum()) < 2:
        return (f"fewer than 2 fixes within {pv.entry_distance_m / 1000:g} km of a place "
                "(the stop's centre is, its fixes are not)")
    sog = np.array([np.nan if s is None else s for s in sel["sog"].to_pylist()], float)
    if np.isfinite(sog).any() and np.nanmin(sog) >= pv.stop_begin_speed_knots:
        return (f"reported SOG never below {pv.stop_begin_speed_knots} kn (no stop) and "
                "no entry/exit seen: GFW confidence 1, not published")
    in_port = np.asarray(near) >= 0
    slow = np.isfinite(sog) & (sog < pv.stop_begin_speed_knots)
    if not (slow & in_port).any():
        return (f"below {pv.stop_begin_speed_knots} kn only at fixes beyond "
                f"{pv.entry_distance_m / 1000:g} km of the place (no stop in port)")
    if int((slow & in_port).sum()) < 2 and int(in_port.sum()) >= 2:
        return "one stopped fix in port, the others moving: GFW confidence 1 or a snapshot"
    return "other"


def _us(t) -> int:
    return int(np.datetime64(t, "us").astype(np.int64))


def run(data: Path, stops_cache: Path | None = None) -> dict:
    files = sorted((data / SAMPLE).glob("*.parquet"))
    assert files, f"no parquet under {data / SAMPLE}"
    with tempfile.TemporaryDirectory() as tmp:
        ws = corridor.open(Path(tmp) / "pv.duckdb")
        ws.init()
        ws.ingest_positions(files)
        t0 = time.perf_counter()
        ws.detect()
        det_s = time.perf_counter() - t0
        pos = ws.query("SELECT obs_id, mmsi, ts, lat, lon, sog FROM positions ORDER BY mmsi, ts")
        visits = ws.events(["port_visit"])
        marks_t = ws.query("SELECT obs_id, mark FROM position_marks")
        places = PlaceIndex.from_store(ws.store)
        ws.close()
    marks = dict(zip(marks_t["obs_id"].to_pylist(), marks_t["mark"].to_pylist(), strict=True))
    pv = PortVisitParams()
    t0 = time.perf_counter()
    if stops_cache is not None and stops_cache.is_file():
        stops = [dict(s, start=np.datetime64(s["start"]), end=np.datetime64(s["end"]))
                 for s in json.loads(stops_cache.read_text())]
    else:
        stops = _mpd_stops(pos)
        if stops_cache is not None:
            stops_cache.write_text(json.dumps(stops, default=str))
    mpd_s = time.perf_counter() - t0
    lat = np.array([s["lat"] for s in stops])
    lon = np.array([s["lon"] for s in stops])
    near, _ = places.nearest(lat, lon, pv.entry_distance_m)
    in_port = [s for s, k in zip(stops, np.asarray(near), strict=True) if k >= 0]
    by_mmsi: dict[int, list[tuple[int, int]]] = {}
    for v in visits.to_pylist():
        by_mmsi.setdefault(v["mmsi"], []).append((_us(v["start_ts"]), _us(v["end_ts"])))
    matched, reasons, other = 0, Counter(), []
    for s in in_port:
        a, b = _us(s["start"]), _us(s["end"])
        if any(x <= b and y >= a for x, y in by_mmsi.get(s["mmsi"], [])):
            matched += 1
        else:
            why = _why(s, pos, marks, pv, places)
            reasons[why] += 1
            if why == "other":
                other.append(f"{s['mmsi']} {s['start']}..{s['end']}")
    # the other way round: visits no MovingPandas in-port stop overlaps, and why
    stops_by: dict[int, list[tuple[int, int]]] = {}
    for st in in_port:
        stops_by.setdefault(st["mmsi"], []).append((_us(st["start"]), _us(st["end"])))
    ts_all = pos["ts"].cast(pa.int64()).to_numpy()
    m_all = pos["mmsi"].to_numpy()
    lat_all, lon_all = pos["lat"].to_numpy(), pos["lon"].to_numpy()
    lone = Counter()
    for v in visits.to_pylist():
        a, b = _us(v["start_ts"]), _us(v["end_ts"])
        if any(x <= b and y >= a for x, y in stops_by.get(v["mmsi"], [])):
            continue
        sel = (m_all == v["mmsi"]) & (ts_all >= a) & (ts_all <= b)
        if b - a < STOP_MINUTES * 60e6:
            lone[f"visit spans less than {STOP_MINUTES} min (MovingPandas' minimum)"] += 1
        elif sel.any() and float(haversine_m(lat_all[sel].min(), lon_all[sel].min(),
                                             lat_all[sel].max(), lon_all[sel].max())) > \
                STOP_DIAMETER_M:
            lone[f"fixes spread over more than {STOP_DIAMETER_M / 1000:g} km"] += 1
        else:
            lone["other"] += 1
    return {
        "visits_without_mpd_stop": dict(lone.most_common()),
        "positions": pos.num_rows,
        "vessels": len(set(pos["mmsi"].to_pylist())),
        "port_visits": visits.num_rows,
        "port_visits_open": sum(json.loads(a)["open"] for a in visits["attrs"].to_pylist()),
        "mpd_stops": len(stops),
        "mpd_stops_in_port": len(in_port),
        "mpd_in_port_with_visit": matched,
        "unmatched_reasons": dict(reasons.most_common()),
        "unmatched_other": other,
        "detect_s": round(det_s, 1),
        "mpd_s": round(mpd_s, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / "tests/data")
    ap.add_argument("--out", type=Path, default=None, help="write the numbers as JSON here")
    ap.add_argument("--stops-cache", type=Path, default=None,
                    help="MovingPandas stops saved here, read back if present (saves minutes)")
    args = ap.parse_args()
    res = run(args.data, args.stops_cache)
    print(json.dumps(res, indent=2, default=str))
    if args.out:
        args.out.write_text(json.dumps(res, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
