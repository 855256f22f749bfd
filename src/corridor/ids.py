"""Deterministic identifiers.

Two kinds of id, both independent of machine, engine, insertion order and library
version (DuckDB's ``hash()`` is not promised stable across releases, so it is not used):

- ``obs_id``: a signed 64-bit integer for each observation (position or static report),
  computed vectorised over numpy arrays with the SplitMix64 finaliser. It depends only
  on the observation's content, so the same message ingested twice, or from two
  stations, gets the same id and the store keeps one row.
- ``stable_id``: a short hex string (SHA-1, first 16 hex digits) for events, shipments,
  sightings and claims, from a list of parts (type, vessels, start, parameters...).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser over a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * _M1
        x = x ^ (x >> np.uint64(27))
        x = x * _M2
        x = x ^ (x >> np.uint64(31))
    return x


def combine_u64(*columns: np.ndarray) -> np.ndarray:
    """Hash several integer columns (same length) into one int64 column.

    Each column is cast to uint64 (two's complement for negatives) and folded in order.
    """
    if not columns:
        raise ValueError("combine_u64 needs at least one column")
    n = len(columns[0])
    h = np.full(n, _GOLDEN, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in columns:
            v = np.asarray(col).astype(np.int64, copy=False).view(np.uint64)
            h = _mix(h ^ (v + _GOLDEN + (h << np.uint64(6)) + (h >> np.uint64(2))))
    return h.view(np.int64)


def position_obs_ids(
    mmsi: np.ndarray, ts_us: np.ndarray, lat: np.ndarray, lon: np.ndarray, msg_type: np.ndarray
) -> np.ndarray:
    """obs_id of positions from their content.

    ``ts_us`` is microseconds since the epoch (int64); lat/lon are rounded to 1e-6 degree
    (about 0.1 m, finer than AIS's 1/10000 minute) so that float noise from different
    decoders does not change the id. ``msg_type`` missing is passed as 0.
    """
    lat_i = np.round(np.asarray(lat, dtype=np.float64) * 1e6).astype(np.int64)
    lon_i = np.round(np.asarray(lon, dtype=np.float64) * 1e6).astype(np.int64)
    return combine_u64(
        np.asarray(mmsi, dtype=np.int64),
        np.asarray(ts_us, dtype=np.int64),
        lat_i,
        lon_i,
        np.asarray(msg_type, dtype=np.int64),
    )


def stable_id(*parts: Any) -> str:
    """A 16-hex-digit id from JSON-serialisable parts (order matters).

    >>> a = stable_id("gap", 273123456, "2023-09-07T00:00:00")
    >>> len(a), a == stable_id("gap", 273123456, "2023-09-07T00:00:00")
    (16, True)
    """
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:16]
