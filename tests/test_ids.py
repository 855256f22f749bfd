"""Observation ids: the same content gives the same id, whatever the batch it arrives in."""

from __future__ import annotations

import numpy as np

from corridor.ids import combine_u64, position_obs_ids


def test_ids_do_not_depend_on_the_batch_size():
    """A large batch is hashed block by block; each id must equal the id of its row alone,
    on both sides of every block boundary (ids are stored, archived and cited as evidence)."""
    rng = np.random.default_rng(7)
    n = 200_003  # several blocks and a ragged end
    mmsi = rng.integers(200_000_000, 800_000_000, n)
    ts = rng.integers(0, 2**52, n)
    lat, lon = rng.uniform(-90, 90, n), rng.uniform(-180, 180, n)
    msg = rng.integers(0, 28, n)
    batch = position_obs_ids(mmsi, ts, lat, lon, msg)
    for k in (0, 65_535, 65_536, 65_537, 131_072, n - 1):
        alone = position_obs_ids(mmsi[k:k + 1], ts[k:k + 1], lat[k:k + 1], lon[k:k + 1], msg[k:k + 1])
        assert batch[k] == alone[0]
    assert len(np.unique(batch)) == n


def test_combine_hashes_negative_values_as_their_twos_complement():
    assert combine_u64(np.array([-1]))[0] == combine_u64(np.array([-1]).view(np.uint64))[0]
    assert combine_u64(np.array([-1]))[0] != combine_u64(np.array([1]))[0]
