"""Stage 3: shipments from calls and AIS gaps/voyages.

**Sea shipments** per sea leg A→B, arrivals in time order: *confirmed*: the same vessel (or AIS
port visits of the same MMSI) at A and then at B within the leg's duration range; *probable*:
the vessel at B with, at A, either an AIS gap that starts near A and ends near B, or cargo / an
unidentified vessel seen within the leg's duration; *possible*: one end only (an arrival with
nothing at A, or a vessel call at A that no arrival explains).

**Rail shipments** per rail leg A→B the same way, where "seen at A" is a call at A (usually a
ship's arrival) within the rail leg's duration. A rail leg that carries on a sea shipment's load
takes its cargo and does not count toward totals again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from corridor.corridors import estimate as est
from corridor.corridors.calls import AisEvent, NodeMatcher, Observations, rng, union
from corridor.corridors.inputs import Inputs
from corridor.corridors.model import Leg
from corridor.corridors.objects import Call, CargoRange, Evidence, Obs, Shipment, TimeRange
from corridor.ids import stable_id


def feasible(a: Call, b: Call, leg: Leg) -> bool:
    """Could a move that left A after being seen in ``a`` be seen at B in ``b``?"""
    lo, hi = timedelta(hours=leg.min_duration_hours), timedelta(hours=leg.max_duration_hours)
    if a.start >= b.end:
        return False
    return (b.end - a.start) >= lo and (b.start - a.end) <= hi


def evidence(c: Call, role: str) -> tuple[Evidence, ...]:
    """The observations of a call as evidence with ``role``."""
    return tuple(Evidence(o.kind, o.id, role, o.place_id, rng(o.start, o.end, o.uncertain, o.text),
                          o.summary, o.sources, o.marks) for o in c.obs)


TIERS = ("possible", "probable", "confirmed")


def strong(e: Evidence) -> bool:
    """Evidence that can carry a tier on its own: AIS (measured), or a sighting stated by its
    source (``C``, or no mark given) and not marked unverified (``U``). Evidence marked only
    ``I`` (inference) and/or ``⚠`` (sources conflict), or ``U``, is weak."""
    if e.kind == "event" or not e.marks:
        return True
    return "C" in e.marks and "U" not in e.marks


def bound_tier(tier: str, ev: tuple[Evidence, ...]) -> tuple[str, str | None]:
    """The tier the source marks allow (docs/reconstruction.md, "Source marks bound the tier"):
    *confirmed* needs strong evidence at both ends; a shipment whose every piece of evidence
    is weak is at most *possible*. Returns (tier, why it was lowered or None)."""
    if not ev:
        return tier, None
    weak = [e for e in ev if not strong(e)]
    if len(weak) == len(ev) and tier != "possible":
        tags = "".join(f"[{t}]" for t in union(e.sources for e in weak))
        return "possible", (f"held at possible: every piece of evidence is marked "
                            f"{'/'.join(union(e.marks for e in weak))} {tags}".rstrip())
    if tier == "confirmed":
        ends = {"origin": [e for e in ev if e.role in ("origin", "cargo")],
                "destination": [e for e in ev if e.role == "destination"]}
        for end, items in ends.items():
            if items and not any(strong(e) for e in items):
                tags = "".join(f"[{t}]" for t in union(e.sources for e in items))
                return "probable", (f"held at probable: the {end} rests only on evidence marked "
                                    f"{'/'.join(union(e.marks for e in items))} {tags}".rstrip())
    return tier, None


def _gap_evidence(g: AisEvent) -> Evidence:
    return Evidence("event", g.event_id, "gap", None, rng(g.start_ts, g.end_ts, False),
                    f"AIS gap of {g.label} ({g.attrs.get('duration_hours', 0):.1f} h)", (), ())


class ShipmentBuilder:
    """Shipments for one corridor from its calls and AIS events."""

    def __init__(self, inp: Inputs, calls: tuple[Call, ...], obs: Observations):
        self.inp, self.c, self.p = inp, inp.corridor, inp.params
        self.calls = calls
        self.matcher: NodeMatcher = obs.matcher
        self.shipments: list[Shipment] = []
        self.by_dest_call: dict[str, Shipment] = {}
        self.used_origin: set[str] = set()
        self.used_destination: set[str] = set()
        self.vessel_caps = {v["vessel_id"]: v.get("capacity_teu") for v in inp.vessels.to_pylist()}
        # indexes, so that a store with many AIS port visits stays linear
        self._by_place: dict[str, list[Call]] = {}
        self._by_ident: dict[tuple[str, str | None], list[Call]] = {}
        for c in calls:
            self._by_place.setdefault(c.place_id, []).append(c)
            self._by_ident.setdefault((c.place_id, c.ident), []).append(c)
        self._gaps: dict[str | None, list[AisEvent]] = {}
        for g in obs.gaps:
            self._gaps.setdefault(g.ident, []).append(g)
        self._voyages: dict[str | None, list[AisEvent]] = {}
        for v in obs.voyages:
            self._voyages.setdefault(v.ident, []).append(v)
        self._shared: dict[tuple[str, str], list[Obs]] = {}
        for c in calls:
            for o in c.obs:
                if o.count and o.unit and o.shared_by > 1:
                    self._shared.setdefault((c.place_id, o.unit), []).append(o)
        self._elsewhere: dict[str, list[tuple[datetime, datetime]]] = {}
        for ident, a, b in obs.elsewhere:
            self._elsewhere.setdefault(ident, []).append((a, b))
        #: shipments left out, with the reason (a round trip AIS shows)
        self.context: list[dict] = []
        #: how many shipments used a call as their origin (a count covering N ships: N)
        self.origin_uses: dict[str, int] = {}

    def build(self) -> tuple[Shipment, ...]:
        """Sea legs, then rail legs; sorted by departure."""
        self.sea()
        self.rail()
        return tuple(sorted(self.shipments, key=lambda s: (
            (s.depart.earliest or s.arrive.earliest or datetime.min).isoformat()
            if (s.depart.earliest or s.arrive.earliest) else "", s.mode, s.shipment_id)))

    # -- helpers
    def _origin_free(self, a: Call) -> bool:
        """A call can be the origin of one shipment; a count covering N ships, of N."""
        cap = max((o.shared_by for o in a.obs if o.count), default=1)
        return self.origin_uses.get(a.call_id, 0) < cap

    def _use_origin(self, a_id: str) -> None:
        self.origin_uses[a_id] = self.origin_uses.get(a_id, 0) + 1
        self.used_origin.add(a_id)

    def _round_trip(self, a: Call) -> Call | None:
        """The ship's next call, if AIS shows it leaving ``a`` and coming back to the same place
        with no call anywhere else in between (a voyage event from ``a`` back to it, or AIS
        port visits at both ends and no AIS gap between them); else None."""
        if a.ident is None:
            return None
        later = [c for p in self.c.place_ids for c in self.at_ident(p, a.ident)
                 if c.start >= a.end and c.call_id != a.call_id]
        if not later:
            return None
        nxt = min(later, key=lambda c: (c.start, c.call_id))
        if nxt.place_id != a.place_id:
            return None
        if any(s < nxt.start and e > a.end for s, e in self._elsewhere.get(a.ident, [])):
            return None
        if self._voyage(a.ident, a, nxt) is not None:
            return nxt
        dark = any(g.start_ts < nxt.start and (g.end_ts or g.start_ts) > a.end
                   for g in self._gaps.get(a.ident, []))
        if a.ais_only and nxt.ais_only and not dark:
            return nxt
        return None

    def at(self, place: str) -> list[Call]:
        """Calls at ``place`` in time order."""
        return self._by_place.get(place, [])

    def at_ident(self, place: str, ident: str | None) -> list[Call]:
        """Calls at ``place`` of one identity (``None``: unidentified), in time order."""
        return self._by_ident.get((place, ident), [])

    def _near(self, lat: float | None, lon: float | None, place: str) -> bool:
        return self.matcher.near(lat, lon, place, self.p.gap_near_node_m)

    def _gap_between(self, ident: str | None, a_place: str, b_place: str, before: datetime,
                     after: datetime) -> AisEvent | None:
        """An AIS gap of ``ident`` starting near A and ending near B within [after, before]."""
        if ident is None:
            return None
        for g in self._gaps.get(ident, []):
            if g.end_ts is None:
                continue
            at = g.attrs
            if (g.start_ts >= after and g.end_ts <= before
                    and self._near(at.get("off_lat"), at.get("off_lon"), a_place)
                    and self._near(at.get("on_lat"), at.get("on_lon"), b_place)):
                return g
        return None

    def _voyage(self, ident: str | None, a: Call, b: Call) -> AisEvent | None:
        """The AIS voyage of ``ident`` that leaves during ``a`` and arrives during ``b``
        (matched by time: its place ids are the detector's, not necessarily the nodes')."""
        slack = timedelta(hours=1)
        for v in self._voyages.get(ident, []):
            if (v.end_ts is not None
                    and a.start - slack <= v.start_ts <= a.end + slack
                    and b.start - slack <= v.end_ts <= b.end + slack):
                return v
        return None

    def _cargo_units(self, calls: list[Call], vessel_id: str | None) -> tuple[CargoRange, ...]:
        """The load in every unit the corridor declares, main unit first: a count seen in the
        calls (a count covering several ships gives each its share), else a count shared by
        several ships seen at the same place and time, else the vessel's capacity (main unit),
        else the unit's per-vessel or per-load figure."""
        ep = self.p.estimate_params()
        out = []
        for i, u in enumerate(self.c.cargo.all_units):
            seen = [(o.count / o.shared_by, o) for cl in calls for o in cl.obs
                    if o.count and o.unit == u.unit]
            if not seen:
                seen = [(o.count / o.shared_by, o) for o in self._shared_near(calls, u.unit)]
            if seen:
                share, o = max(seen, key=lambda x: (x[0], x[1].id))
                shared = [x for x in seen if x[1].count == o.count and x[1].shared_by == o.shared_by]
                srcs = tuple(union(x[1].sources for x in shared))
                cr = est.cargo_range(seen_count=share, seen_sources=srcs, unit=u.unit, params=ep)
                if o.shared_by > 1:
                    cr = replace(cr, basis=f"{cr.basis}; the count of {est.fmt(o.count)} "
                                           f"{u.unit} covers {o.shared_by} ships, this one's "
                                           f"share is {est.fmt(share)} (I)")
                out.append(cr)
                continue
            per = u.per_load_for(vessel_id)
            cap = self.vessel_caps.get(vessel_id) if (vessel_id and i == 0) else None
            out.append(est.cargo_range(
                capacity_teu=cap, per_load_low=per[0] if per else None,
                per_load_high=per[1] if per else None, per_load_basis=u.basis,
                per_load_sources=u.sources, unit=u.unit, params=ep))
        return tuple(out)

    def _shared_near(self, calls: list[Call], unit: str) -> list[Obs]:
        """Counts covering several ships (``vessels`` > 1) seen at the place of one of
        ``calls`` within ``call_merge_hours`` of it."""
        merge = timedelta(hours=self.p.call_merge_hours)
        out = []
        for cl in calls:
            for o in self._shared.get((cl.place_id, unit), []):
                if o.start - merge <= cl.end and o.end + merge >= cl.start and o not in out:
                    out.append(o)
        return out

    def _add(self, *, mode: str, leg: Leg | None, a: Call | None, b: Call | None, tier: str,
             reason: str, depart: TimeRange, arrive: TimeRange, evidence: tuple[Evidence, ...],
             cargo: tuple[CargoRange, ...], counts: bool, from_place: str | None, to_place: str | None,
             from_candidates: list[str] | None = None, to_candidates: list[str] | None = None,
             origin_inferred: bool = False, carries: str | None = None) -> Shipment:
        main = b if (b is not None and b.ident is not None) else (a if a is not None else b)
        ident = main.ident if main else None
        vessel_id = next((c.vessel_id for c in (b, a) if c is not None and c.vessel_id), None)
        label = main.label if main else None
        mmsi = main.mmsi if main else None
        if mode == "rail":
            vessel_id = None
            label, mmsi = (b.label if b is not None else None) or "train", None
        tier, capped = bound_tier(tier, evidence)
        if capped:
            reason = f"{reason}; {capped}"
        ev_ids = sorted(e.id for e in evidence)
        sid = stable_id("shipment", self.c.corridor_id, mode, leg.leg_id if leg else None,
                        from_place, to_place, ident if mode == "sea" else None, ev_ids)
        unmerged = sum(c.unidentified_merged for c in (a, b) if c is not None)
        row = Shipment(
            shipment_id=sid, mode=mode, leg_id=leg.leg_id if leg else None,
            vessel_id=vessel_id, vessel_name=label, mmsi=mmsi,
            from_place_id=from_place, to_place_id=to_place,
            from_candidates=tuple(from_candidates or ()), to_candidates=tuple(to_candidates or ()),
            depart=depart, arrive=arrive, tier=tier, tier_reason=reason,
            evidence=tuple(evidence), cargo=cargo[0], cargo_by_unit=tuple(cargo[1:]),
            counts_toward_totals=counts,
            carries_shipment_id=carries, origin_call_inferred=origin_inferred,
            unidentified_merged=unmerged if mode == "sea" else 0,
            sources=union(e.sources for e in evidence),
            marks=union(e.marks for e in evidence), tier_capped_by=capped,
        )
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
                if a.call_id in self.used_origin or a.subject != "vessel":
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
                if not self._origin_free(a) or not feasible(a, b, leg):
                    continue
                if best is None or a.start > best[0].start:
                    best = (a, leg)
                break
        if best is None:
            return False
        a, leg = best
        lo = timedelta(hours=leg.min_duration_hours)
        ev = evidence(a, "origin") + evidence(b, "destination")
        voy = self._voyage(b.ident, a, b)
        if voy is not None:
            ev += (Evidence("event", voy.event_id, "voyage", None,
                            rng(voy.start_ts, voy.end_ts, False),
                            f"AIS voyage of {voy.label} {a.place_id} → {b.place_id}", (), ()),)
            dep = rng(voy.start_ts, voy.start_ts, False)
            arr = rng(voy.end_ts, voy.end_ts, False)
        else:
            if a.departed_at:
                dep = rng(*a.departed_at, a.uncertain)
            elif a.ais_only:  # AIS saw the ship until it left
                dep = rng(a.end, a.end, False)
            else:
                dep = rng(a.start, min(a.end + timedelta(hours=leg.max_duration_hours),
                                       b.end - lo), True)
            if b.ais_only:  # AIS saw the ship from its arrival
                arr = rng(b.start, b.start, False)
            else:
                arr = rng(max(a.start + lo, dep.earliest + lo), b.end, True)
        hours = max((b.start - a.end).total_seconds() / 3600, 0.0)
        self._add(mode="sea", leg=leg, a=a, b=b, tier="confirmed",
                  reason=f"{b.label} seen at {a.place_id} and then at {b.place_id} "
                         f"{hours:.0f} h after it was last seen at {a.place_id}; the leg "
                         f"allows {leg.min_duration_hours:g}–{leg.max_duration_hours:g} h",
                  depart=dep, arrive=arr, evidence=ev, cargo=self._cargo_units([a, b], b.vessel_id),
                  counts=leg.from_place in counts_from, from_place=leg.from_place,
                  to_place=leg.to_place)
        self._use_origin(a.call_id)
        self.used_destination.add(b.call_id)
        return True

    def _sea_probable(self, b: Call, legs: list[Leg], counts_from: set[str]) -> bool:
        # (a) an AIS gap of the same vessel from near A to near B
        for leg in legs:
            hi = timedelta(hours=leg.max_duration_hours)
            g = self._gap_between(b.ident, leg.from_place, leg.to_place, b.end, b.start - hi)
            if g is None:
                continue
            prior = [a for a in self.at_ident(leg.from_place, b.ident)
                     if self._origin_free(a)
                     and a.end <= g.start_ts and g.start_ts - a.end <= hi]
            ev = (() if not prior else evidence(prior[-1], "origin")) + (_gap_evidence(g),) + \
                evidence(b, "destination")
            if prior:
                self._use_origin(prior[-1].call_id)
            self._add(mode="sea", leg=leg, a=prior[-1] if prior else None, b=b, tier="probable",
                      reason=f"{b.label} seen at {b.place_id}; AIS went dark near "
                             f"{leg.from_place} and came back near {leg.to_place}",
                      depart=rng(prior[-1].start if prior else b.start - hi, g.start_ts, True),
                      arrive=rng(g.end_ts, b.end, b.uncertain), evidence=ev,
                      cargo=self._cargo_units([b] + prior[-1:], b.vessel_id),
                      counts=leg.from_place in counts_from, from_place=leg.from_place,
                      to_place=leg.to_place)
            self.used_destination.add(b.call_id)
            return True
        # (b) cargo or an unidentified vessel at A within the leg's duration
        best = None
        for leg in legs:
            for a in self.at_ident(leg.from_place, None):
                if not self._origin_free(a) or not feasible(a, b, leg):
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
                  depart=rng(a.departed_at[0] if a.departed_at else a.start,
                             a.departed_at[1] if a.departed_at else b.end - lo, True),
                  arrive=rng(a.start + lo, b.end, True),
                  evidence=evidence(a, "cargo" if a.subject != "vessel" else "origin")
                  + evidence(b, "destination"),
                  cargo=self._cargo_units([a, b], b.vessel_id), counts=leg.from_place in counts_from,
                  from_place=leg.from_place, to_place=leg.to_place,
                  origin_inferred=a.subject != "vessel")
        self._use_origin(a.call_id)
        self.used_destination.add(b.call_id)
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
                  depart=rng(b.start - timedelta(hours=hi), b.start - timedelta(hours=lo)
                             if b.ais_only else b.end - timedelta(hours=lo), True),
                  arrive=rng(b.start, b.start, False) if b.ais_only
                  else rng(b.start - timedelta(hours=hi - lo), b.end, True),
                  evidence=evidence(b, "destination"), cargo=self._cargo_units([b], b.vessel_id),
                  counts=frm in counts_from if frm else False, from_place=frm,
                  to_place=b.place_id, from_candidates=froms if frm is None else [])
        self.used_destination.add(b.call_id)

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
                          depart=rng(a.start, g.start_ts, True),
                          arrive=rng(g.end_ts, g.end_ts + hi, True),
                          evidence=evidence(a, "origin") + (_gap_evidence(g),),
                          cargo=self._cargo_units([a], a.vessel_id),
                          counts=leg.from_place in counts_from, from_place=leg.from_place,
                          to_place=leg.to_place)
                self._use_origin(a.call_id)
                return
        back = self._round_trip(a)
        if back is not None:
            self.context.append({
                "kind": "call", "id": a.call_id, "place_id": a.place_id, "place_text": None,
                "vessel_id": a.vessel_id, "time": a.time.to_dict(),
                "summary": f"{a.label or 'a vessel'} left {a.place_id} and AIS shows it back "
                           f"at {a.place_id} from {back.start.isoformat()} with no call "
                           "elsewhere in between",
                "reason": "round trip: AIS shows the ship returning to where it left",
                "sources": list(a.sources), "marks": list(a.marks),
            })
            self._use_origin(a.call_id)
            return
        tos = sorted({g.to_place for g in active})
        hi = max(g.max_duration_hours for g in active)
        lo = min(g.min_duration_hours for g in active)
        leg = active[0] if len(tos) == 1 else None
        if a.departed_at:
            dep = rng(a.departed_at[0], a.departed_at[1], False)
        elif a.ais_only:  # AIS saw the ship until it left
            dep = rng(a.end, a.end, False)
        else:
            dep = rng(a.start, a.end + timedelta(hours=hi), True)
        arr = rng(dep.earliest + timedelta(hours=lo), dep.latest + timedelta(hours=hi), True)
        self._add(mode="sea", leg=leg, a=a, b=None, tier="possible",
                  reason=f"{a.label or 'a vessel'} seen at {a.place_id} only; no arrival found "
                         f"(the departure bound uses the leg's maximum duration, I)"
                  if not a.departed_at else f"{a.label or 'a vessel'} seen leaving "
                                            f"{a.place_id}; no arrival found",
                  depart=dep, arrive=arr, evidence=evidence(a, "origin"),
                  cargo=self._cargo_units([a], a.vessel_id), counts=a.place_id in counts_from,
                  from_place=a.place_id, to_place=tos[0] if len(tos) == 1 else None,
                  to_candidates=tos if len(tos) > 1 else [])
        self._use_origin(a.call_id)

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
            fits = [a for a in self.at(leg.from_place) if feasible(a, b, leg)]
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
                  depart=rng(b.start - timedelta(hours=hi), b.end - timedelta(hours=lo), True),
                  arrive=rng(b.start, b.end, b.uncertain, b.time.text),
                  evidence=evidence(b, "destination")
                  + tuple(e for a, _ in cands for e in evidence(a, "context")),
                  cargo=self._cargo_units([b], None), counts=False, from_place=frm,
                  to_place=b.place_id, from_candidates=froms if frm is None else [])

    def _rail_add(self, a: Call, b: Call, leg: Leg, tier: str, reason: str,
                  counts_from: set[str]) -> None:
        lo = timedelta(hours=leg.min_duration_hours)
        hi = timedelta(hours=leg.max_duration_hours)
        sea = self.by_dest_call.get(a.call_id)
        cargo: tuple[CargoRange, ...]
        if sea is not None:
            cargo = tuple(replace(x, basis=f"carries the load of sea shipment {sea.shipment_id} "
                                           f"({x.basis})")
                          for x in (sea.cargo, *sea.cargo_by_unit))
            counts = False
        else:
            cargo = self._cargo_units([a, b], None)
            counts = leg.from_place in counts_from
        self._add(mode="rail", leg=leg, a=a, b=b, tier=tier, reason=reason,
                  depart=rng(max(a.start, b.start - hi), b.end - lo, True),
                  arrive=rng(b.start, b.end, b.uncertain, b.time.text),
                  evidence=evidence(a, "origin" if tier == "confirmed" else "cargo")
                  + evidence(b, "destination"),
                  cargo=cargo, counts=counts, from_place=leg.from_place, to_place=leg.to_place,
                  carries=sea.shipment_id if sea else None)
