"""corridor on its current dependencies: DuckDB 2's result lifecycle, the html extra's imports."""

from __future__ import annotations

import importlib.abc
import sys

import pyarrow as pa
import pytest

from corridor.ingest.reports import ReportError, read_report
from corridor.store import SeenKeys, fetch_arrow, fetch_one, stream_arrow


def _connection_is_free(store) -> None:
    """A registered Arrow table can be queried: no result is left pending on the connection
    (DuckDB 2 raises ResourceInUseException at ``register`` if one is)."""
    store.con.register("_probe", pa.table({"a": [7]}))
    try:
        assert store.query("SELECT a FROM _probe")["a"].to_pylist() == [7]
    finally:
        store.con.unregister("_probe")


def test_every_store_read_leaves_the_connection_free(store):
    positions = pa.table({"obs_id": pa.array([1, 2], pa.int64()),
                          "mmsi": pa.array([273000001, 273000001], pa.int64()),
                          "ts": pa.array([0, 60_000_000], pa.timestamp("us")),
                          "lat": [42.0, 42.1], "lon": [130.0, 130.1]})
    steps = [
        ("schema_version", lambda: store.schema_version() >= 1),
        ("count", lambda: store.count("positions") == 0),
        ("one", lambda: store.one("SELECT count(*) FROM range(4)") == (4,)),
        ("one of nothing", lambda: store.one("SELECT 1 WHERE false") is None),
        ("columns", lambda: "mmsi" in store.columns("positions")),
        ("query", lambda: store.query("SELECT range AS i FROM range(3)").num_rows == 3),
        ("begin_ingest", lambda: store.begin_ingest("positions", "x.csv", 1, "ab") == 1),
        ("find_ingest", lambda: store.find_ingest("ab", "positions").status == "running"),
        ("insert_arrow", lambda: store.insert_arrow("positions", positions,
                                                    seen=SeenKeys(store, "positions")) == 2),
        ("insert_arrow again", lambda: store.insert_arrow("positions", positions) == 0),
    ]
    for name, step in steps:
        assert step(), name
        _connection_is_free(store)
    with store.memory_limit(64):
        _connection_is_free(store)
    _connection_is_free(store)


def test_result_helpers_read_every_row(store):
    con = store.con
    assert fetch_one(con, "SELECT max(range), count(*) FROM range(?)", [1000]) == (999, 1000)
    assert fetch_arrow(con, "SELECT range AS i FROM range(?)", [5])["i"].to_pylist() == [0, 1, 2, 3, 4]
    reader = stream_arrow(con, "SELECT range AS i FROM range(250000)", 100_000)
    sizes = [b.num_rows for b in reader]
    assert sum(sizes) == 250_000 and max(sizes) <= 250_000 and len(sizes) >= 2
    _connection_is_free(store)


class _BrokenImport(importlib.abc.MetaPathFinder):
    """Makes ``import trafilatura`` fail the way it does when lxml_html_clean is missing."""

    def find_spec(self, name, path=None, target=None):
        if name == "trafilatura":
            raise ImportError("lxml.html.clean module is now a separate project lxml_html_clean.\n"
                              "Install lxml[html-clean] or lxml_html_clean directly.")
        return None


def _html(tmp_path):
    f = tmp_path / "r.html"
    f.write_text("<html><body><p>Ships left port.</p></body></html>", encoding="utf-8")
    return f


def test_html_extra_present_but_broken_names_the_real_cause(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "trafilatura", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_BrokenImport(), *sys.meta_path])
    with pytest.raises(ReportError) as err:
        read_report(_html(tmp_path))
    msg = str(err.value)
    assert "r.html" in msg and "lxml_html_clean" in msg and "installed but cannot be imported" in msg
    assert "pip install 'corridor[html]'" not in msg  # not the advice to install what is there


def test_html_extra_missing_asks_for_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # import raises ModuleNotFoundError
    with pytest.raises(ReportError, match=r"pip install 'corridor\[html\]'"):
        read_report(_html(tmp_path))


def test_html_extra_imports_on_this_install():
    """The html extra as declared (trafilatura + lxml_html_clean) imports and extracts text."""
    import trafilatura

    text = trafilatura.extract("<html><body><article><p>" + "North Korea sent containers. " * 5
                               + "</p></article></body></html>")
    assert text is not None and "North Korea sent containers." in text


def test_no_code_leaves_a_duckdb_result_pending():
    """DuckDB 2 keeps an ``execute()`` result pending until it is read to its end: a
    ``.fetchone()`` or ``.fetchmany()`` left behind makes the next statement on that connection
    fail ("connection has an unfinished result"). Every read goes through corridor.store's
    helpers; this finds a new one that does not (it failed on three merged modules)."""
    import re
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "corridor"
    files = sorted(src.rglob("*.py"))
    assert len(files) > 50
    bad = [f"{f.relative_to(src)}:{n}" for f in files
           for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
           if re.search(r"\.fetch(one|many)\(", line) and "never" not in line
           and not line.lstrip().startswith(("#", ">>>"))]
    assert bad == []
