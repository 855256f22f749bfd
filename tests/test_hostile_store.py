"""The store recognises its own files and leaves every other DuckDB file untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from corridor.schema import DDL, SCHEMA_VERSION
from corridor.store import STORE_META, STORE_SIGNATURE, Store, StoreError


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _foreign(path: Path, *ddl: str) -> Path:
    con = duckdb.connect(str(path))
    for d in ddl:
        con.execute(d)
    con.execute("CHECKPOINT")
    con.close()
    return path


FOREIGN = [
    ("CREATE TABLE schema_version (version INTEGER, note VARCHAR)",
     "INSERT INTO schema_version VALUES (3, 'another program')"),
    ("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP)",
     "CREATE TABLE positions (id INTEGER, x DOUBLE, y DOUBLE)",
     "CREATE TABLE ingest_log (id INTEGER)", "INSERT INTO positions VALUES (1, 2, 3)"),
    (f"CREATE TABLE {STORE_META} (key VARCHAR, value VARCHAR)",
     f"INSERT INTO {STORE_META} VALUES ('application_id', 'someone-else')"),
]


@pytest.mark.parametrize("ddl", FOREIGN, ids=["schema_version", "own_positions", "other_meta"])
@pytest.mark.parametrize("read_only", [False, True])
def test_another_programs_duckdb_file_is_refused_untouched(tmp_path, ddl, read_only):
    f = _foreign(tmp_path / "other.duckdb", *ddl)
    before = _digest(f)
    tables_before = duckdb.connect(str(f), read_only=True).execute(
        "SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
    with pytest.raises(StoreError, match="refusing to modify it"):
        Store.open(f, read_only=read_only)
    assert _digest(f) == before
    con = duckdb.connect(str(f), read_only=True)
    assert con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall() == tables_before
    con.close()


def test_a_new_store_carries_the_signature(tmp_path):
    with Store.open(tmp_path / "new.duckdb") as s:
        assert s.one(f"SELECT value FROM {STORE_META} WHERE key = 'application_id'") \
            == (STORE_SIGNATURE,)
    with Store.open(tmp_path / "new.duckdb", read_only=True) as s:
        assert s.schema_version() == SCHEMA_VERSION


def test_a_store_made_before_the_signature_still_opens_and_is_signed(tmp_path):
    f = tmp_path / "old.duckdb"
    con = duckdb.connect(str(f))
    for ddl in DDL.values():  # what corridor made before the signature
        con.execute(ddl)
    con.execute("CREATE TABLE my_notes (note VARCHAR)")  # a table the user added
    con.execute("INSERT INTO schema_version (version) VALUES (?)", [SCHEMA_VERSION])
    con.execute("INSERT INTO ingest_log (ingest_id, kind, path, content_sha256, started_at, status) "
                "VALUES (1, 'nmea', 'a.txt', 'x', now(), 'done')")
    con.close()
    with Store.open(f, read_only=True) as s:  # read-only: accepted, not written
        assert s.count("ingest_log") == 1
    with Store.open(f) as s:
        assert s.count("ingest_log") == 1
        assert s.one(f"SELECT value FROM {STORE_META}") == (STORE_SIGNATURE,)
