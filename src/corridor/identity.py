"""Vessel identity resolution: which known vessel does an observation name?

Sightings, watchlists, AIS static reports and report texts name ships in different ways:
an IMO number, an MMSI, or a name spelled many ways ("MAIA-1", "Maya-1", "Maia"). This
module resolves them against the ``vessels`` table in a fixed order:

1. **IMO** (7 digits with a valid check digit): the strongest key. A match is final.
   An IMO that names no known vessel is *not* overridden by a name match when the vessel of
   that name has a different IMO on record (reported as ``conflict``).
2. **MMSI** (9 digits): ships change MMSI with flag, so a match is good but weaker.
3. **Normalised name**, then the **alias table** (each vessel's ``aliases``): every script is
   folded to ASCII with anyascii (Cyrillic "Ангара" is "ANGARA", Korean "금강" is "GEUMGANG"
   in Revised Romanization), then case, accents, punctuation, spaces and "MV"/"M/V" prefixes are
   removed and Cyrillic transliteration variants are folded ("YA"→"IA", so "MAYA-1" and
   "MAIA-1" meet). Arabic and Hebrew script write no short vowels, so a name in them meets a
   Latin name with the same consonants ("سهند" and "SAHAND" are both S-H-N-D); this is the
   last resort, after every exact key. Korean names romanised the DPRK way (McCune–Reischauer,
   "KUMGANG") differ from Revised Romanization and need an alias. Aliases such as "Maia"
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
from anyascii import anyascii

_PREFIX = re.compile(r"^(M\s*/\s*V|M\.\s*V\.|MV|M/S|MS)\s+", re.IGNORECASE)
_IOTATED = (("YA", "IA"), ("YE", "IE"), ("YU", "IU"), ("YO", "IO"))


#: Arabic, Hebrew, Syriac and Thaana blocks (and their presentation forms): abjads, which
#: write consonants and long vowels only
_ABJAD = re.compile("[\u0590-\u07BF\u0860-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]")


def fold_ascii(text: str) -> str:
    """``text`` in ASCII, whatever its script (anyascii's transliteration tables: Cyrillic
    and Greek letter by letter, Korean in Revised Romanization, Chinese in pinyin, Arabic
    script by its consonants; accents dropped).

    >>> fold_ascii("Ангара"), fold_ascii("금강"), fold_ascii("Île-d'Yeu")
    ('Angara', 'GeumGang', "Ile-d'Yeu")
    """
    return anyascii(unicodedata.normalize("NFC", text))


def normalise_name(name: str | None) -> str:
    """A name folded for matching: any script to ASCII, upper case, letters and digits only.

    >>> normalise_name("MAIA-1"), normalise_name("Maya-1"), normalise_name("M/V Lady R")
    ('MAIA1', 'MAIA1', 'LADYR')
    >>> normalise_name("Maria") == normalise_name("Maia")
    False
    >>> normalise_name("Ангара"), normalise_name("Мая-1")
    ('ANGARA', 'MAIA1')
    """
    if not name:
        return ""
    text = fold_ascii(str(name))
    text = _PREFIX.sub("", text.strip())
    text = re.sub(r"[^A-Za-z0-9]", "", text).upper()
    for a, b in _IOTATED:
        text = text.replace(a, b)
    return text


def written_without_vowels(name: str | None) -> bool:
    """Whether ``name`` is in an abjad (Arabic, Persian, Urdu, Hebrew... script), whose
    transliteration lacks the short vowels a Latin spelling has."""
    return bool(name) and bool(_ABJAD.search(str(name)))


def name_skeleton(key: str) -> str:
    """The consonants of a normalised name: vowels and W/Y (the letters Arabic script writes
    long vowels with) dropped, doubled letters single (no shadda in plain text).

    >>> name_skeleton(normalise_name("SAHAND")), name_skeleton(normalise_name("سهند"))
    ('SHND', 'SHND')
    >>> name_skeleton("BANDARABBAS"), name_skeleton(normalise_name("بندر عباس"))
    ('BNDRBS', 'BNDRBS')
    """
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[AEIOUWY]", "", key))


class NameIndex:
    """Ids by folded name (:func:`normalise_name`); a name in an abjad also finds a Latin
    name with the same consonants (:func:`name_skeleton`), and the other way round.

    >>> ix = NameIndex()
    >>> ix.add("ANGARA", "angara"); ix.add("SAHAND", "sahand")
    >>> ix.find("Ангара"), ix.find("سهند"), ix.find("SHND")
    ({'angara'}, {'sahand'}, set())
    """

    def __init__(self) -> None:
        self._exact: dict[str, set[str]] = {}
        # consonant skeletons of names, by whether the name was written in an abjad
        self._skeleton: dict[bool, dict[str, set[str]]] = {True: {}, False: {}}

    def add(self, name: str | None, id_: str) -> None:
        key = normalise_name(name)
        if not key:
            return
        self._exact.setdefault(key, set()).add(id_)
        skel = name_skeleton(key)
        if skel:
            self._skeleton[written_without_vowels(name)].setdefault(skel, set()).add(id_)

    def exact(self, name: str | None) -> set[str]:
        """Ids whose folded name equals ``name``'s."""
        return set(self._exact.get(normalise_name(name), ()))

    def by_consonants(self, name: str | None) -> set[str]:
        """Ids of names in the other kind of script (abjad / not) with ``name``'s consonants."""
        key = normalise_name(name)
        skel = name_skeleton(key) if key else ""
        if not skel:
            return set()
        return set(self._skeleton[not written_without_vowels(name)].get(skel, ()))

    def find(self, name: str | None) -> set[str]:
        """:meth:`exact`, else :meth:`by_consonants`."""
        return self.exact(name) or self.by_consonants(name)


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
    _by_name: NameIndex = field(init=False, repr=False)
    _by_alias: NameIndex = field(init=False, repr=False)
    _records: dict[str, VesselRecord] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_imo, self._by_mmsi = {}, {}
        self._by_name, self._by_alias = NameIndex(), NameIndex()
        self._records = {}
        for v in self.vessels:
            self._records[v.vessel_id] = v
            if v.imo is not None:
                self._by_imo.setdefault(int(v.imo), []).append(v.vessel_id)
            if v.mmsi is not None:
                self._by_mmsi.setdefault(int(v.mmsi), []).append(v.vessel_id)
            self._by_name.add(v.name, v.vessel_id)
            for alias in v.aliases:
                self._by_alias.add(alias, v.vessel_id)

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
        # exact keys first; the consonants of an abjad spelling only when none matched
        for how, hits in (("name", self._by_name.exact), ("alias", self._by_alias.exact),
                          ("name", self._by_name.by_consonants),
                          ("alias", self._by_alias.by_consonants)):
            hit = sorted(hits(name))
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
