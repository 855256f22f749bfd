"""Property-based tests (Hypothesis) of NMEA framing: lines, tag blocks, multipart assembly.

Each property holds for any input: the scanner never raises, everything it keeps is a
position a valid sentence says, and everything it drops is counted under a reason.
``max_examples`` is bounded so the file runs in seconds; bench/fuzz_nmea.py throws
millions of lines at the whole ingest.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyais import encode_dict
from pyais.messages import TagBlock

from corridor.ingest.mmsi import MMSI_MAX, MMSI_MIN
from corridor.ingest.nmea import MAX_LINE_BYTES, _Ctx, scan_chunk
from corridor.ingest.nmea_time import nmea_checksum, parse_tag_block, tag_block_info

CTX = _Ctx(source="fuzz", assume_us=1_694_044_800_000_000, max_ts_us=4_000_000_000_000_000,
           fragment_max_lines=1000)
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_SEED_LINES = [encode_dict(f, talker_id="AI") for f in (
    {"type": 1, "mmsi": 273000001, "lat": 42.3, "lon": 130.4, "speed": 10.5, "second": 7},
    {"type": 18, "mmsi": 366000002, "lat": -33.9, "lon": 18.4, "second": 30},
    {"type": 27, "mmsi": 412000003, "lat": 10.0, "lon": 100.0},
    {"type": 5, "mmsi": 273000004, "shipname": "FUZZ ONE", "callsign": "UBCD", "destination": "NOWHERE"},
    {"type": 24, "mmsi": 273000005, "partno": 0, "shipname": "FUZZ TWO"},
    {"type": 4, "mmsi": 2731000},
)]
VALID = [line for msg in _SEED_LINES for line in msg]


def _mutate(line: bytes, rnd: random.Random, n: int) -> bytes:
    b = bytearray(line)
    for _ in range(n):
        op = rnd.randrange(4)
        i = rnd.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(i, len(b) - 1)] = rnd.randrange(256)
        elif op == 1:
            b.insert(i, rnd.choice(b",*!$\\\r\x00\xff0123456789ABC"))
        elif op == 2 and b:
            del b[min(i, len(b) - 1)]
        else:
            b[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 8)))
    return bytes(b)


def _check(res, n_lines: int) -> None:
    t = res.positions
    mmsi = t.column("mmsi").to_pylist()
    assert all(MMSI_MIN <= m <= MMSI_MAX for m in mmsi)
    assert all(-90 <= v <= 90 for v in t.column("lat").to_pylist())
    assert all(-180 <= v <= 180 for v in t.column("lon").to_pylist())
    for rec in res.statics:
        assert MMSI_MIN <= rec["mmsi"] <= MMSI_MAX
    # every input line is a position, a static, a skip (counted), a fragment or blank/comment
    assert res.rows_in <= n_lines


@FAST
@given(st.lists(st.binary(max_size=120), max_size=30))
@example([b"\x00line too long\x00", b"\\", b"!AIVDM,1,1,,A,,0*00", b"!AIVDM,9,9,1,A,1,0*00"])
def test_scanner_survives_arbitrary_bytes(lines):
    res = scan_chunk(lines, 1, CTX)
    _check(res, len(lines))


@FAST
@given(st.lists(st.tuples(st.sampled_from(VALID), st.integers(0, 6), st.integers(0, 2**32)),
                min_size=1, max_size=25))
def test_scanner_survives_mutated_real_lines(picks):
    lines = [(_mutate(line.encode(), random.Random(seed), n) if n else line.encode())
             for line, n, seed in picks]
    res = scan_chunk(lines, 1, CTX)
    _check(res, len(lines))
    unmutated_single = [line for line, n, _ in picks if n == 0 and line.split(",")[1] == "1"]
    if len(unmutated_single) == len(picks):  # nothing mutated: every position line is kept
        assert res.skips.keys() <= {"other_type"}


@FAST
@given(st.integers(MMSI_MIN, MMSI_MAX), st.floats(-90, 90), st.floats(-180, 180),
       st.integers(0, 59), st.integers(946_684_800, 3_000_000_000), st.sampled_from(["s1", "rX-9", None]))
def test_a_valid_sentence_in_a_tag_block_is_stored_exactly(mmsi, lat, lon, second, c, station):
    sentence = encode_dict({"type": 1, "mmsi": mmsi, "lat": lat, "lon": lon, "second": second},
                           talker_id="AI")[0]
    tag = TagBlock.create_str(source_station=station, receiver_timestamp=c)
    res = scan_chunk([f"\\{tag}\\{sentence}".encode()], 1, CTX)
    assert res.positions.num_rows == 1, res.skips
    row = res.positions.to_pylist()[0]
    assert row["mmsi"] == mmsi and abs(row["lat"] - lat) < 1e-4 and abs(row["lon"] - lon) < 1e-4
    ts_s = row["ts"].timestamp() if row["ts"].tzinfo else (row["ts"] - __import__("datetime").datetime(
        1970, 1, 1)).total_seconds()
    assert c - 55 <= ts_s <= c + 5 and int(ts_s) % 60 == second


@FAST
@given(st.binary(max_size=80))
def test_tag_block_parser_never_raises(raw):
    info = tag_block_info(raw)
    assert info.valid or (info.ts_us is None and info.group is None)


@FAST
@given(st.text(st.characters(codec="ascii", exclude_characters="\\*"), max_size=60))
def test_tag_block_checksum_decides_validity(body):
    raw = body.encode()
    good = raw + b"*" + f"{nmea_checksum(raw):02X}".encode()
    bad = raw + b"*" + f"{nmea_checksum(raw) ^ 0x5A:02X}".encode()
    assert not parse_tag_block(bad).valid
    info = parse_tag_block(good)
    if not info.valid:
        return  # pyais refused its fields (e.g. a group that is not n-m-id): nothing trusted
    assert info.ts_us is None or isinstance(info.ts_us, int)


_MULTI = encode_dict({"type": 5, "mmsi": 273000009, "shipname": "ASSEMBLED", "callsign": "ABCD",
                      "destination": "SOMEWHERE FAR"}, talker_id="AI", seq_id=3)


@FAST
@given(st.permutations(range(2)), st.lists(st.sampled_from(VALID[:3]), max_size=5), st.booleans())
def test_multipart_is_assembled_once_or_counted(order, noise, drop_one):
    frags = [_MULTI[i] for i in order]
    if drop_one:
        frags = frags[:1]
    lines = [line.encode() for line in noise + frags]
    res = scan_chunk(lines, 1, CTX)
    names = [r["name"] for r in res.statics]
    in_order = list(order) == [0, 1] and not drop_one
    if in_order:
        assert names == ["ASSEMBLED"]
    else:
        assert names == []
        assert res.loose or res.open or "orphan_fragment" in res.skips


@FAST
@given(st.integers(MAX_LINE_BYTES + 1, MAX_LINE_BYTES * 3), st.integers(0, 2))
def test_overlong_lines_never_reach_the_decoder(length, where):
    from corridor.ingest.nmea import bounded_lines

    long = (VALID[0] * (length // len(VALID[0]) + 1))[:length].encode()
    text = b"\n".join([VALID[0].encode()] * where + [long] + [VALID[1].encode()]) + b"\n"
    lines = list(bounded_lines([text[i:i + 4096] for i in range(0, len(text), 4096)]))
    res = scan_chunk(lines, 1, CTX)
    assert res.skips["line_too_long"][0] == 1
    assert res.positions.num_rows == (1 if where else 0) + 1
