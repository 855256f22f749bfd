"""Shared test fixtures: where the real test data lives, and a fresh store per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from corridor.demo import SEED_ARTICLE, demo_file
from corridor.store import Store

#: Real AIS captures, tables and fixtures copied into the repository (tests/data/SOURCES.md).
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """tests/data: real AIS captures, tables and fixtures, each credited in SOURCES.md there.

    A test that names a file missing here fails with FileNotFoundError; nothing is skipped.
    """
    assert (DATA / "SOURCES.md").is_file(), f"test data missing: {DATA}"
    return DATA


@pytest.fixture(scope="session")
def seed_article() -> Path:
    """The seed article as corridor ships it (src/corridor/data/demo)."""
    return demo_file(SEED_ARTICLE)


@pytest.fixture(scope="session")
def case_notes(data_dir: Path) -> Path:
    """corridor's research notes on the DPRK → Russia case, from which the shipped case is built."""
    return data_dir / "case" / "case-dprk-russia.md"


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A skipped test is a failed test here: a check that did not run checked nothing.

    Choose what to run with markers instead (``-m "not spark and not browser and not slow"``);
    a deselected test is not a skip.
    """
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped tests count as failures in corridor: {report.longrepr}"
