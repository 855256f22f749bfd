"""A small reconstruction in the ``corridor.reconstruction/1`` shape (docs/reconstruction.md).

Shared by the report tests; values follow the contract's trimmed example for the 2023 case.
"""

from __future__ import annotations

import copy


def _rng(a: str, b: str, uncertain: bool = False, text: str | None = None) -> dict:
    return {"earliest": a, "latest": b, "uncertain": uncertain, "text": text}


SAMPLE: dict = {
    "format": "corridor.reconstruction/1",
    "corridor": {"id": "dprk-russia-2023", "title": "DPRK → Russia munitions corridor, Aug 2023 – Feb 2024",
                 "description": "Ships from Rajin to Dunai, rail to the Tikhoretsk depot.",
                 "case": "dprk-russia-2023", "cargo_unit": "containers",
                 "file": "src/corridor/data/corridors/dprk-russia-2023.yaml"},
    "window": {"start": "2023-08-01", "end": "2024-02-29"},
    "nodes": [
        {"place_id": "rajin", "name": "Rajin (Najin) port", "role": "origin", "kind": "port",
         "country": "KP", "lat": 42.34, "lon": 130.38972, "precision": "settlement",
         "precision_note": "district centroid, not the piers", "radius_m": 15000,
         "aliases": ["Najin"], "mark": "C", "sources": ["S40a"]},
        {"place_id": "tumangang", "name": "Tumangang", "role": "transit", "kind": "rail_crossing",
         "country": "KP", "lat": 42.4216825, "lon": 130.6025505, "precision": "settlement",
         "precision_note": None, "radius_m": 3000, "aliases": [], "mark": "C", "sources": ["S40b"]},
        {"place_id": "dunay", "name": "Dunai / Dunay", "role": "transit", "kind": "port",
         "country": "RU", "lat": 42.88028, "lon": 132.3375, "precision": "settlement",
         "precision_note": "settlement, not the pier", "radius_m": 12000,
         "aliases": ["Dunai"], "mark": "C", "sources": ["S40f", "S10"]},
        {"place_id": "vostochny", "name": "Vostochny port", "role": "transit", "kind": "port",
         "country": "RU", "lat": 42.733, "lon": 133.067, "precision": "approximate",
         "precision_note": "coarse, port-level", "radius_m": 8000, "aliases": [], "mark": "U",
         "sources": ["S40i"]},
        {"place_id": "rajin-pier-3", "name": "Rajin Pier 3", "role": "transit", "kind": "berth",
         "country": "KP", "lat": None, "lon": None, "precision": "approximate",
         "precision_note": "no source gives pier coordinates", "radius_m": None, "aliases": [],
         "mark": "C", "sources": ["S42"]},
        {"place_id": "tikhoretsk-depot", "name": "Tikhoretsk ammunition depot",
         "role": "destination", "kind": "depot", "country": "RU", "lat": 45.888417,
         "lon": 40.042361, "precision": "facility", "radius_m": 3000, "aliases": [],
         "mark": "C", "sources": ["S37", "S36"]},
    ],
    "legs": [
        {"leg_id": "rajin-dunay", "from": "rajin", "to": "dunay", "mode": "sea",
         "duration_hours": {"min": 6, "max": 240}, "active": {"start": "2023-08-01", "end": "2023-12-31"},
         "distance_km": None, "sources": ["S6", "S10"], "note": None},
        {"leg_id": "rajin-vostochny", "from": "rajin", "to": "vostochny", "mode": "sea",
         "duration_hours": {"min": 6, "max": 240}, "active": {"start": "2023-10-15", "end": None},
         "distance_km": None, "sources": ["S14b"], "note": None},
        {"leg_id": "dunay-tikhoretsk", "from": "dunay", "to": "tikhoretsk-depot", "mode": "rail",
         "duration_hours": {"min": 168, "max": 720}, "active": {"start": None, "end": None},
         "distance_km": None, "sources": ["S7", "S33"], "note": None},
    ],
    "vessels": [
        {"vessel_id": "angara", "name": "ANGARA", "aliases": ["Angara"], "imo": 9179842,
         "imo_status": "unverified", "mmsi": None, "flag": "RU", "vessel_type": "ro-ro / container",
         "length_m": None, "capacity_teu": None,
         "sanctions": [{"authority": "EU", "listed_on": "2024-06-24", "text": "14th package",
                        "marks": ["C"], "sources": ["S34"]}],
         "watchlist": [], "marks": ["C", "U"], "sources": ["S29", "S34"],
         "notes": "Not the car carrier ANGARA, IMO 9124043 [S57]."},
        {"vessel_id": "maria", "name": "MARIA", "aliases": [], "imo": None, "imo_status": None,
         "mmsi": None, "flag": "RU", "vessel_type": "dry cargo", "length_m": None,
         "capacity_teu": None, "sanctions": [], "watchlist": [], "marks": ["C"],
         "sources": ["S46"], "notes": None},
    ],
    "calls": [
        {"call_id": "c1", "place_id": "rajin", "vessel_id": None, "subject": "containers",
         "time": _rng("2023-09-07T00:00:00", "2023-09-09T00:00:00"), "departed": None,
         "activity": ["stacked"], "unidentified_merged": 0, "evidence": ["s3"],
         "sources": ["S6", "S7"], "marks": ["C", "⚠"]},
        {"call_id": "c2", "place_id": "dunay", "vessel_id": "angara", "subject": "vessel",
         "time": _rng("2023-09-12T00:00:00", "2023-09-13T00:00:00", text="2023-09-12"),
         "departed": None, "activity": ["berthed"], "unidentified_merged": 0,
         "evidence": ["s4"], "sources": ["S6", "S7"], "marks": ["C"]},
        {"call_id": "c3", "place_id": "rajin", "vessel_id": "maria", "subject": "vessel",
         "time": _rng("2023-10-10T00:00:00", "2023-10-12T00:00:00"), "departed": None,
         "activity": ["loading"], "unidentified_merged": 0, "evidence": ["s8"],
         "sources": ["S19d"], "marks": ["C"]},
        {"call_id": "c4", "place_id": "tikhoretsk-depot", "vessel_id": None, "subject": "train",
         "time": _rng("2023-10-01T00:00:00", "2023-10-02T00:00:00"), "departed": None,
         "activity": ["arrived"], "unidentified_merged": 0, "evidence": ["s6"],
         "sources": ["S6", "S7"], "marks": ["C"]},
        {"call_id": "c5", "place_id": "rajin", "vessel_id": "angara", "subject": "vessel",
         "time": _rng("2023-08-10T00:00:00", "2023-08-21T00:00:00", True, "mid-Aug 2023"),
         "departed": None, "activity": [], "unidentified_merged": 0, "evidence": ["s2"],
         "sources": ["S9"], "marks": ["C"]},
    ],
    "shipments": [
        {"shipment_id": "a1b2c3d4e5f60001", "mode": "sea", "leg_id": "rajin-dunay",
         "vessel_id": "angara", "vessel_name": "ANGARA", "mmsi": None, "from_place_id": "rajin",
         "to_place_id": "dunay", "to_candidates": [],
         "depart": _rng("2023-09-07T00:00:00", "2023-09-12T18:00:00", True),
         "arrive": _rng("2023-09-12T00:00:00", "2023-09-13T00:00:00", text="2023-09-12"),
         "tier": "probable",
         "tier_reason": "ANGARA seen at dunay; cargo seen at rajin 5 days earlier",
         "evidence": [
             {"kind": "sighting", "id": "s3", "role": "cargo", "place_id": "rajin",
              "time": _rng("2023-09-07T00:00:00", "2023-09-09T00:00:00"),
              "summary": "~300 × 20-ft containers at Najin pier", "sources": ["S6", "S7"],
              "marks": ["C", "⚠"]},
             {"kind": "sighting", "id": "s4", "role": "destination", "place_id": "dunay",
              "time": _rng("2023-09-12T00:00:00", "2023-09-13T00:00:00"),
              "summary": "ANGARA berthed at Dunay", "sources": ["S6"], "marks": ["C"]}],
         "cargo": {"low": 270, "high": 330, "unit": "containers",
                   "basis": "about 300 containers seen (±10% for 'about')", "sources": ["S6"]},
         "counts_toward_totals": True, "sources": ["S6", "S7"], "marks": ["C", "⚠"]},
        {"shipment_id": "a1b2c3d4e5f60002", "mode": "rail", "leg_id": "dunay-tikhoretsk",
         "vessel_id": None, "vessel_name": "train with containers", "mmsi": None,
         "from_place_id": "dunay", "to_place_id": "tikhoretsk-depot", "to_candidates": [],
         "depart": _rng("2023-09-12T00:00:00", "2023-09-25T00:00:00", True),
         "arrive": _rng("2023-10-01T00:00:00", "2023-10-02T00:00:00"),
         "tier": "probable", "tier_reason": "train seen at the depot 19 days after Dunay",
         "evidence": [], "cargo": {"low": 270, "high": 330, "unit": "containers",
                                   "basis": "carries the sea shipment's cargo", "sources": ["S6"]},
         "counts_toward_totals": False, "sources": ["S6", "S7"], "marks": ["C"]},
    ],
    "rail": {
        "observations": [
            {"rail_obs_id": "r0", "place_id": "tumangang", "obs_date": "2023-10-01",
             "date_text": "past 5 years", "kind": "baseline", "railcars": 20, "car_type": None,
             "qualifier": "at_most", "direction": None,
             "description": "at most about 20 railcars", "sources": ["S12"], "marks": ["C"]},
            {"rail_obs_id": "r1", "place_id": "tumangang", "obs_date": "2023-10-05",
             "date_text": "2023-10-05", "kind": "count", "railcars": 73, "car_type": "freight",
             "qualifier": "about", "direction": None, "description": "about 73 freight railcars",
             "sources": ["S12", "S12c"], "marks": ["C"]},
            {"rail_obs_id": "r2", "place_id": "tumangang", "obs_date": "2024-06-17",
             "date_text": "2024-06-17", "kind": "count", "railcars": 264, "car_type": "mixed",
             "qualifier": "about", "direction": None, "description": "ore, box, tank cars",
             "sources": ["S15"], "marks": ["C"]}],
        "surges": [
            {"rail_obs_id": "r1", "place_id": "tumangang", "obs_date": "2023-10-05",
             "railcars": 73, "baseline_railcars": 20, "baseline_id": "r0", "ratio": 3.65,
             "threshold_ratio": 2.0, "surge": True,
             "arithmetic": "73 / 20 = 3.65 ≥ 2.0 → surge", "sources": ["S12"], "marks": ["C"]}],
    },
    "estimates": [
        {"estimate_id": "e1", "measure": "containers",
         "period": {"start": "2023-09-07", "end": "2023-10-01"}, "from_place_ids": ["rajin"],
         "vessel_id": None, "low": 270, "high": 330, "unit": "containers",
         "by_tier": {"confirmed": 0, "probable": 1, "possible": 0},
         "shipment_ids": ["a1b2c3d4e5f60001"],
         "arithmetic": "low: 1 shipment × 270 = 270; high: 1 × 330 = 330 containers",
         "sources": ["S6", "S19b"]}],
    "claims": [
        {"claim_id": "k1", "key": "wh-1000-containers",
         "sentence": "more than 1,000 containers of military equipment, and munitions",
         "attribution": "White House NSC (Kirby)", "quantity": 1000, "unit": "containers",
         "qualifier": "more_than", "claim_range": {"min": 1000, "max": None},
         "period": {"start": "2023-09-07", "end": "2023-10-01"},
         "places": ["rajin", "dunay"], "vessel_id": None, "origin": "case",
         "sources": ["S1", "S2"], "marks": ["C"], "estimate_id": "e1",
         "verdict": "evidence falls short",
         "arithmetic": "evidence 270–330 vs claim > 1,000: 330 < 1,000 → evidence falls short"}],
    "context": [
        {"kind": "sighting", "id": "s14", "place_id": "rajin",
         "time": _rng("2023-09-01T00:00:00", "2024-01-01T00:00:00", True, "Sep–Dec 2023"),
         "summary": "MAIA-1 loading containers at Najin", "reason": "range too wide to date a shipment",
         "sources": ["S21"], "marks": ["C"]}],
    "sources": [
        {"tag": t, "parent": None, "publisher": "Publisher " + t, "title": "Title " + t,
         "date": "2023-10", "url": "https://example.org/" + t.lower(), "marks": [],
         "citation": f"Publisher {t}, Title {t}, Oct 2023."}
        for t in ["S1", "S2", "S6", "S7", "S9", "S10", "S12", "S12c", "S14b", "S15", "S19b",
                  "S19d", "S21", "S29", "S33", "S34", "S36", "S37", "S40a", "S40b", "S40f",
                  "S40i", "S42", "S46", "S57"]],
    "warnings": ["sighting 31: place 'Khasan yard' unknown"],
    "params": {"call_merge_hours": 36, "surge_ratio": 2.0},
}


def sample() -> dict:
    """A fresh deep copy (tests may modify it)."""
    return copy.deepcopy(SAMPLE)
