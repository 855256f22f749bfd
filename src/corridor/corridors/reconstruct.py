"""Reconstruct what moved along a corridor: calls, shipments, rail surges, estimates, verdicts.

The stages, each in its own module, with typed objects between them
(:mod:`corridor.corridors.objects`):

1. **Inputs** (:mod:`~corridor.corridors.inputs`): everything read from the store, nothing else.
2. **Calls** (:mod:`~corridor.corridors.calls`): observations matched to nodes and merged.
3. **Shipments** (:mod:`~corridor.corridors.shipments`): sea and rail legs with a tier.
4. **Rail surges** (:mod:`~corridor.corridors.rail`) and **estimates**
   (:mod:`~corridor.corridors.estimate`).
5. **Verdicts** (:mod:`~corridor.corridors.verdicts`): claims held against the estimates.

The result is a :class:`~corridor.corridors.objects.Reconstruction`; its ``to_dict()`` is the
JSON documented in ``docs/reconstruction.md`` (format ``corridor.reconstruction/1``), and
:mod:`corridor.corridors.export` writes GeoJSON, text and the ``shipments`` table.

Everything is deterministic: sorted inputs, ids from content (:func:`corridor.ids.stable_id`).
"""

from __future__ import annotations

import re
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from corridor.corridors import estimate as est
from corridor.corridors.calls import build_calls, build_observations
from corridor.corridors.inputs import Inputs, load_inputs
from corridor.corridors.model import Corridor, Leg, load_corridor
from corridor.corridors.objects import FORMAT, Reconstruction
from corridor.corridors.params import ReconstructError, ReconstructParams
from corridor.corridors.rail import rail_section
from corridor.corridors.shipments import ShipmentBuilder
from corridor.corridors.verdicts import judge_claims, select_claims
from corridor.ingest.observations import source_tags
from corridor.store import Store

__all__ = ["FORMAT", "Reconstruction", "ReconstructError", "ReconstructParams", "reconstruct"]


def _tag_key(tag: str) -> tuple[int, str]:
    m = re.match(r"S(\d+)([a-z]?)", tag)
    return (int(m.group(1)), m.group(2)) if m else (10**6, tag)


def reconstruct(store: Store, corridor: str | Path | Corridor,
                params: ReconstructParams | None = None, *, save: bool = False) -> Reconstruction:
    """Reconstruct ``corridor`` (a shipped id, a YAML path, a case folder or a
    :class:`Corridor`) from the store.

    ``params`` default to the corridor file's ``params`` section over the defaults of
    :class:`ReconstructParams`. With ``save=True`` the shipments replace the corridor's rows in
    the ``shipments`` table (``corridor reconstruct`` does this unless ``--no-save``); by default
    the store is only read, so a report or a notebook never writes to it.
    """
    c = corridor if isinstance(corridor, Corridor) else load_corridor(corridor)
    if params is None:
        params = ReconstructParams.from_dict(c.params, f"{c.path}: params")
    inp = load_inputs(store, c, params)
    observed = build_observations(store, inp)
    calls = build_calls(observed.obs, params.call_merge_hours,
                        max_stay_days=params.max_stay_days, main_unit=c.cargo.unit,
                        elsewhere=observed.elsewhere)
    builder = ShipmentBuilder(inp, calls, observed)
    shipments = builder.build()
    rail = rail_section(inp)
    claims, estimates = judge_claims(inp, select_claims(inp), shipments, calls)
    origins = [n.place_id for n in c.nodes if n.role == "origin"]
    ep = params.estimate_params()
    ests = list(estimates)
    for e in (est.estimate_containers(c.corridor_id, shipments, c.window_start, c.window_end,
                                      origins, None, ep),
              est.estimate_shipments(c.corridor_id, shipments, c.window_start, c.window_end,
                                     origins, None, ep)):
        if all(x.estimate_id != e.estimate_id for x in ests):
            ests.insert(0, e)
    for k, u in enumerate(c.cargo.units):  # the window in every further unit, after those two
        e = est.estimate_cargo(c.corridor_id, shipments, c.window_start, c.window_end, origins,
                               None, ep, unit=u.unit)
        if all(x.estimate_id != e.estimate_id for x in ests):
            ests.insert(2 + k, e)
    corridor_json = {
        "id": c.corridor_id, "title": c.title, "description": c.description, "file": c.path,
        "case": c.case, "data": c.data, "cargo_unit": c.cargo.unit,
        "cargo": {"per_load_low": c.cargo.per_load_low, "per_load_high": c.cargo.per_load_high,
                  "basis": c.cargo.basis, "sources": list(c.cargo.sources)},
    }
    vessels = _vessels_json(inp, [s.vessel_id for s in shipments if s.vessel_id])
    rec = Reconstruction(
        format=FORMAT, corridor=corridor_json,
        window={"start": c.window_start.isoformat(), "end": c.window_end.isoformat()},
        nodes=tuple(_nodes_json(inp)), legs=tuple(_leg_json(g) for g in c.legs),
        vessels=tuple(vessels), calls=calls, shipments=shipments, rail=rail,
        estimates=tuple(ests), claims=claims,
        context=observed.context + tuple(builder.context), sources=(),
        warnings=(), params={k: (list(v) if isinstance(v, tuple) else v)
                             for k, v in asdict(params).items()},
    )
    sources = _sources_json(inp, rec.to_dict())
    rec = replace(rec, sources=tuple(sources), warnings=tuple(inp.warnings))
    if save:
        rec.save(store)
    return rec


def _nodes_json(inp: Inputs) -> list[dict]:
    out = []
    for n in inp.corridor.nodes:
        p = inp.places.get(n.place_id)
        note = inp.place_notes.get(n.place_id, {})
        tags = list(note.get("sources") or []) or (source_tags(p["source"]) if p else [])
        out.append({
            "place_id": n.place_id, "name": p["name"] if p else note.get("name", n.place_id),
            "role": n.role, "kind": p["kind"] if p else note.get("kind"),
            "country": p["country"] if p else (note.get("country") or None),
            "lat": p["lat"] if p else None, "lon": p["lon"] if p else None,
            "precision": p["precision"] if p else (note.get("precision") or "approximate"),
            "precision_note": note.get("precision_note") or None,
            "radius_m": p["radius_m"] if p else None,
            # a guarded alias (~Name: only after a place cue) is shown as written in sources
            "aliases": [a.lstrip("~") for a in (p["aliases"] or [])] if p else [],
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


def _vessels_json(inp: Inputs, shipment_vessels: list[str]) -> list[dict]:
    want = list(inp.corridor.vessels) + shipment_vessels
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

