"""The evidence report: HTML, figures, GeoJSON and output formats (no browser needed here)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from report_sample import sample

from corridor.ids import position_obs_ids
from corridor.report.basemap import Projection, load_basemap
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


def test_map_draws_nodes_by_precision_and_legs_by_mode():
    html = render_html(sample())
    route = html[html.index('<svg id="map-route"'):]
    route = route[:route.index("</svg>")]
    assert "node-facility" in route            # Tikhoretsk depot
    assert "node-settlement" in route          # Rajin, Dunai (town coordinates)
    assert "node-approximate" in route         # Vostochny
    assert "leg-sea" in route and "leg-rail" in route
    assert "Rajin Pier 3" not in route         # no sourced coordinate: never placed on the map
    ports = html[html.index('<svg id="map-ports"'):]
    ports = ports[:ports.index("</svg>")]
    # the rail leg leaves the inset: drawn as a labelled pointer, not across the inset
    assert "rail to Tikhoretsk ammunition depot" in ports
    assert "schematic" in html.lower()


def test_timeline_has_vessel_and_rail_lanes_claim_band_and_sources_on_hover():
    html = render_html(sample())
    tl = html[html.index('<svg id="timeline-window"'):]
    tl = tl[:tl.index("</svg>")]
    for lane in ("ANGARA", "MARIA", "Rail", "Cargo at piers"):
        assert f">{lane}</text>" in tl
    assert 'class="band"' in tl and "wh-1000-containers" in tl
    assert 'class="shipment tier-probable"' in tl
    # hover text names the sources and the vague date keeps its wording
    assert "[S6][S7]" in tl
    assert "mid-Aug 2023" in tl
    assert 'id="timeline-claim"' in html  # the close-up on the claim period


def test_claims_show_sentence_attribution_arithmetic_and_verdict():
    html = render_html(sample())
    claims = html[html.index('id="claims"'):html.index('id="rail"')]
    assert "more than 1,000 containers of military equipment, and munitions" in claims
    assert "White House NSC (Kirby)" in claims
    assert "low: 1 shipment × 270 = 270" in claims
    assert "330 &lt; 1,000 → evidence falls short" in claims
    assert 'class="verdict short"' in claims or "verdict short" in claims


def test_rail_chart_marks_the_surge_against_the_baseline():
    html = render_html(sample())
    chart = html[html.index('<svg id="rail-tumangang"'):]
    chart = chart[:chart.index("</svg>")]
    assert 'class="rail-bar surge"' in chart
    assert "73 / 20 = 3.65 ≥ 2.0 → surge" in chart
    assert 'class="baseline"' in chart and "baseline ≈ 20" in chart
    assert chart.count('class="rail-bar') == 2  # two counts; the baseline row is the line


def test_glance_answers_ships_dates_route_amount_and_who():
    html = render_html(sample())
    glance = html[html.index('id="glance"'):html.index('id="map"')]
    assert "ANGARA" in glance
    assert "7 Sep 2023" in glance
    assert "Rajin → Dunai" in glance and "(rail)" in glance
    assert "270–330 containers" in glance
    assert "White House NSC (Kirby)" in glance


def test_same_reconstruction_gives_identical_html():
    assert render_html(sample()) == render_html(sample())


def test_text_from_sources_is_escaped():
    rec = sample()
    rec["claims"][0]["sentence"] = "<script>alert(1)</script> & more"
    html = render_html(rec)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html


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
    pier = next(f for f in by["node"] if f["properties"]["place_id"] == "rajin-pier-3")
    assert pier["geometry"] is None  # no sourced coordinate, none invented
    sea = next(f for f in by["shipment"] if f["properties"]["mode"] == "sea")
    assert sea["geometry"]["coordinates"] == [[130.38972, 42.34], [132.3375, 42.88028]]
    # nested values are JSON text, so every attribute is a plain column in QGIS
    assert all(not isinstance(v, (dict, list)) for f in fc["features"]
               for v in f["properties"].values())
    assert to_geojson(sample()) == to_geojson(sample())


def test_unknown_format_and_missing_browser_give_clear_errors(tmp_path, store, monkeypatch):
    with pytest.raises(ReportError, match="unknown report format 'docx'"):
        write_report(store, "x", tmp_path / "r.docx", recon=sample())
    monkeypatch.setenv("CORRIDOR_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(ReportError, match="needs Chromium"):
        write_report(store, "x", tmp_path / "r.pdf", recon=sample())
    assert not (tmp_path / "r.pdf").exists()


def test_basemap_views_cover_the_corridor_places():
    views = load_basemap()["views"]
    route, ports = views["route"]["bbox"], views["ports"]["bbox"]
    for lon, lat in ((130.38972, 42.34), (40.042361, 45.888417), (44.6569, 43.7472)):
        assert route[0] <= lon <= route[2] and route[1] <= lat <= route[3]
    for lon, lat in ((130.38972, 42.34), (132.3375, 42.88028), (133.067, 42.733),
                     (130.64556, 42.42833)):
        assert ports[0] <= lon <= ports[2] and ports[1] <= lat <= ports[3]
    # coastline of the inset is detailed (1:10m) and the borders at the Tumen are present
    assert sum(len(r) for r in views["ports"]["land"]) > 300
    assert views["ports"]["borders"]


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
    assert "Tikhoretsk" in html and 'id="map-route"' in html
    res = runner.invoke(app, ["--db", str(db), "report", "dprk-russia-2023",
                              "-o", str(tmp_path / "r.geojson")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "r.geojson").read_text())["type"] == "FeatureCollection"
    bad = runner.invoke(app, ["--db", str(db), "report", "no-such-corridor",
                              "-o", str(tmp_path / "x.html")])
    assert bad.exit_code == 2 and "no-such-corridor" in bad.output
    assert not (tmp_path / "x.html").exists()
