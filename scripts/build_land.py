"""Build ``src/corridor/data/land/ne_10m_land.npz`` from Natural Earth 1:10m land.

Reproducible: reads ``ne_10m_land.7z`` from the shared data directory (default
``../shared/data/geo/natural-earth``), decompresses it with py7zr into a temporary
directory, splits the multipolygons into polygons and stores every vertex, unsimplified,
as integer micro-degrees (0.11 m), delta-encoded so that ``np.savez_compressed`` packs the
411k vertices into under 2 MB. The layout follows ``shapely.to_ragged_array``:

* ``dlonlat`` int32 (N, 2): first differences of round(lon/lat * 1e6) over the flat vertex list
* ``ring_offsets`` int32 (R + 1,): vertex offsets of each ring
* ``polygon_offsets`` int32 (P + 1,): ring offsets of each polygon (first ring = exterior)

Usage: ``python scripts/build_land.py [--src DIR] [--out FILE]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import py7zr
import shapely

REPO = Path(__file__).resolve().parents[1]
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    polys = read_land(args.src)
    arrays = encode(polys)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    n = len(arrays["dlonlat"])
    print(f"{args.out}: {len(polys)} polygons, {n} vertices, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
