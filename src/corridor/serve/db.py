"""The server's hold on the store: one process, one DuckDB file, one writer.

DuckDB lets one process open a file for writing. ``corridor serve`` is that process: it opens
the store once (migrating it, which creates the account and audit tables), keeps that
connection as the only writer, and hands each worker thread its own cursor for reads
(``con.cursor()``: a second connection to the same database, so reads run in parallel and see
the last committed state). Every write goes through :meth:`Database.write`, which holds one
lock for the whole write, so writes are serialised and a reader never sees half of one.

:meth:`generation` counts the writes to given tables; caches of derived data (the vessel index,
case reconstructions) are keyed by the generation of the tables they read, so they never serve
data older than the last write that could change them, and a login or a new sighting does not
throw away the vessel index.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from corridor.store import Store


class Database:
    """The store as the server uses it: :meth:`reader` for reads, :meth:`write` for writes."""

    def __init__(self, path: str | Path, on_write: Callable[[set[str]], None] | None = None):
        self.path = Path(path)
        self.writer = Store.open(self.path)
        self._lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[Store] = []
        self._readers_lock = threading.Lock()
        self._writes: Counter[str] = Counter()
        self.on_write = on_write

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

    def generation(self, tables: Iterable[str]) -> tuple[int, ...]:
        """How many writes touched each of ``tables`` (and how many touched any table)."""
        return (self._writes["*"], *(self._writes[t] for t in tables))

    @contextmanager
    def write(self, tables: Iterable[str] = ("*",)) -> Iterator[Store]:
        """The writing store, held alone for the block; afterwards the generation of ``tables``
        (``"*"``: any table, e.g. an ingest) advances."""
        with self._lock:
            try:
                yield self.writer
            finally:
                self._writes.update(tables)
                if self.on_write is not None:
                    self.on_write(set(tables))

    def close(self) -> None:
        """Close every cursor and the writer (again: nothing)."""
        with self._readers_lock:
            for s in self._readers:
                try:
                    s.close()
                except Exception:  # noqa: BLE001 - a cursor of a finished thread; closing is best effort
                    pass
            self._readers.clear()
        self.writer.close()
