"""Identity changes from static reports (AIS types 5, 19, 24): the ``identity_change`` event.

Two detectors over the ``vessel_reports`` table:

- :func:`field_changes` (per MMSI): the reported name, IMO, call sign or ship type
  changes. Values are normalised first (upper case, ``@`` padding and repeated spaces
  removed; IMO numbers must pass the IMO check digit; ship type 0 means "not
  available"), so padding differences are not changes. Each distinct transition
  (old -> new) of a field is one event at the first report of the new value, with how
  many times it happened (a flip-flopping name is one event per direction, not hundreds);
  the evidence is the last report of the old value and the first of the new.
- :func:`shared_imo` (cross-vessel): one valid IMO reported under several MMSIs. One event
  per pair of MMSIs, at the time the second MMSI first reported it; ``attrs.overlapping``
  says whether both were reporting it during a common period (two ships claiming one
  identity) rather than one after the other (a re-flagging, new MMSI).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corridor.detect.events import events_table, make_event
from corridor.detect.params import IdentityParams, params_dict
from corridor.schema import EVENTS


def imo_valid(imo: np.ndarray) -> np.ndarray:
    """IMO numbers with a correct check digit (7 digits; weights 7..2 on the first six).

    >>> imo_valid(np.array([9074729, 9074728, 0]))
    array([ True, False, False])
    """
    imo = np.asarray(imo, dtype=np.int64)
    ok = (imo >= 1_000_000) & (imo <= 9_999_999)
    digits = [(imo // 10**k) % 10 for k in range(6, 0, -1)]
    s = sum(d * w for d, w in zip(digits, range(7, 1, -1), strict=True))
    return ok & (s % 10 == imo % 10)


def _norm_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    t = pc.utf8_upper(pc.cast(col, pa.string()))
    t = pc.replace_substring(t, "@", " ")
    t = pc.replace_substring_regex(t, r"\s+", " ")
    t = pc.utf8_trim_whitespace(t)
    return pc.if_else(pc.equal(t, ""), pa.scalar(None, pa.string()), t)


def normalised_values(reports: pa.Table, field: str) -> pa.Array:
    """The field's values as normalised strings (null where not reported / invalid)."""
    col = reports[field]
    if field in ("name", "callsign"):
        return _norm_text(col).combine_chunks()
    v = pc.fill_null(pc.cast(col, pa.int64()), 0).to_numpy(zero_copy_only=False)
    good = imo_valid(v) if field == "imo" else v > 0
    return pa.array([str(x) if g else None for x, g in zip(v.tolist(), good, strict=True)],
                    pa.string())


def _sorted_field(reports: pa.Table, field: str, min_reports: int) -> pa.Table:
    t = pa.table({
        "mmsi": pc.cast(reports["mmsi"], pa.int64()),
        "ts": pc.cast(reports["ts"], pa.timestamp("us")).cast(pa.int64()),
        "obs_id": pc.cast(reports["obs_id"], pa.int64()),
        "value": normalised_values(reports, field),
    })
    t = t.filter(pc.and_(pc.is_valid(t["value"]), pc.is_valid(t["ts"])))
    if min_reports > 1 and t.num_rows:
        counts = t.group_by(["mmsi", "value"]).aggregate([("obs_id", "count")])
        counts = counts.filter(pc.greater_equal(counts["obs_id_count"], min_reports))
        t = t.join(counts.select(["mmsi", "value"]), ["mmsi", "value"], join_type="inner")
    return t.sort_by([("mmsi", "ascending"), ("ts", "ascending"), ("obs_id", "ascending")])


def field_changes(reports: pa.Table, params: IdentityParams | None = None) -> list[dict]:
    """identity_change rows for name/IMO/call sign/type changes under one MMSI."""
    p = params or IdentityParams()
    pd = params_dict(p)
    out: list[dict] = []
    for field in p.fields:
        if field not in reports.column_names:
            continue
        t = _sorted_field(reports, field, p.min_reports_per_value)
        if t.num_rows < 2:
            continue
        mmsi = t["mmsi"].to_numpy()
        ts = t["ts"].to_numpy()
        obs = t["obs_id"].to_numpy()
        val = np.array(t["value"].to_pylist(), dtype=object)
        change = np.flatnonzero((mmsi[1:] == mmsi[:-1]) & (val[1:] != val[:-1])) + 1
        seen: dict[tuple, dict] = {}
        for k in change:  # loop over changes only (few), not over reports
            key = (int(mmsi[k]), val[k - 1], val[k])
            if key in seen:
                seen[key]["times"] += 1
                continue
            seen[key] = {"k": int(k), "times": 1}
        for (m, old, new), info in seen.items():
            k = info["k"]
            out.append(make_event(
                "identity_change", m, int(ts[k]), int(ts[k]), params=pd,
                evidence=[obs[k - 1], obs[k]],
                id_key={"field": field, "old": old, "new": new},
                attrs={"field": field, "old": old, "new": new, "times": info["times"],
                       "old_last_seen": str(np.datetime64(int(ts[k - 1]), "us"))},
            ))
    return out


def shared_imo(reports: pa.Table, params: IdentityParams | None = None) -> list[dict]:
    """identity_change rows for one valid IMO reported under several MMSIs (per MMSI pair)."""
    p = params or IdentityParams()
    pd = params_dict(p)
    if "imo" not in reports.column_names:
        return []
    t = _sorted_field(reports, "imo", p.min_reports_per_value)
    if t.num_rows == 0:
        return []
    g = t.group_by(["value", "mmsi"]).aggregate([("ts", "min"), ("ts", "max"), ("obs_id", "min")])
    g = g.sort_by([("value", "ascending"), ("mmsi", "ascending")])
    imo = g["value"].to_pylist()
    mm = g["mmsi"].to_numpy()
    t0, t1 = g["ts_min"].to_numpy(), g["ts_max"].to_numpy()
    # evidence: the first report of the IMO under each MMSI
    first = t.sort_by([("ts", "ascending"), ("obs_id", "ascending")])
    first_obs: dict[tuple, int] = {}
    for v, m, o in zip(first["value"].to_pylist(), first["mmsi"].to_pylist(),
                       first["obs_id"].to_pylist(), strict=True):
        first_obs.setdefault((v, m), o)
    out: list[dict] = []
    bounds = [0] + [i for i in range(1, len(imo)) if imo[i] != imo[i - 1]] + [len(imo)]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if b - a < 2:
            continue
        mmsis = [int(x) for x in mm[a:b]]
        for i in range(a, b):
            for j in range(i + 1, b):
                start = int(max(t0[i], t0[j]))
                out.append(make_event(
                    "identity_change", int(mm[i]), start, int(max(t1[i], t1[j])), params=pd,
                    other_mmsi=int(mm[j]),
                    evidence=[first_obs[(imo[i], mm[i])], first_obs[(imo[j], mm[j])]],
                    id_key={"field": "imo_shared", "imo": imo[i]},
                    attrs={"field": "imo_shared", "imo": int(imo[i]), "mmsis": mmsis,
                           "overlapping": bool(t0[i] <= t1[j] and t0[j] <= t1[i])},
                ))
    return out


def detect_identity(reports: pa.Table, params: IdentityParams | None = None) -> pa.Table:
    """All identity_change events of a ``vessel_reports`` table (EVENTS schema)."""
    if reports.num_rows == 0:
        return EVENTS.empty_table()
    return events_table(field_changes(reports, params) + shared_imo(reports, params))
