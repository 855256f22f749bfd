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
from corridor.report.text import parse_ts  # noqa: F401 - re-exported for callers

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
    anchor: str = ""


#: axis steps, finest first: (unit, count); a step is used when its labels fit side by side
AXIS_STEPS = (("hour", 1), ("hour", 3), ("hour", 6), ("hour", 12), ("day", 1), ("day", 2),
              ("week", 1), ("week", 2), ("month", 1), ("month", 2), ("month", 3), ("month", 6),
              ("year", 1), ("year", 2), ("year", 5), ("year", 10), ("year", 25))
#: width of one axis character at 11 px (px); generous so labels never touch
AXIS_CHAR_PX = 6.6


def _floor(t: datetime, unit: str, n: int) -> datetime:
    if unit == "hour":
        return t.replace(minute=0, second=0, microsecond=0, hour=t.hour - t.hour % n)
    if unit in ("day", "week"):
        d = t.replace(hour=0, minute=0, second=0, microsecond=0)
        return d - timedelta(days=d.weekday()) if unit == "week" else d
    if unit == "month":
        return datetime(t.year, t.month - (t.month - 1) % n, 1)
    return datetime(t.year - t.year % n, 1, 1)


def _next(t: datetime, unit: str, n: int) -> datetime:
    if unit == "hour":
        return t + timedelta(hours=n)
    if unit == "day":
        return t + timedelta(days=n)
    if unit == "week":
        return t + timedelta(days=7 * n)
    if unit == "month":
        m = t.month - 1 + n
        return datetime(t.year + m // 12, m % 12 + 1, 1)
    return datetime(t.year + n, 1, 1)


def _tick_label(t: datetime, unit: str, first: bool, prev: datetime | None) -> str:
    new_year = prev is None or prev.year != t.year
    if unit == "hour":
        return f"{t.day} {MONTHS[t.month - 1]} {t:%H:%M}" if (first or t.hour == 0) else f"{t:%H:%M}"
    if unit in ("day", "week"):
        s = f"{t.day} {MONTHS[t.month - 1]}"
        return f"{s} {t.year}" if (first or new_year) else s
    if unit == "month":
        return f"{MONTHS[t.month - 1]} {t.year}" if (first or new_year) else MONTHS[t.month - 1]
    return str(t.year)


def axis_ticks(t0: datetime, t1: datetime, plot_w_px: float
               ) -> tuple[str, list[tuple[datetime, str]]]:
    """Tick times and labels for ``t0``–``t1`` drawn ``plot_w_px`` wide, labels never touching.

    Picks the finest step of :data:`AXIS_STEPS` whose widest label fits its spacing.

    >>> unit, ticks = axis_ticks(datetime(2023, 1, 1), datetime(2023, 3, 15), 800)
    >>> unit, [lab for _, lab in ticks][:3]
    ('week', ['2 Jan 2023', '9 Jan', '16 Jan'])
    >>> axis_ticks(datetime(2010, 1, 1), datetime(2024, 1, 1), 800)[0]
    'year'
    """
    span_s = max((t1 - t0).total_seconds(), 1.0)
    for unit, n in AXIS_STEPS:
        ticks: list[tuple[datetime, str]] = []
        t = _floor(t0, unit, n)
        while t < t0:
            t = _next(t, unit, n)
        prev = None
        while t <= t1 and len(ticks) < 400:
            ticks.append((t, _tick_label(t, unit, not ticks, prev)))
            prev = t
            t = _next(t, unit, n)
        if len(ticks) >= 400:
            continue
        widest = max((len(lab) for _, lab in ticks), default=0) * AXIS_CHAR_PX + 10
        step_px = plot_w_px * min(((b[0] - a[0]).total_seconds() for a, b in
                                   zip(ticks, ticks[1:], strict=False)), default=span_s) / span_s
        if step_px >= widest:
            return unit, ticks
    return "year", [(datetime(t0.year, 1, 1), str(t0.year))]


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
        lx = max(min(bx0 + 3, width_px - right - tw), 2.0)  # never clipped at the right edge
        row = next((i for i, e in enumerate(label_ends) if lx > e + 6), len(label_ends))
        if row == len(label_ends):
            label_ends.append(0.0)
        label_ends[row] = lx + tw
        band = (f'<rect class="band" x="{num(bx0)}" y="{num(top - 4)}" width="{num(bx1 - bx0)}" '
                f'height="{num(lane_h * len(lanes) + 8)}" fill="#fee391" opacity="0.45"/>'
                f'<line x1="{num(bx0)}" y1="{num(top - 8 - 12 * row)}" x2="{num(bx0)}" '
                f'y2="{num(top - 4)}" stroke="#c9a227" stroke-width="0.8"/>'
                f'<text class="band-label" x="{num(lx)}" y="{num(top - 8 - 12 * row)}" font-size="11" '
                f'fill="#7a5a00">{esc(b.label)}</text>')
        title = f"Claim period: {b.label}, {b.start:%d %b %Y} – {b.end:%d %b %Y}"
        if b.anchor:
            out.append(f'<a href="#{esc(b.anchor)}"><title>{esc(title)}</title>{band}</a>')
        else:
            out.append(linked(band, list(b.sources), title))
    # axis: a step whose labels fit (see axis_ticks); labels are kept inside the figure
    bottom = top + lane_h * len(lanes)
    unit, ticks = axis_ticks(t0, t1, plot_w)
    last_end = -1e9
    for t, lab in ticks:
        xm = x(t)
        out.append(f'<line x1="{num(xm)}" y1="{num(top - 2)}" x2="{num(xm)}" '
                   f'y2="{num(bottom + 4)}" stroke="#bbb" stroke-width="0.8"/>')
        tw = len(lab) * AXIS_CHAR_PX
        lx = min(max(xm - tw / 2, left), width_px - right - tw)
        if lx < last_end + 6:
            continue
        last_end = lx + tw
        out.append(f'<text class="axis-label" x="{num(lx)}" y="{num(bottom + 17)}" '
                   f'font-size="11" fill="#444">{esc(lab)}</text>')
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
