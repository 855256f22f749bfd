"""Trajectory simulator: fictitious ships between real ports, with the ground truth.

``simulate(SimConfig(...), out_dir)`` writes

- ``positions.parquet`` — AIS positions in the canonical POSITIONS schema (``obs_id`` from
  :func:`corridor.ids.position_obs_ids`, ``source='simulated'``), streamed vessel by vessel in
  row groups, so memory stays constant whatever the size (10^8 positions is a matter of time);
- ``truth.parquet`` — the events the simulation *made happen*: port visits, voyages, AIS gaps
  (the ship switched its transponder off), loitering, encounters (two ships side by side at sea)
  and position conflicts (two ships transmitting one MMSI), with ``complete`` telling whether
  the event lies wholly inside the simulated time window;
- ``vessel_reports.parquet`` — daily static reports (name ``SIM VESSEL 0001``, call sign);
- ``places.parquet`` — the ports used, as rows of the ``places`` table;
- ``manifest.json`` — the configuration, counts and labels.

Identities are fictitious and labelled: MMSIs are ``100000001, 100000002, ...``. A ship's MMSI
starts with its Maritime Identification Digits, and the ITU assigns ship MIDs 201-775 only
(first digit 2-7; the 111 prefix is for search-and-rescue aircraft): ``1000xxxxx`` belongs to no
ship and no aircraft. No IMO number is reported. Ports are real (:mod:`corridor.sim_scenarios`).

Scenarios:

- ``mixed``: ships sail between the ports of the Sea of Japan, stop 8-36 h in port, and on some
  legs go dark for 8-16 h, loiter at sea for 6-12 h, or meet another ship for 2.5-3.5 h
  (meetings and loitering are deliberately shorter/longer than each other's thresholds so the
  truth is unambiguous: an encounter under 4 h is not loitering). One pair of ships shares an
  MMSI (``shared_mmsi_pairs`` such pairs), one in the north of the sea and one in the south.
- ``corridor``: ships shuttle between Najin (DPRK) and Dunai (Primorsky Krai), stop 12-48 h,
  and on most crossings switch AIS off between the two approaches, as in the 2023 shuttle.

Deterministic: the same configuration (including ``seed``) gives the same rows with the same ids.
Written with numpy (piecewise-linear motion sampled at jittered report times) because the
trajectory libraries (MovingPandas) analyse tracks but do not generate them.
"""

from __future__ import annotations

import json
import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corridor.geo import METRES_PER_NM, haversine_m
from corridor.ids import combine_u64, position_obs_ids, stable_id
from corridor.progress import Progress
from corridor.schema import PLACES, POSITIONS, VESSEL_REPORTS
from corridor.sim_scenarios import SEA_OF_JAPAN, Geography, hub_of

#: first MMSI of simulated ships (see module docstring)
SIM_MMSI_BASE = 100_000_000
SOURCE = "simulated"
US = 1_000_000
HOUR = 3600 * US
M_PER_DEG = 111_195.08

TRUTH = pa.schema(
    [
        ("truth_id", pa.string()),
        ("type", pa.string()),
        ("mmsi", pa.int64()),
        ("other_mmsi", pa.int64()),
        ("start_ts", pa.timestamp("us")),
        ("end_ts", pa.timestamp("us")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("place_id", pa.string()),
        ("from_place_id", pa.string()),
        ("to_place_id", pa.string()),
        ("complete", pa.bool_()),  # wholly inside the simulated window
        ("vessel", pa.string()),  # SIM VESSEL name (two ships can share an MMSI)
        ("attrs", pa.string()),
    ]
)


@dataclass(frozen=True)
class SimConfig:
    """What to simulate. Times are UTC; ``positions`` (a target total) overrides
    ``report_interval_s`` (mean seconds between two reports of one ship)."""

    vessels: int = 20
    days: float = 7.0
    seed: int = 0
    scenario: str = "mixed"  # mixed | corridor
    start: datetime = datetime(2023, 9, 1)
    report_interval_s: float = 180.0
    positions: int | None = None
    row_group_rows: int = 1_000_000
    p_dark: float | None = None  # per leg; default 0.3 (mixed), 0.8 (corridor crossing)
    p_loiter: float = 0.2
    encounter_fraction: float = 0.3  # share of ships that meet another ship once
    shared_mmsi_pairs: int = 1
    dropout: float = 0.03  # share of reports lost at random (reception)
    noise_m: float = 8.0  # position noise, standard deviation per axis

    def __post_init__(self) -> None:
        if self.scenario not in ("mixed", "corridor"):
            raise ValueError(f"unknown scenario {self.scenario!r} (mixed or corridor)")
        if self.vessels < 1 or self.days <= 0:
            raise ValueError("vessels must be >= 1 and days > 0")

    @property
    def interval_s(self) -> float:
        """Mean seconds between two reports of one ship."""
        if self.positions:  # reports lost at random are part of the budget
            return max(self.vessels * self.days * 86400.0 * (1.0 - self.dropout)
                       / self.positions, 0.5)
        return self.report_interval_s


@dataclass
class SimResult:
    """Paths written and what they hold."""

    paths: dict[str, Path]
    positions: int
    vessels: int
    truth_counts: dict[str, int]
    seconds: float

    @property
    def positions_per_s(self) -> float:
        return self.positions / self.seconds if self.seconds > 0 else float("inf")


# ----------------------------------------------------------------------------- plans
@dataclass
class _Plan:
    """Piecewise-linear motion of one ship: knots (t, lat, lon), nav status per segment."""

    idx: int
    mmsi: int
    name: str
    region: str | None
    port: str
    t: list[int] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    status: list[int] = field(default_factory=list)  # status of the segment from knot i
    dark: list[tuple[int, int]] = field(default_factory=list)
    truth: list[dict[str, Any]] = field(default_factory=list)
    visit_start: int = 0
    visit_port: str = ""
    last_visit: dict[str, Any] | None = None
    leg_dark: float | None = None  # share of crossings with AIS off on the leg being sailed

    def add(self, t: float, lat: float, lon: float, status: int) -> None:
        ti = int(round(t))
        if self.t and ti <= self.t[-1]:
            ti = self.t[-1] + 1
        self.t.append(ti)
        self.lat.append(lat)
        self.lon.append(lon)
        self.status.append(status)

    def sail(self, lat: float, lon: float, speed_kn: float, status: int = 0) -> None:
        d = float(haversine_m(self.lat[-1], self.lon[-1], lat, lon))
        self.status[-1] = status
        self.add(self.t[-1] + d / (speed_kn * METRES_PER_NM / 3600.0) * US, lat, lon, status)

    @property
    def now(self) -> int:
        return self.t[-1]


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (lat + north_m / M_PER_DEG,
            lon + east_m / (M_PER_DEG * math.cos(math.radians(lat))))


def _near(rng: np.random.Generator, point: tuple[float, float], radius_m: float):
    r = radius_m * math.sqrt(rng.uniform())
    a = rng.uniform(0, 2 * math.pi)
    return _offset(point[0], point[1], r * math.cos(a), r * math.sin(a))


HARBOUR_KN = 7.0
ENTRY_M, EXIT_M = 3000.0, 4000.0


class _Builder:
    """Builds every ship's plan and the ground truth, deterministically from the seed."""

    def __init__(self, cfg: SimConfig, geo: Geography = SEA_OF_JAPAN):
        self.cfg = cfg
        self.geo = geo
        self.rng = np.random.default_rng(cfg.seed)
        self.t0 = int(cfg.start.replace(tzinfo=timezone.utc).timestamp() * US)
        self.t1 = self.t0 + int(cfg.days * 86400 * US)
        self.p_dark = cfg.p_dark if cfg.p_dark is not None else (
            0.8 if cfg.scenario == "corridor" else 0.3)

    # -- truth helpers
    def _truth(self, plan: _Plan, typ: str, start: int, end: int, **kw: Any) -> dict[str, Any]:
        row = {"type": typ, "mmsi": plan.mmsi, "other_mmsi": None, "start_ts": int(start),
               "end_ts": int(end), "lat": None, "lon": None, "place_id": None,
               "from_place_id": None, "to_place_id": None, "vessel": plan.name, "attrs": "{}"}
        row.update(kw)
        plan.truth.append(row)
        return row

    # -- port stops and legs
    def _arrive(self, plan: _Plan, port: str, speed_kn: float) -> None:
        p = self.geo.ports[port]
        lat, lon = _near(self.rng, (p.berth_lat, p.berth_lon), 250.0)
        plan.sail(lat, lon, HARBOUR_KN)
        plan.status[-1] = 5
        plan.port = port
        plan.visit_port = port
        plan.visit_start = plan.now - int(ENTRY_M / (HARBOUR_KN * METRES_PER_NM / 3600) * US)

    def _depart(self, plan: _Plan, at: int) -> None:
        """End the current port stop at ``at`` and record the visit (and the voyage to it)."""
        plan.add(at, plan.lat[-1], plan.lon[-1], 5)
        exit_t = plan.now + int(EXIT_M / (HARBOUR_KN * METRES_PER_NM / 3600) * US)
        p = self.geo.ports[plan.visit_port]
        visit = self._truth(plan, "port_visit", plan.visit_start, exit_t, lat=p.berth_lat,
                            lon=p.berth_lon, place_id=p.place_id)
        if plan.last_visit is not None:
            self._truth(plan, "voyage", plan.last_visit["end_ts"], visit["start_ts"],
                        from_place_id=plan.last_visit["place_id"], to_place_id=p.place_id)
        plan.last_visit = visit

    def _route(self, plan: _Plan, dest: str) -> tuple[list[tuple[float, float]], list[int]]:
        return self.geo.lane(plan.port, dest)

    def _leg(self, plan: _Plan, dest: str, speed_kn: float, activity: str | None,
             at_point: tuple[float, float] | None = None,
             meet: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Sail from the current berth to ``dest`` (the stop must already be closed).

        ``activity`` happens at the first hub of the lane (replaced by ``at_point`` or a random
        point within 40 km of it): "loiter", "meet" (host: stop there ``meet['hours']``) or
        "dark" (transponder off for part of the open-sea stretch).
        """
        wps, hubs = self._route(plan, dest)
        info: dict[str, Any] | None = None
        if activity in ("loiter", "meet") and hubs:
            point = at_point or _near(self.rng, wps[hubs[0]], 40_000.0)
            wps = list(wps)
            wps[hubs[0]] = point
        # berth -> approach
        plan.sail(wps[1][0], wps[1][1], HARBOUR_KN)
        t_sea0 = plan.now
        for k in range(2, len(wps) - 1):
            plan.sail(wps[k][0], wps[k][1], speed_kn)
            if hubs and k == hubs[0] and activity == "loiter":
                hours = self.rng.uniform(6.0, 12.0)
                drift = self.rng.uniform(0.2, 1.0) * METRES_PER_NM * hours
                a = self.rng.uniform(0, 2 * math.pi)
                start = plan.now
                lat, lon = _offset(plan.lat[-1], plan.lon[-1], drift * math.cos(a),
                                   drift * math.sin(a))
                plan.status[-1] = 0
                plan.add(start + hours * HOUR, lat, lon, 0)
                self._truth(plan, "loitering", start, plan.now, lat=wps[k][0], lon=wps[k][1])
            elif hubs and k == hubs[0] and activity == "meet":
                assert meet is not None
                start = plan.now
                lat, lon = _offset(plan.lat[-1], plan.lon[-1], meet["drift_n"], meet["drift_e"])
                plan.status[-1] = 0
                plan.add(start + meet["hours"] * HOUR, lat, lon, 0)
                info = {"t": start, "lat": wps[k][0], "lon": wps[k][1], "end": plan.now}
        t_sea1 = plan.now  # at the destination's approach
        if activity == "dark":
            self._dark(plan, t_sea0, t_sea1)
        self._arrive(plan, dest, speed_kn)
        return info

    def _dark(self, plan: _Plan, a: int, b: int) -> None:
        margin = HOUR // 4 if self.cfg.scenario == "corridor" else HOUR
        room = (b - a - 2 * margin) / HOUR
        if self.cfg.scenario == "corridor":
            hours = room
        else:
            hours = min(self.rng.uniform(8.0, 16.0), room)
        if hours < 6.5:
            return
        s = a + margin + int(self.rng.uniform(0, max(room - hours, 0)) * HOUR)
        e = s + int(hours * HOUR)
        plan.dark.append((s, e))
        self._truth(plan, "gap", s, e)

    def _next_port(self, plan: _Plan) -> str:
        if self.cfg.scenario == "corridor":
            if self.geo.legs:
                nxt = self.geo.next_legs(plan.port)
                k = 0 if len(nxt) == 1 else int(self.rng.integers(len(nxt)))
                plan.leg_dark = nxt[k][1]
                return nxt[k][0]
            a, b = self.geo.corridor_ports
            return b if plan.port == a else a
        choices = [p for p in self.geo.ports if p != plan.port and (
            plan.region is None or self.geo.ports[p].region == plan.region)]
        return str(self.rng.choice(choices))

    def _stop_hours(self) -> float:
        lo, hi = (12.0, 48.0) if self.cfg.scenario == "corridor" else (8.0, 36.0)
        return float(self.rng.uniform(lo, hi))

    def _speed(self) -> float:
        lo, hi = (9.0, 11.0) if self.cfg.scenario == "corridor" else (10.0, 14.0)
        return float(self.rng.uniform(lo, hi))

    def _run(self, plan: _Plan, until: int, host: dict[str, Any] | None = None) -> None:
        """Stop / sail / stop ... until past ``until``; a host meets its partner once."""
        while plan.now < until:
            self._depart(plan, plan.now + int(self._stop_hours() * HOUR))
            dest = self._next_port(plan)
            activity = None
            if self.cfg.scenario == "mixed":
                hub_lane = bool(self.geo.lane(plan.port, dest)[1])
                if (host is not None and "t" not in host and hub_lane
                        and plan.now > self.t0 + 6 * HOUR and plan.now < self.t1 - 60 * HOUR):
                    activity = "meet"
                else:
                    u = self.rng.uniform()
                    activity = ("dark" if u < self.p_dark else
                                "loiter" if u < self.p_dark + self.cfg.p_loiter else None)
            elif self.rng.uniform() < (self.p_dark if plan.leg_dark is None else plan.leg_dark):
                activity = "dark"
            info = self._leg(plan, dest, self._speed(), activity, meet=host)
            if info is not None and host is not None:
                host.update(info)
        self._depart(plan, max(plan.now, until) + HOUR)  # close the last visit (incomplete)

    def _new_plan(self, i: int, mmsi: int, region: str | None, port: str | None = None) -> _Plan:
        ports = [p for p in self.geo.ports if region is None or self.geo.ports[p].region == region]
        if self.cfg.scenario == "corridor":
            ports = list(self.geo.corridor_ports)
        home = port or str(self.rng.choice(ports))
        plan = _Plan(i, mmsi, f"SIM VESSEL {i + 1:04d}", region, home)
        p = self.geo.ports[home]
        lat, lon = _near(self.rng, (p.berth_lat, p.berth_lon), 250.0)
        begin = self.t0 - int(self.rng.uniform(0.0, 24.0) * HOUR)
        plan.add(begin, lat, lon, 5)
        plan.visit_port = home
        plan.visit_start = begin - HOUR  # already in port when the window opens
        return plan

    def plans(self) -> list[_Plan]:
        """Plans of every ship, in ship order, truth included."""
        cfg = self.cfg
        n = cfg.vessels
        mmsi = [SIM_MMSI_BASE + i + 1 for i in range(n)]
        region: list[str | None] = [None] * n
        roles: list[str] = ["free"] * n
        if cfg.scenario == "mixed":
            n_share = min(cfg.shared_mmsi_pairs, n // 2)
            for k in range(n_share):  # the last ships, in pairs: one MMSI, two seas
                a, b = n - 2 * k - 2, n - 2 * k - 1
                mmsi[b] = mmsi[a]
                region[a], region[b] = "north", "south"
                roles[a] = roles[b] = "shared"
            free = [i for i in range(n) if roles[i] == "free"]
            n_pairs = min(int(round(n * cfg.encounter_fraction / 2)), len(free) // 2)
            for k in range(n_pairs):
                roles[free[2 * k]] = "host"
                roles[free[2 * k + 1]] = "partner"
        plans: list[_Plan | None] = [None] * n
        until = self.t1
        for i in range(n):
            if roles[i] == "partner":
                continue
            plan = self._new_plan(i, mmsi[i], region[i])
            host: dict[str, Any] | None = None
            if roles[i] == "host":
                a = self.rng.uniform(0, 2 * math.pi)
                drift = 0.3 * METRES_PER_NM * 1.0
                host = {"hours": float(self.rng.uniform(2.5, 3.5)),
                        "drift_n": drift * math.cos(a), "drift_e": drift * math.sin(a),
                        "sep_m": float(self.rng.uniform(80.0, 250.0))}
                host["drift_n"] *= host["hours"]
                host["drift_e"] *= host["hours"]
            self._run(plan, until, host)
            plans[i] = plan
            if host is not None:
                if "t" in host:
                    plans[i + 1] = self._partner(i + 1, mmsi[i + 1], plan, host, until)
                else:
                    plans[i + 1] = self._free(i + 1, mmsi[i + 1], until)
        for i in range(n):
            if plans[i] is None:
                plans[i] = self._free(i, mmsi[i], until)
        out = [p for p in plans if p is not None]
        self._conflicts(out)
        return out

    def _free(self, i: int, mmsi: int, until: int) -> _Plan:
        plan = self._new_plan(i, mmsi, None)
        self._run(plan, until)
        return plan

    def _partner(self, i: int, mmsi: int, host_plan: _Plan, host: dict[str, Any],
                 until: int) -> _Plan:
        """A ship that leaves its port just in time to lie alongside the host at sea."""
        meet_pt = (host["lat"], host["lon"])
        hub = min(("north", "south"), key=lambda r: haversine_m(*hub_of(r), *meet_pt))
        ports = list(self.geo.ports)
        lane = self.geo.lane
        start_port = str(self.rng.choice(ports))
        dests = [p for p in ports if p != start_port and hub_of(hub) in
                 [lane(start_port, p)[0][k] for k in lane(start_port, p)[1]]]
        dest = str(self.rng.choice(dests))
        wps, hubs = lane(start_port, dest)
        k_hub = next(k for k in hubs if wps[k] == hub_of(hub))
        speed = self._speed()
        # side by side: offset perpendicular to nothing in particular, sep_m east-west
        pt = _offset(meet_pt[0], meet_pt[1], 0.0, host["sep_m"])
        wps = list(wps)
        wps[k_hub] = pt
        plan = self._new_plan(i, mmsi, None, port=start_port)
        wps[0] = (plan.lat[-1], plan.lon[-1])  # this ship's own berth
        travel = 0.0
        for k in range(1, k_hub + 1):
            v = HARBOUR_KN if k == 1 else speed
            travel += float(haversine_m(*wps[k - 1], *wps[k])) / (v * METRES_PER_NM / 3600.0)
        depart = int(host["t"] - travel * US)
        plan.t[0] = min(plan.t[0], depart - 8 * HOUR)
        plan.visit_start = plan.t[0] - HOUR
        self._depart(plan, depart)
        plan.sail(wps[1][0], wps[1][1], HARBOUR_KN)
        for k in range(2, len(wps) - 1):
            plan.sail(wps[k][0], wps[k][1], speed)
            if k == k_hub:
                # exactly host's start (rounding of the travel time) then drift together
                plan.t[-1] = max(int(host["t"]), plan.t[-2] + 1)
                lat, lon = _offset(pt[0], pt[1], host["drift_n"], host["drift_e"])
                plan.add(host["end"], lat, lon, 0)
        self._arrive(plan, dest, speed)
        a, b = sorted((host_plan.mmsi, mmsi))
        self._truth(host_plan, "encounter", host["t"], host["end"], other_mmsi=None,
                    lat=host["lat"], lon=host["lon"])
        host_plan.truth[-1].update(mmsi=a, other_mmsi=b)
        self._run(plan, until)
        return plan

    def _conflicts(self, plans: list[_Plan]) -> None:
        by_mmsi: dict[int, list[_Plan]] = {}
        for p in plans:
            by_mmsi.setdefault(p.mmsi, []).append(p)
        for m, ps in by_mmsi.items():
            if len(ps) > 1:
                s = max(max(p.t[0] for p in ps), self.t0)
                e = min(min(p.t[-1] for p in ps), self.t1)
                self._truth(ps[0], "position_conflict", s, e,
                            attrs=json.dumps({"vessels": sorted(p.name for p in ps)}))
                ps[0].truth[-1]["mmsi"] = m


# ----------------------------------------------------------------------------- sampling
def _bearing(lat1, lon1, lat2, lon2) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    x = np.sin(dl) * np.cos(p2)
    y = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return (np.degrees(np.arctan2(x, y)) + 360.0) % 360.0


def sample_positions(plan: _Plan, t0: int, t1: int, interval_s: float, dropout: float,
                     noise_m: float, rng: np.random.Generator) -> pa.Table:
    """AIS positions of one planned ship inside [t0, t1) (POSITIONS schema)."""
    kt = np.asarray(plan.t, dtype=np.int64)
    klat = np.asarray(plan.lat, dtype=np.float64)
    klon = np.degrees(np.unwrap(np.radians(np.asarray(plan.lon, dtype=np.float64))))
    a, b = max(t0, int(kt[0])), min(t1, int(kt[-1]))
    step = int(interval_s * US)
    n = max((b - a) // step, 0)
    ts = a + (np.arange(n, dtype=np.int64) * step
              + (rng.uniform(0.0, 0.9, n) * step).astype(np.int64))
    ts = (ts // US) * US  # AIS reports carry whole seconds
    keep = rng.uniform(size=n) >= dropout
    for s, e in plan.dark:
        keep &= ~((ts >= s) & (ts <= e))
    if n > 1:
        keep[1:] &= ts[1:] != ts[:-1]
    ts = ts[keep]
    m = ts.size
    lat = np.interp(ts, kt, klat)
    lon = np.interp(ts, kt, klon)
    seg = np.clip(np.searchsorted(kt, ts, side="right") - 1, 0, len(kt) - 2)
    dt_s = np.maximum((kt[1:] - kt[:-1]) / US, 1e-6)
    seg_m = haversine_m(klat[:-1], klon[:-1], klat[1:], klon[1:])
    seg_kn = seg_m / dt_s * 3600.0 / METRES_PER_NM
    seg_cog = _bearing(klat[:-1], klon[:-1], klat[1:], klon[1:])
    status = np.asarray(plan.status, dtype=np.int8)
    moving = seg_kn[seg] > 0.05
    lat = lat + rng.normal(0.0, noise_m, m) / M_PER_DEG
    lon = lon + rng.normal(0.0, noise_m, m) / (M_PER_DEG * np.cos(np.radians(lat)))
    lon = (lon + 180.0) % 360.0 - 180.0
    sog = np.where(moving, np.maximum(seg_kn[seg] + rng.normal(0.0, 0.15, m), 0.0),
                   np.abs(rng.normal(0.0, 0.03, m)))
    sog = np.round(sog, 1).astype(np.float32)
    cog = np.round((seg_cog[seg] + rng.normal(0.0, 1.0, m)) % 360.0, 1).astype(np.float32)
    heading = np.round(cog).astype(np.int16) % 360
    msg = np.ones(m, dtype=np.int8)
    mmsi = np.full(m, plan.mmsi, dtype=np.int64)
    lat = np.round(lat, 6)
    lon = np.round(lon, 6)
    return pa.table(
        {
            "obs_id": position_obs_ids(mmsi, ts, lat, lon, msg),
            "mmsi": mmsi,
            "ts": pa.array(ts, pa.timestamp("us")),
            "lat": lat,
            "lon": lon,
            "sog": sog,
            "cog": pa.array(cog, mask=~moving),
            "heading": pa.array(heading, mask=~moving),
            "nav_status": status[seg],
            "msg_type": msg,
            # one dictionary entry repeated, cast to plain strings (no Python list of m items)
            "source": pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(m, dtype=np.int8)), pa.array([SOURCE])).cast(pa.string()),
        },
        schema=POSITIONS,
    )


def _reports(plan: _Plan, t0: int, t1: int, rng: np.random.Generator) -> pa.Table:
    days = max(int((t1 - t0) // (86400 * US)), 1)
    ts = t0 + (np.arange(days) * 86400 + rng.uniform(0, 86400, days).astype(np.int64)) * US
    ts = np.sort((ts // US) * US)
    n = len(ts)
    length = float(round(rng.uniform(80.0, 140.0), 0))
    ids = combine_u64(np.full(n, plan.mmsi), ts, np.full(n, 5), np.full(n, plan.idx))
    return pa.table(
        {
            "obs_id": ids,
            "mmsi": np.full(n, plan.mmsi, dtype=np.int64),
            "ts": pa.array(ts, pa.timestamp("us")),
            "msg_type": np.full(n, 5, dtype=np.int8),
            "imo": pa.nulls(n, pa.int64()),
            "name": [plan.name] * n,
            "callsign": [f"SIM{plan.idx + 1:04d}"] * n,
            "ship_type": np.full(n, 70, dtype=np.int16),
            "length_m": np.full(n, length, dtype=np.float32),
            "beam_m": np.full(n, round(length / 7.0, 0), dtype=np.float32),
            "draught_m": np.full(n, 6.5, dtype=np.float32),
            "destination": pa.nulls(n, pa.string()),
            "source": [SOURCE] * n,
        },
        schema=VESSEL_REPORTS,
    )


def places_table(geo: Geography = SEA_OF_JAPAN) -> pa.Table:
    """The simulator's ports as rows of the ``places`` table (kind ``port``, a point at the berth;
    ``radius_m`` is left empty so the detectors' own entry/exit distances apply)."""
    rows = []
    for p in geo.ports.values():
        if geo is not SEA_OF_JAPAN:
            src = f"{geo.source}; berth on the sea route; simulated data"
        else:
            src = ("NGA World Port Index (public domain), berth moved to water; simulated data"
                   if p.locode else "Dunay, Primorsky Krai (Wikipedia), berth moved to water; "
                   "simulated data")
        rows.append({
            "place_id": p.place_id, "name": p.name, "kind": "port", "country": p.country,
            "lat": p.berth_lat, "lon": p.berth_lon,
            "geometry": json.dumps({"type": "Point", "coordinates": [p.berth_lon, p.berth_lat]}),
            "radius_m": None, "aliases": [p.slug] + ([p.locode] if p.locode else []),
            "precision": "approximate", "source": src,
        })
    return pa.Table.from_pylist(rows, schema=PLACES)


def _truth_table(plans: list[_Plan], t0: int, t1: int) -> pa.Table:
    rows = []
    for p in plans:
        for r in p.truth:
            r = dict(r)
            r["complete"] = bool(r["start_ts"] >= t0 and r["end_ts"] <= t1)
            r["truth_id"] = stable_id("truth", r["type"], r["mmsi"], r["other_mmsi"],
                                      r["start_ts"], r["vessel"])
            rows.append(r)
    rows.sort(key=lambda r: (r["type"], r["mmsi"], r["start_ts"]))
    return pa.Table.from_pylist(rows, schema=TRUTH)


def simulate(config: SimConfig, out_dir: str | Path, progress: Progress | None = None,
             geography: Geography | None = None) -> SimResult:
    """Write a simulated scenario to ``out_dir`` (created); returns the paths and counts.
    ``geography``: the ports and lanes (default: the built-in Sea of Japan ports; see
    :func:`corridor.corridors.simulate.corridor_geography` for a corridor's own nodes)."""
    geo = geography or SEA_OF_JAPAN
    t_start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    builder = _Builder(config, geo)
    plans = builder.plans()
    t0, t1 = builder.t0, builder.t1
    paths = {
        "positions": out / "positions.parquet",
        "truth": out / "truth.parquet",
        "vessel_reports": out / "vessel_reports.parquet",
        "places": out / "places.parquet",
        "manifest": out / "manifest.json",
    }
    total = 0
    buf: list[pa.Table] = []
    buffered = 0
    reports: list[pa.Table] = []
    # Parquet encoding/compression releases the GIL: one writer thread overlaps it with the
    # sampling of the next ships; at most one row group waits, so memory stays bounded.
    pending: Future[None] | None = None
    with pq.ParquetWriter(paths["positions"], POSITIONS, compression="zstd") as writer, \
            ThreadPoolExecutor(max_workers=1) as pool:

        def flush(tables: list[pa.Table]) -> None:
            nonlocal pending
            if pending is not None:
                pending.result()
            pending = pool.submit(writer.write_table, pa.concat_tables(tables),
                                  row_group_size=config.row_group_rows)

        for k, plan in enumerate(plans):
            # each ship has its own random stream, so ship k's data does not depend on others
            rng = np.random.default_rng([config.seed, plan.idx, 1])
            tbl = sample_positions(plan, t0, t1, config.interval_s, config.dropout,
                                   config.noise_m, rng)
            reports.append(_reports(plan, t0, t1, rng))
            buf.append(tbl)
            buffered += tbl.num_rows
            total += tbl.num_rows
            if buffered >= config.row_group_rows:
                flush(buf)
                buf, buffered = [], 0
            if progress is not None:
                progress("simulate", k + 1, len(plans))
        if buf:
            flush(buf)
        if pending is not None:
            pending.result()
    truth = _truth_table(plans, t0, t1)
    pq.write_table(truth, paths["truth"])
    pq.write_table(pa.concat_tables(reports), paths["vessel_reports"])
    pq.write_table(places_table(geo), paths["places"])
    counts: dict[str, int] = {}
    for typ, complete in zip(truth["type"].to_pylist(), truth["complete"].to_pylist(),
                             strict=True):
        if complete:
            counts[typ] = counts.get(typ, 0) + 1
    seconds = time.perf_counter() - t_start
    manifest = {
        "label": "SIMULATED DATA - fictitious vessels, not real AIS",
        "config": {k: (v.isoformat() if isinstance(v, datetime) else v)
                   for k, v in asdict(config).items()},
        "window": [datetime.fromtimestamp(t0 / US, timezone.utc).isoformat(),
                   datetime.fromtimestamp(t1 / US, timezone.utc).isoformat()],
        "mmsi_range": [SIM_MMSI_BASE + 1, SIM_MMSI_BASE + config.vessels],
        "positions": total,
        "vessels": len(plans),
        "truth_complete_counts": counts,
        "files": {k: v.name for k, v in paths.items()},
    }
    if geo is not SEA_OF_JAPAN:
        manifest["geography"] = {"source": geo.source, "ports": sorted(geo.ports),
                                 "legs": [list(x) for x in geo.legs]}
    paths["manifest"].write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return SimResult(paths, total, len(plans), counts, seconds)
