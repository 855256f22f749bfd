"""Corridor definitions: a YAML file a user writes, validated with errors naming file and field.

A corridor says where goods are believed to move and how to judge the evidence::

    id: alder-birch                      # slug, required
    title: Port Alder → Port Birch shuttle
    description: free text
    case: alder-birch                    # optional: a shipped case id, or a case folder (path
                                         # relative to this file); a corridor.yaml in a case
                                         # folder is that folder's corridor
    data: real                           # real (default: simulated AIS is left out),
                                         # simulated (only simulated AIS; no sightings), all
    window: {start: 2023-08-01, end: 2024-02-29}
    nodes:                               # places (ids of the places table) with a role
      - {place: port-alder, role: origin}   # origin | transit | destination
      - {place: port-birch, role: transit}
    legs:
      - id: alder-birch
        from: port-alder
        to: port-birch
        mode: sea                        # sea | rail
        duration_hours: [6, 240]         # plausible last-seen-at-from → first-seen-at-to
        active: {start: 2023-08-01, end: 2023-12-31}   # optional, when the leg was used
        distance_km: null                # optional, only if sourced
        ais_dark_share: 0.8              # optional, for `corridor simulate --corridor`
        sources: [S6, S10]
        note: why these numbers
    vessels: [alder-star, birch-wind]    # vessel ids of interest (optional)
    watchlists: [US, EU]                 # authorities / programs of interest (optional)
    cargo:
      unit: containers                   # the main unit (estimates and claims default to it)
      aliases: [TEU, boxes]              # other words for it
      per_load: {low: 270, high: 330}    # per ship load when nothing better is known
      per_vessel: {alder-star: {low: 250, high: 300}}   # optional, per named ship
      basis: "about 300 per load [S6][S19b]; 'about' read as ±10% (I)"
      sources: [S6, S19b]
      units:                             # optional further units, same keys
        - {unit: shells, aliases: [rounds], per_load: {low: 1000, high: 2000}}
    claims:
      case: true                         # test every claim of the case's claims.csv
      ids: []                            # claim ids from the claims table
      match: true                        # and claims whose period overlaps the window and
                                         # whose places include a node
    params:                              # reconstruction parameters (see ReconstructParams)
      call_merge_hours: 12

Anything else is an error (a misspelt key is caught, not ignored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

ROLES = ("origin", "transit", "destination")
MODES = ("sea", "rail")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class CorridorError(ValueError):
    """A corridor file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Node:
    """A corridor place with its role."""

    place_id: str
    role: str
    note: str | None = None


@dataclass(frozen=True)
class Leg:
    """A directed leg between two nodes; durations in hours."""

    leg_id: str
    from_place: str
    to_place: str
    mode: str
    min_duration_hours: float
    max_duration_hours: float
    active_start: date | None = None
    active_end: date | None = None
    distance_km: float | None = None
    sources: tuple[str, ...] = ()
    note: str | None = None
    #: for ``corridor simulate --corridor``: share of crossings sailed with AIS off (0-1)
    ais_dark_share: float | None = None

    def active_on(self, day: date) -> bool:
        """True if the leg was in use on ``day`` (open ends are unbounded)."""
        if self.active_start and day < self.active_start:
            return False
        if self.active_end and day > self.active_end:
            return False
        return True


def _unit_key(word: str) -> str:
    """A unit word compared loosely: lower case, no spaces or hyphens, a plural ``s`` dropped
    ("Rail cars" = "railcar")."""
    w = "".join(word.lower().replace("-", " ").split())
    return w[:-1] if w.endswith("s") and not w.endswith("ss") else w


@dataclass(frozen=True)
class CargoUnit:
    """A unit the corridor counts cargo in, with what one load carries when nothing better is
    observed: ``per_load`` for any ship or train, ``per_vessel`` (vessel_id → (low, high)) for
    a named ship."""

    unit: str
    aliases: tuple[str, ...] = ()
    per_load_low: float | None = None
    per_load_high: float | None = None
    per_vessel: tuple[tuple[str, float, float], ...] = ()
    basis: str | None = None
    sources: tuple[str, ...] = ()

    def matches(self, word: str | None) -> bool:
        """True if ``word`` names this unit (its name or an alias, singular or plural)."""
        if not word:
            return False
        k = _unit_key(word)
        return any(_unit_key(x) == k for x in (self.unit, *self.aliases))

    def per_load_for(self, vessel_id: str | None) -> tuple[float, float] | None:
        """(low, high) per load: the vessel's own figure, else the per-load figure."""
        for vid, lo, hi in self.per_vessel:
            if vid == vessel_id:
                return lo, hi
        if self.per_load_low is not None and self.per_load_high is not None:
            return self.per_load_low, self.per_load_high
        return None


@dataclass(frozen=True)
class Cargo(CargoUnit):
    """The corridor's cargo: the main unit (claims and estimates default to it) and ``units``,
    further units with their own per-load figures."""

    unit: str = "containers"
    units: tuple[CargoUnit, ...] = ()

    @property
    def all_units(self) -> tuple[CargoUnit, ...]:
        """The main unit first, then the others."""
        return (self, *self.units)

    def unit_for(self, word: str | None) -> CargoUnit | None:
        """The declared unit ``word`` names (``"artillery shells"`` → shells), or None."""
        return next((u for u in self.all_units if u.matches(word)), None)


@dataclass(frozen=True)
class ClaimSelection:
    """Which claims the corridor tests."""

    case: bool = True
    ids: tuple[str, ...] = ()
    match: bool = True


@dataclass(frozen=True)
class Corridor:
    """A validated corridor definition."""

    corridor_id: str
    title: str
    window_start: date
    window_end: date
    nodes: tuple[Node, ...]
    legs: tuple[Leg, ...]
    description: str | None = None
    case: str | None = None
    vessels: tuple[str, ...] = ()
    watchlists: tuple[str, ...] = ()
    cargo: Cargo = field(default_factory=Cargo)
    claims: ClaimSelection = field(default_factory=ClaimSelection)
    params: dict[str, Any] = field(default_factory=dict)
    data: str = "real"
    path: str | None = None
    #: the folder holding the case's sheets (a shipped case's, or the analyst's case folder)
    case_path: str | None = None

    def node(self, place_id: str) -> Node | None:
        return next((n for n in self.nodes if n.place_id == place_id), None)

    @property
    def place_ids(self) -> list[str]:
        return [n.place_id for n in self.nodes]

    def legs_from(self, place_id: str, mode: str | None = None) -> list[Leg]:
        return [g for g in self.legs if g.from_place == place_id and (mode is None or g.mode == mode)]

    def legs_to(self, place_id: str, mode: str | None = None) -> list[Leg]:
        return [g for g in self.legs if g.to_place == place_id and (mode is None or g.mode == mode)]


# ------------------------------------------------------------------------ loading
_TOP = {"id", "title", "description", "case", "data", "window", "nodes", "legs", "vessels",
        "watchlists", "cargo", "claims", "params"}
DATA = ("real", "simulated", "all")
_NODE = {"place", "role", "note"}
_LEG = {"id", "from", "to", "mode", "duration_hours", "active", "distance_km", "sources", "note",
        "ais_dark_share"}
_CARGO = {"unit", "aliases", "per_load", "per_vessel", "basis", "sources", "units"}
_UNIT = {"unit", "aliases", "per_load", "per_vessel", "basis", "sources"}
_CLAIMS = {"case", "ids", "match"}


def _err(where: str, fieldname: str, msg: str) -> CorridorError:
    return CorridorError(f"{where}: {fieldname}: {msg}")


def _check_keys(where: str, prefix: str, obj: dict, allowed: set[str]) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise _err(where, prefix + extra[0],
                   f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _date(where: str, fieldname: str, value: Any, required: bool = True) -> date | None:
    if value is None:
        if required:
            raise _err(where, fieldname, "required (a date YYYY-MM-DD)")
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise _err(where, fieldname, f"{value!r} is not a date YYYY-MM-DD ({exc})") from exc


def _num(where: str, fieldname: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _err(where, fieldname, f"{value!r} is not a number")
    return float(value)


def _strs(where: str, fieldname: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise _err(where, fieldname, "must be a list of strings")
    return tuple(str(v) for v in value)


def _range(where: str, f: str, value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _err(where, f, "must be {low, high}")
    _check_keys(where, f + ".", value, {"low", "high"})
    if value.get("low") is None or value.get("high") is None:
        raise _err(where, f, "give both low and high")
    lo, hi = _num(where, f + ".low", value["low"]), _num(where, f + ".high", value["high"])
    if hi < lo:
        raise _err(where, f + ".high", f"{hi} is below low {lo}")
    return lo, hi


def _cargo_unit(where: str, f: str, raw: dict, default_unit: str | None = None) -> CargoUnit:
    per = _range(where, f + ".per_load", raw.get("per_load"))
    pv = raw.get("per_vessel") or {}
    if not isinstance(pv, dict):
        raise _err(where, f + ".per_vessel", "must be {vessel_id: {low, high}}")
    per_vessel = []
    for vid, rg in sorted(pv.items()):
        lo_hi = _range(where, f"{f}.per_vessel.{vid}", rg)
        if lo_hi:
            per_vessel.append((str(vid), *lo_hi))
    return CargoUnit(unit=str(raw.get("unit") or default_unit).strip(),
                     aliases=_strs(where, f + ".aliases", raw.get("aliases")),
                     per_load_low=per[0] if per else None, per_load_high=per[1] if per else None,
                     per_vessel=tuple(per_vessel), basis=raw.get("basis"),
                     sources=_strs(where, f + ".sources", raw.get("sources")))


def parse_corridor(data: Any, where: str = "<corridor>") -> Corridor:
    """Validate a parsed YAML document; ``where`` names the file in error messages.

    >>> c = parse_corridor({"id": "x", "title": "X", "window": {"start": "2023-01-01",
    ...     "end": "2023-02-01"}, "nodes": [{"place": "a", "role": "origin"},
    ...     {"place": "b", "role": "destination"}], "legs": [{"id": "a-b", "from": "a",
    ...     "to": "b", "mode": "sea", "duration_hours": [1, 48]}]})
    >>> c.legs[0].max_duration_hours
    48.0
    >>> parse_corridor({"id": "x"}, "my.yaml")
    Traceback (most recent call last):
    ...
    corridor.corridors.model.CorridorError: my.yaml: title: required
    """
    if not isinstance(data, dict):
        raise CorridorError(f"{where}: the file must be a YAML mapping (got {type(data).__name__})")
    _check_keys(where, "", data, _TOP)
    cid = data.get("id")
    if not isinstance(cid, str) or not _SLUG.match(cid):
        raise _err(where, "id", f"{cid!r} must be a slug (lower-case letters, digits, - . _)")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise _err(where, "title", "required")
    window = data.get("window")
    if not isinstance(window, dict):
        raise _err(where, "window", "required: {start: YYYY-MM-DD, end: YYYY-MM-DD}")
    _check_keys(where, "window.", window, {"start", "end"})
    ws = _date(where, "window.start", window.get("start"))
    we = _date(where, "window.end", window.get("end"))
    if we < ws:
        raise _err(where, "window.end", f"{we} is before window.start {ws}")

    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise _err(where, "nodes", "required: a list of {place, role}")
    nodes: list[Node] = []
    for i, n in enumerate(raw_nodes):
        f = f"nodes[{i}]"
        if not isinstance(n, dict):
            raise _err(where, f, "must be a mapping {place, role}")
        _check_keys(where, f + ".", n, _NODE)
        pid, role = n.get("place"), n.get("role")
        if not isinstance(pid, str) or not pid:
            raise _err(where, f + ".place", "required (a place_id)")
        if role not in ROLES:
            raise _err(where, f + ".role", f"{role!r} is not one of {', '.join(ROLES)}")
        if any(x.place_id == pid for x in nodes):
            raise _err(where, f + ".place", f"{pid!r} is listed twice")
        nodes.append(Node(pid, role, n.get("note")))
    node_ids = {n.place_id for n in nodes}

    legs: list[Leg] = []
    for i, g in enumerate(data.get("legs") or []):
        f = f"legs[{i}]"
        if not isinstance(g, dict):
            raise _err(where, f, "must be a mapping")
        _check_keys(where, f + ".", g, _LEG)
        for end in ("from", "to"):
            if g.get(end) not in node_ids:
                raise _err(where, f"{f}.{end}", f"{g.get(end)!r} is not one of the nodes "
                           f"({', '.join(sorted(node_ids))})")
        if g["from"] == g["to"]:
            raise _err(where, f + ".to", "a leg must join two different nodes")
        if g.get("mode") not in MODES:
            raise _err(where, f + ".mode", f"{g.get('mode')!r} is not one of {', '.join(MODES)}")
        dur = g.get("duration_hours")
        if not isinstance(dur, list) or len(dur) != 2:
            raise _err(where, f + ".duration_hours", "required: [min, max] in hours")
        lo = _num(where, f + ".duration_hours[0]", dur[0])
        hi = _num(where, f + ".duration_hours[1]", dur[1])
        if lo < 0 or hi < lo:
            raise _err(where, f + ".duration_hours", f"[{lo}, {hi}] must satisfy 0 <= min <= max")
        active = g.get("active") or {}
        if not isinstance(active, dict):
            raise _err(where, f + ".active", "must be {start, end}")
        _check_keys(where, f + ".active.", active, {"start", "end"})
        a0 = _date(where, f + ".active.start", active.get("start"), required=False)
        a1 = _date(where, f + ".active.end", active.get("end"), required=False)
        if a0 and a1 and a1 < a0:
            raise _err(where, f + ".active.end", f"{a1} is before active.start {a0}")
        lid = g.get("id") or f"{g['from']}-{g['to']}"
        if any(x.leg_id == lid for x in legs):
            raise _err(where, f + ".id", f"{lid!r} is used twice")
        dist = g.get("distance_km")
        dark = g.get("ais_dark_share")
        if dark is not None and not 0 <= _num(where, f + ".ais_dark_share", dark) <= 1:
            raise _err(where, f + ".ais_dark_share", f"{dark} must be a share from 0 to 1")
        legs.append(
            Leg(
                leg_id=str(lid),
                from_place=g["from"],
                to_place=g["to"],
                mode=g["mode"],
                min_duration_hours=lo,
                max_duration_hours=hi,
                active_start=a0,
                active_end=a1,
                distance_km=_num(where, f + ".distance_km", dist) if dist is not None else None,
                sources=_strs(where, f + ".sources", g.get("sources")),
                note=g.get("note"),
                ais_dark_share=float(dark) if dark is not None else None,
            )
        )

    cargo_raw = data.get("cargo") or {}
    if not isinstance(cargo_raw, dict):
        raise _err(where, "cargo", "must be a mapping")
    _check_keys(where, "cargo.", cargo_raw, _CARGO)
    main = _cargo_unit(where, "cargo", cargo_raw, default_unit="containers")
    units = []
    raw_units = cargo_raw.get("units") or []
    if not isinstance(raw_units, list):
        raise _err(where, "cargo.units", "must be a list of {unit, per_load, …}")
    for i, u in enumerate(raw_units):
        f = f"cargo.units[{i}]"
        if not isinstance(u, dict):
            raise _err(where, f, "must be a mapping {unit, per_load, …}")
        _check_keys(where, f + ".", u, _UNIT)
        if not isinstance(u.get("unit"), str) or not u["unit"].strip():
            raise _err(where, f + ".unit", "required (e.g. shells, tonnes, rail cars)")
        cu = _cargo_unit(where, f, u)
        if any(x.matches(cu.unit) for x in (main, *units)):
            raise _err(where, f + ".unit", f"{cu.unit!r} is declared twice")
        units.append(cu)
    cargo = Cargo(unit=main.unit, aliases=main.aliases, per_load_low=main.per_load_low,
                  per_load_high=main.per_load_high, per_vessel=main.per_vessel, basis=main.basis,
                  sources=main.sources, units=tuple(units))

    claims_raw = data.get("claims") or {}
    if not isinstance(claims_raw, dict):
        raise _err(where, "claims", "must be a mapping {case, ids, match}")
    _check_keys(where, "claims.", claims_raw, _CLAIMS)
    claims = ClaimSelection(case=bool(claims_raw.get("case", True)),
                            ids=_strs(where, "claims.ids", claims_raw.get("ids")),
                            match=bool(claims_raw.get("match", True)))
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise _err(where, "params", "must be a mapping")
    kind = data.get("data", "real")
    if kind not in DATA:
        raise _err(where, "data", f"{kind!r} is not one of {', '.join(DATA)}")
    case, case_path = resolve_case_ref(where, data.get("case"))
    return Corridor(
        corridor_id=cid,
        title=title.strip(),
        description=(data.get("description") or None),
        case=case,
        window_start=ws,
        window_end=we,
        nodes=tuple(nodes),
        legs=tuple(legs),
        vessels=_strs(where, "vessels", data.get("vessels")),
        watchlists=_strs(where, "watchlists", data.get("watchlists")),
        cargo=cargo,
        claims=claims,
        params=dict(params),
        data=kind,
        path=where,
        case_path=str(case_path) if case_path else None,
    )


#: The file a case folder's corridor is in (``corridor case new`` writes it).
CASE_CORRIDOR_FILE = "corridor.yaml"


def case_slug(name: str) -> str:
    """A case id from a folder name: lower case, other characters as ``-``.

    >>> case_slug("Caspian 2023_24")
    'caspian-2023_24'
    """
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-.")
    return slug or "case"


def resolve_case_ref(where: str, case: Any) -> tuple[str | None, Path | None]:
    """(case id, folder) for the corridor's ``case``: a shipped case id, or a folder (relative
    to the corridor file). Without ``case``, a ``corridor.yaml`` in a folder is that folder's
    case. Anything else is refused, naming what exists."""
    here = Path(where).parent if where and not where.startswith("<") else None
    if case is None:
        if here is not None and Path(where).name == CASE_CORRIDOR_FILE:
            return case_slug(here.resolve().name), here
        return None, None
    if not isinstance(case, str) or not case.strip():
        raise _err(where, "case", f"{case!r} must be a shipped case id or a case folder")
    if _SLUG.match(case) and case_dir(case).is_dir():
        return case, case_dir(case)
    if here is not None:
        folder = (here / case)
        if folder.is_dir():
            return case_slug(folder.resolve().name), folder
    elif Path(case).is_dir():
        return case_slug(Path(case).resolve().name), Path(case)
    shipped = ", ".join(sorted(p.name for p in case_dir("x").parent.iterdir() if p.is_dir()))
    raise _err(where, "case", f"{case!r} is neither a shipped case ({shipped or 'none'}) nor a "
               "case folder (a path relative to this file)")


class _TextDates(yaml.SafeLoader):
    """YAML's safe loader, but dates stay text: corridor checks them itself, so that an
    impossible date (2024-02-30) is named with its field instead of failing the whole file."""


_TextDates.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(text: str) -> Any:
    """Parse YAML text with dates kept as text (see :class:`_TextDates`)."""
    return yaml.load(text, Loader=_TextDates)  # noqa: S506 - a SafeLoader subclass


def shipped_dir() -> Path:
    """Where the shipped corridor files live."""
    return Path(str(resources.files("corridor") / "data" / "corridors"))


def case_dir(case_id: str) -> Path:
    """Where a shipped case's data lives."""
    return Path(str(resources.files("corridor") / "data" / "case" / case_id))


def shipped_corridors() -> list[Path]:
    """The shipped corridor files, sorted by name."""
    d = shipped_dir()
    return sorted(d.glob("*.yaml")) if d.is_dir() else []


def load_corridor(id_or_path: str | Path) -> Corridor:
    """Load and validate a corridor by shipped id, file path, or case folder (its
    ``corridor.yaml``)."""
    p = Path(id_or_path)
    if p.is_dir():
        if not (p / CASE_CORRIDOR_FILE).exists():
            raise CorridorError(f"{p}: a case folder needs {CASE_CORRIDOR_FILE} (make one with "
                                "`corridor case new NAME`)")
        p = p / CASE_CORRIDOR_FILE
    if not p.suffix and not p.exists():
        p = shipped_dir() / f"{id_or_path}.yaml"
        if not p.exists():
            known = ", ".join(x.stem for x in shipped_corridors()) or "none"
            raise CorridorError(f"{id_or_path}: no such corridor file or shipped corridor "
                                f"(shipped: {known})")
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CorridorError(f"{p}: cannot read: {exc.strerror or exc}") from exc
    try:
        data = read_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise CorridorError(f"{p}: not valid YAML{at}: {getattr(exc, 'problem', exc)}") from exc
    return parse_corridor(data, str(p))
