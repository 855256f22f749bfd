"""The timeline: one lane per vessel and one for rail, as an inline SVG.

Items (built by :mod:`corridor.report.html` from the reconstruction):

- ``call``: presence at a place, a bar over its time range (hatched when the range is
  uncertain, e.g. "mid-Aug 2023");
- ``gap``: an AIS dark period, a red hatched bar;
- ``shipment``: an arrow from the middle of the departure range to the middle of the
  arrival range, with whiskers over both ranges, coloured by tier;
- ``point``: a dated observation (rail count, sighting), a marker.

Shaded bands mark claim periods. Every item has a hover title with its sources and links to
the first one. Times are naive UTC ``datetime``; the x axis is linear in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from corridor.report.svg import esc, linked, num

TIER_COLOR = {"confirmed": "#1b7837", "probable": "#e08214", "possible": "#8c8c8c"}
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


@dataclass(frozen=True)
class Lane:
    """A horizontal lane: ``lane_id`` is referenced by items, ``label`` is drawn at left."""

    lane_id: str
    label: str
    note: str = ""


@dataclass(frozen=True)
class Item:
    """One thing on the timeline. ``kind``: call | gap | shipment | point.

    For shipments ``start``/``end`` are the middles of the departure and arrival ranges and
    ``depart``/``arrive`` the ranges themselves (whiskers).
    """

    lane_id: str
    kind: str
    start: datetime
    end: datetime | None
    label: str
    title: str
    sources: tuple[str, ...] = ()
    tier: str = ""
    uncertain: bool = False
    depart: tuple[datetime, datetime] | None = None
    arrive: tuple[datetime, datetime] | None = None


@dataclass(frozen=True)
class Band:
    """A shaded period (a claim's period), ``start`` inclusive, ``end`` inclusive (dates)."""

    start: date
    end: date
    label: str
    sources: tuple[str, ...] = ()


def parse_ts(text: str | None) -> datetime | None:
    """ISO date or timestamp string -> naive datetime (``None`` passes through).

    >>> parse_ts("2023-09-12"), parse_ts("2023-09-12T18:00:00")
    (datetime.datetime(2023, 9, 12, 0, 0), datetime.datetime(2023, 9, 12, 18, 0))
    """
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", ""))
    except ValueError:
        return None


def render_timeline(lanes: list[Lane], items: list[Item], t0: datetime, t1: datetime,
                    bands: list[Band] | None = None, svg_id: str = "timeline",
                    width_px: float = 960.0, caption: str = "") -> str:
    """An ``<svg>`` timeline from ``t0`` to ``t1``; items outside the range are clipped."""
    bands = bands or []
    left, right, top = 150.0, 16.0, 34.0 + 12.0 * max(len(bands) - 1, 0)
    lane_h = 40.0
    h = top + lane_h * max(len(lanes), 1) + 30.0
    span_s = max((t1 - t0).total_seconds(), 1.0)
    plot_w = width_px - left - right

    def x(t: datetime) -> float:
        t = min(max(t, t0), t1)
        return left + (t - t0).total_seconds() / span_s * plot_w

    lane_y = {ln.lane_id: top + i * lane_h for i, ln in enumerate(lanes)}
    out = [f'<svg id="{esc(svg_id)}" class="timeline zoomable" viewBox="0 0 {num(width_px)} '
           f'{num(h)}" role="img" aria-label="{esc(caption or "Timeline")}" '
           'xmlns="http://www.w3.org/2000/svg" font-size="11">',
           '<defs><pattern id="hatch-' + esc(svg_id) + '" width="6" height="6" '
           'patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" '
           'height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#d7301f" '
           'stroke-width="3"/></pattern>'
           '<pattern id="unc-' + esc(svg_id) + '" width="5" height="5" '
           'patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="5" '
           'height="5" fill="#d6e6f2"/><line x1="0" y1="0" x2="0" y2="5" stroke="#4f8fbf" '
           'stroke-width="1.5"/></pattern>'
           '<marker id="arr-' + esc(svg_id) + '" viewBox="0 0 10 10" refX="9" refY="5" '
           'markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" '
           'orient="auto-start-reverse">'
           '<path d="M0,0L10,5L0,10Z" fill="context-stroke"/></marker></defs>',
           '<g class="viewport">']
    # lanes
    for i, ln in enumerate(lanes):
        y = lane_y[ln.lane_id]
        fill = "#f7f7f7" if i % 2 == 0 else "#ffffff"
        out.append(f'<rect x="0" y="{num(y)}" width="{num(width_px)}" height="{num(lane_h)}" '
                   f'fill="{fill}"/>')
        out.append(f'<text class="lane-label" x="8" y="{num(y + lane_h / 2 + 4)}" font-size="12" '
                   f'font-weight="600" fill="#222"><title>{esc(ln.note or ln.label)}</title>'
                   f'{esc(ln.label)}</text>')
    # claim bands
    label_ends: list[float] = []  # per label row, where the last label ends
    for b in bands:
        bx0 = x(datetime.combine(b.start, datetime.min.time()))
        bx1 = x(datetime.combine(b.end, datetime.min.time()) + timedelta(days=1))
        tw = 6.2 * len(b.label)
        row = next((i for i, e in enumerate(label_ends) if bx0 > e + 6), len(label_ends))
        if row == len(label_ends):
            label_ends.append(0.0)
        label_ends[row] = bx0 + 3 + tw
        band = (f'<rect class="band" x="{num(bx0)}" y="{num(top - 4)}" width="{num(bx1 - bx0)}" '
                f'height="{num(lane_h * len(lanes) + 8)}" fill="#fee391" opacity="0.45"/>'
                f'<line x1="{num(bx0)}" y1="{num(top - 8 - 12 * row)}" x2="{num(bx0)}" '
                f'y2="{num(top - 4)}" stroke="#c9a227" stroke-width="0.8"/>'
                f'<text x="{num(bx0 + 3)}" y="{num(top - 8 - 12 * row)}" font-size="11" '
                f'fill="#7a5a00">{esc(b.label)}</text>')
        out.append(linked(band, list(b.sources), f"Claim period: {b.label}"))
    # axis: month boundaries, and week ticks when the range is short
    days = (t1 - t0).days
    m = datetime(t0.year, t0.month, 1)
    bottom = top + lane_h * len(lanes)
    while m <= t1:
        if m >= t0:
            xm = x(m)
            out.append(f'<line x1="{num(xm)}" y1="{num(top - 2)}" x2="{num(xm)}" '
                       f'y2="{num(bottom)}" stroke="#bbb" stroke-width="0.8"/>')
            lab = f"{MONTHS[m.month - 1]} {m.year}" if (m.month == 1 or m == datetime(
                t0.year, t0.month, 1) or days < 400) else MONTHS[m.month - 1]
            out.append(f'<text x="{num(xm + 3)}" y="{num(bottom + 14)}" fill="#444">{lab}</text>')
        m = datetime(m.year + (m.month == 12), m.month % 12 + 1, 1)
    if days <= 70:
        d = datetime(t0.year, t0.month, t0.day)
        while d <= t1:
            if d.weekday() == 0 and d.day not in (1,):
                xd = x(d)
                out.append(f'<line x1="{num(xd)}" y1="{num(bottom)}" x2="{num(xd)}" '
                           f'y2="{num(bottom + 4)}" stroke="#888"/><text x="{num(xd)}" '
                           f'y="{num(bottom + 26)}" fill="#777" font-size="10" '
                           f'text-anchor="middle">{d.day}</text>')
            d += timedelta(days=1)
    # items
    hatch, unc, arr = f"url(#hatch-{svg_id})", f"url(#unc-{svg_id})", f"url(#arr-{svg_id})"
    label_end: dict[str, float] = {}  # per lane: where the last call label ends
    for it in sorted(items, key=lambda i: (i.start, i.kind)):
        if it.lane_id not in lane_y:
            continue
        end = it.end or it.start
        if end < t0 or it.start > t1:
            continue
        y = lane_y[it.lane_id]
        if it.kind == "shipment":
            color = TIER_COLOR.get(it.tier, "#555")
            yy = y + lane_h - 9
            parts = []
            for rng in (it.depart, it.arrive):
                if rng:
                    parts.append(f'<line x1="{num(x(rng[0]))}" y1="{num(yy)}" '
                                 f'x2="{num(x(rng[1]))}" y2="{num(yy)}" stroke="{color}" '
                                 'stroke-width="1" opacity="0.6"/>')
            dash = ' stroke-dasharray="4 3"' if it.tier == "possible" else ""
            parts.append(f'<line class="shipment tier-{esc(it.tier)}" x1="{num(x(it.start))}" '
                         f'y1="{num(yy)}" x2="{num(max(x(end), x(it.start) + 4))}" y2="{num(yy)}"'
                         f' stroke="{color}" stroke-width="3"{dash} marker-end="{arr}"/>')
            out.append(linked("".join(parts), list(it.sources), it.title))
        elif it.kind in ("call", "gap"):
            x0, x1 = x(it.start), x(end)
            wpx = max(x1 - x0, 3.0)
            if it.kind == "gap":
                fill, yy, hh, cls = hatch, y + 6, 8.0, "gap"
            else:
                fill = unc if it.uncertain else "#4f8fbf"
                yy, hh, cls = y + 14, 12.0, "call"
            shape = (f'<rect class="{cls}" x="{num(x0)}" y="{num(yy)}" width="{num(wpx)}" '
                     f'height="{num(hh)}" fill="{fill}" stroke="#2b5d80" stroke-width="0.5"/>')
            tw = 5.6 * len(it.label)
            if (it.label and it.kind == "call"
                    and x0 + wpx / 2 - tw / 2 > label_end.get(it.lane_id, -1e9) + 3):
                label_end[it.lane_id] = x0 + wpx / 2 + tw / 2
                shape += (f'<text x="{num(x0 + wpx / 2)}" y="{num(yy - 2)}" font-size="10" '
                          f'text-anchor="middle" fill="#333">{esc(it.label)}</text>')
            out.append(linked(shape, list(it.sources), it.title))
        else:  # point
            px, py = x(it.start), y + 20
            shape = (f'<rect class="point" x="{num(px - 4)}" y="{num(py - 4)}" width="8" '
                     f'height="8" fill="#8c510a" transform="rotate(45 {num(px)} {num(py)})"/>')
            if it.label:
                shape += (f'<text x="{num(px + 7)}" y="{num(py + 4)}" font-size="10" '
                          f'fill="#5a3606">{esc(it.label)}</text>')
            out.append(linked(shape, list(it.sources), it.title))
    out.append("</g></svg>")
    return "".join(out)
