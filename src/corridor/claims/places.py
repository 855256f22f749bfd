"""Places named in a claim, resolved against the ``places`` table: the loaded case's places
and the gazetteer. corridor itself knows no place names: every spelling comes from a name or
an alias in that table.

- Every ``name`` and ``aliases`` entry is matched whole-word where the text is capitalised (a
  proper noun), except :data:`COMMON_WORDS` — English words and country names that the world
  gazetteer also uses as port or anchorage names ("And", "Unknown", "Korea").
- An alias written with a leading ``~`` in a case's places sheet (``~Mersey``) is *guarded*:
  a spelling that is also something else (a river, a common word), taken for the place only
  after a place cue ("the village of Mersey"), never in running text on its own.
- The loaded case's places win: when a spelling names both a case place and gazetteer
  places, the case place is the ``place_id`` (the others stay ``candidates``). Case places
  are those whose ``source`` cites a case (``… (case <id>)``).
- A dateline ("LONDON, Oct 13 (Reuters) —", "MOSCOW —") is not a place mention.

A mention resolves to a ``place_id`` when its text is a name or alias (``candidates`` lists
every place with that spelling: a world port and the case's own entry for the same port, say;
a mention after "depot near" also gets the depots named after that town); otherwise
``place_id`` is null and the mention keeps its own span and text (``resolved: false``), and
:func:`corridor.claims.store.match_claims` resolves it later, when the places are there.
Capitalised names after "the port of", "the village of", "a depot near", ... are kept the
same way.

>>> g = Gazetteer({"port alder": ("xa-alder",), "alder": ("xa-alder",)})
>>> [(p["text"], p["place_id"]) for p in find_places("Ships sailed from Port Alder", 0, g)]
[('Port Alder', 'xa-alder')]
>>> find_places("ALDER, 13 Oct (Wire) — talks continued", 0, g)
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

from corridor.claims.spans import overlaps, span_field

_GENERIC = re.compile(
    r"\b(?:port|village|town|city|settlement|station|depot|base|arsenal|airfield|harbou?r|terminal|"
    r"pier|bay)\s+(?:of|in|near|at)\s+(?P<name>[A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+){0,2})"
    r"|\b(?:depot|arsenal|base|port|terminal)\s+(?:near|outside|in)\s+(?P<name2>[A-Z][\w'\-]+)")
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
_NOT_PLACE = re.compile(r"^(?:The|A|An|January|February|March|April|May|June|July|August|September|"
                        r"October|November|December)$")
#: A dateline at the start of a text or sentence: a capitalised place name (written in
#: capitals, or followed by a date) before "—", "-", ":" or "(Agency)".
_DATELINE = re.compile(
    r"^\s*(?P<place>[A-Z][A-Z'\-]+(?:[ ,/][A-Z][A-Z'\-]+)*)"
    r"(?:\s*,\s*[\w .]+?\d{1,4}[\w .]*?)?\s*(?:\([^)]{1,40}\)\s*)?(?:—|–|-{1,2}|:)\s")
#: A leading ``~`` marks a guarded alias (see the module docstring).
GUARD = "~"


@dataclass(frozen=True)
class Gazetteer:
    """Lower-cased names and aliases → place_ids (several places may share a name).

    Built once per ingest (or refresh); the word indexes behind :meth:`find` and
    :meth:`named_like` are built on first use and kept, so matching a sentence costs a
    dictionary look-up per word, not a pass over every name.
    """

    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    #: guarded spellings (``~Mersey`` in a case) → place_ids: only after a place cue
    guarded: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: place_ids of the loaded case(s): they win over gazetteer places of the same spelling
    preferred: frozenset[str] = frozenset()

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
        names: dict[str, tuple[str, ...]] = {}
        guarded: dict[str, tuple[str, ...]] = {}
        for s, ids in zip(grouped.column("s").to_pylist(), grouped.column("pid_distinct").to_pylist(),
                          strict=True):
            if s.startswith(GUARD):
                if s[1:].strip():
                    guarded[s[1:].strip()] = tuple(sorted(ids))
            else:
                names[s] = tuple(sorted(ids))
        kind_col = tbl.column("kind").to_pylist() if "kind" in tbl.column_names else [None] * len(pids)
        kinds = {pid: k or "" for pid, k in zip(pids.to_pylist(), kind_col, strict=True)}
        preferred: frozenset[str] = frozenset()
        if "source" in tbl.column_names:
            is_case = pc.fill_null(pc.match_substring(tbl.column("source"), "(case "), False)
            preferred = frozenset(pc.filter(pids, is_case.combine_chunks()).to_pylist())
        return cls(names, kinds, guarded, preferred)

    @classmethod
    def of(cls, places: object | None) -> Gazetteer:
        """Accept a Gazetteer, a PlaceIndex (anything with ``.table``), an Arrow table or None."""
        if places is None or isinstance(places, Gazetteer):
            return places or cls()
        if isinstance(places, pa.Table):
            return cls.from_arrow(places)
        table = getattr(places, "table", None)
        return cls.from_arrow(table if isinstance(table, pa.Table) else None)

    def resolve(self, *spellings: str, prefer_kind: str | None = None, cued: bool = False
                ) -> tuple[str | None, list[str]]:
        """(place_id, all candidate ids) for the first spelling known; the place_id is a
        case place if one is, then of ``prefer_kind`` if one is, else not an anchorage if one
        is. ``cued``: the spelling follows a place cue, so guarded aliases count too."""
        for s in spellings:
            key = s.strip().lower()
            ids = self.names.get(key) or (self.guarded.get(key) if cued else None)
            if ids:
                # the case's own place first; a port before its anchorages
                ranked = sorted(ids, key=lambda p: (p not in self.preferred,
                                                    self.kinds.get(p) != prefer_kind,
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

        >>> g = Gazetteer({"abu dhabi": ("ae-auh",), "abu": ("x",), "alder": ("xa-ald",)})
        >>> g.find("From Abu Dhabi to Alder, not Abu-Dhabi")
        [(5, 14, 'abu dhabi'), (18, 23, 'alder'), (5, 8, 'abu')]
        """
        index = self._by_first_word
        if not index:
            return []
        found = []
        for m in _WORD.finditer(sentence):
            start = m.start()
            if start and _WORD_CHAR.match(sentence, start - 1):
                continue  # not at a word start (the second half of "Port-Alder")
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


def dateline_span(sentence: str) -> tuple[int, int] | None:
    """The span of a dateline's place at the start of ``sentence`` ("LONDON, Oct 13 (Reuters)
    —"), or None.

    >>> dateline_span("LONDON, Oct 13 (Reuters) - Ships were seen"), dateline_span("London said")
    ((0, 6), None)
    """
    m = _DATELINE.match(sentence)
    return (m.start("place"), m.end("place")) if m else None


def find_places(sentence: str, base: int = 0, gazetteer: Gazetteer | None = None,
                exclude: list[tuple[int, int]] | None = None) -> list[dict]:
    """Place mentions: span, ``name`` (as written), ``place_id`` (or None), ``candidates``,
    ``kind`` and ``resolved``."""
    gaz = gazetteer or Gazetteer()
    taken: list[tuple[int, int]] = list(exclude or [])
    dl = dateline_span(sentence)
    if dl:
        taken.append(dl)
    out: list[dict] = []

    def add(start: int, end: int, name: str, kind: str | None, source: str,
            cued: bool = False) -> None:
        text = sentence[start:end]
        depot = bool(_DEPOT_BEFORE.search(sentence[:start]))
        pid, cands = gaz.resolve(text, name, prefer_kind="depot" if depot else None, cued=cued)
        if depot:  # "a depot near the city of X": the depot named after the town
            extra = gaz.named_like(name, kind="depot")
            cands = sorted(set(cands) | set(extra))
            pid = extra[0] if extra else pid
        if kind is None and pid is not None:
            kind = gaz.kinds.get(pid) or None
        taken.append((start, end))
        item = span_field(sentence, start, end, base=base, name=name, place_id=pid,
                          candidates=cands, kind=kind, resolved=pid is not None, lexicon=source)
        if depot:
            item["near_depot"] = True
        out.append(item)

    for start, end, _spelling in gaz.find(sentence):
        if not counts_as_name(sentence[start:end]):
            continue  # "and", "are", "unknown cargo", "Korea": words first, names second
        if not any(overlaps((start, end), t) for t in taken):
            add(start, end, sentence[start:end], None, "gazetteer")
    for m in _GENERIC.finditer(sentence):
        g = "name" if m.group("name") else "name2"
        s, e = m.start(g), m.end(g)
        if _NOT_PLACE.match(m.group(g)) or any(overlaps((s, e), t) for t in taken):
            continue
        if m.group(g).split()[0].lower() in COMMON_WORDS:
            continue  # "the port of North Korea": a country, not a place mention
        add(s, e, m.group(g), None, "context", cued=True)
    out.sort(key=lambda p: p["start"])
    return out
