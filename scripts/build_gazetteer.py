"""Build ``src/corridor/data/gazetteer/places.parquet``, the world port gazetteer.

Reproducible from the shared data directory (default ``../shared/data``):

1. Global Fishing Watch named anchorages (``ports/gfw-anchorages/anchorage_overrides.csv``,
   Apache-2.0): every point becomes a ``kind=anchorage`` place (precision ``facility``,
   radius 0). GFW defines a port as the group of anchorage points sharing ``label`` + ``iso3``;
   each point's ``port_id`` names that group. Rows GFW marks ``REMOVE`` are dropped; a cell
   listed several times keeps its last row (GFW's own rule), the other labels as aliases.
2. NGA World Port Index (``ports/nga-wpi/WPI.csv``, public domain): every port becomes a
   ``kind=port`` place (precision ``approximate``: WPI positions are given to the minute).
   An anchorage group whose name and country match a WPI port (main or alternate name)
   belongs to that port.
3. Anchorage groups without a WPI port get a ``kind=port`` row of their own, placed on the
   group's anchorage point nearest to the group's mean position (source: GFW).
4. Natural Earth 1:10m ports (``ports/natural-earth/ne_10m_ports.json``, public domain) fill
   in ports farther than 10 km from every WPI port.

An anchorage is never labelled with another country's port: a GFW sublabel that is the name of
a port (WPI or a GFW group label) in another country, more than 50 km away, and of none in the
anchorage's own country is dropped from its name and aliases (the source notes it).

Coverage of enclosed seas: the shared data has no Caspian port at all (the WPI lists none, nor
do Natural Earth's ports; GFW has only anchorages of Baku); ``bench/results`` has nothing to
add. Filling that hole needs another sourced, licensed list.

Country codes: WPI's UN/LOCODE prefix; otherwise ISO-3 -> ISO-2 from Natural Earth 1:50m
admin-0 countries (``ISO_A3``/``ADM0_A3`` -> ``ISO_A2``/``WB_A2``) plus a short table of
territories Natural Earth folds into larger units; for points without any code, the
Natural Earth country polygon containing (or nearest within 0.5 degrees to) the point.

place_ids are deterministic slugs: ``{cc}-{port-slug}`` for ports, ``{port_id}-{s2id}`` for
anchorage points (a numeric suffix resolves the rare collision; 431 source rows carry an s2id
mangled into a number such as ``4.03E+08``, those get ``x`` + a hash of their coordinates).

Usage: ``python scripts/build_gazetteer.py [--data DIR] [--out FILE]``
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import py7zr
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from corridor.geo import haversine_m  # noqa: E402
from corridor.places import slugify  # noqa: E402
from corridor.schema import PLACES as PLACES_SCHEMA  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "src" / "corridor" / "data" / "gazetteer" / "places.parquet"

SRC_GFW = ("Global Fishing Watch named anchorages, pipe-anchorages anchorage_overrides.csv "
           "@e1db7c87 (Apache-2.0)")
SRC_WPI = "NGA World Port Index, Pub. 150 (public domain)"
SRC_NE = "Natural Earth 1:10m ports (public domain)"

# ISO 3166 codes of territories that Natural Earth 1:50m folds into a larger unit or marks -99.
ISO3_EXTRA = {"FRA": "FR", "NOR": "NO", "BES": "BQ", "CCK": "CC", "CXR": "CX", "MYT": "YT",
              "SJM": "SJ", "GLP": "GP", "MTQ": "MQ", "GUF": "GF", "REU": "RE", "ESH": "EH",
              "TKL": "TK", "UMI": "UM", "BVT": "BV", "XKX": "XK"}
CODE_LABEL = re.compile(r"^[A-Z]{3}-\d+$")  # GFW's numbered port labels, e.g. DEU-269
S2_HEX = re.compile(r"^[0-9a-f]{1,16}$")
S2_TOKEN = re.compile(r"^[0-9a-f]{8}$")  # GFW puts the cell id in sublabel when unnamed


def titled(label: str) -> str:
    """'BUKHTA GAYDAMAK' -> 'Bukhta Gaydamak'; GFW's numbered ports ('CHN-321') unchanged."""
    if CODE_LABEL.match(label):
        return label
    return " ".join(w.capitalize() for w in label.split())


def countries(data: Path):
    """(iso3 -> iso2, lower-case name -> iso2, polygons, polygon iso2) from NE 1:50m."""
    with tempfile.TemporaryDirectory() as tmp:
        with py7zr.SevenZipFile(data / "geo/natural-earth/ne_50m_admin_0_countries.7z") as z:
            z.extractall(tmp)
        doc = json.loads((Path(tmp) / "ne_50m_admin_0_countries.json").read_text("utf-8"))
    iso3: dict[str, str] = dict(ISO3_EXTRA)
    names: dict[str, str] = {}
    geoms, codes = [], []
    for f in doc["features"]:
        p = f["properties"]
        a2 = p["ISO_A2"] if p["ISO_A2"] != "-99" else p.get("WB_A2", "-99")
        if a2 in ("-99", None):
            a2 = ISO3_EXTRA.get(p["ADM0_A3"])
        if a2 is None:
            continue
        for k in ("ISO_A3", "ADM0_A3"):
            if p[k] not in ("-99", None):
                iso3.setdefault(p[k], a2)
        for k in ("NAME", "NAME_LONG", "ADMIN", "NAME_SORT", "NAME_CIAWF", "FORMAL_EN",
                  "NAME_ALT"):
            if p.get(k):
                names.setdefault(p[k].lower(), a2)
        geoms.append(shapely.geometry.shape(f["geometry"]))
        codes.append(a2)
    return iso3, names, np.array(geoms), np.array(codes, dtype=object)


def country_at(lat: float, lon: float, geoms, codes, tree) -> str | None:
    """ISO-2 of the country containing the point, else of the nearest within 0.5 degrees."""
    pt = shapely.Point(lon, lat)
    hit = tree.query(pt, predicate="intersects")
    if len(hit):
        return codes[sorted(hit)[0]]
    near = tree.query_nearest(pt, max_distance=0.5)
    return codes[sorted(near)[0]] if len(near) else None


def cell_key(r: dict) -> str:
    """The S2 cell token, or for the 431 rows whose token a spreadsheet turned into a number
    ('4.03E+08'), 'x' + 8 hex digits of a hash of the coordinates (deterministic)."""
    token = r["s2id"].strip()
    if S2_HEX.match(token):
        return token
    coords = f"{float(r['latitude']):.6f},{float(r['longitude']):.6f}"
    return "x" + hashlib.sha1(coords.encode()).hexdigest()[:8]


def unique_id(base: str, used: set[str]) -> str:
    pid, n = base, 2
    while pid in used:
        pid, n = f"{base}-{n}", n + 1
    used.add(pid)
    return pid


def build(data: Path) -> tuple[pa.Table, dict[str, int]]:
    iso3, names, cgeoms, ccodes = countries(data)
    ctree = shapely.STRtree(cgeoms)
    used: set[str] = set()
    rows: list[dict] = []
    counts: dict[str, int] = defaultdict(int)

    # ---- WPI ports, by WPI number for deterministic ids
    with open(data / "ports/nga-wpi/WPI.csv", newline="", encoding="utf-8-sig") as fh:
        wpi = list(csv.DictReader(fh))
    wpi.sort(key=lambda r: (float(r["World Port Index Number"]), r["Main Port Name"]))
    port_by_name: dict[tuple[str, str], str] = {}
    wpi_lat, wpi_lon = [], []
    for r in wpi:
        lat, lon = float(r["Latitude"]), float(r["Longitude"])
        loc = r["UN/LOCODE"].replace(" ", "").upper()
        cc = loc[:2] if re.fullmatch(r"[A-Z]{2}[A-Z0-9]{3}", loc) else None
        cc = cc or names.get(r["Country Code"].strip().lower()) or country_at(
            lat, lon, cgeoms, ccodes, ctree)
        name = r["Main Port Name"].strip()
        alts = [a.strip() for a in re.split(r"[;,]", r["Alternate Port Name"]) if a.strip()]
        pid = unique_id(f"{(cc or 'xx').lower()}-{slugify(name)}", used)
        aliases = alts + ([loc] if cc and len(loc) == 5 else [])
        rows.append({"place_id": pid, "name": name, "kind": "port", "country": cc, "lat": lat,
                     "lon": lon, "geometry": None, "radius_m": 0.0, "aliases": aliases or None,
                     "precision": "approximate", "port_id": pid,
                     "source": f"{SRC_WPI}, WPI no. {int(float(r['World Port Index Number']))}"})
        for nm in [name, *alts]:
            port_by_name.setdefault((cc or "", slugify(nm)), pid)
        wpi_lat.append(lat)
        wpi_lon.append(lon)
        counts["wpi_port"] += 1

    # ---- GFW anchorage points, grouped into ports by (label, iso3)
    with open(data / "ports/gfw-anchorages/anchorage_overrides.csv", newline="",
              encoding="utf-8") as fh:
        anch = [r for r in csv.DictReader(fh) if r["label"].strip().upper() != "REMOVE"]
    # A cell listed more than once (GFW override rows, same s2 cell): the last row wins, as
    # in GFW's own clean-up of this file ("keep_last"); earlier labels become aliases.
    cells: dict[str, dict] = {}
    for r in anch:
        label = r["label"].strip()
        sub = (r["sublabel"] or "").strip()
        if S2_TOKEN.match(sub):
            sub = ""
        if CODE_LABEL.match(label) and sub:
            label, sub = sub, ""  # GFW's numbered ports: the sublabel is the name
        cc = iso3.get((r["iso3"] or "").strip().upper())
        r.update(_label=label, _sub=sub, _cc=cc, _aliases={r["label"].strip()} | ({sub} - {""}))
        r["_cell"] = cell_key(r)
        prev = cells.pop(r["_cell"], None)
        if prev is not None:
            r["_aliases"] |= prev["_aliases"]
            counts["gfw_duplicate_cell"] += 1
        cells[r["_cell"]] = r
    # Port names per country (WPI names and GFW group labels): a sublabel that names a port
    # of another country and none of its own ("CANAKKALE" anchorages sublabelled
    # "NOVOROSSIYSK") is not used as the anchorage's name or alias; an anchorage is never
    # labelled with another country's port.
    # A name shared by places less than 50 km apart ("Skagen (Skaw)", "Saint Helier Harbour"
    # across a border) is the same place, and kept.
    port_names: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    wpi_pos = {row["place_id"]: (row["lat"], row["lon"]) for row in rows}
    for (cc_, nm), pid_ in port_by_name.items():
        port_names[nm].append((cc_, *wpi_pos[pid_]))
    for r in cells.values():
        port_names[slugify(r["_label"])].append((r["_cc"] or "", float(r["latitude"]),
                                                 float(r["longitude"])))
    for r in cells.values():
        sub = r["_sub"]
        if not sub or slugify(sub) == slugify(r["_label"]):
            continue
        named = port_names.get(slugify(sub), [])
        lat0, lon0 = float(r["latitude"]), float(r["longitude"])
        own = any(c == (r["_cc"] or "") for c, _, _ in named)
        near = any(float(haversine_m(np.array([lat0]), np.array([lon0]), la, lo)[0]) < 50_000.0
                   for _, la, lo in named)
        if named and not own and not near:
            r["_foreign"] = sub
            r["_sub"] = ""
            r["_aliases"] = {a for a in r["_aliases"] if slugify(a) != slugify(sub)}
            counts["gfw_foreign_sublabel_dropped"] += 1
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in cells.values():
        groups[(r["_cc"] or "", r["_label"])].append(r)
    for (cc, label), pts in sorted(groups.items()):
        port_id = port_by_name.get((cc, slugify(label)))
        if port_id is None:
            lat = np.array([float(p["latitude"]) for p in pts])
            lon = np.array([float(p["longitude"]) for p in pts])
            # The group's anchorage point nearest to its mean position (mean taken on the
            # sphere so that groups at the antimeridian work).
            xyz = np.stack([np.cos(np.radians(lat)) * np.cos(np.radians(lon)),
                            np.cos(np.radians(lat)) * np.sin(np.radians(lon)),
                            np.sin(np.radians(lat))], axis=1).mean(axis=0)
            mlat = float(np.degrees(np.arctan2(xyz[2], np.hypot(xyz[0], xyz[1]))))
            mlon = float(np.degrees(np.arctan2(xyz[1], xyz[0])))
            i = int(np.argmin(haversine_m(lat, lon, mlat, mlon)))
            port_id = unique_id(f"{(cc or 'xx').lower()}-{slugify(label)}", used)
            rows.append({"place_id": port_id, "name": titled(label), "kind": "port",
                         "country": cc or None, "lat": float(lat[i]), "lon": float(lon[i]),
                         "geometry": None, "radius_m": 0.0,
                         "aliases": None if titled(label) == label else [label],
                         "precision": "approximate", "port_id": port_id,
                         "source": f"{SRC_GFW}; port = anchorages labelled {label}"})
            counts["gfw_port"] += 1
        for p in sorted(pts, key=lambda p: (p["_cell"], p["_sub"], p["latitude"])):
            name = titled(p["_label"]) + (f" ({titled(p['_sub'])})"
                                          if p["_sub"] and p["_sub"] != p["_label"] else "")
            aliases = sorted(p["_aliases"] - {name})
            rows.append({"place_id": unique_id(f"{port_id}-{p['_cell']}", used), "name": name,
                         "kind": "anchorage", "country": p["_cc"],
                         "lat": float(p["latitude"]), "lon": float(p["longitude"]),
                         "geometry": None, "radius_m": 0.0, "aliases": aliases or None,
                         "precision": "facility", "port_id": port_id,
                         "source": f"{SRC_GFW}, s2 cell {p['s2id']}"
                                   + ("" if p["_cell"] == p["s2id"] else
                                      " (id damaged in the source file)")
                                   + (f"; GFW sublabel {p['_foreign']!r} names a port of another "
                                      "country, not used" if p.get("_foreign") else "")})
            counts["gfw_anchorage"] += 1

    # ---- Natural Earth ports not within 10 km of a WPI port
    ne = json.loads((data / "ports/natural-earth/ne_10m_ports.json").read_text("utf-8"))
    wlat, wlon = np.array(wpi_lat), np.array(wpi_lon)
    feats = sorted(ne["features"], key=lambda f: (f["properties"]["name"] or "",
                                                  f["geometry"]["coordinates"]))
    for f in feats:
        lon, lat = (float(c) for c in f["geometry"]["coordinates"][:2])
        if haversine_m(wlat, wlon, lat, lon).min() <= 10_000.0:
            counts["ne_port_duplicate"] += 1
            continue
        name = (f["properties"]["name"] or "").strip() or "Unnamed port"
        cc = country_at(lat, lon, cgeoms, ccodes, ctree)
        pid = unique_id(f"{(cc or 'xx').lower()}-{slugify(name)}", used)
        rows.append({"place_id": pid, "name": name, "kind": "port", "country": cc, "lat": lat,
                     "lon": lon, "geometry": None, "radius_m": 0.0, "aliases": None,
                     "precision": "approximate", "port_id": pid, "source": SRC_NE})
        counts["ne_port"] += 1

    tbl = pa.Table.from_pylist(rows, schema=PLACES_SCHEMA).sort_by("place_id")
    return tbl, dict(counts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    tbl, counts = build(args.data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(tbl, args.out, compression="zstd", compression_level=19)
    print(f"{args.out}: {tbl.num_rows} places, {args.out.stat().st_size} bytes; {counts}")


if __name__ == "__main__":
    main()
