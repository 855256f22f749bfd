"""Faults around ingest: FIFOs, odd file names, a full disk, an unwritable output."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from corridor.cli import app
from corridor.ingest.files import expand_paths
from corridor.ingest.summary import ingest_file
from corridor.ingest.tables import table_parser
from corridor.store import Store, sha256_file

runner = CliRunner()
ROWS = "MMSI,BaseDateTime,LAT,LON\n273000001,2023-09-07T00:00:00,42.3,130.4\n"


def _run(db, *args):
    return runner.invoke(app, ["--db", str(db), *args])


def test_a_fifo_is_refused_at_once(store, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    done = threading.Event()
    result = {}

    def go():
        result["r"] = ingest_file(store, fifo, "positions", table_parser())
        done.set()

    t = threading.Thread(target=go, daemon=True)
    t.start()
    if not done.wait(20):
        with open(fifo, "wb"):  # release the reader that hangs on the old code
            pass
        t.join(5)
        pytest.fail("ingest of a FIFO blocked")
    r = result["r"]
    assert r.status == "failed" and "FIFO" in r.message and "not a regular file" in r.message
    assert store.one("SELECT count(*) FROM ingest_log")[0] == 0


def test_sha256_refuses_directories_and_fifos(tmp_path):
    with pytest.raises(OSError, match="directory"):
        sha256_file(tmp_path)
    os.mkfifo(tmp_path / "p")
    with pytest.raises(OSError, match="FIFO"):
        sha256_file(tmp_path / "p")
    (tmp_path / "f").write_bytes(b"abc")
    assert sha256_file(tmp_path / "f").startswith("ba7816bf")


def test_an_existing_name_with_glob_characters_is_used_as_it_is(tmp_path):
    f = tmp_path / "pos[1].csv"
    f.write_text(ROWS)
    (tmp_path / "pos1.csv").write_text(ROWS)
    paths, missing = expand_paths([str(f)])
    assert paths == [f] and missing == []
    paths, missing = expand_paths([str(tmp_path / "pos[12].csv")])
    assert paths == [tmp_path / "pos1.csv"] and missing == []


def test_full_disk_fails_the_file_with_one_line_and_the_batch_goes_on(db_file, tmp_path, monkeypatch):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(ROWS)
    b.write_text(ROWS.replace("273000001", "273000002"))
    real = Store.insert_arrow

    def insert(self, table, batch, **kw):
        if batch.num_rows and batch.column("mmsi")[0].as_py() == 273000001:
            raise duckdb.IOException('IO Error: Could not write file "x.wal": No space left on device')
        return real(self, table, batch, **kw)

    monkeypatch.setattr(Store, "insert_arrow", insert)
    res = _run(db_file, "ingest", "positions", str(a), str(b))
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    errors = [ln for ln in res.output.splitlines() if "error:" in ln]
    assert len(errors) == 1 and str(a) in errors[0] and "No space left on device" in errors[0]
    assert f"{b}: stored 1 positions" in res.output
    with Store.open(db_file) as s:
        assert s.con.execute("SELECT status FROM ingest_log ORDER BY ingest_id").fetchall() == \
            [("failed",), ("done",)]


def test_unwritable_archive_is_one_line_per_file(db_file, tmp_path):
    a = tmp_path / "a.csv"
    a.write_text(ROWS)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the archive folder should be")
    res = _run(db_file, "ingest", "positions", str(a), "--archive", str(blocker / "arc"))
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and res.exception is None or isinstance(res.exception, SystemExit)
    assert f"{a}: error:" in res.output


def test_an_unexpected_decoder_error_fails_only_that_file(store, tmp_path):
    def parse(path: Path, summary):
        raise KeyError("bug")
        yield  # pragma: no cover

    f = tmp_path / "x.csv"
    f.write_text(ROWS)
    r = ingest_file(store, f, "positions", parse)
    assert r.status == "failed" and r.message == "KeyError: 'bug'"
    assert store.con.execute("SELECT status FROM ingest_log").fetchall() == [("failed",)]
