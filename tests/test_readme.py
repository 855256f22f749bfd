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
    code = "\n".join(re.findall(r"```(?:sh)?\n(.*?)```", TEXT, flags=re.S))
    code += "\n" + "\n".join(re.findall(r"^    .*$", TEXT, flags=re.M))  # indented blocks
    found = set()
    for line in re.findall(r"^\s*(?:\.venv/bin/)?corridor ([^#\n]+)", code, flags=re.M):
        for part in line.split(";"):
            words = [w for w in part.replace("corridor ", "", 1).split() if not w.startswith("-")]
            if words:
                found.add(tuple(words[:2]))
    return found


@pytest.mark.parametrize("block", _python_blocks())
def test_python_examples_run(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(block, str(README), "exec"), {})


def test_every_command_shown_exists():
    runner = CliRunner()
    commands = _corridor_commands()
    assert ("demo",) in commands and ("ingest", "nmea") in commands
    for cmd in sorted(commands):
        group = [cmd[0]] if cmd[0] in ("ingest", "places", "corridors", "claims", "export") else []
        args = (list(cmd[:2]) if group else [cmd[0]]) + ["--help"]
        res = runner.invoke(app, args)
        assert res.exit_code == 0, f"README shows `corridor {' '.join(cmd)}` but: {res.output[-300:]}"
