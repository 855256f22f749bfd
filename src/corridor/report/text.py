"""Text for the report: dates, numbers, quotations and prose that links instead of naming ids.

Everything here returns either plain text (escaped later by the templates) or
:class:`markupsafe.Markup` built from escaped parts, so a value from a case, a report text or an
AIS name can never inject markup.

Attribute access goes through :func:`at`, which reads a field from a ``dict`` (the
``corridor.reconstruction/1`` JSON) or from an object (the typed reconstruction) alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup, escape

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
#: an internal 16-hex-digit id (stable_id) as it appears in generated text
HEX_ID = re.compile(r"\b[0-9a-f]{16}\b")
#: a source tag in brackets as case files write it: ``[S6]``, ``[S19b]``
TAG_IN_TEXT = re.compile(r"\[(S\d+[a-z]?)\]")
#: an absolute local path (never printed: reports get shared)
LOCAL_PATH = re.compile(r"(?<![\w:/])(?:/[\w.@+-]+){2,}/([\w.@+-]+)")


def at(obj: Any, name: str, default: Any = None) -> Any:
    """Field ``name`` of a dict or an object; ``default`` when missing or ``None``.

    >>> at({"tier": "probable"}, "tier"), at(None, "tier", "?"), at({"x": None}, "x", 0)
    ('probable', '?', 0)
    """
    if obj is None:
        return default
    v = obj.get(name, default) if isinstance(obj, Mapping) else getattr(obj, name, default)
    return default if v is None else v


def leg_end(leg: Any, end: str) -> Any:
    """A leg's ``from`` or ``to`` place id, whatever the field is called on a typed leg
    (``from`` is a Python keyword: ``from_``, ``from_place_id``, ``from_id`` ...).

    >>> leg_end({"from": "a", "to": "b"}, "to")
    'b'
    """
    for name in (end, f"{end}_", f"{end}_place_id", f"{end}_id", f"{end}_place"):
        v = at(leg, name)
        if v is not None:
            return v
    return None


def parse_ts(text: Any) -> datetime | None:
    """ISO date or timestamp (or a ``datetime``) -> naive datetime; ``None`` passes through.

    >>> parse_ts("2023-09-12"), parse_ts("2023-09-12T18:00:00")
    (datetime.datetime(2023, 9, 12, 0, 0), datetime.datetime(2023, 9, 12, 18, 0))
    """
    if not text:
        return None
    if isinstance(text, datetime):
        return text.replace(tzinfo=None)
    try:
        return datetime.fromisoformat(str(text).replace("Z", "")).replace(tzinfo=None)
    except ValueError:
        return None


def fmt_day(t: datetime | None) -> str:
    """``datetime`` -> ``12 Sep 2023`` (with ``HH:MM`` when not midnight).

    >>> fmt_day(datetime(2023, 9, 12)), fmt_day(datetime(2023, 10, 20, 11, 1))
    ('12 Sep 2023', '20 Oct 2023 11:01')
    """
    if t is None:
        return "?"
    s = f"{t.day} {MONTHS[t.month - 1]} {t.year}"
    return s if (t.hour, t.minute) == (0, 0) else f"{s} {t:%H:%M}"


def fmt_date(text: Any) -> str:
    """An ISO date string -> ``7 Sep 2023`` (``?`` when missing).

    >>> fmt_date("2023-09-07"), fmt_date(None)
    ('7 Sep 2023', '?')
    """
    return fmt_day(parse_ts(text)) if parse_ts(text) else (str(text) if text else "?")


def fmt_range(r: Any) -> str:
    """A contract range -> readable text (one day shows as that day).

    >>> fmt_range({"earliest": "2023-09-12T00:00:00", "latest": "2023-09-13T00:00:00"})
    '12 Sep 2023'
    >>> fmt_range({"earliest": "2023-09-07T00:00:00", "latest": "2023-09-12T18:00:00",
    ...            "uncertain": True})
    '7 Sep 2023 – 12 Sep 2023 18:00 (uncertain)'
    >>> fmt_range({"earliest": "2023-08-15T00:00:00", "latest": "2023-08-20T00:00:00",
    ...            "uncertain": True, "text": "mid-Aug 2023"})
    'mid-Aug 2023'
    """
    if not r:
        return "—"
    a, b = parse_ts(at(r, "earliest")), parse_ts(at(r, "latest"))
    text, uncertain = at(r, "text"), bool(at(r, "uncertain", False))
    if text and uncertain:
        return str(text)
    if a and b and b - a == timedelta(days=1) and (a.hour, a.minute) == (0, 0):
        return fmt_day(a)
    if a and b and a == b:
        return fmt_day(a)
    if a is None and b is None:
        return str(text or "unknown")
    out = f"{fmt_day(a) if a else 'unknown'} – {fmt_day(b) if b else 'unknown'}"
    return out + (" (uncertain)" if uncertain else "")


def bounds(r: Any) -> tuple[datetime, datetime] | None:
    """(earliest, latest) of a contract range, either end standing in for a missing other."""
    a, b = parse_ts(at(r, "earliest")), parse_ts(at(r, "latest"))
    if a is None and b is None:
        return None
    return (a or b, b or a)  # type: ignore[return-value]


def mid(r: Any) -> datetime | None:
    """The middle of a contract range."""
    b = bounds(r)
    return None if b is None else b[0] + (b[1] - b[0]) / 2


def fmt_num(v: Any) -> str:
    """``1000`` -> ``1,000``; ``None`` -> ``—``; keeps one decimal only when needed.

    >>> fmt_num(1000), fmt_num(3.65), fmt_num(None)
    ('1,000', '3.6', '—')
    """
    if v is None:
        return "—"
    f = float(v)
    return f"{f:,.0f}" if f == int(f) else f"{f:,.1f}"


def short_name(name: str) -> str:
    """A place's label: the name without its parenthesised or slashed detail.

    >>> short_name("Harbour depot (the 12th base)")
    'Harbour depot'
    >>> short_name("Portville / Port Ville (district)")
    'Portville'
    """
    return name.split(" (")[0].split(" / ")[0].strip() or name


def clip(text: str, n: int) -> str:
    """``text`` cut to ``n`` characters with an ellipsis."""
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def quoted(text: Any) -> Markup:
    """Escaped sentence in quotation marks (not doubled when it already has them).

    >>> str(quoted('"more than 1,000", delivered')), str(quoted("at least 4 ships"))
    ('&#34;more than 1,000&#34;, delivered', '“at least 4 ships”')
    """
    t = str(text or "").strip()
    if t[:1] in ('"', "“", "'"):
        return escape(t)
    return Markup("“") + escape(t) + Markup("”")


def no_local_paths(text: str) -> str:
    """Replace absolute local paths by their file name (reports are shared).

    >>> no_local_paths("from /home/ana/cases/x/corridor.yaml, line 3")
    'from corridor.yaml, line 3'
    """
    return LOCAL_PATH.sub(lambda m: m.group(1), text)


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # inline emphasis and code only: raw HTML stays escaped, links stay text (the sources
    # table is the one place with links out)
    return MarkdownIt("zero").enable(["emphasis", "backticks"])


def markdown_inline(text: Any) -> Markup:
    """Inline Markdown (``**bold**``, ``*em*``, `` `code` ``) rendered, everything else escaped.

    >>> str(markdown_inline("Chinese encyclopedia (**U**) <b>"))
    'Chinese encyclopedia (<strong>U</strong>) &lt;b&gt;'
    """
    return Markup(_markdown().renderInline(str(text or "")))


def strip_markdown(text: Any) -> str:
    """Plain text without Markdown emphasis marks (for SVG titles).

    >>> strip_markdown("a (**U**, secondary) `x`")
    'a (U, secondary) x'
    """
    return re.sub(r"(\*\*|__|\*|`)(.+?)\1", r"\2", str(text or ""))


def tag_link(tag: str) -> Markup:
    """A bracketed source tag linked to its row in the sources table."""
    return Markup('<a class="tag" href="#src-{0}">[{0}]</a>').format(tag)


class Prose:
    """Turns generated text (reasons, arithmetic, warnings, notes) into readable HTML.

    Place and vessel ids become their names, internal ids of shipments, claims and calls become links to
    the object (labelled in words), unknown ids are dropped from the text, ``[S6]`` tags link
    to the sources table, local paths shrink to a file name and inline Markdown is rendered.
    """

    def __init__(self, place_names: dict[str, str], links: dict[str, tuple[str, str]]):
        """``place_names``: id -> name of every place or vessel the text may name by id;
        ``links``: internal id -> (anchor, words) of every object the report shows."""
        self.place_names = place_names
        self.links = links
        ids = sorted(place_names, key=len, reverse=True)
        self._places = (re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ids)) + r")(?![\w-])")
                        if ids else None)

    def plain(self, text: Any) -> str:
        """Plain text: place ids named, ids described, no Markdown (for hover titles)."""
        t = no_local_paths(strip_markdown(text))
        if self._places is not None:
            t = self._places.sub(lambda m: self.place_names[m.group(1)], t)
        return HEX_ID.sub(lambda m: self.links.get(m.group(0), ("", "a stored record"))[1], t)

    def __call__(self, text: Any, markdown: bool = True) -> Markup:
        if not text:
            return Markup("")
        t = no_local_paths(str(text))
        html = str(markdown_inline(t) if markdown else escape(t))
        if self._places is not None:
            html = self._places.sub(lambda m: str(escape(self.place_names[m.group(1)])), html)

        def link(m: re.Match) -> str:
            target = self.links.get(m.group(0))
            if target is None:
                return "a stored record"
            return str(Markup('<a class="obj" href="#{}">{}</a>').format(*target))

        html = HEX_ID.sub(link, html)
        html = TAG_IN_TEXT.sub(lambda m: str(tag_link(m.group(1))), html)
        return Markup(html)
