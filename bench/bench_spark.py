"""Benchmark: the Spark engine (local mode, 1 and 2 cores) against the local engine (not a test).

For each size, simulated AIS (``corridor.sim``, mixed scenario, fictitious vessels) is
written once, then:

- ``archive``: the positions, static reports and places appended to a Parquet archive
  (``corridor.archive.append_*``) — the input of the Spark engine;
- ``local``: the same data loaded into a DuckDB store (load time reported apart), then
  ``corridor.engines.local.run_detect(full=True, workers=2)``;
- ``spark-1`` / ``spark-2``: ``run_detect_spark`` in a fresh process (new JVM) with
  ``local[1]`` / ``local[2]``; the time is reported with and without the SparkSession start.

Peak memory is the largest resident set of the whole process tree (JVM and Python
workers, or the local engine's worker processes), sampled every 0.2 s with psutil.
Each engine's event counts are printed so a run doubles as a check that both agree.

    .venv/bin/python bench/bench_spark.py --positions 1000000 3000000 10000000

The Spark CPU figure is the whole process tree of a cold run (new process, new JVM, as a user
types it); ``--warm`` adds a second run in the same session, measured apart (a server that
keeps its session).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from _machine import cpu_model  # bench/ is on sys.path when a script runs

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / "work" / "spark"


class PeakRSS:
    """Peak resident memory (bytes) of a process and all its descendants, and the CPU seconds
    (user + system) they used: the last reading of every process seen, so the JVM's Python
    workers and the local engine's pool count too."""

    def __init__(self, pid: int, every_s: float = 0.2):
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self._cpu: dict[tuple[int, float], float] = {}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, args=(every_s,), daemon=True)

    def _run(self, every_s: float) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                total = 0
                for p in procs:
                    try:
                        total += p.memory_info().rss
                        t = p.cpu_times()
                        self._cpu[(p.pid, p.create_time())] = t.user + t.system
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            self._stop.wait(every_s)

    @property
    def cpu_s(self) -> float:
        return sum(self._cpu.values())

    def __enter__(self) -> PeakRSS:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def simulate(n: int) -> Path:
    """Simulated data of about ``n`` positions (cached under bench/work/spark)."""
    from corridor.sim import SimConfig, simulate

    d = WORK / f"sim_{n}"
    if (d / "manifest.json").is_file():
        return d
    vessels = max(20, n // 50_000)  # ~50k positions per ship: 30 days at ~1 report/min
    simulate(SimConfig(vessels=vessels, days=30.0, seed=1, positions=n), d)
    return d


def build_archive(sim: Path) -> tuple[Path, float]:
    import pyarrow.parquet as pq

    from corridor import archive

    arc = sim / "archive"
    if (arc / archive.MANIFEST).is_file():
        return arc, float("nan")
    t0 = time.perf_counter()
    f = pq.ParquetFile(sim / "positions.parquet")
    archive.append_positions(f.iter_batches(batch_size=1_000_000), arc, n_buckets=64)
    archive.append_vessel_reports(pq.read_table(sim / "vessel_reports.parquet"), arc)
    archive.append_places(pq.read_table(sim / "places.parquet"), arc)
    return arc, time.perf_counter() - t0


def child_local(sim: Path, workers: int) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from corridor.engines.local import run_detect
    from corridor.ingest.summary import COMMIT_ROWS, INGEST_MEMORY_MB
    from corridor.store import Store

    db = sim / "bench.duckdb"
    if db.exists():
        db.unlink()
    t0 = time.perf_counter()
    with Store.open(db) as store:
        # loaded the way an ingest stores a file: committed in parts under the ingest's
        # memory cap (one 94M-row transaction with DuckDB uncapped held 5 GB, which an
        # earlier version of this benchmark counted against detection)
        with store.memory_limit(INGEST_MEMORY_MB):
            pending = 0
            store.con.execute("BEGIN TRANSACTION")
            for b in pq.ParquetFile(sim / "positions.parquet").iter_batches(batch_size=1_000_000):
                pending += store.insert_arrow("positions", pa.Table.from_batches([b]),
                                              on_conflict="error")
                if pending >= COMMIT_ROWS:
                    store.con.execute("COMMIT")
                    store.con.execute("BEGIN TRANSACTION")
                    pending = 0
            store.insert_arrow("vessel_reports", pq.read_table(sim / "vessel_reports.parquet"))
            store.insert_arrow("places", pq.read_table(sim / "places.parquet"))
            store.con.execute("COMMIT")
        load_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        cpu0 = _cpu_self_and_children()
        with PeakRSS(os.getpid()) as mem:  # this process and its workers, detection only
            run_detect(store, full=True, workers=workers)
        detect_s = time.perf_counter() - t1
        detect_cpu = _cpu_self_and_children() - cpu0
        ev = store.query("SELECT type, event_id FROM events")
    db.unlink()
    import hashlib

    counts: dict[str, int] = {}
    for t in ev["type"].to_pylist():
        counts[t] = counts.get(t, 0) + 1
    ids = hashlib.sha256("\n".join(sorted(ev["event_id"].to_pylist())).encode()).hexdigest()
    return {"load_s": load_s, "detect_s": detect_s, "events": counts, "detect_peak": mem.peak,
            "detect_cpu_s": detect_cpu, "ids": ids[:16]}


def _cpu_self_and_children() -> float:
    """CPU seconds of this process and its waited-for children (the local engine's pool)."""
    import resource

    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


class TreeCPU:
    """CPU seconds (user + system) used by this process and all its descendants (the JVM and
    its Python workers) while the block runs: sampled every 0.1 s; a process alive at the
    start counts from its reading then, one started later from zero. A process that ends
    between two samples loses at most its last 0.1 s."""

    def __init__(self, every_s: float = 0.1):
        import psutil

        self.me = psutil.Process()
        self.first: dict[tuple[int, float], float] = {}
        self.last: dict[tuple[int, float], float] = {}
        self._stop = threading.Event()
        self._every = every_s
        self._t = threading.Thread(target=self._run, daemon=True)

    def _sample(self, first: bool = False) -> None:
        import psutil

        try:
            procs = [self.me, *self.me.children(recursive=True)]
        except psutil.Error:
            return
        for p in procs:
            try:
                t = p.cpu_times()
                key = (p.pid, p.create_time())
            except psutil.Error:
                continue
            if first:
                self.first[key] = t.user + t.system
            self.last[key] = t.user + t.system

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._sample()

    @property
    def cpu_s(self) -> float:
        return sum(v - self.first.get(k, 0.0) for k, v in self.last.items())

    def __enter__(self) -> TreeCPU:
        self._sample(first=True)
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self._sample()


def child_spark(arc: Path, cores: int, warm: bool = False) -> dict:
    """One cold run (what a user types: new process, new JVM). With ``warm``, a second run
    in the same session (a server reusing its session), its CPU measured apart."""
    import hashlib

    from corridor import archive
    from corridor.engines.spark import run_detect_spark, spark_session

    t0 = time.perf_counter()
    # a session kept for many runs keeps its Python workers: the forking daemon pays off
    conf = {"spark.python.use.daemon": "true"} if warm else None
    spark = spark_session(f"local[{cores}]", shuffle_partitions=max(4, 4 * cores),
                          driver_memory=os.environ.get("BENCH_SPARK_MEMORY", "3g"), conf=conf)
    session_s = time.perf_counter() - t0
    out = arc.parent / f"spark_out_{cores}"
    shutil.rmtree(out, ignore_errors=True)
    s = run_detect_spark(arc, out, spark=spark)
    ev = archive.read_events(out)
    counts: dict[str, int] = {}
    for t in ev["type"].to_pylist():
        counts[t] = counts.get(t, 0) + 1
    ids = hashlib.sha256("\n".join(sorted(ev["event_id"].to_pylist())).encode()).hexdigest()
    res = {"session_s": session_s, "detect_s": s.seconds, "events": counts, "ids": ids[:16]}
    if warm:
        shutil.rmtree(out, ignore_errors=True)
        with TreeCPU() as cpu:
            s2 = run_detect_spark(arc, out, spark=spark)
        res["warm_cpu_s"] = cpu.cpu_s
        res["warm_detect_s"] = s2.seconds
    spark.stop()
    return res


def run_child(args: list[str]) -> tuple[dict, float, int]:
    """Run a child; its result, wall time and peak memory; its CPU seconds (whole process
    tree: the larger of the sampled sum and the kernel's count of waited-for children) are
    added to the result as ``cpu_s``."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    with PeakRSS(p.pid) as mem:
        out, _ = p.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError(f"child {args} failed ({p.returncode})")
    res = json.loads(out.strip().splitlines()[-1])
    waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    res["cpu_s"] = max(mem.cpu_s, waited)
    return res, wall, mem.peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--positions", type=float, nargs="+", default=[1e6])
    ap.add_argument("--engines", nargs="+", default=["local", "spark-1", "spark-2"])
    ap.add_argument("--repeat", type=int, default=1, help="alternate the engines this many times")
    ap.add_argument("--warm", action="store_true",
                    help="Spark: also a second run in the same session (with the Python worker "
                         "daemon, as a long-lived session would), measured apart")
    ap.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "N"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        kind, path, n = a.child
        res = child_local(Path(path), int(n)) if kind == "local" else child_spark(
            Path(path), int(n), warm=kind == "spark-warm")
        print(json.dumps(res))
        return
    print(f"# CPU: {cpu_model()}, {os.cpu_count()} cores; load average at start: "
          f"{os.getloadavg()[0]:.1f}")
    for n in (int(x) for x in a.positions):
        t0 = time.perf_counter()
        sim = simulate(n)
        sim_s = time.perf_counter() - t0
        arc, arc_s = build_archive(sim)
        manifest = json.loads((sim / "manifest.json").read_text())
        rows = manifest["positions"]
        print(f"\n## {rows:,} positions, {manifest['vessels']} vessels "
              f"(simulate {sim_s:.0f} s, archive {arc_s:.1f} s)")
        for eng in [e for _ in range(a.repeat) for e in a.engines]:
            if eng == "local":
                res, wall, peak = run_child(["--child", "local", str(sim), "2"])
                detect = res["detect_s"]
                extra = (f"load into DuckDB {res['load_s']:.1f} s; detection alone peaks at "
                         f"{res['detect_peak'] / 2**30:.2f} GiB and uses {res['detect_cpu_s']:.1f} "
                         f"CPU s = {1e6 * res['detect_cpu_s'] / rows:.1f} µs/position; "
                         f"event ids {res['ids']}")
            else:
                cores = int(eng.split("-")[1])
                kind = "spark-warm" if a.warm else "spark"
                res, wall, peak = run_child(["--child", kind, str(arc), str(cores)])
                detect = res["detect_s"]
                extra = (f"session start {res['session_s']:.1f} s, process wall {wall:.1f} s, "
                         f"event ids {res.get('ids', '?')}")
                if a.warm:  # the process ran both: the cold run's CPU is the rest
                    extra += (f"; warm run in the same session: {res['warm_detect_s']:.1f} s, "
                              f"{res['warm_cpu_s']:.1f} CPU s = "
                              f"{1e6 * res['warm_cpu_s'] / rows:.1f} µs/position, not counted "
                              f"in the cold run's CPU")
                    res["cpu_s"] -= res["warm_cpu_s"]
            print(f"{eng:8s} detect {detect:8.1f} s  {rows / detect:>10,.0f} pos/s  "
                  f"CPU {res['cpu_s']:7.1f} s ({1e6 * res['cpu_s'] / rows:.1f} µs/position, whole "
                  f"process incl. start and load)  peak RSS {peak / 2**30:5.2f} GiB  ({extra})  "
                  f"events {res['events']}", flush=True)
        print(f"load average now: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
