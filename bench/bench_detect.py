"""Benchmark: the full detection suite on SIMULATED data, and MovingPandas on the same data.

Not a test. Usage::

    .venv/bin/python bench/bench_detect.py --sizes 1000000 10000000 --out bench/results/detect.md

For each size N it simulates N positions with :mod:`corridor.sim` (fictitious vessels,
MMSIs 1000xxxxx, ``source='simulated'``; the simulator, not real AIS), loads them into a
fresh store, then runs ``corridor.engines.local.run_detect`` (all detectors, encounters
included, both cores) in a separate process so that its peak memory is measured alone
(``ru_maxrss`` of that process and of its workers). Precision/recall against the
simulator's ground truth are reported alongside.

MovingPandas (stop detection with ``TrajectoryStopDetector`` and gap splitting with
``ObservationGapSplitter``) is run on a subset of the 1M data (whole vessels, about
``--mp-positions`` positions, one process) and extrapolated linearly to 1M: its cost per
point is constant (anchors.md §2.2 measured it linear from 1e5 to 1e6). corridor's
per-vessel pipeline is timed on the same subset, single process, for a like-for-like
per-point comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from _machine import cpu_model


def _detect_in_subprocess(db: Path) -> dict:
    """Run run_detect(full) in a fresh interpreter; return its timing and peak memory."""
    code = (
        "import json, resource, time\n"
        "from corridor.store import Store\n"
        "from corridor.engines.local import run_detect\n"
        f"s = Store.open({str(db)!r})\n"
        "r0 = resource.getrusage(resource.RUSAGE_SELF)\n"
        "cpu0 = r0.ru_utime + r0.ru_stime\n"
        "t = time.perf_counter()\n"
        "summary = run_detect(s, full=True)\n"
        "secs = time.perf_counter() - t\n"
        "ru = resource.getrusage(resource.RUSAGE_SELF)\n"
        "rk = resource.getrusage(resource.RUSAGE_CHILDREN)\n"  # the workers, joined by now
        "cpu = ru.ru_utime + ru.ru_stime + rk.ru_utime + rk.ru_stime - cpu0\n"
        "print(json.dumps({'seconds': secs, 'cpu_s': cpu, 'summary': summary.to_dict(),"
        " 'rss_main_mb': ru.ru_maxrss / 1024, 'rss_worker_mb': rk.ru_maxrss / 1024}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:  # show why (e.g. out of memory at 10^8 positions), not just the exit code
        raise RuntimeError(f"detection exited {out.returncode}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _movingpandas(positions: pa.Table) -> dict:
    """MovingPandas stop detection + gap splitting on ``positions`` (seconds)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import movingpandas as mpd
        import pandas as pd

        df = pd.DataFrame({
            "vessel": positions["mmsi"].to_numpy(),
            "t": pd.to_datetime(positions["ts"].cast(pa.int64()).to_numpy(), unit="us"),
            "x": positions["lon"].to_numpy(),
            "y": positions["lat"].to_numpy(),
        })
        t0 = time.perf_counter()
        tc = mpd.TrajectoryCollection(df, "vessel", t="t", x="x", y="y", crs="EPSG:4326")
        t1 = time.perf_counter()
        split = mpd.ObservationGapSplitter(tc).split(gap=timedelta(hours=6))
        t2 = time.perf_counter()
        stops = mpd.TrajectoryStopDetector(tc).get_stop_points(
            max_diameter=500, min_duration=timedelta(hours=2))
        t3 = time.perf_counter()
    return {"build_s": t1 - t0, "gap_split_s": t2 - t1, "stops_s": t3 - t2,
            "total_s": t3 - t0, "trajectories": len(split), "stops": len(stops)}


def _corridor_pipeline(positions: pa.Table, places: pa.Table) -> float:
    """corridor's per-vessel pipeline on ``positions``, one process (seconds)."""
    from corridor.detect.pipeline import VesselPipeline, split_by_mmsi
    from corridor.places import PlaceIndex

    pipe = VesselPipeline(places=PlaceIndex.from_arrow(places))
    pipe.shore(np.array([0.0]), np.array([0.0]))  # load the shore index outside the timing
    srt = positions.sort_by([("mmsi", "ascending"), ("ts", "ascending")])
    t = time.perf_counter()
    for part in split_by_mmsi(srt):
        pipe.apply(part)
    return time.perf_counter() - t


def _machine() -> str:
    import duckdb
    import pyarrow

    return (f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}, "
            f"duckdb {duckdb.__version__}, pyarrow {pyarrow.__version__}, numpy {np.__version__}")


def bench_size(n: int, work: Path, mp_positions: int) -> dict:
    from corridor.evaluate import load_simulation, score
    from corridor.sim import SimConfig, simulate
    from corridor.store import Store

    sim_dir = work / f"sim-{n}"
    vessels = max(20, n // 10_000)
    db = work / f"detect-{n}.duckdb"
    loaded = work / f"detect-{n}.loaded"  # written once the store holds the whole simulation
    sim_s = load_s = float("nan")
    if loaded.exists():  # --keep: the same simulation, already in the store
        n_pos = json.loads((sim_dir / "manifest.json").read_text()).get("positions")
        res = type("Res", (), {"positions": n_pos})()
    else:
        t = time.perf_counter()
        res = simulate(SimConfig(vessels=vessels, days=30, seed=1, positions=n), sim_dir)
        sim_s = time.perf_counter() - t
        t = time.perf_counter()
        with Store.open(db) as s:
            load_simulation(s, sim_dir)
        load_s = time.perf_counter() - t
        loaded.write_text(json.dumps({"load_s": load_s}))
    det = _detect_in_subprocess(db)
    with Store.open(db, read_only=True) as s:
        events = s.query("SELECT event_id, type, mmsi, other_mmsi, start_ts, end_ts FROM events")
    truth = pq.read_table(sim_dir / "truth.parquet")
    scores = {x.type: (round(x.precision, 3), round(x.recall, 3)) for x in score(events, truth)}
    out = {"n": res.positions, "vessels": vessels, "simulate_s": sim_s, "load_s": load_s,
           "detect": det, "scores": scores}
    if mp_positions:
        pos = pq.read_table(sim_dir / "positions.parquet")
        counts = pos.group_by("mmsi").aggregate([("obs_id", "count")]).sort_by("mmsi")
        cum = np.cumsum(counts["obs_id_count"].to_numpy())
        keep = counts["mmsi"].to_numpy()[: int(np.searchsorted(cum, mp_positions)) + 1]
        sub = pos.filter(pc.is_in(pos["mmsi"], pa.array(keep)))
        mp = _movingpandas(sub)
        ours = _corridor_pipeline(sub, pq.read_table(sim_dir / "places.parquet"))
        out["mp"] = {"subset_positions": sub.num_rows, **mp, "corridor_pipeline_s": ours}
    return out


def report(results: list[dict]) -> str:
    lines = [
        "# Detection benchmark (simulated data)",
        "",
        "Data: `corridor.sim` (mixed scenario, Sea of Japan ports, 30 days, fictitious "
        "vessels with MMSIs 1000xxxxx; SIMULATED, not real AIS).",
        f"Machine: {_machine()}.",
        "Command: `.venv/bin/python bench/bench_detect.py --sizes "
        + " ".join(str(r["n"]) for r in results) + "`",
        "",
        "| positions | vessels | detect (s) | detect CPU (s, all processes) | positions/s | "
        "peak RSS main / worker (MB) | events | load into store (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        d = r["detect"]
        ev = sum(d["summary"]["events"].values())
        lines.append(
            f"| {r['n']:,} | {r['vessels']} | {d['seconds']:.1f} | {d['cpu_s']:.1f} | "
            f"{r['n'] / d['seconds']:,.0f} | {d['rss_main_mb']:.0f} / {d['rss_worker_mb']:.0f} | "
            f"{ev:,} | {r['load_s']:.1f} |")
    lines += ["", "Precision / recall against the simulator's ground truth:", ""]
    for r in results:
        lines.append(f"- {r['n']:,}: " + ", ".join(
            f"{k} {p:.3f}/{q:.3f}" for k, (p, q) in sorted(r["scores"].items())))
    for r in results:
        if "mp" not in r:
            continue
        m = r["mp"]
        k = m["subset_positions"]
        mp_per = m["total_s"] / k
        ours_per = m["corridor_pipeline_s"] / k
        full_per = r["detect"]["seconds"] / r["n"]
        lines += [
            "",
            f"## MovingPandas at {r['n']:,} positions",
            "",
            f"Measured on {k:,} positions (whole vessels of the same data, one process) and "
            "extrapolated linearly:",
            "",
            "| | seconds on subset | per position | extrapolated to "
            f"{r['n']:,} |",
            "|---|---|---|---|",
            f"| MovingPandas TrajectoryCollection + ObservationGapSplitter(6 h) + "
            f"TrajectoryStopDetector(500 m, 2 h) | {m['total_s']:.1f} | "
            f"{mp_per * 1e6:,.0f} us | {mp_per * r['n']:,.0f} s |",
            f"| corridor per-vessel pipeline (segments, port visits, gaps, loitering, voyages), "
            f"one process | {m['corridor_pipeline_s']:.2f} | {ours_per * 1e6:,.1f} us | "
            f"{ours_per * r['n']:,.1f} s |",
            f"| corridor full suite through the engine (DuckDB read, 2 workers, encounters, "
            f"identity, write) | | {full_per * 1e6:,.1f} us | {r['detect']['seconds']:.1f} s "
            "(measured) |",
            "",
            f"Ratio MovingPandas / corridor: {mp_per / ours_per:,.0f}x per position for the "
            f"per-vessel pipeline (one core each), {mp_per / full_per:,.0f}x against the full "
            "suite on the machine. MovingPandas found "
            f"{m['trajectories']} trajectories after gap splitting and {m['stops']} stops.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--mp-positions", type=int, default=50_000,
                    help="MovingPandas subset size at 1M (0: skip)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--work", type=Path, default=None, help="Scratch directory")
    ap.add_argument("--keep", type=Path, default=None,
                    help="Keep simulations and stores in this directory and reuse them on the "
                         "next run (detection is re-run in full each time)")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for n in args.sizes:
            r = bench_size(n, work, args.mp_positions if n == 1_000_000 else 0)
            print(json.dumps(r, default=str), flush=True)
            results.append(r)
    text = report(results)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
