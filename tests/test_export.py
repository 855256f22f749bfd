"""GIS files from the store: each format opens in geopandas / pyogrio / an XML parser with the
expected layers, geometries and CRS; gaps are OFF→ON lines, encounters the meeting point of
both vessels, tracks one line per segment. Simulated (fictitious) ships, so no data files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pyarrow.parquet as pq
import pyogrio
import pytest
from lxml import etree
from typer.testing import CliRunner

from corridor import export
from corridor.cli import app
from corridor.engines.local import run_detect
from corridor.evaluate import load_simulation
from corridor.sim import SimConfig, simulate
from corridor.store import Store

runner = CliRunner()
KML = "{http://www.opengis.net/kml/2.2}"
GPX = "{http://www.topografix.com/GPX/1/1}"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """A store of 8 simulated ships over 3 days, detected, with one sea shipment."""
    d = tmp_path_factory.mktemp("sim")
    simulate(SimConfig(vessels=8, days=3, seed=6), d)
    path = d / "case.duckdb"
    with Store.open(path) as s:
        load_simulation(s, d)
        run_detect(s, workers=1)
        s.con.execute("INSERT INTO places (place_id, name, kind, lat, lon, source) VALUES "
                      "('x-origin', 'Origin', 'port', 42.2, 130.3, 'test'), "
                      "('x-dest', 'Destination', 'port', 43.1, 131.9, 'test')")
        s.con.execute("INSERT INTO shipments (shipment_id, corridor_id, mode, mmsi, "
                      "from_place_id, to_place_id, depart_earliest, arrive_latest, tier, "
                      "evidence, cargo_low, cargo_high, cargo_unit) VALUES ('sh-1', 'c', 'sea', "
                      "100000001, 'x-origin', 'x-dest', '2023-09-01 02:00', '2023-09-02 10:00', "
                      "'probable', ['ev-a', 'ev-b'], 10, 20, 'containers')")
    return path


@pytest.fixture(scope="module")
def stored(db) -> dict:
    with Store.open(db) as s:
        events = s.query("SELECT event_id, type, mmsi, other_mmsi, lat, lon, "
                         "CAST(attrs AS VARCHAR) AS attrs FROM events").to_pylist()
        positions = s.count("positions")
        vessels = s.query("SELECT DISTINCT mmsi FROM positions")["mmsi"].to_pylist()
    by_type: dict[str, list] = {}
    for e in events:
        by_type.setdefault(e["type"], []).append(e)
    assert by_type.get("gap") and by_type.get("encounter")  # the data shows both
    return {"by_type": by_type, "positions": positions, "vessels": vessels}


def _export(db: Path, what: str, path: Path, *extra: str) -> None:
    res = runner.invoke(app, ["export", what, "--to", str(path), "--db", str(db), *extra])
    assert res.exit_code == 0, res.output
    assert str(path) in res.output and path.is_file()


def test_geopackage_has_a_layer_per_event_type(db, stored, tmp_path):
    out = tmp_path / "events.gpkg"
    _export(db, "events", out)
    names = {name for name, _ in pyogrio.list_layers(out)}
    assert names == {export.EVENT_LAYERS[t] for t in stored["by_type"]}
    gaps = gpd.read_file(out, layer="gaps")
    assert gaps.crs.to_epsg() == 4326
    assert len(gaps) == len(stored["by_type"]["gap"]) and set(gaps.geom_type) == {"LineString"}
    for _, g in gaps.iterrows():  # OFF → ON, from the gap's own attributes
        a = json.loads(g["attrs"])
        (x0, y0), (x1, y1) = g.geometry.coords
        assert (x0, y0, x1, y1) == pytest.approx((a["off_lon"], a["off_lat"], a["on_lon"],
                                                  a["on_lat"]))
        assert len(json.loads(g["evidence"])) == 2  # the OFF and ON obs_ids
    enc = gpd.read_file(out, layer="encounters")
    assert len(enc) == len(stored["by_type"]["encounter"])
    assert set(enc.geom_type) == {"Point"}
    for _, e in enc.iterrows():
        assert e["mmsi"] in stored["vessels"] and e["other_mmsi"] in stored["vessels"]
        assert e["mmsi"] != e["other_mmsi"]
    info = pyogrio.read_info(out, layer="encounters")
    assert info["crs"] == "EPSG:4326" and info["geometry_type"] == "Point"


def test_tracks_are_one_line_per_segment(db, stored, tmp_path):
    out = tmp_path / "tracks.gpkg"
    _export(db, "tracks", out)
    tracks = gpd.read_file(out, layer="tracks")
    assert set(tracks.geom_type) == {"LineString"} and tracks.crs.to_epsg() == 4326
    assert tracks["positions"].sum() == stored["positions"]
    assert set(tracks["mmsi"]) == set(stored["vessels"])
    # a vessel with a gap longer than 6 h has more than one segment
    gapped = {e["mmsi"] for e in stored["by_type"]["gap"]}
    per_vessel = tracks.groupby("mmsi").size()
    assert all(per_vessel[m] >= 2 for m in gapped)
    assert (tracks["end_ts"] >= tracks["start_ts"]).all()


def test_geoparquet_flatgeobuf_geojson_open_in_geopandas(db, stored, tmp_path):
    for name in ("positions.parquet", "positions.fgb", "positions.geojson"):
        _export(db, "positions", tmp_path / name, "--vessel", str(stored["vessels"][0]))
    pq_file = tmp_path / "positions.parquet"
    geo = json.loads(pq.read_metadata(pq_file).metadata[b"geo"])
    assert geo["primary_column"] == "geometry" and geo["columns"]["geometry"]["encoding"] == "WKB"
    frames = [gpd.read_parquet(pq_file), gpd.read_file(tmp_path / "positions.fgb"),
              gpd.read_file(tmp_path / "positions.geojson")]
    n = len(frames[0])
    assert n > 0
    for f in frames:
        assert len(f) == n and f.crs.to_epsg() == 4326 and set(f.geom_type) == {"Point"}
        assert set(f["mmsi"]) == {stored["vessels"][0]}
    # events in one file: lines and points together
    _export(db, "events", tmp_path / "events.fgb")
    ev = gpd.read_file(tmp_path / "events.fgb")
    assert len(ev) == sum(len(v) for v in stored["by_type"].values())
    assert {"LineString", "Point"} <= set(ev.geom_type)


def test_geojson_coordinates_have_six_decimals(db, tmp_path):
    out = tmp_path / "events.geojson"
    _export(db, "events", out)
    doc = json.loads(out.read_text())
    coords = []
    for f in doc["features"]:
        g = f["geometry"]
        if g is not None:
            coords += [g["coordinates"]] if g["type"] == "Point" else g["coordinates"]
    assert len(coords) > 10
    for x, y in coords:
        assert round(x, 6) == x and round(y, 6) == y
    # the listing's --format geojson too, with gaps as lines
    res = runner.invoke(app, ["events", "--format", "geojson", "--db", str(db)])
    feats = json.loads(res.output)["features"]
    gap = next(f for f in feats if f["properties"]["type"] == "gap")
    assert gap["geometry"]["type"] == "LineString"
    for f in feats:
        if f["geometry"] and f["geometry"]["type"] == "Point":
            assert all(round(c, 6) == c for c in f["geometry"]["coordinates"])


def test_kml_has_time_spans_and_a_folder_per_layer(db, stored, tmp_path):
    out = tmp_path / "events.kml"
    _export(db, "events", out)
    root = etree.parse(str(out)).getroot()
    assert root.tag == f"{KML}kml"
    docs = root.findall(f".//{KML}Document[@id]")
    layer_ids = {d.get("id") for d in docs} - {"root_doc"}
    assert layer_ids == {export.EVENT_LAYERS[t] for t in stored["by_type"]}
    placemarks = root.findall(f".//{KML}Placemark")
    assert len(placemarks) == sum(len(v) for v in stored["by_type"].values())
    for pm in placemarks:
        span = pm.find(f"{KML}TimeSpan")
        begin = datetime.fromisoformat(span.findtext(f"{KML}begin").replace("Z", "+00:00"))
        end = datetime.fromisoformat(span.findtext(f"{KML}end").replace("Z", "+00:00"))
        assert begin <= end and begin.tzinfo is not None
    drawn = [pm for pm in placemarks
             if pm.find(f"{KML}Point") is not None or pm.find(f"{KML}LineString") is not None]
    with_position = sum(1 for v in stored["by_type"].values() for e in v if e["lat"] is not None)
    assert len(drawn) == with_position  # events without a position are listed, not drawn
    gaps = [d for d in docs if d.get("id") == "gaps"][0]
    for pm in gaps.findall(f"{KML}Placemark"):
        coords = pm.findtext(f"{KML}LineString/{KML}coordinates").split()
        assert len(coords) == 2  # OFF and ON
    # and GDAL reads it back
    assert {n for n, _ in pyogrio.list_layers(out)} == layer_ids


def test_gpx_waypoints_and_tracks(db, stored, tmp_path):
    out = tmp_path / "events.gpx"
    _export(db, "events", out)
    root = etree.parse(str(out)).getroot()
    assert root.tag == f"{GPX}gpx" and root.get("version") == "1.1"
    n_lines = len(stored["by_type"]["gap"])
    trks = root.findall(f"{GPX}trk")
    wpts = root.findall(f"{GPX}wpt")
    assert len(trks) == n_lines
    with_point = sum(1 for t, v in stored["by_type"].items() if t != "gap" for e in v
                     if e["lat"] is not None)
    assert len(wpts) == with_point
    # GPX 1.1 order: all waypoints before the tracks
    kinds = [c.tag for c in root]
    assert kinds == sorted(kinds, key=lambda t: t != f"{GPX}wpt")
    for w in wpts:
        assert -90 <= float(w.get("lat")) <= 90 and w.findtext(f"{GPX}time").endswith("Z")
    assert gpd.read_file(out, layer="tracks").crs.to_epsg() == 4326


def test_shipments_are_origin_to_destination_lines(db, tmp_path):
    out = tmp_path / "shipments.gpkg"
    _export(db, "shipments", out)
    sh = gpd.read_file(out, layer="shipments")
    assert len(sh) == 1 and sh.geom_type[0] == "LineString"
    assert list(sh.geometry[0].coords) == [(130.3, 42.2), (131.9, 43.1)]
    assert json.loads(sh["evidence"][0]) == ["ev-a", "ev-b"] and sh["tier"][0] == "probable"


def test_unknown_extension_and_missing_database(db, tmp_path):
    res = runner.invoke(app, ["export", "tracks", "--to", str(tmp_path / "x.txt"), "--db", str(db)])
    assert res.exit_code == 2 and "GIS file" in res.output
    res = runner.invoke(app, ["export", "events", "--to", str(tmp_path / "x.gpkg"),
                              "--db", str(tmp_path / "none.duckdb")])
    assert res.exit_code == 2 and "no database" in res.output
    assert not (tmp_path / "none.duckdb").exists() and not (tmp_path / "x.gpkg").exists()


def test_archive_files_are_geoparquet(db, tmp_path):
    from corridor import archive

    with Store.open(db, read_only=True) as s:
        archive.export_positions(s, tmp_path / "arc")
        archive.export_events(s, tmp_path / "arc")
    files = sorted((tmp_path / "arc" / "positions").rglob("*.parquet"))
    assert files
    for f in files[:3]:
        geo = json.loads(pq.read_metadata(f).metadata[b"geo"])
        assert geo["version"] == "1.1.0" and geo["columns"]["geometry"]["geometry_types"] == ["Point"]
        g = gpd.read_parquet(f)
        assert g.crs.to_string() == "OGC:CRS84"
        assert (g.geometry.x == g["lon"]).all() and (g.geometry.y == g["lat"]).all()
    # the canonical readers still return the canonical columns
    assert "geometry" not in archive.read_positions(tmp_path / "arc").column_names
    ev = gpd.read_parquet(sorted((tmp_path / "arc" / "events").rglob("*.parquet"))[0])
    assert ev.crs.to_string() == "OGC:CRS84"


def test_nullable_integers_stay_integers(db):
    import corridor

    with corridor.open(db) as ws:
        ev = ws.to_geodataframe("events")
    assert str(ev["other_mmsi"].dtype) == "Int64" and ev["other_mmsi"].isna().any()
    enc = ev[ev["type"] == "encounter"]
    assert len(enc) and enc["other_mmsi"].notna().all()


def test_tracks_follow_stored_segment_ids(tmp_path):
    """Where positions carry a ``segment_id`` (two ships sharing one MMSI, interleaved in
    time), tracks are those segments, not time splits."""
    with Store.open(tmp_path / "seg.duckdb") as s:
        s.con.execute("ALTER TABLE positions ADD COLUMN segment_id VARCHAR")
        rows = [(i, 100000009, f"2023-09-01 {i:02d}:00", 40.0 + 0.01 * i,
                 (130.0 if i % 2 else 140.0) + 0.01 * i, "a" if i % 2 else "b")
                for i in range(10)]
        s.con.executemany("INSERT INTO positions (obs_id, mmsi, ts, lat, lon, segment_id) "
                          "VALUES (?, ?, ?, ?, ?, ?)", rows)
        tracks = export.tracks_layer(s)
    assert sorted(tracks["segment_id"]) == ["a", "b"] and list(tracks["positions"]) == [5, 5]
    for _, t in tracks.iterrows():  # each line stays on its own ship's side
        xs = [x for x, _ in t.geometry.coords]
        assert (max(xs) < 135) if t["segment_id"] == "a" else (min(xs) > 135)


def test_any_table_with_lon_lat_becomes_a_geodataframe(db):
    import corridor

    with corridor.open(db) as ws:
        events = ws.events()
        gdf = ws.to_geodataframe(events)
    assert len(gdf) == events.num_rows and gdf.crs.to_epsg() == 4326
    no_position = gdf["lat"].isna()
    assert no_position.any()  # identity changes have none: kept, without a geometry
    assert gdf.geometry[no_position].isna().all() and gdf.geometry[~no_position].notna().all()


def test_gpx_track_points_carry_their_times(db, stored, tmp_path):
    out = tmp_path / "tracks.gpx"
    _export(db, "tracks", out, "--vessel", str(stored["vessels"][0]))
    root = etree.parse(str(out)).getroot()
    points = root.findall(f"{GPX}trk/{GPX}trkseg/{GPX}trkpt")
    assert len(points) >= 2
    times = [datetime.fromisoformat(p.findtext(f"{GPX}time").replace("Z", "+00:00"))
             for p in points]
    with Store.open(db, read_only=True) as s:
        n = s.query("SELECT count(*) AS n FROM positions WHERE mmsi = ?",
                    [stored["vessels"][0]])["n"][0].as_py()
    assert len(points) >= n  # every position is a track point (a lone one drawn twice)
    for trk in root.findall(f"{GPX}trk"):
        ts = [p.findtext(f"{GPX}time") for p in trk.iter(f"{GPX}trkpt")]
        assert ts == sorted(ts)
    assert times[0].tzinfo is not None
