"""``corridor simulate --corridor FILE``: fictitious ships sailing a corridor's own sea legs.

Each sea leg of the corridor gets a sea route between its two nodes from ``searoute`` (the
bundled maritime network of Eurostat's SeaRoute model, offline; it covers enclosed seas such
as the Caspian). A node's berth is its sourced coordinate, or the nearest water to it (a
sourced coordinate is often a town centre on land); the ship sails from the berth to the
network, along it, and to the other berth; a point 25 km along the way is each port's
approach, where a dark crossing starts (beyond the port geofences: a gap starting inside one
made the port-visit detector stretch the visit across the crossing). Ships start at the
corridor's origins and sail its sea legs (back along a leg where no leg leaves a node); a leg's
``ais_dark_share`` in the YAML is the share of its crossings sailed with AIS off (default 0).

Node coordinates come from the case's places sheet (a shipped case or the case folder); a
node without one is refused with its name. Everything written is labelled simulated, as for
the built-in scenarios (:mod:`corridor.sim`).
"""

from __future__ import annotations

from pathlib import Path

from corridor.corridors.model import Corridor, CorridorError
from corridor.geo import haversine_m
from corridor.sim_scenarios import Geography, SimPort

APPROACH_M = 25_000.0  # the dark stretch starts this far out, beyond port geofences


def _along(route: list[tuple[float, float]], dist_m: float) -> tuple[float, float]:
    """The point ``dist_m`` metres along a (lat, lon) polyline (its end if shorter)."""
    left = dist_m
    for (la0, lo0), (la1, lo1) in zip(route, route[1:], strict=False):
        d = float(haversine_m(la0, lo0, la1, lo1))
        if d >= left and d > 0:
            f = left / d
            return la0 + f * (la1 - la0), lo0 + f * (lo1 - lo0)
        left -= d
    return route[-1]


def _water_near(lat: float, lon: float, min_shore_m: float = 250.0) -> tuple[float, float]:
    """The node's coordinate, or the nearest point on water at least ``min_shore_m`` from the
    shore (rings of 16 bearings every 250 m, up to 30 km): a node's sourced coordinate is often
    a town centre on land, and a simulated ship must stop on water."""
    import numpy as np

    from corridor.shore import distance_to_shore_m, on_land

    def ok(la: np.ndarray, lo: np.ndarray) -> np.ndarray:
        return ~on_land(la, lo) & (distance_to_shore_m(la, lo) >= min_shore_m)

    if ok(np.array([lat]), np.array([lon]))[0]:
        return lat, lon
    bearings = np.radians(np.arange(0, 360, 22.5))
    for r in np.arange(250.0, 30_000.0, 250.0):
        la = lat + r * np.cos(bearings) / 111_195.08
        lo = lon + r * np.sin(bearings) / (111_195.08 * np.cos(np.radians(lat)))
        good = np.flatnonzero(ok(la, lo))
        if len(good):
            return float(la[good[0]]), float(lo[good[0]])
    return lat, lon


def node_coordinates(corridor: Corridor) -> dict[str, tuple[float, float, str | None]]:
    """place_id → (lat, lon, country) for the corridor's nodes, from its case's places sheet."""
    from corridor.corridors.case import read_case_places

    if corridor.case is None or corridor.case_path is None:
        raise CorridorError(f"{corridor.path}: simulating needs the nodes' coordinates: give the "
                            "corridor a case (its places sheet)")
    rows = {r["place_id"]: r for r in
            read_case_places(Path(corridor.case_path), corridor.case).to_pylist()}
    out = {}
    for n in corridor.nodes:
        r = rows.get(n.place_id)
        if r is None or r["lat"] is None or r["lon"] is None:
            raise CorridorError(f"{corridor.path}: node {n.place_id!r} has no coordinate in the "
                                "case's places sheet; a simulation needs one")
        out[n.place_id] = (float(r["lat"]), float(r["lon"]), r.get("country"))
    return out


def corridor_geography(corridor: Corridor) -> Geography:
    """The :class:`~corridor.sim_scenarios.Geography` of a corridor's sea legs."""
    import searoute

    sea = [g for g in corridor.legs if g.mode == "sea"]
    if not sea:
        raise CorridorError(f"{corridor.path}: no sea leg to simulate")
    coords = node_coordinates(corridor)
    routes: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for g in sea:
        a, b = coords[g.from_place], coords[g.to_place]
        feat = searoute.searoute([a[1], a[0]], [b[1], b[0]])
        pts = [(float(lat), float(lon)) for lon, lat in feat["geometry"]["coordinates"]]
        if len(pts) < 2:
            raise CorridorError(f"{corridor.path}: leg {g.leg_id}: no sea route found")
        routes[(g.from_place, g.to_place)] = pts
    berths = {node: _water_near(lat, lon) for node, (lat, lon, _) in coords.items()}
    # each route runs from berth to berth: the node's water point, then the network's points
    routes = {(a, b): [berths[a], *pts, berths[b]] for (a, b), pts in routes.items()}
    approach: dict[str, tuple[float, float]] = {}
    for (a, b), pts in sorted(routes.items()):
        for node, line in ((a, pts), (b, pts[::-1])):
            approach.setdefault(node, _along(line, APPROACH_M))
    ports = {}
    for node, (lat, lon) in berths.items():
        if not any(node in pair for pair in routes):
            continue
        nlat, nlon, cc = coords[node]
        ports[node] = SimPort(
            slug=node, name=node, country=cc or "", locode=None, wpi_lat=nlat, wpi_lon=nlon,
            berth_lat=lat, berth_lon=lon,
            berth_shift_m=round(float(haversine_m(nlat, nlon, lat, lon)), 1),
            approach=approach[node], region="corridor")
    lanes = {}
    for (a, b), pts in routes.items():
        total = sum(float(haversine_m(*p, *q)) for p, q in zip(pts, pts[1:], strict=False))
        inner, acc = [], 0.0
        for p, q in zip(pts, pts[1:], strict=False):
            acc += float(haversine_m(*p, *q))
            if APPROACH_M < acc < total - APPROACH_M:
                inner.append(q)
        lanes[(a, b)] = tuple(inner)
    origins = tuple(n.place_id for n in corridor.nodes if n.role == "origin" and n.place_id in ports)
    return Geography(
        ports=ports, corridor_ports=origins or tuple(sorted(ports))[:1], lanes=lanes,
        legs=tuple((g.from_place, g.to_place, g.ais_dark_share or 0.0) for g in sea),
        source=f"corridor {corridor.corridor_id}: nodes from its case's places, routes from "
               "searoute (Eurostat SeaRoute maritime network)")


def land_share(geo: Geography, step_m: float = 1000.0) -> dict[tuple[str, str], float]:
    """Share of each lane (sampled every ``step_m`` metres) that lies on land."""
    import numpy as np

    from corridor.shore import on_land

    out = {}
    for a, b in geo.lanes or {}:
        wps, _ = geo.lane(a, b)
        la: list[float] = []
        lo: list[float] = []
        for p, q in zip(wps, wps[1:], strict=False):
            n = max(int(float(haversine_m(*p, *q)) // step_m), 1)
            f = np.arange(n) / n
            la.extend(p[0] + f * (q[0] - p[0]))
            lo.extend(p[1] + f * (q[1] - p[1]))
        land = on_land(np.array(la), np.array(lo))
        out[(a, b)] = float(land.mean()) if len(land) else 0.0
    return out
