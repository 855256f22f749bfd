"""Places named in a claim, resolved against the gazetteer (the ``places`` table).

Two sources of names:

- the gazetteer, when loaded: every ``name`` and ``aliases`` entry of the ``places``
  table, matched whole-word where the text is capitalised (a proper noun), except
  :data:`COMMON_WORDS` — English words and country names that the world gazetteer also
  uses as port or anchorage names ("And", "Unknown", "Korea");
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
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

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
#: Gazetteer spellings never taken as a place on their own in running text: English words,
#: sea-area words and countries that the world gazetteer also uses as port or anchorage
#: names (a port "And", anchorages "Unknown", "Sea", "Korea" and "China"). They still resolve
#: after a cue ("the port of Bay") and through the built-in list. Hand-written: no offline
#: word list ships with corridor's dependencies, and the list only has to cover words that
#: reports use as words.
COMMON_WORDS = frozenset("""
    a about above across after against air all also an and any anchorage are area around as at
    back bank base bay be beach been before below between big both but by can cape central city
    coast could did do does down during each east end field first for free from gas has have he
    her here high his home how if in inner into is it its just land last less little low lower
    main may me more most much must my new next no north not now of off oil old on once one only
    or order other our out outer over own point port rail same sea she should side so some south
    station such than that the their them then there these they this those through to too town
    under unknown until up upper us very via was water we were west what when where which while
    who why will with would yard yes you zone
    africa america asia europe
    angola bangladesh belgium belize bermuda bahamas bahrain brazil brunei china
    france germany georgia grenada guadeloupe guinea india indonesia iran japan jordan korea
    kuwait madagascar mozambique nauru russia samoa spain turkey ukraine
""".split()) | {"costa rica", "puerto rico"}
_DEPOT_BEFORE = re.compile(r"\b(?:depot|arsenal|ammunition base|storage site)\b[\w\s,]{0,30}$", re.I)
_WORD = re.compile(r"\w+")
_WORD_CHAR = re.compile(r"[\w-]")  # what may not touch a name on either side
_NOT_PLACE = re.compile(r"^(?:Russia|North Korea|Ukraine|DPRK|Pyongyang|Moscow|The|A|September|October|"
                        r"August|November|December)$")


@dataclass(frozen=True)
class Gazetteer:
    """Lower-cased names and aliases → place_ids (several places may share a name).

    Built once per ingest (or refresh); the word indexes behind :meth:`find` and
    :meth:`named_like` are built on first use and kept, so matching a sentence costs a
    dictionary look-up per word, not a pass over every name.
    """

    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_arrow(cls, tbl: pa.Table | None) -> Gazetteer:
        """From rows of the ``places`` table (``place_id``, ``name``, ``aliases``, ``kind``)."""
        if tbl is None or tbl.num_rows == 0:
            return cls()
        # columnar (Arrow compute), not row by row: the world gazetteer has 64,000 rows
        pids = tbl.column("place_id").combine_chunks().cast(pa.string())
        spellings = [tbl.column("name").combine_chunks().cast(pa.string())]
        owners = [pids]
        aliases = tbl.column("aliases").combine_chunks() if "aliases" in tbl.column_names else None
        if aliases is not None and pa.types.is_list(aliases.type):
            spellings.append(pc.list_flatten(aliases).cast(pa.string()))
            owners.append(pc.take(pids, pc.list_parent_indices(aliases)))
        long = pa.table({"s": pa.concat_arrays(spellings), "pid": pa.concat_arrays(owners)})
        long = long.set_column(0, "s", pc.utf8_lower(pc.utf8_trim_whitespace(long.column("s"))))
        long = long.filter(pc.and_(pc.is_valid(long.column("s")), pc.not_equal(long.column("s"), "")))
        grouped = long.group_by("s").aggregate([("pid", "distinct")])
        names = {s: tuple(sorted(ids)) for s, ids in zip(
            grouped.column("s").to_pylist(), grouped.column("pid_distinct").to_pylist(), strict=True)}
        kind_col = tbl.column("kind").to_pylist() if "kind" in tbl.column_names else [None] * len(pids)
        kinds = {pid: k or "" for pid, k in zip(pids.to_pylist(), kind_col, strict=True)}
        return cls(names, kinds)

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
        """(place_id, all candidate ids) for the first spelling the gazetteer knows; the
        place_id is of ``prefer_kind`` if one is, else not an anchorage if one is."""
        for s in spellings:
            ids = self.names.get(s.strip().lower())
            if ids:
                # a port before its anchorages: a name in a report means the port
                ranked = sorted(ids, key=lambda p: (self.kinds.get(p) != prefer_kind,
                                                    self.kinds.get(p) == "anchorage", p))
                return ranked[0], list(ids)
        return None, []

    @cached_property
    def _by_first_word(self) -> dict[str, tuple[str, ...]]:
        """First word of each spelling (3+ characters) → those spellings, longest first."""
        idx: dict[str, list[str]] = {}
        for n in self.names:
            m = _WORD.match(n)
            if m and len(n) >= 3:
                idx.setdefault(m.group(0), []).append(n)
        return {w: tuple(sorted(ns, key=lambda n: (-len(n), n))) for w, ns in idx.items()}

    def named_like(self, word: str, kind: str) -> list[str]:
        """Places of ``kind`` with a spelling that contains ``word`` as a whole word."""
        w = word.lower()
        rx = re.compile(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])")
        # a substring test first: the regular expression then runs on a handful of names
        return sorted({p for n in self.names if w in n and rx.search(n) for p in self.names[n]
                       if self.kinds.get(p) == kind})

    def find(self, sentence: str) -> list[tuple[int, int, str]]:
        """Every whole-word, case-insensitive occurrence of a spelling (3+ characters) in
        ``sentence``: (start, end, spelling), longest spelling first, then by position.

        Hand-written instead of one regular expression per spelling (tens of thousands with
        the world gazetteer) or one alternation of them all: each word of the sentence is
        looked up in a dictionary of first words, and only the spellings starting with it
        are compared, so the cost grows with the sentence, not with the gazetteer.

        >>> g = Gazetteer({"abu dhabi": ("ae-auh",), "abu": ("x",), "dunai": ("ru-dun",)})
        >>> g.find("From Abu Dhabi to Dunai, not Abu-Dhabi")
        [(5, 14, 'abu dhabi'), (18, 23, 'dunai'), (5, 8, 'abu')]
        """
        index = self._by_first_word
        if not index:
            return []
        found = []
        for m in _WORD.finditer(sentence):
            start = m.start()
            if start and _WORD_CHAR.match(sentence, start - 1):
                continue  # not at a word start (the second half of "Rajin-Sonbong")
            for name in index.get(m.group(0).lower(), ()):
                end = start + len(name)
                if sentence[start:end].lower() == name and not _WORD_CHAR.match(sentence, end):
                    found.append((start, end, name))
        found.sort(key=lambda x: (x[0] - x[1], x[0], x[2]))
        return found


def counts_as_name(text: str) -> bool:
    """Whether a gazetteer spelling found in running text is taken as a place: written
    capitalised, and not one of :data:`COMMON_WORDS`.

    >>> counts_as_name("Busan"), counts_as_name("unknown"), counts_as_name("And"), counts_as_name("Korea")
    (True, False, False, False)
    """
    return text[:1].isupper() and text.strip().lower() not in COMMON_WORDS


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
    for start, end, spelling in gaz.find(sentence):
        if spelling in _CONTEXTUAL and not _DANUBE.search(sentence):
            continue
        if not counts_as_name(sentence[start:end]):
            continue  # "and", "are", "unknown cargo", "Korea": words first, names second
        if not any(overlaps((start, end), t) for t in taken):
            add(start, end, sentence[start:end], None, "gazetteer")
    for m in _GENERIC.finditer(sentence):
        g = "name" if m.group("name") else "name2"
        s, e = m.start(g), m.end(g)
        if _NOT_PLACE.match(m.group(g)) or any(overlaps((s, e), t) for t in taken):
            continue
        add(s, e, m.group(g), None, "context")
    out.sort(key=lambda p: p["start"])
    return out
