"""Progress reporting: library code calls a callback, the CLI draws a bar.

A ``Progress`` callback receives a short label, the units done so far and the total
(or ``None`` when unknown). Library functions take ``progress: Progress | None``.
"""

from __future__ import annotations

import atexit
import sys
from collections.abc import Callable
from typing import Any

Progress = Callable[[str, int, "int | None"], None]


def silent(label: str, done: int, total: int | None) -> None:
    """The default: report nothing."""


class RichProgress:
    """A :data:`Progress` callback drawing one rich bar per label, with rate and ETA.

    The bars start at the first call and stop when every labelled task with a total is
    complete (or when the process exits), so library code needs no start/stop calls.
    """

    def __init__(self, file: Any = None):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TaskProgressColumn(), TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(file=file or sys.stderr), transient=False, auto_refresh=True)
        self._tasks: dict[str, Any] = {}
        self._started = False
        atexit.register(self.close)

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if not self._started:
            self._progress.start()
            self._started = True
        task = self._tasks.get(label)
        if task is None:
            task = self._tasks[label] = self._progress.add_task(label, total=total, rate="")
        self._progress.update(task, completed=done, total=total)
        speed = self._progress.tasks[task].speed
        self._progress.update(task, rate=f"{speed:,.0f}/s" if speed else "")
        if all(t.total is not None and t.completed >= t.total for t in self._progress.tasks):
            self.close()

    def close(self) -> None:
        """Stop drawing (idempotent)."""
        if self._started:
            self._progress.stop()
            self._started = False
            self._tasks.clear()
            for t in list(self._progress.tasks):
                self._progress.remove_task(t.id)


def terminal_progress() -> Progress:
    """A progress callback that draws bars (with rate and ETA) on a terminal and stays
    quiet in pipes."""
    if not sys.stderr.isatty():
        return silent
    return RichProgress()
