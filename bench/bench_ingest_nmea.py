"""Benchmark: ``corridor ingest nmea`` end to end into DuckDB vs a bare pyais decode loop.

The input is built from the real captures in tests/data/ais-nmea, repeated with every
receive time shifted (tag-block ``c:`` values, ``$PGHP`` times and USCG trailing epochs
rewritten, checksums recomputed): each repetition starts all captures at the same moment, 8
days after the previous repetition, so the log moves forward in time like a real one and
each repetition is new data rather than duplicates. Untimed captures get an NMEA 4 tag
block with a receive time, which keeps every line readable by pyais's own
``FileReaderStream`` (the bare loop's reader).

Usage: ``.venv/bin/python bench/bench_ingest_nmea.py [--sentences 2000000] [--out FILE]``.
Peak RSS is measured in a fresh child process for the full file and for a quarter of it,
so that growth with file size would show.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from _machine import cpu_model

from corridor.ingest.nmea_time import nmea_checksum

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "ais-nmea"  # --data DIR reads another copy
#: Timed captures and their first receive time (epoch s), so that every repetition can
#: start them all at the same moment: the built log moves forward in time like a real one.
TIMED = {
    "dma-aislib/stream_example.txt": 1276256771,  # $PGHP 2010-06-11 11:46:11
    "dma-aislib/replay_dump.txt": 1363598349,  # $PGHP 2013-03-18 09:19:09
    "aisdb/test_data_20211101.nm4": 1635731889,  # c:
    "libais/tagblock.nmea": 1418169601,  # c:
    "libais/test.aivdm": 1272412827,  # trailing epoch (the file spans 5 days)
    "libais/typeexamples.nmea": 1325394060,  # trailing epoch (spans a week)
}
UNTIMED = ["dma-aislib/ais250.txt", "dma-aislib/decode_encode_messages.txt",
           "gfw-ais-tools/mixed_types.nmea", "gfw-ais-tools/multi-part.nmea",
           "gpsd/ais-nmea-type6-fid55.log", "gpsd/ais-raw-messages.log",
           "pyais/nmea_data_sample.txt"]
START = 1_693_526_400  # 2023-09-01 00:00 UTC: the first repetition starts here
REPETITION_S = 8 * 86_400  # each repetition starts 8 days after the previous one


def _xor(data: bytes) -> str:
    return f"{nmea_checksum(data):02X}"


def _shift_line(line: bytes, shift_s: int, untimed_ts: float | None) -> bytes:
    line = line.rstrip(b"\r\n")
    if not line.strip() or line.startswith(b"#"):
        return b""
    if untimed_ts is not None and line.startswith(b"!"):
        tag = f"c:{int(untimed_ts)}".encode()
        return b"\\" + tag + b"*" + _xor(tag).encode() + b"\\" + line
    if line.startswith(b"\\"):
        tag, rest = line[1:].split(b"\\", 1)
        body = tag.split(b"*")[0]
        body = re.sub(rb"c:(\d+)", lambda m: b"c:%d" % (int(m.group(1)) + shift_s), body)
        return b"\\" + body + b"*" + _xor(body).encode() + b"\\" + rest
    if line.startswith(b"$PGHP"):
        f = line.split(b"*")[0][1:].split(b",")
        t = datetime(*map(int, f[2:8])) + timedelta(seconds=shift_s)
        f[2:8] = [str(v).encode() for v in (t.year, t.month, t.day, t.hour, t.minute, t.second)]
        body = b",".join(f)
        return b"$" + body + b"*" + _xor(body).encode()
    star = line.find(b"*")
    if star > 0 and len(line) > star + 3:
        head, trailer = line[: star + 3], line[star + 3:]
        trailer = re.sub(rb"(?<=,)(\d{10})(?=,|$)",
                         lambda m: b"%d" % (int(m.group(1)) + shift_s), trailer)
        return head + trailer
    return line


def build(path: Path, sentences: int) -> int:
    """Write the benchmark file; returns the number of lines written."""
    sources = [((DATA / p).read_bytes().splitlines(), first) for p, first in TIMED.items()]
    untimed = [(DATA / p).read_bytes().splitlines() for p in UNTIMED]
    written = 0
    rep = 0
    with open(path, "wb") as out:
        while written < sentences:
            start = START + rep * REPETITION_S
            buf = []
            for lines, first in sources:
                buf.extend(_shift_line(ln, start - first, None) for ln in lines)
            for lines in untimed:
                for i, ln in enumerate(lines):
                    buf.append(_shift_line(ln, 0, start + i * 0.01))
            buf = [b for b in buf if b]
            out.write(b"\n".join(buf) + b"\n")
            written += len(buf)
            rep += 1
    return written


def bare_pyais(path: Path) -> tuple[float, int]:
    """The baseline: pyais's own file reader and decoder, nothing stored."""
    from pyais.stream import FileReaderStream

    t0 = time.perf_counter()
    c0 = time.process_time()
    n = 0
    for msg in FileReaderStream(str(path)):
        try:
            msg.decode()
            n += 1
        except Exception:  # noqa: BLE001 - the baseline skips what it cannot decode
            pass
    return time.perf_counter() - t0, time.process_time() - c0, n


_CHILD = r"""
import json, sys, time
from pathlib import Path
from corridor.store import Store
from corridor.ingest.nmea import NmeaOptions, ingest_nmea_file
path, db, workers = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with Store.open(db) as store:
    t0 = time.perf_counter()
    r = ingest_nmea_file(store, path, NmeaOptions(workers=workers))
    dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "rows_in": r.rows_in, "stored": r.stored, "status": r.status,
                  "skipped": r.skipped}))
"""


def _tree(root: int) -> dict[int, tuple[float, float]]:
    """{pid: (RSS MB, CPU seconds)} of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    stats: dict[int, tuple[float, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        parents[pid] = int(fields[1])
        cpu = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 1e6
        stats[pid] = (rss, cpu)

    def descends(pid: int) -> bool:
        while pid > 1:
            if pid == root:
                return True
            pid = parents.get(pid, 0)
        return False

    return {p: v for p, v in stats.items() if descends(p)}


def corridor_ingest(path: Path, workers: int = 0) -> dict:
    """Run the ingest in a fresh process, sampling RSS and CPU time of it and its workers."""
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(path), os.path.join(d, "b.duckdb"), str(workers)],
            stdout=subprocess.PIPE, text=True,
        )
        parent_mb = worker_mb = 0.0
        cpu: dict[int, float] = {}
        while proc.poll() is None:
            for pid, (rss, seconds) in _tree(proc.pid).items():
                cpu[pid] = seconds
                if pid == proc.pid:
                    parent_mb = max(parent_mb, rss)
                else:
                    worker_mb = max(worker_mb, rss)
            time.sleep(0.5)
        out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode:
        raise RuntimeError(f"ingest failed ({proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result.update(rss_parent_mb=parent_mb, rss_worker_mb=worker_mb, cpu_s=sum(cpu.values()))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=2_000_000)
    ap.add_argument("--data", type=Path, default=None,
                    help="folder with the real captures (default tests/data/ais-nmea)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "ingest_nmea.md")
    args = ap.parse_args()
    global DATA
    DATA = args.data or DATA
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as d:
        big = Path(d) / "big.nmea"
        quarter = Path(d) / "quarter.nmea"
        t0 = time.perf_counter()
        n_lines = build(big, args.sentences)
        n_quarter = build(quarter, args.sentences // 4)
        size_mb = big.stat().st_size / 1e6
        print(f"built {n_lines:,} lines ({big.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
        ours = corridor_ingest(big)
        print("corridor:", ours, flush=True)
        small = corridor_ingest(quarter)
        print("corridor (quarter file):", small, flush=True)
        # Parallel effect, back to back on the quarter file: best of two runs each.
        one_proc = min(corridor_ingest(quarter, 1)["seconds"] for _ in range(2))
        pool = min(small["seconds"], corridor_ingest(quarter)["seconds"])
        print(f"quarter file: one process {one_proc:.1f} s, pool {pool:.1f} s", flush=True)
        bare_s, bare_cpu, bare_n = bare_pyais(big)
        print(f"bare pyais: {bare_s:.1f} s, {bare_n:,} messages", flush=True)
    ratio = bare_s / ours["seconds"]
    load = os.getloadavg()[0]
    lines = [
        "# `corridor ingest nmea` benchmark",
        "",
        f"Run {datetime.now().strftime('%Y-%m-%d %H:%M')} UTC on {cpu_model()}, "
        f"{os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}. The machine is shared: 1-minute load average "
        f"{load_before:.1f} at the start and {load:.1f} at the end (2 CPUs), so both timings "
        "below ran with other jobs competing for the cores.",
        "",
        f"Command: `.venv/bin/python bench/bench_ingest_nmea.py --sentences {args.sentences}`",
        "",
        f"Input: {n_lines:,} lines ({size_mb:.0f} MB) built from the real captures in "
        "tests/data/ais-nmea, repeated with receive times shifted so that each repetition "
        "starts all captures together, 8 days after the previous one (see the script).",
        "",
        "| measure | value |",
        "|---|---|",
        f"| corridor ingest nmea, end to end into DuckDB | {ours['seconds']:.1f} s, "
        f"{n_lines / ours['seconds']:,.0f} lines/s |",
        f"| bare pyais loop (`FileReaderStream` + `.decode()`, nothing stored) | {bare_s:.1f} s, "
        f"{n_lines / bare_s:,.0f} lines/s ({bare_n:,} messages) |",
        f"| ratio (bare pyais time / corridor time) | **{ratio:.2f}×** |",
        f"| CPU seconds (all processes) | corridor {ours['cpu_s']:.0f} s, bare pyais "
        f"{bare_cpu:.0f} s: {bare_cpu / ours['cpu_s']:.2f}× the work per core, so "
        f"{2 * bare_cpu / ours['cpu_s']:.2f}× on two otherwise idle cores |",
        f"| quarter file, one process vs decoding pool (best of 2 each, back to back) | "
        f"{one_proc:.1f} s vs {pool:.1f} s: the pool is {one_proc / pool:.2f}× faster |",
        f"| rows stored | {ours['stored']} |",
        f"| skipped / not stored, by reason | {ours['skipped']} |",
        f"| peak RSS, full file ({n_lines:,} lines) | main process {ours['rss_parent_mb']:.0f} MB, "
        f"largest decoding worker {ours['rss_worker_mb']:.0f} MB |",
        f"| peak RSS, quarter file ({n_quarter:,} lines) | main process "
        f"{small['rss_parent_mb']:.0f} MB, largest decoding worker {small['rss_worker_mb']:.0f} MB |",
        "",
        "How corridor gets its speed: decoding runs in a process pool (all cores) over chunks "
        "of 50,000 lines; only the message types corridor stores (1, 2, 3, 5, 18, 19, 24, 27) "
        "become pyais objects and are decoded; `$PGHP` times are read without building a pyais "
        "sentence; repeated tag blocks are parsed once. Per line, corridor still does more than "
        "the bare loop (it verifies every checksum, reads receive times, assembles fragments "
        "itself, builds Arrow batches and writes DuckDB), so it is faster than the bare loop "
        "only when the pool really gets a second core: the CPU-seconds row gives the idle-machine "
        "expectation, the wall-clock rows what this shared machine gave during the run.",
        "",
        "Memory: the decoding workers and the parser stay flat (bounded by the chunk size and "
        "the chunks in flight; the parser alone peaks at the same RSS for 120k and 500k lines). "
        "The main process grows up to one commit part: `ingest_file` commits every 2M rows "
        "(`COMMIT_ROWS`; the file is `partial` until its last part is in) and DuckDB keeps a "
        "part's uncommitted rows in memory, so a file of fewer rows than that (this one stores "
        "about 1M) is one transaction and its main-process RSS still grows with it; beyond "
        "2M rows it stops growing.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
