"""The evidence report: one self-contained HTML file rendered from a reconstruction.

:func:`render_html` takes the reconstruction JSON (``corridor.reconstruction/1``, see
``docs/reconstruction.md``) and returns a complete HTML document: route map with a ports
inset, timelines, shipments, claims against evidence, rail counts, vessels, context and the
numbered sources. Every figure and row links to its sources (``#src-S6``). Nothing is
fetched when the file is opened: CSS and the few lines of pan/zoom script are inline, the
basemap is inline SVG, fonts are the system's.

Simulated data (positions with ``source='simulated'`` and what was detected from them) is
drawn only in its own "Simulated scenario" section, never mixed with the case evidence.

The document is built by string assembly with escaping in one place
(:mod:`corridor.report.svg`) rather than with a template engine: the structure is a fixed
list of sections and this keeps the report free of run-time dependencies.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from corridor.report.basemap import load_basemap
from corridor.report.charts import RailBar, render_rail_chart
from corridor.report.map import MapLeg, MapMarker, MapNode, MapTrack, render_map, short_name
from corridor.report.svg import anchor_id, cite_links, esc, source_tags
from corridor.report.timeline import Band, Item, Lane, parse_ts, render_timeline

#: claim periods longer than this are not shaded on the timeline (they would cover it all)
MAX_BAND_DAYS = 120
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
VERDICT_CLASS = {"consistent": "ok", "evidence exceeds": "warn", "evidence falls short": "short",
                 "untestable": "na"}


# ----------------------------------------------------------------------------- formatting
def fmt_day(t: datetime | None) -> str:
    """``datetime`` -> ``12 Sep 2023`` (with ``HH:MM`` when not midnight).

    >>> fmt_day(datetime(2023, 9, 12)), fmt_day(datetime(2023, 10, 20, 11, 1))
    ('12 Sep 2023', '20 Oct 2023 11:01')
    """
    if t is None:
        return "?"
    s = f"{t.day} {MONTHS[t.month - 1]} {t.year}"
    return s if (t.hour, t.minute) == (0, 0) else f"{s} {t:%H:%M}"


def fmt_range(r: dict | None) -> str:
    """A contract range -> readable text (one day shows as that day).

    >>> fmt_range({"earliest": "2023-09-12T00:00:00", "latest": "2023-09-13T00:00:00"})
    '12 Sep 2023'
    >>> fmt_range({"earliest": "2023-09-07T00:00:00", "latest": "2023-09-12T18:00:00",
    ...            "uncertain": True})
    '7 Sep 2023 – 12 Sep 2023 18:00 (uncertain)'
    >>> fmt_range({"earliest": "2023-08-15T00:00:00", "latest": "2023-08-20T00:00:00",
    ...            "uncertain": True, "text": "mid-Aug 2023"})
    'mid-Aug 2023'
    """
    if not r:
        return "—"
    a, b = parse_ts(r.get("earliest")), parse_ts(r.get("latest"))
    if r.get("text") and r.get("uncertain"):
        return str(r["text"])
    if a and b and b - a == timedelta(days=1) and (a.hour, a.minute) == (0, 0):
        return fmt_day(a)
    if a and b and a == b:
        return fmt_day(a)
    if a is None and b is None:
        return str(r.get("text") or "unknown")
    text = f"{fmt_day(a) if a else 'unknown'} – {fmt_day(b) if b else 'unknown'}"
    return text + (" (uncertain)" if r.get("uncertain") else "")


def _mid(r: dict | None) -> datetime | None:
    a, b = parse_ts((r or {}).get("earliest")), parse_ts((r or {}).get("latest"))
    if a and b:
        return a + (b - a) / 2
    return a or b


def _bounds(r: dict | None) -> tuple[datetime, datetime] | None:
    a, b = parse_ts((r or {}).get("earliest")), parse_ts((r or {}).get("latest"))
    if a is None and b is None:
        return None
    return (a or b, b or a)  # type: ignore[return-value]


def fmt_num(v: float | int | None) -> str:
    """``1000`` -> ``1,000``; ``None`` -> ``—``; keeps one decimal only when needed.

    >>> fmt_num(1000), fmt_num(3.65), fmt_num(None)
    ('1,000', '3.6', '—')
    """
    if v is None:
        return "—"
    f = float(v)
    return f"{f:,.0f}" if f == int(f) else f"{f:,.1f}"


def _marks(marks: list[str] | str | None) -> str:
    if not marks:
        return ""
    ms = [marks] if isinstance(marks, str) else list(marks)
    titles = {"C": "stated by the cited source", "I": "inference or arithmetic, no source states it",
              "U": "unverified / weak source", "⚠": "sources conflict"}
    return "".join(f'<span class="mark mark-{esc(m) if m != "⚠" else "conflict"}" '
                   f'title="{esc(titles.get(m, m))}">{esc(m)}</span>' for m in ms)


def _cite(tags: list[str] | None) -> str:
    return cite_links(source_tags(tags or []))


def _period_days(c: dict) -> float:
    per = c.get("period") or {}
    a, b = parse_ts(per.get("start")), parse_ts(per.get("end"))
    return (b - a).days if a and b else 1e9


def ordered_claims(recon: dict) -> list[dict]:
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
    return sorted(recon.get("claims") or [],
                  key=lambda c: (c.get("verdict") in (None, "untestable"), _period_days(c),
                                 c.get("origin") != "case"))


def headline_claims(recon: dict, n: int = 3) -> list[dict]:
    """The first ``n`` testable claims, skipping extracted repeats of a case claim
    (same quantity, unit and period)."""
    out: list[dict] = []
    seen: set[tuple] = set()
    for c in ordered_claims(recon):
        if c.get("verdict") in (None, "untestable"):
            break
        per = c.get("period") or {}
        sig = (c.get("quantity"), c.get("unit"), per.get("start"), per.get("end"))
        if sig in seen:
            continue
        seen.add(sig)
        out.append(c)
        if len(out) == n:
            break
    return out


def linkify(text: str | None) -> str:
    """Escape ``text`` and turn its ``[S6]`` tags into links to the sources table.

    >>> linkify("seen [S6][S7] <b>")
    'seen <a class="tag" href="#src-S6">[S6]</a><a class="tag" href="#src-S7">[S7]</a> &lt;b&gt;'
    """
    return re.sub(r"\[(S\d+[a-z]?)\]",
                  lambda m: f'<a class="tag" href="#{anchor_id(m.group(1))}">[{m.group(1)}]</a>',
                  esc(text or ""))


# ----------------------------------------------------------------------------- figures
@dataclass
class Simulated:
    """What the report shows in its "Simulated scenario" section (all fictitious vessels)."""

    tracks: list[MapTrack] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    recon: dict | None = None
    note: str = ""
    positions: int = 0
    vessels: int = 0
    scores: list[dict] = field(default_factory=list)


def _place_index(recon: dict) -> dict[str, dict]:
    return {n["place_id"]: n for n in recon.get("nodes", [])}


def _short(name: str) -> str:
    """Short place label for the timeline: 'Rajin (Najin) port' -> 'Rajin'."""
    return name.split(" (")[0].split(" / ")[0].replace(" port", "").replace(" ammunition", "")


def map_inputs(recon: dict) -> tuple[list[MapNode], list[MapLeg], list[MapMarker]]:
    """Nodes, legs and markers (calls, rail counts) for the route map."""
    nodes = [MapNode(n["place_id"], n.get("name") or n["place_id"], float(n["lon"]),
                     float(n["lat"]), n.get("precision") or "unknown", n.get("role") or "",
                     n.get("precision_note") or "", tuple(n.get("sources") or ()))
             for n in recon.get("nodes", []) if n.get("lat") is not None and n.get("lon") is not None]
    legs = []
    for leg in recon.get("legs", []):
        d = leg.get("duration_hours") or {}
        span = ""
        if d.get("min") is not None and d.get("max") is not None:
            span = f"; plausible duration {fmt_num(d['min'])}–{fmt_num(d['max'])} h"
        geom = "schematic straight line, not the rail track" if leg.get("mode") == "rail" else \
            "schematic line, not a track"
        legs.append(MapLeg(leg["from"], leg["to"], leg.get("mode") or "sea",
                           f"{leg.get('mode', '')} leg {leg.get('leg_id', '')} ({geom}){span}",
                           tuple(leg.get("sources") or ())))
    places = _place_index(recon)
    vessels = {v["vessel_id"]: v.get("name") or v["vessel_id"] for v in recon.get("vessels", [])}
    markers = []
    for c in recon.get("calls", []):
        p = places.get(c.get("place_id") or "")
        if not p or p.get("lat") is None:
            continue
        who = vessels.get(c.get("vessel_id") or "", c.get("subject") or "observation")
        act = ", ".join(c.get("activity") or [])
        label = f"{who} at {p.get('name')}: {fmt_range(c.get('time'))}" + (f" ({act})" if act else "")
        label += " " + "".join(f"[{t}]" for t in c.get("sources") or [])
        markers.append(MapMarker(float(p["lon"]), float(p["lat"]), label, "sighting",
                                 tuple(c.get("sources") or ())))
    for s in (recon.get("rail") or {}).get("surges", []):
        p = places.get(s.get("place_id") or "")
        if not p or p.get("lat") is None:
            continue
        markers.append(MapMarker(float(p["lon"]), float(p["lat"]),
                                 f"Rail surge at {p.get('name')}, {s.get('obs_date')}: "
                                 f"{s.get('arithmetic', '')}", "rail", tuple(s.get("sources") or ())))
    return nodes, legs, markers


def timeline_inputs(recon: dict, gaps: list[dict] | None = None
                    ) -> tuple[list[Lane], list[Item], list[Band]]:
    """Lanes (one per vessel, unidentified ships, cargo, rail), items and claim bands."""
    places = _place_index(recon)

    def pname(pid: str | None) -> str:
        return _short(places.get(pid or "", {}).get("name") or (pid or "?"))

    lanes = [Lane(v["vessel_id"], v.get("name") or v["vessel_id"],
                  f"{v.get('name')}: IMO {v.get('imo') or '—'} ({v.get('imo_status') or 'no IMO'})")
             for v in recon.get("vessels", [])]
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

    for c in recon.get("calls", []):
        b = _bounds(c.get("time"))
        if b is None:
            continue
        act = ", ".join(c.get("activity") or [])
        title = (f"{pname(c.get('place_id'))}: {fmt_range(c.get('time'))}; "
                 f"{c.get('subject') or ''} {act}".strip()
                 + " " + "".join(f"[{t}]" for t in c.get("sources") or []))
        items.append(Item(lane_for(c.get("vessel_id"), c.get("subject")), "call", b[0], b[1],
                          pname(c.get("place_id")), title, tuple(c.get("sources") or ()),
                          uncertain=bool((c.get("time") or {}).get("uncertain"))))
    for s in recon.get("shipments", []):
        d, a = _bounds(s.get("depart")), _bounds(s.get("arrive"))
        if d is None or a is None:
            continue
        cargo = s.get("cargo") or {}
        cargo_txt = (f"; cargo {fmt_num(cargo.get('low'))}–{fmt_num(cargo.get('high'))} "
                     f"{cargo.get('unit') or ''}" if cargo.get("low") is not None else "")
        title = (f"{s.get('tier', '').upper()} {s.get('mode')} shipment "
                 f"{s.get('vessel_name') or s.get('vessel_id') or 'unidentified'}: "
                 f"{pname(s.get('from_place_id'))} → {pname(s.get('to_place_id'))}, departed "
                 f"{fmt_range(s.get('depart'))}, arrived {fmt_range(s.get('arrive'))}{cargo_txt}. "
                 f"{s.get('tier_reason') or ''} "
                 + "".join(f"[{t}]" for t in s.get("sources") or []))
        items.append(Item(lane_for(s.get("vessel_id"), None, s.get("mode")), "shipment",
                          _mid(s.get("depart")) or d[0], _mid(s.get("arrive")) or a[1], "",
                          title, tuple(s.get("sources") or ()), tier=s.get("tier") or "",
                          depart=d, arrive=a))
    for o in (recon.get("rail") or {}).get("observations", []):
        if o.get("kind") != "count" or not o.get("obs_date"):
            continue
        t = parse_ts(o["obs_date"])
        if t is None:
            continue
        title = (f"{fmt_num(o.get('railcars'))} {o.get('car_type') or ''} railcars at "
                 f"{pname(o.get('place_id'))}, {o['obs_date']}. {o.get('description') or ''} "
                 + "".join(f"[{x}]" for x in o.get("sources") or []))
        items.append(Item("_rail", "point", t, None, f"{fmt_num(o.get('railcars'))} cars",
                          title, tuple(o.get("sources") or ())))
    for g in gaps or []:
        items.append(Item(g["lane_id"], "gap", g["start"], g["end"], "", g["title"], ()))
    bands: list[Band] = []
    for c in headline_claims(recon, n=6):
        per = c.get("period") or {}
        s0, s1 = parse_ts(per.get("start")), parse_ts(per.get("end"))
        if not (s0 and s1) or (s1 - s0).days > MAX_BAND_DAYS:
            continue
        if not any(b.start == s0.date() and b.end == s1.date() for b in bands):
            bands.append(Band(s0.date(), s1.date(), c.get("key") or "claim period",
                              tuple(c.get("sources") or ())))
        if len(bands) == 3:
            break
    used = {it.lane_id for it in items}
    lanes = [ln for ln in lanes if ln.lane_id in used or ln.lane_id in known]
    return lanes, items, bands


def rail_charts(recon: dict) -> list[str]:
    """One bar chart per place with railcar counts."""
    rail = recon.get("rail") or {}
    places = _place_index(recon)
    surges = {(s.get("place_id"), s.get("obs_date")): s for s in rail.get("surges", [])}
    by_place: dict[str, list[dict]] = {}
    baselines: dict[str, dict] = {}
    for o in rail.get("observations", []):
        pid = o.get("place_id") or "?"
        if o.get("kind") == "count" and o.get("railcars") is not None:
            by_place.setdefault(pid, []).append(o)
        elif o.get("kind") == "baseline" and o.get("railcars") is not None:
            baselines[pid] = o
    charts: list[tuple[bool, str, str]] = []
    for pid, obs in sorted(by_place.items()):
        obs = sorted(obs, key=lambda o: o.get("obs_date") or "")
        bars = []
        base_val, base_title, base_src = None, "", ()
        for o in obs:
            s = surges.get((pid, o.get("obs_date")))
            title = (f"{fmt_num(o.get('railcars'))} {o.get('car_type') or ''} railcars on "
                     f"{o.get('date_text') or o.get('obs_date')}. {o.get('description') or ''}")
            if s:
                title += f" Surge: {s.get('arithmetic')}"
                base_val = s.get("baseline_railcars", base_val)
                base_title = s.get("arithmetic") or ""
            title += " " + "".join(f"[{t}]" for t in o.get("sources") or [])
            bars.append(RailBar(o.get("obs_date") or "?", float(o["railcars"]),
                                fmt_num(o.get("railcars")), title, tuple(o.get("sources") or ()),
                                bool(s and s.get("surge"))))
        if pid in baselines:
            b = baselines[pid]
            base_val = base_val if base_val is not None else b.get("railcars")
            base_title = base_title or (f"Baseline: {b.get('description') or ''} "
                                        + "".join(f"[{t}]" for t in b.get("sources") or []))
            base_src = tuple(b.get("sources") or ())
        name = short_name((places.get(pid) or {}).get("name") or pid)
        charts.append((not any(b.surge for b in bars), name, render_rail_chart(
            name, bars, base_val, base_title, base_src, svg_id=f"rail-{pid}")))
    return [c for *_, c in sorted(charts)]  # places with a surge first


# ----------------------------------------------------------------------------- sections
def _summary(recon: dict) -> str:
    """'At a glance': which ships, which dates, which route, how many, how sure, who says."""
    places = _place_index(recon)
    vessels = {v["vessel_id"]: v for v in recon.get("vessels", [])}
    ships = recon.get("shipments", [])
    named = sorted({vessels[s["vessel_id"]]["name"] for s in ships
                    if s.get("vessel_id") in vessels})
    tiers: dict[str, int] = {}
    for s in ships:
        tiers[s.get("tier", "?")] = tiers.get(s.get("tier", "?"), 0) + 1
    route = "; ".join(
        f"{esc(_short(places.get(leg['from'], {}).get('name', leg['from'])))} → "
        f"{esc(_short(places.get(leg['to'], {}).get('name', leg['to'])))} "
        f"<span class='mode'>({esc(leg.get('mode'))})</span>"
        for leg in recon.get("legs", []))
    times = [t for s in ships for t in (_bounds(s.get("depart")) or ()) +
             (_bounds(s.get("arrive")) or ())]
    when = (f"{fmt_day(min(times))} – {fmt_day(max(times))}" if times else "no dated shipment")
    rows = [("Which ships", (", ".join(esc(n) for n in named) or "none identified")
             + (f" (+ {sum(1 for s in ships if not s.get('vessel_id'))} unidentified ship/train "
                "legs)" if any(not s.get("vessel_id") for s in ships) else "")),
            ("Which dates", esc(when)),
            ("Which route", route or "—"),
            ("How many shipments", esc(", ".join(
                f"{tiers[t]} {t}" for t in ("confirmed", "probable", "possible") if t in tiers)
                or "none")
             + " — tiers: confirmed = seen at both ends; probable = one end plus consistent "
               "timing or cargo; possible = one end only")]
    for c in headline_claims(recon):
        est = next((e for e in recon.get("estimates", [])
                    if e.get("estimate_id") == c.get("estimate_id")), None)
        ev = (f"{fmt_num(est.get('low'))}–{fmt_num(est.get('high'))} {esc(est.get('unit'))}"
              if est else "no estimate")
        rows.append((f"Claim: {esc(c.get('attribution') or 'unattributed')}",
                     f"{quoted(_clip(c.get('sentence') or '', 110))} {_cite(c.get('sources'))}"
                     f"<br>Dated evidence: <b>{ev}</b> → "
                     f"<span class='verdict {VERDICT_CLASS.get(c.get('verdict') or '', 'na')}'>"
                     f"{esc(c.get('verdict') or 'no verdict')}</span>"))
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="glance">{body}</table>'


def quoted(text: str | None) -> str:
    """Escaped sentence in quotation marks (not doubled when it already has them).

    >>> quoted('"more than 1,000", delivered'), quoted("at least 4 ships")
    ('&quot;more than 1,000&quot;, delivered', '“at least 4 ships”')
    """
    t = (text or "").strip()
    if t[:1] in ('"', "“", "'"):
        return esc(t)
    return f"“{esc(t)}”"


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _shipments_table(recon: dict, ships: list[dict]) -> str:
    places = _place_index(recon)
    if not ships:
        return "<p class='empty'>No shipment was reconstructed.</p>"
    rows = []
    for s in ships:
        cargo = s.get("cargo") or {}
        if cargo.get("low") is not None:
            cargo_txt = (f"{fmt_num(cargo.get('low'))}–{fmt_num(cargo.get('high'))} "
                         f"{esc(cargo.get('unit') or '')}<div class='basis'>"
                         f"{linkify(cargo.get('basis'))} {_cite(cargo.get('sources'))}</div>")
        else:
            cargo_txt = f"—<div class='basis'>{esc(cargo.get('basis') or 'no basis')}</div>"
        if s.get("counts_toward_totals") is False:
            cargo_txt += "<div class='basis'>not added to totals (carries an earlier leg's cargo)</div>"
        ev = "".join(f"<li><span class='role'>{esc(e.get('role'))}</span> "
                     f"{linkify(e.get('summary') or e.get('id'))} {_marks(e.get('marks'))}"
                     f"{_cite(e.get('sources'))}</li>" for e in s.get("evidence") or [])
        to = (places.get(s.get("to_place_id") or "", {}).get("name") or s.get("to_place_id")
              or "unknown: " + ", ".join(s.get("to_candidates") or []))
        rows.append(
            f"<tr id='shp-{esc(s.get('shipment_id'))}'><td><span class='tier tier-{esc(s.get('tier'))}'>"
            f"{esc(s.get('tier'))}</span></td><td>{esc(s.get('mode'))}</td>"
            f"<td>{esc(s.get('vessel_name') or s.get('vessel_id') or 'unidentified')}</td>"
            f"<td>{esc(places.get(s.get('from_place_id') or '', {}).get('name') or s.get('from_place_id'))}"
            f" → {esc(to)}</td><td>{esc(fmt_range(s.get('depart')))}</td>"
            f"<td>{esc(fmt_range(s.get('arrive')))}</td><td>{cargo_txt}</td>"
            f"<td><div>{linkify(s.get('tier_reason'))}</div><ul class='ev'>{ev}</ul></td></tr>")
    return ("<table class='data'><thead><tr><th>tier</th><th>mode</th><th>vessel / train</th>"
            "<th>route</th><th>departed</th><th>arrived</th><th>cargo</th><th>why this tier; "
            "evidence</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _claims_section(recon: dict) -> str:
    ests = {e.get("estimate_id"): e for e in recon.get("estimates", [])}
    out, untestable = [], []
    for c in ordered_claims(recon):
        v = c.get("verdict") or "no verdict"
        cr = c.get("claim_range") or {}
        per = c.get("period") or {}
        who = (f"{esc(c.get('attribution') or 'unattributed')} {_marks(c.get('marks'))}"
               f"{_cite(c.get('sources'))}")
        if v == "untestable":
            untestable.append(f"<tr><td>{quoted(c.get('sentence'))}</td><td>{who}</td>"
                              f"<td>{linkify(c.get('arithmetic'))}</td></tr>")
            continue
        est = ests.get(c.get("estimate_id"))
        hi = fmt_num(cr.get("max")) if cr.get("max") is not None else "no upper bound"
        claim_rng = f"{fmt_num(cr.get('min'))} – {hi}" if cr else "—"
        est_html = "<p class='empty'>Not held against an estimate.</p>"
        if est and est.get("arithmetic") and est["arithmetic"] in (c.get("arithmetic") or ""):
            est_html = (f"<p><b>Evidence:</b> {fmt_num(est.get('low'))}–{fmt_num(est.get('high'))} "
                        f"{esc(est.get('unit'))} over {esc(est.get('period', {}).get('start'))} – "
                        f"{esc(est.get('period', {}).get('end'))} {_cite(est.get('sources'))}</p>")
        elif est:
            est_html = (f"<p><b>Evidence:</b> {fmt_num(est.get('low'))}–{fmt_num(est.get('high'))} "
                        f"{esc(est.get('unit'))} over {esc(est.get('period', {}).get('start'))} – "
                        f"{esc(est.get('period', {}).get('end'))} {_cite(est.get('sources'))}</p>"
                        f"<pre class='arith'>{linkify(est.get('arithmetic'))}</pre>")
        out.append(
            f"<article class='claim' id='claim-{esc(c.get('claim_id'))}'>"
            f"<div class='verdict {VERDICT_CLASS.get(v, 'na')}'>{esc(v)}</div>"
            f"<blockquote>{quoted(c.get('sentence'))}</blockquote>"
            f"<p class='attr'>— {who} · claim allows {esc(claim_rng)} "
            f"{esc(c.get('unit') or '')}, period {esc(per.get('start') or '?')} – "
            f"{esc(per.get('end') or '?')}"
            f"{' (' + esc(per.get('text')) + ')' if per.get('text') else ''} · "
            f"{esc(c.get('origin') or '')}</p>"
            f"{est_html}<p><b>Verdict arithmetic:</b></p>"
            f"<pre class='arith'>{linkify(c.get('arithmetic'))}</pre></article>")
    if not out and not untestable:
        return "<p class='empty'>No claim is tested against this corridor.</p>"
    html = ("<p class='note'>“Evidence falls short” means the dated evidence in the store does "
            "not reach the claimed figure — not that the claim is false: the ships ran with AIS "
            "off and most voyages were never imaged.</p>" + "".join(out))
    if untestable:
        html += (f"<h3>Claims corridor cannot test ({len(untestable)})</h3>"
                 "<table class='data'><thead><tr><th>claim</th><th>who</th><th>why not</th>"
                 f"</tr></thead><tbody>{''.join(untestable)}</tbody></table>")
    return html


def _rail_section(recon: dict) -> str:
    rail = recon.get("rail") or {}
    charts = rail_charts(recon)
    surges = "".join(f"<li>{esc(s.get('obs_date'))}: <code>{linkify(s.get('arithmetic'))}</code> "
                     f"{_marks(s.get('marks'))}{_cite(s.get('sources'))}</li>"
                     for s in rail.get("surges", []))
    places = _place_index(recon)
    rows = "".join(
        f"<tr><td>{esc(o.get('date_text') or o.get('obs_date'))}</td>"
        f"<td>{esc(places.get(o.get('place_id') or '', {}).get('name') or o.get('place_id'))}</td>"
        f"<td>{esc(o.get('kind'))}</td><td class='n'>{fmt_num(o.get('railcars'))}</td>"
        f"<td>{esc(o.get('car_type') or '')}</td><td>{linkify(o.get('description'))}</td>"
        f"<td>{_marks(o.get('marks'))}{_cite(o.get('sources'))}</td></tr>"
        for o in sorted(rail.get("observations", []), key=lambda o: o.get("obs_date") or ""))
    if not charts and not rows:
        return "<p class='empty'>No rail observation in the store.</p>"
    return (f"<div class='charts'>{''.join(f'<figure>{c}</figure>' for c in charts)}</div>"
            + (f"<ul class='surges'>{surges}</ul>" if surges else "")
            + "<table class='data'><thead><tr><th>date</th><th>place</th><th>kind</th>"
              "<th>railcars</th><th>type</th><th>what was seen</th><th>src</th></tr></thead>"
              f"<tbody>{rows}</tbody></table>")


def _vessels_section(recon: dict) -> str:
    rows = []
    for v in recon.get("vessels", []):
        sanc = "; ".join(f"{esc(s.get('authority'))} {esc(s.get('listed_on') or 'date unknown')}"
                         f"{_cite(s.get('sources'))}" for s in v.get("sanctions") or [])
        wl = "; ".join(f"{esc(w.get('name'))} ({esc(', '.join(w.get('programs') or []))}, "
                       f"matched on {esc(w.get('matched_on'))})" for w in v.get("watchlist") or [])
        imo = (f"{v['imo']} <span class='status'>({esc(v.get('imo_status') or '')})</span>"
               if v.get("imo") else "—")
        rows.append(f"<tr><td><b>{esc(v.get('name'))}</b><div class='basis'>"
                    f"{esc(', '.join(v.get('aliases') or []))}</div></td><td>{imo}</td>"
                    f"<td>{esc(v.get('mmsi') or '—')}</td><td>{esc(v.get('flag') or '—')}</td>"
                    f"<td>{esc(v.get('vessel_type') or '—')}</td><td>{sanc or '—'}"
                    f"{'<div>watchlist: ' + wl + '</div>' if wl else ''}</td>"
                    f"<td>{linkify(v.get('notes'))} {_marks(v.get('marks'))}"
                    f"{_cite(v.get('sources'))}</td></tr>")
    if not rows:
        return "<p class='empty'>No vessel of interest.</p>"
    return ("<table class='data'><thead><tr><th>vessel</th><th>IMO</th><th>MMSI</th><th>flag</th>"
            "<th>type</th><th>sanctions</th><th>notes</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _context_section(recon: dict) -> str:
    items = recon.get("context") or []
    if not items:
        return "<p class='empty'>Every dated observation supports a shipment.</p>"
    places = _place_index(recon)
    rows = "".join(
        f"<tr><td>{esc(fmt_range(c.get('time')))}</td>"
        f"<td>{esc(places.get(c.get('place_id') or '', {}).get('name') or c.get('place_id') or '—')}"
        f"</td><td>{linkify(c.get('summary'))}</td><td>{esc(c.get('reason'))}</td>"
        f"<td>{_marks(c.get('marks'))}{_cite(c.get('sources'))}</td></tr>" for c in items)
    return ("<table class='data'><thead><tr><th>when</th><th>where</th><th>what was seen</th>"
            "<th>why it supports no shipment</th><th>src</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _sources_section(recon: dict) -> str:
    rows = []
    for s in sorted(recon.get("sources", []), key=lambda s: _tag_key(s.get("tag") or "")):
        tag = s.get("tag") or "?"
        url = s.get("url") or ""
        # a plain link the reader may follow; the report itself never loads it
        link = (f'<a class="url" href="{esc(url)}" rel="noreferrer noopener">{esc(url)}</a>'
                if url.startswith(("http://", "https://")) else esc(url))
        text = s.get("citation") or " ".join(
            x for x in (s.get("publisher"), s.get("title"), s.get("date")) if x)
        rows.append(f'<tr id="{anchor_id(tag)}"><td class="tag">[{esc(tag)}]</td>'
                    f"<td>{esc(text)} {_marks(s.get('marks'))}<div class='url'>{link}</div></td></tr>")
    if not rows:
        return "<p class='empty'>No sources.</p>"
    return f"<table class='sources'><tbody>{''.join(rows)}</tbody></table>"


def _tag_key(tag: str) -> tuple[int, str]:
    digits = "".join(ch for ch in tag[1:] if ch.isdigit())
    return (int(digits) if digits else 10**6, tag)


# ----------------------------------------------------------------------------- simulated
#: how many simulated events the section lists (the counts cover all of them)
SIM_EVENT_ROWS = 12


def _event_place(e: dict) -> str:
    """Where an event happened: its place, or from → to for a voyage."""
    if e.get("from_place_id") and e.get("to_place_id") and e.get("type") != "port_visit":
        return f"{e['from_place_id']} → {e['to_place_id']}"
    return e.get("place_id") or e.get("from_place_id") or ""


def _simulated_section(sim: Simulated | None) -> str:
    if sim is None or (not sim.tracks and not sim.events and not sim.recon):
        return ""
    head = ('<section id="simulated" class="simulated"><h2>Simulated scenario '
            "<span class='simtag'>SIMULATED — fictitious vessels</span></h2>"
            "<p class='note'>Everything in this section comes from corridor's trajectory "
            "simulator: invented vessels (MMSIs in a range no real ship uses) sailing a corridor "
            "like the case's, with AIS switched off on purpose. It shows what the detectors "
            "recover when AIS <em>is</em> available; it is not evidence about the real case. "
            f"{esc(sim.note)}</p>")
    parts = [head]
    if sim.positions:
        parts.append(f"<p>{sim.positions:,} simulated positions from {sim.vessels} simulated "
                     "vessels.</p>")
    if sim.tracks:
        pts = [p for t in sim.tracks for p in t.points]
        view = "route"
        for cand in ("ports", "sea"):  # the closest view that holds 90% of the points
            bb = load_basemap()["views"][cand]["bbox"]
            inside = sum(bb[0] <= p[0] <= bb[2] and bb[1] <= p[1] <= bb[3] for p in pts)
            if pts and inside >= 0.9 * len(pts):
                view = cand
                break
        nodes, legs = [], []
        if sim.recon:
            nodes, legs, _ = map_inputs(sim.recon)
        parts.append("<figure class='map-fig'>" + render_map(
            view, nodes, legs, sim.tracks, [], svg_id="sim-map",
            caption="Simulated tracks and dark gaps") +
            "<figcaption>SIMULATED tracks (thin lines) and the AIS gaps detected in them "
            "(red dotted jumps).</figcaption></figure>")
    if sim.events:
        counts: dict[str, int] = {}
        for e in sim.events:
            counts[e.get("type", "?")] = counts.get(e.get("type", "?"), 0) + 1
        parts.append("<p>Detected in the simulated AIS: " + ", ".join(
            f"{n} {esc(t)}" for t, n in sorted(counts.items())) + ".</p>")
        rows = "".join(
            f"<tr><td>{esc(e.get('type'))}</td><td>{esc(e.get('mmsi'))}</td>"
            f"<td>{esc(fmt_day(parse_ts(str(e.get('start_ts')))))}</td>"
            f"<td>{esc(fmt_day(parse_ts(str(e.get('end_ts')))) if e.get('end_ts') else '')}</td>"
            f"<td>{esc(_event_place(e))}</td></tr>"
            for e in sim.events[:SIM_EVENT_ROWS])
        more = (f"<p class='note'>The first {SIM_EVENT_ROWS} of {len(sim.events)} events; "
                "<code>corridor events --format csv</code> lists them all.</p>"
                if len(sim.events) > SIM_EVENT_ROWS else "")
        parts.append("<table class='data sim'><thead><tr><th>event (simulated)</th><th>MMSI</th>"
                     "<th>start</th><th>end</th><th>place</th></tr></thead><tbody>"
                     f"{rows}</tbody></table>{more}")
    if sim.scores:
        rows = "".join(
            f"<tr><td>{esc(r.get('type'))}</td><td class='n'>{fmt_num(r.get('truth'))}</td>"
            f"<td class='n'>{fmt_num(r.get('detected'))}</td>"
            f"<td class='n'>{fmt_num(r.get('matched'))}</td>"
            f"<td class='n'>{float(r.get('precision') or 0):.2f}</td>"
            f"<td class='n'>{float(r.get('recall') or 0):.2f}</td></tr>" for r in sim.scores)
        parts.append("<h3>Detection against the simulator's ground truth</h3>"
                     "<table class='data sim'><thead><tr><th>event type</th><th>true</th>"
                     "<th>detected</th><th>matched</th><th>precision</th><th>recall</th></tr>"
                     f"</thead><tbody>{rows}</tbody></table>")
    if sim.recon and sim.recon.get("shipments"):
        ships = sim.recon["shipments"]
        tiers: dict[str, int] = {}
        for x in ships:
            tiers[x.get("tier") or "?"] = tiers.get(x.get("tier") or "?", 0) + 1
        places = _place_index(sim.recon)
        rows = "".join(
            f"<tr><td><span class='tier tier-{esc(x.get('tier'))}'>{esc(x.get('tier'))}</span>"
            f"</td><td>{esc(x.get('mmsi') or x.get('vessel_name') or '')}</td>"
            f"<td>{esc(_short(places.get(x.get('from_place_id') or '', {}).get('name') or ''))}"
            f" → {esc(_short(places.get(x.get('to_place_id') or '', {}).get('name') or '?'))}"
            f"</td><td>{esc(fmt_range(x.get('depart')))}</td>"
            f"<td>{esc(fmt_range(x.get('arrive')))}</td></tr>" for x in ships[:SIM_EVENT_ROWS])
        more = (f"<p class='note'>The first {SIM_EVENT_ROWS} of {len(ships)} shipments; "
                "<code>corridor reconstruct sim-najin-dunai</code> lists them all with their "
                "evidence.</p>" if len(ships) > SIM_EVENT_ROWS else "")
        parts.append("<h3>Shipments reconstructed from the simulated AIS</h3><p>"
                     + esc(", ".join(f"{tiers[t]} {t}" for t in ("confirmed", "probable",
                                                                   "possible") if t in tiers))
                     + " (tiers as in the case: confirmed = AIS at both ends).</p>"
                     "<table class='data sim'><thead><tr><th>tier</th><th>MMSI</th><th>route</th>"
                     "<th>departed</th><th>arrived</th></tr></thead>"
                     f"<tbody>{rows}</tbody></table>{more}")
    parts.append("</section>")
    return "".join(parts)


# ----------------------------------------------------------------------------- document
def render_html(recon: dict, tracks: list[MapTrack] | None = None,
                gaps: list[dict] | None = None, simulated: Simulated | None = None,
                ais_note: str = "") -> str:
    """The complete HTML report for one reconstruction (``corridor.reconstruction/1``).

    ``tracks``/``gaps`` are real AIS tracks and dark gaps of the corridor's vessels (from the
    store), ``simulated`` the content of the separate simulated section, ``ais_note`` a
    sentence on what AIS the store holds.
    """
    corr = recon.get("corridor") or {}
    title = corr.get("title") or corr.get("id") or "Corridor report"
    window = recon.get("window") or {}
    nodes, legs, markers = map_inputs(recon)
    ports_bbox = tuple(load_basemap()["views"]["ports"]["bbox"])
    route_svg = render_map("route", nodes, legs, tracks, markers, svg_id="map-route",
                           inset_of=ports_bbox, caption="Whole route",  # type: ignore[arg-type]
                           skip_markers_in=ports_bbox)  # type: ignore[arg-type]
    ports_svg = render_map("ports", nodes, legs, tracks, markers, svg_id="map-ports",
                           caption="Ports inset: Rajin – Dunai – Vostochny")
    lanes, items, bands = timeline_inputs(recon, gaps)
    w0, w1 = parse_ts(window.get("start")), parse_ts(window.get("end"))
    times = [t for it in items for t in (it.start, it.end) if t is not None]
    t0 = w0 or (min(times) if times else datetime(2000, 1, 1))
    t1 = (w1 + timedelta(days=1)) if w1 else (max(times) if times else t0 + timedelta(days=30))
    t0, t1 = t0 - timedelta(days=4), t1 + timedelta(days=4)
    outside = sum(1 for it in items if (it.end or it.start) < t0 or it.start > t1)
    tl_full = render_timeline(lanes, items, t0, t1, bands, svg_id="timeline-window",
                              caption="Timeline over the corridor window")
    focus = ""
    close = [b for b in bands if (b.end - b.start).days <= 60]
    if close:
        b = max(close, key=lambda b: (b.end - b.start).days)
        f0 = datetime.combine(b.start, datetime.min.time()) - timedelta(days=8)
        f1 = datetime.combine(b.end, datetime.min.time()) + timedelta(days=9)
        focus = ("<h3>Close-up: the claim period " + esc(b.label) + "</h3><figure>"
                 + render_timeline(lanes, items, f0, f1, bands, svg_id="timeline-claim",
                                   caption="Timeline over the first claim's period")
                 + "</figure>")
    sim_ids = set()
    if simulated and simulated.recon:
        sim_ids = {s.get("shipment_id") for s in simulated.recon.get("shipments", [])}
    ships = [s for s in recon.get("shipments", []) if s.get("shipment_id") not in sim_ids]
    warn = "".join(f"<li>{linkify(w)}</li>" for w in recon.get("warnings") or [])
    params = esc(json.dumps(recon.get("params") or {}, indent=1, sort_keys=True))
    legend = (
        "<ul class='legend'>"
        "<li><svg viewBox='0 0 20 12'><circle cx='10' cy='6' r='5' fill='#333'/></svg>facility "
        "coordinate</li><li><svg viewBox='0 0 20 12'><circle cx='10' cy='6' r='4' fill='#fff' "
        "stroke='#333' stroke-width='2'/></svg>settlement / town coordinate (not the pier)</li>"
        "<li><svg viewBox='0 0 20 12'><circle cx='10' cy='6' r='5' fill='none' stroke='#333' "
        "stroke-dasharray='2 1.5'/></svg>approximate</li>"
        "<li><svg viewBox='0 0 30 12'><path d='M2,6L28,6' stroke='#2166ac' stroke-width='3'/>"
        "</svg>sea leg (schematic line)</li><li><svg viewBox='0 0 30 12'><path d='M2,6L28,6' "
        "stroke='#8c510a' stroke-width='3' stroke-dasharray='6 3'/></svg>rail leg (schematic: "
        "not drawn along the track)</li><li><svg viewBox='0 0 12 12'><path "
        "d='M6,0.5L11,6L6,11.5L1,6Z' fill='#f1a340' stroke='#5a3d00'/></svg>dated sighting</li>"
        "<li><svg viewBox='0 0 12 12'><rect x='2' y='2' width='8' height='8' fill='#8c510a'/>"
        "</svg>rail count surge</li><li><svg viewBox='0 0 30 12'><path d='M2,6L28,6' "
        "stroke='#d7301f' stroke-width='2' stroke-dasharray='2 3'/></svg>AIS dark gap</li>"
        "<li><span class='swatch' style='background:#ece7f3'></span>Russia "
        "<span class='swatch' style='background:#f1dede'></span>North Korea</li></ul>")
    tl_legend = (
        "<ul class='legend'><li><span class='swatch' style='background:#4f8fbf'></span>presence "
        "at a place (dated)</li><li><span class='swatch hatch-unc'></span>presence, vague date "
        "(e.g. “mid-Aug”)</li><li><span class='swatch' style='background:#1b7837'></span>"
        "confirmed shipment</li><li><span class='swatch' style='background:#e08214'></span>"
        "probable</li><li><span class='swatch' style='background:#8c8c8c'></span>possible</li>"
        "<li><span class='swatch hatch-gap'></span>AIS gap</li><li><span class='swatch' "
        "style='background:#fee391'></span>claim period</li></ul>")
    n_src = len(recon.get("sources") or [])
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="corridor">
<title>{esc(title)}</title>
<style>{CSS}</style></head>
<body>
<header><p class="kicker">corridor evidence report · {esc(corr.get('id') or '')}</p>
<h1>{esc(title)}</h1>
<p class="lede">{linkify(corr.get('description'))} Window {esc(window.get('start') or '?')} –
{esc(window.get('end') or '?')}. Every figure links to its numbered source; hover a mark on a
figure to read what was seen and who says so. Marks: {_marks(['C'])} stated by the source,
{_marks(['I'])} inference or arithmetic, {_marks(['U'])} unverified, {_marks(['⚠'])} sources
conflict.</p>
<nav><a href="#glance">At a glance</a> · <a href="#map">Route map</a> · <a href="#timeline">Timeline</a>
· <a href="#shipments">Shipments</a> · <a href="#claims">Claims vs evidence</a> ·
<a href="#rail">Rail</a> · <a href="#vessels">Vessels</a> · <a href="#context">Other sightings</a>
{'· <a href="#simulated">Simulated scenario</a>' if _simulated_section(simulated) else ''}
· <a href="#sources">Sources ({n_src})</a></nav></header>
<main>
<section id="glance"><h2>At a glance</h2>{_summary(recon)}</section>
<section id="map"><h2>Route map</h2>
<p class="hint">Drag to pan · Ctrl + wheel or the buttons to zoom · double-click to reset.
Hover a symbol for its date and sources; click it to jump to the source.</p>
<figure class="map-fig">{route_svg}<figcaption>Whole route, {esc(_route_caption(recon))}.
The dashed box is the ports inset below. The rail leg is drawn as a straight schematic line:
corridor has no rail geometry, and the real line runs along the Trans-Siberian railway.
{cite_links(source_tags([n.sources for n in nodes]))}</figcaption></figure>
<figure class="map-fig">{ports_svg}<figcaption>Ports inset: Rajin (Najin), the
Tumangang–Khasan rail crossing, Dunai and Vostochny. Settlement markers stand for the town,
not the pier: no source gives pier coordinates.</figcaption></figure>
{legend}{f'<p class="note">{esc(ais_note)}</p>' if ais_note else ''}</section>
<section id="timeline"><h2>Timeline</h2>{tl_legend}<figure>{tl_full}</figure>
{f'<p class="note">{outside} item(s) outside the window are listed in the tables only.</p>'
 if outside else ''}{focus}</section>
<section id="shipments"><h2>Shipments</h2>{_shipments_table(recon, ships)}</section>
<section id="claims"><h2>Claims vs evidence</h2>{_claims_section(recon)}</section>
<section id="rail"><h2>Rail counts</h2>{_rail_section(recon)}</section>
<section id="vessels"><h2>Vessels</h2>{_vessels_section(recon)}</section>
<section id="context"><h2>Other sightings</h2>
<p class="note">Dated observations that support no reconstructed shipment, with the reason.</p>
{_context_section(recon)}</section>
{_simulated_section(simulated)}
<section id="method"><h2>Warnings and parameters</h2>
{f'<ul class="warnings">{warn}</ul>' if warn else '<p class="empty">No warnings.</p>'}
<details><summary>Parameters used</summary><pre>{params}</pre></details></section>
<section id="sources"><h2>Sources</h2>{_sources_section(recon)}</section>
</main>
<footer>Generated by corridor from <code>{esc(corr.get('file') or corr.get('id') or '')}</code>.
Basemap: Natural Earth (public domain). This file loads nothing from the network.</footer>
<script>{JS}</script>
</body></html>
"""
    return doc


def _route_caption(recon: dict) -> str:
    places = _place_index(recon)
    o = [places[n]["name"] for n in places if places[n].get("role") == "origin"]
    d = [places[n]["name"] for n in places if places[n].get("role") == "destination"]
    return f"{', '.join(o) or '?'} to {', '.join(d) or '?'}"


CSS = """
:root{--ink:#1d1d1f;--muted:#5b5f66;--rule:#d9d9de;--accent:#1f4e79}
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,
 "Noto Sans",sans-serif;color:var(--ink);background:#fff;line-height:1.45;font-size:15px}
header,main,footer{max-width:1100px;margin:0 auto;padding:0 20px}
header{padding-top:18px;border-bottom:1px solid var(--rule)}
.kicker{text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:var(--muted);margin:0}
h1{font-size:26px;margin:4px 0 8px}
h2{font-size:20px;margin:28px 0 8px;border-bottom:2px solid var(--accent);padding-bottom:3px}
h3{font-size:16px;margin:18px 0 6px}
.lede{color:#333;max-width:80ch}
nav{font-size:14px;margin:8px 0 12px}
a{color:var(--accent)}
figure{margin:10px 0}
figure svg{width:100%;height:auto;display:block;border:1px solid var(--rule);background:#fff}
figcaption{font-size:13px;color:var(--muted);margin-top:4px}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts figure{flex:1 1 420px;max-width:540px}
svg.zoomable{cursor:grab;touch-action:none}svg.zoomable.dragging{cursor:grabbing}
.zoom-ui{display:flex;gap:4px;margin:4px 0}.zoom-ui button{font:inherit;font-size:13px;
 padding:1px 9px;border:1px solid #aaa;background:#f6f6f6;border-radius:3px;cursor:pointer}
.hint,.note{font-size:13px;color:var(--muted)}
.legend{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:4px 16px;
 font-size:13px}.legend svg{width:22px;height:12px;vertical-align:middle;margin-right:4px;
 border:0}.swatch{display:inline-block;width:14px;height:10px;margin-right:4px;
 vertical-align:middle;border:1px solid #999}
.hatch-unc{background:repeating-linear-gradient(45deg,#d6e6f2 0 2px,#4f8fbf 2px 3px)}
.hatch-gap{background:repeating-linear-gradient(45deg,#fff 0 2px,#d7301f 2px 4px)}
table{border-collapse:collapse;width:100%;font-size:13.5px}
th,td{text-align:left;vertical-align:top;padding:5px 7px;border-bottom:1px solid var(--rule)}
thead th{background:#f3f4f6;font-weight:600}
td.n{text-align:right}
table.glance th{width:190px;color:var(--muted);font-weight:600}
table.glance{font-size:15px}
.mode{color:var(--muted);font-size:13px}
.basis{font-size:12px;color:var(--muted)}
ul.ev{margin:4px 0 0;padding-left:16px}ul.ev li{margin:2px 0}
.role{font-size:11px;text-transform:uppercase;color:var(--muted);letter-spacing:.04em}
.tier{display:inline-block;padding:1px 7px;border-radius:9px;color:#fff;font-size:12px}
.tier-confirmed{background:#1b7837}.tier-probable{background:#e08214}.tier-possible{background:#8c8c8c}
.verdict{display:inline-block;padding:2px 9px;border-radius:4px;font-weight:600;font-size:13px}
.verdict.ok{background:#d9f0d3;color:#1b5e20}.verdict.warn{background:#fde0c5;color:#7a3b00}
.verdict.short{background:#fbe3e3;color:#8b1a1a}.verdict.na{background:#eee;color:#444}
article.claim{border:1px solid var(--rule);border-radius:6px;padding:10px 14px;margin:12px 0;
 page-break-inside:avoid}
blockquote{margin:8px 0;font-size:17px;font-style:italic}
.attr{color:var(--muted);font-size:13px}
pre{white-space:pre-wrap;word-break:break-word;font-size:13px}
pre.arith{background:#f7f7f9;border-left:3px solid var(--accent);padding:6px 10px;margin:4px 0}
a.tag{font-size:.85em;text-decoration:none}
sup.cite{font-size:11px;margin-left:2px}sup.cite a{margin-right:2px;text-decoration:none}
.mark{display:inline-block;font-size:10px;font-weight:700;border:1px solid #999;border-radius:3px;
 padding:0 3px;margin-left:3px;color:#444;line-height:1.3}
.mark-U{border-color:#c77d00;color:#8a5600}.mark-conflict{border-color:#b71c1c;color:#b71c1c}
.mark-I{border-color:#3b6ea5;color:#24527f}
table.sources td.tag{font-weight:700;width:62px;white-space:nowrap}
table.sources .url{font-size:12px;word-break:break-all;color:var(--muted)}
tr:target{background:#fff6bf}
section.simulated{border:3px dashed #7b3294;border-radius:8px;padding:4px 16px 12px;margin-top:28px;
 background:#fbf7fd}
.simtag{font-size:12px;background:#7b3294;color:#fff;padding:2px 8px;border-radius:3px;
 vertical-align:middle;letter-spacing:.05em}
.empty{color:var(--muted);font-style:italic}
footer{font-size:12px;color:var(--muted);border-top:1px solid var(--rule);margin-top:30px;
 padding:10px 20px 30px}
@media print{
 @page{size:A4;margin:12mm}
 body{font-size:10.5pt}header,main,footer{max-width:none;padding:0}
 nav,.hint,.zoom-ui{display:none}
 h2{page-break-after:avoid}figure,tr,article.claim{page-break-inside:avoid}
 section#map figure{page-break-inside:avoid}
 a{color:inherit;text-decoration:none}
 details{display:block}details>*{display:block}
}
"""

# Pan/zoom on the SVG viewBox (no library): drag to pan, Ctrl+wheel or buttons to zoom,
# double-click to reset. A drag does not follow the link under the pointer.
JS = r"""
(function(){
  document.querySelectorAll('svg.zoomable').forEach(function(svg){
    var b=svg.viewBox.baseVal, o={x:b.x,y:b.y,w:b.width,h:b.height}, v={x:o.x,y:o.y,w:o.w,h:o.h};
    var o_text=svg.getAttribute('viewBox');
    function set(){svg.setAttribute('viewBox',v.x+' '+v.y+' '+v.w+' '+v.h);}
    function reset(){v={x:o.x,y:o.y,w:o.w,h:o.h};svg.setAttribute('viewBox',o_text);}
    function clamp(){v.x=Math.max(o.x-v.w*0.5,Math.min(v.x,o.x+o.w-v.w*0.5));
      v.y=Math.max(o.y-v.h*0.5,Math.min(v.y,o.y+o.h-v.h*0.5));}
    function at(e){var r=svg.getBoundingClientRect();
      return {x:v.x+(e.clientX-r.left)/r.width*v.w,y:v.y+(e.clientY-r.top)/r.height*v.h};}
    function zoom(k,p){var nw=Math.min(o.w,Math.max(o.w/30,v.w*k));k=nw/v.w;
      v.x=p.x-(p.x-v.x)*k;v.y=p.y-(p.y-v.y)*k;v.w*=k;v.h*=k;clamp();set();}
    svg.addEventListener('wheel',function(e){if(!(e.ctrlKey||e.metaKey))return;
      e.preventDefault();zoom(e.deltaY<0?0.8:1.25,at(e));},{passive:false});
    var drag=null,moved=false;
    svg.addEventListener('pointerdown',function(e){drag={x:e.clientX,y:e.clientY,vx:v.x,vy:v.y};
      moved=false;});
    svg.addEventListener('pointermove',function(e){if(!drag)return;
      var r=svg.getBoundingClientRect(),dx=e.clientX-drag.x,dy=e.clientY-drag.y;
      if(Math.abs(dx)+Math.abs(dy)>3){moved=true;svg.classList.add('dragging');}
      if(!moved)return;
      v.x=drag.vx-dx/r.width*v.w;v.y=drag.vy-dy/r.height*v.h;clamp();set();});
    function end(){drag=null;svg.classList.remove('dragging');}
    svg.addEventListener('pointerup',end);svg.addEventListener('pointerleave',end);
    svg.addEventListener('click',function(e){if(moved){e.preventDefault();e.stopPropagation();
      moved=false;}},true);
    svg.addEventListener('dblclick',function(e){e.preventDefault();reset();});
    var ui=document.createElement('div');ui.className='zoom-ui';
    [['+',0.7],['\u2212',1/0.7],['reset',0]].forEach(function(a){
      var bt=document.createElement('button');bt.type='button';bt.textContent=a[0];
      bt.setAttribute('aria-label',a[0]==='reset'?'reset zoom':'zoom '+(a[1]<1?'in':'out'));
      bt.addEventListener('click',function(){if(!a[1])reset();
        else zoom(a[1],{x:v.x+v.w/2,y:v.y+v.h/2});});ui.appendChild(bt);});
    svg.parentNode.insertBefore(ui,svg);
  });
})();
"""
