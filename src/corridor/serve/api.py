"""The JSON API of ``corridor serve`` (documented at ``/api/openapi.json``).

Every route names the least role it needs through :func:`corridor.serve.auth.require`; reads
use the calling thread's own cursor, writes the single writer under the server's lock
(:class:`corridor.serve.db.Database`). Writes run the same code as the CLI: uploads call the
ingest functions with the uploaded file, sightings go through the sightings CSV parser, claims
through ``corridor claims add``, so the counts, skip reasons and messages are the CLI's. Every
write is recorded in the audit log; a correction must name the version it is based on
(``If-Match``), see :mod:`corridor.serve.audit`. Images (PNG, JPEG, WebP) attach to objects as
evidence; ``/api/detect`` turns uploaded AIS into events.

64-bit ids (``obs_id``, evidence lists) are sent as strings: JavaScript numbers hold 53 bits.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, File, Form, Header, HTTPException, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from corridor.output import records
from corridor.serve import audit
from corridor.serve.auth import (
    COOKIE,
    AuthError,
    LoginThrottle,
    Role,
    Session,
    add_user,
    require,
    verify_login,
)
from corridor.serve.basemap import land_geojson
from corridor.serve.search import build_index, search
from corridor.serve.track import ThinParams, thin_track
from corridor.store import Store

router = APIRouter()

VIEWER, ANALYST, ADMIN = require(Role.viewer), require(Role.analyst), require(Role.admin)

MAX_LIMIT = 5000
EVENT_TYPES = ("port_visit", "gap", "encounter", "loitering", "voyage", "identity_change",
               "position_conflict")


def _db(request: Request):
    return request.app.state.db


def _cache(request: Request, key: tuple, build, tables: tuple[str, ...] = ()):
    """A value derived from ``tables`` of the store, rebuilt after a write to one of them (or
    to any table: an ingest)."""
    state = request.app.state
    gen = state.db.generation(tables)
    hit = state.cache.get(key)
    if hit is not None and hit[0] == gen:
        return hit[1]
    value = build()
    state.cache[key] = (gen, value)
    return value


def _parse_time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HTTPException(422, f"{name}: not an ISO time ({value[:40]!r})") from exc
    if t.tzinfo is not None:  # the store keeps naive UTC
        t = (t - t.utcoffset()).replace(tzinfo=None)
    return t


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if not value:
        return None
    try:
        parts = tuple(float(p) for p in value.split(","))
    except ValueError as exc:
        raise HTTPException(422, "bbox: four numbers min_lon,min_lat,max_lon,max_lat") from exc
    if len(parts) != 4 or not (-180 <= parts[0] <= parts[2] <= 180 and -90 <= parts[1] <= parts[3] <= 90):
        raise HTTPException(422, "bbox: four numbers min_lon,min_lat,max_lon,max_lat within the world")
    return parts  # type: ignore[return-value]


def _jsonable(rows: list[dict]) -> list[dict]:
    """Rows with 64-bit id lists as strings."""
    for r in rows:
        if isinstance(r.get("evidence"), list):
            r["evidence"] = [str(x) for x in r["evidence"]]
    return rows


def _fast(payload: dict) -> JSONResponse:
    """``payload`` (plain JSON values already) sent as it is: returning a dict would make
    FastAPI walk every value through ``jsonable_encoder`` first, the costliest step of a
    track or event listing."""
    return JSONResponse(payload)


def _etag(version: str | None) -> dict[str, str]:
    return {"ETag": f'"{version}"'} if version else {}


def _check_version(if_match: str | None, current: dict, kind: str, object_id: str, store: Store) -> None:
    """Refuse a correction not based on the latest version (optimistic concurrency)."""
    if not if_match:
        raise HTTPException(428, f"send the {kind}'s version in If-Match (from its ETag) so that a "
                                 "change made meanwhile by someone else is not overwritten")
    sent = if_match.strip().removeprefix("W/").strip('"')
    now = audit.version_of(current)
    if sent != now:
        raise HTTPException(412, f"this {kind} was changed {audit.last_change(store, kind, object_id)} "
                                 "after you opened it; your change was not saved. Reload it, check "
                                 "the new version, and apply your change again.")


# --------------------------------------------------------------------------- session
class LoginBody(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


@router.post("/api/login", tags=["session"])
def login(body: LoginBody, request: Request, response: Response) -> dict:
    """Log in; sets the session cookie and returns the CSRF token for later writes."""
    state = request.app.state
    if not (request.headers.get("content-type") or "").startswith("application/json"):
        raise HTTPException(415, "send the login as application/json")
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise HTTPException(403, "login from another site refused")
    client = request.client.host if request.client else "unknown"
    throttle: LoginThrottle = state.throttle
    keys = (f"ip:{client}", f"user:{body.username.lower()}")
    wait = throttle.retry_after_s(*keys)
    if wait > 0:
        raise HTTPException(429, f"too many failed logins; try again in {int(wait) + 1} s",
                            headers={"Retry-After": str(int(wait) + 1)})
    user = verify_login(state.db.reader(), body.username, body.password)
    if user is None:
        throttle.fail(*keys)
        state.log.warning("failed login for %r from %s", body.username[:64], client)
        with state.db.write(("audit_log",)) as store, store.transaction():
            audit.record(store, None, "login_failed", "user", body.username[:64], detail=f"from {client}")
        raise HTTPException(401, "wrong user name or password")
    throttle.clear(keys[1])
    with state.db.write(("sessions", "audit_log")) as store, store.transaction():
        cookie, session = state.sessions.create(store, user)
        audit.record(store, user.username, "login", "user", user.username, detail=f"from {client}")
    response.set_cookie(COOKIE, cookie, max_age=int(state.sessions.lifetime.total_seconds()),
                        httponly=True, samesite="strict", secure=state.secure_cookie, path="/")
    return {"username": user.username, "role": user.role.name, "csrf_token": session.csrf_token}


@router.post("/api/logout", tags=["session"])
def logout(request: Request, response: Response, session: Session = VIEWER) -> dict:
    """End this session (the cookie stops working at once)."""
    with request.app.state.db.write(("sessions",)) as store:
        request.app.state.sessions.end(store, session.session_id)
    response.delete_cookie(COOKIE, path="/")
    return {"ok": True}


@router.get("/api/me", tags=["session"])
def me(session: Session = VIEWER) -> dict:
    """Who is logged in, with which role, and the CSRF token to send with writes."""
    return {"username": session.user.username, "role": session.user.role.name,
            "csrf_token": session.csrf_token}


@router.get("/api/openapi.json", tags=["session"], include_in_schema=False)
def openapi(request: Request, session: Session = VIEWER) -> dict:
    """The OpenAPI document of this API (behind login like everything else)."""
    return request.app.openapi()


# --------------------------------------------------------------------------- map
@router.get("/api/basemap/land", tags=["map"])
def basemap_land(request: Request, tolerance_deg: float = Query(0.05, ge=0.001, le=1.0),
                 bbox: str | None = Query(None, description="min_lon,min_lat,max_lon,max_lat: only "
                                          "this box (whole degrees, at most 20 x 20; needed below "
                                          "0.01 degree tolerance)"),
                 session: Session = VIEWER) -> Response:
    """Natural Earth 1:10m land, simplified to ``tolerance_deg`` degrees (GeoJSON)."""
    tol = round(tolerance_deg, 3)
    box = _bbox(bbox)
    if box is not None:
        box = tuple(float(f(v)) for f, v in zip((math.floor, math.floor, math.ceil, math.ceil), box,
                                                strict=True))
        if box[2] - box[0] > 20 or box[3] - box[1] > 20:
            raise HTTPException(422, "bbox: at most 20 x 20 degrees")
    elif tol < 0.01:
        raise HTTPException(422, "tolerance_deg below 0.01 needs a bbox")
    body = _cache(request, ("land", tol, box), lambda: json.dumps(land_geojson(tol, box)))
    return Response(body, media_type="application/geo+json",
                    headers={"Cache-Control": "private, max-age=86400"})


# --------------------------------------------------------------------------- vessels
@router.get("/api/vessels", tags=["vessels"])
def vessels(request: Request,
            q: str | None = Query(None, max_length=200, description="MMSI, IMO, name or alias"),
            flag: str | None = Query(None, max_length=100),
            watchlisted: bool | None = Query(None, description="only vessels with (true) or without "
                                                               "(false) a watchlist hit"),
            limit: int = Query(50, ge=1, le=1000),
            session: Session = VIEWER) -> JSONResponse:
    """Search vessels: AIS identities (MMSI) and case-file vessels, with watchlist hits."""
    index = _cache(request, ("vessels",), lambda: build_index(_db(request).reader()),
                   ("positions", "vessel_reports", "vessels", "watchlist"))
    found = search(index, q, flag, watchlisted, limit)
    return _fast({"vessels": [e.as_json() for e in found], "count": len(found)})


@router.get("/api/vessels/{mmsi}/track", tags=["vessels"])
def vessel_track(request: Request, mmsi: int, since: str | None = None, until: str | None = None,
                 zoom: float = Query(6.0, ge=0, le=22),
                 max_points: int = Query(5000, ge=2, le=50000),
                 session: Session = VIEWER) -> JSONResponse:
    """One vessel's track for a time range, thinned for ``zoom``, cut at silences, and its
    events (gaps, port visits, encounters, loitering...) in the same range."""
    t0, t1 = _parse_time(since, "since"), _parse_time(until, "until")
    store = _db(request).reader()
    sql = "SELECT obs_id, ts, lat, lon, sog FROM positions WHERE mmsi = ?"
    args: list[Any] = [mmsi]
    if t0:
        sql += " AND ts >= ?"
        args.append(t0)
    if t1:
        sql += " AND ts <= ?"
        args.append(t1)
    # the map asks again for the same track at each zoom level: the positions read once are
    # kept (a few recent tracks, dropped on any write to positions)
    tbl = request.app.state.tracks.get((mmsi, t0, t1), _db(request).generation(("positions",)),
                                       lambda: store.query(sql + " ORDER BY ts, obs_id", args))
    out = thin_track(tbl, ThinParams(zoom=zoom, max_points=max_points))
    out["mmsi"] = mmsi
    out["events"] = _events(store, None, t0, t1, None, mmsi, 2000)
    return _fast(out)


# --------------------------------------------------------------------------- events
def _events(store: Store, types: list[str] | None, since: datetime | None, until: datetime | None,
            bbox: tuple | None, mmsi: int | None, limit: int) -> list[dict]:
    where, args = [], []
    source = "events"
    if mmsi is not None:
        # a vessel's events as a union of its two roles: 3-4x faster than "mmsi = ? OR
        # other_mmsi = ?" (measured on 30k events: 20 against 80 ms), which scans every column
        source = ("(SELECT * FROM events WHERE mmsi = ? UNION ALL SELECT * FROM events "
                  "WHERE other_mmsi = ? AND mmsi IS DISTINCT FROM ?)")
        args += [mmsi, mmsi, mmsi]
    if types:
        where.append(f"type IN ({','.join('?' * len(types))})")
        args += types
    if since is not None:
        where.append("coalesce(end_ts, start_ts) >= ?")
        args.append(since)
    if until is not None:
        where.append("start_ts < ?")
        args.append(until)
    if bbox is not None:
        where.append("lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?")
        args += [bbox[0], bbox[2], bbox[1], bbox[3]]
    w = ("WHERE " + " AND ".join(where)) if where else ""
    tbl = store.query(
        "SELECT event_id, type, mmsi, other_mmsi, segment_id, start_ts, end_ts, lat, lon, place_id, "
        "from_place_id, to_place_id, CAST(attrs AS VARCHAR) AS attrs, evidence "
        f"FROM {source} {w} ORDER BY start_ts, type, event_id LIMIT ?", args + [limit])
    return _jsonable(records(tbl))


@router.get("/api/events", tags=["events"])
def events(request: Request,
           type: list[str] | None = Query(None, description=f"one of {', '.join(EVENT_TYPES)}"),
           since: str | None = None, until: str | None = None,
           bbox: str | None = Query(None, description="min_lon,min_lat,max_lon,max_lat"),
           mmsi: int | None = None, limit: int = Query(500, ge=1, le=MAX_LIMIT),
           session: Session = VIEWER) -> JSONResponse:
    """Detected events by type, time window (overlapping), area and vessel."""
    for t in type or []:
        if t not in EVENT_TYPES:
            raise HTTPException(422, f"type: choose from {', '.join(EVENT_TYPES)}")
    rows = _events(_db(request).reader(), type, _parse_time(since, "since"), _parse_time(until, "until"),
                   _bbox(bbox), mmsi, limit)
    return _fast({"events": rows, "count": len(rows)})


@router.get("/api/events/{event_id}", tags=["events"])
def event(request: Request, event_id: str, session: Session = VIEWER) -> JSONResponse:
    """One event with its parameters and the observations behind it (obs ids, times, places)."""
    store = _db(request).reader()
    tbl = store.query("SELECT event_id, type, mmsi, other_mmsi, segment_id, start_ts, end_ts, lat, lon, "
                      "place_id, from_place_id, to_place_id, CAST(attrs AS VARCHAR) AS attrs, evidence "
                      "FROM events WHERE event_id = ?", [event_id])
    rows = records(tbl)
    if not rows:
        raise HTTPException(404, "no such event")
    ev = rows[0]
    ids = [int(x) for x in ev["evidence"] or []][:5000]
    obs = records(store.query(
        "SELECT obs_id, mmsi, ts, lat, lon, sog, source FROM positions "
        "WHERE obs_id IN (SELECT unnest(?::BIGINT[])) ORDER BY ts, obs_id", [ids])) if ids else []
    for o in obs:
        o["obs_id"] = str(o["obs_id"])
    ev = _jsonable([ev])[0]
    ev["observations"] = obs
    ev["annotations"] = _annotations(store, "event", event_id)
    return _fast(ev)


# --------------------------------------------------------------------------- cases
def _case_ids() -> dict[str, Any]:
    from corridor.corridors.model import CorridorError, load_corridor, shipped_corridors

    out = {}
    for p in shipped_corridors():
        try:
            c = load_corridor(p)
        except CorridorError:
            continue
        out[c.corridor_id] = c
    return out


def _corridor(case_id: str):
    c = _case_ids().get(case_id)
    if c is None:  # only shipped ids: a path here would read any file on the server
        raise HTTPException(404, "no such case (GET /api/cases lists them)")
    return c


@router.get("/api/cases", tags=["cases"])
def cases(request: Request, session: Session = VIEWER) -> dict:
    """The corridors (cases) this installation knows; those whose case is loaded into this
    store (``loaded``) come first."""
    loaded = {r[0] for r in _db(request).reader().con.execute(
        "SELECT DISTINCT collection FROM case_places").fetchall()}
    items = [{"id": c.corridor_id, "title": c.title, "window_start": c.window_start.isoformat(),
              "window_end": c.window_end.isoformat(), "nodes": len(c.nodes), "legs": len(c.legs),
              "case": c.case, "loaded": c.case in loaded} for c in _case_ids().values()]
    return {"cases": sorted(items, key=lambda c: (not c["loaded"], c["id"]))}


def _reconstruction(request: Request, case_id: str) -> dict:
    from corridor.corridors.reconstruct import reconstruct

    c = _corridor(case_id)
    return _cache(request, ("recon", case_id),
                  lambda: reconstruct(_db(request).reader(), c, save=False).to_json(),
                  ("sightings", "claims", "places", "vessels", "events", "rail_observations"))


@router.get("/api/cases/{case_id}/reconstruction", tags=["cases"])
def case_reconstruction(request: Request, case_id: str, session: Session = VIEWER) -> Response:
    """The reconstruction (nodes, legs, shipments by tier, estimates, claims with verdicts),
    computed from the store now and not saved (the same JSON as ``corridor reconstruct``)."""
    data = _reconstruction(request, case_id)
    return Response(json.dumps(data, ensure_ascii=False, default=str), media_type="application/json")


@router.get("/api/cases/{case_id}/report", tags=["cases"])
def case_report(request: Request, case_id: str, session: Session = VIEWER) -> Response:
    """The evidence report of ``corridor report`` (self-contained HTML), as a download."""
    from corridor.report.build import build_html

    recon = _reconstruction(request, case_id)
    html = build_html(_db(request).reader(), recon)
    return Response(html, media_type="text/html; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{case_id}-report.html"',
        "Content-Security-Policy": "sandbox"})


# --------------------------------------------------------------------------- sources
@router.get("/api/sources", tags=["sources"])
def sources(request: Request, collection: str | None = Query(None, max_length=200),
            session: Session = VIEWER) -> dict:
    """Cited sources (tags like S6 with publisher, title, date, URL)."""
    store = _db(request).reader()
    sql = ("SELECT collection, tag, parent, publisher, title, date, url, other_urls, marks, citation "
           "FROM sources")
    args = []
    if collection:
        sql += " WHERE collection = ?"
        args.append(collection)
    return {"sources": records(store.query(sql + " ORDER BY collection, tag", args))}


@router.get("/api/reports", tags=["sources"])
def reports(request: Request, session: Session = VIEWER) -> dict:
    """Stored report texts (metadata; the text itself with ``/api/reports/{id}``)."""
    return {"reports": records(_db(request).reader().query(
        "SELECT report_id, title, publisher, published, url, length(text) AS chars, ingested_at "
        "FROM reports ORDER BY published NULLS LAST, report_id"))}


@router.get("/api/reports/{report_id}", tags=["sources"])
def report_text(request: Request, report_id: str, session: Session = VIEWER) -> dict:
    """One stored report: its metadata, its full text, and the claims extracted from it."""
    from corridor.claims.store import list_claims

    store = _db(request).reader()
    rows = records(store.query("SELECT report_id, title, publisher, published, url, text, ingested_at "
                               "FROM reports WHERE report_id = ?", [report_id]))
    if not rows:
        raise HTTPException(404, "no such report")
    out = rows[0]
    out["claims"] = [records_one(r) for r in list_claims(store, report_id).to_pylist()]
    return out


@router.get("/api/places", tags=["sources"])
def places(request: Request, q: str | None = Query(None, max_length=200),
           limit: int = Query(200, ge=1, le=MAX_LIMIT), session: Session = VIEWER) -> dict:
    """Places (gazetteer and case places), optionally those whose id or name contains ``q``."""
    sql = "SELECT place_id, name, kind, country, lat, lon, radius_m, precision FROM places"
    args: list[Any] = []
    if q:
        # the search text is a parameter; its LIKE wildcards are escaped so they match themselves
        sql += " WHERE place_id ILIKE ? ESCAPE '\\' OR name ILIKE ? ESCAPE '\\'"
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        args += [like, like]
    tbl = _db(request).reader().query(sql + " ORDER BY place_id LIMIT ?", args + [limit])
    return {"places": records(tbl)}


# --------------------------------------------------------------------------- audit, notes
@router.get("/api/audit", tags=["audit"])
def audit_log(request: Request, kind: str | None = Query(None, max_length=40),
              object_id: str | None = Query(None, max_length=200),
              limit: int = Query(200, ge=1, le=MAX_LIMIT), session: Session = VIEWER) -> dict:
    """Who changed what, when, with the object before and after (newest first)."""
    return {"audit": audit.history(_db(request).reader(), kind, object_id, limit)}


def _annotations(store: Store, kind: str, object_id: str) -> list[dict]:
    return records(store.query("SELECT annotation_id, object_kind, object_id, text, username, created_at "
                               "FROM annotations WHERE object_kind = ? AND object_id = ? "
                               "ORDER BY created_at, annotation_id", [kind, object_id]))


ANNOTATED = ("event", "vessel", "sighting", "claim", "shipment")


class AnnotationBody(BaseModel):
    object_kind: str = Field(max_length=20)
    object_id: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=5000)


@router.get("/api/annotations", tags=["audit"])
def annotations(request: Request, object_kind: str = Query(..., max_length=20),
                object_id: str = Query(..., max_length=200), session: Session = VIEWER) -> dict:
    """An object's annotations (analysts' notes), oldest first."""
    return {"annotations": _annotations(_db(request).reader(), object_kind, object_id)}


@router.post("/api/annotations", tags=["audit"], status_code=201)
def add_annotation(request: Request, body: AnnotationBody, session: Session = ANALYST) -> dict:
    """Attach a note to an event, vessel, sighting, claim or shipment."""
    from corridor.ids import stable_id
    from corridor.store import utcnow

    if body.object_kind not in ANNOTATED:
        raise HTTPException(422, f"object_kind: one of {', '.join(ANNOTATED)}")
    now = utcnow()
    row = {"annotation_id": stable_id("annotation", body.object_kind, body.object_id, body.text,
                                      session.user.username, now.isoformat()),
           "object_kind": body.object_kind, "object_id": body.object_id, "text": body.text,
           "username": session.user.username, "created_at": now}
    with _db(request).write(("annotations", "audit_log")) as store, store.transaction():
        store.con.execute("INSERT INTO annotations VALUES (?, ?, ?, ?, ?, ?)", list(row.values()))
        audit.record(store, session.user.username, "create", "annotation", row["annotation_id"], None, row)
    return records_one(row)


def records_one(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, (datetime, date)) else v) for k, v in row.items()}


# --------------------------------------------------------------------------- sightings
SIGHTING_COLUMNS = ("date", "ts_start", "ts_end", "date_text", "date_uncertain", "source", "place_id",
                    "place", "lat", "lon", "place_text", "vessel_name", "imo", "mmsi", "identification",
                    "subject", "count", "activity", "evidence_type", "description", "mark", "confidence")


class SightingBody(BaseModel):
    """The columns of a sightings CSV row (see ``corridor ingest sightings``), as text."""

    date: str | None = Field(None, max_length=200)
    ts_start: str | None = Field(None, max_length=40)
    ts_end: str | None = Field(None, max_length=40)
    date_text: str | None = Field(None, max_length=200)
    date_uncertain: str | None = Field(None, max_length=10)
    source: str | None = Field(None, max_length=1000)
    place_id: str | None = Field(None, max_length=200)
    place: str | None = Field(None, max_length=200)
    lat: str | None = Field(None, max_length=40)
    lon: str | None = Field(None, max_length=40)
    place_text: str | None = Field(None, max_length=500)
    vessel_name: str | None = Field(None, max_length=200)
    imo: str | None = Field(None, max_length=20)
    mmsi: str | None = Field(None, max_length=20)
    identification: str | None = Field(None, max_length=40)
    subject: str | None = Field(None, max_length=40)
    count: str | None = Field(None, max_length=20)
    activity: str | None = Field(None, max_length=200)
    evidence_type: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=5000)
    mark: str | None = Field(None, max_length=20)
    confidence: str | None = Field(None, max_length=40)


def _sighting(store: Store, sighting_id: str) -> dict | None:
    rows = store.query("SELECT * EXCLUDE (ingest_id) FROM sightings WHERE sighting_id = ?",
                       [sighting_id]).to_pylist()
    return rows[0] if rows else None


def _parse_sighting(store: Store, row: dict) -> dict:
    """One sightings CSV row through the CLI's parser: the stored row, or 422 with its reason."""
    from corridor.identity import VesselResolver
    from corridor.ingest.observations import PlaceLookup, parse_sightings
    from corridor.ingest.summary import IngestError, IngestSummary

    with tempfile.TemporaryDirectory(prefix="corridor-serve-") as d:
        path = Path(d) / "sighting.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(SIGHTING_COLUMNS))
            w.writeheader()
            w.writerow({k: ("" if row.get(k) is None else str(row[k])) for k in SIGHTING_COLUMNS})
        summary = IngestSummary(str(path), "sightings")
        notes: list[str] = []
        try:
            batches = list(parse_sightings(path, summary, places=PlaceLookup.from_store(store),
                                           vessels=VesselResolver.from_store(store), notes=notes))
        except IngestError as exc:
            raise HTTPException(422, str(exc).replace(str(path), "sighting")) from exc
    if summary.skipped:
        reason = next(iter(summary.details.values()), next(iter(summary.skipped)))
        raise HTTPException(422, re.sub(r"^line \d+: ", "", reason))
    rows = [r for _, t in batches for r in t.to_pylist()]
    if len(rows) != 1:
        raise HTTPException(422, "the sighting could not be read")
    return rows[0]


def _sighting_response(row: dict, store: Store) -> JSONResponse:
    body = records_one(dict(row))
    body["version"] = audit.version_of(row)
    body["audit"] = audit.history(store, "sighting", row["sighting_id"], 50)
    body["annotations"] = _annotations(store, "sighting", row["sighting_id"])
    return JSONResponse(json.loads(json.dumps(body, default=str)), headers=_etag(body["version"]))


@router.get("/api/sightings", tags=["sightings"])
def sightings(request: Request, vessel: str | None = Query(None, max_length=200),
              place_id: str | None = Query(None, max_length=200),
              limit: int = Query(500, ge=1, le=MAX_LIMIT), session: Session = VIEWER) -> dict:
    """Sightings, optionally of a vessel (vessel_id, name, MMSI or IMO) or at a place."""
    where, args = [], []
    if vessel:
        where.append("(vessel_id = ? OR vessel_name ILIKE ? OR CAST(mmsi AS VARCHAR) = ? "
                     "OR CAST(imo AS VARCHAR) = ?)")
        args += [vessel, vessel, vessel, vessel]
    if place_id:
        where.append("place_id = ?")
        args.append(place_id)
    w = ("WHERE " + " AND ".join(where)) if where else ""
    rows = records(_db(request).reader().query(
        f"SELECT * EXCLUDE (ingest_id) FROM sightings {w} ORDER BY ts_start, sighting_id LIMIT ?",
        args + [limit]))
    return {"sightings": rows, "count": len(rows)}


@router.get("/api/sightings/{sighting_id}", tags=["sightings"])
def sighting(request: Request, sighting_id: str, session: Session = VIEWER) -> JSONResponse:
    """One sighting with its version (``ETag``), audit history and annotations."""
    store = _db(request).reader()
    row = _sighting(store, sighting_id)
    if row is None:
        raise HTTPException(404, "no such sighting")
    return _sighting_response(row, store)


@router.post("/api/sightings", tags=["sightings"], status_code=201)
def add_sighting(request: Request, body: SightingBody, session: Session = ANALYST) -> JSONResponse:
    """Add a sighting, validated exactly as a row of ``corridor ingest sightings``."""
    with _db(request).write(("sightings", "audit_log")) as store:
        row = _parse_sighting(store, body.model_dump())
        if _sighting(store, row["sighting_id"]) is not None:
            raise HTTPException(409, f"this sighting is already stored as {row['sighting_id']}")
        with store.transaction():
            store.insert_arrow("sightings", _sighting_table([row]), on_conflict="error")
            audit.record(store, session.user.username, "create", "sighting", row["sighting_id"], None,
                         _sighting(store, row["sighting_id"]))
        resp = _sighting_response(_sighting(store, row["sighting_id"]), store)
    resp.status_code = 201
    return resp


def _sighting_table(rows: list[dict]):
    import pyarrow as pa

    from corridor.ingest.observations import SIGHTING_FIELDS

    return pa.Table.from_pylist(rows, schema=SIGHTING_FIELDS)


def _sighting_as_csv_row(row: dict) -> dict:
    """A stored sighting back as CSV columns (what a correction is merged into)."""
    return {"ts_start": row["ts_start"].isoformat() if row["ts_start"] else None,
            "ts_end": row["ts_end"].isoformat() if row["ts_end"] else None,
            "date_text": row["date_text"], "date_uncertain": "true" if row["date_uncertain"] else None,
            "source": row["source"], "place_id": row["place_id"], "place_text": row["place_text"],
            "lat": row["lat"], "lon": row["lon"], "vessel_name": row["vessel_name"], "imo": row["imo"],
            "mmsi": row["mmsi"], "identification": row["identification"], "subject": row["subject"],
            "count": row["count"], "activity": row["activity"], "evidence_type": row["evidence_type"],
            "description": row["description"], "mark": ";".join(row["marks"] or []) or None,
            "confidence": row["confidence"]}


@router.put("/api/sightings/{sighting_id}", tags=["sightings"])
def correct_sighting(request: Request, sighting_id: str, body: SightingBody,
                     if_match: str | None = Header(None), session: Session = ANALYST) -> JSONResponse:
    """Correct a sighting: the fields given replace the stored ones, the result is validated as
    a CSV row, and the id stays. Needs ``If-Match`` with the version the correction is based on."""
    with _db(request).write(("sightings", "audit_log")) as store:
        before = _sighting(store, sighting_id)
        if before is None:
            raise HTTPException(404, "no such sighting")
        _check_version(if_match, before, "sighting", sighting_id, store)
        merged = _sighting_as_csv_row(before)
        patch = {k: v for k, v in body.model_dump().items() if v is not None}
        if "date" in patch and "ts_start" not in patch:
            merged.pop("ts_start")
            merged.pop("ts_end")
            merged["date_text"] = patch.get("date_text")
        if {"place_id", "place", "lat", "lon", "place_text"} & patch.keys():
            for k in ("place_id", "place", "lat", "lon", "place_text"):
                merged[k] = None
        merged.update(patch)
        row = _parse_sighting(store, merged)
        row["sighting_id"] = sighting_id
        cols = [c for c in row if c != "sighting_id"]
        with store.transaction():
            store.con.execute(f"UPDATE sightings SET {', '.join(f'{c} = ?' for c in cols)} "
                              "WHERE sighting_id = ?", [row[c] for c in cols] + [sighting_id])
            after = _sighting(store, sighting_id)
            audit.record(store, session.user.username, "update", "sighting", sighting_id, before, after)
        return _sighting_response(after, store)


# --------------------------------------------------------------------------- claims
class ClaimBody(BaseModel):
    """Claim columns (see ``corridor claims add``); ``places`` as place ids."""

    sentence: str | None = Field(None, max_length=5000)
    report_id: str | None = Field(None, max_length=100)
    attribution: str | None = Field(None, max_length=500)
    supplier: str | None = Field(None, max_length=200)
    recipient: str | None = Field(None, max_length=200)
    materiel: str | None = Field(None, max_length=200)
    quantity: str | None = Field(None, max_length=40)
    quantity_unit: str | None = Field(None, max_length=100)
    qualifier: str | None = Field(None, max_length=40)
    period_start: str | None = Field(None, max_length=20)
    period_end: str | None = Field(None, max_length=20)
    places: list[str] | None = Field(None, max_length=50)
    confidence: str | None = Field(None, max_length=20)


def _claim(store: Store, claim_id: str) -> dict | None:
    from corridor.claims.store import get_claims

    rows = get_claims(store, [claim_id]).to_pylist()
    return rows[0] if rows else None


def _claim_response(row: dict, store: Store) -> JSONResponse:
    body = records_one(dict(row))
    body["version"] = audit.version_of(row)
    body["audit"] = audit.history(store, "claim", row["claim_id"], 50)
    body["annotations"] = _annotations(store, "claim", row["claim_id"])
    return JSONResponse(json.loads(json.dumps(body, default=str)), headers=_etag(body["version"]))


def _run_add_claims(store: Store, item: dict) -> None:
    """One claim through ``corridor claims add`` (its validation, its messages)."""
    from corridor.claims.store import add_claims

    with tempfile.TemporaryDirectory(prefix="corridor-serve-") as d:
        path = Path(d) / "claim.yaml"
        path.write_text(yaml.safe_dump([item], allow_unicode=True), encoding="utf-8")
        try:
            summary = add_claims(store, path)
        except ValueError as exc:
            raise HTTPException(422, str(exc).replace(str(path), "claim")) from exc
    if summary.skipped:
        raise HTTPException(422, re.sub(r"^item \d+: ", "", summary.skipped[0]))


@router.get("/api/claims", tags=["claims"])
def claims(request: Request, report_id: str | None = Query(None, max_length=100),
           q: str | None = Query(None, max_length=200), limit: int = Query(500, ge=1, le=MAX_LIMIT),
           session: Session = VIEWER) -> dict:
    """Claims in text order, optionally of one report or containing ``q`` in the sentence."""
    from corridor.claims.store import list_claims

    rows = list_claims(_db(request).reader(), report_id).to_pylist()
    if q:
        rows = [r for r in rows if q.lower() in (r["sentence"] or "").lower()]
    rows = rows[:limit]
    return {"claims": [records_one(r) for r in rows], "count": len(rows)}


@router.get("/api/claims/{claim_id}", tags=["claims"])
def claim(request: Request, claim_id: str, session: Session = VIEWER) -> JSONResponse:
    """One claim with its exact sentence, source report, version (``ETag``) and audit history."""
    store = _db(request).reader()
    row = _claim(store, claim_id)
    if row is None:
        raise HTTPException(404, "no such claim")
    return _claim_response(row, store)


@router.post("/api/claims", tags=["claims"], status_code=201)
def add_claim(request: Request, body: ClaimBody, session: Session = ANALYST) -> JSONResponse:
    """Add a hand-written claim (``origin = manual``); needs its ``sentence``."""
    from corridor.ids import stable_id

    item = {k: v for k, v in body.model_dump().items() if v is not None}
    if not item.get("sentence"):
        raise HTTPException(422, "no sentence (and no existing claim_id to correct)")
    claim_id = stable_id("manual", item.get("report_id"), item["sentence"])
    with _db(request).write(("claims", "audit_log")) as store:
        if _claim(store, claim_id) is not None:
            raise HTTPException(409, f"this claim is already stored as {claim_id}")
        _run_add_claims(store, dict(item, claim_id=claim_id))
        after = _claim(store, claim_id)
        with store.transaction():
            audit.record(store, session.user.username, "create", "claim", claim_id, None, after)
        resp = _claim_response(after, store)
    resp.status_code = 201
    return resp


@router.put("/api/claims/{claim_id}", tags=["claims"])
def correct_claim(request: Request, claim_id: str, body: ClaimBody, if_match: str | None = Header(None),
                  session: Session = ANALYST) -> JSONResponse:
    """Correct a claim (the columns given replace the stored ones; it becomes ``manual``).
    Needs ``If-Match`` with the version the correction is based on."""
    with _db(request).write(("claims", "audit_log")) as store:
        before = _claim(store, claim_id)
        if before is None:
            raise HTTPException(404, "no such claim")
        _check_version(if_match, before, "claim", claim_id, store)
        item = {k: v for k, v in body.model_dump().items() if v is not None}
        _run_add_claims(store, dict(item, claim_id=claim_id))
        after = _claim(store, claim_id)
        with store.transaction():
            audit.record(store, session.user.username, "update", "claim", claim_id, before, after)
        return _claim_response(after, store)


# --------------------------------------------------------------------------- uploads
#: what each upload kind accepts: file name endings and how the content must start
UPLOAD_KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "positions": ((".csv", ".csv.gz", ".parquet", ".gpkg", ".geojson"), "table"),
    "nmea": ((".nmea", ".txt", ".log", ".ais", ".nmea.gz", ".txt.gz", ".log.gz"), "text"),
    "sightings": ((".csv",), "text"),
    "rail": ((".csv",), "text"),
    "watchlist": ((".json", ".jsonl", ".ndjson", ".csv"), "text"),
    "report": ((".txt", ".md", ".html", ".htm"), "text"),
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str | None) -> str:
    """The last path part of an uploaded file name, reduced to letters, digits, ``._-``.

    >>> safe_filename("../../etc/passwd"), safe_filename("C:\\\\x\\\\a b.csv"), safe_filename("..")
    ('passwd', 'a_b.csv', 'upload')
    """
    base = re.split(r"[\\\\/]", name or "")[-1]
    base = _SAFE_NAME.sub("_", base).lstrip(".")[:120]
    return base or "upload"


def _check_content(path: Path, name: str, how: str) -> None:
    """Refuse content that is not what the file name says (415)."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if name.endswith(".gz"):
        if not head.startswith(b"\x1f\x8b"):
            raise HTTPException(415, f"{name}: not gzip data")
        return
    if name.endswith(".parquet"):
        if not head.startswith(b"PAR1"):
            raise HTTPException(415, f"{name}: not a Parquet file")
        return
    if name.endswith(".gpkg"):
        if not head.startswith(b"SQLite format 3\x00"):
            raise HTTPException(415, f"{name}: not a GeoPackage (SQLite) file")
        return
    if b"\x00" in head:
        raise HTTPException(415, f"{name}: binary data where text was expected")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a character cut at the end of the first block is fine
            raise HTTPException(415, f"{name}: not UTF-8 text") from exc


def _summary_json(s: Any) -> dict:
    """An ingest summary as the CLI prints it (``lines``) and its counts, naming the file as
    uploaded, never the server's temporary folder."""
    out = {"path": Path(s.path).name, "lines": s.lines()}
    for k in ("status", "kind", "rows_in", "stored", "skipped", "examples", "details", "message",
              "report_id", "claims", "chars", "notes", "ingest_id"):
        if hasattr(s, k):
            out[k] = getattr(s, k)
    text = json.dumps(out, ensure_ascii=False, default=str)
    return json.loads(text.replace(json.dumps(str(Path(s.path).parent) + "/")[1:-1], ""))


@router.post("/api/uploads/{kind}", tags=["uploads"])
def upload(request: Request, kind: str, file: UploadFile = File(...),
           title: str | None = Form(None, max_length=500), publisher: str | None = Form(None, max_length=200),
           published: str | None = Form(None, max_length=20), url: str | None = Form(None, max_length=2000),
           session: Session = ANALYST) -> dict:
    """Ingest an uploaded file with the CLI's ingest code (``kind``: positions, nmea, sightings,
    rail, watchlist, report); returns the same summary lines and counts the CLI prints."""
    if kind not in UPLOAD_KINDS:
        raise HTTPException(404, f"upload kind: one of {', '.join(UPLOAD_KINDS)}")
    endings, how = UPLOAD_KINDS[kind]
    name = safe_filename(file.filename)
    if not name.lower().endswith(endings):
        raise HTTPException(415, f"{name}: a {kind} upload must end in {', '.join(endings)}")
    limit = request.app.state.max_upload_bytes
    d = Path(tempfile.mkdtemp(prefix="corridor-upload-"))
    try:
        path = d / name
        size = 0
        with open(path, "wb") as out:
            while chunk := file.file.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(413, f"{name}: larger than the upload limit "
                                             f"({limit // (1 << 20)} MB)")
                out.write(chunk)
        if size == 0:
            raise HTTPException(422, f"{name}: empty file")
        _check_content(path, name.lower(), how)
        with _db(request).write() as store:
            results = _ingest(store, kind, path, title, publisher, published, url)
            with store.transaction():
                audit.record(store, session.user.username, "upload", "upload", name, None,
                             {"kind": kind, "bytes": size, "results": results})
        return {"kind": kind, "file": name, "bytes": size, "results": results}
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _ingest(store: Store, kind: str, path: Path, title, publisher, published, url) -> list[dict]:
    if kind == "positions":
        from corridor.ingest.summary import ingest_file
        from corridor.ingest.tables import table_parser

        return [_summary_json(ingest_file(store, path, "positions", table_parser(None, None, None)))]
    if kind == "nmea":
        from corridor.ingest.nmea import ingest_nmea

        return [_summary_json(s) for s in ingest_nmea(store, [path])]
    if kind == "sightings":
        from corridor.ingest.observations import ingest_sightings

        return [_summary_json(ingest_sightings(store, path))]
    if kind == "rail":
        from corridor.ingest.observations import ingest_rail

        return [_summary_json(ingest_rail(store, path))]
    if kind == "watchlist":
        from corridor.ingest.watchlist import ingest_watchlist

        return [_summary_json(ingest_watchlist(store, path))]
    from corridor.ingest.reports import ReportError, ingest_report

    try:
        pub = date.fromisoformat(published) if published else None
    except ValueError as exc:
        raise HTTPException(422, f"published: not a date (YYYY-MM-DD): {published[:20]!r}") from exc
    try:
        return [_summary_json(ingest_report(store, path, title=title, publisher=publisher,
                                            published=pub, url=url))]
    except ReportError as exc:
        raise HTTPException(422, str(exc).replace(str(path.parent) + "/", "")) from exc


@router.post("/api/detect", tags=["uploads"])
def detect(request: Request, session: Session = ANALYST) -> dict:
    """Detect events for the vessels with new positions (``corridor detect``: incremental, the
    same parameters and event ids). While the server holds the store the CLI cannot write to
    it, so this is how uploaded AIS becomes events.

    Runs in this process, on one core: the detector's worker pool forks, and forking a
    process whose other threads are serving requests could copy a lock held mid-request.
    """
    from corridor.engines.local import run_detect

    with _db(request).write() as store:
        summary = run_detect(store, workers=1)
        with store.transaction():
            audit.record(store, session.user.username, "detect", "events", None, None,
                         {"events": summary.events, "vessels_detected": summary.vessels_detected})
    return summary.to_dict()


# --------------------------------------------------------------------------- images
#: image types accepted as evidence, by their first bytes (never by the name or the browser's
#: word): SVG is refused on purpose, it can carry script
IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def image_type(head: bytes) -> str | None:
    """The media type of image bytes corridor accepts, or None.

    >>> image_type(bytes.fromhex("89504e470d0a1a0a")), image_type(b"RIFF0000WEBPVP8 "), image_type(b"<svg")
    ('image/png', 'image/webp', None)
    """
    for magic, media in IMAGE_MAGIC:
        if head.startswith(magic):
            return media
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


@router.post("/api/attachments", tags=["images"], status_code=201)
def add_attachment(request: Request, object_kind: str = Form(..., max_length=20),
                   object_id: str = Form(..., min_length=1, max_length=200), file: UploadFile = File(...),
                   session: Session = ANALYST) -> dict:
    """Attach an image (PNG, JPEG or WebP: a satellite image, a photo) to a sighting, event,
    claim, vessel or shipment. The bytes are kept in the store with their SHA-256."""
    import hashlib

    from corridor.ids import stable_id
    from corridor.store import utcnow

    if object_kind not in ANNOTATED:
        raise HTTPException(422, f"object_kind: one of {', '.join(ANNOTATED)}")
    name = safe_filename(file.filename)
    limit = request.app.state.max_upload_bytes
    content = file.file.read(limit + 1)
    if len(content) > limit:
        raise HTTPException(413, f"{name}: larger than the upload limit ({limit >> 20} MB)")
    media = image_type(content[:16])
    if media is None:
        raise HTTPException(415, f"{name}: not a PNG, JPEG or WebP image")
    digest = hashlib.sha256(content).hexdigest()
    row = {"attachment_id": stable_id("attachment", object_kind, object_id, digest),
           "object_kind": object_kind, "object_id": object_id, "filename": name, "media_type": media,
           "sha256": digest, "size_bytes": len(content)}
    with _db(request).write(("attachments", "audit_log")) as store:
        if store.one("SELECT count(*) FROM attachments WHERE attachment_id = ?",
                     [row["attachment_id"]])[0]:
            raise HTTPException(409, f"this image is already attached as {row['attachment_id']}")
        with store.transaction():
            store.con.execute("INSERT INTO attachments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              [*row.values(), content, session.user.username, utcnow()])
            audit.record(store, session.user.username, "create", "attachment", row["attachment_id"], None,
                         row)
    return row


@router.get("/api/attachments", tags=["images"])
def attachments(request: Request, object_kind: str = Query(..., max_length=20),
                object_id: str = Query(..., max_length=200), session: Session = VIEWER) -> dict:
    """The images attached to an object (metadata; the bytes at ``/api/attachments/{id}``)."""
    return {"attachments": records(_db(request).reader().query(
        "SELECT attachment_id, object_kind, object_id, filename, media_type, sha256, size_bytes, "
        "username, created_at FROM attachments WHERE object_kind = ? AND object_id = ? "
        "ORDER BY created_at, attachment_id", [object_kind, object_id]))}


@router.get("/api/attachments/{attachment_id}", tags=["images"])
def attachment(request: Request, attachment_id: str, session: Session = VIEWER) -> Response:
    """An attached image's bytes, with the type its bytes were checked to be."""
    row = _db(request).reader().one(
        "SELECT media_type, filename, content FROM attachments WHERE attachment_id = ?",
        [attachment_id])
    if row is None:
        raise HTTPException(404, "no such attachment")
    return Response(bytes(row[2]), media_type=row[0], headers={
        "Content-Disposition": f'inline; filename="{row[1]}"', "Content-Security-Policy": "sandbox",
        "Cache-Control": "private, max-age=3600"})


# --------------------------------------------------------------------------- users
class UserBody(BaseModel):
    username: str = Field(max_length=64)
    role: str = Field(max_length=20)
    password: str = Field(max_length=1024)


class UserChange(BaseModel):
    role: str | None = Field(None, max_length=20)
    disabled: bool | None = None


@router.get("/api/users", tags=["users"])
def users(request: Request, session: Session = ADMIN) -> dict:
    """Accounts (never their password hashes)."""
    return {"users": records(_db(request).reader().query(
        "SELECT username, role, created_at, disabled FROM users ORDER BY username"))}


@router.post("/api/users", tags=["users"], status_code=201)
def create_user(request: Request, body: UserBody, session: Session = ADMIN) -> dict:
    """Create an account."""
    with _db(request).write(("users", "audit_log")) as store:
        try:
            user = add_user(store, body.username, body.role, body.password)
        except AuthError as exc:
            raise HTTPException(422, str(exc)) from exc
        with store.transaction():
            audit.record(store, session.user.username, "create", "user", user.username, None,
                         {"username": user.username, "role": user.role.name})
    return {"username": user.username, "role": user.role.name}


@router.put("/api/users/{username}", tags=["users"])
def change_user(request: Request, username: str, body: UserChange, session: Session = ADMIN) -> dict:
    """Change an account's role or disable it (its sessions end at once)."""
    if body.role is not None and body.role not in Role.__members__:
        raise HTTPException(422, f"role: one of {', '.join(Role.__members__)}")
    with _db(request).write(("users", "sessions", "audit_log")) as store:
        row = store.one("SELECT role, disabled FROM users WHERE username = ?", [username])
        if row is None:
            raise HTTPException(404, "no such user")
        before = {"username": username, "role": row[0], "disabled": row[1]}
        after = dict(before, **{k: v for k, v in body.model_dump().items() if v is not None})
        with store.transaction():
            store.con.execute("UPDATE users SET role = ?, disabled = ? WHERE username = ?",
                              [after["role"], after["disabled"], username])
            store.con.execute("UPDATE sessions SET revoked = true WHERE username = ?", [username])
            audit.record(store, session.user.username, "update", "user", username, before, after)
    return after


# --------------------------------------------------------------------------- pages
@router.get("/", include_in_schema=False)
def app_page(request: Request, session: Session = VIEWER) -> HTMLResponse:
    """The workspace (map, timeline, case view); anonymous visitors are sent to /login."""
    return HTMLResponse(request.app.state.page("app.html"))


@router.get("/login", include_in_schema=False)
def login_page(request: Request) -> HTMLResponse:
    return HTMLResponse(request.app.state.page("login.html"))

