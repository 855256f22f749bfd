"""The store: created, migrated, refused when foreign or newer, transactions all-or-nothing."""

from __future__ import annotations

import pyarrow as pa
import pytest

from corridor.schema import POSITIONS, SCHEMA_VERSION
from corridor.store import Store, StoreError


def _positions(n: int) -> pa.Table:
    return pa.table(
        {
            "obs_id": pa.array(range(n), pa.int64()),
            "mmsi": pa.array([273000001] * n, pa.int64()),
            "ts": pa.array([1_700_000_000_000_000 + i * 60_000_000 for i in range(n)], pa.timestamp("us")),
            "lat": pa.array([42.0] * n),
            "lon": pa.array([132.0] * n),
        }
    )


def test_new_file_gets_current_schema(tmp_path):
    with Store.open(tmp_path / "a.duckdb") as s:
        assert s.schema_version() == SCHEMA_VERSION
        assert s.count("positions") == 0
        assert set(POSITIONS.names) <= set(s.query("SELECT * FROM positions").column_names)


def test_reopen_keeps_data_and_insert_is_idempotent(tmp_path):
    path = tmp_path / "a.duckdb"
    with Store.open(path) as s:
        assert s.insert_arrow("positions", _positions(5)) == 5
    with Store.open(path) as s:
        assert s.insert_arrow("positions", _positions(7)) == 2
        assert s.count("positions") == 7


def test_newer_schema_is_refused_and_untouched(tmp_path):
    path = tmp_path / "a.duckdb"
    with Store.open(path) as s:
        s.con.execute("INSERT INTO schema_version (version) VALUES (?)", [SCHEMA_VERSION + 1])
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer"):
        Store.open(path)
    assert path.read_bytes() == before


def test_foreign_files_are_refused(tmp_path):
    text = tmp_path / "notes.duckdb"
    text.write_text("hello, not a database\n")
    with pytest.raises(StoreError, match="not a DuckDB"):
        Store.open(text)
    assert text.read_text() == "hello, not a database\n"


def test_transaction_rolls_back_on_interrupt(store):
    with pytest.raises(KeyboardInterrupt):
        with store.transaction():
            store.insert_arrow("positions", _positions(3))
            raise KeyboardInterrupt
    assert store.count("positions") == 0


def test_insert_drops_repeats_within_the_batch_and_already_stored(store):
    """A batch holding the same observation twice, and rows stored by an earlier batch,
    adds each observation once; rows with new keys in the same time range still go in."""
    assert store.insert_arrow("positions", _positions(4)) == 4
    batch = pa.concat_tables([_positions(6), _positions(6).slice(5, 1), _positions(2)])
    assert batch.num_rows == 9
    assert store.insert_arrow("positions", batch) == 2
    ids = store.query("SELECT obs_id FROM positions ORDER BY obs_id").column(0).to_pylist()
    assert ids == [0, 1, 2, 3, 4, 5]
    # the same rows again, inside a transaction: nothing added, nothing lost
    with store.transaction():
        assert store.insert_arrow("positions", batch) == 0
    assert store.count("positions") == 6


def test_seen_keys_drop_repeats_of_earlier_batches_and_still_check_stored_rows(store):
    """One ingest offering batches with SeenKeys: a repeat of an earlier batch is dropped in
    memory; a batch overlapping the times stored before the ingest is still looked up in the
    table (a repeat of a stored row is not added), and new rows always go in."""
    from corridor.store import SeenKeys, _time_range_us

    assert store.insert_arrow("positions", _positions(4)) == 4  # stored before the ingest
    seen = SeenKeys(store, "positions")
    later = _positions(20).slice(10, 10)  # times after everything stored: no table lookup
    assert not seen.overlaps_before(*_time_range_us(later["ts"]))
    assert store.insert_arrow("positions", later, seen=seen) == 10
    again = pa.concat_tables([later.slice(0, 3), _positions(25).slice(20, 5)])
    assert store.insert_arrow("positions", again, seen=seen) == 5  # the 3 repeats dropped
    overlapping = _positions(6)  # 0-3 were stored before the ingest, 4-5 are new
    assert seen.overlaps_before(*_time_range_us(overlapping["ts"]))
    assert store.insert_arrow("positions", overlapping, seen=seen) == 2
    ids = store.query("SELECT obs_id FROM positions ORDER BY obs_id").column(0).to_pylist()
    assert ids == list(range(6)) + list(range(10, 25))
    small = SeenKeys(store, "positions", max_keys=3)  # past its limit it stops remembering
    assert store.insert_arrow("positions", _positions(30).slice(25, 5), seen=small) == 5
    assert not small.active
    assert store.insert_arrow("positions", _positions(30).slice(25, 5), seen=small) == 0


def test_seen_keys_filter_collisions_are_not_mistaken_for_repeats(store):
    """Keys that share the filter's slot (same low bits, different key) are new rows: only
    an exact earlier key is a repeat, including negative keys."""
    from corridor.store import SeenKeys

    seen = SeenKeys(store, "positions")
    first = _positions(3)
    slots = SeenKeys.MAX_SLOTS  # a multiple of every filter size
    assert store.insert_arrow("positions", first, seen=seen) == 3
    clash = first.set_column(0, "obs_id", pa.array([0 + slots, 1 - slots, -(2**62) + 2], pa.int64()))
    assert store.insert_arrow("positions", clash, seen=seen) == 3
    assert store.insert_arrow("positions", pa.concat_tables([first, clash]), seen=seen) == 0
    assert store.count("positions") == 6


def test_seen_keys_filter_grows_with_the_keys_and_keeps_them(store):
    """The filter starts small and is rebuilt larger as keys arrive; keys offered before a
    rebuild are still recognised as repeats after it."""
    import numpy as np

    from corridor.store import SeenKeys

    seen = SeenKeys(store, "positions")
    batches = [_positions(20_000).slice(i * 10_000, 10_000) for i in range(2)]
    assert store.insert_arrow("positions", batches[0], seen=seen) == 10_000
    small = len(seen.filter)
    assert store.insert_arrow("positions", batches[1], seen=seen) == 10_000
    assert len(seen.filter) > small >= SeenKeys.MIN_SLOTS
    again = pa.concat_tables([batches[0].slice(0, 5), batches[1].slice(0, 5)])
    assert store.insert_arrow("positions", again, seen=seen) == 0
    assert store.count("positions") == 20_000
    assert np.array_equal(np.sort(np.concatenate(seen.runs)), np.arange(20_000))


def test_memory_limit_is_restored_exactly(store):
    """A capped block leaves DuckDB's limit as it found it: the default exactly, however
    often (it reads back rounded), and a limit the caller had set within that rounding."""
    def limit():
        return store.one("SELECT current_setting('memory_limit')")[0]

    default = limit()
    for _ in range(3):
        with store.memory_limit(64):
            assert limit() == "61.0 MiB"  # 64 MB
    assert limit() == default
    store.con.execute("SET memory_limit = '3GB'")  # reads back as 2.7 GiB
    with store.memory_limit(64):
        pass
    assert limit() in ("2.7 GiB", "2.6 GiB")  # within DuckDB's rounding of what it reports
