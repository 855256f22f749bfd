"""Load a case (places, vessels, sanctions, sightings, rail counts, sourced claims and the
numbered source list) into the store: a shipped case or an analyst's case folder.

A case is a folder — shipped under ``corridor/data/case/<id>/``, or anywhere (``corridor case
new``, with its ``corridor.yaml``) — holding any of the sheets ``places``, ``vessels``,
``sanctions``, ``sightings``, ``rail``, ``claims`` and ``sources``, each as ``.csv`` or
``.xlsx`` (:mod:`corridor.ingest.sheets`; ``#`` comment lines allowed). Every sheet is
optional; the columns are documented in ``docs/your-own-case.md`` and checked by ``corridor
case check`` (:mod:`corridor.corridors.check`). Every row carries its source tags (``S6;S7``)
and the case file's marks (C, I, U, ⚠).

Loading is idempotent: places, vessels, sanctions, claims and sources are keyed by the case's
own ids and replaced; sightings and rail rows go through the ingest frame, so the same file
is recognised and not added twice. Places without a sourced coordinate are *not* put in the
``places`` table (it requires one, and corridor never invents one); they are reported, and
every place row — with the analyst's precision note, mark and note — is kept in
``case_places`` for the reconstruction.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa

from corridor.corridors.model import (
    CASE_CORRIDOR_FILE,
    CorridorError,
    case_dir,
    case_slug,
    load_corridor,
)
from corridor.identity import parse_imo
from corridor.ids import stable_id
from corridor.ingest.observations import ingest_rail, ingest_sightings, parse_marks
from corridor.ingest.sheets import SheetError, find_sheet, read_sheet
from corridor.ingest.summary import IngestSummary
from corridor.schema import CASE_PLACES
from corridor.store import Store

CASE_FILES = ("places.csv", "vessels.csv", "sanctions.csv", "sightings.csv", "rail.csv",
              "claims.csv", "sources.csv")


class CaseError(ValueError):
    """A case directory that cannot be loaded (missing file or column); names file and line."""


@dataclass
class CaseLoadSummary:
    """What loading a case stored."""

    case_id: str
    stored: dict[str, int] = field(default_factory=dict)
    not_stored: list[str] = field(default_factory=list)
    ingests: list[IngestSummary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    claims_re_resolved: int = 0
    claims_vessels_re_resolved: int = 0

    def lines(self) -> list[str]:
        out = [f"case {self.case_id}: " + ", ".join(f"{n} {t}" for t, n in self.stored.items())]
        if self.claims_re_resolved:
            out.append(f"  places of {self.claims_re_resolved} stored claims resolved again")
        if self.claims_vessels_re_resolved:
            out.append(f"  vessels of {self.claims_vessels_re_resolved} stored claims resolved again")
        for s in self.ingests:
            out.extend("  " + line for line in s.lines())
        out.extend(f"  not stored: {x}" for x in self.not_stored)
        out.extend(f"  note: {x}" for x in self.notes)
        return out


def _rows(path: Path | None, required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """Rows of a sheet (CSV or XLSX, ``#`` comments allowed) with their line numbers; a sheet
    that is not there has no rows (every sheet of a case is optional)."""
    if path is None or not path.exists():
        return []
    try:
        sheet = read_sheet(path)
    except SheetError as exc:
        raise CaseError(str(exc)) from exc
    if not sheet.header:
        return []
    missing = [c for c in required if c not in sheet.header]
    if missing:
        raise CaseError(f"{path}: missing column {missing[0]!r} (found: {', '.join(sheet.header)})")
    out = []
    for row in sheet.rows:
        if row.extra:
            raise CaseError(f"{path}:{row.line}: more fields than columns (an unquoted comma?)")
        if not any(row.values.values()):
            continue
        out.append((row.line, defaultdict(str, row.values)))  # absent optional columns: ""
    return out


def _sheet(d: Path, name: str) -> Path | None:
    """``d/name.csv`` or ``d/name.xlsx``."""
    return find_sheet(d, name.removesuffix(".csv"))


def _list(text: str) -> list[str]:
    return [t.strip() for t in text.split(";") if t.strip()] if text else []


def _float(path: Path, line: int, name: str, text: str) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError as exc:
        raise CaseError(f"{path}:{line}: {name} {text!r} is not a number") from exc


def _date(path: Path, line: int, name: str, text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CaseError(f"{path}:{line}: {name} {text!r} is not a date YYYY-MM-DD") from exc


def _cite(tags: list[str], case_id: str) -> str:
    return "".join(f"[{t}]" for t in tags) + f" (case {case_id})"


def read_places(d: Path, case_id: str) -> tuple[pa.Table, list[str]]:
    """Rows for the ``places`` table, and the places left out (no sourced coordinate)."""
    path = _sheet(d, "places")
    rows, skipped = [], []
    for line, r in _rows(path, ("place_id", "name", "kind", "precision")):
        lat = _float(path, line, "lat", r["lat"])
        lon = _float(path, line, "lon", r["lon"])
        if lat is None or lon is None:
            skipped.append(f"place {r['place_id']} ({r['name']}): no sourced coordinate "
                           f"({r.get('precision_note') or 'none given'})")
            continue
        radius = _float(path, line, "radius_m", r.get("radius_m", ""))
        rows.append({
            "place_id": r["place_id"], "name": r["name"], "kind": r["kind"],
            "country": r.get("country") or None, "lat": lat, "lon": lon,
            "geometry": json.dumps({"type": "Point", "coordinates": [lon, lat]}),
            "radius_m": radius, "aliases": _list(r.get("aliases", "")),
            "precision": r["precision"], "source": _cite(_list(r["sources"]), case_id),
        })
    schema = pa.schema([("place_id", pa.string()), ("name", pa.string()), ("kind", pa.string()),
                        ("country", pa.string()), ("lat", pa.float64()), ("lon", pa.float64()),
                        ("geometry", pa.string()), ("radius_m", pa.float64()),
                        ("aliases", pa.list_(pa.string())), ("precision", pa.string()),
                        ("source", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema), skipped


def read_case_places(d: Path, case_id: str) -> pa.Table:
    """Every row of places.csv, with or without a coordinate, as ``case_places`` rows: the
    analyst's precision note, mark, sources and note reach the reconstruction from the store."""
    path = _sheet(d, "places")
    rows = []
    for line, r in _rows(path, ("place_id", "name", "kind", "precision")):
        rows.append({
            "collection": case_id, "place_id": r["place_id"], "name": r["name"],
            "kind": r["kind"] or None, "country": r.get("country") or None,
            "lat": _float(path, line, "lat", r["lat"]), "lon": _float(path, line, "lon", r["lon"]),
            "precision": r["precision"] or None,
            "precision_note": r.get("precision_note") or None,
            "radius_m": _float(path, line, "radius_m", r.get("radius_m", "")),
            "aliases": _list(r.get("aliases", "")), "mark": r.get("mark") or None,
            "sources": _list(r["sources"]), "note": r.get("note") or None,
        })
    return pa.Table.from_pylist(rows, schema=CASE_PLACES)


def read_vessels(d: Path, case_id: str) -> pa.Table:
    path = _sheet(d, "vessels")
    rows = []
    for line, r in _rows(path, ("vessel_id", "name")):
        imo = None
        if r["imo"]:
            imo = parse_imo(r["imo"])
            if imo is None:
                raise CaseError(f"{path}:{line}: imo {r['imo']!r} is not a valid IMO number")
        try:
            marks = parse_marks(r.get("marks"))
        except ValueError as exc:
            raise CaseError(f"{path}:{line}: {exc}") from exc
        rows.append({
            "vessel_id": r["vessel_id"], "name": r["name"], "aliases": _list(r.get("aliases", "")),
            "imo": imo, "imo_status": r["imo_status"] or None,
            "mmsi": int(r["mmsi"]) if r["mmsi"] else None, "flag": r.get("flag") or None,
            "vessel_type": r.get("vessel_type") or None,
            "length_m": _float(path, line, "length_m", r.get("length_m", "")),
            "gross_tonnage": _float(path, line, "gross_tonnage", r.get("gross_tonnage", "")),
            "capacity_teu": int(r["capacity_teu"]) if r.get("capacity_teu") else None,
            "owner": r.get("owner") or None, "notes": r.get("notes") or None, "marks": marks,
            "source": _cite(_list(r["sources"]), case_id),
        })
    schema = pa.schema([("vessel_id", pa.string()), ("name", pa.string()),
                        ("aliases", pa.list_(pa.string())), ("imo", pa.int64()),
                        ("imo_status", pa.string()), ("mmsi", pa.int64()), ("flag", pa.string()),
                        ("vessel_type", pa.string()), ("length_m", pa.float32()),
                        ("gross_tonnage", pa.float32()), ("capacity_teu", pa.int32()),
                        ("owner", pa.string()), ("notes", pa.string()),
                        ("marks", pa.list_(pa.string())), ("source", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)


def read_sanctions(d: Path, case_id: str, vessels: pa.Table) -> pa.Table:
    """Vessel sanctions as ``watchlist`` rows (entity ``case:<id>:<vessel>:<authority>``)."""
    path = _sheet(d, "sanctions")
    by_id = {v["vessel_id"]: v for v in vessels.to_pylist()}
    rows = []
    for line, r in _rows(path, ("vessel_id", "authority", "program")):
        v = by_id.get(r["vessel_id"])
        if v is None:
            raise CaseError(f"{path}:{line}: vessel_id {r['vessel_id']!r} is not in the vessels "
                            "sheet")
        rows.append({
            "entity_id": f"case:{case_id}:{r['vessel_id']}:{r['authority']}",
            "name": v["name"], "aliases": v["aliases"], "imo": v["imo"], "mmsi": v["mmsi"],
            "flag": v["flag"], "programs": [r["program"]],
            "listed_on": _date(path, line, "listed_on", r["listed_on"]),
            "authority": r["authority"], "note": r.get("text") or None,
            "marks": parse_marks(r.get("marks")), "source": _cite(_list(r["sources"]), case_id),
        })
    schema = pa.schema([("entity_id", pa.string()), ("name", pa.string()),
                        ("aliases", pa.list_(pa.string())), ("imo", pa.int64()), ("mmsi", pa.int64()),
                        ("flag", pa.string()), ("programs", pa.list_(pa.string())),
                        ("listed_on", pa.date32()), ("authority", pa.string()), ("note", pa.string()),
                        ("marks", pa.list_(pa.string())), ("source", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)


def case_claim_id(case_id: str, key: str) -> str:
    """The claim_id of a case's sourced claim."""
    return stable_id("case-claim", case_id, key)


def read_claims(d: Path, case_id: str) -> pa.Table:
    """The case's sourced claims (§4 quantities and trip counts) as ``claims`` rows."""
    path = _sheet(d, "claims")
    rows = []
    for line, r in _rows(path, ("key", "sentence", "sources")):
        tags = _list(r["sources"])
        fields = {
            "key": r["key"], "case": case_id, "measure": r.get("measure") or None,
            "vessel_id": r.get("vessel_id") or None, "sources": tags,
            "marks": parse_marks(r["mark"]), "stated_on": r.get("stated_on") or None,
            "period_text": r.get("period_text") or None, "note": r.get("note") or None,
        }
        rows.append({
            "claim_id": case_claim_id(case_id, r["key"]), "report_id": None,
            "sentence": r["sentence"], "span_start": None, "span_end": None,
            "attribution": r.get("attribution") or None,
            "supplier": r.get("supplier") or None, "recipient": r.get("recipient") or None,
            "materiel": r.get("materiel") or None,
            "quantity": _float(path, line, "quantity", r["quantity"]),
            "quantity_unit": r["unit"] or None, "qualifier": r["qualifier"] or None,
            "period_start": _date(path, line, "period_start", r["period_start"]),
            "period_end": _date(path, line, "period_end", r["period_end"]),
            "places": _list(r.get("places", "")), "fields": json.dumps(fields, ensure_ascii=False),
            "confidence": None, "origin": "case",
        })
    schema = pa.schema([("claim_id", pa.string()), ("report_id", pa.string()),
                        ("sentence", pa.string()), ("span_start", pa.int32()),
                        ("span_end", pa.int32()), ("attribution", pa.string()),
                        ("supplier", pa.string()), ("recipient", pa.string()),
                        ("materiel", pa.string()), ("quantity", pa.float64()),
                        ("quantity_unit", pa.string()), ("qualifier", pa.string()),
                        ("period_start", pa.date32()), ("period_end", pa.date32()),
                        ("places", pa.list_(pa.string())), ("fields", pa.string()),
                        ("confidence", pa.float64()), ("origin", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)


def read_sources(d: Path, case_id: str, path: Path | None = None) -> pa.Table:
    """A sources list (``tag, parent, publisher, title, date, url, citation``…) as rows of the
    ``sources`` table under collection ``case_id``; ``path`` defaults to ``d/sources.csv``."""
    path = path or _sheet(d, "sources")
    rows = []
    for _, r in _rows(path, ("tag", "citation")):
        rows.append({
            "collection": case_id, "tag": r["tag"], "parent": r["parent"] or None,
            "publisher": r["publisher"] or None, "title": r["title"] or None,
            "date": r["date"] or None, "url": r["url"] or None,
            "other_urls": r.get("other_urls", "").split() if r.get("other_urls") else [],
            "marks": parse_marks(r.get("marks")), "citation": r["citation"] or None,
        })
    schema = pa.schema([("collection", pa.string()), ("tag", pa.string()), ("parent", pa.string()),
                        ("publisher", pa.string()), ("title", pa.string()), ("date", pa.string()),
                        ("url", pa.string()), ("other_urls", pa.list_(pa.string())),
                        ("marks", pa.list_(pa.string())), ("citation", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)


def resolve_case(id_or_path: str | Path) -> tuple[str, Path]:
    """(case_id, directory) for a shipped case id, a case folder, or a corridor naming one."""
    p = Path(id_or_path)
    if p.is_dir():
        if (p / CASE_CORRIDOR_FILE).exists():
            c = load_corridor(p)
            if c.case and c.case_path:
                return c.case, Path(c.case_path)
        return case_slug(p.resolve().name), p
    d = case_dir(str(id_or_path))
    if d.is_dir():
        return str(id_or_path), d
    try:
        corridor = load_corridor(id_or_path)
    except CorridorError as exc:
        raise CaseError(f"{id_or_path}: not a shipped case, a case folder or a corridor "
                        f"({exc})") from exc
    if corridor.case is None or corridor.case_path is None:
        raise CaseError(f"{id_or_path}: corridor {corridor.corridor_id} names no case to load")
    return corridor.case, Path(corridor.case_path)


def load_case(store: Store, id_or_path: str | Path, *, force: bool = False) -> CaseLoadSummary:
    """Load a case into the store (idempotent); see the module docstring. Every sheet is
    optional; the ones present may be CSV or XLSX."""
    case_id, d = resolve_case(id_or_path)
    if not any(find_sheet(d, name.removesuffix(".csv")) for name in CASE_FILES):
        raise CaseError(f"{d}: no case sheets (any of {', '.join(CASE_FILES)}, or .xlsx)")
    places, skipped = read_places(d, case_id)
    vessels = read_vessels(d, case_id)
    sanctions = read_sanctions(d, case_id, vessels)
    claims = read_claims(d, case_id)
    sources = read_sources(d, case_id)
    case_places = read_case_places(d, case_id)
    summary = CaseLoadSummary(case_id=case_id, not_stored=skipped)
    with store.transaction():
        store.con.execute("DELETE FROM case_places WHERE collection = ?", [case_id])
        store.insert_arrow("case_places", case_places)
        for table, data in (("places", places), ("vessels", vessels), ("watchlist", sanctions),
                            ("claims", claims), ("sources", sources)):
            store.insert_arrow(table, data, on_conflict="replace")
            summary.stored[table] = data.num_rows
    notes: list[str] = []
    for fn, name in ((ingest_sightings, "sightings"), (ingest_rail, "rail")):
        path = find_sheet(d, name)
        if path is None:
            continue
        kwargs = {"notes": notes} if fn is ingest_sightings else {}
        s = fn(store, path, force=force, **kwargs)
        summary.ingests.append(s)
        if s.status == "failed":
            raise CaseError(f"{path}: {s.message}")
    summary.notes = notes
    # Claims ingested before these places and vessels existed resolve their names again.
    from corridor.claims.store import refresh_places, refresh_vessels

    summary.claims_re_resolved = refresh_places(store)
    summary.claims_vessels_re_resolved = refresh_vessels(store)
    return summary


def ingest_sources(store: Store, path: str | Path, collection: str | None = None) -> int:
    """Add a user's numbered sources list (same columns as a case's ``sources.csv``) so that the
    ``[S#]`` tags of their sightings and claims resolve to URLs; returns rows stored. The
    collection defaults to the file's name without extension; re-loading replaces its rows."""
    p = Path(path)
    tbl = read_sources(p.parent, collection or p.stem, path=p)
    with store.transaction():
        store.insert_arrow("sources", tbl, on_conflict="replace")
    return tbl.num_rows
