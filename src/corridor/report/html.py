"""The evidence report: one self-contained HTML file rendered from a reconstruction.

:func:`render_html` takes a reconstruction (the ``corridor.reconstruction/1`` JSON of
``docs/reconstruction.md``, or an object with the same fields) and returns a complete HTML
document: route map with close-ups, timelines, shipments, claims against evidence, rail
counts, vessels, context and the numbered sources. Every figure and row links to its sources
(``#src-S6``). Nothing is fetched when the file is opened: CSS and the few lines of pan/zoom
script are inline, the basemap is inline SVG, fonts are the system's.

The HTML comes from Jinja2 templates in ``report/templates/`` with autoescaping on, so any
value from a case, a report text or an AIS name is escaped unless it is explicitly
:class:`~markupsafe.Markup` (the SVG figures, which escape through
:func:`corridor.report.svg.esc`, and :class:`~corridor.report.text.Prose`). A user restyles
the report by editing ``report.css`` or overriding a block of ``report.html.j2``.

Simulated data (positions with ``source='simulated'`` and what was detected from them) is
drawn only in its own "Simulated scenario" section, never mixed with the case evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from corridor import __version__
from corridor.report.charts import RailBar, render_rail_chart
from corridor.report.imagery import ImageView, render_image_svg
from corridor.report.map import MapLeg, MapMarker, MapNode, MapTrack, render_case_maps
from corridor.report.text import (
    Prose,
    at,
    bounds,
    clip,
    fmt_date,
    fmt_day,
    fmt_num,
    fmt_range,
    leg_end,
    markdown_inline,
    mid,
    parse_ts,
    quoted,
    short_name,
    strip_markdown,
)
from corridor.report.timeline import Band, Item, Lane, render_timeline

#: claim periods longer than this are not shaded on the timeline (they would cover it all)
MAX_BAND_DAYS = 120
VERDICT_CLASS = {"consistent": "ok", "evidence exceeds": "warn", "evidence falls short": "short",
                 "untestable": "na"}
MARK_TITLES = {"C": "stated by the cited source", "I": "inference or arithmetic, no source states it",
               "U": "unverified / weak source", "⚠": "sources conflict"}
#: how many simulated events and shipments the section lists (the counts cover all of them)
SIM_EVENT_ROWS = 12

__all__ = ["Provenance", "Simulated", "fmt_day", "fmt_range", "fmt_num", "headline_claims",
           "map_inputs", "ordered_claims", "render_html", "timeline_inputs", "claim_groups"]


@dataclass(frozen=True)
class Provenance:
    """What the footer says about where the report comes from (never a local path).

    ``generated_at`` is UTC ISO text or empty (then the footer omits it, as the tests'
    byte-identical renders do); ``store_fingerprint`` is the store's content hash
    (:func:`corridor.report.build.store_fingerprint`).
    """

    version: str = __version__
    generated_at: str = ""
    store_fingerprint: str = ""


@dataclass
class Simulated:
    """What the report shows in its "Simulated scenario" section (all fictitious vessels)."""

    tracks: list[MapTrack] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    recon: Any = None
    note: str = ""
    positions: int = 0
    vessels: int = 0
    scores: list[dict] = field(default_factory=list)


# ----------------------------------------------------------------------------- claims
def _period_days(c: Any) -> float:
    per = at(c, "period", {})
    a, b = parse_ts(at(per, "start")), parse_ts(at(per, "end"))
    return (b - a).days if a and b else 1e9


def ordered_claims(recon: Any) -> list[Any]:
    """Claims in reading order: testable before untestable, specific periods before long
    ones, the case's curated claims before those extracted from report text.

    >>> [c["key"] for c in ordered_claims({"claims": [
    ...     {"key": "a", "verdict": "untestable", "period": {}},
    ...     {"key": "b", "verdict": "consistent", "origin": "case",
    ...      "period": {"start": "2023-09-01", "end": "2024-02-01"}},
    ...     {"key": "c", "verdict": "evidence falls short", "origin": "case",
    ...      "period": {"start": "2023-09-07", "end": "2023-10-01"}}]})]
    ['c', 'b', 'a']
    """
    return sorted(at(recon, "claims", []),
                  key=lambda c: (at(c, "verdict", "untestable") == "untestable", _period_days(c),
                                 at(c, "origin") != "case"))


def _claim_signature(c: Any) -> tuple:
    """Two statements of the same figure, unit, qualifier and period are one claim (a
    report quoting the case's source, say), whatever their wording."""
    per = at(c, "period", {})
    if at(c, "quantity") is None or not (at(per, "start") or at(per, "end")):
        return ("sentence", " ".join(str(at(c, "sentence", "")).lower().split()))
    return (at(c, "quantity"), at(c, "unit"), at(c, "qualifier"), at(per, "start"),
            at(per, "end"))


@dataclass
class ClaimGroup:
    """One claim as the report shows it, with every repeat of it (same figure, unit,
    qualifier and period) folded in: their attributions and the union of their places."""

    claim: Any
    repeats: list[Any]
    place_ids: list[str]

    @property
    def members(self) -> list[Any]:
        return [self.claim, *self.repeats]


def claim_groups(recon: Any) -> list[ClaimGroup]:
    """Claims in reading order, each repeated claim once (see :class:`ClaimGroup`).

    >>> gs = claim_groups({"claims": [
    ...     {"key": "a", "quantity": 5, "unit": "ships", "verdict": "consistent",
    ...      "period": {"start": "2023-09-01", "end": "2023-10-01"}, "arithmetic": "x",
    ...      "places": ["p"]},
    ...     {"key": "b", "quantity": 5, "unit": "ships", "verdict": "consistent",
    ...      "period": {"start": "2023-09-01", "end": "2023-10-01"}, "arithmetic": "y",
    ...      "places": ["q", "p"]}]})
    >>> len(gs), gs[0].place_ids
    (1, ['p', 'q'])
    """
    groups: dict[tuple, ClaimGroup] = {}
    for c in ordered_claims(recon):
        g = groups.get(_claim_signature(c))
        if g is None:
            groups[_claim_signature(c)] = ClaimGroup(c, [], list(at(c, "places", [])))
        else:
            g.repeats.append(c)
            g.place_ids += [p for p in at(c, "places", []) if p not in g.place_ids]
    return list(groups.values())


def headline_claims(recon: Any, n: int = 3) -> list[Any]:
    """The first ``n`` testable claims, each repeated claim once."""
    out = [g.claim for g in claim_groups(recon) if at(g.claim, "verdict", "untestable")
           != "untestable"]
    return out[:n]


def claim_title(c: Any) -> str:
    """A readable title for a claim (its period's band on the timeline): who says how many.

    >>> claim_title({"attribution": "White House NSC (Kirby)", "quantity": 1000,
    ...              "unit": "containers", "qualifier": "more_than"})
    'White House NSC (Kirby): more than 1,000 containers'
    """
    who = at(c, "attribution", "claim")
    q = at(c, "quantity")
    if q is None:
        return f"{who}: {clip(str(at(c, 'sentence', '')), 50)}"
    qual = {"more_than": "more than ", "at_least": "at least ", "about": "about ",
            "at_most": "at most ", "up_to": "up to "}.get(at(c, "qualifier", ""), "")
    return f"{who}: {qual}{fmt_num(q)} {at(c, 'unit', '')}".strip()


# ----------------------------------------------------------------------------- figures
def _places(recon: Any) -> dict[str, Any]:
    return {at(n, "place_id"): n for n in at(recon, "nodes", [])}


def map_inputs(recon: Any, prose: Prose | None = None
               ) -> tuple[list[MapNode], list[MapLeg], list[MapMarker]]:
    """Nodes, legs and markers (calls, rail counts) for the route map."""
    plain = prose.plain if prose else (lambda t: strip_markdown(t))
    places = _places(recon)
    nodes = [MapNode(at(n, "place_id"), at(n, "name", at(n, "place_id")), float(at(n, "lon")),
                     float(at(n, "lat")), at(n, "precision", "unknown"), at(n, "role", ""),
                     plain(at(n, "precision_note", "")), tuple(at(n, "sources", ())),
                     at(n, "country", ""))
             for n in places.values() if at(n, "lat") is not None and at(n, "lon") is not None]
    legs = []
    for leg in at(recon, "legs", []):
        d = at(leg, "duration_hours", {})
        span = ""
        if at(d, "min") is not None and at(d, "max") is not None:
            span = f"; plausible duration {fmt_num(at(d, 'min'))}–{fmt_num(at(d, 'max'))} h"
        a, b = (places.get(leg_end(leg, k)) for k in ("from", "to"))
        names = f"{short_name(at(a, 'name', '?'))} → {short_name(at(b, 'name', '?'))}"
        legs.append(MapLeg(leg_end(leg, "from"), leg_end(leg, "to"), at(leg, "mode", "sea"),
                           f"{at(leg, 'mode', '')} leg {names}{span}",
                           tuple(at(leg, "sources", ()))))
    vessels = {at(v, "vessel_id"): at(v, "name", at(v, "vessel_id")) for v in at(recon, "vessels", [])}
    markers = []
    for c in at(recon, "calls", []):
        p = places.get(at(c, "place_id", ""))
        if p is None or at(p, "lat") is None:
            continue
        who = vessels.get(at(c, "vessel_id", ""), at(c, "vessel_name", at(c, "subject", "observation")))
        act = ", ".join(at(c, "activity", []))
        label = (f"{who} at {short_name(at(p, 'name', ''))}: {fmt_range(at(c, 'time'))}"
                 + (f" ({act})" if act else "") + " "
                 + "".join(f"[{t}]" for t in at(c, "sources", [])))
        markers.append(MapMarker(float(at(p, "lon")), float(at(p, "lat")), label, "sighting",
                                 tuple(at(c, "sources", ()))))
    for s in at(at(recon, "rail", {}), "surges", []):
        p = places.get(at(s, "place_id", ""))
        if p is None or at(p, "lat") is None:
            continue
        markers.append(MapMarker(float(at(p, "lon")), float(at(p, "lat")),
                                 f"Rail surge at {short_name(at(p, 'name', ''))}, "
                                 f"{fmt_date(at(s, 'obs_date'))}: {plain(at(s, 'arithmetic', ''))}",
                                 "rail", tuple(at(s, "sources", ()))))
    return nodes, legs, markers


def timeline_inputs(recon: Any, gaps: list[dict] | None = None, prose: Prose | None = None
                    ) -> tuple[list[Lane], list[Item], list[Band]]:
    """Lanes (one per vessel, unidentified ships, cargo, rail), items and claim bands."""
    plain = prose.plain if prose else (lambda t: strip_markdown(t))
    places = _places(recon)

    def pname(pid: str | None) -> str:
        return short_name(at(places.get(pid or ""), "name", pid or "?"))

    lanes = [Lane(at(v, "vessel_id"), at(v, "name", at(v, "vessel_id")),
                  f"{at(v, 'name')}: IMO {at(v, 'imo', '—')} ({at(v, 'imo_status', 'no IMO')})")
             for v in at(recon, "vessels", [])]
    known = {ln.lane_id for ln in lanes}
    lanes += [Lane("_ship", "Unidentified ship", "vessels seen but not identified"),
              Lane("_cargo", "Cargo at piers", "containers seen on piers or ships"),
              Lane("_rail", "Rail", "trains, railcars and rail legs")]
    items: list[Item] = []

    def lane_for(vessel_id: str | None, subject: str | None, mode: str | None = None) -> str:
        if vessel_id in known:
            return str(vessel_id)
        if mode == "rail" or subject in ("train", "railcars"):
            return "_rail"
        if subject == "containers":
            return "_cargo"
        return "_ship"

    for c in at(recon, "calls", []):
        b = bounds(at(c, "time"))
        if b is None:
            continue
        act = ", ".join(at(c, "activity", []))
        title = (f"{pname(at(c, 'place_id'))}: {fmt_range(at(c, 'time'))}; "
                 f"{at(c, 'subject', '')} {act}".strip() + " "
                 + "".join(f"[{t}]" for t in at(c, "sources", [])))
        items.append(Item(lane_for(at(c, "vessel_id"), at(c, "subject")), "call", b[0], b[1],
                          pname(at(c, "place_id")), title, tuple(at(c, "sources", ())),
                          uncertain=bool(at(at(c, "time"), "uncertain", False))))
    for s in at(recon, "shipments", []):
        d, a = bounds(at(s, "depart")), bounds(at(s, "arrive"))
        if d is None or a is None:
            continue
        cargo = at(s, "cargo", {})
        cargo_txt = (f"; cargo {fmt_num(at(cargo, 'low'))}–{fmt_num(at(cargo, 'high'))} "
                     f"{at(cargo, 'unit', '')}" if at(cargo, "low") is not None else "")
        title = (f"{at(s, 'tier', '').upper()} {at(s, 'mode')} shipment "
                 f"{at(s, 'vessel_name', at(s, 'vessel_id', 'unidentified'))}: "
                 f"{pname(at(s, 'from_place_id'))} → {pname(at(s, 'to_place_id'))}, departed "
                 f"{fmt_range(at(s, 'depart'))}, arrived {fmt_range(at(s, 'arrive'))}{cargo_txt}. "
                 f"{plain(at(s, 'tier_reason', ''))} "
                 + "".join(f"[{t}]" for t in at(s, "sources", [])))
        items.append(Item(lane_for(at(s, "vessel_id"), None, at(s, "mode")), "shipment",
                          mid(at(s, "depart")) or d[0], mid(at(s, "arrive")) or a[1], "",
                          title, tuple(at(s, "sources", ())), tier=at(s, "tier", ""),
                          depart=d, arrive=a))
    for o in at(at(recon, "rail", {}), "observations", []):
        t = parse_ts(at(o, "obs_date"))
        if at(o, "kind") != "count" or t is None:
            continue
        title = (f"{fmt_num(at(o, 'railcars'))} {at(o, 'car_type', '')} railcars at "
                 f"{pname(at(o, 'place_id'))}, {fmt_date(at(o, 'obs_date'))}. "
                 f"{plain(at(o, 'description', ''))} "
                 + "".join(f"[{x}]" for x in at(o, "sources", [])))
        items.append(Item("_rail", "point", t, None, f"{fmt_num(at(o, 'railcars'))} cars",
                          title, tuple(at(o, "sources", ()))))
    for g in gaps or []:
        items.append(Item(g["lane_id"], "gap", g["start"], g["end"], "", g["title"], ()))
    bands: list[Band] = []
    for c in headline_claims(recon, n=6):
        per = at(c, "period", {})
        s0, s1 = parse_ts(at(per, "start")), parse_ts(at(per, "end"))
        if not (s0 and s1) or (s1 - s0).days > MAX_BAND_DAYS:
            continue
        if not any(b.start == s0.date() and b.end == s1.date() for b in bands):
            bands.append(Band(s0.date(), s1.date(), claim_title(c), tuple(at(c, "sources", ())),
                              f"claim-{at(c, 'claim_id', '')}"))
        if len(bands) == 3:
            break
    used = {it.lane_id for it in items}
    lanes = [ln for ln in lanes if ln.lane_id in used or ln.lane_id in known]
    return lanes, items, bands


def rail_charts(recon: Any, prose: Prose) -> list[Markup]:
    """One bar chart per place with railcar counts (places with a surge first)."""
    rail = at(recon, "rail", {})
    places = _places(recon)
    surges = {(at(s, "place_id"), at(s, "obs_date")): s for s in at(rail, "surges", [])}
    by_place: dict[str, list[Any]] = {}
    baselines: dict[str, Any] = {}
    for o in at(rail, "observations", []):
        if at(o, "railcars") is None:
            continue
        if at(o, "kind") == "count":
            by_place.setdefault(at(o, "place_id", "?"), []).append(o)
        elif at(o, "kind") == "baseline":
            baselines[at(o, "place_id", "?")] = o
    charts: list[tuple[bool, str, str]] = []
    for pid, obs in sorted(by_place.items()):
        bars = []
        base_val, base_title, base_src = None, "", ()
        for o in sorted(obs, key=lambda o: at(o, "obs_date", "")):
            s = surges.get((pid, at(o, "obs_date")))
            title = (f"{fmt_num(at(o, 'railcars'))} {at(o, 'car_type', '')} railcars on "
                     f"{at(o, 'date_text', at(o, 'obs_date'))}. "
                     f"{prose.plain(at(o, 'description', ''))}")
            if s is not None:
                title += f" Surge: {prose.plain(at(s, 'arithmetic', ''))}"
                base_val = at(s, "baseline_railcars", base_val)
                base_title = prose.plain(at(s, "arithmetic", ""))
            title += " " + "".join(f"[{t}]" for t in at(o, "sources", []))
            bars.append(RailBar(fmt_date(at(o, "obs_date")), float(at(o, "railcars")),
                                fmt_num(at(o, "railcars")), title, tuple(at(o, "sources", ())),
                                bool(s is not None and at(s, "surge", False))))
        if pid in baselines:
            b = baselines[pid]
            base_val = base_val if base_val is not None else at(b, "railcars")
            base_title = base_title or (f"Baseline: {prose.plain(at(b, 'description', ''))} "
                                        + "".join(f"[{t}]" for t in at(b, "sources", [])))
            base_src = tuple(at(b, "sources", ()))
        name = short_name(at(places.get(pid), "name", pid))
        charts.append((not any(b.surge for b in bars), name, render_rail_chart(
            name, bars, base_val, base_title, base_src, svg_id=f"rail-{pid}")))
    return [Markup(c) for *_, c in sorted(charts)]


# ----------------------------------------------------------------------------- view model
def _object_links(recon: Any) -> dict[str, tuple[str, str]]:
    """Internal id -> (anchor, words) for every object the report shows in its own row."""
    places = _places(recon)

    def pname(pid: Any) -> str:
        return short_name(at(places.get(pid), "name", pid or "?"))

    links: dict[str, tuple[str, str]] = {}
    for s in at(recon, "shipments", []):
        who = at(s, "vessel_name", at(s, "vessel_id", "unidentified"))
        links[at(s, "shipment_id")] = (
            f"shp-{at(s, 'shipment_id')}",
            f"{who}, {pname(at(s, 'from_place_id'))} → {pname(at(s, 'to_place_id'))}, "
            f"departed {fmt_range(at(s, 'depart'))}")
    for c in at(recon, "claims", []):
        links[at(c, "claim_id")] = (f"claim-{at(c, 'claim_id')}", claim_title(c))
        if at(c, "estimate_id") and at(c, "estimate_id") not in links:
            links[at(c, "estimate_id")] = (f"claim-{at(c, 'claim_id')}",
                                          f"the estimate held against {claim_title(c)}")
    return links


#: a URL in a citation (trailing punctuation is not part of it)
URL_IN_TEXT = re.compile(r"https?://[^\s<>\"]+[^\s<>\"().,;:!?\]]")


def _link_urls(text: str, prose: Prose) -> Markup:
    """Citation text with each URL as a link (the rest escaped, inline Markdown rendered)."""
    out, pos = Markup(""), 0
    for m in URL_IN_TEXT.finditer(text):
        out += prose(text[pos:m.start()]) + Markup(
            '<a class="url" href="{0}" rel="noreferrer noopener">{0}</a>').format(m.group(0))
        pos = m.end()
    return out + prose(text[pos:])


def _sources(recon: Any, prose: Prose) -> list[dict]:
    """Sources in tag order, each URL printed once: as a link where the citation names it,
    appended after the citation where it does not."""
    def key(s: Any) -> tuple[int, str]:
        tag = at(s, "tag", "")
        digits = "".join(ch for ch in tag[1:] if ch.isdigit())
        return (int(digits) if digits else 10**6, tag)

    rows = []
    for s in sorted(at(recon, "sources", []), key=key):
        text = at(s, "citation", "") or " ".join(
            str(x) for x in (at(s, "publisher"), at(s, "title"), at(s, "date")) if x)
        named = set(URL_IN_TEXT.findall(text))
        urls = [u for u in dict.fromkeys([at(s, "url", ""), *at(s, "other_urls", [])])
                if u and u not in named]
        rows.append({"tag": at(s, "tag", "?"), "text": _link_urls(text, prose),
                     "marks": at(s, "marks", []), "urls": urls})
    return rows


def _timeline_window(recon: Any, items: list[Item]) -> tuple[datetime, datetime]:
    window = at(recon, "window", {})
    w0, w1 = parse_ts(at(window, "start")), parse_ts(at(window, "end"))
    times = [t for it in items for t in (it.start, it.end) if t is not None]
    t0 = w0 or (min(times) if times else datetime(2000, 1, 1))
    t1 = (w1 + timedelta(days=1)) if w1 else (max(times) if times else t0 + timedelta(days=30))
    pad = max((t1 - t0) / 60, timedelta(hours=6))
    return t0 - pad, t1 + pad


def _sim_view(sim: Simulated | None, prose: Prose, places: dict[str, Any]) -> dict | None:
    if sim is None or (not sim.tracks and not sim.events and not sim.recon):
        return None
    view: dict[str, Any] = {"sim": sim, "map": None, "counts": {}, "ships": [], "tiers": {},
                            "sim_places": dict(places)}
    if sim.tracks:
        nodes, legs = [], []
        if sim.recon:
            nodes, legs, _ = map_inputs(sim.recon, prose)
        maps = render_case_maps(nodes, legs, sim.tracks, [], id_prefix="sim-map",
                                overview_caption="Simulated tracks and the dark gaps detected "
                                "in them", closeups=False)
        view["map"] = maps[0]
    for e in sim.events:
        view["counts"][at(e, "type", "?")] = view["counts"].get(at(e, "type", "?"), 0) + 1
    if sim.recon:
        ships = list(at(sim.recon, "shipments", []))
        for x in ships:
            view["tiers"][at(x, "tier", "?")] = view["tiers"].get(at(x, "tier", "?"), 0) + 1
        view["ships"] = ships
        view["sim_places"].update(_places(sim.recon))
    return view


#: a directory whose templates replace the bundled ones of the same name (restyling)
TEMPLATES_ENV = "CORRIDOR_REPORT_TEMPLATES"


def environment(user_dir: str | None = None) -> Environment:
    """The Jinja2 environment of the report templates (autoescaping on for every file).

    Templates in ``user_dir`` (default ``$CORRIDOR_REPORT_TEMPLATES``) take precedence over
    the bundled ones of the same name, so a user restyles the report by copying
    ``report.css`` there, or extends ``report.html.j2`` and overrides one of its blocks.
    """
    import os

    return _environment(user_dir if user_dir is not None else os.environ.get(TEMPLATES_ENV, ""))


@lru_cache(maxsize=4)
def _environment(user_dir: str) -> Environment:
    from jinja2 import ChoiceLoader, FileSystemLoader

    loaders = [FileSystemLoader(user_dir)] if user_dir else []
    env = Environment(loader=ChoiceLoader([*loaders, PackageLoader("corridor.report", "templates")]),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(fmt_range=fmt_range, fmt_num=fmt_num, fmt_date=fmt_date,
                       fmt_day=fmt_day, quoted=quoted, clip=clip, short=short_name,
                       md=markdown_inline, parse_ts=parse_ts)
    env.globals.update(VERDICT_CLASS=VERDICT_CLASS, MARK_TITLES=MARK_TITLES,
                       SIM_EVENT_ROWS=SIM_EVENT_ROWS)
    return env


def _image_links(imagery: list[ImageView]) -> dict[tuple[str, str], list[tuple[str, int, str]]]:
    """(place_id, ISO day) -> [(label, count, anchor of the mark)] of the stored imagery."""
    out: dict[tuple[str, str], list[tuple[str, int, str]]] = {}
    for v in imagery:
        for a, anchor in v.marks:
            if a.place_id and a.date:
                out.setdefault((a.place_id, a.date[:10]), []).append((a.label, a.count, anchor))
    return out


def render_html(recon: Any, tracks: list[MapTrack] | None = None,
                gaps: list[dict] | None = None, simulated: Simulated | None = None,
                ais_note: str = "", provenance: Provenance | None = None,
                imagery: list[ImageView] | None = None,
                files: list[dict] | None = None, template: str = "report.html.j2") -> str:
    """The complete HTML report for one reconstruction (``corridor.reconstruction/1``).

    ``tracks``/``gaps`` are real AIS tracks and dark gaps of the corridor's vessels (from the
    store), ``simulated`` the content of the separate simulated section, ``ais_note`` a
    sentence on what AIS the store holds, ``provenance`` what the footer states,
    ``imagery`` the annotated images behind counts (:func:`corridor.report.imagery.imagery_views`)
    and ``files`` the source files the store was loaded from (name, size, SHA-256, time).
    ``template`` names the document template (a user's may extend ``report.html.j2``).
    """
    imagery = imagery or []
    places = _places(recon)
    names = {at(v, "vessel_id"): at(v, "name", at(v, "vessel_id"))
             for v in at(recon, "vessels", [])}
    names.update({pid: short_name(at(n, "name", pid)) for pid, n in places.items()})
    prose = Prose(names, _object_links(recon))
    nodes, legs, markers = map_inputs(recon, prose)
    maps = render_case_maps(nodes, legs, tracks or [], markers, id_prefix="map")
    lanes, items, bands = timeline_inputs(recon, gaps, prose)
    t0, t1 = _timeline_window(recon, items)
    outside = sum(1 for it in items if (it.end or it.start) < t0 or it.start > t1)
    timeline = Markup(render_timeline(lanes, items, t0, t1, bands, svg_id="timeline-window",
                                      caption="Timeline over the corridor window"))
    focus = None
    close = [b for b in bands if (b.end - b.start).days <= 60]
    if close:
        b = max(close, key=lambda b: (b.end - b.start).days)
        f0 = datetime.combine(b.start, datetime.min.time()) - timedelta(days=8)
        f1 = datetime.combine(b.end, datetime.min.time()) + timedelta(days=9)
        focus = {"band": b, "svg": Markup(render_timeline(
            lanes, items, f0, f1, bands, svg_id="timeline-claim",
            caption=f"Timeline over the period of the claim {b.label}"))}
    sim = _sim_view(simulated, prose, places)
    sim_ids = {at(s, "shipment_id") for s in at(at(simulated, "recon"), "shipments", [])}
    ships = [s for s in at(recon, "shipments", []) if at(s, "shipment_id") not in sim_ids]
    vessels = {at(v, "vessel_id"): v for v in at(recon, "vessels", [])}
    estimates = {at(e, "estimate_id"): e for e in at(recon, "estimates", [])}
    rail = at(recon, "rail", {})
    groups = claim_groups(recon)
    ctx = {
        "r": recon, "corridor": at(recon, "corridor", {}), "window": at(recon, "window", {}),
        "places": places, "vessels": vessels, "estimates": estimates, "prose": prose,
        "maps": maps, "nodes": nodes, "timeline": timeline, "focus": focus,
        "outside": outside, "ships": ships, "ais_note": ais_note,
        "claims": [g for g in groups if at(g.claim, "verdict", "untestable") != "untestable"],
        "untestable": [g for g in groups if at(g.claim, "verdict", "untestable") == "untestable"],
        "headline": headline_claims(recon), "rail": rail, "rail_charts": rail_charts(recon, prose),
        "rail_obs": sorted(at(rail, "observations", []), key=lambda o: at(o, "obs_date", "")),
        "sources": _sources(recon, prose), "sim": sim,
        "provenance": provenance or Provenance(),
        "glance": _glance(recon, ships, vessels, places),
        "n_claim_repeats": sum(len(g.repeats) for g in groups),
        "common_basis": _common_basis(ships),
        "params_json": _params_json(at(recon, "params", {})),
        "imagery": [{"view": v, "svg": Markup(render_image_svg(v))} for v in imagery],
        "image_links": _image_links(imagery), "files": files or [],
        "imaged_counts": [o for o in at(rail, "observations", []) if at(o, "kind") == "count"],
    }
    return environment().get_template(template).render(ctx)


def _params_json(params: Any) -> str:
    """The reconstruction parameters as indented JSON (a dict, a dataclass or an object)."""
    import dataclasses
    import json

    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        params = dataclasses.asdict(params)
    elif not isinstance(params, dict):
        params = dict(vars(params))
    return json.dumps(params, indent=1, sort_keys=True, default=str, ensure_ascii=False)


def _common_basis(ships: list[Any]) -> str | None:
    """The cargo basis most shipments share (stated once above the table), if any."""
    counts: dict[str, int] = {}
    for s in ships:
        b = at(at(s, "cargo"), "basis")
        if b:
            counts[b] = counts.get(b, 0) + 1
    best = max(counts.items(), key=lambda kv: (kv[1], kv[0]), default=(None, 0))
    return best[0] if best[1] >= 2 else None


def _glance(recon: Any, ships: list[Any], vessels: dict, places: dict) -> dict:
    """The facts of the "At a glance" table."""
    named = sorted({at(vessels[at(s, "vessel_id")], "name") for s in ships
                    if at(s, "vessel_id") in vessels})
    tiers: dict[str, int] = {}
    for s in ships:
        tiers[at(s, "tier", "?")] = tiers.get(at(s, "tier", "?"), 0) + 1
    times = [t for s in ships for k in ("depart", "arrive") for t in (bounds(at(s, k)) or ())]
    route = [(short_name(at(places.get(leg_end(leg, "from")), "name", leg_end(leg, "from"))),
              short_name(at(places.get(leg_end(leg, "to")), "name", leg_end(leg, "to"))),
              at(leg, "mode"))
             for leg in at(recon, "legs", [])]
    return {"named": named, "unidentified": sum(1 for s in ships if not at(s, "vessel_id")),
            "when": f"{fmt_day(min(times))} – {fmt_day(max(times))}" if times else
            "no dated shipment", "route": route,
            "tiers": [(tiers[t], t) for t in ("confirmed", "probable", "possible") if t in tiers]}
