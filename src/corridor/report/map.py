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


def short_name(name: str) -> str:
    """Map label for a place: the name without its parenthesised detail.

    >>> short_name("Tikhoretsk ammunition depot (719th Artillery Ammunition Base)")
    'Tikhoretsk ammunition depot'
    >>> short_name("Dunai / Dunay (Primorsky Krai)")
    'Dunai / Dunay'
    """
    return name.split(" (")[0].strip() or name


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


def _leg_path(mode: str, xa: float, ya: float, xb: float, yb: float) -> str:
    """A leg as an SVG path: sea legs a gentle arc (bent the same way whichever end they
    start from, so they read as "by sea" and do not hide the coast), rail legs dashed."""
    if mode == "rail":
        style = 'stroke="#8c510a" stroke-width="3" stroke-dasharray="9 5"'
        d = f"M{num(xa)},{num(ya)}L{num(xb)},{num(yb)}"
    else:
        style = 'stroke="#2166ac" stroke-width="3"'
        mx, my = (xa + xb) / 2, (ya + yb) / 2
        dx, dy = xb - xa, yb - ya
        if dx < 0:
            dx, dy = -dx, -dy
        cx, cy = mx - dy * 0.18, my + dx * 0.18
        d = f"M{num(xa)},{num(ya)}Q{num(cx)},{num(cy)} {num(xb)},{num(yb)}"
    return (f'<path class="leg leg-{esc(mode)}" d="{d}" fill="none" {style} '
            'stroke-linecap="round" opacity="0.85"/>')


def _boxes_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]):
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def render_map(view: str, nodes: list[MapNode], legs: list[MapLeg],
               tracks: list[MapTrack] | None = None, markers: list[MapMarker] | None = None,
               svg_id: str = "map", inset_of: tuple[float, float, float, float] | None = None,
               caption: str = "",
               skip_markers_in: tuple[float, float, float, float] | None = None) -> str:
    """An ``<svg>`` element for ``view`` (``route`` or ``ports``).

    ``inset_of``, on the route view, outlines the area the ports inset shows;
    ``skip_markers_in`` leaves out markers inside that box (the inset shows them).
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
    # legs; a leg with one end off this view becomes a short pointer, one per inside node
    stubs: dict[tuple[str, str], list[tuple[MapNode, MapLeg]]] = {}
    for leg in legs:
        a, b = by_id.get(leg.from_id), by_id.get(leg.to_id)
        if a is None or b is None:
            continue
        in_a, in_b = _inside(bbox, a.lon, a.lat), _inside(bbox, b.lon, b.lat)
        if not (in_a or in_b):
            continue
        if in_a != in_b:
            inside, far = (a, b) if in_a else (b, a)
            stubs.setdefault((inside.node_id, leg.mode), []).append((far, leg))
            continue
        xa, ya = proj.xy(a.lon, a.lat)
        xb, yb = proj.xy(b.lon, b.lat)
        out.append(linked(_leg_path(leg.mode, xa, ya, xb, yb), list(leg.sources),
                          leg.label or f"{leg.mode} leg {a.name} → {b.name} (schematic line)"))
    for (node_id, mode), fars in sorted(stubs.items()):
        inside = by_id[node_id]
        x0, y0 = (float(v) for v in proj.xy(inside.lon, inside.lat))
        far = fars[0][0]
        x1, y1 = (float(v) for v in proj.xy(far.lon, far.lat))
        ln = float(np.hypot(x1 - x0, y1 - y0)) or 1.0
        xb, yb = x0 + (x1 - x0) / ln * 110, y0 + (y1 - y0) / ln * 110
        names = ", ".join(dict.fromkeys(short_name(f.name) for f, _ in fars))
        left = xb < x0
        label = (f'<text class="leg-label" x="{num(xb + (-4 if left else 4))}" '
                 f'y="{num(yb - 8)}" font-size="12" text-anchor="{"end" if left else "start"}" '
                 'fill="#5a3606" paint-order="stroke" stroke="#fff" stroke-width="3">'
                 f'{"← " if left else ""}{esc(mode)} to {esc(names)}{"" if left else " →"}</text>')
        tags = [t for _, leg in fars for t in leg.sources]
        title = "; ".join(leg.label or f"{mode} leg" for _, leg in fars)
        out.append(linked(_leg_path(mode, x0, y0, xb, yb) + label, tags, title))
    # tracks and gaps
    for t in tracks:
        cuts = [0, *sorted(b for b in t.breaks if 0 < b < len(t.points)), len(t.points)]
        stretches = [[p for p in t.points[a:b] if _inside(bbox, p[0], p[1])]
                     for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        stretches = [[list(p) for p in st] for st in stretches if len(st) >= 2]
        if stretches:
            d = path_d(proj, stretches, False, min_step_px=0.8)
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
    # markers (sightings, rail counts): one symbol per place and kind, with a count when
    # several observations share it; the hover title lists them all
    groups: dict[tuple[str, float, float], list[MapMarker]] = {}
    for m in markers:
        if _inside(bbox, m.lon, m.lat) and not (skip_markers_in and
                                                _inside(skip_markers_in, m.lon, m.lat)):
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
            shape += (f'<text x="{num(sx)}" y="{num(sy + 3.5)}" font-size="9.5" font-weight="700"'
                      f' text-anchor="middle" fill="{"#fff" if mkind == "rail" else "#3a2600"}">'
                      f'{len(ms)}</text>')
        tags = [t for m in ms for t in m.sources]
        title = "\n".join(m.label for m in ms[:20])
        if len(ms) > 20:
            title += f"\n… and {len(ms) - 20} more (see the tables)"
        out.append(linked(shape, tags, title))
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
        text = short_name(n.name)
        tw = 0.58 * fs * len(text)
        for dx, dy, anchor in ((10, 4, "start"), (-10, 4, "end"), (0, -11, "middle"),
                               (0, 19, "middle"), (10, -8, "start"), (10, 16, "start")):
            x0 = x + dx if anchor == "start" else x + dx - tw if anchor == "end" else x - tw / 2
            box = (x0, y + dy - fs, x0 + tw, y + dy + 2)
            if any(_boxes_overlap(box, b) for b in placed) or box[0] < 0 or box[2] > w:
                continue
            placed.append(box)
            out.append(f'<text class="node-label" x="{num(x + dx)}" y="{num(y + dy)}" '
                       f'font-size="{fs}" text-anchor="{anchor}" paint-order="stroke" '
                       f'stroke="#fff" stroke-width="3" fill="#222">{esc(text)}</text>')
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
