"""The server's hold on the store: one process, one DuckDB file, one writer.

DuckDB lets one process open a file for writing. ``corridor serve`` is that process: it opens
the store once (migrating it, which creates the account and audit tables), keeps that
connection as the only writer, and hands each worker thread its own cursor for reads
(``con.cursor()``: a second connection to the same database, so reads run in parallel and see
the last committed state). Every write goes through :meth:`Database.write`, which holds one
lock for the whole write, so writes are serialised and a reader never sees half of one.

``generation`` counts committed writes; caches of derived data (the vessel index, case
reconstructions) are keyed by it and so never serve data older than the last write.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from corridor.store import Store


class Database:
    """The store as the server uses it: :meth:`reader` for reads, :meth:`write` for writes."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.writer = Store.open(self.path)
        self._lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[Store] = []
        self._readers_lock = threading.Lock()
        self.generation = 0

    def reader(self) -> Store:
        """A :class:`Store` on this thread's own cursor (made on first use)."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = Store(self.writer.con.cursor(), str(self.path))
            store.con.execute("SET enable_progress_bar = false")
            self._local.store = store
            with self._readers_lock:
                self._readers.append(store)
        return store

    @contextmanager
    def write(self) -> Iterator[Store]:
        """The writing store, held alone for the block; ``generation`` advances after it."""
        with self._lock:
            try:
                yield self.writer
            finally:
                self.generation += 1

    def close(self) -> None:
        with self._readers_lock:
            for s in self._readers:
                try:
                    s.close()
                except Exception:  # noqa: BLE001 - a cursor of a finished thread; closing is best effort
                    pass
            self._readers.clear()
        self.writer.close()
