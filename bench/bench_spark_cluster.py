"""Benchmark: the Spark engine on a standalone cluster with 1 and 2 workers (not a test).

The same simulated archive as ``bench_spark.py`` (fictitious vessels, cached under
bench/work/spark) is detected by ``spark-submit`` on a standalone cluster started on this
machine (``corridor.engines.standalone``: a master and N workers as separate JVMs, one core and
``--memory`` each), once per worker count, in alternating order (1 2 1 2 ...). Reported per run:
the job's own detection time (as the entry point prints it), the wall time of the whole
``spark-submit`` (driver and executor start included), and the events, which must be the same
for every run.

    .venv/bin/python bench/bench_spark_cluster.py --positions 1000000 --repeat 2
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import time

from _machine import cpu_model  # bench/ is on sys.path when a script runs
from bench_spark import build_archive, simulate


def main() -> None:
    import corridor.engines.spark as sp
    from corridor.engines.standalone import StandaloneCluster

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--positions", type=float, default=1e6)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--memory", default="2g", help="executor memory per worker")
    a = ap.parse_args()
    sim = simulate(int(a.positions))
    arc, _ = build_archive(sim)
    print(f"# CPU: {cpu_model()}, {os.cpu_count()} cores; load average at start: "
          f"{os.getloadavg()[0]:.1f}; archive {arc}")
    results: dict[int, list[tuple[float, float]]] = {w: [] for w in a.workers}
    outputs: set[str] = set()
    for _ in range(a.repeat):
        for w in a.workers:
            out = arc.parent / f"cluster_out_{w}"
            shutil.rmtree(out, ignore_errors=True)
            with StandaloneCluster(workers=w, memory_per_worker=a.memory) as cluster:
                t0 = time.perf_counter()
                run = cluster.submit([sp.__file__, "--archive", str(arc), "--out", str(out),
                                      "--shuffle-partitions", str(4 * w)])
                wall = time.perf_counter() - t0
            if run.returncode != 0:
                raise SystemExit(run.stderr[-3000:])
            line = run.stdout.strip().splitlines()[-1]
            job = float(re.search(r"in ([0-9.]+) s", line).group(1))
            outputs.add(line.split(" in ")[0])
            results[w].append((job, wall))
            print(f"workers={w}: detection {job:6.1f} s, spark-submit wall {wall:6.1f} s; {line}; "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    print()
    for w, runs in results.items():
        job = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        print(f"| {w} | {job:.1f} | {wall:.1f} | {len(runs)} |")
    base = statistics.median(r[0] for r in results[a.workers[0]])
    for w in a.workers[1:]:
        print(f"speed-up {a.workers[0]} -> {w} workers (detection, medians): "
              f"{base / statistics.median(r[0] for r in results[w]):.2f}x")
    print("same events in every run:", len(outputs) == 1, outputs)


if __name__ == "__main__":
    main()
