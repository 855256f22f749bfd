"""The vectorised AIS decoder gives exactly pyais's field values (pyais is the oracle)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyais.encode import encode_dict
from pyais.messages import AISSentence

from corridor.ingest.nmea_time import nmea_checksum
from corridor.ingest.nmea_vector import FIELDS, VECTOR_TYPES, decode_payloads, frame_lines

_SENTENCE = re.compile(rb"![A-Z]{2}VD[MO],[^*\\]*\*[0-9A-Fa-f]{2}")


def _messages(path: Path) -> list[list[bytes]]:
    """Every AIS message of a capture as its sentences, framed plainly: the sentence is cut
    out of whatever surrounds it (tag block, timestamps, trailers); fragments are joined in
    order by (fragment count, sequence id, channel)."""
    out, pending = [], {}
    for line in path.read_bytes().splitlines():
        m = _SENTENCE.search(line)
        if not m:
            continue
        s = m.group(0)
        f = s.split(b",")
        if len(f) < 7 or not (f[1].isdigit() and f[2].isdigit()):
            continue
        cnt, num = int(f[1]), int(f[2])
        if cnt == 1:
            out.append([s])
            continue
        key = (cnt, f[3], f[4])
        if num == 1:
            pending[key] = [s]
        elif key in pending and len(pending[key]) == num - 1:
            pending[key].append(s)
            if num == cnt:
                out.append(pending.pop(key))
    return out


def _pyais(sentences: list[bytes]):
    """(payload, fill bits, decoded message or the exception pyais raised)."""
    parts = [AISSentence(s) for s in sentences]
    whole = parts[0] if len(parts) == 1 else AISSentence.assemble_from_iterable(parts)
    payload = b"".join(p.payload for p in parts)
    try:
        return payload, parts[-1].fill_bits, whole.decode()
    except Exception as exc:  # noqa: BLE001 - whatever pyais raises, the decoder must not decode
        return payload, parts[-1].fill_bits, exc


def _as_plain(v):
    """pyais's enums as the int/float corridor stores."""
    if v is None or isinstance(v, str):
        return v
    return float(v) if isinstance(v, float) else int(v)


def _check_identical(decoded: list) -> int:
    """Assert the vector decoder agrees with pyais on every field of every message; returns
    the number of messages it decoded itself."""
    payloads = [p for p, _, _ in decoded]
    res = decode_payloads(payloads, [f for _, f, _ in decoded])
    done = 0
    for i, (payload, _fill, msg) in enumerate(decoded):
        if isinstance(msg, Exception) or msg.msg_type not in VECTOR_TYPES:
            assert not res.supported[i], (payload, msg)
            continue
        valid_chars = re.fullmatch(rb"[0-W`-w]+", payload) is not None
        assert res.supported[i] == valid_chars, payload
        if not valid_chars:
            continue
        done += 1
        assert res.msg_type[i] == msg.msg_type
        for name in FIELDS:
            want = _as_plain(getattr(msg, name, None))
            got = res.value(name, i)
            assert got == want and type(got) is type(want), (payload, name, got, want)
    return done


def test_every_field_of_every_real_capture_is_pyais(data_dir):
    files = sorted(p for p in (data_dir / "ais-nmea").rglob("*") if p.is_file())
    assert len(files) >= 10
    decoded = [_pyais(s) for p in files for s in _messages(p)]
    assert len(decoded) > 8000
    done = _check_identical(decoded)
    types = {m.msg_type for _, _, m in decoded if not isinstance(m, Exception)}
    assert VECTOR_TYPES <= types  # every decoded type occurs in the real captures
    assert done > 5000


def test_the_fields_are_the_ones_pyais_names():
    from pyais import messages as m

    classes = (m.MessageType1, m.MessageType5, m.MessageType19, m.MessageType24PartA,
               m.MessageType24PartB, m.MessageType27)
    assert set(FIELDS) == {f.name for c in classes for f in c.fields()} & set(FIELDS)
    assert len(FIELDS) == 20


def test_other_types_and_bad_characters_are_left_to_pyais():
    res = decode_payloads([b"402R3Wiuef:dO0tgkNOgc?A00HBd", b"13A><b0P010qaGPOo2Gcl?w208C?",
                           b"13A><b0P0X0qaGPOo2Gcl?w208C?", b"J"], [0, 0, 0, 0])
    assert res.supported.tolist() == [False, True, False, False]
    assert res.value("mmsi", 1) == AISSentence(
        b"!AIVDM,1,1,,B,13A><b0P010qaGPOo2Gcl?w208C?,0*04").decode().mmsi


# ---------------------------------------------------------------- random payloads
_U = lambda bits: st.integers(0, (1 << bits) - 1)  # noqa: E731
_text = st.text(alphabet="@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?",
                max_size=20)
_POSITION = {"mmsi": _U(30), "speed": _U(10), "lon": st.integers(-(1 << 27), (1 << 27) - 1),
             "lat": st.integers(-(1 << 26), (1 << 26) - 1), "course": _U(12),
             "heading": _U(9), "second": _U(6)}


def _scaled(d: dict) -> dict:
    """Raw integers to the units encode_dict takes."""
    out = dict(d)
    for k in ("lat", "lon"):
        if k in out:
            out[k] = out[k] / 600000.0
    for k in ("speed", "course", "draught"):
        if k in out:
            out[k] = out[k] / 10.0
    return out


def _some_auxiliary(d: dict) -> dict:
    """A quarter of type 24 part B from auxiliary craft (MMSI 98XXXYYYY: other layout)."""
    return d if d["mmsi"] % 4 else dict(d, mmsi=980_000_000 + d["mmsi"] % 9_999_999)


_MESSAGES = st.one_of(
    st.fixed_dictionaries({"msg_type": st.sampled_from([1, 2, 3]), "status": _U(4),
                           "turn": st.integers(-128, 127), **_POSITION}),
    st.fixed_dictionaries({"msg_type": st.just(18), **_POSITION}),
    st.fixed_dictionaries({"msg_type": st.just(19), **_POSITION, "shipname": _text,
                           "ship_type": _U(8), "to_bow": _U(9), "to_stern": _U(9),
                           "to_port": _U(6), "to_starboard": _U(6)}),
    st.fixed_dictionaries({"msg_type": st.just(27), "mmsi": _U(30), "status": _U(4),
                           "lon": st.integers(-(1 << 17), (1 << 17) - 1),
                           "lat": st.integers(-(1 << 16), (1 << 16) - 1),
                           "speed": _U(6), "course": _U(9)}),
    st.fixed_dictionaries({"msg_type": st.just(5), "mmsi": _U(30), "imo": _U(30),
                           "callsign": _text, "shipname": _text, "destination": _text,
                           "ship_type": _U(8), "to_bow": _U(9), "to_stern": _U(9),
                           "to_port": _U(6), "to_starboard": _U(6), "draught": _U(8)}),
    st.fixed_dictionaries({"msg_type": st.just(24), "mmsi": _U(30), "partno": st.just(0),
                           "shipname": _text}),
    st.fixed_dictionaries({"msg_type": st.just(24), "mmsi": _U(30), "partno": st.just(1),
                           "ship_type": _U(8), "callsign": _text, "to_bow": _U(9),
                           "to_stern": _U(9), "to_port": _U(6), "to_starboard": _U(6),
                           "mothership_mmsi": _U(30)}).map(_some_auxiliary),
)


def _encode(d: dict) -> list[bytes]:
    if d["msg_type"] == 27:
        d = dict(d, lat=d["lat"] / 600.0, lon=d["lon"] / 600.0)
    else:
        d = _scaled(d)
    if d["msg_type"] in (1, 2, 3):
        d["turn"] = float(d["turn"])  # encoded as given for |turn| >= 127, else via sqrt
    return [s.encode() for s in encode_dict(d, talker_id="AI", sentence_type="VDM")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_MESSAGES, min_size=1, max_size=12))
def test_random_messages_of_every_type_decode_as_pyais(msgs):
    decoded = [_pyais(_encode(d)) for d in msgs]
    assert _check_identical(decoded) == len(msgs)


@settings(max_examples=200, deadline=None)
@given(_MESSAGES, st.integers(0, 5), st.data())
def test_truncated_payloads_decode_as_pyais(msg, fill, data):
    """Payloads cut short anywhere (with any fill bits) read like pyais reads them."""
    payload, _, _ = _pyais(_encode(msg))
    cut = data.draw(st.integers(2, len(payload)))
    short = payload[:cut]
    sentence = b"!AIVDM,1,1,,A," + short + b",%d*00" % fill
    decoded = [_pyais([sentence])]
    assert len(decoded) == 1
    _check_identical(decoded)


@pytest.mark.parametrize("fill", [0, 2])
def test_rate_of_turn_keeps_its_sign(fill):
    rows = [_pyais(_encode({"msg_type": 1, "mmsi": 1, "turn": t, "status": 0, "speed": 0,
                            "lon": 0, "lat": 0, "course": 0, "heading": 0, "second": 0}))
            for t in (-127, -126, -1, 0, 1, 126, 127, -128)]
    res = decode_payloads([p for p, _, _ in rows], np.zeros(len(rows), int))
    turns = [res.value("turn", i) for i in range(len(rows))]
    assert turns == [float(m.turn) for _, _, m in rows]
    assert turns[0] < 0 < turns[-2] and turns[3] == 0.0


# ---------------------------------------------------------------- framing in bulk
def _frame_one(line: bytes):
    """The same framing written plainly for one line: (bang, star, checksum ok, commas)."""
    close = line.find(b"\\", 1)
    if line.startswith(b"!"):
        bang = 0
    elif line.startswith(b"\\") and close > 0 and line[close + 1:close + 2] == b"!":
        bang = close + 1
    else:
        return -1, -1, False, []
    star = line.find(b"*", bang)
    hexdigits = b"0123456789abcdefABCDEF"
    if star < 0 or len(line) < star + 3 or any(c not in hexdigits for c in line[star + 1:star + 3]):
        return -1, -1, False, []
    ok = nmea_checksum(line[bang + 1:star]) == int(line[star + 1:star + 3], 16)
    commas = [i for i in range(bang, star) if line[i] == 44]
    return bang, star, ok, commas


def _check_framing(chunk: bytes) -> int:
    fr = frame_lines(chunk)
    lines = chunk.split(b"\n")
    if chunk.endswith(b"\n"):
        lines = lines[:-1]
    assert len(fr.start) == len(lines)
    framed = 0
    for i, raw in enumerate(lines):
        line = raw[:-1] if raw.endswith(b"\r") else raw
        s = int(fr.start[i])
        assert chunk[s:int(fr.end[i])] == line
        bang, star, ok, commas = _frame_one(line)

        def rel(v, s=s):
            return -1 if v < 0 else int(v) - s

        assert (rel(fr.bang[i]), rel(fr.star[i])) == (bang, star), line
        assert bool(fr.checksum_ok[i]) == ok, line
        assert int(fr.n_commas[i]) == len(commas), line
        assert [rel(c) for c in fr.commas[i]] == (commas + [-1] * 6)[:6], line
        framed += bang >= 0
    return framed


def test_bulk_framing_finds_what_line_by_line_framing_finds(data_dir):
    files = sorted(p for p in (data_dir / "ais-nmea").rglob("*") if p.is_file())
    assert len(files) >= 10
    framed = sum(_check_framing(p.read_bytes()) for p in files)
    assert framed > 8000


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"!AIVDM,1,1,,A,15M67F,0*7", b"\\s:x*1\\!", b"\\c:1*", b"*", b"!",
                                 b"\\", b",", b"A", b"1F", b"\r", b"$GPGGA,1*", b"\n", b"*00",
                                 b"!AIVDM,1,1,,B,13A><b0P010qaGPOo2Gcl?w208C?,0*04"]),
                max_size=40).map(b"".join))
def test_bulk_framing_on_broken_lines(chunk):
    _check_framing(chunk)


# ---------------------------------------------------------------- through the ingest
def _mutated(line: bytes, i: int) -> bytes:
    """A real sentence made odd in one of several ways (checksum kept valid)."""
    body = line[1:line.index(b"*")]
    f = body.split(b",")
    kind = i % 6
    if kind == 1:  # truncated payload, with fill bits
        f[5] = f[5][: 1 + (7 * i) % max(len(f[5]) - 1, 1)]
        f[6] = b"%d" % (i % 6)
    elif kind == 2:
        f[5] = f[5][:7] + b"X" + f[5][8:]  # a character outside the 6-bit alphabet
    elif kind == 3:
        f.append(b"extra")  # an eighth field
    elif kind == 4:
        f[6] = b"%d" % (i % 6)  # other fill bits
    body = b",".join(f)
    return b"!" + body + b"*%02X" % nmea_checksum(body)


def test_odd_sentences_are_stored_as_pyais_reads_them(data_dir, tmp_path):
    from datetime import datetime

    from pyais import decode

    from corridor.ingest.nmea import NmeaOptions, parse_nmea
    from corridor.ingest.summary import IngestSummary

    src = (data_dir / "ais-nmea" / "pyais" / "nmea_data_sample.txt").read_bytes().splitlines()
    lines = [_mutated(ln, i) for i, ln in enumerate(x for x in src if x.startswith(b"!AIVDM,1,1"))]
    assert len(lines) > 500
    path = tmp_path / "odd.nmea"
    path.write_bytes(b"\n".join(lines) + b"\n")
    want = {}  # first reception of each (mmsi, type, lat, lon, fix time), as the store keeps
    for ln in lines:
        try:
            m = decode(ln)
        except Exception:  # noqa: BLE001 - pyais refuses it: corridor must not store it either
            continue
        if m.msg_type not in (1, 2, 3, 18, 19, 27) or m.lat is None or m.lon is None:
            continue
        if abs(m.lat) > 90 or abs(m.lon) > 180:
            continue
        sog = m.speed if m.speed is not None and m.speed < (63 if m.msg_type == 27 else 102.25) \
            else None
        cog = m.course if m.course is not None and m.course < 360 else None
        heading = getattr(m, "heading", None)
        heading = heading if heading is not None and heading <= 359 else None
        status = int(m.status) if m.msg_type in (1, 2, 3, 27) else None
        second = getattr(m, "second", None)
        fix_s = 0 if second is None or second > 59 else (second if second <= 5 else second - 60)
        want.setdefault((m.mmsi, m.msg_type, m.lat, m.lon, fix_s),
                        (None if sog is None else round(sog, 1),
                         None if cog is None else round(cog, 1), heading, status))
    summary = IngestSummary(str(path), "nmea")
    opts = NmeaOptions(assume_time=datetime(2024, 1, 1), workers=1)
    got = {}
    for name, table in parse_nmea(path, summary, opts):
        if name != "positions":
            continue
        for r in table.to_pylist():
            fix_s = round((r["ts"] - opts.assume_time).total_seconds())
            got[(r["mmsi"], r["msg_type"], r["lat"], r["lon"], fix_s)] = (
                None if r["sog"] is None else round(r["sog"], 1),
                None if r["cog"] is None else round(r["cog"], 1), r["heading"], r["nav_status"])
    assert len(want) > 300
    assert got == want
    assert summary.skipped.get("invalid_position", 0) > 0  # truncated before lat/lon
