"""Fuzzing: generated and mutated real NMEA lines thrown at ``ingest nmea``.

Every AIS sentence of the real captures in ``DATA/ais-nmea`` plus sentences generated with
pyais's encoder (random MMSIs, including impossible ones, positions, types) are written
with an NMEA 4 tag block carrying a receive time, then mutated: bytes flipped, inserted and
deleted, fields swapped, truncated, spliced from two lines, glued without a line break,
prefixed with binary, tag blocks damaged, overlong lines. The lines go into files (some
gzip-compressed) that ``ingest_nmea_file`` reads into a fresh store, plus a set of hostile
files (corrupted and truncated gzip, binary, empty, UTF-16, a single 20 MB line).

It reports:

- **crashes**: an exception escaping the ingest of a file, or a generated text file that
  failed as a whole (goal 0); the hostile files must fail with a one-line message;
- **rows wrongly stored** (goal 0): a stored position whose (MMSI, type, lat, lon) is not
  what an independent decode says the input holds (pyais ``decode`` of each sentence or
  run of fragments, checksums checked, the tag block's own checksum and ``c:`` read here by
  hand),
  or whose time is not within [receive - 55 s, receive + 5 s] of such a line (the fix-time
  rule of :mod:`corridor.ingest.nmea`), or whose MMSI is not 9 digits, or whose lat/lon is
  out of range; and a stored static report whose MMSI is not 9 digits;
- every skip, counted by reason.

Usage: ``nice -n 10 python bench/fuzz_nmea.py [--lines 1000000] [--data DIR] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import sys
import tempfile
import time
import zlib
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from _fuzz import ingest_all  # bench/ is on sys.path when a script runs
from _machine import cpu_model
from pyais import decode, encode_dict

from corridor.ingest.nmea import NmeaOptions, ingest_nmea_file
from corridor.ingest.nmea_time import nmea_checksum
from corridor.store import Store

REPO = Path(__file__).resolve().parents[1]
T0 = 1_693_526_400  # 2023-09-01 00:00 UTC: receive times are T0 .. T0 + 30 days
SPAN_S = 30 * 86_400
POSITION_TYPES = {1, 2, 3, 18, 19, 27}


def real_sentences(data: Path) -> list[str]:
    """Every ``!..VDM/VDO`` sentence of the captures, in file order (fragments stay adjacent)."""
    out = []
    for f in sorted((data / "ais-nmea").glob("*/*")):
        for raw in f.read_bytes().replace(b"\\r\\n", b"\n").splitlines():
            i = raw.find(b"!")
            if i < 0:
                continue
            star = raw.find(b"*", i)
            if star < 0:
                continue
            s = raw[i:star + 3].decode("ascii", "replace")
            if s[3:6] in ("VDM", "VDO"):
                out.append(s)
    return out


def generated_sentences(rnd: random.Random, n: int) -> list[str]:
    """Sentences from pyais's encoder: mostly valid vessels, some impossible MMSIs."""
    out = []
    for _ in range(n):
        mmsi = rnd.choice([rnd.randint(100_000_000, 999_999_999)] * 8 +
                          [rnd.randint(0, 99_999_999), rnd.randint(10**9, 2**30 - 1)])
        t = rnd.choice([1, 1, 2, 3, 18, 18, 27, 5, 24, 4, 21])
        f = {"type": t, "mmsi": mmsi, "lat": rnd.uniform(-91, 91), "lon": rnd.uniform(-181, 181),
             "speed": rnd.uniform(0, 102.3), "course": rnd.uniform(0, 360), "second": rnd.randint(0, 63),
             "heading": rnd.randint(0, 511), "status": rnd.randint(0, 15)}
        if t == 5:
            f.update(shipname="".join(rnd.choice("ABCXYZ @") for _ in range(12)), callsign="ABCD",
                     destination="FUZZ")
        if t == 24:
            f.update(partno=rnd.randint(0, 1), shipname="FUZZ")
        try:
            out.extend(encode_dict(f, talker_id="AI", seq_id=rnd.randint(0, 9)))
        except Exception:  # noqa: BLE001 - the encoder refuses some random field values
            continue
    return out


def tag_block(c: int, station: str) -> str:
    body = f"s:{station},c:{c}"
    return f"\\{body}*{nmea_checksum(body.encode()):02X}\\"


def mutate(line: bytes, rnd: random.Random, other: bytes) -> bytes:
    """One to four random edits of a line (bytes, fields, splices, truncation, junk)."""
    b = bytearray(line)
    for _ in range(rnd.randint(1, 4)):
        op = rnd.randrange(10)
        i = rnd.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(i, len(b) - 1)] = rnd.randrange(256)
        elif op == 1 and b:
            b[min(i, len(b) - 1)] ^= 1 << rnd.randrange(8)
        elif op == 2:
            b.insert(i, rnd.choice(b",*!$\\\r\x00\xff0123456789ABCDEFcgs:-"))
        elif op == 3 and b:
            del b[min(i, len(b) - 1):min(i, len(b) - 1) + rnd.randint(1, 5)]
        elif op == 4:
            b = b[:i]
        elif op == 5:
            b = b[:i] + other[rnd.randrange(len(other) + 1):]
        elif op == 6:
            parts = bytes(b).split(b",")
            if len(parts) > 2:
                j, k = rnd.randrange(len(parts)), rnd.randrange(len(parts))
                parts[j], parts[k] = parts[k], parts[j]
                b = bytearray(b",".join(parts))
        elif op == 7:
            b[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 12)))
        elif op == 8:
            b = bytearray(bytes(b) + other)  # two sentences glued together
        else:
            b = bytearray(bytes(b).replace(b"c:", b"c:" + str(rnd.randint(0, 9)).encode(), 1))
    return bytes(b).replace(b"\n", b" ")


def build_lines(data: Path, n_lines: int, seed: int) -> list[bytes]:
    rnd = random.Random(seed)
    real = real_sentences(data)
    gen = generated_sentences(rnd, 20_000)
    lines: list[bytes] = []
    while len(lines) < n_lines:
        src = real if rnd.random() < 0.6 else gen
        j = rnd.randrange(len(src))
        group = [src[j]]
        # keep a multi-sentence message together
        try:
            cnt, num = int(src[j].split(",")[1]), int(src[j].split(",")[2])
        except (ValueError, IndexError):
            cnt, num = 1, 1
        if num == 1 and cnt > 1:
            group = src[j:j + cnt]
        c = T0 + rnd.randrange(SPAN_S)
        station = rnd.choice(["s1", "s2", "rFUZZ"])
        for s in group:
            line = (tag_block(c, station) + s).encode() if rnd.random() < 0.9 else s.encode()
            r = rnd.random()
            if r < 0.45:
                line = mutate(line, rnd, rnd.choice(lines[-50:] or [line]))
            elif r < 0.46:
                line = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 200))).replace(b"\n", b"")
            elif r < 0.4605:
                line = line * rnd.randint(200, 2000)  # an overlong line
            lines.append(line)
    return lines[:n_lines]


# ---------------------------------------------------------------- the independent oracle
def _oracle_tag(body: bytes) -> tuple[int | None, bytes | None]:
    """(``c:``, ``s:``) of a tag block whose own checksum holds (read here, not by corridor)."""
    star = body.rfind(b"*")
    if star < 0 or len(body) not in (star + 2, star + 3):  # it ends with its checksum
        return None, None
    try:
        if int(body[star + 1:star + 3], 16) != nmea_checksum(body[:star]):
            return None, None
    except ValueError:
        return None, None
    c = station = None
    for field in body[:star].split(b","):
        if field.startswith(b"s:"):
            station = field[2:]
        if field.startswith(b"c:"):
            try:
                v = float(field[2:])
            except ValueError:
                continue
            if math.isfinite(v):
                c = int(v / 1000) if v > 1e11 else int(v)
    return c, station


def oracle(lines: list[bytes], assume: int) -> dict[tuple, list[int]]:
    """(mmsi, type, lat, lon) -> receive times, for every position the input holds by an
    independent decode: pyais ``decode`` with checksum checking, of each single sentence and
    of each multi-sentence message whose fragments follow one another in order (same
    station, talker, sentence, channel, sequence id and count; the first timed fragment's
    time)."""
    out: dict[tuple, list[int]] = {}
    pending: dict[tuple, tuple[int, list[bytes]]] = {}
    for raw in lines:
        line = raw.strip()
        ts = station = None
        if line.startswith(b"\\"):
            end = line.find(b"\\", 1)
            if end < 0:
                continue
            ts, station = _oracle_tag(line[1:end])
            line = line[end + 1:]
        i = line.find(b"!")
        if i < 0:
            continue
        star = line.find(b"*", i)
        if star < 0:
            continue
        sentence = line[i:star + 3]
        f = sentence.split(b",")
        if len(f) < 7:
            continue
        try:  # only a sentence whose checksum holds can start, continue or end a message
            if int(sentence[-2:], 16) != nmea_checksum(sentence[1:-3]):
                continue
        except ValueError:
            continue
        try:
            cnt, num = int(f[1]), int(f[2])
        except ValueError:
            continue
        if cnt == 1:
            group, first_ts = [sentence], ts
        else:
            key = (station, f[0][1:3], f[0][3:], f[4], f[3], cnt)
            if num == 1:
                pending[key] = (ts, [sentence])
                continue
            if key not in pending or len(pending[key][1]) != num - 1:
                continue
            pending[key][1].append(sentence)
            if pending[key][0] is None:  # the first timed fragment gives the time
                pending[key] = (ts, pending[key][1])
            if num < cnt:
                continue
            first_ts, group = pending.pop(key)
        rt = first_ts if first_ts is not None else assume
        try:
            msg = decode(*group, error_if_checksum_invalid=True)
        except Exception:  # noqa: BLE001 - anything pyais refuses is not a position
            continue
        if msg.msg_type not in POSITION_TYPES or msg.lat is None or msg.lon is None:
            continue
        key = (msg.mmsi, msg.msg_type, round(float(msg.lat), 5), round(float(msg.lon), 5))
        out.setdefault(key, []).append(rt)
    return out


def hostile_files(d: Path, sample: bytes) -> dict[str, Path]:
    files = {}
    gz = gzip.compress(sample * 20)
    mid = len(gz) // 2
    files["gzip corrupted mid-file"] = d / "corrupt.nmea.gz"
    flipped = bytes(b ^ 0x5A for b in gz[mid:mid + 64])
    files["gzip corrupted mid-file"].write_bytes(gz[:mid] + flipped + gz[mid + 64:])
    files["gzip truncated"] = d / "truncated.nmea.gz"
    files["gzip truncated"].write_bytes(gz[: len(gz) * 2 // 3])
    files["binary"] = d / "binary.nmea"
    files["binary"].write_bytes(bytes(random.Random(1).randrange(256) for _ in range(200_000)))
    files["empty"] = d / "empty.nmea"
    files["empty"].write_bytes(b"")
    files["UTF-16 text"] = d / "utf16.nmea"
    files["UTF-16 text"].write_bytes(sample[:20_000].decode("latin-1").encode("utf-16"))
    files["one 20 MB line"] = d / "oneline.nmea"
    files["one 20 MB line"].write_bytes(sample.replace(b"\n", b" ") * (20_000_000 // len(sample) + 1))
    files["gzip bomb (1 GB of line breaks)"] = d / "bomb.nmea.gz"
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(files["gzip bomb (1 GB of line breaks)"], "wb") as fh:
        block = b"\n" * (1 << 20)
        for _ in range(1024):
            fh.write(comp.compress(block))
        fh.write(comp.flush())
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--seed", type=int, default=20261203)
    ap.add_argument("--data", type=Path, default=REPO / "tests" / "data", help="folder holding ais-nmea/")
    ap.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = ap.parse_args()
    t_start = time.perf_counter()
    lines = build_lines(args.data, args.lines, args.seed)
    t_built = time.perf_counter()
    assume = T0
    truth = oracle(lines, assume)
    t_oracle = time.perf_counter()
    crashes: list[str] = []
    skips: Counter = Counter()
    statuses: Counter = Counter()
    hostile: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="corridor-fuzz-") as tmp:
        d = Path(tmp)
        per = (len(lines) + args.files - 1) // args.files
        paths = []
        for k in range(args.files):
            body = b"\n".join(lines[k * per:(k + 1) * per]) + b"\n"
            p = d / f"fuzz-{k:02d}.nmea"
            if k % 5 == 4:
                p = p.with_suffix(".nmea.gz")
                p.write_bytes(gzip.compress(body, 1))
            else:
                p.write_bytes(body)
            paths.append(p)
        opts = NmeaOptions(assume_time=datetime.fromtimestamp(assume, timezone.utc).replace(tzinfo=None),
                           workers=1, future_tolerance_s=10 * 365 * 86_400)
        t_ingest = time.perf_counter()
        with Store.open(d / "fuzz.duckdb") as store:
            found, got, skipped = ingest_all(paths, lambda p: ingest_nmea_file(store, p, opts))
            crashes += found
            statuses.update(got)
            skips.update(skipped)
            t_ingested = time.perf_counter()
            stored = store.con.execute(
                "SELECT mmsi, msg_type, lat, lon, epoch(ts) FROM positions").fetchall()
            bad_static = store.con.execute(
                "SELECT count(*) FROM vessel_reports WHERE mmsi NOT BETWEEN 100000000 AND 999999999"
            ).fetchone()[0]
            n_static = store.count("vessel_reports")
            sample = b"\n".join(lines[:2000]) + b"\n"
            for what, p in hostile_files(d, sample).items():
                try:
                    s = ingest_nmea_file(store, p, opts)
                    one_line = s.message is None or "\n" not in s.message
                    said = s.message or ", ".join(f"{n} {r}" for r, n in s.skipped.items())
                    hostile[what] = f"{s.status}: {said}"
                    if not one_line:
                        crashes.append(f"{what}: message of several lines")
                except Exception as exc:  # noqa: BLE001
                    crashes.append(f"{what}: {type(exc).__name__}: {exc}")
                    hostile[what] = f"CRASH {type(exc).__name__}"
    wrong = []
    for mmsi, mtype, lat, lon, ts in stored:
        key = (mmsi, mtype, round(lat, 5), round(lon, 5))
        times = truth.get(key)
        ok = (100_000_000 <= mmsi <= 999_999_999 and -90 <= lat <= 90 and -180 <= lon <= 180
              and times is not None and any(t - 55 <= ts <= t + 5 for t in times))
        if not ok:
            wrong.append((mmsi, mtype, lat, lon, ts, times[:3] if times else None))
    figures = {
        "cpu": cpu_model(), "lines": len(lines), "files": args.files,
        "positions_stored": len(stored), "static_reports_stored": n_static,
        "crashes": len(crashes), "crash_examples": crashes[:10],
        "wrongly_stored_positions": len(wrong), "wrong_examples": [list(map(str, w)) for w in wrong[:10]],
        "wrongly_stored_static_reports": int(bad_static),
        "skips": dict(skips.most_common()), "file_statuses": dict(statuses), "hostile_files": hostile,
        "seconds": {"build": round(t_built - t_start, 1), "oracle": round(t_oracle - t_built, 1),
                    "ingest": round(t_ingested - t_ingest, 1),
                    "lines_per_s": round(len(lines) / (t_ingested - t_ingest))},
    }
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    sys.exit(1 if crashes or wrong or bad_static else 0)


if __name__ == "__main__":
    main()
