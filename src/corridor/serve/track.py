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

from bisect import bisect_left
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
    """Indices of the vertices Douglas-Peucker keeps (start and end always kept)."""
    n = len(lon)
    if n <= 2 or tol_deg <= 0:
        return np.arange(n)
    simple = shapely.simplify(shapely.linestrings(np.column_stack([lon, lat])), tol_deg,
                              preserve_topology=False)
    kept = shapely.get_coordinates(simple)
    # simplify returns a subsequence of the input vertices; map it back in order (a vertex
    # repeated along the track is matched to its next occurrence)
    where: dict[tuple[float, float], list[int]] = {}
    for i, key in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
        where.setdefault(key, []).append(i)
    out, last = [], -1
    for x, y in kept.tolist():
        occ = where.get((x, y))
        if not occ:
            continue
        j = bisect_left(occ, last + 1)
        if j < len(occ):
            last = occ[j]
            out.append(last)
    if not out or out[0] != 0:
        out.insert(0, 0)
    if out[-1] != n - 1:
        out.append(n - 1)
    return np.asarray(out, dtype=np.int64)


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
    obs = tbl.column("obs_id").to_numpy(zero_copy_only=False)
    sog = tbl.column("sog").to_pylist() if "sog" in tbl.column_names else [None] * n
    times = tbl.column("ts").to_pylist()
    segments = []
    run_of = np.searchsorted(bounds, keep, side="right") - 1
    for r in np.unique(run_of):
        idx = keep[run_of == r]
        segments.append({
            "coords": [[float(lon[i]), float(lat[i])] for i in idx],
            "ts": [times[i].isoformat() for i in idx],
            "obs_id": [str(int(obs[i])) for i in idx],
            "sog": [sog[i] for i in idx],
        })
    return {"segments": segments, "positions": n, "points": int(len(keep))}
