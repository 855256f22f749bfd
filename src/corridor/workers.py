"""Worker processes that die with the process that started them, and SIGTERM as Ctrl-C.

A ``ProcessPoolExecutor`` worker waits on its job pipe; if the main process is killed
(kill -9, the OOM killer, a closed terminal) nothing tells it, and it stays alive holding
memory and inherited file descriptors (a store's lock, the caller's stdout). A fork-server
worker is worse off: the fork server only exits once every worker has closed its
"alive" pipe, and each worker holds a copy of that pipe, so server and workers keep each
other alive. Every pool corridor starts therefore runs :func:`die_with_parent` first in
each worker, given the pid of the process that made the pool:

- a watchdog thread waits on that process (a Linux pidfd, which becomes readable the
  moment the process ends; elsewhere a check every :data:`WATCH_INTERVAL_S`) and ends the
  worker when it is gone;
- on Linux, when the worker is forked straight from the caller's main thread,
  ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` as well: the kernel kills the worker when that
  thread ends, even if the worker is stuck in C code and its watchdog cannot run. (It
  fires when the forking *thread* ends, so it is not used for workers forked elsewhere.)

:func:`sigterm_as_interrupt` turns SIGTERM into ``KeyboardInterrupt`` for a block of
code, so that ``kill PID`` runs the same clean-up as Ctrl-C (roll back, record the ingest as
interrupted) instead of ending the process where it stands.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: Seconds between the watchdog's checks of the parent pid.
WATCH_INTERVAL_S = 0.5
_PR_SET_PDEATHSIG = 1


def _pdeathsig(sig: int) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent thread ends."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _watch(owner: int, parent: int) -> None:
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(owner)
        except OSError:
            pidfd = None
            if _pid_gone(owner):
                os._exit(1)
    if pidfd is not None:
        select.select([pidfd], [], [])  # readable when the owner has ended
        os._exit(1)  # no clean-up: the process that wanted the result is gone
    while True:
        time.sleep(WATCH_INTERVAL_S)
        if _pid_gone(owner) or (owner == parent and os.getppid() != parent):
            os._exit(1)


def die_with_parent(owner_pid: int | None = None, use_pdeathsig: bool = False) -> None:
    """Worker initializer: end this process when ``owner_pid`` (default: the parent) ends.

    ``use_pdeathsig``: the worker was forked from the owner's main thread (see the module
    docstring).
    """
    parent = os.getppid()
    owner = owner_pid or parent
    if use_pdeathsig and _pdeathsig(signal.SIGKILL) and os.getppid() != parent:
        os._exit(1)  # the parent died before the request took effect
    if owner == 1 or _pid_gone(owner):
        os._exit(1)
    threading.Thread(target=_watch, args=(owner, parent), name="corridor-owner-watch",
                     daemon=True).start()


def forking_from_main_thread() -> bool:
    """True when processes started now are forked from a main thread (PDEATHSIG is safe)."""
    return threading.current_thread() is threading.main_thread()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM raises ``KeyboardInterrupt`` in the main thread (clean-up
    runs); outside, the previous handler is back. A no-op off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):  # noqa: ARG001 - the signal module's signature
        raise KeyboardInterrupt("SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
