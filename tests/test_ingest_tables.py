"""Decoded position tables: layouts detected, rows counted, values kept, bad rows reported."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

import duckdb
import pytest

from corridor.ingest.summary import ingest_file
from corridor.ingest.tables import detect_layout, table_parser
from corridor.store import Store

NOAA_2022 = "ais-positions/noaa-us-2022-01-03/AISdata_2022-01-03_first99999.parquet"
NOAA_2023 = "ais-positions/aisdb/test_data_noaa_20230101.csv"
SPIRE = "ais-positions/aisdb/test_data_20210701.csv"
BOSTON = "ais-positions/noaa-boston-2014/ais.gpkg"
DAYFIRST = "ais-positions/derived/noaa-2022-dayfirst.csv"  # real rows, a layout corridor does not know


def _ingest(store, path, **kw):
    return ingest_file(store, Path(path), "positions", table_parser(**kw))


def test_marinecadastre_parquet_rows_and_values(store, data_dir):
    path = data_dir / NOAA_2022
    expected = duckdb.sql(
        f"SELECT count(*) FROM (SELECT DISTINCT MMSI, BaseDateTime, LAT, LON FROM '{path}' "
        "WHERE MMSI BETWEEN 100000000 AND 999999999)"
    ).fetchall()[0][0]
    not_nine_digits = duckdb.sql(
        f"SELECT count(*) FROM '{path}' WHERE MMSI NOT BETWEEN 100000000 AND 999999999").fetchall()[0][0]
    result = _ingest(store, path)
    assert result.status == "done" and result.details["layout"] == "marinecadastre"
    assert store.count("positions") == expected  # exact duplicate rows collapse to one
    assert not_nine_digits > 0 and result.skipped["invalid_mmsi"] == not_nine_digits
    row = store.one(
        "SELECT lat, lon, sog, cog FROM positions WHERE mmsi = 367379190 AND ts = '2022-01-03 00:00:00'"
    )
    assert row == pytest.approx((30.3706, -88.56408, row[2], row[3]))
    # static fields become vessel reports with IMO digits extracted
    n_named = store.one(
        "SELECT count(DISTINCT mmsi) FROM vessel_reports WHERE name IS NOT NULL"
    )[0]
    assert n_named > 10_000


def test_marinecadastre_csv_imo_and_sentinels(store, data_dir):
    result = _ingest(store, data_dir / NOAA_2023)
    # two rows are from 7- and 8-digit MMSIs (a coast station, a misconfigured unit)
    assert store.count("positions") == 998 and result.skipped == {"invalid_mmsi": 2}
    imo, name = store.one(
        "SELECT imo, name FROM vessel_reports WHERE mmsi = 636021061"
    )
    assert (imo, name) == (9307839, "MSC NAISHA III")
    # COG 360 is the "not available" sentinel: stored as NULL
    assert store.one("SELECT cog FROM positions WHERE mmsi = 367752440")[0] is None


def test_spire_layout_keeps_positions_and_counts_other_messages(store, data_dir):
    result = _ingest(store, data_dir / SPIRE)
    assert result.details["layout"] == "spire"
    expected = duckdb.sql(
        f"SELECT count(*) FROM read_csv('{data_dir / SPIRE}', all_varchar=true) "
        "WHERE Message_ID IN ('1','2','3','18','19','27')"
    ).fetchall()[0][0]
    stored = store.count("positions")
    skipped_positions = sum(result.skipped.get(r, 0) for r in ("invalid_position", "missing_mmsi",
                                                                 "invalid_mmsi"))
    assert stored + skipped_positions + result.duplicates == expected
    assert result.skipped["other_type"] > 0
    # milliseconds are added to the time
    ts = store.one(
        "SELECT ts FROM positions WHERE mmsi = 273455590 ORDER BY ts LIMIT 1"
    )[0]
    assert (ts.second, ts.microsecond) == (19, 160_000)


def test_geopackage_points(store, data_dir):
    result = _ingest(store, data_dir / BOSTON)
    assert result.status == "done" and store.count("positions") == 972
    assert store.one("SELECT count(DISTINCT mmsi) FROM positions")[0] == 4
    lat, lon = store.one(
        "SELECT lat, lon FROM positions WHERE mmsi = 240000208 ORDER BY ts LIMIT 1"
    )
    assert 42.24 < lat < 42.43 and -71.06 < lon < -70.80


def test_explicit_mapping_with_time_format(store, data_dir):
    path = data_dir / DAYFIRST
    result = _ingest(
        store, path,
        mapping={"ts": "seen_at", "mmsi": "vessel_ref", "lat": "latitude", "lon": "longitude"},
        time_format="%d/%m/%Y %H:%M:%S",
    )
    assert result.status == "done", result.message
    expected = duckdb.sql(
        f"SELECT count(*) FROM (SELECT DISTINCT vessel_ref, seen_at, latitude, longitude FROM '{path}')"
    ).fetchall()[0][0]
    assert expected > 1900
    assert store.count("positions") == expected
    first, last = store.one("SELECT min(ts), max(ts) FROM positions")
    # day first: 03/01/2022 is the 3rd of January, not the 1st of March
    assert (first.date().isoformat(), last.date().isoformat()) == ("2022-01-03", "2022-01-03")
    row = store.one(
        "SELECT lat, lon FROM positions WHERE mmsi = ? ORDER BY ts LIMIT 1",
        [int(duckdb.sql(f"SELECT min(vessel_ref) FROM '{path}'").fetchall()[0][0])])
    src = duckdb.sql(f"SELECT latitude::DOUBLE, longitude::DOUBLE FROM read_csv('{path}', all_varchar=true) "
                     "ORDER BY vessel_ref, strptime(seen_at, '%d/%m/%Y %H:%M:%S') LIMIT 1").fetchall()[0]
    assert row == pytest.approx(src)


def test_unknown_layout_asks_for_a_mapping(store, data_dir):
    result = _ingest(store, data_dir / DAYFIRST)
    assert result.status == "failed"
    assert "--map" in result.message and "seen_at" in result.message


def test_bad_rows_are_counted_with_line_numbers_and_the_rest_stored(store, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text(
        "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading\n"
        "273000001,2023-09-07T00:00:00,42.3,130.4,0.1,10,511\n"
        "273000001,not a time,42.3,130.4,0.1,10,0\n"
        "273000001,2023-09-07T01:00:00,91,181,0.1,10,0\n"
        "273000001,2023-09-07T02:00:00,42.3\n"
        "273000001,2099-01-01T00:00:00,42.3,130.4,0.1,10,0\n"
        "273000001,2023-09-07T03:00:00,42.4,130.5,102.3,360,0\n"
    )
    result = _ingest(store, f)
    assert result.status == "done"
    assert store.count("positions") == 2
    assert result.examples["missing_time"] == [3]
    assert result.examples["invalid_position"] == [4]
    assert result.examples["malformed"] == [5]
    assert result.examples["future_timestamp"] == [6]
    sog, cog, heading = store.one(
        "SELECT sog, cog, heading FROM positions ORDER BY ts DESC LIMIT 1")
    assert (sog, cog, heading) == (None, None, 0)
    assert store.one("SELECT heading FROM positions ORDER BY ts LIMIT 1")[0] is None


def test_strict_stores_nothing_from_a_file_with_bad_rows(store, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("MMSI,BaseDateTime,LAT,LON\n273000001,2023-09-07T00:00:00,42.3,130.4\n273000002,x,1,1\n")
    result = ingest_file(store, f, "positions", table_parser(strict=True))
    assert result.status == "failed" and "missing_time (line 3)" in result.message
    assert store.count("positions") == 0


def test_times_no_ais_report_can_have_are_missing_times(store, tmp_path):
    """DuckDB parses "-infinity" and year 0; neither is a position's time: counted as
    missing_time with their lines, and the other rows are stored."""
    f = tmp_path / "odd-times.csv"
    f.write_text("MMSI,BaseDateTime,LAT,LON\n273000001,2023-09-07T00:00:00,42.3,130.4\n"
                 "273000002,-infinity,42.3,130.4\n273000003,0000-06-01T00:00:00,42.3,130.4\n"
                 "273000004,1970-01-01T00:00:00,42.3,130.4\n")
    result = _ingest(store, f)
    assert result.status == "done" and store.count("positions") == 1
    assert result.skipped == {"missing_time": 3} and result.examples["missing_time"] == [3, 4, 5]


def test_static_reports_are_the_same_whatever_the_order_of_groups(tmp_path):
    """Raw values that type to the same report ("-0.0" and "0", " ALPHA" and "ALPHA") make one
    report with one id, so a second store built from the same file has the same ids."""
    f = tmp_path / "statics.csv"
    rows = [f"273000001,2023-09-07T00:{m:02d}:00,42.3,130.4,{name},{length}"
            for m, (name, length) in enumerate([("ALPHA", "-0.0"), (" ALPHA", "0"), ("ALPHA", "0.0")] * 20)]
    f.write_text("MMSI,BaseDateTime,LAT,LON,VesselName,Length\n" + "\n".join(rows) + "\n")
    ids = []
    for k in range(3):
        with Store.open(tmp_path / f"s{k}.duckdb") as s:
            assert _ingest(s, f).status == "done"
            reports = s.query("SELECT obs_id, name, length_m FROM vessel_reports").to_pylist()
            assert [(r["name"], r["length_m"]) for r in reports] == [("ALPHA", 0.0)]
            ids.append(reports[0]["obs_id"])
    assert len(set(ids)) == 1


def test_strict_names_the_unusable_rows_not_the_informational_ones(store, data_dir):
    """The real Spire-like export has bad positions, a missing MMSI and (valid) non-position
    messages: --strict names the first line of each unusable kind, and nothing is stored."""
    result = _ingest(store, data_dir / SPIRE, strict=True)
    assert result.status == "failed"
    assert "invalid_position (line 426)" in result.message and "missing_mmsi (line 678)" in result.message
    assert "other_type" not in result.message
    assert store.count("positions") == 0 and store.count("vessel_reports") == 0


def test_strict_fails_before_any_part_is_committed(store, tmp_path):
    """A file bigger than one commit part, its only bad row at the end: --strict still stores
    nothing (the file is counted before its rows are stored)."""
    f = tmp_path / "long.csv"
    good = "".join(f"273000001,2023-09-07T00:{m:02d}:00,42.3,130.4\n" for m in range(50))
    f.write_text("MMSI,BaseDateTime,LAT,LON\n" + good + "273000001,2023-09-07T01:00:00,95,130.4\n")
    result = ingest_file(store, f, "positions", table_parser(strict=True), commit_rows=10)
    assert result.status == "failed" and "invalid_position (line 52)" in result.message
    assert store.count("positions") == 0


def test_binary_and_gzip_garbage_fail_cleanly(store, tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01\x02binary\xff" * 50)
    assert _ingest(store, junk).status == "failed"
    gz = tmp_path / "trunc.parquet"
    gz.write_bytes(b"PAR1" + gzip.compress(b"x" * 1000)[:50])
    result = _ingest(store, gz)
    assert result.status == "failed" and "Parquet" in result.message
    assert store.count("positions") == 0


def test_corrupt_geopackage(store, tmp_path):
    f = tmp_path / "empty.gpkg"
    sqlite3.connect(f).execute("CREATE TABLE x (a)").connection.commit()
    result = _ingest(store, f)
    assert result.status == "failed" and "GeoPackage" in result.message


def test_dma_layout_detection_and_nav_status_text():
    header = ["# Timestamp", "Type of mobile", "MMSI", "Latitude", "Longitude",
              "Navigational status", "ROT", "SOG", "COG", "Heading", "IMO", "Callsign", "Name"]
    layout = detect_layout(header)
    assert layout.name == "dma" and layout.time_format == "%d/%m/%Y %H:%M:%S"
    assert layout.columns["nav_status"] == "Navigational status"


def test_dma_format_sample(store, tmp_path):
    # A format sample in the DMA layout (values made up for the layout, not real vessels).
    f = tmp_path / "aisdk.csv"
    f.write_text(
        "# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,"
        "Heading,IMO,Callsign,Name\n"
        "07/09/2023 00:00:01,Class A,219000001,55.1,10.2,At anchor,0,0.1,10.0,200,Unknown,OXAB2,TEST ONE\n"
        "07/09/2023 00:00:02,Base Station,2190047,55.2,10.3,Unknown value,,,,,,,\n"
        "07/09/2023 00:00:03,Class A,219000001,55.1,10.2,Moored,0,0.0,10.0,200,Unknown,OXAB2,TEST ONE\n"
    )
    result = _ingest(store, f)
    assert store.count("positions") == 2
    assert result.skipped == {"not_a_vessel": 1} and result.total_skipped == 0
    status = [r[0] for r in store.con.execute("SELECT nav_status FROM positions ORDER BY ts").fetchall()]
    assert status == [1, 5]
