"""Encounters: two vessels side by side at sea (a proxy for ship-to-ship transfer).

Definition (Global Fishing Watch, Miller et al. 2018; parameters in :class:`EncounterParams`):
two vessels within ``max_distance_m`` (500 m) of each other for at least
``min_duration_hours`` (2 h), both with a median speed below ``max_median_speed_knots``
(2 kn), at least ``min_port_distance_m`` (10 km) from any port or anchorage; positions are
compared on a common 10-minute grid (interpolating across gaps up to 1 h); meetings of the
same pair less than ``merge_gap_hours`` (4 h) apart are one encounter.

The detector never compares all pairs. It runs in three pure stages over Arrow tables, each
of which a distributed engine can run on its own partitions:

1. :func:`vessel_grid` — per track (group by vessel): the positions the vessel's marks keep
   (:func:`encounter_input`), resampled (:func:`corridor.detect.resample.resample_positions`),
   minus the grid points within 10 km of a port (:func:`at_sea_points`, when places are
   given);
2. :func:`encounter_buckets` + :func:`adjacent_pairs` — every grid point is put in its *home*
   space–time bucket (grid time × a cell at least ``2 × max_distance_m`` wide) and copied, as
   a *halo* row, into each other bucket that its ``max_distance_m`` disc touches. Within a
   bucket, a pair is emitted only where the point of the lower (mmsi, segment) is at home:
   every adjacent pair is found once and only once, whatever way the buckets are
   partitioned, as long as each bucket's rows are processed together;
3. :func:`encounters_from_pairs` — group the adjacent pairs by vessel pair (all of a pair's
   rows together), cut them into runs of consecutive grid times, keep runs of at least
   the minimum duration, merge runs of one pair less than ``merge_gap_hours`` apart, then
   apply the speed and port filters to each merged encounter.

:func:`detect_encounters` chains the three for the local engine.

Differences from GFW's pipeline, on purpose: a run is a stretch of grid times at which both
vessels are resampled and close, broken by any grid time at which both are resampled and
apart, and bridging stretches in which one of them has no grid point for at most
``max_unobserved_hours`` (GFW follows each vessel's own grid points within one UTC day, so
a gap in one vessel's track extends a run in one direction and not the other); adjacency
is symmetric, so each pair gives one undirected event (``mmsi < other_mmsi``); medians are
over all grid points of the merged encounter, not a median of per-run medians; GFW keeps
the 100 nearest neighbours of each point, here every neighbour within the distance is kept.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corridor.detect.resample import US_PER_S, ResampleParams, resample_positions
from corridor.detect.tracks import EXCLUDING_MARKS
from corridor.geo import EARTH_RADIUS_M, KNOTS_PER_MPS, haversine_m
from corridor.ids import stable_id
from corridor.schema import EVENTS

if TYPE_CHECKING:  # pragma: no cover
    from corridor.places import PlaceIndex

#: metres per degree of latitude on the sphere used by corridor.geo
M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0


@dataclass(frozen=True)
class EncounterParams:
    """Thresholds of the encounter detector (GFW defaults; units in the names).

    ``cell_size_m`` is the side of a spatial bucket; it must be at least twice
    ``max_distance_m`` so that a point's neighbourhood touches at most two cells per axis.
    ``max_interp_speed_knots`` stops the resampler from interpolating across an impossible
    jump (two vessels sharing an MMSI). ``max_unobserved_hours``: a run of adjacent grid points
    continues across a stretch in which either vessel has no grid point (both went dark, or
    one did: nothing shows they parted) of at most this length. ``inf`` disables the speed
    filter.
    """

    max_distance_m: float = 500.0
    min_duration_hours: float = 2.0
    max_median_speed_knots: float = 2.0
    min_port_distance_m: float = 10_000.0
    merge_gap_hours: float = 4.0
    max_unobserved_hours: float = 4.0
    step_minutes: float = 10.0
    max_gap_hours: float = 1.0
    max_interp_speed_knots: float = 50.0
    cell_size_m: float = 1_000.0

    def __post_init__(self) -> None:
        if self.cell_size_m < 2 * self.max_distance_m:
            raise ValueError(
                f"cell_size_m ({self.cell_size_m}) must be >= 2 x max_distance_m "
                f"({self.max_distance_m})"
            )
        if self.step_minutes <= 0 or self.max_distance_m <= 0:
            raise ValueError("step_minutes and max_distance_m must be positive")

    @property
    def resample(self) -> ResampleParams:
        """The grid these parameters compare vessels on."""
        return ResampleParams(
            step_minutes=self.step_minutes,
            max_gap_hours=self.max_gap_hours,
            max_interp_speed_knots=self.max_interp_speed_knots,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every parameter (``inf`` as the string "inf")."""
        return {k: ("inf" if isinstance(v, float) and math.isinf(v) else v)
                for k, v in asdict(self).items()}


# ----------------------------------------------------------------------------- grid
def encounter_input(positions: pa.Table, marks: pa.Table | None) -> pa.Table:
    """One vessel's positions as every engine feeds them to the encounter detector.

    ``marks`` are the vessel's position marks (:data:`corridor.detect.tracks.MARKS_SCHEMA`).
    Positions marked duplicate / invalid / noise (:data:`~corridor.detect.tracks.
    EXCLUDING_MARKS`) are left out; positions of a conflicting segment carry its
    ``segment_id`` (others null), so two ships sharing an MMSI are two tracks.
    """
    seg = pa.nulls(positions.num_rows, pa.string())
    if marks is not None and marks.num_rows:
        drop = marks.filter(pc.is_in(marks["mark"], pa.array(list(EXCLUDING_MARKS))))
        positions = positions.filter(pc.invert(pc.is_in(positions["obs_id"], drop["obs_id"])))
        conf = marks.filter(pc.equal(marks["mark"], "conflict_segment"))
        seg = pa.nulls(positions.num_rows, pa.string())
        if conf.num_rows:
            at = pc.index_in(positions["obs_id"], conf["obs_id"])
            seg = pc.take(conf["segment_id"], at)
    return positions.append_column("segment_id", seg)


def at_sea_points(grid: pa.Table, params: EncounterParams, places: PlaceIndex | None = None
                  ) -> pa.Table:
    """``grid`` without its points within ``min_port_distance_m`` of a place (all of it
    without places). Ships lying together in port are most of the candidate pairs of a busy
    sea and never an encounter. (GFW tests the encounter's mean position; testing each point
    as well only trims the ends of a meeting that drifts across the 10 km line.)"""
    if places is None or not len(places) or grid.num_rows == 0:
        return grid
    lat = np.asarray(grid["lat"].to_numpy(zero_copy_only=False), dtype=np.float64)
    lon = np.asarray(grid["lon"].to_numpy(zero_copy_only=False), dtype=np.float64)
    pos, dist = places.nearest(lat, lon, params.min_port_distance_m)
    at_sea = (np.asarray(pos) < 0) | (np.asarray(dist) >= params.min_port_distance_m)
    return grid if at_sea.all() else grid.filter(pa.array(at_sea))


def vessel_grid(positions: pa.Table, marks: pa.Table | None, params: EncounterParams,
                places: PlaceIndex | None = None) -> pa.Table:
    """Stage 1 for one vessel (or several): its at-sea points on the encounter grid
    (:data:`corridor.detect.resample.GRID` rows). Engines run it in the per-vessel pass,
    on whole tracks, so a track is read and resampled once."""
    grid = resample_positions(encounter_input(positions, marks), params.resample)
    return at_sea_points(grid, params, places)


# ----------------------------------------------------------------------------- buckets
def _grid_dims(params: EncounterParams) -> tuple[float, int, int]:
    """Latitude band height (deg), number of bands, and the maximum cells per band."""
    dlat = params.cell_size_m / M_PER_DEG
    n_bands = int(math.ceil(180.0 / dlat))
    n_lon_max = int(math.floor(360.0 * M_PER_DEG / params.cell_size_m)) + 1
    return dlat, n_bands, n_lon_max


def _cells_per_band(band: np.ndarray, dlat: float, cell_m: float) -> np.ndarray:
    """Longitude cells in each latitude band so that every cell is >= cell_m wide."""
    lo = -90.0 + band * dlat
    hi = lo + dlat
    poleward = np.minimum(np.maximum(np.abs(lo), np.abs(hi)), 90.0)
    n = np.floor(360.0 * np.cos(np.radians(poleward)) * M_PER_DEG / cell_m)
    return np.maximum(n, 1).astype(np.int64)


def space_cell(lat: np.ndarray, lon: np.ndarray, params: EncounterParams) -> np.ndarray:
    """The home cell (int64) of each point: latitude band × longitude cell, antimeridian-safe.

    >>> p = EncounterParams()
    >>> c = space_cell(np.array([0.0, 0.0]), np.array([179.9999, -179.9999]), p)
    >>> bool(c[0] != c[1])  # two cells, adjacent across the antimeridian
    True
    """
    dlat, n_bands, n_lon_max = _grid_dims(params)
    band = np.clip(np.floor((np.asarray(lat) + 90.0) / dlat), 0, n_bands - 1).astype(np.int64)
    n = _cells_per_band(band, dlat, params.cell_size_m)
    cell = np.floor((np.asarray(lon) + 180.0) / (360.0 / n)).astype(np.int64) % n
    return band * n_lon_max + cell


def _n_cells_total(params: EncounterParams) -> int:
    _, n_bands, n_lon_max = _grid_dims(params)
    return n_bands * n_lon_max


def encounter_buckets(grid: pa.Table, params: EncounterParams, places: PlaceIndex | None = None
                      ) -> pa.Table:
    """Assign resampled points to space–time buckets, with halo copies.

    ``grid`` is the output of :func:`resample_positions` or :func:`vessel_grid`. With
    ``places``, points in port are left out first (:func:`at_sea_points`; :func:`vessel_grid`
    has done that already). Returns its rows plus ``bucket``
    (int64: grid-time index × number of cells + cell) and ``home`` (bool). Each point appears
    once with ``home=True`` in the bucket of its own cell and once with ``home=False`` in every
    other cell that its ``max_distance_m`` neighbourhood touches (at the same grid time). Two
    points within ``max_distance_m`` therefore always share the home bucket of each of them.
    A distributed engine partitions these rows by ``bucket`` (any partitioning that keeps a
    bucket's rows together) and runs :func:`adjacent_pairs` on each partition.
    """
    grid = at_sea_points(grid, params, places)
    lat = np.asarray(grid["lat"].to_numpy(zero_copy_only=False), dtype=np.float64)
    lon = np.asarray(grid["lon"].to_numpy(zero_copy_only=False), dtype=np.float64)
    t_idx = (
        np.asarray(grid["ts"].cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
        // params.resample.step_us
    )
    home_cell = space_cell(lat, lon, params)
    row, cell = _halo_cells(lat, lon, params)
    out = grid.take(pa.array(row))
    bucket = t_idx[row] * _n_cells_total(params) + cell
    return out.append_column("bucket", pa.array(bucket, pa.int64())).append_column(
        "home", pa.array(cell == home_cell[row])
    )


# ----------------------------------------------------------------------------- pairs
PAIRS = pa.schema(
    [
        ("mmsi", pa.int64()),
        ("segment_id", pa.string()),
        ("other_mmsi", pa.int64()),
        ("other_segment_id", pa.string()),
        ("ts", pa.timestamp("us")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("other_lat", pa.float64()),
        ("other_lon", pa.float64()),
        ("distance_m", pa.float64()),
        ("point_density", pa.float64()),
        ("other_point_density", pa.float64()),
        ("prev_ts", pa.timestamp("us")),
        ("other_prev_ts", pa.timestamp("us")),
        ("obs_before", pa.int64()),
        ("obs_after", pa.int64()),
        ("other_obs_before", pa.int64()),
        ("other_obs_after", pa.int64()),
    ]
)


def _str_codes(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Integer codes of strings that sort like the strings (null sorts as "")."""
    if col.null_count == len(col):
        return np.zeros(len(col), dtype=np.int64)
    # dictionary-encode in Arrow (numpy's unique over Python strings was seconds per million)
    enc = pc.dictionary_encode(pc.fill_null(col.cast(pa.string()), ""))
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.unify_dictionaries().combine_chunks() if enc.num_chunks else enc.combine_chunks()
    words = enc.dictionary
    rank = np.empty(len(words), dtype=np.int64)
    rank[np.asarray(pc.sort_indices(words).to_numpy(), dtype=np.int64)] = np.arange(len(words))
    return rank[np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)]


def _track_rank(mmsi: np.ndarray, seg: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Dense rank of (mmsi, segment_id) — null segment first — the order that decides 'lower'."""
    codes = _str_codes(seg)
    order = np.lexsort((codes, mmsi))
    m, c = mmsi[order], codes[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (m[1:] != m[:-1]) | (c[1:] != c[:-1])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.cumsum(new) - 1
    return rank


def adjacent_pairs(bucketed: pa.Table, params: EncounterParams) -> pa.Table:
    """All pairs of points of different vessels within ``max_distance_m`` at one grid time.

    ``bucketed`` comes from :func:`encounter_buckets` and must hold every row of each bucket
    it contains. Returns :data:`PAIRS` rows with ``mmsi < other_mmsi``; each pair is emitted
    only in the home bucket of the lower vessel's point, so results from disjoint sets of
    buckets can be concatenated without duplicates.
    """
    if bucketed.num_rows == 0:
        return PAIRS.empty_table()
    mmsi = np.asarray(bucketed["mmsi"].to_numpy(zero_copy_only=False), dtype=np.int64)
    rank = _track_rank(mmsi, bucketed["segment_id"])
    bucket = np.asarray(bucketed["bucket"].to_numpy(zero_copy_only=False), dtype=np.int64)
    home = np.asarray(bucketed["home"].to_numpy(zero_copy_only=False), dtype=bool)
    order = np.lexsort((rank, bucket))
    b_sorted = bucket[order]
    end = np.searchsorted(b_sorted, b_sorted, side="right")
    pos = np.flatnonzero(home[order])  # sorted positions of home rows
    # a track has one point per grid time, so within a bucket ranks are distinct: the
    # rows after a home row up to the bucket's end are exactly the higher tracks
    cnt = end[pos] - pos - 1
    a_pos = np.repeat(pos, cnt)
    b_pos = a_pos + 1 + (np.arange(a_pos.size) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    ia, ib = order[a_pos], order[b_pos]
    keep = mmsi[ia] != mmsi[ib]
    ia, ib = ia[keep], ib[keep]
    lat = np.asarray(bucketed["lat"].to_numpy(zero_copy_only=False), dtype=np.float64)
    lon = np.asarray(bucketed["lon"].to_numpy(zero_copy_only=False), dtype=np.float64)
    d = haversine_m(lat[ia], lon[ia], lat[ib], lon[ib])
    close = d <= params.max_distance_m
    ia, ib, d = ia[close], ib[close], d[close]
    if ia.size == 0:
        return PAIRS.empty_table()
    # rank order is (mmsi, segment): the lower track has the lower mmsi (equal mmsi dropped)
    return _pairs_table(bucketed.take(pa.array(ia)), bucketed.take(pa.array(ib)), d)


def _halo_cells(lat: np.ndarray, lon: np.ndarray, params: EncounterParams
                ) -> tuple[np.ndarray, np.ndarray]:
    """(row, cell) of every bucket copy :func:`encounter_buckets` makes: each point in each
    cell that its ``max_distance_m`` neighbourhood touches (its home cell among them)."""
    n = len(lat)
    dlat, n_bands, n_lon_max = _grid_dims(params)
    dd = params.max_distance_m / M_PER_DEG
    b_lo = np.clip(np.floor((lat - dd + 90.0) / dlat), 0, n_bands - 1).astype(np.int64)
    b_hi = np.clip(np.floor((lat + dd + 90.0) / dlat), 0, n_bands - 1).astype(np.int64)
    phi = np.minimum(np.abs(lat) + dd, 89.999)
    w = params.max_distance_m / (M_PER_DEG * np.cos(np.radians(phi)))  # half-width, degrees
    rows, cells = [], []
    # at most two bands (band height >= 2 x distance); the upper one only where it differs
    for sel in (np.arange(n), np.flatnonzero(b_hi != b_lo)):
        band = (b_lo if len(rows) == 0 else b_hi)[sel]
        nb = _cells_per_band(band, dlat, params.cell_size_m)
        width = 360.0 / nb
        c_lo = np.floor((lon[sel] - w[sel] + 180.0) / width).astype(np.int64)
        c_hi = np.floor((lon[sel] + w[sel] + 180.0) / width).astype(np.int64)
        cnt = np.minimum(c_hi - c_lo + 1, nb)
        k = np.repeat(np.arange(sel.size), cnt)
        off = np.arange(k.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        rows.append(sel[k])
        cells.append(band[k] * n_lon_max + (c_lo[k] + off) % nb[k])
    return np.concatenate(rows), np.concatenate(cells)


def grid_pairs(grid: pa.Table, params: EncounterParams) -> pa.Table:
    """``adjacent_pairs(encounter_buckets(grid, params), params)`` for a ``grid`` that holds
    every point of the grid times it contains (the local engine's time slices): the same
    rows in the same order, found on index arrays. The bucket copies (about four per point)
    are never materialised as table rows; only the close pairs are taken from ``grid``.
    """
    n = grid.num_rows
    if n == 0:
        return PAIRS.empty_table()
    lat = np.asarray(grid["lat"].to_numpy(zero_copy_only=False), dtype=np.float64)
    lon = np.asarray(grid["lon"].to_numpy(zero_copy_only=False), dtype=np.float64)
    mmsi = np.asarray(grid["mmsi"].to_numpy(zero_copy_only=False), dtype=np.int64)
    t_idx = (np.asarray(grid["ts"].cast(pa.int64()).to_numpy(zero_copy_only=False),
                        dtype=np.int64) // params.resample.step_us)
    rank = _track_rank(mmsi, grid["segment_id"])
    row, cell = _halo_cells(lat, lon, params)
    home = cell == space_cell(lat, lon, params)[row]
    n_cells = _n_cells_total(params)
    t_rel = t_idx - t_idx.min()
    n_rank = int(rank.max()) + 1
    if (int(t_rel.max()) + 1) * n_cells < np.iinfo(np.int64).max // n_rank:
        # (bucket, rank) is unique (a track has one point per grid time): one int64 key
        # sorts like the two (cheaper than a two-key lexsort)
        bucket = t_rel[row] * n_cells + cell
        order = np.argsort(bucket * n_rank + rank[row])
    else:  # pragma: no cover - a slice of more grid times than an int64 key can hold
        bucket = t_idx[row] * n_cells + cell
        order = np.lexsort((rank[row], bucket))
    b_sorted = bucket[order]
    last = np.flatnonzero(np.append(b_sorted[1:] != b_sorted[:-1], True))  # bucket ends
    pos = np.flatnonzero(home[order])
    # the rows after a home row up to its bucket's end are exactly the higher tracks
    cnt = last[np.searchsorted(last, pos)] - pos
    a_pos = np.repeat(pos, cnt)
    b_pos = a_pos + 1 + (np.arange(a_pos.size) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    ia, ib = row[order[a_pos]], row[order[b_pos]]
    keep = mmsi[ia] != mmsi[ib]
    ia, ib = ia[keep], ib[keep]
    d = haversine_m(lat[ia], lon[ia], lat[ib], lon[ib])
    close = d <= params.max_distance_m
    ia, ib, d = ia[close], ib[close], d[close]
    if ia.size == 0:
        return PAIRS.empty_table()
    a_tab = grid.take(pa.array(ia))
    b_tab = grid.take(pa.array(ib))
    return _pairs_table(a_tab, b_tab, d)


def _pairs_table(a_tab: pa.Table, b_tab: pa.Table, d: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "mmsi": a_tab["mmsi"],
            "segment_id": a_tab["segment_id"],
            "other_mmsi": b_tab["mmsi"],
            "other_segment_id": b_tab["segment_id"],
            "ts": a_tab["ts"],
            "lat": a_tab["lat"],
            "lon": a_tab["lon"],
            "other_lat": b_tab["lat"],
            "other_lon": b_tab["lon"],
            "distance_m": d,
            "point_density": a_tab["point_density"],
            "other_point_density": b_tab["point_density"],
            "prev_ts": a_tab["prev_ts"],
            "other_prev_ts": b_tab["prev_ts"],
            "obs_before": a_tab["obs_before"],
            "obs_after": a_tab["obs_after"],
            "other_obs_before": b_tab["obs_before"],
            "other_obs_after": b_tab["obs_after"],
        },
        schema=PAIRS,
    )


# ----------------------------------------------------------------------------- events
def _col(t: pa.Table, name: str, dtype: Any = np.float64) -> np.ndarray:
    return np.asarray(t[name].to_numpy(zero_copy_only=False), dtype=dtype)


def _ts_col(t: pa.Table, name: str) -> np.ndarray:
    """A timestamp column as int64 microseconds (null -> -1)."""
    col = pc.fill_null(t[name].cast(pa.int64()), -1)
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.int64)


def _iso(us: int) -> str:
    return datetime.fromtimestamp(us / US_PER_S, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def encounters_from_pairs(
    pairs: pa.Table, params: EncounterParams, places: PlaceIndex | None = None
) -> pa.Table:
    """Encounter events (:data:`corridor.schema.EVENTS`) from adjacent pairs.

    ``pairs`` (from :func:`adjacent_pairs`) must hold every row of each vessel pair it
    contains, in any order. ``places``: an index of ports/anchorages (only those kinds should
    be in it); ``None`` skips the distance-from-port filter. Pairs with a point within
    ``min_port_distance_m`` of a port are dropped here too, so the result is the same whether
    or not :func:`encounter_buckets` was given the places.
    """
    if places is not None and len(places) and pairs.num_rows:
        at_sea = np.ones(pairs.num_rows, dtype=bool)
        for la, lo in (("lat", "lon"), ("other_lat", "other_lon")):
            pos, dist = places.nearest(_col(pairs, la), _col(pairs, lo), params.min_port_distance_m)
            at_sea &= (np.asarray(pos) < 0) | (np.asarray(dist) >= params.min_port_distance_m)
        if not at_sea.all():
            pairs = pairs.filter(pa.array(at_sea))
    if pairs.num_rows == 0:
        return EVENTS.empty_table()
    step = params.resample.step_us
    m_a = _col(pairs, "mmsi", np.int64)
    m_b = _col(pairs, "other_mmsi", np.int64)
    seg_a_names = pc.fill_null(pairs["segment_id"], "").to_numpy(zero_copy_only=False)
    seg_b_names = pc.fill_null(pairs["other_segment_id"], "").to_numpy(zero_copy_only=False)
    seg_a, seg_b = _str_codes(pairs["segment_id"]), _str_codes(pairs["other_segment_id"])
    ts = _ts_col(pairs, "ts")
    order = np.lexsort((ts, seg_b, m_b, seg_a, m_a))
    pairs = pairs.take(pa.array(order))
    m_a, m_b, seg_a, seg_b, ts = (x[order] for x in (m_a, m_b, seg_a, seg_b, ts))
    seg_a_names, seg_b_names = seg_a_names[order], seg_b_names[order]
    n = len(ts)
    same_track = np.zeros(n, dtype=bool)
    same_track[1:] = (m_a[1:] == m_a[:-1]) & (m_b[1:] == m_b[:-1]) & (
        seg_a[1:] == seg_a[:-1]) & (seg_b[1:] == seg_b[:-1])
    # a run goes on at the next grid step, or across a stretch in which one of the two
    # vessels has no grid point at all (no joint observation, so no evidence that they
    # parted: the vessels went dark together) of at most max_unobserved_hours
    prev_a = _ts_col(pairs, "prev_ts")[order]
    prev_b = _ts_col(pairs, "other_prev_ts")[order]
    dts = np.zeros(n, dtype=np.int64)
    dts[1:] = ts[1:] - ts[:-1]
    unobserved = np.zeros(n, dtype=bool)
    unobserved[1:] = ((prev_a[1:] == ts[:-1]) | (prev_b[1:] == ts[:-1])) & (
        dts[1:] <= params.max_unobserved_hours * 3600 * US_PER_S)
    consecutive = np.zeros(n, dtype=bool)
    consecutive[1:] = same_track[1:] & ((dts[1:] == step) | unobserved[1:])
    run = np.cumsum(~consecutive) - 1
    starts = np.flatnonzero(~consecutive)
    ends = np.append(starts[1:], n) - 1
    min_us = params.min_duration_hours * 3600 * US_PER_S
    good = ((ts[ends] - ts[starts]) >= min_us - 1) & (ends > starts)
    good_runs = np.flatnonzero(good)

    # merge runs of one vessel pair (any segments) less than merge_gap_hours apart
    merge_us = params.merge_gap_hours * 3600 * US_PER_S
    run_order = sorted(good_runs, key=lambda r: (m_a[starts[r]], m_b[starts[r]], ts[starts[r]],
                                                 ts[ends[r]], seg_a[starts[r]], seg_b[starts[r]]))
    groups: list[list[int]] = []
    last_key, last_end = None, 0
    for r in run_order:
        key = (m_a[starts[r]], m_b[starts[r]])
        if key != last_key or ts[starts[r]] - last_end >= merge_us:
            groups.append([r])
            last_end = ts[ends[r]]
        else:
            groups[-1].append(r)
            last_end = max(last_end, ts[ends[r]])
        last_key = key

    lat_a, lon_a = _col(pairs, "lat"), _col(pairs, "lon")
    lat_b, lon_b = _col(pairs, "other_lat"), _col(pairs, "other_lon")
    dist = _col(pairs, "distance_m")
    den_a, den_b = _col(pairs, "point_density"), _col(pairs, "other_point_density")
    ob_a, oa_a = _col(pairs, "obs_before", np.int64), _col(pairs, "obs_after", np.int64)
    ob_b, oa_b = _col(pairs, "other_obs_before", np.int64), _col(pairs, "other_obs_after", np.int64)
    # implied speed of each vessel from one grid point to the next within a run (knots)
    nxt = np.append(run[1:] == run[:-1], False)
    idx_next = np.minimum(np.arange(n) + 1, n - 1)
    dt_next = np.maximum(ts[idx_next] - ts, step) / US_PER_S
    spd_a = haversine_m(lat_a, lon_a, lat_a[idx_next], lon_a[idx_next]) / dt_next
    spd_b = haversine_m(lat_b, lon_b, lat_b[idx_next], lon_b[idx_next]) / dt_next
    spd_a, spd_b = spd_a * KNOTS_PER_MPS, spd_b * KNOTS_PER_MPS

    if not groups:
        return EVENTS.empty_table()
    # mean position of each merged encounter (midpoint of the two ships), vectorised, so the
    # port filter drops the many ships lying together in port before any per-event work
    row_group = np.full(n, -1, dtype=np.int64)
    for gi, runs in enumerate(groups):
        for r in runs:
            row_group[starts[r]:ends[r] + 1] = gi
    in_g = row_group >= 0
    ng = len(groups)
    mid_lat = (lat_a + lat_b) / 2.0
    sin_l = np.sin(np.radians(lon_a)) + np.sin(np.radians(lon_b))
    cos_l = np.cos(np.radians(lon_a)) + np.cos(np.radians(lon_b))
    cnt = np.bincount(row_group[in_g], minlength=ng)
    g_lat = np.bincount(row_group[in_g], weights=mid_lat[in_g], minlength=ng) / cnt
    g_lon = np.degrees(np.arctan2(np.bincount(row_group[in_g], weights=sin_l[in_g], minlength=ng),
                                  np.bincount(row_group[in_g], weights=cos_l[in_g], minlength=ng)))
    port_pos = np.full(ng, -1, dtype=np.int64)
    port_dist = np.full(ng, np.nan)
    if places is not None and len(places):
        search_m = max(params.min_port_distance_m, 50_000.0)
        pp, pd_ = places.nearest(g_lat, g_lon, search_m)
        port_pos, port_dist = np.asarray(pp, dtype=np.int64), np.asarray(pd_, dtype=np.float64)
    at_sea = ~((port_pos >= 0) & (port_dist < params.min_port_distance_m))

    pdict = params.to_dict()
    cand = []
    for gi in np.flatnonzero(at_sea):
        runs = groups[gi]
        rows = np.concatenate([np.arange(starts[r], ends[r] + 1) for r in runs])
        rows = rows[np.argsort(ts[rows], kind="stable")]
        srows = rows[nxt[rows]]
        med_a = float(np.median(spd_a[srows]))
        med_b = float(np.median(spd_b[srows]))
        if not (med_a < params.max_median_speed_knots and med_b < params.max_median_speed_knots):
            continue
        cand.append((gi, runs, rows, med_a, med_b, float(g_lat[gi]), float(g_lon[gi])))
    if not cand:
        return EVENTS.empty_table()

    out: list[dict[str, Any]] = []
    for k, runs, rows, med_a, med_b, mlat, mlon in cand:
        first, last = rows[0], rows[-1]
        close = rows[int(np.argmin(dist[rows]))]
        evidence = sorted({int(x) for x in (ob_a[first], oa_a[last], ob_a[close], oa_a[close],
                                            ob_b[first], oa_b[last], ob_b[close], oa_b[close])})
        mmsi, other = int(m_a[first]), int(m_b[first])
        start_iso = _iso(int(ts[first]))
        attrs = {
            "median_distance_m": round(float(np.median(dist[rows])), 2),
            "min_distance_m": round(float(dist[close]), 2),
            "closest_approach_ts": _iso(int(ts[close])),
            "median_speed_knots": round(med_a, 3),
            "other_median_speed_knots": round(med_b, 3),
            "point_count": int(round(float(np.sum(den_a[rows])))),
            "other_point_count": int(round(float(np.sum(den_b[rows])))),
            "grid_points": int(len(rows)),
            "runs": len(runs),
            "duration_hours": round((int(ts[last]) - int(ts[first])) / 3.6e9, 3),
            "segment_ids": sorted({str(s) for s in seg_a_names[rows] if s}),
            "other_segment_ids": sorted({str(s) for s in seg_b_names[rows] if s}),
            "nearest_port_m": (None if port_pos[k] < 0 else round(float(port_dist[k]), 1)),
            "nearest_port_id": (None if port_pos[k] < 0 or places is None
                                else str(places.place_ids[port_pos[k]])),
            "params": pdict,
        }
        out.append({
            "event_id": stable_id("encounter", mmsi, other, start_iso, pdict),
            "type": "encounter",
            "mmsi": mmsi,
            "other_mmsi": other,
            "segment_id": None,
            "start_ts": int(ts[first]),
            "end_ts": int(ts[last]),
            "lat": mlat,
            "lon": mlon,
            "place_id": None,
            "from_place_id": None,
            "to_place_id": None,
            "attrs": json.dumps(attrs, sort_keys=True),
            "evidence": evidence,
        })
    if not out:
        return EVENTS.empty_table()
    out.sort(key=lambda e: (e["mmsi"], e["other_mmsi"], e["start_ts"]))
    cols = {f.name: [e[f.name] for e in out] for f in EVENTS}
    return pa.table({k: pa.array(v, EVENTS.field(k).type) for k, v in cols.items()},
                    schema=EVENTS)


def detect_encounters(
    positions: pa.Table, params: EncounterParams | None = None, places: PlaceIndex | None = None
) -> pa.Table:
    """Encounter events among all vessels in ``positions`` (POSITIONS schema, any order).

    An optional ``segment_id`` column keeps segments of one MMSI apart. Pure: same input and
    parameters give the same rows with the same ``event_id``.
    """
    p = params or EncounterParams()
    grid = resample_positions(positions, p.resample)
    if grid.num_rows == 0:
        return EVENTS.empty_table()
    pairs = adjacent_pairs(encounter_buckets(grid, p, places), p)
    return encounters_from_pairs(pairs, p, places)
