"""Text from the data, made safe to show: on a terminal and in the report.

Names, captions and sentences come from files anyone can write. Two tricks spoof what a
reader sees:

- **control characters** on a terminal: ESC starts escape sequences (set the window title,
  clear the screen, move the cursor, recolour), CR and LF split or overwrite a table row.
  :func:`terminal_safe` shows each one as a visible escape (``\\x1b``, ``\\n``) instead.
- **bidirectional controls** anywhere: an unterminated RIGHT-TO-LEFT OVERRIDE (U+202E) makes
  "00001 sreniatnoc" display as "containers 10000", and its effect runs on into the text
  that follows. :func:`isolate_bidi` keeps only embeddings, overrides and isolates that are
  closed inside the text (real right-to-left text needs none of them; the Unicode
  bidirectional algorithm orders Arabic and Hebrew letters itself), drops the unpaired
  ones, and wraps the whole in FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE (U+2068 …
  U+2069), so a value's direction cannot leak into what is shown around it (Unicode UAX #9,
  and the W3C's advice for inserting untrusted text).

Both keep every other character (letters of any script, emoji) as it is.
"""

from __future__ import annotations

import re

FSI, PDI, PDF = "\u2068", "\u2069", "\u202c"
_EMBEDDINGS = frozenset("\u202a\u202b\u202d\u202e")  # LRE RLE LRO RLO, closed by PDF
_ISOLATES = frozenset("\u2066\u2067\u2068")  # LRI RLI FSI, closed by PDI
_BIDI_CONTROLS = _EMBEDDINGS | _ISOLATES | {PDF, PDI}
#: C0 and C1 controls, DEL, line/paragraph separators, and the bidi embedding, override and
#: isolate controls plus the invisible marks (LRM, RLM, ALM), which a terminal shows raw
_TERMINAL_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def terminal_safe(text: str) -> str:
    """``text`` with every control character shown as a visible escape.

    >>> terminal_safe("EVIL\\x1b]0;pwned\\x07\\nrow")
    'EVIL\\\\x1b]0;pwned\\\\x07\\\\nrow'
    >>> terminal_safe("\\u202e00001 sreniatnoc")
    '\\\\u202e00001 sreniatnoc'
    >>> terminal_safe("Mañana 北斗 مرحبا")
    'Mañana 北斗 مرحبا'
    """
    return _TERMINAL_UNSAFE.sub(_escape, text)


def _escape(m: re.Match) -> str:
    ch = m.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def isolate_bidi(text: str | None) -> str | None:
    """``text`` with unpaired bidi controls removed, wrapped in FSI … PDI (see the module
    docstring); None stays None. Escape for HTML afterwards as usual.

    >>> isolate_bidi("\\u202e00001 sreniatnoc") == FSI + "00001 sreniatnoc" + PDI
    True
    >>> isolate_bidi("a \\u202bמשלוח\\u202c b") == FSI + "a \\u202bמשלוח\\u202c b" + PDI
    True
    >>> isolate_bidi("x\\u2069\\u202c y") == FSI + "x y" + PDI
    True
    """
    if text is None:
        return None
    if not any(ch in _BIDI_CONTROLS for ch in text):
        return FSI + text + PDI
    keep = [True] * len(text)
    stack: list[int] = []  # positions of the open embeddings and isolates

    def drop_open() -> None:
        for i in stack:
            keep[i] = False
        stack.clear()

    for i, ch in enumerate(text):
        if ch in _EMBEDDINGS or ch in _ISOLATES:
            stack.append(i)
        elif ch == PDF:
            if stack and text[stack[-1]] in _EMBEDDINGS:
                stack.pop()
            else:
                keep[i] = False
        elif ch == PDI:
            iso = next((k for k in range(len(stack) - 1, -1, -1) if text[stack[k]] in _ISOLATES), None)
            if iso is None:
                keep[i] = False
            else:
                for j in stack[iso + 1:]:  # embeddings left open inside the isolate
                    keep[j] = False
                del stack[iso:]
        elif ch in "\n\r\u2029\u0085\x1c\x1d\x1e":  # a paragraph end closes everything
            drop_open()
    drop_open()
    return FSI + "".join(ch for ch, k in zip(text, keep, strict=True) if k) + PDI
