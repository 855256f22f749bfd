"""What happened to each ingested file, and the all-or-nothing frame every ingest runs in.

Every ingest command reads a file into one or more canonical tables. The frame is the same
for all of them, so it lives here once:

1. hash the file's bytes; if these exact bytes were already ingested as this kind, say so
   and add nothing (idempotent re-runs);
2. record the start in ``ingest_log`` (committed at once, status ``running``);
3. stream the parser's Arrow batches into the store inside one transaction, so a crash or
   Ctrl-C leaves the database as it was before the file; a file bigger than
   :data:`COMMIT_ROWS` is committed in whole parts (memory stays bounded), recorded as
   ``partial`` until done, and finished by running the same ingest again;
4. record the outcome: counts stored per table, counts skipped per reason with the first
   few line numbers of each, and status ``done`` (or ``failed`` with the message).

A parser is a function ``parse(path, summary) -> Iterator[tuple[str, pa.Table]]`` yielding
``(table_name, batch)`` pairs and calling ``summary.skip(reason, line_no, detail)`` for every
input it cannot use. It never writes to the store itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from corridor.display import terminal_safe
from corridor.schema import DEDUP_KEYS
from corridor.store import SeenKeys, Store, sha256_file
from corridor.workers import sigterm_as_interrupt

#: Reasons that describe input which is valid but not what this table holds (e.g. AIS
#: base-station reports in a position file). Counted and shown, but not "skipped" errors.
INFO_REASONS = frozenset({"other_type", "not_a_vessel"})

#: How many example line numbers to keep per skip reason.
EXAMPLES_PER_REASON = 5

Parser = Callable[[Path, "IngestSummary"], Iterator[tuple[str, pa.Table]]]


class IngestError(Exception):
    """A file that cannot be ingested at all (corrupt, binary, wrong layout)."""


@dataclass
class IngestSummary:
    """Counts for one file. ``status``: done, skipped_duplicate, failed, partial."""

    path: str
    kind: str
    status: str = "running"
    ingest_id: int | None = None
    rows_in: int = 0
    stored: dict[str, int] = field(default_factory=dict)
    offered: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[int]] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    message: str | None = None

    def skip(self, reason: str, line_no: int | None = None, detail: str | None = None) -> None:
        """Count one unusable input under ``reason``; keep the first few line numbers."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if line_no is not None:
            ex = self.examples.setdefault(reason, [])
            if len(ex) < EXAMPLES_PER_REASON:
                ex.append(line_no)
        if detail and reason not in self.details:
            self.details[reason] = detail

    @property
    def total_skipped(self) -> int:
        """Unusable inputs (excluding the informational :data:`INFO_REASONS`)."""
        return sum(n for r, n in self.skipped.items() if r not in INFO_REASONS)

    @property
    def duplicates(self) -> int:
        """Rows offered to the store that it already held (same obs_id / primary key)."""
        return sum(self.offered.get(t, 0) - self.stored.get(t, 0) for t in self.offered)

    def as_counts(self) -> dict:
        return {
            "stored": self.stored,
            "offered": self.offered,
            "skipped": self.skipped,
            "examples": self.examples,
            "details": self.details,
        }

    def lines(self) -> list[str]:
        """Human-readable summary lines (the CLI prints these; control characters in a
        file name or message are shown as escapes)."""
        return [terminal_safe(line) for line in self._lines()]

    def _lines(self) -> list[str]:
        if self.status == "skipped_duplicate":
            return [f"{self.path}: already ingested (ingest #{self.ingest_id}); nothing added"]
        if self.status in ("failed", "partial"):
            return [f"{self.path}: error: {self.message}"]
        stored = ", ".join(f"{n:,} {t}" for t, n in sorted(self.stored.items())) or "nothing"
        out = [f"{self.path}: stored {stored} from {self.rows_in:,} input rows"]
        if self.duplicates:
            out.append(f"  {self.duplicates:,} already in the store (duplicates), not added again")
        for reason, n in sorted(self.skipped.items(), key=lambda kv: -kv[1]):
            where = self.examples.get(reason)
            at = f" (lines {', '.join(map(str, where))}{', …' if n > len(where) else ''})" if where else ""
            detail = f": {self.details[reason]}" if reason in self.details else ""
            verb = "not stored" if reason in INFO_REASONS else "skipped"
            out.append(f"  {verb}: {n:,} {reason}{at}{detail}")
        return out


def error_line(exc: BaseException) -> str:
    """One line saying what went wrong, for a file's summary (no traceback).

    >>> error_line(IngestError("binary data, not an NMEA text log"))
    'binary data, not an NMEA text log'
    >>> error_line(OSError(28, "No space left on device", "/data/x.duckdb"))
    'cannot write or read /data/x.duckdb: No space left on device'
    """
    if isinstance(exc, IngestError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        where = f" {exc.filename}" if exc.filename else ""
        return f"cannot write or read{where}: {exc.strerror}"
    if isinstance(exc, MemoryError):
        return "out of memory reading this file"
    if isinstance(exc, RecursionError):
        return "nested too deeply to read"
    text = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _quietly(run: Callable[[], object]) -> None:
    try:
        run()
    except Exception:  # noqa: S110 - best effort (e.g. no transaction left to roll back)
        pass


#: Rows stored per transaction. A file of up to this many rows is all-or-nothing; a bigger
#: one is committed in whole parts of this size (bounded memory: DuckDB holds an open
#: transaction's rows in memory), recorded as ``partial`` until its last part is in, and
#: finished by running the same ingest again (rows already stored are not added twice).
COMMIT_ROWS = 2_000_000

#: DuckDB's memory limit while a file is stored. Uncapped, the store kept every block it
#: wrote cached: 29 MB per million positions, 285 MB at 10M rows (measured).
INGEST_MEMORY_MB = 256


def ingest_file(
    store: Store, path: Path, kind: str, parse: Parser, *, force: bool = False,
    commit_rows: int = COMMIT_ROWS,
) -> IngestSummary:
    """Run ``parse`` over ``path`` and store its batches; see the module docstring.

    ``force`` re-reads a file whose bytes were already ingested (rows already stored are
    still not duplicated, since every table is keyed by a content id).
    """
    summary = IngestSummary(path=str(path), kind=kind)
    try:
        digest = sha256_file(path)
        size = os.path.getsize(path)
    except OSError as exc:
        summary.status, summary.message = "failed", f"cannot read: {exc.strerror or exc}"
        return summary
    try:
        previous = store.find_ingest(digest, kind)
        if previous is not None and previous.status == "done" and not force:
            summary.status, summary.ingest_id = "skipped_duplicate", previous.ingest_id
            return summary
        summary.ingest_id = store.begin_ingest(kind, str(path), size, digest)
    except Exception as exc:  # the store cannot be written (full disk, read-only file)
        summary.status, summary.message = "failed", f"cannot record the ingest: {error_line(exc)}"
        return summary
    parts = 0
    pending_rows = 0
    pending: dict[str, list[int]] = {}  # table -> [offered, stored] not yet committed

    def commit() -> None:
        nonlocal parts, pending_rows
        store.con.execute("COMMIT")
        for table, (offered, stored) in pending.items():
            summary.offered[table] = summary.offered.get(table, 0) + offered
            summary.stored[table] = summary.stored.get(table, 0) + stored
        pending.clear()
        parts += 1
        pending_rows = 0

    interrupted: BaseException | None = None
    seen: dict[str, SeenKeys] = {}  # keys offered so far, per table (made at its first batch)
    has_ingest_id: dict[str, bool] = {}
    # kill PID (SIGTERM) runs the same clean-up as Ctrl-C: rolled back, recorded as interrupted
    with sigterm_as_interrupt(), store.memory_limit(INGEST_MEMORY_MB):  # blocks would stay cached
        store.con.execute("BEGIN TRANSACTION")
        try:
            for table, batch in parse(path, summary):
                if batch.num_rows == 0:
                    continue
                if table not in has_ingest_id:
                    has_ingest_id[table] = "ingest_id" in store.columns(table)
                if has_ingest_id[table] and "ingest_id" not in batch.column_names:
                    batch = batch.append_column(
                        "ingest_id", pa.array(np.full(batch.num_rows, summary.ingest_id, dtype=np.int64))
                    )
                if table in DEDUP_KEYS and table not in seen:
                    seen[table] = SeenKeys(store, table)
                added = store.insert_arrow(table, batch, on_conflict="ignore", seen=seen.get(table))
                counts = pending.setdefault(table, [0, 0])
                counts[0] += batch.num_rows
                counts[1] += added
                pending_rows += batch.num_rows
                if pending_rows >= commit_rows:
                    commit()
                    store.con.execute("UPDATE ingest_log SET status = 'partial' WHERE ingest_id = ?",
                                      [summary.ingest_id])
                    store.con.execute("BEGIN TRANSACTION")
            commit()
            summary.status = "done"
        except BaseException as exc:
            _quietly(lambda: store.con.execute("ROLLBACK"))  # a failed write may have ended it
            summary.status = "partial" if parts else "failed"
            if isinstance(exc, Exception):
                # whatever one file causes (corrupt bytes, a full disk, an unreadable share,
                # a decoder's bug) fails that file with one line; the batch goes on
                summary.message = error_line(exc)
            else:  # Ctrl-C, SIGTERM: record what is in the store, then let it propagate
                summary.message = f"interrupted: {type(exc).__name__}"
                interrupted = exc
            if parts:
                summary.message += (f"; {sum(summary.stored.values()):,} rows of the first {parts} "
                                    "part(s) are stored: run the same ingest again to finish the file")
    try:
        store.finish_ingest(
            summary.ingest_id,
            summary.status,
            rows_in=summary.rows_in,
            rows_stored=sum(summary.stored.values()),
            counts=summary.as_counts(),
            message=summary.message,
        )
    except Exception as exc:  # the store itself cannot be written (full disk, lost file)
        if summary.status == "done":
            summary.status = "failed"
        summary.message = ((summary.message + "; ") if summary.message else "") + \
            f"the ingest log could not be updated: {error_line(exc)}"
    if interrupted is not None:
        raise interrupted
    return summary


def ingest_to_archive(archive_dir: Path, path: Path, kind: str, parse: Parser) -> IngestSummary:
    """Run ``parse`` over ``path`` and append its batches to a Parquet archive, not a store.

    For inputs too big for one DuckDB file (see :mod:`corridor.archive`). The archive is
    append-only: each batch becomes new files; repeats of an ``obs_id`` (the same file twice)
    are dropped by whoever reads it (both engines do). A file that fails midway keeps the
    batches already written, and the summary says how many.
    """
    from corridor import archive

    appenders = {"positions": archive.append_positions,
                 "vessel_reports": archive.append_vessel_reports}
    summary = IngestSummary(path=str(path), kind=kind)
    try:
        for table, batch in parse(path, summary):
            if batch.num_rows == 0:
                continue
            if table not in appenders:
                raise IngestError(f"{table} rows cannot go to an archive")
            appenders[table](batch, archive_dir)
            summary.offered[table] = summary.offered.get(table, 0) + batch.num_rows
            summary.stored[table] = summary.stored.get(table, 0) + batch.num_rows
        summary.status = "done"
    except Exception as exc:  # one line, and the batch goes on (e.g. an unwritable archive)
        summary.status = "partial" if summary.stored else "failed"
        summary.message = error_line(exc)
        if summary.stored:
            summary.message += f"; {sum(summary.stored.values()):,} rows already written to {archive_dir}"
    return summary


#: Exit codes of ingest commands.
EXIT_OK, EXIT_FAILED, EXIT_SKIPPED = 0, 1, 3


def exit_code(results: list[IngestSummary], missing: list[str] | None = None) -> int:
    """0: everything stored; 1: a file was missing or not (fully) ingested; 3: rows were skipped."""
    if missing or any(r.status in ("failed", "partial") for r in results):
        return EXIT_FAILED
    if any(r.total_skipped for r in results):
        return EXIT_SKIPPED
    return EXIT_OK
