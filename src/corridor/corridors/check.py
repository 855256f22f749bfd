"""``corridor case check DIR``: every problem of a case folder at once, as
``file:line:column: what is wrong, what is expected``.

The schema is declared with pydantic: one model per sheet row (:class:`PlaceRow`,
:class:`SightingRow`, …) and one for the corridor file (:class:`CorridorFile`). Every column is
a typed field whose validator says what it expects; unknown columns and keys are refused
(``extra="forbid"``), so a misspelt header is caught. After the rows, references between the
sheets are checked (a sighting's ``place_id`` in the places sheet, a sanction's vessel in the
vessels sheet, every cited ``S#`` in the sources sheet, the corridor's nodes among the places).

Lines and columns: in a CSV the line of the file and the column's position in the header (1 =
first column); in an XLSX the spreadsheet row and column; in the corridor YAML the line and
character column of the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import fields as dc_fields
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from corridor.corridors.model import (
    CASE_CORRIDOR_FILE,
    DATA,
    MODES,
    ROLES,
    CorridorError,
    case_dir,
    parse_corridor,
    read_yaml,
    resolve_case_ref,
    shipped_dir,
)
from corridor.corridors.params import ReconstructParams
from corridor.identity import parse_imo, parse_mmsi
from corridor.ingest.observations import (
    RAIL_KINDS,
    SUBJECTS,
    DateParseError,
    parse_marks,
    real_date_range,
    source_tags,
)
from corridor.ingest.sheets import SheetError, find_sheet, read_sheet
from corridor.places import KINDS, PRECISIONS

SHEETS = ("places", "vessels", "sanctions", "sightings", "rail", "claims", "sources")
QUALIFIERS = ("more_than", "at_least", "about", "up_to", "exact", "at_most_about")
IMO_STATUSES = ("confirmed", "unverified", "conflicting")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_TAG = re.compile(r"^S\d+[a-z]?$")


@dataclass(frozen=True, order=True)
class Problem:
    """One problem: where, what is wrong, what is expected."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


# ------------------------------------------------------------------ cell validators
# Each takes the cell text ("" = empty) and returns it, or raises ValueError saying what is
# wrong and what is expected.
def _opt(fn: Callable[[str], Any]) -> Callable[[str], str]:
    def check(v: str) -> str:
        if v != "":
            fn(v)
        return v
    return check


def _required(v: str) -> str:
    if not v:
        raise ValueError("empty, expected a value (this column is required)")
    return v


def _slug(v: str) -> None:
    if not _SLUG.match(v):
        raise ValueError(f"{v!r} is not an id, expected lower-case letters, digits, - . _ "
                         "(e.g. bandar-anzali)")


def _number(lo: float | None = None, hi: float | None = None, what: str = "a number"
            ) -> Callable[[str], None]:
    def check(v: str) -> None:
        try:
            x = float(v.replace(",", "").lstrip("~≈"))
        except ValueError:
            raise ValueError(f"{v!r} is not a number, expected {what}") from None
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            raise ValueError(f"{v} is out of range, expected {what}")
    return check


def _iso_date(v: str) -> None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        raise ValueError(f"{v!r} is not a date, expected YYYY-MM-DD")
    try:
        date.fromisoformat(v)
    except ValueError as exc:
        raise ValueError(f"{v!r} is not a real date ({exc}), expected a calendar date "
                         "YYYY-MM-DD") from None


def _loose_date(v: str) -> None:
    try:
        real_date_range(v)
    except DateParseError as exc:
        msg = str(exc)
        if "expected" not in msg:
            msg += "; expected YYYY-MM-DD, a range (2023-09-07/08) or a dated phrase with a " \
                   "year (mid-Aug 2023)"
        raise ValueError(msg) from None


def _one_of(choices: tuple[str, ...] | set[str]) -> Callable[[str], None]:
    def check(v: str) -> None:
        if v.lower() not in choices:
            raise ValueError(f"{v!r} is not allowed, expected one of {', '.join(sorted(choices))}")
    return check


def _marks(v: str) -> None:
    try:
        parse_marks(v)
    except ValueError as exc:
        raise ValueError(f"{exc}; expected marks C, I, U or ⚠ separated by ;") from None


def _tags(v: str) -> None:
    bad = [t for t in re.split(r"[;,\s\[\]]+", v) if t and not _TAG.match(t)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a source tag, expected tags like S6;S19b")


def _imo(v: str) -> None:
    if parse_imo(v) is None:
        raise ValueError(f"{v!r} is not a valid IMO number, expected 7 digits with a correct "
                         "check digit (leave empty when no source gives it)")


def _mmsi(v: str) -> None:
    if parse_mmsi(v) is None:
        raise ValueError(f"{v!r} is not an MMSI, expected 9 digits")


def _bool(v: str) -> None:
    if v.lower() not in {"true", "false", "yes", "no", "1", "0"}:
        raise ValueError(f"{v!r} is not true/false, expected true or false")


def _url(v: str) -> None:
    if not re.match(r"https?://", v):
        raise ValueError(f"{v!r} is not a web address, expected http(s)://…")


def _country(v: str) -> None:
    if not re.fullmatch(r"[A-Z]{2}", v):
        raise ValueError(f"{v!r} is not a country code, expected ISO 3166 alpha-2 such as IR")


def _tag(v: str) -> None:
    if not _TAG.match(v):
        raise ValueError(f"{v!r} is not a source tag, expected S followed by a number (S6, S19b)")


def _c(*checks: Callable[[str], Any]) -> Any:
    """An optional text cell with these checks (applied when not empty)."""
    return Annotated[(str, *(AfterValidator(_opt(c)) for c in checks))]


def _r(*checks: Callable[[str], Any]) -> Any:
    """A required text cell with these checks."""
    return Annotated[(str, AfterValidator(_required), *(AfterValidator(_opt(c)) for c in checks))]


Text = Annotated[str, Field(default="")]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PlaceRow(_Row):
    place_id: _r(_slug)
    name: _r()
    kind: _r(_one_of(KINDS))
    country: _c(_country) = ""
    lat: _c(_number(-90, 90, "a latitude in decimal degrees, -90 to 90")) = ""
    lon: _c(_number(-180, 180, "a longitude in decimal degrees, -180 to 180")) = ""
    precision: _r(_one_of(PRECISIONS))
    precision_note: Text
    radius_m: _c(_number(1, 500_000, "a geofence radius in metres, 1 to 500000")) = ""
    aliases: Text
    mark: _c(_marks) = ""
    sources: _c(_tags) = ""
    note: Text


class VesselRow(_Row):
    vessel_id: _r(_slug)
    name: _r()
    aliases: Text
    imo: _c(_imo) = ""
    imo_status: _c(_one_of(IMO_STATUSES)) = ""
    mmsi: _c(_mmsi) = ""
    flag: Text
    vessel_type: Text
    length_m: _c(_number(1, 500, "a length in metres")) = ""
    gross_tonnage: _c(_number(0, None, "a gross tonnage")) = ""
    capacity_teu: _c(_number(0, 30_000, "a capacity in TEU")) = ""
    owner: Text
    marks: _c(_marks) = ""
    sources: _c(_tags) = ""
    notes: Text


class SanctionRow(_Row):
    vessel_id: _r(_slug)
    authority: _r()
    program: _r()
    listed_on: _c(_iso_date) = ""
    marks: _c(_marks) = ""
    sources: _c(_tags) = ""
    text: Text


class SightingRow(_Row):
    case_row: Text
    date: _r(_loose_date)
    date_text: Text
    date_uncertain: _c(_bool) = ""
    place_id: Text
    place: Text
    place_text: Text
    lat: _c(_number(-90, 90, "a latitude in decimal degrees, -90 to 90")) = ""
    lon: _c(_number(-180, 180, "a longitude in decimal degrees, -180 to 180")) = ""
    vessel_name: Text
    imo: _c(_imo) = ""
    mmsi: _c(_mmsi) = ""
    identification: _c(_one_of(("stated", "probable", "unidentified"))) = ""
    subject: _c(_one_of(SUBJECTS)) = ""
    count: _c(_number(0, None, "a count (a whole number)")) = ""
    unit: Text
    vessels: _c(_number(1, 1000, "the number of ships the count covers")) = ""
    activity: Text
    evidence_type: Text
    description: Text
    source: _r(_tags)
    mark: _c(_marks) = ""
    confidence: Text


class RailRow(_Row):
    case_row: Text
    date: _r(_loose_date)
    date_text: Text
    place_id: Text
    place: Text
    kind: _c(_one_of(RAIL_KINDS)) = ""
    railcars: _c(_number(0, None, "a number of railcars")) = ""
    qualifier: _c(_one_of(QUALIFIERS)) = ""
    car_type: Text
    direction: Text
    description: Text
    source: _r(_tags)
    mark: _c(_marks) = ""
    confidence: Text


class ClaimRow(_Row):
    key: _r(_slug)
    stated_on: _c(_iso_date) = ""
    attribution: Text
    sentence: _r()
    quantity: _c(_number(0, None, "the claimed number")) = ""
    unit: Text
    qualifier: _c(_one_of(QUALIFIERS)) = ""
    measure: Text
    period_start: _c(_iso_date) = ""
    period_end: _c(_iso_date) = ""
    period_text: Text
    places: Text
    vessel_id: Text
    supplier: Text
    recipient: Text
    materiel: Text
    sources: _r(_tags)
    mark: _c(_marks) = ""
    note: Text


class SourceRow(_Row):
    tag: _r(_tag)
    parent: Text
    publisher: Text
    title: Text
    date: Text
    url: _c(_url) = ""
    other_urls: Text
    marks: _c(_marks) = ""
    citation: _r()


ROW_MODELS: dict[str, type[_Row]] = {
    "places": PlaceRow, "vessels": VesselRow, "sanctions": SanctionRow, "sightings": SightingRow,
    "rail": RailRow, "claims": ClaimRow, "sources": SourceRow,
}


# ------------------------------------------------------------------ corridor file
class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Window(_Doc):
    start: date
    end: date


class NodeDoc(_Doc):
    place: Annotated[str, AfterValidator(lambda v: (_slug(v), v)[1])]
    role: Literal[ROLES]  # type: ignore[valid-type]
    note: str | None = None


class Active(_Doc):
    start: date | None = None
    end: date | None = None


class LegDoc(_Doc):
    id: str | None = None
    from_: str = Field(alias="from")
    to: str
    mode: Literal[MODES]  # type: ignore[valid-type]
    duration_hours: tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(ge=0)]]
    active: Active | None = None
    distance_km: Annotated[float, Field(gt=0)] | None = None
    sources: list[str] = []
    note: str | None = None
    ais_dark_share: Annotated[float, Field(ge=0, le=1)] | None = None


class Range(_Doc):
    low: Annotated[float, Field(ge=0)]
    high: Annotated[float, Field(ge=0)]


class UnitDoc(_Doc):
    unit: str
    aliases: list[str] = []
    per_load: Range | None = None
    per_vessel: dict[str, Range] = {}
    basis: str | None = None
    sources: list[str] = []


class CargoDoc(_Doc):
    unit: str = "containers"
    aliases: list[str] = []
    per_load: Range | None = None
    per_vessel: dict[str, Range] = {}
    basis: str | None = None
    sources: list[str] = []
    units: list[UnitDoc] = []


class ClaimsDoc(_Doc):
    case: bool = True
    ids: list[str] = []
    match: bool = True


class CorridorFile(_Doc):
    """The corridor YAML (see :mod:`corridor.corridors.model` for every key)."""

    id: Annotated[str, AfterValidator(lambda v: (_slug(v), v)[1])]
    title: Annotated[str, Field(min_length=1)]
    description: str | None = None
    case: str | None = None
    data: Literal[DATA] = "real"  # type: ignore[valid-type]
    window: Window
    nodes: Annotated[list[NodeDoc], Field(min_length=1)]
    legs: list[LegDoc] = []
    vessels: list[str] = []
    watchlists: list[str] = []
    cargo: CargoDoc | None = None
    claims: ClaimsDoc | None = None
    params: dict[str, Any] = {}


def _yaml_positions(text: str) -> dict[tuple, tuple[int, int]]:
    """(path of keys/indexes) → (line, column), 1-based, of every node of a YAML document."""
    out: dict[tuple, tuple[int, int]] = {}

    def walk(node: yaml.Node, path: tuple) -> None:
        out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                out[path + (k.value, "<key>")] = (k.start_mark.line + 1, k.start_mark.column + 1)
                walk(v, path + (k.value,))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, path + (i,))

    root = yaml.compose(text)
    if root is not None:
        walk(root, ())
    return out


def _pydantic_message(err: dict) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key, expected one of the documented keys (see docs/your-own-case.md)"
    if kind == "missing":
        return "missing, expected a value (this key is required)"
    if kind == "literal_error":
        return f"{err.get('input')!r} is not allowed, expected {err['ctx']['expected']}"
    if kind in ("float_parsing", "float_type", "int_parsing"):
        return f"{err.get('input')!r} is not a number, expected a number"
    if kind in ("string_type", "list_type", "dict_type", "model_type", "tuple_type"):
        return f"{err.get('input')!r} has the wrong shape, {msg[0].lower() + msg[1:]}"
    if kind.startswith("date"):
        return f"{err.get('input')!r} is not a real date, expected YYYY-MM-DD"
    return msg[0].lower() + msg[1:] if msg else kind


def check_corridor_file(path: Path, sheet_places: set[str] | None,
                        sheet_vessels: set[str] | None) -> tuple[list[Problem], dict | None]:
    """Problems of the corridor YAML, and the parsed document (None if unreadable)."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = read_yaml(text)
        pos = _yaml_positions(text)
    except OSError as exc:
        return [Problem(name, 1, 1, f"cannot read: {exc.strerror or exc}")], None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return [Problem(name, line, col, f"not valid YAML ({getattr(exc, 'problem', exc)}), "
                                         "expected a YAML mapping of corridor keys")], None
    if not isinstance(data, dict):
        return [Problem(name, 1, 1, "not a mapping, expected `id: …`, `title: …`, … keys")], None

    def at(loc: tuple, key: bool = False) -> tuple[int, int]:
        loc = tuple("from" if x == "from_" else x for x in loc)
        if key and loc + ("<key>",) in pos:
            return pos[loc + ("<key>",)]
        while loc and loc not in pos:
            loc = loc[:-1]
        return pos.get(loc, (1, 1))

    problems: list[Problem] = []
    try:
        CorridorFile.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x[0].isupper()))
            line, col = at(loc, key=err["type"] == "extra_forbidden")
            where = ".".join(str(x) for x in loc)
            problems.append(Problem(name, line, col, f"{where}: {_pydantic_message(err)}"))
    known = {f.name for f in dc_fields(ReconstructParams)}
    for k in (data.get("params") or {}) if isinstance(data.get("params"), dict) else {}:
        if k not in known:
            line, col = at(("params", k), key=True)
            problems.append(Problem(name, line, col, f"params.{k}: unknown parameter, expected "
                                    f"one of {', '.join(sorted(known))}"))
    try:
        resolve_case_ref(name, data.get("case"))
    except CorridorError as exc:
        line, col = at(("case",))
        problems.append(Problem(name, line, col, str(exc).removeprefix(f"{name}: ") +
                                "; expected a shipped case id or a folder path"))
    if not problems:  # the loader's other rules
        try:
            parse_corridor(data, name)
        except CorridorError as exc:
            msg = str(exc).removeprefix(f"{name}: ")
            field = msg.split(":", 1)[0]
            loc = tuple(int(x) if x.isdigit() else x
                        for x in re.split(r"[.\[\]]+", field) if x)
            line, col = at(loc)
            problems.append(Problem(name, line, col, f"{msg}; expected a corridor file that "
                                    "loads (see docs/your-own-case.md)"))
    # references
    nodes = [n.get("place") for n in data.get("nodes") or [] if isinstance(n, dict)]
    for i, g in enumerate(data.get("legs") or []):
        if not isinstance(g, dict):
            continue
        for end in ("from", "to"):
            if g.get(end) is not None and g.get(end) not in nodes:
                line, col = at(("legs", i, end))
                problems.append(Problem(name, line, col, f"legs.{i}.{end}: {g.get(end)!r} is not "
                                        f"a node, expected one of {', '.join(map(str, nodes))}"))
        dur = g.get("duration_hours")
        if isinstance(dur, list) and len(dur) == 2 and all(isinstance(x, (int, float)) for x in dur) \
                and dur[1] < dur[0]:
            line, col = at(("legs", i, "duration_hours"))
            problems.append(Problem(name, line, col, f"legs.{i}.duration_hours: {dur} has max "
                                    "below min, expected [min, max] hours"))
    if sheet_places is not None:
        for i, pid in enumerate(nodes):
            if isinstance(pid, str) and pid not in sheet_places:
                line, col = at(("nodes", i, "place"))
                problems.append(Problem(name, line, col, f"nodes.{i}.place: {pid!r} is not in "
                                        "the places sheet nor the gazetteer, expected a place_id "
                                        "of places.csv or of `corridor places list --name`"))
    if sheet_vessels is not None:
        for i, vid in enumerate(data.get("vessels") or []):
            if vid not in sheet_vessels:
                line, col = at(("vessels", i))
                problems.append(Problem(name, line, col, f"vessels.{i}: {vid!r} is not in the "
                                        "vessels sheet, expected a vessel_id of vessels.csv"))
    return problems, data


# ------------------------------------------------------------------ sheets
@dataclass(frozen=True)
class _Read:
    path: Path
    rows: list[tuple[int, dict[str, str]]]
    columns: dict[str, int]


def _check_sheet(path: Path, model: type[_Row], problems: list[Problem]) -> _Read | None:
    name = str(path)
    try:
        sheet = read_sheet(path)
    except SheetError as exc:
        problems.append(Problem(name, 1, 1, f"{exc}"))
        return None
    if not sheet.header:
        return _Read(path, [], {})
    known = set(model.model_fields)
    cols = {h: i + 1 for i, h in enumerate(sheet.header)}
    for h, i in cols.items():
        if h and h not in known:
            problems.append(Problem(name, sheet.header_line, i,
                                    f"unknown column {h!r}, expected one of "
                                    f"{', '.join(model.model_fields)}"))
    for f, info in model.model_fields.items():
        if info.is_required() and f not in cols:
            problems.append(Problem(name, sheet.header_line, len(sheet.header) + 1,
                                    f"missing column {f!r}, expected it in the header"))
    rows = []
    for row in sheet.rows:
        values = {k: v for k, v in row.values.items() if k in known}
        if row.extra:
            problems.append(Problem(name, row.line, len(sheet.header) + 1,
                                    f"{len(row.extra)} cell(s) beyond the header, expected "
                                    f"{len(sheet.header)} columns (an unquoted comma?)"))
        if not any(row.values.values()):
            continue
        try:
            model.model_validate(values)
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else ""
                if err["type"] == "missing" and field not in cols:
                    continue  # reported once, at the header
                problems.append(Problem(name, row.line, cols.get(field, 1),
                                        f"{field}: {_pydantic_message(err)}"))
        rows.append((row.line, row.values))
    return _Read(path, rows, cols)


def _gazetteer_ids() -> set[str]:
    """The shipped gazetteer's place ids (a case may use them instead of its own places)."""
    from corridor.places import gazetteer_table

    return set(gazetteer_table().column("place_id").to_pylist())


def _split(v: str) -> list[str]:
    return [x.strip() for x in re.split(r"[;]", v or "") if x.strip()]


def check_case(folder: str | Path) -> tuple[list[Problem], list[str]]:
    """(problems, notes) for a case folder; no problems means it loads as written."""
    d = Path(folder)
    problems: list[Problem] = []
    notes: list[str] = []
    if not d.is_dir():
        return [Problem(str(d), 1, 1, "not a folder, expected a case folder (corridor case new)")], []
    read: dict[str, _Read] = {}
    for sheet in SHEETS:
        p = find_sheet(d, sheet)
        if p is None:
            notes.append(f"{sheet}: no sheet (optional)")
            continue
        r = _check_sheet(p, ROW_MODELS[sheet], problems)
        if r is not None:
            read[sheet] = r
    gazetteer = _gazetteer_ids()
    places = ({v["place_id"] for _, v in read["places"].rows} if "places" in read else set()) \
        | gazetteer
    vessels = {v["vessel_id"] for _, v in read["vessels"].rows} if "vessels" in read else None
    tags = {v["tag"] for _, v in read["sources"].rows} if "sources" in read else None
    cfile = d / CASE_CORRIDOR_FILE
    if not cfile.exists():
        # a shipped case keeps its corridor beside the other shipped corridors
        # (data/corridors/<id>.yaml), not in its folder
        shipped = shipped_dir() / f"{d.name}.yaml"
        if d.resolve() == case_dir(d.name).resolve() and shipped.exists():
            cfile = shipped
    if not cfile.exists():
        problems.append(Problem(str(cfile), 1, 1, "missing, expected the corridor file "
                                "(corridor case new writes one)"))
    else:
        ps, _ = check_corridor_file(cfile, places, vessels)
        problems.extend(ps)

    def ref(sheet: str, col: str, line: int, value: str, known: set[str] | None, what: str) -> None:
        r = read[sheet]
        if known is not None and value not in known:
            problems.append(Problem(str(r.path), line, r.columns.get(col, 1),
                                    f"{col}: {value!r} is not in the {what} sheet"
                                    f"{' nor the gazetteer' if what == 'places' else ''}, "
                                    "expected one of its ids"))

    if "places" in read:
        for line, v in read["places"].rows:
            if bool(v.get("lat")) != bool(v.get("lon")):
                col = "lon" if v.get("lat") else "lat"
                problems.append(Problem(str(read["places"].path), line,
                                        read["places"].columns.get(col, 1),
                                        f"{col}: empty while the other coordinate is given, "
                                        "expected both lat and lon or neither"))
    for sheet in ("sightings", "rail"):
        for line, v in read[sheet].rows if sheet in read else []:
            if v.get("place_id"):
                ref(sheet, "place_id", line, v["place_id"], places, "places")
    if "sightings" in read:
        for line, v in read["sightings"].rows:
            if not any(v.get(k) for k in ("place_id", "place", "lat", "place_text")):
                problems.append(Problem(str(read["sightings"].path), line,
                                        read["sightings"].columns.get("place_id", 1),
                                        "no place, expected place_id, place, lat/lon, or "
                                        "place_text for an unlocated place"))
    if "sanctions" in read:
        for line, v in read["sanctions"].rows:
            if v.get("vessel_id"):
                ref("sanctions", "vessel_id", line, v["vessel_id"], vessels, "vessels")
    if "claims" in read:
        for line, v in read["claims"].rows:
            for pid in _split(v.get("places", "")):
                ref("claims", "places", line, pid, places, "places")
            if v.get("vessel_id"):
                ref("claims", "vessel_id", line, v["vessel_id"], vessels, "vessels")
            a, b = v.get("period_start", ""), v.get("period_end", "")
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", a) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", b) \
                    and b < a:
                problems.append(Problem(str(read["claims"].path), line,
                                        read["claims"].columns.get("period_end", 1),
                                        f"period_end: {b} is before period_start {a}, expected "
                                        "an end on or after the start"))
    if tags is not None:
        for sheet, r in read.items():
            if sheet == "sources":
                continue
            for col in ("sources", "source"):
                for line, v in r.rows:
                    for t in source_tags(v.get(col, "")):
                        if t not in tags:
                            problems.append(Problem(str(r.path), line, r.columns.get(col, 1),
                                                    f"{col}: {t} is not in the sources sheet, "
                                                    "expected a tag listed there"))
    elif read:
        notes.append("sources: no sheet, so [S#] tags are not checked and will not resolve to "
                     "URLs")
    return sorted(set(problems)), notes
