"""Watchlists: sanctioned or flagged vessels, from OpenSanctions / FollowTheMoney or a plain CSV.

**FollowTheMoney entity JSON lines** (OpenSanctions ``entities.ftm.json``): one entity per line,
``{"id", "schema", "properties": {name: [..], ...}, "datasets": [..], "first_seen", ...}``.
``Vessel`` entities become watchlist rows: ``name`` (first), ``alias`` / ``previousName`` /
``weakAlias`` (aliases), ``imoNumber`` (check digit verified), ``mmsi``, ``flag``, and the
programs from ``programId``, ``topics`` and ``datasets``. ``Sanction`` entities whose ``entity``
points at a vessel add their ``program`` / ``authority`` and ``startDate`` (the earliest is
``listed_on``). Other schemas (Person, Company, Ownership …) are counted and skipped.

**Plain CSV**: ``name`` required; optional ``entity_id``, ``aliases`` (``;``-separated),
``imo``, ``mmsi``, ``flag``, ``programs`` (``;``-separated), ``listed_on`` (YYYY-MM-DD),
``authority``, ``source`` (default: the file name).

An IMO number that fails its check digit is not stored (the row is kept, by name) and the
line is reported.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa

from corridor.identity import parse_imo, parse_mmsi
from corridor.ids import stable_id
from corridor.ingest.summary import IngestError, IngestSummary, ingest_file
from corridor.store import Store

WATCHLIST_FIELDS = pa.schema(
    [
        ("entity_id", pa.string()), ("name", pa.string()), ("aliases", pa.list_(pa.string())),
        ("imo", pa.int64()), ("mmsi", pa.int64()), ("flag", pa.string()),
        ("programs", pa.list_(pa.string())), ("listed_on", pa.date32()),
        ("authority", pa.string()), ("note", pa.string()), ("marks", pa.list_(pa.string())),
        ("source", pa.string()),
    ]
)


def _first(props: dict, key: str) -> str | None:
    vals = props.get(key) or []
    return str(vals[0]).strip() if vals else None


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def _imo(value: str | None, line: int, summary: IngestSummary) -> int | None:
    if not value:
        return None
    imo = parse_imo(value)
    if imo is None:
        summary.skip("invalid IMO (row kept without it)", line,
                      f"line {line}: {value!r} is not a valid IMO number (check digit)")
    return imo


def parse_ftm(path: Path, summary: IngestSummary) -> Iterator[tuple[str, pa.Table]]:
    """Parser for FollowTheMoney entity JSON lines."""
    vessels: dict[str, tuple[int, dict]] = {}
    sanctions: dict[str, list[dict]] = {}
    try:
        fh = open(path, encoding="utf-8")
    except OSError as exc:
        raise IngestError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    with fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            summary.rows_in += 1
            try:
                ent = json.loads(line)
            except json.JSONDecodeError as exc:
                summary.skip("not JSON", line_no, f"line {line_no}: {exc.msg}")
                continue
            if not isinstance(ent, dict) or "schema" not in ent or "id" not in ent:
                summary.skip("not a FollowTheMoney entity", line_no,
                             f"line {line_no}: needs 'id', 'schema' and 'properties'")
                continue
            schema = ent["schema"]
            props = ent.get("properties") or {}
            if schema == "Vessel":
                vessels[ent["id"]] = (line_no, ent)
            elif schema == "Sanction":
                for target in props.get("entity") or []:
                    tid = target["id"] if isinstance(target, dict) else str(target)
                    sanctions.setdefault(tid, []).append(props)
            else:
                summary.skip(f"not a Vessel ({schema})", line_no)
    rows = []
    for eid, (line_no, ent) in sorted(vessels.items()):
        props = ent.get("properties") or {}
        name = _first(props, "name")
        if not name:
            summary.skip("vessel without a name", line_no, f"line {line_no}: entity {eid}")
            continue
        aliases = []
        for key in ("alias", "previousName", "weakAlias"):
            for a in props.get(key) or []:
                if a and a != name and a not in aliases:
                    aliases.append(str(a))
        programs: list[str] = []
        for key in ("programId", "program", "topics"):
            for p in props.get(key) or []:
                if p not in programs:
                    programs.append(str(p))
        listed: list[date] = []
        authorities: list[str] = []
        for sp in sanctions.get(eid, []):
            for p in (sp.get("program") or []) + (sp.get("programId") or []):
                if p not in programs:
                    programs.append(str(p))
            for a in sp.get("authority") or []:
                if a not in authorities:
                    authorities.append(str(a))
            d = _date(_first(sp, "startDate") or _first(sp, "listingDate"))
            if d:
                listed.append(d)
        for ds in ent.get("datasets") or []:
            if ds not in programs:
                programs.append(str(ds))
        listed_on = min(listed) if listed else _date(_first(props, "createdAt"))
        rows.append({
            "entity_id": eid, "name": name, "aliases": aliases,
            "imo": _imo(_first(props, "imoNumber"), line_no, summary),
            "mmsi": parse_mmsi(_first(props, "mmsi")), "flag": _first(props, "flag"),
            "programs": programs, "listed_on": listed_on,
            "authority": "; ".join(authorities) or None, "note": None, "marks": [],
            "source": f"{path.name} (FollowTheMoney; first_seen {ent.get('first_seen') or '?'})",
        })
    yield "watchlist", pa.Table.from_pylist(rows, schema=WATCHLIST_FIELDS)


def parse_csv(path: Path, summary: IngestSummary) -> Iterator[tuple[str, pa.Table]]:
    """Parser for a plain watchlist CSV."""
    try:
        fh = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise IngestError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    rows = []
    with fh:
        reader = csv.DictReader(fh)
        cols = [c.strip() for c in reader.fieldnames or []]
        reader.fieldnames = cols
        if "name" not in cols:
            raise IngestError(f"{path}: watchlist CSV is missing column 'name' "
                              f"(found: {', '.join(cols) or 'no header'})")
        for r in reader:
            line = reader.line_num
            r = {k: (v or "").strip() for k, v in r.items() if k}
            if not any(r.values()):
                continue
            summary.rows_in += 1
            if not r.get("name"):
                summary.skip("no name", line, f"line {line}: every row needs a name")
                continue
            listed = None
            if r.get("listed_on"):
                listed = _date(r["listed_on"])
                if listed is None:
                    summary.skip("bad date", line, f"line {line}: listed_on {r['listed_on']!r} is "
                                 "not YYYY-MM-DD")
                    continue
            imo = _imo(r.get("imo"), line, summary)
            mmsi = parse_mmsi(r.get("mmsi")) if r.get("mmsi") else None
            src = r.get("source") or path.name
            rows.append({
                "entity_id": r.get("entity_id") or stable_id("watchlist", r["name"], imo, mmsi, src),
                "name": r["name"],
                "aliases": [a.strip() for a in r.get("aliases", "").split(";") if a.strip()],
                "imo": imo, "mmsi": mmsi, "flag": r.get("flag") or None,
                "programs": [p.strip() for p in r.get("programs", "").split(";") if p.strip()],
                "listed_on": listed, "authority": r.get("authority") or None, "note": None,
                "marks": [], "source": src,
            })
    yield "watchlist", pa.Table.from_pylist(rows, schema=WATCHLIST_FIELDS)


def detect_format(path: Path) -> str:
    """``ftm`` for JSON lines, ``csv`` otherwise (by the first non-blank character)."""
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            if line.strip():
                return "ftm" if line.lstrip().startswith("{") else "csv"
    return "csv"


def ingest_watchlist(store: Store, path: str | Path, *, force: bool = False) -> IngestSummary:
    """Ingest a watchlist file (FtM JSON lines or CSV) into ``watchlist``."""
    p = Path(path)
    try:
        fmt = detect_format(p)
    except OSError as exc:
        s = IngestSummary(path=str(p), kind="watchlist", status="failed",
                          message=f"cannot read: {exc.strerror or exc}")
        return s
    return ingest_file(store, p, "watchlist", parse_ftm if fmt == "ftm" else parse_csv, force=force)
