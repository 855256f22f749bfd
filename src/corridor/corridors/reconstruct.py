"""Reconstruct what moved along a corridor: calls, shipments, rail surges, estimates, verdicts.

Input is what the store holds: AIS events (``port_visit``, ``gap``, ``voyage``; there may be
none), sightings, rail observations, vessels, watchlist rows, claims and sources. Output is
the JSON object documented in ``docs/reconstruction.md`` (format
``corridor.reconstruction/1``), which the report renders as is.

The steps:

1. **Observations at nodes.** Sightings and port-visit events are matched to the corridor's
   nodes (by place id, or by coordinate within the node's radius). Sightings with no place,
   off the corridor, with a range wider than ``max_call_span_days`` or about activity only
   go to ``context`` with the reason.
2. **Calls.** Observations at one node that touch or lie within ``call_merge_hours`` of each
   other and have compatible identities merge into one call (presence of a vessel, a train or
   cargo). Different identified vessels never merge; an unidentified vessel sighting next to
   an identified call merges into it and is counted (``unidentified_merged``) so that counts
   can give it back as a possible separate ship. A ``departed`` observation closes a call.
3. **Sea shipments** per sea leg A→B, arrivals in time order:
   *confirmed*: the same vessel (or AIS port visits of the same MMSI) at A and then at B within
   the leg's duration range; *probable*: the vessel at B with, at A, either an AIS gap that
   starts near A and ends near B, or cargo / an unidentified vessel seen within the leg's
   duration; *possible*: one end only (an arrival with nothing at A, or a vessel call at A
   that no arrival explains).
4. **Rail shipments** per rail leg A→B the same way, where "seen at A" is a call at A (usually
   a ship's arrival) within the rail leg's duration. A rail leg that carries on a sea
   shipment's load takes its cargo and does not count toward totals again.
5. **Rail surges**: each count at a node against the same place's baseline.
6. **Estimates and verdicts** (:mod:`corridor.corridors.estimate`).

Everything is deterministic: sorted inputs, ids from content (:func:`corridor.ids.stable_id`).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from corridor.corridors import estimate as est
from corridor.corridors.model import Corridor, Leg, case_dir, load_corridor
from corridor.geo import haversine_m
from corridor.identity import VesselResolver
from corridor.ids import stable_id
from corridor.ingest.observations import source_tags
from corridor.store import Store

FORMAT = "corridor.reconstruction/1"
_STRENGTH = {"vessel": 4, "train": 3, "railcars": 2, "containers": 1, "cargo": 1}


class ReconstructError(ValueError):
    """A corridor that cannot be reconstructed (e.g. its file is invalid)."""


@dataclass(frozen=True)
class ReconstructParams:
    """Parameters of the reconstruction (units in names). Set them in the corridor YAML's
    ``params``; every value used is reported in the output."""

    call_merge_hours: float = 12.0
    max_call_span_days: float = 7.0
    surge_ratio: float = 2.0
    about_tolerance: float = 0.10
    min_load_factor: float = 0.5
    default_radius_m: float = 5000.0
    gap_near_node_m: float = 50000.0
    low_tiers: tuple[str, ...] = ("confirmed", "probable")

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "params") -> ReconstructParams:
        names = {f.name for f in fields(cls)}
        extra = sorted(set(d) - names)
        if extra:
            raise ReconstructError(f"{where}: unknown parameter {extra[0]!r} "
                                   f"(known: {', '.join(sorted(names))})")
        kw = dict(d)
        if "low_tiers" in kw:
            kw["low_tiers"] = tuple(kw["low_tiers"])
        return cls(**kw)

    def estimate_params(self) -> est.EstimateParams:
        return est.EstimateParams(self.about_tolerance, self.min_load_factor, self.low_tiers)


# ------------------------------------------------------------------ internal rows
@dataclass
class Obs:
    """One observation at a node (a sighting or an AIS event)."""

    kind: str
    id: str
    place_id: str
    ident: str | None
    vessel_id: str | None
    label: str | None
    mmsi: int | None
    subject: str
    start: datetime
    end: datetime
    uncertain: bool
    text: str | None
    activity: str | None
    count: int | None
    summary: str
    sources: list[str]
    marks: list[str]


@dataclass
class Call:
    """Presence at one node, merged from observations."""

    place_id: str
    obs: list[Obs] = field(default_factory=list)
    ident: str | None = None
    closed: bool = False
    departed: tuple[datetime, datetime] | None = None
    unidentified_merged: int = 0
    used_origin: bool = False
    used_destination: bool = False
    frozen_id: str | None = None  # set once the call is complete (build_calls)

    @property
    def start(self) -> datetime:
        return min(o.start for o in self.obs)

    @property
    def end(self) -> datetime:
        return max(o.end for o in self.obs)

    @property
    def subject(self) -> str:
        return max((o.subject for o in self.obs), key=lambda s: _STRENGTH.get(s, 0))

    @property
    def vessel_id(self) -> str | None:
        return next((o.vessel_id for o in self.obs if o.vessel_id), None)

    @property
    def mmsi(self) -> int | None:
        return next((o.mmsi for o in self.obs if o.mmsi is not None), None)

    @property
    def label(self) -> str | None:
        ided = [o.label for o in self.obs if o.ident == self.ident and o.label]
        return ided[0] if ided else next((o.label for o in self.obs if o.label), None)

    @property
    def uncertain(self) -> bool:
        return any(o.uncertain for o in self.obs)

    @property
    def call_id(self) -> str:
        if self.frozen_id is not None:
            return self.frozen_id
        return stable_id("call", self.place_id, sorted(o.id for o in self.obs))

    @property
    def count(self) -> int | None:
        counts = [o.count for o in self.obs if o.subject in ("containers", "cargo") and o.count]
        return max(counts) if counts else None

    def sources(self) -> list[str]:
        return _union(o.sources for o in self.obs)

    def marks(self) -> list[str]:
        return _union(o.marks for o in self.obs)


def _union(lists) -> list[str]:
    out: list[str] = []
    for xs in lists:
        for x in xs:
            if x not in out:
                out.append(x)
    return out


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def _rng(a: datetime | None, b: datetime | None, uncertain: bool, text: str | None = None) -> dict:
    return {"earliest": _iso(a), "latest": _iso(b), "uncertain": bool(uncertain), "text": text}


def _tag_key(tag: str) -> tuple[int, str]:
    m = re.match(r"S(\d+)([a-z]?)", tag)
    return (int(m.group(1)), m.group(2)) if m else (10**6, tag)


# ------------------------------------------------------------------------ loading
@dataclass
class Inputs:
    corridor: Corridor
    params: ReconstructParams
    places: dict[str, dict]
    place_notes: dict[str, dict]
    vessels: pa.Table
    resolver: VesselResolver
    sightings: list[dict]
    events: list[dict]
    rail: list[dict]
    watchlist: list[dict]
    claims: list[dict]
    sources: dict[str, dict]
    warnings: list[str]


def _window(c: Corridor) -> tuple[datetime, datetime]:
    return (datetime(c.window_start.year, c.window_start.month, c.window_start.day),
            datetime(c.window_end.year, c.window_end.month, c.window_end.day) + timedelta(days=1))


def load_inputs(store: Store, corridor: Corridor, params: ReconstructParams) -> Inputs:
    """Read everything the reconstruction needs from the store."""
    w0, w1 = _window(corridor)
    warnings: list[str] = []
    ids = corridor.place_ids
    ph = ",".join("?" * len(ids))
    places = {r["place_id"]: r for r in store.query(
        f"SELECT place_id, name, kind, country, lat, lon, radius_m, aliases, precision, source "
        f"FROM places WHERE place_id IN ({ph})", ids).to_pylist()}
    notes: dict[str, dict] = {}
    if corridor.case and (case_dir(corridor.case) / "places.csv").exists():
        from corridor.corridors.case import read_place_notes

        notes = read_place_notes(case_dir(corridor.case))
    for pid in ids:
        if pid in places:
            continue
        row = notes.get(pid)
        if row and row.get("lat") and row.get("lon"):
            # the case's own sourced coordinate, used for matching although not loaded
            places[pid] = {"place_id": pid, "name": row["name"], "kind": row["kind"],
                           "country": row.get("country") or None, "lat": float(row["lat"]),
                           "lon": float(row["lon"]),
                           "radius_m": float(row["radius_m"]) if row.get("radius_m") else None,
                           "aliases": [a for a in row.get("aliases", "").split(";") if a],
                           "precision": row["precision"],
                           "source": "".join(f"[{t}]" for t in row["sources"].split(";") if t)}
            warnings.append(f"node {pid!r} is not in the places table; its coordinate was taken "
                            f"from the case file {corridor.case} (run `corridor corridors load`)")
        else:
            warnings.append(f"node {pid!r} is not in the places table: no coordinate, nothing "
                            "can be matched to it by position (load the case or a gazetteer)")
    vessels = store.query("SELECT * FROM vessels ORDER BY vessel_id")
    observed = corridor.data != "simulated"
    sightings = store.query(
        "SELECT * FROM sightings WHERE ts_end >= ? AND ts_start < ? ORDER BY ts_start, sighting_id",
        [w0, w1]).to_pylist() if observed else []
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
    return Inputs(corridor, params, places, notes, vessels, VesselResolver.from_arrow(vessels),
                  sightings, events, rail, watchlist, claims, sources, warnings)


# ----------------------------------------------------------------- observations
class _NodeMatcher:
    """Which corridor node a coordinate falls in (node radius, or the default radius)."""

    def __init__(self, places: dict[str, dict], default_radius_m: float):
        self.ids = [p for p in places if places[p]["lat"] is not None]
        self.lat = np.array([places[p]["lat"] for p in self.ids], dtype=float)
        self.lon = np.array([places[p]["lon"] for p in self.ids], dtype=float)
        self.radius = np.array([places[p]["radius_m"] or default_radius_m for p in self.ids],
                               dtype=float)

    def distances(self, lat: float | None, lon: float | None) -> np.ndarray:
        if lat is None or lon is None or not self.ids:
            return np.full(len(self.ids), np.inf)
        n = len(self.ids)
        return haversine_m(np.full(n, lat), np.full(n, lon), self.lat, self.lon)

    def node_at(self, lat: float | None, lon: float | None, extra_m: float = 0.0) -> str | None:
        d = self.distances(lat, lon)
        inside = np.flatnonzero(d <= self.radius + extra_m)
        if len(inside) == 0:
            return None
        return self.ids[int(inside[np.argmin(d[inside])])]


def _mmsi_identities(store: Store, mmsis: list[int], resolver: VesselResolver
                     ) -> dict[int, tuple[str, str | None, str]]:
    """mmsi → (ident, vessel_id, label) using the vessels table, then AIS static reports."""
    out: dict[int, tuple[str, str | None, str]] = {}
    if not mmsis:
        return out
    ph = ",".join("?" * len(mmsis))
    reports = {r["mmsi"]: r for r in store.query(
        f"SELECT mmsi, arg_max(imo, ts) AS imo, arg_max(name, ts) AS name FROM vessel_reports "
        f"WHERE mmsi IN ({ph}) GROUP BY mmsi", mmsis).to_pylist()}
    for m in mmsis:
        rep = reports.get(m, {})
        res = resolver.resolve(mmsi=m, imo=rep.get("imo"), name=rep.get("name"))
        if res.status != "resolved":
            res = resolver.resolve(mmsi=m)
        if res.vessel_id:
            out[m] = (res.vessel_id, res.vessel_id, resolver.record(res.vessel_id).name)
        else:
            name = rep.get("name")
            out[m] = (f"mmsi:{m}", None, f"MMSI {m}" + (f" ({name})" if name else ""))
    return out


def build_observations(store: Store, inp: Inputs) -> tuple[list[Obs], list[dict], dict]:
    """Observations at nodes, context rows, and AIS gap/voyage events (by mmsi)."""
    c, p = inp.corridor, inp.params
    nodes = set(c.place_ids)
    matcher = _NodeMatcher(inp.places, p.default_radius_m)
    obs: list[Obs] = []
    context: list[dict] = []
    w0, w1 = _window(c)
    for s in inp.sightings:
        tags = source_tags(s["source"])
        marks = list(s.get("marks") or [])
        place = s["place_id"]
        if place is None and s.get("lat") is not None:
            place = matcher.node_at(s["lat"], s["lon"])
        summary = _sighting_summary(s)
        reason = None
        if place is None and s["place_id"] is None and s.get("lat") is None:
            reason = "unlocated"
        elif place not in nodes:
            reason = "off-corridor place"
        elif (s["ts_end"] - s["ts_start"]).total_seconds() > p.max_call_span_days * 86400:
            reason = "range too wide to date a shipment"
        elif s["subject"] == "activity":
            reason = "no vessel or cargo"
        if reason:
            context.append({
                "kind": "sighting", "id": s["sighting_id"], "place_id": s["place_id"],
                "place_text": s.get("place_text"), "vessel_id": s.get("vessel_id"),
                "time": _rng(s["ts_start"], s["ts_end"], s["date_uncertain"], s.get("date_text")),
                "summary": summary, "reason": reason, "sources": tags, "marks": marks,
            })
            continue
        vid = s.get("vessel_id")
        ident = vid
        if ident is None and s.get("mmsi"):
            ident = f"mmsi:{s['mmsi']}"
        obs.append(Obs(
            kind="sighting", id=s["sighting_id"], place_id=place, ident=ident, vessel_id=vid,
            label=s.get("vessel_name") or ({"train": "train", "containers": "containers"}
                                           .get(s["subject"])),
            mmsi=s.get("mmsi"), subject=s["subject"], start=s["ts_start"], end=s["ts_end"],
            uncertain=bool(s.get("date_uncertain")), text=s.get("date_text"),
            activity=s.get("activity"), count=s.get("count"), summary=summary, sources=tags,
            marks=marks,
        ))
    mmsis = sorted({e["mmsi"] for e in inp.events if e["mmsi"] is not None})
    idents = _mmsi_identities(store, mmsis, inp.resolver)
    ais: dict[str, list[dict]] = {"gap": [], "voyage": []}
    for e in inp.events:
        e = dict(e)
        e["attrs"] = json.loads(e["attrs"]) if isinstance(e["attrs"], str) else (e["attrs"] or {})
        ident, vid, label = idents.get(e["mmsi"], (None, None, None))
        e["ident"], e["vessel_id"], e["label"] = ident, vid, label
        if e["type"] != "port_visit":
            ais[e["type"]].append(e)
            continue
        place = e["place_id"] if e["place_id"] in nodes else matcher.node_at(e["lat"], e["lon"])
        if place is None:
            continue
        end = e["end_ts"] or e["start_ts"]
        obs.append(Obs(
            kind="event", id=e["event_id"], place_id=place, ident=ident, vessel_id=vid,
            label=label, mmsi=e["mmsi"], subject="vessel", start=e["start_ts"], end=end,
            uncertain=False, text=None, activity="port visit (AIS)", count=None,
            summary=f"AIS port visit of {label} at {place}", sources=[], marks=[],
        ))
    ais["matcher"] = matcher  # type: ignore[assignment]
    del w0, w1
    return obs, context, ais


def _sighting_summary(s: dict) -> str:
    """One line for a sighting: what was seen, doing what, where (and the source's words)."""
    subject, name, count = s["subject"], s.get("vessel_name"), s.get("count")
    if subject == "vessel":
        what = name or "unidentified vessel"
    elif subject in ("containers", "cargo", "railcars"):
        what = f"{count:,} {subject}" if count else subject
        if name:
            what += f" ({name})"
    else:
        what = name or subject
        if count and subject == "activity":
            what += f" ({count:,})"
    if s.get("activity"):
        what += f" {s['activity']}"
    where = s.get("place_text") or s.get("place_id") or "an unlocated place"
    text = f"{what} at {where}"
    if s.get("description"):
        text += f": {s['description']}"
    return text


# ------------------------------------------------------------------------- calls
def build_calls(obs: list[Obs], merge_hours: float) -> list[Call]:
    """Merge observations into calls per node (see the module docstring)."""
    merge = timedelta(hours=merge_hours)
    calls: list[Call] = []
    active: dict[str, list[Call]] = {}  # calls that a later observation can still join
    for o in sorted(obs, key=lambda o: (o.place_id, o.start, o.end, o.id)):
        # observations come in start order, so a call that ended more than ``merge`` before
        # this one can never be joined again: drop it (keeps the pass linear)
        live = [c for c in active.get(o.place_id, []) if not c.closed and o.start - c.end <= merge]
        active[o.place_id] = live
        open_calls = [c for c in live if _mode(c) == _mode_o(o)]
        same = [c for c in open_calls if o.ident is not None and c.ident == o.ident]
        if o.ident is None:
            fits = open_calls
        else:
            fits = same or [c for c in open_calls if c.ident is None]
        idents = {c.ident for c in fits if c.ident is not None}
        target = None
        if same:
            target = same[-1]
        elif fits and len(idents) <= 1:
            target = fits[-1]
        if target is None:
            target = Call(place_id=o.place_id, ident=o.ident)
            active[o.place_id].append(target)
            calls.append(target)
        else:
            if o.ident is None and o.subject == "vessel" and target.ident is not None:
                target.unidentified_merged += 1
            if o.ident is not None and target.ident is None:
                target.unidentified_merged += sum(1 for x in target.obs
                                                  if x.subject == "vessel" and x.ident is None)
                target.ident = o.ident
        target.obs.append(o)
        if (o.activity or "").lower().startswith("depart"):
            target.departed = (o.start, o.end)
            target.closed = True
    for c in calls:
        c.frozen_id = c.call_id
    return sorted(calls, key=lambda c: (c.start, c.place_id, c.call_id))


def _mode(c: Call) -> str:
    return "rail" if any(o.subject in ("train", "railcars") for o in c.obs) else "sea"


def _mode_o(o: Obs) -> str:
    return "rail" if o.subject in ("train", "railcars") else "sea"


def call_json(c: Call) -> dict:
    return {
        "call_id": c.call_id, "place_id": c.place_id, "vessel_id": c.vessel_id,
        "vessel_name": c.label, "mmsi": c.mmsi, "subject": c.subject,
        "time": _rng(c.start, c.end, c.uncertain, _text(c)),
        "departed": _rng(*c.departed, False) if c.departed else None,
        "activity": _union([[o.activity] for o in c.obs if o.activity]),
        "count": c.count, "unidentified_merged": c.unidentified_merged,
        "evidence": [o.id for o in c.obs], "sources": c.sources(), "marks": c.marks(),
    }


# --------------------------------------------------------------------- shipments
def _feasible(a: Call, b: Call, leg: Leg) -> bool:
    """Could a move that left A after being seen in ``a`` be seen at B in ``b``?"""
    lo, hi = timedelta(hours=leg.min_duration_hours), timedelta(hours=leg.max_duration_hours)
    if a.start >= b.end:
        return False
    return (b.end - a.start) >= lo and (b.start - a.end) <= hi


def _text(c: Call) -> str | None:
    """The dates of a call's observations as the sources wrote them."""
    return "; ".join(dict.fromkeys(o.text for o in c.obs if o.text)) or None


def _ais_only(c: Call) -> bool:
    """True when every observation of the call is an AIS event (times are measured)."""
    return all(o.kind == "event" for o in c.obs)


def _evidence(c: Call, role: str) -> list[dict]:
    return [{"kind": o.kind, "id": o.id, "role": role, "place_id": o.place_id,
             "time": _rng(o.start, o.end, o.uncertain, o.text), "summary": o.summary,
             "sources": o.sources, "marks": o.marks} for o in c.obs]


def _gap_evidence(g: dict, role: str = "gap") -> dict:
    return {"kind": "event", "id": g["event_id"], "role": role, "place_id": None,
            "time": _rng(g["start_ts"], g["end_ts"], False),
            "summary": f"AIS gap of {g['label']} ({g['attrs'].get('duration_hours', 0):.1f} h)",
            "sources": [], "marks": []}


class _Builder:
    """Shipments for one corridor from its calls and AIS events."""

    def __init__(self, inp: Inputs, calls: list[Call], ais: dict):
        self.inp, self.c, self.p = inp, inp.corridor, inp.params
        self.calls = calls
        self.gaps = ais["gap"]
        self.voyages = ais["voyage"]
        self.matcher: _NodeMatcher = ais["matcher"]
        self.shipments: list[dict] = []
        self.by_dest_call: dict[str, dict] = {}
        self.vessel_caps = {v["vessel_id"]: v.get("capacity_teu") for v in inp.vessels.to_pylist()}
        # indexes, so that a store with many AIS port visits stays linear
        self._by_place: dict[str, list[Call]] = {}
        self._by_ident: dict[tuple[str, str | None], list[Call]] = {}
        for c in calls:
            self._by_place.setdefault(c.place_id, []).append(c)
            self._by_ident.setdefault((c.place_id, c.ident), []).append(c)
        self._gaps: dict[str | None, list[dict]] = {}
        for g in self.gaps:
            self._gaps.setdefault(g["ident"], []).append(g)
        self._voyages: dict[str | None, list[dict]] = {}
        for v in self.voyages:
            self._voyages.setdefault(v["ident"], []).append(v)

    # -- helpers
    def at(self, place: str) -> list[Call]:
        """Calls at ``place`` in time order."""
        return self._by_place.get(place, [])

    def at_ident(self, place: str, ident: str | None) -> list[Call]:
        """Calls at ``place`` of one identity (``None``: unidentified), in time order."""
        return self._by_ident.get((place, ident), [])

    def _near(self, lat: float | None, lon: float | None, place: str) -> bool:
        if place not in self.matcher.ids:
            return False
        i = self.matcher.ids.index(place)
        d = self.matcher.distances(lat, lon)[i]
        return bool(d <= self.matcher.radius[i] + self.p.gap_near_node_m)

    def _gap_between(self, ident: str | None, a_place: str, b_place: str, before: datetime,
                     after: datetime) -> dict | None:
        """An AIS gap of ``ident`` starting near A and ending near B within [after, before]."""
        if ident is None:
            return None
        for g in self._gaps.get(ident, []):
            if g["end_ts"] is None:
                continue
            at = g["attrs"]
            if (g["start_ts"] >= after and g["end_ts"] <= before
                    and self._near(at.get("off_lat"), at.get("off_lon"), a_place)
                    and self._near(at.get("on_lat"), at.get("on_lon"), b_place)):
                return g
        return None

    def _voyage(self, ident: str | None, a: Call, b: Call) -> dict | None:
        """The AIS voyage of ``ident`` that leaves during ``a`` and arrives during ``b``
        (matched by time: its place ids are the detector's, not necessarily the nodes')."""
        slack = timedelta(hours=1)
        for v in self._voyages.get(ident, []):
            if (v["end_ts"] is not None
                    and a.start - slack <= v["start_ts"] <= a.end + slack
                    and b.start - slack <= v["end_ts"] <= b.end + slack):
                return v
        return None

    def _cargo(self, calls: list[Call], vessel_id: str | None) -> dict:
        seen = [(cl.count, cl) for cl in calls if cl.count]
        cg = self.c.cargo
        if seen:
            count, cl = max(seen, key=lambda x: x[0])
            srcs = tuple(_union(o.sources for o in cl.obs if o.count))
            return est.cargo_range(seen_count=count, seen_sources=srcs, unit=cg.unit,
                                   params=self.p.estimate_params())
        return est.cargo_range(capacity_teu=self.vessel_caps.get(vessel_id) if vessel_id else None,
                               per_load_low=cg.per_load_low, per_load_high=cg.per_load_high,
                               per_load_basis=cg.basis, per_load_sources=cg.sources, unit=cg.unit,
                               params=self.p.estimate_params())

    def _add(self, *, mode: str, leg: Leg | None, a: Call | None, b: Call | None, tier: str,
             reason: str, depart: dict, arrive: dict, evidence: list[dict], cargo: dict,
             counts: bool, from_place: str | None, to_place: str | None,
             from_candidates: list[str] | None = None, to_candidates: list[str] | None = None,
             origin_inferred: bool = False, carries: str | None = None) -> dict:
        main = b if (b is not None and b.ident is not None) else (a if a is not None else b)
        ident = main.ident if main else None
        vessel_id = next((c.vessel_id for c in (b, a) if c is not None and c.vessel_id), None)
        if mode == "rail":
            vessel_id = None
        label = main.label if main else None
        mmsi = main.mmsi if main else None
        if mode == "rail":
            label, mmsi = (b.label if b is not None else None) or "train", None
        ev_ids = sorted(e["id"] for e in evidence)
        sid = stable_id("shipment", self.c.corridor_id, mode, leg.leg_id if leg else None,
                        from_place, to_place, ident if mode == "sea" else None, ev_ids)
        unmerged = sum(c.unidentified_merged for c in (a, b) if c is not None)
        row = {
            "shipment_id": sid, "mode": mode, "leg_id": leg.leg_id if leg else None,
            "vessel_id": vessel_id, "vessel_name": label, "mmsi": mmsi,
            "from_place_id": from_place, "to_place_id": to_place,
            "from_candidates": from_candidates or [], "to_candidates": to_candidates or [],
            "depart": depart, "arrive": arrive, "tier": tier, "tier_reason": reason,
            "evidence": evidence, "cargo": cargo, "counts_toward_totals": counts,
            "carries_shipment_id": carries, "origin_call_inferred": origin_inferred,
            "unidentified_merged": unmerged if mode == "sea" else 0,
            "sources": _union(e["sources"] for e in evidence),
            "marks": _union(e["marks"] for e in evidence),
        }
        self.shipments.append(row)
        if b is not None:
            self.by_dest_call[b.call_id] = row
        return row

    # -- sea
    def sea(self) -> None:
        c = self.c
        sea_legs = [g for g in c.legs if g.mode == "sea"]
        origins = {g.from_place for g in sea_legs}
        counts_from = {n.place_id for n in c.nodes if n.role == "origin"}
        arrivals: list[tuple[Call, list[Leg]]] = []
        for dest in sorted({g.to_place for g in sea_legs}):
            for b in self.at(dest):
                if b.subject != "vessel":
                    continue
                legs = [g for g in sea_legs if g.to_place == dest and g.active_on(b.start.date())]
                arrivals.append((b, legs or [g for g in sea_legs if g.to_place == dest]))
        arrivals.sort(key=lambda x: (x[0].start, x[0].place_id, x[0].call_id))
        for b, legs in arrivals:
            if self._sea_confirmed(b, legs, counts_from):
                continue
            if b.ident is not None and self._sea_probable(b, legs, counts_from):
                continue
            self._sea_arrival_only(b, legs, counts_from)
        for origin in sorted(origins):
            for a in self.at(origin):
                if a.used_origin or a.subject != "vessel":
                    continue
                self._sea_departure_only(a, [g for g in sea_legs if g.from_place == origin],
                                         counts_from)

    def _sea_confirmed(self, b: Call, legs: list[Leg], counts_from: set[str]) -> bool:
        if b.ident is None:
            return False
        best = None
        for leg in legs:
            hi = timedelta(hours=leg.max_duration_hours)
            # latest feasible call first; earlier calls only get further away
            for a in reversed(self.at_ident(leg.from_place, b.ident)):
                if a.start >= b.end:
                    continue
                if b.start - a.end > hi:
                    break
                if a.used_origin or not _feasible(a, b, leg):
                    continue
                if best is None or a.start > best[0].start:
                    best = (a, leg)
                break
        if best is None:
            return False
        a, leg = best
        lo = timedelta(hours=leg.min_duration_hours)
        ev = _evidence(a, "origin") + _evidence(b, "destination")
        voy = self._voyage(b.ident, a, b)
        if voy is not None:
            ev.append({"kind": "event", "id": voy["event_id"], "role": "voyage", "place_id": None,
                       "time": _rng(voy["start_ts"], voy["end_ts"], False),
                       "summary": f"AIS voyage of {voy['label']} {a.place_id} → {b.place_id}",
                       "sources": [], "marks": []})
        if voy is not None:
            dep = _rng(voy["start_ts"], voy["start_ts"], False)
            arr = _rng(voy["end_ts"], voy["end_ts"], False)
        else:
            if a.departed:
                dep = _rng(*a.departed, a.uncertain)
            elif _ais_only(a):  # AIS saw the ship until it left
                dep = _rng(a.end, a.end, False)
            else:
                dep = _rng(a.start, min(a.end + timedelta(hours=leg.max_duration_hours),
                                        b.end - lo), True)
            if _ais_only(b):  # AIS saw the ship from its arrival
                arr = _rng(b.start, b.start, False)
            else:
                arr = _rng(max(a.start + lo, datetime.fromisoformat(dep["earliest"]) + lo), b.end,
                           True)
        hours = max((b.start - a.end).total_seconds() / 3600, 0.0)
        self._add(mode="sea", leg=leg, a=a, b=b, tier="confirmed",
                  reason=f"{b.label} seen at {a.place_id} and then at {b.place_id} "
                         f"{hours:.0f} h after it was last seen at {a.place_id}; the leg "
                         f"allows {leg.min_duration_hours:g}–{leg.max_duration_hours:g} h",
                  depart=dep, arrive=arr, evidence=ev, cargo=self._cargo([a, b], b.vessel_id),
                  counts=leg.from_place in counts_from, from_place=leg.from_place,
                  to_place=leg.to_place)
        a.used_origin = b.used_destination = True
        return True

    def _sea_probable(self, b: Call, legs: list[Leg], counts_from: set[str]) -> bool:
        # (a) an AIS gap of the same vessel from near A to near B
        for leg in legs:
            hi = timedelta(hours=leg.max_duration_hours)
            g = self._gap_between(b.ident, leg.from_place, leg.to_place, b.end, b.start - hi)
            if g is None:
                continue
            prior = [a for a in self.at_ident(leg.from_place, b.ident) if not a.used_origin
                     and a.end <= g["start_ts"] and g["start_ts"] - a.end <= hi]
            ev = ([] if not prior else _evidence(prior[-1], "origin")) + [_gap_evidence(g)] + \
                _evidence(b, "destination")
            if prior:
                prior[-1].used_origin = True
            self._add(mode="sea", leg=leg, a=prior[-1] if prior else None, b=b, tier="probable",
                      reason=f"{b.label} seen at {b.place_id}; AIS went dark near "
                             f"{leg.from_place} and came back near {leg.to_place}",
                      depart=_rng(prior[-1].start if prior else b.start - hi, g["start_ts"], True),
                      arrive=_rng(g["end_ts"], b.end, b.uncertain), evidence=ev,
                      cargo=self._cargo([b] + prior[-1:], b.vessel_id),
                      counts=leg.from_place in counts_from, from_place=leg.from_place,
                      to_place=leg.to_place)
            b.used_destination = True
            return True
        # (b) cargo or an unidentified vessel at A within the leg's duration
        best = None
        for leg in legs:
            for a in self.at_ident(leg.from_place, None):
                if a.used_origin or not _feasible(a, b, leg):
                    continue
                key = (a.subject in ("containers", "cargo"), a.start)
                if best is None or key > best[0]:
                    best = (key, a, leg)
        if best is None:
            return False
        _, a, leg = best
        lo = timedelta(hours=leg.min_duration_hours)
        days = (b.start - a.start).total_seconds() / 86400
        what = f"{a.count:,} containers" if a.count else (a.label or a.subject)
        self._add(mode="sea", leg=leg, a=a, b=b, tier="probable",
                  reason=f"{b.label} seen at {b.place_id}; {what} seen at {a.place_id} "
                         f"{days:.1f} days earlier, within the leg's "
                         f"{leg.min_duration_hours:g}–{leg.max_duration_hours:g} h",
                  depart=_rng(a.departed[0] if a.departed else a.start,
                              a.departed[1] if a.departed else b.end - lo, True),
                  arrive=_rng(a.start + lo, b.end, True),
                  evidence=_evidence(a, "cargo" if a.subject != "vessel" else "origin")
                  + _evidence(b, "destination"),
                  cargo=self._cargo([a, b], b.vessel_id), counts=leg.from_place in counts_from,
                  from_place=leg.from_place, to_place=leg.to_place,
                  origin_inferred=a.subject != "vessel")
        a.used_origin = b.used_destination = True
        return True

    def _sea_arrival_only(self, b: Call, legs: list[Leg], counts_from: set[str]) -> None:
        hi = max(g.max_duration_hours for g in legs)
        lo = min(g.min_duration_hours for g in legs)
        froms = sorted({g.from_place for g in legs})
        leg = legs[0] if len(froms) == 1 else None
        frm = froms[0] if len(froms) == 1 else None
        self._add(mode="sea", leg=leg, a=None, b=b, tier="possible",
                  reason=f"{b.label or 'a vessel'} seen at {b.place_id} only; nothing at "
                         f"{' or '.join(froms)} within the leg's duration",
                  depart=_rng(b.start - timedelta(hours=hi), b.start - timedelta(hours=lo)
                              if _ais_only(b) else b.end - timedelta(hours=lo), True),
                  arrive=_rng(b.start, b.start, False) if _ais_only(b)
                  else _rng(b.start - timedelta(hours=hi - lo), b.end, True),
                  evidence=_evidence(b, "destination"), cargo=self._cargo([b], b.vessel_id),
                  counts=frm in counts_from if frm else False, from_place=frm,
                  to_place=b.place_id, from_candidates=froms if frm is None else [])
        b.used_destination = True

    def _sea_departure_only(self, a: Call, legs: list[Leg], counts_from: set[str]) -> None:
        active = [g for g in legs if g.active_on(a.start.date())] or legs
        # an AIS gap from near A to near some B?
        for leg in active:
            hi = timedelta(hours=leg.max_duration_hours)
            g = self._gap_between(a.ident, leg.from_place, leg.to_place, a.end + 2 * hi, a.start)
            if g is not None:
                self._add(mode="sea", leg=leg, a=a, b=None, tier="probable",
                          reason=f"{a.label} seen at {a.place_id}; AIS went dark near "
                                 f"{leg.from_place} and came back near {leg.to_place}",
                          depart=_rng(a.start, g["start_ts"], True),
                          arrive=_rng(g["end_ts"], g["end_ts"] + hi, True),
                          evidence=_evidence(a, "origin") + [_gap_evidence(g)],
                          cargo=self._cargo([a], a.vessel_id),
                          counts=leg.from_place in counts_from, from_place=leg.from_place,
                          to_place=leg.to_place)
                a.used_origin = True
                return
        tos = sorted({g.to_place for g in active})
        hi = max(g.max_duration_hours for g in active)
        lo = min(g.min_duration_hours for g in active)
        leg = active[0] if len(tos) == 1 else None
        if a.departed:
            dep = _rng(a.departed[0], a.departed[1], False)
        elif _ais_only(a):  # AIS saw the ship until it left
            dep = _rng(a.end, a.end, False)
        else:
            dep = _rng(a.start, a.end + timedelta(hours=hi), True)
        latest_dep = datetime.fromisoformat(dep["latest"])
        arr = _rng(datetime.fromisoformat(dep["earliest"]) + timedelta(hours=lo),
                   latest_dep + timedelta(hours=hi), True)
        self._add(mode="sea", leg=leg, a=a, b=None, tier="possible",
                  reason=f"{a.label or 'a vessel'} seen at {a.place_id} only; no arrival found "
                         f"(the departure bound uses the leg's maximum duration, I)"
                  if not a.departed else f"{a.label or 'a vessel'} seen leaving {a.place_id}; "
                                         "no arrival found",
                  depart=dep, arrive=arr, evidence=_evidence(a, "origin"),
                  cargo=self._cargo([a], a.vessel_id), counts=a.place_id in counts_from,
                  from_place=a.place_id, to_place=tos[0] if len(tos) == 1 else None,
                  to_candidates=tos if len(tos) > 1 else [])
        a.used_origin = True

    # -- rail
    def rail(self) -> None:
        c = self.c
        rail_legs = [g for g in c.legs if g.mode == "rail"]
        counts_from = {n.place_id for n in c.nodes if n.role == "origin"}
        for dest in sorted({g.to_place for g in rail_legs}):
            for b in self.at(dest):
                if b.subject not in ("train", "railcars", "containers", "cargo"):
                    continue
                legs = [g for g in rail_legs if g.to_place == dest and g.active_on(b.start.date())]
                legs = legs or [g for g in rail_legs if g.to_place == dest]
                self._rail_arrival(b, legs, counts_from)

    def _rail_arrival(self, b: Call, legs: list[Leg], counts_from: set[str]) -> None:
        cands: list[tuple[Call, Leg]] = []
        for leg in legs:
            fits = [a for a in self.at(leg.from_place) if _feasible(a, b, leg)]
            same = [a for a in fits if b.ident is not None and a.ident == b.ident]
            if same:
                a = same[-1]
                self._rail_add(a, b, leg, "confirmed",
                               f"{b.label} seen at {a.place_id} and at {b.place_id}", counts_from)
                return
            if fits:
                cands.append((max(fits, key=lambda x: (x.start, x.call_id)), leg))
        if len(cands) == 1:
            a, leg = cands[0]
            days = (b.start - a.start).total_seconds() / 86400
            what = a.label or a.subject
            self._rail_add(a, b, leg, "probable",
                           f"{b.label or b.subject} seen at {b.place_id}; {what} at {a.place_id} "
                           f"{days:.1f} days earlier, within the leg's "
                           f"{leg.min_duration_hours / 24:g}–{leg.max_duration_hours / 24:g} days",
                           counts_from)
            return
        froms = sorted({g.from_place for g in legs})
        hi = max(g.max_duration_hours for g in legs)
        lo = min(g.min_duration_hours for g in legs)
        frm = froms[0] if len(froms) == 1 else None
        why = ("cargo seen at more than one origin fits: " + ", ".join(a.place_id for a, _ in cands)
               if cands else f"nothing seen at {' or '.join(froms)} within the leg's duration")
        self._add(mode="rail", leg=legs[0] if frm else None, a=None, b=b, tier="possible",
                  reason=f"{b.label or b.subject} seen at {b.place_id} only; {why}",
                  depart=_rng(b.start - timedelta(hours=hi), b.end - timedelta(hours=lo), True),
                  arrive=_rng(b.start, b.end, b.uncertain, _text(b)),
                  evidence=_evidence(b, "destination")
                  + [e for a, _ in cands for e in _evidence(a, "context")],
                  cargo=self._cargo([b], None), counts=False, from_place=frm,
                  to_place=b.place_id, from_candidates=froms if frm is None else [])

    def _rail_add(self, a: Call, b: Call, leg: Leg, tier: str, reason: str,
                  counts_from: set[str]) -> None:
        lo = timedelta(hours=leg.min_duration_hours)
        hi = timedelta(hours=leg.max_duration_hours)
        sea = self.by_dest_call.get(a.call_id)
        if sea is not None:
            cargo = dict(sea["cargo"], basis=f"carries the load of sea shipment "
                                             f"{sea['shipment_id']} ({sea['cargo']['basis']})")
            counts = False
        else:
            cargo = self._cargo([a, b], None)
            counts = leg.from_place in counts_from
        self._add(mode="rail", leg=leg, a=a, b=b, tier=tier, reason=reason,
                  depart=_rng(max(a.start, b.start - hi), b.end - lo, True),
                  arrive=_rng(b.start, b.end, b.uncertain, _text(b)),
                  evidence=_evidence(a, "origin" if tier == "confirmed" else "cargo")
                  + _evidence(b, "destination"),
                  cargo=cargo, counts=counts, from_place=leg.from_place, to_place=leg.to_place,
                  carries=sea["shipment_id"] if sea else None)


# ----------------------------------------------------------------------- rail counts
def rail_section(inp: Inputs) -> dict:
    """Rail observations at nodes in the window, baselines, and surges."""
    c, p = inp.corridor, inp.params
    obs_rows, surges = [], []
    baselines = [r for r in inp.rail if r["kind"] == "baseline"]
    in_window = [r for r in inp.rail if r["kind"] != "baseline"
                 and r["obs_date_end"] >= c.window_start and r["obs_date"] <= c.window_end]
    for r in baselines + in_window:
        obs_rows.append({
            "rail_obs_id": r["rail_obs_id"], "place_id": r["place_id"],
            "obs_date": r["obs_date"].isoformat(), "obs_date_end": r["obs_date_end"].isoformat(),
            "date_text": r.get("date_text"), "date_uncertain": bool(r.get("date_uncertain")),
            "kind": r["kind"], "railcars": r["railcars"], "car_type": r.get("car_type"),
            "qualifier": r.get("qualifier"), "direction": r.get("direction"),
            "description": r.get("description"), "sources": source_tags(r["source"]),
            "marks": list(r.get("marks") or []),
        })
    groups: dict[tuple, list[dict]] = {}
    for r in in_window:
        if r["kind"] == "count" and r["railcars"] is not None:
            groups.setdefault((r["place_id"], r["obs_date"], r["obs_date_end"]), []).append(r)
    warned: set[str] = set()
    for (place, d0, d1), rows in sorted(groups.items()):
        total = sum(r["railcars"] for r in rows)
        base = [b for b in baselines if b["place_id"] == place and b["obs_date"] <= d0]
        if not base:
            if place not in warned:
                inp.warnings.append(f"rail counts at {place} have no baseline row: no surge verdict")
                warned.add(place)
            continue
        bl = max(base, key=lambda b: (b["obs_date_end"], b["rail_obs_id"]))
        ratio = total / bl["railcars"] if bl["railcars"] else float("inf")
        is_surge = ratio >= p.surge_ratio
        tags = _union([source_tags(r["source"]) for r in rows])
        btags = source_tags(bl["source"])
        terms = " + ".join(str(r["railcars"]) for r in rows)
        total_txt = f"{terms} = {total}" if len(rows) > 1 else f"{total}"
        surges.append({
            "rail_obs_ids": [r["rail_obs_id"] for r in rows], "place_id": place,
            "obs_date": d0.isoformat(), "obs_date_end": d1.isoformat(), "railcars": total,
            "car_types": [r.get("car_type") for r in rows], "baseline_railcars": bl["railcars"],
            "baseline_id": bl["rail_obs_id"], "ratio": round(ratio, 4),
            "threshold_ratio": p.surge_ratio, "surge": bool(is_surge),
            "arithmetic": f"{total_txt} railcars {''.join(f'[{t}]' for t in tags)} / baseline "
                          f"{bl['railcars']} ({bl.get('qualifier') or 'baseline'}, "
                          f"{bl.get('date_text') or bl['obs_date']} "
                          f"{''.join(f'[{t}]' for t in btags)}) = {ratio:.2f} "
                          f"{'≥' if is_surge else '<'} {p.surge_ratio:g} → "
                          f"{'surge' if is_surge else 'no surge'}",
            "sources": _union([tags, btags]),
            "marks": _union([list(r.get("marks") or []) for r in rows]),
        })
    return {"observations": obs_rows, "surges": surges}


# ---------------------------------------------------------------------------- claims
def select_claims(inp: Inputs) -> list[dict]:
    """The claims the corridor tests (case claims, listed ids, matching extracted claims)."""
    c = inp.corridor
    nodes = set(c.place_ids)
    out = []
    for cl in inp.claims:
        f = json.loads(cl["fields"]) if isinstance(cl.get("fields"), str) else (cl.get("fields") or {})
        cl = dict(cl, fields=f)
        if cl["claim_id"] in c.claims.ids:
            out.append(cl)
        elif cl["origin"] == "case":
            if c.claims.case and c.case and f.get("case") == c.case:
                out.append(cl)
        elif c.claims.match and nodes & set(cl.get("places") or []):
            ps, pe = cl.get("period_start"), cl.get("period_end")
            if ps is None and pe is None:
                # no period: listed (as untestable, with the reason) only if it has a number
                if cl.get("quantity") is not None:
                    out.append(cl)
                continue
            ps, pe = ps or pe, pe or ps
            if pe >= c.window_start and ps <= c.window_end:
                out.append(cl)
    return out


def judge_claims(inp: Inputs, claims: list[dict], shipments: list[dict], calls: list[dict]
                ) -> tuple[list[dict], list[dict]]:
    """(claim results, estimates) — one estimate per distinct (measure, period, places, vessel)."""
    c, p = inp.corridor, inp.params
    ep = p.estimate_params()
    origins = [n.place_id for n in c.nodes if n.role == "origin"]
    estimates: dict[str, dict] = {}
    results = []
    for cl in claims:
        f = cl["fields"]
        measure = est.measure_of(cl.get("quantity_unit"), f.get("measure"))
        ps, pe = cl.get("period_start"), cl.get("period_end")
        vessel = f.get("vessel_id")
        places = [x for x in (cl.get("places") or []) if x in c.place_ids]
        reason = None
        if cl.get("quantity") is None:
            reason = "the claim has no number corridor can test"
        elif measure is None:
            reason = (f"unit {cl.get('quantity_unit')!r} is not something corridor counts "
                      "(containers, shipments, port calls)")
        elif ps is None or pe is None:
            reason = (f"the claim's period has no {'start' if ps is None else 'end'}: "
                      f"{f.get('period_text') or 'not stated'}")
        elif ps < c.window_start or pe > c.window_end:
            reason = (f"the claim's period {ps} – {pe} is not inside the corridor window "
                      f"{c.window_start} – {c.window_end}; the evidence covers only the window")
        e = None
        if reason is None:
            if measure == "containers":
                frm = [x for x in places if x in origins] or origins
                e = est.estimate_containers(c.corridor_id, shipments, ps, pe, frm, vessel, ep)
            elif measure == "shipments":
                frm = [x for x in places if x in origins] or origins
                e = est.estimate_shipments(c.corridor_id, shipments, ps, pe, frm, vessel, ep)
            else:
                e = est.estimate_calls(c.corridor_id, calls, shipments, ps, pe, places, vessel)
            estimates.setdefault(e["estimate_id"], e)
        judged = est.judge_claim(
            {"quantity": cl.get("quantity"), "qualifier": cl.get("qualifier"),
             "unit": cl.get("quantity_unit"), "sources": f.get("sources") or [],
             "per_load_high": c.cargo.per_load_high},
            e, reason, ep)
        results.append({
            "claim_id": cl["claim_id"], "key": f.get("key"), "sentence": cl["sentence"],
            "attribution": cl.get("attribution"), "stated_on": f.get("stated_on"),
            "quantity": cl.get("quantity"), "unit": cl.get("quantity_unit"),
            "qualifier": cl.get("qualifier"), "measure": measure,
            "claim_range": judged["claim_range"],
            "period": {"start": ps.isoformat() if ps else None,
                       "end": pe.isoformat() if pe else None, "text": f.get("period_text")},
            "places": list(cl.get("places") or []), "vessel_id": vessel,
            "origin": cl["origin"], "report_id": cl.get("report_id"),
            "sources": list(f.get("sources") or []), "marks": list(f.get("marks") or []),
            "estimate_id": judged["estimate_id"], "verdict": judged["verdict"],
            "arithmetic": judged["arithmetic"],
        })
    results.sort(key=lambda r: (r["period"]["start"] or "9999", r["key"] or r["claim_id"]))
    return results, sorted(estimates.values(), key=lambda e: (e["period"]["start"], e["measure"],
                                                               e["estimate_id"]))


# --------------------------------------------------------------------- the object
@dataclass
class Reconstruction:
    """The result of :func:`reconstruct`; ``to_json()`` is the documented contract."""

    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return self.data

    def shipments_table(self) -> pa.Table:
        """Shipments as rows of the ``shipments`` table (Arrow)."""
        rows = []
        for s in self.data["shipments"]:
            rows.append({
                "shipment_id": s["shipment_id"], "corridor_id": self.data["corridor"]["id"],
                "mode": s["mode"], "vessel_id": s["vessel_id"], "mmsi": s["mmsi"],
                "from_place_id": s["from_place_id"], "to_place_id": s["to_place_id"],
                "depart_earliest": _dt(s["depart"]["earliest"]),
                "depart_latest": _dt(s["depart"]["latest"]),
                "arrive_earliest": _dt(s["arrive"]["earliest"]),
                "arrive_latest": _dt(s["arrive"]["latest"]),
                "tier": s["tier"], "evidence": [e["id"] for e in s["evidence"]],
                "cargo_low": s["cargo"]["low"], "cargo_high": s["cargo"]["high"],
                "cargo_unit": s["cargo"]["unit"], "cargo_basis": s["cargo"]["basis"],
                "attrs": json.dumps({"leg_id": s["leg_id"], "tier_reason": s["tier_reason"],
                                     "sources": s["sources"], "marks": s["marks"],
                                     "counts_toward_totals": s["counts_toward_totals"]},
                                    ensure_ascii=False),
            })
        schema = pa.schema([
            ("shipment_id", pa.string()), ("corridor_id", pa.string()), ("mode", pa.string()),
            ("vessel_id", pa.string()), ("mmsi", pa.int64()), ("from_place_id", pa.string()),
            ("to_place_id", pa.string()), ("depart_earliest", pa.timestamp("us")),
            ("depart_latest", pa.timestamp("us")), ("arrive_earliest", pa.timestamp("us")),
            ("arrive_latest", pa.timestamp("us")), ("tier", pa.string()),
            ("evidence", pa.list_(pa.string())), ("cargo_low", pa.float64()),
            ("cargo_high", pa.float64()), ("cargo_unit", pa.string()), ("cargo_basis", pa.string()),
            ("attrs", pa.string())])
        return pa.Table.from_pylist(rows, schema=schema)

    def summary_table(self) -> pa.Table:
        """A compact shipments listing for the terminal."""
        rows = [{"tier": s["tier"], "mode": s["mode"], "vessel": s["vessel_name"] or "",
                 "from": s["from_place_id"] or "/".join(s["from_candidates"]),
                 "to": s["to_place_id"] or "/".join(s["to_candidates"]),
                 "depart": _short(s["depart"]), "arrive": _short(s["arrive"]),
                 "cargo": f"{est.fmt(s['cargo']['low'])}–{est.fmt(s['cargo']['high'])}"
                 if s["cargo"]["low"] is not None else "",
                 "sources": "".join(f"[{t}]" for t in s["sources"])}
                for s in self.data["shipments"]]
        return pa.Table.from_pylist(rows) if rows else pa.table({"tier": pa.array([], pa.string())})

    def to_text(self) -> str:
        from corridor.output import to_text_table

        d = self.data
        out = [f"{d['corridor']['title']} ({d['corridor']['id']}), "
               f"{d['window']['start']} – {d['window']['end']}", "",
               f"Shipments ({len(d['shipments'])}):", to_text_table(self.summary_table()), ""]
        if d["rail"]["surges"]:
            out.append("Rail surges:")
            out.extend(f"  {s['place_id']} {s['obs_date']}: {s['arithmetic']}"
                       for s in d["rail"]["surges"])
            out.append("")
        out.append("Claims:")
        for cl in d["claims"]:
            out.append(f"  [{cl['verdict']}] {cl['key'] or cl['claim_id']}: {cl['sentence']}")
            out.append(f"      {cl['arithmetic']}")
        if d["warnings"]:
            out.append("")
            out.extend(f"warning: {w}" for w in d["warnings"])
        return "\n".join(out)

    def to_geojson(self) -> dict[str, Any]:
        d = self.data
        coords = {n["place_id"]: (n["lon"], n["lat"]) for n in d["nodes"] if n["lat"] is not None}
        feats = []
        for n in d["nodes"]:
            geom = {"type": "Point", "coordinates": [n["lon"], n["lat"]]} \
                if n["lat"] is not None else None
            feats.append({"type": "Feature", "geometry": geom, "properties": dict(n, feature="node")})
        for s in d["shipments"]:
            a, b = coords.get(s["from_place_id"]), coords.get(s["to_place_id"])
            geom = {"type": "LineString", "coordinates": [list(a), list(b)]} if a and b else None
            feats.append({"type": "Feature", "geometry": geom,
                          "properties": dict(s, feature="shipment")})
        for s in d["rail"]["surges"]:
            pt = coords.get(s["place_id"])
            geom = {"type": "Point", "coordinates": list(pt)} if pt else None
            feats.append({"type": "Feature", "geometry": geom, "properties": dict(s, feature="surge")})
        return {"type": "FeatureCollection", "features": feats}

    def save(self, store: Store) -> int:
        """Replace this corridor's rows in the ``shipments`` table; returns rows written."""
        tbl = self.shipments_table()
        with store.transaction():
            store.con.execute("DELETE FROM shipments WHERE corridor_id = ?",
                              [self.data["corridor"]["id"]])
            store.insert_arrow("shipments", tbl, on_conflict="replace")
        return tbl.num_rows


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _short(r: dict) -> str:
    a, b = r.get("earliest"), r.get("latest")
    if a is None and b is None:
        return "?"
    a, b = (a or "?")[:10], (b or "?")[:10]
    text = a if a == b else f"{a}…{b}"
    return text + (" ~" if r.get("uncertain") else "")


# ------------------------------------------------------------------------- main
def reconstruct(store: Store, corridor: str | Path | Corridor,
                params: ReconstructParams | None = None, *, save: bool = True) -> Reconstruction:
    """Reconstruct ``corridor`` (a shipped id, a YAML path or a :class:`Corridor`) from the store.

    ``params`` default to the corridor file's ``params`` section over the defaults of
    :class:`ReconstructParams`. With ``save`` the shipments replace the corridor's rows in the
    ``shipments`` table.
    """
    c = corridor if isinstance(corridor, Corridor) else load_corridor(corridor)
    if params is None:
        params = ReconstructParams.from_dict(c.params, f"{c.path}: params")
    inp = load_inputs(store, c, params)
    obs, context, ais = build_observations(store, inp)
    calls = build_calls(obs, params.call_merge_hours)
    b = _Builder(inp, calls, ais)
    b.sea()
    b.rail()
    shipments = sorted(b.shipments, key=lambda s: (s["depart"]["earliest"] or s["arrive"]["earliest"]
                                                    or "", s["mode"], s["shipment_id"]))
    calls_json = [call_json(x) for x in calls]
    rail = rail_section(inp)
    claims, estimates = judge_claims(inp, select_claims(inp), shipments, calls_json)
    origins = [n.place_id for n in c.nodes if n.role == "origin"]
    ep = params.estimate_params()
    for e in (est.estimate_containers(c.corridor_id, shipments, c.window_start, c.window_end,
                                      origins, None, ep),
              est.estimate_shipments(c.corridor_id, shipments, c.window_start, c.window_end,
                                     origins, None, ep)):
        if all(x["estimate_id"] != e["estimate_id"] for x in estimates):
            estimates.insert(0, e)
    data = {
        "format": FORMAT,
        "corridor": {"id": c.corridor_id, "title": c.title, "description": c.description,
                     "file": c.path, "case": c.case, "data": c.data, "cargo_unit": c.cargo.unit,
                     "cargo": {"per_load_low": c.cargo.per_load_low,
                               "per_load_high": c.cargo.per_load_high, "basis": c.cargo.basis,
                               "sources": list(c.cargo.sources)}},
        "window": {"start": c.window_start.isoformat(), "end": c.window_end.isoformat()},
        "nodes": _nodes_json(inp),
        "legs": [_leg_json(g) for g in c.legs],
        "vessels": _vessels_json(inp, shipments),
        "calls": calls_json,
        "shipments": shipments,
        "rail": rail,
        "estimates": estimates,
        "claims": claims,
        "context": context,
        "sources": [],
        "warnings": inp.warnings,
        "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(params).items()},
    }
    data["sources"] = _sources_json(inp, data)
    rec = Reconstruction(data)
    if save:
        rec.save(store)
    return rec


def _nodes_json(inp: Inputs) -> list[dict]:
    out = []
    for n in inp.corridor.nodes:
        p = inp.places.get(n.place_id)
        note = inp.place_notes.get(n.place_id, {})
        tags = source_tags(note.get("sources", "").replace(";", " ")) or \
            (source_tags(p["source"]) if p else [])
        out.append({
            "place_id": n.place_id, "name": p["name"] if p else note.get("name", n.place_id),
            "role": n.role, "kind": p["kind"] if p else note.get("kind"),
            "country": p["country"] if p else (note.get("country") or None),
            "lat": p["lat"] if p else None, "lon": p["lon"] if p else None,
            "precision": p["precision"] if p else (note.get("precision") or "approximate"),
            "precision_note": note.get("precision_note") or None,
            "radius_m": p["radius_m"] if p else None, "aliases": list(p["aliases"] or []) if p else [],
            "mark": note.get("mark") or None, "sources": tags,
            "note": n.note or note.get("note") or None,
        })
    return out


def _leg_json(g: Leg) -> dict:
    return {"leg_id": g.leg_id, "from": g.from_place, "to": g.to_place, "mode": g.mode,
            "duration_hours": {"min": g.min_duration_hours, "max": g.max_duration_hours},
            "active": {"start": g.active_start.isoformat() if g.active_start else None,
                       "end": g.active_end.isoformat() if g.active_end else None},
            "distance_km": g.distance_km, "sources": list(g.sources), "note": g.note}


def _vessels_json(inp: Inputs, shipments: list[dict]) -> list[dict]:
    want = list(inp.corridor.vessels) + [s["vessel_id"] for s in shipments if s["vessel_id"]]
    rows = {v["vessel_id"]: v for v in inp.vessels.to_pylist()}
    case_prefix = f"case:{inp.corridor.case}:" if inp.corridor.case else None
    matches: dict[str, list[dict]] = {}
    for w in inp.watchlist:
        if case_prefix and w["entity_id"].startswith(case_prefix):
            vid = w["entity_id"][len(case_prefix):].rsplit(":", 1)[0]
            matches.setdefault(vid, []).append(dict(w, matched_on="case"))
            continue
        res = inp.resolver.resolve(imo=w.get("imo"), mmsi=w.get("mmsi"), name=w.get("name"))
        if res.vessel_id is None:
            for alias in w.get("aliases") or []:
                res = inp.resolver.resolve(name=alias)
                if res.vessel_id:
                    break
        if res.vessel_id:
            matches.setdefault(res.vessel_id, []).append(dict(w, matched_on=res.matched_on))
    out = []
    for vid in dict.fromkeys(want):
        v = rows.get(vid)
        if v is None:
            inp.warnings.append(f"vessel {vid!r} is listed by the corridor but not in the vessels "
                                "table")
            continue
        ms = matches.get(vid, [])
        sanctions = [{"authority": w.get("authority"), "program": (w.get("programs") or [None])[0],
                      "listed_on": w["listed_on"].isoformat() if w.get("listed_on") else None,
                      "text": w.get("note"), "marks": list(w.get("marks") or []),
                      "sources": source_tags(w["source"])} for w in ms if w["matched_on"] == "case"]
        wl = [{"entity_id": w["entity_id"], "name": w.get("name"),
               "programs": list(w.get("programs") or []),
               "listed_on": w["listed_on"].isoformat() if w.get("listed_on") else None,
               "source": w["source"], "matched_on": w["matched_on"]}
              for w in ms if w["matched_on"] != "case"]
        out.append({
            "vessel_id": vid, "name": v["name"], "aliases": list(v.get("aliases") or []),
            "imo": v.get("imo"), "imo_status": v.get("imo_status"), "mmsi": v.get("mmsi"),
            "flag": v.get("flag"), "vessel_type": v.get("vessel_type"),
            "length_m": v.get("length_m"), "gross_tonnage": v.get("gross_tonnage"),
            "capacity_teu": v.get("capacity_teu"), "owner": v.get("owner"),
            "sanctions": sanctions, "watchlist": wl, "marks": list(v.get("marks") or []),
            "sources": source_tags(v.get("source")), "notes": v.get("notes"),
        })
    return out


def _collect_tags(obj: Any, acc: set[str]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "sources" and isinstance(v, list):
                acc.update(t for t in v if isinstance(t, str))
            else:
                _collect_tags(v, acc)
    elif isinstance(obj, list):
        for v in obj:
            _collect_tags(v, acc)
    elif isinstance(obj, str) and "[S" in obj:
        acc.update(source_tags(obj))


def _sources_json(inp: Inputs, data: dict) -> list[dict]:
    tags: set[str] = set()
    _collect_tags({k: v for k, v in data.items() if k not in ("sources", "shipments", "calls")},
                  tags)
    for c in data["calls"]:
        tags.update(c["sources"])
    for s in data["shipments"]:  # evidence sources are already unioned into the shipment's
        tags.update(s["sources"])
        tags.update(s["cargo"].get("sources") or [])
        for text in (s["tier_reason"], s["cargo"].get("basis") or ""):
            if "[S" in text:
                tags.update(source_tags(text))
    out = []
    for t in sorted(tags, key=_tag_key):
        r = inp.sources.get(t)
        if r is None:
            inp.warnings.append(f"source tag {t} is cited but not in the sources table")
            out.append({"tag": t, "parent": None, "publisher": None, "title": None, "date": None,
                        "url": None, "other_urls": [], "marks": [], "citation": None})
            continue
        out.append({"tag": t, "parent": r.get("parent"), "publisher": r.get("publisher"),
                    "title": r.get("title"), "date": r.get("date"), "url": r.get("url"),
                    "other_urls": list(r.get("other_urls") or []),
                    "marks": list(r.get("marks") or []), "citation": r.get("citation")})
    return out

