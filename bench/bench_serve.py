"""Benchmark: ``corridor serve`` under concurrent users, on loopback.

Not a test. Usage::

    .venv/bin/python bench/bench_serve.py --positions 10000000 --users 1 10 50 \\
        --out bench/results/serve.md

1. Builds (or with ``--keep`` reuses) a store of ``--positions`` SIMULATED positions
   (:mod:`corridor.sim`, fictitious vessels, MMSIs 1000xxxxx), detects its events, and adds
   one analyst account.
2. Starts ``corridor serve`` as its own process on 127.0.0.1 (never another address), as a
   user would, so the clients below do not share its interpreter.
3. For each number of concurrent users: that many clients (asyncio + httpx, one session
   each) each run a bounded loop of ``--requests`` requests, drawn with fixed seeds from a
   mix of vessel search, track fetch (a whole vessel at a random zoom), event queries (by
   type, area, or vessel) and, with ``--write-share``, sighting writes. Latencies are
   measured per kind from request sent to body read; p50/p95 and the throughput are printed
   and written to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from _machine import cpu_model, host_speed_ms

PASSWORD = "bench-password-1"
KINDS = ("search", "track", "events", "write")


def build(db: Path, work: Path, n: int, keep: bool) -> dict:
    """The store (simulated positions, events, an analyst); returns what the clients pick from."""
    from corridor.engines.local import run_detect
    from corridor.evaluate import load_simulation
    from corridor.serve.auth import add_user
    from corridor.sim import SimConfig, simulate
    from corridor.store import Store

    done = work / f"serve-{n}.built"
    timings = {}
    if not (keep and done.exists()):
        for p in (db, done):
            p.unlink(missing_ok=True)
        t = time.perf_counter()
        sim_dir = work / f"sim-{n}"
        simulate(SimConfig(vessels=max(20, n // 10_000), days=30, seed=1, positions=n), sim_dir)
        timings["simulate_s"] = time.perf_counter() - t
        t = time.perf_counter()
        with Store.open(db) as s:
            load_simulation(s, sim_dir)
            timings["load_s"] = time.perf_counter() - t
            t = time.perf_counter()
            run_detect(s, full=True)
            timings["detect_s"] = time.perf_counter() - t
            add_user(s, "bench", "analyst", PASSWORD, replace=True)
        done.write_text(json.dumps(timings))
    else:
        timings = json.loads(done.read_text())
    with Store.open(db, read_only=True) as s:
        mmsis = [r[0] for r in s.con.execute("SELECT DISTINCT mmsi FROM positions ORDER BY 1").fetchall()]
        names = [r[0] for r in s.con.execute("SELECT DISTINCT name FROM vessel_reports WHERE name IS NOT "
                                             "NULL ORDER BY 1").fetchall()]
        box = s.con.execute("SELECT min(lon), min(lat), max(lon), max(lat), min(ts), max(ts), count(*) "
                            "FROM positions").fetchone()
        events = s.con.execute("SELECT count(*) FROM events").fetchone()[0]
    return {"mmsis": mmsis, "names": names, "box": box[:4], "t0": box[4], "t1": box[5],
            "positions": box[6], "events": events, "timings": timings}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, port: int) -> subprocess.Popen:
    src = Path(__file__).resolve().parents[1] / "src"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "corridor", "--db", str(db), "serve", "--host",
                             "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("corridor serve did not start")


def request_for(rng: random.Random, data: dict, write_share: float, user: int, i: int):
    """(kind, method, path, params, json) of one request."""
    r = rng.random()
    if r < write_share:
        lon = rng.uniform(data["box"][0], data["box"][2])
        lat = rng.uniform(data["box"][1], data["box"][3])
        day = data["t0"].date().isoformat()
        return ("write", "POST", "/api/sightings", None,
                {"date": day, "source": "bench", "lat": f"{lat:.5f}", "lon": f"{lon:.5f}",
                 "place_text": "open sea", "subject": "vessel", "description": f"bench {user}-{i}"})
    r = rng.random()
    if r < 0.33:
        q = rng.choice([str(rng.choice(data["mmsis"]))[:6], rng.choice(data["names"] or ["X"])[:4]])
        return ("search", "GET", "/api/vessels", {"q": q}, None)
    if r < 0.66:
        return ("track", "GET", f"/api/vessels/{rng.choice(data['mmsis'])}/track",
                {"zoom": rng.choice([4, 6, 8, 10])}, None)
    which = rng.random()
    if which < 0.4:
        params = {"type": rng.choice(["gap", "port_visit", "encounter", "loitering"]), "limit": 200}
    elif which < 0.7:
        lon, lat = rng.uniform(data["box"][0], data["box"][2]), rng.uniform(data["box"][1], data["box"][3])
        params = {"bbox": f"{lon - 1:.3f},{lat - 1:.3f},{lon + 1:.3f},{lat + 1:.3f}", "limit": 500}
    else:
        params = {"mmsi": rng.choice(data["mmsis"])}
    return ("events", "GET", "/api/events", params, None)


async def user_loop(base: str, data: dict, user: int, n_requests: int, write_share: float,
                    lat: dict[str, list[float]], failures: list[str]) -> None:
    rng = random.Random(1000 + user)
    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        r = await c.post("/api/login", json={"username": "bench", "password": PASSWORD})
        r.raise_for_status()
        csrf = r.json()["csrf_token"]
        for i in range(n_requests):  # bounded: every user makes exactly n_requests
            kind, method, path, params, body = request_for(rng, data, write_share, user, i)
            t = time.perf_counter()
            resp = await c.request(method, path, params=params, json=body,
                                   headers={"X-CSRF-Token": csrf} if method != "GET" else None)
            _ = resp.content
            lat[kind].append((time.perf_counter() - t) * 1000)
            if resp.status_code not in (200, 201, 409):
                failures.append(f"{method} {path} {resp.status_code} {resp.text[:120]}")


async def run_level(base: str, data: dict, users: int, n_requests: int, write_share: float) -> dict:
    lat: dict[str, list[float]] = {k: [] for k in KINDS}
    failures: list[str] = []
    t = time.perf_counter()
    await asyncio.gather(*(user_loop(base, data, u, n_requests, write_share, lat, failures)
                           for u in range(users)))
    wall = time.perf_counter() - t
    out = {"users": users, "wall_s": wall, "requests": sum(len(v) for v in lat.values()),
           "failures": failures[:5], "n_failures": len(failures)}
    for k, v in lat.items():
        if v:
            a = np.asarray(v)
            out[k] = {"n": len(v), "p50_ms": float(np.percentile(a, 50)),
                      "p95_ms": float(np.percentile(a, 95))}
    return out


def report(data: dict, levels: list[dict], args, speed_ms: float, load: tuple) -> str:
    import duckdb

    lines = [
        "# corridor serve under concurrent users",
        "",
        f"Store: {data['positions']:,} SIMULATED positions (`corridor.sim`, {len(data['mmsis']):,} "
        f"fictitious vessels, 30 days), {data['events']:,} events. Built in: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in data["timings"].items()) + ".",
        f"Machine: {os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}; host speed {speed_ms:.0f} ms (sort of 10M ints, lower is "
        f"faster); load average before/after {load[0]:.2f}/{load[1]:.2f}.",
        "Server: `corridor serve` (one uvicorn process) on 127.0.0.1; clients: asyncio + httpx in "
        "another process, one session per user, each making "
        f"{args.requests} requests; writes: {args.write_share:.0%} of requests (sightings).",
        f"Command: `python bench/bench_serve.py --positions {args.positions} --users "
        f"{' '.join(map(str, args.users))} --requests {args.requests} --write-share {args.write_share}`",
        "",
        "| users | requests | wall s | req/s | search p50/p95 ms | track p50/p95 ms | events p50/p95 ms "
        "| write p50/p95 ms | server CPU ms/request | failures |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lv in levels:
        def cell(k, lv=lv):
            return f"{lv[k]['p50_ms']:.0f} / {lv[k]['p95_ms']:.0f} (n={lv[k]['n']})" if k in lv else "–"
        lines.append(f"| {lv['users']} | {lv['requests']} | {lv['wall_s']:.1f} | "
                     f"{lv['requests'] / lv['wall_s']:.1f} | {cell('search')} | {cell('track')} | "
                     f"{cell('events')} | {cell('write')} | {lv['server_cpu_ms_per_request']:.1f} | "
                     f"{lv['n_failures']} |")
    lines += ["", "Latencies are from request sent to body read, so at 10 and 50 users they include the "
              "wait for the server's two cores (shared with the clients and, on this VM, with other "
              "jobs: see the load average); the server's CPU time per request is the figure the "
              "host's load does not change."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--positions", type=int, default=10_000_000)
    ap.add_argument("--users", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--requests", type=int, default=40, help="requests per user per level")
    ap.add_argument("--write-share", type=float, default=0.05)
    ap.add_argument("--work", type=Path, default=None, help="folder for the store (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="reuse the store built by an earlier run")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-serve-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / f"serve-{args.positions}.duckdb"
    data = build(db, work, args.positions, args.keep)
    speed = host_speed_ms()
    load0 = os.getloadavg()[0]
    port = free_port()
    proc = start_server(db, port)
    try:
        import psutil

        server = psutil.Process(proc.pid)
        levels = []
        for users in args.users:
            cpu0 = sum(server.cpu_times()[:2])
            lv = asyncio.run(run_level(f"http://127.0.0.1:{port}", data, users, args.requests,
                                       args.write_share))
            # the server's own CPU time per request: what the host's load does not change
            lv["server_cpu_ms_per_request"] = (sum(server.cpu_times()[:2]) - cpu0) * 1000 / lv["requests"]
            print(json.dumps(lv), flush=True)
            levels.append(lv)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = report(data, levels, args, speed, (load0, os.getloadavg()[0]))
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
