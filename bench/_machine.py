"""The machine a benchmark ran on, as its results name it.

Imported by the scripts in ``bench/`` (run as ``python bench/<script>.py``, so this folder is on
``sys.path``).
"""

from __future__ import annotations

import platform
import subprocess


def cpu_model() -> str:
    """The CPU's model name (``lscpu``'s "Model name"), else the platform's processor, else
    ``unknown``."""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def host_speed_ms(rounds: int = 5) -> float:
    """Milliseconds one core takes to sort 10M random 64-bit integers (median of ``rounds``).

    A fixed workload timed next to a benchmark: on a shared VM the same code runs up to ~1.8×
    slower when the host is busy, and this number moves with it (lower is faster).
    """
    import time

    import numpy as np

    a = np.random.default_rng(0).integers(0, 2**62, 10_000_000)
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        np.sort(a)
        times.append((time.perf_counter() - t) * 1000)
    return sorted(times)[len(times) // 2]
