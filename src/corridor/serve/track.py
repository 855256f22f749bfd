"""A vessel's track for the map: cut at gaps and thinned on the server for the zoom level.

A 10M-position store has vessels with 10^5 positions; the browser needs no more points than
it can draw apart. :func:`thin_track` takes one vessel's positions (Arrow, time order):

1. cuts them into runs where consecutive positions are more than ``break_hours`` apart (the
   map draws runs solid and the gap between them dashed, so a dark stretch is never drawn as
   if sailed);
2. simplifies each run with Douglas-Peucker (shapely's ``simplify``, GEOS) at a tolerance of
   about ``pixel_tolerance`` screen pixels at the zoom level: a Web-Mercator pixel at zoom z is
   ``360 / (256 * 2**z)`` degrees of longitude;
3. if more than ``max_points`` remain, keeps the first position of each equal time bucket.

Every kept point keeps its ``obs_id`` and time, so any point on the map traces to its row.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import shapely


@dataclass(frozen=True)
class ThinParams:
    """``zoom``: Web-Mercator zoom level (0 = world in 256 px); ``pixel_tolerance``: the
    Douglas-Peucker tolerance in screen pixels; ``max_points``: cap on points returned;
    ``break_hours``: a longer silence cuts the track."""

    zoom: float = 6.0
    pixel_tolerance: float = 1.0
    max_points: int = 5000
    break_hours: float = 6.0

    @property
    def tolerance_deg(self) -> float:
        return self.pixel_tolerance * 360.0 / (256.0 * 2.0 ** max(0.0, min(self.zoom, 22.0)))


def _kept_indices(lon: np.ndarray, lat: np.ndarray, tol_deg: float) -> np.ndarray:
    """Indices of the vertices Douglas-Peucker keeps (start and end always kept).

    Each vertex carries its index as its Z value: GEOS simplifies in the plane and keeps the
    Z of the vertices it keeps, so the indices come back without matching coordinates.
    """
    n = len(lon)
    if n <= 2 or tol_deg <= 0:
        return np.arange(n)
    line = shapely.linestrings(lon, lat, np.arange(n, dtype=np.float64))
    kept = shapely.get_coordinates(shapely.simplify(line, tol_deg, preserve_topology=False),
                                   include_z=True)[:, 2].astype(np.int64)
    return np.unique(np.r_[0, kept, n - 1])


def thin_track(tbl: pa.Table, params: ThinParams = ThinParams()) -> dict:
    """``{"segments": [...], "positions": N, "points": M}`` for one vessel's positions
    (columns ``obs_id``, ``ts``, ``lat``, ``lon``, ``sog``, in time order). Each segment has
    ``coords`` ([lon, lat] pairs), ``ts`` (ISO), ``obs_id`` (strings: 64-bit ids do not fit a
    JavaScript number) and ``sog`` (knots)."""
    n = tbl.num_rows
    if n == 0:
        return {"segments": [], "positions": 0, "points": 0}
    ts = tbl.column("ts").cast(pa.timestamp("us")).cast(pa.int64()).to_numpy()
    lat = tbl.column("lat").to_numpy(zero_copy_only=False)
    lon = tbl.column("lon").to_numpy(zero_copy_only=False)
    cuts = np.flatnonzero(np.diff(ts) > params.break_hours * 3600e6) + 1
    bounds = np.r_[0, cuts, n]
    keep_parts = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        keep_parts.append(a + _kept_indices(lon[a:b], lat[a:b], params.tolerance_deg))
    keep = np.concatenate(keep_parts)
    if len(keep) > params.max_points:
        span = max(int(ts[-1] - ts[0]), 1)
        bucket = (ts[keep] - ts[0]) * params.max_points // (span + 1)
        first = np.r_[True, bucket[1:] != bucket[:-1]]
        ends = np.isin(keep, bounds[:-1]) | np.isin(keep, bounds[1:] - 1)  # keep every run's ends
        keep = keep[first | ends]
    kept = tbl.take(pa.array(keep))  # only the kept rows become Python values
    lon_k, lat_k = lon[keep].tolist(), lat[keep].tolist()
    obs = kept.column("obs_id").to_pylist()
    sog = kept.column("sog").to_pylist() if "sog" in kept.column_names else [None] * len(keep)
    times = kept.column("ts").to_pylist()
    segments = []
    run_of = np.searchsorted(bounds, keep, side="right") - 1
    for r in np.unique(run_of):
        idx = np.flatnonzero(run_of == r).tolist()
        segments.append({
            "coords": [[lon_k[i], lat_k[i]] for i in idx],
            "ts": [times[i].isoformat() for i in idx],
            "obs_id": [str(obs[i]) for i in idx],
            "sog": [sog[i] for i in idx],
        })
    return {"segments": segments, "positions": n, "points": int(len(keep))}


class TrackCache:
    """Recently read tracks (Arrow tables), least recently used dropped first, at most
    ``max_rows`` positions in all; an entry read at another store generation is read again."""

    def __init__(self, max_rows: int = 2_000_000):
        self.max_rows = max_rows
        self._items: OrderedDict[Hashable, tuple[object, pa.Table]] = OrderedDict()
        self._rows = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, generation: object, read: Callable[[], pa.Table]) -> pa.Table:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] == generation:
                self._items.move_to_end(key)
                return hit[1]
        tbl = read()
        with self._lock:
            old = self._items.pop(key, None)
            self._rows -= old[1].num_rows if old else 0
            if tbl.num_rows <= self.max_rows:
                self._items[key] = (generation, tbl)
                self._rows += tbl.num_rows
            while self._rows > self.max_rows:
                _, (_, dropped) = self._items.popitem(last=False)
                self._rows -= dropped.num_rows
        return tbl
