"""The ingest frame: idempotent on identical bytes, atomic on failure, skip counts kept."""

from __future__ import annotations

import pyarrow as pa
import pytest

from corridor.ingest.summary import IngestError, ingest_file


def _rows(ids):
    return pa.table(
        {
            "obs_id": pa.array(ids, pa.int64()),
            "mmsi": pa.array([273000001] * len(ids), pa.int64()),
            "ts": pa.array([1_700_000_000_000_000 + i for i in ids], pa.timestamp("us")),
            "lat": pa.array([42.0] * len(ids)),
            "lon": pa.array([132.0] * len(ids)),
        }
    )


def _parser(path, summary):
    summary.rows_in = 3
    summary.skip("malformed", 2, "bad field")
    yield "positions", _rows([1, 2])


def test_second_ingest_of_same_bytes_adds_nothing(store, tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("x\ny\nz\n")
    first = ingest_file(store, f, "test", _parser)
    assert first.status == "done" and first.stored == {"positions": 2}
    assert first.skipped == {"malformed": 1} and first.examples == {"malformed": [2]}
    second = ingest_file(store, f, "test", _parser)
    assert second.status == "skipped_duplicate"
    assert store.count("positions") == 2
    assert "already ingested" in second.lines()[0]


def test_failure_mid_file_leaves_store_untouched(store, tmp_path):
    f = tmp_path / "b.txt"
    f.write_text("data")

    def broken(path, summary):
        yield "positions", _rows([10, 11])
        raise IngestError("line 7: binary garbage")

    result = ingest_file(store, f, "test", broken)
    assert result.status == "failed" and "line 7" in result.message
    assert store.count("positions") == 0
    status = store.query("SELECT status FROM ingest_log").column("status").to_pylist()
    assert status == ["failed"]


def test_big_file_commits_whole_parts_and_a_rerun_finishes_it(store, tmp_path):
    f = tmp_path / "big.txt"
    f.write_text("many rows")
    fail = {"now": True}

    def parser(path, summary):
        yield "positions", _rows([1, 2])
        yield "positions", _rows([3, 4])
        if fail["now"]:
            raise IngestError("line 99: truncated")
        yield "positions", _rows([5, 6])

    first = ingest_file(store, f, "test", parser, commit_rows=2)
    assert first.status == "partial" and "run the same ingest again" in first.message
    assert store.count("positions") == 4  # the two committed parts, nothing half-written
    fail["now"] = False
    second = ingest_file(store, f, "test", parser, commit_rows=2)
    assert second.status == "done" and second.stored == {"positions": 2}
    assert store.count("positions") == 6


def test_ctrl_c_is_recorded_and_propagates(store, tmp_path):
    f = tmp_path / "c.txt"
    f.write_text("x")

    def parser(path, summary):
        yield "positions", _rows([1, 2])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_file(store, f, "test", parser)
    assert store.count("positions") == 0
    assert store.query("SELECT status FROM ingest_log").column("status").to_pylist() == ["failed"]
