"""Real data shipped inside the package (see ``data/samples/SOURCE.md`` for origin and licence)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def sample_path(name: str = "noaa-boston-2014.gpkg") -> Path:
    """Path of a bundled sample file.

    >>> sample_path().name
    'noaa-boston-2014.gpkg'
    """
    path = Path(str(resources.files("corridor").joinpath("data", "samples", name)))
    if not path.exists():
        raise FileNotFoundError(f"no bundled sample {name!r} (see corridor/data/samples/SOURCE.md)")
    return path
