"""Benchmark: the cost of one ingest and one detection under the installed DuckDB (not a test).

Times ``corridor ingest positions`` of the real 99,999-row MarineCadastre Parquet sample (or
``--file``) and ``corridor detect --full`` on the result (unless ``--no-detect``), each in a
fresh process into a fresh store, and prints CPU seconds (user + system of the process and its
workers), wall seconds and peak RSS per run, and their medians. Run it once per interpreter
to compare DuckDB versions:

    venv-duck2/bin/python bench/bench_duckdb2.py --runs 5 --data tests/data
    venv-duck15/bin/python bench/bench_duckdb2.py --runs 5 --data tests/data

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


def timed(args: list[str], db: Path, copying: bool) -> tuple[float, float, int]:
    """(CPU seconds of the process tree, wall seconds, peak RSS in MB of the main process) of
    ``corridor ARGS`` on store ``db``."""
    code = (_COPYING if copying else "") + _CLI
    env = {**os.environ, "CORRIDOR_DB": str(db), "PYTHONPATH": str(REPO / "src")}
    before = os.times()
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    if proc.returncode:
        sys.exit(f"corridor {' '.join(args)}: exit {proc.returncode}")
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return cpu, wall, usage.ru_maxrss // 1024


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
import sys, warnings, duckdb
warnings.simplefilter("ignore")
con = duckdb.connect()
con.execute("SET memory_limit = '256MB'")
con.execute("SET enable_progress_bar = false")
sql = ("SELECT range AS a, range * 2 AS b, range::VARCHAR AS c, random() AS d "
       "FROM range({rows})")
res = con.sql(sql) if sys.argv[1] == "relation" else con.execute(sql)
n = sum(b.num_rows for b in res.to_arrow_reader(122_880))
assert n == {rows}
# VmHWM, not ru_maxrss: that one keeps the parent's peak across fork + exec
print(next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM")) // 1024)
"""


def stream_peak(rows: int) -> None:
    """Peak RSS of a process that streams ``rows`` rows out of DuckDB as Arrow batches (DuckDB
    capped at 256 MB), through a relation and through a DB-API result."""
    for way in ("relation", "DB-API"):
        out = subprocess.run([sys.executable, "-c", _STREAM.format(rows=rows), way.lower()],
                             capture_output=True, text=True, check=True).stdout
        print(f"stream {rows:,} rows x 4 columns, {way}: peak RSS {int(out.split()[-1])} MB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=REPO / "tests" / "data",
                    help="folder holding " + SAMPLE + " (default: the repository's tests/data)")
    ap.add_argument("--file", type=Path, help="ingest this position table instead of the sample")
    ap.add_argument("--no-detect", action="store_true", help="time the ingest only")
    ap.add_argument("--runs", type=int, default=5, help="runs of ingest + detect (0: reads only)")
    ap.add_argument("--workers", type=int, default=2, help="detect --workers")
    ap.add_argument("--arrow-copy", action="store_true", help="read Arrow through DB-API results")
    ap.add_argument("--read-copies", type=int, default=0,
                    help="also time reading this many copies of the sample into Arrow, both ways")
    args = ap.parse_args()
    sample = args.data / SAMPLE
    target = args.file or sample
    if not sample.is_file() or not target.is_file():
        sys.exit(f"{sample}: not found (give --data)")
    import duckdb

    print(f"CPU {cpu_model()}, {os.cpu_count()} cores; Python {sys.version.split()[0]}, "
          f"DuckDB {duckdb.__version__}; Arrow read: {'DB-API (copy)' if args.arrow_copy else 'relation'}")
    if args.read_copies:
        stream_peak(10_000_000)
        read_cost(sample, args.read_copies, max(3, args.runs))
    results: dict[str, list[tuple[float, float, int]]] = {"ingest": [], "detect": []}
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="corridor-bench-") as d:
            db = Path(d) / "bench.duckdb"
            timed(["init"], db, args.arrow_copy)  # the gazetteer, for port visits (not timed)
            results["ingest"].append(timed(["ingest", "positions", str(target)], db, args.arrow_copy))
            if not args.no_detect:
                results["detect"].append(timed(["detect", "--full", "--workers", str(args.workers)],
                                               db, args.arrow_copy))
        print(f"run {i + 1}: " + ", ".join(f"{k} {v[-1][0]:.2f} CPU s / {v[-1][1]:.2f} s / {v[-1][2]} MB"
                                           for k, v in results.items() if v), flush=True)
    for k, v in results.items():
        if not v:
            continue
        print(f"{k}: median {statistics.median(r[0] for r in v):.2f} CPU s, "
              f"{statistics.median(r[1] for r in v):.2f} s wall "
              f"(CPU min {min(r[0] for r in v):.2f}, max {max(r[0] for r in v):.2f}), "
              f"peak RSS of the main process {max(r[2] for r in v)} MB")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
