"""Cargo ranges, totals over a claim's window, and verdicts with the arithmetic written out."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from corridor.corridors import estimate as est
from corridor.corridors.case import load_case
from corridor.corridors.objects import CargoRange, Shipment, TimeRange
from corridor.corridors.reconstruct import reconstruct


def ship(sid, tier, dep0, dep1, arr0, arr1, low=270.0, high=330.0, counts=True, frm="rajin"):
    t = datetime.fromisoformat
    return Shipment(
        shipment_id=sid, mode="sea", leg_id=None, vessel_id=None, vessel_name=None, mmsi=None,
        from_place_id=frm, to_place_id=None, from_candidates=(), to_candidates=(),
        depart=TimeRange(t(dep0), t(dep1)), arrive=TimeRange(t(arr0), t(arr1)), tier=tier,
        tier_reason="", evidence=(), cargo=CargoRange(low, high, "containers", "", ("S6",)),
        counts_toward_totals=counts, carries_shipment_id=None, origin_call_inferred=False,
        unidentified_merged=0, sources=(), marks=())


def test_cargo_prefers_a_seen_count_then_capacity_then_the_per_load_figure():
    seen = est.cargo_range(seen_count=300, seen_sources=("S6", "S7"), per_load_low=1,
                           per_load_high=2)
    assert (seen.low, seen.high, seen.sources) == (270.0, 330.0, ("S6", "S7"))
    assert "about 300 containers seen [S6][S7]" in seen.basis
    cap = est.cargo_range(capacity_teu=400, per_load_low=1, per_load_high=2)
    assert (cap.low, cap.high) == (200.0, 400.0) and "capacity 400 TEU" in cap.basis
    per = est.cargo_range(per_load_low=270, per_load_high=330, per_load_basis="about 300 [S6]",
                          per_load_sources=("S6",))
    assert (per.low, per.high, per.basis) == (270.0, 330.0, "about 300 [S6]")
    assert est.cargo_range().low is None


@pytest.mark.parametrize("qual, rng", [("more_than", (1000.0, None, True)),
                                       ("at_least", (1000.0, None, False)),
                                       ("about", (900.0, 1100.0, False)),
                                       ("up_to", (0.0, 1000.0, False)),
                                       ("exact", (1000.0, 1000.0, False))])
def test_claim_qualifiers_become_ranges(qual, rng):
    assert est.claim_range(1000, qual) == rng


def test_verdicts():
    assert est.verdict(270, 330, 1000, None, True) == est.FALLS_SHORT
    assert est.verdict(900, 1000, 1000, None, True) == est.FALLS_SHORT  # "more than 1,000"
    assert est.verdict(900, 1000, 1000, None, False) == est.CONSISTENT  # "at least 1,000"
    assert est.verdict(1200, 1300, 900, 1100) == est.EXCEEDS
    assert est.verdict(0, 0, None, None) == est.UNTESTABLE


def test_totals_count_inside_for_low_and_overlap_for_high_and_skip_carried_loads():
    ships = [
        ship("a", "probable", "2023-09-07T00:00:00", "2023-09-12T18:00:00", "2023-09-07T06:00:00",
             "2023-09-13T00:00:00"),
        ship("b", "possible", "2023-08-26T00:00:00", "2023-09-06T00:00:00", "2023-08-26T06:00:00",
             "2023-09-16T00:00:00"),
        ship("c", "confirmed", "2023-10-03T00:00:00", "2023-10-04T00:00:00", "2023-10-05T00:00:00",
             "2023-10-06T00:00:00"),
        ship("rail", "probable", "2023-09-12T00:00:00", "2023-09-25T00:00:00",
             "2023-10-01T00:00:00", "2023-10-02T00:00:00", counts=False, frm="dunay"),
    ]
    e = est.estimate_containers("x", ships, date(2023, 9, 7), date(2023, 10, 1), ["rajin"])
    assert (e.low, e.high) == (270.0, 660.0)
    assert e.low_shipment_ids == ("a",) and e.shipment_ids == ("a", "b")
    assert e.by_tier == {"confirmed": 0, "probable": 1, "possible": 1}
    assert "low = 1 (probable) wholly inside the period = 270" in e.arithmetic
    assert "= 330 + 330 = 660 containers" in e.arithmetic
    n = est.estimate_shipments("x", ships, date(2023, 8, 1), date(2023, 10, 31), ["rajin"])
    assert (n.low, n.high) == (2.0, 3.0)


def test_the_thousand_container_claim_gets_a_verdict_with_its_arithmetic(store):
    load_case(store, "dprk-russia-2023")
    rec = reconstruct(store, "dprk-russia-2023", save=False).to_json()
    claim = next(c for c in rec["claims"] if c["key"] == "wh-1000-containers")
    assert claim["verdict"] == "evidence falls short"
    assert claim["claim_range"] == {"min": 1000.0, "max": None}
    e = next(x for x in rec["estimates"] if x["estimate_id"] == claim["estimate_id"])
    assert e["period"] == {"start": "2023-09-07", "end": "2023-10-01"}
    # one dated sea load inside the window (Angara, probable) and one that only overlaps it
    assert (e["low"], e["high"]) == (270.0, 660.0)
    text = claim["arithmetic"]
    for part in ("270", "660", "more than 1,000 containers [S1][S2][S5]", "> 1,000",
                 "at least 4 loads would be needed (I)", "lower bound"):
        assert part in text, part
    assert {"S1", "S2", "S5"} <= {s["tag"] for s in rec["sources"]}


def test_claims_corridor_cannot_count_are_untestable_with_the_reason(store):
    load_case(store, "dprk-russia-2023")
    rec = reconstruct(store, "dprk-russia-2023", save=False).to_json()
    v = {c["key"]: c for c in rec["claims"]}
    assert v["c4ads-74000-tonnes"]["verdict"] == "untestable"
    assert "unit 'tonnes'" in v["c4ads-74000-tonnes"]["arithmetic"]
    assert "no number" in v["mnd-hundreds-of-thousands"]["arithmetic"]
    assert "no start" in v["shin-6700-containers"]["arithmetic"]
    assert "not inside the corridor window" in v["msmt-20000-containers"]["arithmetic"]
    assert v["wh-300-najin-dunay"]["verdict"] == "consistent"
    assert v["voa-1500-containers"]["verdict"] == "consistent"
