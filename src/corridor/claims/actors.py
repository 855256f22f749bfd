"""Supplier and recipient: which country or organisation gives, which receives.

Actor mentions come from an alias lexicon (DPRK, North Korea, Pyongyang, "North
Korean", КНДР, 북한 → DPRK, the name the case files use; Russia, the Russian Federation, Moscow, the Kremlin,
"the Russian military" → Russia; ...). Roles come from the words around each mention,
in this order of precedence:

1. ``from X`` → supplier; ``to X`` / ``into X`` → recipient;
2. ``produced/made/supplied by X`` → supplier; ``in service with X`` / ``used by X`` → recipient;
3. X as subject of a giving verb (supplied, provided, delivered, shipped, sent, transferred,
   handed over, exported) → supplier, and an actor right after the verb ("supplied Russia
   with") → recipient;
4. X as subject of a receiving verb (received, obtained, acquired, imported, bought, is
   seeking, expects to receive) → recipient;
5. a nationality adjective before materiel ("North Korean arms") → supplier.

"between X and Y" gives no direction and is left as ``parties``. Rules over a small
lexicon rather than a statistical parser: no parser that installs offline knows these
aliases, and the rules' output can be explained word by word.

>>> r = find_roles("North Korea has supplied Russia with over 1,000 containers.")
>>> r["supplier"]["name"], r["recipient"]["name"], r["supplier"]["rule"]
('DPRK', 'Russia', 'subject_of_give')
>>> r = find_roles("Russia receives 122 mm shells from North Korea.")
>>> r["supplier"]["name"], r["recipient"]["name"]
('DPRK', 'Russia')
"""

from __future__ import annotations

import re

from corridor.claims.spans import overlaps, span_field

#: canonical name -> (ISO alpha-2 or org code, alias regexes). Adjectives are separate.
ACTORS: dict[str, tuple[str, list[str]]] = {
    "DPRK": ("KP", [r"the Democratic People'?s Republic of Korea", r"DPRK", r"North Korea",
                           r"N\. Korea", r"Pyongyang", r"Kim Jong[- ]Un'?s? regime",
                           r"Kim Jong[- ]Un", r"the North",
                           r"КНДР", r"Северн(?:ая|ой) Коре[яи]", r"북한", r"조선",
                           r"Північн(?:а|ої) Коре[яї]"]),
    "Russia": ("RU", [r"the Russian Federation", r"Russian Federation", r"Russia", r"Moscow",
                      r"the Kremlin", r"the Russians", r"Russians", r"(?:Vladimir )?Putin",
                      r"the Russian (?:military|army|armed forces|forces|troops|defen[cs]e ministry|"
                      r"Ministry of Defen[cs]e)", r"Russian (?:forces|troops|units)",
                      r"Росси[яи]", r"РФ", r"러시아", r"Росі[яї]"]),
    "Iran": ("IR", [r"Iran", r"Tehran", r"the Islamic Republic"]),
    "China": ("CN", [r"China", r"Beijing", r"the People'?s Republic of China"]),
    "Belarus": ("BY", [r"Belarus", r"Minsk"]),
    "Ukraine": ("UA", [r"Ukraine", r"Kyiv", r"Kiev", r"Ukrainian (?:forces|troops|army)", r"Україн[аи]"]),
    "Syria": ("SY", [r"Syria", r"Damascus"]),
    "United States": ("US", [r"the United States", r"Washington"]),
    "Wagner Group": ("ORG", [r"the Wagner (?:Group|PMC)", r"Wagner"]),
}
ADJECTIVES: dict[str, str] = {
    r"North Korean": "DPRK", r"Russian": "Russia", r"Iranian": "Iran", r"Chinese": "China",
    r"Belarusian": "Belarus", r"Ukrainian": "Ukraine", r"Syrian": "Syria",
}

_ALIAS_RE: list[tuple[re.Pattern, str]] = []
for _name, (_code, _aliases) in ACTORS.items():
    for _a in _aliases:
        _ALIAS_RE.append((re.compile(r"(?<![\w-])(?:" + _a + r")(?![\w-])"), _name))
_ALIAS_RE.sort(key=lambda x: -len(x[0].pattern))
_ADJ_RE = [(re.compile(r"(?<![\w-])" + a + r"(?:-(?:made|built|produced|supplied|origin))?(?![\w-])"), n)
           for a, n in ADJECTIVES.items()]

_GIVE = (r"supplied|supplies|supply|supplying|provided|provides|provide|providing|delivered|delivers|"
         r"deliver|delivering|shipped|ships|ship|shipping|sent|sends|send|sending|transferred|transfers|"
         r"transfer|transferring|handed over|hands over|hand over|handing over|exported|exports|export|"
         r"exporting|gave|gives|give|giving|sold|sells|sell|selling|moved|moves|funnel(?:l?ed|s)?|"
         r"dispatched|dispatches|has been supplying|has been shipping|has been sending")
_RECEIVE = (r"received|receives|receive|receiving|obtained|obtains|obtain|acquired|acquires|acquire|"
            r"imported|imports|import|importing|bought|buys|buy|buying|purchased|purchases|purchase|"
            r"is seeking|are seeking|was seeking|seeks|sought|seek|wants|wanted|got|gets|get|"
            r"took delivery of|takes delivery of|relies on|relied on|turned to|turns to|"
            r"fired|fires|fire|launched|launches|using|uses|used|employed|employs|deployed|deploys|"
            r"expects to receive|expected to receive|hopes to receive|is receiving|has been receiving|"
            r"asked for|asks for|requested|requests")
# Filler allowed between a subject and its verb ("has reportedly already").
_AUX = (r"(?:\s+(?:has|have|had|is|are|was|were|will|would|may|might|could|also|reportedly|allegedly|"
        r"already|likely|probably|apparently|now|since|then|been|begun|began|started|"
        r"continued to|continues to|began to|"
        r"begun to|started to|appears to|appear to|seems to|is believed to|is thought to|is said to|"
        r"is likely to|not only|only|be|pledged to|promised to|agreed to|offered to|plans to|"
        r"planned to|intends to|is preparing to|is ready to))*")
_GIVE_AFTER = re.compile(_AUX + r"\s+(?:" + _GIVE + r")\b", re.I)
_RECEIVE_AFTER = re.compile(_AUX + r"\s+(?:" + _RECEIVE + r")\b", re.I)
_MODIFIERS = re.compile(r"^\s+(?:[\w\-]+\s+){0,2}$")
_STEP_UP_AFTER = re.compile(
    _AUX + r"\s+(?:increased|expanded|stepped up|ramped up|resumed|continued|began|started|boosted)\s+"
    r"(?:[\w-]+\s+){0,2}(?:shipments|deliveries|exports|transfers|supplies|shipping)\b", re.I)
_FROM_BEFORE = re.compile(r"\b(?:from|out of|left|leaving|departed|departing|sailed from)\s+$", re.I)
_TO_BEFORE = re.compile(r"\b(?:to|into|for use by|destined for|bound for|headed for|for)\s+$", re.I)
_BY_BEFORE = re.compile(r"\b(?:produced|made|manufactured|supplied|provided|delivered|shipped|sent|"
                        r"transferred|exported|sold|built)\s+(?:\w+\s+)?by\s+$", re.I)
_WITH_BEFORE = re.compile(r"\b(?:in service with|used by|in the hands of|fired by|employed by|"
                          r"in use by|in the arsenal of|acquired by|received by|obtained by)\s+$", re.I)
_BETWEEN_BEFORE = re.compile(r"\bbetween\s+$", re.I)
_MATERIEL_AFTER = re.compile(
    r"\s+(?:-?made\s+)?(?:arms|weapons?|munitions?|ammunition|shells?|rockets?|missiles?|artillery|rounds?|"
    r"containers?|equipment|cargo(?!\s+(?:ships?|vessels?|trains?|planes?|flights?))|materiel|drones?|"
    r"supplies|ballistic|KN-?2\d|military (?:equipment|aid|"
    r"supplies|hardware))\b", re.I)


#: A place name that starts a news outlet's name ("The Washington Post", "the Moscow Times",
#: "Kyiv Independent", "China Daily") is the outlet, not the country or its government.
_OUTLET_AFTER = re.compile(
    r"\s+(?:Post|Times|Independent|Herald|Journal|Daily|Review|Tribune|Telegraph|Gazette|Today|"
    r"Insider|Observer|Free Press|News|Express|Pravda|International|Direct)\b")
#: Information handed to someone ("documents provided to", "imagery shared with") is not a
#: transfer of goods: the one who receives it is no recipient.
_INFO_GIVEN_TO = re.compile(
    r"\b(?:documents?|information|images?|imagery|data|footage|photos?|photographs|pictures|evidence|"
    r"details|records?|intelligence|findings|a copy|copies|analysis|the report|a report|statements?|"
    r"comments?|an interview|interviews|figures|estimates?|assessments?|satellite \w+)\b"
    r"(?:\s*,)?\s+(?:(?:that|which)\s+)?(?:(?:was|were|had been|have been|has been)\s+)?"
    r"(?:provided|given|shown|leaked|sent|passed|made available|supplied|shared|handed)\s+"
    r"(?:exclusively\s+)?(?:to|with)\s+$", re.I)


_ACCORDING_TO = re.compile(r"\baccording\s+to\s+$", re.I)


def find_actors(sentence: str, base: int = 0) -> list[dict]:
    """Actor mentions: span, ``name`` (canonical), ``code`` and ``form`` (noun|adjective).

    A place name that begins a news outlet's name ("The Washington Post") is not an actor.

    >>> [a["name"] for a in find_actors("Images provided to The Washington Post show Russia's ships")]
    ['Russia']
    """
    taken: list[tuple[int, int]] = []
    out = []
    # noun mentions first; an adjective overlapping one is not taken
    for patterns, form in ((_ALIAS_RE, "noun"), (_ADJ_RE, "adjective")):
        for rx, name in patterns:
            for m in rx.finditer(sentence):
                span = (m.start(), m.end())
                if any(overlaps(span, t) for t in taken):
                    continue
                taken.append(span)
                if form == "noun" and _OUTLET_AFTER.match(sentence, m.end()):
                    continue  # "The Washington Post": an outlet, and no other actor either
                out.append(span_field(sentence, m.start(), m.end(), base=base, name=name,
                                      code=ACTORS[name][0], form=form))
    out.sort(key=lambda a: a["start"])
    return out


def _role(sentence: str, a: dict, base: int, materiel_starts: tuple[int, ...] = ()
          ) -> tuple[str | None, str | None]:
    """(role, rule) for one actor mention from its context."""
    s, e = a["start"] - base, a["end"] - base
    before, after = sentence[:s], sentence[e:]
    before_np = re.sub(r"(?:\bthe\s+)$", "", before, flags=re.I)
    if a["form"] == "adjective":
        # "North Korean 170 mm self-propelled guns": materiel within two modifier words
        near = any(ms > e and _MODIFIERS.match(sentence[e:ms]) for ms in materiel_starts)
        if _MATERIEL_AFTER.match(after) or near:
            if _TO_BEFORE.search(before_np):
                return None, None
            return "supplier", "origin_adjective"
        if _ACCORDING_TO.search(before_np):
            return None, None  # "according to the Ukrainian military": a source, not a recipient
        if _TO_BEFORE.search(before_np) and re.match(
                r"\s+(?:depots?|arsenals?|forces|ports?|military|army|troops|units|bases?)\b", after, re.I):
            return "recipient", "to"
        if re.match(r"\s+(?:military|army|armed forces|forces|troops|defen[cs]e ministry)\b", after, re.I):
            # "the Russian military" as a noun phrase
            if _WITH_BEFORE.search(before_np):
                return "recipient", "in_service_with"
            if _TO_BEFORE.search(before_np):
                return "recipient", "to"
        return None, None
    if _BETWEEN_BEFORE.search(before_np):
        return "party", "between"
    if _FROM_BEFORE.search(before_np):
        return "supplier", "from"
    if _BY_BEFORE.search(before_np):
        return "supplier", "by"
    if _WITH_BEFORE.search(before_np):
        return "recipient", "in_service_with"
    if re.search(r"\bby\s+$", before_np) and re.search(r"\b(?:" + _GIVE + r")\b", before_np, re.I):
        return "supplier", "by"
    if _TO_BEFORE.search(before_np):
        if _INFO_GIVEN_TO.search(before_np) or _ACCORDING_TO.search(before_np):
            return None, None  # "documents provided to X": information, not a transfer
        return "recipient", "to"
    if _GIVE_AFTER.match(after):
        return "supplier", "subject_of_give"
    if _STEP_UP_AFTER.match(after):
        return "supplier", "subject_of_give"
    if _RECEIVE_AFTER.match(after):
        return "recipient", "subject_of_receive"
    if re.search(r"\b(?:" + _GIVE + r")\s+$", before_np, re.I):
        return "recipient", "object_of_give"
    if re.match(r"'s\s+(?:\w+\s+){0,2}(?:arms|weapons|munitions|shells|missiles|exports?|deliveries|"
                r"shipments|supplies)\b", after, re.I):
        return "supplier", "possessive"
    return None, None


def find_roles(sentence: str, base: int = 0, actors: list[dict] | None = None,
               materiel: list[dict] | None = None) -> dict:
    """Supplier, recipient and other mentions for one sentence.

    Returns ``{"supplier": field|None, "recipient": field|None, "parties": [...],
    "mentions": [...]}``; each role field is an actor mention plus the ``rule`` that gave
    the role. When two mentions claim a role, the first in the text wins. ``materiel``
    (from :func:`~corridor.claims.materiel.find_materiel`) lets a nationality adjective
    reach a noun behind modifiers ("North Korean 170 mm self-propelled guns").
    """
    if actors is None:
        actors = find_actors(sentence, base)
    result: dict = {"supplier": None, "recipient": None, "parties": [], "mentions": actors}
    starts = tuple(m["start"] - base for m in materiel or [])
    for a in actors:
        role, rule = _role(sentence, a, base, starts)
        if role == "party":
            result["parties"].append(dict(a, rule=rule))
        elif role in ("supplier", "recipient") and result[role] is None:
            other = "recipient" if role == "supplier" else "supplier"
            if result[other] is not None and result[other]["name"] == a["name"]:
                continue
            result[role] = dict(a, rule=rule)
    # "between X and Y": the second party follows "and" — also a party.
    if result["parties"]:
        for a in actors:
            p = result["parties"][0]
            if a["start"] > p["start"] and re.match(r"^\s+and\s+(?:the\s+)?$",
                                                   sentence[p["end"] - base:a["start"] - base]):
                result["parties"].append(dict(a, rule="between"))
                break
    return result
