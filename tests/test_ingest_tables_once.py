"""A CSV is parsed once (corridor.ingest.table_scan): the same rows, ids, reports, counts and
line numbers as a table read twice, in batches or not, and its staged rows never outlive it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from corridor import scratch
from corridor.ingest import table_scan, tables
from corridor.ingest.summary import ingest_file
from corridor.ingest.tables import table_parser
from corridor.store import Store

NOAA_2023 = "ais-positions/aisdb/test_data_noaa_20230101.csv"
SPIRE = "ais-positions/aisdb/test_data_20210701.csv"
DAYFIRST = "ais-positions/derived/noaa-2022-dayfirst.csv"
DAYFIRST_KW = {"mapping": {"ts": "seen_at", "mmsi": "vessel_ref", "lat": "latitude", "lon": "longitude"},
               "time_format": "%d/%m/%Y %H:%M:%S"}
CASES = [(NOAA_2023, {}), (SPIRE, {}), (DAYFIRST, DAYFIRST_KW)]


def _stored(path: Path, db: Path, **kw) -> tuple:
    """What an ingest of ``path`` leaves: its summary and the stored rows (ids and values)."""
    with Store.open(db) as s:
        result = ingest_file(s, path, "positions", table_parser(source="same", **kw))
        assert result.status == "done", result.message
        positions = s.query("SELECT * EXCLUDE (ingest_id) FROM positions ORDER BY obs_id").to_pylist()
        reports = s.query("SELECT * EXCLUDE (ingest_id) FROM vessel_reports ORDER BY obs_id").to_pylist()
    return result, positions, reports


def _as_text_parquet(csv: Path, out: Path) -> Path:
    """The CSV's cells as a Parquet file of text columns: read by the two-pass path (an
    aggregate pass over the file, then a stream of it), which the CSV used before."""
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv}', header=true, all_varchar=true)) "
               f"TO '{out}' (FORMAT parquet)")
    return out


@pytest.mark.parametrize(("name", "kw"), CASES)
def test_csv_read_once_stores_what_the_two_pass_read_stores(data_dir, tmp_path, name, kw):
    """Same obs_ids, values, vessel reports and counts as the table read twice; line numbers
    one higher (the CSV's header line)."""
    csv = data_dir / name
    once, positions, reports = _stored(csv, tmp_path / "once.duckdb", **kw)
    twice, positions2, reports2 = _stored(_as_text_parquet(csv, tmp_path / "t.parquet"),
                                          tmp_path / "twice.duckdb", **kw)
    assert len(positions) > 500 and positions == positions2
    assert reports == reports2
    assert once.rows_in == twice.rows_in and once.skipped == twice.skipped
    assert {r: [x - 1 for x in lines] for r, lines in once.examples.items()} == twice.examples


def test_batches_and_merged_static_groups_change_nothing(data_dir, tmp_path, monkeypatch):
    """Read in batches of 100 rows, with the static groups merged after every batch, the
    real Spire export (bad rows past the first batch) gives the same ids, reports, counts and
    line numbers as read in one batch."""
    csv = data_dir / SPIRE
    whole = _stored(csv, tmp_path / "whole.duckdb")
    staged_counts = []
    real = table_scan.scan_once

    def counting(*a, **k):
        scan = real(*a, **k)
        staged_counts.append(sum(1 for _ in table_scan.staged_batches(scan.staged, scan.staged_rows, 100)))
        return scan

    monkeypatch.setattr(tables, "BATCH_ROWS", 100)
    monkeypatch.setattr(tables, "scan_once", counting)
    monkeypatch.setattr(table_scan, "STATIC_GROUPS_MERGE_ROWS", 1)
    batched = _stored(csv, tmp_path / "batched.duckdb")
    assert staged_counts and staged_counts[0] > 10  # it was read in many batches
    assert whole[0].examples["invalid_position"][0] == 426 and whole[0].skipped["other_type"] > 0
    assert batched[1] == whole[1] and batched[2] == whole[2]
    assert batched[0].skipped == whole[0].skipped and batched[0].examples == whole[0].examples


def test_line_numbers_of_bad_rows_in_later_batches(store, tmp_path, monkeypatch):
    """Row numbers count on across batches and past a line the CSV reader rejects."""
    f = tmp_path / "bad.csv"
    lines = [f"273000001,2023-09-07T00:{m % 60:02d}:{m // 60:02d},42.3,130.4" for m in range(60)]
    lines[9] = "12345,2023-09-07T05:00:00,42.3,130.4"  # line 11: invalid_mmsi
    lines[24] = "273000001,2023-09-07T05:00:00,42.3"  # line 26: malformed
    lines[40] = "273000001,2023-09-07T05:00:00,95,130.4"  # line 42: invalid_position
    lines[57] = "99,2023-09-07T05:00:00,42.3,130.4"  # line 59: invalid_mmsi
    f.write_text("MMSI,BaseDateTime,LAT,LON\n" + "\n".join(lines) + "\n")
    monkeypatch.setattr(tables, "BATCH_ROWS", 7)
    result = ingest_file(store, f, "positions", table_parser())
    assert result.status == "done" and store.count("positions") == 56
    assert result.examples == {"invalid_mmsi": [11, 59], "malformed": [26], "invalid_position": [42]}
    assert result.rows_in == 60


def _scratch_dirs(base: Path) -> list[Path]:
    return sorted(base.glob("corridor-read-*"))


def test_staged_rows_are_removed_and_nothing_stored_when_the_store_fails(data_dir, tmp_path, monkeypatch):
    """A write that fails after the CSV was staged: the ingest fails with one line, nothing of
    the file is in the store, and the scratch folder with the staged rows is gone."""
    base = tmp_path / "scratch"
    base.mkdir()
    monkeypatch.setattr(scratch.tempfile, "tempdir", str(base))
    monkeypatch.setattr(tables, "BATCH_ROWS", 200)
    staged_seen = []
    real_insert = Store.insert_arrow

    def failing(self, table, batch, **kw):
        if table == "positions":
            staged_seen.extend(p.stat().st_size for d in _scratch_dirs(base)
                               for p in d.glob(tables.STAGED_ROWS))
            if len(staged_seen) > 1:
                raise OSError(28, "No space left on device")
        return real_insert(self, table, batch, **kw)

    monkeypatch.setattr(Store, "insert_arrow", failing)
    with Store.open(tmp_path / "s.duckdb") as s:
        result = ingest_file(s, data_dir / NOAA_2023, "positions", table_parser())
        assert result.status == "failed" and "No space left on device" in result.message
        assert s.count("positions") == 0 and s.count("vessel_reports") == 0
    assert len(staged_seen) == 2 and min(staged_seen) > 0  # the staged rows were there
    assert _scratch_dirs(base) == []


def test_staged_rows_are_removed_after_a_file_refused_by_strict(store, tmp_path, monkeypatch):
    base = tmp_path / "scratch"
    base.mkdir()
    monkeypatch.setattr(scratch.tempfile, "tempdir", str(base))
    made = []
    real = table_scan.scan_once

    def spy(*a, **k):
        scan = real(*a, **k)
        made.append(scan.staged.is_file() and scan.staged_rows)
        return scan

    monkeypatch.setattr(tables, "scan_once", spy)
    f = tmp_path / "bad.csv"
    f.write_text("MMSI,BaseDateTime,LAT,LON\n273000001,2023-09-07T00:00:00,42.3,130.4\n273000002,x,1,1\n")
    result = ingest_file(store, f, "positions", table_parser(strict=True))
    assert result.status == "failed" and made == [1]
    assert store.count("positions") == 0 and _scratch_dirs(base) == []
