"""Precision and recall of claim extraction per field, against hand-labelled sentences.

The labelled file (``tests/data/claims_labelled.yaml``) is a list of items with
``text``, ``published`` and the expected fields (see the file's header). For each item
the first extracted claim is compared with the labels, field by field:

- scalar fields (supplier, recipient, quantity, period, distance_km, attribution): a
  prediction equal to the label is a true positive; a prediction that differs is a false
  positive *and* a false negative; a missing prediction of a labelled field is a false
  negative; a prediction where nothing is labelled is a false positive;
- set fields (materiel categories, places, vessels): items are counted one by one; a vessel
  is its ``vessel_id`` when the vessels given know it (by IMO number, MMSI or name), else its
  name, ``imo NNNNNNN`` or ``mmsi NNNNNNNNN``;
- ``claim``: whether a claim was extracted at all (items with ``claim: false`` expect none).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pyarrow as pa
import yaml

from corridor.claims.extract import Claim, extract_claims
from corridor.claims.places import Gazetteer
from corridor.claims.vessels import VesselIndex, vessel_key

FIELDS = ("claim", "supplier", "recipient", "materiel", "quantity", "period", "places",
          "distance_km", "attribution", "vessels")


def _predicted(c: Claim | None, gaz: Gazetteer) -> dict:
    if c is None:
        return {}
    f = c.fields
    q = f["quantity"]
    out: dict = {"claim": True}
    if c.supplier:
        out["supplier"] = c.supplier
    if c.recipient:
        out["recipient"] = c.recipient
    mats = [m["category"] + (f":{m['calibre_mm']}" if m.get("calibre_mm") and m["category"] !=
                             "rockets" or m.get("calibre_mm") and "122" in m["text"] else "")
            for m in f["materiel"]]
    if mats:
        out["materiel"] = mats
    if q:
        out["quantity"] = (float(q["value"]), q["unit"], q["qualifier"])
    if c.period_start:
        out["period"] = (c.period_start.isoformat(), (c.period_end or c.period_start).isoformat())
    names = [p["place_id"] or _place_key(p["name"], gaz) for p in f["places"]]
    if names:
        out["places"] = names
    vessels = [vessel_key(v) for v in f.get("vessels") or []
               if v.get("name") or v.get("imo") or v.get("mmsi")]
    if vessels:
        out["vessels"] = vessels
    if f["distances"]:
        out["distance_km"] = float(f["distances"][0]["value_km"])
    if c.attribution:
        out["attribution"] = c.attribution
    return out


def _place_key(name: str, gaz: Gazetteer) -> str:
    """A place as compared: its place_id when the places given know the name, else the name."""
    return gaz.resolve(name, cued=True)[0] or name


def _vessel_gold_key(text: str, fleet: VesselIndex) -> str:
    """A labelled vessel ("Ocean Wren", "IMO 9179842", "MMSI 273456789", or a vessel_id) as compared."""
    m = re.fullmatch(r"\s*(IMO|MMSI)\s*(\d+)\s*", text, re.I)
    if m:
        kind, n = m.group(1).lower(), int(m.group(2))
        vid = fleet.resolve(imo=n if kind == "imo" else None, mmsi=n if kind == "mmsi" else None)[0]
        return vid or f"{kind} {m.group(2)}"
    return fleet.resolve(text)[0] or " ".join(text.split()).lower()


def _gold(item: dict, gaz: Gazetteer, fleet: VesselIndex | None = None) -> dict:
    out: dict = {"claim": item.get("claim", True)} if item.get("claim", True) else {}
    for k in ("supplier", "recipient", "attribution"):
        if item.get(k):
            out[k] = item[k]
    if item.get("materiel"):
        out["materiel"] = [str(m) for m in item["materiel"]]
    if item.get("quantity"):
        v, u, qual = item["quantity"]
        out["quantity"] = (float(v), str(u), str(qual))
    if item.get("period"):
        a, b = item["period"]
        out["period"] = (str(a), str(b))
    if item.get("places"):
        out["places"] = [_place_key(str(p), gaz) for p in item["places"]]
    if item.get("distance_km") is not None:
        out["distance_km"] = float(item["distance_km"])
    if item.get("vessels"):
        out["vessels"] = [_vessel_gold_key(str(v), fleet or VesselIndex()) for v in item["vessels"]]
    return out


def _score(field: str, gold, pred, counts: Counter) -> None:
    if field in ("materiel", "places", "vessels"):
        g, p = Counter(gold or []), Counter(pred or [])
        if field == "materiel":  # a calibred label also satisfies the plain category
            pass
        tp = sum((g & p).values())
        counts[field, "tp"] += tp
        counts[field, "fp"] += sum(p.values()) - tp
        counts[field, "fn"] += sum(g.values()) - tp
        return
    if field == "attribution":
        ok = gold is not None and pred is not None and gold.lower() in pred.lower()
    else:
        ok = gold is not None and pred is not None and gold == pred
    if ok:
        counts[field, "tp"] += 1
        return
    if pred is not None:
        counts[field, "fp"] += 1
    if gold is not None:
        counts[field, "fn"] += 1


def evaluate_labelled(path: str | Path, split: str | None = None, places: pa.Table | None = None,
                      vessels: pa.Table | None = None) -> tuple[dict[str, dict[str, float]], list[dict]]:
    """({field: {tp, fp, fn, precision, recall}}, per-item mismatches) for a labelled file.

    ``split``: None for all items, ``"dev"`` for items without a ``split`` key, or a split
    name such as ``"heldout"``. ``places``: the places table extraction resolves names
    against (the labelled case's places; corridor knows no place names of its own); places
    are compared by place_id when it knows them, else by name. ``vessels``: the vessels
    table names resolve against (the labelled case's vessels), likewise.
    """
    gaz = Gazetteer.of(places)
    fleet = VesselIndex.of(vessels)
    items = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if split is not None:
        items = [i for i in items if i.get("split", "dev") == split]
    counts: Counter = Counter()
    misses = []
    for item in items:
        pub = item.get("published")
        pub = pub if isinstance(pub, date) else (date.fromisoformat(pub) if pub else None)
        claims = extract_claims(item["text"], "eval", pub, gaz, fleet)
        pred = _predicted(claims[0] if claims else None, gaz)
        gold = _gold(item, gaz, fleet)
        for f in FIELDS:
            _score(f, gold.get(f), pred.get(f), counts)
            if gold.get(f) != pred.get(f) and not (f == "attribution" and gold.get(f) and pred.get(f)
                                                   and gold[f].lower() in pred[f].lower()):
                misses.append({"text": item["text"], "field": f, "gold": gold.get(f), "pred": pred.get(f)})
    out = {}
    for f in FIELDS:
        tp, fp, fn = counts[f, "tp"], counts[f, "fp"], counts[f, "fn"]
        out[f] = {"tp": tp, "fp": fp, "fn": fn,
                  "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
                  "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0}
    return out, misses
