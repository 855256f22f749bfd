"""Stage 2: observations at the corridor's nodes, merged into calls.

Sightings and AIS port-visit events are matched to the nodes (by place id, or by coordinate
within the node's radius). Sightings with no place, off the corridor, with a range wider than
``max_call_span_days`` or about activity only go to ``context`` with the reason.

Observations at one node that touch or lie within ``call_merge_hours`` of each other and have
compatible identities merge into one :class:`~corridor.corridors.objects.Call`. Different
identified vessels never merge; an unidentified vessel sighting next to an identified call
merges into it and is counted (``unidentified_merged``) so that counts can give it back as a
possible separate ship. A ``departed`` observation closes a call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from corridor.corridors.inputs import Inputs
from corridor.corridors.objects import Call, Obs, TimeRange
from corridor.geo import haversine_m
from corridor.identity import VesselResolver
from corridor.ids import stable_id
from corridor.ingest.observations import source_tags
from corridor.store import Store

_STRENGTH = {"vessel": 4, "train": 3, "railcars": 2, "containers": 1, "cargo": 1}


def union(lists) -> tuple[str, ...]:
    """Items of ``lists`` in first-seen order, each once."""
    out: dict[str, None] = {}
    for xs in lists:
        for x in xs:
            out.setdefault(x, None)
    return tuple(out)


class NodeMatcher:
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

    def near(self, lat: float | None, lon: float | None, place: str, extra_m: float) -> bool:
        """True if the coordinate is within ``place``'s radius plus ``extra_m`` metres."""
        if place not in self.ids:
            return False
        i = self.ids.index(place)
        return bool(self.distances(lat, lon)[i] <= self.radius[i] + extra_m)


@dataclass(frozen=True)
class AisEvent:
    """An AIS gap or voyage event with the identity of its MMSI (internal)."""

    event_id: str
    type: str
    mmsi: int | None
    start_ts: datetime
    end_ts: datetime | None
    attrs: dict[str, Any]
    ident: str | None
    vessel_id: str | None
    label: str | None


@dataclass(frozen=True)
class Observations:
    """Stage output: observations at nodes, context rows, AIS gaps and voyages."""

    obs: tuple[Obs, ...]
    context: tuple[dict[str, Any], ...]
    gaps: tuple[AisEvent, ...]
    voyages: tuple[AisEvent, ...]
    matcher: NodeMatcher
    #: AIS port visits off the corridor: (ident, start, end)
    elsewhere: tuple[tuple[str, datetime, datetime], ...] = ()


def rng(a: datetime | None, b: datetime | None, uncertain: bool, text: str | None = None
        ) -> TimeRange:
    return TimeRange(a, b, bool(uncertain), text)


def mmsi_identities(store: Store, mmsis: list[int], resolver: VesselResolver
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


def sighting_summary(s: dict) -> str:
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


def _count_unit(inp: Inputs, s: dict) -> str | None:
    """The corridor unit a sighting's count is in: its ``unit`` column, else its subject
    (``containers``, ``railcars``), else the corridor's main unit for ``cargo``. A unit the
    corridor does not declare is kept as written (never counted) and warned about."""
    if not s.get("count"):
        return None
    cargo = inp.corridor.cargo
    written = s.get("count_unit") or None
    if written is None and s["subject"] in ("containers", "railcars", "cargo", "train"):
        hit = cargo.unit_for(s["subject"])
        if hit is not None:
            return hit.unit
        return cargo.unit if s["subject"] in ("containers", "cargo") else None
    if written is None:
        return None
    hit = cargo.unit_for(written)
    if hit is not None:
        return hit.unit
    msg = (f"sightings count {written!r}, a unit the corridor does not declare (cargo.unit / "
           f"cargo.units): those counts are not used")
    if msg not in inp.warnings:
        inp.warnings.append(msg)
    return written


def build_observations(store: Store, inp: Inputs) -> Observations:
    """Observations at nodes, context rows, and AIS gap/voyage events."""
    c, p = inp.corridor, inp.params
    nodes = set(c.place_ids)
    matcher = NodeMatcher(inp.places, p.default_radius_m)
    obs: list[Obs] = []
    context: list[dict] = []
    for s in inp.sightings:
        tags = tuple(source_tags(s["source"]))
        marks = tuple(s.get("marks") or [])
        place = s["place_id"]
        if place is None and s.get("lat") is not None:
            place = matcher.node_at(s["lat"], s["lon"])
        summary = sighting_summary(s)
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
                "time": rng(s["ts_start"], s["ts_end"], s["date_uncertain"],
                            s.get("date_text")).to_dict(),
                "summary": summary, "reason": reason, "sources": list(tags), "marks": list(marks),
            })
            continue
        vid = s.get("vessel_id")
        ident = vid
        if ident is None and s.get("mmsi"):
            ident = f"mmsi:{s['mmsi']}"
        unit = _count_unit(inp, s)
        obs.append(Obs(
            kind="sighting", id=s["sighting_id"], place_id=place, ident=ident, vessel_id=vid,
            label=s.get("vessel_name") or ({"train": "train", "containers": "containers"}
                                           .get(s["subject"])),
            mmsi=s.get("mmsi"), subject=s["subject"], start=s["ts_start"], end=s["ts_end"],
            uncertain=bool(s.get("date_uncertain")), text=s.get("date_text"),
            activity=s.get("activity"), count=s.get("count"), summary=summary, sources=tags,
            marks=marks, unit=unit, shared_by=max(int(s.get("count_vessels") or 1), 1),
        ))
    mmsis = sorted({e["mmsi"] for e in inp.events if e["mmsi"] is not None})
    idents = mmsi_identities(store, mmsis, inp.resolver)
    gaps: list[AisEvent] = []
    voyages: list[AisEvent] = []
    elsewhere: list[tuple[str, datetime, datetime]] = []
    for e in inp.events:
        attrs = json.loads(e["attrs"]) if isinstance(e["attrs"], str) else (e["attrs"] or {})
        ident, vid, label = idents.get(e["mmsi"], (None, None, None))
        if e["type"] != "port_visit":
            (gaps if e["type"] == "gap" else voyages).append(AisEvent(
                e["event_id"], e["type"], e["mmsi"], e["start_ts"], e["end_ts"], attrs, ident,
                vid, label))
            continue
        place = e["place_id"] if e["place_id"] in nodes else matcher.node_at(e["lat"], e["lon"])
        if place is None:
            if ident is not None:  # a port call off the corridor: the ship went somewhere else
                elsewhere.append((ident, e["start_ts"], e["end_ts"] or e["start_ts"]))
            continue
        end = e["end_ts"] or e["start_ts"]
        obs.append(Obs(
            kind="event", id=e["event_id"], place_id=place, ident=ident, vessel_id=vid,
            label=label, mmsi=e["mmsi"], subject="vessel", start=e["start_ts"], end=end,
            uncertain=False, text=None, activity="port visit (AIS)", count=None,
            summary=f"AIS port visit of {label} at {place}", sources=(), marks=(),
        ))
    return Observations(tuple(obs), tuple(context), tuple(gaps), tuple(voyages), matcher,
                        tuple(elsewhere))


# ------------------------------------------------------------------------- calls
@dataclass
class _Open:
    """A call being merged (mutable working state of :func:`build_calls`)."""

    place_id: str
    ident: str | None
    main_unit: str | None = None
    obs: list[Obs] = field(default_factory=list)
    closed: bool = False
    departed: tuple[datetime, datetime] | None = None
    unidentified_merged: int = 0

    @property
    def end(self) -> datetime:
        return max(o.end for o in self.obs)

    @property
    def mode(self) -> str:
        return "rail" if any(o.subject in ("train", "railcars") for o in self.obs) else "sea"

    def freeze(self) -> Call:
        obs = tuple(self.obs)
        start, end = min(o.start for o in obs), max(o.end for o in obs)
        ided = [o.label for o in obs if o.ident == self.ident and o.label]
        label = ided[0] if ided else next((o.label for o in obs if o.label), None)
        counted = [o for o in obs if o.subject in ("containers", "cargo") and o.count
                   and o.unit == self.main_unit]
        top = max(counted, key=lambda o: o.count) if counted else None
        text = "; ".join(dict.fromkeys(o.text for o in obs if o.text)) or None
        return Call(
            call_id=stable_id("call", self.place_id, sorted(o.id for o in obs)),
            place_id=self.place_id,
            vessel_id=next((o.vessel_id for o in obs if o.vessel_id), None),
            vessel_name=label,
            mmsi=next((o.mmsi for o in obs if o.mmsi is not None), None),
            subject=max((o.subject for o in obs), key=lambda s: _STRENGTH.get(s, 0)),
            time=rng(start, end, any(o.uncertain for o in obs), text),
            departed=rng(*self.departed, False) if self.departed else None,
            activity=union([[o.activity] for o in obs if o.activity]),
            count=top.count if top else None,
            unidentified_merged=self.unidentified_merged,
            evidence=tuple(o.id for o in obs),
            sources=union(o.sources for o in obs),
            marks=union(o.marks for o in obs),
            count_unit=top.unit if top else None,
            count_shared_by=top.shared_by if top else 1,
            ident=self.ident,
            obs=obs,
        )


def _mode_o(o: Obs) -> str:
    return "rail" if o.subject in ("train", "railcars") else "sea"


def build_calls(obs: tuple[Obs, ...] | list[Obs], merge_hours: float, *,
                max_stay_days: float = 0.0, main_unit: str | None = "containers",
                elsewhere: tuple[tuple[str, datetime, datetime], ...] = ()) -> tuple[Call, ...]:
    """Merge observations into calls per node (see the module docstring).

    A departure of an identified ship (activity ``depart…``) also joins that ship's open call
    at the same place up to ``max_stay_days`` back, when nothing shows the ship anywhere else
    in between ("arrived 27 Jan", "departed 3 Feb": one call). ``main_unit``: the unit a
    call's ``count`` is in. ``elsewhere``: (ident, start, end) of the ship's presence off the
    corridor (AIS port visits), which keeps such calls apart.
    """
    merge = timedelta(hours=merge_hours)
    stay = timedelta(days=max_stay_days)
    calls: list[_Open] = []
    active: dict[str, list[_Open]] = {}  # calls that a later observation can still join
    seen_at: dict[str, list[tuple[datetime, datetime, str]]] = {}  # ident -> (start, end, place)
    for o in obs:
        if o.ident is not None:
            seen_at.setdefault(o.ident, []).append((o.start, o.end, o.place_id))
    for ident, a, b in elsewhere:
        seen_at.setdefault(ident, []).append((a, b, "\x00elsewhere"))
    by_ident: dict[tuple[str, str], list[_Open]] = {}  # (place, ident) -> calls, for departures

    def away_between(ident: str, place: str, t0: datetime, t1: datetime) -> bool:
        return any(p != place and s < t1 and e > t0 for s, e, p in seen_at.get(ident, []))

    for o in sorted(obs, key=lambda o: (o.place_id, o.start, o.end, o.id)):
        # observations come in start order, so a call that ended more than ``merge`` before
        # this one can never be joined again: drop it (keeps the pass linear)
        live = [c for c in active.get(o.place_id, []) if not c.closed and o.start - c.end <= merge]
        active[o.place_id] = live
        open_calls = [c for c in live if c.mode == _mode_o(o)]
        same = [c for c in open_calls if o.ident is not None and c.ident == o.ident]
        departs = (o.activity or "").lower().startswith("depart")
        if not same and departs and o.ident is not None and stay > timedelta(0):
            prior = [c for c in by_ident.get((o.place_id, o.ident), [])
                     if not c.closed and c.mode == _mode_o(o) and o.start - c.end <= stay
                     and not away_between(o.ident, o.place_id, c.end, o.start)]
            same = prior[-1:]
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
            target = _Open(place_id=o.place_id, ident=o.ident, main_unit=main_unit)
            active[o.place_id].append(target)
            calls.append(target)
        else:
            if o.ident is None and o.subject == "vessel" and target.ident is not None:
                target.unidentified_merged += 1
            if o.ident is not None and target.ident is None:
                target.unidentified_merged += sum(1 for x in target.obs
                                                  if x.subject == "vessel" and x.ident is None)
                target.ident = o.ident
        if target.ident is not None:
            lst = by_ident.setdefault((o.place_id, target.ident), [])
            if not lst or lst[-1] is not target:
                lst.append(target)
        target.obs.append(o)
        if departs:
            target.departed = (o.start, o.end)
            target.closed = True
    frozen = [c.freeze() for c in calls]
    return tuple(sorted(frozen, key=lambda c: (c.start, c.place_id, c.call_id)))
