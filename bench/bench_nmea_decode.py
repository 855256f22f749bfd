"""Benchmark: AIS NMEA decoding — bare pyais, corridor's vectorised decoder, libais, and
``corridor ingest nmea`` end to end, side by side in one run.

Every variant runs in its own fresh process, in paired rounds (A B C ... A B C ...), and is
charged the CPU seconds of that whole process tree (``resource.getrusage`` of the children,
user + system), not wall time: the machine is shared, and CPU seconds are what a variant
costs whatever else runs. Each child also reports the CPU seconds of its timed loop alone
(imports and start-up excluded). Ratios are of medians.

Variants (each over the same file):

- ``pyais``: pyais's own ``FileReaderStream`` and ``.decode()`` on every sentence — the bare
  loop corridor is measured against.
- ``libais``: the C++ decoder (``pip install libais``, if installed): each line's sentence
  split by hand, fragments joined by sequence id, ``ais.decode(body, fill_bits)``.
- ``corridor-parse``: corridor's parser in-process, one process (``parse_nmea``, workers=1):
  framing, receive times, fragment assembly, vectorised decode, Arrow batches; no store.
- ``corridor-decode``: the vectorised decoder alone (``decode_payloads``) on the payload of
  every message of the types it decodes, already framed (framing not timed), against pyais
  decoding the same messages (``pyais-decode``: ``AISSentence`` + ``.decode()``).
- ``corridor-frame``: the bulk framer alone (``frame_lines``) over the file in 4 MB chunks.
- ``corridor-ingest``: the command a user types, ``corridor ingest nmea FILE --workers 1``
  into a new DuckDB store (one process, so the CPU count is exact).

Input: the real captures under ``--data`` (default ``tests/data/ais-nmea``) repeated with
receive times shifted (see ``bench_ingest_nmea.build``) to ``--lines`` lines.

Usage: ``.venv/bin/python bench/bench_nmea_decode.py [--data DIR] [--lines 1000000]
[--rounds 2] [--out bench/results/nmea_decode.md]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_PRELUDE = r"""
import json, re, resource, sys, time
path = sys.argv[1]
def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
SENT = re.compile(rb"![A-Z]{2}VD[MO],[^*\\]*\*[0-9A-Fa-f]{2}")
def framed():
    '''(payload, fill bits, sentences) of every AIS message, fragments joined in order.'''
    out, pending = [], {}
    with open(path, "rb") as fh:
        for line in fh:
            m = SENT.search(line)
            if not m:
                continue
            s = m.group(0)
            f = s.split(b",")
            if len(f) != 7 or not (f[1].isdigit() and f[2].isdigit()):
                continue
            cnt, num, fill = int(f[1]), int(f[2]), f[6][:1]
            if not fill.isdigit():
                continue
            if cnt == 1:
                out.append((f[5], int(fill), [s]))
                continue
            key = (cnt, f[3], f[4])
            if num == 1:
                pending[key] = [s]
            elif key in pending and len(pending[key]) == num - 1:
                pending[key].append(s)
                if num == cnt:
                    parts = pending.pop(key)
                    out.append((b"".join(p.split(b",")[5] for p in parts), int(fill), parts))
    return out
def vector_typed(msgs):
    '''The messages of the types the vectorised decoder handles (the same for both).'''
    keep = {t + 48 for t in (1, 2, 3, 5, 18, 19, 24, 27)}  # the payload's first character
    return [m for m in msgs if m[0][:1] and m[0][0] in keep]
"""

_CHILDREN = {
    "pyais": r"""
from pyais.stream import FileReaderStream
c = cpu(); n = 0
for msg in FileReaderStream(path):
    try:
        msg.decode(); n += 1
    except Exception:
        pass
print(json.dumps({"loop_cpu_s": cpu() - c, "messages": n}))
""",
    "libais": r"""
import ais
c = cpu(); n = 0; pending = {}
with open(path, "rb") as fh:
    for line in fh:
        i = line.find(b"!")
        if i < 0:
            continue
        j = line.find(b"*", i)
        f = line[i:j].split(b",")
        if len(f) != 7:
            continue
        try:
            cnt, num, fill = int(f[1]), int(f[2]), int(f[6] or 0)
        except ValueError:
            continue
        if cnt == 1:
            body = f[5]
        else:
            key = (f[3], f[4])
            if num == 1:
                pending[key] = [f[5]]
                continue
            parts = pending.get(key)
            if parts is None or len(parts) != num - 1:
                continue
            parts.append(f[5])
            if num != cnt:
                continue
            body = b"".join(pending.pop(key))
        try:
            ais.decode(body.decode("ascii"), fill); n += 1
        except Exception:
            pass
print(json.dumps({"loop_cpu_s": cpu() - c, "messages": n}))
""",
    "corridor-parse": r"""
from pathlib import Path
from corridor.ingest.nmea import NmeaOptions, parse_nmea
from corridor.ingest.summary import IngestSummary
summ = IngestSummary(path, "nmea")
c = cpu()
rows = sum(t.num_rows for _, t in parse_nmea(Path(path), summ, NmeaOptions(workers=1)))
print(json.dumps({"loop_cpu_s": cpu() - c, "rows": rows, "skipped": summ.skipped}))
""",
    "corridor-decode": r"""
from corridor.ingest.nmea_vector import decode_payloads
msgs = vector_typed(framed())
decode_payloads([b"13A><b0P010qaGPOo2Gcl?w208C?"], [0])  # pyais's plans read once, not timed
c = cpu(); n = 0
for i in range(0, len(msgs), 50_000):
    part = msgs[i:i + 50_000]
    n += int(decode_payloads([m[0] for m in part], [m[1] for m in part]).supported.sum())
print(json.dumps({"loop_cpu_s": cpu() - c, "messages": n, "payloads": len(msgs)}))
""",
    "pyais-decode": r"""
from pyais.messages import AISSentence
msgs = vector_typed(framed())
c = cpu(); n = 0
for _, _, sentences in msgs:
    try:
        parts = [AISSentence(s) for s in sentences]
        (parts[0] if len(parts) == 1 else AISSentence.assemble_from_iterable(parts)).decode()
        n += 1
    except Exception:
        pass
print(json.dumps({"loop_cpu_s": cpu() - c, "messages": n, "payloads": len(msgs)}))
""",
    "corridor-frame": r"""
from corridor.ingest.nmea_vector import frame_lines
data = open(path, "rb").read()
c = cpu(); n = ok = 0; pos = 0
while pos < len(data):  # chunks of about 4 MB, cut at line breaks
    e = data.rfind(b"\n", pos, pos + 4_000_000) + 1 if pos + 4_000_000 < len(data) else len(data)
    fr = frame_lines(data[pos:e]); n += len(fr.start); ok += int(fr.checksum_ok.sum()); pos = e
print(json.dumps({"loop_cpu_s": cpu() - c, "lines": n, "checksums_ok": ok}))
""",
}


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_variant(name: str, path: Path, workdir: Path, before: Path | None = None) -> dict:
    """Run one variant in a fresh process; CPU seconds of its whole tree and its report."""
    src = before if name == "corridor-ingest-before" else REPO / "src"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]))
    if name.startswith("corridor-ingest"):
        db = workdir / f"bench-{time.monotonic_ns()}.duckdb"
        cmd = [sys.executable, "-m", "corridor", "--db", str(db), "ingest", "nmea", str(path),
               "--workers", "1"]
    else:
        cmd = [sys.executable, "-c", _PRELUDE + _CHILDREN[name], str(path)]
    c0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    cpu, wall = _children_cpu() - c0, time.perf_counter() - t0
    if proc.returncode not in (0, 3):  # 3: lines skipped (counted), the rest stored
        raise RuntimeError(f"{name} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    if name.startswith("corridor-ingest"):
        report = {"output": [ln.strip() for ln in proc.stdout.splitlines() if "stored" in ln][:1]}
        db.unlink(missing_ok=True)
    else:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"cpu_s": cpu, "wall_s": wall, **report}


def _libais_available() -> bool:
    return subprocess.run([sys.executable, "-c", "import ais"], capture_output=True).returncode == 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _fmt(values: list[float]) -> str:
    return (f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"
            if len(values) > 1 else f"{values[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO / "tests" / "data" / "ais-nmea")
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "nmea_decode.md")
    ap.add_argument("--before", type=Path, default=None,
                    help="src/ of an earlier corridor: its `ingest nmea` runs beside this one's")
    args = ap.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no captures at {args.data} (use --data DIR)")
    sys.path.insert(0, str(Path(__file__).parent))
    import bench_ingest_nmea  # the shared input builder (repetition with shifted times)

    bench_ingest_nmea.DATA = args.data
    variants = ["pyais", "corridor-parse", "corridor-ingest", "pyais-decode", "corridor-decode",
                "corridor-frame"]
    if _libais_available():
        variants.insert(1, "libais")
    if args.before:
        variants.insert(variants.index("corridor-ingest") + 1, "corridor-ingest-before")
    load_before = os.getloadavg()[0]
    results: dict[str, list[dict]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as d:
        big = Path(d) / "bench.nmea"
        n_lines = bench_ingest_nmea.build(big, args.lines)
        size_mb = big.stat().st_size / 1e6
        print(f"built {n_lines:,} lines ({size_mb:.0f} MB)", flush=True)
        for rnd in range(args.rounds):
            for v in variants:
                r = run_variant(v, big, Path(d), args.before)
                results[v].append(r)
                print(f"round {rnd + 1} {v}: {json.dumps(r)}", flush=True)
    load_after = os.getloadavg()[0]
    med = {v: statistics.median(r["cpu_s"] for r in rs) for v, rs in results.items()}
    loop = {v: statistics.median(r["loop_cpu_s"] for r in rs)
            for v, rs in results.items() if "loop_cpu_s" in rs[0]}
    desc = {
        "pyais": "bare pyais loop (`FileReaderStream` + `.decode()`)",
        "libais": "libais loop (line split by hand, `ais.decode`)",
        "corridor-parse": "corridor parser in-process (`parse_nmea`, 1 process, no store)",
        "corridor-ingest": "`corridor ingest nmea --workers 1` into a new store (end to end)",
        "corridor-ingest-before": f"the same with the code of `{args.before}` (before)",
        "pyais-decode": "pyais decode only (`AISSentence` + `.decode()`, payloads pre-framed)",
        "corridor-decode": "corridor vectorised decode only (`decode_payloads`, pre-framed)",
        "corridor-frame": "corridor bulk framing only (`frame_lines`, 4 MB chunks: lines, "
                          "sentences, checksums, commas)",
    }
    lines = [
        "# NMEA decoding: pyais, libais and corridor side by side",
        "",
        f"Run {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M')} UTC on {_cpu_model()} "
        f"({os.cpu_count()} CPUs, shared with other jobs: 1-minute load average "
        f"{load_before:.1f} at the start, {load_after:.1f} at the end), Python "
        f"{sys.version.split()[0]}.",
        "",
        f"Command: `.venv/bin/python bench/bench_nmea_decode.py --data {args.data} "
        f"--lines {args.lines} --rounds {args.rounds}"
        + (f" --before {args.before}`" if args.before else "`"),
        "",
        f"Input: {n_lines:,} lines ({size_mb:.0f} MB) built from the real captures in "
        f"`{args.data}`, repeated with receive times shifted (`bench_ingest_nmea.build`).",
        "",
        f"Each variant ran in a fresh process, in {args.rounds} paired rounds (all variants "
        "once, then again). **CPU s** is the CPU time (user + system) of the variant's whole "
        "process tree (`getrusage(RUSAGE_CHILDREN)`), start-up and imports included; **loop "
        "CPU s** is the timed loop alone. Median (range) over the rounds. Wall time is not "
        "used: the machine is shared.",
        "",
        "| variant | CPU s | loop CPU s | wall s | × bare pyais (CPU) | result |",
        "|---|---|---|---|---|---|",
    ]
    for v, rs in results.items():
        cpu = [r["cpu_s"] for r in rs]
        lp = [r["loop_cpu_s"] for r in rs] if "loop_cpu_s" in rs[0] else None
        what = {k: val for k, val in rs[0].items() if k not in ("cpu_s", "wall_s", "loop_cpu_s")}
        lines.append(f"| {desc[v]} | {_fmt(cpu)} | {_fmt(lp) if lp else '–'} | "
                     f"{_fmt([r['wall_s'] for r in rs])} | "
                     f"{med['pyais'] / med[v]:.2f}× | {what} |")
    lines += ["", "Ratios (medians of CPU seconds, whole process trees):", ""]

    def ratio(a: str, b: str, table: dict) -> str:
        return f"{table[b] / table[a]:.2f}×" if a in table and b in table else "n/a"

    lines += [
        f"- corridor ingest end to end vs bare pyais: **{ratio('corridor-ingest', 'pyais', med)}**"
        f" (vs libais loop: {ratio('corridor-ingest', 'libais', med)}; before: "
        f"{ratio('corridor-ingest-before', 'pyais', med)})",
        f"- corridor parser in-process vs bare pyais: {ratio('corridor-parse', 'pyais', med)} "
        f"(loops alone: {ratio('corridor-parse', 'pyais', loop)}); vs libais loop: "
        f"{ratio('corridor-parse', 'libais', med)} (loops alone: "
        f"{ratio('corridor-parse', 'libais', loop)})",
        f"- decode alone, same pre-framed payloads: vectorised vs pyais "
        f"**{ratio('corridor-decode', 'pyais-decode', loop)}** (loops alone; messages of types "
        "1, 2, 3, 5, 18, 19, 24, 27 only, for both)",
        "",
    ]
    text = "\n".join(lines)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
