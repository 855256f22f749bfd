"""Port visits: positions -> port events -> visits (GFW pipe-anchorages method).

Step 1, :meth:`PortVisitDetector.port_events` (vectorised over one segment): the
distance to the nearest place (:meth:`corridor.places.PlaceIndex.nearest`: metres
outside the place's footprint, i.e. beyond its ``radius_m`` or outside its polygon) sets
an in-port state with hysteresis: in within ``entry_distance_m``, out beyond
``exit_distance_m``, in between the previous state holds. While in port, speed below
``stop_begin_speed_knots`` begins a stop and above ``stop_end_speed_knots`` ends it
(reported SOG, or the implied speed where SOG is missing). Transitions become events
``PORT_ENTRY``, ``PORT_STOP_BEGIN``, ``PORT_STOP_END``, ``PORT_EXIT``; a silence of at
least ``min_port_gap_hours`` while in port gives ``PORT_GAP_BEGIN`` (that long after the
last message, as GFW dates it) and ``PORT_GAP_END`` (the next message). A segment that
starts inside a port emits no entry: the entry was not seen, which lowers confidence.

Step 2, :func:`visits_from_port_events` (pure, independent of input order): events are
sorted by time and type order, a visit closes at each ``PORT_EXIT`` and is split where
consecutive events of different segments are more than ``max_interseg_dist_nm`` apart.
Confidence, as GFW defines it: 1 entry and/or exit only; 2 stop and/or gap only; 3 entry
*or* exit plus stop/gap; 4 entry *and* exit plus stop/gap.

Step 3, :class:`PortVisitDetector` makes ``port_visit`` event rows from visits of at
least ``min_confidence``; the place is that of the first stop (GFW pipe v3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from corridor.detect.events import make_event
from corridor.detect.params import PortVisitParams, params_dict
from corridor.geo import haversine_m, speed_knots

EVENT_TYPES = (
    "PORT_ENTRY",
    "PORT_GAP_BEGIN",
    "PORT_GAP_END",
    "PORT_STOP_BEGIN",
    "PORT_STOP_END",
    "PORT_EXIT",
)
TYPE_ORDER = {t: i for i, t in enumerate(EVENT_TYPES)}


class Places(Protocol):
    """What port detection needs from :class:`corridor.places.PlaceIndex`."""

    place_ids: Any
    table: Any

    def nearest(self, lat: np.ndarray, lon: np.ndarray, max_distance_m: float) -> tuple[
        np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class PortEvent:
    """One port event. Times in microseconds (UTC); ``place_lat/lon`` the place's point."""

    ts_us: int
    kind: str
    place_id: str
    place_lat: float
    place_lon: float
    vessel_lat: float
    vessel_lon: float
    segment_id: str
    obs_id: int | None = None

    def sort_key(self) -> tuple:
        return (self.ts_us, TYPE_ORDER[self.kind], self.place_id, self.segment_id)


@dataclass
class PortVisit:
    """An ordered group of port events with its GFW confidence."""

    events: list[PortEvent]
    confidence: int

    @property
    def start_us(self) -> int:
        return self.events[0].ts_us

    @property
    def end_us(self) -> int:
        return self.events[-1].ts_us

    @property
    def duration_hours(self) -> float:
        return (self.end_us - self.start_us) / 3.6e9


def confidence(kinds: set[str]) -> int:
    """GFW visit confidence from the set of event kinds in a visit.

    >>> confidence({"PORT_ENTRY", "PORT_STOP_BEGIN", "PORT_EXIT"})
    4
    >>> confidence({"PORT_ENTRY", "PORT_EXIT"})
    1
    """
    stop_or_gap = bool(kinds & {"PORT_STOP_BEGIN", "PORT_STOP_END", "PORT_GAP_BEGIN", "PORT_GAP_END"})
    entry, exit_ = "PORT_ENTRY" in kinds, "PORT_EXIT" in kinds
    if stop_or_gap and entry and exit_:
        return 4
    if stop_or_gap and (entry or exit_):
        return 3
    if stop_or_gap:
        return 2
    if entry or exit_:
        return 1
    raise ValueError(f"no port event kinds in {sorted(kinds)}")


def _interseg_far(a: PortEvent, b: PortEvent, max_nm: float) -> bool:
    if a.segment_id == b.segment_id:
        return False
    d_nm = float(haversine_m(a.place_lat, a.place_lon, b.place_lat, b.place_lon)) / 1852.0
    return d_nm > max_nm


def visits_from_port_events(events: list[PortEvent], max_interseg_dist_nm: float = 60.0) -> list[
        PortVisit]:
    """Group one vessel's port events (any order) into visits."""
    ordered = sorted(events, key=PortEvent.sort_key)
    visits: list[PortVisit] = []

    def close(group: list[PortEvent]) -> None:
        if group:
            visits.append(PortVisit(list(group), confidence({e.kind for e in group})))

    group: list[PortEvent] = []
    for ev in ordered:
        far = bool(group) and _interseg_far(group[-1], ev, max_interseg_dist_nm)
        if far:
            close(group)
            group = []
        group.append(ev)
        if ev.kind == "PORT_EXIT":
            close(group)
            group = []
    close(group)
    return visits


def _pairs(events: list[PortEvent], begin: str, end: str) -> list[tuple[int, int]]:
    """(begin, end) times of each ``begin`` event closed by the next ``end`` event."""
    out, start = [], None
    for e in events:
        if e.kind == begin:
            start = e.ts_us
        elif e.kind == end and start is not None:
            out.append((start, e.ts_us))
            start = None
    return out


def _visit_span(v: PortVisit, obs_id: np.ndarray, ts_us: np.ndarray,
                in_port: np.ndarray) -> tuple[int, int]:
    """Position indices ``[a, b)`` a visit covers in its sorted segment.

    It starts at the fix of its first event: for a ``PORT_GAP_BEGIN`` (dated
    ``min_port_gap_hours`` after the last message) that is the last message before the
    silence. A visit without a ``PORT_ENTRY`` (the segment starts in port) also covers the
    in-port fixes before its first event (a ship seen in port at 0.3 kn, then stopped, is
    in port from its first fix). A visit still open when the segment ends in port runs to
    the segment's last fix, as :meth:`PortVisitDetector._row` dates it; otherwise it ends
    at its last event. (Only the count of fixes in port uses this span; the visit is
    dated by its events, as GFW dates it.)
    """
    first = v.events[0]
    a = int(np.searchsorted(ts_us, v.start_us, side="left"))
    if first.obs_id is not None:
        hit = np.flatnonzero(obs_id[:a + 1] == first.obs_id)
        if len(hit):
            a = int(hit[0])
    if first.kind != "PORT_ENTRY":
        out = np.flatnonzero(~in_port[:a])
        a = int(out[-1]) + 1 if len(out) else 0
    if v.events[-1].kind != "PORT_EXIT" and in_port[-1]:
        return a, len(ts_us)
    return a, int(np.searchsorted(ts_us, max(v.end_us, v.start_us), side="right"))


def _ffill(sig: np.ndarray, initial: float) -> np.ndarray:
    """Forward-fill NaNs of a 0/1 signal; leading NaNs become ``initial``."""
    s = np.concatenate([[initial], sig])
    idx = np.where(np.isnan(s), 0, np.arange(len(s)))
    np.maximum.accumulate(idx, out=idx)
    return s[idx][1:]


class PortVisitDetector:
    """Port visits of one segment against a place index."""

    def __init__(self, places: Places, params: PortVisitParams | None = None):
        self.places = places
        self.params = params or PortVisitParams()
        self._pd = params_dict(self.params)
        tbl = places.table
        n = tbl.num_rows
        cols = tbl.column_names
        self.place_ids = [str(x) for x in places.place_ids]
        self.place_lat = tbl["lat"].to_numpy() if "lat" in cols else np.zeros(n)
        self.place_lon = tbl["lon"].to_numpy() if "lon" in cols else np.zeros(n)

    # ---------------------------------------------------------------- step 1
    def port_events(
        self,
        segment_id: str,
        obs_id: np.ndarray,
        ts_us: np.ndarray,
        lat: np.ndarray,
        lon: np.ndarray,
        sog: np.ndarray,
        steps_m: Callable[[], np.ndarray] | None = None,
    ) -> tuple[list[PortEvent], np.ndarray]:
        """Port events of a sorted segment, and its in-port mask. ``steps_m`` gives the
        haversine lengths between consecutive positions when the caller has them."""
        p = self.params
        n = len(ts_us)
        if n == 0 or len(self.place_ids) == 0:
            return [], np.zeros(n, dtype=bool)
        pos, dist = self.places.nearest(lat, lon, p.exit_distance_m)
        pos = np.asarray(pos, dtype=np.int64)
        dist = np.asarray(dist, dtype=np.float64)
        has = pos >= 0
        if not has.any():
            return [], np.zeros(n, dtype=bool)
        sig = np.full(n, np.nan)
        sig[has & (dist <= p.entry_distance_m)] = 1.0
        sig[~has | (dist > p.exit_distance_m)] = 0.0
        in_port = _ffill(sig, 0.0).astype(bool)
        # speed: reported SOG, else implied from the previous position
        impl = np.zeros(n)
        if n > 1:
            step = (steps_m() if steps_m is not None
                    else haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]))
            impl[1:] = speed_knots(step, np.diff(ts_us) / 1e6)
        spd = np.where(np.isfinite(sog), sog, impl)
        ssig = np.full(n, np.nan)
        ssig[spd < p.stop_begin_speed_knots] = 1.0
        ssig[spd > p.stop_end_speed_knots] = 0.0
        ssig[~in_port] = 0.0
        stopped = _ffill(ssig, 0.0).astype(bool) & in_port
        prev_in = np.concatenate([[in_port[0]], in_port[:-1]])
        prev_stop = np.concatenate([[False], stopped[:-1]])
        gap = np.zeros(n, dtype=bool)
        gap[1:] = (np.diff(ts_us) >= p.min_port_gap_hours * 3.6e9) & in_port[:-1]
        # the place of each position: nearest; while in port beyond it, keep the last one
        last_place = np.where(in_port & has, pos, -1)
        idx = np.where(last_place >= 0, np.arange(n), 0)
        np.maximum.accumulate(idx, out=idx)
        place_at = np.where(last_place[idx] >= 0, last_place[idx], np.where(has, pos, -1))
        masks = {
            "PORT_ENTRY": in_port & ~prev_in,
            "PORT_GAP_END": gap,
            "PORT_STOP_BEGIN": stopped & ~prev_stop,
            "PORT_STOP_END": ~stopped & prev_stop,
            "PORT_EXIT": ~in_port & prev_in,
        }
        out: list[PortEvent] = []
        for kind, m in masks.items():
            for k in np.flatnonzero(m):
                # exit: the place the vessel was in (previous position's place)
                pk = place_at[k - 1] if kind == "PORT_EXIT" and k > 0 else place_at[k]
                if kind == "PORT_GAP_END":
                    pk = place_at[k - 1]
                if pk < 0:
                    continue
                common = dict(
                    place_id=self.place_ids[pk],
                    place_lat=float(self.place_lat[pk]),
                    place_lon=float(self.place_lon[pk]),
                    segment_id=segment_id,
                )
                if kind == "PORT_GAP_END":
                    out.append(PortEvent(
                        int(ts_us[k - 1] + p.min_port_gap_hours * 3.6e9), "PORT_GAP_BEGIN",
                        vessel_lat=float(lat[k - 1]), vessel_lon=float(lon[k - 1]),
                        obs_id=int(obs_id[k - 1]), **common))
                out.append(PortEvent(int(ts_us[k]), kind, vessel_lat=float(lat[k]),
                                     vessel_lon=float(lon[k]), obs_id=int(obs_id[k]), **common))
        out.sort(key=PortEvent.sort_key)
        return out, in_port

    # ---------------------------------------------------------------- step 3
    def apply(
        self,
        mmsi: int,
        segment_id: str,
        obs_id: np.ndarray,
        ts_us: np.ndarray,
        lat: np.ndarray,
        lon: np.ndarray,
        sog: np.ndarray,
        steps_m: Callable[[], np.ndarray] | None = None,
    ) -> list[dict]:
        """``port_visit`` event rows of a sorted segment (confidence >= ``min_confidence``)."""
        p = self.params
        events, in_port = self.port_events(segment_id, obs_id, ts_us, lat, lon, sog, steps_m)
        if not events:
            return []
        rows = []
        for v in visits_from_port_events(events, p.max_interseg_dist_nm):
            if v.confidence < p.min_confidence:
                continue
            a, b = _visit_span(v, obs_id, ts_us, in_port)
            if int(in_port[a:b].sum()) < p.min_visit_positions:
                continue  # one message in port (a snapshot) is a sighting, not a visit
            rows.append(self._row(mmsi, segment_id, v, ts_us, in_port, obs_id))
        return rows

    def _row(self, mmsi: int, segment_id: str, v: PortVisit, ts_us: np.ndarray,
             in_port: np.ndarray, obs_id: np.ndarray) -> dict:
        p = self.params
        kinds = [e.kind for e in v.events]
        key = next((e for e in v.events if e.kind == "PORT_STOP_BEGIN"), None) or next(
            (e for e in v.events if e.kind != "PORT_ENTRY"), v.events[0])
        end_us = v.end_us
        is_open = kinds[-1] != "PORT_EXIT"
        if is_open and in_port[-1] and ts_us[-1] > end_us:
            end_us = int(ts_us[-1])  # still in port when the segment ends
        stops = _pairs(v.events, "PORT_STOP_BEGIN", "PORT_STOP_END")
        gaps = _pairs(v.events, "PORT_GAP_BEGIN", "PORT_GAP_END")
        ev_ids = [e.obs_id for e in v.events if e.obs_id is not None]
        if is_open and end_us != v.end_us:
            ev_ids.append(int(obs_id[-1]))
        if len(ev_ids) > p.max_evidence:
            h = p.max_evidence // 2
            ev_ids = ev_ids[:h] + ev_ids[-h:]
        summary = [{"kind": e.kind, "ts": str(np.datetime64(e.ts_us, "us")), "place_id": e.place_id}
                   for e in v.events]
        if len(summary) > 20:
            summary = summary[:10] + summary[-10:]
        return make_event(
            "port_visit",
            mmsi,
            v.start_us,
            end_us,
            params=self._pd,
            segment_id=segment_id,
            lat=key.vessel_lat,
            lon=key.vessel_lon,
            place_id=key.place_id,
            from_place_id=v.events[0].place_id,
            to_place_id=v.events[-1].place_id,
            evidence=ev_ids,
            attrs={
                "confidence": v.confidence,
                "duration_hours": (end_us - v.start_us) / 3.6e9,
                "entry_seen": "PORT_ENTRY" in kinds,
                "exit_seen": "PORT_EXIT" in kinds,
                "open": is_open,
                "stops": len(stops),
                "stopped_hours": sum(b - a for a, b in stops) / 3.6e9,
                "port_gaps": len(gaps),
                "port_gap_hours": sum(b - a for a, b in gaps) / 3.6e9,
                "places": sorted({e.place_id for e in v.events}),
                "port_events": summary,
            },
        )

