"""Progress reporting: library code calls a callback, the CLI draws a bar.

A ``Progress`` callback receives a short label, the units done so far and the total
(or ``None`` when unknown). Library functions take ``progress: Progress | None``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

Progress = Callable[[str, int, "int | None"], None]


def silent(label: str, done: int, total: int | None) -> None:
    """The default: report nothing."""


def terminal_progress() -> Progress:
    """A progress callback that redraws one line on a terminal and stays quiet in pipes."""
    if not sys.stderr.isatty():
        return silent

    def draw(label: str, done: int, total: int | None) -> None:
        if total:
            pct = 100.0 * done / total
            sys.stderr.write(f"\r{label}: {done:,}/{total:,} ({pct:5.1f}%)")
        else:
            sys.stderr.write(f"\r{label}: {done:,}")
        if total is not None and done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return draw
