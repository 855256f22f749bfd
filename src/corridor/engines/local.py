"""The local engine: DuckDB + Arrow, partitioned by vessel, on all cores, incremental.

``run_detect`` does, in order:

1. **What changed.** Per MMSI, the number and last time of its positions are compared
   with ``detect_state`` (positions seen and parameter hash at the last run). Only
   vessels with new positions (or run with other parameters, or never run) are
   recomputed; ``full=True`` recomputes all of them.
2. **Per-vessel pass.** The affected MMSIs are cut into chunks of about
   ``chunk_positions`` positions; each chunk is read from DuckDB as one Arrow table
   (``ORDER BY mmsi, ts``) and handed to a worker process, which slices it per MMSI and
   runs :class:`corridor.detect.pipeline.VesselPipeline` (numpy over whole segments, no
   per-position Python). At most ``workers + 1`` chunks are in flight, so memory is
   bounded by the chunk size, not by the table.
3. **Cross-vessel pass.** Encounters (the three stages of :mod:`corridor.detect.encounters`)
   that start in the time range the affected vessels' positions cover are recomputed
   among *all* vessels: the per-vessel pass has already put each affected vessel's whole
   track on the encounter grid and spilled it to a temporary Arrow IPC file (sorted by
   time); vessels not affected are gridded from the store over the range plus a day on
   each side; then adjacent pairs are found time slice by time slice (vessels are only
   compared at equal grid times, so memory is bounded by the slice, not the archive)
   and turned into events. Identity changes are recomputed from ``vessel_reports``.
4. **One transaction** replaces the affected vessels' events (the per-vessel types),
   their position marks, the encounters of the range, the identity events, and updates
   ``detect_state`` (the per-vessel rows are written while the workers search the
   encounter pairs; the cross-vessel rows follow, then the commit). A failure leaves
   the store as it was; a re-run never duplicates.

``--since/--until`` restricts the positions read; such a partial run replaces only the
events that start inside the window and clears the vessels' ``detect_state`` so that the
next plain run recomputes them over their whole history.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_all_start_methods, get_context
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corridor.detect.params import DetectParams
from corridor.detect.pipeline import VESSEL_EVENT_TYPES, VesselPipeline, split_by_mmsi
from corridor.detect.tracks import MARKS_SCHEMA
from corridor.progress import Progress, silent
from corridor.schema import EVENTS, SEGMENTS
from corridor.scratch import prefix as scratch_prefix
from corridor.store import Store, utcnow
from corridor.workers import die_with_parent, forking_from_main_thread

#: the columns the per-vessel pass reads (track cleaning, the detectors, the encounter grid):
#: only these, not every column of ``positions`` (a column read is a column decoded)
POSITION_COLUMNS = "obs_id, mmsi, ts, lat, lon, sog, nav_status, msg_type"
#: the columns the encounter grid of a vessel not recomputed needs
GRID_COLUMNS = "obs_id, mmsi, ts, lat, lon"
#: rows per record batch of a spilled grid file (each batch sorted by time)
GRID_BATCH_ROWS = 1 << 20
#: DuckDB's memory limit during detection (its block cache; queries spill beyond it)
DUCKDB_MEMORY_MB = 1024


@dataclass
class DetectSummary:
    """What a detection run did."""

    vessels_total: int = 0
    vessels_detected: int = 0
    positions: int = 0
    events: dict[str, int] = field(default_factory=dict)
    marks: dict[str, int] = field(default_factory=dict)
    encounter_range: tuple[str, str] | None = None
    seconds: float = 0.0
    params_hash: str = ""
    failed: int = 0
    notes: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase

    def to_dict(self) -> dict[str, Any]:
        return {
            "vessels_total": self.vessels_total,
            "vessels_detected": self.vessels_detected,
            "positions": self.positions,
            "events": dict(sorted(self.events.items())),
            "marks": dict(sorted(self.marks.items())),
            "encounter_range": self.encounter_range,
            "seconds": round(self.seconds, 3),
            "params_hash": self.params_hash,
            "failed": self.failed,
            "notes": self.notes,
            "phases": {k: round(v, 3) for k, v in self.phases.items()},
        }


# ------------------------------------------------------------------ worker side
_PIPELINE: VesselPipeline | None = None
_PLACES: Any = None


def _place_index(places_tbl: pa.Table | None):
    if places_tbl is None or places_tbl.num_rows == 0:
        return None
    from corridor.places import PlaceIndex

    return PlaceIndex.from_arrow(places_tbl)


def _init_spawned_worker(params, places_tbl, owner_pid: int, pdeathsig: bool) -> None:
    """Initializer of a spawned detect worker: tied to its parent, then set up."""
    die_with_parent(owner_pid, pdeathsig)
    _init_worker(params, places_tbl)


def _init_worker(params: DetectParams, places_tbl: pa.Table | None) -> None:
    global _PIPELINE, _PLACES
    _PLACES = _place_index(places_tbl)
    _PIPELINE = VesselPipeline(params, _PLACES)


class _ShoreLoader:
    """Loads the bundled shore index (:func:`corridor.shore.load_land`, cached per process)
    in a thread, so that reading the store overlaps it. Joined before workers are forked;
    a failure here is ignored (the pipeline loads it, or reports why, when it asks)."""

    def __init__(self) -> None:
        self.thread = threading.Thread(target=self._load, name="corridor-shore", daemon=True)

    @classmethod
    def start(cls) -> _ShoreLoader:
        loader = cls()
        loader.thread.start()
        return loader

    @staticmethod
    def _load() -> None:
        try:
            from corridor.shore import load_land

            load_land()
        except Exception:  # noqa: BLE001, S110 - retried (and reported) where it is used
            pass

    def join(self) -> None:
        self.thread.join()


def _warm(pipeline: VesselPipeline | None) -> None:
    """Load lazily-built data (the shore index) before forking, so workers share it."""
    if pipeline is not None and pipeline.shore is not None:
        pipeline.shore(np.array([0.0]), np.array([0.0]))


GridFile = tuple[str, int, int, int]  # path, rows, first and last grid time (us)


def _spill_grid(positions: pa.Table, marks: pa.Table | None, path: str | None) -> GridFile | None:
    """Stage 1 of encounters for the vessels of a chunk: their at-sea grid points
    (:func:`corridor.detect.encounters.vessel_grid`), written to ``path`` sorted by time so
    that the pair pass reads one time slice of every vessel without holding the rest.

    The file is Arrow IPC, uncompressed: a time slice is found by binary search on the
    memory-mapped ``ts`` column and read without decoding (Parquet's encoding and decoding
    cost more than the pair search of the slice)."""
    assert _PIPELINE is not None
    enc = _PIPELINE.params.encounter
    if path is None or enc is None or positions.num_rows == 0:
        return None
    from corridor.detect.encounters import vessel_grid

    grid = vessel_grid(positions, marks, enc, _PLACES)
    if grid.num_rows == 0:
        return None
    grid = grid.sort_by([("ts", "ascending"), ("mmsi", "ascending")])
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, grid.schema) as writer:
        writer.write_table(grid, max_chunksize=GRID_BATCH_ROWS)
    ts = grid["ts"].cast(pa.int64())
    return path, grid.num_rows, int(ts[0].as_py()), int(ts[-1].as_py())


def _read_grid_slice(path: str, t0: int, t1: int) -> list[pa.RecordBatch]:
    """The rows of a spilled grid file with ``t0 <= ts < t1`` (us), as zero-copy slices of
    its memory-mapped record batches (each sorted by time)."""
    reader = pa.ipc.open_file(pa.memory_map(path, "r"))
    out = []
    for i in range(reader.num_record_batches):
        batch = reader.get_batch(i)
        ts = batch.column("ts").to_numpy(zero_copy_only=True).view(np.int64)
        if len(ts) == 0 or ts[-1] < t0 or ts[0] >= t1:
            continue
        a, b = np.searchsorted(ts, [t0, t1], side="left")
        if b > a:
            out.append(batch.slice(int(a), int(b - a)))
    return out


def _run_chunk(chunk: pa.Table, grid_path: str | None = None
               ) -> tuple[pa.Table, pa.Table, list[tuple[int, str]], GridFile | None, pa.Table]:
    """Detect every MMSI of a chunk sorted by mmsi (runs in a worker); with ``grid_path``,
    also spill the chunk's encounter grid there. Last: the chunk's segment runs.

    A vessel whose detection fails is reported (MMSI, error) and skipped; the others go on.
    It is left out of the grid here: the encounter pass grids it from the store with its
    stored marks, like any vessel this run does not recompute.
    """
    assert _PIPELINE is not None
    events, marks, failed, segments = [], [], [], []
    for part in split_by_mmsi(chunk):
        try:
            res = _PIPELINE.apply(part)
        except Exception as exc:  # noqa: BLE001 - one bad vessel must not stop the run
            failed.append((int(part["mmsi"][0].as_py()), f"{type(exc).__name__}: {exc}"))
            continue
        if res.events.num_rows:
            events.append(res.events)
        if res.marks.num_rows:
            marks.append(res.marks)
        if res.segments.num_rows:
            segments.append(res.segments)
    ev = pa.concat_tables(events) if events else EVENTS.empty_table()
    mk = pa.concat_tables(marks) if marks else MARKS_SCHEMA.empty_table()
    if failed:
        bad = pa.array([m for m, _ in failed], pa.int64())
        chunk = chunk.filter(pc.invert(pc.is_in(chunk["mmsi"], bad)))
    # one small table per vessel: combined, or DuckDB scans thousands of tiny Arrow chunks
    sg = pa.concat_tables(segments).combine_chunks() if segments else SEGMENTS.empty_table()
    return ev, mk, failed, _spill_grid(chunk, mk, grid_path), sg


def _pairs_slice(files: list[str], t0: int, t1: int, out: str, n_parts: int
                 ) -> list[tuple[int, str]]:
    """Stage 2 of encounters for grid times in ``[t0, t1)`` (us): every vessel's grid points
    of the slice, bucketed, and the adjacent pairs among them. Vessels are compared only at
    equal grid times, so slices are independent. The pairs are written to ``out`` + part
    number, split into ``n_parts`` parts by vessel pair (all rows of one pair of vessels in
    one part, whatever the slice), and the (part, path) written are returned."""
    pairs = _slice_pairs(files, t0, t1)
    if pairs.num_rows == 0:
        return []
    a = pairs["mmsi"].to_numpy().astype(np.uint64)
    b = pairs["other_mmsi"].to_numpy().astype(np.uint64)
    with np.errstate(over="ignore"):
        part = ((a * np.uint64(1_000_003) + b) % np.uint64(n_parts)).astype(np.int64)
    written = []
    for k in np.unique(part):
        path = f"{out}-{int(k):04d}.parquet"
        pq.write_table(pairs.filter(pa.array(part == k)), path)
        written.append((int(k), path))
    return written


def _events_part(files: list[str]) -> pa.Table:
    """Stage 3 of encounters for one part of the vessel pairs (all their pairs)."""
    from corridor.detect.encounters import PAIRS, encounters_from_pairs

    assert _PIPELINE is not None and _PIPELINE.params.encounter is not None
    pairs = pa.concat_tables([pq.read_table(f, schema=PAIRS) for f in files])
    return encounters_from_pairs(pairs, _PIPELINE.params.encounter, _PLACES).cast(EVENTS)


def _slice_pairs(files: list[str], t0: int, t1: int) -> pa.Table:
    """The adjacent pairs among the grid points of ``files`` in ``[t0, t1)``."""
    from corridor.detect.encounters import grid_pairs
    from corridor.detect.resample import GRID

    assert _PIPELINE is not None and _PIPELINE.params.encounter is not None
    batches = [b for f in files for b in _read_grid_slice(f, t0, t1)]
    grid = pa.Table.from_batches(batches, schema=GRID).combine_chunks()
    return grid_pairs(grid, _PIPELINE.params.encounter)


# ------------------------------------------------------------------ main side
def _load_places(store: Store) -> pa.Table | None:
    if store.count("places") == 0:
        return None
    try:
        import corridor.places  # noqa: F401
    except ImportError:
        return None
    return store.query("SELECT * FROM places ORDER BY place_id")


def _affected(store: Store, params_hash: str, vessels: list[int] | None, since, until,
              full: bool) -> tuple[pa.Table, int]:
    """Per affected MMSI: positions count, min/max time; and the number of vessels seen."""
    where, args = [], []
    if vessels:
        where.append(f"mmsi IN ({','.join('?' * len(vessels))})")
        args += [int(v) for v in vessels]
    if since is not None:
        where.append("ts >= ?")
        args.append(since)
    if until is not None:
        where.append("ts < ?")
        args.append(until)
    w = ("WHERE " + " AND ".join(where)) if where else ""
    windowed = since is not None or until is not None
    stale = "TRUE" if (full or windowed) else (
        "s.mmsi IS NULL OR s.positions_seen <> c.n OR s.params_hash <> ? "
        "OR s.max_obs_ts IS DISTINCT FROM c.max_ts")
    if not (full or windowed):
        args.append(params_hash)
    sql = f"""
        WITH c AS (SELECT mmsi, count(*) AS n, min(ts) AS min_ts, max(ts) AS max_ts
                   FROM positions {w} GROUP BY mmsi)
        SELECT c.mmsi, c.n, c.min_ts, c.max_ts, ({stale}) AS stale
        FROM c LEFT JOIN detect_state s ON s.mmsi = c.mmsi ORDER BY c.mmsi"""
    t = store.query(sql, args)
    total = t.num_rows
    return t.filter(t["stale"]), total


def _pass_hash(store: Store, name: str) -> str | None:
    """Parameter hash of the cross-vessel pass ``name`` when it last covered every vessel."""
    row = store.one("SELECT params_hash FROM detect_passes WHERE pass = ?", [name])
    return row[0] if row else None


def _positions_range(store: Store) -> tuple[datetime, datetime] | None:
    lo, hi = store.one("SELECT min(ts), max(ts) FROM positions")
    return None if lo is None else (lo, hi)


def _sorted_by_mmsi_ts_obs(t: pa.Table) -> bool:
    """True when the rows are in ``ORDER BY mmsi, ts, obs_id`` order (no nulls in them)."""
    if t.num_rows < 2:
        return True
    cols = [t[c] for c in ("mmsi", "ts", "obs_id")]
    if any(c.null_count for c in cols):
        return False
    m, ts, o = (np.asarray(c.cast(pa.int64()).to_numpy()) for c in cols)
    same_m = m[1:] == m[:-1]
    same_t = ts[1:] == ts[:-1]
    later = (ts[1:] > ts[:-1]) | (same_t & (o[1:] >= o[:-1]))
    return bool(np.all((m[1:] > m[:-1]) | (same_m & later)))


def _chunks(counts: np.ndarray, target: int) -> np.ndarray:
    """Chunk number per vessel so each chunk holds about ``target`` positions."""
    cum = np.cumsum(counts)
    return ((cum - counts) // max(1, target)).astype(np.int64)


def run_detect(
    store: Store,
    params: DetectParams | None = None,
    vessels: list[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
    *,
    full: bool = False,
    workers: int | None = None,
    chunk_positions: int = 200_000,
    encounter_slice_rows: int = 500_000,
) -> DetectSummary:
    """Detect events in the store, incrementally (see the module docstring).

    ``workers``: processes for the per-vessel pass (default: CPU count; runs in-process
    when 1 or when fewer than ``chunk_positions`` positions are affected).
    ``chunk_positions`` and ``encounter_slice_rows`` bound memory: positions per chunk of
    vessels, and grid points per time slice of the encounter pair pass. Neither changes
    the events.
    """
    # a pass over 10^8 positions would otherwise keep gigabytes cached that it never reads again
    with store.memory_limit(DUCKDB_MEMORY_MB):
        return _run_detect(store, params, vessels, since, until, progress, full=full,
                           workers=workers, chunk_positions=chunk_positions,
                           encounter_slice_rows=encounter_slice_rows)


def _run_detect(store: Store, params: DetectParams | None, vessels: list[int] | None,
                since: datetime | None, until: datetime | None, progress: Progress | None, *,
                full: bool, workers: int | None, chunk_positions: int,
                encounter_slice_rows: int) -> DetectSummary:
    t_start = time.perf_counter()
    params = params or DetectParams()
    progress = progress or silent
    phash = params.hash()
    summary = DetectSummary(params_hash=phash)
    if not full and store.count("segments") == 0 and store.count("detect_state") > 0:
        full = True  # a store detected before segments were stored: fill them in
        summary.notes.append("segments not stored yet: every vessel recomputed")
    affected, summary.vessels_total = _affected(store, phash, vessels, since, until, full)
    mmsis = affected["mmsi"].to_numpy() if affected.num_rows else np.zeros(0, np.int64)
    counts = affected["n"].to_numpy() if affected.num_rows else np.zeros(0, np.int64)
    summary.vessels_detected = len(mmsis)
    summary.positions = int(counts.sum())
    # the shore index (~0.7 s to build) loads while the places are read and indexed
    shore_loader = _ShoreLoader.start() if summary.positions else None
    places_tbl = _load_places(store)
    if places_tbl is None:
        summary.notes.append("no places loaded: port visits and voyages not detected")
    windowed = since is not None or until is not None
    # encounter parameters changed since the encounters were last computed everywhere:
    # recompute every encounter (a full-range pass), not only the affected vessels' range
    enc_hash = params.encounter_hash()
    enc_everywhere = (params.encounter is not None and not windowed and not vessels
                      and _pass_hash(store, "encounter") != enc_hash)
    enc_all_range = _positions_range(store) if enc_everywhere else None

    # ---- per-vessel pass
    t_phase = time.perf_counter()
    ts_filter, ts_args = _window_sql("p.ts", since, until)
    chunk_no = _chunks(counts, chunk_positions)
    n_chunks = int(chunk_no.max()) + 1 if len(chunk_no) else 0
    aff = pa.table({"mmsi": pa.array(mmsis, pa.int64()), "chunk": pa.array(chunk_no, pa.int64())})
    store.con.register("_detect_affected", aff)
    stack = ExitStack()  # holds the worker pool (if any) and the grid spill directory
    events_out: list[pa.Table] = []
    marks_out: list[pa.Table] = []
    segments_out: list[pa.Table] = []
    failed: list[tuple[int, str]] = []
    grids: list[GridFile] = []
    spill = None
    if params.encounter is not None and (len(mmsis) or enc_all_range is not None):
        spill = tempfile.mkdtemp(prefix=scratch_prefix("grid"))  # swept if the run is killed
        stack.callback(shutil.rmtree, spill, ignore_errors=True)

    def grid_path(k: int) -> str | None:
        return os.path.join(spill, f"vessels-{k:06d}.arrow") if spill else None

    try:
        first_of = np.searchsorted(chunk_no, np.arange(n_chunks), side="left")
        last_of = np.searchsorted(chunk_no, np.arange(n_chunks), side="right") - 1

        let_duckdb_sort = False

        def read(k: int) -> pa.Table:
            # the BETWEEN lets DuckDB skip row groups by their mmsi min/max (positions are
            # mostly stored vessel by vessel); the semi-join keeps only affected vessels
            nonlocal let_duckdb_sort
            lo, hi = int(mmsis[first_of[k]]), int(mmsis[last_of[k]])
            sql = (f"SELECT {POSITION_COLUMNS} FROM positions p WHERE p.mmsi BETWEEN ? AND ? "
                   f"AND p.mmsi IN (SELECT mmsi FROM _detect_affected WHERE chunk = ?){ts_filter}")
            args = [lo, hi, k, *ts_args]
            order = " ORDER BY p.mmsi, p.ts, p.obs_id"
            if let_duckdb_sort:
                return store.query(sql + order, args)
            # a store filled in time order per vessel (a simulation, an archive loaded vessel by
            # vessel) comes back already sorted: check that in O(n) instead of sorting (the
            # ORDER BY was 4x the read); (mmsi, ts, obs_id) is unique, so both give one order
            chunk = store.query(sql, args)
            if _sorted_by_mmsi_ts_obs(chunk):
                return chunk
            let_duckdb_sort = True  # stored in another order: DuckDB sorts from now on
            return store.query(sql + order, args)

        _init_worker(params, places_tbl)  # this process runs the encounter events (stage 3)
        if shore_loader is not None:
            shore_loader.join()  # before any fork, and before the pipeline asks for the shore
        n_workers = workers or os.cpu_count() or 1
        done_positions = 0
        progress("detect", 0, summary.positions)
        if n_workers > 1 and (summary.positions > chunk_positions or enc_all_range is not None):
            # fork where the platform has it: workers start at once with corridor already
            # imported (spawn re-imports everything, ~4 s per worker here, and re-runs an
            # unguarded __main__ script or notebook). Workers only run numpy/Arrow code
            # on the tables they are sent; they never touch the inherited DuckDB connection.
            methods = get_all_start_methods()
            ctx = get_context("fork" if "fork" in methods else "spawn")
            # workers end with this process, even when it is killed (kill -9, OOM)
            pdeathsig = forking_from_main_thread()
            if ctx.get_start_method() == "fork":
                _warm(_PIPELINE)  # built once here (above), inherited by the workers
                pool_kw: dict[str, Any] = {"initializer": die_with_parent,
                                           "initargs": (os.getpid(), pdeathsig)}
            else:
                pool_kw = {"initializer": _init_spawned_worker,
                           "initargs": (params, places_tbl, os.getpid(), pdeathsig)}
            pool = stack.enter_context(ProcessPoolExecutor(n_workers, mp_context=ctx, **pool_kw))
        else:
            pool = None
        sizes = np.bincount(chunk_no, weights=counts, minlength=n_chunks).astype(np.int64)
        jobs = ((read(k), grid_path(k)) for k in range(n_chunks))  # read as the pool takes them
        for k, (ev, mk, bad, grid, sg) in enumerate(_map_bounded(pool, _run_chunk, jobs,
                                                                    n_workers + 1)):
            events_out.append(ev)
            marks_out.append(mk)
            segments_out.append(sg)
            failed += bad
            grids += [grid] if grid else []
            done_positions += int(sizes[k])
            progress("detect", done_positions, summary.positions)
    except BaseException:
        stack.close()
        raise
    finally:
        store.con.unregister("_detect_affected")
    if failed:
        bad = pa.array(sorted(m for m, _ in failed), pa.int64())
        for m, err in sorted(failed):
            summary.notes.append(f"vessel {m} skipped (its previous events are kept): {err}")
        affected = affected.filter(pc.invert(pc.is_in(affected["mmsi"], bad)))
        aff = aff.filter(pc.invert(pc.is_in(aff["mmsi"], bad)))
        summary.vessels_detected -= len(failed)
    summary.failed = len(failed)
    vessel_events = pa.concat_tables(events_out) if events_out else EVENTS.empty_table()
    marks = pa.concat_tables(marks_out) if marks_out else MARKS_SCHEMA.empty_table()
    segments = (pa.concat_tables(segments_out).combine_chunks() if segments_out
                else SEGMENTS.empty_table())

    summary.phases["vessels"] = time.perf_counter() - t_phase
    # ---- cross-vessel pass (reads the store; new marks are passed in memory)
    t_phase = time.perf_counter()
    enc_range = None
    if len(mmsis) and params.encounter is not None:
        lo = pc.min(affected["min_ts"]).as_py()
        hi = pc.max(affected["max_ts"]).as_py()
        if since is not None:
            lo = max(lo, since)
        if until is not None:
            hi = min(hi, until)
        enc_range = (lo, hi)
    if enc_all_range is not None:
        enc_range = enc_all_range
    # ---- write, all or nothing: the per-vessel rows are written while the workers search
    # the encounter pairs (one transaction; the cross-vessel rows follow, then the commit)
    everything = not windowed and not failed and summary.vessels_detected == summary.vessels_total
    types = ",".join(f"'{t}'" for t in VESSEL_EVENT_TYPES)
    win_sql, win_args = _window_sql("start_ts", since, until)
    with store.transaction() as con:
        t_write = 0.0

        def write_vessels() -> None:
            """The affected vessels' events, marks, segments and state (run once)."""
            nonlocal t_write
            t0 = time.perf_counter()
            con.register("_detect_affected", aff)
            con.register("_detect_marks", marks.append_column(
                "run_id", pa.array([phash] * marks.num_rows, pa.string())))
            con.execute(
                f"DELETE FROM events WHERE type IN ({types}) AND mmsi IN "
                f"(SELECT mmsi FROM _detect_affected){win_sql}", win_args)
            if everything:  # every vessel over all its positions: no need to look marks up
                con.execute("DELETE FROM position_marks")
            else:
                con.execute(
                    "DELETE FROM position_marks WHERE obs_id IN (SELECT obs_id FROM positions p "
                    f"WHERE p.mmsi IN (SELECT mmsi FROM _detect_affected){ts_filter})", ts_args)
            # event ids differ by type (the type is hashed in), so inserting these before the
            # encounters and identity changes replaces exactly what one insert would
            con.register("_detect_events", vessel_events)
            con.execute("INSERT OR REPLACE INTO events BY NAME SELECT * FROM _detect_events")
            con.unregister("_detect_events")
            con.execute("INSERT INTO position_marks BY NAME SELECT * FROM _detect_marks")
            # segment runs: replaced like the per-vessel events (a windowed run, those
            # starting inside the window)
            con.register("_detect_segments", segments)
            con.execute(
                "DELETE FROM segments WHERE mmsi IN (SELECT mmsi FROM _detect_affected)"
                + win_sql, win_args)
            con.execute("INSERT INTO segments BY NAME SELECT * FROM _detect_segments")
            con.unregister("_detect_segments")
            if windowed:
                con.execute(
                    "DELETE FROM detect_state WHERE mmsi IN (SELECT mmsi FROM _detect_affected)")
            else:
                state = pa.table({
                    "mmsi": affected["mmsi"], "positions_seen": affected["n"],
                    "max_obs_ts": affected["max_ts"],
                    "params_hash": pa.array([phash] * affected.num_rows, pa.string()),
                    "detected_at": pa.array([utcnow()] * affected.num_rows, pa.timestamp("us")),
                })
                con.register("_detect_state", state)
                con.execute(
                    "INSERT OR REPLACE INTO detect_state BY NAME SELECT * FROM _detect_state")
                con.unregister("_detect_state")
            if failed:  # retried by the next run
                con.execute(
                    f"DELETE FROM detect_state WHERE mmsi IN ({','.join('?' * len(failed))})",
                    [m for m, _ in failed])
            for name in ("_detect_affected", "_detect_marks"):
                con.unregister(name)
            t_write += time.perf_counter() - t0

        write_once = _Once(write_vessels)
        with stack:
            encounters = _encounters(store, params, enc_range, aff["mmsi"].to_numpy(),
                                     grids, spill, pool, encounter_slice_rows, chunk_positions,
                                     n_workers, meanwhile=write_once)
        write_once()  # (the encounter pass did not run it: no encounters to search)
        summary.phases["encounters"] = time.perf_counter() - t_phase - t_write
        t_phase = time.perf_counter()
        identity = _identity(store, params, vessels)
        summary.phases["identity"] = time.perf_counter() - t_phase
        t_phase = time.perf_counter() - t_write
        if encounters is not None:
            con.execute("DELETE FROM events WHERE type = 'encounter' AND start_ts >= ? "
                        "AND start_ts <= ?", [enc_range[0], enc_range[1]])
        if encounters is not None and (enc_everywhere or _pass_hash(store, "encounter") == enc_hash):
            con.execute("INSERT OR REPLACE INTO detect_passes VALUES ('encounter', ?, ?)",
                        [enc_hash, utcnow()])
        if identity is not None:
            if vessels:
                q = ",".join("?" * len(vessels))
                con.execute(f"DELETE FROM events WHERE type = 'identity_change' AND "
                            f"(mmsi IN ({q}) OR other_mmsi IN ({q}))",
                            [int(v) for v in vessels] * 2)
            else:
                con.execute("DELETE FROM events WHERE type = 'identity_change'")
        cross = [t for t in (encounters, identity) if t is not None]
        if cross:
            con.register("_detect_events", pa.concat_tables(cross))
            con.execute("INSERT OR REPLACE INTO events BY NAME SELECT * FROM _detect_events")
            con.unregister("_detect_events")
    all_events = [t for t in (vessel_events, encounters, identity) if t is not None]
    new_events = pa.concat_tables(all_events) if all_events else EVENTS.empty_table()
    summary.events = dict(Counter(new_events["type"].to_pylist()))
    summary.marks = dict(Counter(marks["mark"].to_pylist()))
    if enc_range is not None:
        summary.encounter_range = (str(enc_range[0]), str(enc_range[1]))
    summary.phases["write"] = time.perf_counter() - t_phase
    summary.seconds = time.perf_counter() - t_start
    progress("detect", summary.positions, summary.positions)
    return summary


def _encounters(store: Store, params: DetectParams, rng, affected: np.ndarray,
                grids: list[GridFile], spill: str | None, pool: ProcessPoolExecutor | None,
                slice_rows: int, chunk_positions: int, n_workers: int = 1,
                meanwhile: Callable[[], None] | None = None) -> pa.Table | None:
    """Encounters of all vessels that START inside ``rng`` (None: not run).

    ``meanwhile`` is called once the pair search of every time slice is queued in the
    pool (the main process has nothing else to do until the first result comes back).

    Stage 1 (the grid) was spilled by the per-vessel pass for the affected vessels, over
    their whole tracks. Vessels not affected by this run but seen within a day of ``rng``
    are read from the store (with their stored marks) and gridded here. Stage 2 runs time
    slice by time slice of about ``slice_rows`` grid points, in the worker pool, and spills
    the close pairs split by vessel pair; stage 3 (pairs → events) runs part by part.
    """
    if rng is None or spill is None:
        return None
    enc = params.encounter
    assert enc is not None
    lo, hi = rng
    halo = np.timedelta64(1, "D")
    ctx_lo = (np.datetime64(lo, "us") - halo).astype(datetime)
    ctx_hi = (np.datetime64(hi, "us") + halo).astype(datetime)
    grids = list(grids) + _grid_unaffected(store, affected, ctx_lo, ctx_hi, spill, pool,
                                           chunk_positions)
    if not grids:
        return EVENTS.empty_table()
    step = enc.resample.step_us
    t_lo = max(min(g[2] for g in grids), int(np.datetime64(ctx_lo, "us").astype(np.int64)))
    t_hi = min(max(g[3] for g in grids), int(np.datetime64(ctx_hi, "us").astype(np.int64)))
    t_lo -= t_lo % step
    n_slices = max(1, -(-sum(g[1] for g in grids) // max(1, slice_rows)))  # ceil
    if pool is not None:  # a multiple of the workers: no last round with a worker idle
        n_slices = -(-n_slices // n_workers) * n_workers
    per_slice = -(-(t_hi + 1 - t_lo) // n_slices)
    length = -(-per_slice // step) * step  # whole grid steps
    jobs = []
    for i, a in enumerate(range(t_lo, t_hi + 1, length)):
        files = [g[0] for g in grids if g[2] < a + length and g[3] >= a]
        if files:
            jobs.append((files, a, a + length, os.path.join(spill, f"pairs-{i:05d}"), n_slices))
    parts: dict[int, list[str]] = {}
    if pool is not None:  # all queued at once: a slice's result is a few file names
        futures = [pool.submit(_pairs_slice, *job) for job in jobs]
        try:
            if meanwhile is not None:
                meanwhile()
            for f in futures:
                for k, path in f.result():
                    parts.setdefault(k, []).append(path)
        except BaseException:
            # a failure (a slice, the writes done meanwhile, Ctrl-C) ends the run now, not
            # after every slice still queued has been searched
            for f in futures:
                f.cancel()
            raise
    else:
        for written in _map_bounded(None, _pairs_slice, jobs):
            for k, path in written:
                parts.setdefault(k, []).append(path)
    # stage 3, part by part: the close pairs of a busy sea can outgrow memory too
    events = [t for t in _map_bounded(pool, _events_part, [(parts[k],) for k in sorted(parts)])
              if t.num_rows]
    if not events:
        return EVENTS.empty_table()
    ev = pa.concat_tables(events)
    s = ev["start_ts"].cast(pa.int64()).to_numpy()
    lo_us = int(np.datetime64(lo, "us").astype(np.int64))
    hi_us = int(np.datetime64(hi, "us").astype(np.int64))
    return ev.filter(pa.array((s >= lo_us) & (s <= hi_us))).cast(EVENTS)


def _window_sql(column: str, since: datetime | None, until: datetime | None
                ) -> tuple[str, list[datetime]]:
    """`` AND column >= ? AND column < ?`` for the bounds given, and their values."""
    sql, args = "", []
    if since is not None:
        sql += f" AND {column} >= ?"
        args.append(since)
    if until is not None:
        sql += f" AND {column} < ?"
        args.append(until)
    return sql, args


class _Once:
    """A callable that runs ``fn`` on its first call only."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn: Callable[[], None] | None = fn

    def __call__(self) -> None:
        fn, self.fn = self.fn, None
        if fn is not None:
            fn()


def _map_bounded(pool: ProcessPoolExecutor | None, fn, jobs: Iterable[tuple],
                 in_flight: int = 3) -> Iterator[Any]:
    """``fn(*job)`` for each job, in order: in the pool with at most ``in_flight`` at a time
    (their inputs and results stay bounded; ``jobs`` may be a generator that reads each
    job's data only when it is taken), or here without a pool."""
    pending: deque[Future] = deque()
    for job in jobs:
        if pool is None:
            yield fn(*job)
            continue
        pending.append(pool.submit(fn, *job))
        while len(pending) >= in_flight:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _grid_unaffected(store: Store, affected: np.ndarray, lo: datetime, hi: datetime, spill: str,
                     pool: ProcessPoolExecutor | None, chunk_positions: int) -> list[GridFile]:
    """Grid files of the vessels this run did not recompute, over ``[lo, hi)``, from their
    stored positions and marks (an incremental run: their encounters with the affected
    vessels are recomputed all the same)."""
    store.con.register("_enc_aff", pa.table({"mmsi": pa.array(affected, pa.int64())}))
    try:
        others = store.query(
            "SELECT mmsi, count(*) AS n FROM positions WHERE ts >= ? AND ts < ? AND mmsi NOT IN "
            "(SELECT mmsi FROM _enc_aff) GROUP BY mmsi ORDER BY mmsi", [lo, hi])
    finally:
        store.con.unregister("_enc_aff")
    if others.num_rows == 0:
        return []
    mmsis = others["mmsi"].to_numpy()
    chunk_no = _chunks(others["n"].to_numpy(), chunk_positions)

    def jobs() -> Iterator[tuple]:  # read lazily: a chunk is read when the pool can take it
        for k in range(int(chunk_no.max()) + 1):
            sel = pa.array(mmsis[chunk_no == k], pa.int64())
            store.con.register("_enc_chunk", pa.table({"mmsi": sel}))
            try:
                pos = store.query(
                    f"SELECT {GRID_COLUMNS} FROM positions WHERE ts >= ? AND ts < ? AND mmsi "
                    "IN (SELECT mmsi FROM _enc_chunk) ORDER BY mmsi, ts, obs_id", [lo, hi])
                marks = store.query(
                    "SELECT m.obs_id, m.mark, m.segment_id FROM position_marks m JOIN positions p "
                    "ON p.obs_id = m.obs_id WHERE p.ts >= ? AND p.ts < ? AND p.mmsi IN "
                    "(SELECT mmsi FROM _enc_chunk)", [lo, hi])
            finally:
                store.con.unregister("_enc_chunk")
            yield pos, marks, os.path.join(spill, f"others-{k:06d}.arrow")

    return [g for g in _map_bounded(pool, _spill_grid, jobs()) if g]


def _identity(store: Store, params: DetectParams, vessels: list[int] | None) -> pa.Table | None:
    from corridor.detect.identity import detect_identity

    if store.count("vessel_reports") == 0:
        return None
    if vessels:
        q = ",".join("?" * len(vessels))
        # shared IMOs of these vessels need the other MMSIs' reports as well
        reports = store.query(
            f"SELECT * FROM vessel_reports WHERE mmsi IN ({q}) OR imo IN "
            f"(SELECT imo FROM vessel_reports WHERE mmsi IN ({q}) AND imo IS NOT NULL)",
            [int(v) for v in vessels] * 2)
        ev = detect_identity(reports, params.identity)
        vs = pa.array([int(v) for v in vessels], pa.int64())
        return ev.filter(pc.or_(pc.is_in(ev["mmsi"], vs), pc.fill_null(
            pc.is_in(ev["other_mmsi"], vs), False)))
    return detect_identity(store.query("SELECT * FROM vessel_reports"), params.identity)


def query_events(
    store: Store,
    types: list[str] | None = None,
    vessels: list[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pa.Table:
    """Stored events, filtered: ``types``, ``vessels`` (as mmsi or other_mmsi), and the
    time window (events overlapping ``[since, until)``), ordered by start time."""
    where, args = [], []
    if types:
        where.append(f"type IN ({','.join('?' * len(types))})")
        args += list(types)
    if vessels:
        q = ",".join("?" * len(vessels))
        where.append(f"(mmsi IN ({q}) OR other_mmsi IN ({q}))")
        args += [int(v) for v in vessels] * 2
    if since is not None:
        where.append("coalesce(end_ts, start_ts) >= ?")
        args.append(since)
    if until is not None:
        where.append("start_ts < ?")
        args.append(until)
    w = ("WHERE " + " AND ".join(where)) if where else ""
    return store.query(
        "SELECT event_id, type, mmsi, other_mmsi, segment_id, start_ts, end_ts, lat, lon, "
        "place_id, from_place_id, to_place_id, CAST(attrs AS VARCHAR) AS attrs, evidence "
        f"FROM events {w} ORDER BY start_ts, type, event_id", args)
