"""The Python API: ``corridor.open(path)`` gives a :class:`Workspace`.

A workspace is a store plus the verbs of the CLI as methods, each a thin call into
the module that does the work. Queries return Arrow tables (``.to_pandas()``,
``polars.from_arrow``).
"""

from __future__ import annotations

import os

import pyarrow as pa

from corridor.store import Store


class Workspace:
    """One corridor database and the operations on it."""

    def __init__(self, store: Store):
        self.store = store

    def query(self, sql: str, params: list | None = None) -> pa.Table:
        """Run SQL against the store; returns Arrow."""
        return self.store.query(sql, params)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open(path: str | os.PathLike[str] | None = None) -> Workspace:  # noqa: A001 - the documented API name
    """Open (or create) the workspace database at ``path`` (default ``./corridor.duckdb``)."""
    return Workspace(Store.open(path))
