"""Benchmark: the cost of one ingest and one detection under the installed DuckDB (not a test).

Times ``corridor ingest positions`` of the real 99,999-row MarineCadastre Parquet sample and
``corridor detect --full`` on the result, each in a fresh process into a fresh store, and
prints CPU seconds (user + system of the process and its workers) and wall seconds per run
and their medians. Run it once per interpreter to compare DuckDB versions:

    /work/venv-duck2/bin/python bench/bench_duckdb2.py --runs 5
    .venv/bin/python bench/bench_duckdb2.py --runs 5            # a venv with DuckDB 1.5

``--arrow-copy`` reads Arrow the way corridor did before the DuckDB 2 port (``con.execute(sql)``
then ``.to_arrow_table()`` / ``.to_arrow_reader()``, a DB-API result, which DuckDB 2 copies),
to measure what reading through a relation saves.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import cpu_model  # bench/ is on sys.path when a script runs

REPO = Path(__file__).resolve().parents[1]
SAMPLE = "ais-positions/noaa-us-2022-01-03/AISdata_2022-01-03_first99999.parquet"

# the pre-port reads, put in place of corridor.store's helpers before anything imports them
_COPYING = """
import warnings
import corridor.store as s
warnings.filterwarnings("ignore", "Arrow output on a DB-API result")
s.fetch_arrow = lambda con, sql, params=None: con.execute(sql, params or []).to_arrow_table()
s.stream_arrow = lambda con, sql, n, params=None: con.execute(sql, params or []).to_arrow_reader(n)
"""
_CLI = "import sys; from corridor.cli import main; sys.argv[0] = 'corridor'; main()"


def timed(args: list[str], db: Path, copying: bool) -> tuple[float, float]:
    """(CPU seconds of the process tree, wall seconds) of ``corridor ARGS`` on store ``db``."""
    code = (_COPYING if copying else "") + _CLI
    env = {**os.environ, "CORRIDOR_DB": str(db), "PYTHONPATH": str(REPO / "src")}
    before = os.times()
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return cpu, wall


def read_cost(sample: Path, copies: int, repeats: int) -> None:
    """In-process CPU seconds to read ``copies`` x the sample's rows into Arrow, as one table and
    streamed in 122,880-row batches, through a relation and through a DB-API result."""
    import warnings

    import duckdb

    warnings.filterwarnings("ignore", "Arrow output on a DB-API result")
    con = duckdb.connect()
    con.execute(f"CREATE TABLE p AS SELECT s.* FROM read_parquet('{sample}') s, range({copies})")
    n = con.execute("SELECT count(*) FROM p").fetchall()[0][0]
    sql = "SELECT * FROM p"
    ncols = len(con.sql(sql).columns)
    ways = {
        "relation, table": lambda: con.sql(sql).to_arrow_table().num_rows,
        "DB-API, table": lambda: con.execute(sql).to_arrow_table().num_rows,
        "relation, stream": lambda: sum(b.num_rows for b in con.sql(sql).to_arrow_reader(122_880)),
        "DB-API, stream": lambda: sum(b.num_rows for b in con.execute(sql).to_arrow_reader(122_880)),
    }
    for name, read in ways.items():
        cpu = []
        for _ in range(repeats):
            t = time.process_time()
            assert read() == n
            cpu.append(time.process_time() - t)
        print(f"read {n:,} rows x {ncols} columns, {name}: "
              f"median {statistics.median(cpu):.3f} CPU s (min {min(cpu):.3f})", flush=True)


_STREAM = """
import resource, sys, warnings, duckdb
warnings.simplefilter("ignore")
con = duckdb.connect()
con.execute("SET memory_limit = '256MB'")
sql = ("SELECT range AS a, range * 2 AS b, range::VARCHAR AS c, random() AS d "
       "FROM range({rows})")
res = con.sql(sql) if sys.argv[1] == "relation" else con.execute(sql)
n = sum(b.num_rows for b in res.to_arrow_reader(122_880))
assert n == {rows}
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def stream_peak(rows: int) -> None:
    """Peak RSS of a process that streams ``rows`` rows out of DuckDB as Arrow batches (DuckDB
    capped at 256 MB), through a relation and through a DB-API result."""
    for way in ("relation", "DB-API"):
        out = subprocess.run([sys.executable, "-c", _STREAM.format(rows=rows), way.lower()],
                             capture_output=True, text=True, check=True).stdout
        print(f"stream {rows:,} rows x 4 columns, {way}: peak RSS {int(out)} MB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    default_data = Path(os.environ.get("CORRIDOR_SHARED", REPO.parent / "shared")) / "data"
    ap.add_argument("--data", type=Path, default=default_data, help="folder holding " + SAMPLE)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2, help="detect --workers")
    ap.add_argument("--arrow-copy", action="store_true", help="read Arrow through DB-API results")
    ap.add_argument("--read-copies", type=int, default=0,
                    help="also time reading this many copies of the sample into Arrow, both ways")
    args = ap.parse_args()
    sample = args.data / SAMPLE
    if not sample.is_file():
        sys.exit(f"{sample}: not found (give --data)")
    import duckdb

    print(f"CPU {cpu_model()}, {os.cpu_count()} cores; Python {sys.version.split()[0]}, "
          f"DuckDB {duckdb.__version__}; Arrow read: {'DB-API (copy)' if args.arrow_copy else 'relation'}")
    if args.read_copies:
        read_cost(sample, args.read_copies, args.runs)
        stream_peak(10_000_000)
    results: dict[str, list[tuple[float, float]]] = {"ingest": [], "detect": []}
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="corridor-bench-") as d:
            db = Path(d) / "bench.duckdb"
            timed(["init"], db, args.arrow_copy)  # the gazetteer, for port visits (not timed)
            results["ingest"].append(timed(["ingest", "positions", str(sample)], db, args.arrow_copy))
            results["detect"].append(timed(["detect", "--full", "--workers", str(args.workers)], db,
                                           args.arrow_copy))
        print(f"run {i + 1}: " + ", ".join(f"{k} {v[-1][0]:.2f} CPU s / {v[-1][1]:.2f} s"
                                           for k, v in results.items()), flush=True)
    for k, v in results.items():
        print(f"{k}: median {statistics.median(c for c, _ in v):.2f} CPU s, "
              f"{statistics.median(w for _, w in v):.2f} s wall "
              f"(CPU min {min(c for c, _ in v):.2f}, max {max(c for c, _ in v):.2f})")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
