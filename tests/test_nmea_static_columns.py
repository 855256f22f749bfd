"""Static reports built as Arrow columns (types 5, 19, 24 A/B) give the rows, content hashes
and ``obs_id`` values the report-at-a-time code gave: that code (corridor before the
columnar rows, one dict per report) is kept here as the reference and run beside the parser
on every real capture, chunked two ways, timed and untimed."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from test_nmea_bulk_fragments import _broken_fragments, _real_messages
from test_nmea_bulk_framing import _captures

from corridor.ids import combine_u64
from corridor.ingest import nmea
from corridor.ingest.nmea import NmeaOptions, parse_nmea
from corridor.ingest.nmea_time import nmea_checksum
from corridor.ingest.summary import IngestSummary
from corridor.schema import VESSEL_REPORTS

_FIELDS = ("imo", "name", "callsign", "ship_type", "length_m", "beam_m", "draught_m",
           "destination")
_SOURCE = ("mmsi", "partno", "imo", "shipname", "callsign", "ship_type", "to_bow",
           "to_stern", "to_port", "to_starboard", "draught", "destination")


# ---------------------------------------------------------------- the reference: one dict per report
def _nz(v):
    return None if v is None or v == 0 else v


def _text(v):
    if v is None:
        return None
    v = str(v).replace("@", " ").strip()
    return v or None


def _content_hash(rec: dict) -> int:
    blob = repr(tuple(rec[k] for k in _FIELDS)).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(blob, digest_size=8).digest(), "little", signed=True)


def _static(msg: dict, mtype: int, line_no: int, ts: int | None) -> dict:
    part = (msg["partno"] or 0) if mtype == 24 else 0
    dims = [msg[k] for k in ("to_bow", "to_stern", "to_port", "to_starboard")]
    length = dims[0] + dims[1] if None not in dims[:2] else None
    beam = dims[2] + dims[3] if None not in dims[2:] else None
    rec = {
        "line": line_no, "mmsi": msg["mmsi"], "ts": ts, "msg_type": mtype, "part": part,
        "imo": _nz(msg["imo"]), "name": _text(msg["shipname"]),
        "callsign": _text(msg["callsign"]), "ship_type": _nz(msg["ship_type"]),
        "length_m": _nz(length), "beam_m": _nz(beam), "draught_m": _nz(msg["draught"]),
        "destination": _text(msg["destination"]),
    }
    if mtype == 24 and part == 0:
        for k in ("callsign", "ship_type", "length_m", "beam_m"):
            rec[k] = None
    rec["hash"] = _content_hash(rec)
    return rec


class _Merger:
    def __init__(self, window_us: int):
        self.window_us = window_us
        self.waiting: dict = {}

    def add(self, rec: dict) -> list[dict]:
        if rec["msg_type"] != 24:
            return [dict(rec, h1=rec["hash"], h2=0)]
        done = []
        prev = self.waiting.pop(rec["mmsi"], None)
        if prev is not None:
            near = (prev["ts"] is None and rec["ts"] is None) or (
                prev["ts"] is not None and rec["ts"] is not None
                and abs(rec["ts"] - prev["ts"]) <= self.window_us)
            if near and prev["part"] != rec["part"]:
                a, b = (prev, rec) if prev["part"] == 0 else (rec, prev)
                merged = dict(b, name=a["name"], h1=a["hash"], h2=b["hash"])
                times = [t for t in (a["ts"], b["ts"]) if t is not None]
                merged["ts"] = min(times) if times else None
                return [merged]
            done.append(self._alone(prev))
        self.waiting[rec["mmsi"]] = rec
        return done

    def flush(self) -> list[dict]:
        rows = [self._alone(r) for r in self.waiting.values()]
        self.waiting.clear()
        return rows

    @staticmethod
    def _alone(rec: dict) -> dict:
        return dict(rec, h1=rec["hash"] if rec["part"] == 0 else 0,
                    h2=rec["hash"] if rec["part"] == 1 else 0)


def _table(rows: list[dict], source: str) -> pa.Table:
    if not rows:
        return VESSEL_REPORTS.empty_table()
    mmsi = np.array([r["mmsi"] for r in rows], dtype=np.int64)
    ts = [r["ts"] for r in rows]
    bucket = np.array([-1 if t is None else t // 60_000_000 for t in ts], dtype=np.int64)
    mtype = np.array([r["msg_type"] for r in rows], dtype=np.int64)
    h1 = np.array([r["h1"] for r in rows], dtype=np.int64)
    h2 = np.array([r["h2"] for r in rows], dtype=np.int64)
    obs = combine_u64(mmsi, mtype, bucket, h1, h2)
    cols = {"obs_id": pa.array(obs), "mmsi": pa.array(mmsi),
            "ts": pa.array(ts, pa.int64()).cast(pa.timestamp("us")),
            "msg_type": pa.array(mtype, pa.int8())}
    for name in _FIELDS:
        cols[name] = pa.array([r[name] for r in rows], VESSEL_REPORTS.field(name).type)
    cols["source"] = pa.array([source] * len(rows), pa.string())
    table = pa.table(cols, schema=VESSEL_REPORTS)
    _, first = np.unique(obs, return_index=True)
    return table.take(pa.array(np.sort(first)))


# ---------------------------------------------------------------- the comparison
def _compare(path: Path, monkeypatch, **kw) -> tuple[int, int]:
    """Parse ``path``, checking every static row block against the reference; returns
    (static reports built, vessel_reports rows) for the caller to require some."""
    built = [0]
    new_rows = nmea.static_rows

    def static_rows(dec, rows, mtype, line_nos, ts, has_ts):
        got = new_rows(dec, rows, mtype, line_nos, ts, has_ts)
        values = {k: dec.column_list(k, rows) for k in _SOURCE}
        want = [_static({k: v[j] for k, v in values.items()}, int(mtype[i]), int(line_nos[i]),
                        int(ts[i]) if has_ts[i] else None)
                for j, i in enumerate(rows.tolist())]
        assert got.to_pylist() == want
        built[0] += len(want)
        return got

    monkeypatch.setattr(nmea, "static_rows", static_rows)
    ref: dict = {}
    new_add, new_flush = nmea.Type24Merger.add, nmea.Type24Merger.flush
    new_table = nmea.statics_table

    def add(self, rows):
        em = new_add(self, rows)
        old = ref.setdefault(id(self), _Merger(self.window_us))
        ref[id(em)] = [out for rec in rows.to_pylist() for out in old.add(rec)]
        return em

    def flush(self):
        em = new_flush(self)
        ref[id(em)] = ref.setdefault(id(self), _Merger(self.window_us)).flush()
        return em

    stored = [0]

    def statics_table(em, source):
        table, dups = new_table(em, source)
        want = _table(ref.pop(id(em)), source)
        assert table.to_pylist() == want.to_pylist()
        stored[0] += table.num_rows
        return table, dups

    monkeypatch.setattr(nmea.Type24Merger, "add", add)
    monkeypatch.setattr(nmea.Type24Merger, "flush", flush)
    monkeypatch.setattr(nmea, "statics_table", statics_table)
    summary = IngestSummary(str(path), "nmea")
    for _ in parse_nmea(path, summary, NmeaOptions(workers=1, **kw)):
        pass
    monkeypatch.undo()
    return built[0], stored[0]


@pytest.mark.parametrize("chunk_lines", [50_000, 31])
def test_static_rows_and_ids_are_those_of_the_report_at_a_time_code(
        data_dir, monkeypatch, chunk_lines):
    built = stored = 0
    for path in _captures(data_dir):
        for assume in (None, datetime(2020, 1, 1, 12)):
            b, s = _compare(path, monkeypatch, chunk_lines=chunk_lines, assume_time=assume)
            built, stored = built + b, stored + s
    assert built > 500
    assert stored > 300


def test_static_rows_of_broken_and_repeated_fragments_keep_their_ids(
        tmp_path, data_dir, monkeypatch):
    msgs = _real_messages(data_dir)
    singles = [ln for p in _captures(data_dir) for ln in p.read_bytes().splitlines()
               if ln.startswith(b"!AIVDM,1,1,")]
    path = tmp_path / "fragments.nmea"
    path.write_bytes(b"\n".join(_broken_fragments(msgs * 3, singles, random.Random(5))) + b"\n")
    built, stored = _compare(path, monkeypatch, chunk_lines=97)
    assert built > 300
    assert stored > 100


def _encoded(fields: dict, t: int | None) -> list[bytes]:
    from pyais.encode import encode_dict

    out = []
    for s in encode_dict(fields, talker_id="AI"):
        line = s.encode()
        tag = b"c:%d" % t if t is not None else b""
        out.append(line if t is None else b"\\" + tag + b"*%02X\\" % nmea_checksum(tag) + line)
    return out


def test_reports_differing_in_one_field_or_time_keep_the_reference_ids(
        tmp_path, monkeypatch):
    """Made reports that differ only in draught, in a quote or backslash of the name, or in
    the time between type 24 parts (inside and outside the merge window, untimed, repeated
    parts, part B first), against the reference."""
    t0 = 1_600_000_000
    lines: list[bytes] = []
    base5 = {"msg_type": 5, "mmsi": 211000001, "imo": 9000001, "callsign": "AB@12",
             "shipname": "NORTH STAR", "ship_type": 70, "to_bow": 100, "to_stern": 20,
             "to_port": 10, "to_starboard": 8, "draught": 5.4, "destination": "ROTTERDAM"}
    for k, change in enumerate([{}, {"draught": 5.5}, {"draught": 0}, {"shipname": "O'NEIL"},
                                {"shipname": 'SAY "HI"'}, {"shipname": "A\\B"},
                                {"shipname": "IT'S \"X\""}, {"imo": 0, "to_bow": 0},
                                {"draught": 25.5}, {"draught": 0.1}]):
        lines += _encoded(dict(base5, **change), t0 + k)
        lines += _encoded(dict(base5, **change), t0 + k + 1)  # the same report again
    a = {"msg_type": 24, "mmsi": 211000002, "partno": 0, "shipname": "SMALL ONE"}
    b = {"msg_type": 24, "mmsi": 211000002, "partno": 1, "ship_type": 37, "callsign": "XY1",
         "to_bow": 5, "to_stern": 3, "to_port": 1, "to_starboard": 1}
    t = t0 + 1000
    for gap in (30, 599, 600, 601, 5000):
        lines += _encoded(a, t) + _encoded(b, t + gap)
        t += gap + 10_000
    lines += _encoded(b, t) + _encoded(a, t + 10)  # part B first
    lines += _encoded(a, t + 20_000) + _encoded(a, t + 20_010) + _encoded(b, t + 20_020)
    lines += _encoded(a, None) + _encoded(b, None) + _encoded(a, None) + _encoded(b, t + 30_000)
    lines += _encoded(dict(a, mmsi=211000003), t + 40_000)  # waits until the end
    path = tmp_path / "made.nmea"
    path.write_bytes(b"\n".join(lines) + b"\n")
    for chunk_lines in (50_000, 3):
        built, stored = _compare(path, monkeypatch, chunk_lines=chunk_lines,
                                 type24_merge_window_s=600.0)
        assert built == 40
        assert stored > 20
