"""Smaller hostile cases: text encodings of CSVs, scratch folders left by killed runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from corridor import scratch
from corridor.ingest.summary import ingest_file
from corridor.ingest.tables import csv_encoding, table_parser

HEADER = "MMSI,BaseDateTime,LAT,LON,VesselName\n"


def _names(store) -> list[str]:
    return [r[0] for r in store.con.execute("SELECT name FROM vessel_reports ORDER BY mmsi").fetchall()]


def test_latin1_csv_names_are_decoded_not_dropped(store, tmp_path):
    f = tmp_path / "latin1.csv"
    f.write_bytes((HEADER + "273000001,2023-09-07T00:00:00,42.3,130.4,SÃO PAULO\n"
                   "273000002,2023-09-07T00:00:00,42.3,130.4,KØBENHAVN\n").encode("latin-1"))
    assert csv_encoding(f) == "latin-1"
    result = ingest_file(store, f, "positions", table_parser())
    assert result.status == "done" and result.skipped == {}, result.lines()
    assert store.count("positions") == 2
    assert _names(store) == ["SÃO PAULO", "KØBENHAVN"]


def test_utf16_csv_is_read(store, tmp_path):
    f = tmp_path / "utf16.csv"
    f.write_bytes((HEADER + "273000001,2023-09-07T00:00:00,42.3,130.4,ÅLESUND\n").encode("utf-16"))
    assert csv_encoding(f) == "utf-16"
    result = ingest_file(store, f, "positions", table_parser())
    assert result.status == "done" and store.count("positions") == 1, result.lines()
    assert _names(store) == ["ÅLESUND"]


def test_utf8_stays_utf8(tmp_path):
    f = tmp_path / "u.csv"
    f.write_text(HEADER + "273000001,2023-09-07T00:00:00,42.3,130.4,ÅLESUND\n", encoding="utf-8")
    assert csv_encoding(f) == "utf-8"


def test_scratch_left_by_a_killed_run_is_swept(tmp_path, monkeypatch):
    monkeypatch.setattr(scratch.tempfile, "tempdir", str(tmp_path))
    # a process that made a scratch folder and a file, then died without cleaning up
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    left = tmp_path / f"corridor-read-{pid}-abc"
    (left / "spill").mkdir(parents=True)
    (left / "spill" / "x.tmp").write_bytes(b"x" * 100)
    stdin_copy = tmp_path / f"corridor-stdin-{pid}-xyz.csv"
    stdin_copy.write_text("a")
    mine = tmp_path / f"corridor-read-{os.getpid()}-mine"
    mine.mkdir()
    other = tmp_path / "corridor-notes"  # not a scratch name
    other.mkdir()
    old = time.time() - 3600
    for p in (left, stdin_copy, mine, other):
        os.utime(p, (old, old))
    with scratch.scratch_dir("read") as d:
        assert Path(d).parent == tmp_path and f"-{os.getpid()}-" in Path(d).name
        assert not left.exists() and not stdin_copy.exists()
    assert mine.exists() and other.exists()


def test_fresh_scratch_of_a_dead_process_is_left_for_a_while(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    recent = tmp_path / f"corridor-grid-{int(dead.stdout)}-new"
    recent.mkdir()
    assert scratch.sweep_stale(tmp_path) == [] and recent.exists()
    assert scratch.sweep_stale(tmp_path, now=time.time() + 3600) == [recent] and not recent.exists()
