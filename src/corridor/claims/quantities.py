"""Quantities ("more than 1,000 containers") and distances ("290 kilometers from Ukraine").

A quantity is a number (digits, "1.5 million", number words, or a vague plural such as
"millions of") with an optional qualifier before it and a counted unit right after it:
a materiel noun from :mod:`corridor.claims.materiel`, a transport unit (ships, trains,
wagons, shipments, round trips) or a weight (tons). A number with no unit is not a
quantity: years, calibres, dates and distances are excluded by span.

Hand-written grammar rather than a quantity-parsing library: the available parsers
(quantulum and the like) are unmaintained, need model files, and know nothing of
"twenty-foot containers" or qualifiers such as "in excess of"; these few rules are short,
fast and every decision is visible.

Vague plurals are ranges from one of the unit: "dozens" = 12–99, "hundreds" = 100–999,
"thousands" = 1,000–9,999, "tens of thousands" = 10,000–99,999, "hundreds of thousands" =
100,000–999,999, "millions" = 1,000,000–9,999,999; the ``quantity`` is the low end, the
qualifier ``at_least`` and the field carries ``low``, ``high`` and ``vague: true``.

"Not one but two ships" is 2: a number followed by "but" and another number is corrected
by it (the gap between a number and its unit may hold neither "but" nor a number).

>>> q = find_quantities("North Korea sent more than 1,000 containers of munitions.")[0]
>>> q["value"], q["qualifier"], q["unit"], [c["text"] for c in q["contents"]]
(1000.0, 'more_than', 'containers', ['munitions'])
>>> [q["text"] for q in find_quantities("Two ships carried approximately 200 new shipping containers")]
['approximately 200 new shipping containers', 'Two ships']
>>> d = find_distances("a depot 290 kilometers from Ukraine")[0]
>>> d["value_km"], d["to"]["text"]
(290.0, 'Ukraine')
"""

from __future__ import annotations

import re

from corridor.claims.materiel import calibre_spans, find_materiel
from corridor.claims.spans import overlaps, span_field

QUALIFIERS: list[tuple[str, str]] = [
    (r"more than|in excess of|upwards of|well over|just over|over|above", "more_than"),
    (r"at least|no fewer than|no less than|a minimum of", "at_least"),
    (r"up to|as many as|as much as|no more than|at most|a maximum of", "up_to"),
    (r"fewer than|less than|just under|under", "less_than"),
    (r"about|around|approximately|approx\.|roughly|nearly|almost|close to|an estimated|estimated|"
     r"some|circa|~", "about"),
]
_QUAL_RE = "|".join(f"(?:{p})" for p, _ in QUALIFIERS)

_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "a hundred": 100, "a thousand": 1000, "a million": 1e6, "a dozen": 12, "half a million": 5e5,
    "a few hundred": 300, "a few thousand": 3000, "a few million": 3e6,
    "several hundred": 300, "several thousand": 3000, "several million": 3e6, "a couple of": 2,
}
_SCALES = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9, "mn": 1e6, "bn": 1e9}
# Vague plurals: (regex, low, high). The low end is one of the unit ("thousands" >= 1,000),
# not two: reports use the plural loosely for any count past the first unit ("thousands of
# containers" for 1,500 moved, where another source says "more than 1,000"), and the value is
# the bound a claim is tested against (``at_least``), so it must not exceed what the words
# allow. One rule for every plural, so "thousands" and "millions of rounds" agree.
_VAGUE: list[tuple[str, float, float]] = [
    (r"hundreds of thousands", 1e5, 999_999),
    (r"tens of thousands", 1e4, 99_999),
    (r"tens of millions", 1e7, 99_999_999),
    (r"millions", 1e6, 9_999_999),
    (r"thousands", 1e3, 9_999),
    (r"hundreds", 100, 999),
    (r"dozens", 12, 99),
]
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_WORD_RE = "|".join(sorted((re.escape(w) for w in _WORDS), key=len, reverse=True))
_SCALE_RE = r"(?:\s*-?\s*(?:hundred|thousand|million|billion|mn|bn)\b)"
_VAGUE_RE = "|".join(p for p, _, _ in _VAGUE)
NUMBER_RE = re.compile(
    r"(?<![\w\-./,])(?:(?P<qual>" + _QUAL_RE + r")\s+)?"
    r"(?P<num>(?P<vague>" + _VAGUE_RE + r")|(?:(?P<digits>" + _DIGITS + r")|(?P<word>" + _WORD_RE + r"))"
    r"(?P<scale>" + _SCALE_RE + r")?)(?![\w%])"
    r"(?!-(?:day|week|month|year|hour|minute|mile|km|kilomet|foot|ft|metre|meter|ton|strong|man)\b)",
    re.IGNORECASE,
)

_TRANSPORT = (
    r"(?:cargo |container |merchant )?(?:ships?|vessels?)|(?:freight |cargo )?trains?|"
    r"rail ?cars?|railcars?|(?:freight )?wagons?|freight cars?|(?:cargo )?shipments?|deliveries|"
    r"voyages?|round[- ]trips?|trips?|port calls?|ship ?loads?|truckloads?|trucks?|flights?"
)
# Other things reports count: places ("three sites"), vehicles and what is packed.
_COUNTED = (
    r"sites?|locations?|facilities|facility|depots?|warehouses?|storage sites?|bases?|"
    r"(?:military |armou?red )?vehicles?|launchers?|launch vehicles?|crates?|pallets?|boxes|"
    r"barrels?|batteries|systems?|units?|pieces?|aircraft|helicopters?"
)
_WEIGHT = r"(?:metric )?(?:tons?|tonnes?)\b|kilograms?|kg\b"
_UNIT_RE = re.compile(r"\b(?:" + _TRANSPORT + r"|" + _COUNTED + r")\b|\b(?:" + _WEIGHT + r")",
                      re.IGNORECASE)
# Between a number and its unit: at most three modifier words ("standard twenty-foot"),
# optionally "of" ("millions of rounds"); no clause words.
_GAP_RE = re.compile(
    r"^[\s\-]*(?:of\s+)?(?:(?!(?:and|or|but|nor|than|to|from|in|by|with|for|on|at|per|a|the|each|was|were|"
    r"is|are)\b)(?!\d)"
    r"[\w\-]+\s+){0,3}$",
    re.IGNORECASE,
)
_CONTAINERS_OF = re.compile(r"\s+(?:of|carrying|with|loaded with|filled with|containing)\s+", re.IGNORECASE)
_LIST_GAP = re.compile(r"^(?:\s*(?:,|and|or|other|various|military|heavy|\(.*?\))\s*)*$", re.IGNORECASE)

_PHRASAL_OVER = re.compile(r"\b(?:hand(?:ed|s|ing)?|turn(?:ed|s|ing)?|pass(?:ed|es|ing)?|took|taken|"
                           r"take|takes|taking|sign(?:ed|s|ing)?|give|gave|given|giving)\s+$", re.I)
DISTANCE_RE = re.compile(
    r"(?<![\w\-./,])(?:(?P<qual>" + _QUAL_RE + r")\s+)?(?P<num>" + _DIGITS + r")\s*-?\s*"
    r"(?P<unit>km|kilomet(?:er|re)s?|nautical miles|miles?|nm|mi)\b"
    r"(?P<rel>\s+(?:(?:away|north|south|east|west|north-?east|north-?west|south-?east|south-?west)\s+)?"
    r"(?:from|of|to|short of|inside)\s+)?",
    re.IGNORECASE,
)
_DIST_TARGET = re.compile(
    r"(?:the\s+)?(?:(?:town|city|village|port|border|front|frontline)\s+(?:of|with)\s+)?"
    r"(?:(?:[A-Z][\w'\-]+)(?:\s+(?:[A-Z][\w'\-]+))*(?:\s+(?:border|front(?:\s+line)?|frontline))?"
    r"|(?:[\w\-]+\s+){0,2}(?:border|front(?:\s+line)?|frontline))"
)
_KM_PER = {"km": 1.0, "kilometer": 1.0, "kilometre": 1.0, "mile": 1.609344, "mi": 1.609344,
           "nautical mile": 1.852, "nm": 1.852}


def qualifier_of(text: str | None) -> str:
    """Normalised qualifier: more_than, at_least, up_to, less_than, about, or exact.

    >>> qualifier_of("In excess of"), qualifier_of(None)
    ('more_than', 'exact')
    """
    if not text:
        return "exact"
    for pattern, name in QUALIFIERS:
        if re.fullmatch(pattern, text.strip(), re.IGNORECASE):
            return name
    return "exact"


def number_value(m: re.Match) -> tuple[float, float | None, float | None]:
    """(value, low, high) of a NUMBER_RE match; low/high only for vague plurals."""
    if m.group("vague"):
        key = m.group("vague").lower()
        for pattern, low, high in _VAGUE:
            if re.fullmatch(pattern, key):
                return low, low, high
    if m.group("digits"):
        value = float(m.group("digits").replace(",", ""))
    else:
        value = float(_WORDS[re.sub(r"\s+", " ", m.group("word").lower())])
    if m.group("scale"):
        value *= _SCALES[m.group("scale").strip(" -").lower()]
    return value, None, None


def _unit_key(text: str, category: str | None = None) -> str:
    """Unit as counted: "containers" for any container size, "tonnes" for any ton."""
    t = re.sub(r"\s+", " ", text.lower())
    if category == "containers":
        return "containers"
    t = re.sub(r"^(?:heavy|cargo|freight|merchant|container|standard) ", "", t)
    if not re.fullmatch(r"round[- ]trips?|port calls?|ship ?loads?|artillery pieces?|rail ?cars?|"
                        r"freight cars?|(?:metric )?(?:tons?|tonnes?)", t):
        t = t.split()[-1] if t.split() else t  # the head noun: "KN-23 missiles" -> "missiles"
    if re.search(r"tons?|tonnes?", t):
        return "tonnes"
    if t in ("kg", "kilogram", "kilograms"):
        return "kg"
    return t


def find_distances(sentence: str, base: int = 0) -> list[dict]:
    """Distances with the place they are measured from ("290 km from Ukraine").

    Each item: the whole phrase's span, ``value`` and ``unit`` as written, ``value_km``,
    ``qualifier`` and ``to`` (the reference place or line, with its own span) if stated.
    """
    out = []
    for m in DISTANCE_RE.finditer(sentence):
        unit = m.group("unit").lower().rstrip("s")
        if unit.startswith("kilomet"):
            unit = "km"
        value = float(m.group("num").replace(",", ""))
        end = m.end("unit")
        item = span_field(sentence, m.start(), end, base=base, value=value, unit=unit,
                          value_km=round(value * _KM_PER.get(unit, 1.0), 3),
                          qualifier=qualifier_of(m.group("qual")))
        if m.group("rel"):
            t = _DIST_TARGET.match(sentence, m.end())
            if t and t.end() > t.start():
                item["to"] = span_field(sentence, t.start(), t.end(), base=base)
                end = t.end()
        item.update(span_field(sentence, m.start(), end, base=base))
        out.append(item)
    return out


def find_quantities(
    sentence: str,
    base: int = 0,
    materiel: list[dict] | None = None,
    exclude: list[tuple[int, int]] | None = None,
) -> list[dict]:
    """Counted quantities in ``sentence``; see the module docstring.

    ``materiel`` is the output of :func:`find_materiel` for the same sentence and ``base``
    (computed if omitted); ``exclude`` lists spans (relative to ``sentence``) whose numbers
    are not quantities (dates, distances). Each item: span of qualifier+number+unit,
    ``value``, ``qualifier``, ``unit``, ``number`` (span of the number), ``unit_span``,
    ``materiel_category`` of the unit when it is materiel, and ``contents`` (materiel
    after "containers of ..."). Cargo quantities (materiel, tonnes) come first, then the
    others (ships, trains, trips), each in text order.
    """
    if materiel is None:
        materiel = find_materiel(sentence, base)
    skip = list(exclude or []) + calibre_spans(sentence)
    skip += [(d["start"] - base, d["end"] - base) for d in find_distances(sentence, base)]
    units: list[tuple[int, int, dict | None]] = [
        (m["start"] - base, m["end"] - base, m) for m in materiel
    ]
    for u in _UNIT_RE.finditer(sentence):
        if not any(overlaps((u.start(), u.end()), (s, e)) for s, e, _ in units):
            units.append((u.start(), u.end(), None))
    units.sort(key=lambda x: x[0])
    out = []
    for m in NUMBER_RE.finditer(sentence):
        nspan = (m.start("num"), m.end("num"))
        if any(overlaps(nspan, s) for s in skip):
            continue
        unit = next(
            (u for u in units if nspan[1] <= u[0] <= nspan[1] + 60
             and _GAP_RE.match(sentence[nspan[1]:u[0]])), None
        )
        if unit is None:
            continue
        ustart, uend, mat = unit
        unit_text = sentence[ustart:uend]
        if mat is not None and mat.get("calibre_mm") and mat["start"] - base != ustart:
            unit_text = mat["term"]
        value, low, high = number_value(m)
        qual = qualifier_of(m.group("qual"))
        if (m.group("qual") or "").lower() == "over" and _PHRASAL_OVER.search(sentence[:m.start()]):
            qual = "exact"  # "handed over 50 guns": the verb's particle, not "more than"
        if qual == "exact" and m.group("word") and re.match(r"(?:several|a few|a couple)", m.group("word"),
                                                            re.I):
            qual = "about"  # "several thousand" is an estimate
        if low is not None:
            qual = "at_least"
        item = span_field(sentence, m.start(), uend, base=base, value=value, qualifier=qual,
                          unit=_unit_key(re.sub(r"^(?:\d+\s?-?\s?mm\s*)+", "", unit_text),
                                         mat["category"] if mat else None),
                          number=span_field(sentence, nspan[0], nspan[1], base=base),
                          unit_span=span_field(sentence, ustart, uend, base=base))
        if m.group("qual"):
            item["qualifier_span"] = span_field(sentence, m.start("qual"), m.end("qual"), base=base)
        if low is not None:
            item.update(low=low, high=high, vague=True)
        if mat is not None:
            item["materiel_category"] = mat["category"]
            if mat.get("calibre_mm"):
                item["calibre_mm"] = mat["calibre_mm"]
            size = re.match(r"(twenty|20|forty|40)", unit_text, re.IGNORECASE)
            if mat["category"] == "containers" and size:
                item["container_ft"] = 20 if size.group(1).lower() in ("twenty", "20") else 40
        contents = []
        tail = _CONTAINERS_OF.match(sentence, uend)
        if tail:
            pos = tail.end()
            for mm in materiel:
                s = mm["start"] - base
                if s < pos:
                    continue
                if not _LIST_GAP.match(sentence[pos:s]):
                    break
                contents.append(mm)
                pos = mm["end"] - base
        item["contents"] = contents
        out.append(item)
        skip.append((m.start(), uend))
    # What was carried before what carried it: in "two ships delivered approximately 200 new
    # shipping containers" the claim's quantity is the 200 containers, not the 2 ships.
    out.sort(key=lambda q: (0 if (q.get("materiel_category") or q["contents"]
                                  or q["unit"] == "tonnes") else 1, q["start"]))
    return out
