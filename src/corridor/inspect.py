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
    """One vessel's positions in time order (with obs_id, so any figure can be traced back)."""
    sql = "SELECT obs_id, mmsi, ts, lat, lon, sog, cog, heading, nav_status, msg_type, source " \
          "FROM positions WHERE mmsi = ?"
    params: list = [mmsi]
    if since:
        sql += " AND ts >= ?"
        params.append(since)
    if until:
        sql += " AND ts <= ?"
        params.append(until)
    return store.query(sql + " ORDER BY ts, obs_id", params)


def track_geojson(tbl: pa.Table) -> dict:
    """A track as one GeoJSON LineString feature plus its points (for QGIS)."""
    from corridor.output import to_geojson

    pts = to_geojson(tbl)
    coords = [f["geometry"]["coordinates"] for f in pts["features"]]
    line = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": {"mmsi": tbl.column("mmsi")[0].as_py() if tbl.num_rows else None,
                       "positions": tbl.num_rows},
    }
    return {"type": "FeatureCollection", "features": [line] + pts["features"]}
