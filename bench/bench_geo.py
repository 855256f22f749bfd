"""Benchmark: GIS input and output (not a test).

Measures, on simulated positions (fictitious ships, ``corridor simulate``):

1. the Parquet archive with and without its GeoParquet point geometry (bytes on disk, time
   to append), the cost of the ``geo`` metadata the archive now carries;
2. reading a GeoPackage of positions: the former hand-written reader (sqlite3 and one
   shapely call per row, from git) against pyogrio, and pyogrio with reprojection from Web
   Mercator (EPSG:3857);
3. ``corridor export`` of positions and tracks to GeoParquet, GeoPackage and FlatGeobuf.

    .venv/bin/python bench/bench_geo.py --positions 1000000 --gpkg-rows 200000
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import cpu_model, host_speed_ms  # bench/ is on sys.path when a script runs

REPO = Path(__file__).resolve().parents[1]
OLD_READER_COMMIT = "04af736"  # the last tables.py with the hand-written GeoPackage reader


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _best(fn, rounds: int = 2) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--positions", type=int, default=1_000_000)
    ap.add_argument("--gpkg-rows", type=int, default=200_000)
    args = ap.parse_args()

    import geopandas as gpd
    import pyarrow.parquet as pq
    import shapely

    import corridor.archive as A
    from corridor import export
    from corridor.evaluate import load_simulation
    from corridor.ingest import tables
    from corridor.sim import SimConfig, simulate
    from corridor.store import Store

    work = Path(tempfile.mkdtemp(prefix="corridor-bench-geo-"))
    try:
        print(f"machine: {cpu_model()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
              f"host speed {host_speed_ms():.0f} ms")
        simulate(SimConfig(vessels=40, days=10, seed=1, positions=args.positions), work / "sim")
        pos = pq.read_table(work / "sim" / "positions.parquet")
        pos = pos.select(A.POSITIONS.names).cast(A.POSITIONS)
        print(f"positions: {pos.num_rows:,}")

        # 1. archive with / without geometry
        for label, geo in (("archive without geometry", ()), ("archive with geometry", A.GEO_TABLES)):
            saved, A.GEO_TABLES = A.GEO_TABLES, geo
            try:
                out = work / label.replace(" ", "_")
                t = time.perf_counter()
                A.append_positions(pos, out, n_buckets=8)
                dt = time.perf_counter() - t
            finally:
                A.GEO_TABLES = saved
            print(f"{label}: {dt:.2f} s, {_size(out / 'positions') / 1e6:.1f} MB")

        # 2. GeoPackage reading
        p = pos.slice(0, args.gpkg_rows).to_pandas()
        g = gpd.GeoDataFrame(p.drop(columns=["lat", "lon"]), geometry=shapely.points(p.lon, p.lat),
                             crs=4326)
        wgs, merc = work / "wgs84.gpkg", work / "merc.gpkg"
        g.to_file(wgs, layer="positions")
        g.to_crs(3857).to_file(merc, layer="positions")
        old_src = subprocess.run(["git", "-C", str(REPO), "show",
                                  f"{OLD_READER_COMMIT}:src/corridor/ingest/tables.py"],
                                 capture_output=True, text=True, check=True).stdout
        (work / "old_tables.py").write_text(old_src)
        spec = importlib.util.spec_from_file_location("old_tables", work / "old_tables.py")
        old = importlib.util.module_from_spec(spec)
        sys.modules["old_tables"] = old
        spec.loader.exec_module(old)
        n = len(g)
        t_old = _best(lambda: old._gpkg_table(wgs))
        t_new = _best(lambda: tables._vector_table(wgs, "gpkg"))
        t_merc = _best(lambda: tables._vector_table(merc, "gpkg"))
        print(f"GeoPackage {n:,} points: hand-written {t_old:.2f} s ({n / t_old:,.0f}/s), "
              f"pyogrio {t_new:.2f} s ({n / t_new:,.0f}/s), pyogrio + 3857→4326 "
              f"{t_merc:.2f} s ({n / t_merc:,.0f}/s)")

        # 3. export
        with Store.open(work / "s.duckdb") as s:
            load_simulation(s, work / "sim")
            for what in ("positions", "tracks"):
                for ext in (".parquet", ".gpkg", ".fgb"):
                    t = time.perf_counter()
                    summ = export.export_file(s, what, work / f"{what}{ext}")
                    dt = time.perf_counter() - t
                    print(f"export {what} {ext}: {summ.features:,} features in {dt:.2f} s, "
                          f"{(work / f'{what}{ext}').stat().st_size / 1e6:.1f} MB")
        print(f"load after: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
