"""Build the report's global basemap from Natural Earth (run once; the output is committed).

Reads ``ne_50m_admin_0_countries`` (public domain) from a directory (default
``../shared/data/geo/natural-earth``), simplifies every country to ~0.02 degrees and writes
``src/corridor/data/basemap/world.json``: ``{"source", "countries": [{"iso", "name",
"label": [lon, lat], "bbox", "rings": [[[lon, lat], ...], ...]}]}``. The report clips it to
whatever area a case needs (the overview map); close-ups draw the 1:10m land of
``data/land/ne_10m_land.npz`` instead.

Usage: ``python scripts/build_world_basemap.py [NE_DIR] [OUT_JSON]``
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import py7zr
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NE = ROOT.parent / "shared" / "data" / "geo" / "natural-earth"
DEFAULT_OUT = ROOT / "src" / "corridor" / "data" / "basemap" / "world.json"
TOLERANCE_DEG = 0.02


def main(ne_dir: Path = DEFAULT_NE, out: Path = DEFAULT_OUT) -> None:
    with tempfile.TemporaryDirectory() as d:
        with py7zr.SevenZipFile(ne_dir / "ne_50m_admin_0_countries.7z") as z:
            z.extractall(d)
        src = next(Path(d).rglob("*.json"), None) or next(Path(d).rglob("*.geojson"))
        fc = json.loads(src.read_text(encoding="utf-8"))
    countries = []
    for f in fc["features"]:
        p = {k.upper(): v for k, v in f["properties"].items()}
        geom = shape(f["geometry"]).simplify(TOLERANCE_DEG, preserve_topology=True)
        if geom.is_empty:
            continue
        polys = geom.geoms if geom.geom_type == "MultiPolygon" else [geom]
        rings = []
        for poly in polys:
            for ring in [poly.exterior, *poly.interiors]:
                pts = [[round(x, 3), round(y, 3)] for x, y in ring.coords]
                if len(pts) >= 4:
                    rings.append(pts)
        iso = p.get("ISO_A2_EH") or p.get("ISO_A2")
        if not iso or iso == "-99":
            iso = p.get("ADM0_A3", "")
        countries.append({"iso": iso, "name": p.get("NAME") or p.get("ADMIN"),
                          "label": [round(p.get("LABEL_X") or geom.centroid.x, 2),
                                    round(p.get("LABEL_Y") or geom.centroid.y, 2)],
                          "bbox": [round(v, 2) for v in geom.bounds], "rings": rings})
    countries.sort(key=lambda c: c["iso"])
    doc = {"source": "Natural Earth 1:50m admin 0 countries (public domain), simplified to "
                     f"{TOLERANCE_DEG} degrees by scripts/build_world_basemap.py",
           "countries": countries}
    out.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    print(f"{out}: {len(countries)} countries, {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]]
    main(*args)
