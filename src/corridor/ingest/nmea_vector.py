"""AIS payloads of a whole chunk decoded at once, in numpy, with pyais's exact results.

pyais decodes one message at a time: a Python object per sentence, an arbitrary-precision
integer per payload and a Python call per field, which makes it the largest cost of reading
a log. Here the 6-bit ASCII payloads of a whole chunk are de-armored together (one lookup
table over all bytes) and each field is cut out of all messages of one layout with a few
array shifts. Nothing about the messages is hand-written: field offsets, widths and signs
come from pyais's own decoder plan (``Payload.decoder_plan``), and every converter of a
narrow field (speed, course, rate of turn, ship type, ...) becomes a table filled by calling
pyais's converter on every possible raw value. Only the wide coordinate fields use pyais's
integer formula (``to_lat_lon``) directly. pyais stays the oracle (``tests/test_nmea_vector.py``
compares every field of every real capture) and the fallback: rows this module does not
decode (other types, characters outside the 6-bit alphabet, type 24 part numbers 2-3) are
flagged in :attr:`DecodedPayloads.supported` for the caller to hand to pyais.

Truncated payloads are decoded as pyais decodes them: a field that starts at or after the
end of the payload is absent (``None``); a field cut short by the end holds the value of the
bits that are there (not shifted to the field's width), signed fields take their sign from
the first of those bits; text reads ``@`` past the end and loses trailing ``@`` and blanks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: Message types decoded here (positions and static reports).
VECTOR_TYPES = frozenset({1, 2, 3, 5, 18, 19, 24, 27})

#: Fields produced, by pyais's field names: those corridor stores plus the rate of turn.
FIELDS = ("mmsi", "status", "turn", "speed", "lon", "lat", "course", "heading", "second",
          "imo", "callsign", "shipname", "ship_type", "to_bow", "to_stern", "to_port",
          "to_starboard", "draught", "destination", "partno")
TEXT_FIELDS = frozenset({"callsign", "shipname", "destination"})

_BAD = 255
#: 6-bit value of each byte of an armored payload; _BAD outside ``0``-``W`` and `````-``w``.
_ARMOR = np.full(256, _BAD, np.uint8)
_ARMOR[48:88] = np.arange(0, 40)
_ARMOR[96:120] = np.arange(40, 64)
#: The character a 6-bit text value stands for (ITU-R M.1371 table 47).
#: The same as a ``bytes.translate`` table (one C pass over a whole chunk, no index array).
ARMOR_TABLE = _ARMOR.tobytes()
_SIXBIT_ASCII = np.array([v + 64 if v < 32 else v for v in range(64)], np.uint8)

# Layouts: one per pyais payload class; a row's layout follows from its type (and for
# type 24 its part number and MMSI).
_L123, _L5, _L18, _L19, _L24A, _L24B, _L24AUX, _L27 = range(8)
_N_LAYOUTS = 8


@dataclass(frozen=True)
class Column:
    """One decoded field: ``values`` (int64, float64 or object for text) and ``present``
    (False where pyais gives ``None`` or the message class has no such field)."""

    values: np.ndarray
    present: np.ndarray


@dataclass(frozen=True)
class DecodedPayloads:
    """Fields of a batch of AIS payloads, row for row.

    ``msg_type``: the type from the first six bits; ``supported``: rows decoded here (the
    others carry no fields and are for pyais); ``columns``: :data:`FIELDS` by name, in
    pyais's units (degrees, knots, degrees true, metres, ...). Text is ``str`` exactly as
    pyais returns it (trailing ``@`` and surrounding blanks stripped).
    """

    msg_type: np.ndarray
    supported: np.ndarray
    columns: dict[str, Column]

    def value(self, name: str, row: int):
        """One field of one row as pyais gives it (``None`` if absent)."""
        col = self.columns[name]
        if not col.present[row]:
            return None
        v = col.values[row]
        return v if isinstance(v, str) else v.item()

    def column_list(self, name: str, rows: np.ndarray) -> list:
        """One field of some rows as Python values (``None`` where absent)."""
        col = self.columns[name]
        return [v if p else None
                for v, p in zip(col.values[rows].tolist(), col.present[rows].tolist(), strict=True)]


@dataclass(frozen=True)
class _Field:
    offset: int
    width: int
    signed: bool
    kind: str  # "int", "float", "text"
    table: np.ndarray | None  # converted value per raw value (raw + 2**(width-1) if signed)
    formula: str | None  # "lat_lon" (1/10000 min) or "lat_lon_600" (1/10 min)


def _classes() -> list:
    from pyais import messages as m

    return [m.MessageType1, m.MessageType5, m.MessageType18, m.MessageType19,
            m.MessageType24PartA, m.MessageType24PartB, m.MessageType24PartBAuxiliaryCraft,
            m.MessageType27]


@lru_cache(maxsize=1)
def _layouts() -> tuple[dict[str, _Field], ...]:
    """The fields of :data:`FIELDS` in each layout, from pyais's decoder plans."""
    from pyais import messages as m

    formulas = {m.to_lat_lon: "lat_lon", m.to_lat_lon_600: "lat_lon_600"}
    kinds = {m.INT: "int", m.FLOAT: "float", m.STR: "text"}
    out = []
    for cls in _classes():
        fields: dict[str, _Field] = {}
        for name, offset, width, signed, kind, conv in cls.decoder_plan():
            if name not in FIELDS:
                continue
            k = kinds[kind]
            table = formula = None
            if conv is not None and conv in formulas:
                formula = formulas[conv]
            elif conv is not None or (k == "float" and width <= 12):
                if width > 12:
                    raise ValueError(f"no vector form for {cls.__name__}.{name}")
                table = _table(conv, width, signed, k)
            fields[name] = _Field(offset, width, signed, k, table, formula)
        out.append(fields)
    return tuple(out)


def _table(conv, width: int, signed: bool, kind: str) -> np.ndarray:
    """pyais's converter applied to every raw value of a field (as pyais calls it)."""
    lo = -(1 << (width - 1)) if signed else 0
    raws = range(lo, lo + (1 << width))
    cast = float if kind == "float" else int
    vals = [cast(conv(cast(r)) if conv is not None else cast(r)) for r in raws]
    return np.array(vals, np.float64 if kind == "float" else np.int64)


def sixbit_matrix(payloads: list[bytes], min_chars: int = 0) -> tuple[np.ndarray, np.ndarray,
                                                                       np.ndarray]:
    """De-armor payloads: (rows × chars matrix of 6-bit values, zero-padded; number of
    characters per row; rows holding a character outside the 6-bit alphabet)."""
    n = len(payloads)
    lens = np.fromiter(map(len, payloads), np.int64, count=n)
    width = max(int(lens.max()) if n else 0, min_chars)
    vals = _ARMOR[np.frombuffer(b"".join(payloads), np.uint8)]
    mat = np.zeros((n, width), np.uint8)
    mat[np.arange(width) < lens[:, None]] = vals
    bad = (mat == _BAD).any(axis=1)
    if bad.any():
        mat[bad] = 0
    return mat, lens, bad


def sixbit_segments(buf: np.ndarray, seg_start: np.ndarray, seg_len: np.ndarray,
                    seg_row: np.ndarray, n_rows: int, min_chars: int = 0,
                    armored: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """De-armor payloads given as byte ranges of one buffer, without a ``bytes`` object per
    payload: row ``seg_row[k]`` is the concatenation, in order, of its segments
    ``buf[seg_start[k]:seg_start[k] + seg_len[k]]`` (the fragments of a multi-sentence
    message; ``seg_row`` ascending, every row has one). Same result as
    :func:`sixbit_matrix` of the joined payloads, possibly with more zero columns.
    ``armored=False``: ``buf`` is already de-armored (``bytes.translate(ARMOR_TABLE)``)."""
    seg_start = np.asarray(seg_start, np.int64)
    seg_len = np.asarray(seg_len, np.int64)
    seg_row = np.asarray(seg_row, np.int64)
    nseg = len(seg_len)
    lens = np.bincount(seg_row, weights=seg_len, minlength=n_rows).astype(np.int64)
    if not nseg:
        return np.zeros((n_rows, min_chars), np.uint8), lens, np.zeros(n_rows, bool)
    wseg = int(seg_len.max())
    # every segment's bytes as one row of a (segments x wseg) matrix, read through a
    # sliding window over the buffer (no index array per byte)
    padded = np.concatenate((buf, np.zeros(wseg, np.uint8)))
    win = np.lib.stride_tricks.sliding_window_view(padded, wseg)
    seg = np.take(_ARMOR, win[seg_start]) if armored else win[seg_start]
    seg[np.arange(wseg) >= seg_len[:, None]] = 0
    bad = np.bincount(seg_row, weights=(seg == _BAD).any(axis=1), minlength=n_rows) > 0
    before = np.cumsum(seg_len) - seg_len
    first = np.concatenate(([0], np.cumsum(np.bincount(seg_row, minlength=n_rows))))[:-1]
    col0 = before - before[first[seg_row]]
    width = max(int((col0 + wseg).max()), min_chars)
    mat = np.zeros((n_rows, width), np.uint8)
    if nseg == n_rows:  # one segment per row
        mat[:, :wseg] = seg
    else:  # later segments go after the earlier ones (overwriting their zero tails)
        rank = np.arange(nseg) - first[seg_row]
        sel = np.flatnonzero(rank == 0)
        mat[seg_row[sel], :wseg] = seg[sel]
        cols = np.arange(wseg)
        for r in range(1, int(rank.max()) + 1):
            sel = np.flatnonzero(rank == r)
            mat[seg_row[sel][:, None], col0[sel][:, None] + cols] = seg[sel]
    mat = mat[:, :max(int(lens.max()), min_chars)]
    if bad.any():
        mat[bad] = 0
    return mat, lens, bad


def _extract(mat: np.ndarray, nbits: np.ndarray, offset: int, width: int,
             signed: bool) -> tuple[np.ndarray, np.ndarray]:
    """A field of every row as pyais's bit vector reads it: (int64 values, bits available).

    Bits past ``nbits`` (the payload's length less its fill bits) do not exist: a field
    with only ``a < width`` bits left has the value of those ``a`` bits.
    """
    c0, c1 = offset // 6, (offset + width - 1) // 6
    acc = mat[:, c0].astype(np.int64)
    for c in range(c0 + 1, c1 + 1):
        acc = (acc << 6) | mat[:, c]
    val = (acc >> (6 * (c1 + 1) - offset - width)) & ((1 << width) - 1)
    avail = np.clip(nbits - offset, 0, width)
    short = avail < width
    if short.any():
        val = np.where(short, val >> (width - avail), val)
    if signed:
        bits = np.maximum(avail, 1)
        neg = (avail > 0) & (((val >> (bits - 1)) & 1) == 1)
        val = np.where(neg, val - (np.int64(1) << bits), val)
    return val, avail


def _text(mat: np.ndarray, nbits: np.ndarray, offset: int, width: int) -> np.ndarray:
    """6-bit text as pyais's ``get_str``: '@' past the end, then ``rstrip('@').strip()``."""
    nch = width // 6
    codes = np.empty((len(mat), nch), np.uint8)
    for k in range(nch):
        v, avail = _extract(mat, nbits, offset + 6 * k, 6, False)
        codes[:, k] = _SIXBIT_ASCII[np.where(avail > 0, v, 0)]
    out = np.empty(len(mat), object)
    out[:] = [b.decode("ascii").rstrip("@").strip() for b in codes.view(f"S{nch}").ravel().tolist()]
    return out


def _convert(f: _Field, raw: np.ndarray) -> np.ndarray:
    if f.formula == "lat_lon":  # pyais to_lat_lon: round(raw * 5 / 3) / 1e6, in integers
        return ((10 * raw + 3) // 6) / 1e6
    if f.formula == "lat_lon_600":
        return ((10000 * raw + 3) // 6) / 1e6
    if f.table is not None:
        return f.table[raw + (1 << (f.width - 1)) if f.signed else raw]
    return raw.astype(np.float64) if f.kind == "float" else raw


def _layout_of(mat: np.ndarray, nbits: np.ndarray, msg_type: np.ndarray) -> np.ndarray:
    """Layout index of each row (-1: not decoded here)."""
    layout = np.full(len(msg_type), -1, np.int64)
    for types, lay in (((1, 2, 3), _L123), ((5,), _L5), ((18,), _L18), ((19,), _L19),
                       ((27,), _L27)):
        layout[np.isin(msg_type, types)] = lay
    is24 = msg_type == 24
    if is24.any():
        part, _ = _extract(mat, nbits, 38, 2, False)
        mmsi, _ = _extract(mat, nbits, 8, 30, False)
        aux = (mmsi >= 980_000_000) & (mmsi <= 989_999_999)  # pyais is_auxiliary_craft
        layout[is24 & (part == 0)] = _L24A
        layout[is24 & (part == 1) & ~aux] = _L24B
        layout[is24 & (part == 1) & aux] = _L24AUX
    return layout


def decode_payloads(payloads: list[bytes], fill_bits: np.ndarray | list[int]) -> DecodedPayloads:
    """Decode armored AIS payloads (multi-sentence messages already joined) with their fill
    bits (0-5, from the last sentence). See the module docstring for what is not decoded."""
    n = len(payloads)
    try:
        layouts = _layouts()
    except (AttributeError, KeyError, ValueError, TypeError):
        # A pyais whose decoder plan looks different: every row goes to pyais itself
        # (tests/test_nmea_vector.py fails loudly on such a pyais).
        layouts = ({},) * _N_LAYOUTS
        payloads, fill_bits = [b""] * n, [0] * n
    return decode_sixbit(*sixbit_matrix(payloads, min_chars=72), fill_bits, layouts)


def decode_sixbit(mat: np.ndarray, lens: np.ndarray, bad: np.ndarray,
                  fill_bits: np.ndarray | list[int], layouts: tuple | None = None
                  ) -> DecodedPayloads:
    """:func:`decode_payloads` of payloads already de-armored (:func:`sixbit_matrix`,
    :func:`sixbit_segments`); ``mat`` needs at least 72 columns."""
    n = len(lens)
    if layouts is None:
        try:
            layouts = _layouts()
        except (AttributeError, KeyError, ValueError, TypeError):
            layouts = ({},) * _N_LAYOUTS
            bad = np.ones(n, bool)
    fill = np.asarray(fill_bits, np.int64)
    if mat.shape[1] < 72:
        mat = np.pad(mat, ((0, 0), (0, 72 - mat.shape[1])))
    nbits = lens * 6 - fill
    mtype, avail = _extract(mat, nbits, 0, 6, False)
    layout = _layout_of(mat, nbits, mtype)
    supported = (layout >= 0) & ~bad & (avail == 6) & (fill >= 0) & (fill <= 5)
    layout[~supported] = -1

    columns: dict[str, Column] = {}
    for name in FIELDS:
        text = name in TEXT_FIELDS
        floating = name in ("turn", "speed", "lon", "lat", "course", "draught")
        values = (np.empty(n, object) if text
                  else np.zeros(n, np.float64 if floating else np.int64))
        columns[name] = Column(values, np.zeros(n, bool))
    for lay in range(_N_LAYOUTS):
        rows = np.flatnonzero(layout == lay)
        if not len(rows):
            continue
        sub, sub_bits = mat[rows], nbits[rows]
        for name, f in layouts[lay].items():
            col = columns[name]
            if f.kind == "text":
                vals = _text(sub, sub_bits, f.offset, f.width)
                present = sub_bits > f.offset
            else:
                raw, av = _extract(sub, sub_bits, f.offset, f.width, f.signed)
                vals = _convert(f, raw)
                present = av > 0
            col.values[rows] = vals
            col.present[rows] = present
    for name in TEXT_FIELDS:
        columns[name].values[~columns[name].present] = None
    return DecodedPayloads(msg_type=mtype, supported=supported, columns=columns)


# ------------------------------------------------------------------ framing in bulk
_HEX = np.full(256, 255, np.uint8)
_HEX[48:58] = np.arange(10)
_HEX[65:71] = np.arange(10, 16)
_HEX[97:103] = np.arange(10, 16)
_COMMA, _STAR, _BANG, _BACKSLASH, _NL = 44, 42, 33, 92, 10

#: Commas located per sentence: an AIVDM/AIVDO sentence has six (seven fields).
SENTENCE_COMMAS = 6


@dataclass(frozen=True)
class FramedLines:
    """Where the parts of every line of a chunk are, found for all lines at once.

    Offsets are into the chunk's bytes. ``start``/``end``: each line without its line break
    (and ``\r``). ``bang``: the sentence's ``!`` when the line is a bare sentence or a tag
    block followed by one, and ``star``: the first ``*`` after it, when two hex digits follow
    (else both are -1: ``$`` sentences, leading timestamps, blank or broken lines are for the
    line-by-line reader). ``checksum_ok``: the XOR of the bytes between ``!`` and ``*``
    equals those digits. ``commas``: offsets of the first :data:`SENTENCE_COMMAS` commas
    between ``!`` and ``*`` (-1 past the last); ``n_commas``: how many there are in all.
    """

    start: np.ndarray
    end: np.ndarray
    bang: np.ndarray
    star: np.ndarray
    checksum_ok: np.ndarray
    commas: np.ndarray
    n_commas: np.ndarray
    all_commas: np.ndarray | None = None  # every comma of the chunk (``$`` lines too)


def _first_per_line(pos: np.ndarray, line_of: np.ndarray, n: int,
                    after: np.ndarray | None = None) -> np.ndarray:
    """Offset of the first of ``pos`` on each line (after ``after[line]`` if given), else -1."""
    if after is not None:
        ok = pos > after[line_of]
        pos, line_of = pos[ok], line_of[ok]
    out = np.full(n, -1, np.int64)
    lines, first = np.unique(line_of, return_index=True)
    out[lines] = pos[first]
    return out


def frame_lines(chunk: bytes) -> FramedLines:
    """Split a chunk of an NMEA log into lines and locate, checksum and cut every AIS sentence
    in it with a few array operations over all its bytes (instead of a Python loop per line).
    """
    size = len(chunk)
    buf = np.frombuffer(chunk + b"\0", np.uint8)  # the NUL keeps every lookup below in range
    nl = np.flatnonzero(buf == _NL)
    start = np.concatenate(([0], nl + 1))
    end = np.concatenate((nl, [size]))
    if size and chunk[-1] == _NL:  # no empty line after the final line break
        start, end = start[:-1], end[:-1]
    n = len(start)
    cr = (end > start) & (buf[end - 1] == 13)
    end = end - cr

    def line_of(pos: np.ndarray) -> np.ndarray:
        return np.searchsorted(start, pos, side="right") - 1

    first = buf[start]
    nonempty = end > start
    # A sentence at the start of the line, or right after a tag block that opens the line.
    slashes = np.flatnonzero(buf == _BACKSLASH)
    closing = _first_per_line(slashes, line_of(slashes), n, after=start)
    tagged = (nonempty & (first == _BACKSLASH) & (closing >= 0) & (closing + 1 < end)
              & (buf[closing + 1] == _BANG))
    bang = np.where(nonempty & (first == _BANG), start, np.where(tagged, closing + 1, -1))
    stars = np.flatnonzero(buf == _STAR)
    star = _first_per_line(stars, line_of(stars), n, after=np.where(bang >= 0, bang, end))
    # Framed here: a "*" followed by two hex digits; anything else is for the line reader.
    framed = (bang >= 0) & (star > bang) & (star + 3 <= end)
    hi = _HEX[buf[np.where(framed, star + 1, 0)]]
    lo = _HEX[buf[np.where(framed, star + 2, 0)]]
    framed &= (hi < 16) & (lo < 16)
    bang, star = np.where(framed, bang, -1), np.where(framed, star, -1)
    # Checksum: XOR of the bytes between "!" and "*", all lines at once.
    checksum_ok = framed & (star == bang + 1) & (hi == 0) & (lo == 0)  # nothing to XOR: 0
    rows = np.flatnonzero(framed & (star > bang + 1))
    if len(rows):
        idx = np.empty(2 * len(rows), np.int64)
        idx[0::2], idx[1::2] = bang[rows] + 1, star[rows]
        xor = np.bitwise_xor.reduceat(buf, idx)[0::2]
        checksum_ok[rows] = xor == (hi[rows].astype(np.int64) << 4 | lo[rows])
    # The first commas of each sentence.
    all_commas = cpos = np.flatnonzero(buf == _COMMA)
    cline = line_of(cpos)
    inside = (bang[cline] >= 0) & (cpos > bang[cline]) & (cpos < star[cline])
    cpos, cline = cpos[inside], cline[inside]
    n_commas = np.bincount(cline, minlength=n).astype(np.int64)
    rank = np.arange(len(cpos)) - (np.cumsum(n_commas) - n_commas)[cline]
    commas = np.full((n, SENTENCE_COMMAS), -1, np.int64)
    keep = rank < SENTENCE_COMMAS
    commas[cline[keep], rank[keep]] = cpos[keep]
    return FramedLines(start, end, bang, star, checksum_ok, commas, n_commas, all_commas)
