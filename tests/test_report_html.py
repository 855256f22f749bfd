"""The evidence report: HTML, figures, GeoJSON and output formats (no browser needed here)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from report_sample import CASPIAN_PLACES, sample, write_caspian_case, write_colorado_case

from corridor.ids import position_obs_ids
from corridor.report.basemap import Projection
from corridor.report.build import (
    ReportError,
    TrackParams,
    build_html,
    to_geojson,
    vessel_tracks,
    write_report,
)
from corridor.report.html import render_html
from corridor.schema import POSITIONS


def _positions(mmsi: int, lons, lats, t0: datetime, step_min: float, source: str) -> pa.Table:
    n = len(lons)
    ts = np.array([np.datetime64(t0 + timedelta(minutes=step_min * i), "us") for i in range(n)])
    lat = np.asarray(lats, float)
    lon = np.asarray(lons, float)
    mm = np.full(n, mmsi, np.int64)
    obs = position_obs_ids(mm, ts.astype(np.int64), lat, lon, np.ones(n, np.int64))
    return pa.table({"obs_id": obs, "mmsi": mm, "ts": pa.array(ts, pa.timestamp("us")),
                     "lat": lat, "lon": lon, "sog": pa.array([10.0] * n, pa.float32()),
                     "cog": pa.nulls(n, pa.float32()), "heading": pa.nulls(n, pa.int16()),
                     "nav_status": pa.nulls(n, pa.int8()),
                     "msg_type": pa.array([1] * n, pa.int8()),
                     "source": [source] * n}, schema=POSITIONS)


def _ids(html: str) -> set[str]:
    return set(re.findall(r'\bid=["\']([^"\']+)["\']', html))


def test_report_is_self_contained_and_offline():
    html = render_html(sample())
    assert html.startswith("<!DOCTYPE html>")
    # nothing is loaded from anywhere: no external src, stylesheet, font or script
    assert not re.search(r'\bsrc=["\']', html)
    assert "<link" not in html and "@import" not in html and "url(http" not in html
    # the only http(s) hrefs are the plain source links in the sources table
    for m in re.finditer(r'<a\b[^>]*href=["\'](https?://[^"\']+)', html):
        tag_start = html.rfind("<a", 0, m.end())
        assert 'class="url"' in html[tag_start:m.end()], m.group(0)


def test_every_citation_link_lands_on_a_source_row():
    html = render_html(sample())
    ids = _ids(html)
    targets = set(re.findall(r'href="#(src-[^"]+)"', html))
    assert {"src-S6", "src-S12", "src-S1"} <= targets
    assert targets <= ids, targets - ids


def _svg(html: str, svg_id: str) -> str:
    part = html[html.index(f'<svg id="{svg_id}"'):]
    return part[:part.index("</svg>")]


DPRK_NODES = {"rajin", "tumangang", "khasan", "dunay", "vostochny", "tikhoretsk-depot", "mozdok"}


def _node_ids(svg: str) -> set[str]:
    return set(re.findall(r'data-node="([^"]+)"', svg))


def _node_labels(svg: str) -> set[str]:
    return set(re.findall(r'class="node-label"[^>]*>([^<]+)</text>', svg))


def test_overview_map_fits_the_case_and_closeups_follow_its_clusters():
    html = render_html(sample())
    route = _svg(html, "map-overview")
    # every place with a sourced coordinate is drawn on the overview; labels that would
    # collide are left to the close-up
    assert _node_ids(route) == DPRK_NODES
    assert {"Tikhoretsk ammunition depot", "Mozdok", "Rajin"} <= _node_labels(route)
    assert "node-facility" in route and "node-settlement" in route and "node-approximate" in route
    assert "leg-sea" in route and "leg-rail" in route
    # the far-east ports cannot be told apart at this scale: a close-up shows them
    assert route.count('class="closeup-frame"') >= 1
    close = _svg(html, "map-closeup-1")
    assert {"Rajin", "Dunai", "Khasan"} <= _node_labels(close)
    cap = html[html.index('id="map-closeup-1"'):]
    cap = cap[cap.index("<figcaption>"):cap.index("</figcaption>")]
    assert "Close-up 1: Rajin" in cap
    # labels and symbols keep their screen size when zooming; lines keep their width
    assert route.count('class="ks"') >= 7 + 7
    assert 'vector-effect="non-scaling-stroke"' in route
    assert "schematic" in route


def test_map_labels_do_not_overlap():
    html = render_html(sample())
    for svg_id in ("map-overview", "map-closeup-1"):
        svg = _svg(html, svg_id)
        boxes = []
        for m in re.finditer(r'<text class="node-label" x="([\d.-]+)" y="([\d.-]+)" '
                             r'font-size="([\d.]+)" text-anchor="(\w+)"[^>]*>([^<]+)<', svg):
            x, y, fs = float(m.group(1)), float(m.group(2)), float(m.group(3))
            tw = 0.56 * fs * len(m.group(5))
            x0 = {"start": x, "end": x - tw, "middle": x - tw / 2}[m.group(4)]
            boxes.append((x0, y - fs, x0 + tw, y + 3))
        assert len(boxes) >= 3, svg_id
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1], (svg_id, a, b)


def test_parallel_legs_between_the_same_places_are_offset():
    from corridor.report.map import MapLeg, MapNode, render_map

    nodes = [MapNode("a", "Alpha", 47.5, 43.0), MapNode("b", "Beta", 44.1, 49.0)]
    legs = [MapLeg("a", "b", "rail", "first"), MapLeg("a", "b", "rail", "second")]
    svg = render_map((43.0, 42.0, 49.0, 50.0), nodes, legs)
    paths = re.findall(r'class="leg leg-rail" d="([^"]+)"', svg)
    assert len(paths) == 2 and paths[0] != paths[1]


def test_no_case_wording_in_the_report_code():
    """Captions and highlights come from the case, never from the code."""
    from importlib import resources

    root = resources.files("corridor.report")
    files = [f for f in root.iterdir() if f.name.endswith(".py")]
    files += list(root.joinpath("templates").iterdir())
    assert len(files) >= 8
    for f in files:
        text = f.read_text(encoding="utf-8")
        for word in ("Rajin", "Najin", "Dunai", "Vostochny", "Tikhoretsk", "Tumangang",
                     "Khasan", "DPRK", "North Korea", "Trans-Siberian", "KP"):
            assert word not in text, (f.name, word)


def test_timeline_has_vessel_and_rail_lanes_and_readable_claim_periods():
    html = render_html(sample())
    tl = _svg(html, "timeline-window")
    for lane in ("ANGARA", "MARIA", "Rail", "Cargo at piers"):
        assert f">{lane}</text>" in tl
    bands = re.findall(r'class="band-label"[^>]*>([^<]+)<', tl)
    assert len(bands) >= 2
    assert "White House NSC (John Kirby): more than 1,000 containers" in bands
    for key in ("wh-1000-containers", "voa-4-large-ships", "wh-300-najin-dunay"):
        assert key not in html  # claim keys are internal: never shown
    assert 'class="shipment tier-probable"' in tl
    assert "[S19c]" in tl and "(uncertain)" in tl   # hover text: sources, uncertain dates
    assert 'id="timeline-claim"' in html


@pytest.mark.parametrize("days", [2, 9, 40, 200, 800, 4000])
def test_timeline_axis_labels_never_overlap_or_clip(days):
    from corridor.report.timeline import Item, Lane, render_timeline

    t0 = datetime(2023, 3, 17, 5)
    t1 = t0 + timedelta(days=days)
    items = [Item("v", "call", t0 + timedelta(days=days / 3), t0 + timedelta(days=days / 2),
                  "Port", "x")]
    svg = render_timeline([Lane("v", "Vessel")], items, t0, t1, svg_id="t", width_px=960)
    labels = [(float(x), text) for x, text in
              re.findall(r'class="axis-label" x="([\d.]+)"[^>]*>([^<]+)<', svg)]
    assert len(labels) >= 3, labels
    spans = sorted((x, x + 6.6 * len(t)) for x, t in labels)
    assert spans[0][0] >= 150 and spans[-1][1] <= 960 - 16 + 0.5   # inside the plot
    for (a0, a1), (b0, _) in zip(spans, spans[1:], strict=False):
        assert b0 >= a1 + 5, (a0, a1, b0)


def _visible(html: str) -> str:
    """The text a reader sees (figures, scripts and tags removed, entities decoded)."""
    import html as h

    body = re.sub(r"<(svg|script|style)\b.*?</\1>", " ", html, flags=re.S)
    return h.unescape(re.sub(r"<[^>]+>", " ", body))


def test_claims_show_sentence_attribution_arithmetic_and_verdict():
    html = render_html(sample())
    claims = html[html.index('id="claims"'):html.index('id="rail"')]
    assert "more than 1,000 containers of military equipment, and munitions" in claims
    assert "White House NSC (John Kirby)" in claims
    art = claims[claims.index("more than 1,000 containers of military"):]
    art = art[:art.index("</article>")]
    # the arithmetic names places, not their ids
    assert "shipments from Rajin, 7 Sep 2023" in art or "shipments from Rajin, 2023-09-07" in art
    assert "from rajin" not in art
    assert "high 660 is below the claim&#39;s minimum 1,000 → evidence falls short" in art
    assert 'class="verdict short"' in claims
    assert '<a class="tag" href="#src-S1">[S1]</a>' in art


def test_a_repeated_claim_is_shown_once_with_every_place_it_applies_to():
    rec = sample()
    first = next(c for c in rec["claims"] if c["key"] == "wh-300-najin-dunay")
    again = dict(first, claim_id="0123456789abcdef", key="press-copy", places=["vostochny"],
                 attribution="A newspaper", origin="report", sentence="about 300 containers")
    rec["claims"].append(again)
    html = render_html(rec)
    claims = html[html.index('id="claims"'):html.index('id="rail"')]
    assert claims.count("Angara at Dunay on 12 Sep carrying ~300") == 1
    art = claims[claims.index(f'id="claim-{first["claim_id"]}"'):]
    art = art[:art.index("</article>")]
    assert "Angara at Dunay on 12 Sep carrying ~300" in art
    assert "A newspaper" in art and "about 300 containers" in art
    applies = art[art.index("Applies to:"):]
    applies = applies[:applies.index("</p>")]
    for place in ("Rajin (Najin) port", "Dunai / Dunay", "Vostochny port"):
        assert place in applies
    assert 'id="claim-0123456789abcdef"' in art   # a link to the repeat still lands


def test_text_has_no_internal_ids_each_url_once_and_markdown_rendered():
    rec = sample()
    html = render_html(rec)
    text = _visible(html)
    assert not re.search(r"\b[0-9a-f]{16}\b", text)
    # a shipment that carries another's load links to it in words
    assert re.search(r'<a class="obj" href="#shp-[0-9a-f]{16}">[^<]+ → [^<]+</a>', html) or \
        not any("shipment" in (s.get("tier_reason") or "") and re.search(r"[0-9a-f]{16}",
                s.get("tier_reason") or "") for s in rec["shipments"])
    urls = [s["url"] for s in rec["sources"] if s.get("url")]
    assert len(urls) > 50
    for u in urls:
        assert text.count(u) == 1, u
    assert "**" not in text
    assert "<strong>U</strong>" in html


def test_rail_chart_marks_the_surge_against_the_baseline():
    html = render_html(sample())
    chart = _svg(html, "rail-tumangang")
    assert 'class="rail-bar surge"' in chart
    assert "73 railcars [S12][S12c][S12d] / baseline 20" in chart and "= 3.65 ≥ 2 → surge" in chart
    assert 'class="baseline"' in chart and "baseline ≈ 20" in chart
    assert chart.count('class="rail-bar') == 1  # one count; the baseline row is the line


def test_glance_answers_ships_dates_route_amount_and_who():
    html = render_html(sample())
    glance = " ".join(_visible(html[html.index('id="glance"'):html.index('id="map"')]).split())
    for vessel in ("ANGARA", "LADY R", "MAIA-1", "MARIA"):
        assert vessel in glance
    assert "26 Aug 2023 – 4 Mar 2024" in glance
    assert "Rajin → Dunai (sea)" in glance and "Dunai → Tikhoretsk ammunition depot (rail)" in glance
    assert "270–660 containers" in glance
    assert "White House NSC (John Kirby)" in glance


def test_same_reconstruction_gives_identical_html():
    assert render_html(sample()) == render_html(sample())


def test_every_value_from_a_case_is_escaped():
    rec = sample()
    rec["claims"][0]["sentence"] = "<script>alert(1)</script> & more"
    rec["vessels"][0]["name"] = "<b>BOLD</b>"
    rec["nodes"][0]["name"] = '<img src=x onerror="alert(2)">'
    rec["corridor"]["title"] = "<i>title</i>"
    rec["warnings"] = ["<em>warn</em> [S6]"]
    html = render_html(rec)
    assert "<script>alert(1)" not in html and "<b>BOLD</b>" not in html
    assert "<img src=x" not in html and "<i>title</i>" not in html and "<em>warn" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "&lt;b&gt;BOLD&lt;/b&gt;" in html
    assert '&lt;em&gt;warn&lt;/em&gt; <a class="tag" href="#src-S6">[S6]</a>' in html


def test_report_is_built_from_templates_with_autoescape():
    from corridor.report.html import environment

    env = environment()
    assert env.autoescape("report.html.j2") is True
    tpl = env.from_string("{{ x }}")
    assert tpl.render(x="<a>") == "&lt;a&gt;"


def test_simulated_vessels_appear_only_in_their_own_section(store):
    t0 = datetime(2023, 9, 1)
    # a simulated shuttle Najin -> Dunai with a dark stretch in the middle
    lons = list(np.linspace(130.45, 131.2, 30)) + list(np.linspace(131.9, 132.3, 20))
    lats = list(np.linspace(42.2, 42.45, 30)) + list(np.linspace(42.7, 42.85, 20))
    sim = _positions(999000001, lons, lats, t0, 30, "simulated")
    store.insert_arrow("positions", sim)
    first, last = sim.slice(29, 1), sim.slice(30, 1)
    store.con.execute(
        "INSERT INTO events (event_id, type, mmsi, start_ts, end_ts, lat, lon) VALUES "
        "('g1', 'gap', 999000001, ?, ?, ?, ?)",
        [first["ts"][0].as_py(), last["ts"][0].as_py(), first["lat"][0].as_py(),
         first["lon"][0].as_py()])
    html = build_html(store, sample())
    main = html[:html.index('id="simulated"')]
    simsec = html[html.index('id="simulated"'):html.index('id="method"')]
    assert "999000001" not in main
    assert "SIMULATED" in simsec and "fictitious" in simsec
    assert 'class="track"' in simsec and 'class="gap"' in simsec
    assert "50 simulated positions from 1 simulated vessels" in simsec
    assert "1 gap" in simsec


def test_no_simulated_section_without_simulated_data(store):
    html = build_html(store, sample())
    assert 'id="simulated"' not in html
    assert "The store holds no AIS positions." in html


def test_real_ais_of_unrelated_vessels_is_reported_not_drawn(store, data_dir):
    from corridor.ingest.summary import ingest_file
    from corridor.ingest.tables import table_parser

    path = data_dir / "ais-positions" / "aisdb" / "test_data_20210701.csv"
    summary = ingest_file(store, path, "positions", table_parser())
    assert summary.status == "done"
    html = build_html(store, sample())
    n = store.count("positions")
    assert f"{n:,} real AIS positions" in html
    assert "no source gives an MMSI" in html
    assert 'class="track"' not in html


def test_vessel_tracks_thin_long_tracks_and_join_gap_ends(store):
    t0 = datetime(2023, 9, 1)
    lons = np.linspace(130.5, 132.3, 500)
    lats = np.linspace(42.2, 42.85, 500)
    store.insert_arrow("positions", _positions(273000001, lons, lats, t0, 10, "test"))
    tracks, gaps = vessel_tracks(store, [273000001], TrackParams(max_points_per_vessel=100))
    assert len(tracks) == 1 and 90 <= len(tracks[0].points) <= 101
    assert tracks[0].points[0] == (130.5, 42.2)
    assert gaps == []


def test_geojson_for_gis_has_points_lines_and_flat_properties(tmp_path, store):
    out = write_report(store, "dprk-russia-2023", tmp_path / "route.geojson", recon=sample())
    fc = json.loads(out.read_text())
    assert fc["type"] == "FeatureCollection"
    by = {}
    for f in fc["features"]:
        by.setdefault(f["properties"]["feature"], []).append(f)
    assert {"node", "leg", "shipment", "call"} <= set(by)
    assert all(f["geometry"]["type"] == "Point" for f in by["node"])
    sea = next(f for f in by["shipment"] if f["properties"]["mode"] == "sea"
               and f["properties"]["to_place_id"] == "dunay")
    assert sea["geometry"]["coordinates"] == [[130.38972, 42.34], [132.3375, 42.88028]]
    # nested values are JSON text, so every attribute is a plain column in QGIS
    assert all(not isinstance(v, (dict, list)) for f in fc["features"]
               for v in f["properties"].values())
    assert to_geojson(sample()) == to_geojson(sample())
    rec = sample()
    rec["nodes"][0].update(lat=None, lon=None)
    fc = to_geojson(rec)
    node = next(f for f in fc["features"] if f["properties"].get("place_id") == "rajin")
    assert node["geometry"] is None  # no sourced coordinate, none invented


def test_unknown_format_and_missing_browser_give_clear_errors(tmp_path, store, monkeypatch):
    with pytest.raises(ReportError, match="unknown report format 'docx'"):
        write_report(store, "x", tmp_path / "r.docx", recon=sample())
    monkeypatch.setenv("CORRIDOR_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(ReportError, match="needs Chromium"):
        write_report(store, "x", tmp_path / "r.pdf", recon=sample())
    assert not (tmp_path / "r.pdf").exists()


def test_world_basemap_and_fitted_box_cover_any_case():
    from corridor.report.map import fit_bbox, world

    countries = {c["iso"]: c for c in world()}
    assert len(countries) > 200 and {"IR", "RU", "KZ", "SE", "BR", "AU"} <= set(countries)
    pts = [(p[4], p[3]) for p in CASPIAN_PLACES.values()]
    bb = fit_bbox(pts)
    assert all(bb[0] < lon < bb[2] and bb[1] < lat < bb[3] for lon, lat in pts)
    # the box is the case's own: the Caspian case's overview does not reach the Pacific
    assert bb[2] < 70 and bb[0] > 30


def test_conic_projection_keeps_east_and_north_the_right_way_round():
    p = Projection.fit((30.0, 36.0, 142.0, 62.0), width_px=960, kind="lcc")
    xr, yr = p.xy(130.39, 42.34)     # Rajin
    xt, yt = p.xy(40.04, 45.89)      # Tikhoretsk
    xn, yn = p.xy(90.0, 60.0)        # central Siberia
    assert xt < xr                   # west is left
    assert yn < yr                   # north is up
    for x, y in ((xr, yr), (xt, yt), (xn, yn)):
        assert 0 <= x <= p.width_px and 0 <= y <= p.height_px


def test_report_command_writes_html_and_geojson_for_a_loaded_case(tmp_path):
    from typer.testing import CliRunner

    from corridor.cli import app
    from corridor.corridors.case import load_case
    from corridor.store import Store

    db = tmp_path / "c.duckdb"
    with Store.open(db) as s:
        load_case(s, "dprk-russia-2023")
    runner = CliRunner()
    res = runner.invoke(app, ["--db", str(db), "report", "dprk-russia-2023",
                              "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Tikhoretsk" in html and 'id="map-overview"' in html
    assert str(tmp_path) not in html
    res = runner.invoke(app, ["--db", str(db), "report", "dprk-russia-2023",
                              "-o", str(tmp_path / "r.geojson")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "r.geojson").read_text())["type"] == "FeatureCollection"
    bad = runner.invoke(app, ["--db", str(db), "report", "no-such-corridor",
                              "-o", str(tmp_path / "x.html")])
    assert bad.exit_code == 2 and "no-such-corridor" in bad.output
    assert not (tmp_path / "x.html").exists()


# ----------------------------------------------------------------------------- two cases
@pytest.fixture(scope="module")
def two_reports(tmp_path_factory):
    """The shipped case and the Caspian test case, each in its own store, as HTML."""
    from corridor.corridors.case import load_case
    from corridor.store import Store

    root = tmp_path_factory.mktemp("two-cases")
    case_dir, corridor_yaml = write_caspian_case(root)
    out = {}
    with Store.open(root / "dprk.duckdb") as s:
        load_case(s, "dprk-russia-2023")
        out["dprk"] = write_report(s, "dprk-russia-2023", root / "dprk.html").read_text("utf-8")
    with Store.open(root / "caspian.duckdb") as s:
        load_case(s, case_dir)
        out["caspian"] = write_report(s, str(corridor_yaml), root / "caspian.html"
                                      ).read_text("utf-8")
    return root, out


def test_each_case_overview_holds_all_its_nodes_and_nothing_of_the_other(two_reports):
    _, out = two_reports
    dprk, casp = _svg(out["dprk"], "map-overview"), _svg(out["caspian"], "map-overview")
    casp_names = {"Amirabad port", "Makhachkala port", "Astrakhan port", "Kotluban depot"}
    dprk_names = {"Rajin", "Tumangang", "Khasan", "Dunai", "Vostochny port",
                  "Tikhoretsk ammunition depot", "Mozdok"}
    assert _node_labels(casp) == casp_names
    assert _node_ids(casp) == set(CASPIAN_PLACES)
    assert _node_ids(dprk) == DPRK_NODES
    assert {"Tikhoretsk ammunition depot", "Mozdok", "Rajin"} <= _node_labels(dprk)
    for name in dprk_names | {"Rajin (Najin)", "North Korea", "NORTH KOREA", "JAPAN"}:
        assert name not in out["caspian"], name
    for name in casp_names:
        assert name not in out["dprk"], name
    # the Caspian corridor is legible at one scale: no close-up
    assert 'id="map-closeup-1"' not in out["caspian"] and "closeup-frame" not in casp
    # its sea legs follow a lane across the Caspian (several vertices), labelled schematic
    legs = re.findall(r'class="leg leg-sea" d="M([^"]+)"', casp)
    assert len(legs) == 2 and all(d.count("L") >= 3 for d in legs)
    assert "schematic lane, not a track" in casp
    # two rail legs between the same places are drawn apart
    rails = re.findall(r'class="leg leg-rail" d="([^"]+)"', casp)
    assert len(rails) == 2 and rails[0] != rails[1]


def test_report_names_no_local_path_and_states_provenance(two_reports):
    root, out = two_reports
    for html in out.values():
        assert str(root) not in html and "/tmp/" not in html
        footer = html[html.index("<footer"):]
        assert re.search(r"corridor \d+\.\d+", footer) and "UTC" in footer
        assert re.search(r"sha256:[0-9a-f]{64}", footer)
    assert "Caspian test corridor, Iran to Russia, 2023" in out["caspian"][
        out["caspian"].index("<footer"):]


def test_building_a_report_does_not_write_to_the_store(tmp_path):
    from corridor.corridors.case import load_case
    from corridor.report.build import store_fingerprint
    from corridor.store import Store

    with Store.open(tmp_path / "s.duckdb") as s:
        load_case(s, "dprk-russia-2023")
        before = store_fingerprint(s)
        n_ship = s.count("shipments")
        write_report(s, "dprk-russia-2023", tmp_path / "r.html")
        assert s.count("shipments") == n_ship == 0
        assert store_fingerprint(s) == before


def test_store_fingerprint_follows_content_not_load_order(tmp_path):
    from corridor.corridors.case import load_case
    from corridor.report.build import store_fingerprint
    from corridor.store import Store

    with Store.open(tmp_path / "a.duckdb") as a, Store.open(tmp_path / "b.duckdb") as b:
        load_case(a, "dprk-russia-2023")
        load_case(b, "dprk-russia-2023")
        load_case(b, "dprk-russia-2023")  # re-loading adds nothing
        fa, fb = store_fingerprint(a), store_fingerprint(b)
        assert fa == fb and fa.startswith("sha256:")
        b.insert_arrow("positions", _positions(273000001, [10.0, 10.1], [50.0, 50.1],
                                               datetime(2023, 1, 1), 10, "test"))
        assert store_fingerprint(b) != fa


# ----------------------------------------------------------------------------- imagery
def test_annotated_image_is_stored_by_hash_and_drawn_with_its_marks(tmp_path):
    import hashlib

    from corridor.corridors.case import load_case
    from corridor.report.imagery import imagery_dir, load_imagery
    from corridor.store import Store

    case_dir, corridor_yaml, sheet = write_colorado_case(tmp_path)
    image = tmp_path / "images" / "rmnp-rgb.tif"
    digest = hashlib.sha256(image.read_bytes()).hexdigest()
    with Store.open(tmp_path / "s.duckdb") as s:
        load_case(s, case_dir)
        first = load_imagery(s, sheet)
        assert (first.images_added, first.annotations_added) == (1, 2)
        assert len(first.skipped) == 1 and "imagery.csv:4" in first.skipped[0]
        again = load_imagery(s, sheet)            # re-loading the same files adds nothing
        assert (again.images_added, again.annotations_added) == (0, 0)
        stored = imagery_dir(s) / "sha256" / digest[:2] / f"{digest}.tif"
        assert stored.read_bytes() == image.read_bytes()
        assert s.query("SELECT count(*) AS n FROM ingest_log WHERE kind = 'image'"
                       ).to_pylist()[0]["n"] == 1
        html = write_report(s, str(corridor_yaml), tmp_path / "r.html").read_text("utf-8")
    sec = html[html.index('id="imagery"'):html.index('id="vessels"')]
    svg = _svg(sec, f"img-{digest[:12]}")
    assert svg.count('class="annot"') == 2 and "data:image/png;base64," in svg
    assert "2 × lake marked" in sec and digest in sec
    assert "Landsat (USGS/NASA)" in sec and "marked by corridor test suite" in sec
    # the count in the rail table links to the mark it came from
    rail = html[html.index('id="rail"'):html.index('id="imagery"')]
    link = re.search(r'<a href="#(ann-[0-9a-f]{16})">1 lake marked on the image</a>', rail)
    assert link and f'id="{link.group(1)}"' in sec
    # every source file is listed with its hash, by name only
    files = html[html.index("Files the store was loaded from"):]
    assert "rmnp-rgb.tif" in files and "rail.csv" in files and str(tmp_path) not in html


def test_without_an_image_each_count_names_its_source():
    html = render_html(sample())
    sec = html[html.index('id="imagery"'):html.index('id="vessels"')]
    assert "No image file is stored for this corridor" in sec
    assert "73 freight railcars at Tumangang" in sec and 'href="#src-S12"' in sec
    assert "<image" not in sec


def test_a_typed_reconstruction_renders_the_same_report_as_its_dict():
    """Templates read fields by attribute, so objects (the typed reconstruction) and the
    JSON dict give the same document; a leg's ``from`` may be called ``from_`` on an object."""
    from types import SimpleNamespace

    def typed(x):
        if isinstance(x, dict):
            return SimpleNamespace(**{{"from": "from_", "to": "to_"}.get(k, k): typed(v)
                                      for k, v in x.items()})
        return [typed(v) for v in x] if isinstance(x, list) else x

    rec = sample()
    html = render_html(rec)
    assert render_html(typed(rec)) == html
    assert html.count('class="leg leg-') >= 6


def test_prose_names_places_links_objects_and_hides_local_paths():
    rec = sample()
    ship = rec["shipments"][1]
    rec["warnings"] = [f"shipment {ship['shipment_id']} from rajin checked against "
                       "/home/analyst/cases/secret-case/corridor.yaml; record 0123456789abcdef"]
    html = render_html(rec)
    method = html[html.index('id="method"'):]
    method = method[:method.index("</ul>")]
    assert f'<a class="obj" href="#shp-{ship["shipment_id"]}">' in method
    assert "from Rajin checked" in method and "from rajin" not in method
    assert "corridor.yaml" in method and "/home/analyst" not in html and "secret-case" not in html
    assert "0123456789abcdef" not in method and "a stored record" in method


def test_a_sea_leg_sailed_by_an_ais_track_is_drawn_as_recorded_not_as_a_lane():
    from corridor.report.map import MapLeg, MapNode, MapTrack, render_map

    nodes = [MapNode("a", "Alpha", 130.39, 42.34), MapNode("b", "Beta", 132.34, 42.88)]
    legs = [MapLeg("a", "b", "sea", "sea leg Alpha → Beta")]
    track = MapTrack("AIS track", tuple(zip(np.linspace(130.45, 132.3, 50).tolist(),
                                            np.linspace(42.3, 42.85, 50).tolist(), strict=True)))
    bbox = (129.0, 41.0, 134.0, 44.0)
    assert 'class="leg leg-sea"' in render_map(bbox, nodes, legs)
    with_track = render_map(bbox, nodes, legs, [track])
    assert 'class="leg leg-sea"' not in with_track and 'class="track"' in with_track


def test_a_user_restyles_the_report_with_own_templates(tmp_path, monkeypatch):
    (tmp_path / "report.css").write_text("body{background:#123456}", encoding="utf-8")
    (tmp_path / "custom.html.j2").write_text(
        '{% extends "report.html.j2" %}{% block glance %}<p id="mine">{{ corridor.title }}'
        "</p>{% endblock %}", encoding="utf-8")
    monkeypatch.setenv("CORRIDOR_REPORT_TEMPLATES", str(tmp_path))
    html = render_html(sample())
    assert "body{background:#123456}" in html and 'id="map-overview"' in html
    rec = sample()
    rec["corridor"]["title"] = "<b>x</b>"
    doc = render_html(rec, template="custom.html.j2")
    assert '<p id="mine">&lt;b&gt;x&lt;/b&gt;</p>' in doc   # still escaped
    assert 'id="glance"' not in doc and 'id="claims"' in doc


def test_cli_ingest_imagery_stores_marks_and_names_skipped_rows(tmp_path):
    from typer.testing import CliRunner

    from corridor.cli import app

    case_dir, _corridor_yaml, sheet = write_colorado_case(tmp_path)
    db = tmp_path / "cli.duckdb"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", str(db), "corridors", "load", str(case_dir)]).exit_code == 0
    res = runner.invoke(app, ["ingest", "imagery", str(sheet), "--db", str(db)])
    assert res.exit_code == 1  # one row of the sheet is bad: named, the rest stored
    assert "1 image(s) added" in res.output and "2 annotation(s) added" in res.output
    assert "imagery.csv:4" in res.output
    again = runner.invoke(app, ["ingest", "imagery", str(sheet), "--db", str(db)])
    assert "0 image(s) added, 1 already stored, 0 annotation(s) added" in again.output


def test_a_sea_leg_through_suez_follows_the_lane_not_a_line_over_land():
    """Black Sea to the Persian Gulf: the sea route (4.2x the great circle) runs through the
    Bosphorus and Suez; a straight line would cross Turkey and Iraq."""
    from corridor.report.map import sea_lane

    lane = sea_lane((33.52, 44.62), (49.08, 30.43))  # (lon, lat): Sevastopol, Bandar Imam Khomeini
    assert len(lane) > 10
    assert any(abs(lon - 32.5) < 1.0 and 29.0 < lat < 31.5 for lon, lat in lane)  # Suez canal
    assert any(abs(lon - 29.0) < 0.5 and 40.8 < lat < 41.3 for lon, lat in lane)  # Bosphorus
