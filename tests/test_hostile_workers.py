"""Worker processes end with `ingest nmea` when it is killed; SIGTERM is recorded, not lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyais import encode_dict

from corridor.store import Store

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
SRC = Path(__file__).resolve().parents[1] / "src"


def _children() -> dict[int, int]:
    """pid -> parent pid of every process."""
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            out[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return out


def _descendants(root: int) -> set[int]:
    parents = _children()
    found, frontier = set(), {root}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(p)
    return alive


@pytest.fixture(scope="module")
def big_log(tmp_path_factory) -> Path:
    """~28 MB of valid position lines (the process pool, and seconds of work on a fast machine)."""
    lines = [encode_dict({"type": 1, "mmsi": 273000000 + i, "lat": 42 + i / 1e4, "lon": 130.0,
                          "second": i % 60}, talker_id="AI")[0] for i in range(500)]
    f = tmp_path_factory.mktemp("big") / "big.nmea"
    f.write_text("\n".join(lines * 800) + "\n")
    return f


def _start(db: Path, log: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    out = open(db.with_suffix(".log"), "wb")  # not a pipe: orphans would hold it open
    with out:
        return subprocess.Popen(
            [sys.executable, "-m", "corridor", "--db", str(db), "ingest", "nmea", str(log),
             "--workers", "2", "--assume-time", "2023-09-07T00:00:00"],
            env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_for_workers(proc: subprocess.Popen, n: int) -> set[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, Path(proc.args[4]).with_suffix(".log").read_text()
        kids = _alive(_descendants(proc.pid))
        if len(kids) >= n + 1:  # the fork server and n workers
            time.sleep(0.5)
            return _alive(_descendants(proc.pid))
        time.sleep(0.05)
    pytest.fail("no worker processes started")


def _gone(pids: set[int], within_s: float) -> set[int]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and _alive(pids):
        time.sleep(0.1)
    return _alive(pids)


def test_kill_9_takes_the_workers_with_it(tmp_path, big_log):
    proc = _start(tmp_path / "k.duckdb", big_log)
    kids = _wait_for_workers(proc, 2)
    assert proc.poll() is None  # still working: the kill lands mid-ingest
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    left = _gone(kids, 5)
    for p in left:  # do not leave them behind for the next test
        os.kill(p, signal.SIGKILL)
    assert not left, f"{len(left)} of {len(kids)} worker processes outlived their parent"


def test_sigterm_records_the_ingest_as_interrupted(tmp_path, big_log):
    db = tmp_path / "t.duckdb"
    proc = _start(db, big_log)
    kids = _wait_for_workers(proc, 2)
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    left = _gone(kids, 5)
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left
    with Store.open(db, read_only=True) as s:
        rows = s.con.execute("SELECT status, message FROM ingest_log").fetchall()
        assert s.count("positions") == 0
    assert len(rows) == 1 and rows[0][0] == "failed" and "interrupted" in rows[0][1]


POOL_SCRIPT = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from corridor.workers import die_with_parent, forking_from_main_thread

with ProcessPoolExecutor(2, mp_context=get_context("fork"), initializer=die_with_parent,
                         initargs=(os.getpid(), forking_from_main_thread())) as pool:
    futs = [pool.submit(time.sleep, 120) for _ in range(2)]
    print("ready", flush=True)
    time.sleep(120)
"""


def test_forked_pool_workers_die_with_their_parent(tmp_path):
    """The way detect starts its workers (fork, die_with_parent): a kill -9 takes them along."""
    env = dict(os.environ, PYTHONPATH=str(SRC))
    out = tmp_path / "out.txt"
    with open(out, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-c", POOL_SCRIPT], env=env, stdout=fh,
                                stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while b"ready" not in out.read_bytes():
        assert proc.poll() is None and time.monotonic() < deadline, out.read_text()
        time.sleep(0.05)
    time.sleep(0.5)
    kids = _alive(_descendants(proc.pid))
    assert len(kids) >= 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    left = _gone(kids, 5)
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, f"{len(left)} of {len(kids)} workers outlived their parent"
