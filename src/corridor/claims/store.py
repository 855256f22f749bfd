"""Saving, listing, correcting and matching claims in the store.

Extracted claims are replaced whenever their report is extracted again; claims an
analyst wrote or corrected (``origin = 'manual'``, from ``corridor claims add``) are
never overwritten by extraction. A correction names an existing ``claim_id``: the
columns it gives replace the extracted ones, the rest are kept, and the row becomes
``manual``.

Corridors pick the claims they test with :func:`match_claims` (by period overlap and
shared places) or by id with :func:`get_claims`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa
import yaml

from corridor.claims.extract import CLAIMS, Claim, claims_table
from corridor.claims.places import Gazetteer, counts_as_name
from corridor.claims.vessels import VesselIndex, vessel_key
from corridor.ids import stable_id
from corridor.store import Store

_COLUMNS = [f.name for f in CLAIMS]
_LIST_SQL = "SELECT " + ", ".join(_COLUMNS) + " FROM claims"


def save_claims(store: Store, report_id: str, claims: list[Claim]) -> int:
    """Replace the extracted claims of ``report_id`` with ``claims`` (manual ones kept).

    Call inside ``store.transaction()``; returns the number of rows written.
    """
    store.con.execute("DELETE FROM claims WHERE report_id = ? AND origin = 'extracted'", [report_id])
    return store.insert_arrow("claims", claims_table(claims), on_conflict="ignore")


def list_claims(store: Store, report_id: str | None = None) -> pa.Table:
    """Claims in text order (by report, then span), optionally of one report."""
    sql = _LIST_SQL + (" WHERE report_id = ?" if report_id else "")
    sql += " ORDER BY report_id NULLS LAST, span_start NULLS LAST, claim_id"
    return store.query(sql, [report_id] if report_id else [])


def get_claims(store: Store, claim_ids: Sequence[str]) -> pa.Table:
    """The claims with these ids (missing ids are simply absent)."""
    if not claim_ids:
        return CLAIMS.empty_table()
    marks = ", ".join("?" for _ in claim_ids)
    return store.query(_LIST_SQL + f" WHERE claim_id IN ({marks}) ORDER BY claim_id", list(claim_ids))


def _claim_place_ids(row: dict, gaz: Gazetteer) -> set[str]:
    """Stored place ids plus every place mention resolved now against the gazetteer, with
    all its candidates (as extraction does), so claims extracted before the gazetteer was
    loaded match, and a refresh right after an ingest changes nothing."""
    ids = set(row.get("places") or [])
    try:
        f = json.loads(row.get("fields") or "{}")
    except ValueError:
        f = {}
    mentions = list(f.get("places") or []) + [
        lk.get("value", {}) for lk in f.get("links") or [] if lk.get("field") == "place"]
    for p in mentions:
        if p.get("lexicon") == "gazetteer" and not counts_as_name(p.get("text") or ""):
            continue  # a word that is also a port's name ("and"), stored by an earlier version
        spellings = [p.get("text", ""), p.get("name", "")]
        pid, cands = gaz.resolve(*[s for s in spellings if s], cued=p.get("lexicon") == "context")
        ids.update(cands)
        if p.get("near_depot"):
            ids.update(gaz.named_like(p.get("name") or p.get("text", ""), kind="depot"))
    return ids


def refresh_places(store: Store) -> int:
    """Re-resolve the place mentions of every claim against the current gazetteer (run
    after loading or editing places); updates ``places`` where it changes and returns the
    number of claims updated. Manual claims keep the places the analyst gave."""
    gaz = Gazetteer.from_arrow(store.query("SELECT place_id, name, aliases, kind, source FROM places"))
    changed = 0
    with store.transaction():
        for row in store.query("SELECT claim_id, places, fields FROM claims WHERE origin = 'extracted'"
                               ).to_pylist():
            ids = sorted(_claim_place_ids(dict(row, places=[]), gaz))
            if ids != sorted(row["places"] or []):
                store.con.execute("UPDATE claims SET places = ? WHERE claim_id = ?", [ids, row["claim_id"]])
                changed += 1
    return changed


def claim_vessels(fields: str | dict | None) -> list[str]:
    """The vessels a claim names, from its ``fields``: vessel_ids where a stored vessel is
    known, else the name, IMO number or MMSI as written (``"imo 9179842"``)."""
    try:
        f = json.loads(fields) if isinstance(fields, str) else (fields or {})
    except ValueError:
        return []
    return list(dict.fromkeys(vessel_key(v) for v in f.get("vessels") or []
                              if v.get("name") or v.get("imo") or v.get("mmsi")))


def refresh_vessels(store: Store) -> int:
    """Resolve the vessel mentions of every extracted claim again against the stored vessels
    (run after loading a case); updates ``fields`` where a resolution changes and returns
    the number of claims updated."""
    index = VesselIndex.of(store.query("SELECT vessel_id, name, aliases, imo, mmsi, source FROM vessels"))
    changed = 0
    with store.transaction():
        for row in store.query("SELECT claim_id, fields FROM claims WHERE origin = 'extracted'").to_pylist():
            try:
                f = json.loads(row["fields"] or "{}")
            except ValueError:
                continue
            dirty = False
            for v in f.get("vessels") or []:
                if not (v.get("name") or v.get("imo") or v.get("mmsi")):
                    continue
                vid, cands, by = index.resolve(v.get("name"), v.get("imo"), v.get("mmsi"))
                if (vid, cands, by) != (v.get("vessel_id"), v.get("candidates"), v.get("resolved_by")):
                    v.update(vessel_id=vid, candidates=cands, resolved_by=by, resolved=vid is not None)
                    dirty = True
            if dirty:
                store.con.execute("UPDATE claims SET fields = ? WHERE claim_id = ?",
                                  [json.dumps(f, ensure_ascii=False, sort_keys=True), row["claim_id"]])
                changed += 1
    return changed


def match_claims(
    store: Store,
    period: tuple[date, date] | None = None,
    place_ids: Sequence[str] | None = None,
    claim_ids: Sequence[str] | None = None,
) -> pa.Table:
    """Claims a corridor tests: those whose period overlaps ``period`` (inclusive dates)
    and which name at least one of ``place_ids``, plus every claim in ``claim_ids``.

    With ``period`` None the period is not a condition; with ``place_ids`` empty or None
    places are not a condition; a claim without a period does not match a given period.
    Returns rows of the ``claims`` table plus ``match`` ("id", "period+places", "period",
    "places").
    """
    tbl = list_claims(store)
    gaz = Gazetteer.from_arrow(store.query("SELECT place_id, name, aliases, kind, source FROM places"))
    wanted = set(place_ids or [])
    by_id = set(claim_ids or [])
    keep, how = [], []
    for row in tbl.to_pylist():
        if row["claim_id"] in by_id:
            keep.append(row)
            how.append("id")
            continue
        if period is None and not wanted:
            continue
        ok_period = True
        if period is not None:
            ps, pe = row["period_start"], row["period_end"] or row["period_start"]
            ok_period = ps is not None and ps <= period[1] and (pe or ps) >= period[0]
        ok_places = True
        if wanted:
            ok_places = bool(_claim_place_ids(row, gaz) & wanted)
        if ok_period and ok_places:
            keep.append(row)
            how.append("+".join(k for k, on in (("period", period is not None), ("places", bool(wanted)))
                                if on))
    out = pa.Table.from_pylist(keep, schema=CLAIMS)
    return out.append_column("match", pa.array(how, pa.string()))


@dataclass
class AddSummary:
    """Outcome of ``corridor claims add``."""

    path: str
    added: int = 0
    replaced: int = 0
    skipped: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{self.path}: {self.added} claims added, {self.replaced} corrected"]
        out += [f"  skipped {s}" for s in self.skipped]
        return out


def _read_rows(path: Path) -> list[tuple[int, dict]]:
    """(line or item number, row) pairs from YAML (a list of mappings, or ``claims:``) or CSV."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        return [(i + 2, {k: (v if v != "" else None) for k, v in r.items() if k}) for i, r in
                enumerate(reader)]
    data = yaml.safe_load(text) or []
    if isinstance(data, dict):
        data = data.get("claims", [])
    if not isinstance(data, list):
        raise ValueError("expected a list of claims (or a mapping with a 'claims' list)")
    return [(i + 1, r) for i, r in enumerate(data)]


def _coerce(row: dict) -> dict:
    """Typed column values from a hand-written row; raises ValueError on bad values."""
    out: dict = {}
    for k, v in row.items():
        if k not in _COLUMNS or v is None:
            continue
        if k in ("period_start", "period_end"):
            v = v if isinstance(v, date) else date.fromisoformat(str(v))
        elif k in ("quantity", "confidence"):
            v = float(str(v).replace(",", ""))
        elif k in ("span_start", "span_end"):
            v = int(v)
        elif k == "places":
            v = [s.strip() for s in v.split(";") if s.strip()] if isinstance(v, str) else list(v)
        elif k == "fields":
            v = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)
            json.loads(v)
        else:
            v = str(v)
        out[k] = v
    return out


def add_claims(store: Store, path: str | Path) -> AddSummary:
    """Add hand-written claims, or correct extracted ones (same ``claim_id``), from YAML/CSV.

    A row needs a ``sentence`` unless it corrects an existing claim. All rows are written
    in one transaction; bad rows are skipped with their line (CSV) or item (YAML) number.
    """
    path = Path(path)
    summary = AddSummary(str(path))
    try:
        rows = _read_rows(path)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read claims: {exc}") from exc
    new: list[dict] = []
    for line, raw in rows:
        where = f"{'line' if path.suffix.lower() == '.csv' else 'item'} {line}"
        if not isinstance(raw, dict):
            summary.skipped.append(f"{where}: not a mapping")
            continue
        try:
            vals = _coerce(raw)
        except (ValueError, TypeError) as exc:
            summary.skipped.append(f"{where}: {exc}")
            continue
        existing = get_claims(store, [vals["claim_id"]]).to_pylist() if vals.get("claim_id") else []
        if existing:
            merged = dict(existing[0])
            merged.update(vals)
            summary.replaced += 1
        else:
            if not vals.get("sentence"):
                summary.skipped.append(f"{where}: no sentence (and no existing claim_id to correct)")
                continue
            merged = {c: None for c in _COLUMNS}
            merged.update(vals)
            merged["claim_id"] = vals.get("claim_id") or stable_id(
                "manual", vals.get("report_id"), vals["sentence"])
            merged.setdefault("fields", None)
            merged["fields"] = merged["fields"] or "{}"
            summary.added += 1
        merged["origin"] = "manual"
        merged["places"] = merged.get("places") or []
        new.append(merged)
    if new:
        with store.transaction():
            store.insert_arrow("claims", pa.Table.from_pylist(new, schema=CLAIMS), on_conflict="replace")
    return summary
