"""Periods: when a transfer is said to have happened, resolved against the report's date.

Regex grammar finds the expression and its span; ``dateparser`` (offline, rule-based,
no model files) turns each day-level date inside it into a calendar date, preferring
dates in the past relative to the report's published date, so "September 7" in a report
of 13 Oct 2023 is 2023-09-07. Without a published date, expressions that need one
("September 7" with no year, "in recent weeks") are kept with their span and
``resolved: false`` instead of guessing a year.

Each period: span (``text``/``start``/``end`` offsets), ``start_date``/``end_date`` (ISO
dates, inclusive), ``kind`` (range, day,
month, part_of_month, season, year, relative, since, until) and ``approximate`` (true for
"mid-October", "in recent weeks", seasons, "late 2023").

A start without an end ("since August", "starting in September", "from 7 September") is
``kind: since`` with ``open_end: true``: it runs from its start to the published date, or
has no end date when the report has none (never the whole of the month it names).

Relative windows (fixed, documented conventions): "recent days" = 7 days before the
published date, "recent weeks" = 28 days, "recent months"/"past few months" = 90 days.
Parts of a month: early = days 1–10, mid = 11–20, late = 21–end.

>>> from datetime import date
>>> p = find_periods("the deliveries took place between September 7 and October 1", date(2023, 10, 13))[0]
>>> p["start_date"], p["end_date"], p["kind"], p["approximate"]
('2023-09-07', '2023-10-01', 'range', False)
>>> p = find_periods("expected by mid-October", date(2023, 10, 13))[0]
>>> p["start_date"], p["end_date"], p["approximate"]
('2023-10-11', '2023-10-20', True)
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from corridor.claims.spans import overlaps, span_field

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
         r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)")
DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
YEAR = r"(?:19|20)\d{2}"
DATE = (rf"(?:{YEAR}-\d{{2}}-\d{{2}}|{DAY}\s+(?:of\s+)?{MONTH}(?:,?\s+{YEAR})?|"
        rf"{MONTH}\s+{DAY}(?:,?\s+{YEAR})?)(?![\w-])")
_DASH = r"\s*(?:-|–|—|to|until|through|till)\s*"

# Order matters: the first pattern to claim a span wins.
_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("range", re.compile(rf"\b(?:between\s+)(?P<a>{DATE})\s+and\s+(?P<b>{DATE})", re.I)),
    ("range", re.compile(rf"\b(?:from\s+)?(?P<a>{DATE}){_DASH}(?P<b>{DATE})", re.I)),
    ("range_months", re.compile(rf"\b(?:from|between)\s+(?P<m1>{MONTH})(?:\s+(?P<y1>{YEAR}))?\s+"
                                rf"(?:to|until|through|and)\s+(?P<m2>{MONTH})(?:\s+(?P<y2>{YEAR}))?\b")),
    ("range_days", re.compile(rf"\b(?:between\s+)?(?P<d1>{DAY})(?:\s+and\s+|{_DASH})(?P<d2>{DAY})\s+"
                              rf"(?P<m>{MONTH})(?:,?\s+(?P<y>{YEAR}))?\b", re.I)),
    ("range_days", re.compile(rf"\b(?P<m>{MONTH})\s+(?P<d1>{DAY})(?:\s*(?:-|–|—)\s*|\s+and\s+)"
                              rf"(?P<d2>{DAY})(?:,?\s+(?P<y>{YEAR}))?(?![\w-])", re.I)),
    # "since", "starting in", "beginning on", "from", "as of": a start, open-ended
    # ("from" only opening a sentence or clause: "photos from early September" date the photos)
    ("since", re.compile(rf"(?:\b(?:since|(?:starting|beginning|commencing)(?:\s+(?:in|on|from|at))?|"
                         rf"as of|as from)|(?:^|(?<=[,;:—–]\s))[\"“]?[Ff]rom)\s+"
                         rf"(?:(?P<part>early|mid|late)[- ])?"
                         rf"(?P<a>{DATE}|{MONTH}(?:\s+{YEAR})?|{YEAR})(?![\w-])", re.I)),
    ("day", re.compile(rf"(?P<a>{DATE})", re.I)),
    ("half", re.compile(rf"\b(?:the\s+)?(?P<h>first|second)\s+half\s+of\s+(?P<y>{YEAR})", re.I)),
    ("part_of_month", re.compile(rf"\b(?P<part>early|mid|late|the (?:end|beginning|start) of)[- ]"
                                 rf"(?P<m>{MONTH})(?:\s+(?P<y>{YEAR}))?\b", re.I)),
    ("part_of_year", re.compile(rf"\b(?P<part>early|mid|late|the end of|the beginning of)[- ](?P<y>{YEAR})\b",
                                re.I)),
    ("season", re.compile(rf"\b(?P<s>spring|summer|autumn|fall|winter)(?:\s+(?:of\s+)?(?P<y>{YEAR}))?\b",
                          re.I)),
    ("month", re.compile(rf"\b(?P<m>{MONTH})(?:\s+(?P<y>{YEAR}))?\b")),
    ("year", re.compile(rf"\b(?:in|during|throughout|through|by|for|of|until)\s+(?P<y>{YEAR})\b", re.I)),
    ("relative", re.compile(
        r"\b(?:in|over|during|within)\s+(?:the\s+)?(?:recent|past|last)\s+(?:(?P<n>few|several|two|three|"
        r"four|six|\d+)\s+)?(?P<u>days|weeks|months)\b|\brecent\s+(?P<u2>days|weeks|months)\b|"
        r"\b(?P<lm>last|this|past)\s+(?P<u3>week|month|year|summer)\b", re.I)),
]
_PARTS = {"early": (1, 10), "mid": (11, 20), "late": (21, 31), "the beginning of": (1, 10),
          "the start of": (1, 10), "the end of": (21, 31)}
_YEAR_PARTS = {"early": (1, 4), "mid": (5, 8), "late": (9, 12), "the beginning of": (1, 3),
               "the end of": (10, 12)}
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 2)}
_COUNTS = {"few": 3, "several": 3, "two": 2, "three": 3, "four": 4, "six": 6}
_RELATIVE_DAYS = {"days": 7, "weeks": 28, "months": 90}
#: A wire dateline: a place in capitals, a date, an optional agency, a dash.
_DATELINE = re.compile(r"^\s*[A-Z][A-Z'\-]+(?:[ ,/][A-Z][A-Z'\-]+)*\s*,\s*[^—–\-(]{3,30}?"
                       r"(?:\([^)]{1,40}\)\s*)?(?:—|–|-{1,2})\s")
_SPEECH_DATE = re.compile(r"\b(?:said|says|told|stated|announced|noted|added|wrote|published|reported|"
                          r"briefing|statement|press conference)\b[^.;]{0,40}\bon\s*$", re.I)


def _month_no(text: str) -> int:
    return _MONTHS[text.strip(". ").lower()[:3]]


def _last_day(y: int, m: int) -> int:
    return calendar.monthrange(y, m)[1]


def _infer_year(month: int, day: int, published: date | None) -> int | None:
    """The year of a date given without one: the published year, or the year before when
    that would put the date more than 31 days after publication."""
    if published is None:
        return None
    y = published.year
    if date(y, month, min(day, _last_day(y, month))) > published + timedelta(days=31):
        y -= 1
    return y


@lru_cache(maxsize=4096)
def parse_date(text: str, published: date | None) -> date | None:
    """One day-level date; year inferred from ``published`` when the text has none.

    >>> parse_date("September 7", date(2023, 10, 13)), parse_date("7 Sept. 2024", None)
    (datetime.date(2023, 9, 7), datetime.date(2024, 9, 7))
    >>> parse_date("December 30", date(2024, 1, 5)), parse_date("October 1", None)
    (datetime.date(2023, 12, 30), None)
    """
    has_year = re.search(YEAR, text) is not None
    if not has_year and published is None:
        return None
    clean = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    parsed = _parser(published).get_date_data(clean).date_obj
    return parsed.date() if parsed else None


@lru_cache(maxsize=64)
def _parser(published: date | None):
    """One dateparser parser per published date (building one costs more than parsing)."""
    from dateparser.date import DateDataParser  # imported lazily: ~0.4 s, only when a date is present

    base = datetime.combine(published, datetime.min.time()) if published else datetime(2000, 1, 1)
    settings = {"PREFER_DATES_FROM": "past", "RELATIVE_BASE": base + timedelta(days=31),
                "REQUIRE_PARTS": ["day", "month"], "RETURN_AS_TIMEZONE_AWARE": False,
                "PARSERS": ["absolute-time"]}  # relative phrases are this module's grammar, not dateparser's
    return DateDataParser(languages=["en"], settings=settings)


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _resolve(kind: str, m: re.Match, published: date | None) -> tuple[date | None, date | None, bool]:
    """(start, end, approximate) for one match."""
    g = m.groupdict()
    if kind == "range":
        a, b = parse_date(g["a"], published), parse_date(g["b"], published)
        if a and b and b < a and not re.search(YEAR, g["b"]):
            b = b.replace(year=b.year + 1)
        if a and b and b < a and not re.search(YEAR, g["a"]):
            a = a.replace(year=a.year - 1)
        return a, b, False
    if kind == "range_months":
        m1, m2 = _month_no(g["m1"]), _month_no(g["m2"])
        y2 = int(g["y2"]) if g.get("y2") else _infer_year(m2, 1, published)
        if y2 is None:
            return None, None, False
        y1 = int(g["y1"]) if g.get("y1") else (y2 if m1 <= m2 else y2 - 1)
        return date(y1, m1, 1), date(y2, m2, _last_day(y2, m2)), False
    if kind == "range_days":
        mo = _month_no(g["m"])
        d1, d2 = int(re.sub(r"\D", "", g["d1"])), int(re.sub(r"\D", "", g["d2"]))
        y = int(g["y"]) if g.get("y") else _infer_year(mo, d1, published)
        if y is None or not (1 <= d1 <= d2 <= _last_day(y, mo)):
            return None, None, False
        return date(y, mo, d1), date(y, mo, d2), False
    if kind == "day":
        d = parse_date(g["a"], published)
        return d, d, False
    if kind == "since":
        text = g["a"]
        if re.fullmatch(YEAR, text):
            start = date(int(text), 1, 1)
        elif re.search(r"\d", text.replace(re.search(YEAR, text).group(0), "") if re.search(YEAR, text)
                       else text):
            start = parse_date(text, published)
        else:
            mo = _month_no(text.split()[0])
            ym = re.search(YEAR, text)
            y = int(ym.group(0)) if ym else _infer_year(mo, 1, published)
            start = date(y, mo, _PARTS[g["part"].lower()][0]) if y and g.get("part") else (
                date(y, mo, 1) if y else None)
        return start, published, bool(g.get("part"))
    if kind == "half":
        y = int(g["y"])
        return (date(y, 1, 1), date(y, 6, 30), False) if g["h"].lower() == "first" else (
            date(y, 7, 1), date(y, 12, 31), False)
    if kind == "part_of_month":
        mo = _month_no(g["m"])
        y = int(g["y"]) if g.get("y") else _infer_year(mo, 1, published)
        if y is None:
            return None, None, True
        lo, hi = _PARTS[g["part"].lower()]
        return date(y, mo, lo), date(y, mo, min(hi, _last_day(y, mo))), True
    if kind == "part_of_year":
        y = int(g["y"])
        lo, hi = _YEAR_PARTS[g["part"].lower()]
        return date(y, lo, 1), date(y, hi, _last_day(y, hi)), True
    if kind == "season":
        s = g["s"].lower()
        y = int(g["y"]) if g.get("y") else (published.year if published else None)
        if y is None:
            return None, None, True
        lo, hi = _SEASONS[s]
        if s == "winter":
            return date(y, 12, 1), date(y + 1, 2, _last_day(y + 1, 2)), True
        return date(y, lo, 1), date(y, hi, _last_day(y, hi)), True
    if kind == "month":
        mo = _month_no(g["m"])
        y = int(g["y"]) if g.get("y") else _infer_year(mo, 1, published)
        if y is None:
            return None, None, False
        return date(y, mo, 1), date(y, mo, _last_day(y, mo)), False
    if kind == "year":
        y = int(g["y"])
        return date(y, 1, 1), date(y, 12, 31), False
    if kind == "relative":
        if published is None:
            return None, None, True
        if g.get("lm"):
            unit, which = g["u3"].lower(), g["lm"].lower()
            if unit == "week":
                return published - timedelta(days=14 if which == "last" else 7), published, True
            if unit == "month":
                if which == "this":
                    return published.replace(day=1), published, True
                first = published.replace(day=1) - timedelta(days=1)
                return first.replace(day=1), first, True
            if unit == "summer":
                y = published.year if published.month > 8 else published.year - 1
                return date(y, 6, 1), date(y, 8, 31), True
            if which == "past":
                return published - timedelta(days=365), published, True
            y = published.year - (1 if which == "last" else 0)
            return date(y, 1, 1), (date(y, 12, 31) if which == "last" else published), True
        unit = (g.get("u") or g.get("u2")).lower()
        n = g.get("n")
        if n:
            count = int(n) if n.isdigit() else _COUNTS[n.lower()]
            days = count * {"days": 1, "weeks": 7, "months": 30}[unit]
        else:
            days = _RELATIVE_DAYS[unit]
        return published - timedelta(days=days), published, True
    return None, None, False


def find_periods(sentence: str, published: date | None, base: int = 0) -> list[dict]:
    """Period expressions in ``sentence``; see the module docstring.

    A date that dates the *statement* ("said this on October 13") is returned with
    ``kind: 'statement_date'`` so that it is not taken for the transfer's period.
    """
    taken: list[tuple[int, int]] = []
    out: list[dict] = []
    for kind, rx in _PATTERNS:
        for m in rx.finditer(sentence):
            span = (m.start(), m.end())
            if any(overlaps(span, t) for t in taken):
                continue
            if kind == "month" and m.group("m").lower().startswith("may") and not m.group("y") and \
                    not re.search(r"\b(?:in|since|until|by|during|of|early|mid|late)\s+$",
                                  sentence[:m.start()], re.I):
                continue  # "may" the verb
            taken.append(span)
            try:
                start, end, approx = _resolve(kind, m, published)
            except (ValueError, KeyError, AttributeError):
                start, end, approx = None, None, False
            k = {"range_days": "range", "range_months": "range"}.get(kind, kind)
            if kind == "day" and _SPEECH_DATE.search(sentence[: m.start()]):
                k = "statement_date"
            dl = _DATELINE.match(sentence)
            if kind == "day" and dl and m.end() <= dl.end():
                k = "statement_date"  # "VLADIVOSTOK, Nov 2 (Wire) -": when the report was filed
            item = span_field(sentence, m.start(), m.end(), base=base, kind=k,
                              start_date=_iso(start), end_date=_iso(end), approximate=approx,
                              resolved=start is not None)
            if kind == "since":
                item["open_end"] = True
            out.append(item)
    out.sort(key=lambda p: p["start"])
    return out
