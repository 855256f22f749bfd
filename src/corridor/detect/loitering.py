"""Loitering: one vessel slow at sea for hours (a possible "dark" transfer partner).

After GFW pipe-loitering: the segment is sampled at its first position in each clock
hour and the implied speed between consecutive hourly samples (metres / hours / 1852)
is compared with ``max_speed_knots``; hourly sampling smooths the GPS jitter that makes
the implied speed between fixes seconds apart meaningless. A run of consecutive slow
hourly steps (no step longer than ``max_sample_gap_hours``) lasting at least
``min_duration_hours`` is a loitering candidate. Its mean distance from shore is
recorded, and candidates closer to shore than ``min_shore_distance_nm`` (RFMO
transshipment rule: 20 nm; in-port waiting belongs to port visits) are not emitted.
Without a shore function the distance is unknown and the threshold is not applied
(``attrs.shore_distance_applied`` says so).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from corridor.detect.events import make_event
from corridor.detect.params import LoiteringParams, params_dict
from corridor.geo import METRES_PER_NM, haversine_m, speed_knots

ShoreFn = Callable[[np.ndarray, np.ndarray], np.ndarray]

_HOUR_US = 3_600_000_000


def hourly_samples(ts_us: np.ndarray) -> np.ndarray:
    """Index of the first position in each clock hour (sorted ``ts`` in microseconds).

    >>> hourly_samples(np.array([0, 10, 3_600_000_000, 3_600_000_001]))
    array([0, 2])
    """
    hour = ts_us // _HOUR_US
    return np.flatnonzero(np.concatenate([[True], hour[1:] != hour[:-1]]))


def slow_runs(ts_us: np.ndarray, lat: np.ndarray, lon: np.ndarray, p: LoiteringParams,
              samples: np.ndarray | None = None) -> list[tuple[int, int]]:
    """(first, last) position indices of each slow run lasting >= ``min_duration_hours``.
    ``samples``: :func:`hourly_samples` of ``ts_us`` when the caller has them."""
    s = hourly_samples(ts_us) if samples is None else samples
    if len(s) < 2:
        return []
    d = haversine_m(lat[s[:-1]], lon[s[:-1]], lat[s[1:]], lon[s[1:]])
    dt = np.diff(ts_us[s])
    slow = (speed_knots(d, dt / 1e6) < p.max_speed_knots) & (dt <= p.max_sample_gap_hours * 3.6e9)
    if not slow.any():
        return []
    edges = np.diff(np.concatenate([[0], slow.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)  # step index where a run starts
    ends = np.flatnonzero(edges == -1)  # one past the last slow step
    out = []
    for a, b in zip(starts, ends, strict=True):
        i0, i1 = int(s[a]), int(s[b])  # step b-1 ends at sample b
        if ts_us[i1] - ts_us[i0] >= p.min_duration_hours * 3.6e9:
            out.append((i0, i1))
    return out


def shore_points(ts_us: np.ndarray, lat: np.ndarray, lon: np.ndarray, p: LoiteringParams,
                 runs: list[tuple[int, int]] | None = None, samples: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The points whose distance from shore :meth:`LoiteringDetector.apply` will need
    (``runs`` and ``samples``: :func:`slow_runs` and :func:`hourly_samples` of the segment
    when the caller has them)."""
    s = hourly_samples(ts_us) if samples is None else samples
    runs = slow_runs(ts_us, lat, lon, p, s) if runs is None else runs
    if not runs:
        return lat[:0], lon[:0]
    keep = np.zeros(len(s), dtype=bool)
    for i0, i1 in runs:
        keep |= (s >= i0) & (s <= i1)
    return lat[s[keep]], lon[s[keep]]


class LoiteringDetector:
    """Loitering events of one segment."""

    def __init__(self, params: LoiteringParams | None = None, shore: ShoreFn | None = None):
        self.params = params or LoiteringParams()
        self.shore = shore
        self._pd = params_dict(self.params)

    def apply(
        self,
        mmsi: int,
        segment_id: str,
        obs_id: np.ndarray,
        ts_us: np.ndarray,
        lat: np.ndarray,
        lon: np.ndarray,
        shore: ShoreFn | None = None,
        runs: list[tuple[int, int]] | None = None,
        samples: np.ndarray | None = None,
    ) -> list[dict]:
        """Loitering event rows of a sorted segment (times in microseconds); ``shore``
        overrides the detector's shore function for this call; ``runs`` and ``samples``
        are :func:`slow_runs` and :func:`hourly_samples` of the segment when the caller
        has them."""
        p = self.params
        shore_fn = shore or self.shore
        if samples is None:
            samples = hourly_samples(ts_us)
        if runs is None:
            runs = slow_runs(ts_us, lat, lon, p, samples)
        if not runs:
            return []
        out = []
        for i0, i1 in runs:
            sl = samples[(samples >= i0) & (samples <= i1)]
            if shore_fn is not None:
                shore = shore_fn(lat[sl], lon[sl])
                mean_shore_nm = float(np.mean(shore)) / METRES_PER_NM
                if mean_shore_nm < p.min_shore_distance_nm:
                    continue
            else:
                shore = np.full(len(sl), np.nan)
                mean_shore_nm = float("nan")
            dist = float(haversine_m(lat[sl[:-1]], lon[sl[:-1]], lat[sl[1:]], lon[sl[1:]]).sum())
            hours = (ts_us[i1] - ts_us[i0]) / 3.6e9
            mid = sl[len(sl) // 2]
            out.append(
                make_event(
                    "loitering",
                    mmsi,
                    int(ts_us[i0]),
                    int(ts_us[i1]),
                    params=self._pd,
                    segment_id=segment_id,
                    lat=float(lat[mid]),
                    lon=float(lon[mid]),
                    evidence=[obs_id[i0], obs_id[mid], obs_id[i1]],
                    attrs={
                        "duration_hours": hours,
                        "distance_m": dist,
                        "average_speed_knots": float(speed_knots(dist, hours * 3600.0)),
                        "mean_distance_from_shore_nm": mean_shore_nm,
                        "start_distance_from_shore_m": shore[0],
                        "end_distance_from_shore_m": shore[-1],
                        "positions": int(i1 - i0 + 1),
                        "shore_distance_applied": shore_fn is not None,
                    },
                )
            )
        return out
