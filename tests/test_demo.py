"""``corridor demo``: the whole 2023 case from bundled data to a report, in one command."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from corridor.cli import app


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "corridor-demo"
    res = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out, res.output, (out / "report.html").read_text(encoding="utf-8")


def test_demo_prints_progress_summary_and_the_report_path(demo):
    out, output, _ = demo
    for step in ("[1/6] case dprk-russia-2023", "[3/6] gazetteer", "[4/6] simulated corridor",
                 "[6/6] reconstruct and report"):
        assert step in output
    assert f"report: {out / 'report.html'}" in output
    assert re.search(r"detection: \d+ vessels, \d+ events", output)
    # its own database, inside the demo directory
    assert (out / "corridor.duckdb").is_file()


def test_demo_report_answers_the_case_questions(demo):
    _, _, html = demo
    for vessel in ("ANGARA", "LADY R", "MAIA-1", "MARIA"):
        assert vessel in html
    glance = html[html.index('id="glance"'):html.index('id="map"')]
    assert "Tikhoretsk" in glance and "containers" in glance
    # the White House figure is held against the dated evidence, with its arithmetic
    claims = html[html.index('id="claims"'):html.index('id="rail"')]
    assert "more than 1,000 containers" in claims
    assert "evidence falls short" in claims
    # the rail surge at the crossing, with the baseline
    rail = html[html.index('id="rail"'):html.index('id="vessels"')]
    assert "73" in rail and "surge" in rail
    assert 'href="#src-S6"' in html and 'id="src-S6"' in html


def test_demo_keeps_simulated_ships_in_their_own_section(demo):
    _, _, html = demo
    start, end = html.index('id="simulated"'), html.index('id="method"')
    sim, rest = html[start:end], html[:start] + html[end:]
    assert "SIMULATED" in sim and "ground truth" in sim
    assert re.search(r"1000000\d\d", sim)
    assert not re.search(r"\b1000000\d\d\b", rest)  # no simulated MMSI outside the section
    assert "Shipments reconstructed from the simulated AIS" in sim
    # no AIS unrelated to the case goes into its database
    assert "The store holds no real AIS positions" in rest
    assert "Boston" not in html and "noaa" not in html.lower()


def test_demo_report_names_no_local_path_and_states_its_provenance(demo):
    out, _, html = demo
    assert str(out) not in html and str(out.parent) not in html
    footer = html[html.index("<footer"):]
    assert "corridor 0." in footer and "UTC" in footer
    assert "dprk-russia-2023" in footer and "sha256:" in footer


def test_demo_report_shows_no_internal_id_in_prose(demo):
    _, _, html = demo
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(svg|script|style)\b.*?</\1>", " ", html, flags=re.S))
    text = re.sub(r"sha256:[0-9a-f]{64}", "", text)  # the store fingerprint is meant to be there
    assert not re.search(r"\b[0-9a-f]{16}\b", text)


def test_demo_report_states_a_repeated_claim_once(demo):
    _, _, html = demo
    claims = html[html.index('id="claims"'):html.index('id="rail"')]
    # the White House figure is stated by the case and three times in the seed article
    arts = [a for a in claims.split("<article")[1:] if "more than 1,000 containers" in a]
    assert len(arts) == 1
    assert arts[0].count("Also stated:") >= 2
    assert "from Rajin by ANGARA" in claims and "by angara" not in claims
