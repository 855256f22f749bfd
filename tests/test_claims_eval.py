"""Extraction quality on the hand-labelled sentences stays above agreed floors."""

from __future__ import annotations

from pathlib import Path

import yaml

from corridor.claims.evaluate import FIELDS, evaluate_labelled

LABELLED = Path(__file__).parent / "data" / "claims_labelled.yaml"


def _case_places():
    """The labelled sentences are about the shipped DPRK case: its places (every row of its
    places sheet) are what extraction resolves names against."""
    from corridor.corridors.case import read_case_places
    from corridor.corridors.model import case_dir

    return read_case_places(case_dir("dprk-russia-2023"), "dprk-russia-2023")


def _case_vessels():
    """The case's vessels: what ship names, IMO numbers and MMSIs resolve against."""
    from corridor.corridors.case import read_vessels
    from corridor.corridors.model import case_dir

    return read_vessels(case_dir("dprk-russia-2023"), "dprk-russia-2023")

# Floors sit well below the measured values (bench/results/claims.md) so that small rule
# changes pass, while a broken recogniser (a field dropping to zero) fails.
FLOORS = {
    "claim": (0.85, 0.85), "supplier": (0.85, 0.75), "recipient": (0.85, 0.85),
    "materiel": (0.75, 0.85), "quantity": (0.75, 0.8), "period": (0.75, 0.8),
    "places": (0.85, 0.8), "distance_km": (0.9, 0.9), "attribution": (0.8, 0.75),
    "vessels": (0.85, 0.85),
}


def test_labelled_set_is_large_enough():
    items = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))
    assert len(items) >= 30 and all("text" in i for i in items)


def test_precision_and_recall_floors():
    scores, _ = evaluate_labelled(LABELLED, places=_case_places(), vessels=_case_vessels())
    for f in FIELDS:
        p_floor, r_floor = FLOORS[f]
        assert scores[f]["precision"] >= p_floor, (f, scores[f])
        assert scores[f]["recall"] >= r_floor, (f, scores[f])


def test_unseen_split_floor():
    """The last held-out batch was never tuned on: every field keeps P and R >= 0.6 there."""
    scores, _ = evaluate_labelled(LABELLED, "heldout3", places=_case_places(),
                                  vessels=_case_vessels())
    assert sum(1 for _ in yaml.safe_load(LABELLED.read_text(encoding="utf-8"))
               if _.get("split") == "heldout3") >= 15
    for f in FIELDS:
        assert scores[f]["precision"] >= 0.6 and scores[f]["recall"] >= 0.6, (f, scores[f])


def test_vessel_patterns_split_floor():
    """The batch written for vessels, units, vague plurals, press and open starts: at least
    40 items, at least 15 labelled vessels, and every field keeps P and R >= 0.7 there."""
    items = [i for i in yaml.safe_load(LABELLED.read_text(encoding="utf-8")) if i.get("split") == "heldout4"]
    assert len(items) >= 40
    assert sum(len(i.get("vessels") or []) for i in items) >= 15
    scores, _ = evaluate_labelled(LABELLED, "heldout4", places=_case_places(), vessels=_case_vessels())
    assert scores["vessels"]["tp"] >= 15
    for f in FIELDS:
        assert scores[f]["precision"] >= 0.7 and scores[f]["recall"] >= 0.7, (f, scores[f])
