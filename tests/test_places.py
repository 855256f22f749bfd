"""The port gazetteer, user places and the nearest-place index."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from corridor import places
from corridor.cli import app
from corridor.geo import haversine_m
from corridor.store import Store


@pytest.fixture(scope="module")
def gazetteer() -> pa.Table:
    return places.gazetteer_table()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """One store with the gazetteer, shared by the read-only tests of this file."""
    s = Store.open(tmp_path_factory.mktemp("gaz") / "gaz.duckdb")
    places.load_gazetteer(s)
    yield s
    s.close()


def test_gazetteer_sources_and_unique_slug_ids(gazetteer):
    ids = gazetteer.column("place_id").to_pylist()
    assert len(ids) == len(set(ids))
    assert all(places.re.fullmatch(r"[a-z0-9][a-z0-9-]*", i) for i in ids)
    kinds = gazetteer.column("kind").to_pylist()
    assert kinds.count("anchorage") == 56_015  # GFW cells (60,410 rows, repeated cells merged)
    sources = gazetteer.column("source").to_pylist()
    assert sum(s.startswith("NGA World Port Index") for s in sources) == 3_803
    assert any(s.startswith("Natural Earth") for s in sources)
    # Every port_id names a port that exists.
    port_ids = set(gazetteer.column("port_id").to_pylist())
    assert port_ids <= set(ids)


def test_enclosed_seas_have_ports_with_their_own_country(gazetteer):
    """The WPI, Natural Earth and GFW list no Caspian port; the searoute package's UN/LOCODE
    ports fill that hole, each far from every other gazetteer port and in its own country."""
    import pyarrow.compute as pc

    ports = gazetteer.filter(pc.equal(gazetteer["kind"], "port"))
    by_name = {r["name"]: r for r in ports.to_pylist()}
    caspian = {"Bandar Anzali": "IR", "Bandar Noshahr": "IR", "Aktau": "KZ", "Astrakhan": "RU",
               "Makhachkala": "RU", "Baku": "AZ"}
    for name, cc in caspian.items():
        assert name in by_name and by_name[name]["country"] == cc, name
        assert 36.0 < by_name[name]["lat"] < 47.5 and 46.5 < by_name[name]["lon"] < 55.0, name
    added = ports.filter(pc.starts_with(ports["source"], "searoute ports.geojson"))
    assert 1_000 < added.num_rows < 2_000
    assert all(a and len(a[0]) == 5 for a in added["aliases"].to_pylist())  # the UN/LOCODE
    assert all(code[0][:2] == cc for code, cc in
               zip(added["aliases"].to_pylist(), added["country"].to_pylist(), strict=True))


def test_load_gazetteer_is_idempotent(store, gazetteer):
    assert places.load_gazetteer(store) == gazetteer.num_rows
    assert places.load_gazetteer(store) == 0
    assert store.count("places") == gazetteer.num_rows


def test_corridor_ports_present(loaded):
    rows = loaded.query(
        "SELECT place_id, name, country, kind FROM places WHERE place_id IN "
        "('kp-najin', 'ru-vladivostok', 'ru-zarubino', 'ru-posyet') ORDER BY place_id")
    assert rows.column("country").to_pylist() == ["KP", "RU", "RU", "RU"]
    assert rows.column("name").to_pylist() == ["Najin", "Pos'yet", "Vladivostok", "Zarubino"]
    # GFW anchorage points are grouped under the WPI port they are named after.
    n = loaded.query("SELECT count(*) AS n FROM places WHERE kind = 'anchorage' "
                     "AND port_id = 'ru-vladivostok'").column("n")[0].as_py()
    assert n > 100


def test_najin_found_near_rajin(loaded):
    idx = places.PlaceIndex.from_store(loaded, kinds=["port", "anchorage"])
    pos, d = idx.nearest(np.array([42.24, 42.2333]), np.array([130.29, 130.30]), 3_000.0)
    assert idx.place_ids[pos].tolist() == ["kp-najin", "kp-najin"]
    assert d[1] < 10.0 and d[0] < 1_500.0


def test_nearest_equals_brute_force_haversine(gazetteer):
    idx = places.PlaceIndex.from_arrow(gazetteer)
    lat0 = gazetteer.column("lat").to_numpy()
    lon0 = gazetteer.column("lon").to_numpy()
    rng = np.random.default_rng(11)
    # Half the points near real places (the interesting case), half anywhere.
    pick = rng.integers(0, len(lat0), 100)
    lat = np.concatenate([lat0[pick] + rng.normal(0, 0.05, 100), rng.uniform(-70, 70, 100)])
    lon = np.concatenate([lon0[pick] + rng.normal(0, 0.05, 100), rng.uniform(-180, 180, 100)])
    lat = np.clip(lat, -89.9, 89.9)
    max_d = 50_000.0
    pos, d = idx.nearest(lat, lon, max_d)
    dist = haversine_m(lat[:, None], lon[:, None], lat0[None, :], lon0[None, :])
    ref_d = dist.min(axis=1)
    ref_pos = np.argmin(dist, axis=1)  # first of equals = lowest row position
    within = ref_d <= max_d
    assert (pos[~within] == -1).all() and np.isinf(d[~within]).all()
    np.testing.assert_allclose(d[within], ref_d[within], rtol=1e-9, atol=1e-6)
    assert (pos[within] == ref_pos[within]).all()


def _destination(lat, lon, bearing_deg, dist_m):
    """The point dist_m from (lat, lon) along the great circle of the given bearing."""
    d = dist_m / 6_371_008.8
    p1, l1, b = np.radians(lat), np.radians(lon), np.radians(bearing_deg)
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(b))
    l2 = l1 + np.arctan2(np.sin(b) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), (np.degrees(l2) + 180.0) % 360.0 - 180.0


@pytest.mark.parametrize("max_d", [4_000.0, 10_000.0, 50_000.0])
def test_nearest_finds_every_place_just_within_reach_anywhere(max_d):
    """The coarse raster that skips positions far from every place never skips one within
    reach: places with and without radius, across the antimeridian, at high latitude."""
    lat0 = np.array([43.1, 43.12, -16.8, 70.5, 78.9, -77.8, 0.0])
    lon0 = np.array([131.9, 131.95, 179.99, -179.97, 11.9, 166.7, 0.0])
    radius = np.array([0.0, 1_500.0, 0.0, 800.0, 0.0, 3_000.0, 0.0])
    tbl = pa.table({"place_id": [f"p{i}" for i in range(7)], "name": ["x"] * 7,
                    "kind": ["port"] * 7, "lat": lat0, "lon": lon0, "radius_m": radius})
    idx = places.PlaceIndex.from_arrow(tbl)
    bearings = np.arange(0.0, 360.0, 7.5)
    lat, lon = [], []
    for k in range(7):
        for f in (0.5, 0.999, 1.001, 1.5):
            a, b = _destination(lat0[k], lon0[k], bearings, radius[k] + f * max_d)
            lat.append(a)
            lon.append(b)
    lat, lon = np.concatenate(lat), np.concatenate(lon)
    pos, d = idx.nearest(lat, lon, max_d)
    eff = np.maximum(haversine_m(lat[:, None], lon[:, None], lat0[None, :], lon0[None, :])
                     - radius[None, :], 0.0)
    ref_d = eff.min(axis=1)
    within = ref_d <= max_d
    assert within.sum() > 0.4 * len(lat) and (~within).sum() > 0.3 * len(lat)
    assert (pos[~within] == -1).all() and np.isinf(d[~within]).all()
    assert (pos[within] == np.argmin(eff, axis=1)[within]).all()
    np.testing.assert_allclose(d[within], ref_d[within], rtol=1e-9, atol=1e-6)
    # the places settled without the k-d tree get the tree's very bits
    tree_only = places.PlaceIndex.from_arrow(tbl)

    class Everywhere:
        def lookup(self, lat, lon):
            return np.full(len(lat), places._SEVERAL, dtype=np.int32)

    tree_only._raster = lambda tree_no, max_distance_m: Everywhere()
    pos2, d2 = tree_only.nearest(lat, lon, max_d)
    assert np.array_equal(pos, pos2) and np.array_equal(d.view(np.int64), d2.view(np.int64))


def test_point_radius_and_polygon_footprints():
    square = {"type": "Polygon", "coordinates": [[[10, 0], [11, 0], [11, 1], [10, 1], [10, 0]]]}
    tbl = pa.table({
        "place_id": ["pt", "poly"], "name": ["P", "Q"], "kind": ["berth", "area"],
        "lat": [0.0, 0.5], "lon": [0.0, 10.5], "radius_m": [2_000.0, None],
        "geometry": [None, json.dumps(square)],
    })
    idx = places.PlaceIndex.from_arrow(tbl)
    lat = np.array([0.0, 0.0, 0.5, 0.5, 0.5])
    lon = np.array([0.01, 0.03, 10.5, 11.5, 12.0])
    pos, d = idx.nearest(lat, lon, 60_000.0)
    assert pos.tolist() == [0, 0, 1, 1, -1]
    assert d[0] == 0.0  # 1.1 km from the point, inside its 2 km radius
    assert d[1] == pytest.approx(haversine_m(0, 0, 0, 0.03) - 2_000.0, abs=1e-6)
    assert d[2] == 0.0  # inside the polygon
    # 0.5 degrees east of the polygon's east edge, on the sphere.
    assert d[3] == pytest.approx(haversine_m(0.5, 11.0, 0.5, 11.5), rel=1e-6)


def test_nearest_across_the_antimeridian():
    tbl = pa.table({"place_id": ["e"], "name": ["E"], "kind": ["port"], "lat": [-16.8],
                    "lon": [179.99]})
    pos, d = places.PlaceIndex.from_arrow(tbl).nearest(np.array([-16.8]), np.array([-179.99]),
                                                       5_000.0)
    assert pos[0] == 0 and d[0] == pytest.approx(haversine_m(-16.8, 179.99, -16.8, -179.99))


def test_add_places_csv_reports_bad_lines_and_stores_the_rest(store, tmp_path):
    f = tmp_path / "mine.csv"
    f.write_text(
        "place_id,name,kind,lat,lon,radius_m,country,precision,source,aliases\n"
        "dunai,Dunai,port,42.8817,132.3383,1500,RU,facility,Analyst map,Dunay;Дунай\n"
        "bad-lat,Nowhere,port,95,130,,,approximate,x\n"
        "bad-kind,Thing,castle,42,130,,,,x\n"
        "tikhoretsk-depot,Tikhoretsk depot,depot,45.85,40.12,3000,ru,approximate,Report p. 3\n",
        encoding="utf-8")
    res = places.add_places(store, f)
    assert (res.rows_in, res.stored, res.skipped) == (4, 2, 2)
    assert f"{f}: line 3: lat 95.0 is outside -90..90" in res.errors[0]
    assert "line 4" in res.errors[1] and "castle" in res.errors[1]
    row = store.query("SELECT * FROM places WHERE place_id = 'dunai'").to_pylist()[0]
    assert row["aliases"] == ["Dunay", "Дунай"] and row["radius_m"] == 1500.0
    assert store.query("SELECT country FROM places WHERE place_id = 'tikhoretsk-depot'"
                       ).column("country")[0].as_py() == "RU"


def test_add_places_csv_missing_column_is_a_clear_error(store, tmp_path):
    f = tmp_path / "short.csv"
    f.write_text("place_id,name,lat,lon\nx,X,1,2\n", encoding="utf-8")
    with pytest.raises(places.PlacesFileError) as err:
        places.add_places(store, f)
    msg = str(err.value)
    assert str(f) in msg and "line 1" in msg and "kind" in msg and "source" in msg
    assert store.count("places") == 0


def test_add_places_geojson_polygon_then_contains(store, tmp_path):
    f = tmp_path / "rajin.geojson"
    poly = [[[130.28, 42.22], [130.32, 42.22], [130.32, 42.25], [130.28, 42.25], [130.28, 42.22]]]
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": poly},
         "properties": {"place_id": "rajin-port", "name": "Rajin port", "kind": "port",
                        "country": "KP", "source": "Analyst polygon"}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
         "properties": {"place_id": "line", "name": "L", "kind": "area", "source": "x"}},
    ]}), encoding="utf-8")
    res = places.add_places(store, f)
    assert res.stored == 1 and "feature 1 (line)" in res.errors[0]
    idx = places.PlaceIndex.from_store(store)
    pos, d = idx.nearest(np.array([42.235, 42.30]), np.array([130.30, 130.30]), 10_000.0)
    assert idx.place_ids[pos[0]] == "rajin-port" and d[0] == 0.0
    assert d[1] == pytest.approx(haversine_m(42.30, 130.30, 42.25, 130.30), rel=1e-4)


def test_cli_init_add_and_list(db_file, tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["--db", str(db_file), "init"])
    assert r.exit_code == 0, r.output
    assert "56,015 anchorage" in r.output
    f = tmp_path / "p.csv"
    f.write_text("place_id,name,kind,lat,lon,radius_m,country,precision,source\n"
                 "dunai,Dunai,port,42.8817,132.3383,1500,RU,facility,Analyst\n", encoding="utf-8")
    r = runner.invoke(app, ["--db", str(db_file), "places", "add", str(f)])
    assert r.exit_code == 0 and "1 places stored" in r.output
    r = runner.invoke(app, ["--db", str(db_file), "places", "list", "--near", "42.2333,130.30",
                            "--radius-km", "5", "--kind", "port", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert rows[0]["place_id"] == "kp-najin" and rows[0]["distance_km"] < 0.1


def test_unusable_positions_match_nothing():
    tbl = pa.table({"place_id": ["a"], "name": ["A"], "kind": ["port"], "lat": [0.0],
                    "lon": [0.0]})
    pos, d = places.PlaceIndex.from_arrow(tbl).nearest(
        np.array([np.nan, 0.0, 95.0]), np.array([0.0, 0.001, 0.0]), 1_000.0)
    assert pos.tolist() == [-1, 0, -1] and np.isinf(d[[0, 2]]).all()
