"""The inspection commands a user runs after ingest: stats, vessels, track; exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from corridor.cli import app

runner = CliRunner()
BOSTON = "ais-positions/noaa-boston-2014/ais.gpkg"
NOAA_2023 = "ais-positions/aisdb/test_data_noaa_20230101.csv"


def _run(db, *args):
    return runner.invoke(app, ["--db", str(db), *args])


def test_ingest_then_look(db_file, data_dir):
    res = _run(db_file, "ingest", "positions", str(data_dir / BOSTON), str(data_dir / NOAA_2023))
    assert res.exit_code == 3, res.output  # two rows of the NOAA file have no 9-digit MMSI
    assert "stored 972 positions" in res.output and "skipped: 2 invalid_mmsi" in res.output

    again = _run(db_file, "ingest", "positions", str(data_dir / BOSTON))
    assert again.exit_code == 0 and "already ingested" in again.output

    stats = _run(db_file, "stats", "--format", "json")
    rows = {r["what"]: r["value"] for r in json.loads(stats.output)}
    assert rows["positions"] == "1,970" and rows["files ingested: done"] == "2"

    vessels = json.loads(_run(db_file, "vessels", "--format", "json").output)
    by_mmsi = {v["mmsi"]: v for v in vessels}
    assert by_mmsi[636021061]["name"] == "MSC NAISHA III"
    assert by_mmsi[636021061]["flag"].startswith("Liberia")
    boston = [v for v in vessels if v["positions"] > 1]
    assert len(boston) == 4 and sum(v["positions"] for v in boston) == 972

    track = _run(db_file, "track", "240000208", "--format", "geojson")
    doc = json.loads(track.output)
    line = doc["features"][0]
    assert line["geometry"]["type"] == "LineString"
    assert line["properties"]["positions"] == len(line["geometry"]["coordinates"]) > 10
    csv_out = _run(db_file, "track", "240000208", "--format", "csv").output.splitlines()
    assert csv_out[0].startswith("obs_id,mmsi,ts,lat,lon")


def test_exit_codes_say_what_was_skipped(db_file, tmp_path, data_dir):
    bad = tmp_path / "bad.csv"
    bad.write_text("MMSI,BaseDateTime,LAT,LON\n273000001,2023-09-07T00:00:00,42.3,130.4\n273000001,x,1,1\n")
    res = _run(db_file, "ingest", "positions", str(bad))
    assert res.exit_code == 3 and "missing_time (lines 3)" in res.output
    missing = _run(db_file, "ingest", "positions", str(tmp_path / "nope.csv"), str(data_dir / BOSTON))
    assert missing.exit_code == 1 and "no such file" in missing.output
    assert "stored 972 positions" in missing.output  # the rest of the batch still goes in


def test_track_of_unknown_vessel(db_file):
    assert _run(db_file, "init").exit_code == 0
    res = _run(db_file, "track", "123456789")
    assert res.exit_code == 1 and "no positions" in res.output


def test_ingest_straight_into_an_archive(db_file, tmp_path, data_dir):
    """Inputs too big for the database go to a Parquet archive that both engines read."""
    from corridor import archive

    arc = tmp_path / "archive"
    res = _run(db_file, "ingest", "positions", str(data_dir / BOSTON), "--archive", str(arc))
    assert res.exit_code == 0, res.output
    got = archive.read_positions(arc)
    assert got.num_rows == 972 and len(set(got.column("mmsi").to_pylist())) == 4
    nmea = data_dir / "ais-nmea/dma-aislib/replay_dump.txt"
    res = _run(db_file, "ingest", "nmea", str(nmea), "--archive", str(arc))
    assert res.exit_code in (0, 3), res.output
    assert archive.read_positions(arc).num_rows > 972
    assert not db_file.exists()  # the database was never touched
