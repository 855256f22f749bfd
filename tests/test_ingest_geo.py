"""Position files with a coordinate system: GeoPackage, GeoJSON and Shapefile read through
pyogrio, reprojected to WGS84; no CRS, malformed GeoJSON and broken GeoPackages refused with
one line naming the file while the other files of the batch are stored."""

from __future__ import annotations

import json
import sqlite3

import geopandas as gpd
import pytest
from typer.testing import CliRunner

from corridor.cli import app
from corridor.ingest.summary import ingest_file
from corridor.ingest.tables import table_parser

runner = CliRunner()
BOSTON = "ais-positions/noaa-boston-2014/ais.gpkg"


@pytest.fixture(scope="module")
def boston(data_dir) -> gpd.GeoDataFrame:
    g = gpd.read_file(data_dir / BOSTON)
    assert len(g) == 972 and g.crs.to_epsg() == 4326
    return g


def _stored(store):
    return store.query("SELECT mmsi, ts, lat, lon FROM positions ORDER BY mmsi, ts, lat")


@pytest.mark.parametrize(("name", "epsg"), [("merc.gpkg", 3857), ("utm.shp", 32619),
                                            ("merc.geojson", 3857)])
def test_projected_files_are_reprojected_to_wgs84(store, boston, tmp_path, name, epsg):
    g = boston.rename(columns={"basedatetime": "ts"})  # Shapefile names are 10 characters
    path = tmp_path / name
    if path.suffix == ".geojson":  # GeoJSON in another CRS: the pre-RFC 7946 "crs" member
        g.to_crs(epsg).to_file(path, driver="GeoJSON", RFC7946="NO")
        assert "3857" in json.loads(path.read_text())["crs"]["properties"]["name"]
    else:
        g.to_crs(epsg).to_file(path)
    res = ingest_file(store, path, "positions", table_parser())
    assert res.status == "done" and res.stored["positions"] == 972, res.lines()
    got = _stored(store).to_pandas()
    want = g.assign(lon=g.geometry.x, lat=g.geometry.y).sort_values(["mmsi", "ts", "lat"])
    assert got["lon"].to_numpy() == pytest.approx(want["lon"].to_numpy(), abs=1e-7)
    assert got["lat"].to_numpy() == pytest.approx(want["lat"].to_numpy(), abs=1e-7)
    assert "reprojected to WGS84" in res.details["coordinates"]


@pytest.mark.parametrize("name", ["nocrs.gpkg", "noprj.shp"])
def test_a_file_without_a_coordinate_system_is_refused(store, boston, tmp_path, name):
    path = tmp_path / name
    boston.set_crs(None, allow_override=True).rename(columns={"basedatetime": "ts"}).to_file(path)
    res = ingest_file(store, path, "positions", table_parser())
    assert res.status == "failed" and "declares no coordinate system" in res.message
    assert store.count("positions") == 0


MALFORMED = {
    "features_not_objects.geojson": {"type": "FeatureCollection", "features": [1, 2]},
    "short_coordinates.geojson": {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [130.4, 42.3]},
         "properties": {"mmsi": 273000001, "ts": "2023-09-07T00:00:00"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1]},
         "properties": {"mmsi": 273000001, "ts": "2023-09-07T01:00:00"}}]},
    "geometry_string.geojson": {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": "x", "properties": {"mmsi": 273000001,
                                                            "ts": "2023-09-07T00:00:00"}}]},
}


def test_malformed_geojson_fails_one_file_the_rest_is_stored(db_file, boston, tmp_path,
                                                              data_dir):
    paths = []
    for name, doc in MALFORMED.items():
        paths.append(tmp_path / name)
        paths[-1].write_text(json.dumps(doc))
    deep = tmp_path / "deep_nesting.geojson"
    deep.write_text('{"type": "FeatureCollection", "features": [' + "[" * 100_000 +
                    "]" * 100_000 + "]}")
    paths.append(deep)
    res = runner.invoke(app, ["ingest", "positions", *map(str, paths), str(data_dir / BOSTON),
                              "--db", str(db_file)])
    assert res.exit_code == 1
    lines = res.output.splitlines()
    for p in paths:
        mine = [x for x in lines if x.startswith(f"{p}:")]
        assert len(mine) == 1, (p, res.output)
        if p.name == "short_coordinates.geojson":  # a readable file with one bad row
            assert "stored 1 positions from 2 input rows" in mine[0]
        else:
            assert ": error: " in mine[0]
    assert "invalid_position (lines 2)" in res.output
    assert "stored 972 positions" in res.output  # the good file went in


def test_broken_geopackages(store, boston, tmp_path):
    missing = tmp_path / "missing_table.gpkg"
    boston.to_file(missing, layer="positions")
    con = sqlite3.connect(missing)
    con.execute("DROP TABLE positions")  # still listed in gpkg_contents
    con.commit()
    con.close()
    res = ingest_file(store, missing, "positions", table_parser())
    assert res.status == "failed" and res.message == "GeoPackage has no readable feature table"
    # a table name with a double quote (which the hand-written SQL reader broke on) is read
    quoted = tmp_path / "quoted.gpkg"
    boston.to_file(quoted, layer='ais "2014" positions')
    res = ingest_file(store, quoted, "positions", table_parser())
    assert res.status == "done" and res.stored["positions"] == 972, res.lines()
    assert "'ais \"2014\" positions'" in res.details["coordinates"]
