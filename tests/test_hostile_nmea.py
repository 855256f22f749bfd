"""Hostile input to NMEA ingest: bombs, overlong lines, corrupt gzip, impossible MMSIs."""

from __future__ import annotations

import gzip
import random
import tracemalloc
import zlib
from datetime import datetime
from pathlib import Path

from pyais import encode_dict
from pyais.messages import TagBlock
from typer.testing import CliRunner

from corridor.cli import app
from corridor.ingest.nmea import MAX_LINE_BYTES, NmeaOptions, bounded_lines, ingest_nmea_file

runner = CliRunner()
T0 = 1_694_044_800  # 2023-09-07 00:00 UTC


def _line(fields: dict, c: int = T0) -> str:
    tag = TagBlock.create_str(source_station="s", receiver_timestamp=c)
    return "\n".join(f"\\{tag}\\{sentence}" for sentence in encode_dict(fields, talker_id="AI"))


def _positions(n: int, mmsi0: int = 273000001) -> list[str]:
    return [_line({"type": 1, "mmsi": mmsi0 + i, "lat": 42.0 + i / 1000, "lon": 130.0, "second": 0},
                  T0 + 60 * i) for i in range(n)]


def _ingest(store, path, **kw):
    return ingest_nmea_file(store, Path(path), NmeaOptions(workers=1, **kw))


def test_bounded_lines_never_holds_an_overlong_line():
    blocks = [b"ok1\n" + b"x" * 100, b"y" * 100, b"z\nok2\n", b"w" * 50]
    assert list(bounded_lines(blocks, 64)) == [b"ok1", b"\x00line too long\x00", b"ok2", b"w" * 50]
    assert list(bounded_lines([b"a" * 65], 64)) == [b"\x00line too long\x00"]
    assert list(bounded_lines([b"a\n", b"\n", b"b"], 64)) == [b"a", b"", b"b"]


def test_a_50_mb_line_is_counted_as_too_long_not_decoded(store, tmp_path):
    good = _positions(3)
    # one "line" of 50 MB: valid sentences glued together without line breaks
    glued = (_positions(1, 273000100)[0] * (50_000_000 // len(good[0]) + 1))[:50_000_000]
    f = tmp_path / "long.nmea"
    f.write_bytes(("\n".join([good[0], glued, *good[1:]]) + "\n").encode())
    result = _ingest(store, f)
    assert result.status == "done", result.message
    assert result.skipped == {"line_too_long": 1} and result.examples["line_too_long"] == [2]
    assert store.count("positions") == 3
    assert store.one("SELECT count(*) FROM positions WHERE mmsi = 273000100")[0] == 0


def test_gzip_bomb_is_read_in_bounded_memory(store, tmp_path):
    # 100 MB of text without a line break, compressed to a few hundred KB
    f = tmp_path / "bomb.nmea.gz"
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(f, "wb") as fh:
        fh.write(comp.compress(("\n".join(_positions(2)) + "\n").encode()))
        block = b"!" * (1 << 20)
        for _ in range(100):
            fh.write(comp.compress(block))
        fh.write(comp.compress(b"\n" + "\n".join(_positions(2, 273000500)).encode() + b"\n"))
        fh.write(comp.flush())
    assert f.stat().st_size < 2_000_000
    tracemalloc.start()
    try:
        result = _ingest(store, f)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.status == "failed" and "compression bomb" in result.message, result.message
    assert store.count("positions") == 0  # the file is all-or-nothing
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.0f} MB"


def test_an_overlong_line_in_gzip_is_skipped_not_held(store, tmp_path):
    f = tmp_path / "long.nmea.gz"
    rnd = random.Random(3)
    junk = "".join(rnd.choice("ABCDEFGHIJ0123456789,!") for _ in range(3 * MAX_LINE_BYTES))
    f.write_bytes(gzip.compress(("\n".join([*_positions(2), junk, *_positions(2, 273000500)]) + "\n")
                                .encode()))
    result = _ingest(store, f)
    assert result.status == "done", result.message
    assert result.skipped == {"line_too_long": 1} and result.examples["line_too_long"] == [3]
    assert store.count("positions") == 4


def test_sentences_glued_after_a_checksum_are_counted_not_lost(store, tmp_path):
    a, b = _positions(2)
    f = tmp_path / "glued.nmea"
    f.write_text(a + b + "\n" + _positions(1, 273000900)[0] + "\n")
    result = _ingest(store, f)
    assert result.skipped == {"malformed": 1} and "another sentence" in result.details["malformed"]
    assert store.count("positions") == 1


def test_receive_times_before_1990_are_missing_times(store, tmp_path):
    f = tmp_path / "old.nmea"
    f.write_text(_line({"type": 1, "mmsi": 273000001, "lat": 42.3, "lon": 130.4, "second": 0}, 2) + "\n"
                 + encode_dict({"type": 1, "mmsi": 273000002, "lat": 1, "lon": 1}, talker_id="AI")[0]
                 + ",b003669794,2\n")
    result = _ingest(store, f, assume_time=datetime(2023, 9, 7))
    assert result.skipped == {"missing_time": 1}
    # the short number in the second line's trailer is not taken for a time: assume_time is
    assert store.con.execute("SELECT mmsi, ts FROM positions").fetchall() == [(273000002,
                                                                             datetime(2023, 9, 7))]


def _corrupt_gzip(tmp_path: Path, name: str, at: float) -> Path:
    # comment lines of random hex make the compressed stream long (1 MB); the corruption
    # lands at ``at`` of it
    rnd = random.Random(7)
    lines = _positions(50) + [f"# {rnd.randbytes(40).hex()}" for _ in range(20_000)]
    data = gzip.compress(("\n".join(lines) + "\n").encode(), 6)
    i = int(len(data) * at)
    bad = data[:i] + bytes(b ^ 0x55 for b in data[i:i + 64]) + data[i + 64:]
    f = tmp_path / name
    f.write_bytes(bad)
    return f


def test_gzip_corrupted_mid_file_fails_that_file_with_one_line(store, tmp_path):
    for at in (0.01, 0.05, 0.5, 0.9):
        f = _corrupt_gzip(tmp_path, f"cut{at}.nmea.gz", at)
        result = _ingest(store, f)
        assert result.status == "failed" and "corrupt" in result.message, result.message
        assert "\n" not in result.message
    assert store.count("positions") == 0
    assert store.one("SELECT count(*) FROM ingest_log WHERE status = 'running'")[0] == 0


def test_cli_batch_goes_on_after_a_corrupt_gzip(db_file, tmp_path):
    bad = _corrupt_gzip(tmp_path, "bad.nmea.gz", 0.5)
    good = tmp_path / "good.nmea"
    good.write_text("\n".join(_positions(5)) + "\n")
    res = runner.invoke(app, ["--db", str(db_file), "ingest", "nmea", str(bad), str(good)])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    errors = [ln for ln in res.output.splitlines() if "error" in ln]
    assert len(errors) == 1 and str(bad) in errors[0] and "corrupt" in errors[0]
    assert "stored 5 positions" in res.output


def test_impossible_mmsis_are_skipped_with_a_reason(store, tmp_path):
    lines = [_line({"type": 1, "mmsi": m, "lat": 42.3, "lon": 130.4, "second": 0}, T0 + i)
             for i, m in enumerate((1, 2**30 - 1, 12345678, 273000001))]
    lines.append(_line({"type": 5, "mmsi": 1, "shipname": "GHOST", "callsign": "X"}, T0 + 9))
    lines.append(_line({"type": 5, "mmsi": 273000001, "shipname": "REAL", "callsign": "Y"}, T0 + 9))
    f = tmp_path / "mmsi.nmea"
    f.write_text("\n".join(lines) + "\n")
    result = _ingest(store, f)
    assert result.skipped == {"invalid_mmsi": 4}
    assert result.examples["invalid_mmsi"] == [1, 2, 3, 5]  # a type 5 message starts on line 5
    assert store.con.execute("SELECT DISTINCT mmsi FROM positions").fetchall() == [(273000001,)]
    assert store.con.execute("SELECT DISTINCT mmsi FROM vessel_reports").fetchall() == [(273000001,)]


def test_a_malformed_tag_block_checksum_gives_no_time(store, tmp_path):
    sentence = encode_dict({"type": 1, "mmsi": 273000001, "lat": 42.3, "lon": 130.4}, talker_id="AI")[0]
    f = tmp_path / "tags.nmea"
    # a checksum of three hex digits, a CR inside the block: pyais takes both, NMEA 4 does not
    f.write_bytes(f"\\s:s2,c:1693794362*07D\\{sentence}\n\\s:s1,c:1696114251*\r74\\{sentence}\n".encode())
    result = _ingest(store, f)
    assert result.skipped == {"missing_time": 2} and store.count("positions") == 0


def test_a_receive_time_past_int64_is_a_future_timestamp_not_a_crash(store, tmp_path):
    """Found by bench/fuzz_nmea.py on the vectorised decoder: a tag block with a 22-digit
    ``c:`` gave a time too large for the int64 columns and failed the whole file."""
    good = _positions(3)
    bad = _line({"type": 1, "mmsi": 273000099, "lat": 42.0, "lon": 131.0, "second": 0},
                8916949696261695193798)
    f = tmp_path / "big-time.nmea"
    f.write_text("\n".join([good[0], bad, *good[1:]]) + "\n")
    result = _ingest(store, f)
    assert result.status == "done", result.message
    assert store.count("positions") == 3
    assert result.skipped == {"future_timestamp": 1}
