"""Build the report's bundled basemap from Natural Earth (run once; the output is committed).

Reads the Natural Earth files (public domain) from a directory (default
``../shared/data/geo/natural-earth``), clips and simplifies them to the two views the
report draws, and writes ``src/corridor/data/basemap/basemap.json``:

- ``route``: the whole corridor from the Korean peninsula to the Black Sea
  (1:50m countries, simplified to ~0.04 degrees);
- ``ports``: Rajin – Tumangang/Khasan – Vladivostok – Dunai – Vostochny
  (1:10m land, simplified to ~0.002 degrees, with the 1:50m borders);
- ``sea``: the Sea of Japan (1:10m land simplified to ~0.01 degrees), where the simulator's
  vessels sail.

Coordinates stay in WGS84 degrees (rounded) so the report projects them with the same
function it uses for places and tracks. The 7-Zip archives are opened with py7zr.

Usage: ``python scripts/build_basemap.py [NE_DIR] [OUT_JSON]``
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import py7zr
from shapely.geometry import box, shape
from shapely.ops import linemerge, unary_union

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NE = ROOT.parent / "shared" / "data" / "geo" / "natural-earth"
DEFAULT_OUT = ROOT / "src" / "corridor" / "data" / "basemap" / "basemap.json"

#: view name -> (view box (lon_min, lat_min, lon_max, lat_max), data clip box,
#:               simplify tolerance (deg), decimals). The route view is drawn in a conic
#:               projection whose frame reaches beyond its lon/lat box, so its data is clipped wider.
VIEWS = {
    "route": ((30.0, 36.0, 142.0, 62.0), (0.0, 8.0, 175.0, 82.0), 0.08, 2),
    "ports": ((129.0, 41.3, 134.2, 44.0), (129.0, 41.3, 134.2, 44.0), 0.002, 3),
    "sea": ((126.0, 33.5, 142.5, 46.5), (122.0, 31.0, 146.0, 48.0), 0.01, 2),
}
#: countries drawn with their own fill on the route view (supplier and recipient)
HIGHLIGHT = {"KP", "RU"}
#: country labels per view: (text, lon, lat), placed by hand where they read well
LABELS = {
    "route": [("RUSSIA", 95.0, 60.5), ("CHINA", 103.0, 36.0), ("N. KOREA", 126.6, 40.4),
              ("S. KOREA", 128.0, 36.3), ("JAPAN", 139.0, 37.5), ("MONGOLIA", 103.0, 46.5),
              ("KAZAKHSTAN", 68.0, 48.0), ("UKRAINE", 31.5, 49.0)],
    "ports": [("RUSSIA", 132.7, 43.75), ("CHINA", 129.8, 43.35), ("NORTH KOREA", 129.55, 41.75),
              ("Sea of Japan", 131.6, 41.9)],
    "sea": [("RUSSIA", 134.5, 45.6), ("CHINA", 127.5, 44.5), ("NORTH KOREA", 127.0, 40.2),
            ("SOUTH KOREA", 127.9, 36.4), ("JAPAN", 140.3, 39.5), ("Sea of Japan", 135.0, 40.5)],
}


def _load(ne_dir: Path, name: str, tmp: Path) -> dict:
    json_path = ne_dir / f"{name}.json"
    if json_path.exists():
        return json.loads(json_path.read_text())
    with py7zr.SevenZipFile(ne_dir / f"{name}.7z") as z:
        z.extractall(tmp)
    return json.loads((tmp / f"{name}.json").read_text())


def _rings(geom, decimals: int) -> list[list[list[float]]]:
    """Polygon/MultiPolygon -> list of rings [[lon, lat], ...] (holes included)."""
    out = []
    polys = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
    for p in polys:
        if p.geom_type != "Polygon" or p.is_empty:
            continue
        for ring in [p.exterior, *p.interiors]:
            pts = [[round(x, decimals), round(y, decimals)] for x, y in ring.coords]
            if len(pts) >= 4:
                out.append(pts)
    return out


def _lines(geom, decimals: int) -> list[list[list[float]]]:
    """Any line geometry -> list of polylines."""
    if geom.is_empty:
        return []
    if geom.geom_type == "LineString":
        parts = [geom]
    elif geom.geom_type in ("MultiLineString", "GeometryCollection"):
        parts = [g for g in geom.geoms if g.geom_type == "LineString"]
    else:
        return []
    out = []
    for ln in parts:
        pts = [[round(x, decimals), round(y, decimals)] for x, y in ln.coords]
        if len(pts) >= 2:
            out.append(pts)
    return out


def build(ne_dir: Path) -> dict:
    """Return the basemap document (see module docstring)."""
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        countries = _load(ne_dir, "ne_50m_admin_0_countries", tmp)["features"]
        land10 = _load(ne_dir, "ne_10m_land", tmp)["features"]
    doc: dict = {"source": "Natural Earth (public domain): 1:50m admin-0 countries, 1:10m land",
                 "views": {}}
    for view, (bbox, clip_box, tol, dec) in VIEWS.items():
        clip = box(*clip_box)
        out_countries = []
        boundaries = []
        for f in countries:
            g = shape(f["geometry"])
            if not g.intersects(clip):
                continue
            g = g.intersection(clip)
            iso = f["properties"].get("ISO_A2_EH") or f["properties"].get("ISO_A2")
            if view == "route" and iso in HIGHLIGHT:
                gs = g.simplify(tol, preserve_topology=True)
                rings = _rings(gs, dec)
                if rings:
                    out_countries.append({"iso": iso, "name": f["properties"]["NAME"],
                                          "rings": rings})
            boundaries.append(g.boundary)
        if view == "route":
            land = unary_union([shape(f["geometry"]) for f in countries]).intersection(clip)
        else:
            land = unary_union([shape(f["geometry"]).intersection(clip) for f in land10
                                if shape(f["geometry"]).intersects(clip)])
        land_s = land.simplify(tol, preserve_topology=True)
        min_area = {"route": 0.05, "sea": 0.001}.get(view)
        if min_area:  # drop islets too small to see at this scale
            parts = getattr(land_s, "geoms", [land_s])
            land_s = unary_union([g for g in parts if g.area >= min_area])
        # International borders: country outlines that are not coast (nor the clip edge).
        coast_zone = land.boundary.buffer({"route": tol * 3, "ports": 0.01}.get(view, 0.08))
        borders = unary_union(boundaries).difference(coast_zone).difference(
            clip.exterior.buffer(1e-6))
        if borders.geom_type == "MultiLineString":
            borders = linemerge(borders)
        borders = borders.simplify(tol, preserve_topology=False)
        if view != "ports" and borders.geom_type == "MultiLineString":  # slivers: coasts differ
            borders = linemerge([g for g in borders.geoms if g.length >= 0.05])
        labels = [{"text": t, "lon": lon, "lat": lat} for t, lon, lat in LABELS[view]]
        doc["views"][view] = {
            "bbox": list(bbox),
            "land": _rings(land_s, dec),
            "countries": out_countries,
            "borders": _lines(borders, dec),
            "labels": labels,
        }
    return doc


def main(argv: list[str]) -> int:
    ne_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_NE
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    doc = build(ne_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, separators=(",", ":")))
    for view, v in doc["views"].items():
        n = sum(len(r) for r in v["land"])
        print(f"{view}: {len(v['land'])} land rings ({n} points), {len(v['countries'])} countries, "
              f"{len(v['borders'])} border lines")
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
