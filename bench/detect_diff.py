"""Check that a change to detection keeps its output: the same events, ids, marks and segments.

Not a test (it needs a store of a size worth comparing). Usage::

    # the code before the change (e.g. ``git archive`` of the base commit into OLD/src)
    PYTHONPATH=OLD/src .venv/bin/python bench/detect_diff.py dump STORE before/
    PYTHONPATH=src .venv/bin/python bench/detect_diff.py dump STORE after/
    .venv/bin/python bench/detect_diff.py compare before/ after/

``dump`` copies STORE, runs the local engine's full detection on the copy and writes its
``events``, ``position_marks`` and ``segments`` tables to Parquet, each in a total order
(every column), with the CPU and wall seconds of the run. ``compare`` compares them row
by row and exits 1 at the first difference, naming the table, row and column.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

#: table -> ORDER BY giving one order whatever the engine's insertion order
TABLES = {
    "events": "event_id",
    "position_marks": "obs_id, mark, segment_id",
    "segments": "mmsi, segment_id, start_ts",
}


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def dump(store_path: Path, out: Path) -> None:
    from corridor.engines.local import run_detect
    from corridor.store import Store

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / store_path.name
        shutil.copy(store_path, db)
        with Store.open(db) as s:
            cpu, t = _cpu(), time.perf_counter()
            summary = run_detect(s, full=True)
            wall, cpu = time.perf_counter() - t, _cpu() - cpu
            for name, order in TABLES.items():
                cols = s.query(f"SELECT * FROM {name} LIMIT 0").column_names
                pq.write_table(s.query(f"SELECT {', '.join(cols)} FROM {name} ORDER BY {order}, "
                                       f"{', '.join(cols)}"), out / f"{name}.parquet")
    (out / "run.json").write_text(json.dumps(
        {"wall_s": wall, "cpu_s": cpu, "phases": summary.phases, "events": summary.events}))
    print(json.dumps({"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "phases": summary.phases}))


def compare(a: Path, b: Path) -> int:
    for name in TABLES:
        ta = pq.read_table(a / f"{name}.parquet")
        tb = pq.read_table(b / f"{name}.parquet")
        if ta.column_names != tb.column_names or ta.num_rows != tb.num_rows:
            print(f"{name}: {ta.num_rows} rows {ta.column_names} vs "
                  f"{tb.num_rows} rows {tb.column_names}")
            return 1
        for col in ta.column_names:
            if not ta[col].equals(tb[col]):
                xa, xb = ta[col].to_pylist(), tb[col].to_pylist()
                row = next(i for i, (x, y) in enumerate(zip(xa, xb, strict=True)) if x != y)
                print(f"{name}: row {row} column {col}: {xa[row]!r} vs {xb[row]!r}")
                return 1
        print(f"{name}: {ta.num_rows:,} rows identical")
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("store", type=Path)
    d.add_argument("out", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.cmd == "dump":
        dump(args.store, args.out)
    else:
        sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
