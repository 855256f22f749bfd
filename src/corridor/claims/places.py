"""Places named in a claim, resolved against the gazetteer (the ``places`` table).

Two sources of names:

- the gazetteer, when loaded: every ``name`` and ``aliases`` entry of the ``places``
  table, matched whole-word and case-insensitively;
- a small built-in list of the corridor's places and their spellings (Rajin/Najin/Rason,
  Dunai/Dunay, Tikhoretsk, Vostochny, Khasan, Tumangang, ...), so a report ingested before
  the gazetteer still yields its place mentions. "Danube" counts as Dunai only in a
  sentence that places it in the Russian Far East (the Sea of Japan, Primorsky Krai) or
  as "the village of Danube": it is a machine translation of Дунай.

A mention resolves to a ``place_id`` when its text, or the canonical name or any
spelling of it, is a gazetteer name or alias (``candidates`` lists every place with that
spelling: a world port and the case's own entry for the same port, say; a mention after
"depot near" also gets the gazetteer's depots named after that town); otherwise ``place_id`` is null and the
mention keeps its own span and text (``resolved: false``), and
:func:`corridor.claims.store.match_claims` resolves it later, when the gazetteer is there.
Capitalised names after "the port of", "the village of", "a depot near", ... that are in
neither list are kept the same way.

>>> [(p["name"], p["place_id"]) for p in find_places("ships sailed from Najin to Dunay")]
[('Rajin', None), ('Dunai', None)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyarrow as pa

from corridor.claims.spans import overlaps, span_field

#: canonical name -> (kind, spellings).
BUILTIN: dict[str, tuple[str, list[str]]] = {
    "Rajin": ("port", ["Rajin", "Najin", "Rason", "Rajin-Sonbong", "Ra(?:j|s)on port"]),
    "Dunai": ("port", ["Dunai", "Dunay", "Dunaj"]),
    "Vostochny": ("port", ["Vostochny", "Vostochnyy", "Vostochniy", "Wrangel Bay", "Vrangel"]),
    "Tikhoretsk": ("depot", ["Tikhoretsk", "Tikhoretskaya", "Tikhoretsky"]),
    "Khasan": ("rail_crossing", ["Khasan"]),
    "Tumangang": ("rail_crossing", ["Tumangang", "Tumen River station"]),
    "Korea-Russia Friendship Bridge": ("rail_crossing", ["Friendship Bridge"]),
    "Vladivostok": ("port", ["Vladivostok"]),
    "Nakhodka": ("port", ["Nakhodka"]),
    "Fokino": ("settlement", ["Fokino"]),
    "Ussuriysk": ("rail_terminal", ["Ussuriysk"]),
    "Mozdok": ("depot", ["Mozdok"]),
    "Kotluban": ("depot", ["Kotluban"]),
    "Karachev": ("depot", ["Karachev"]),
    "Yegorlykskaya": ("depot", ["Yegorlykskaya"]),
    "Chongjin": ("port", ["Chongjin"]),
    "Nampo": ("port", ["Nampo", "Nampho"]),
    "Wonsan": ("port", ["Wonsan"]),
    "Primorsky Krai": ("area", ["Primorsky Krai", "Primorye"]),
    "Krasnodar Krai": ("area", ["Krasnodar Krai", "Krasnodar region"]),
    "Sea of Japan": ("area", ["Sea of Japan", "East Sea"]),
}
_DANUBE = re.compile(r"\b(?:village|settlement|port) of Danube\b|\bDanube\b(?=.*\b(?:Sea of Japan|Primorsk|"
                     r"Far East)\b)|(?:Sea of Japan|Primorsk|Far East).*\bDanube\b")
_GENERIC = re.compile(
    r"\b(?:port|village|town|city|settlement|station|depot|base|arsenal|airfield|harbou?r|terminal|"
    r"pier|bay)\s+(?:of|in|near|at)\s+(?P<name>[A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+){0,2})"
    r"|\b(?:depot|arsenal|base|port|terminal)\s+(?:near|outside|in)\s+(?P<name2>[A-Z][\w'\-]+)")
# Gazetteer spellings that name a corridor place only in the right context.
_CONTEXTUAL = {"danube"}
_DEPOT_BEFORE = re.compile(r"\b(?:depot|arsenal|ammunition base|storage site)\b[\w\s,]{0,30}$", re.I)
_NOT_PLACE = re.compile(r"^(?:Russia|North Korea|Ukraine|DPRK|Pyongyang|Moscow|The|A|September|October|"
                        r"August|November|December)$")


@dataclass(frozen=True)
class Gazetteer:
    """Lower-cased names and aliases → place_ids (several places may share a name)."""

    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_arrow(cls, tbl: pa.Table | None) -> Gazetteer:
        """From rows of the ``places`` table (``place_id``, ``name``, ``aliases``, ``kind``)."""
        if tbl is None or tbl.num_rows == 0:
            return cls()
        names: dict[str, list[str]] = {}
        kinds: dict[str, str] = {}
        cols = set(tbl.column_names)
        for row in tbl.to_pylist():
            pid = row["place_id"]
            kinds[pid] = row.get("kind") or ""
            spellings = [row["name"]] + list((row.get("aliases") or []) if "aliases" in cols else [])
            for s in spellings:
                if s:
                    names.setdefault(s.strip().lower(), []).append(pid)
        return cls({k: tuple(sorted(set(v))) for k, v in names.items()}, kinds)

    @classmethod
    def of(cls, places: object | None) -> Gazetteer:
        """Accept a Gazetteer, a PlaceIndex (anything with ``.table``), an Arrow table or None."""
        if places is None or isinstance(places, Gazetteer):
            return places or cls()
        if isinstance(places, pa.Table):
            return cls.from_arrow(places)
        table = getattr(places, "table", None)
        return cls.from_arrow(table if isinstance(table, pa.Table) else None)

    def resolve(self, *spellings: str, prefer_kind: str | None = None) -> tuple[str | None, list[str]]:
        """(place_id, all candidate ids) for the first spelling the gazetteer knows."""
        for s in spellings:
            ids = self.names.get(s.strip().lower())
            if ids:
                ranked = sorted(ids, key=lambda p: (self.kinds.get(p) != prefer_kind, p))
                return ranked[0], list(ids)
        return None, []

    def named_like(self, word: str, kind: str) -> list[str]:
        """Places of ``kind`` with a spelling that contains ``word`` as a whole word."""
        rx = re.compile(r"(?<![\w-])" + re.escape(word.lower()) + r"(?![\w-])")
        return sorted({p for n, ids in self.names.items() if rx.search(n) for p in ids
                       if self.kinds.get(p) == kind})

    def patterns(self) -> list[tuple[re.Pattern, str]]:
        """Whole-word patterns for every gazetteer spelling, longest first."""
        return [(re.compile(r"(?<![\w-])" + re.escape(n) + r"(?![\w-])", re.I), n)
                for n in sorted(self.names, key=len, reverse=True) if len(n) >= 3]


_BUILTIN_RE = sorted(
    [(re.compile(r"(?<![\w-])(?:" + s + r")(?![\w-])"), canon) for canon, (_, ss) in BUILTIN.items()
     for s in ss],
    key=lambda x: -len(x[0].pattern),
)


def find_places(sentence: str, base: int = 0, gazetteer: Gazetteer | None = None,
                exclude: list[tuple[int, int]] | None = None) -> list[dict]:
    """Place mentions: span, ``name`` (canonical or as written), ``place_id`` (or None),
    ``candidates``, ``kind`` and ``resolved``."""
    gaz = gazetteer or Gazetteer()
    taken: list[tuple[int, int]] = list(exclude or [])
    out: list[dict] = []

    def add(start: int, end: int, name: str, kind: str | None, source: str) -> None:
        text = sentence[start:end]
        spellings = [text, name] + [re.sub(r"\\.*", "", s) for s in BUILTIN.get(name, ("", []))[1]]
        depot = bool(_DEPOT_BEFORE.search(sentence[:start]))
        pid, cands = gaz.resolve(*spellings, prefer_kind="depot" if depot else None)
        if depot:  # "a depot near the city of Tikhoretsk": the depot named after the town
            extra = gaz.named_like(name, kind="depot")
            cands = sorted(set(cands) | set(extra))
            pid = extra[0] if extra else pid
        taken.append((start, end))
        item = span_field(sentence, start, end, base=base, name=name, place_id=pid,
                          candidates=cands, kind=kind, resolved=pid is not None, lexicon=source)
        if depot:
            item["near_depot"] = True
        out.append(item)

    for rx, canon in _BUILTIN_RE:
        for m in rx.finditer(sentence):
            if not any(overlaps((m.start(), m.end()), t) for t in taken):
                add(m.start(), m.end(), canon, BUILTIN[canon][0], "builtin")
    for m in re.finditer(r"\bDanube\b", sentence):
        if _DANUBE.search(sentence) and not any(overlaps((m.start(), m.end()), t) for t in taken):
            add(m.start(), m.end(), "Dunai", "port", "builtin")
    for rx, spelling in gaz.patterns():
        if spelling in _CONTEXTUAL and not _DANUBE.search(sentence):
            continue
        for m in rx.finditer(sentence):
            if not any(overlaps((m.start(), m.end()), t) for t in taken):
                add(m.start(), m.end(), m.group(0), None, "gazetteer")
    for m in _GENERIC.finditer(sentence):
        g = "name" if m.group("name") else "name2"
        s, e = m.start(g), m.end(g)
        if _NOT_PLACE.match(m.group(g)) or any(overlaps((s, e), t) for t in taken):
            continue
        add(s, e, m.group(g), None, "context")
    out.sort(key=lambda p: p["start"])
    return out
