"""Cargo estimates and claim verdicts, with the arithmetic written out.

Per shipment, cargo is a low/high range:

1. a count seen in the evidence ("~300 containers at the pier") ± ``about_tolerance``;
2. else the vessel's sourced capacity (``capacity_teu``): ``[min_load_factor × capacity,
   capacity]``;
3. else the corridor's per-load figure (``cargo.per_load`` in the YAML, with its sources).

Totals over a period (a claim's, or the corridor window) count only shipments that carry
cargo out of an origin (``counts_toward_totals``; a rail leg that carries a ship's load on
is not added again):

- ``low``: shipments of the ``low_tiers`` (confirmed, probable) whose departure–arrival range
  lies *inside* the period, at their cargo low;
- ``high``: shipments of every tier whose range *overlaps* the period, at their cargo high.

A claim's quantity becomes a range from its qualifier (``more_than``: above q; ``at_least``:
q or more; ``about``: q ± ``about_tolerance``; ``exact``: q; ``up_to``: 0..q) and is held
against the evidence range: overlap → ``consistent``; evidence low above the claim's maximum →
``evidence exceeds``; evidence high below the claim's minimum → ``evidence falls short``; no
quantity, no period, a period outside the corridor's window, or a unit corridor cannot count
(shells, tonnes) → ``untestable``. "Falls short" says the dated evidence does not reach the
figure, not that the claim is false.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from corridor.corridors.objects import Call, CargoRange, ClaimRange, Estimate, Period, Shipment
from corridor.ids import stable_id

CONSISTENT = "consistent"
EXCEEDS = "evidence exceeds"
FALLS_SHORT = "evidence falls short"
UNTESTABLE = "untestable"
VERDICTS = (CONSISTENT, EXCEEDS, FALLS_SHORT, UNTESTABLE)

#: Claim units corridor can count, and what it counts for them.
UNIT_MEASURES = {
    "container": "containers", "containers": "containers", "teu": "containers",
    "trip": "shipments", "trips": "shipments", "round trip": "shipments",
    "round trips": "shipments", "shipment": "shipments", "shipments": "shipments",
    "voyage": "shipments", "voyages": "shipments", "cargo shipments": "shipments",
    "visit": "calls", "visits": "calls", "port calls": "calls", "calls": "calls",
    "call": "calls", "vessel visits": "calls", "transits": "calls", "ship visits": "calls",
}


@dataclass(frozen=True)
class EstimateParams:
    """How ranges are built. ``about_tolerance`` is a fraction (0.1 = ±10%)."""

    about_tolerance: float = 0.10
    min_load_factor: float = 0.5
    low_tiers: tuple[str, ...] = ("confirmed", "probable")


def fmt(x: float | None) -> str:
    """A number for arithmetic text: thousands separators, no needless decimals.

    >>> fmt(1000.0), fmt(270.0), fmt(3.6500), fmt(None)
    ('1,000', '270', '3.65', '?')
    """
    if x is None:
        return "?"
    if math.isinf(x):
        return "∞"
    if abs(x - round(x)) < 1e-9:
        return f"{int(round(x)):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def cargo_range(
    *,
    seen_count: float | None = None,
    seen_sources: tuple[str, ...] = (),
    capacity_teu: float | None = None,
    per_load_low: float | None = None,
    per_load_high: float | None = None,
    per_load_basis: str | None = None,
    per_load_sources: tuple[str, ...] = (),
    unit: str = "containers",
    params: EstimateParams = EstimateParams(),
) -> CargoRange:
    """Cargo of one load in ``unit`` (see the module docstring).

    >>> cargo_range(seen_count=300, seen_sources=("S6",)).low
    270.0
    >>> cargo_range(per_load_low=270, per_load_high=330, per_load_basis="about 300").basis
    'about 300'
    """
    tol = params.about_tolerance
    if seen_count is not None and seen_count > 0:
        low, high = seen_count * (1 - tol), seen_count * (1 + tol)
        basis = (f"about {fmt(seen_count)} {unit} seen "
                 f"{''.join(f'[{s}]' for s in seen_sources)}; ±{fmt(tol * 100)}% for 'about' (I)")
        return CargoRange(round(low, 6), round(high, 6), unit, basis, tuple(seen_sources))
    if capacity_teu:
        low = capacity_teu * params.min_load_factor
        return CargoRange(float(low), float(capacity_teu), unit,
                          f"vessel capacity {fmt(capacity_teu)} TEU; low assumes a "
                          f"{fmt(params.min_load_factor * 100)}% load (I)", ())
    if per_load_low is not None and per_load_high is not None:
        return CargoRange(float(per_load_low), float(per_load_high), unit,
                          per_load_basis or "corridor per-load figure", tuple(per_load_sources))
    return CargoRange(None, None, unit, "no basis for a cargo figure", ())


def claim_range(quantity: float | None, qualifier: str | None,
                about_tolerance: float = 0.10) -> tuple[float | None, float | None, bool]:
    """(min, max, min_exclusive) a claim allows; ``None`` max = unbounded.

    >>> claim_range(1000, "more_than")
    (1000.0, None, True)
    >>> claim_range(300, "about")
    (270.0, 330.0, False)
    """
    if quantity is None:
        return None, None, False
    q = float(quantity)
    qual = (qualifier or "exact").lower()
    if qual == "more_than":
        return q, None, True
    if qual == "at_least":
        return q, None, False
    if qual == "about":
        return round(q * (1 - about_tolerance), 6), round(q * (1 + about_tolerance), 6), False
    if qual == "up_to":
        return 0.0, q, False
    return q, q, False


def verdict(low: float, high: float, cmin: float | None, cmax: float | None,
            min_exclusive: bool = False) -> str:
    """Compare an evidence range with a claim range.

    >>> verdict(270, 330, 1000, None, True)
    'evidence falls short'
    >>> verdict(270, 1650, 1350, 1650)
    'consistent'
    >>> verdict(12, 14, 5, 6)
    'evidence exceeds'
    """
    if cmin is None:
        return UNTESTABLE
    if high < cmin or (min_exclusive and high <= cmin):
        return FALLS_SHORT
    if cmax is not None and low > cmax:
        return EXCEEDS
    return CONSISTENT


def measure_of(unit: str | None, explicit: str | None = None) -> str | None:
    """What corridor counts for a claim unit (containers, shipments, calls) or None.

    >>> measure_of("containers"), measure_of("artillery rounds"), measure_of("trips", "calls")
    ('containers', None, 'calls')
    """
    if explicit:
        return explicit
    return UNIT_MEASURES.get((unit or "").strip().lower())


# ------------------------------------------------------------------------- totals
def _span(s: Shipment) -> tuple[datetime | None, datetime | None]:
    """(earliest, latest) of a shipment's movement: departure earliest → arrival latest."""
    dep, arr = s.depart, s.arrive
    start = dep.earliest or arr.earliest
    end = arr.latest or dep.latest or arr.earliest
    return start, end


def _period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime(start.year, start.month, start.day), \
        datetime(end.year, end.month, end.day) + timedelta(days=1)


def inside(span: tuple[datetime | None, datetime | None], p0: datetime, p1: datetime) -> bool:
    a, b = span
    return a is not None and b is not None and a >= p0 and b <= p1


def overlaps(span: tuple[datetime | None, datetime | None], p0: datetime, p1: datetime) -> bool:
    a, b = span
    a = a or datetime.min
    b = b or datetime.max
    return a < p1 and b >= p0


def _tags(ids: list[str]) -> str:
    return "".join(f"[{t}]" for t in ids)


def estimate_id(corridor_id: str, measure: str, start: date, end: date, places: list[str],
                vessel_id: str | None) -> str:
    return stable_id("estimate", corridor_id, measure, start.isoformat(), end.isoformat(),
                     sorted(places), vessel_id)


def _select(shipments: Sequence[Shipment], from_places: list[str], vessel_id: str | None
            ) -> list[Shipment]:
    out = []
    for s in shipments:
        if not s.counts_toward_totals:
            continue
        if from_places and s.from_place_id not in from_places:
            continue
        if vessel_id and s.vessel_id != vessel_id:
            continue
        out.append(s)
    return out


def _tiered(shipments: Sequence[Shipment], start: date, end: date, from_places: list[str],
            vessel_id: str | None, params: EstimateParams
            ) -> tuple[list[Shipment], list[Shipment], list[Shipment], dict[str, int]]:
    """The shipments that count (see :func:`_select`), the ``low`` ones (low tiers wholly inside
    ``[start, end]``, days inclusive), the ``high`` ones (any tier overlapping) and the high
    ones' count per tier."""
    p0, p1 = _period_bounds(start, end)
    cand = _select(shipments, from_places, vessel_id)
    lows = [s for s in cand if s.tier in params.low_tiers and inside(_span(s), p0, p1)]
    highs = [s for s in cand if overlaps(_span(s), p0, p1)]
    by_tier = {t: sum(1 for s in highs if s.tier == t) for t in ("confirmed", "probable", "possible")}
    return cand, lows, highs, by_tier


def _scope(places: list[str], vessel_id: str | None, preposition: str) -> str:
    """`` from A, B by vessel`` for the arithmetic text (empty parts left out)."""
    where = f" {preposition} {', '.join(places)}" if places else ""
    return where + (f" by {vessel_id}" if vessel_id else "")


def _head(corridor_id: str, measure: str, start: date, end: date, places: list[str],
          vessel_id: str | None) -> dict[str, Any]:
    """The fields every estimate starts with: id, measure, period, places, vessel."""
    return {
        "estimate_id": estimate_id(corridor_id, measure, start, end, places, vessel_id),
        "measure": measure, "period": Period(start, end),
        "from_place_ids": tuple(places), "vessel_id": vessel_id,
    }


def estimate_cargo(corridor_id: str, shipments: Sequence[Shipment], start: date, end: date,
                   from_places: list[str], vessel_id: str | None = None,
                   params: EstimateParams = EstimateParams(), unit: str | None = None
                   ) -> Estimate:
    """Cargo moved over ``[start, end]`` (days, inclusive) in ``unit`` (default: each
    shipment's main cargo unit). A shipment without a figure in ``unit`` counts as 0 and is
    named in the arithmetic."""
    cand, lows, highs, by_tier = _tiered(shipments, start, end, from_places, vessel_id, params)

    def cargo(s: Shipment) -> CargoRange | None:
        return s.cargo if unit is None else s.cargo_in(unit)

    unit_ = unit or next((s.cargo.unit for s in cand), "containers")
    low = sum((cargo(s).low or 0.0) if cargo(s) else 0.0 for s in lows)  # type: ignore[union-attr]
    high = sum((cargo(s).high or 0.0) if cargo(s) else 0.0 for s in highs)  # type: ignore[union-attr]
    missing = [s for s in highs if cargo(s) is None or cargo(s).high is None]  # type: ignore[union-attr]

    def terms(rows: list[Shipment], key: str, total: float) -> str:
        if len(rows) < 2:
            return fmt(total)
        return " + ".join(fmt(getattr(cargo(s), key) if cargo(s) else None) for s in rows) \
            + f" = {fmt(total)}"

    text = (
        f"shipments{_scope(from_places, vessel_id, 'from')}, {start} – {end}: low = {len(lows)} "
        f"({'/'.join(sorted({s.tier for s in lows})) or 'none'}) wholly inside the period "
        f"= {terms(lows, 'low', low)}; high = {len(highs)} overlapping "
        f"(confirmed {by_tier['confirmed']}, probable {by_tier['probable']}, possible "
        f"{by_tier['possible']}) = {terms(highs, 'high', high)} {unit_}"
    )
    if missing:
        text += f"; {len(missing)} shipment(s) without a cargo figure counted as 0"
    sources: list[str] = []
    for s in highs:
        c = cargo(s)
        for t in (c.sources if c else ()):
            if t not in sources:
                sources.append(t)
    return Estimate(
        **_head(corridor_id, unit_, start, end, from_places, vessel_id),
        low=low, high=high, unit=unit_, by_tier=by_tier,
        shipment_ids=tuple(s.shipment_id for s in highs),
        low_shipment_ids=tuple(s.shipment_id for s in lows),
        arithmetic=text, sources=tuple(sources),
    )


def estimate_containers(corridor_id: str, shipments: Sequence[Shipment], start: date, end: date,
                        from_places: list[str], vessel_id: str | None = None,
                        params: EstimateParams = EstimateParams()) -> Estimate:
    """Containers moved over ``[start, end]`` (days, inclusive): :func:`estimate_cargo` in the
    shipments' main unit."""
    return estimate_cargo(corridor_id, shipments, start, end, from_places, vessel_id, params)


def estimate_shipments(corridor_id: str, shipments: Sequence[Shipment], start: date, end: date,
                       from_places: list[str], vessel_id: str | None = None,
                       params: EstimateParams = EstimateParams()) -> Estimate:
    """Number of shipments (trips) over a period."""
    _, lows, highs, by_tier = _tiered(shipments, start, end, from_places, vessel_id, params)
    extra = sum(int(s.unidentified_merged or 0) for s in highs)
    scope = _scope(from_places, vessel_id, "from")
    text = (f"shipments{scope}, {start} – {end}: low = {len(lows)} confirmed/probable wholly "
            f"inside the period; high = {len(highs)} overlapping (confirmed {by_tier['confirmed']}, "
            f"probable {by_tier['probable']}, possible {by_tier['possible']})")
    if extra:
        text += f" + {extra} unidentified sighting(s) merged into identified calls that may be " \
                f"separate ships = {len(highs) + extra}"
    return Estimate(
        **_head(corridor_id, "shipments", start, end, from_places, vessel_id),
        low=float(len(lows)), high=float(len(highs) + extra), unit="shipments",
        by_tier=by_tier, shipment_ids=tuple(s.shipment_id for s in highs),
        low_shipment_ids=tuple(s.shipment_id for s in lows), arithmetic=text, sources=(),
    )


def estimate_calls(corridor_id: str, calls: Sequence[Call], shipments: Sequence[Shipment],
                   start: date, end: date, places: list[str], vessel_id: str | None = None
                   ) -> Estimate:
    """Port calls by vessels at ``places`` over a period.

    low = observed vessel calls wholly inside the period; high = observed calls overlapping it,
    plus unidentified sightings merged into identified calls, plus calls implied by
    confirmed/probable shipments whose origin end was seen only as cargo.
    """
    p0, p1 = _period_bounds(start, end)

    def span(c: Call) -> tuple[datetime | None, datetime | None]:
        return c.time.earliest, c.time.latest

    vc = [c for c in calls if c.subject == "vessel" and (not places or c.place_id in places)
          and (vessel_id is None or c.vessel_id == vessel_id)]
    lows = [c for c in vc if inside(span(c), p0, p1)]
    highs = [c for c in vc if overlaps(span(c), p0, p1)]
    merged = sum(int(c.unidentified_merged or 0) for c in highs)
    implied = [s for s in shipments
               if s.origin_call_inferred and s.tier in ("confirmed", "probable")
               and (not places or s.from_place_id in places)
               and (vessel_id is None or s.vessel_id == vessel_id)
               and overlaps(_span(s), p0, p1)]
    high = len(highs) + merged + len(implied)
    scope = _scope(places, vessel_id, "at")
    text = (f"vessel calls{scope}, {start} – {end}: low = {len(lows)} observed wholly inside "
            f"the period; high = {len(highs)} observed overlapping + {merged} unidentified "
            f"sighting(s) that may be separate ships + {len(implied)} implied by shipments seen "
            f"only as cargo at the origin = {high}")
    return Estimate(
        **_head(corridor_id, "calls", start, end, places, vessel_id),
        low=float(len(lows)), high=float(high), unit="calls",
        by_tier={"observed": len(highs), "merged_unidentified": merged, "implied": len(implied)},
        shipment_ids=tuple(s.shipment_id for s in implied), low_shipment_ids=(),
        call_ids=tuple(c.call_id for c in highs), arithmetic=text, sources=(),
    )


def judge_claim(claim: dict, estimate: Estimate | None, reason: str | None = None,
                params: EstimateParams = EstimateParams()) -> dict[str, Any]:
    """Verdict and arithmetic for one claim against its estimate (or why it is untestable)."""
    cmin, cmax, excl = claim_range(claim.get("quantity"), claim.get("qualifier"),
                                   params.about_tolerance)
    out: dict[str, Any] = {"claim_range": ClaimRange(cmin, cmax), "estimate_id": None}
    if estimate is None or reason:
        out.update(verdict=UNTESTABLE, arithmetic=f"untestable: {reason or 'no estimate'}")
        return out
    v = verdict(estimate.low, estimate.high, cmin, cmax, excl)
    unit = estimate.unit
    qual = {"more_than": "more than ", "at_least": "at least ", "about": "about ",
            "up_to": "up to ", "exact": ""}.get((claim.get("qualifier") or "exact"), "")
    claim_txt = f"{qual}{fmt(claim.get('quantity'))} {claim.get('unit') or unit}"
    allowed = (f"> {fmt(cmin)}" if excl else f"≥ {fmt(cmin)}") if cmax is None else \
        (f"{fmt(cmin)}" if cmin == cmax else f"{fmt(cmin)}–{fmt(cmax)}")
    ev = f"{fmt(estimate.low)}–{fmt(estimate.high)} {unit}"
    src = _tags(claim.get("sources") or [])
    text = f"evidence: {estimate.arithmetic}. Claim: {claim_txt} {src} → allows {allowed} " \
           f"{unit}. "
    if v == FALLS_SHORT:
        text += f"Evidence {ev}: high {fmt(estimate.high)} is below the claim's minimum " \
                f"{fmt(cmin)} → {v}."
        if estimate.measure == "containers" and claim.get("per_load_high"):
            need = math.floor(cmin / claim["per_load_high"]) + 1 if excl else \
                math.ceil(cmin / claim["per_load_high"])
            text += f" At {fmt(claim['per_load_high'])} per load, at least {need} loads would be " \
                    f"needed (I)."
        text += " Dated evidence is a lower bound: the ships ran with AIS off and not every " \
                "call was imaged."
    elif v == EXCEEDS:
        text += f"Evidence {ev}: low {fmt(estimate.low)} is above the claim's maximum " \
                f"{fmt(cmax)} → {v}."
    else:
        text += f"Evidence {ev} overlaps {allowed} → {v}."
    out.update(verdict=v, arithmetic=text, estimate_id=estimate.estimate_id)
    return out
