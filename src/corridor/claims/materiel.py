"""Materiel: what is said to be transferred (containers, shells by calibre, rockets, ...).

A fixed English lexicon of weapon and cargo terms, each with a category, plus calibres
("122 mm", "152-mm", "122mm") attached to the noun they qualify and named systems
(R-122, KN-23, Hwasong-11) carrying their calibre or class. The lexicon is hand-written
because no offline library knows military materiel; it is ordered so that the longest,
most specific phrase wins ("ballistic missile production equipment" before "missile").

>>> [m["category"] for m in find_materiel("122 mm and 152 mm shells and 122mm rockets")]
['artillery_ammunition', 'artillery_ammunition', 'rockets']
>>> [m.get("calibre_mm") for m in find_materiel("122 mm and 152 mm shells and 122mm rockets")]
[122, 152, 122]
"""

from __future__ import annotations

import re

from corridor.claims.spans import overlaps, span_field

# (regex, category). Order matters: earlier entries win where matches overlap.
_LEXICON: list[tuple[str, str]] = [
    (r"ballistic[- ]missile production equipment|missile production equipment", "production_equipment"),
    (r"(?:military |technical |economic |humanitarian )?(?:assistance|aid)\b", "assistance"),
    (r"(?:twenty|20|forty|40)[- ]?(?:foot|ft)(?: shipping)? containers?|shipping containers?|"
     r"TEUs?\b|containers?", "containers"),
    (r"multiple (?:launch )?rocket (?:launchers?|systems?)|rocket launchers?", "launchers"),
    (r"R-?122\b|BM-21(?: Grad)? rockets?|Grad rockets?|(?:MLRS|MRL|artillery|multiple[- ]launch) rockets?|"
     r"rockets?", "rockets"),
    (r"KN-?2[345]\b|Hwasong-?1[1-9][A-Za-z]*|(?:short|close|medium)-range ballistic missiles?|"
     r"ballistic missiles?|surface-to-air missiles?|SAMs\b|anti-tank (?:guided )?missiles?|ATGMs?\b|"
     r"cruise missiles?|air[- ]defen[cs]e (?:missiles?|systems?)|missiles?", "missiles"),
    (r"multiple (?:launch )?rocket (?:launchers?|systems?)|rocket launchers?|MLRS\b|MRLs?\b|launchers?",
     "launchers"),
    (r"fighter (?:aircraft|jets?|planes?)|combat aircraft|warplanes?|aircraft|helicopters?", "aircraft"),
    (r"drones?|UAVs?\b|Shahed(?:-\d+)?", "drones"),
    (r"armou?red (?:vehicles?|personnel carriers?)|infantry fighting vehicles?|IFVs?\b|APCs?\b|tanks\b",
     "armoured_vehicles"),
    (r"(?:heavy )?artillery (?:pieces?|systems?|guns?)|self-propelled (?:guns?|howitzers?)|howitzers?|"
     r"Koksan(?: guns?)?|M-?1989\b|field guns?", "artillery_systems"),
    (r"(?:artillery |tank |mortar |cannon )?(?:shells?|projectiles?)|(?:artillery |mortar |tank )?rounds?"
     r"(?! (?:of talks|trips?|of sanctions|of negotiations))", "artillery_ammunition"),
    (r"artillery (?:ammunition|munitions)", "artillery_ammunition"),
    (r"(?:ammunition|munitions?|ammo\b)(?!\s+(?:depots?|bases?|dumps?|plants?|factor(?:y|ies)|stores?|"
     r"arsenals?|warehouses?|storage))", "munitions"),
    (r"explosives?", "explosives"),
    (r"small arms|rifles?|machine[- ]guns?|anti-tank weapons?", "small_arms"),
    (r"(?:heavy |conventional )?weapons?|arms\b|weaponry", "weapons"),
    (r"(?:military |defen[cs]e )?(?:equipment|hardware)|materiel|"
     r"(?:advanced |military |space |nuclear )?technolog(?:y|ies)|spare parts|components",
     "equipment"),
    (r"(?:refined )?petroleum(?: products)?|crude oil|oil\b|fuel|food|wheat|grain|coal", "commodities"),
    (r"(?:unknown |unidentified |military )?cargo(?!\s+(?:ships?|vessels?|shipments?|trains?|planes?|"
     r"flights?|aircraft))|supplies", "cargo"),
]

_COMPILED = [(re.compile(r"\b(?:" + p + r")", re.IGNORECASE), cat) for p, cat in _LEXICON]

#: Calibre in millimetres: "122 mm", "152-mm", "122mm", "122-millimetre".
CALIBRE_RE = re.compile(r"\b(\d{2,3})\s?-?\s?(?:mm|millimet(?:er|re)s?)\b", re.IGNORECASE)
# Words allowed between a calibre and its noun ("152 mm artillery shells", "122 mm and 152 mm shells").
_CALIBRE_GAP = re.compile(
    r"^\s*(?:\s*(?:and|or|,|/|artillery|high-explosive|HE|guided|unguided|cannon|howitzer)\s*)*$",
    re.IGNORECASE,
)
_NAMED_CALIBRE = {"R122": 122, "BM21": 122, "GRAD": 122}


def _named_calibre(text: str) -> int | None:
    key = re.sub(r"[^A-Z0-9]", "", text.upper())
    for name, cal in _NAMED_CALIBRE.items():
        if key.startswith(name):
            return cal
    return None


def find_materiel(sentence: str, base: int = 0, exclude: list[tuple[int, int]] | None = None) -> list[dict]:
    """Materiel mentions in ``sentence`` (offsets shifted by ``base``), in text order.

    Each item: ``text``/``start``/``end`` (the noun phrase, including a calibre that
    qualifies it), ``category``, ``term`` (the lexicon word, lower case) and
    ``calibre_mm`` when one applies. A noun qualified by several calibres ("122 mm and
    152 mm shells") yields one item per calibre. Spans listed in ``exclude`` (relative to
    ``sentence``) are not matched.
    """
    taken: list[tuple[int, int]] = list(exclude or [])
    hits: list[tuple[int, int, str]] = []
    for rx, cat in _COMPILED:
        for m in rx.finditer(sentence):
            span = (m.start(), m.end())
            if any(overlaps(span, t) for t in taken):
                continue
            taken.append(span)
            hits.append((m.start(), m.end(), cat))
    hits.sort()
    hits = _merge_adjacent(sentence, hits)
    calibres = list(CALIBRE_RE.finditer(sentence))
    out: list[dict] = []
    for start, end, cat in hits:
        term = sentence[start:end]
        if cat == "launchers" and re.search(r"\bfor\s+$", sentence[:start]):
            continue  # "rockets for MRL": the launcher is the rockets' purpose, not cargo
        cals = _qualifying_calibres(sentence, start, calibres)
        named = _named_calibre(term)
        if cals and cat in _CALIBRED:
            if cat == "munitions":
                cat = "artillery_ammunition"
            for c in cals:
                out.append(span_field(sentence, c.start(), end, base=base, category=cat,
                                      term=term.lower(), calibre_mm=int(c.group(1))))
        else:
            item = span_field(sentence, start, end, base=base, category=cat, term=term.lower())
            if named:
                item["calibre_mm"] = named
            out.append(item)
    return out


_CALIBRED = ("artillery_ammunition", "rockets", "munitions", "artillery_systems", "launchers", "weapons")


def _qualifying_calibres(sentence: str, noun_start: int, calibres: list[re.Match]) -> list[re.Match]:
    """Calibres that qualify the noun at ``noun_start``: a run like "122 mm and 152 mm"."""
    found: list[re.Match] = []
    pos = noun_start
    for c in reversed(calibres):
        if c.end() > pos:
            continue
        if not _CALIBRE_GAP.match(sentence[c.end():pos]):
            break
        found.append(c)
        pos = c.start()
    found.reverse()
    return found


def _merge_adjacent(sentence: str, hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Join a name and its class noun ("R-122 rocket", "KN-23 missiles") into one mention."""
    out: list[tuple[int, int, str]] = []
    for start, end, cat in hits:
        if out and out[-1][2] == cat and sentence[out[-1][1]:start].strip() == "":
            out[-1] = (out[-1][0], end, cat)
        else:
            out.append((start, end, cat))
    return out


def calibre_spans(sentence: str) -> list[tuple[int, int]]:
    """Spans of calibre expressions (so the quantity recogniser can ignore their numbers).

    >>> calibre_spans("152-mm shells")
    [(0, 6)]
    """
    return [(m.start(), m.end()) for m in CALIBRE_RE.finditer(sentence)]
