"""Rail counts at corridor nodes against each place's baseline (``rail`` of the JSON)."""

from __future__ import annotations

from typing import Any

from corridor.corridors.calls import union
from corridor.corridors.inputs import Inputs
from corridor.ingest.observations import source_tags


def rail_section(inp: Inputs) -> dict[str, Any]:
    """Rail observations at nodes in the window, baselines, and surges (JSON-ready)."""
    c, p = inp.corridor, inp.params
    obs_rows, surges = [], []
    baselines = [r for r in inp.rail if r["kind"] == "baseline"]
    in_window = [r for r in inp.rail if r["kind"] != "baseline"
                 and r["obs_date_end"] >= c.window_start and r["obs_date"] <= c.window_end]
    for r in baselines + in_window:
        obs_rows.append({
            "rail_obs_id": r["rail_obs_id"], "place_id": r["place_id"],
            "obs_date": r["obs_date"].isoformat(), "obs_date_end": r["obs_date_end"].isoformat(),
            "date_text": r.get("date_text"), "date_uncertain": bool(r.get("date_uncertain")),
            "kind": r["kind"], "railcars": r["railcars"], "car_type": r.get("car_type"),
            "qualifier": r.get("qualifier"), "direction": r.get("direction"),
            "description": r.get("description"), "sources": source_tags(r["source"]),
            "marks": list(r.get("marks") or []),
        })
    groups: dict[tuple, list[dict]] = {}
    for r in in_window:
        if r["kind"] == "count" and r["railcars"] is not None:
            groups.setdefault((r["place_id"], r["obs_date"], r["obs_date_end"]), []).append(r)
    warned: set[str] = set()
    for (place, d0, d1), rows in sorted(groups.items()):
        total = sum(r["railcars"] for r in rows)
        base = [b for b in baselines if b["place_id"] == place and b["obs_date"] <= d0]
        if not base:
            if place not in warned:
                inp.warnings.append(f"rail counts at {place} have no baseline row: no surge verdict")
                warned.add(place)
            continue
        bl = max(base, key=lambda b: (b["obs_date_end"], b["rail_obs_id"]))
        ratio = total / bl["railcars"] if bl["railcars"] else float("inf")
        is_surge = ratio >= p.surge_ratio
        tags = list(union([source_tags(r["source"]) for r in rows]))
        btags = source_tags(bl["source"])
        terms = " + ".join(str(r["railcars"]) for r in rows)
        total_txt = f"{terms} = {total}" if len(rows) > 1 else f"{total}"
        surges.append({
            "rail_obs_ids": [r["rail_obs_id"] for r in rows], "place_id": place,
            "obs_date": d0.isoformat(), "obs_date_end": d1.isoformat(), "railcars": total,
            "car_types": [r.get("car_type") for r in rows], "baseline_railcars": bl["railcars"],
            "baseline_id": bl["rail_obs_id"], "ratio": round(ratio, 4),
            "threshold_ratio": p.surge_ratio, "surge": bool(is_surge),
            "arithmetic": f"{total_txt} railcars {''.join(f'[{t}]' for t in tags)} / baseline "
                          f"{bl['railcars']} ({bl.get('qualifier') or 'baseline'}, "
                          f"{bl.get('date_text') or bl['obs_date']} "
                          f"{''.join(f'[{t}]' for t in btags)}) = {ratio:.2f} "
                          f"{'≥' if is_surge else '<'} {p.surge_ratio:g} → "
                          f"{'surge' if is_surge else 'no surge'}",
            "sources": list(union([tags, btags])),
            "marks": list(union([list(r.get("marks") or []) for r in rows])),
        })
    return {"observations": obs_rows, "surges": surges}
