"""Track cleaning and segmentation of one MMSI's positions.

Steps (each leaves the store's rows untouched: what is judged noise is *marked*):

1. sort by time (ties by position and ``obs_id``, so any input order gives one result);
2. exact duplicates (same time and position) are marked ``duplicate`` and dropped from
   detection;
3. impossible coordinates (``|lat| >= 90``, or exactly 0/0 "null island") are marked
   ``invalid_position``; long-range (AIS type 27) positions within
   ``min_type27_hours`` of a position of another type are marked ``type27_noise``
   (GFW's gpsdio-segment rule);
4. segmentation after GFW's gpsdio-segment: a position joins the open segment from whose
   last position it is plausibly reachable (distance <= ``max_speed_knots`` x elapsed
   time + ``position_noise_m``, the time shortened below ``linear_after_hours`` by
   gpsdio-segment's hours-based allowance, :func:`allowed_distance_m`), the most recently
   extended one if several are (a ship that went dark does not capture the fixes of the
   ship still transmitting under its MMSI), the nearest among those last extended at the
   same instant, and the nearer one when the most recent is younger than
   ``lookback_positions`` (a segment opened by one bad fix beside a voyage); otherwise it
   opens a new segment. Two ships transmitting one MMSI therefore become two
   interleaved segments instead of one zig-zag track. When no consecutive pair is
   implausible (the usual case) the whole track is one segment and no Python loop runs;
   Segments that are one ship split by a bad fix (they alternate, always within reach
   and close to each other) are joined again;
5. segments with fewer than ``min_segment_positions`` positions, beside a longer segment
   of the same MMSI, are marked ``noise_segment`` and excluded; two remaining segments
   alive at the same time (their time ranges overlap for at least
   ``min_conflict_overlap_minutes``) yield a
   ``position_conflict`` event, and their positions are marked ``conflict_segment``
   with their segment id so maps can draw the two ships apart.

Later detectors run per segment (:meth:`Track.segment_indices`), never across segments.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corridor.detect.events import iso_us, make_event
from corridor.detect.params import SegmentParams, params_dict
from corridor.geo import EARTH_RADIUS_M, METRES_PER_NM, haversine_m
from corridor.schema import SEGMENTS

MARKS_SCHEMA = pa.schema([("obs_id", pa.int64()), ("mark", pa.string()), ("segment_id", pa.string())])
#: marks that take a position out of detection (out of encounters as well)
EXCLUDING_MARKS = ("duplicate", "invalid_position", "type27_noise", "noise_segment")
#: AIS long-range position report (ITU-R M.1371 message 27: 1/10 minute resolution)
LONG_RANGE_MSG_TYPE = 27

_KNOT_M_PER_US = METRES_PER_NM / 3600.0 / 1e6  # metres per microsecond at 1 kn


def _float(col: pa.ChunkedArray | pa.Array, default: float = np.nan) -> np.ndarray:
    return pc.fill_null(pc.cast(col, pa.float64()), default).to_numpy(zero_copy_only=False)


@dataclass
class Track:
    """One MMSI's positions, sorted, with a segment label per position.

    Arrays are aligned and sorted by time. ``segment`` is the index into
    ``segment_ids`` or -1 for positions excluded from detection (duplicate, invalid,
    noise). Times are int64 microseconds since the epoch (UTC); speeds in knots
    (``sog`` is NaN where not reported).
    """

    mmsi: int
    obs_id: np.ndarray
    ts: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    sog: np.ndarray
    nav_status: np.ndarray
    segment: np.ndarray
    msg_type: np.ndarray | None = None
    segment_ids: list[str] = field(default_factory=list)
    marks: list[tuple[np.ndarray, str, np.ndarray | None]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ts)

    def segment_indices(self) -> list[tuple[str, np.ndarray]]:
        """(segment_id, sorted position indices) for each kept segment."""
        if len(self.segment) == 0:
            return []
        order = np.argsort(self.segment, kind="stable")
        labels = self.segment[order]
        bounds = np.flatnonzero(np.diff(labels)) + 1
        out = []
        for chunk in np.split(order, bounds):
            k = int(self.segment[chunk[0]])
            if k >= 0:
                out.append((self.segment_ids[k], chunk))
        return out

    def segment_runs(self) -> pa.Table:
        """The :data:`corridor.schema.SEGMENTS` rows: each run of consecutive kept
        positions (time order) of one segment, with its first/last time and size."""
        kept = np.flatnonzero(self.segment >= 0)
        if len(kept) == 0:
            return SEGMENTS.empty_table()
        lab = self.segment[kept]
        starts = np.flatnonzero(np.concatenate([[True], lab[1:] != lab[:-1]]))
        ends = np.append(starts[1:], len(kept)) - 1
        return pa.table({
            "mmsi": pa.array(np.full(len(starts), self.mmsi), pa.int64()),
            "segment_id": pa.array([self.segment_ids[k] for k in lab[starts]], pa.string()),
            "start_ts": pa.array(self.ts[kept[starts]], pa.int64()).cast(pa.timestamp("us")),
            "end_ts": pa.array(self.ts[kept[ends]], pa.int64()).cast(pa.timestamp("us")),
            "positions": pa.array(ends - starts + 1, pa.int32()),
        }, schema=SEGMENTS)

    def marks_table(self) -> pa.Table:
        """Marked positions: (obs_id, mark, segment_id)."""
        if not self.marks:
            return MARKS_SCHEMA.empty_table()
        ids, kinds, segs = [], [], []
        for idx, mark, seg in self.marks:
            ids.append(self.obs_id[idx])
            kinds.append(np.full(len(idx), mark, dtype=object))
            segs.append(
                np.full(len(idx), None, dtype=object)
                if seg is None
                else np.array([self.segment_ids[k] if k >= 0 else None for k in seg], dtype=object)
            )
        return pa.table(
            {
                "obs_id": pa.array(np.concatenate(ids), pa.int64()),
                "mark": pa.array(np.concatenate(kinds), pa.string()),
                "segment_id": pa.array(np.concatenate(segs), pa.string()),
            },
            schema=MARKS_SCHEMA,
        )


def sort_positions(positions: pa.Table) -> Track:
    """Sort one MMSI's positions (any order) into a :class:`Track` with no segments yet."""
    n = positions.num_rows
    ts = pc.cast(positions["ts"], pa.timestamp("us")).cast(pa.int64()).to_numpy(zero_copy_only=False)
    lat = _float(positions["lat"])
    lon = _float(positions["lon"])
    obs = positions["obs_id"].to_numpy(zero_copy_only=False).astype(np.int64)
    if n < 2 or bool((np.diff(ts) > 0).all()):
        order = np.arange(n)  # already sorted with no ties (the engine reads ORDER BY ts)
    else:
        order = np.lexsort((obs, lon, lat, ts))
    mmsis = positions["mmsi"].to_numpy(zero_copy_only=False) if n else np.zeros(0, np.int64)
    if n and (mmsis != mmsis[0]).any():
        raise ValueError("sort_positions expects the positions of one MMSI")
    if "nav_status" in positions.column_names:
        nav = pc.fill_null(positions["nav_status"], -1).to_numpy(zero_copy_only=False)
    else:
        nav = np.full(n, -1)
    sog = _float(positions["sog"]) if "sog" in positions.column_names else np.full(n, np.nan)
    msg_type = None
    if "msg_type" in positions.column_names:
        msg_type = pc.fill_null(positions["msg_type"], 0).to_numpy(
            zero_copy_only=False).astype(np.int16)[order]
    return Track(
        mmsi=int(mmsis[0]) if n else 0,
        obs_id=obs[order],
        ts=ts[order],
        lat=lat[order],
        lon=lon[order],
        sog=sog[order],
        nav_status=nav[order].astype(np.int16),
        segment=np.zeros(n, dtype=np.int32),
        msg_type=msg_type,
    )


def duplicate_mask(ts: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """True for a position equal in time and place to the one before it (sorted input).

    >>> duplicate_mask(np.array([1, 1, 2]), np.array([5.0, 5.0, 5.0]), np.array([1.0, 1.0, 1.0]))
    array([False,  True, False])
    """
    dup = np.zeros(len(ts), dtype=bool)
    if len(ts) > 1:
        dup[1:] = (ts[1:] == ts[:-1]) & (lat[1:] == lat[:-1]) & (lon[1:] == lon[:-1])
    return dup


def invalid_mask(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Positions no ship can report: ``|lat| >= 90`` or exactly (0, 0)."""
    return (np.abs(lat) >= 90.0) | ((lat == 0.0) & (lon == 0.0)) | ~np.isfinite(lat + lon)


def allowed_distance_m(dt_us: np.ndarray | float, p: SegmentParams) -> np.ndarray | float:
    """Metres a ship can plausibly cover in ``dt_us`` microseconds (see :class:`SegmentParams`).

    Within ``linear_after_hours`` of silence the time is shortened as GFW's gpsdio-segment
    does (``h / (1 + (h / penalty_hours) ** (1 - hours_exponent))``): over hours a ship does
    not sail straight at full speed, so craft sharing an MMSI 100-400 km apart are not
    reachable from each other. From ``linear_after_hours`` on the plain speed ceiling
    applies, so a ship that went dark and reappeared where it could have sailed stays one
    segment and its gap is seen.

    >>> p = SegmentParams()
    >>> round(float(allowed_distance_m(5.9 * 3.6e9, p)) / 1000)  # km in 5.9 h
    248
    >>> round(float(allowed_distance_m(6.0 * 3.6e9, p)) / 1000)  # dark: 50 kn x 6 h
    557
    """
    dt = np.asarray(dt_us, dtype=np.float64)
    hours = np.maximum(dt, 0.0) / 3.6e9
    eff = hours
    if p.penalty_hours is not None:
        pen = hours / (1.0 + (hours / p.penalty_hours) ** (1.0 - p.hours_exponent))
        eff = pen if p.linear_after_hours is None else np.where(
            hours >= p.linear_after_hours, hours, pen)
    return p.max_speed_knots * METRES_PER_NM * eff + p.position_noise_m


def type27_noise_mask(ts: np.ndarray, msg_type: np.ndarray | None, keep: np.ndarray,
                      min_hours: float) -> np.ndarray:
    """True for a long-range (type 27) position within ``min_hours`` of a kept position of
    another message type (sorted input; ``keep`` marks the positions that count).

    GFW's gpsdio-segment drops these: type 27 reports are coarse (1/10 minute) and, mixed
    into a track of class A/B reports, draw spikes (in port above all). A vessel seen
    only through type 27 keeps its positions.

    >>> type27_noise_mask(np.array([0, 1800, 7200 * 2]) * 1_000_000, np.array([1, 27, 27]),
    ...                   np.ones(3, bool), 1.0)
    array([False,  True, False])
    """
    n = len(ts)
    out = np.zeros(n, dtype=bool)
    if msg_type is None or n == 0:
        return out
    is27 = msg_type == LONG_RANGE_MSG_TYPE
    other = keep & ~is27
    if not is27.any() or not other.any():
        return out
    t_other = ts[other]
    j = np.searchsorted(t_other, ts)
    before = np.where(j > 0, ts - t_other[np.maximum(j - 1, 0)], np.iinfo(np.int64).max)
    after = np.where(j < len(t_other), t_other[np.minimum(j, len(t_other) - 1)] - ts,
                     np.iinfo(np.int64).max)
    return is27 & keep & (np.minimum(before, after) < min_hours * 3.6e9)


def _reachable(d_m: np.ndarray, dt_us: np.ndarray, p: SegmentParams) -> np.ndarray:
    return d_m <= allowed_distance_m(dt_us, p)


def _segment_loop(ts: list[int], lat: list[float], lon: list[float], p: SegmentParams) -> np.ndarray:
    """Sequential assignment (only used when a track has implausible jumps).

    Hand-written because membership depends on the previous assignments; it runs over
    plain Python floats (``math``), a few microseconds per position and open segment.
    """
    n = len(ts)
    labels = np.empty(n, dtype=np.int32)
    # open segments: [label, last_ts, last_lat_rad, last_lon_rad, last_seen_order, positions]
    open_segs: list[list[float]] = []
    rad = math.radians
    speed = p.max_speed_knots * _KNOT_M_PER_US
    pen_us = math.inf if p.penalty_hours is None else p.penalty_hours * 3.6e9
    exp = 1.0 - p.hours_exponent
    linear_us = math.inf if p.linear_after_hours is None else p.linear_after_hours * 3.6e9
    next_label = 0
    max_idle_us = math.inf if p.max_idle_hours is None else p.max_idle_hours * 3.6e9
    for i in range(n):
        la, lo, t = rad(lat[i]), rad(lon[i]), ts[i]
        best, best_score = -1, (math.inf, math.inf)
        nearest, nearest_d = -1, math.inf
        for j, (_lab, lt, lla, llo, _seen, _n) in enumerate(open_segs):
            a = (
                math.sin((la - lla) / 2.0) ** 2
                + math.cos(la) * math.cos(lla) * math.sin((lo - llo) / 2.0) ** 2
            )
            d = 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))
            if t - lt > max_idle_us:
                continue
            dt = t - lt  # same rule as allowed_distance_m, on Python floats
            if dt > 0 and dt < linear_us and pen_us < math.inf:
                dt = dt / (1.0 + (dt / pen_us) ** exp)
            allowed = speed * dt + p.position_noise_m
            if d <= allowed:
                # the most recently extended plausible segment; among segments last
                # extended at the same instant (equal timestamps), the nearest
                score = (-lt, d)
                if score < best_score:
                    best, best_score = j, score
                if d < nearest_d:
                    nearest, nearest_d = j, d
        if best >= 0 and open_segs[best][5] < p.lookback_positions:
            # lookback: the most recent segment is young (perhaps opened by one bad fix
            # beside the ship's track); the fix joins whichever plausible segment is nearer,
            # so a voyage rejoins its own segment after a single bad fix
            best = nearest
        if best < 0:
            open_segs.append([next_label, t, la, lo, i, 1])
            labels[i] = next_label
            next_label += 1
            if len(open_segs) > p.max_open_segments:  # forget the least recently extended
                open_segs.remove(min(open_segs, key=lambda s: s[4]))
        else:
            seg = open_segs[best]
            seg[1], seg[2], seg[3], seg[4] = t, la, lo, i
            seg[5] += 1
            labels[i] = int(seg[0])
    return labels


def assign_segments(ts: np.ndarray, lat: np.ndarray, lon: np.ndarray, p: SegmentParams) -> np.ndarray:
    """Segment label (0, 1, ...) per position of a sorted, clean track.

    >>> ts = np.array([0, 600, 1200, 1800]) * 1_000_000
    >>> assign_segments(ts, np.array([0.0, 0.01, 40.0, 0.02]), np.array([0.0, 0.0, 0.0, 0.0]),
    ...                 SegmentParams())
    array([0, 0, 1, 0], dtype=int32)
    """
    n = len(ts)
    if n < 2:
        return np.zeros(n, dtype=np.int32)
    d = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    dt = np.diff(ts)
    ok = _reachable(d, dt, p)
    if ok.all():
        if p.max_idle_hours is None:
            return np.zeros(n, dtype=np.int32)
        # only time splits: segment k starts after the k-th silence longer than max_idle_hours
        labels = np.zeros(n, dtype=np.int32)
        labels[1:] = np.cumsum(dt > p.max_idle_hours * 3.6e9)
        return labels
    labels = _segment_loop(ts.tolist(), lat.tolist(), lon.tolist(), p)
    return _merge_parallel(labels, ts, lat, lon, p)


def _merge_parallel(labels: np.ndarray, ts: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                    p: SegmentParams) -> np.ndarray:
    """Join segments that are one ship split in two by a bad fix.

    After one implausible position two segments can both stay open at the ship's
    position, and later fixes then alternate between them. Two segments overlapping in
    time are merged when at least ``parallel_merge_fraction`` of the steps that go from
    one to the other (in time order) are plausible and the median such step is shorter
    than ``parallel_merge_distance_m``: two real ships sharing an MMSI are almost never
    that close at every switch.
    """
    n_lab = int(labels.max()) + 1
    if n_lab < 2:
        return labels
    parent = list(range(n_lab))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    changed = True
    while changed:
        changed = False
        root = np.array([find(k) for k in range(n_lab)])[labels]
        switch = np.flatnonzero(root[1:] != root[:-1])
        if len(switch) == 0:
            break
        d = haversine_m(lat[switch], lon[switch], lat[switch + 1], lon[switch + 1])
        ok = _reachable(d, ts[switch + 1] - ts[switch], p)
        a, b = np.minimum(root[switch], root[switch + 1]), np.maximum(root[switch], root[switch + 1])
        key = a.astype(np.int64) * n_lab + b
        uniq, inv = np.unique(key, return_inverse=True)
        total = np.bincount(inv)
        good = np.bincount(inv, weights=ok)
        near = np.bincount(inv, weights=d <= p.parallel_merge_distance_m)
        ok_pair = (total >= 3) & (good >= p.parallel_merge_fraction * total) & (
            near >= 0.5 * total)  # median switch step within the merge distance
        for k in np.flatnonzero(ok_pair):
            x, y = divmod(int(uniq[k]), n_lab)
            if find(x) != find(y):
                parent[find(y)] = find(x)
                changed = True
    root = np.array([find(k) for k in range(n_lab)])
    _, dense = np.unique(root, return_inverse=True)
    return dense[labels].astype(np.int32)


def _conflict_event(tr: Track, a: np.ndarray, b: np.ndarray, ida: str, idb: str,
                    p: SegmentParams, pd: dict) -> dict | None:
    start = max(tr.ts[a[0]], tr.ts[b[0]])
    end = min(tr.ts[a[-1]], tr.ts[b[-1]])
    if (end - start) < p.min_conflict_overlap_minutes * 60e6:
        return None
    ia = a[(tr.ts[a] >= start) & (tr.ts[a] <= end)]
    ib = b[(tr.ts[b] >= start) & (tr.ts[b] <= end)]
    if len(ia) == 0 or len(ib) == 0:
        return None
    # distance between the two ships at matching times (nearest position of b for each of a)
    j = np.clip(np.searchsorted(tr.ts[ib], tr.ts[ia]), 0, len(ib) - 1)
    dist = haversine_m(tr.lat[ia], tr.lon[ia], tr.lat[ib[j]], tr.lon[ib[j]])
    evidence = [tr.obs_id[ia[0]], tr.obs_id[ib[0]], tr.obs_id[ia[-1]], tr.obs_id[ib[-1]]]
    return make_event(
        "position_conflict",
        tr.mmsi,
        int(start),
        int(end),
        params=pd,
        segment_id=ida,
        lat=float(tr.lat[ia[0]]),
        lon=float(tr.lon[ia[0]]),
        evidence=evidence,
        id_key={"segments": [ida, idb]},
        attrs={
            "other_segment_id": idb,
            "overlap_hours": (end - start) / 3.6e9,
            "positions_in_overlap": [len(ia), len(ib)],
            "median_distance_m": float(np.median(dist)),
            "other_lat": float(tr.lat[ib[0]]),
            "other_lon": float(tr.lon[ib[0]]),
        },
    )


def _merge_conflicts(events: list[dict], merge_hours: float) -> list[dict]:
    """One position_conflict per period: pairwise conflicts that overlap or lie within
    ``merge_hours`` of each other (e.g. one ship's track broken in two beside the other)
    become one event spanning them, listing every pair of segments."""
    if len(events) < 2:
        return events
    events = sorted(events, key=lambda e: (e["start_ts"], e["event_id"]))
    out: list[dict] = []
    for ev in events:
        pair = [ev["segment_id"], json.loads(ev["attrs"])["other_segment_id"]]
        if out and ev["start_ts"] <= out[-1]["end_ts"] + merge_hours * 3.6e9:
            cur = out[-1]
            attrs = json.loads(cur["attrs"])
            attrs["segment_pairs"].append(pair)
            cur["end_ts"] = max(cur["end_ts"], ev["end_ts"])
            attrs["overlap_hours"] = (cur["end_ts"] - cur["start_ts"]) / 3.6e9
            cur["attrs"] = json.dumps(attrs, sort_keys=True, separators=(",", ":"))
            cur["evidence"] = list(dict.fromkeys(cur["evidence"] + ev["evidence"]))[:12]
        else:
            attrs = json.loads(ev["attrs"])
            attrs["segment_pairs"] = [pair]
            ev = dict(ev, attrs=json.dumps(attrs, sort_keys=True, separators=(",", ":")))
            out.append(ev)
    return out


def segment_track(positions: pa.Table, p: SegmentParams | None = None) -> tuple[Track, list[dict]]:
    """Sort, clean and segment one MMSI's positions.

    Returns the :class:`Track` (with ``segment``, ``segment_ids`` and ``marks`` filled)
    and the ``position_conflict`` event rows.
    """
    p = p or SegmentParams()
    tr = sort_positions(positions)
    n = len(tr)
    if n == 0:
        return tr, []
    dup = duplicate_mask(tr.ts, tr.lat, tr.lon)
    bad = invalid_mask(tr.lat, tr.lon) & ~dup
    if dup.any():
        tr.marks.append((np.flatnonzero(dup), "duplicate", None))
    if bad.any():
        tr.marks.append((np.flatnonzero(bad), "invalid_position", None))
    t27 = type27_noise_mask(tr.ts, tr.msg_type, ~(dup | bad), p.min_type27_hours)
    if t27.any():
        tr.marks.append((np.flatnonzero(t27), "type27_noise", None))
    keep = np.flatnonzero(~(dup | bad | t27))
    labels = assign_segments(tr.ts[keep], tr.lat[keep], tr.lon[keep], p)
    tr.segment[:] = -1
    # relabel segments in order of first position; drop short ones as noise
    counts = np.bincount(labels) if len(labels) else np.zeros(0, int)
    first = np.full(len(counts), np.iinfo(np.int64).max)
    np.minimum.at(first, labels, np.arange(len(labels)))
    # short segments are noise only beside a longer one (a sparse track stays a track)
    min_n = min(p.min_segment_positions, int(counts.max())) if len(counts) else 1
    kept = [k for k in np.argsort(first, kind="stable") if counts[k] >= min_n]
    remap = np.full(len(counts), -1, dtype=np.int32)
    for new, old in enumerate(kept):
        remap[old] = new
        tr.segment_ids.append(f"{tr.mmsi}-{iso_us(tr.ts[keep[first[old]]])}")
    tr.segment[keep] = remap[labels] if len(labels) else tr.segment[keep]
    noise = keep[remap[labels] < 0] if len(labels) else keep[:0]
    if len(noise):
        tr.marks.append((noise, "noise_segment", None))

    events: list[dict] = []
    if len(kept) > 1:
        pd = params_dict(p)
        segs = tr.segment_indices()
        conflicted: set[int] = set()
        for x in range(len(segs)):
            for y in range(x + 1, len(segs)):
                ev = _conflict_event(tr, segs[x][1], segs[y][1], segs[x][0], segs[y][0], p, pd)
                if ev is not None:
                    events.append(ev)
                    conflicted.update((x, y))
        events = _merge_conflicts(events, p.conflict_merge_hours)
        for x in sorted(conflicted):
            idx = segs[x][1]
            tr.marks.append((idx, "conflict_segment", tr.segment[idx]))
    return tr, events
