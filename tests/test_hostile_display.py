"""Spoofing through names: terminal escapes and bidi overrides are defused on display."""

from __future__ import annotations

import pyarrow as pa

from corridor.display import FSI, PDI, isolate_bidi, terminal_safe
from corridor.ingest.summary import IngestSummary
from corridor.output import render

RLO = "\u202e"
HOSTILE = [
    "EVIL\x1b]0;owned\x07",  # set the window title
    "X\x1b[2J\x1b[H",  # clear the screen
    "TWO\nLINES",  # split a table row
    "OVER\rWRITE",
    "C1\x9b31m",  # an 8-bit CSI
    RLO + "00001 sreniatnoc",
]


def test_text_table_shows_control_characters_as_escapes():
    out = render(pa.table({"mmsi": list(range(len(HOSTILE))), "name": HOSTILE}), "table")
    assert not any(c in out for c in "\x1b\x07\r\x9b" + RLO)
    lines = out.splitlines()
    assert len(lines) == 2 + len(HOSTILE)  # header, rule, one line per row: no row split
    assert "TWO\\nLINES" in out and "EVIL\\x1b]0;owned\\x07" in out and "\\u202e00001" in out


def test_machine_formats_keep_the_data():
    t = pa.table({"name": ["TWO\nLINES"]})
    assert "TWO\\nLINES" in render(t, "json")  # JSON's own escape, data unchanged


def test_ingest_summary_lines_are_safe():
    s = IngestSummary(path="evil\x1b[2J.csv", kind="positions", status="failed", message="bad\nline")
    (line,) = s.lines()
    assert "\x1b" not in line and "\n" not in line and "evil\\x1b[2J.csv" in line


def test_terminal_safe_keeps_scripts():
    assert terminal_safe("Ōkami 北斗 مرحبا עברית") == "Ōkami 北斗 مرحبا עברית"


def test_isolate_bidi_drops_unpaired_controls_and_isolates():
    assert isolate_bidi(RLO + "00001 sreniatnoc") == FSI + "00001 sreniatnoc" + PDI
    assert isolate_bidi("S7" + RLO) == FSI + "S7" + PDI
    paired = "shipment \u202bמשלוח\u202c ok"
    assert isolate_bidi(paired) == FSI + paired + PDI
    # an override left open inside an isolate ends with it; an open one at a line end goes
    assert isolate_bidi("a\u2067b\u202ec\u2069d") == FSI + "a\u2067bc\u2069d" + PDI
    assert isolate_bidi("a\u202eb\nc") == FSI + "ab\nc" + PDI
    assert isolate_bidi(None) is None
    out = isolate_bidi("\u2069\u202c\u202e\u2066x")
    assert out == FSI + "x" + PDI
