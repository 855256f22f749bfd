"""``corridor report``: gather a corridor's reconstruction and AIS from the store, write a file.

:func:`write_report` is what the CLI calls. Formats:

- ``html``: the self-contained report (:func:`corridor.report.html.render_html`);
- ``geojson``: nodes, legs, shipments and calls for GIS (QGIS opens it directly);
- ``pdf`` / ``png``: the HTML printed (A4) or captured by headless Chromium, if installed.

AIS drawn on the maps comes from the ``positions`` and ``events`` tables: tracks and dark
gaps of the corridor's vessels whose MMSI is known, and, separately, every simulated vessel
(``positions.source = 'simulated'``), which only the "Simulated scenario" section shows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corridor import __version__
from corridor.progress import Progress
from corridor.report.html import Provenance, Simulated, fmt_day, render_html
from corridor.report.map import MapTrack
from corridor.report.text import at
from corridor.scratch import scratch_dir
from corridor.store import Store

FORMATS = ("html", "pdf", "png", "geojson")
SIM_SOURCE = "simulated"
#: Where the report looks for a Chromium binary (first that exists wins).
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
TRACK_COLORS = ("#1f6f8b", "#7b3294", "#008837", "#c51b7d", "#4d4d4d", "#b35806")


class ReportError(RuntimeError):
    """A report that cannot be written (unknown format, no browser for PDF/PNG, ...)."""


@dataclass(frozen=True)
class TrackParams:
    """How much AIS the maps draw: at most ``max_points_per_vessel`` points per vessel."""

    max_points_per_vessel: int = 3000


def _rows(store: Store, sql: str, params: list | None = None) -> list[dict]:
    return store.query(sql, params or []).to_pylist()


def _has_rows(store: Store, table: str) -> bool:
    try:
        return store.count(table) > 0
    except Exception:  # noqa: BLE001 - a table missing from an older file is simply empty
        return False


def vessel_tracks(store: Store, mmsis: list[int], params: TrackParams = TrackParams(),
                  source: str | None = None) -> tuple[list[MapTrack], list[dict]]:
    """Tracks (thinned to ``params.max_points_per_vessel``) and gap items for ``mmsis``.

    Returns map tracks (with the gap jumps drawn between the last position before and the
    first after each gap) and timeline gap items ``{"lane_id", "start", "end", "title"}``
    (``lane_id`` is the MMSI as text).
    """
    if not mmsis or not _has_rows(store, "positions"):
        return [], []
    tracks, gap_items = [], []
    for k, mmsi in enumerate(sorted(set(int(m) for m in mmsis))):
        where = "mmsi = ?" + (" AND source = ?" if source else "")
        args: list = [mmsi] + ([source] if source else [])
        n = store.query(f"SELECT count(*) AS n FROM positions WHERE {where}", args).to_pylist()[0]["n"]
        if not n:
            continue
        step = max(1, -(-n // params.max_points_per_vessel))
        pts = store.query(
            f"SELECT lon, lat, ts FROM (SELECT lon, lat, ts, row_number() OVER (ORDER BY ts) AS i,"
            f" count(*) OVER () AS n FROM positions WHERE {where}) "
            "WHERE i % ? = 0 OR i = 1 OR i = n ORDER BY ts",
            args + [step]).to_pylist()
        gaps, breaks = [], []
        for g in _rows(store, "SELECT start_ts, end_ts, attrs FROM events WHERE type = 'gap' "
                              "AND mmsi = ? ORDER BY start_ts", [mmsi]):
            ends = _rows(store, "SELECT ts, lon, lat FROM positions WHERE mmsi = ? AND ts IN (?, ?)"
                                " ORDER BY ts", [mmsi, g["start_ts"], g["end_ts"]])
            hours = ((g["end_ts"] - g["start_ts"]).total_seconds() / 3600
                     if g["end_ts"] else None)
            label = (f"AIS gap, MMSI {mmsi}: {fmt_day(g['start_ts'])} – "
                     f"{fmt_day(g['end_ts'])}" + (f" ({hours:.0f} h dark)" if hours else ""))
            if len(ends) >= 2:
                gaps.append(((ends[0]["lon"], ends[0]["lat"]), (ends[-1]["lon"], ends[-1]["lat"]),
                             label))
            if g["end_ts"]:
                breaks += [i for i in range(1, len(pts)) if pts[i - 1]["ts"] <= g["start_ts"]
                           and pts[i]["ts"] >= g["end_ts"]]
                gap_items.append({"lane_id": str(mmsi), "start": g["start_ts"],
                                  "end": g["end_ts"], "title": label})
        tracks.append(MapTrack(f"AIS track, MMSI {mmsi} ({n:,} positions)",
                               tuple((p["lon"], p["lat"]) for p in pts), tuple(gaps),
                               TRACK_COLORS[k % len(TRACK_COLORS)], tuple(sorted(set(breaks)))))
    return tracks, gap_items


def simulated_content(store: Store, sim_recon: dict | None = None,
                      params: TrackParams = TrackParams()) -> Simulated | None:
    """What the "Simulated scenario" section shows, or ``None`` if the store holds none."""
    if not _has_rows(store, "positions"):
        return None
    stats = _rows(store, "SELECT count(*) AS n, count(DISTINCT mmsi) AS v FROM positions "
                         "WHERE source = ?", [SIM_SOURCE])[0]
    if not stats["n"] and not sim_recon:
        return None
    mmsis = [r["mmsi"] for r in _rows(store, "SELECT DISTINCT mmsi FROM positions WHERE source = ?"
                                             " ORDER BY mmsi", [SIM_SOURCE])]
    tracks, _ = vessel_tracks(store, mmsis[:12], params, source=SIM_SOURCE)
    events = []
    if mmsis:
        events = _rows(store, "SELECT type, mmsi, start_ts, end_ts, place_id, from_place_id, "
                              "to_place_id FROM events WHERE mmsi IN (SELECT DISTINCT mmsi FROM "
                              "positions WHERE source = ?) ORDER BY start_ts, mmsi, type",
                       [SIM_SOURCE])
    note = "" if len(mmsis) <= 12 else f"The map draws the first 12 of {len(mmsis)} vessels."
    return Simulated(tracks, events, sim_recon, note, int(stats["n"]), int(stats["v"]))


def ais_summary(store: Store, recon: dict) -> str:
    """One sentence on the AIS in the store and whether any of it is the corridor's vessels."""
    if not _has_rows(store, "positions"):
        return "The store holds no AIS positions."
    real = _rows(store, "SELECT count(*) AS n, count(DISTINCT mmsi) AS v FROM positions "
                        "WHERE source IS DISTINCT FROM ?", [SIM_SOURCE])[0]
    known = [v for v in at(recon, "vessels", []) if at(v, "mmsi")]
    if not real["n"]:
        return ("The store holds no real AIS positions"
                + (" (only the simulated ones of the separate section)" if _rows(
                    store, "SELECT count(*) AS n FROM positions WHERE source = ?",
                    [SIM_SOURCE])[0]["n"] else "") + ".")
    if not known:
        return (f"The store holds {real['n']:,} real AIS positions from {real['v']:,} vessels, "
                "but no source gives an MMSI for any of this corridor's vessels, so no track can "
                "be drawn for them: the case rests on imagery, not AIS (the ships ran dark).")
    return (f"The store holds {real['n']:,} real AIS positions from {real['v']:,} vessels; "
            f"tracks are drawn for {len(known)} corridor vessel(s) with a known MMSI.")


def split_simulated(recon: dict, sim_mmsis: set[int], sim_event_ids: set[str]
                    ) -> tuple[dict, dict | None]:
    """Move shipments and calls that rest on simulated AIS out of ``recon``.

    Returns ``(real, simulated)``: ``simulated`` has the same shape with only those rows (or
    is ``None`` when there are none), and ``real`` gains a warning naming any estimate that
    summed a simulated shipment.

    >>> real, sim = split_simulated({"shipments": [{"shipment_id": "a", "mmsi": 100000001},
    ...                                            {"shipment_id": "b", "mmsi": None}]},
    ...                             {100000001}, set())
    >>> [s["shipment_id"] for s in real["shipments"]], [s["shipment_id"] for s in sim["shipments"]]
    (['b'], ['a'])
    """
    def is_sim(row: dict) -> bool:
        if at(row, "mmsi") is not None and int(row["mmsi"]) in sim_mmsis:
            return True
        ids = [at(e, "id") if not isinstance(e, str) else e for e in at(row, "evidence") or []]
        return any(i in sim_event_ids for i in ids)

    ships = at(recon, "shipments") or []
    calls = at(recon, "calls") or []
    sim_ships = [x for x in ships if is_sim(x)]
    sim_calls = [x for x in calls if is_sim(x)]
    if not sim_ships and not sim_calls:
        return recon, None
    real = dict(recon)
    real["shipments"] = [x for x in ships if not is_sim(x)]
    real["calls"] = [x for x in calls if not is_sim(x)]
    bad = {x["shipment_id"] for x in sim_ships}
    warns = list(at(recon, "warnings") or [])
    for e in at(recon, "estimates") or []:
        if bad & set(at(e, "shipment_ids") or []):
            warns.append(f"estimate {at(e, 'estimate_id')} sums shipments reconstructed from "
                         "simulated AIS; they are shown only in the simulated section")
    real["warnings"] = warns
    sim = {k: v for k, v in recon.items() if k not in ("shipments", "calls", "claims",
                                                       "estimates")}
    sim.update(shipments=sim_ships, calls=sim_calls, claims=[], estimates=[])
    return real, sim


#: tables whose rows say when something was done, not what the store holds
FINGERPRINT_SKIP = ("ingest_log", "schema_version", "shipments")


def store_fingerprint(store: Store) -> str:
    """SHA-256 over the store's content: for every table (name order) its row count and an
    order-independent combination of the MD5 of each row's text.

    Two stores holding the same rows give the same fingerprint whatever the order or time
    they were loaded in. Of the ingest log only the content hashes of the files stored count
    (not times or local paths); the derived ``shipments`` rows do not count. Returned as
    ``sha256:<64 hex digits>``.
    """
    import hashlib

    h = hashlib.sha256()
    tables = sorted(r["table_name"] for r in _rows(
        store, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
               " AND table_type = 'BASE TABLE'"))
    for t in tables:
        if t in FINGERPRINT_SKIP:
            continue
        row = _rows(store, f'SELECT count(*) AS n, coalesce(bit_xor(md5_number(CAST(x AS VARCHAR)))'
                           f', 0)::VARCHAR AS x FROM "{t}" AS x')[0]
        h.update(f"{t}\t{row['n']}\t{row['x']}\n".encode())
    if "ingest_log" in tables:
        for r in _rows(store, "SELECT DISTINCT kind, content_sha256 FROM ingest_log WHERE "
                              "status = 'done' ORDER BY kind, content_sha256"):
            h.update(f"file\t{r['kind']}\t{r['content_sha256']}\n".encode())
    return "sha256:" + h.hexdigest()


def as_dict(recon: Any) -> dict:
    """The reconstruction as its ``corridor.reconstruction/1`` JSON object: a dict passes
    through, a typed reconstruction gives its ``to_dict()`` (or ``to_json()``)."""
    if isinstance(recon, dict):
        return recon
    for name in ("to_dict", "to_json"):
        if hasattr(recon, name):
            return getattr(recon, name)()
    raise TypeError(f"not a reconstruction: {type(recon).__name__}")


def build_html(store: Store, recon: dict, sim_recon: dict | None = None,
               params: TrackParams = TrackParams(), sim_scores: list[dict] | None = None,
               generated_at: str | None = None) -> str:
    """The HTML report for a reconstruction, with AIS from ``store`` (read only).

    ``sim_scores``: detection scores against the simulator's truth (rows with type, truth,
    detected, matched, precision, recall), shown in the simulated section.
    ``generated_at`` (UTC ISO text) defaults to now.
    """
    recon = as_dict(recon)
    if sim_recon is not None:
        sim_recon = as_dict(sim_recon)
    sim_mmsis: set[int] = set()
    sim_events: set[str] = set()
    if _has_rows(store, "positions"):
        sim_mmsis = {r["mmsi"] for r in _rows(
            store, "SELECT DISTINCT mmsi FROM positions WHERE source = ?", [SIM_SOURCE])}
    if sim_mmsis and _has_rows(store, "events"):
        sim_events = {r["event_id"] for r in _rows(
            store, "SELECT event_id FROM events WHERE mmsi IN (SELECT DISTINCT mmsi FROM "
                   "positions WHERE source = ?)", [SIM_SOURCE])}
    recon, moved = split_simulated(recon, sim_mmsis, sim_events)
    if sim_recon is None:
        sim_recon = moved
    sim = simulated_content(store, sim_recon, params)
    if sim is not None and sim_scores:
        sim.scores = list(sim_scores)
    mmsis = [int(v["mmsi"]) for v in at(recon, "vessels", [])
             if at(v, "mmsi") and int(v["mmsi"]) not in sim_mmsis]
    mmsis += [int(s["mmsi"]) for s in at(recon, "shipments", [])
              if at(s, "mmsi") and int(s["mmsi"]) not in sim_mmsis]
    tracks, gap_items = vessel_tracks(store, mmsis, params)
    lane_of = {str(v["mmsi"]): v["vessel_id"] for v in at(recon, "vessels", []) if at(v, "mmsi")}
    gaps = [dict(g, lane_id=lane_of.get(g["lane_id"], g["lane_id"])) for g in gap_items]
    if generated_at is None:
        from datetime import datetime, timezone

        generated_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    prov = Provenance(__version__, generated_at, store_fingerprint(store))
    from corridor.report.imagery import imagery_views, source_files

    nodes = {at(n, "place_id") for n in at(recon, "nodes", [])}
    return render_html(recon, tracks, gaps, sim, ais_summary(store, recon), prov,
                       imagery_views(store, nodes), source_files(store))


def to_geojson(recon: dict) -> dict:
    """A FeatureCollection for GIS: nodes, legs, shipments and calls.

    Properties are flat (nested values as JSON text) because QGIS reads flat attributes.
    Features whose ends have no sourced coordinate keep ``geometry: null``.

    >>> fc = to_geojson({"nodes": [{"place_id": "a", "lat": 1.0, "lon": 2.0},
    ...                            {"place_id": "b", "lat": None, "lon": None}],
    ...                  "legs": [{"leg_id": "a-b", "from": "a", "to": "b", "mode": "sea"}]})
    >>> [(f["properties"]["feature"], f["geometry"] and f["geometry"]["type"]) for f in fc["features"]]
    [('node', 'Point'), ('node', None), ('leg', None)]
    """
    nodes = {n["place_id"]: n for n in at(recon, "nodes", [])}

    def pt(pid: str | None) -> list[float] | None:
        n = nodes.get(pid or "")
        if n and at(n, "lat") is not None and at(n, "lon") is not None:
            return [float(n["lon"]), float(n["lat"])]
        return None

    def flat(d: dict, feature: str) -> dict:
        out = {"feature": feature}
        for k, v in d.items():
            out[k] = json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
        return out

    def line(a: str | None, b: str | None) -> dict | None:
        pa_, pb = pt(a), pt(b)
        return {"type": "LineString", "coordinates": [pa_, pb]} if pa_ and pb else None

    feats = []
    for n in at(recon, "nodes", []):
        p = pt(n["place_id"])
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": p}
                      if p else None, "properties": flat(n, "node")})
    for leg in at(recon, "legs", []):
        feats.append({"type": "Feature", "geometry": line(at(leg, "from"), at(leg, "to")),
                      "properties": flat(leg, "leg")})
    for s in at(recon, "shipments", []):
        feats.append({"type": "Feature", "geometry": line(at(s, "from_place_id"),
                                                           at(s, "to_place_id")),
                      "properties": flat(s, "shipment")})
    for c in at(recon, "calls", []):
        p = pt(at(c, "place_id"))
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": p}
                      if p else None, "properties": flat(c, "call")})
    return {"type": "FeatureCollection", "name": at(at(recon, "corridor"), "id"),
            "features": feats}


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome binary, or ``None`` (``$CORRIDOR_CHROMIUM`` overrides)."""
    env = os.environ.get("CORRIDOR_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for c in CHROMIUM_CANDIDATES:
        if Path(c).exists():
            return c
    return shutil.which("chromium") or shutil.which("chromium-browser")


def print_with_chromium(html_path: Path, out: Path, fmt: str, timeout_s: float = 120.0) -> None:
    """Print ``html_path`` to PDF (A4, from the print CSS) or capture it as PNG."""
    exe = find_chromium()
    if exe is None:
        raise ReportError(
            f"--format {fmt} needs Chromium, which was not found (looked for "
            f"{', '.join(CHROMIUM_CANDIDATES)}; set CORRIDOR_CHROMIUM to its path, or install "
            "it: apt-get install chromium). The HTML report needs no browser: use --format html.")
    with scratch_dir("chromium") as profile:  # a fresh profile, swept if this run is killed
        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}"]
        if fmt == "pdf":
            args += ["--no-pdf-header-footer", f"--print-to-pdf={out.resolve()}"]
        else:
            args += ["--window-size=1280,2400", "--hide-scrollbars",
                     f"--screenshot={out.resolve()}"]
        args.append(html_path.resolve().as_uri())
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise ReportError(f"Chromium did not finish within {timeout_s:.0f} s") from exc
    if not out.exists() or out.stat().st_size == 0:
        raise ReportError(f"Chromium wrote no {fmt.upper()} (exit {proc.returncode}): "
                          f"{proc.stderr.strip()[-400:]}")


def write_report(store: Store, corridor: str, out: str | os.PathLike[str], fmt: str | None = None,
                 sim_corridor: str | None = None, progress: Progress | None = None,
                 recon: dict | None = None, sim_scores: list[dict] | None = None) -> Path:
    """Reconstruct ``corridor`` from ``store`` and write the report to ``out``.

    ``fmt`` defaults to the file's extension (``.html``, ``.pdf``, ``.png``, ``.geojson``).
    ``sim_corridor`` optionally names a corridor reconstructed from simulated AIS, shown in the
    simulated section. ``recon`` skips the reconstruction (an already computed JSON object).
    """
    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".") or "html").lower()
    if fmt == "json":
        fmt = "geojson"
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    say = progress or (lambda label, done, total: None)
    if recon is None:
        from corridor.corridors.reconstruct import reconstruct

        say("reconstruct", 0, 1)
        # the report reads the store and never writes to it (no saved shipments)
        recon = as_dict(reconstruct(store, corridor, save=False))
        say("reconstruct", 1, 1)
    recon = as_dict(recon)
    if fmt == "geojson":
        out.write_text(json.dumps(to_geojson(recon), ensure_ascii=False, indent=1, default=str))
        return out
    sim_recon = None
    if sim_corridor:
        from corridor.corridors.reconstruct import reconstruct

        sim_recon = as_dict(reconstruct(store, sim_corridor, save=False))
    say("render", 0, 1)
    html = build_html(store, recon, sim_recon, sim_scores=sim_scores)
    say("render", 1, 1)
    if fmt == "html":
        out.write_text(html, encoding="utf-8")
        return out
    with scratch_dir("report") as d:
        tmp = Path(d) / "report.html"
        tmp.write_text(html, encoding="utf-8")
        print_with_chromium(tmp, out, fmt)
    return out


__all__ = ["FORMATS", "ReportError", "TrackParams", "ais_summary", "as_dict", "build_html", "find_chromium",
           "print_with_chromium", "simulated_content", "split_simulated", "store_fingerprint",
           "to_geojson", "vessel_tracks", "write_report"]
