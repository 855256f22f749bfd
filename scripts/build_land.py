"""Build ``src/corridor/data/land/ne_10m_land.npz`` from Natural Earth 1:10m land.

Reproducible: reads ``ne_10m_land.7z`` from the shared data directory (default
``../shared/data/geo/natural-earth``), decompresses it with py7zr into a temporary
directory, splits the multipolygons into polygons and stores every vertex, unsimplified,
as integer micro-degrees (0.11 m), delta-encoded so that ``np.savez_compressed`` packs the
411k vertices into under 2 MB. The layout follows ``shapely.to_ragged_array``:

* ``dlonlat`` int32 (N, 2): first differences of round(lon/lat * 1e6) over the flat vertex list
* ``ring_offsets`` int32 (R + 1,): vertex offsets of each ring
* ``polygon_offsets`` int32 (P + 1,): ring offsets of each polygon (first ring = exterior)

It then computes ``shore_distance_grid.npz``: the exact signed distance from shore (metres,
negative on land) at every node of a global grid of ``--step`` degrees, with corridor's own
exact method on the polygons just written, rounded to ``--quantum`` metres and stored as
int16 differences along each row (a smooth field compresses well that way). This takes about
5 minutes of one core at the default 0.1 degrees.

Usage: ``python scripts/build_land.py [--src DIR] [--out FILE] [--step DEG] [--quantum M]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import py7zr
import shapely

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
DEFAULT_SRC = REPO.parent / "shared" / "data" / "geo" / "natural-earth"
DEFAULT_OUT = REPO / "src" / "corridor" / "data" / "land" / "ne_10m_land.npz"
MICRODEG = 1e6


def read_land(src_dir: Path) -> np.ndarray:
    """The Natural Earth 1:10m land polygons (shapely array) from the 7z in ``src_dir``."""
    with tempfile.TemporaryDirectory() as tmp:
        with py7zr.SevenZipFile(src_dir / "ne_10m_land.7z") as z:
            z.extractall(tmp)
        with open(Path(tmp) / "ne_10m_land.json", encoding="utf-8") as fh:
            doc = json.load(fh)
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in doc["features"]])
    polys = shapely.get_parts(geoms)
    if not shapely.is_valid(polys).all():
        raise SystemExit("ne_10m_land contains invalid polygons; refusing to build")
    return polys


def encode(polys: np.ndarray) -> dict[str, np.ndarray]:
    """Ragged, delta-encoded integer micro-degree arrays for ``np.savez_compressed``."""
    kind, coords, (ring_offsets, polygon_offsets) = shapely.to_ragged_array(polys)
    if kind != shapely.GeometryType.POLYGON:
        raise SystemExit(f"expected polygons, got {kind}")
    q = np.round(coords * MICRODEG).astype(np.int64)
    d = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return {
        "dlonlat": d.astype(np.int32),
        "ring_offsets": ring_offsets.astype(np.int32),
        "polygon_offsets": polygon_offsets.astype(np.int32),
    }


def distance_grid(step_deg: float) -> np.ndarray:
    """Exact signed distance from shore (metres, negative on land) at the grid nodes."""
    from corridor import shore

    shore.load_land.cache_clear()
    land = shore.load_land()
    lats = np.linspace(-90.0, 90.0, int(round(180.0 / step_deg)) + 1)
    lons = np.linspace(-180.0, 180.0, int(round(360.0 / step_deg)) + 1)
    la, lo = (a.ravel() for a in np.meshgrid(lats, lons, indexing="ij"))
    out = np.empty(len(la))
    t0 = time.perf_counter()
    chunk = 500_000
    for s in range(0, len(la), chunk):
        on = land.exact_on_land(la[s:s + chunk], lo[s:s + chunk])
        d = land.coast.distance_m(la[s:s + chunk], lo[s:s + chunk])[0]
        out[s:s + chunk] = np.where(on, -d, d)  # land nodes: distance to the coast, negative
        print(f"  grid {min(s + chunk, len(la))}/{len(la)} nodes, "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    return out.reshape(len(lats), len(lons))


def encode_grid(signed_m: np.ndarray, step_deg: float, quantum_m: float) -> dict[str, np.ndarray]:
    """Quantise to ``quantum_m`` and difference along rows, for ``np.savez_compressed``."""
    q = np.round(signed_m / quantum_m)
    if np.abs(q).max() > np.iinfo(np.int16).max:
        raise SystemExit("distance grid overflows int16; raise --quantum")
    d = np.diff(q.astype(np.int32), axis=1, prepend=0)
    return {"dvalues": d.astype(np.int16), "step_deg": np.float64(step_deg),
            "quantum_m": np.float64(quantum_m)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--step", type=float, default=0.1, help="grid step in degrees")
    ap.add_argument("--quantum", type=float, default=100.0, help="grid rounding in metres")
    ap.add_argument("--no-grid", action="store_true", help="only rebuild the polygons")
    args = ap.parse_args()
    polys = read_land(args.src)
    arrays = encode(polys)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    n = len(arrays["dlonlat"])
    print(f"{args.out}: {len(polys)} polygons, {n} vertices, {args.out.stat().st_size} bytes")
    if not args.no_grid:
        grid_out = args.out.parent / "shore_distance_grid.npz"
        np.savez_compressed(grid_out, **encode_grid(distance_grid(args.step), args.step,
                                                   args.quantum))
        print(f"{grid_out}: {grid_out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
