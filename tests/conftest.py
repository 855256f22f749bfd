"""Shared test fixtures: where the real data lives, and a fresh store per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from corridor.store import Store

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CORRIDOR_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"


@pytest.fixture(scope="session")
def shared() -> Path:
    """../shared (the project's read-only materials)."""
    assert SHARED.is_dir(), f"../shared not found at {SHARED} (set CORRIDOR_SHARED)"
    return SHARED


@pytest.fixture(scope="session")
def data_dir(shared: Path) -> Path:
    """../shared/data: real AIS captures, tables and geodata (see SOURCES.md there)."""
    return shared / "data"


@pytest.fixture()
def store(tmp_path: Path):
    """A new, empty store in a temporary file."""
    s = Store.open(tmp_path / "test.duckdb")
    yield s
    s.close()


@pytest.fixture()
def db_file(tmp_path: Path) -> Path:
    """Path for a database the test (or the CLI under test) creates."""
    return tmp_path / "cli.duckdb"
