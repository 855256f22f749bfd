"""Field values with their character spans in the report text.

Every recogniser returns plain dicts (JSON-ready) built by :func:`span_field`: the
matched ``text`` and its ``start``/``end`` offsets (Python string indices, end
exclusive) in the *report* text, plus normalised values. Keeping spans on every field
is what makes an extracted claim checkable: the analyst can see exactly which words
produced each value.

>>> span_field("at Alder port", 3, 8, base=100, name="Alder")
{'text': 'Alder', 'start': 103, 'end': 108, 'name': 'Alder'}
"""

from __future__ import annotations

from typing import Any


def span_field(sentence: str, start: int, end: int, *, base: int = 0, **values: Any) -> dict:
    """A field dict for ``sentence[start:end]``, offsets shifted by ``base`` (sentence start)."""
    out: dict[str, Any] = {"text": sentence[start:end], "start": base + start, "end": base + end}
    out.update(values)
    return out


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """True when two half-open spans share at least one character.

    >>> overlaps((0, 5), (4, 8)), overlaps((0, 5), (5, 8))
    (True, False)
    """
    return a[0] < b[1] and b[0] < a[1]
