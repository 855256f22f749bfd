"""corridor: an investigation workbench for transfer corridors.

Ingest AIS (NMEA through pyais, position tables through DuckDB), analysts' sightings,
rail counts, watchlists and report texts into one DuckDB file; detect port visits,
gaps, encounters, loitering, voyages and identity changes; reconstruct shipments
along a declared corridor; and write a self-contained evidence report.

>>> import corridor, tempfile, os
>>> with tempfile.TemporaryDirectory() as d:
...     ws = corridor.open(os.path.join(d, "case.duckdb"))
...     ws.store.count("positions")
0
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from corridor.workspace import Workspace, open

__all__ = ["Workspace", "open"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # Loaded on first use, not on ``import corridor``: the workspace pulls in DuckDB, Arrow and
    # numpy, which ``corridor --help`` and every light command would otherwise pay for.
    if name in ("Workspace", "open"):
        from corridor import workspace

        return getattr(workspace, name)
    raise AttributeError(f"module 'corridor' has no attribute {name!r}")
