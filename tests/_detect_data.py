"""Loaders shared by the detection tests: real tracks in the POSITIONS schema, tiny tracks."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import msgpack
import numpy as np
import pyarrow as pa
import shapely

from corridor.ids import position_obs_ids
from corridor.schema import POSITIONS

POSITION_TYPES = {1, 2, 3, 18, 19, 27}


def positions_table(mmsi, ts_us, lat, lon, sog=None, msg_type=None, nav_status=None) -> pa.Table:
    """A POSITIONS table from arrays (ts in microseconds since the epoch)."""
    n = len(ts_us)
    mmsi = np.broadcast_to(np.asarray(mmsi, dtype=np.int64), (n,))
    ts_us = np.asarray(ts_us, dtype=np.int64)
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    mt = np.ones(n, np.int64) if msg_type is None else np.asarray(msg_type, dtype=np.int64)
    return pa.table(
        {
            "obs_id": position_obs_ids(mmsi, ts_us, lat, lon, mt),
            "mmsi": mmsi,
            "ts": pa.array(ts_us, pa.int64()).cast(pa.timestamp("us")),
            "lat": lat,
            "lon": lon,
            "sog": pa.array(sog, pa.float32()) if sog is not None else pa.nulls(n, pa.float32()),
            "cog": pa.nulls(n, pa.float32()),
            "heading": pa.nulls(n, pa.int16()),
            "nav_status": pa.array(nav_status, pa.int8()) if nav_status is not None
            else pa.nulls(n, pa.int8()),
            "msg_type": pa.array(mt, pa.int8()),
            "source": pa.array(["test"] * n, pa.string()),
        },
        schema=POSITIONS,
    )


def hours(*h: float) -> np.ndarray:
    """Microseconds for hours after 2023-09-01T00:00Z."""
    base = np.datetime64("2023-09-01T00:00:00", "us").astype(np.int64)
    return base + (np.asarray(h, dtype=np.float64) * 3.6e9).astype(np.int64)


def _iso_us(text: str) -> int:
    return int(np.datetime64(text.rstrip("Z").replace(" ", "T"), "us").astype(np.int64))


def gpsdio_track(path: Path) -> tuple[pa.Table, list[dict]]:
    """Positions (and static reports as dicts) of a gpsdio msgpack.gz track."""
    rows, static = [], []
    with gzip.open(path) as fh:
        for r in msgpack.Unpacker(fh, raw=False):
            if r.get("type") in (5, 24):
                static.append(r)
            elif r.get("type") in POSITION_TYPES and r.get("lat") is not None \
                    and r.get("lon") is not None:
                rows.append(r)
    ts = np.array([_iso_us(r["timestamp"]) for r in rows])
    sog = [r.get("speed") if isinstance(r.get("speed"), (int, float)) else None for r in rows]
    t = positions_table(rows[0]["mmsi"], ts, [r["lat"] for r in rows], [r["lon"] for r in rows],
                        sog=sog, msg_type=[r["type"] for r in rows])
    return t, static


def gpsdio_json(path: Path) -> tuple[pa.Table, list[dict]]:
    """gpsdio-segment JSONL fixture rows as positions (obs_id = row number) and raw rows."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    ts = np.array([_iso_us(r["timestamp"]) for r in rows])
    t = positions_table(rows[0]["ssvid"], ts, [r["lat"] for r in rows], [r["lon"] for r in rows],
                        sog=[r.get("speed") for r in rows])
    t = t.set_column(0, "obs_id", pa.array(np.arange(len(rows)), pa.int64()))
    return t, rows


def boston(path: Path) -> dict[int, tuple[pa.Table, np.ndarray]]:
    """Boston 2014 GeoPackage: per MMSI, positions and the reported nav status per row."""
    con = sqlite3.connect(path)
    rows = con.execute(
        "SELECT mmsi, basedatetime, sog, status, geom FROM demodata_ais ORDER BY mmsi, basedatetime"
    ).fetchall()
    con.close()
    out = {}
    for m in sorted({r[0] for r in rows}):
        rs = [r for r in rows if r[0] == m]
        pts = []
        for r in rs:
            blob = bytes(r[4])
            flags = blob[3]
            env = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 7]
            pts.append(shapely.from_wkb(blob[8 + env:]))
        lon = np.array([p.x for p in pts])
        lat = np.array([p.y for p in pts])
        ts = np.array([_iso_us(r[1]) for r in rs])
        status = np.array([r[3] for r in rs])
        out[int(m)] = (positions_table(m, ts, lat, lon, sog=[r[2] for r in rs],
                                       nav_status=status), status)
    return out


NOAA_SAMPLE = "ais-positions/noaa-us-2022-01-03"


def noaa_track(data_dir: Path, mmsi: int) -> pa.Table:
    """One MMSI's rows of the real MarineCadastre sample (2022-01-03) as POSITIONS."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    files = sorted((data_dir / NOAA_SAMPLE).glob("*.parquet"))
    assert files, f"no MarineCadastre parquet under {data_dir / NOAA_SAMPLE}"
    t = pa.concat_tables(pq.read_table(f, columns=["MMSI", "BaseDateTime", "LAT", "LON", "SOG"])
                         for f in files)
    t = t.filter(pc.equal(t["MMSI"], mmsi))
    assert t.num_rows, f"MMSI {mmsi} not in the MarineCadastre sample"
    ts = np.array([_iso_us(x) for x in t["BaseDateTime"].to_pylist()])
    return positions_table(mmsi, ts, t["LAT"].to_numpy(), t["LON"].to_numpy(),
                           sog=t["SOG"].to_pylist())
