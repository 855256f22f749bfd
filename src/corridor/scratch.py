"""Scratch files and folders under the system's temporary directory, and their clean-up.

Reading a table spills to a private folder, detection writes grid files, ``-`` copies
standard input to a file; each is removed when its run ends. A run that is killed (kill -9,
the OOM killer, a power cut) cannot remove them, so every name carries the pid of the
process that made it (``corridor-read-4242-k3j2a``) and each new scratch area first sweeps
away the ones whose process is gone. Only entries of the current user, untouched for
:data:`STALE_AFTER_S`, are swept (a process in another pid namespace sharing ``/tmp``
keeps its folders while it works in them).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

#: Seconds a dead process's scratch entry is left alone before it is swept.
STALE_AFTER_S = 60.0
_NAME = re.compile(r"corridor-[a-z]+-(\d+)-")


def process_alive(pid: int) -> bool:
    """True while process ``pid`` runs (also when it belongs to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(directory: str | os.PathLike[str] | None = None, now: float | None = None) -> list[Path]:
    """Remove scratch entries left by corridor processes that no longer run; return them."""
    base = Path(directory or tempfile.gettempdir())
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    uid = os.getuid() if hasattr(os, "getuid") else None
    for entry in entries:
        m = _NAME.match(entry.name)
        if m is None or int(m.group(1)) == os.getpid():
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if (uid is not None and st.st_uid != uid) or now - st.st_mtime < STALE_AFTER_S:
            continue
        if process_alive(int(m.group(1))):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def prefix(kind: str) -> str:
    """The name prefix of this process's scratch entries of ``kind`` (sweeps stale ones first)."""
    sweep_stale()
    return f"corridor-{kind}-{os.getpid()}-"


def scratch_dir(kind: str) -> tempfile.TemporaryDirectory:
    """A temporary folder for this process (use as a context manager, or call cleanup())."""
    return tempfile.TemporaryDirectory(prefix=prefix(kind))
