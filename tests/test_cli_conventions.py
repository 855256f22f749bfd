"""The command line behaves like its peers: --db before or after the command, --version,
--quiet/--verbose, choices in help, a clear error for a missing or locked database."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from typer.testing import CliRunner

import corridor
from corridor.cli import EXIT_LOCKED, EXIT_STORE, app

runner = CliRunner()
BOSTON = "ais-positions/noaa-boston-2014/ais.gpkg"


def test_db_before_or_after_the_command(db_file, data_dir):
    res = runner.invoke(app, ["ingest", "positions", str(data_dir / BOSTON), "--db", str(db_file)])
    assert res.exit_code == 0, res.output
    assert "stored 972 positions" in res.output and db_file.is_file()
    after = runner.invoke(app, ["detect", "--db", str(db_file)])
    assert after.exit_code == 0, after.output
    before = runner.invoke(app, ["--db", str(db_file), "events", "--format", "json"])
    n_events = len(json.loads(before.output))
    assert n_events > 0
    assert len(json.loads(runner.invoke(
        app, ["events", "--format", "json", "--db", str(db_file)]).output)) == n_events
    # nested groups take it too
    res = runner.invoke(app, ["places", "list", "--db", str(db_file), "--format", "json"])
    assert res.exit_code == 0 and json.loads(res.output) == []


def test_the_db_after_the_command_wins(tmp_path, data_dir):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    res = runner.invoke(app, ["--db", str(a), "ingest", "positions", str(data_dir / BOSTON),
                              "--db", str(b)])
    assert res.exit_code == 0, res.output
    assert b.is_file() and not a.exists()


def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0
    assert res.output.strip() == f"corridor {corridor.__version__}"


def test_quiet_keeps_the_output_and_drops_the_remarks(db_file, data_dir):
    res = runner.invoke(app, ["ingest", "positions", "-q", str(data_dir / BOSTON), "--db", str(db_file)])
    assert res.exit_code == 0 and res.output == ""
    res = runner.invoke(app, ["--quiet", "--db", str(db_file), "detect"])
    assert res.exit_code == 0 and res.output == ""
    res = runner.invoke(app, ["vessels", "--format", "json", "-q", "--db", str(db_file)])
    assert len(json.loads(res.output)) == 4


def test_verbose_says_which_database(db_file):
    runner.invoke(app, ["init", "--db", str(db_file), "-q"])
    res = runner.invoke(app, ["stats", "-v", "--db", str(db_file)])
    assert res.exit_code == 0
    assert f"INFO: opening {db_file}" in res.stderr
    assert "INFO: stats took" in res.stderr
    assert "INFO" not in runner.invoke(app, ["stats", "--db", str(db_file)]).stderr


def test_help_shows_choices_and_readable_metavars():
    res = runner.invoke(app, ["events", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert "[table|csv|json|geojson]" in res.output
    assert "port_visit|gap|encounter" in res.output
    assert "--since" in res.output and "TIME" in res.output and "MMSI" in res.output
    assert "<bool>" not in res.output and "<list[" not in res.output and "<str>" not in res.output
    assert "--db" in res.output and "--quiet" in res.output
    bad = runner.invoke(app, ["events", "--format", "xml"])
    assert bad.exit_code == 2 and "xml" in bad.output


def test_a_read_command_on_a_missing_database_creates_nothing(tmp_path):
    missing = tmp_path / "nowhere" / "x.duckdb"
    for args in (["stats"], ["vessels"], ["events"], ["track", "1"], ["claims"]):
        res = runner.invoke(app, [*args, "--db", str(missing)])
        assert res.exit_code == EXIT_STORE, (args, res.output)
        assert f"no database at {missing}" in res.stderr
    assert not missing.parent.exists()


def test_a_locked_store_names_the_process_holding_it(db_file):
    runner.invoke(app, ["init", "--db", str(db_file), "-q"])
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); time.sleep(60)", str(db_file)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        res = runner.invoke(app, ["stats", "--db", str(db_file)])
        assert res.exit_code == EXIT_LOCKED
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1
        assert f"PID {holder.pid}" in lines[0] and str(db_file) in lines[0]
        assert "--db" in lines[0]  # what to do
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    assert runner.invoke(app, ["stats", "--db", str(db_file)]).exit_code == 0


def test_progress_bars_show_rate_and_eta():
    import io

    from corridor.progress import RichProgress

    out = io.StringIO()
    bar = RichProgress(file=out)
    for done in range(0, 5001, 1000):
        bar("positions", done, 5000)
    text = out.getvalue()
    assert "positions" in text and "5000/5000" in text
    assert "/s" in text and "ETA" in text  # the rate and the time left
    assert not bar._started  # stopped by itself once complete


def test_arguments_and_flags_read_plainly_in_help():
    res = runner.invoke(app, ["track", "--help"], env={"COLUMNS": "200"})
    assert "{MMSI}" in res.output and "<int>" not in res.output
    res = runner.invoke(app, ["export", "--help"], env={"COLUMNS": "200"})
    assert "[positions|events|tracks|shipments]" in res.output


def test_report_to_a_gis_extension_points_to_export(db_file, tmp_path):
    runner.invoke(app, ["init", "--db", str(db_file), "-q"])
    res = runner.invoke(app, ["report", "dprk-russia-2023", "-o", str(tmp_path / "x.kml"),
                              "--db", str(db_file)])
    assert res.exit_code == 2 and "corridor export" in res.stderr
    assert not (tmp_path / "x.kml").exists()
