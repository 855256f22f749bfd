"""Attribution: who says so, in what role, and on what basis.

Three kinds of cue, all with spans:

- a named speaker next to a speech verb, with a role from an apposition ("John Kirby,
  U.S. Coordinator for Strategic Communications ..., said"; "The Chief of the Defense
  Intelligence of Ukraine, Kyrylo Budanov, assures") or a title before the name
  ("Defence Minister Shin Won-sik said");
- an organisation as the source ("the White House published", "according to RUSI",
  "U.S. officials said");
- the basis of the statement: ``intelligence`` ("according to our information"),
  ``assessment`` ("we assess"), ``imagery`` ("satellite images revealed"), ``tracking``
  (AIS / ship-tracking data), ``documents``, ``estimate``.

Pronouns ("he added"), surnames ("Kirby said") and "the U.S. official" are resolved to
the last named speaker of the same report by :class:`SpeakerRegistry`, and the field
says so (``resolved_from``). Hand-written patterns for the same reason as the rest of
:mod:`corridor.claims`: offline, fast and every decision traceable to words.

>>> reg = SpeakerRegistry()
>>> a = find_attribution("John Kirby, U.S. Coordinator at the NSC, said this on October 13.", reg)
>>> a["speaker"]["name"], a["role"]["text"]
('John Kirby', 'U.S. Coordinator at the NSC')
>>> a = find_attribution('"We assess that Pyongyang is seeking aircraft," he added.', reg)
>>> a["speaker"]["name"], a["speaker"]["resolved_from"]["text"], [b["kind"] for b in a["basis"]]
('John Kirby', 'he', ['assessment'])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from corridor.claims.spans import span_field

SPEECH = (r"said|says|say|told(?: reporters)?|tells|stated|states|noted|notes|added|adds|assures|assured|"
          r"claimed|claims|announced|announces|wrote|writes|reported|reports|confirmed|confirms|warned|"
          r"warns|estimated|estimates|assessed|assesses|believes|believed|alleged|alleges|revealed|"
          r"reveals|showed|shows|show|published|publishes|found|finds|argued|argues|explained|insisted|"
          r"testified|stressed|emphasi[sz]ed|indicated|indicates|concluded|concludes|documented|"
          r"observed|identified|tracked|briefed|disclosed|suggests|suggested|denied|denies|counted|"
          r"counts|report")
_SPEECH_RE = re.compile(r"\b(?:" + SPEECH + r")\b")
_TOKEN = r"(?:[A-Z][a-z]+(?:-[a-z]+)?|[A-Z]\.)"
NAME_RE = re.compile(r"(?<![\w.])" + _TOKEN + r"(?:\s+(?:" + _TOKEN + r"|de|van|von|bin)){1,3}(?![\w-])")
_NOT_NAME = re.compile(
    r"\b(?:The|A|An|In|On|At|According|First|Then|But|And|This|That|These|Those|White|House|Council|"
    r"Ministry|Department|Agency|Service|Intelligence|Security|Defen[cs]e|Office|Staff|Forces|Army|Navy|"
    r"Command|Republic|Federation|Korea|Korean|Russia|Russian|States|United|Sea|Krai|Institute|Center|"
    r"Centre|Group|News|Post|Times|Street|Journal|Strategic|Communications|National|Chief|Minister|"
    r"Secretary|Coordinator|Spokesperson|Spokesman|President|General|Photo|Ukraine|Ukrainian|Japan|"
    r"China|Iran|Pyongyang|Moscow|Kremlin|October|September|August|November|December|January|July|June|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Panel|Experts|Nations|Weapons|Tracker|"
    r"Beyond|Parallel|Open|Source|Centre|Satellite|Planet|Maxar|Our|We|They|He|She|It|Illustration|"
    r"Summer|Winter|Defence|Pentagon|Pier|Port|Rail|Bay)\b")
_TITLE = (r"(?:(?:[A-Z][a-z]+|U\.S\.|US|ROK|South Korean|Ukrainian|Russian|Deputy|Vice|Prime|Foreign|"
          r"Defen[cs]e|National|Security|Press|White House)\s+)*(?:Minister|Secretary|Spokesperson|Spokesman|"
          r"Spokeswoman|Director|Chief|General|Gen\.|President|Ambassador|Coordinator|Admiral|Adm\.|"
          r"Colonel|Col\.|Representative|Rep\.|Senator|Sen\.|Lawmaker|lawmaker|analyst|researcher|"
          r"Commander|Adviser|Advisor|official|Official)")
_TITLE_BEFORE = re.compile(r"(?P<title>" + _TITLE + r")\s+$")
ORGS = (
    r"(?:the\s+)?White House|(?:the\s+)?National Security Council|NSC|(?:the\s+)?Pentagon|"
    r"(?:the\s+)?(?:U\.S\.|US)\s+(?:State Department|Department of State|Treasury|Department of Defense|"
    r"intelligence(?: community)?|government|military|administration)|(?:the\s+)?State Department|"
    r"South Korea'?s? (?:National Intelligence Service|NIS|Ministry of (?:National )?Defen[cs]e|Defen[cs]e "
    r"Ministry|Joint Chiefs of Staff|Defen[cs]e Intelligence Agency|military|spy agency|government)|"
    r"(?:the\s+)?(?:National Intelligence Service|NIS|Joint Chiefs of Staff)|Seoul|"
    r"Ukraine'?s? (?:military intelligence|Defen[cs]e Intelligence|HUR|GUR|government|military|Ministry of "
    r"Defen[cs]e|Defen[cs]e Ministry)|(?:the\s+)?(?:HUR|GUR)|RUSI|CSIS|C4ADS|"
    r"(?:the\s+)?Open Source Cent(?:re|er)|"
    r"OSC|(?:the\s+)?UN Panel of Experts|(?:the\s+)?Panel of Experts|MSMT|(?:the\s+)?Multilateral "
    r"Sanctions Monitoring Team|Reuters|Yonhap|(?:The\s+)?Washington Post|Bloomberg|Sky News|"
    r"Conflict Armament Research|Beyond Parallel|38 North|NK Pro|ISW|(?:the\s+)?Institute for the Study "
    r"of War|(?:(?:U\.S\.|US|American|South Korean|Ukrainian|Western|senior|intelligence|defen[cs]e|"
    r"government|military)\s+){1,3}officials?|officials|analysts|researchers|sources|"
    r"(?:the\s+)?(?:South Korean|Ukrainian|Japanese|British|U\.S\.|US) (?:military intelligence|military|"
    r"government|intelligence|defen[cs]e ministry)"
)
_ORG_RE = re.compile(r"(?<![\w])(?:" + ORGS + r")(?![\w])")
_ACCORDING = re.compile(r"\b[Aa]ccording to\s+(?P<src>[^,.;]{2,80})")
_BASIS: list[tuple[str, str]] = [
    (r"according to our information|our information (?:indicates|shows|suggests)|we (?:have|had) "
     r"information", "intelligence"),
    (r"\bwe (?:assess|judge|believe|estimate)\b|\b(?:assess(?:ed|es)?|assessment)\b", "assessment"),
    (r"satellite (?:images?|imagery|photos?|pictures?)|commercial imagery|imagery", "imagery"),
    (r"AIS (?:data|signals?|transmissions?)|ship[- ]tracking(?: data)?|tracking data|transponder data",
     "tracking"),
    (r"\b(?:documents?|records|manifests?|customs data)\b", "documents"),
    (r"\bestimates?\b|\bestimated\b", "estimate"),
    (r"\b(?:graphs?|graphics?|maps?|images?) (?:showing|show|released|published)\b|published (?:graphs?|"
     r"images?|maps?|graphics?)", "publication"),
]
_BASIS_RE = [(re.compile(p, re.I), k) for p, k in _BASIS]
_NP = r"(?P<np>(?:(?:[Tt]he|[Aa]n?)\s+)?(?:[\w'\-.]+\s+){0,4}?[\w'\-.]+)"
_GENERIC_SOURCE_END = re.compile(r",[\"”]?\s+" + _NP + r"\s+(?:also\s+)?(?:" + SPEECH + r")\.?[\"”]?\s*$")
_GENERIC_SOURCE_START = re.compile(_NP + r"\s+(?:(?:has|have|also)\s+)?(?:says|say|said|found|counted|"
                                   r"reported|denied|estimates|estimated|assessed|claims|claimed)\b(?!\s+(?:to|by))")
#: Noun phrases that are not a source: the words of a cue ("according to the report") or a
#: pronoun ("which found", "it said").
_NOT_SOURCE = re.compile(r"^(?:according\b|as\b|per\b|which\b|who\b|that\b|it\b|they\b|this\b|"
                         r"these\b|those\b|he\b|she\b|we\b|there\b)", re.I)
#: Trailing words of "according to the <organisation> report" that name a document, not who.
_DOC_TAIL = re.compile(r"(?:'s)?\s+(?:(?:new|latest|recent|annual|own|published|leaked|confidential)\s+)*"
                       r"(?:report|study|analysis|estimates?|data|figures|assessment|findings|count|"
                       r"research|review|paper|tally)s?$", re.I)
_PRONOUN_SPEECH = re.compile(r"\b(?P<pron>[Hh]e|[Ss]he)\s+(?:also\s+)?(?:" + SPEECH + r")\b")
_DEFINITE_OFFICIAL = re.compile(
    r"\b(?P<np>the\s+(?:(?:U\.S\.|US|American|White House|senior|same)\s+)*"
    r"(?:official|spokesperson|spokesman|coordinator))\b", re.I)


@dataclass
class SpeakerRegistry:
    """Named speakers seen so far in one report (in text order), for back-references."""

    speakers: list[dict] = field(default_factory=list)

    def add(self, speaker: dict, role: dict | None) -> None:
        self.speakers.append({"speaker": speaker, "role": role})

    def by_surname(self, surname: str) -> dict | None:
        for s in reversed(self.speakers):
            if s["speaker"]["name"].split()[-1] == surname:
                return s
        return None

    def last(self) -> dict | None:
        return self.speakers[-1] if self.speakers else None


def _is_name(text: str) -> bool:
    return not _NOT_NAME.search(text)


def _trim_name(sentence: str, m: re.Match) -> re.Match | None:
    """The match itself if it is a person's name, else the name left after dropping
    leading title words ("Defence Minister Shin Won-sik" -> "Shin Won-sik"), else None."""
    if _is_name(m.group(0)):
        return m
    for t in re.finditer(r"\s+", m.group(0)):
        sub = NAME_RE.fullmatch(sentence, m.start() + t.end(), m.end())
        if sub and _is_name(sub.group(0)):
            return sub
    return None


def _speech_after(sentence: str, pos: int) -> re.Match | None:
    return re.compile(r"\s*(?:also\s+|has\s+|had\s+|have\s+)?(?:" + SPEECH + r")\b").match(sentence, pos)


def find_attribution(sentence: str, registry: SpeakerRegistry, base: int = 0) -> dict | None:
    """The attribution of one sentence, or None when it has none; see the module docstring.

    Named speakers found here are added to ``registry`` for later back-references.
    """
    out: dict = {"speaker": None, "role": None, "organisation": None, "basis": [], "cue": None}
    # every pattern for a named speaker needs a speech verb: skip the name search without one
    has_verb = _SPEECH_RE.search(sentence) is not None
    acc = _ACCORDING.search(sentence)
    names = ([n for n in (_trim_name(sentence, m) for m in NAME_RE.finditer(sentence)) if n]
             if has_verb else [])
    if acc:  # words of "according to the James Martin Center ..." name an organisation, not a person
        names = [n for n in names if not (acc.start("src") <= n.start() < acc.end("src")
                                          and re.match(r"(?:the|an?)\s", acc.group("src"), re.I))]
    for m in names:
        name = m.group(0)
        after = sentence[m.end():]
        role = None
        verb = _speech_after(sentence, m.end())
        # NAME, ROLE, VERB  |  NAME, ROLE VERB
        appos = re.match(r",\s+(?P<role>[^,;\"]{3,160}?)(?:,)?\s+(?:also\s+)?(?P<verb>" + SPEECH + r")\b",
                         after)
        # ROLE, NAME, VERB
        before = sentence[: m.start()]
        pre = re.search(r"(?:^|[\"“]|\bthat\s+)(?P<role>(?:The\s+|the\s+)?[A-Z][^,;\"]{3,120}),\s+$", before)
        title = _TITLE_BEFORE.search(before)
        said_name = re.search(r"\b(?:" + SPEECH + r")\s+$", before)
        comma_verb = re.match(r",\s+(?:also\s+)?(?:" + SPEECH + r")\b", after)
        if verb:
            cue = verb
        elif pre and comma_verb:
            role = span_field(sentence, pre.start("role"), pre.end("role"), base=base)
            role["text"] = re.sub(r"^[Tt]he\s+", "", role["text"])
            role["start"] += len(sentence[pre.start("role"):pre.end("role")]) - len(role["text"])
            cue = comma_verb
        elif appos:
            cue = None
            role = span_field(sentence, m.end() + appos.start("role"), m.end() + appos.end("role"), base=base)
        elif said_name:
            cue = None
        else:
            continue
        if role is None and title:
            role = span_field(sentence, title.start("title"), title.end("title"), base=base)
        if said_name and role is None:
            ap = re.match(r",\s+(?:the\s+)?(?P<role>[^,;.\"]{3,120})", after)
            if ap:
                role = span_field(sentence, m.end() + ap.start("role"), m.end() + ap.end("role"), base=base)
        speaker = span_field(sentence, m.start(), m.end(), base=base, name=name)
        out["speaker"], out["role"] = speaker, role
        registry.add(speaker, role)
        if cue is not None:
            out["cue"] = span_field(sentence, m.end() + cue.start(), m.end() + cue.end(), base=base)
        break
    if out["speaker"] is None:
        # Surname alone ("Kirby said") or pronoun ("he added") or "the U.S. official".
        for m in re.finditer(r"(?<![\w-])(?P<sn>[A-Z][a-z]+(?:-[a-z]+)?)\s+(?:also\s+)?(?:" + SPEECH + r")\b",
                             sentence):
            known = registry.by_surname(m.group("sn"))
            if known:
                out["speaker"] = dict(known["speaker"], **span_field(sentence, m.start("sn"), m.end("sn"),
                                                                     base=base))
                out["speaker"]["name"] = known["speaker"]["name"]
                out["speaker"]["resolved_from"] = {"text": m.group("sn"), "start": base + m.start("sn"),
                                                   "end": base + m.end("sn")}
                out["role"] = known["role"]
                break
        if out["speaker"] is None:
            pm = _PRONOUN_SPEECH.search(sentence) or _DEFINITE_OFFICIAL.search(sentence)
            known = registry.last()
            if pm and known:
                g = "pron" if "pron" in pm.groupdict() else "np"
                out["speaker"] = dict(known["speaker"])
                out["speaker"]["resolved_from"] = span_field(sentence, pm.start(g), pm.end(g), base=base)
                out["role"] = known["role"]
    if acc:
        out["cue"] = out["cue"] or span_field(sentence, acc.start(), acc.end(), base=base)
    for m in _ORG_RE.finditer(sentence):
        after = sentence[m.end():]
        before = sentence[: m.start()]
        if re.match(r"\s*(?:spokes(?:person|man|woman)\s+|officials?\s+)?(?:also\s+|has\s+|have\s+|had\s+)?"
                    r"(?:" + SPEECH + r")\b", after) or re.search(
                r"\b(?:according to|said|told|by)\s+$", before, re.I) or (
                acc and acc.start("src") <= m.start() < acc.end("src")):
            out["organisation"] = span_field(sentence, m.start(), m.end(), base=base,
                                             name=re.sub(r"^the\s+", "", m.group(0), flags=re.I))
            break
    if out["speaker"] is None and out["organisation"] is None:
        # Any short noun phrase as the source: "..., Ukrainian commanders say." /
        # "Ukrainian military intelligence says ..." / "Analysts at RUSI counted ..."
        g = _GENERIC_SOURCE_END.search(sentence) or _GENERIC_SOURCE_START.match(sentence)
        if g and _NOT_SOURCE.match(g.group("np")):
            g = None  # ", according to the report." / "..., which found": no source named here
        if g:
            np = g.group("np")
            out["organisation"] = span_field(sentence, g.start("np"), g.end("np"), base=base,
                                             name=re.sub(r"^(?:the|a|an)\s+", "", np, flags=re.I))
    for rx, kind in _BASIS_RE:
        for m in rx.finditer(sentence):
            if any(b["start"] <= base + m.start() < b["end"] for b in out["basis"]):
                continue
            out["basis"].append(span_field(sentence, m.start(), m.end(), base=base, kind=kind))
    out["basis"].sort(key=lambda b: b["start"])
    if acc and out["speaker"] is None and out["organisation"] is None:
        org = _according_organisation(sentence, acc, base)
        if org is not None:
            out["organisation"] = org
        elif not out["basis"]:
            out["source"] = span_field(sentence, acc.start("src"), acc.end("src"), base=base)
    if out["speaker"] is None and out["organisation"] is None and not out["basis"] and "source" not in out:
        return None
    return out


def _according_organisation(sentence: str, acc: re.Match, base: int) -> dict | None:
    """The organisation of "according to the Royal United Services Institute (RUSI) report":
    the capitalised name without "the", a parenthesised short form or document words, or
    None when the source names no one ("according to the report", "according to our data").

    >>> from corridor.claims.attribution import _ACCORDING
    >>> s = "Ships left, according to the Royal Institute of Studies (RIS) report."
    >>> _according_organisation(s, _ACCORDING.search(s), 0)["name"]
    'Royal Institute of Studies'
    """
    src = acc.group("src")
    start = acc.start("src")
    lead = re.match(r"(?:(?:the|an?)\s+)?(?:(?:[\w.]+-based|new|latest|independent)\s+)*", src, re.I)
    text = src[lead.end():]
    start += lead.end()
    text = re.split(r"\s*\(|\s+(?:which|who|that|and|show|shows|showed|found|says|said)\b", text)[0]
    text = _DOC_TAIL.sub("", text).rstrip()
    words = text.split()
    if not words or not words[0][:1].isupper() or words[0].lower() in ("our", "its", "their", "his", "her"):
        return None
    return span_field(sentence, start, start + len(text), base=base, name=text)


def attribution_label(a: dict | None) -> str | None:
    """One-line label for the ``attribution`` column: "Name (role)", organisation or basis.

    >>> attribution_label({"speaker": {"name": "Kyrylo Budanov"}, "role": {"text": "Chief of HUR"},
    ...                    "organisation": None, "basis": []})
    'Kyrylo Budanov (Chief of HUR)'
    """
    if not a:
        return None
    basis = ", ".join(dict.fromkeys(b["kind"] for b in a.get("basis", [])))
    if a.get("speaker"):
        label = a["speaker"]["name"]
        if a.get("role"):
            label += f" ({a['role']['text']})"
    elif a.get("organisation"):
        label = a["organisation"]["name"]
    elif a.get("source"):
        label = a["source"]["text"]
    else:
        return basis or None
    return f"{label} [{basis}]" if basis else label
