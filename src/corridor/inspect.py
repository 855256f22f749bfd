"""Look at what is stored: store statistics, one row per vessel, one vessel's track.

All functions return Arrow tables (render them with :func:`corridor.output.render`).
"""

from __future__ import annotations

import csv
from datetime import datetime
from functools import lru_cache
from importlib import resources

import pyarrow as pa

from corridor.store import Store


@lru_cache(maxsize=1)
def mid_countries() -> dict[int, str]:
    """MMSI prefix (Maritime Identification Digits) → country, from the bundled ITU list."""
    text = resources.files("corridor").joinpath("data", "reference", "mid.csv").read_text(encoding="utf-8")
    return {int(r["prefix"]): r["country"] for r in csv.DictReader(text.splitlines())}


def flag_from_mmsi(mmsi: int | None) -> str | None:
    """Country of an MMSI's MID (first three digits of a ship station's MMSI).

    >>> flag_from_mmsi(273123456)
    'Russian Federation'
    >>> flag_from_mmsi(445000001)
    "Democratic People's Republic of Korea"
    """
    if mmsi is None or not 200_000_000 <= mmsi <= 799_999_999:
        return None
    return mid_countries().get(mmsi // 1_000_000)


def stats(store: Store) -> pa.Table:
    """Row counts per table and the time span of positions; ingest outcomes."""
    rows = []
    for table in ("positions", "vessel_reports", "events", "places", "sightings",
                  "rail_observations", "watchlist", "reports", "claims", "shipments"):
        rows.append({"what": table, "value": f"{store.count(table):,}"})
    span = store.one("SELECT min(ts), max(ts), count(DISTINCT mmsi) FROM positions")
    if span and span[0] is not None:
        rows.append({"what": "positions from", "value": span[0].isoformat(sep=" ")})
        rows.append({"what": "positions to", "value": span[1].isoformat(sep=" ")})
        rows.append({"what": "vessels (MMSIs) with positions", "value": f"{span[2]:,}"})
    for status, n in store.con.execute(
        "SELECT status, count(*) FROM ingest_log GROUP BY status ORDER BY status"
    ).fetchall():
        rows.append({"what": f"files ingested: {status}", "value": f"{n:,}"})
    return pa.Table.from_pylist(rows)


def vessels(store: Store, limit: int | None = None) -> pa.Table:
    """One row per MMSI: latest reported name/IMO/call sign/type, MID flag, first/last seen, positions."""
    lim = f"LIMIT {int(limit)}" if limit else ""
    tbl = store.query(
        f"""
        WITH p AS (
            SELECT mmsi, count(*) AS positions, min(ts) AS first_seen, max(ts) AS last_seen
            FROM positions GROUP BY mmsi
        ), r AS (
            SELECT mmsi,
                   arg_max(name, ts) FILTER (WHERE name IS NOT NULL) AS name,
                   arg_max(imo, ts) FILTER (WHERE imo IS NOT NULL) AS imo,
                   arg_max(callsign, ts) FILTER (WHERE callsign IS NOT NULL) AS callsign,
                   arg_max(ship_type, ts) FILTER (WHERE ship_type IS NOT NULL) AS ship_type
            FROM vessel_reports GROUP BY mmsi
        )
        SELECT coalesce(p.mmsi, r.mmsi) AS mmsi, r.name, r.imo, r.callsign, r.ship_type,
               p.first_seen, p.last_seen, coalesce(p.positions, 0) AS positions
        FROM p FULL OUTER JOIN r ON p.mmsi = r.mmsi
        ORDER BY positions DESC, mmsi {lim}
        """
    )
    flags = pa.array([flag_from_mmsi(m) for m in tbl.column("mmsi").to_pylist()], pa.string())
    return tbl.add_column(5, "flag", flags)


def track(
    store: Store, mmsi: int, since: datetime | None = None, until: datetime | None = None
) -> pa.Table:
    """One vessel's positions in time order (with obs_id, so any figure can be traced back),
    each with its ``segment_id`` (null where a mark takes it out of detection or detection
    has not run) and its ``marks`` (comma-separated: duplicate, noise_segment, ...)."""
    sql = "SELECT p.obs_id, p.mmsi, p.ts, p.lat, p.lon, p.sog, p.cog, p.heading, " \
          "p.nav_status, p.msg_type, p.source, ps.segment_id, " \
          "array_to_string(ps.marks, ',') AS marks " \
          "FROM positions p JOIN position_segments ps ON ps.obs_id = p.obs_id " \
          "WHERE p.mmsi = ? AND ps.mmsi = ?"
    params: list = [mmsi, mmsi]
    if since:
        sql += " AND p.ts >= ? AND ps.ts >= ?"
        params += [since, since]
    if until:
        sql += " AND p.ts <= ? AND ps.ts <= ?"
        params += [until, until]
    return store.query(sql + " ORDER BY p.ts, p.obs_id", params)


def track_geojson(tbl: pa.Table) -> dict:
    """A track for QGIS: one LineString feature per segment, then every position as a
    point. Positions a mark takes out of detection (noise, duplicates) are in no line;
    positions not yet segmented (``corridor detect`` not run) form one line with a null
    ``segment_id``."""
    from corridor.output import to_geojson

    pts = to_geojson(tbl)
    mmsi = tbl.column("mmsi")[0].as_py() if tbl.num_rows else None
    seg_col = tbl.column("segment_id").to_pylist() if "segment_id" in tbl.column_names \
        else [None] * tbl.num_rows
    mark_col = tbl.column("marks").to_pylist() if "marks" in tbl.column_names \
        else [None] * tbl.num_rows
    lines: dict[str | None, list] = {}
    for seg, marks, f in zip(seg_col, mark_col, pts["features"], strict=True):
        if f["geometry"] is not None and (seg is not None or not marks):
            lines.setdefault(seg, []).append(f)
    features = []
    for seg in sorted(lines, key=lambda k: (lines[k][0]["properties"]["ts"], k or "")):
        fs = lines[seg]
        features.append({
            "type": "Feature",
            "geometry": {"type": "LineString",
                         "coordinates": [f["geometry"]["coordinates"] for f in fs]},
            "properties": {"mmsi": mmsi, "segment_id": seg, "positions": len(fs),
                           "start": fs[0]["properties"]["ts"], "end": fs[-1]["properties"]["ts"]},
        })
    return {"type": "FeatureCollection", "features": features + pts["features"]}
