"""What the fuzzers share: ingest every file, counting crashes, statuses and skips."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path


def ingest_all(paths: Iterable[Path], ingest_one: Callable) -> tuple[list[str], Counter, Counter]:
    """Ingest each file with ``ingest_one(path) -> IngestSummary``; return the crashes (an
    exception escaping, or a file that failed as a whole), the statuses and the skips."""
    crashes: list[str] = []
    statuses: Counter = Counter()
    skips: Counter = Counter()
    for p in paths:
        try:
            s = ingest_one(p)
        except Exception as exc:  # noqa: BLE001 - counting crashes is the point
            crashes.append(f"{p.name}: {type(exc).__name__}: {exc}")
            continue
        statuses[s.status] += 1
        if s.status != "done":
            crashes.append(f"{p.name}: file failed: {s.message}")
        skips.update(s.skipped)
    return crashes, statuses, skips
