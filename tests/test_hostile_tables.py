"""Hostile input to table ingest: SQL in arguments, time zones, odd encodings, bad MMSIs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corridor.cli import app
from corridor.ingest.summary import ingest_file
from corridor.ingest.tables import check_time_format, table_parser

runner = CliRunner()
HEADER = "MMSI,BaseDateTime,LAT,LON\n"


def _ingest(store, path, **kw):
    return ingest_file(store, Path(path), "positions", table_parser(**kw))


def _times(store) -> list[datetime]:
    return [r[0] for r in store.con.execute("SELECT ts FROM positions ORDER BY mmsi").fetchall()]


# --- SQL through --time-format ------------------------------------------------------------

INJECTIONS = [
    "%Y-%m-%d'",
    "%Y' || (SELECT content FROM read_text('/etc/hostname')) || '",
    "%Y'); DROP TABLE positions; --",
    "%Y\n%m",
]


@pytest.mark.parametrize("fmt", INJECTIONS)
def test_time_format_with_sql_is_refused_with_a_sentence(fmt):
    with pytest.raises(ValueError, match="--time-format"):
        table_parser(time_format=fmt)


@pytest.mark.parametrize("fmt", INJECTIONS[:2])
def test_cli_time_format_quote_is_a_usage_error_not_a_parser_error(db_file, tmp_path, fmt):
    f = tmp_path / "p.csv"
    f.write_text("ts,mmsi,lat,lon\n2023-01-11,273000001,42.3,130.4\n")
    res = runner.invoke(app, ["--db", str(db_file), "ingest", "positions", str(f),
                              "--map", "ts=ts,mmsi=mmsi,lat=lat,lon=lon", "--time-format", fmt])
    assert res.exit_code == 2, res.output
    assert "--time-format" in res.output and "Parser Error" not in res.output


def test_time_format_checks_directives():
    assert check_time_format("%d/%m/%Y %H:%M:%S.%f %z") == "%d/%m/%Y %H:%M:%S.%f %z"
    with pytest.raises(ValueError, match="unknown directive"):
        check_time_format("%Y-%m-%Q")
    with pytest.raises(ValueError, match="no % directive"):
        check_time_format("yyyy-mm-dd")


# --- UTC offsets --------------------------------------------------------------------------


def test_iso_times_with_offsets_are_converted_to_utc(store, tmp_path):
    f = tmp_path / "offsets.csv"
    f.write_text(HEADER + "273000001,2023-01-11T00:00:00+05:00,42.3,130.4\n"
                 "273000002,2023-01-11T00:00:00Z,42.3,130.4\n"
                 "273000003,2023-01-11 00:00:00,42.3,130.4\n"
                 "273000004,2023-01-11T00:00:00-03:30,42.3,130.4\n")
    result = _ingest(store, f)
    assert result.status == "done" and store.count("positions") == 4
    assert _times(store) == [datetime(2023, 1, 10, 19), datetime(2023, 1, 11), datetime(2023, 1, 11),
                             datetime(2023, 1, 11, 3, 30)]


def test_time_format_with_offset_is_converted_to_utc(store, tmp_path):
    f = tmp_path / "fmt.csv"
    f.write_text("when,id,y,x\n11/01/2023 00:00 +0500,273000001,42.3,130.4\n"
                 "11/01/2023 06:00 +0000,273000002,42.3,130.4\n")
    result = _ingest(store, f, mapping={"ts": "when", "mmsi": "id", "lat": "y", "lon": "x"},
                     time_format="%d/%m/%Y %H:%M %z")
    assert result.status == "done", result.message
    assert _times(store) == [datetime(2023, 1, 10, 19), datetime(2023, 1, 11, 6)]


def test_parquet_timestamptz_column_is_stored_in_utc(store, tmp_path):
    f = tmp_path / "tz.parquet"
    ts = pa.array([datetime(2023, 1, 11)], pa.timestamp("us", tz="+05:00"))
    # Arrow keeps UTC instants; 2023-01-11 00:00 UTC shown in +05:00 is 05:00 local
    pq.write_table(pa.table({"mmsi": [273000001], "timestamp": ts, "lat": [42.3], "lon": [130.4]}), f)
    result = _ingest(store, f)
    assert result.status == "done", result.message
    assert _times(store) == [datetime(2023, 1, 11)]


# --- odd rows that make DuckDB's dialect sniffer give up ------------------------------------


def test_a_file_with_odd_rows_is_read_row_by_row_not_refused(store, tmp_path):
    rows = ["MMSI,BaseDateTime,LAT,LON,VesselName"]
    for i in range(200):
        name = '"A\rB"' if i % 3 == 0 else ('"bad"x' if i % 7 == 0 else "OK")
        rows.append(f"{273000000 + i},2023-09-07T00:00:{i % 60:02d},42.3,130.4,{name}")
    f = tmp_path / "odd.csv"
    f.write_text("\n".join(rows) + "\n", newline="")
    result = _ingest(store, f)
    assert result.status == "done", result.message
    assert store.count("positions") + result.skipped.get("malformed", 0) == 200
    assert store.count("positions") >= 150


def test_a_stray_nul_in_a_cell_skips_that_row_not_the_file(store, tmp_path):
    """A damaged export with a NUL byte inside a cell near the top is still a text table:
    that row is skipped with its line number, the others are stored."""
    f = tmp_path / "nul.csv"
    f.write_bytes((HEADER + "2730\x0000001,2023-01-11T00:00:00,42.3,130.4\n"
                   "273000002,2023-01-11T00:00:00,42.3,130.4\n").encode())
    result = _ingest(store, f)
    assert result.status == "done", result.message
    assert result.skipped == {"invalid_mmsi": 1} and result.examples["invalid_mmsi"] == [2]
    assert store.con.execute("SELECT mmsi FROM positions").fetchall() == [(273000002,)]


def test_random_bytes_are_refused_as_binary(store, tmp_path):
    f = tmp_path / "noise.csv"
    f.write_bytes(bytes(range(256)) * 8)
    result = _ingest(store, f)
    assert result.status == "failed" and "binary file" in result.message
    assert store.count("positions") == 0


def test_mmsi_in_other_digit_scripts_is_not_a_number(store, tmp_path):
    f = tmp_path / "digits.csv"
    f.write_text(HEADER + "٣٦٧٠٠٠٠٠٠,2023-01-11T00:00:00,42.3,130.4\n"
                 "３６７０００００１,2023-01-11T00:00:00,42.3,130.4\n"
                 "367000002,2023-01-11T00:00:00,42.3,130.4\n", encoding="utf-8")
    result = _ingest(store, f)
    assert result.skipped == {"invalid_mmsi": 2}
    assert store.con.execute("SELECT mmsi FROM positions").fetchall() == [(367000002,)]


@pytest.mark.parametrize("mmsi", ["1", "123456789012", "9223372036854775807", "3.67e8", "0x15DEF5C0",
                                  "367_000_000", "99999999", "1000000000"])
def test_impossible_mmsis_are_skipped_with_a_reason(store, tmp_path, mmsi):
    f = tmp_path / "m.csv"
    f.write_text(HEADER + f"{mmsi},2023-01-11T00:00:00,42.3,130.4\n"
                 "273000001,2023-01-11T00:00:00,42.3,130.4\n")
    result = _ingest(store, f)
    assert result.skipped == {"invalid_mmsi": 1} and result.examples["invalid_mmsi"] == [2]
    assert store.con.execute("SELECT mmsi FROM positions").fetchall() == [(273000001,)]


def test_a_repeated_mmsi_column_is_not_used_silently(store, tmp_path):
    f = tmp_path / "dup.csv"
    f.write_text("MMSI,BaseDateTime,LAT,LON,MMSI\n273000001,2023-09-07T00:00:00,42.3,130.4,273000002\n")
    result = _ingest(store, f)
    assert result.status == "failed" and "'MMSI' appears more than once" in result.message
    assert "--map mmsi=MMSI_1" in result.message and store.count("positions") == 0
    chosen = _ingest(store, f, mapping={"mmsi": "MMSI_1", "ts": "BaseDateTime", "lat": "LAT", "lon": "LON"})
    assert chosen.status == "done", chosen.message
    assert store.con.execute("SELECT mmsi FROM positions").fetchall() == [(273000002,)]


def test_damaged_time_text_is_counted_never_stored_truncated(store, tmp_path):
    """Found by bench/fuzz_tables.py: DuckDB 2's cast reads "06:20: 7" as 06:20:00 and
    ignores what follows a space; corridor parses time text with strict ISO formats."""
    f = tmp_path / "times.csv"
    f.write_text("MMSI,BaseDateTime,LAT,LON\n"
                 "273000001,2023-08-11T06:20: 7,42.0,131.0\n"
                 "273000002,2023-08-11T06:2 0:07,42.0,131.0\n"
                 "273000003,2023-08-11 06:20:07 junk,42.0,131.0\n"
                 "273000004,2023-08-11T06:20:07,42.0,131.0\n"
                 "273000005,2023-08-11 06:20:07.5,42.0,131.0\n"
                 "273000006,2023-08-11T06:20:07Z,42.0,131.0\n"
                 "273000007,2023-08-11T11:20:07+05:00,42.0,131.0\n"
                 "273000008,2023-08-11T06:20,42.0,131.0\n"
                 "273000009,2023-08-11T06:20+34,42.0,131.0\n")  # no place is 34 h from UTC
    result = _ingest(store, f)
    assert result.skipped == {"missing_time": 4}
    got = {r["mmsi"]: r["ts"] for r in store.query("SELECT mmsi, ts FROM positions").to_pylist()}
    t = datetime(2023, 8, 11, 6, 20, 7)
    assert got == {273000004: t, 273000005: t.replace(microsecond=500000), 273000006: t,
                   273000007: t, 273000008: datetime(2023, 8, 11, 6, 20)}
