"""Voyages: the legs between consecutive port visits of one segment.

After GFW's voyages (pairs of consecutive visits): a voyage departs at the end of one
visit (its exit) and arrives at the start of the next (its entry), both visits of at
least ``min_visit_confidence``. corridor keeps only complete legs (both ends seen) and
adds what an analyst checks first: the distance sailed (sum of great-circle steps
from the last position in the first port to the entry position in the next), the
straight-line distance, and the AIS gaps in the leg (count, total hours, whether any is
flagged ``likely_disabling``, and ``departed_dark`` when the ship left port during a
silence, so that the visit's exit is its first position seen outside).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np

from corridor.detect.events import make_event
from corridor.detect.params import VoyageParams, params_dict
from corridor.geo import haversine_m


class VoyageDetector:
    """Voyages of one segment from its port visits and gaps."""

    def __init__(self, params: VoyageParams | None = None):
        self.params = params or VoyageParams()
        self._pd = params_dict(self.params)

    def apply(
        self,
        mmsi: int,
        segment_id: str,
        visits: list[dict],
        gaps: list[dict],
        obs_id: np.ndarray,
        ts_us: np.ndarray,
        lat: np.ndarray,
        lon: np.ndarray,
        steps_m: Callable[[], np.ndarray] | None = None,
    ) -> list[dict]:
        """Voyage rows between consecutive visits (event dicts from the other detectors).
        ``steps_m`` gives the haversine lengths between consecutive positions when the
        caller has them (the port visit detector computed them already)."""
        p = self.params
        vs = sorted(
            (v for v in visits if json.loads(v["attrs"])["confidence"] >= p.min_visit_confidence),
            key=lambda v: v["start_ts"],
        )
        if len(vs) < 2:
            return []
        if len(ts_us) < 2:
            steps = np.zeros(0)
        elif steps_m is not None:
            steps = steps_m()
        else:
            steps = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
        cum = np.concatenate([[0.0], np.cumsum(steps)])
        gap_start = np.array([g["start_ts"] for g in gaps], dtype=np.int64)
        gap_end = np.array([g["end_ts"] for g in gaps], dtype=np.int64)
        gap_dis = np.array([json.loads(g["attrs"])["likely_disabling"] for g in gaps], dtype=bool)
        out = []
        for a, b in zip(vs[:-1], vs[1:], strict=True):
            dep, arr = int(a["end_ts"]), int(b["start_ts"])
            if arr < dep:
                continue
            # from the last position in the first port (the exit is the first one outside,
            # possibly after a silence) to the entry position in the next
            i0 = max(int(np.searchsorted(ts_us, dep, side="left")) - 1, 0)
            i1 = max(int(np.searchsorted(ts_us, arr, side="right")) - 1, 0)
            last_in_port = int(ts_us[i0])
            inside = ((gap_end > last_in_port) & (gap_start < arr) if len(gaps)
                      else np.zeros(0, bool))
            departed_dark = bool(len(gaps) and (inside & (gap_end == dep)).any())
            straight = float(haversine_m(a["lat"], a["lon"], b["lat"], b["lon"]))
            out.append(
                make_event(
                    "voyage",
                    mmsi,
                    dep,
                    arr,
                    params=self._pd,
                    segment_id=segment_id,
                    lat=a["lat"],
                    lon=a["lon"],
                    from_place_id=a["place_id"],
                    to_place_id=b["place_id"],
                    evidence=[obs_id[i0], obs_id[i1]],
                    attrs={
                        "duration_hours": (arr - dep) / 3.6e9,
                        "distance_sailed_m": float(cum[i1] - cum[i0]) if i1 > i0 else 0.0,
                        "straight_distance_m": straight,
                        "positions": max(0, i1 - i0 + 1),
                        "last_seen_in_port": str(np.datetime64(last_in_port, "us")),
                        "departed_dark": departed_dark,
                        "gaps": int(inside.sum()),
                        "gap_hours": float(((gap_end - gap_start)[inside]).sum() / 3.6e9),
                        "likely_disabling_gaps": int((inside & gap_dis).sum()),
                        "from_visit": a["event_id"],
                        "to_visit": b["event_id"],
                    },
                )
            )
        return out
