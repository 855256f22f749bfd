"""Vessel identity resolution: which known vessel does an observation name?

Sightings, watchlists, AIS static reports and report texts name ships in different ways:
an IMO number, an MMSI, or a name spelled many ways ("MAIA-1", "Maya-1", "Maia"). This
module resolves them against the ``vessels`` table in a fixed order:

1. **IMO** (7 digits with a valid check digit): the strongest key. A match is final.
   An IMO that names no known vessel is *not* overridden by a name match when the vessel of
   that name has a different IMO on record (reported as ``conflict``).
2. **MMSI** (9 digits): ships change MMSI with flag, so a match is good but weaker.
3. **Normalised name**, then the **alias table** (each vessel's ``aliases``): case, accents,
   punctuation, spaces and "MV"/"M/V" prefixes are removed and Cyrillic transliteration
   variants are folded ("YA"→"IA", so "MAYA-1" and "MAIA-1" meet). Aliases such as "Maia"
   (no number) are listed explicitly; corridor does not guess with edit distances, because
   "MARIA" and "MAIA" are different ships in the same case.

More than one candidate at any step is reported as ``ambiguous`` with the candidates, never
resolved by picking one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa

_PREFIX = re.compile(r"^(M\s*/\s*V|M\.\s*V\.|MV|M/S|MS)\s+", re.IGNORECASE)
_IOTATED = (("YA", "IA"), ("YE", "IE"), ("YU", "IU"), ("YO", "IO"))


def normalise_name(name: str | None) -> str:
    """A name folded for matching: upper case, ASCII letters and digits only.

    >>> normalise_name("MAIA-1"), normalise_name("Maya-1"), normalise_name("M/V Lady R")
    ('MAIA1', 'MAIA1', 'LADYR')
    >>> normalise_name("Maria") == normalise_name("Maia")
    False
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = _PREFIX.sub("", text.strip())
    text = re.sub(r"[^A-Za-z0-9]", "", text).upper()
    for a, b in _IOTATED:
        text = text.replace(a, b)
    return text


def imo_valid(imo: int | str | None) -> bool:
    """True for a 7-digit IMO number whose check digit is right.

    >>> imo_valid(9161003), imo_valid("IMO 9179842"), imo_valid(9161004)
    (True, True, False)
    """
    digits = parse_imo(imo, check=False)
    if digits is None:
        return False
    d = [int(c) for c in f"{digits:07d}"]
    return sum(d[i] * (7 - i) for i in range(6)) % 10 == d[6]


def parse_imo(value: int | str | None, check: bool = True) -> int | None:
    """The IMO number in ``value`` ("IMO 9161003", "9161003", 9161003) or None.

    With ``check`` the check digit must be right.

    >>> parse_imo("IMO 9161003"), parse_imo("916100"), parse_imo(9161004)
    (9161003, None, None)
    """
    if value is None:
        return None
    m = re.fullmatch(r"\s*(?:IMO)?\s*:?\s*(\d{7})\s*", str(value), re.IGNORECASE)
    if not m:
        return None
    imo = int(m.group(1))
    if check and not imo_valid(imo):
        return None
    return imo


def parse_mmsi(value: int | str | None) -> int | None:
    """A 9-digit MMSI or None.

    >>> parse_mmsi("273123456"), parse_mmsi("12345")
    (273123456, None)
    """
    if value is None:
        return None
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    return int(text) if re.fullmatch(r"\d{9}", text) else None


@dataclass(frozen=True)
class VesselRecord:
    """What the resolver knows of one vessel."""

    vessel_id: str
    name: str
    aliases: tuple[str, ...] = ()
    imo: int | None = None
    mmsi: int | None = None


@dataclass(frozen=True)
class Resolution:
    """Outcome of resolving one observation.

    ``status``: ``resolved``, ``ambiguous`` (several candidates), ``conflict`` (keys disagree),
    ``unmatched`` or ``empty`` (nothing to match on). ``matched_on``: ``imo``, ``mmsi``,
    ``name`` or ``alias``.
    """

    vessel_id: str | None
    status: str
    matched_on: str | None = None
    candidates: tuple[str, ...] = ()
    message: str = ""


@dataclass
class VesselResolver:
    """Resolve (imo, mmsi, name) to a ``vessel_id``; see the module docstring.

    >>> r = VesselResolver([VesselRecord("maia-1", "MAIA-1", ("Maya-1", "Maia")),
    ...                     VesselRecord("maria", "MARIA")])
    >>> r.resolve(name="Maya 1").vessel_id, r.resolve(name="MAIA").vessel_id
    ('maia-1', 'maia-1')
    >>> r.resolve(name="Mariya").status
    'unmatched'
    """

    vessels: list[VesselRecord]
    _by_imo: dict[int, list[str]] = field(init=False, repr=False)
    _by_mmsi: dict[int, list[str]] = field(init=False, repr=False)
    _by_name: dict[str, list[str]] = field(init=False, repr=False)
    _by_alias: dict[str, list[str]] = field(init=False, repr=False)
    _records: dict[str, VesselRecord] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_imo, self._by_mmsi, self._by_name, self._by_alias = {}, {}, {}, {}
        self._records = {}
        for v in self.vessels:
            self._records[v.vessel_id] = v
            if v.imo is not None:
                self._by_imo.setdefault(int(v.imo), []).append(v.vessel_id)
            if v.mmsi is not None:
                self._by_mmsi.setdefault(int(v.mmsi), []).append(v.vessel_id)
            key = normalise_name(v.name)
            if key:
                self._by_name.setdefault(key, []).append(v.vessel_id)
            for alias in v.aliases:
                akey = normalise_name(alias)
                if akey and v.vessel_id not in self._by_alias.get(akey, []):
                    self._by_alias.setdefault(akey, []).append(v.vessel_id)

    @classmethod
    def from_arrow(cls, table: pa.Table) -> VesselResolver:
        """From rows with ``vessel_id, name, aliases, imo, mmsi`` (the ``vessels`` table)."""
        recs = []
        for row in table.to_pylist():
            recs.append(
                VesselRecord(
                    vessel_id=row["vessel_id"],
                    name=row.get("name") or row["vessel_id"],
                    aliases=tuple(row.get("aliases") or ()),
                    imo=row.get("imo"),
                    mmsi=row.get("mmsi"),
                )
            )
        return cls(recs)

    @classmethod
    def from_store(cls, store) -> VesselResolver:
        """From the store's ``vessels`` table."""
        return cls.from_arrow(store.query("SELECT vessel_id, name, aliases, imo, mmsi FROM vessels"))

    def record(self, vessel_id: str) -> VesselRecord | None:
        return self._records.get(vessel_id)

    def resolve(
        self, *, imo: int | str | None = None, mmsi: int | str | None = None, name: str | None = None
    ) -> Resolution:
        """Resolve one observation; IMO first, then MMSI, then name and aliases."""
        imo_n = parse_imo(imo) if imo not in (None, "") else None
        mmsi_n = parse_mmsi(mmsi) if mmsi not in (None, "") else None
        bad_imo = imo not in (None, "") and imo_n is None
        for how, number, index in (("imo", imo_n, self._by_imo), ("mmsi", mmsi_n, self._by_mmsi)):
            hit = index.get(number, []) if number is not None else []
            if len(hit) == 1:
                return Resolution(hit[0], "resolved", how, tuple(hit), self._name_note(hit[0], name))
            if len(hit) > 1:
                return Resolution(None, "ambiguous", how, tuple(sorted(hit)),
                                  f"{how.upper()} {number} is recorded for {', '.join(sorted(hit))}")
        key = normalise_name(name)
        if not key:
            if imo_n is None and mmsi_n is None:
                msg = f"IMO {imo!r} is not a valid IMO number" if bad_imo else ""
                return Resolution(None, "empty", None, (), msg)
            return Resolution(None, "unmatched", None, (), "no vessel with this IMO/MMSI")
        for how, table in (("name", self._by_name), ("alias", self._by_alias)):
            hit = sorted(set(table.get(key, [])))
            if not hit:
                continue
            if len(hit) > 1:
                return Resolution(None, "ambiguous", how, tuple(hit),
                                  f"name {name!r} fits {', '.join(hit)}; give an IMO or MMSI")
            rec = self._records[hit[0]]
            if imo_n is not None and rec.imo is not None and rec.imo != imo_n:
                return Resolution(None, "conflict", how, tuple(hit),
                                  f"name {name!r} is {hit[0]} but IMO {imo_n} differs from its "
                                  f"IMO {rec.imo}")
            if mmsi_n is not None and rec.mmsi is not None and rec.mmsi != mmsi_n:
                return Resolution(None, "conflict", how, tuple(hit),
                                  f"name {name!r} is {hit[0]} but MMSI {mmsi_n} differs from its "
                                  f"MMSI {rec.mmsi}")
            note = f"IMO {imo!r} is not a valid IMO number; " if bad_imo else ""
            return Resolution(hit[0], "resolved", how, tuple(hit), note + f"matched {how} {name!r}")
        return Resolution(None, "unmatched", None, (), f"no known vessel named {name!r}")

    def resolve_many(
        self,
        names: Iterable[str | None],
        imos: Iterable[int | str | None] | None = None,
        mmsis: Iterable[int | str | None] | None = None,
    ) -> pa.Table:
        """Resolve many observations; an Arrow table ``vessel_id, status, matched_on,
        candidates, message`` aligned with the inputs."""
        names = list(names)
        imos = list(imos) if imos is not None else [None] * len(names)
        mmsis = list(mmsis) if mmsis is not None else [None] * len(names)
        out = [self.resolve(imo=i, mmsi=m, name=n) for n, i, m in zip(names, imos, mmsis, strict=True)]
        return pa.table(
            {
                "vessel_id": pa.array([r.vessel_id for r in out], pa.string()),
                "status": pa.array([r.status for r in out], pa.string()),
                "matched_on": pa.array([r.matched_on for r in out], pa.string()),
                "candidates": pa.array([list(r.candidates) for r in out], pa.list_(pa.string())),
                "message": pa.array([r.message for r in out], pa.string()),
            }
        )

    def _name_note(self, vessel_id: str, name: str | None) -> str:
        rec = self._records[vessel_id]
        if not name:
            return ""
        key = normalise_name(name)
        known = {normalise_name(rec.name)} | {normalise_name(a) for a in rec.aliases}
        if key and key not in known:
            return f"reported name {name!r} differs from {rec.name!r} (kept the key match)"
        return ""
