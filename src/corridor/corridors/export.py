"""The edge: a :class:`~corridor.corridors.objects.Reconstruction` as GeoJSON, text, and rows of
the ``shipments`` table. (The JSON is ``Reconstruction.to_dict()``.)"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from corridor.corridors import estimate as est
from corridor.corridors.objects import Reconstruction, TimeRange
from corridor.schema import SHIPMENTS
from corridor.store import Store


def shipments_table(rec: Reconstruction) -> pa.Table:
    """Shipments as rows of the ``shipments`` table (:data:`corridor.schema.SHIPMENTS`)."""
    cid = rec.corridor["id"]
    rows = [{
        "shipment_id": s.shipment_id, "corridor_id": cid, "mode": s.mode,
        "vessel_id": s.vessel_id, "mmsi": s.mmsi, "from_place_id": s.from_place_id,
        "to_place_id": s.to_place_id, "depart_earliest": s.depart.earliest,
        "depart_latest": s.depart.latest, "arrive_earliest": s.arrive.earliest,
        "arrive_latest": s.arrive.latest, "tier": s.tier,
        "evidence": [e.id for e in s.evidence], "cargo_low": s.cargo.low,
        "cargo_high": s.cargo.high, "cargo_unit": s.cargo.unit, "cargo_basis": s.cargo.basis,
        "attrs": json.dumps({"leg_id": s.leg_id, "tier_reason": s.tier_reason,
                             "sources": list(s.sources), "marks": list(s.marks),
                             "counts_toward_totals": s.counts_toward_totals},
                            ensure_ascii=False),
    } for s in rec.shipments]
    return pa.Table.from_pylist(rows, schema=SHIPMENTS)


def save_shipments(store: Store, rec: Reconstruction) -> int:
    """Replace the corridor's rows in the ``shipments`` table; returns rows written."""
    tbl = shipments_table(rec)
    with store.transaction():
        store.con.execute("DELETE FROM shipments WHERE corridor_id = ?", [rec.corridor["id"]])
        store.insert_arrow("shipments", tbl, on_conflict="replace")
    return tbl.num_rows


def _short(r: TimeRange) -> str:
    a, b = r.earliest, r.latest
    if a is None and b is None:
        return "?"
    ta = a.isoformat()[:10] if a else "?"
    tb = b.isoformat()[:10] if b else "?"
    text = ta if ta == tb else f"{ta}…{tb}"
    return text + (" ~" if r.uncertain else "")


def summary_table(rec: Reconstruction) -> pa.Table:
    """A compact shipments listing for the terminal."""
    rows = [{"tier": s.tier, "mode": s.mode, "vessel": s.vessel_name or "",
             "from": s.from_place_id or "/".join(s.from_candidates),
             "to": s.to_place_id or "/".join(s.to_candidates),
             "depart": _short(s.depart), "arrive": _short(s.arrive),
             "cargo": f"{est.fmt(s.cargo.low)}–{est.fmt(s.cargo.high)} {s.cargo.unit}"
             if s.cargo.low is not None else "",
             "sources": "".join(f"[{t}]" for t in s.sources)}
            for s in rec.shipments]
    return pa.Table.from_pylist(rows) if rows else pa.table({"tier": pa.array([], pa.string())})


def to_text(rec: Reconstruction) -> str:
    """Shipments, rail surges, claims with verdict and arithmetic, warnings."""
    from corridor.output import to_text_table

    out = [f"{rec.corridor['title']} ({rec.corridor['id']}), "
           f"{rec.window['start']} – {rec.window['end']}", "",
           f"Shipments ({len(rec.shipments)}):", to_text_table(summary_table(rec)), ""]
    if rec.rail["surges"]:
        out.append("Rail surges:")
        out.extend(f"  {s['place_id']} {s['obs_date']}: {s['arithmetic']}"
                   for s in rec.rail["surges"])
        out.append("")
    out.append("Claims:")
    for cl in rec.claims:
        out.append(f"  [{cl.verdict}] {cl.key or cl.claim_id}: {cl.sentence}")
        out.append(f"      {cl.arithmetic}")
        if cl.independence:
            out.append(f"      {cl.independence}")
    if rec.warnings:
        out.append("")
        out.extend(f"warning: {w}" for w in rec.warnings)
    return "\n".join(out)


def to_geojson(rec: Reconstruction) -> dict[str, Any]:
    """One FeatureCollection: a Point per node (``geometry: null`` without a sourced
    coordinate), a LineString per leg and per shipment whose two ends have coordinates, a Point
    per call and per rail surge. Properties are the JSON objects, flat (nested values as JSON
    text, because GIS tools read flat attributes), plus ``feature``."""
    d = rec.to_dict()
    coords = {n["place_id"]: [n["lon"], n["lat"]] for n in d["nodes"]
              if n["lat"] is not None and n["lon"] is not None}

    def flat(obj: dict, feature: str) -> dict:
        out: dict[str, Any] = {"feature": feature}
        for k, v in obj.items():
            out[k] = json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
        return out

    def point(pid: str | None) -> dict | None:
        p = coords.get(pid or "")
        return {"type": "Point", "coordinates": p} if p else None

    def line(a: str | None, b: str | None) -> dict | None:
        pa_, pb = coords.get(a or ""), coords.get(b or "")
        return {"type": "LineString", "coordinates": [pa_, pb]} if pa_ and pb else None

    feats = [{"type": "Feature", "geometry": point(n["place_id"]), "properties": flat(n, "node")}
             for n in d["nodes"]]
    feats += [{"type": "Feature", "geometry": line(g["from"], g["to"]),
               "properties": flat(g, "leg")} for g in d["legs"]]
    feats += [{"type": "Feature", "geometry": line(s["from_place_id"], s["to_place_id"]),
               "properties": flat(s, "shipment")} for s in d["shipments"]]
    feats += [{"type": "Feature", "geometry": point(c["place_id"]), "properties": flat(c, "call")}
              for c in d["calls"]]
    feats += [{"type": "Feature", "geometry": point(s["place_id"]), "properties": flat(s, "surge")}
              for s in d["rail"]["surges"]]
    return {"type": "FeatureCollection", "name": d["corridor"]["id"], "features": feats}
