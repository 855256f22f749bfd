"""Claims from report text: offline, rule-based and explainable.

**Stack, and why.** Plain regular-expression grammars over a hand-written lexicon
(:mod:`~corridor.claims.materiel`, :mod:`~corridor.claims.quantities`,
:mod:`~corridor.claims.actors`, :mod:`~corridor.claims.attribution`,
:mod:`~corridor.claims.places`) plus ``dateparser`` for calendar dates
(:mod:`~corridor.claims.periods`). Nothing downloads or loads a model: spaCy's
English pipelines are separate model packages (not installable from the package index
in a supported way, and several hundred MB), and a blank spaCy pipeline would add only
a tokenizer — while the fields that matter here (calibres, "twenty-foot containers",
DPRK/Pyongyang aliases, "we assess", relative periods) need domain rules anyway. Rules
are fast (the seed article takes milliseconds), deterministic, and every value carries
the character span of the words that produced it, so an analyst can check and correct
it (``corridor claims add``).

**What becomes a claim.** One claim per sentence that talks about a transfer (a
supplier or recipient with a role, or a back-reference such as "the deliveries", "the
cargo") and says something testable about it (materiel, quantity, period, place or
distance) or attributes it to a source; that gives a counted quantity of materiel; or
that puts a named place together with a date or a count (a port call, a train). A sentence that only
attributes the previous one ("John Kirby ... said this on October 13") adds its
speaker, role and date to the previous claim instead of becoming a claim.

**Linking across sentences.** Reports state one transfer over several sentences: the
quantity in one ("more than 1,000 containers"), the window in another ("the deliveries
took place between September 7 and October 1"), the route in a third ("the cargo was
transported by rail to a depot near Kamenka"). A claim whose subject is such a
back-reference and which gives no quantity and no actors of its own inherits supplier
and recipient from the nearest preceding *anchor* claim (one with a quantity and a
supplier or recipient), and its period, places and distances are added to every anchor
of the report with the same supplier and recipient — in ``fields["links"]`` with the
span and claim id they came from, never silently. A linked day-level window replaces an
anchor's vaguer own period ("in recent weeks") in ``period_start``/``period_end``; the
own period stays in ``fields["period"]``.

**Confidence** (0–1) says how complete and direct the extraction is, not whether the
claim is true: 0.3 base; +0.2 quantity; +0.15 supplier and recipient both stated in the
sentence (+0.05 if one is); +0.15 attribution; +0.1 period; +0.1 materiel; −0.1 for
fields inherited from another sentence; −0.2 for hedges ("may", "reportedly",
"possibly", "could"); clipped to [0.05, 0.95].

>>> from datetime import date
>>> cs = extract_claims("North Korea has supplied Russia with over 1,000 containers of ammunition. "
...                     "The deliveries took place between September 7 and October 1.", "r1",
...                     date(2023, 10, 13))
>>> c = cs[0]
>>> c.supplier, c.recipient, c.quantity, c.quantity_unit, c.qualifier
('DPRK', 'Russia', 1000.0, 'containers', 'more_than')
>>> str(c.period_start), str(c.period_end), c.fields["links"][0]["field"]
('2023-09-07', '2023-10-01', 'period')
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from corridor.claims.actors import find_actors, find_roles
from corridor.claims.attribution import SpeakerRegistry, attribution_label, find_attribution
from corridor.claims.materiel import find_materiel
from corridor.claims.periods import find_periods
from corridor.claims.places import Gazetteer, find_places
from corridor.claims.quantities import find_distances, find_quantities
from corridor.claims.spans import span_field
from corridor.claims.vessels import VesselIndex, find_vessels
from corridor.ids import stable_id

#: Arrow schema of claim rows (the ``claims`` table).
CLAIMS = pa.schema([
    ("claim_id", pa.string()), ("report_id", pa.string()), ("sentence", pa.string()),
    ("span_start", pa.int32()), ("span_end", pa.int32()), ("attribution", pa.string()),
    ("supplier", pa.string()), ("recipient", pa.string()), ("materiel", pa.string()),
    ("quantity", pa.float64()), ("quantity_unit", pa.string()), ("qualifier", pa.string()),
    ("period_start", pa.date32()), ("period_end", pa.date32()), ("places", pa.list_(pa.string())),
    ("fields", pa.string()), ("confidence", pa.float64()), ("origin", pa.string()),
])

_ABBREV = re.compile(r"(?:\b(?:U\.S|U\.N|U\.K|E\.U|Mr|Mrs|Ms|Dr|Gen|Lt|Col|Adm|Sgt|Rep|Sen|St|No|Jan|Feb|"
                     r"Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|e\.g|i\.e|approx|vs|etc|Inc|Co|Corp)|"
                     r"\b[A-Z])\.$")
_BOUNDARY = re.compile(r"[.!?…]+[\"”’')\]]*(?=\s+[\"“‘(\[]?[A-Z0-9А-ЯЁ가-힣])|[.!?…]+[\"”’')\]]*$")
_ANAPHOR = re.compile(r"\b(?:the|these|those|this|such|that)\s+(?:deliveries|delivery|transfers?|shipments?|"
                      r"weapons|cargo|containers|munitions|arms|supplies|consignments?|ammunition|"
                      r"train|trains|ships?|vessels?)\b"
                      r"(?!\s+(?:deals?|trade|embargo|race|control|sales|industry|dealers?))", re.I)
_ATTRIB_ONLY = re.compile(r"\b(?:said|stated|announced|noted|confirmed|told reporters)\s+(?:this|so|that)\b"
                          r"(?!\s+(?:the|North|Russia|Pyongyang|Moscow|DPRK|it|they|he|she)\b)", re.I)
_HEDGE = re.compile(r"\b(?:may|might|could|possibly|reportedly|allegedly|apparently|likely|probably|"
                    r"unconfirmed|believed to|suspected|appears? to|is thought to|rumou?red)\b", re.I)
_GARBLE = re.compile(r"[?\ufffd�]{3,}")


@dataclass
class Claim:
    """One assertion in a report, with every field's span in ``fields``."""

    claim_id: str
    report_id: str | None
    sentence: str
    span_start: int
    span_end: int
    fields: dict
    attribution: str | None = None
    supplier: str | None = None
    recipient: str | None = None
    materiel: str | None = None
    quantity: float | None = None
    quantity_unit: str | None = None
    qualifier: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    places: list[str] = field(default_factory=list)
    confidence: float = 0.0
    origin: str = "extracted"
    #: vessel_ids of the stored vessels the sentence names (every mention, resolved or not,
    #: with its span, is in ``fields["vessels"]``). Not a column of the ``claims`` table:
    #: the rows keep their layout, the mentions are in its ``fields`` JSON.
    vessels: list[str] = field(default_factory=list)

    def row(self) -> dict:
        """The ``claims`` table row (``fields`` as JSON text)."""
        return {
            "claim_id": self.claim_id, "report_id": self.report_id, "sentence": self.sentence,
            "span_start": self.span_start, "span_end": self.span_end,
            "attribution": self.attribution, "supplier": self.supplier, "recipient": self.recipient,
            "materiel": self.materiel, "quantity": self.quantity, "quantity_unit": self.quantity_unit,
            "qualifier": self.qualifier, "period_start": self.period_start,
            "period_end": self.period_end, "places": list(self.places),
            "fields": json.dumps(self.fields, ensure_ascii=False, sort_keys=True),
            "confidence": self.confidence, "origin": self.origin,
        }


def claims_table(claims: list[Claim]) -> pa.Table:
    """Claims as an Arrow table in the ``claims`` table's layout."""
    return pa.Table.from_pylist([c.row() for c in claims], schema=CLAIMS)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of sentences. Lines are blocks (titles, captions, paragraphs);
    a line that ends without punctuation and is followed by a lower-case line is joined
    to it (hard-wrapped text). Hand-written because no offline sentence splitter knows
    "U.S." titles and the captions of news pages; it is twenty lines.

    >>> t = "Kirby, U.S. Coordinator, spoke. He said so.\\nCaption line"
    >>> [t[s:e] for s, e in split_sentences(t)]
    ['Kirby, U.S. Coordinator, spoke.', 'He said so.', 'Caption line']
    """
    blocks: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not line.strip():
            continue
        if blocks and not re.search(r"[.!?:\"”]\s*$", text[blocks[-1][0]:blocks[-1][1]]) and \
                re.match(r"\s*[a-z]", line):
            blocks[-1] = (blocks[-1][0], end)
        else:
            blocks.append((start, end))
    out: list[tuple[int, int]] = []
    for bs, be in blocks:
        block = text[bs:be]
        cur = 0
        for m in _BOUNDARY.finditer(block):
            if _ABBREV.search(block[: m.start() + 1]) and m.end() < len(block):
                continue
            out.append((bs + cur, bs + m.end()))
            cur = m.end()
        if cur < len(block):
            out.append((bs + cur, be))
    trimmed = []
    for s, e in _cap_length(text, out):
        seg = text[s:e]
        s2 = s + (len(seg) - len(seg.lstrip()))
        e2 = e - (len(seg) - len(seg.rstrip()))
        if e2 > s2:
            trimmed.append((s2, e2))
    return trimmed


#: Longest "sentence" analysed as one; longer runs (text without punctuation, tables turned
#: into prose) are cut at a space. The recognisers look around each match, so their cost
#: grows faster than linearly with sentence length; real sentences are far shorter.
MAX_SENTENCE_CHARS = 1000


def _cap_length(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for s, e in spans:
        while e - s > MAX_SENTENCE_CHARS:
            cut = max(text.rfind(" ", s, s + MAX_SENTENCE_CHARS), text.rfind("\n", s, s + MAX_SENTENCE_CHARS))
            cut = cut if cut > s else s + MAX_SENTENCE_CHARS
            out.append((s, cut))
            s = cut
        out.append((s, e))
    return out


@dataclass
class _Draft:
    start: int
    end: int
    fields: dict
    is_claim: bool
    attrib_only: bool
    anaphor: bool


def _analyse(text: str, s: int, e: int, published: date | None, gaz: Gazetteer,
             registry: SpeakerRegistry, fleet: VesselIndex | None = None) -> _Draft:
    sent = text[s:e]
    garbled = bool(_GARBLE.search(sent)) and len(re.findall(r"[A-Za-z]{3,}", sent)) < 3
    periods = [p for p in find_periods(sent, published, s)]
    statement_dates = [p for p in periods if p["kind"] == "statement_date"]
    periods = [p for p in periods if p["kind"] != "statement_date"]
    distances = find_distances(sent, s)
    materiel = find_materiel(sent, s)
    exclude = [(p["start"] - s, p["end"] - s) for p in periods + statement_dates]
    quantities = find_quantities(sent, s, materiel=materiel, exclude=exclude)
    # a distance's reference ("290 km from Ukraine") is neither supplier nor recipient
    actors = [a for a in find_actors(sent, s)
              if not any(d["start"] <= a["start"] < d["end"] for d in distances)]
    roles = find_roles(sent, s, actors, materiel)
    vessels = find_vessels(sent, s, fleet, exclude=[(a["start"] - s, a["end"] - s) for a in actors]
                           + [(p["start"] - s, p["end"] - s) for p in periods + statement_dates])
    # a ship's name after a cue is not a place ("the cargo ship Alder" where a town is called
    # Alder too); a stored ship's name without a cue gives way to a place of the loaded case
    # ("arrived at Alder"), and wins over other gazetteer entries of the same spelling
    cued = [v for v in vessels if v["name"] and v["cue"] != "stored_name"]
    places = find_places(sent, s, gaz, exclude=[(a["start"] - s, a["end"] - s) for a in actors]
                         + [(v["start"] - s, v["end"] - s) for v in cued])
    vessels, places = _ships_or_places(vessels, places, gaz)
    # a distance's reference ("from Ukraine") is not a place the cargo went to
    dist_to = [(d["to"]["start"], d["to"]["end"]) for d in distances if "to" in d]
    places = [p for p in places if not any(a <= p["start"] < b for a, b in dist_to)]
    attribution = find_attribution(sent, registry, s) if not garbled else None
    anaphor = _ANAPHOR.search(sent)
    hedges = [span_field(sent, m.start(), m.end(), base=s) for m in _HEDGE.finditer(sent)]
    fields = {
        "supplier": roles["supplier"], "recipient": roles["recipient"], "parties": roles["parties"],
        "materiel": materiel, "quantity": quantities[0] if quantities else None,
        "quantities": quantities, "period": periods[0] if periods else None, "periods": periods,
        "statement_date": statement_dates[0] if statement_dates else None,
        "places": places, "vessels": vessels, "distances": distances, "attribution": attribution,
        "hedges": hedges,
        "anaphor": span_field(sent, anaphor.start(), anaphor.end(), base=s) if anaphor else None,
        "links": [],
    }
    has_transfer = bool(roles["supplier"] or roles["recipient"] or anaphor)
    named_vessels = [v for v in vessels if v["name"] or v["imo"] or v["mmsi"]]
    has_substance = bool(quantities or materiel or periods or places or distances or named_vessels)
    quantified_materiel = any(q.get("materiel_category") or q["contents"] for q in quantities)
    movement = bool(places and (periods or quantities))  # "docked at Port Alder on 12 September"
    # a named ship with a date or a place: "the ship Ocean Wren switched off its transponder on 3 May"
    movement = movement or bool(named_vessels and (periods or places))
    # an attributed statement about a transfer between named parties, even without details
    attributed = bool(attribution and (roles["supplier"] or roles["recipient"]))
    is_claim = not garbled and ((has_transfer and has_substance) or quantified_materiel or movement
                                or attributed)
    attrib_only = bool(attribution and attribution.get("speaker") and _ATTRIB_ONLY.search(sent)
                       and not roles["supplier"] and not roles["recipient"] and not quantities)
    if attrib_only:
        is_claim = False
    return _Draft(s, e, fields, is_claim, attrib_only, bool(anaphor))


def _ships_or_places(vessels: list[dict], places: list[dict], gaz: Gazetteer
                     ) -> tuple[list[dict], list[dict]]:
    """Where a stored ship's name (found without a cue) is also a place mention: the place
    when it is one of the loaded case's places, else the ship."""
    keep_v, drop_p = [], set()
    for v in vessels:
        clash = [i for i, p in enumerate(places) if v["cue"] == "stored_name"
                 and p["start"] < v["end"] and v["start"] < p["end"]]
        if any(set(places[i]["candidates"] or [places[i]["place_id"]]) & gaz.preferred for i in clash):
            continue
        drop_p.update(clash)
        keep_v.append(v)
    return keep_v, [p for i, p in enumerate(places) if i not in drop_p]


def _period_cols(f: dict) -> tuple[date | None, date | None]:
    linked = [lk["value"] for lk in f["links"] if lk["field"] == "period"]
    own = f["period"]
    best = own
    for p in linked:
        if best is None or (best.get("approximate") and not p.get("approximate")) or not best.get("resolved"):
            best = p
    if best is None or not best.get("resolved"):
        return None, None
    return (date.fromisoformat(best["start_date"]) if best.get("start_date") else None,
            date.fromisoformat(best["end_date"]) if best.get("end_date") else None)


def _period_text(f: dict) -> str | None:
    """The words of the period used for ``period_start``/``period_end`` (own or linked)."""
    linked = [lk["value"] for lk in f["links"] if lk["field"] == "period"]
    best = f["period"]
    for p in linked:
        if best is None or (best.get("approximate") and not p.get("approximate")) or not best.get("resolved"):
            best = p
    return best["text"] if best else None


def _confidence(f: dict) -> float:
    score = 0.3
    if f["quantity"]:
        score += 0.2
    own_roles = [r for r in (f["supplier"], f["recipient"]) if r and "inherited_from" not in r]
    score += 0.15 if len(own_roles) == 2 else (0.05 if own_roles else 0.0)
    if f["attribution"]:
        score += 0.15
    if f["period"] or any(lk["field"] == "period" for lk in f["links"]):
        score += 0.1
    if f["materiel"]:
        score += 0.1
    if any(r and "inherited_from" in r for r in (f["supplier"], f["recipient"])):
        score -= 0.1
    if f["hedges"]:
        score -= 0.2
    return round(min(0.95, max(0.05, score)), 2)


def _materiel_label(f: dict) -> str | None:
    items = []
    q = f["quantity"]
    if q:
        items += [c["text"].lower() for c in q["contents"]]
    for m in f["materiel"]:
        label = f"{m['calibre_mm']} mm {m['term']}" if m.get("calibre_mm") and not \
            m["term"].lower().startswith(("r-", "r1")) else m["text"].lower()
        if q and m["start"] >= q["start"] and m["end"] <= q["end"] and q["contents"]:
            continue  # the counted unit (containers) when its contents are named
        items.append(label)
    items = list(dict.fromkeys(items))
    return "; ".join(items) if items else None


#: How far (characters, either side) a back-reference ("the deliveries") reaches for the
#: anchor claims it adds its period, places and distances to: about two pages of a report.
#: Beyond it a sentence is taken to speak of another transfer; without a bound a long
#: report links every sentence to every anchor (quadratic time and output).
LINK_WINDOW_CHARS = 5000

#: Most links of one kind (period, place, distance) one claim keeps; further ones that
#: say something new are dropped (the nearest back-references are linked first).
MAX_LINKS_PER_FIELD = 8


def _actor_key(f: dict) -> tuple[str | None, str | None]:
    return (f["supplier"] or {}).get("name"), (f["recipient"] or {}).get("name")


def _link_value_key(value: dict) -> tuple:
    """What makes two linked values the same statement: the words, and what they resolve to."""
    return (" ".join(str(value.get("text", "")).lower().split()), value.get("start_date"),
            value.get("end_date"), value.get("place_id"), value.get("value"), value.get("unit"))


def _add_link(links: list[dict], name: str, claim_id: str, value: dict) -> None:
    """Append one link unless the same statement is already linked or the field is full."""
    same_field = [lk for lk in links if lk["field"] == name]
    if len(same_field) >= MAX_LINKS_PER_FIELD:
        return
    vkey = _link_value_key(value)
    if any(_link_value_key(lk["value"]) == vkey for lk in same_field):
        return
    links.append({"field": name, "claim_id": claim_id, "value": value})


def extract_claims(text: str, report_id: str | None, published: date | None = None,
                   places: object | None = None, vessels: object | None = None) -> list[Claim]:
    """Claims in ``text`` (the stored report text; spans index into it).

    ``published`` anchors years and relative periods; ``places`` is the gazetteer (a
    PlaceIndex, an Arrow table of ``places`` rows, or None); ``vessels`` the stored vessels
    names, IMO numbers and MMSIs resolve against (a
    :class:`~corridor.claims.vessels.VesselIndex`, an Arrow table of ``vessels`` rows, or
    None). Never raises on odd text: garbled runs, other scripts and empty input simply
    yield fewer claims.
    """
    if not text or not text.strip():
        return []
    gaz = Gazetteer.of(places)
    fleet = VesselIndex.of(vessels)
    registry = SpeakerRegistry()
    drafts: list[_Draft] = []
    for s, e in split_sentences(text):
        d = _analyse(text, s, e, published, gaz, registry, fleet)
        if d.attrib_only:
            prev = next((p for p in reversed(drafts) if p.is_claim), None)
            if prev is not None and prev.fields["attribution"] is None:
                prev.fields["attribution"] = dict(d.fields["attribution"], via_sentence={
                    "start": d.start, "end": d.end})
                if d.fields["statement_date"] and not prev.fields["statement_date"]:
                    prev.fields["statement_date"] = d.fields["statement_date"]
        drafts.append(d)
    claims = [d for d in drafts if d.is_claim]
    ids = {id(d): stable_id("claim", report_id, d.start, d.end) for d in claims}
    anchors = [d for d in claims if d.fields["quantity"] and (d.fields["supplier"] or d.fields["recipient"])]
    pending: list[tuple[int, int, tuple[int, int, int], str, dict, _Draft]] = []
    for d in claims:
        f = d.fields
        if not d.anaphor or f["quantity"] or d in anchors:
            continue
        prev_anchor = next((a for a in reversed(anchors) if a.start < d.start), None)
        if prev_anchor is None:
            continue
        for role in ("supplier", "recipient"):
            if f[role] is None and prev_anchor.fields[role] is not None:
                f[role] = dict(prev_anchor.fields[role], inherited_from=ids[id(prev_anchor)])
        key = _actor_key(f)
        # only anchors near the back-reference: a report that repeats itself (or a long
        # dossier of many transfers) must not link every sentence to every other one
        for a in anchors:
            if abs(a.start - d.start) > LINK_WINDOW_CHARS or _actor_key(a.fields) != key:
                continue
            for k, (name, values) in enumerate((("period", f["periods"]), ("place", f["places"]),
                                                ("distance", f["distances"]))):
                for i, v in enumerate(values):
                    pending.append((a.start, abs(a.start - d.start), (d.start, k, i), name, v, d))
    by_start = {a.start: a for a in anchors}
    # each anchor takes its nearest back-references first, then the cap applies
    for astart, _dist, _order, name, v, d in sorted(pending, key=lambda p: p[:3]):
        _add_link(by_start[astart].fields["links"], name, ids[id(d)], v)
    out = []
    for d in claims:
        f = d.fields
        q = f["quantity"]
        pstart, pend = _period_cols(f)
        mentions = f["places"] + [lk["value"] for lk in f["links"] if lk["field"] == "place"]
        place_ids = [pid for p in mentions for pid in (p.get("candidates") or
                                                       ([p["place_id"]] if p.get("place_id") else []))]
        f["period_text"] = _period_text(f)
        sd = f["statement_date"]
        f["stated_on"] = (sd or {}).get("start_date") or (published.isoformat() if published else None)
        out.append(Claim(
            claim_id=ids[id(d)], report_id=report_id, sentence=text[d.start:d.end],
            span_start=d.start, span_end=d.end, fields=f,
            attribution=attribution_label(f["attribution"]),
            supplier=(f["supplier"] or {}).get("name"), recipient=(f["recipient"] or {}).get("name"),
            materiel=_materiel_label(f), quantity=q["value"] if q else None,
            quantity_unit=q["unit"] if q else None, qualifier=q["qualifier"] if q else None,
            period_start=pstart, period_end=pend, places=list(dict.fromkeys(place_ids)),
            confidence=_confidence(f),
            vessels=list(dict.fromkeys(v["vessel_id"] for v in f["vessels"] if v["vessel_id"])),
        ))
    return out
