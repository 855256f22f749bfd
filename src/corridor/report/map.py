"""The route map: an inline SVG over the bundled Natural Earth basemap.

Inputs are plain records (built by :mod:`corridor.report.html` from the reconstruction):

- ``MapNode``: a place on the corridor with its precision (``facility`` = filled dot,
  ``settlement`` = ring, ``approximate`` = dashed ring) and role;
- ``MapLeg``: a leg between two nodes; ``sea`` legs are solid blue, ``rail`` legs dashed
  brown. Without track geometry both are drawn as *schematic* straight lines and the
  legend says so;
- ``MapTrack``: an AIS track (lon/lat points) with its dark gaps drawn as dotted red jumps;
- ``MapMarker``: a dated sighting or rail count at a point.

Every element carries an SVG ``<title>`` (shown on hover) and links to its first source
in the sources table. Two views share the code: ``route`` (the whole corridor) and
``ports`` (the inset on Rajin – Dunai – Vostochny).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from corridor.report.basemap import Projection, load_basemap, path_d
from corridor.report.svg import esc, linked, num

#: view -> (projection kind, width in px)
VIEW_STYLE = {"route": ("lcc", 960.0), "ports": ("eqc", 960.0), "sea": ("eqc", 960.0)}


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


@dataclass(frozen=True)
class MapLeg:
    """A corridor leg between two node ids; ``mode`` is ``sea`` or ``rail``."""

    from_id: str
    to_id: str
    mode: str
    label: str = ""
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class MapTrack:
    """An AIS track: ``points`` as (lon, lat); ``gaps`` as ((lon, lat), (lon, lat), label)."""

    label: str
    points: tuple[tuple[float, float], ...]
    gaps: tuple[tuple[tuple[float, float], tuple[float, float], str], ...] = ()
    color: str = "#1f6f8b"


@dataclass(frozen=True)
class MapMarker:
    """A dated observation at a point (sighting, rail count)."""

    lon: float
    lat: float
    label: str
    kind: str = "sighting"  # sighting | rail
    sources: tuple[str, ...] = field(default_factory=tuple)


def _inside(bbox: tuple[float, float, float, float], lon: float, lat: float) -> bool:
    return bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]


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


def _boxes_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]):
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def render_map(view: str, nodes: list[MapNode], legs: list[MapLeg],
               tracks: list[MapTrack] | None = None, markers: list[MapMarker] | None = None,
               svg_id: str = "map", inset_of: tuple[float, float, float, float] | None = None,
               caption: str = "") -> str:
    """An ``<svg>`` element for ``view`` (``route`` or ``ports``).

    ``inset_of``, on the route view, outlines the area the ports inset shows.
    Units: pixels in the returned SVG; inputs in WGS84 degrees.
    """
    base = load_basemap()["views"][view]
    bbox = tuple(base["bbox"])
    kind, width = VIEW_STYLE[view]
    proj = Projection.fit(bbox, width_px=width, kind=kind)
    w, h = proj.width_px, proj.height_px
    tracks = tracks or []
    markers = markers or []
    out = [f'<svg id="{esc(svg_id)}" class="map zoomable" viewBox="0 0 {num(w)} {num(h)}" '
           f'role="img" aria-label="{esc(caption or "Route map")}" '
           f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">']
    out.append(f'<rect class="sea" x="0" y="0" width="{num(w)}" height="{num(h)}" fill="#dcecf5"/>')
    out.append('<g class="viewport">')
    out.append(f'<path class="land" d="{path_d(proj, base["land"], True)}" fill="#f4f1ea" '
               'stroke="#8a8f94" stroke-width="0.7" fill-rule="evenodd"/>')
    for c in base.get("countries", []):
        fill = {"KP": "#f1dede", "RU": "#ece7f3"}.get(c["iso"], "#eee")
        out.append(f'<path class="country country-{esc(c["iso"])}" '
                   f'd="{path_d(proj, c["rings"], True)}" fill="{fill}" stroke="none" '
                   f'fill-rule="evenodd"><title>{esc(c["name"])}</title></path>')
    out.append(f'<path class="borders" d="{path_d(proj, base["borders"], False)}" fill="none" '
               'stroke="#9a8f9f" stroke-width="0.8" stroke-dasharray="4 2"/>')
    fs_country = 13 if view == "route" else 14
    for lab in base["labels"]:
        x, y = proj.xy(lab["lon"], lab["lat"])
        italic = ' font-style="italic" fill="#4a7a96"' if lab["text"].startswith("Sea") else \
            ' fill="#8b8178"'
        out.append(f'<text class="country-label" x="{num(x)}" y="{num(y)}" '
                   f'font-size="{fs_country}" letter-spacing="1.5" text-anchor="middle"{italic}>'
                   f'{esc(lab["text"])}</text>')

    if inset_of is not None:
        lo, la = inset_of[0], inset_of[1]
        hi_lo, hi_la = inset_of[2], inset_of[3]
        xs, ys = proj.xy([lo, hi_lo, hi_lo, lo], [la, la, hi_la, hi_la])
        pts = " ".join(f"{num(a)},{num(b)}" for a, b in zip(xs, ys, strict=True))
        out.append(f'<polygon class="inset-frame" points="{pts}" fill="none" stroke="#444" '
                   'stroke-width="1" stroke-dasharray="2 2"><title>Area of the ports inset'
                   '</title></polygon>')

    by_id = {n.node_id: n for n in nodes}
    # legs
    for leg in legs:
        a, b = by_id.get(leg.from_id), by_id.get(leg.to_id)
        if a is None or b is None:
            continue
        xa, ya = proj.xy(a.lon, a.lat)
        xb, yb = proj.xy(b.lon, b.lat)
        in_a, in_b = _inside(bbox, a.lon, a.lat), _inside(bbox, b.lon, b.lat)
        if not (in_a or in_b):
            continue
        stub = ""
        if in_a != in_b:  # one end off this view: a short pointer towards it
            (x0, y0), (x1, y1), far = (((xa, ya), (xb, yb), b) if in_a else
                                       ((xb, yb), (xa, ya), a))
            ln = float(np.hypot(x1 - x0, y1 - y0)) or 1.0
            xa, ya = x0, y0
            xb, yb = x0 + (x1 - x0) / ln * 110, y0 + (y1 - y0) / ln * 110
            arrow_l, arrow_r = ("← ", "") if xb < x0 else ("", " →")
            stub = (f'<text class="leg-label" x="{num(xb)}" y="{num(float(yb) - 8)}" '
                    f'font-size="12" text-anchor="middle" fill="#5a3606" paint-order="stroke" '
                    f'stroke="#fff" stroke-width="3">{arrow_l}{leg.mode} to {esc(far.name)}{arrow_r}'
                    '</text>')
        if leg.mode == "rail":
            style = 'stroke="#8c510a" stroke-width="3" stroke-dasharray="9 5"'
        else:
            style = 'stroke="#2166ac" stroke-width="3"'
        title = leg.label or f"{leg.mode} leg {a.name} → {b.name} (schematic line)"
        # a gentle arc for sea legs so they read as "by sea" and do not hide the coast
        if leg.mode == "sea":
            mx, my = (xa + xb) / 2, (ya + yb) / 2
            dx, dy = xb - xa, yb - ya
            if dx < 0:  # bend the same way whichever end the leg starts from
                dx, dy = -dx, -dy
            cx, cy = mx - dy * 0.18, my + dx * 0.18
            d = f"M{num(xa)},{num(ya)}Q{num(cx)},{num(cy)} {num(xb)},{num(yb)}"
        else:
            d = f"M{num(xa)},{num(ya)}L{num(xb)},{num(yb)}"
        inner = (f'<path class="leg leg-{esc(leg.mode)}" d="{d}" fill="none" {style} '
                 'stroke-linecap="round" opacity="0.85"/>' + stub)
        out.append(linked(inner, list(leg.sources), title))
    # tracks and gaps
    for t in tracks:
        pts = [p for p in t.points if _inside(bbox, p[0], p[1])]
        if len(pts) >= 2:
            arr = np.asarray(pts)
            d = path_d(proj, [arr.tolist()], False, min_step_px=0.8)
            out.append(f'<path class="track" d="{d}" fill="none" stroke="{t.color}" '
                       f'stroke-width="1.4" opacity="0.9"><title>{esc(t.label)}</title></path>')
        for (p, q, label) in t.gaps:
            xa, ya = proj.xy(p[0], p[1])
            xb, yb = proj.xy(q[0], q[1])
            out.append(f'<g class="gap"><title>{esc(label)}</title>'
                       f'<line x1="{num(xa)}" y1="{num(ya)}" x2="{num(xb)}" y2="{num(yb)}" '
                       'stroke="#d7301f" stroke-width="2.2" stroke-dasharray="2 4" '
                       'stroke-linecap="round"/>'
                       f'<circle cx="{num(xa)}" cy="{num(ya)}" r="3" fill="#d7301f"/>'
                       f'<circle cx="{num(xb)}" cy="{num(yb)}" r="3" fill="#d7301f"/></g>')
    # markers (sightings, rail counts), fanned out when several share a place
    seen: dict[tuple[int, int], int] = {}
    for m in markers:
        if not _inside(bbox, m.lon, m.lat):
            continue
        x, y = proj.xy(m.lon, m.lat)
        key = (int(float(x)) // 6, int(float(y)) // 6)
        k = seen.get(key, 0)
        seen[key] = k + 1
        ang = 2.4 * k
        ox, oy = (9 + 3 * k) * np.cos(ang), (9 + 3 * k) * np.sin(ang)
        sx, sy = float(x) + ox, float(y) + oy
        if m.kind == "rail":
            shape = (f'<rect class="marker marker-rail" x="{num(sx - 4)}" y="{num(sy - 4)}" '
                     'width="8" height="8" fill="#8c510a" stroke="#fff" stroke-width="1"/>')
        else:
            shape = (f'<path class="marker marker-sighting" d="M{num(sx)},{num(sy - 5.5)}'
                     f'L{num(sx + 5)},{num(sy)}L{num(sx)},{num(sy + 5.5)}L{num(sx - 5)},{num(sy)}Z"'
                     ' fill="#f1a340" stroke="#5a3d00" stroke-width="0.8"/>')
        out.append(linked(shape, list(m.sources), m.label))
    # nodes last, with labels placed where they do not collide
    placed: list[tuple[float, float, float, float]] = []
    fs = 12 if view == "route" else 13
    order = sorted(nodes, key=lambda n: (n.role not in ("origin", "destination"), n.name))
    for n in order:
        if not _inside(bbox, n.lon, n.lat):
            continue
        x, y = (float(v) for v in proj.xy(n.lon, n.lat))
        title = f"{n.name} — {n.role or 'node'}; coordinate precision: {n.precision}"
        if n.note:
            title += f". {n.note}"
        out.append(linked(_node_marker(x, y, n.precision, n.role), list(n.sources), title))
        tw = 0.58 * fs * len(n.name)
        for dx, dy, anchor in ((10, 4, "start"), (-10, 4, "end"), (0, -11, "middle"),
                               (0, 19, "middle"), (10, -8, "start"), (10, 16, "start")):
            x0 = x + dx if anchor == "start" else x + dx - tw if anchor == "end" else x - tw / 2
            box = (x0, y + dy - fs, x0 + tw, y + dy + 2)
            if any(_boxes_overlap(box, b) for b in placed) or box[0] < 0 or box[2] > w:
                continue
            placed.append(box)
            out.append(f'<text class="node-label" x="{num(x + dx)}" y="{num(y + dy)}" '
                       f'font-size="{fs}" text-anchor="{anchor}" paint-order="stroke" '
                       f'stroke="#fff" stroke-width="3" fill="#222">{esc(n.name)}</text>')
            break
        placed.append((x - 7, y - 7, x + 7, y + 7))
    out.append("</g>")
    out.append(_scale_bar(proj, bbox, w, h))
    out.append("</svg>")
    return "".join(out)


def _scale_bar(proj: Projection, bbox: tuple[float, ...], w: float, h: float) -> str:
    """A scale bar at the map's bottom-left, measured along the box's middle parallel."""
    from corridor.geo import haversine_m

    lat = (bbox[1] + bbox[3]) / 2
    lon = (bbox[0] + bbox[2]) / 2
    x0, _ = proj.xy(lon, lat)
    x1, _ = proj.xy(lon + 1.0, lat)
    px_per_km = abs(float(x1 - x0)) / (float(haversine_m(lat, lon, lat, lon + 1.0)) / 1000.0)
    km = 1000
    for cand in (2000, 1000, 500, 200, 100, 50, 20, 10):
        if cand * px_per_km <= w * 0.22:
            km = cand
            break
    bar = km * px_per_km
    y = h - 14
    return (f'<g class="scalebar" font-size="11" fill="#333"><rect x="10" y="{num(y - 14)}" '
            f'width="{num(bar + 60)}" height="22" fill="#fff" opacity="0.75"/>'
            f'<line x1="16" y1="{num(y)}" x2="{num(16 + bar)}" y2="{num(y)}" stroke="#333" '
            f'stroke-width="2"/><text x="{num(22 + bar)}" y="{num(y + 4)}">{km:,} km</text></g>')
