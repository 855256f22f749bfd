"""Stage 1: everything a reconstruction reads, from the store only.

AIS events (``port_visit``, ``gap``, ``voyage``; there may be none), sightings, rail
observations, vessels, watchlist rows, claims, sources, and the corridor's places with the
analyst's notes on them (``case_places``, written when a case is loaded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from corridor.corridors.model import Corridor
from corridor.corridors.params import ReconstructParams
from corridor.identity import VesselResolver
from corridor.store import Store


@dataclass(frozen=True)
class Inputs:
    """What the store holds for one corridor (rows as dicts, as DuckDB returns them).

    ``warnings`` is the one list the stages append to (what could not be used and why).
    """

    corridor: Corridor
    params: ReconstructParams
    places: dict[str, dict[str, Any]]
    place_notes: dict[str, dict[str, Any]]
    vessels: pa.Table
    resolver: VesselResolver
    sightings: list[dict[str, Any]]
    events: list[dict[str, Any]]
    rail: list[dict[str, Any]]
    watchlist: list[dict[str, Any]]
    claims: list[dict[str, Any]]
    sources: dict[str, dict[str, Any]]
    reports: dict[str, dict[str, Any]]
    warnings: list[str]
    #: report_id → the source tag given to an ingested report (``S<n>``)
    report_tags: dict[str, str]


def window(c: Corridor) -> tuple[datetime, datetime]:
    """The corridor's window as ``[start day 00:00, end day + 1 00:00)``."""
    return (datetime(c.window_start.year, c.window_start.month, c.window_start.day),
            datetime(c.window_end.year, c.window_end.month, c.window_end.day) + timedelta(days=1))


def _has_table(store: Store, name: str) -> bool:
    return bool(store.query("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = ?",
                            [name]).to_pylist()[0]["n"])


def load_inputs(store: Store, corridor: Corridor, params: ReconstructParams) -> Inputs:
    """Read everything the reconstruction needs from the store."""
    w0, w1 = window(corridor)
    warnings: list[str] = []
    ids = corridor.place_ids
    ph = ",".join("?" * len(ids))
    places = {r["place_id"]: r for r in store.query(
        f"SELECT place_id, name, kind, country, lat, lon, radius_m, aliases, precision, source "
        f"FROM places WHERE place_id IN ({ph})", ids).to_pylist()}
    notes: dict[str, dict] = {}
    if corridor.case and _has_table(store, "case_places"):
        notes = {r["place_id"]: r for r in store.query(
            f"SELECT * FROM case_places WHERE collection = ? AND place_id IN ({ph})",
            [corridor.case, *ids]).to_pylist()}
    for pid in ids:
        row = notes.get(pid)
        if pid in places:
            continue
        if row and row.get("lat") is not None and row.get("lon") is not None:
            # the case's own sourced coordinate, used for matching
            places[pid] = {"place_id": pid, "name": row["name"], "kind": row["kind"],
                           "country": row.get("country"), "lat": row["lat"], "lon": row["lon"],
                           "radius_m": row.get("radius_m"), "aliases": row.get("aliases") or [],
                           "precision": row.get("precision"),
                           "source": "".join(f"[{t}]" for t in row.get("sources") or [])}
        else:
            warnings.append(f"node {pid!r} is not in the places table: no coordinate, nothing "
                            "can be matched to it by position (load the case or a gazetteer)")
    vessels = store.query("SELECT * FROM vessels ORDER BY vessel_id")
    observed = corridor.data != "simulated"
    cargo_join = ("LEFT JOIN (SELECT sighting_id, unit AS count_unit, vessels AS count_vessels "
                  "FROM sighting_cargo) USING (sighting_id) "
                  if _has_table(store, "sighting_cargo") else "")
    sightings = store.query(
        f"SELECT * FROM sightings {cargo_join}WHERE ts_end >= ? AND ts_start < ? "
        "ORDER BY ts_start, sighting_id", [w0, w1]).to_pylist() if observed else []
    sim_filter = {
        "real": " AND (mmsi IS NULL OR mmsi NOT IN (SELECT DISTINCT mmsi FROM positions "
                "WHERE source = 'simulated'))",
        "simulated": " AND mmsi IN (SELECT DISTINCT mmsi FROM positions WHERE source = 'simulated')",
        "all": "",
    }[corridor.data]
    events = store.query(
        "SELECT event_id, type, mmsi, start_ts, end_ts, lat, lon, place_id, from_place_id, "
        "to_place_id, attrs FROM events WHERE type IN ('port_visit', 'gap', 'voyage') "
        "AND coalesce(end_ts, start_ts) >= ? AND start_ts < ?" + sim_filter
        + " ORDER BY start_ts, event_id", [w0, w1]).to_pylist()
    rail = store.query(
        f"SELECT * FROM rail_observations WHERE place_id IN ({ph}) "
        "ORDER BY obs_date, place_id, rail_obs_id", ids).to_pylist() if observed else []
    watchlist = store.query("SELECT * FROM watchlist ORDER BY entity_id").to_pylist()
    claims = store.query("SELECT * FROM claims ORDER BY claim_id").to_pylist()
    sources: dict[str, dict] = {}
    coll = [corridor.case] if corridor.case else []
    for r in store.query("SELECT * FROM sources ORDER BY collection, tag").to_pylist():
        if r["tag"] not in sources or r["collection"] in coll:
            sources[r["tag"]] = r
    reports = {r["report_id"]: r for r in store.query(
        "SELECT report_id, title, publisher, published, url, path FROM reports "
        "ORDER BY published NULLS LAST, report_id").to_pylist()}
    report_tags = _report_tags(reports, sources)
    return Inputs(corridor, params, places, notes, vessels, VesselResolver.from_arrow(vessels),
                  sightings, events, rail, watchlist, claims, sources, reports, warnings,
                  report_tags)


def _report_tags(reports: dict[str, dict], sources: dict[str, dict]) -> dict[str, str]:
    """A source tag ``S<n>`` for every ingested report, numbered after the highest tag of the
    sources lists (in publication order, so the same store gives the same tags), and its row
    added to ``sources``: claims extracted from a report then cite it like any other source."""
    nums = [int(m.group(1)) for t in sources if (m := re.match(r"S(\d+)", t))]
    n = max(nums, default=0)
    tags: dict[str, str] = {}
    for rid, r in reports.items():
        n += 1
        tag = f"S{n}"
        tags[rid] = tag
        pub = r["published"].isoformat() if r.get("published") else None
        title = r.get("title") or (r.get("path") or "").rsplit("/", 1)[-1] or None
        sources[tag] = {
            "collection": "reports", "tag": tag, "parent": None,
            "publisher": r.get("publisher"), "title": title, "date": pub, "url": r.get("url"),
            "other_urls": [], "marks": [],
            "citation": ", ".join(x for x in (r.get("publisher"), title and f"'{title}'", pub)
                                  if x) + f" (ingested report {rid})",
        }
    return tags
