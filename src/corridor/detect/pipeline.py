"""The per-vessel detection pipeline, shared by every engine.

:func:`detect_vessel` takes one MMSI's positions (POSITIONS schema, any order) and
returns its events and position marks. It is pure (no store, no clock), so the local
engine and a Spark ``applyInArrow`` give the same rows with the same ids.

Order: track cleaning and segmentation (:mod:`.tracks`, which also yields
``position_conflict``); then, for each segment separately, port visits, gaps,
loitering and voyages. Cross-vessel detectors (encounters, shared IMO) run elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from corridor.detect.events import events_table
from corridor.detect.gaps import GapDetector
from corridor.detect.gaps import shore_points as gap_points
from corridor.detect.loitering import LoiteringDetector, hourly_samples, slow_runs
from corridor.detect.loitering import shore_points as loiter_points
from corridor.detect.params import DetectParams
from corridor.detect.port_visits import Places, PortVisitDetector
from corridor.detect.tracks import segment_track
from corridor.detect.voyages import VoyageDetector
from corridor.geo import haversine_m
from corridor.schema import SEGMENTS

#: event types produced per vessel (the engine replaces exactly these on a re-run)
VESSEL_EVENT_TYPES = ("position_conflict", "port_visit", "gap", "loitering", "voyage")


@dataclass
class DetectResult:
    """Events (EVENTS schema), marks (obs_id, mark, segment_id) and segment runs
    (:data:`corridor.schema.SEGMENTS`) of one vessel."""

    events: pa.Table
    marks: pa.Table
    segments: pa.Table = field(default_factory=SEGMENTS.empty_table)


def default_shore():
    """corridor.shore.distance_to_shore_m, or None where the shore data is unavailable."""
    try:
        from corridor.shore import distance_to_shore_m
    except ImportError:  # pragma: no cover - shore ships with corridor
        return None
    return distance_to_shore_m


class _ShoreBatch:
    """Distances from shore computed in one batch, answered per point (exact lookups;
    a point not in the batch is computed on demand)."""

    def __init__(self, shore, lat: np.ndarray, lon: np.ndarray):
        self.shore = shore
        d = shore(lat, lon) if len(lat) else np.zeros(0)
        self.known = dict(zip(zip(lat.tolist(), lon.tolist(), strict=True), d.tolist(),
                              strict=True))

    def __call__(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        keys = list(zip(np.asarray(lat).tolist(), np.asarray(lon).tolist(), strict=True))
        out = np.array([self.known.get(k, np.nan) for k in keys], dtype=np.float64)
        miss = np.isnan(out)
        if miss.any():
            out[miss] = self.shore(np.asarray(lat)[miss], np.asarray(lon)[miss])
        return out


def _steps_m(lat: np.ndarray, lon: np.ndarray) -> Callable[[], np.ndarray]:
    """The haversine lengths (metres) between consecutive positions, computed on the first
    call only: port visits and voyages both need them for the same segment."""
    done: list[np.ndarray] = []

    def steps() -> np.ndarray:
        if not done:
            done.append(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]))
        return done[0]

    return steps


class VesselPipeline:
    """Detectors built once (place thresholds, shore function) and applied per vessel."""

    def __init__(self, params: DetectParams | None = None, places: Places | None = None,
                 shore=None):
        self.params = params or DetectParams()
        self.shore = shore if shore is not None else default_shore()
        p = self.params
        self.ports = PortVisitDetector(places, p.port_visit) if places is not None else None
        self.gaps = GapDetector(p.gap, self.shore)
        self.loiter = LoiteringDetector(p.loitering, self.shore)
        self.voyages = VoyageDetector(p.voyage)

    def _shore_batch(self, parts: list[_Segment]):
        """One shore-distance call for every point the vessel's detectors will ask about
        (a call has a fixed cost of milliseconds; a vessel has a handful of such points)."""
        if self.shore is None:
            return None
        lats, lons = [], []
        for s in parts:
            for a, b in (gap_points(s.ts, s.lat, s.lon, self.params.gap),
                         loiter_points(s.ts, s.lat, s.lon, self.params.loitering, s.slow_runs,
                                       s.hourly)):
                lats.append(a)
                lons.append(b)
        lat = np.concatenate(lats) if lats else np.zeros(0)
        lon = np.concatenate(lons) if lons else np.zeros(0)
        return _ShoreBatch(self.shore, lat, lon)

    def apply(self, positions: pa.Table) -> DetectResult:
        """Events and marks of one MMSI's positions."""
        track, rows = segment_track(positions, self.params.segment)
        parts = []
        for seg_id, idx in track.segment_indices():
            ts, lat, lon = track.ts[idx], track.lat[idx], track.lon[idx]
            hourly = hourly_samples(ts)
            parts.append(_Segment(seg_id, idx, track.obs_id[idx], ts, lat, lon, hourly,
                                  slow_runs(ts, lat, lon, self.params.loitering, hourly)))
        shore = self._shore_batch(parts)
        for s in parts:
            seg_id, obs, ts, lat, lon = s.segment_id, s.obs_id, s.ts, s.lat, s.lon
            gaps = self.gaps.apply(track.mmsi, seg_id, obs, ts, lat, lon, shore=shore)
            rows += gaps
            rows += self.loiter.apply(track.mmsi, seg_id, obs, ts, lat, lon, shore=shore,
                                      runs=s.slow_runs, samples=s.hourly)
            if self.ports is not None:
                steps = _steps_m(lat, lon)
                visits = self.ports.apply(track.mmsi, seg_id, obs, ts, lat, lon,
                                          track.sog[s.idx], steps_m=steps)
                rows += visits
                rows += self.voyages.apply(track.mmsi, seg_id, visits, gaps, obs, ts, lat, lon,
                                           steps_m=steps)
        return DetectResult(events_table(rows), track.marks_table(), track.segment_runs())


@dataclass(frozen=True)
class _Segment:
    """One segment's sorted arrays, and what both the shore batch and the loitering
    detector need of them (computed once)."""

    segment_id: str
    idx: np.ndarray
    obs_id: np.ndarray
    ts: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    hourly: np.ndarray
    slow_runs: list[tuple[int, int]]


def detect_vessel(positions: pa.Table, params: DetectParams | None = None,
                  places: Places | None = None) -> DetectResult:
    """Detect the per-vessel events of ONE MMSI's positions (any order).

    ``places`` is a :class:`corridor.places.PlaceIndex` (without it no port visits or
    voyages are detected). Engines that process many vessels build a
    :class:`VesselPipeline` once instead.
    """
    return VesselPipeline(params, places).apply(positions)


def split_by_mmsi(positions: pa.Table) -> list[pa.Table]:
    """Slices of a table sorted by mmsi, one per MMSI (zero-copy)."""
    if positions.num_rows == 0:
        return []
    m = positions["mmsi"].to_numpy()
    cuts = np.flatnonzero(m[1:] != m[:-1]) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(m)]])
    return [positions.slice(int(a), int(b - a)) for a, b in zip(starts, ends, strict=True)]
