"""Corridor definitions: a YAML file a user writes, validated with errors naming file and field.

A corridor says where goods are believed to move and how to judge the evidence::

    id: dprk-russia-2023                 # slug, required
    title: DPRK → Russia munitions corridor
    description: free text
    case: dprk-russia-2023               # optional: shipped case data loaded with it
    data: real                           # real (default: simulated AIS is left out),
                                         # simulated (only simulated AIS; no sightings), all
    window: {start: 2023-08-01, end: 2024-02-29}
    nodes:                               # places (ids of the places table) with a role
      - {place: rajin, role: origin}     # origin | transit | destination
      - {place: dunay, role: transit}
    legs:
      - id: rajin-dunay
        from: rajin
        to: dunay
        mode: sea                        # sea | rail
        duration_hours: [6, 240]         # plausible last-seen-at-from → first-seen-at-to
        active: {start: 2023-08-01, end: 2023-12-31}   # optional, when the leg was used
        distance_km: null                # optional, only if sourced
        sources: [S6, S10]
        note: why these numbers
    vessels: [angara, lady-r]            # vessel ids of interest (optional)
    watchlists: [US, EU]                 # authorities / programs of interest (optional)
    cargo:
      unit: containers
      per_load: {low: 270, high: 330}    # per ship load when nothing better is known
      basis: "about 300 per load [S6][S19b]; 'about' read as ±10% (I)"
      sources: [S6, S19b]
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

    def active_on(self, day: date) -> bool:
        """True if the leg was in use on ``day`` (open ends are unbounded)."""
        if self.active_start and day < self.active_start:
            return False
        if self.active_end and day > self.active_end:
            return False
        return True


@dataclass(frozen=True)
class Cargo:
    """What a load is assumed to carry when no better figure is observed."""

    unit: str = "containers"
    per_load_low: float | None = None
    per_load_high: float | None = None
    basis: str | None = None
    sources: tuple[str, ...] = ()


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
_LEG = {"id", "from", "to", "mode", "duration_hours", "active", "distance_km", "sources", "note"}
_CARGO = {"unit", "per_load", "basis", "sources"}
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
        raise _err(where, fieldname, f"{value!r} is not a date YYYY-MM-DD") from exc


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
            )
        )

    cargo_raw = data.get("cargo") or {}
    if not isinstance(cargo_raw, dict):
        raise _err(where, "cargo", "must be a mapping")
    _check_keys(where, "cargo.", cargo_raw, _CARGO)
    per = cargo_raw.get("per_load") or {}
    if not isinstance(per, dict):
        raise _err(where, "cargo.per_load", "must be {low, high}")
    _check_keys(where, "cargo.per_load.", per, {"low", "high"})
    plo = _num(where, "cargo.per_load.low", per["low"]) if per.get("low") is not None else None
    phi = _num(where, "cargo.per_load.high", per["high"]) if per.get("high") is not None else None
    if (plo is None) != (phi is None):
        raise _err(where, "cargo.per_load", "give both low and high")
    if plo is not None and phi < plo:
        raise _err(where, "cargo.per_load.high", f"{phi} is below low {plo}")
    cargo = Cargo(unit=str(cargo_raw.get("unit") or "containers"), per_load_low=plo,
                  per_load_high=phi, basis=cargo_raw.get("basis"),
                  sources=_strs(where, "cargo.sources", cargo_raw.get("sources")))

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
    case = data.get("case")
    if case is not None and (not isinstance(case, str) or not _SLUG.match(case)):
        raise _err(where, "case", f"{case!r} must be the id of a shipped case")
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
    )


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
    """Load and validate a corridor by shipped id or by file path."""
    p = Path(id_or_path)
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
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise CorridorError(f"{p}: not valid YAML{at}: {getattr(exc, 'problem', exc)}") from exc
    return parse_corridor(data, str(p))
