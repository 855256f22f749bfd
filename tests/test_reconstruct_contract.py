"""The JSON contract of the shipped case stays ``corridor.reconstruction/1``: against the JSON the
code wrote before the reconstruction was reshaped into typed stages (tests/golden/), every key
and value is still there; only additive keys are new."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corridor.corridors.case import load_case
from corridor.corridors.objects import Call, Estimate, Reconstruction, Shipment, Verdict
from corridor.corridors.reconstruct import reconstruct

GOLDEN = Path(__file__).parent / "golden" / "dprk-russia-2023.reconstruction.json"


def _missing_or_changed(old, new, path="") -> list[str]:
    """Keys of ``old`` missing in ``new`` and values that differ (keys only in ``new`` are
    additions, allowed by the contract)."""
    out: list[str] = []
    if isinstance(old, dict) and isinstance(new, dict):
        for k, v in old.items():
            if k not in new:
                out.append(f"{path}.{k}: removed")
            else:
                out.extend(_missing_or_changed(v, new[k], f"{path}.{k}"))
    elif isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            out.append(f"{path}: {len(old)} items before, {len(new)} now")
        for i, (a, b) in enumerate(zip(old, new, strict=False)):
            out.extend(_missing_or_changed(a, b, f"{path}[{i}]"))
    elif old != new:
        out.append(f"{path}: {old!r} before, {new!r} now")
    return out


@pytest.fixture(scope="module")
def rec(tmp_path_factory) -> Reconstruction:
    from corridor.store import Store

    with Store.open(tmp_path_factory.mktemp("contract") / "c.duckdb") as store:
        load_case(store, "dprk-russia-2023")
        return reconstruct(store, "dprk-russia-2023", save=False)


def test_the_shipped_case_json_is_unchanged_but_for_additions(rec):
    old = json.loads(GOLDEN.read_text(encoding="utf-8"))
    new = json.loads(rec.to_json_text())
    new["corridor"]["file"] = old["corridor"]["file"]  # the install path differs per machine
    assert len(old["shipments"]) >= 10 and len(old["claims"]) >= 8
    problems = _missing_or_changed(old, new)
    assert problems == [], "\n".join(problems[:20])


def test_stage_boundaries_are_typed_frozen_objects(rec):
    assert rec.shipments and rec.calls and rec.estimates and rec.claims
    assert all(isinstance(s, Shipment) for s in rec.shipments)
    assert all(isinstance(c, Call) for c in rec.calls)
    assert all(isinstance(e, Estimate) for e in rec.estimates)
    assert all(isinstance(v, Verdict) for v in rec.claims)
    with pytest.raises(AttributeError):
        rec.shipments[0].tier = "confirmed"  # type: ignore[misc]
    # to_json() is the same object as to_dict() (kept for callers)
    assert rec.to_json() == rec.to_dict()


def test_one_geojson_flat_properties_for_gis(rec):
    gj = rec.to_geojson()
    feats = gj["features"]
    kinds = {f["properties"]["feature"] for f in feats}
    assert kinds == {"node", "leg", "shipment", "call", "surge"}
    for f in feats:
        assert all(not isinstance(v, (dict, list)) for v in f["properties"].values())
    ship = next(f for f in feats if f["properties"]["feature"] == "shipment"
                and f["geometry"] is not None)
    assert ship["geometry"]["type"] == "LineString"
    assert json.loads(ship["properties"]["evidence"])  # nested values are JSON text
