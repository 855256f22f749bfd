"""Small helpers shared by the report's SVG figures: escaping, source links, numbers.

Figures are built as strings (no template engine): each element is a few attributes and
the text is escaped here, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape

#: A source tag as the case data writes it: ``S6``, ``S19b``, ``S40f``.
SOURCE_TAG = re.compile(r"\bS\d+[a-z]?\b")


def esc(text: object) -> str:
    """HTML/SVG-escape any value (``None`` -> empty string).

    >>> esc('a < b & "c"')
    'a &lt; b &amp; &quot;c&quot;'
    """
    return "" if text is None else escape(str(text), quote=True)


def source_tags(*texts: object) -> list[str]:
    """Source tags found in citation strings, in first-seen order, without repeats.

    >>> source_tags("[S6][S7]", "RUSI via [S11]; [S6]")
    ['S6', 'S7', 'S11']
    """
    out: list[str] = []
    for t in texts:
        if t is None:
            continue
        items: Iterable[object] = t if isinstance(t, (list, tuple)) else [t]
        for item in items:
            for tag in SOURCE_TAG.findall(str(item)):
                if tag not in out:
                    out.append(tag)
    return out


def anchor_id(tag: str) -> str:
    """The HTML id of a source's row in the sources table.

    >>> anchor_id("S19b")
    'src-S19b'
    """
    return f"src-{tag}"


def cite_links(tags: list[str]) -> str:
    """HTML superscript links ``[S6][S7]`` to the sources table (empty if no tags)."""
    if not tags:
        return ""
    links = "".join(f'<a href="#{anchor_id(t)}">{esc(t)}</a>' for t in tags)
    return f'<sup class="cite">{links}</sup>'


def num(v: float, decimals: int = 1) -> str:
    """Compact SVG coordinate.

    >>> num(3.0), num(2.25), num(-0.04)
    ('3', '2.2', '0')
    """
    s = f"{float(v):.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def linked(inner: str, tags: list[str], title: str) -> str:
    """Wrap an SVG element in a hover title and a link to its first source."""
    t = f"<title>{esc(title)}</title>"
    if tags:
        return f'<a href="#{anchor_id(tags[0])}">{t}{inner}</a>'
    return f"<g>{t}{inner}</g>"
