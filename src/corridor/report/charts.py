"""Rail counts at the border crossing: one bar per dated count, the baseline, surges marked.

Observations are sparse (a count in Nov 2022, one in Oct 2023, one in Jun 2024), so the
bars are placed side by side in date order rather than on a linear time axis; each bar is
labelled with its date. A dashed line shows the place's baseline, and a bar that the
reconstruction flags as a surge is drawn red with its arithmetic in the hover title.
"""

from __future__ import annotations

from dataclasses import dataclass

from corridor.report.svg import esc, linked, num


@dataclass(frozen=True)
class RailBar:
    """One railcar count: ``railcars`` (cars), the observation date as text, its sources."""

    date_text: str
    railcars: float
    label: str
    title: str
    sources: tuple[str, ...] = ()
    surge: bool = False


def render_rail_chart(place_name: str, bars: list[RailBar], baseline_railcars: float | None,
                      baseline_title: str = "", baseline_sources: tuple[str, ...] = (),
                      svg_id: str = "rail-chart", width_px: float = 460.0) -> str:
    """An ``<svg>`` bar chart of railcar counts at one place."""
    h, left, bottom, top = 256.0, 44.0, 48.0, 44.0
    plot_h = h - top - bottom
    vmax = max([b.railcars for b in bars] + [baseline_railcars or 0.0, 1.0]) * 1.15
    n = max(len(bars), 1)
    slot = (width_px - left - 10) / n
    bw = min(slot * 0.6, 56.0)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / vmax)

    out = [f'<svg id="{esc(svg_id)}" class="chart" viewBox="0 0 {num(width_px)} {num(h)}" '
           f'role="img" aria-label="Railcar counts at {esc(place_name)}" '
           'xmlns="http://www.w3.org/2000/svg" font-size="11">',
           f'<text x="{num(left)}" y="16" font-size="13" font-weight="600">Railcars counted at '
           f'{esc(place_name)}</text>']
    # y axis with a few round ticks
    step = next(s for s in (5, 10, 20, 25, 50, 100, 200, 500, 1000) if vmax / s <= 6)
    v = 0.0
    while v <= vmax:
        out.append(f'<line x1="{num(left)}" y1="{num(y(v))}" x2="{num(width_px - 6)}" '
                   f'y2="{num(y(v))}" stroke="#e3e3e3"/><text x="{num(left - 5)}" '
                   f'y="{num(y(v) + 4)}" text-anchor="end" fill="#555">{int(v)}</text>')
        v += step
    for i, b in enumerate(bars):
        cx = left + slot * (i + 0.5)
        fill = "#d7301f" if b.surge else "#8c510a"
        bar = (f'<rect class="rail-bar{" surge" if b.surge else ""}" x="{num(cx - bw / 2)}" '
               f'y="{num(y(b.railcars))}" width="{num(bw)}" '
               f'height="{num(y(0) - y(b.railcars))}" fill="{fill}"/>'
               f'<text x="{num(cx)}" y="{num(y(b.railcars) - 4)}" text-anchor="middle" '
               f'font-weight="600">{esc(b.label)}</text>'
               f'<text x="{num(cx)}" y="{num(y(0) + 14)}" text-anchor="middle" fill="#333">'
               f'{esc(b.date_text)}</text>')
        if b.surge:
            bar += (f'<text x="{num(cx)}" y="{num(y(0) + 28)}" text-anchor="middle" '
                    'fill="#d7301f" font-weight="700">surge</text>')
        out.append(linked(bar, list(b.sources), b.title))
    if baseline_railcars is not None:
        yb = y(baseline_railcars)
        line = (f'<line class="baseline" x1="{num(left)}" y1="{num(yb)}" x2="{num(width_px - 6)}"'
                f' y2="{num(yb)}" stroke="#333" stroke-width="1.5" stroke-dasharray="6 4"/>'
                f'<line x1="{num(left)}" y1="29" x2="{num(left + 24)}" y2="29" '
                'stroke="#333" stroke-width="1.5" stroke-dasharray="6 4"/>'
                f'<text x="{num(left + 30)}" y="33" fill="#333">baseline ≈ '
                f'{num(baseline_railcars, 0)} cars (usual count at this place)</text>')
        out.append(linked(line, list(baseline_sources),
                          baseline_title or f"Baseline: {num(baseline_railcars, 0)} railcars"))
    out.append("</svg>")
    return "".join(out)
