"""Detected events against the simulator's ground truth: precision and recall per type.

Matching, per event type: a detected event and a true event match when they concern the same
vessel (the same unordered pair for encounters) and their time spans overlap, allowing
``slack_minutes`` at either end (a detector sees a port entry at the first report inside the
geofence, not at the instant the ship crossed it). Matching is one-to-one, largest overlap first:
a true event found twice counts one hit and one false alarm.

True events that are cut by the edge of the simulated window (``complete = false``) are
neither required (they do not count against recall) nor held against the detector (a
detection matching one does not count against precision).

``evaluate_sim`` runs the whole loop: simulated Parquet -> a store (a temporary one unless
given) -> :func:`corridor.engines.local.run_detect` -> this comparison.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corridor.progress import Progress
from corridor.store import Store

#: the event types the simulator makes happen
SIM_TYPES = ("port_visit", "voyage", "gap", "loitering", "encounter", "position_conflict")


@dataclass(frozen=True)
class TypeScore:
    """Scores of one event type."""

    type: str
    truth: int  # complete true events
    detected: int  # detections counted (excludes those matching incomplete truth)
    matched: int  # detections matching a complete true event
    precision: float
    recall: float


def _key(t: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    m = np.asarray(pc.fill_null(t["mmsi"], -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    o = np.asarray(pc.fill_null(t["other_mmsi"], -1).to_numpy(zero_copy_only=False),
                   dtype=np.int64)
    return np.minimum(m, np.where(o < 0, m, o)), np.where(o < 0, -1, np.maximum(m, o))


def _us(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(col.cast(pa.timestamp("us")).cast(pa.int64()).to_numpy(
        zero_copy_only=False), dtype=np.int64)


def match(detected: pa.Table, truth: pa.Table, slack_minutes: float = 30.0
          ) -> list[tuple[int, int]]:
    """One-to-one matches (detected row, truth row) of ONE event type, largest overlap first."""
    if detected.num_rows == 0 or truth.num_rows == 0:
        return []
    slack = int(slack_minutes * 60e6)
    da, db = _key(detected)
    ta, tb = _key(truth)
    ds, de = _us(detected["start_ts"]), _us(pc.fill_null(detected["end_ts"], detected["start_ts"]))
    ts_, te = _us(truth["start_ts"]), _us(truth["end_ts"])
    cands = []
    by_key: dict[tuple[int, int], list[int]] = {}
    for j in range(truth.num_rows):
        by_key.setdefault((int(ta[j]), int(tb[j])), []).append(j)
    for i in range(detected.num_rows):
        for j in by_key.get((int(da[i]), int(db[i])), []):
            ov = min(de[i], te[j]) - max(ds[i], ts_[j])
            if ov >= -slack:
                cands.append((-ov, i, j))
    cands.sort()
    used_d, used_t, out = set(), set(), []
    for _, i, j in cands:
        if i not in used_d and j not in used_t:
            used_d.add(i)
            used_t.add(j)
            out.append((i, j))
    return out


def score(detected: pa.Table, truth: pa.Table, types: tuple[str, ...] = SIM_TYPES,
          slack_minutes: float = 30.0) -> list[TypeScore]:
    """Precision and recall per type of ``detected`` (EVENTS columns) against ``truth``
    (:data:`corridor.sim.TRUTH` columns). Only detections of the truth's MMSIs are counted.

    >>> import datetime as dt
    >>> t0 = dt.datetime(2024, 1, 1)
    >>> truth = pa.table({"type": ["gap"], "mmsi": [1], "other_mmsi": pa.array([None], pa.int64()),
    ...     "start_ts": [t0], "end_ts": [t0 + dt.timedelta(hours=9)], "complete": [True]})
    >>> det = pa.table({"type": ["gap", "gap"], "mmsi": [1, 1],
    ...     "other_mmsi": pa.array([None, None], pa.int64()),
    ...     "start_ts": [t0, t0 + dt.timedelta(days=2)],
    ...     "end_ts": [t0 + dt.timedelta(hours=9), t0 + dt.timedelta(days=2, hours=7)]})
    >>> s = score(det, truth, types=("gap",))[0]
    >>> (s.truth, s.detected, s.matched, s.precision, s.recall)
    (1, 2, 1, 0.5, 1.0)
    """
    sim_mmsi = pa.array(sorted(set(truth["mmsi"].to_pylist()) | set(
        x for x in truth["other_mmsi"].to_pylist() if x is not None)), pa.int64())
    det_all = detected.filter(pc.is_in(detected["mmsi"], sim_mmsi))
    out = []
    for typ in types:
        d = det_all.filter(pc.equal(det_all["type"], typ))
        t = truth.filter(pc.equal(truth["type"], typ))
        complete = np.asarray(t["complete"].to_numpy(zero_copy_only=False), dtype=bool)
        pairs = match(d, t, slack_minutes)
        hit_complete = sum(1 for _, j in pairs if complete[j])
        to_incomplete = sum(1 for _, j in pairs if not complete[j])
        n_det = d.num_rows - to_incomplete
        n_truth = int(complete.sum())
        out.append(TypeScore(
            typ, n_truth, n_det, hit_complete,
            precision=hit_complete / n_det if n_det else (1.0 if n_truth == 0 else 0.0),
            recall=hit_complete / n_truth if n_truth else 1.0,
        ))
    return out


def scores_table(scores: list[TypeScore]) -> pa.Table:
    """Scores as an Arrow table (for :func:`corridor.output.render`)."""
    return pa.table({
        "type": [s.type for s in scores],
        "truth": [s.truth for s in scores],
        "detected": [s.detected for s in scores],
        "matched": [s.matched for s in scores],
        "precision": [round(s.precision, 3) for s in scores],
        "recall": [round(s.recall, 3) for s in scores],
    })


def load_simulation(store: Store, sim_dir: str | Path) -> dict[str, int]:
    """Put a simulation's positions, static reports and ports into ``store``.

    Committed in parts of ``COMMIT_ROWS`` rows (bounded memory at 10^8 positions); a load
    that fails is recorded ``partial`` (or ``failed`` before the first part) in ingest_log and
    is finished by loading the same simulation again.

    Positions are already canonical (POSITIONS schema with obs_ids), so they go in as Arrow
    batches, without parsing; rows already stored are kept (idempotent). A simulated port is added to
    ``places`` only where no port/anchorage of the store lies within 3 km (so a store with the
    gazetteer does not get a second place for the same port). Returns rows added per table.
    """
    d = Path(sim_dir)
    pos = d / "positions.parquet"
    rep = d / "vessel_reports.parquet"
    added: dict[str, int] = {}
    sha = _sha_small(pos)
    ingest_id = store.begin_ingest("positions", str(pos), pos.stat().st_size, sha)
    places = pq.read_table(d / "places.parquet")
    if store.count("places"):
        from corridor.places import PlaceIndex

        idx = PlaceIndex.from_store(store, kinds=("port", "berth", "anchorage"))
        if len(idx):
            near, _ = idx.nearest(places["lat"].to_numpy(), places["lon"].to_numpy(), 3000.0)
            places = places.filter(pa.array(np.asarray(near) < 0))
    try:
        added.update(_load(store, ingest_id, pos, rep, places))
    except Exception as exc:
        stored = store.query("SELECT count(*) AS n FROM positions WHERE ingest_id = ?",
                             [ingest_id])["n"][0].as_py()
        store.finish_ingest(ingest_id, status="partial" if stored else "failed",
                            message=str(exc))
        raise
    store.finish_ingest(ingest_id, status="done", rows_in=None, rows_stored=added["positions"],
                        counts=added)
    return added


def _load(store: Store, ingest_id: int, pos: Path, rep: Path, places: pa.Table
          ) -> dict[str, int]:
    from corridor.ingest.summary import COMMIT_ROWS

    added = {"positions": 0, "vessel_reports": 0}
    # batch by batch, committed every COMMIT_ROWS rows as file ingest does (an open DuckDB
    # transaction holds its rows in memory: 10^8 positions in one reached 16 GB); a load cut
    # short is finished by loading again, since insert_arrow drops rows already stored
    for table, path in (("positions", pos), ("vessel_reports", rep)):
        batches = pq.ParquetFile(path).iter_batches(batch_size=1_000_000)
        while True:
            with store.transaction():
                rows = 0
                for batch in batches:
                    tbl = pa.Table.from_batches([batch])
                    tbl = tbl.append_column("ingest_id", pa.array(
                        np.full(tbl.num_rows, ingest_id, dtype=np.int64)))
                    added[table] += store.insert_arrow(table, tbl, on_conflict="ignore")
                    rows += tbl.num_rows
                    if rows >= COMMIT_ROWS:
                        break
            if rows < COMMIT_ROWS:
                break
    added["places"] = store.insert_arrow("places", places, on_conflict="ignore")
    return added


def _sha_small(path: Path) -> str:
    from corridor.store import sha256_file

    return sha256_file(path)


def evaluate_sim(sim_dir: str | Path, db: str | Path | None = None, params: Any = None,
                 progress: Progress | None = None, slack_minutes: float = 30.0
                 ) -> list[TypeScore]:
    """Ingest a simulation into ``db`` (a temporary store if None), detect, and score."""
    from corridor.engines.local import run_detect

    truth = pq.read_table(Path(sim_dir) / "truth.parquet")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(db) if db is not None else Path(tmp) / "sim.duckdb"
        with Store.open(path) as store:
            load_simulation(store, sim_dir)
            run_detect(store, params, progress=progress)
            sim_mmsi = sorted(set(truth["mmsi"].to_pylist()))
            detected = store.query(
                "SELECT type, mmsi, other_mmsi, start_ts, end_ts FROM events "
                "WHERE mmsi IN (SELECT unnest(?::BIGINT[]))", [sim_mmsi])
    return score(detected, truth, slack_minutes=slack_minutes)
