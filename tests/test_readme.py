"""The README's examples work: its Python blocks run, and every command it shows exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corridor.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text(encoding="utf-8")


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)


def _corridor_commands() -> set[tuple[str, ...]]:
    """(verb,) or (group, verb) of every `corridor ...` line in the README."""
    lines, fenced, lang = [], False, ""
    for line in TEXT.splitlines():
        if line.startswith("```"):
            fenced, lang = not fenced, line[3:].strip()
        elif fenced and lang in ("", "sh"):
            lines.append(line)
        elif not fenced and line.startswith("    "):  # indented blocks
            lines.append(line)
    code = "\n".join(lines)
    found = set()
    for line in re.findall(r"^\s*(?:\.venv/bin/)?corridor ([^#\n]+)", code, flags=re.M):
        for part in line.split(";"):
            words = [w for w in part.replace("corridor ", "", 1).split() if not w.startswith("-")]
            if words:
                found.add(tuple(words[:2]))
    return found


def test_the_readme_has_python_examples():
    assert len(_python_blocks()) >= 1


@pytest.mark.parametrize("block", _python_blocks())
def test_python_examples_run_and_give_what_they_say(block, tmp_path, monkeypatch):
    """Every block runs; every table or frame it names has rows; the gap example's rows are gaps
    longer than the documented 6 h."""
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    exec(compile(block, str(README), "exec"), names)
    tables = {k: v for k, v in names.items() if hasattr(v, "num_rows") or hasattr(v, "iloc")}
    assert tables, "a README example should end in a result the reader can look at"
    for name, value in tables.items():
        assert len(value) > 0, f"{name} is empty"
    if "gaps" in tables:
        gaps = tables["gaps"]
        assert set(gaps["type"]) == {"gap"}
        assert ((gaps["end_ts"] - gaps["start_ts"]).dt.total_seconds() > 6 * 3600).all()


def test_every_command_shown_exists():
    runner = CliRunner()
    commands = _corridor_commands()
    assert ("demo",) in commands and ("ingest", "nmea") in commands
    for cmd in sorted(commands):
        group = [cmd[0]] if cmd[0] in ("ingest", "places", "corridors", "claims", "case", "users") else []
        args = (list(cmd[:2]) if group else [cmd[0]]) + ["--help"]
        res = runner.invoke(app, args)
        assert res.exit_code == 0, f"README shows `corridor {' '.join(cmd)}` but: {res.output[-300:]}"
