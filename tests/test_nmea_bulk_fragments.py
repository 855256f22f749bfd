"""Multi-sentence messages assembled in bulk (numpy, part of ``NmeaOptions.bulk_framing``)
are stored exactly as the line loop's keyed assembly stores them, and their fields are
pyais's: same rows in the same order, same ids, same skip counts, example lines and details,
on every real capture and on files of real fragments broken in every way the loop judges
(orphans, restarts, out of sequence, far apart, many open at once, keys shared with lines
only the loop reads)."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from pyais.messages import AISSentence
from test_nmea_bulk_framing import _captures, _same_both_ways

from corridor.ingest import nmea
from corridor.ingest.nmea_time import nmea_checksum
from corridor.ingest.nmea_vector import FIELDS, decode_sixbit

ASSUMED = datetime(2020, 1, 1, 12, 0, 0)


def _sentence(body: bytes) -> bytes:
    return b"!" + body + b"*%02X" % nmea_checksum(body)


def _tag(body: bytes) -> bytes:
    return b"\\" + body + b"*%02X\\" % nmea_checksum(body)


def _as_plain(v):
    if v is None or isinstance(v, str):
        return v
    return float(v) if isinstance(v, float) else int(v)


def test_messages_assembled_in_bulk_decode_as_pyais_decodes_them(data_dir):
    """Every field of every message assembled in bulk from the real captures, against pyais
    decoding the same sentences."""
    checked = 0
    for path in _captures(data_dir):
        lines = path.read_bytes().split(b"\n")
        bk = nmea._bulk_lines(b"\n".join(lines), np.arange(1, len(lines) + 1), None)
        if bk is None:
            continue
        dec = decode_sixbit(*bk.sixbit(), bk.fill)
        for j in np.flatnonzero(bk.seg_n > 1).tolist():
            parts = bk.parts(j)
            sentences = [AISSentence(s) for s, _f in parts]
            msg = AISSentence.assemble_from_iterable(sentences).decode()
            assert int(dec.msg_type[j]) == int(msg.msg_type) == int(bk.mtype[j])
            if not dec.supported[j]:
                continue
            for name in FIELDS:
                want = _as_plain(getattr(msg, name, None)) if hasattr(msg, name) else None
                assert dec.value(name, j) == want, (path.name, parts, name)
            checked += 1
    assert checked > 200


def test_most_fragments_of_real_captures_are_assembled_in_bulk(data_dir):
    frags = taken = 0
    for path in _captures(data_dir):
        lines = path.read_bytes().split(b"\n")
        bk = nmea._bulk_lines(b"\n".join(lines), np.arange(1, len(lines) + 1), None)
        frags += sum(1 for ln in lines if b"VDM,2," in ln or b"VDM,3," in ln)
        taken += int(bk.seg_n[bk.seg_n > 1].sum()) if bk is not None else 0
    assert frags > 500
    assert taken > frags * 0.6


def _real_messages(data_dir: Path) -> list[list[bytes]]:
    """Real two-sentence messages (bare sentences, in order), from the captures."""
    out = []
    for path in _captures(data_dir):
        lines = [ln.strip() for ln in path.read_bytes().replace(b"\\r\\n", b"\n").splitlines()]
        for a, b in zip(lines, lines[1:], strict=False):
            if a.startswith(b"!") and b.startswith(b"!") and b",2,1," in a[:12] \
                    and b",2,2," in b[:12] and a.split(b",")[3] == b.split(b",")[3]:
                out.append([a.split(b"*")[0] + a[a.index(b"*"):a.index(b"*") + 3],
                            b.split(b"*")[0] + b[b.index(b"*"):b.index(b"*") + 3]])
    return out


def _rekey(msg: list[bytes], seq: int, chan: bytes = b"A", talker: bytes = b"AI") -> list[bytes]:
    out = []
    for s in msg:
        f = s[1:s.index(b"*")].split(b",")
        f[0], f[3], f[4] = talker + f[0][2:], str(seq).encode(), chan
        out.append(_sentence(b",".join(f)))
    return out


def _three(msg: list[bytes], seq: int) -> list[bytes]:
    """The payload of a two-sentence message cut into three sentences."""
    f1 = msg[0][1:msg[0].index(b"*")].split(b",")
    f2 = msg[1][1:msg[1].index(b"*")].split(b",")
    payload, fill = f1[5] + f2[5], f2[6]
    k = len(payload) // 3
    cuts = [payload[:k], payload[k:2 * k], payload[2 * k:]]
    return [_sentence(b"AIVDM,3,%d,%d,B,%s,%s" % (i + 1, seq, c, fill if i == 2 else b"0"))
            for i, c in enumerate(cuts)]


def _broken_fragments(msgs: list[list[bytes]], singles: list[bytes], rng: random.Random
                      ) -> list[bytes]:
    """Real messages and single lines, each message possibly broken or re-framed."""
    out: list[bytes] = []
    gid = 100
    for n, msg in enumerate(msgs):
        a, b = _rekey(msg, rng.randrange(10), rng.choice([b"A", b"B"]))
        k = rng.randrange(40)
        t = 1_600_000_000 + n
        if k == 0:
            out += [a]  # second never comes
        elif k == 1:
            out += [b]  # first never came
        elif k == 2:
            out += [b, a]  # out of order
        elif k == 3:
            out += [a, a, b]  # restarted
        elif k == 4:
            out += [a] + rng.sample(singles, 60) + [b]  # far apart (fragment_max_lines 50)
        elif k == 5:
            c, d = _rekey(msgs[(n + 1) % len(msgs)], 9, b"B", b"BS")
            out += [a, c, b, d]  # two keys interleaved
        elif k == 6:
            out += [a, b"2021-11-01T01:58:09Z " + b]  # second read only by the loop
        elif k == 7:
            out += [a, b + b" "]  # the same: a trailing blank
        elif k == 8:
            out += [a, b[:-1] + (b"0" if b[-1:] != b"0" else b"1")]  # bad checksum
        elif k == 9:
            out += _three(msg, rng.randrange(10))
        elif k == 10:
            body = b"g:1-2-%d,s:st%d,c:%d" % (gid, n % 3, t)
            out += [_tag(body) + a, _tag(b"g:2-2-%d" % gid) + b]
            gid += 1
        elif k == 11:
            out += [_tag(b"g:1-2-%d,c:%d" % (gid, t)) + a]  # a group never completed
            gid += 1
        elif k == 12:
            out += [_tag(b"s:st%d,c:%d" % (n % 2, t)) + a, _tag(b"s:st%d,c:%d" % (n % 2, t)) + b]
        elif k == 13:
            out += [b"$PGHP,1,2013,3,18,9,19,%d,499,219,,2190048,1,28*23" % (n % 60), a,
                    b"$PGHP,1,2013,3,18,9,20,%d,499,219,,2190048,1,28*23" % (n % 60), b]
        elif k == 14:
            out += [b"$PGHP,1,2013,3,18,9,19,9,499,219,,2190048,1,28*23", b"", a, b]
        elif k == 15:
            out += [a + b",b003669794,%d" % t, b + b",b003669794,%d" % (t + 1)]
        elif k == 16:
            out += [a + b"\\r\\n" + b]  # both on one line
        elif k == 17:
            many = [_rekey(msgs[(n + j) % len(msgs)], j % 10, b"AB"[j // 10 % 2:][:1],
                           b"A%c" % (65 + j // 20)) for j in range(70)]
            out += [m[0] for m in many] + [m[1] for m in many]  # 70 open at once
        elif k == 18:
            out += [a.replace(b",A,", b",AB,", 1), b]  # a two-character channel
        elif k == 19:
            f = a[1:a.index(b"*")].split(b",")
            out += [_sentence(b",".join(f[:5] + [b"8" + f[5][1:], f[6]])), b]  # type 8
        elif k == 20:
            f = a[1:a.index(b"*")].split(b",")
            out += [_sentence(b",".join(f[:5] + [b"w" + f[5][1:], f[6]])), b]  # type 63
        elif k == 21:
            f = a[1:a.index(b"*")].split(b",")
            out += [_sentence(b",".join(f[:6] + [b"7"])), b]  # fill bits 7
        elif k == 22:
            out += [a, b"# a comment", b]
        elif k == 23:
            out += [a, rng.choice(singles), b]
        else:
            out += [a, b]
        if rng.random() < 0.3:
            out.append(rng.choice(singles))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_broken_fragments_are_stored_the_same_with_and_without_bulk_framing(
        tmp_path, data_dir, seed, monkeypatch):
    msgs = _real_messages(data_dir)
    assert len(msgs) > 100
    singles = [ln for p in _captures(data_dir) for ln in p.read_bytes().splitlines()
               if ln.startswith(b"!AIVDM,1,1,")]
    assert len(singles) > 500
    rng = random.Random(seed)
    lines = _broken_fragments(msgs * 3, singles, rng)
    path = tmp_path / "fragments.nmea"
    path.write_bytes(b"\n".join(lines) + b"\n")
    rescans = []
    restore = nmea._Scanner._restore
    monkeypatch.setattr(nmea._Scanner, "_restore",
                        lambda self, snap: (rescans.append(1), restore(self, snap)))
    rows = 0
    for chunk_lines in (50_000, 97):
        for j, assume in enumerate((None, ASSUMED)):
            got = _same_both_ways(tmp_path, path, f"{chunk_lines}-{j}", assume_time=assume,
                                  chunk_lines=chunk_lines, fragment_max_lines=50)
            rows += len(got["vessel_reports"])
    assert rows > 500
    assert rescans  # lines only the loop reads, of keys assembled in bulk: read again
