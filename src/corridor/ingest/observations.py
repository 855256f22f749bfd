"""Sightings and rail counts: an analyst's or a publication's observations, as CSV.

**Sightings CSV** (one row per observation of a vessel, cargo or train at a place):

- ``date`` (required unless ``ts_start`` is given): see :func:`parse_date_range`. A date means
  that whole UTC day; vague dates ("mid-Aug 2023", "Sep–Dec 2023", "weekend of 14–15 Oct
  2023") become explicit ranges flagged ``date_uncertain``; a date without a year
  ("mid-Oct") is refused with a message, never guessed.
- ``source`` (required): citation, e.g. ``[S6][S7]``.
- the place: ``place_id`` or ``place`` (a name or alias from the ``places`` table) or
  ``lat`` + ``lon`` (matched to the nearest place within its radius) or, for a place with no
  coordinate, ``place_text`` alone (stored unlocated, and said so). A place id or name that is
  not in the ``places`` table is an error for that row.
- optional: ``ts_start``/``ts_end`` (ISO), ``date_text`` (the date as the source wrote it),
  ``date_uncertain`` (``true`` marks a range uncertain even when written precisely),
  ``vessel_name``, ``imo``, ``mmsi``, ``identification`` (stated, probable), ``subject``
  (vessel, containers, train, railcars, activity), ``count``, ``unit`` (of the count, e.g.
  shells), ``vessels`` (ships the count covers), ``activity``, ``evidence_type``,
  ``description``, ``mark`` (case-file marks ``C``, ``I``, ``U``, ``⚠``, several with ``;``) or
  ``confidence``.

**Rail CSV**: ``date``, ``place_id`` (or ``place``), ``source`` required; optional ``kind``
(count, baseline, statement), ``railcars``, ``qualifier``, ``car_type``, ``direction``,
``description``, ``mark``, ``date_text``.

Rows are validated one by one (the stdlib ``csv`` module gives line numbers, which DuckDB's
reader does not); a bad row is skipped with its line number and reason, the rest is stored in
one transaction through :func:`corridor.ingest.summary.ingest_file`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa

from corridor.geo import haversine_m
from corridor.identity import NameIndex, VesselResolver, parse_imo, parse_mmsi
from corridor.ids import stable_id
from corridor.ingest.sheets import SheetError, read_sheet
from corridor.ingest.summary import IngestError, IngestSummary, ingest_file
from corridor.store import Store


class DateParseError(ValueError):
    """A date text corridor will not turn into a range (it would have to guess)."""


@dataclass(frozen=True)
class DateRange:
    """``[start, end)`` in UTC; ``uncertain`` when widened from a vague date."""

    start: datetime
    end: datetime
    uncertain: bool
    text: str

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400.0


_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_name) if name})
_MONTHS["sept"] = 9
_MON = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DASH = r"\s*(?:-|–|—|to|/)\s*"
_PART = {"early": (1, 10), "mid": (11, 20), "late": (21, 31)}


def _month(text: str) -> int:
    return _MONTHS[text.lower().rstrip(".")[:3]]


def _day_start(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d)


def _month_range(y: int, m: int) -> tuple[datetime, datetime]:
    start = datetime(y, m, 1)
    end = datetime(y + 1, 1, 1) if m == 12 else datetime(y, m + 1, 1)
    return start, end


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "").replace(" ", "T"))


def parse_date_range(text: str) -> DateRange:
    """Turn a date as sources write it into an explicit UTC range.

    Hand-written because date libraries (dateparser, dateutil) parse single instants and
    silently pick a day for "mid-Aug"; corridor needs the whole range and a flag.

    >>> r = parse_date_range("2023-09-07/08"); (r.start.day, r.end.day, r.uncertain)
    (7, 9, False)
    >>> r = parse_date_range("mid-Aug 2023"); (str(r.start.date()), str(r.end.date()), r.uncertain)
    ('2023-08-11', '2023-08-21', True)
    >>> r = parse_date_range("Sep–Dec 2023"); (str(r.start.date()), str(r.end.date()))
    ('2023-09-01', '2024-01-01')
    >>> parse_date_range("mid-Oct")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    corridor.ingest.observations.DateParseError: 'mid-Oct' has no year; write it with one, ...
    """
    original = text
    t = (text or "").strip()
    if not t:
        raise DateParseError("empty date")
    t = re.sub(r"\(.*?\)", "", t).strip()  # "(image dated 16 Oct)" is a note, kept in date_text
    t = t.replace("~", "").replace("≈", "").strip()
    low = t.lower()

    # A range written with an arrow or "..": parse both ends, take the envelope.
    for sep in ("→", "->", ".."):
        if sep in t:
            a, b = (s.strip() for s in t.split(sep, 1))
            ra, rb = parse_date_range(a), parse_date_range(b)
            if rb.end <= ra.start:
                raise DateParseError(f"{original!r}: the range ends before it starts")
            return DateRange(ra.start, rb.end, ra.uncertain or rb.uncertain, original)

    # ISO forms
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", t)
    if m:
        s = _day_start(*map(int, m.groups()))
        return DateRange(s, s + timedelta(days=1), False, original)
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)", t)
    if m:
        s = _iso(f"{m.group(1)}T{m.group(2)}")
        return DateRange(s, s, False, original)
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})\s*/\s*(\d{1,2})", t)  # 2023-09-07/08
    if m:
        y, mo, d1, d2 = map(int, m.groups())
        s, e = _day_start(y, mo, d1), _day_start(y, mo, d2) + timedelta(days=1)
        if e <= s:
            raise DateParseError(f"{original!r}: the range ends before it starts")
        return DateRange(s, e, False, original)
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})\s*/\s*(\d{2})-(\d{2})", t)  # 2023-09-30/10-01
    if m:
        y, mo, d1, mo2, d2 = map(int, m.groups())
        s, e = _day_start(y, mo, d1), _day_start(y, mo2, d2) + timedelta(days=1)
        if e <= s:
            raise DateParseError(f"{original!r}: the range ends before it starts")
        return DateRange(s, e, False, original)
    m = re.fullmatch(r"(\S+)\s*/\s*(\S+)", t)  # full ISO on both sides
    if m and re.match(r"\d{4}-\d{2}", m.group(1)) and re.match(r"\d{4}-\d{2}", m.group(2)):
        ra, rb = parse_date_range(m.group(1)), parse_date_range(m.group(2))
        if rb.end < ra.start:
            raise DateParseError(f"{original!r}: the range ends before it starts")
        end = rb.end if rb.end > rb.start else rb.start
        return DateRange(ra.start, end, ra.uncertain or rb.uncertain, original)
    m = re.fullmatch(r"(\d{4})-(\d{2})", t)
    if m:
        s, e = _month_range(int(m.group(1)), int(m.group(2)))
        return DateRange(s, e, True, original)

    # "weekend of 14–15 Oct 2023" / "14–15 Oct 2023" / "14 Oct 2023"
    m = re.fullmatch(r"(weekend of\s+)?(\d{1,2})(?:" + _DASH + r"(\d{1,2}))?\s+" + _MON
                     + r"\s+(\d{4})", low)
    if m:
        weekend, d1, d2, mon, y = m.groups()
        mo = _month(mon)
        s = _day_start(int(y), mo, int(d1))
        e = _day_start(int(y), mo, int(d2 or d1)) + timedelta(days=1)
        return DateRange(s, e, bool(weekend), original)

    # "mid-Aug 2023", "early Oct 2023", "late Dec 2023"
    m = re.fullmatch(r"(early|mid|late)[-\s]+" + _MON + r"\s+(\d{4})", low)
    if m:
        part, mon, y = m.groups()
        mo, yi = _month(mon), int(y)
        a, b = _PART[part]
        b = min(b, calendar.monthrange(yi, mo)[1])
        s = _day_start(yi, mo, a)
        return DateRange(s, _day_start(yi, mo, b) + timedelta(days=1), True, original)

    # "Sep–Dec 2023", "Aug 2023 – Feb 2024", "Aug 2023"
    m = re.fullmatch(_MON + r"(?:\s+(\d{4}))?" + _DASH + _MON + r"\s+(\d{4})", low)
    if m:
        mon1, y1, mon2, y2 = m.groups()
        m1, m2, y2i = _month(mon1), _month(mon2), int(y2)
        y1i = int(y1) if y1 else (y2i if m1 <= m2 else y2i - 1)
        s, _ = _month_range(y1i, m1)
        _, e = _month_range(y2i, m2)
        return DateRange(s, e, True, original)
    m = re.fullmatch(_MON + r"\s+(\d{4})", low)
    if m:
        s, e = _month_range(int(m.group(2)), _month(m.group(1)))
        return DateRange(s, e, True, original)

    # Known vague shapes without a year: refuse with a precise message.
    m = re.fullmatch(r"(early|mid|late)[-\s]+" + _MON, low)
    if m:
        a, b = _PART[m.group(1)]
        days = f"{a}-{b}" if b < 31 else f"{a}-end of month"
        raise DateParseError(
            f"{original!r} has no year; write it with one, e.g. '{t} 2023' "
            f"(read as days {days}, marked uncertain)"
        )
    if re.search(_MON, low) and not re.search(r"\d{4}", low):
        raise DateParseError(f"{original!r} has no year; write it with one (e.g. '{t} 2023')")
    raise DateParseError(
        f"{original!r} is not a date corridor reads: use YYYY-MM-DD, YYYY-MM-DD/DD, "
        "'YYYY-MM-DD..YYYY-MM-DD', 'Aug 2023', 'mid-Aug 2023', 'Sep–Dec 2023' or "
        "'weekend of 14–15 Oct 2023'"
    )


# --------------------------------------------------------------------------- places
@dataclass
class PlaceLookup:
    """Resolve a place id, name/alias or coordinate to a ``place_id`` of the ``places`` table.

    A small in-memory index: corridor's gazetteers have hundreds of rows, so a vectorised
    haversine over all of them is cheaper than building a spatial index.
    """

    table: pa.Table

    def __post_init__(self) -> None:
        rows = self.table.to_pylist()
        self.ids = [r["place_id"] for r in rows]
        self._known = set(self.ids)
        self._names = NameIndex()
        for r in rows:
            keys = {r["place_id"], r.get("name") or ""} | set(r.get("aliases") or [])
            for k in sorted(keys):
                self._names.add(k, r["place_id"])
        self.lat = np.array([r["lat"] for r in rows], dtype=float)
        self.lon = np.array([r["lon"] for r in rows], dtype=float)
        self.radius = np.array([r.get("radius_m") or 0.0 for r in rows], dtype=float)

    @classmethod
    def from_store(cls, store: Store) -> PlaceLookup:
        return cls(store.query("SELECT place_id, name, aliases, lat, lon, radius_m FROM places "
                               "ORDER BY place_id"))

    def by_id(self, place_id: str) -> str | None:
        return place_id if place_id in self._known else None

    def by_name(self, text: str) -> list[str]:
        """All place ids whose id, name or alias matches ``text`` (folded to ASCII and
        normalised; an Arabic-script name by its consonants when nothing matches exactly)."""
        return sorted(self._names.find(text))

    def nearest(self, lat: float, lon: float, default_radius_m: float = 5000.0) -> str | None:
        """The nearest place whose radius (or ``default_radius_m``) contains the point."""
        if not self.ids:
            return None
        d = haversine_m(np.full(len(self.ids), lat), np.full(len(self.ids), lon), self.lat, self.lon)
        r = np.where(self.radius > 0, self.radius, default_radius_m)
        inside = np.flatnonzero(d <= r)
        if len(inside) == 0:
            return None
        return self.ids[int(inside[np.argmin(d[inside])])]


# ------------------------------------------------------------------------- helpers
_MARK_CONFIDENCE = (("⚠", "conflicting"), ("U", "unverified"), ("I", "inferred"), ("C", "confirmed"))


def parse_marks(text: str | None) -> list[str]:
    """Case-file marks from ``"C;⚠"`` / ``"C, U"`` / ``"⚠ C"``.

    >>> parse_marks("C;⚠"), parse_marks("")
    (['C', '⚠'], [])
    """
    if not text:
        return []
    out = []
    for tok in re.split(r"[;,\s]+", text.strip()):
        tok = tok.strip().upper() if tok.strip() != "⚠" else "⚠"
        if tok in {"C", "I", "U", "⚠"} and tok not in out:
            out.append(tok)
        elif tok:
            raise ValueError(f"unknown mark {tok!r} (use C, I, U or ⚠)")
    return out


def marks_confidence(marks: list[str]) -> str | None:
    """The weakest mark decides: ⚠ conflicting, U unverified, I inferred, C confirmed."""
    for mark, conf in _MARK_CONFIDENCE:
        if mark in marks:
            return conf
    return None


def source_tags(text: str | None) -> list[str]:
    """Source tags in a citation: ``"[S6][S7]"`` → ``['S6', 'S7']``; ``"S6;S7"`` too.

    >>> source_tags("[S19b][S19f]"), source_tags("S6;S7")
    (['S19b', 'S19f'], ['S6', 'S7'])
    """
    if not text:
        return []
    return list(dict.fromkeys(re.findall(r"\bS\d+[a-z]?\b", text)))


def citation(text: str) -> str:
    """Normalise ``"S6;S7"`` to ``"[S6][S7]"``; other citations are kept as written."""
    tags = source_tags(text)
    if tags and re.fullmatch(r"[\sS\d a-z;,\[\]]+", text):
        return "".join(f"[{t}]" for t in tags)
    return text.strip()


def _read_rows(path: Path, required: list[list[str]], what: str) -> Iterator[tuple[int, dict]]:
    """Sheet rows (CSV or XLSX, ``#`` comment lines allowed; :mod:`corridor.ingest.sheets`) as
    dicts with their line numbers; each inner list of ``required`` needs one column present.
    Raises IngestError naming the file and the missing column."""
    try:
        sheet = read_sheet(path)
    except SheetError as exc:
        raise IngestError(str(exc)) from exc
    cols = list(sheet.header)
    if not cols:
        raise IngestError(f"{path}: empty file (no header row)")
    for alternatives in required:
        if not any(a in cols for a in alternatives):
            need = " or ".join(repr(a) for a in alternatives)
            raise IngestError(
                f"{path}: {what} CSV is missing column {need} (found: {', '.join(cols)})"
            )
    for row in sheet.rows:
        clean = {k: v for k, v in row.values.items() if k}
        if not any(clean.values()):
            continue
        yield row.line, clean


def _int(value: str | None, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        f = float(str(value).replace(",", "").lstrip("~≈"))
    except ValueError as exc:
        raise ValueError(f"{what} {value!r} is not a number") from exc
    return int(round(f))


def _resolve_place(row: dict, places: PlaceLookup) -> tuple[str | None, float | None, float | None]:
    """(place_id, lat, lon) for a row, or raise ValueError with the reason."""
    pid = row.get("place_id") or ""
    if pid:
        if places.by_id(pid) is None:
            hits = places.by_name(pid)
            if len(hits) == 1:
                return hits[0], None, None
            raise ValueError(f"place {pid!r} is not in the places table (load the case or "
                             "gazetteer first, or give lat/lon)")
        return pid, None, None
    name = row.get("place") or ""
    if name:
        hits = places.by_name(name)
        if len(hits) == 1:
            return hits[0], None, None
        if len(hits) > 1:
            raise ValueError(f"place {name!r} is ambiguous: {', '.join(hits)}")
        raise ValueError(f"place {name!r} is not in the places table")
    lat, lon = row.get("lat") or "", row.get("lon") or ""
    if lat and lon:
        try:
            la, lo = float(lat), float(lon)
        except ValueError as exc:
            raise ValueError(f"lat/lon {lat!r}, {lon!r} are not numbers") from exc
        if not (-90 <= la <= 90 and -180 <= lo <= 180):
            raise ValueError(f"lat/lon {la}, {lo} out of range")
        return places.nearest(la, lo), la, lo
    if row.get("place_text"):
        return None, None, None  # explicitly unlocated
    raise ValueError("no place: give place_id, place, lat/lon, or place_text for an unlocated place")


def real_date_range(text: str) -> DateRange:
    """:func:`parse_date_range`, where a date that does not exist (2024-09-31) is a
    :class:`DateParseError` naming it, like any other unusable date."""
    try:
        return parse_date_range(text)
    except DateParseError:
        raise
    except ValueError as exc:
        raise DateParseError(f"{text!r} is not a real date ({exc}); expected a calendar date "
                             "such as 2024-09-30") from exc


def _row_range(row: dict) -> DateRange:
    if row.get("ts_start"):
        try:
            s = _iso(row["ts_start"])
            e = _iso(row["ts_end"]) if row.get("ts_end") else s
        except ValueError as exc:
            raise DateParseError(f"ts_start/ts_end not ISO times: {exc}") from exc
        if e < s:
            raise DateParseError("ts_end is before ts_start")
        unc = (row.get("date_uncertain") or "").lower() in {"1", "true", "yes"}
        return DateRange(s, e, unc, row.get("date_text") or row["ts_start"])
    rng = real_date_range(row.get("date") or "")
    if (row.get("date_uncertain") or "").lower() in {"1", "true", "yes"} and not rng.uncertain:
        rng = DateRange(rng.start, rng.end, True, rng.text)
    return rng


# ----------------------------------------------------------------------- sightings
SIGHTING_FIELDS = pa.schema(
    [
        ("sighting_id", pa.string()), ("ts_start", pa.timestamp("us")), ("ts_end", pa.timestamp("us")),
        ("date_text", pa.string()), ("date_uncertain", pa.bool_()), ("place_id", pa.string()),
        ("place_text", pa.string()), ("lat", pa.float64()), ("lon", pa.float64()),
        ("vessel_id", pa.string()), ("vessel_name", pa.string()), ("identification", pa.string()),
        ("imo", pa.int64()), ("mmsi", pa.int64()), ("subject", pa.string()), ("count", pa.int32()),
        ("activity", pa.string()), ("evidence_type", pa.string()), ("description", pa.string()),
        ("source", pa.string()), ("confidence", pa.string()), ("marks", pa.list_(pa.string())),
    ]
)

SUBJECTS = {"vessel", "containers", "train", "railcars", "activity", "cargo"}
#: ``unit`` (of ``count``: shells, tonnes… when not the corridor's main unit) and ``vessels``
#: (how many ships a count covers: "200 containers aboard the two ships" → 2), when given.
SIGHTING_CARGO_FIELDS = pa.schema([("sighting_id", pa.string()), ("unit", pa.string()),
                                   ("vessels", pa.int32())])


def parse_sightings(
    path: Path,
    summary: IngestSummary,
    *,
    places: PlaceLookup,
    vessels: VesselResolver,
    notes: list[str] | None = None,
) -> Iterator[tuple[str, pa.Table]]:
    """Parser for :func:`ingest_file`: sightings rows → the ``sightings`` table (and
    ``sighting_cargo`` for rows with a ``unit`` or ``vessels``)."""
    rows = []
    cargo_rows: list[dict] = []
    for line, row in _read_rows(path, [["date", "ts_start"], ["source"]], "sightings"):
        summary.rows_in += 1
        try:
            rng = _row_range(row)
        except DateParseError as exc:
            summary.skip("bad date", line, f"line {line}: {exc}")
            continue
        try:
            place_id, lat, lon = _resolve_place(row, places)
        except ValueError as exc:
            summary.skip("unknown place", line, f"line {line}: {exc}")
            continue
        if not row.get("source"):
            summary.skip("no source", line, f"line {line}: every sighting needs its source")
            continue
        try:
            marks = parse_marks(row.get("mark"))
            count = _int(row.get("count"), "count")
        except ValueError as exc:
            summary.skip("bad value", line, f"line {line}: {exc}")
            continue
        subject = (row.get("subject") or ("vessel" if row.get("vessel_name") else "activity")).lower()
        if subject not in SUBJECTS:
            summary.skip("bad value", line, f"line {line}: subject {subject!r} not one of "
                         f"{', '.join(sorted(SUBJECTS))}")
            continue
        name = row.get("vessel_name") or None
        imo_raw, mmsi_raw = row.get("imo") or None, row.get("mmsi") or None
        vessel_id = None
        if name or imo_raw or mmsi_raw:
            res = vessels.resolve(imo=imo_raw, mmsi=mmsi_raw, name=name)
            vessel_id = res.vessel_id
            if res.status in {"ambiguous", "conflict"} and notes is not None:
                notes.append(f"{path}:{line}: vessel not resolved ({res.status}): {res.message}")
        ident = row.get("identification") or ("stated" if vessel_id else
                                              ("unidentified" if subject == "vessel" else None))
        src = citation(row["source"])
        key = [rng.start.isoformat(), rng.end.isoformat(), place_id, lat, lon,
               row.get("place_text"), name, subject, row.get("activity"), src,
               row.get("description"), count]
        unit = (row.get("unit") or "").strip() or None
        try:
            ships = _int(row.get("vessels"), "vessels")
        except ValueError as exc:
            summary.skip("bad value", line, f"line {line}: {exc}")
            continue
        if unit or ships:
            key.append([unit, ships])  # only then, so that other sightings keep their ids
            cargo_rows.append({"sighting_id": stable_id("sighting", *key), "unit": unit,
                               "vessels": ships})
        rows.append(
            {
                "sighting_id": stable_id("sighting", *key),
                "ts_start": rng.start,
                "ts_end": rng.end,
                "date_text": row.get("date_text") or rng.text,
                "date_uncertain": rng.uncertain,
                "place_id": place_id,
                "place_text": row.get("place_text") or None,
                "lat": lat,
                "lon": lon,
                "vessel_id": vessel_id,
                "vessel_name": name,
                "identification": ident,
                "imo": parse_imo(imo_raw, check=False) if imo_raw else None,
                "mmsi": parse_mmsi(mmsi_raw),
                "subject": subject,
                "count": count,
                "activity": row.get("activity") or None,
                "evidence_type": row.get("evidence_type") or None,
                "description": row.get("description") or None,
                "source": src,
                "confidence": row.get("confidence") or marks_confidence(marks),
                "marks": marks,
            }
        )
    yield "sightings", pa.Table.from_pylist(rows, schema=SIGHTING_FIELDS)
    if cargo_rows:
        yield "sighting_cargo", pa.Table.from_pylist(cargo_rows, schema=SIGHTING_CARGO_FIELDS)


def ingest_sightings(store: Store, path: str | Path, *, force: bool = False,
                     notes: list[str] | None = None) -> IngestSummary:
    """Ingest a sightings CSV (see the module docstring) into ``sightings``."""
    parse = partial(parse_sightings, places=PlaceLookup.from_store(store),
                    vessels=VesselResolver.from_store(store), notes=notes)
    return ingest_file(store, Path(path), "sightings", parse, force=force)


# ---------------------------------------------------------------------------- rail
RAIL_FIELDS = pa.schema(
    [
        ("rail_obs_id", pa.string()), ("obs_date", pa.date32()), ("obs_date_end", pa.date32()),
        ("date_text", pa.string()), ("date_uncertain", pa.bool_()), ("place_id", pa.string()),
        ("kind", pa.string()), ("railcars", pa.int32()), ("qualifier", pa.string()),
        ("car_type", pa.string()), ("direction", pa.string()), ("description", pa.string()),
        ("source", pa.string()), ("confidence", pa.string()), ("marks", pa.list_(pa.string())),
    ]
)
RAIL_KINDS = {"count", "baseline", "statement"}


def parse_rail(path: Path, summary: IngestSummary, *, places: PlaceLookup) -> Iterator[tuple[str, pa.Table]]:
    """Parser for :func:`ingest_file`: rail observation rows → ``rail_observations``."""
    rows = []
    for line, row in _read_rows(path, [["date"], ["place_id", "place"], ["source"]], "rail"):
        summary.rows_in += 1
        try:
            rng = parse_date_range(row.get("date") or "")
        except DateParseError as exc:
            summary.skip("bad date", line, f"line {line}: {exc}")
            continue
        try:
            place_id, _, _ = _resolve_place(
                {"place_id": row.get("place_id"), "place": row.get("place")}, places)
        except ValueError as exc:
            summary.skip("unknown place", line, f"line {line}: {exc}")
            continue
        if not row.get("source"):
            summary.skip("no source", line, f"line {line}: every rail observation needs its source")
            continue
        try:
            railcars = _int(row.get("railcars"), "railcars")
            marks = parse_marks(row.get("mark"))
        except ValueError as exc:
            summary.skip("bad value", line, f"line {line}: {exc}")
            continue
        kind = (row.get("kind") or ("count" if railcars is not None else "statement")).lower()
        if kind not in RAIL_KINDS:
            summary.skip("bad value", line, f"line {line}: kind {kind!r} not one of "
                         f"{', '.join(sorted(RAIL_KINDS))}")
            continue
        if kind in {"count", "baseline"} and railcars is None:
            summary.skip("bad value", line, f"line {line}: a {kind} needs railcars")
            continue
        last = (rng.end - timedelta(microseconds=1)).date() if rng.end > rng.start else rng.start.date()
        src = citation(row["source"])
        rows.append(
            {
                "rail_obs_id": stable_id("rail", rng.start.isoformat(), rng.end.isoformat(), place_id,
                                         kind, railcars, row.get("car_type"), src,
                                         row.get("description")),
                "obs_date": rng.start.date(),
                "obs_date_end": last,
                "date_text": row.get("date_text") or rng.text,
                "date_uncertain": rng.uncertain,
                "place_id": place_id,
                "kind": kind,
                "railcars": railcars,
                "qualifier": row.get("qualifier") or None,
                "car_type": row.get("car_type") or None,
                "direction": row.get("direction") or None,
                "description": row.get("description") or None,
                "source": src,
                "confidence": row.get("confidence") or marks_confidence(marks),
                "marks": marks,
            }
        )
    yield "rail_observations", pa.Table.from_pylist(rows, schema=RAIL_FIELDS)


def ingest_rail(store: Store, path: str | Path, *, force: bool = False) -> IngestSummary:
    """Ingest a rail observations CSV into ``rail_observations``."""
    parse = partial(parse_rail, places=PlaceLookup.from_store(store))
    return ingest_file(store, Path(path), "rail", parse, force=force)


def day_range(d: date) -> tuple[datetime, datetime]:
    """``[d 00:00, d+1 00:00)`` as datetimes."""
    s = datetime(d.year, d.month, d.day)
    return s, s + timedelta(days=1)
