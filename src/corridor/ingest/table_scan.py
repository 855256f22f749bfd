"""One pass over a position table's normalised rows: a CSV is parsed once.

Parsing text is most of what a CSV costs (10M MarineCadastre rows: 4.4 CPU s to split the
fields, 8.5 CPU s with the normalisation). corridor used to read a CSV three times: an
aggregate pass for the counts and static values, one for the line numbers of unusable rows
and one to stream the usable rows (20.8 CPU s of reading for those 10M rows). This pass reads
the normalised rows (see :func:`corridor.ingest.tables.normalise_sql`) once, as Arrow
batches in file order, and takes from each batch everything the ingest needs before it
stores anything:

* rows per reason (``None``: usable), for the summary and ``--strict``;
* the first row numbers of each reason, for the summary's example lines;
* the raw static values grouped per vessel with their first time, merged into the static
  reports afterwards (:func:`corridor.ingest.tables.static_sql`);
* the usable position rows, staged in an Arrow IPC file, which the store then reads back
  one batch at a time.

So the counts are settled (and ``--strict`` can refuse the file) before the first row is
stored, as with a table read twice. The staged file lives in the reading connection's
private scratch folder and goes with it, also after an error. An Arrow IPC file, not
Parquet: writing the normalised rows with DuckDB's Parquet writer took 14-15 CPU s for 10M
rows (its string columns alone about 6), the Arrow batches 9.1 CPU s; the staged positions
are written and read back for about 0.5 CPU s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

#: Static groups kept before the partial groups of several batches are merged (bounds the
#: memory of a file with many vessels, or of a long file)
STATIC_GROUPS_MERGE_ROWS = 1_000_000


#: The staged rows are compressed with Zstandard: 10M MarineCadastre positions take 30 MB
#: instead of 446 MB of scratch space, for 0.35 CPU s written and 0.2 read (0.12 and 0.3
#: uncompressed; LZ4: 70 MB, 0.31 and 0.24)
_STAGED_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")


@dataclass(frozen=True)
class TableScan:
    """What one pass over a table's normalised rows found.

    ``rows_by_reason``: rows per reason, ``None`` for usable rows. ``example_rows``: the
    first row numbers (1-based, among the rows the reader returned) of each reason.
    ``static_groups``: reason, mmsi, the raw static columns and ``ts`` (the group's first
    time), one row per distinct group (None when the layout has no static columns or the
    file no rows). ``staged``: the Arrow IPC file of the usable position rows (absent when
    there are none), ``staged_rows`` their number.
    """

    rows_by_reason: dict[str | None, int]
    example_rows: dict[str, list[int]]
    static_groups: pa.Table | None
    staged: Path
    staged_rows: int


class _StaticGroups:
    """The raw static values of every row, grouped batch by batch
    (Arrow's hash grouping on one thread: 0.10 CPU s per million rows, against 0.17 for
    DuckDB on one thread; null is a value of its own in both)."""

    def __init__(self, static_columns: list[str]) -> None:
        self.keys = ["reason", "mmsi", *static_columns]
        self.parts: list[pa.Table] = []
        self.rows = 0

    def _group(self, tbl: pa.Table) -> pa.Table:
        out = tbl.group_by(self.keys, use_threads=False).aggregate([("ts", "min")])
        return out.rename_columns([c if c != "ts_min" else "ts" for c in out.column_names]) \
            .select([*self.keys, "ts"])

    def add(self, batch: pa.Table) -> None:
        # every row: the reason is a key, and static_sql keeps the groups of usable rows
        # and other message types (filtering the rows first copied their text: 2x the time)
        part = self._group(batch.select([*self.keys, "ts"]))
        self.parts.append(part)
        self.rows += part.num_rows
        if self.rows > STATIC_GROUPS_MERGE_ROWS and len(self.parts) > 1:
            self.parts = [self._group(pa.concat_tables(self.parts))]
            self.rows = self.parts[0].num_rows

    def result(self) -> pa.Table | None:
        if not self.parts:
            return None
        return self.parts[0] if len(self.parts) == 1 else self._group(pa.concat_tables(self.parts))


def rebatch(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Consecutive record batches gathered into tables of at least ``rows`` rows (the last
    may have fewer).

    DuckDB 2 streams a CSV in record batches of about 70,000 rows and a Parquet file in
    122,880, whatever batch size is asked for; each batch the store gets costs two counts,
    a lookup and a search through the keys of every earlier batch (``store.SeenKeys``).

    >>> b = pa.record_batch({"a": [1, 2, 3]})
    >>> [t.num_rows for t in rebatch([b, b, b], 5)]
    [6, 3]
    """
    pending: list[pa.RecordBatch] = []
    n = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        n += batch.num_rows
        if n >= rows:
            yield pa.Table.from_batches(pending)
            pending, n = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def scan_once(
    batches: Iterable[pa.Table],
    position_fields: tuple[str, ...],
    static_columns: list[str],
    staged: Path,
    examples_per_reason: int,
) -> TableScan:
    """Read normalised batches (columns ``reason``, ``position_fields`` and
    ``static_columns``) once, in file order; see the module docstring."""
    counts: dict[str | None, int] = {}
    examples: dict[str, list[int]] = {}
    statics = _StaticGroups(static_columns) if static_columns else None
    writer: pa.ipc.RecordBatchFileWriter | None = None
    sink = None
    offset = 0  # rows before this batch
    staged_rows = 0
    try:
        for batch in batches:
            n = batch.num_rows
            if n == 0:
                continue
            reason = batch.column("reason").combine_chunks()
            bad = n - reason.null_count
            counts[None] = counts.get(None, 0) + n - bad
            if bad:
                _count_reasons(reason, offset, counts, examples, examples_per_reason)
            if statics is not None:
                statics.add(batch)
            good = batch.select(list(position_fields))
            if bad:
                good = good.filter(pc.is_null(reason))
            offset += n
            if good.num_rows == 0:
                continue
            if writer is None:
                sink = pa.OSFile(str(staged), "wb")
                writer = pa.ipc.new_file(sink, good.schema, options=_STAGED_OPTIONS)
            writer.write_table(good)
            staged_rows += good.num_rows
    finally:
        close = getattr(batches, "close", None)
        if close is not None:  # a reader thread stops before its connection is closed
            close()
        if writer is not None:
            writer.close()
        if sink is not None:
            sink.close()
        groups = statics.result() if statics is not None else None
    return TableScan(counts, examples, groups, staged, staged_rows)


def _count_reasons(reason: pa.Array, offset: int, counts: dict[str | None, int],
                   examples: dict[str, list[int]], per_reason: int) -> None:
    """Add a batch's unusable rows to ``counts`` and their first row numbers to ``examples``."""
    where = pc.indices_nonzero(pc.is_valid(reason))
    labels = reason.take(where)
    vc = pc.value_counts(labels)
    for value, count in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True):
        counts[value] = counts.get(value, 0) + int(count)
        have = examples.setdefault(value, [])
        need = per_reason - len(have)
        if need > 0:
            rows = where.filter(pc.equal(labels, value)).to_numpy()[:need]
            have.extend(int(r) for r in rows + offset + 1)


def staged_batches(staged: Path, rows: int, batch_rows: int) -> Iterator[pa.Table]:
    """The ``rows`` staged position rows, ``batch_rows`` at a time (read, not memory-mapped:
    the pages of a mapped file would count in the process's resident memory)."""
    if rows == 0:
        return
    with pa.OSFile(str(staged), "rb") as fh:
        reader = pa.ipc.open_file(fh)
        yield from rebatch((reader.get_batch(i) for i in range(reader.num_record_batches)), batch_rows)

