"""Fill the gazetteer's holes with the ports the ``searoute`` package ships (UN/LOCODE points).

The World Port Index, Natural Earth and Global Fishing Watch list no Caspian port and no
Volga–Don river port (see ``src/corridor/data/gazetteer/SOURCE.md``). ``searoute`` (Apache-2.0,
already a dependency for the report's sea lanes) ships ``data/ports.geojson``: 3,962 ports,
each with its UN/LOCODE, name, country and a point. This script adds to
``src/corridor/data/gazetteer/places.parquet`` every one of those ports that lies more than
``MIN_SEPARATION_KM`` from every port already in the gazetteer (the same rule the build applies
to Natural Earth ports), as a ``port`` with precision ``approximate``, its UN/LOCODE as an
alias, and a ``source`` naming the package, version and code. Rows already added are kept as
they are, so running it again adds nothing.

    python scripts/add_searoute_ports.py            # rewrite places.parquet
    python scripts/add_searoute_ports.py --dry-run  # count only
"""

from __future__ import annotations

import argparse
import json
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corridor.geo import haversine_m
from corridor.places import slugify

REPO = Path(__file__).resolve().parents[1]
GAZETTEER = REPO / "src" / "corridor" / "data" / "gazetteer" / "places.parquet"
MIN_SEPARATION_KM = 10.0
SOURCE_PREFIX = "searoute ports.geojson"


def searoute_ports() -> list[dict]:
    import searoute

    path = Path(searoute.__file__).parent / "data" / "ports.geojson"
    feats = json.loads(path.read_text(encoding="utf-8"))["features"]
    out = []
    for f in feats:
        p, (lon, lat) = f["properties"], f["geometry"]["coordinates"]
        code = (p.get("port") or "").strip().upper()
        if len(code) != 5 or not p.get("name"):
            continue
        out.append({"code": code, "name": p["name"].strip(), "country": code[:2],
                    "lat": float(lat), "lon": float(lon)})
    return sorted(out, key=lambda r: r["code"])


def additions(places: pa.Table, ports: list[dict]) -> list[dict]:
    """The searoute ports farther than MIN_SEPARATION_KM from every gazetteer port."""
    known = places.filter(pc.equal(places["kind"], "port"))
    klat, klon = known["lat"].to_numpy(), known["lon"].to_numpy()
    ids = set(places["place_id"].to_pylist())
    tag = f"{SOURCE_PREFIX} (searoute {version('searoute')}, Apache-2.0)"
    rows = []
    for p in ports:
        d = haversine_m(np.full(klat.size, p["lat"]), np.full(klon.size, p["lon"]), klat, klon)
        if d.size and d.min() <= MIN_SEPARATION_KM * 1000:
            continue
        pid = f"{p['country'].lower()}-{slugify(p['name'])}"
        if pid in ids:
            pid = f"{pid}-{p['code'][2:].lower()}"
        if pid in ids:
            continue
        ids.add(pid)
        rows.append({"place_id": pid, "name": p["name"], "kind": "port", "country": p["country"],
                     "lat": p["lat"], "lon": p["lon"], "geometry": None, "radius_m": 0.0,
                     "aliases": [p["code"]], "precision": "approximate",
                     "source": f"{tag}, UN/LOCODE {p['code']}", "port_id": pid})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args(argv)
    places = pq.read_table(GAZETTEER)
    kept = places.filter(pc.invert(pc.starts_with(places["source"], SOURCE_PREFIX)))
    rows = additions(kept, searoute_ports())
    print(f"{len(rows)} searoute ports more than {MIN_SEPARATION_KM:g} km from every gazetteer port"
          f" (gazetteer: {kept.num_rows} rows without them)")
    if args.dry_run:
        return 0
    out = pa.concat_tables([kept, pa.Table.from_pylist(rows, schema=places.schema)])
    out = out.sort_by("place_id")
    pq.write_table(out, GAZETTEER, compression="zstd")
    print(f"wrote {GAZETTEER} ({out.num_rows} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
