"""AIS gaps within one segment, and the Welch et al. (2022) "likely disabling" flag.

A gap is a pair of consecutive positions of one segment more than ``min_gap_hours``
apart (strictly longer, as GFW pipe-gaps' tests require: a 24 h silence is not a gap at
a 24 h threshold). For each gap corridor records the OFF and ON positions (the
evidence), duration, great-circle distance and implied speed across it, the distance
from shore at both ends, and the number of positions in the ``positions_before_window_hours``
before it (OFF position included, as pipe-gaps counts).

``likely_disabling`` follows Welch et al. 2022 (GFW AIS-disabling-high-seas): the gap is
at least ``disabling_min_gap_hours`` long, starts more than
``disabling_min_shore_distance_nm`` from shore, and the vessel sent at least
``disabling_min_positions_before`` positions in the 12 h before. Two parts of their rule
cannot be applied here and are reported as such in ``attrs``: they count only
*satellite* positions (corridor does not know the receiver type, so all positions
count), and they require modelled satellite reception > 10 positions/day at the OFF
location (a raster corridor does not ship).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from corridor.detect.events import make_event
from corridor.detect.params import GapParams, params_dict
from corridor.geo import METRES_PER_NM, haversine_m, speed_knots

ShoreFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def gap_indices(ts_us: np.ndarray, min_gap_hours: float) -> np.ndarray:
    """Indices i such that position i -> i+1 is a gap (``ts`` sorted, microseconds).

    >>> gap_indices(np.array([0, 1, 7, 20]) * 3_600_000_000, 6.0)
    array([2])
    """
    return np.flatnonzero(np.diff(ts_us) > min_gap_hours * 3.6e9)


def shore_points(ts_us: np.ndarray, lat: np.ndarray, lon: np.ndarray, p: GapParams
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The points whose distance from shore :meth:`GapDetector.apply` will need."""
    i = gap_indices(ts_us, p.min_gap_hours)
    k = np.concatenate([i, i + 1])
    return lat[k], lon[k]


def positions_before(ts_us: np.ndarray, idx: np.ndarray, window_hours: float) -> np.ndarray:
    """Number of positions in ``[ts[i] - window, ts[i]]`` for each i in ``idx`` (sorted ts)."""
    lo = np.searchsorted(ts_us, ts_us[idx] - int(window_hours * 3.6e9), side="left")
    return idx + 1 - lo


class GapDetector:
    """Gaps of one segment (traffic-style detector: parameters in, one ``apply``)."""

    def __init__(self, params: GapParams | None = None, shore: ShoreFn | None = None):
        self.params = params or GapParams()
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
    ) -> list[dict]:
        """Gap events of a sorted segment (arrays aligned; times in microseconds).

        ``shore`` overrides the detector's shore function for this call (the pipeline
        passes one that answers from a batch computed for the whole vessel)."""
        p = self.params
        shore = shore or self.shore
        i = gap_indices(ts_us, p.min_gap_hours)
        if len(i) == 0:
            return []
        j = i + 1
        dur_h = (ts_us[j] - ts_us[i]) / 3.6e9
        dist = haversine_m(lat[i], lon[i], lat[j], lon[j])
        spd = speed_knots(dist, (ts_us[j] - ts_us[i]) / 1e6)
        n_before = positions_before(ts_us, i, p.positions_before_window_hours)
        if shore is not None:
            dist_shore = shore(np.concatenate([lat[i], lat[j]]), np.concatenate([lon[i], lon[j]]))
            off_shore, on_shore = dist_shore[: len(i)], dist_shore[len(i):]
        else:
            off_shore = on_shore = np.full(len(i), np.nan)
        disabling = (
            (dur_h >= p.disabling_min_gap_hours)
            & (off_shore > p.disabling_min_shore_distance_nm * METRES_PER_NM)
            & (n_before >= p.disabling_min_positions_before)
        )
        out = []
        for k in range(len(i)):
            a, b = i[k], j[k]
            out.append(
                make_event(
                    "gap",
                    mmsi,
                    int(ts_us[a]),
                    int(ts_us[b]),
                    params=self._pd,
                    segment_id=segment_id,
                    lat=float(lat[a]),
                    lon=float(lon[a]),
                    evidence=[obs_id[a], obs_id[b]],
                    attrs={
                        "duration_hours": dur_h[k],
                        "distance_m": dist[k],
                        "implied_speed_knots": spd[k],
                        "off_lat": lat[a],
                        "off_lon": lon[a],
                        "on_lat": lat[b],
                        "on_lon": lon[b],
                        "off_distance_from_shore_m": off_shore[k],
                        "on_distance_from_shore_m": on_shore[k],
                        "positions_before": int(n_before[k]),
                        "likely_disabling": bool(disabling[k]),
                        "disabling_rule_limits": "all positions counted (receiver type unknown);"
                        " satellite reception raster not applied",
                    },
                )
            )
        return out
