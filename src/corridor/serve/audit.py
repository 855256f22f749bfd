"""The audit log (who, when, what, before/after) and object versions for optimistic concurrency.

Every write the server makes is recorded in ``audit_log`` in the same transaction as the write
itself (so there is no write without its record). An object's **version** is a hash of its
stored row: a client reads it (``ETag``), and a correction must send it back (``If-Match``); if
the row changed in between — through the server or the CLI — the hashes differ and the write is
refused (HTTP 412) with the name and time of the last change, so the second analyst never
overwrites the first one's work unseen.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from corridor.ids import stable_id
from corridor.store import Store, utcnow


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def version_of(row: dict | None) -> str | None:
    """The version (ETag value) of a stored row: a hash of all its columns.

    >>> version_of({"a": 1}) == version_of({"a": 1}), version_of({"a": 1}) == version_of({"a": 2})
    (True, False)
    """
    if row is None:
        return None
    return stable_id("version", _plain(row))


def record(store: Store, username: str | None, action: str, kind: str | None, object_id: str | None,
           before: dict | None = None, after: dict | None = None, detail: str | None = None) -> int:
    """Append one audit row (inside the caller's transaction); returns its id."""
    row = store.one("SELECT coalesce(max(audit_id), 0) + 1 FROM audit_log")
    audit_id = int(row[0])
    store.con.execute(
        "INSERT INTO audit_log (audit_id, changed_at, username, action, object_kind, object_id, before, "
        "after, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [audit_id, utcnow(), username, action, kind, object_id,
         None if before is None else json.dumps(_plain(before), ensure_ascii=False, default=str),
         None if after is None else json.dumps(_plain(after), ensure_ascii=False, default=str),
         detail])
    return audit_id


def history(store: Store, kind: str | None = None, object_id: str | None = None,
            limit: int = 200) -> list[dict]:
    """Audit rows, newest first, optionally of one object kind / object."""
    where, args = [], []
    if kind:
        where.append("object_kind = ?")
        args.append(kind)
    if object_id:
        where.append("object_id = ?")
        args.append(object_id)
    w = ("WHERE " + " AND ".join(where)) if where else ""
    rows = store.con.execute(
        "SELECT audit_id, changed_at, username, action, object_kind, object_id, CAST(before AS VARCHAR), "
        f"CAST(after AS VARCHAR), detail FROM audit_log {w} ORDER BY audit_id DESC LIMIT ?",
        args + [int(limit)]).fetchall()
    out = []
    for r in rows:
        out.append({"audit_id": r[0], "at": r[1].isoformat(), "username": r[2], "action": r[3],
                    "object_kind": r[4], "object_id": r[5],
                    "before": json.loads(r[6]) if r[6] else None,
                    "after": json.loads(r[7]) if r[7] else None, "detail": r[8]})
    return out


def last_change(store: Store, kind: str, object_id: str) -> str:
    """"by NAME at TIME" of an object's latest audited write, or a note that it was not audited."""
    h = history(store, kind, object_id, limit=1)
    if not h:
        return "outside the workspace (e.g. by the command line)"
    return f"by {h[0]['username']} at {h[0]['at']} UTC"


def now_iso() -> str:
    return utcnow().isoformat()
