"""Lines framed in bulk (numpy, ``NmeaOptions.bulk_framing``) are stored exactly as the line
loop stores them: same rows in the same order, same ids, same skip counts, example lines
and details, on every real capture and on a file of odd lines mixed into real ones."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from corridor.ingest import nmea
from corridor.ingest.nmea import NmeaOptions, ingest_nmea_file, parse_nmea
from corridor.ingest.nmea_time import nmea_checksum
from corridor.ingest.summary import IngestSummary
from corridor.store import Store

ASSUMED = datetime(2020, 1, 1, 12, 0, 0)


def _store_of(tmp: Path, path: Path, **kw):
    tmp.mkdir()
    store = Store.open(tmp / "s.duckdb")
    try:
        summary = ingest_nmea_file(store, path, NmeaOptions(workers=1, **kw))
        tables = {t: store.query(f"SELECT * FROM {t} ORDER BY rowid").to_pylist()
                  for t in ("positions", "vessel_reports")}
    finally:
        store.close()
    said = (summary.status, summary.rows_in, summary.stored, summary.offered,
            list(summary.skipped.items()), summary.examples, summary.details)
    return tables, said


def _parsed(path: Path, **kw):
    """What the parser hands the store (without one), batch by batch."""
    summary = IngestSummary(str(path), "nmea")
    tables: dict = {"positions": [], "vessel_reports": []}
    for name, table in parse_nmea(path, summary, NmeaOptions(workers=1, **kw)):
        tables[name] += table.to_pylist()
    said = (summary.rows_in, list(summary.skipped.items()), summary.examples, summary.details)
    return tables, said


def _same_both_ways(tmp_path: Path, path: Path, tag: str, **kw) -> dict:
    if kw.get("chunk_lines", 50_000) < 1000:  # many small chunks: the parser's output alone
        on, off = _parsed(path, bulk_framing=True, **kw), _parsed(path, bulk_framing=False, **kw)
    else:
        on = _store_of(tmp_path / f"{tag}-on", path, bulk_framing=True, **kw)
        off = _store_of(tmp_path / f"{tag}-off", path, bulk_framing=False, **kw)
    assert on[1] == off[1]
    for table in ("positions", "vessel_reports"):
        assert on[0][table] == off[0][table], table
    return on[0]


def _captures(data_dir: Path) -> list[Path]:
    files = sorted(p for p in (data_dir / "ais-nmea").rglob("*") if p.is_file())
    assert len(files) >= 15
    return files


@pytest.mark.parametrize("chunk_lines", [50_000, 31])
def test_every_real_capture_is_stored_the_same_with_and_without_bulk_framing(
        tmp_path, data_dir, chunk_lines):
    rows = 0
    for i, path in enumerate(_captures(data_dir)):
        for j, assume in enumerate((None, ASSUMED)):
            got = _same_both_ways(tmp_path, path, f"{i}-{j}", assume_time=assume,
                                  chunk_lines=chunk_lines)
            rows += len(got["positions"]) + len(got["vessel_reports"])
    assert rows > 2000


def test_real_captures_are_mostly_framed_in_bulk(data_dir):
    taken = total = 0
    for path in _captures(data_dir):
        lines = path.read_bytes().split(b"\n")
        bulk = nmea._bulk_lines(b"\n".join(lines), np.arange(1, len(lines) + 1), None)
        total += sum(1 for ln in lines if ln.strip() and not ln.startswith(b"#"))
        taken += bulk.n_lines if bulk is not None else 0
    assert total > 2000
    assert taken > total / 2


def _sentence(body: bytes) -> bytes:
    return b"!" + body + b"*%02X" % nmea_checksum(body)


def _odd_lines(real: list[bytes], rng: random.Random) -> list[bytes]:
    """Real single-sentence lines, each possibly turned into an edge case of the framing."""
    pos = b"AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0"
    out = []
    for line in real:
        k = rng.randrange(48)
        if k == 0:
            out += [b"$PGHP,1,2013,3,18,9,19,9,499,219,,2190048,1,28*23", b"", line]
        elif k == 1:
            out += [b"$PGHP,1,2013,13,45,9,19,9,499,219,,2190048,1,28*23", line]
        elif k == 2:
            out += [b"$PGHP,1,2013,3,18,9,19,9,499,219,,2190048,1,28*23", b"$GPGGA,1,2*00", line]
        elif k == 3:
            out.append(line + b" ")
        elif k == 4:
            out.append(b"  " + line)
        elif k == 5:
            out.append(line + b"\r")
        elif k == 6:
            out.append(b"\\s:r1,c:%d*00\\" % (1_500_000_000 + len(out)) + line)
        elif k == 7:
            body = b"s:r%d,c:%d" % (len(out), 1_600_000_000 + len(out))
            out.append(b"\\" + body + b"*%02X\\" % nmea_checksum(body) + line)
        elif k == 8:
            out.append(line + b",b003669794,%d" % (1_272_412_827 + len(out)))
        elif k == 9:
            out.append(line + b",x!y")
        elif k == 10:
            out.append(line.replace(b"!AIVDM", b"!aivdo", 1))
        elif k == 11:
            out.append(_sentence(pos.replace(b",,A", b",12,A")))
        elif k == 12:
            out.append(_sentence(pos.replace(b",15N", b",45N")))  # type 4
        elif k == 13:
            out.append(_sentence(pos.replace(b",15N", b",w5N")))  # type 63
        elif k == 14:
            out.append(b"$GPGGA,123519,4807.038,N*47")
        elif k == 15:
            out.append(_sentence(pos.replace(b",0", b",7")))  # fill bits 7
        elif k == 16:
            out.append(line[:-1] + (b"0" if line[-1:] != b"0" else b"1"))  # checksum
        elif k == 17:
            out.append(b"\\c:%d*00\\" % 4_000_000_000 + line)  # the year 2096
        elif k == 18:
            out.append(b"\\c:%d*00\\" % 300_000_000 + line)  # 1979
        elif k == 19:
            out.append(_sentence(pos.replace(b",,A,", b",,A,,")))  # eight fields
        elif k == 20:
            out.append(_sentence(pos.replace(b"1u<PP", b"1u<\xe9P")))
        elif k == 21:
            out.append(b"2021-11-01T01:58:09Z " + line)
        elif k == 22:
            out.append(b"# a comment")
        elif k == 23:
            out.append(line + b"\\r\\n" + line)  # two sentences, a literal \r\n between
        else:
            out.append(line)
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_odd_lines_mixed_into_real_ones_are_stored_the_same(tmp_path, data_dir, seed):
    rng = random.Random(seed)
    real = []
    for path in _captures(data_dir):
        for line in path.read_bytes().splitlines():
            if line.startswith((b"!", b"\\", b"$")):
                real.append(line)
    assert len(real) > 2000
    lines = _odd_lines(real, rng)
    path = tmp_path / "odd.nmea"
    path.write_bytes(b"\n".join(lines) + b"\n")
    rows = 0
    for chunk_lines in (50_000, 97):
        for j, assume in enumerate((None, ASSUMED)):
            got = _same_both_ways(tmp_path, path, f"{chunk_lines}-{j}", assume_time=assume,
                                  chunk_lines=chunk_lines)
            rows += len(got["positions"])
    assert rows > 1000


def test_pghp_times_read_in_bulk_are_gatehouse_times(data_dir):
    from corridor.ingest.nmea_time import gatehouse_time
    from corridor.ingest.nmea_vector import frame_lines

    real = [ln for p in _captures(data_dir) for ln in p.read_bytes().splitlines()
            if ln.startswith(b"$PGHP")]
    assert len(real) > 100
    rng = random.Random(3)
    made = [b"$PGHP,1,%d,%d,%d,%d,%d,%d,%d,1,2*00" % (
        rng.randint(0, 10000), rng.randint(0, 13), rng.randint(0, 32), rng.randint(0, 24),
        rng.randint(0, 60), rng.randint(0, 61), rng.randint(0, 1000)) for _ in range(3000)]
    odd = [b"$PGHP,1,2000,3,1,0,0,0,5", b"$PGHP,1,+200,3,1,0,0,0,5,1", b"$PGHP,1,2000,3,1,0,0,0,5 ,1",
           b"$PGHP,2,2000,3,1,0,0,0,5,1", b"$PGHPX,1,2000,3,1,0,0,0,5,1", b"$PGHP,1,12345,3,1,0,0,0,5,1"]
    lines = real + made + odd
    chunk = b"\n".join(lines)
    fr = frame_lines(chunk)
    times, sure = nmea._gatehouse_times(np.frombuffer(chunk + b"\0", np.uint8), fr.start,
                                        fr.end, np.arange(len(lines)))
    assert sure[: len(real)].all()  # real lines need no second reading
    assert 1000 < sure.sum() < len(lines)
    for line, t, ok in zip(lines, times.tolist(), sure.tolist(), strict=True):
        if ok:
            assert t == gatehouse_time(line), line


def test_plain_tag_block_times_read_in_bulk_are_pyais_times(data_dir):
    from corridor.ingest.nmea_time import parse_tag_block

    rng = random.Random(4)
    made = []
    for _ in range(3000):
        body = b"c:%d" % rng.choice([rng.randrange(10 ** rng.randint(0, 11)), 1_635_731_889])
        chk = nmea_checksum(body)
        k = rng.randrange(8)
        if k == 0:
            chk ^= 1 << rng.randrange(8)  # a wrong checksum
        elif k == 1:
            body = body.replace(b"c:", b"C:")
        elif k == 2:
            body = b"c:0" + body[2:]
        elif k == 3:
            body += b".5"
        made.append(b"\\" + body + b"*%02X\\" % chk)
    made += [b"\\c:12a4*00\\", b"\\c:*00\\", b"\\c:1234*0\\", b"\\s:x,c:1600000000*00\\",
             b"\\c:1600000000*5G\\", b"\\\\"]
    real = [ln[:ln.index(b"\\", 1) + 1] for p in _captures(data_dir)
            for ln in p.read_bytes().splitlines() if ln.startswith(b"\\") and b"\\" in ln[1:]]
    assert len(real) > 100
    tags = made + real
    chunk = b"\n".join(t + b"!AIVDM" for t in tags)
    buf = np.frombuffer(chunk + b"\0", np.uint8)
    ends = np.cumsum([len(t) + 7 for t in tags]) - 7
    starts = ends - np.array([len(t) for t in tags])
    plain, times = nmea._plain_tag_times(buf, starts, ends - 1)
    assert 500 < plain.sum() < len(tags)
    for tag, ok, t in zip(tags, plain.tolist(), times.tolist(), strict=True):
        if ok:
            assert parse_tag_block(tag[1:-1]).ts_us == t, tag
