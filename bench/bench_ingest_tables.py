"""Benchmark: decoded position tables into the store (not a test).

Builds a large MarineCadastre-layout file by repeating the real NOAA 2022-01-03 sample
(tests/data) with timestamps shifted by one day per copy, then times
``corridor ingest positions`` end to end (process start, parse, normalise, hash, insert
with the duplicate check) and records rows/s, CPU seconds, peak RSS and the machine's load
average before and after (the machine is shared: a load above the core count means the
run got only part of the CPU, so CPU seconds per million rows is the steadier number).

    .venv/bin/python bench/bench_ingest_tables.py --rows 10000000 --format parquet
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from _machine import cpu_model, host_speed_ms  # bench/ is on sys.path when a script runs

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "tests/data/ais-positions/noaa-us-2022-01-03/AISdata_2022-01-03_first99999.parquet"
WORK = REPO / "bench" / "work"


def build(rows: int, fmt: str) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    out = WORK / f"marinecadastre_{rows}.{fmt}"
    if out.exists():
        return out
    copies = -(-rows // 99_999)
    fmt_opt = "(FORMAT parquet, COMPRESSION zstd)" if fmt == "parquet" else "(FORMAT csv, HEADER)"
    duckdb.sql(
        f"""
        COPY (
            SELECT MMSI, strftime(CAST(BaseDateTime AS TIMESTAMP) + to_days(CAST(c AS INTEGER)),
                                  '%Y-%m-%dT%H:%M:%S') AS BaseDateTime,
                   LAT, LON, SOG, COG, Heading, VesselName, IMO, CallSign, VesselType, Status,
                   Length, Width, Draft, Cargo, TransceiverClass
            FROM '{SAMPLE}', range({copies}) t(c)
            LIMIT {rows}
        ) TO '{out}' {fmt_opt}
        """
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--format", choices=["csv", "parquet"], default="parquet")
    ap.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build_only:
        build(args.rows, args.format)
        return
    # built in a child process: a child forked from a parent that has just built a 1 GB file
    # with DuckDB is charged the parent's RSS in ru_maxrss (measured: 3.0 GB "peak" for a
    # 0.9 GB ingest)
    subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--format", args.format,
                    "--build-only"], check=True)
    path = build(args.rows, args.format)  # exists now: returns its path
    db = WORK / "bench_tables.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        if p.exists():
            p.unlink()
    speed_before = host_speed_ms()
    load_before = os.getloadavg()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)  # the build step's child is not counted
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "corridor", "--db", str(db), "ingest", "positions", str(path)],
        capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - t0
    load_after = os.getloadavg()
    speed_after = host_speed_ms()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    peak_mb = usage.ru_maxrss / 1024
    print(proc.stdout.strip() or proc.stderr.strip())
    print(f"cpu: {cpu_model()}, cores: {os.cpu_count()}; load average (1/5/15 min) before "
          f"{'/'.join(f'{x:.2f}' for x in load_before)}, after "
          f"{'/'.join(f'{x:.2f}' for x in load_after)}; host speed (ms to sort 10M ints on one "
          f"core, lower is faster) {speed_before:.0f} before, {speed_after:.0f} after")
    print(f"{args.rows:,} rows ({args.format}) in {elapsed:.1f} s = {args.rows / elapsed:,.0f} rows/s; "
          f"CPU {cpu_s:.1f} s ({cpu_s / args.rows * 1e6:.2f} s per million rows); "
          f"peak RSS {peak_mb:,.0f} MB")

if __name__ == "__main__":
    main()
