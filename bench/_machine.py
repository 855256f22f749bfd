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
