"""The Parquet archive: canonical tables as partitioned Parquet, read by every engine.

A DuckDB file holds a region and a season; a global, multi-year AIS archive does not fit in
one. The archive is the hand-over format between the two: a directory that both the local
engine (through DuckDB / Arrow) and the Spark engine (through ``spark.read.parquet``) read,
with the same columns, the same ``obs_id``\\ s and the same partitioning.

Layout (Hive-style partitioning, so DuckDB, Arrow, Spark, Polars, Trino... all read it)::

    ARCHIVE/
      _corridor_archive.json            format, version, n_buckets, rows per table
      positions/day=2022-01-03/bucket=17/data_0.parquet
      vessel_reports/day=.../bucket=.../...  static reports (identity changes need them)
      events/day=.../bucket=.../...      (``corridor export events`` or the Spark engine)
      shipments/day=.../bucket=.../...
      places/places.parquet              the gazetteer, so the archive is self-contained

- ``day`` is the UTC date (``YYYY-MM-DD``) of the row's time (positions, reports: ``ts``; events:
  ``start_ts``; shipments: the first known of depart/arrive bounds; ``day=none`` if none);
- ``bucket`` is the vessel hash bucket ``corridor.ids.combine_u64(mmsi) mod n_buckets``
  (a row without MMSI hashes MMSI 0). A stable hash, not DuckDB's ``hash()`` (which is
  not promised stable across releases) and not Spark's (a different function): the
  bucket a vessel lands in is the same for every writer, so one vessel's day is in one
  directory whichever program wrote it.

The partition columns live in the directory names only; files hold the canonical columns
(:data:`corridor.schema.POSITIONS`, :data:`corridor.schema.EVENTS`), and the readers here
return exactly those schemas. Position and event files are also GeoParquet 1.1: a WKB point
``geometry`` column built from ``lon``/``lat`` (null where an event has no position) and the
``geo`` metadata naming it, so QGIS, geopandas, GDAL or DuckDB spatial open them as layers
(the canonical readers drop the column).

Writes never leave a half-written table: an export is written to a hidden sibling
directory and renamed into place; appends (:func:`append_positions`) add new files with
unique names and never rewrite existing ones.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from corridor.ids import combine_u64
from corridor.schema import EVENTS, POSITIONS, VESSEL_REPORTS
from corridor.store import Store, utcnow

ARCHIVE_FORMAT = "corridor-archive"
ARCHIVE_VERSION = 1
MANIFEST = "_corridor_archive.json"
#: Vessel hash buckets per day. 64 keeps a day of global AIS (100-300 M positions) at
#: 2-5 M rows per file, and a regional day at a handful of small files.
DEFAULT_BUCKETS = 64
#: Tables an archive may hold (positions/events/shipments partitioned; places single file).
TABLES = ("positions", "vessel_reports", "events", "shipments", "places")
PARTITIONING = ds.partitioning(
    pa.schema([("day", pa.string()), ("bucket", pa.int32())]), flavor="hive"
)
NO_DAY = "none"


class ArchiveError(RuntimeError):
    """A directory that is not a corridor archive, or an incompatible one."""


@dataclass(frozen=True)
class ExportSummary:
    """What an export or append wrote."""

    table: str
    path: str
    rows: int
    days: int
    files: int


# --------------------------------------------------------------------------- buckets
def vessel_bucket(mmsi: np.ndarray | pa.Array | Sequence[int], n_buckets: int) -> np.ndarray:
    """Vessel hash bucket (int32 in ``[0, n_buckets)``) of each MMSI; null MMSI -> MMSI 0.

    >>> b = vessel_bucket([273123456, 273123456, 412000001], 64)
    >>> bool(b[0] == b[1]), b.dtype.name, bool(((b >= 0) & (b < 64)).all())
    (True, 'int32', True)
    """
    if n_buckets < 1:
        raise ValueError(f"n_buckets must be >= 1, got {n_buckets}")
    if isinstance(mmsi, (pa.Array, pa.ChunkedArray)):
        arr = pc.fill_null(mmsi, 0).to_numpy(zero_copy_only=False)
    else:
        arr = np.asarray(mmsi, dtype=np.int64)
    h = combine_u64(arr.astype(np.int64, copy=False))
    # numpy's % with a positive divisor is non-negative for negative hashes too.
    return (h % np.int64(n_buckets)).astype(np.int32)


def day_strings(ts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``YYYY-MM-DD`` of each timestamp (UTC), ``none`` where null."""
    days = pc.strftime(ts, format="%Y-%m-%d")
    return pc.fill_null(days, NO_DAY)


# --------------------------------------------------------------------------- manifest
def table_path(archive_dir: str | os.PathLike[str], table: str) -> Path:
    """The directory of one table inside an archive."""
    if table not in TABLES:
        raise ArchiveError(f"unknown archive table {table!r} (one of {', '.join(TABLES)})")
    return Path(archive_dir) / table


def read_manifest(archive_dir: str | os.PathLike[str]) -> dict:
    """The archive's manifest; :class:`ArchiveError` if the directory is not an archive."""
    p = Path(archive_dir) / MANIFEST
    if not p.is_file():
        raise ArchiveError(f"{archive_dir}: not a corridor archive (no {MANIFEST})")
    try:
        manifest = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArchiveError(f"{p}: unreadable archive manifest: {exc}") from exc
    if manifest.get("format") != ARCHIVE_FORMAT:
        raise ArchiveError(f"{p}: not a corridor archive manifest")
    if int(manifest.get("version", 0)) > ARCHIVE_VERSION:
        raise ArchiveError(
            f"{p}: archive version {manifest.get('version')} is newer than this corridor "
            f"understands ({ARCHIVE_VERSION}); upgrade corridor"
        )
    return manifest


def _open_manifest(archive_dir: Path, n_buckets: int | None) -> dict:
    """Existing manifest (checking ``n_buckets`` agrees) or a new one."""
    if (archive_dir / MANIFEST).is_file():
        manifest = read_manifest(archive_dir)
        if n_buckets is not None and int(manifest["n_buckets"]) != n_buckets:
            raise ArchiveError(
                f"{archive_dir}: archive uses {manifest['n_buckets']} vessel buckets, "
                f"not {n_buckets}; write to a new directory or use the same number"
            )
        return manifest
    if archive_dir.exists() and any(archive_dir.iterdir()):
        raise ArchiveError(
            f"{archive_dir}: directory exists, is not empty and is not a corridor archive "
            "(refusing to write into it)"
        )
    return {
        "format": ARCHIVE_FORMAT,
        "version": ARCHIVE_VERSION,
        "n_buckets": n_buckets or DEFAULT_BUCKETS,
        "bucket": "corridor.ids.combine_u64(mmsi) mod n_buckets; null mmsi as 0",
        "partitioning": ["day", "bucket"],
        "tables": {},
    }


def _write_manifest(archive_dir: Path, manifest: dict) -> None:
    archive_dir.mkdir(parents=True, exist_ok=True)
    tmp = archive_dir / f".{MANIFEST}.{uuid.uuid4().hex}"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, archive_dir / MANIFEST)


def _swap_in(tmp_dir: Path, final_dir: Path) -> None:
    """Replace ``final_dir`` by ``tmp_dir`` (two renames; the old copy is removed last)."""
    old = None
    if final_dir.exists():
        old = final_dir.with_name(f".{final_dir.name}.old-{uuid.uuid4().hex}")
        os.replace(final_dir, old)
    os.replace(tmp_dir, final_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _count_files(d: Path) -> tuple[int, int]:
    files = list(d.rglob("*.parquet"))
    days = {p.parent.parent.name for p in files if p.parent.name.startswith("bucket=")}
    return len(files), len(days)


def _record(manifest: dict, table: str, rows: int, how: str) -> None:
    manifest["tables"][table] = {
        "rows": rows,
        "written_at": utcnow().isoformat(timespec="seconds"),
        "how": how,
    }


# --------------------------------------------------------------------------- export (DuckDB)
_EXPORT_SQL = {
    # Each SELECT yields the canonical columns plus ``day``; the bucket joins on mmsi.
    "positions": (
        "SELECT {cols}, strftime(ts, '%Y-%m-%d') AS day FROM positions {where}",
        "ts",
    ),
    "vessel_reports": (
        "SELECT {cols}, coalesce(strftime(ts, '%Y-%m-%d'), 'none') AS day "
        "FROM vessel_reports {where}",
        "ts",
    ),
    "events": (
        "SELECT {cols}, coalesce(strftime(start_ts, '%Y-%m-%d'), 'none') AS day "
        "FROM events {where}",
        "start_ts",
    ),
    "shipments": (
        "SELECT {cols}, coalesce(strftime(coalesce(depart_earliest, depart_latest, "
        "arrive_earliest, arrive_latest), '%Y-%m-%d'), 'none') AS day FROM shipments {where}",
        "coalesce(depart_earliest, depart_latest, arrive_earliest, arrive_latest)",
    ),
}
_ORDER = {
    "positions": "mmsi, ts, obs_id",
    "vessel_reports": "mmsi, ts, obs_id",
    "events": "mmsi, start_ts, event_id",
    "shipments": "mmsi, shipment_id",
}


def _export_columns(store: Store, table: str) -> str:
    """Canonical columns to export; JSON as text (Parquet JSON would come back typed)."""
    if table == "positions":
        names = POSITIONS.names
    elif table == "vessel_reports":
        names = VESSEL_REPORTS.names
    elif table == "events":
        names = EVENTS.names
    else:
        names = [c for c in store.columns(table) if c != "ingest_id"]
    json_cols = {
        r[0]
        for r in store.con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND data_type = 'JSON'",
            [table],
        ).fetchall()
    }
    return ", ".join(f"CAST({c} AS VARCHAR) AS {c}" if c in json_cols else c for c in names)


#: tables whose files carry a GeoParquet point geometry (from their lon/lat columns)
GEO_TABLES = ("positions", "events")


def _add_geometry(directory: Path) -> None:
    """Rewrite each Parquet file under ``directory`` as GeoParquet (a WKB point ``geometry``
    column and ``geo`` metadata). DuckDB's COPY cannot make WKB without its spatial
    extension (a download), so the files it wrote are rewritten here, one at a time."""
    import pyarrow.parquet as pq

    from corridor.export import with_point_geometry

    for f in sorted(directory.rglob("*.parquet")):
        tbl = with_point_geometry(pq.read_table(f, partitioning=None))
        pq.write_table(tbl, f, compression="zstd")


def export_table(
    store: Store,
    table: str,
    archive_dir: str | os.PathLike[str],
    *,
    n_buckets: int | None = None,
    since: datetime | date | None = None,
    until: datetime | date | None = None,
) -> ExportSummary:
    """Export one stored table (positions, vessel_reports, events, shipments) into the archive.

    The table's directory in the archive is replaced as a whole (a snapshot of the store),
    written beside it first, so a failed export leaves the previous one intact. ``since`` /
    ``until`` (UTC, ``until`` exclusive) restrict by the row's time.
    Uses DuckDB's partitioned ``COPY ... (FORMAT parquet, PARTITION_BY (day, bucket))``;
    the vessel bucket of each distinct MMSI is computed with :func:`vessel_bucket` and joined.
    """
    if table not in _EXPORT_SQL:
        raise ArchiveError(f"cannot export {table!r}: one of {', '.join(_EXPORT_SQL)}")
    root = Path(archive_dir)
    manifest = _open_manifest(root, n_buckets)
    n = int(manifest["n_buckets"])
    sql, time_expr = _EXPORT_SQL[table]
    conds, params = [], []
    if since is not None:
        conds.append(f"{time_expr} >= ?")
        params.append(since)
    if until is not None:
        conds.append(f"{time_expr} < ?")
        params.append(until)
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    inner = sql.format(cols=_export_columns(store, table), where=where)

    mmsis = store.con.execute(f"SELECT DISTINCT coalesce(mmsi, 0) FROM {table}").fetchnumpy()
    mm = np.asarray(list(mmsis.values())[0], dtype=np.int64)
    buckets = pa.table({"_m": pa.array(mm, pa.int64()), "bucket": vessel_bucket(mm, n)})

    root.mkdir(parents=True, exist_ok=True)
    final = table_path(root, table)
    tmp = root / f".{table}.tmp-{uuid.uuid4().hex}"
    store.con.register("_corridor_buckets", buckets)
    try:
        rows = store.one(f"SELECT count(*) FROM ({inner}) t", params)[0]
        store.con.execute(
            f"COPY (SELECT t.* , b.bucket FROM ({inner}) t "
            f"JOIN _corridor_buckets b ON coalesce(t.mmsi, 0) = b._m "
            f"ORDER BY day, bucket, {_ORDER[table]}) "
            f"TO '{_sql_path(tmp)}' (FORMAT parquet, COMPRESSION zstd, "
            f"PARTITION_BY (day, bucket), OVERWRITE_OR_IGNORE)",
            params,
        )
        if not tmp.exists():  # nothing to write: an empty table is an empty directory
            tmp.mkdir()
        if table in GEO_TABLES:
            _add_geometry(tmp)
        _swap_in(tmp, final)
    finally:
        store.con.unregister("_corridor_buckets")
        shutil.rmtree(tmp, ignore_errors=True)
    files, days = _count_files(final)
    _record(manifest, table, int(rows), "export")
    _write_manifest(root, manifest)
    return ExportSummary(table, str(final), int(rows), days, files)


def _sql_path(p: Path) -> str:
    return str(p).replace("'", "''")


def _export_places(store: Store, root: Path) -> None:
    """The gazetteer goes with the positions: detectors need it (one small file)."""
    _write_places(store.query("SELECT * FROM places ORDER BY place_id"), root)


def _write_places(places: pa.Table, root: Path) -> None:
    d = table_path(root, "places")
    tmp = root / f".places.tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    import pyarrow.parquet as pq

    pq.write_table(places, tmp / "places.parquet", compression="zstd")
    _swap_in(tmp, d)


def export_positions(store: Store, archive_dir: str | os.PathLike[str], **kw) -> ExportSummary:
    """Export what detection reads: ``positions``, ``vessel_reports`` and the gazetteer.

    See :func:`export_table` (``since``/``until`` apply to positions and reports alike).
    Returns the positions' summary.
    """
    summary = export_table(store, "positions", archive_dir, **kw)
    export_table(store, "vessel_reports", archive_dir, **kw)
    _export_places(store, Path(archive_dir))
    return summary


def export_events(store: Store, archive_dir: str | os.PathLike[str], **kw) -> ExportSummary:
    """Export ``events`` to the archive; see :func:`export_table`."""
    return export_table(store, "events", archive_dir, **kw)


def export_shipments(store: Store, archive_dir: str | os.PathLike[str], **kw) -> ExportSummary:
    """Export ``shipments`` to the archive; see :func:`export_table`."""
    return export_table(store, "shipments", archive_dir, **kw)


# --------------------------------------------------------------------------- append (Arrow)
def append_positions(
    data: pa.Table | Iterable[pa.RecordBatch],
    archive_dir: str | os.PathLike[str],
    *,
    n_buckets: int | None = None,
) -> ExportSummary:
    """Add positions (POSITIONS schema) to an archive without a DuckDB file.

    For inputs too big for one store file: each call writes new uniquely named files
    into the ``day=/bucket=`` directories and never rewrites existing ones. Duplicates
    across calls are not removed here (readers can ``DISTINCT ON obs_id``).
    """
    return _append("positions", POSITIONS, "ts", data, archive_dir, n_buckets)


def append_vessel_reports(
    data: pa.Table | Iterable[pa.RecordBatch],
    archive_dir: str | os.PathLike[str],
    *,
    n_buckets: int | None = None,
) -> ExportSummary:
    """Add static reports (VESSEL_REPORTS schema) to an archive; see :func:`append_positions`."""
    return _append("vessel_reports", VESSEL_REPORTS, "ts", data, archive_dir, n_buckets)


def append_places(places: pa.Table, archive_dir: str | os.PathLike[str]) -> None:
    """Set the archive's gazetteer (rows of the ``places`` table), replacing any before."""
    root = Path(archive_dir)
    manifest = _open_manifest(root, None)
    _write_places(places, root)
    _record(manifest, "places", places.num_rows, "append")
    _write_manifest(root, manifest)


def append_events(
    data: pa.Table | Iterable[pa.RecordBatch],
    archive_dir: str | os.PathLike[str],
    *,
    n_buckets: int | None = None,
) -> ExportSummary:
    """Add events (EVENTS schema) to an archive; see :func:`append_positions`."""
    return _append("events", EVENTS, "start_ts", data, archive_dir, n_buckets)


def with_partition_columns(tbl: pa.Table, time_col: str, n_buckets: int) -> pa.Table:
    """``tbl`` plus the ``day`` (string) and ``bucket`` (int32) partition columns."""
    return tbl.append_column("day", day_strings(tbl[time_col])).append_column(
        "bucket", pa.array(vessel_bucket(tbl["mmsi"], n_buckets), pa.int32())
    )


def _append(
    table: str,
    schema: pa.Schema,
    time_col: str,
    data: pa.Table | Iterable[pa.RecordBatch],
    archive_dir: str | os.PathLike[str],
    n_buckets: int | None,
) -> ExportSummary:
    root = Path(archive_dir)
    manifest = _open_manifest(root, n_buckets)
    n = int(manifest["n_buckets"])
    batches = data.to_batches() if isinstance(data, pa.Table) else data
    token = uuid.uuid4().hex[:12]
    rows = 0
    final = table_path(root, table)
    final.mkdir(parents=True, exist_ok=True)
    for i, batch in enumerate(batches):
        if batch.num_rows == 0:
            continue
        tbl = pa.Table.from_batches([batch]).select(schema.names).cast(schema)
        if table in GEO_TABLES:
            from corridor.export import with_point_geometry

            tbl = with_point_geometry(tbl)
        tbl = with_partition_columns(tbl, time_col, n)
        ds.write_dataset(
            tbl,
            final,
            format="parquet",
            partitioning=PARTITIONING,
            basename_template=f"part-{token}-{i:05d}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
            # a batch may span many days x buckets (pyarrow's default cap is 1024)
            max_partitions=1 << 20,
            max_open_files=1024,
            file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
        )
        rows += tbl.num_rows
    prev = manifest["tables"].get(table, {}).get("rows", 0)
    _record(manifest, table, int(prev) + rows, "append")
    _write_manifest(root, manifest)
    files, days = _count_files(final)
    return ExportSummary(table, str(final), rows, days, files)


# --------------------------------------------------------------------------- read
def dataset(archive_dir: str | os.PathLike[str], table: str = "positions") -> ds.Dataset:
    """A pyarrow Dataset over one partitioned table (with ``day``/``bucket`` columns)."""
    read_manifest(archive_dir)
    d = table_path(archive_dir, table)
    if not d.is_dir():
        raise ArchiveError(f"{archive_dir}: archive has no {table} table")
    return ds.dataset(d, format="parquet", partitioning=PARTITIONING, exclude_invalid_files=False)


def _filter(
    days: Sequence[str] | None, mmsi: Sequence[int] | None, n_buckets: int
) -> ds.Expression | None:
    expr = None
    if days is not None:
        expr = ds.field("day").isin([str(d) for d in days])
    if mmsi is not None:
        ms = [int(m) for m in mmsi]
        bk = sorted({int(b) for b in vessel_bucket(ms, n_buckets)})
        e = ds.field("bucket").isin(bk) & ds.field("mmsi").isin(ms)
        expr = e if expr is None else expr & e
    return expr


def read_table(
    archive_dir: str | os.PathLike[str],
    table: str,
    *,
    days: Sequence[str] | None = None,
    mmsi: Sequence[int] | None = None,
) -> pa.Table:
    """Read one archive table back into Arrow, without the partition columns.

    ``days`` (``YYYY-MM-DD`` strings) and ``mmsi`` prune by directory before reading.
    Positions and events come back in exactly the canonical schemas.
    """
    manifest = read_manifest(archive_dir)
    if table == "places":
        p = table_path(archive_dir, "places") / "places.parquet"
        if not p.is_file():
            raise ArchiveError(f"{archive_dir}: archive has no places table")
        import pyarrow.parquet as pq

        return pq.read_table(p)
    dset = dataset(archive_dir, table)
    schema = {"positions": POSITIONS, "events": EVENTS, "vessel_reports": VESSEL_REPORTS}.get(
        table
    )
    if not dset.files:
        return schema.empty_table() if schema is not None else pa.table({})
    expr = _filter(days, mmsi, int(manifest["n_buckets"]))
    names = [n for n in dset.schema.names if n not in ("day", "bucket")]
    tbl = dset.to_table(columns=names, filter=expr)
    if schema is not None:
        tbl = tbl.select(schema.names).cast(schema)
    return tbl


def read_positions(
    archive_dir: str | os.PathLike[str],
    *,
    days: Sequence[str] | None = None,
    mmsi: Sequence[int] | None = None,
) -> pa.Table:
    """Positions (POSITIONS schema) from an archive; see :func:`read_table`."""
    return read_table(archive_dir, "positions", days=days, mmsi=mmsi)


def read_events(
    archive_dir: str | os.PathLike[str],
    *,
    days: Sequence[str] | None = None,
    mmsi: Sequence[int] | None = None,
) -> pa.Table:
    """Events (EVENTS schema) from an archive or a Spark engine output; see :func:`read_table`."""
    return read_table(archive_dir, "events", days=days, mmsi=mmsi)


def import_positions(store: Store, archive_dir: str | os.PathLike[str]) -> int:
    """Load an archive's positions into a store (idempotent by ``obs_id``); returns rows added."""
    dset = dataset(archive_dir, "positions")
    added = 0
    with store.transaction():
        for batch in dset.to_batches(columns=POSITIONS.names):
            added += store.insert_arrow("positions", pa.Table.from_batches([batch]))
    return added
