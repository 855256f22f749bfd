"""docs/gis.md's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "gis.md"


def test_the_gis_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1
    scope: dict = {}
    exec(compile(blocks[0], str(DOC), "exec"), scope)  # noqa: S102 - the documented example
    out = capsys.readouterr().out
    tracks, trajectories = scope["tracks"], scope["trajectories"]
    assert len(tracks) > 0 and set(tracks.geom_type) == {"LineString"}
    assert len(trajectories) > 0 and " nm " in out
    assert tracks["positions"].sum() == len(scope["positions"]) == 972
    assert (Path(scope["tmp"]) / "tracks.gpkg").is_file()
