"""The DuckDB store: one file, created and migrated by the program.

``Store`` owns the connection. It creates the canonical tables of
:mod:`corridor.schema`, upgrades an older file step by step (each step in one
transaction, so a failed upgrade leaves the file as it was) and refuses a file
written by a newer corridor with a clear message instead of touching it.

Writes that must be all-or-nothing go through :meth:`Store.transaction`.
Every ingested file is recorded in ``ingest_log`` with its content hash, so a
second ingest of the same bytes is recognised and skipped.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corridor.schema import DDL, DEDUP_KEYS, SCHEMA_VERSION

DEFAULT_DB = "corridor.duckdb"

#: Rows per Arrow record batch handed to an ``INSERT`` (DuckDB's row-group size). DuckDB scans
#: an Arrow table one record batch per thread, so one 1M-row batch was inserted on one core
#: (measured: 4M positions in 2.9 s as 1M-row batches, 1.6 s in these slices, same CPU time).
INSERT_BATCH_ROWS = 122_880


class StoreError(RuntimeError):
    """A database file that corridor cannot open or upgrade."""


class SeenKeys:
    """The keys one ingest has offered to a table (see ``schema.DEDUP_KEYS``), in memory.

    A repeat of a row can be in the store before the ingest began, or in an earlier batch of
    the same ingest. The second kind is found here; the first only where a batch's times
    overlap the time range stored before the ingest (one min/max query when this is made).
    So a file of new days — the usual case — is never looked up against the table, which
    cost 0.4 s per million-row batch at 10M stored rows.

    The keys are kept as one sorted array per batch, behind a one-byte-per-slot filter
    indexed by the key's low bits (the keys are hashes, so the bits are uniform): a batch key
    whose slot is empty was never offered, and only the few whose slot is set (at most ~14 %
    at 10M keys, plus the true repeats) are searched in the sorted arrays. A numpy hash set would
    do the same, but numpy has none, and sorting each batch against all earlier keys cost
    0.3 s per million-row batch (measured). Beyond ``max_keys`` (memory must not grow with
    the file) it stops (``active`` is False) and every later batch is looked up in the
    table, as without it.
    """

    #: filter size: a power of two, at least 8 slots per key (~12 % of new keys then search
    #: the arrays), between 64 KB and 64 MB; a small ingest (one NMEA file of many) does not
    #: pay for zeroing 64 MB
    MIN_SLOTS, MAX_SLOTS = 1 << 16, 1 << 26

    def __init__(self, store: Store, table: str, max_keys: int = 20_000_000):
        self.key, ts = DEDUP_KEYS[table]
        self.max_keys = max_keys
        self.runs: list[np.ndarray] = []  # sorted keys of each batch offered
        self.n_keys = 0
        self.filter: np.ndarray | None = None
        self.active = ts is not None
        self.before: tuple[Any, Any] | None = None
        if ts is not None:
            ends = store.query(f"SELECT min({ts}) AS t FROM {table} UNION ALL "
                               f"SELECT max({ts}) FROM {table}").column(0)
            lo, hi = _time_range_us(ends)
            self.before = None if lo is None else (lo, hi)

    def overlaps_before(self, lo: int | None, hi: int | None) -> bool:
        """Whether times ``[lo, hi]`` (microseconds since the epoch) overlap the rows stored
        before the ingest began."""
        return self.before is not None and lo is not None and lo <= self.before[1] \
            and hi >= self.before[0]

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        return keys & (len(self.filter) - 1)

    def drop_seen(self, data: pa.Table) -> pa.Table:
        """``data`` without the rows whose key an earlier batch offered."""
        if self.filter is None:
            return data
        k = data.column(self.key).to_numpy()
        cand = np.flatnonzero(self.filter[self._slots(k)])
        if not len(cand):
            return data
        ck = k[cand]
        order = np.argsort(ck)  # sorted needles: each search starts where the last ended
        ck = ck[order]
        hit = np.zeros(len(ck), dtype=bool)
        for run in self.runs:
            at = np.minimum(np.searchsorted(run, ck), len(run) - 1)
            hit |= run[at] == ck
        if not hit.any():
            return data
        keep = np.ones(len(k), dtype=bool)
        keep[cand[order[hit]]] = False
        return data.filter(pa.array(keep))

    def add(self, sorted_keys: np.ndarray) -> None:
        """Remember ``sorted_keys`` (distinct, sorted, none offered before)."""
        if not self.active or not len(sorted_keys):
            return
        self.n_keys += len(sorted_keys)
        if self.n_keys > self.max_keys:
            self.active, self.runs, self.filter = False, [], None
            return
        self.runs.append(sorted_keys)
        slots = 1 << int(8 * self.n_keys - 1).bit_length()
        slots = min(self.MAX_SLOTS, max(self.MIN_SLOTS, slots))
        if self.filter is None or len(self.filter) < slots:  # (re)built from every key so far
            self.filter = np.zeros(slots, dtype=bool)
            for run in self.runs:
                self.filter[self._slots(run)] = True
        else:
            self.filter[self._slots(sorted_keys)] = True


def _time_range_us(col: pa.ChunkedArray | pa.Array) -> tuple[int | None, int | None]:
    """Earliest and latest of a timestamp column in microseconds since the epoch (None if
    empty). As integers: a time Python's datetime cannot hold (year 0, DuckDB's infinity)
    must not stop an insert.

    >>> _time_range_us(pa.array([3_000_000, 1_000_000, None], pa.timestamp("us")))
    (1000000, 3000000)
    """
    us = col.cast(pa.timestamp("us")).cast(pa.int64())
    return pc.min(us).as_py(), pc.max(us).as_py()


def _first_of_each_key(data: pa.Table, key: str) -> tuple[pa.Table, np.ndarray]:
    """``data`` without the later rows of a repeated ``key``, and its keys sorted.

    >>> t = pa.table({"k": [3, 1, 3, 2, 1], "v": list("abcde")})
    >>> kept, ordered = _first_of_each_key(t, "k")
    >>> kept["v"].to_pylist(), ordered.tolist()
    (['a', 'b', 'd'], [1, 2, 3])
    """
    keys = data.column(key).to_numpy()
    ordered = np.sort(keys)  # most batches hold no repeat: one sort (~20 ms per 1M) tells
    repeat = ordered[1:] == ordered[:-1]
    if len(ordered) < 2 or not repeat.any():
        return data, ordered
    repeated = np.unique(ordered[1:][repeat])
    rows = np.flatnonzero(pc.is_in(data.column(key), value_set=pa.array(repeated)).to_numpy(
        zero_copy_only=False))
    _, first = np.unique(keys[rows], return_index=True)
    keep = np.ones(len(keys), dtype=bool)
    keep[rows] = False
    keep[rows[first]] = True
    return data.filter(pa.array(keep)), ordered[np.concatenate([[True], ~repeat])]


# ---------------------------------------------------------------- reading results
# DuckDB 2 keeps the result of ``con.execute(query)`` pending on the connection until it is read
# to its end: a ``fetchone()`` (even of a one-row aggregate) or ``fetchmany()`` leaves it open,
# and the next ``register()``, ``unregister()`` or ``con.sql()`` on that connection raises
# ``ResourceInUseException: connection has an unfinished result``. DuckDB 2 also copies every
# row when a DB-API result (``con.execute(...)``) is turned into Arrow, and its Arrow reader
# reads the whole result before the first batch; a relation (``con.sql(...)``) hands its
# batches over without that (measured on 2.0.1: 1M rows in 0.20 instead of 0.26 CPU s; a 10M-row
# stream in 132 instead of 530 MB; bench/results/duckdb2.md). So corridor reads results only
# through these three helpers (or ``execute(...).fetchall()`` / ``.fetchnumpy()``, which read
# to the end), and nothing is left pending.


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str,
              params: list[Any] | None = None) -> tuple[Any, ...] | None:
    """The first row of a query that returns at most a few rows (an aggregate, ``LIMIT 1``),
    or None; the result is read to its end, so the connection is free afterwards.

    >>> con = duckdb.connect()
    >>> fetch_one(con, "SELECT count(*) FROM range(5)")
    (5,)
    >>> con.register("t", pa.table({"a": [1]})) is not None  # nothing left pending
    True
    >>> fetch_one(con, "SELECT 1 WHERE false") is None
    True
    """
    # fetchall, not fetchone + con.complete(): the same on DuckDB 1.5, which has no complete()
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def fetch_arrow(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> pa.Table:
    """Every row of a query as an Arrow table (through a relation: no copy of the rows).

    >>> fetch_arrow(duckdb.connect(), "SELECT range AS i FROM range(?)", [3])["i"].to_pylist()
    [0, 1, 2]
    """
    return con.sql(sql, params=params or None).to_arrow_table()


def stream_arrow(con: duckdb.DuckDBPyConnection, sql: str, batch_rows: int,
                 params: list[Any] | None = None) -> pa.RecordBatchReader:
    """The rows of a query as Arrow record batches of about ``batch_rows`` rows, streamed.

    The connection is busy until the reader is exhausted: read it to its end before the
    next statement on ``con`` (DuckDB 2 raises if not; DuckDB 1.5 silently ended the stream).

    >>> sum(b.num_rows for b in stream_arrow(duckdb.connect(), "SELECT * FROM range(10)", 4))
    10
    """
    return con.sql(sql, params=params or None).to_arrow_reader(batch_rows)


def default_db_path() -> Path:
    """``$CORRIDOR_DB`` if set, else ``./corridor.duckdb``."""
    return Path(os.environ.get("CORRIDOR_DB", DEFAULT_DB))


#: corridor's signature in a store: the ``application_id`` row of :data:`STORE_META`, written
#: when the store is made. A DuckDB file without it (and not an earlier corridor store, see
#: ``Store._is_unsigned_corridor_store``) is another program's, and is not touched.
STORE_META = "corridor_meta"
STORE_SIGNATURE = "corridor-store/1 b3c1f0e6"
STORE_META_DDL = f"CREATE TABLE IF NOT EXISTS {STORE_META} (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)"

# Each migration upgrades version N-1 to N. Version 1 is the DDL itself.
MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {}


def utcnow() -> datetime:
    """Current UTC time as a naive datetime (the store keeps UTC without zone)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class IngestRecord:
    """A row of ``ingest_log`` as seen by the ingest code."""

    ingest_id: int
    status: str
    content_sha256: str
    path: str


class Store:
    """An open corridor database.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with Store.open(os.path.join(d, "x.duckdb")) as s:
    ...         s.schema_version()
    1
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str):
        self.con = con
        self.path = path

    # ------------------------------------------------------------------ open
    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, read_only: bool = False) -> Store:
        """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
        p = Path(path) if path is not None else default_db_path()
        if p.exists() and p.is_file() and p.stat().st_size > 0:
            with open(p, "rb") as fh:
                head = fh.read(16)
            if b"DUCK" not in head:
                raise StoreError(f"{p}: not a DuckDB database file (refusing to touch it)")
        if p.parent and not p.parent.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(p), read_only=read_only)
        except duckdb.Error as exc:  # corrupt file, lock held by another process, ...
            raise StoreError(f"{p}: cannot open database: {exc}") from exc
        con.execute("SET enable_progress_bar = false")
        store = cls(con, str(p))
        try:
            if read_only:
                store._check_signature({r[0] for r in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()})
            else:
                store._migrate()
        except BaseException:
            con.close()
            raise
        return store

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------- migration
    def schema_version(self) -> int:
        row = self.one("SELECT max(version) FROM schema_version")
        return int(row[0]) if row and row[0] is not None else 0

    def _columns_of(self, con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
        rows = con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns() "
                           "WHERE schema_name = 'main' ORDER BY table_name, column_index").fetchall()
        out: dict[str, list[tuple[str, str]]] = {}
        for table, column, dtype in rows:
            out.setdefault(table, []).append((column, dtype))
        return out

    def _is_unsigned_corridor_store(self, tables: set[str]) -> bool:
        """A store made before :data:`STORE_SIGNATURE` existed: corridor's core tables, and
        every table with a corridor name having exactly the columns corridor's DDL gives it
        (tables a user added beside them are left alone)."""
        if not {"schema_version", "ingest_log", "positions"} <= tables:
            return False
        ref = duckdb.connect()
        try:
            for ddl in DDL.values():
                ref.execute(ddl)
            expected = self._columns_of(ref)
        finally:
            ref.close()
        found = self._columns_of(self.con)
        return all(found.get(t) == expected[t] for t in tables & set(expected))

    def _check_signature(self, tables: set[str]) -> bool:
        """Raise StoreError unless this file is a corridor store (or empty); True if signed."""
        if STORE_META in tables:
            row = self.one(f"SELECT value FROM {STORE_META} WHERE key = 'application_id'")
            if row is None or row[0] != STORE_SIGNATURE:
                raise StoreError(f"{self.path}: its {STORE_META} table does not name corridor; it was "
                                 "not made by corridor (refusing to modify it)")
            return True
        if tables and not self._is_unsigned_corridor_store(tables):
            raise StoreError(
                f"{self.path}: a DuckDB file with tables {sorted(tables)[:5]} that corridor did not "
                "make (no corridor signature, and not corridor's tables); refusing to modify it"
            )
        return False

    def _sign(self) -> None:
        self.con.execute(STORE_META_DDL)
        self.con.execute(f"INSERT INTO {STORE_META} VALUES ('application_id', ?)", [STORE_SIGNATURE])

    def _migrate(self) -> None:
        tables = {r[0] for r in self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
        signed = self._check_signature(tables)
        if not tables:
            with self.transaction():
                for ddl in DDL.values():
                    self.con.execute(ddl)
                self.con.execute("INSERT INTO schema_version (version) VALUES (?)", [SCHEMA_VERSION])
                self._sign()
            return
        if not signed:  # a store of an earlier corridor: signed now, nothing else changes
            with self.transaction():
                self._sign()
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: schema version {current} is newer than this corridor understands "
                f"({SCHEMA_VERSION}); upgrade corridor (the file was left untouched)"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            step = MIGRATIONS.get(version)
            if step is None:
                raise StoreError(f"{self.path}: no migration from schema {version - 1} to {version}")
            with self.transaction():
                step(self.con)
                self.con.execute("INSERT INTO schema_version (version) VALUES (?)", [version])
        # Tables added without a version bump (new, empty tables) are created here.
        for ddl in DDL.values():
            self.con.execute(ddl)

    # ----------------------------------------------------------- transactions
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing block: commit on success, roll back on any exception (incl. Ctrl-C)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    @contextmanager
    def memory_limit(self, mb: int) -> Iterator[None]:
        """Cap DuckDB's memory at ``mb`` megabytes inside the block (restored after).

        DuckDB keeps every block it reads or writes cached up to its limit (80 % of RAM by
        default), so one pass over a large file or table would hold memory it never uses
        again; beyond the cap, cached blocks are dropped and queries spill to disk.
        """
        old = self.one("SELECT current_setting('memory_limit')")[0]
        self.con.execute(f"SET memory_limit = '{mb}MB'")
        try:
            yield
        finally:
            # the setting reads back rounded ("18.8 GiB"): setting that back would drift
            # from the default (80 % of RAM) a little each time, so the default is reset;
            # a limit set by the caller comes back within that rounding
            self.con.execute("RESET memory_limit")
            if self.one("SELECT current_setting('memory_limit')")[0] != old:
                self.con.execute(f"SET memory_limit = '{old}'")

    # ------------------------------------------------------------------ writes
    def insert_arrow(self, table: str, data: pa.Table, *, on_conflict: str = "ignore",
                     seen: SeenKeys | None = None) -> int:
        """Insert an Arrow table by column name; returns the number of rows actually added.

        ``on_conflict``: ``ignore`` keeps existing rows with the same primary key (idempotent
        re-ingest), ``replace`` overwrites them, ``error`` raises. ``seen``: the keys offered
        so far by the same ingest (:class:`SeenKeys`), which lets a batch of new times skip
        the lookup of stored rows.
        """
        if data.num_rows == 0:
            return 0
        verb = {"ignore": "INSERT OR IGNORE", "replace": "INSERT OR REPLACE", "error": "INSERT"}[
            on_conflict
        ]
        before = self.count(table)
        data = pa.Table.from_batches(data.to_batches(max_chunksize=INSERT_BATCH_ROWS), data.schema)
        try:
            if table in DEDUP_KEYS and on_conflict == "ignore":
                self._insert_new(table, data, seen)
            else:
                self.con.register("_corridor_insert", data)
                self.con.execute(f"{verb} INTO {table} BY NAME SELECT * FROM _corridor_insert")
        finally:
            self.con.unregister("_corridor_insert")
        return self.count(table) - before

    def _insert_new(self, table: str, data: pa.Table, seen: SeenKeys | None = None) -> None:
        """Insert the rows of ``data`` whose key is not stored yet (see ``schema.DEDUP_KEYS``).

        Repeats inside the batch are found with one sort of its keys (the first row of each
        key is kept); stored rows are looked up only within the batch's time range, where a
        repeat must be (the key hashes the time), so DuckDB's zone maps skip the rest of the
        table. With ``seen``, repeats of the ingest's earlier batches are dropped in memory
        and the lookup is skipped when the batch's times lie outside those stored before the
        ingest.
        """
        key, ts = DEDUP_KEYS[table]
        data, ordered = _first_of_each_key(data, key)
        if seen is not None and seen.active:
            data = seen.drop_seen(data)
        window = "TRUE"
        lookup = True
        if ts:
            lo, hi = _time_range_us(data.column(ts))
            if lo is not None:
                window = f"{ts} BETWEEN make_timestamp({lo}) AND make_timestamp({hi})"
            lookup = seen is None or not seen.active or seen.overlaps_before(lo, hi)
        self.con.register("_corridor_insert", data)
        # The stored repeats of this batch, found by probing the stored keys in the window
        # against a hash table of the batch (built once) rather than hashing every stored key
        # of the window (NOT IN): 2x faster at 2M stored rows, and the gap grows with the
        # store. Usually none, then the batch goes in as it is.
        stored = self.query(
            f"SELECT {key} FROM {table} WHERE {window} "
            f"AND {key} IN (SELECT {key} FROM _corridor_insert)"
        ).column(0) if lookup else []
        if seen is not None and seen.active:
            offered = data.num_rows
            seen.add(ordered if offered == len(ordered) else np.sort(data.column(key).to_numpy()))
        if len(stored):
            data = data.filter(pc.invert(pc.is_in(data.column(key), value_set=stored)))
            self.con.unregister("_corridor_insert")
            self.con.register("_corridor_insert", data)
        self.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _corridor_insert")

    def columns(self, table: str) -> list[str]:
        """Column names of a stored table, in order."""
        rows = self.con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
            [table],
        ).fetchall()
        return [r[0] for r in rows]

    def count(self, table: str) -> int:
        return int(self.one(f"SELECT count(*) FROM {table}")[0])

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        """Run a query and return every row as an Arrow table (see :func:`fetch_arrow`)."""
        return fetch_arrow(self.con, sql, params)

    def one(self, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
        """The first row of a one-row query, or None, leaving no result pending (see
        :func:`fetch_one`); never ``self.con.execute(...).fetchone()``."""
        return fetch_one(self.con, sql, params)

    # -------------------------------------------------------------- ingest log
    def find_ingest(self, content_sha256: str, kind: str) -> IngestRecord | None:
        """The last ingest of these exact bytes as this kind, if any."""
        row = self.one(
            "SELECT ingest_id, status, content_sha256, path FROM ingest_log "
            "WHERE content_sha256 = ? AND kind = ? ORDER BY ingest_id DESC LIMIT 1",
            [content_sha256, kind],
        )
        return IngestRecord(*row) if row else None

    def begin_ingest(self, kind: str, path: str, size_bytes: int | None, content_sha256: str) -> int:
        """Record the start of an ingest (committed at once) and return its id."""
        row = self.one("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingest_log")
        ingest_id = int(row[0])
        self.con.execute(
            "INSERT INTO ingest_log (ingest_id, kind, path, size_bytes, content_sha256, started_at, "
            "status) VALUES (?, ?, ?, ?, ?, ?, 'running')",
            [ingest_id, kind, path, size_bytes, content_sha256, utcnow()],
        )
        return ingest_id

    def finish_ingest(
        self,
        ingest_id: int,
        status: str,
        *,
        rows_in: int | None = None,
        rows_stored: int | None = None,
        counts: dict[str, Any] | None = None,
        message: str | None = None,
    ) -> None:
        self.con.execute(
            "UPDATE ingest_log SET finished_at = ?, status = ?, rows_in = ?, rows_stored = ?, "
            "counts = ?, message = ? WHERE ingest_id = ?",
            [utcnow(), status, rows_in, rows_stored, json.dumps(counts or {}), message, ingest_id],
        )


def sha256_file(path: str | os.PathLike[str], chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes (the identity of an ingested file).

    Raises OSError for anything but a regular file: a FIFO or a device would block or never
    end (while the caller holds the store), a directory has no bytes.
    """
    h = hashlib.sha256()
    # O_NONBLOCK: opening a FIFO for reading would wait for a writer; fstat of what was
    # opened (not a stat of the name before) so that nothing can be swapped in between
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        what = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a directory" if stat.S_ISDIR(st.st_mode) \
            else "a device or socket"
        raise OSError(errno.EINVAL, f"{what}, not a regular file", str(path))
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as fh:
        while chunk := fh.read(chunk_bytes):
            h.update(chunk)
    return h.hexdigest()
