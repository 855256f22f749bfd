"""Stage 5: the claims a corridor tests, each held against an estimate (a :class:`Verdict`)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from corridor.corridors import estimate as est
from corridor.corridors.inputs import Inputs
from corridor.corridors.model import Corridor
from corridor.corridors.objects import Call, ClaimPeriod, Estimate, Shipment, Verdict


def select_claims(inp: Inputs) -> list[dict[str, Any]]:
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


def measure_for(c: Corridor, unit: str | None, explicit: str | None) -> str | None:
    """What corridor counts for a claim's unit: a unit the corridor declares (its name),
    ``shipments`` or ``calls``; None when it counts nothing in that unit."""
    for word in (explicit, unit):
        if not word:
            continue
        if word in ("shipments", "calls"):
            return word
        hit = c.cargo.unit_for(word)
        if hit is not None:
            return hit.unit
        m = est.measure_of(word)
        if m in ("shipments", "calls"):
            return m
        if m is not None:
            hit = c.cargo.unit_for(m)
            if hit is not None:
                return hit.unit
    return None


def _root(tag: str) -> str:
    """``S19b`` → ``S19``: mirrors and parts of one publication."""
    m = re.match(r"S\d+", tag)
    return m.group(0) if m else tag


def _own_source(inp: Inputs, claim_sources: list[str], e: Estimate | None,
                shipments: Sequence[Shipment]) -> dict[str, Any]:
    """``own_source_evidence`` (ids) and ``independence`` (a sentence) when the evidence the
    estimate rests on cites the claim's own source (the same tag, a mirror of it, or a tag
    whose parent it is)."""
    if e is None or not claim_sources:
        return {}
    def roots(tags) -> set[str]:
        out = set()
        for t in tags:
            out.add(_root(t))
            parent = (inp.sources.get(t) or {}).get("parent")
            if parent:
                out.add(_root(parent))
        return out
    own = roots(claim_sources)
    ids = set(e.shipment_ids)
    hits: dict[str, set[str]] = {}
    for s in shipments:
        if s.shipment_id not in ids:
            continue
        for ev in s.evidence:
            common = [t for t in ev.sources if roots([t]) & own]
            if common:
                hits.setdefault(ev.id, set()).update(common)
    if not hits:
        return {}
    tags = sorted({t for v in hits.values() for t in v},
                  key=lambda t: (int(_root(t)[1:]) if _root(t)[1:].isdigit() else 0, t))
    text = (f"not independent: {len(hits)} piece(s) of the evidence come from the claim's own "
            f"source ({''.join(f'[{t}]' for t in tags)}), so that part of the comparison checks "
            "the source against itself")
    return {"own_source_evidence": tuple(sorted(hits)), "independence": text}


def judge_claims(inp: Inputs, claims: list[dict[str, Any]], shipments: Sequence[Shipment],
                 calls: Sequence[Call]) -> tuple[tuple[Verdict, ...], tuple[Estimate, ...]]:
    """(verdicts, estimates) — one estimate per distinct (measure, period, places, vessel)."""
    c, p = inp.corridor, inp.params
    ep = p.estimate_params()
    origins = [n.place_id for n in c.nodes if n.role == "origin"]
    estimates: dict[str, Estimate] = {}
    results: list[Verdict] = []
    for cl in claims:
        f = cl["fields"]
        if not f.get("sources") and cl.get("report_id") in inp.report_tags:
            f = dict(f, sources=[inp.report_tags[cl["report_id"]]])  # the report it came from
        measure = measure_for(c, cl.get("quantity_unit"), f.get("measure"))
        ps, pe = cl.get("period_start"), cl.get("period_end")
        vessel = f.get("vessel_id")
        places = [x for x in (cl.get("places") or []) if x in c.place_ids]
        declared = [u.unit for u in c.cargo.all_units]
        reason = None
        if cl.get("quantity") is None:
            reason = "the claim has no number corridor can test"
        elif measure is None:
            reason = (f"unit {cl.get('quantity_unit')!r} is not something corridor counts "
                      f"({', '.join(declared + ['shipments', 'port calls'])})")
        elif measure in declared and not any(
                (s.cargo_in(measure) or s.cargo).low is not None and s.cargo_in(measure)
                for s in shipments if s.counts_toward_totals):
            reason = (f"no evidence counts {measure}: no sighting gives a count in {measure} "
                      f"and the corridor gives no per-load figure for them (cargo.units)")
        elif ps is None or pe is None:
            reason = (f"the claim's period has no {'start' if ps is None else 'end'}: "
                      f"{f.get('period_text') or 'not stated'}")
        elif ps < c.window_start or pe > c.window_end:
            reason = (f"the claim's period {ps} – {pe} is not inside the corridor window "
                      f"{c.window_start} – {c.window_end}; the evidence covers only the window")
        e = None
        if reason is None:
            if measure == c.cargo.unit:
                frm = [x for x in places if x in origins] or origins
                e = est.estimate_containers(c.corridor_id, shipments, ps, pe, frm, vessel, ep)
            elif measure in declared:
                frm = [x for x in places if x in origins] or origins
                e = est.estimate_cargo(c.corridor_id, shipments, ps, pe, frm, vessel, ep,
                                       unit=measure)
            elif measure == "shipments":
                frm = [x for x in places if x in origins] or origins
                e = est.estimate_shipments(c.corridor_id, shipments, ps, pe, frm, vessel, ep)
            else:
                e = est.estimate_calls(c.corridor_id, calls, shipments, ps, pe, places, vessel)
            estimates.setdefault(e.estimate_id, e)
        judged = est.judge_claim(
            {"quantity": cl.get("quantity"), "qualifier": cl.get("qualifier"),
             "unit": cl.get("quantity_unit"), "sources": f.get("sources") or [],
             "per_load_high": c.cargo.per_load_high},
            e, reason, ep)
        results.append(Verdict(
            claim_id=cl["claim_id"], key=f.get("key"), sentence=cl["sentence"],
            attribution=cl.get("attribution"), stated_on=f.get("stated_on"),
            quantity=cl.get("quantity"), unit=cl.get("quantity_unit"),
            qualifier=cl.get("qualifier"), measure=measure, claim_range=judged["claim_range"],
            period=ClaimPeriod(ps, pe, f.get("period_text")),
            places=tuple(cl.get("places") or ()), vessel_id=vessel,
            origin=cl["origin"], report_id=cl.get("report_id"),
            sources=tuple(f.get("sources") or ()), marks=tuple(f.get("marks") or ()),
            estimate_id=judged["estimate_id"], verdict=judged["verdict"],
            arithmetic=judged["arithmetic"], note=f.get("note"),
            **_own_source(inp, f.get("sources") or [], e, shipments),
        ))
    results.sort(key=lambda r: (r.period.start.isoformat() if r.period.start else "9999",
                                r.key or r.claim_id))
    ests = sorted(estimates.values(), key=lambda e: (e.period.start, e.measure, e.estimate_id))
    return tuple(results), tuple(ests)
