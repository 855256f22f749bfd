"""Fuzzing: mutated CSV rows thrown at ``ingest positions``.

Rows of the real MarineCadastre export in ``DATA/ais-positions/aisdb`` are mutated cell by
cell with hostile values (empty, NaN, ±Inf, 1e308, ``3.67e8``, 64-bit sentinels, hex,
times in 1970/2099 or with UTC offsets, quotes, control characters, right-to-left
overrides, Latin-1 bytes, extra or missing columns) and written to CSV files that
``ingest_file`` reads into a fresh store.

It reports:

- **crashes**: an exception escaping the ingest of a file, or a file that failed as a whole
  (goal 0);
- **rows wrongly stored** (goal 0): a stored position (mmsi, ts, lat, lon) that is not the
  value of some input row under an independent reading of the documented rules (Python's
  csv module; the row's first four cells, whatever follows them; MMSI plain digits,
  optionally ``.0``, in 100000000-999999999; lat/lon finite,
  within ±90/±180 and not 91/181; ISO time via ``datetime.fromisoformat``, converted to UTC
  when it has an offset, from 1990 to now + 1 day);
- valid input rows that were not stored (for information: the oracle and DuckDB may
  disagree on exotic time spellings, which this lists);
- every skip, counted by reason.

Usage: ``nice -n 10 python bench/fuzz_tables.py [--rows 100000] [--data DIR] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from _fuzz import ingest_all  # bench/ is on sys.path when a script runs
from _machine import cpu_model

from corridor.ingest.summary import ingest_file
from corridor.ingest.tables import table_parser
from corridor.store import Store

REPO = Path(__file__).resolve().parents[1]
SOURCE = "ais-positions/aisdb/test_data_noaa_20230101.csv"
HOSTILE = ["", " ", "NaN", "nan", "inf", "-inf", "Infinity", "1e308", "-1e308", "3.67e8", "0x15DEF5C0",
           "9223372036854775807", "-9223372036854775808", "123456789012", "1", "0", "-0", "91", "181",
           "-91", "180.0000001", "1970-01-01T00:00:00", "2099-01-01T00:00:00", "0000-01-01",
           "2023-01-11T00:00:00+05:00", "2023-01-11T00:00:00Z", "2023-01-11T23:30:00-03:30",
           "2023-01-11 00:00:00", "2023-01-11", "infinity", "-infinity", '"', "''", "\x1b[2J",
           "A\u202eB", "\r", "NULL", "null", "None", "1_000", "+273000001", " 273000001 ",
           "273000001.0", "273000001.5", "٣٦٧٠٠٠٠٠٠", "ＭＭＳＩ"]


def hostile_cell(rnd: random.Random, cell: str) -> str:
    r = rnd.random()
    if r < 0.6:
        return rnd.choice(HOSTILE)
    if r < 0.8 and cell:
        i = rnd.randrange(len(cell))
        return cell[:i] + rnd.choice("0123456789.-+eE:TZ ,\"'") + cell[i + 1:]
    if r < 0.9:
        return cell + rnd.choice(["0", "00", ".5", "e3", "Z", "+01:00"])
    return "".join(rnd.choice("0123456789.-eE") for _ in range(rnd.randint(1, 25)))


def build_rows(data: Path, n: int, seed: int) -> tuple[list[str], list[list[str]]]:
    rnd = random.Random(seed)
    with open(data / SOURCE, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        base = [row for row in reader]
    out = []
    for _ in range(n):
        row = list(base[rnd.randrange(len(base))])
        row[0] = str(rnd.randint(100_000_000, 999_999_999)) if rnd.random() < 0.5 else row[0]
        ts = datetime(2023, 1, 1) + timedelta(seconds=rnd.randrange(300 * 86_400))
        row[1] = ts.isoformat()
        if rnd.random() < 0.6:  # mutate one to three cells of the first four (the position)
            for _ in range(rnd.randint(1, 3)):
                j = rnd.randrange(4)
                row[j] = hostile_cell(rnd, row[j])
        if rnd.random() < 0.05:
            row[7] = rnd.choice(["SÃO PAULO", "\x1b]0;x\x07", "ZÜRICH\r\nEXPRESS", "\u202eSREPPIHS"])
        if rnd.random() < 0.02:
            row = row[: rnd.randrange(len(row))] if rnd.random() < 0.5 else row + ["extra"]
        out.append(row)
    return header, out


def _mmsi(text: str) -> int | None:
    if not re.fullmatch(r"\s*[0-9]+(?:\.0*)?\s*", text, re.ASCII):
        return None
    v = int(text.strip().split(".")[0])
    return v if 100_000_000 <= v <= 999_999_999 else None


def _coord(text: str, limit: float, na: float) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    if not math.isfinite(v) or abs(v) > limit or v == na:
        return None
    return v


_LOOSE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ] ?(\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d{0,6})?Z?",
                         re.ASCII)


def _time(text: str, now: datetime) -> datetime | None:
    text = text.strip()
    try:
        if len(text) > 10 and text[10] not in "T ":  # Python takes any separator; ISO does not
            raise ValueError(text)
        dt = datetime.fromisoformat(text)
    except ValueError:
        # ISO 8601 with one-digit fields, as DuckDB reads it ("11:01:1" is 11:01:01)
        m = _LOOSE_TIME.fullmatch(text)
        if m is None:
            return None
        try:
            dt = datetime(*map(int, m.groups()[:6]), int(float((m.group(7) or ".") + "0") * 1_000_000))
        except ValueError:
            return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    if dt < datetime(1990, 1, 1) or dt > now + timedelta(days=1):
        return None
    return dt


def oracle(header_len: int, rows: list[list[str]]) -> set[tuple]:
    """(mmsi, ts, lat, lon) of every row valid under the documented rules."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    out = set()
    for row in rows:
        if len(row) < header_len:  # a short row is malformed; cells beyond the header are ignored
            continue
        m, t = _mmsi(row[0]), _time(row[1], now)
        lat, lon = _coord(row[2], 90, 91), _coord(row[3], 180, 181)
        if None not in (m, t, lat, lon):
            out.add((m, t, lat, lon))
    return out


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding, errors="replace"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--seed", type=int, default=20261203)
    ap.add_argument("--data", type=Path, default=REPO / "tests" / "data", help=f"folder holding {SOURCE}")
    ap.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = ap.parse_args()
    t0 = time.perf_counter()
    header, rows = build_rows(args.data, args.rows, args.seed)
    crashes: list[str] = []
    skips: Counter = Counter()
    statuses: Counter = Counter()
    per = (len(rows) + args.files - 1) // args.files
    truth: set[tuple] = set()
    with tempfile.TemporaryDirectory(prefix="corridor-fuzz-") as tmp:
        d = Path(tmp)
        paths = []
        for k in range(args.files):
            part = rows[k * per:(k + 1) * per]
            # one file in Latin-1 (a Windows export): what it holds is what Latin-1 can say
            enc = "latin-1" if k == 1 else "utf-8"
            if enc == "latin-1":
                part = [[c.encode("latin-1", "replace").decode("latin-1") for c in r] for r in part]
            truth |= oracle(len(header), part)
            p = d / f"fuzz-{k:02d}.csv"
            write_csv(p, header, part, enc)
            paths.append(p)
        t_built = time.perf_counter()
        with Store.open(d / "fuzz.duckdb") as store:
            found, got, skipped = ingest_all(
                paths, lambda p: ingest_file(store, p, "positions", table_parser()))
            crashes += found
            statuses.update(got)
            skips.update(skipped)
            t_ingested = time.perf_counter()
            stored = store.con.execute("SELECT mmsi, ts, lat, lon FROM positions").fetchall()
    stored_set = set(stored)
    wrong = [r for r in stored if r not in truth]
    missed = truth - stored_set
    figures = {
        "cpu": cpu_model(), "rows": len(rows), "files": args.files,
        "positions_stored": len(stored), "valid_rows_by_oracle": len(truth),
        "crashes": len(crashes), "crash_examples": crashes[:10],
        "wrongly_stored": len(wrong), "wrong_examples": [" | ".join(map(str, w)) for w in wrong[:10]],
        "valid_rows_not_stored": len(missed),
        "missed_examples": [" | ".join(map(str, m)) for m in sorted(missed)[:10]],
        "skips": dict(skips.most_common()), "file_statuses": dict(statuses),
        "seconds": {"build": round(t_built - t0, 1), "ingest": round(t_ingested - t_built, 1)},
    }
    text = json.dumps(figures, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    sys.exit(1 if crashes or wrong else 0)


if __name__ == "__main__":
    main()
