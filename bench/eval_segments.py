"""Segmentation against GFW's gpsdio-segment expected ids (adjusted Rand index).

GFW's gpsdio-segment ships real tracks with the segment id its segmenter gave each
position (``gfw-fixtures/gpsdio-segment``): ``338013000.json`` (column ``expected``) and
``segmented-416000000.json`` (column ``segment``; a shared MMSI). ``263576000.json`` has
no per-position ids (only segment sizes) and is not scored.

Per vessel and pooled (the contingency tables of all vessels summed, so each vessel
counts by its pairs of positions), the adjusted Rand index (Hubert & Arabie 1985)
between GFW's ids and corridor's, under corridor's defaults and under pipe-segment's
settings (:data:`corridor.detect.params.GFW_SEGMENT`). Positions corridor marks as
exact duplicates (same time and place as the one before; GFW's current segmenter drops
them too) are left out of both labelings. A position corridor leaves out of every
segment (noise segment, invalid, type 27 noise) counts as a segment of its own, as GFW's
one- and two-message noise segments do. Also reported: the share of positions whose
corridor segment holds the majority of their GFW segment (purity), since ARI is 0
whenever one side puts everything in one segment.

Run: ``PYTHONPATH=src python bench/eval_segments.py [--data DIR] [--json FILE]``
(seconds). Run it with an older checkout's ``src`` on the path for "before" figures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from corridor.detect.params import GFW_SEGMENT, SegmentParams
from corridor.detect.tracks import segment_track
from corridor.ids import position_obs_ids
from corridor.schema import POSITIONS

FIXTURES = "gfw-fixtures/gpsdio-segment"
VESSELS = {"338013000": ("338013000.json", "expected"),
           "416000000": ("segmented-416000000.json", "segment")}


def _iso_us(text: str) -> int:
    return int(np.datetime64(text.rstrip("Z"), "us").astype(np.int64))


def load(path: Path, column: str) -> tuple[pa.Table, np.ndarray]:
    """Positions (obs_id = row number) and GFW's segment id per row."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert rows, f"no rows in {path}"
    n = len(rows)
    ts = np.array([_iso_us(r["timestamp"]) for r in rows], dtype=np.int64)
    lat = np.array([r["lat"] for r in rows], dtype=np.float64)
    lon = np.array([r["lon"] for r in rows], dtype=np.float64)
    mmsi = np.full(n, int(rows[0]["ssvid"]), dtype=np.int64)
    t = pa.table({
        "obs_id": pa.array(np.arange(n), pa.int64()),
        "mmsi": mmsi, "ts": pa.array(ts).cast(pa.timestamp("us")), "lat": lat, "lon": lon,
        "sog": pa.array([r.get("speed") for r in rows], pa.float32()),
        "cog": pa.nulls(n, pa.float32()), "heading": pa.nulls(n, pa.int16()),
        "nav_status": pa.nulls(n, pa.int8()), "msg_type": pa.array(np.ones(n), pa.int8()),
        "source": pa.array(["gfw-fixture"] * n),
    }, schema=POSITIONS)
    assert len(set(position_obs_ids(mmsi, ts, lat, lon, np.ones(n, np.int64)))) <= n
    return t, np.array([r[column] for r in rows], dtype=object)


def contingency(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1), dtype=np.int64)
    np.add.at(table, (ai, bi), 1)
    return table


def ari_from_tables(tables: list[np.ndarray]) -> float:
    """Adjusted Rand index of labelings given by contingency tables (pooled: summed over
    vessels; pairs never cross vessels). Hand-written with numpy: scikit-learn is not a
    corridor dependency for one formula."""
    def pairs(x: np.ndarray) -> float:
        return float((x * (x - 1) / 2).sum())

    index = sum(pairs(t) for t in tables)
    pa_ = sum(pairs(t.sum(axis=1)) for t in tables)
    pb = sum(pairs(t.sum(axis=0)) for t in tables)
    total = sum(pairs(np.array([t.sum()])) for t in tables)
    expected = pa_ * pb / total
    denom = (pa_ + pb) / 2 - expected
    return 1.0 if denom == 0 else (index - expected) / denom


def jumps(tr, km: float = 100.0, hours: float = 6.0) -> int:
    """Steps of at least ``km`` between fixes less than ``hours`` apart inside one corridor
    segment: a segment zig-zagging between craft that share an MMSI."""
    from corridor.geo import haversine_m

    n = 0
    for _, idx in tr.segment_indices():
        d = haversine_m(tr.lat[idx[:-1]], tr.lon[idx[:-1]], tr.lat[idx[1:]], tr.lon[idx[1:]])
        n += int(((d >= km * 1000) & (np.diff(tr.ts[idx]) < hours * 3.6e9)).sum())
    return n


def labels(t: pa.Table, p: SegmentParams) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """Corridor's label per row (excluded rows: a label of their own), the evaluated rows
    (not duplicates), the number of corridor segments, of zig-zag steps (:func:`jumps`)
    and of position_conflict events."""
    tr, events = segment_track(t, p)
    n = t.num_rows
    lab = np.empty(n, dtype=np.int64)
    lab[tr.obs_id] = tr.segment
    dup = np.zeros(n, dtype=bool)
    for idx, mark, _ in tr.marks:
        if mark == "duplicate":
            dup[tr.obs_id[idx]] = True
    out = lab >= 0
    lab[~out] = 1_000_000 + np.flatnonzero(~out)  # singletons
    return lab, ~dup, len(tr.segment_ids), jumps(tr), len(events)


def purity(mine: np.ndarray, gfw: np.ndarray) -> float:
    """Share of positions in the corridor segment holding most of their GFW segment."""
    t = contingency(gfw, mine)
    return float(t.max(axis=1).sum() / t.sum())


def run(data: Path) -> dict:
    settings = {"corridor default": SegmentParams(), "pipe-segment (GFW_SEGMENT)": GFW_SEGMENT}
    out: dict = {"vessels": {}, "pooled": {}}
    tables: dict[str, list[np.ndarray]] = {k: [] for k in settings}
    for vessel, (name, column) in VESSELS.items():
        t, gfw = load(data / FIXTURES / name, column)
        row: dict = {"positions": t.num_rows, "gfw_segments": len(set(gfw))}
        for key, p in settings.items():
            mine, keep, n_seg, n_jumps, n_conflicts = labels(t, p)
            tab = contingency(mine[keep], gfw[keep])
            tables[key].append(tab)
            row[key] = {"ari": round(ari_from_tables([tab]), 4),
                        "purity": round(purity(mine[keep], gfw[keep]), 4),
                        "segments": n_seg, "evaluated": int(keep.sum()),
                        "excluded_rows": int((mine[keep] >= 1_000_000).sum()),
                        "jumps_100km_6h": n_jumps, "position_conflicts": n_conflicts}
        out["vessels"][vessel] = row
    for key in settings:
        out["pooled"][key] = round(ari_from_tables(tables[key]), 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / "tests/data")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args()
    res = run(args.data)
    print(json.dumps(res, indent=2))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
