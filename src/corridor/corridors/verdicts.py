"""Stage 5: the claims a corridor tests, each held against an estimate (a :class:`Verdict`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from corridor.corridors import estimate as est
from corridor.corridors.inputs import Inputs
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
        ))
    results.sort(key=lambda r: (r.period.start.isoformat() if r.period.start else "9999",
                                r.key or r.claim_id))
    ests = sorted(estimates.values(), key=lambda e: (e.period.start, e.measure, e.estimate_id))
    return tuple(results), tuple(ests)
