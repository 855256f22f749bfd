"""Building event rows: deterministic ids, JSON attrs, the EVENTS Arrow schema.

Every detector returns plain dicts made by :func:`make_event`; :func:`events_table`
turns a list of them into an Arrow table in :data:`corridor.schema.EVENTS` order.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import numpy as np
import pyarrow as pa

from corridor.ids import stable_id, stable_id_of_json
from corridor.schema import EVENTS


def iso_us(ts_us: int) -> str:
    """ISO-8601 text of a UTC time in microseconds since the epoch (no zone suffix).

    >>> iso_us(0)
    '1970-01-01T00:00:00.000000'
    """
    return str(np.datetime64(int(ts_us), "us"))


_AS_IS = frozenset({str, int, bool, type(None)})


def _clean(value: Any) -> Any:
    """JSON-safe value: numpy scalars to Python, NaN/inf to None, floats rounded."""
    if type(value) in _AS_IS:  # exact types (not np.str_ & co.): most of an event's values
        return value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return round(value, 6)
    return value


_PARAMS_CACHE: dict[str, dict[str, Any]] = {}


def _clean_params(params: dict[str, Any]) -> dict[str, Any]:
    """Cleaned parameter dict, memoised by content (detectors pass the same dict each time)."""
    key = json.dumps(params, sort_keys=True, default=str)
    hit = _PARAMS_CACHE.get(key)
    if hit is None:
        hit = _PARAMS_CACHE[key] = _clean(params)
    return hit


def event_id(
    type_: str, mmsi: int | None, other_mmsi: int | None, start_us: int, params: dict[str, Any]
) -> str:
    """``stable_id(type, mmsi, other_mmsi, start_ts_iso, params_dict)`` (same on every engine)."""
    return stable_id(type_, mmsi, other_mmsi, iso_us(start_us), params)


_JSON_SEP = (",", ":")
#: stands for the parameters in an event's attrs while they are serialised; replaced by
#: their JSON text, serialised once per parameter dict (see :func:`_params_json`)
_PARAMS_SLOT = "corridor-params-slot-5f0c2a9e41d84b7c"
_PARAMS_BY_ID: dict[int, tuple[dict[str, Any], dict[str, Any], dict[str, Any], str, str]] = {}


def _params_json(params: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
    """(cleaned params, their JSON as :func:`corridor.ids.stable_id` writes it, their JSON as
    an event's attrs write it), once per parameter dict: detectors pass the same dict for
    every event, and serialising it was most of an event's cost. The dict is kept (so its
    id is not reused) with a copy compared on every call (a dict changed in place is
    serialised again)."""
    hit = _PARAMS_BY_ID.get(id(params))
    if hit is not None and hit[0] is params and hit[1] == params:
        return hit[2], hit[3], hit[4]
    cleaned = _clean_params(params)
    entry = (params, copy.deepcopy(params), cleaned,
             json.dumps(cleaned, sort_keys=True, default=str, separators=_JSON_SEP),
             json.dumps(cleaned, sort_keys=True, separators=_JSON_SEP))
    if len(_PARAMS_BY_ID) > 256:  # callers that build a dict per event: no unbounded growth
        _PARAMS_BY_ID.clear()
    _PARAMS_BY_ID[id(params)] = entry
    return entry[2], entry[3], entry[4]


def make_event(
    type_: str,
    mmsi: int | None,
    start_us: int,
    end_us: int | None,
    *,
    params: dict[str, Any],
    attrs: dict[str, Any] | None = None,
    evidence: list[int] | np.ndarray | None = None,
    segment_id: str | None = None,
    other_mmsi: int | None = None,
    lat: float | None = None,
    lon: float | None = None,
    place_id: str | None = None,
    from_place_id: str | None = None,
    to_place_id: str | None = None,
    id_key: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One event row. ``params`` are stored in ``attrs['params']`` and enter the id;
    ``id_key`` adds discriminators to the id when one detector can emit several events
    with the same type, vessel and start (e.g. two identity fields changing at once)."""
    params, params_id_json, params_attrs_json = _params_json(params)
    if id_key:
        id_params = dict(params)
        id_params["_key"] = id_key
        eid = event_id(type_, mmsi, other_mmsi, start_us, id_params)
    else:  # the same text stable_id(...) hashes, with the parameters' JSON spliced in
        head = json.dumps((type_, mmsi, other_mmsi, iso_us(start_us)), sort_keys=True,
                          default=str, separators=_JSON_SEP)
        eid = stable_id_of_json(f"{head[:-1]},{params_id_json}]")
    full_attrs = _clean(dict(attrs or {}))
    full_attrs["params"] = _PARAMS_SLOT
    attrs_json = json.dumps(full_attrs, sort_keys=True, separators=_JSON_SEP).replace(
        f'"{_PARAMS_SLOT}"', params_attrs_json, 1)
    if isinstance(evidence, np.ndarray) and evidence.dtype.kind == "i":
        ev = evidence.astype(np.int64, copy=False).tolist()
    else:
        ev = [] if evidence is None else [int(x) for x in evidence]
    ev = list(dict.fromkeys(ev))  # unique, order kept
    return {
        "event_id": eid,
        "type": type_,
        "mmsi": None if mmsi is None else int(mmsi),
        "other_mmsi": None if other_mmsi is None else int(other_mmsi),
        "segment_id": segment_id,
        "start_ts": int(start_us),
        "end_ts": None if end_us is None else int(end_us),
        "lat": None if lat is None or not math.isfinite(lat) else float(lat),
        "lon": None if lon is None or not math.isfinite(lon) else float(lon),
        "place_id": place_id,
        "from_place_id": from_place_id,
        "to_place_id": to_place_id,
        "attrs": attrs_json,
        "evidence": ev,
    }


def events_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Arrow table in the EVENTS schema (times as microseconds), sorted by start, type, id."""
    if not rows:
        return _EMPTY
    rows = sorted(rows, key=lambda r: (r["start_ts"], r["type"], r["event_id"]))
    cols = {name: [r[name] for r in rows] for name in EVENTS.names}
    arrays = []
    for f in EVENTS:
        if pa.types.is_timestamp(f.type):
            arrays.append(pa.array(cols[f.name], pa.int64()).cast(f.type))
        else:
            arrays.append(pa.array(cols[f.name], f.type))
    return pa.Table.from_arrays(arrays, schema=EVENTS)


_EMPTY = EVENTS.empty_table()
