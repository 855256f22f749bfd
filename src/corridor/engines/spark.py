"""The Spark engine: the local engine's detectors over a Parquet archive, on a cluster.

Nothing here defines an event. Every event comes from the same pure functions the local
engine calls, fed the same rows, so the same archive gives the same events with the same
ids on both engines (the tests check this):

- per vessel, over an archive: one Spark task per group of vessel buckets (or share of a
  large bucket, :class:`VesselTask`). The archive is partitioned by ``bucket = hash(mmsi) mod n``, so a
  bucket's files hold its vessels whole: the task's Python worker reads them itself with
  pyarrow and hands each vessel's Arrow table to :func:`corridor.detect.pipeline.detect_vessel`
  (port visits, gaps, loitering, voyages, position conflicts). The positions never pass
  through the JVM and are never shuffled; what Spark moves is the events and the much
  smaller encounter grid. (Reading the archive as a DataFrame and grouping it with
  ``groupBy(pmod(xxhash64(mmsi), n)).applyInArrow`` gives the same events at several times
  the CPU: every position is decoded by the JVM, shuffled, and converted to Arrow again;
  :func:`detect_events_df` keeps that path for positions that come as a DataFrame.);
- encounters, in the three stages of :mod:`corridor.detect.encounters`:
  1. in the same per-vessel pass, right after the vessel is detected, its positions minus
     those its marks exclude are resampled onto the 10-minute grid and points in port
     dropped (:func:`corridor.detect.encounters.vessel_grid`, as in the local engine), so
     positions are read and shuffled once;
  2. every grid point goes to its space-time bucket plus the neighbour buckets its
     ``max_distance_m`` disc touches (the halo, :func:`~corridor.detect.encounters.
     encounter_buckets`, in ``mapInArrow``); rows are grouped so that each bucket is whole
     and :func:`~corridor.detect.encounters.adjacent_pairs` emits each close pair only in
     the home bucket of the lower vessel, so a meeting on a bucket boundary is found once;
  3. pairs are grouped by vessel pair and turned into events by
     :func:`~corridor.detect.encounters.encounters_from_pairs`.

That is the path of a large archive (``_run_staged``). An archive of up to ``gather_rows``
positions (default 20M) takes a shorter one (``_run_gathered``): one Spark job on Spark's core
API, the per-vessel tasks spread over the cores (on one core: all in one Spark task), then the
three encounter stages over every vessel's grid and the identity events in a single Python
call, the way the local engine runs them; the Python calls exchange whole Arrow tables
serialised as IPC streams, and the driver writes the result. Both paths give the same events.

Python only ever sees whole Arrow tables: there is no per-row Python UDF. Groups are
coarse (``pmod(key, n)``) so that Python is called once per group of many vessels, buckets
or pairs, not once per vessel or bucket.

In local mode :func:`spark_session` starts a light JVM (C1 only, serial GC, a class-data
archive in the user's cache: :func:`class_cache_path`): the JVM here mostly starts, schedules
and moves bytes.

Output: ``OUT/events/day=YYYY-MM-DD/bucket=N/*.parquet`` in the EVENTS schema, with an
archive manifest, so :func:`corridor.archive.read_events` (or DuckDB, or Spark) reads it;
segment runs (SEGMENTS schema, the same ids as the local engine's ``segments`` table) in
``OUT/segments/`` laid out the same way (:func:`read_segments`).

Local mode needs Java 17 and ``pip install "corridor[spark]"``; nothing is downloaded at
run time. On a cluster, run this module with ``spark-submit`` (see docs/spark.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.dataset as ds

from corridor import archive as arc
from corridor.schema import EVENTS, POSITIONS
from corridor.scratch import process_alive

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

    from corridor.detect.params import DetectParams


@dataclass(frozen=True)
class SparkSummary:
    """What a Spark detection run did."""

    positions: int
    vessels: int
    events: int
    seconds: float
    out: str
    #: (mmsi, error) of vessels whose detection failed; they were skipped, as locally
    failed: list[tuple[int, str]] = field(default_factory=list)
    #: per-vessel tasks (Spark tasks of the first stage)
    tasks: int = 0
    #: "gathered" (encounters and identity in one task, written by the driver) or "staged"
    mode: str = ""


# --------------------------------------------------------------------------- session
#: JVM options for a local-mode driver (and the standalone test cluster's executors): no C2
#: compiler and the serial collector. The JVM does little sustained work in this engine, so
#: what it spends is start-up (class loading, JIT compilation, GC threads).
LIGHT_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
#: Environment variable: where the driver JVM's class-data archive is kept, or ``off``.
CLASS_CACHE_ENV = "CORRIDOR_SPARK_CLASS_CACHE"


def class_cache_path() -> Path | None:
    """The class-data archive (JDK AppCDS) of a local-mode driver JVM, or None if disabled.

    Loading and verifying Spark's ~10,000 classes is a third of the JVM's start-up CPU; a
    class-data archive lets later JVMs map them ready-made. The JVM writes it itself at the
    exit of the first run (``-XX:ArchiveClassesAtExit``, about 150 MB), under
    ``$XDG_CACHE_HOME/corridor`` (``~/.cache/corridor``), one file per Java and pyspark
    installation. ``$CORRIDOR_SPARK_CLASS_CACHE`` names another file, or ``off``. An archive
    the JVM cannot use (another Java build, another class path) is ignored by the JVM.
    """
    env = os.environ.get(CLASS_CACHE_ENV, "")
    if env.lower() == "off":
        return None
    if env:
        return Path(env)
    import hashlib

    import pyspark

    java = Path(os.environ["JAVA_HOME"]) / "bin" / "java" if os.environ.get("JAVA_HOME") else (
        Path(shutil.which("java") or "java"))
    try:
        java = java.resolve()
        stamp = f"{java}:{java.stat().st_mtime_ns}"
    except OSError:
        return None
    key = hashlib.sha256(f"{stamp}|{pyspark.__file__}|{pyspark.__version__}|"
                         f"{LIGHT_JVM_OPTIONS}".encode()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "corridor" / f"spark-classes-{key}.jsa"


def _class_cache_option() -> str:
    """``-XX:SharedArchiveFile`` of the archive if there is one; else the option that makes
    this JVM write it when it exits. It writes to a name of its own
    (``<archive>.<driver pid>``: two first runs at once must not write one file), which a
    later run renames to the archive once that driver is gone and the file has not changed
    for a minute (the JVM writes it in place, after its driver has exited)."""
    path = class_cache_path()
    if path is None:
        return ""
    for tmp in sorted(path.parent.glob(f"{path.name}.*")):
        pid = tmp.suffix[1:]
        try:
            st = tmp.stat()
            if pid.isdigit() and not process_alive(int(pid)) and time.time() - st.st_mtime > 60:
                if path.is_file() or st.st_size == 0:
                    tmp.unlink()  # another first run's archive was kept
                else:
                    os.replace(tmp, path)
        except OSError:
            continue
    # the JVM's notes on the archive (classes it cannot store, an archive it cannot use)
    # would go to standard output, which is the user's
    quiet = " -Xlog:cds*=off"
    if path.is_file():
        return f" -XX:SharedArchiveFile={path}{quiet}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return ""
    return f" -XX:ArchiveClassesAtExit={path}.{os.getpid()}{quiet}"




def spark_session(
    master: str | None = "local[2]",
    *,
    app_name: str = "corridor",
    shuffle_partitions: int | None = None,
    driver_memory: str = "1g",
    arrow_batch_rows: int | None = None,
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """A SparkSession for corridor (or the active one, reconfigured).

    ``master`` is used unless the program runs under ``spark-submit`` (which sets it).
    Python workers run this interpreter (``PYSPARK_PYTHON`` = ``sys.executable``), the UI
    is off, the session time zone is UTC and timestamps are read without a zone, as
    corridor stores them. ``shuffle_partitions`` defaults to 4 x the cores of a local
    master (Spark's 200 is far too many for one machine). ``arrow_batch_rows`` sets
    ``spark.sql.execution.arrow.maxRecordsPerBatch``.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    # the short-lived JVM spark-submit starts to build the driver's command line
    os.environ.setdefault("SPARK_LAUNCHER_OPTS", LIGHT_JVM_OPTIONS)
    from pyspark.sql import SparkSession

    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    builder = SparkSession.builder.appName(app_name)
    if master and not under_submit:
        builder = builder.master(master)
    if shuffle_partitions is None and master and master.startswith("local") and not under_submit:
        cores = master[master.find("[") + 1 : master.find("]")] if "[" in master else "1"
        n = (os.cpu_count() or 2) if cores == "*" else int(cores)
        shuffle_partitions = 4 * max(1, n)
    settings = {
        "spark.ui.enabled": "false",
        # the JVM only schedules and moves small tables here (positions are read and detected
        # in Python), so its start-up is most of its CPU: C1 alone and the serial collector
        # halve it, a class-data archive saves a third more (bench/results/spark.md); a
        # cluster sets its own options
        **({"spark.driver.extraJavaOptions": LIGHT_JVM_OPTIONS + _class_cache_option(),
            # a run starts one Python worker per core: starting it directly is cheaper than
            # starting a daemon interpreter that forks it (which pays off for many tasks)
            "spark.python.use.daemon": "false"}
           if not under_submit and master and master.startswith("local") else {}),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
        "spark.sql.timestampType": "TIMESTAMP_NTZ",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.sources.partitionOverwriteMode": "static",
        "spark.sql.adaptive.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
    }
    if not under_submit:
        settings["spark.driver.memory"] = driver_memory
    if shuffle_partitions:
        settings["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
    if arrow_batch_rows:
        settings["spark.sql.execution.arrow.maxRecordsPerBatch"] = str(arrow_batch_rows)
    settings.update(conf or {})
    for k, v in settings.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    for k in ("spark.sql.shuffle.partitions", "spark.sql.execution.arrow.maxRecordsPerBatch"):
        if k in settings:  # a reused session takes the runtime settings too
            spark.conf.set(k, settings[k])
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_schema(schema: pa.Schema) -> Any:
    """The Spark StructType of an Arrow schema (naive timestamps as TIMESTAMP_NTZ)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema, prefer_timestamp_ntz=True)


# --------------------------------------------------------------------------- reading
def read_positions_df(spark: SparkSession, archive_dir: str | os.PathLike[str]) -> DataFrame:
    """The archive's positions as a DataFrame with exactly the POSITIONS columns and types."""
    from pyspark.sql import functions as F

    arc.read_manifest(archive_dir)
    path = arc.table_path(archive_dir, "positions")
    if not path.is_dir() or not any(path.rglob("*.parquet")):
        raise arc.ArchiveError(f"{archive_dir}: archive has no positions")
    df = spark.read.option("basePath", str(path)).parquet(str(path))
    target = spark_schema(POSITIONS)
    return df.select([F.col(f.name).cast(f.dataType).alias(f.name) for f in target.fields])


def _places_table(archive_dir: str | os.PathLike[str]) -> pa.Table | None:
    p = arc.table_path(archive_dir, "places") / "places.parquet"
    if not p.is_file():
        return None
    tbl = arc.read_table(archive_dir, "places")
    return tbl if tbl.num_rows else None


# --------------------------------------------------------------------------- worker side
# Built once per Python worker process from the pickled Arrow table, not once per group.
_CACHE: dict[str, Any] = {}


def _pipeline(token: str, params: Any, places: pa.Table | None) -> Any:
    """The local engine's VesselPipeline (one per worker process and run)."""
    key = f"pipeline:{token}"
    if key not in _CACHE:
        from corridor.detect.pipeline import VesselPipeline

        _CACHE[key] = VesselPipeline(params, _place_index(token, places))
    return _CACHE[key]


def _place_index(token: str, places: pa.Table | None) -> Any:
    """PlaceIndex over the archive's places (the local engine passes all of them)."""
    if places is None or places.num_rows == 0:
        return None
    key = f"places:{token}"
    if key not in _CACHE:
        from corridor.places import PlaceIndex

        _CACHE[key] = PlaceIndex.from_arrow(places)
    return _CACHE[key]


def _as_positions(tbl: pa.Table) -> pa.Table:
    return tbl.select(POSITIONS.names).cast(POSITIONS)


def _sorted_vessels(tbl: pa.Table) -> pa.Table:
    """Rows sorted as the local engine reads them (``ORDER BY mmsi, ts, obs_id``)."""
    import pyarrow.compute as pc

    keys = [("mmsi", "ascending"), ("ts", "ascending"), ("obs_id", "ascending")]
    return tbl.take(pc.sort_indices(tbl, keys))


def _with_parts(events: pa.Table, n_buckets: int) -> pa.Table:
    ev = events.select(EVENTS.names).cast(EVENTS)
    return arc.with_partition_columns(ev, "start_ts", n_buckets)


#: Events as written by the engine: EVENTS + the archive's partition columns.
OUT_EVENTS = EVENTS.append(pa.field("day", pa.string())).append(pa.field("bucket", pa.int32()))
#: What the per-vessel pass returns, in one table so each vessel is read and detected once:
#: event rows (kind 'event'); the vessel's encounter grid (kind 'grid': resampled points in
#: ``mmsi``/``segment_id``/``lat``/``lon``, the grid time in ``start_ts`` and the GRID-only
#: columns); vessels whose detection failed (kind 'failed', the error in ``error``).
#: GRID columns carried in their own VESSEL_OUT columns (the others reuse event columns).
_GRID_SHARED = {"mmsi": "mmsi", "segment_id": "segment_id", "ts": "start_ts", "lat": "lat",
                "lon": "lon"}


def _vessel_out_schema() -> pa.Schema:
    from corridor.detect.resample import GRID

    schema = OUT_EVENTS.append(pa.field("kind", pa.string()))
    for f in GRID:
        if f.name not in _GRID_SHARED:
            schema = schema.append(pa.field(f"grid_{f.name}", f.type))
    return schema.append(pa.field("error", pa.string())).append(
        pa.field("seg_positions", pa.int32()))


VESSEL_OUT = _vessel_out_schema()


@dataclass(frozen=True)
class VesselParts:
    """What the per-vessel pass makes of a table of whole vessels (Arrow tables):
    ``events`` (OUT_EVENTS), ``grid`` (the encounter grid, :data:`corridor.detect.resample.
    GRID`), ``segments`` (SEGMENTS + ``day``/``bucket``), ``failed`` (``mmsi``, ``error``)
    and the number of ``vessels``."""

    events: pa.Table
    grid: pa.Table | None
    segments: pa.Table | None
    failed: pa.Table | None
    vessels: int


def _vessel_parts(tbl: pa.Table, params: Any, places: pa.Table | None, token: str,
                  n_buckets: int, presorted: bool = False) -> VesselParts:
    """Detect every vessel of ``tbl`` with the local engine's pipeline, and grid it for
    encounters (:func:`corridor.detect.encounters.vessel_grid`, as locally). ``presorted``:
    ``tbl`` is already POSITIONS sorted by mmsi, ts, obs_id (:func:`read_task`)."""
    from corridor.detect.encounters import vessel_grid
    from corridor.detect.pipeline import split_by_mmsi

    pipe = _pipeline(token, params, places)
    idx = _place_index(token, places)
    enc = params.encounter
    events, grids, failed, segments = [], [], [], []
    vessels = 0
    if tbl.num_rows:
        rows = tbl if presorted else _sorted_vessels(_as_positions(tbl))
        for part in split_by_mmsi(rows):
            vessels += 1
            marks = None
            try:
                res = pipe.apply(part)
                marks = res.marks
                if res.events.num_rows:
                    events.append(res.events.select(EVENTS.names).cast(EVENTS))
                if res.segments.num_rows:
                    segments.append(res.segments)
            except Exception as exc:  # noqa: BLE001 - as the local engine: skip, report
                failed.append((int(part["mmsi"][0].as_py()), f"{type(exc).__name__}: {exc}"))
            if enc is not None:
                grid = vessel_grid(part, marks, enc, idx)
                if grid.num_rows:
                    grids.append(grid)
    ev = _with_parts(pa.concat_tables(events) if events else EVENTS.empty_table(), n_buckets)
    sg = (arc.with_partition_columns(pa.concat_tables(segments), "start_ts", n_buckets)
          if segments else None)
    bad = pa.table({"mmsi": pa.array([m for m, _ in failed], pa.int64()),
                    "error": pa.array([e for _, e in failed], pa.string())}) if failed else None
    return VesselParts(ev, pa.concat_tables(grids) if grids else None, sg, bad, vessels)


def _detect_vessels(tbl: pa.Table, params: Any, places: pa.Table | None, token: str,
                    n_buckets: int, presorted: bool = False) -> pa.Table:
    """:func:`_vessel_parts` in the VESSEL_OUT layout (one table, tagged by ``kind``), with
    one ``count`` row: the number of vessels in ``mmsi``."""
    vp = _vessel_parts(tbl, params, places, token, n_buckets, presorted)
    ev = vp.events
    out = [_widen("event", {n: ev[n] for n in ev.column_names}, ev.num_rows),
           _widen("count", {"mmsi": pa.array([vp.vessels], pa.int64())}, 1)]
    if vp.grid is not None:
        g = vp.grid
        out.append(_widen("grid", {
            _GRID_SHARED.get(n, f"grid_{n}"): g[n] for n in g.column_names}, g.num_rows))
    if vp.segments is not None:  # segment runs, in the event columns they share
        sg = vp.segments
        out.append(_widen("segment", {
            "mmsi": sg["mmsi"], "segment_id": sg["segment_id"], "start_ts": sg["start_ts"],
            "end_ts": sg["end_ts"], "seg_positions": sg["positions"], "day": sg["day"],
            "bucket": sg["bucket"]}, sg.num_rows))
    if vp.failed is not None:
        out.append(_widen("failed", {n: vp.failed[n] for n in vp.failed.column_names},
                          vp.failed.num_rows))
    return pa.concat_tables(out)


def _vessel_fn(params: Any, places: pa.Table | None, token: str, n_buckets: int):
    """Called with the Arrow table of one group of whole vessels (the DataFrame path)."""

    def fn(tbl: pa.Table) -> pa.Table:
        return _detect_vessels(tbl, params, places, token, n_buckets)

    return fn


# --------------------------------------------------------------------------- archive tasks
@dataclass(frozen=True)
class VesselTask:
    """One Python call of the per-vessel pass over an archive: the positions files of some
    vessel buckets (every day), and which share of their vessels to take.

    A bucket holds whole vessels (``bucket = combine_u64(mmsi) mod n_buckets``), so a task
    needs no shuffle: its executor reads the files itself. Small buckets are packed together
    into one task (a Python call has a fixed cost); a bucket larger than the target is split
    into ``parts`` tasks by a second digit of the same hash
    (``combine_u64(mmsi) // n_buckets mod parts``), each reading the bucket's files and keeping
    its share of the vessels.
    """

    buckets: tuple[int, ...]
    part: int
    parts: int
    files: tuple[str, ...]


def vessel_tasks(archive_dir: str | os.PathLike[str], target_rows: int = 2_000_000,
                 min_tasks: int = 1) -> list[VesselTask]:
    """The per-vessel tasks of an archive, sized from the Parquet footers (rows per bucket):
    about ``target_rows`` positions each, and at least ``min_tasks`` tasks when there are
    enough buckets (so every core has work)."""
    return _plan_tasks(archive_dir, target_rows, min_tasks)[0]


def _plan_tasks(archive_dir: str | os.PathLike[str], target_rows: int, min_tasks: int
                ) -> tuple[list[VesselTask], int]:
    """:func:`vessel_tasks` and the archive's number of positions (one read of the footers)."""
    import pyarrow.parquet as pq

    root = arc.table_path(archive_dir, "positions")
    by_bucket: dict[int, list[str]] = {}
    for f in sorted(root.glob("day=*/bucket=*/*.parquet")):
        by_bucket.setdefault(int(f.parent.name.split("=", 1)[1]), []).append(str(f))
    rows = {b: sum(pq.ParquetFile(f).metadata.num_rows for f in fs) for b, fs in by_bucket.items()}
    target = max(1, min(target_rows, -(-sum(rows.values()) // max(1, min_tasks))))
    tasks: list[VesselTask] = []
    packed: list[int] = []
    packed_rows = 0

    def flush() -> None:
        nonlocal packed, packed_rows
        if packed:
            files = tuple(f for b in packed for f in by_bucket[b])
            tasks.append(VesselTask(tuple(packed), 0, 1, files))
        packed, packed_rows = [], 0

    for bucket in sorted(by_bucket):
        n = rows[bucket]
        if n > target:
            parts = -(-n // target)
            tasks += [VesselTask((bucket,), j, parts, tuple(by_bucket[bucket])) for j in range(parts)]
            continue
        if packed and packed_rows + n > target:
            flush()
        packed.append(bucket)
        packed_rows += n
    flush()
    return tasks, sum(rows.values())


def _duckdb() -> Any:
    """This worker's in-memory DuckDB connection (one thread: Spark gives a task one core)."""
    if "duckdb" not in _CACHE:
        import duckdb

        con = duckdb.connect()
        con.execute("SET threads = 1")
        _CACHE["duckdb"] = con
    return _CACHE["duckdb"]


def read_task(task: VesselTask, n_buckets: int) -> pa.Table:
    """The POSITIONS rows of one task's vessels, read from its files (no day/bucket columns),
    sorted as the local engine reads them (``ORDER BY mmsi, ts, obs_id``).

    DuckDB reads and sorts them: an archive file holds one day of one bucket, a few
    thousand rows, and DuckDB's Parquet reader costs about half of pyarrow's per file
    here; its sort is the local engine's own."""
    import numpy as np

    from corridor.store import fetch_arrow

    cols = ", ".join(POSITIONS.names)
    tbl = fetch_arrow(_duckdb(), f"SELECT {cols} FROM read_parquet(?) ORDER BY mmsi, ts, obs_id",
                      [list(task.files)])
    if task.parts > 1:
        from corridor.ids import combine_u64

        h = combine_u64(tbl["mmsi"].to_numpy(zero_copy_only=False).astype(np.int64))
        keep = (h // np.int64(n_buckets)) % np.int64(task.parts) == task.part
        tbl = tbl.filter(pa.array(keep))
    return _as_positions(tbl)


def _read_reports(archive_dir: str) -> pa.Table:
    """The archive's vessel_reports (VESSEL_REPORTS), read by DuckDB (many small files)."""
    from corridor.schema import VESSEL_REPORTS
    from corridor.store import fetch_arrow

    files = sorted(str(f) for f in arc.table_path(archive_dir, "vessel_reports").rglob(
        "*.parquet"))
    cols = ", ".join(VESSEL_REPORTS.names)
    return fetch_arrow(_duckdb(), f"SELECT {cols} FROM read_parquet(?)", [files]).select(
        VESSEL_REPORTS.names).cast(VESSEL_REPORTS)


def _task_fn(tasks: list[VesselTask], params: Any, places: pa.Table | None, token: str,
             n_buckets: int):
    """``mapInArrow`` over task numbers: each task's vessels read and detected in Python."""

    def fn(batches):
        for b in batches:
            for i in b.column(0).to_pylist():
                out = _detect_vessels(read_task(tasks[i], n_buckets), params, places, token,
                                      n_buckets, presorted=True)
                yield from out.to_batches()

    return fn


#: A gathered run moves (kind, Arrow IPC stream) pairs between its Python calls: whole
#: serialised tables, a few per task, instead of converting every grid point and event to
#: Spark rows and back. Rows per serialised table:
BLOB_ROWS = 200_000


def _blobs(kind: str, tbl: pa.Table | None) -> Any:
    """``tbl`` as (kind, bytes) pairs of at most BLOB_ROWS rows each."""
    if tbl is None or tbl.num_rows == 0:
        return
    for i in range(0, tbl.num_rows, BLOB_ROWS):
        part = tbl.slice(i, BLOB_ROWS)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, part.schema) as w:
            w.write_table(part)
        yield kind, sink.getvalue().to_pybytes()


def _unblob(blobs: Any) -> dict[str, pa.Table]:
    """(kind, bytes) pairs back to one table per kind."""
    parts: dict[str, list[pa.Table]] = {}
    for kind, data in blobs:
        parts.setdefault(kind, []).append(pa.ipc.open_stream(data).read_all())
    return {k: pa.concat_tables(v) for k, v in parts.items()}


def _parts_blobs(vp: VesselParts) -> Any:
    yield from _blobs("event", vp.events)
    yield from _blobs("grid", vp.grid)
    yield from _blobs("segment", vp.segments)
    yield from _blobs("failed", vp.failed)
    yield from _blobs("count", pa.table({"vessels": pa.array([vp.vessels], pa.int64())}))


def _tasks_blobs_fn(tasks: list[VesselTask], params: Any, places: pa.Table | None, token: str,
                    n_buckets: int):
    """``mapPartitions`` over task numbers: each task's vessels read, detected and gridded in
    Python (one task after the other: memory holds one task's positions), as blobs."""

    def fn(ids):
        for i in ids:
            vp = _vessel_parts(read_task(tasks[i], n_buckets), params, places, token, n_buckets,
                               presorted=True)
            yield from _parts_blobs(vp)

    return fn


def _finish(blobs: Any, params: Any, places: pa.Table | None, token: str, n_buckets: int,
            reports_dir: str | None) -> Any:
    """The rest of a run, in one Python call over all the per-vessel pass's blobs.

    Events, segment runs, failures and vessel counts pass through; the grid (every
    vessel's) goes through the three encounter stages at once, as the local engine runs
    them, and the archive's ``vessel_reports`` (read here, from the archive ``reports_dir``)
    give the identity events (:func:`corridor.detect.identity.detect_identity`, as locally).
    """
    grids = []
    for kind, data in blobs:
        if kind == "grid":
            grids.append((kind, data))
        else:
            yield kind, data
    enc = params.encounter
    if enc is not None and grids:
        from corridor.detect.encounters import (
            adjacent_pairs,
            encounter_buckets,
            encounters_from_pairs,
        )

        grid = _unblob(grids)["grid"]
        del grids
        pairs = adjacent_pairs(encounter_buckets(grid, enc), enc)
        del grid
        if pairs.num_rows:
            ev = encounters_from_pairs(pairs, enc, _place_index(token, places))
            yield from _blobs("event", _with_parts(ev, n_buckets))
    if reports_dir is not None:
        from corridor.detect.identity import detect_identity

        reports = _read_reports(reports_dir)
        yield from _blobs("event", _with_parts(detect_identity(reports, params.identity),
                                               n_buckets))


def _gathered_fn(tasks: list[VesselTask] | None, params: Any, places: pa.Table | None,
                 token: str, n_buckets: int, reports_dir: str | None):
    """``mapPartitions`` of the one task that finishes a run (:func:`_finish`); with
    ``tasks`` it first runs the per-vessel pass itself over the task numbers it is given, so
    on one core a run is one Spark task with nothing shuffled."""

    def fn(items):
        if tasks is not None:
            items = _tasks_blobs_fn(tasks, params, places, token, n_buckets)(items)
        yield from _finish(items, params, places, token, n_buckets, reports_dir)

    return fn


def _widen(kind: str, columns: dict[str, Any], n: int) -> pa.Table:
    """``columns`` (n rows) in the VESSEL_OUT layout, tagged ``kind``; other columns null."""
    cols = {}
    for f in VESSEL_OUT:
        if f.name == "kind":
            cols[f.name] = pa.array([kind] * n, pa.string())
        elif f.name in columns:
            cols[f.name] = columns[f.name]
        else:
            cols[f.name] = pa.nulls(n, f.type)
    return pa.table(cols, schema=VESSEL_OUT)


def _bucket_fn(enc_params: Any, n_groups: int):
    """Space-time bucket + halo of each grid point (already at sea: the vessel pass left
    points in port out), and the coarse group."""

    def fn(batches):
        import numpy as np

        from corridor.detect.encounters import encounter_buckets

        for b in batches:
            t = encounter_buckets(pa.Table.from_batches([b]), enc_params)
            g = np.asarray(t["bucket"].to_numpy(), dtype=np.int64) % n_groups
            t = t.append_column("g", pa.array(g, pa.int64()))
            yield from t.to_batches()

    return fn


def _pairs_fn(enc_params: Any):
    def fn(tbl: pa.Table) -> pa.Table:
        from corridor.detect.encounters import adjacent_pairs

        return adjacent_pairs(tbl.drop_columns(["g"]), enc_params)

    return fn


def _encounter_events_fn(enc_params: Any, places: pa.Table | None, token: str, n_buckets: int):
    def fn(tbl: pa.Table) -> pa.Table:
        from corridor.detect.encounters import encounters_from_pairs

        idx = _place_index(token, places)
        ev = encounters_from_pairs(tbl.drop_columns(["g"]), enc_params, idx)
        return _with_parts(ev, n_buckets)

    return fn


def _field_changes_fn(id_params: Any, n_buckets: int):
    def fn(tbl: pa.Table) -> pa.Table:
        from corridor.detect.events import events_table
        from corridor.detect.identity import field_changes

        return _with_parts(events_table(field_changes(tbl.drop_columns(["g"]), id_params)),
                           n_buckets)

    return fn


def _shared_imo_fn(id_params: Any, n_buckets: int):
    def fn(tbl: pa.Table) -> pa.Table:
        from corridor.detect.events import events_table
        from corridor.detect.identity import shared_imo

        return _with_parts(events_table(shared_imo(tbl.drop_columns(["g"]), id_params)),
                           n_buckets)

    return fn


# --------------------------------------------------------------------------- the run
def _groups(df: DataFrame, n: int, *cols: str) -> DataFrame:
    from pyspark.sql import functions as F

    return df.withColumn("g", F.pmod(F.xxhash64(*cols), F.lit(n)).cast("long"))


def detect_events_df(
    spark: SparkSession,
    positions: DataFrame,
    params: DetectParams,
    places: pa.Table | None,
    *,
    reports: DataFrame | None = None,
    n_buckets: int = arc.DEFAULT_BUCKETS,
    n_groups: int | None = None,
) -> DataFrame:
    """All events (EVENTS columns + ``day``/``bucket``) of a POSITIONS DataFrame, lazily.

    The same passes as :func:`corridor.engines.local.run_detect` on a full run: per-vessel
    detection; encounters over every vessel's positions minus those marked
    duplicate/invalid/noise, with the ``conflict_segment`` marks' segment ids
    (:func:`corridor.detect.encounters.vessel_grid`, run in the per-vessel pass right after
    detecting the vessel, so positions are read and shuffled once); identity changes from
    ``reports`` (``vessel_reports`` rows; none if ``None``).
    ``n_groups``: how many coarse groups vessels, encounter buckets and vessel pairs are
    folded into (default: ``spark.sql.shuffle.partitions``); any value gives the same
    events, it only sets the size of the Arrow tables handed to Python. The per-vessel
    pass is persisted (it feeds both the events and the encounter grid); call
    ``spark.catalog.clearCache()`` when done with the result.
    """
    return _detect_events_df(spark, positions, params, places, reports=reports,
                             n_buckets=n_buckets, n_groups=n_groups)[0]


def _detect_events_df(
    spark: SparkSession,
    positions: DataFrame,
    params: DetectParams,
    places: pa.Table | None,
    *,
    reports: DataFrame | None = None,
    n_buckets: int = arc.DEFAULT_BUCKETS,
    n_groups: int | None = None,
    tasks: list[VesselTask] | None = None,
) -> tuple[DataFrame, list[DataFrame]]:
    """See :func:`detect_events_df`. With ``tasks`` (an archive's :func:`vessel_tasks`) the
    per-vessel pass reads the archive's files in Python, one task per Spark task, and
    ``positions`` is not read at all: no shuffle and no trip of the positions through the JVM.
    """
    from pyspark.sql import functions as F

    token = uuid.uuid4().hex
    g = n_groups or int(spark.conf.get("spark.sql.shuffle.partitions"))
    out_schema = spark_schema(OUT_EVENTS)
    ev_cols = [f.name for f in out_schema.fields]
    if tasks is not None:
        vessel_out = (
            spark.range(len(tasks), numPartitions=max(1, len(tasks)))
            .mapInArrow(_task_fn(tasks, params, places, token, n_buckets),
                        spark_schema(VESSEL_OUT))
            .persist()
        )
    else:
        vessel_out = (
            _groups(positions, g, "mmsi")
            .groupBy("g")
            .applyInArrow(_vessel_fn(params, places, token, n_buckets), spark_schema(VESSEL_OUT))
            .persist()
        )
    results = [vessel_out.where(F.col("kind") == "event").select(*ev_cols)]

    enc = params.encounter
    if enc is not None:
        from corridor.detect.encounters import PAIRS
        from corridor.detect.resample import GRID

        grid = vessel_out.where(F.col("kind") == "grid").select(
            [F.col(_GRID_SHARED.get(n, f"grid_{n}")).alias(n) for n in GRID.names])
        bucketed_schema = GRID.append(pa.field("bucket", pa.int64())).append(
            pa.field("home", pa.bool_())).append(pa.field("g", pa.int64()))
        bucketed = grid.mapInArrow(_bucket_fn(enc, g),
                                   spark_schema(bucketed_schema))
        pairs = bucketed.groupBy("g").applyInArrow(_pairs_fn(enc), spark_schema(PAIRS))
        results.append(_groups(pairs, g, "mmsi", "other_mmsi").groupBy("g").applyInArrow(
            _encounter_events_fn(enc, places, token, n_buckets), out_schema))

    if reports is not None:
        results.append(_groups(reports, g, "mmsi").groupBy("g").applyInArrow(
            _field_changes_fn(params.identity, n_buckets), out_schema))
        with_imo = reports.where(F.col("imo").isNotNull())
        results.append(_groups(with_imo, g, "imo").groupBy("g").applyInArrow(
            _shared_imo_fn(params.identity, n_buckets), out_schema))
    out = results[0]
    for r in results[1:]:
        out = out.unionByName(r)
    return out, [vessel_out]


def read_reports_df(spark: SparkSession, archive_dir: str | os.PathLike[str]) -> DataFrame | None:
    """The archive's vessel_reports (VESSEL_REPORTS columns), or None if it has none."""
    from pyspark.sql import functions as F

    from corridor.schema import VESSEL_REPORTS

    path = arc.table_path(archive_dir, "vessel_reports")
    if not path.is_dir() or not any(path.rglob("*.parquet")):
        return None
    df = spark.read.option("basePath", str(path)).parquet(str(path))
    target = spark_schema(VESSEL_REPORTS)
    return df.select([F.col(f.name).cast(f.dataType).alias(f.name) for f in target.fields])


#: Where the Spark engine writes segment runs (:data:`corridor.schema.SEGMENTS`, partitioned
#: like events by the run's first day and vessel bucket), beside ``OUT/events``.
SEGMENTS_DIR = "segments"


def _write_segments(vessel_out: DataFrame, out: Path) -> None:
    """The per-vessel pass's segment runs to ``out/segments`` (replaced as a whole)."""
    from pyspark.sql import functions as F

    tmp = out / f".segments.tmp-{uuid.uuid4().hex}"
    try:
        (vessel_out.where(F.col("kind") == "segment")
         .select("mmsi", "segment_id", "start_ts", "end_ts",
                 F.col("seg_positions").alias("positions"), "day", "bucket")
         .repartition("day", "bucket").sortWithinPartitions("mmsi", "start_ts", "segment_id")
         .write.partitionBy("day", "bucket").parquet(str(tmp)))
        for junk in list(tmp.rglob("_SUCCESS")) + list(tmp.rglob(".*.crc")):
            junk.unlink()
        arc._swap_in(tmp, out / SEGMENTS_DIR)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_segments(out_dir: str | os.PathLike[str]) -> pa.Table:
    """Segment runs (:data:`corridor.schema.SEGMENTS`) written by :func:`run_detect_spark`."""
    from corridor.schema import SEGMENTS

    path = Path(out_dir) / SEGMENTS_DIR
    if not any(path.rglob("*.parquet")):
        return SEGMENTS.empty_table()
    return ds.dataset(path, format="parquet", partitioning="hive").to_table(
        columns=SEGMENTS.names).cast(SEGMENTS)


def _has_reports(archive_dir: str | os.PathLike[str]) -> bool:
    path = arc.table_path(archive_dir, "vessel_reports")
    return path.is_dir() and any(path.rglob("*.parquet"))


def _write_table(tbl: pa.Table, final: Path, sort: list[str]) -> None:
    """``tbl`` (with ``day``/``bucket``) written to ``final`` in the archive layout, rows sorted
    by ``sort`` in each file; ``final`` is replaced as a whole (written beside it first)."""
    tmp = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex}")
    tmp.mkdir(parents=True)
    try:
        if tbl.num_rows:
            ds.write_dataset(
                tbl.sort_by([(k, "ascending") for k in sort]), tmp, format="parquet",
                partitioning=arc.PARTITIONING, basename_template="part-{i}.parquet",
                preserve_order=True, max_partitions=1 << 20, max_open_files=1024,
                existing_data_behavior="overwrite_or_ignore")
        arc._swap_in(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run_gathered(session: SparkSession, archive_dir: str | os.PathLike[str], out: Path,
                  params: DetectParams, tasks: list[VesselTask], n_buckets: int, cores: int
                  ) -> tuple[int, list[tuple[int, str]], int | None]:
    """One Spark job for an archive small enough to finish in one Python task: the
    per-vessel tasks spread over the cores (Spark tasks), then encounters and identity in one
    task (:func:`_finish`); events and segment runs come back to the driver, which writes
    them. On one core it is all one Spark task. Positions are never shuffled; the events,
    segment runs and encounter grid travel as serialised Arrow tables (:func:`_blobs`), and
    only when there is more than one core. Returns (vessels, failed, events)."""
    import pyarrow.compute as pc

    token = uuid.uuid4().hex
    places = _places_table(archive_dir)
    reports = str(archive_dir) if _has_reports(archive_dir) else None
    n = max(1, min(len(tasks), cores))
    # Spark's core API, not a DataFrame: the Python calls exchange whole serialised tables,
    # which need no SQL plan, code generation or Arrow conversion in the JVM
    ids = session.sparkContext.parallelize(range(len(tasks)), n)
    if n == 1:
        rdd = ids.mapPartitions(_gathered_fn(tasks, params, places, token, n_buckets, reports))
    else:
        rdd = (ids.mapPartitions(_tasks_blobs_fn(tasks, params, places, token, n_buckets))
               .coalesce(1, shuffle=True)
               .mapPartitions(_gathered_fn(None, params, places, token, n_buckets, reports)))
    got = _unblob(rdd.collect())
    events = got.get("event", OUT_EVENTS.empty_table()).cast(OUT_EVENTS)
    _write_table(events, arc.table_path(out, "events"), ["mmsi", "start_ts", "event_id"])
    _write_table(got.get("segment", pa.table({})), out / SEGMENTS_DIR,
                 ["mmsi", "start_ts", "segment_id"])
    bad = got.get("failed")
    failed = [] if bad is None else sorted(zip(
        (int(m) for m in bad["mmsi"].to_pylist()), (str(e) for e in bad["error"].to_pylist()),
        strict=True))
    vessels = pc.sum(got["count"]["vessels"]).as_py() if "count" in got else 0
    return int(vessels or 0), failed, events.num_rows


def _run_staged(session: SparkSession, archive_dir: str | os.PathLike[str], out: Path,
                params: DetectParams, tasks: list[VesselTask], n_buckets: int, cores: int
                ) -> tuple[int, list[tuple[int, str]], int | None]:
    """A large archive: the per-vessel tasks, then encounters and identity in distributed
    stages (:func:`_detect_events_df`); Spark's executors write. Returns (vessels, failed,
    None: the events are counted from the files)."""
    places = _places_table(archive_dir)
    reports = read_reports_df(session, archive_dir)
    events, cached = _detect_events_df(session, None, params, places, reports=reports,
                                       n_buckets=n_buckets, tasks=tasks)
    tmp = out / f".events.tmp-{uuid.uuid4().hex}"
    try:
        (events.repartition("day", "bucket").sortWithinPartitions("mmsi", "start_ts", "event_id")
         .write.partitionBy("day", "bucket").parquet(str(tmp)))
        for junk in list(tmp.rglob("_SUCCESS")) + list(tmp.rglob(".*.crc")):
            junk.unlink()
        arc._swap_in(tmp, arc.table_path(out, "events"))
        _write_segments(cached[0], out)
        failed = sorted(
            (int(r["mmsi"]), str(r["error"]))
            for r in cached[0].where("kind = 'failed'").select("mmsi", "error").collect()
        )
        vessels = cached[0].where("kind = 'count'").agg({"mmsi": "sum"}).collect()[0][0] or 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for df in cached:
            df.unpersist()
    return int(vessels), failed, None


#: Archives of up to this many positions finish in one Python task (see :func:`_run_gathered`).
GATHER_ROWS = 20_000_000


def run_detect_spark(
    archive_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    params: DetectParams | None = None,
    master: str | None = "local[2]",
    *,
    shuffle_partitions: int | None = None,
    arrow_batch_rows: int | None = None,
    spark: SparkSession | None = None,
    target_rows: int = 2_000_000,
    gather_rows: int = GATHER_ROWS,
    cores: int | None = None,
) -> SparkSummary:
    """Detect events over an archive with Spark; write them to ``out_dir/events``.

    ``out_dir`` becomes (or stays) a corridor archive whose ``events`` table is replaced
    as a whole, written beside it first so a failed run leaves the previous result. The
    archive's places table (exported with the positions) is the gazetteer. ``spark``: an
    existing session (tests, notebooks, a server running many jobs); otherwise one is built
    by :func:`spark_session`. The per-vessel pass reads the archive's positions files
    directly in the Python workers (:func:`vessel_tasks`, up to ``target_rows`` positions
    per task, at least one per core; ``cores`` defaults to the session's default
    parallelism), so executors must see ``archive_dir`` at the same path as the driver.

    An archive of up to ``gather_rows`` positions is finished in one Python task: encounters
    over every vessel's grid and identity over all reports, then the driver writes events
    and segment runs (one Spark job, one stage when there is one vessel task). A larger one
    runs encounters and identity in distributed stages, and the executors write. Both give
    the same events.
    """
    from corridor.detect.params import DetectParams

    t0 = time.perf_counter()
    params = params or DetectParams()
    manifest = arc.read_manifest(archive_dir)
    n_buckets = int(manifest["n_buckets"])
    out = Path(out_dir)
    out_manifest = arc._open_manifest(out, n_buckets)
    session = spark or spark_session(
        master, shuffle_partitions=shuffle_partitions, arrow_batch_rows=arrow_batch_rows
    )
    if spark is not None and shuffle_partitions:
        session.conf.set("spark.sql.shuffle.partitions", str(shuffle_partitions))
    cores = cores or session.sparkContext.defaultParallelism
    tasks, n_positions = _plan_tasks(archive_dir, target_rows, cores)
    if not tasks:
        raise arc.ArchiveError(f"{archive_dir}: archive has no positions")
    out.mkdir(parents=True, exist_ok=True)
    mode = "gathered" if n_positions <= gather_rows else "staged"
    run = _run_gathered if mode == "gathered" else _run_staged
    vessels, failed, n_events = run(session, archive_dir, out, params, tasks, n_buckets, cores)
    if n_events is None:
        events_dir = arc.table_path(out, "events")
        n_events = ds.dataset(events_dir, format="parquet").count_rows() if any(
            events_dir.rglob("*.parquet")) else 0
    arc._record(out_manifest, "events", n_events, "spark")
    arc._write_manifest(out, out_manifest)
    return SparkSummary(n_positions, vessels, n_events, time.perf_counter() - t0, str(out),
                        failed, len(tasks), mode)


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``spark-submit .../corridor/engines/spark.py --archive A --out O``."""
    ap = argparse.ArgumentParser(prog="corridor-spark", description=__doc__.splitlines()[0])
    ap.add_argument("--archive", required=True, help="archive directory (corridor export)")
    ap.add_argument("--out", required=True, help="output directory (events archive)")
    ap.add_argument("--master", default="local[2]", help="ignored under spark-submit")
    ap.add_argument("--shuffle-partitions", type=int, default=None)
    ap.add_argument("--arrow-batch-rows", type=int, default=None)
    ap.add_argument("--target-rows", type=int, default=2_000_000,
                    help="positions per per-vessel task (a larger vessel bucket is split)")
    ap.add_argument("--gather-rows", type=int, default=GATHER_ROWS,
                    help="archives up to this many positions finish encounters and identity "
                         "in one task")
    a = ap.parse_args(argv)
    s = run_detect_spark(a.archive, a.out, None, a.master, shuffle_partitions=a.shuffle_partitions,
                         arrow_batch_rows=a.arrow_batch_rows, target_rows=a.target_rows,
                         gather_rows=a.gather_rows)
    print(f"{s.events} events from {s.positions} positions of {s.vessels} vessels "
          f"in {s.seconds:.1f} s -> {s.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover - spark-submit entry
    sys.exit(main())
