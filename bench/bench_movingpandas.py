"""Benchmark: corridor against MovingPandas, paired, in-process and as the command a user types.

Not a test. Usage::

    .venv/bin/python bench/bench_movingpandas.py --sizes 20000 150000 --pairs 2 \
        --out bench/results/movingpandas.md

For each size N it simulates N positions with :mod:`corridor.sim` (20 fictitious vessels,
MMSIs 1000xxxxx, ``source='simulated'``; the simulator, not real AIS), writes them to Parquet and
loads them into a fresh store. Then, alternating A B A B (``--pairs`` times), each in a fresh
interpreter:

- **MovingPandas**: read the Parquet, build a ``TrajectoryCollection``, split at gaps of 6 h
  (``ObservationGapSplitter``) and find stops of 500 m / 2 h (``TrajectoryStopDetector``);
- **corridor, in-process**: read the same Parquet and run the per-vessel detectors
  (``VesselPipeline``: cleaning, segments, port visits, gaps, loitering, voyages, identity);
- **corridor, the command**: ``corridor detect --db STORE`` (every detector, encounters
  included, events written to the store).

Each side is measured twice: the **core** CPU seconds around the algorithm alone (as the
detectors' own papers and docs time them) and the **whole process tree's** CPU seconds from
interpreter start to exit (imports, reading, writing, worker processes: ``RUSAGE_CHILDREN``
around the subprocess). Ratios are MovingPandas / corridor per position, so > 1 means corridor
costs less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import cpu_model

MOVINGPANDAS = r"""
import json, sys, time, warnings
from datetime import timedelta
warnings.simplefilter("ignore")
import movingpandas as mpd
import pandas as pd
import pyarrow.parquet as pq
t = pq.read_table(sys.argv[1], columns=["mmsi", "ts", "lon", "lat"])
df = pd.DataFrame({"vessel": t["mmsi"].to_numpy(),
                   "t": pd.to_datetime(t["ts"].cast("int64").to_numpy(), unit="us"),
                   "x": t["lon"].to_numpy(), "y": t["lat"].to_numpy()})
c0 = time.process_time()
tc = mpd.TrajectoryCollection(df, "vessel", t="t", x="x", y="y", crs="EPSG:4326")
split = mpd.ObservationGapSplitter(tc).split(gap=timedelta(hours=6))
stops = mpd.TrajectoryStopDetector(tc).get_stop_points(max_diameter=500,
                                                      min_duration=timedelta(hours=2))
print(json.dumps({"core_cpu_s": time.process_time() - c0, "trajectories": len(split),
                  "stops": len(stops)}))
"""

PIPELINE = r"""
import json, sys, time
import numpy as np
import pyarrow.parquet as pq
from corridor.detect.pipeline import VesselPipeline, split_by_mmsi
from corridor.places import PlaceIndex
t = pq.read_table(sys.argv[1]).sort_by([("mmsi", "ascending"), ("ts", "ascending")])
pipe = VesselPipeline(places=PlaceIndex.from_arrow(pq.read_table(sys.argv[2])))
pipe.shore(np.array([0.0]), np.array([0.0]))  # the shore index, loaded once per run
c0 = time.process_time()
events = sum(len(pipe.apply(part).events) for part in split_by_mmsi(t))
print(json.dumps({"core_cpu_s": time.process_time() - c0, "events": events}))
"""


def _run(argv: list[str]) -> tuple[dict, float, float]:
    """Run ``argv``; return its last JSON line (or {}), its wall seconds and the CPU seconds
    of its whole process tree (user + system, children included once they are reaped)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited {out.returncode}:\n{out.stderr[-3000:]}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    lines = [x for x in out.stdout.splitlines() if x.startswith("{")]
    return (json.loads(lines[-1]) if lines else {}), wall, cpu


def _prepare(n: int, work: Path) -> tuple[Path, Path, Path, int]:
    """Simulate ``n`` positions; return (positions.parquet, places.parquet, store, positions)."""
    from corridor.evaluate import load_simulation
    from corridor.sim import SimConfig, simulate
    from corridor.store import Store

    sim_dir = work / f"sim-{n}"
    res = simulate(SimConfig(vessels=20, days=30, seed=1, positions=n), sim_dir)
    db = work / f"mp-{n}.duckdb"
    with Store.open(db) as s:
        load_simulation(s, sim_dir)
    return sim_dir / "positions.parquet", sim_dir / "places.parquet", db, res.positions


def bench_size(n: int, pairs: int, work: Path) -> dict:
    parquet, places, db, positions = _prepare(n, work)
    exe = Path(sys.executable).with_name("corridor")  # the console script a user types
    corridor_cli = [str(exe), "detect", "--db", str(db)]
    runs: dict[str, list[dict]] = {"movingpandas": [], "pipeline": [], "command": []}
    for _ in range(pairs):
        for name, argv in (("movingpandas", [sys.executable, "-c", MOVINGPANDAS, str(parquet)]),
                           ("pipeline", [sys.executable, "-c", PIPELINE, str(parquet),
                                         str(places)]),
                           ("command", corridor_cli)):
            out, wall, cpu = _run(argv)
            runs[name].append({**out, "wall_s": wall, "cpu_s": cpu,
                               "load": os.getloadavg()[0]})
    return {"n": positions, "runs": runs}


def _med(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def _rng(rows: list[dict], key: str) -> str:
    vals = [r[key] for r in rows]
    return f"{statistics.median(vals):.2f} ({min(vals):.2f}–{max(vals):.2f})"


def report(results: list[dict]) -> str:
    lines = [
        "# corridor against MovingPandas, paired (simulated data)",
        "",
        f"Machine: {os.cpu_count()} cores ({cpu_model()}), Python {sys.version.split()[0]}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Data: `corridor.sim`, 20 "
        "fictitious vessels over 30 days (SIMULATED, not real AIS). Runs alternate "
        "MovingPandas, corridor's per-vessel detectors, `corridor detect`, each in a fresh "
        "interpreter. CPU seconds: median (range) of the pairs; *core* is the algorithm alone, "
        "*process* the whole process tree from start to exit (imports, reading, writing).",
        "",
        "| positions | side | core CPU s | process CPU s | wall s | load |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        for name, label in (("movingpandas", "MovingPandas gap split + stops"),
                            ("pipeline", "corridor per-vessel detectors (in-process)"),
                            ("command", "`corridor detect` (every detector, events stored)")):
            rows = r["runs"][name]
            core = _rng(rows, "core_cpu_s") if "core_cpu_s" in rows[0] else "—"
            lines.append(f"| {r['n']:,} | {label} | {core} | {_rng(rows, 'cpu_s')} | "
                         f"{_rng(rows, 'wall_s')} | {_med(rows, 'load'):.1f} |")
    lines += ["", "Ratios (MovingPandas CPU / corridor CPU, same positions; > 1: corridor is cheaper):",
              ""]
    for r in results:
        mp = r["runs"]["movingpandas"]
        pl = r["runs"]["pipeline"]
        cm = r["runs"]["command"]
        lines.append(
            f"- {r['n']:,} positions: detectors in-process "
            f"**{_med(mp, 'core_cpu_s') / _med(pl, 'core_cpu_s'):.0f}×** (core against core); "
            f"as processes: MovingPandas script / corridor detectors script "
            f"{_med(mp, 'cpu_s') / _med(pl, 'cpu_s'):.1f}×, MovingPandas script / "
            f"`corridor detect` **{_med(mp, 'cpu_s') / _med(cm, 'cpu_s'):.1f}×**. "
            f"MovingPandas found {mp[0]['stops']} stops and {mp[0]['trajectories']} "
            f"trajectories; corridor {pl[0]['events']} events from the per-vessel detectors.")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000, 150_000])
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="corridor-bench-mp-") as tmp:
        results = [bench_size(n, args.pairs, Path(tmp)) for n in args.sizes]
    text = report(results)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
