"""The route map: inline SVG maps fitted to the case, over the bundled Natural Earth data.

Inputs are plain records (built by :mod:`corridor.report.html` from the reconstruction):

- ``MapNode``: a place on the corridor with its precision (``facility`` = filled dot,
  ``settlement`` = ring, ``approximate`` = dashed ring), role and country;
- ``MapLeg``: a leg between two nodes. ``sea`` legs follow a plausible shipping lane
  (:mod:`searoute`, offline) and ``rail``/other legs are straight; both are *schematic* and
  say so. Parallel legs between the same two places are bent apart, not stacked;
- ``MapTrack``: an AIS track (lon/lat points) drawn as recorded, its dark gaps as dotted jumps;
- ``MapMarker``: a dated sighting or rail count at a point.

:func:`render_case_maps` draws an overview that fits the corridor's own nodes, legs and
tracks, plus one close-up per cluster of nodes that the overview cannot tell apart (none when
the whole corridor is legible at one scale). Captions name the case's own places; nothing in
this module knows any case. Labels and symbols carry class ``ks`` and their anchor so the
report's script keeps their screen size when zooming; lines use non-scaling strokes. Labels
are placed by a greedy collision pass (first free candidate position, symbols reserved first).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
from markupsafe import Markup

from corridor.report.basemap import Projection, path_d
from corridor.report.svg import esc, linked, num
from corridor.report.text import short_name

#: width of every map in SVG user units (px at 1:1)
MAP_WIDTH_PX = 960.0
#: nodes closer than this on the overview (px) cannot be told apart: they get a close-up
CLUSTER_PX = 46.0
#: a close-up is drawn only if it magnifies the cluster at least this much
MIN_ZOOM = 2.5
LABEL_FONT_PX = 13.0
#: shorter sea legs are drawn as an arc: the lane network is too coarse for a short hop
MIN_LANE_KM = 400.0
SEA_STYLE = 'stroke="#2166ac" stroke-width="3" stroke-dasharray="1 5" stroke-linecap="round"'
LAND_STYLE = 'stroke="#8c510a" stroke-width="3" stroke-dasharray="9 5"'
BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class MapNode:
    """A corridor place. ``precision``: facility | settlement | approximate | unknown."""

    node_id: str
    name: str
    lon: float
    lat: float
    precision: str = "unknown"
    role: str = ""
    note: str = ""
    sources: tuple[str, ...] = ()
    country: str = ""


@dataclass(frozen=True)
class MapLeg:
    """A corridor leg between two node ids; ``mode`` is ``sea``, ``rail``, ``road``, ..."""

    from_id: str
    to_id: str
    mode: str
    label: str = ""
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class MapTrack:
    """An AIS track: ``points`` as (lon, lat); ``gaps`` as ((lon, lat), (lon, lat), label).

    ``breaks`` are indices into ``points`` where a new stretch starts (after a dark gap), so
    the line is not drawn across the gap.
    """

    label: str
    points: tuple[tuple[float, float], ...]
    gaps: tuple[tuple[tuple[float, float], tuple[float, float], str], ...] = ()
    color: str = "#1f6f8b"
    breaks: tuple[int, ...] = ()


@dataclass(frozen=True)
class MapMarker:
    """A dated observation at a point (sighting, rail count)."""

    lon: float
    lat: float
    label: str
    kind: str = "sighting"  # sighting | rail
    sources: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class MapFigure:
    """One drawn map: the ``<svg>``, its caption (words from the case) and its area."""

    svg: Markup
    caption: str
    bbox: BBox
    sources: tuple[str, ...] = ()
    node_ids: tuple[str, ...] = ()


# ----------------------------------------------------------------------------- data
@lru_cache(maxsize=1)
def world() -> list[dict]:
    """Countries of the bundled 1:50m world basemap (``data/basemap/world.json``)."""
    text = resources.files("corridor").joinpath("data/basemap/world.json").read_text("utf-8")
    return json.loads(text)["countries"]


def _clip_rings(rings: list, bbox: BBox, closed: bool = True) -> list[list[list[float]]]:
    """Rings clipped to ``bbox`` (shapely), for drawing only the part of the world in view."""
    import shapely
    from shapely.geometry import Polygon, box

    frame = box(*bbox)
    out: list[list[list[float]]] = []
    for ring in rings:
        if len(ring) < 4:
            continue
        xs = [p[0] for p in ring]
        ys = [p[1] for p in ring]
        if max(xs) < bbox[0] or min(xs) > bbox[2] or max(ys) < bbox[1] or min(ys) > bbox[3]:
            continue
        if min(xs) >= bbox[0] and max(xs) <= bbox[2] and min(ys) >= bbox[1] and max(ys) <= bbox[3]:
            out.append(ring)
            continue
        poly = shapely.make_valid(Polygon(ring))
        part = poly.intersection(frame)
        for g in getattr(part, "geoms", [part]):
            if g.geom_type == "Polygon" and not g.is_empty:
                out.append([list(c) for c in g.exterior.coords])
    return out


@lru_cache(maxsize=1)
def _land10():
    from corridor.shore import load_land

    return load_land()


def _detail_land(bbox: BBox, tolerance_deg: float) -> list[list[list[float]]]:
    """1:10m land (the bundled shore data) inside ``bbox``, simplified to ``tolerance_deg``."""
    from shapely.geometry import box

    land = _land10()
    frame = box(*bbox)
    idx = land.tree.query(frame)
    out: list[list[list[float]]] = []
    for i in idx:
        part = land.polygons[int(i)].intersection(frame).simplify(tolerance_deg)
        for g in getattr(part, "geoms", [part]):
            if g.geom_type != "Polygon" or g.is_empty:
                continue
            for r in [g.exterior, *g.interiors]:
                out.append([list(c) for c in r.coords])
    return out


# ----------------------------------------------------------------------------- geometry
def fit_bbox(points: list[tuple[float, float]], pad: float = 0.14, min_span_deg: float = 0.25,
             aspect: tuple[float, float] = (1.1, 2.0)) -> BBox:
    """A lon/lat box around ``points`` with a margin, widened to a map-like shape.

    ``aspect`` bounds width/height (in km at the box's middle latitude).

    >>> b = fit_bbox([(130.0, 42.0), (132.0, 43.0)])
    >>> b[0] < 130.0 and b[2] > 132.0 and b[1] < 42.0 and b[3] > 43.0
    True
    """
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    lo0, lo1, la0, la1 = min(lons), max(lons), min(lats), max(lats)
    w, h = max(lo1 - lo0, min_span_deg), max(la1 - la0, min_span_deg)
    cx, cy = (lo0 + lo1) / 2, (la0 + la1) / 2
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    k = math.cos(math.radians(cy))
    ratio = (w * k) / h
    if ratio < aspect[0]:
        w = aspect[0] * h / k
    elif ratio > aspect[1]:
        h = w * k / aspect[1]
    return (cx - w / 2, max(-85.0, cy - h / 2), cx + w / 2, min(85.0, cy + h / 2))


def _projection(bbox: BBox, width_px: float = MAP_WIDTH_PX) -> Projection:
    big = (bbox[2] - bbox[0]) > 20 or (bbox[3] - bbox[1]) > 15
    return Projection.fit(bbox, width_px=width_px, kind="lcc" if big else "eqc")


def _inside(bbox: BBox, lon: float, lat: float) -> bool:
    return bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]


def _gc_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    from corridor.geo import haversine_m

    return float(haversine_m(a[1], a[0], b[1], b[0])) / 1000.0


#: a lane may be at most this many times the great-circle distance (+150 km): the Suez route
#: from the Black Sea to the Persian Gulf is 4.2x (drawn), a lane round Africa between two
#: Mediterranean-side places is not
LANE_MAX_DETOUR = 5.0


@lru_cache(maxsize=256)
def sea_lane(a: tuple[float, float], b: tuple[float, float]) -> tuple[tuple[float, float], ...]:
    """A plausible shipping lane from ``a`` to ``b`` (lon, lat), or ``()`` when none is found.

    Uses the searoute package's bundled lane network (no network access). The lane joins the
    two places at its ends. Hops shorter than :data:`MIN_LANE_KM` get no lane (the network
    is too coarse to draw them better than an arc). A lane much longer than the great-circle
    distance (a detour round
    a continent for two places on different seas) is rejected.
    """
    if _gc_km(a, b) < MIN_LANE_KM:
        return ()
    try:
        import searoute
    except ImportError:  # pragma: no cover - declared dependency
        return ()
    try:
        feat = searoute.searoute(list(a), list(b))
        coords = [tuple(map(float, c)) for c in feat.geometry["coordinates"]]
        length = float(feat.properties.get("length", 0.0))
    except Exception:  # noqa: BLE001 - no lane between these points: draw the arc instead
        return ()
    direct = _gc_km(a, b)
    if not coords or length > LANE_MAX_DETOUR * direct + 150.0:
        return ()
    return (a, *coords, b)  # type: ignore[return-value]


#: a track passing this close to both ends of a sea leg stands for that leg (km)
TRACK_NEAR_KM = 30.0


def _track_joins(track: MapTrack, a: MapNode, b: MapNode, near_km: float = TRACK_NEAR_KM
                 ) -> bool:
    """Whether ``track`` passes within ``near_km`` of both ``a`` and ``b``."""
    if len(track.points) < 2:
        return False
    from corridor.geo import haversine_m

    pts = np.asarray(track.points, dtype=float)
    return all(float(np.min(haversine_m(pts[:, 1], pts[:, 0], n.lat, n.lon))) <= near_km * 1000
               for n in (a, b))


def clusters(nodes: list[MapNode], proj: Projection, radius_px: float = CLUSTER_PX
             ) -> list[list[MapNode]]:
    """Groups of nodes closer than ``radius_px`` on ``proj`` (single linkage), largest first."""
    xy = [tuple(float(v) for v in proj.xy(n.lon, n.lat)) for n in nodes]
    parent = list(range(len(nodes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(nodes)):
        for j in range(i + 1, len(nodes)):
            if math.hypot(xy[i][0] - xy[j][0], xy[i][1] - xy[j][1]) < radius_px:
                parent[root(i)] = root(j)
    groups: dict[int, list[MapNode]] = {}
    for i, n in enumerate(nodes):
        groups.setdefault(root(i), []).append(n)
    out = [g for g in groups.values() if len(g) > 1]
    return sorted(out, key=lambda g: (-len(g), g[0].name))


# ----------------------------------------------------------------------------- drawing
def _ks(inner: str, x: float, y: float) -> str:
    """A group that keeps its screen size when the map zooms (see the report's script)."""
    return f'<g class="ks" data-x="{num(x)}" data-y="{num(y)}">{inner}</g>'


def _node_marker(x: float, y: float, precision: str, role: str) -> str:
    r = 6.0 if role in ("origin", "destination") else 5.0
    fill = {"origin": "#b2182b", "destination": "#5e3c99"}.get(role, "#333")
    if precision == "facility":
        return (f'<circle class="node node-facility" cx="{num(x)}" cy="{num(y)}" r="{num(r)}" '
                f'fill="{fill}" stroke="#fff" stroke-width="1.5"/>')
    if precision == "settlement":
        return (f'<circle class="node node-settlement" cx="{num(x)}" cy="{num(y)}" r="{num(r)}" '
                f'fill="#fff" stroke="{fill}" stroke-width="2.5"/>')
    return (f'<circle class="node node-approximate" cx="{num(x)}" cy="{num(y)}" '
            f'r="{num(r + 4)}" fill="none" stroke="{fill}" stroke-width="2" '
            f'stroke-dasharray="3 2"/><circle cx="{num(x)}" cy="{num(y)}" r="1.8" fill="{fill}"/>')


def _bend(pts: list[tuple[float, float]], offset_px: float) -> str:
    """Path through ``pts`` (px); a two-point path with ``offset_px`` becomes a curve bent
    sideways by that much (parallel legs between the same places are bent apart)."""
    if len(pts) == 2 and offset_px:
        (xa, ya), (xb, yb) = pts
        ln = math.hypot(xb - xa, yb - ya) or 1.0
        nx, ny = -(yb - ya) / ln, (xb - xa) / ln
        cx, cy = (xa + xb) / 2 + nx * 2 * offset_px, (ya + yb) / 2 + ny * 2 * offset_px
        return f"M{num(xa)},{num(ya)}Q{num(cx)},{num(cy)} {num(xb)},{num(yb)}"
    if offset_px:  # shift the inner points of a lane sideways
        out = [pts[0]]
        for i in range(1, len(pts) - 1):
            (x0, y0), (x1, y1) = pts[i - 1], pts[i + 1]
            ln = math.hypot(x1 - x0, y1 - y0) or 1.0
            out.append((pts[i][0] - (y1 - y0) / ln * offset_px,
                        pts[i][1] + (x1 - x0) / ln * offset_px))
        pts = out + [pts[-1]]
    return "M" + "L".join(f"{num(x)},{num(y)}" for x, y in pts)


def _boxes_overlap(a: BBox, b: BBox) -> bool:
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def render_map(bbox: BBox, nodes: list[MapNode], legs: list[MapLeg],
               tracks: list[MapTrack] | None = None, markers: list[MapMarker] | None = None,
               svg_id: str = "map", caption: str = "", detail: bool = False,
               frames: list[tuple[BBox, str]] | None = None,
               highlight: set[str] | None = None) -> str:
    """An ``<svg>`` map of ``bbox`` (lon_min, lat_min, lon_max, lat_max; WGS84 degrees).

    ``detail`` draws the 1:10m coastline (close-ups) instead of the 1:50m countries only;
    ``frames`` outlines close-up areas with their number; ``highlight`` are ISO codes of the
    countries the case's nodes lie in (a tint, from the case). Units: SVG px.
    """
    proj = _projection(bbox)
    w, h = proj.width_px, proj.height_px
    tracks, markers, highlight = tracks or [], markers or [], highlight or set()
    nse = 'vector-effect="non-scaling-stroke"'
    out = [f'<svg id="{esc(svg_id)}" class="map zoomable" viewBox="0 0 {num(w)} {num(h)}" '
           f'role="img" aria-label="{esc(caption or "Route map")}" '
           f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
           f'<rect class="sea" x="0" y="0" width="{num(w)}" height="{num(h)}" fill="#dcecf5"/>',
           '<g class="viewport">']
    span = max(bbox[2] - bbox[0], bbox[3] - bbox[1])
    # a wider clip than the box: a conic frame reaches beyond its lon/lat corners
    clip = (bbox[0] - span * 0.15, bbox[1] - span * 0.15, bbox[2] + span * 0.15,
            bbox[3] + span * 0.15)
    labels: list[tuple[float, float, str, int]] = []
    if detail:
        land = _detail_land(clip, max(span / 1500.0, 0.0005))
        out.append(f'<path class="land" d="{path_d(proj, land, True)}" fill="#f4f1ea" '
                   f'stroke="#8a8f94" stroke-width="0.7" {nse} fill-rule="evenodd"/>')
    for c in world():
        cb = c["bbox"]
        if cb[2] < clip[0] or cb[0] > clip[2] or cb[3] < clip[1] or cb[1] > clip[3]:
            continue
        rings = _clip_rings(c["rings"], clip)
        if not rings:
            continue
        fill = "#ece4d4" if c["iso"] in highlight else "#f4f1ea"
        style = (f'fill="{fill}" fill-opacity="{0.55 if detail else 1}" stroke="#9a8f9f" '
                 f'stroke-width="{0.6 if detail else 0.7}" {nse}')
        d = path_d(proj, rings, True, min_step_px=1.2, min_ring_px=2.5)
        out.append(f'<path class="country country-{esc(c["iso"])}" d="{d}" {style} '
                   'fill-rule="evenodd">'
                   f'<title>{esc(c["name"])}</title></path>')
        lx, ly = c["label"]
        if not _inside(bbox, lx, ly):
            # the label point is off this map: name the country at its largest visible part
            from shapely.geometry import Polygon, box

            parts = [Polygon(r).intersection(box(*bbox)) for r in _clip_rings(c["rings"], bbox)]
            parts = [p for p in parts if not p.is_empty and p.area > 0]
            if not parts:
                continue
            big = max(parts, key=lambda p: p.area)
            if big.area < 0.04 * (bbox[2] - bbox[0]) * (bbox[3] - bbox[1]):
                continue
            pt = big.representative_point()
            lx, ly = pt.x, pt.y
            labels.append((lx, ly, str(c["name"]).upper(), 0))
            continue
        x0, y0 = proj.xy(cb[0], cb[1])
        x1, y1 = proj.xy(cb[2], cb[3])
        if abs(float(x1 - x0)) > 90:  # large enough on this map to name
            labels.append((lx, ly, str(c["name"]).upper(), 0))
    for fb, name in frames or []:
        xs, ys = proj.xy([fb[0], fb[2], fb[2], fb[0]], [fb[1], fb[1], fb[3], fb[3]])
        pts = " ".join(f"{num(a)},{num(b)}" for a, b in zip(xs, ys, strict=True))
        out.append(f'<polygon class="closeup-frame" points="{pts}" fill="none" stroke="#444" '
                   f'stroke-width="1.2" stroke-dasharray="4 3" {nse}><title>Area of the '
                   f'{esc(name)}</title></polygon>')
    by_id = {n.node_id: n for n in nodes}
    # legs: legs between the same two places - or two places this map cannot tell apart -
    # are parallel; each gets its own sideways offset instead of being stacked
    group_of = {n.node_id: min(x.node_id for x in g) for g in clusters(nodes, proj, 24.0)
                for n in g}

    def pair(leg: MapLeg) -> tuple[str, str]:
        a, b = group_of.get(leg.from_id, leg.from_id), group_of.get(leg.to_id, leg.to_id)
        return (a, b) if a <= b else (b, a)

    pair_count: dict[tuple[str, str], int] = {}
    for leg in legs:
        pair_count[pair(leg)] = pair_count.get(pair(leg), 0) + 1
    pair_seen: dict[tuple[str, str], int] = {}
    for leg in legs:
        a, b = by_id.get(leg.from_id), by_id.get(leg.to_id)
        if a is None or b is None or not (_inside(clip, a.lon, a.lat) or _inside(clip, b.lon, b.lat)):
            continue
        key = pair(leg)
        k = pair_seen.get(key, 0)
        pair_seen[key] = k + 1
        n = pair_count[key]
        offset = (k - (n - 1) / 2) * 10.0 if n > 1 else 0.0
        if (group_of.get(leg.from_id, leg.from_id), leg.from_id) > \
                (group_of.get(leg.to_id, leg.to_id), leg.to_id):
            offset = -offset
        if leg.mode == "sea" and any(_track_joins(t, a, b) for t in tracks):
            continue  # an AIS track sailed this leg: it is drawn as recorded, not as a lane
        lonlat = list(sea_lane((a.lon, a.lat), (b.lon, b.lat))) if leg.mode == "sea" else []
        schematic = "schematic lane, not a track" if lonlat else "schematic line, not a track"
        if not lonlat:
            lonlat = [(a.lon, a.lat), (b.lon, b.lat)]
            if leg.mode == "sea" and not offset:
                offset = 7.0  # a gentle arc reads as "by sea" and does not hide the coast
        xs, ys = proj.xy([p[0] for p in lonlat], [p[1] for p in lonlat])
        pts = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
        style = SEA_STYLE if leg.mode == "sea" else LAND_STYLE
        path = (f'<path class="leg leg-{esc(leg.mode)}" d="{_bend(pts, offset)}" fill="none" '
                f'{style} {nse} opacity="0.9"/>')
        how = schematic if leg.mode == "sea" else "schematic: not drawn along the line"
        title = f"{leg.label or leg.mode + ' leg'} ({how})"
        out.append(linked(path, list(leg.sources), title))
    # AIS tracks as recorded, and their gaps
    for t in tracks:
        cuts = [0, *sorted(b for b in t.breaks if 0 < b < len(t.points)), len(t.points)]
        stretches = [[list(p) for p in t.points[a:b] if _inside(clip, p[0], p[1])]
                     for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        stretches = [s for s in stretches if len(s) >= 2]
        if stretches:
            out.append(f'<path class="track" d="{path_d(proj, stretches, False, min_step_px=0.8)}"'
                       f' fill="none" stroke="{esc(t.color)}" stroke-width="1.6" {nse} '
                       f'opacity="0.9"><title>{esc(t.label)}</title></path>')
        for (p, q, label) in t.gaps:
            xa, ya = proj.xy(p[0], p[1])
            xb, yb = proj.xy(q[0], q[1])
            out.append(f'<g class="gap"><title>{esc(label)}</title>'
                       f'<line x1="{num(xa)}" y1="{num(ya)}" x2="{num(xb)}" y2="{num(yb)}" '
                       f'stroke="#d7301f" stroke-width="2.2" stroke-dasharray="2 4" {nse} '
                       'stroke-linecap="round"/>'
                       + _ks(f'<circle cx="{num(xa)}" cy="{num(ya)}" r="3" fill="#d7301f"/>', xa, ya)
                       + _ks(f'<circle cx="{num(xb)}" cy="{num(yb)}" r="3" fill="#d7301f"/>', xb, yb)
                       + "</g>")
    placed: list[BBox] = []
    # nodes, then markers beside them, each reserving its box for the label pass
    node_xy = {}
    for n in sorted(nodes, key=lambda n: (n.role not in ("origin", "destination"), n.name)):
        if not _inside(bbox, n.lon, n.lat):
            continue
        x, y = (float(v) for v in proj.xy(n.lon, n.lat))
        node_xy[n.node_id] = (x, y)
        title = f"{n.name} — {n.role or 'node'}; coordinate precision: {n.precision}"
        if n.note:
            title += f". {n.note}"
        marker = _node_marker(x, y, n.precision, n.role)
        out.append(linked(f'<g class="ks" data-node="{esc(n.node_id)}" data-x="{num(x)}" '
                          f'data-y="{num(y)}">{marker}</g>', list(n.sources), title))
        placed.append((x - 8, y - 8, x + 8, y + 8))
    groups: dict[tuple[str, float, float], list[MapMarker]] = {}
    for m in markers:
        if _inside(bbox, m.lon, m.lat):
            groups.setdefault((m.kind, round(m.lon, 4), round(m.lat, 4)), []).append(m)
    for (mkind, lon, lat), ms in sorted(groups.items()):
        x, y = (float(v) for v in proj.xy(lon, lat))
        sx, sy = (x + 13, y - 13) if mkind == "rail" else (x - 13, y - 13)
        if mkind == "rail":
            shape = (f'<rect class="marker marker-rail" x="{num(sx - 6)}" y="{num(sy - 6)}" '
                     'width="12" height="12" fill="#8c510a" stroke="#fff" stroke-width="1"/>')
        else:
            shape = (f'<path class="marker marker-sighting" d="M{num(sx)},{num(sy - 8)}'
                     f'L{num(sx + 8)},{num(sy)}L{num(sx)},{num(sy + 8)}L{num(sx - 8)},{num(sy)}Z"'
                     ' fill="#f1a340" stroke="#5a3d00" stroke-width="0.8"/>')
        if len(ms) > 1:
            shape += (f'<text x="{num(sx)}" y="{num(sy + 4)}" font-size="11" font-weight="700"'
                      f' text-anchor="middle" fill="{"#fff" if mkind == "rail" else "#3a2600"}">'
                      f'{len(ms)}</text>')
        tags = [t for m in ms for t in m.sources]
        title = "\n".join(m.label for m in ms[:20])
        if len(ms) > 20:
            title += f"\n… and {len(ms) - 20} more (see the tables)"
        # the symbol sits beside the node; it scales about the node so it stays beside it
        out.append(linked(_ks(shape, x, y), tags, title))
        placed.append((sx - 9, sy - 9, sx + 9, sy + 9))
    fs = LABEL_FONT_PX
    for n in sorted(nodes, key=lambda n: (n.role not in ("origin", "destination"), n.name)):
        if n.node_id not in node_xy:
            continue
        x, y = node_xy[n.node_id]
        text = short_name(n.name)
        tw = 0.56 * fs * len(text)
        for dx, dy, anchor in ((10, 5, "start"), (-10, 5, "end"), (0, -12, "middle"),
                               (0, 21, "middle"), (10, -10, "start"), (-10, -10, "end"),
                               (10, 19, "start"), (-10, 19, "end")):
            x0 = x + dx if anchor == "start" else x + dx - tw if anchor == "end" else x - tw / 2
            box = (x0, y + dy - fs, x0 + tw, y + dy + 3)
            if any(_boxes_overlap(box, b) for b in placed) or box[0] < 2 or box[2] > w - 2 \
                    or box[1] < 2 or box[3] > h - 2:
                continue
            placed.append(box)
            out.append(_ks(f'<text class="node-label" x="{num(x + dx)}" y="{num(y + dy)}" '
                           f'font-size="{num(fs)}" text-anchor="{anchor}" paint-order="stroke" '
                           f'stroke="#fff" stroke-width="3" fill="#222">{esc(text)}</text>', x, y))
            break
    # country labels last, only where they hit nothing
    for lon, lat, text, _ in labels:
        x, y = (float(v) for v in proj.xy(lon, lat))
        tw = 0.62 * 12 * len(text) + 1.5 * len(text)
        box = (x - tw / 2, y - 12, x + tw / 2, y + 3)
        if any(_boxes_overlap(box, b) for b in placed) or box[0] < 0 or box[2] > w:
            continue
        placed.append(box)
        out.append(_ks(f'<text class="country-label" x="{num(x)}" y="{num(y)}" font-size="12" '
                       f'letter-spacing="1.5" text-anchor="middle" fill="#8b8178">{esc(text)}'
                       '</text>', x, y))
    out.append("</g>")
    out.append(_scale_bar(proj, bbox, w, h))
    out.append("</svg>")
    return "".join(out)


def _scale_bar(proj: Projection, bbox: BBox, w: float, h: float) -> str:
    """A scale bar at the map's bottom-left, measured along the box's middle parallel."""
    lat = (bbox[1] + bbox[3]) / 2
    lon = (bbox[0] + bbox[2]) / 2
    x0, _ = proj.xy(lon, lat)
    x1, _ = proj.xy(lon + 1.0, lat)
    px_per_km = abs(float(x1 - x0)) / _gc_km((lon, lat), (lon + 1.0, lat))
    km = 1.0
    for cand in (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1):
        if cand * px_per_km <= w * 0.22:
            km = cand
            break
    bar = km * px_per_km
    y = h - 14
    # the bar keeps its length in map units; its label keeps its screen size (class ks)
    return (f'<g class="scalebar" font-size="12" fill="#333"><rect x="10" y="{num(y - 15)}" '
            f'width="{num(bar + 12)}" height="24" fill="#fff" opacity="0.8"/>'
            f'<line x1="16" y1="{num(y)}" x2="{num(16 + bar)}" y2="{num(y)}" stroke="#333" '
            f'stroke-width="2"/>'
            + _ks(f'<text x="{num(16)}" y="{num(y - 4)}" paint-order="stroke" stroke="#fff" '
                  f'stroke-width="3">{km:,.0f} km</text>', 16, y) + "</g>")


def _names(nodes: list[MapNode]) -> str:
    names = list(dict.fromkeys(short_name(n.name) for n in nodes))
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


#: an overview spanning less than this (degrees) draws the 1:10m coastline
DETAIL_SPAN_DEG = 12.0


def render_case_maps(nodes: list[MapNode], legs: list[MapLeg], tracks: list[MapTrack],
                     markers: list[MapMarker], id_prefix: str = "map",
                     overview_caption: str | None = None,
                     closeups: bool = True) -> list[MapFigure]:
    """The overview fitted to the corridor and (with ``closeups``) a close-up per cluster the
    overview cannot resolve. Every caption is built from the case's own place names."""
    pts = [(n.lon, n.lat) for n in nodes]
    if not pts:
        pts = [p for t in tracks for p in t.points]
    if not pts:
        return []
    if len(pts) > 2000:  # long tracks: their extent, not every point
        arr = np.asarray(pts)
        pts = [(float(arr[:, 0].min()), float(arr[:, 1].min())),
               (float(arr[:, 0].max()), float(arr[:, 1].max()))]
    bbox = fit_bbox(pts)
    highlight = {n.country for n in nodes if n.country}
    proj = _projection(bbox)
    areas: list[tuple[BBox, list[MapNode]]] = []
    for group in (clusters(nodes, proj) if closeups else []):
        cb = fit_bbox([(n.lon, n.lat) for n in group], pad=0.35, min_span_deg=0.08)
        zoom = (bbox[2] - bbox[0]) / (cb[2] - cb[0])
        if zoom >= MIN_ZOOM:
            areas.append((cb, group))
    frames = [(cb, f"close-up {i}") for i, (cb, _) in enumerate(areas, 1)]
    sources = tuple(dict.fromkeys(t for n in nodes for t in n.sources))
    if overview_caption is None:
        roles = {r: [n for n in nodes if n.role == r] for r in ("origin", "destination")}
        modes = {leg.mode for leg in legs}
        how = []
        if "sea" in modes:
            how.append("sea legs follow a plausible shipping lane (schematic, not a track)")
        if modes - {"sea"}:
            how.append(f"{' and '.join(sorted(modes - {'sea'}))} legs are straight schematic "
                       "lines, not the line itself")
        overview_caption = (f"Overview of the corridor: {len(nodes)} places"
                            + (f", from {_names(roles['origin'])}" if roles["origin"] else "")
                            + (f" to {_names(roles['destination'])}" if roles["destination"] else "")
                            + (". " + "; ".join(how).capitalize() if how else "")
                            + (". AIS tracks are drawn as recorded" if tracks else "") + ".")
        if frames:
            overview_caption += " Dashed boxes mark the close-ups below."
    detail = max(bbox[2] - bbox[0], bbox[3] - bbox[1]) < DETAIL_SPAN_DEG
    figs = [MapFigure(Markup(render_map(bbox, nodes, legs, tracks, markers,
                                        svg_id=f"{id_prefix}-overview", caption=overview_caption,
                                        frames=frames, highlight=highlight, detail=detail)),
                      overview_caption, bbox, sources, tuple(n.node_id for n in nodes))]
    for i, (cb, _group) in enumerate(areas, 1):
        inside = [n for n in nodes if _inside(cb, n.lon, n.lat)]
        precise = [n for n in inside if n.precision in ("settlement", "approximate")]
        cap = f"Close-up {i}: {_names(inside)}."
        if precise:
            cap += (f" The symbols for {_names(precise)} stand for a town or an approximate "
                    "area, not the facility itself.")
        figs.append(MapFigure(Markup(render_map(cb, nodes, legs, tracks, markers,
                                                svg_id=f"{id_prefix}-closeup-{i}", caption=cap,
                                                detail=True, highlight=highlight)),
                              cap, cb, (), tuple(n.node_id for n in inside)))
    return figs
