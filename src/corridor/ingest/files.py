"""Expand the FILE arguments of ingest commands: paths, globs, ``-`` for stdin."""

from __future__ import annotations

import atexit
import glob
import shutil
import sys
import tempfile
from pathlib import Path

from corridor import scratch


def expand_paths(args: list[str], stdin_suffix: str = ".txt") -> tuple[list[Path], list[str]]:
    """Paths for the arguments, and the arguments that matched nothing.

    A glob expands to its matches in sorted order (an existing file whose name has glob
    characters is taken as it is); ``-`` copies standard input to a
    temporary file (so it is hashed and recorded like any file).
    """
    paths: list[Path] = []
    missing: list[str] = []
    for arg in args:
        if arg == "-":
            tmp = tempfile.NamedTemporaryFile(prefix=scratch.prefix("stdin"), suffix=stdin_suffix,
                                              delete=False)
            with tmp:
                shutil.copyfileobj(sys.stdin.buffer, tmp)
            atexit.register(Path(tmp.name).unlink, missing_ok=True)  # its hash is in ingest_log
            paths.append(Path(tmp.name))
        elif any(ch in arg for ch in "*?[") and not Path(arg).exists():
            # a name that exists is that file, even with glob characters (``pos[1].csv``)
            matches = sorted(glob.glob(arg, recursive=True))
            if matches:
                paths.extend(Path(m) for m in matches)
            else:
                missing.append(arg)
        elif Path(arg).exists():
            paths.append(Path(arg))
        else:
            missing.append(arg)
    return paths, missing
