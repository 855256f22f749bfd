"""Vessels named in a claim: ship names, IMO numbers and MMSIs, resolved against the
``vessels`` table (the loaded cases' vessels and any others stored). corridor itself knows
no ship names: every name it resolves comes from a ``name`` or ``aliases`` entry there.

What counts as a vessel mention (each with its span):

- an IMO number after "IMO" ("IMO 9179842", "IMO number 9179842", "IMO no. 9179842"), kept
  only when its check digit is right (:func:`corridor.identity.imo_valid`); one with a wrong
  check digit is kept in ``rejected`` with the reason, never resolved;
- an MMSI: nine digits after "MMSI";
- a capitalised name after a ship noun ("the cargo ship Ocean Wren", "the vessels Alder Star and
  Birch", "the tanker named Cape Holly"), after a prefix ("MV Ocean Wren", "M/V", "MT"), in an
  apposition ("Ocean Wren, a Panama-flagged tanker,"), or quoted ("the “Ocean Wren”") in a
  sentence that speaks of ships;
- a name or alias of a stored vessel anywhere in the sentence, written capitalised and not
  part of a longer proper noun ("Holly" the ship, not "Holly Jones" the spokeswoman).

An IMO number or MMSI in brackets or commas right after a name ("Ocean Wren (IMO 9179842)")
belongs to that name: one vessel. A vessel resolves by IMO number first, then MMSI, then
name; a stored vessel of a loaded case wins over others with the same name. Unresolved
mentions keep their text (``resolved: false``).

Hand-written patterns, as the rest of :mod:`corridor.claims`: no offline recogniser knows
ship names, and every decision is visible in the span it leaves.

>>> idx = VesselIndex.from_rows([{"vessel_id": "wren", "name": "OCEAN WREN", "aliases": ["Ocean Wren"],
...                              "imo": 9179842, "mmsi": None, "source": "[S1] (case x)"}])
>>> [(v["text"], v["vessel_id"]) for v in find_vessels("The ship Ocean Wren (IMO 9179842) left.", 0, idx)]
[('Ocean Wren (IMO 9179842', 'wren')]
>>> [(v["imo"], v["resolved"]) for v in find_vessels("MV Cape Holly, IMO 9161003, sailed", 0)]
[(9161003, False)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyarrow as pa

from corridor.claims.spans import overlaps, span_field
from corridor.identity import imo_valid

_IMO = re.compile(r"\bIMO(?:\s+(?:number|no\.?|#|nr\.?))?\s*[:#]?\s*(?P<n>\d{7})(?!\d)", re.I)
_MMSI = re.compile(r"\bMMSI(?:\s+(?:number|no\.?|#|nr\.?))?\s*[:#]?\s*(?P<n>\d{9})(?!\d)", re.I)
_NOT_NAME_WORDS = frozenset("""
    IMO MMSI AIS UN US U.S. EU UK The A An In On At From To And Or But With For Of By Via Near Off
    January February March April May June July August September October November December
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday It Its This That These Those Which
    Who He She They We Was Were Is Are Has Have Had
""".split())
# A word of a name ("Wren-2", "Sun", "8", "IV"); a hyphen joins parts of one word, so each
# text splits into words one way only (no backtracking blow-up on "A-A-A-...").
_TOKEN = r"(?:[A-Z][A-Za-z0-9'’]*(?:-[A-Za-z0-9'’]+)*|\d{1,4}|[IVX]{1,4})"
_NAME = rf"{_TOKEN}(?: {_TOKEN}){{0,3}}"
_SHIP_NOUN = (r"(?:vessels?|ships?|freighters?|tankers?|carriers?|ro-ros?|boats?|bulkers?|"
              r"steamers?|tugs?)")
_CUE = re.compile(rf"\b{_SHIP_NOUN}(?:\s+(?:named|called|known as))?\s+(?P<names>{_NAME}"
                  rf"(?:\s*,\s*{_NAME})*(?:,?\s+and\s+{_NAME})?)")
_PREFIX = re.compile(rf"\b(?:MV|M/V|MT|M/T|SS|RV|FV|M\.V\.)\s+(?P<name>{_NAME})")
_APPOS = re.compile(rf"(?P<name>{_NAME}),\s+an?\s+(?:[\w\-]+\s+){{0,4}}?{_SHIP_NOUN}\b")
_QUOTED = re.compile(rf"[“\"‘'](?P<name>{_NAME})[”\"’'](?!\w)")
_SHIP_WORD = re.compile(rf"\b{_SHIP_NOUN}\b|\b(?:MV|M/V|cargo|voyage|sailed|docked|crew)\b", re.I)
_ATTACHED = re.compile(r"[\s\"”’')]*[(,;/]?\s*$")
GUARD = "~"


@dataclass(frozen=True)
class VesselIndex:
    """Names, aliases, IMO numbers and MMSIs of stored vessels → vessel_ids."""

    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    imos: dict[int, tuple[str, ...]] = field(default_factory=dict)
    mmsis: dict[int, tuple[str, ...]] = field(default_factory=dict)
    #: vessel_ids of the loaded case(s): they win over other vessels with the same name
    preferred: frozenset[str] = frozenset()

    @classmethod
    def from_rows(cls, rows: list[dict]) -> VesselIndex:
        """From rows of the ``vessels`` table (``vessel_id``, ``name``, ``aliases``, ``imo``,
        ``mmsi``, ``source``)."""
        names: dict[str, set[str]] = {}
        imos: dict[int, set[str]] = {}
        mmsis: dict[int, set[str]] = {}
        preferred = set()
        for r in rows:
            vid = r.get("vessel_id")
            if not vid:
                continue
            for s in [r.get("name")] + list(r.get("aliases") or []):
                key = " ".join(str(s or "").lstrip(GUARD).split()).lower()
                if len(key) >= 3:
                    names.setdefault(key, set()).add(vid)
            if r.get("imo"):
                imos.setdefault(int(r["imo"]), set()).add(vid)
            if r.get("mmsi"):
                mmsis.setdefault(int(r["mmsi"]), set()).add(vid)
            if "(case " in str(r.get("source") or ""):
                preferred.add(vid)
        freeze = lambda d: {k: tuple(sorted(v)) for k, v in d.items()}  # noqa: E731
        return cls(freeze(names), freeze(imos), freeze(mmsis), frozenset(preferred))

    @classmethod
    def of(cls, vessels: object | None) -> VesselIndex:
        """Accept a VesselIndex, an Arrow table of ``vessels`` rows, a list of rows or None."""
        if vessels is None or isinstance(vessels, VesselIndex):
            return vessels or cls()
        if isinstance(vessels, pa.Table):
            return cls.from_rows(vessels.to_pylist())
        return cls.from_rows(list(vessels))  # type: ignore[arg-type]

    def _pick(self, ids: tuple[str, ...]) -> tuple[str | None, list[str]]:
        ranked = sorted(ids, key=lambda v: (v not in self.preferred, v))
        return (ranked[0] if ranked else None), list(ids)

    def resolve(self, name: str | None = None, imo: int | None = None, mmsi: int | None = None
                ) -> tuple[str | None, list[str], str | None]:
        """(vessel_id, candidates, by) — by IMO number, then MMSI, then name."""
        for by, ids in (("imo", self.imos.get(imo) if imo else None),
                        ("mmsi", self.mmsis.get(mmsi) if mmsi else None),
                        ("name", self.names.get(" ".join(name.split()).lower()) if name else None)):
            if ids:
                vid, cands = self._pick(ids)
                return vid, cands, by
        return None, [], None

    def find(self, sentence: str) -> list[tuple[int, int]]:
        """Spans of stored names/aliases written capitalised in ``sentence``, longest first."""
        out = []
        low = sentence.lower()
        for key in sorted(self.names, key=len, reverse=True):
            if key not in low:
                continue  # a substring test first: the expression runs on a handful of names
            for m in re.finditer(r"(?<![\w\-])" + re.escape(key) + r"(?![\w\-])", low):
                out.append((m.start(), m.end()))
        return out


def vessel_key(v: dict) -> str:
    """How a vessel mention is compared: its vessel_id, else its name, IMO number or MMSI.

    >>> vessel_key({"vessel_id": None, "name": "Cape  Holly", "imo": None, "mmsi": None})
    'cape holly'
    """
    if v.get("vessel_id"):
        return v["vessel_id"]
    if v.get("name"):
        return " ".join(v["name"].split()).lower()
    if v.get("imo"):
        return f"imo {v['imo']}"
    return f"mmsi {v.get('mmsi')}"


def _clean_name(text: str) -> str | None:
    """The name without trailing words that cannot be part of it; None if nothing is left."""
    words = text.split()
    while words and words[-1] in _NOT_NAME_WORDS:
        words.pop()
    while words and words[0] in _NOT_NAME_WORDS:
        words.pop(0)
    if not words or not re.match(r"[A-Z]", words[0]):
        return None
    return " ".join(words)


def find_vessels(sentence: str, base: int = 0, index: VesselIndex | None = None,
                 exclude: list[tuple[int, int]] | None = None) -> list[dict]:
    """Vessel mentions in ``sentence``; see the module docstring.

    Each item: the span (name and any attached IMO/MMSI), ``name`` (or None), ``imo``,
    ``mmsi``, ``vessel_id`` (or None), ``candidates``, ``resolved_by`` (imo, mmsi, name),
    ``cue`` and ``resolved``. ``exclude``: spans (relative to ``sentence``) that are not
    vessel names (actors, places, dates). Items with a wrong IMO check digit come back with
    ``rejected`` set and no ``vessel_id``.
    """
    idx = index or VesselIndex()
    taken: list[tuple[int, int]] = list(exclude or [])
    names: list[tuple[int, int, str]] = []

    def add_name(s: int, e: int, cue: str) -> None:
        text = sentence[s:e]
        clean = _clean_name(text)
        if clean is None:
            return
        s = s + text.index(clean)
        e = s + len(clean)
        if any(overlaps((s, e), t) for t in taken) or any(overlaps((s, e), (a, b)) for a, b, _ in names):
            return
        names.append((s, e, cue))

    for m in _PREFIX.finditer(sentence):
        add_name(m.start("name"), m.end("name"), "prefix")
    for m in _CUE.finditer(sentence):
        block = m.group("names")
        for part in re.finditer(_NAME, block):
            add_name(m.start("names") + part.start(), m.start("names") + part.end(), "ship_noun")
    for m in _APPOS.finditer(sentence):
        add_name(m.start("name"), m.end("name"), "apposition")
    if _SHIP_WORD.search(sentence):
        for m in _QUOTED.finditer(sentence):
            add_name(m.start("name"), m.end("name"), "quoted")
    for s, e in idx.find(sentence):
        if not sentence[s].isupper():
            continue
        # part of a longer proper noun ("Holly Jones", "Port Holly"): not the ship
        prev = re.search(r"([A-Z][\w']*)[ \-]$", sentence[max(0, s - 20):s])
        longer = re.match(r"[ \-][A-Z]", sentence[e:e + 2]) or (prev and prev.group(1) not in _NOT_NAME_WORDS)
        if longer:
            if not re.search(rf"\b{_SHIP_NOUN}\s+$|\b(?:MV|M/V|MT)\s+$", sentence[:s]):
                continue
        add_name(s, e, "stored_name")
    numbers: list[dict] = []
    for rx, kind in ((_IMO, "imo"), (_MMSI, "mmsi")):
        for m in rx.finditer(sentence):
            numbers.append({"kind": kind, "start": m.start(), "end": m.end(), "n": int(m.group("n"))})
    numbers.sort(key=lambda n: n["start"])
    out: list[dict] = []
    items: list[dict] = [{"start": s, "end": e, "name": sentence[s:e], "cue": cue, "imo": None, "mmsi": None,
                          "rejected": None} for s, e, cue in sorted(names)]
    for n in numbers:
        bad = n["kind"] == "imo" and not imo_valid(n["n"])
        owner = next((it for it in items if it["start"] < n["start"] and it["end"] <= n["start"]
                      and _ATTACHED.match(sentence, it["end"], n["start"])
                      and it[n["kind"]] is None and not it.get("rejected")), None)
        if owner is None:
            owner = {"start": n["start"], "end": n["end"], "name": None, "cue": n["kind"], "imo": None,
                     "mmsi": None, "rejected": None}
            items.append(owner)
        owner["end"] = max(owner["end"], n["end"])
        if bad:
            owner["rejected"] = f"IMO {n['n']:07d} fails the check digit"
        else:
            owner[n["kind"]] = n["n"]
    for it in sorted(items, key=lambda i: i["start"]):
        if it["name"] is None and it["imo"] is None and it["mmsi"] is None:
            out.append(span_field(sentence, it["start"], it["end"], base=base, name=None, imo=None, mmsi=None,
                                  vessel_id=None, candidates=[], resolved_by=None, cue=it["cue"],
                                  resolved=False, rejected=it["rejected"]))
            continue
        vid, cands, by = idx.resolve(it["name"], it["imo"], it["mmsi"])
        item = span_field(sentence, it["start"], it["end"], base=base, name=it["name"], imo=it["imo"],
                          mmsi=it["mmsi"], vessel_id=vid, candidates=cands, resolved_by=by, cue=it["cue"],
                          resolved=vid is not None)
        if it["rejected"]:
            item["rejected"] = it["rejected"]
        if by in ("imo", "mmsi") and it["name"]:
            by_name = idx.resolve(it["name"])[0]
            if by_name and by_name != vid:
                item["conflict"] = f"name {it['name']!r} is stored as {by_name}, the number as {vid}"
        out.append(item)
    return out
