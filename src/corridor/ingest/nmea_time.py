"""Receive times of raw AIS NMEA lines, from whatever the logger wrote around the sentence.

An AIS position carries only the UTC *second* of its fix; the date and hour come from
the receiver or logger. Logs write that time in one of several places, all handled here
and returned as integer microseconds since the Unix epoch (UTC):

- an NMEA 4 tag block ``\\s:station,c:1635731889*6A\\!AIVDM,...``: ``c:`` is seconds, or
  milliseconds when the value is too large to be seconds (> 1e11), parsed by pyais's
  :class:`pyais.messages.TagBlock` (station ``s:`` and group ``g:`` come from it too);
- a leading timestamp before the sentence: ISO 8601 (``2023-09-07T12:00:00Z !AIVDM...``,
  ``2023-09-07 12:00:00.5;!AIVDM...``) or a bare Unix epoch (``1635731889.25 !AIVDM...``);
- trailing fields after the checksum in the libais / USCG layout
  (``...,0*70,b003669794,1272412827`` or ``...,r003669946,1325394060,1325394001``): the
  first purely numeric field is the logger's epoch (libais ``uscg.py`` reads it the same way);
- a Gatehouse ``$PGHP,1,YYYY,M,D,h,m,s,ms,...`` sentence preceding the AIS sentence
  (same reading as pyais's ``GatehouseSentence``, see :func:`gatehouse_time`).

pyais parses tag blocks and ``$PGHP`` but not leading ISO stamps or the USCG trailer, and
its sentence parser takes the *last* comma field as the checksum, so trailing metadata has
to be cut off first: those two small parsers are written here by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from pyais.messages import NMEASentenceFactory, TagBlock  # noqa: F401 (doctest)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: Epoch values above this are milliseconds, not seconds (1e11 s is the year 5138).
_MS_THRESHOLD = 1e11
_NUMERIC = re.compile(rb"^\d{9,13}(\.\d+)?$")
_ISO = re.compile(
    rb"^(\d{4}-\d{2}-\d{2})[T _](\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(Z|UTC|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_PREFIX_SEPARATORS = b" \t,;|:"


@dataclass(frozen=True)
class TagInfo:
    """What a tag block says: receive time (µs), source station, group (num, total, id)."""

    ts_us: int | None
    station: str | None
    group: tuple[int, int, int] | None
    valid: bool


def epoch_to_us(value: float) -> int:
    """Seconds (or milliseconds, when > 1e11) since the epoch → integer microseconds.

    >>> epoch_to_us(1635731889), epoch_to_us(1635731889123)
    (1635731889000000, 1635731889123000)
    """
    if value > _MS_THRESHOLD:
        return int(round(value * 1000))
    return int(round(value * 1_000_000))


def datetime_to_us(dt: datetime) -> int:
    """A datetime (naive = UTC) → microseconds since the epoch.

    >>> datetime_to_us(datetime(2010, 6, 11, 11, 46, 11, 390000))
    1276256771390000
    """
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def parse_epoch(text: bytes) -> int | None:
    """A bare Unix epoch field (9–13 digits, optional fraction) → µs, else None.

    >>> parse_epoch(b"1272412827"), parse_epoch(b"b003669794"), parse_epoch(b"12")
    (1272412827000000, None, None)
    """
    if not _NUMERIC.match(text):
        return None
    return epoch_to_us(float(text))


def parse_iso(text: bytes) -> int | None:
    """An ISO 8601 date-time (UTC unless an offset is given) → µs, else None.

    >>> parse_iso(b"2023-09-07T12:00:00Z") == parse_iso(b"2023-09-07 14:00:00+02:00")
    True
    >>> parse_iso(b"yesterday") is None
    True
    """
    m = _ISO.match(text.strip())
    if not m:
        return None
    date, clock, zone = m.group(1), m.group(2).replace(b",", b"."), m.group(3)
    iso = (date + b"T" + clock).decode("ascii")
    if zone and zone.upper() not in (b"Z", b"UTC"):
        z = zone.decode("ascii")
        iso += z if ":" in z else f"{z[:3]}:{z[3:]}"
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return datetime_to_us(dt)


def leading_time(prefix: bytes) -> int | None:
    """Time written before the sentence on the same line (ISO or epoch), else None.

    >>> leading_time(b"2021-11-01T01:58:09.5Z ") == 1635731889_500000
    True
    >>> leading_time(b"1635731889;")
    1635731889000000
    """
    text = prefix.strip(_PREFIX_SEPARATORS)
    if not text:
        return None
    return parse_epoch(text) if text[:1].isdigit() and b"-" not in text else parse_iso(text)


#: Receive times before this (1990-01-01, µs) are not AIS times (AIS was adopted in
#: 2000-2004): a damaged or zeroed clock, not a position of 1970.
EARLIEST_US = 631_152_000_000_000


def trailing_time(trailer: bytes) -> int | None:
    """Receive time from USCG / libais metadata after the checksum, else None.

    ``trailer`` is what follows ``*hh`` (it starts with a comma when present).

    >>> trailing_time(b",b003669794,1272412827")
    1272412827000000
    >>> trailing_time(b",d-109,S2105,t050056.00,T56.137,r003669946,1325394060,1325394001")
    1325394060000000
    >>> trailing_time(b"") is None, trailing_time(b",2,2,4,A,00000000000,2") is None
    (True, True)
    """
    if not trailer:
        return None
    for field in trailer.split(b","):
        field = field.strip()
        # an epoch has at least nine digits (any time since 1973); a short number in the
        # metadata ("2", a channel, a count) is not a time
        if len(field) >= 9 and field.replace(b".", b"", 1).isdigit():
            ts = parse_epoch(field)
            if ts is not None and ts >= EARLIEST_US:
                return ts
    return None


#: Parsed tag blocks by their bytes: satellite and network feeds repeat the same block
#: (same station and second) over many consecutive lines. Bounded; cleared when full.
_TAG_CACHE: dict[bytes, TagInfo] = {}
_TAG_CACHE_MAX = 4096


def tag_block_info(raw: bytes) -> TagInfo:
    """Parse an NMEA 4 tag block (without its backslashes), with a small cache."""
    info = _TAG_CACHE.get(raw)
    if info is None:
        if len(_TAG_CACHE) >= _TAG_CACHE_MAX:
            _TAG_CACHE.clear()
        info = _TAG_CACHE[raw] = parse_tag_block(raw)
    return info


#: An NMEA 4 tag block: fields, then ``*`` and the checksum: two hex digits (one in the tag
#: blocks pyais writes, which do not pad it).
_TAG_FORM = re.compile(rb"[^*\\]*\*[0-9A-Fa-f]{1,2}")


def parse_tag_block(raw: bytes) -> TagInfo:
    r"""Parse an NMEA 4 tag block (without its backslashes) with pyais.

    A tag block whose own checksum fails is returned with ``valid=False`` and no fields:
    its time and grouping cannot be trusted.

    >>> info = parse_tag_block(b"g:1-2-1604,s:rORBCOMM008,c:1418169601,T:2014-12-10 00.00.01*37")
    >>> info.ts_us, info.station, info.group, info.valid
    (1418169601000000, 'rORBCOMM008', (1, 2, 1604), True)
    """
    if not _TAG_FORM.fullmatch(raw):  # pyais also takes "*\r74" or "*07D" (found by fuzzing)
        return TagInfo(None, None, None, False)
    tb = TagBlock(raw)
    tb.init()
    if not tb.is_valid:
        return TagInfo(None, None, None, False)
    ts = None
    stamp = tb.receiver_timestamp
    if stamp:
        try:
            ts = epoch_to_us(float(stamp))
        except (ValueError, OverflowError):  # "c:inf", "c:nan", "c:1e400"
            ts = None
    group = tb.group
    g = (group.sentence_num, group.sentence_tot, group.group_id) if group is not None else None
    return TagInfo(ts, tb.source_station or None, g, True)


def nmea_checksum(body: bytes) -> int:
    """XOR of all bytes of a sentence between its delimiter and ``*`` (the NMEA checksum).

    Same result as ``pyais.util.compute_checksum``, several times faster (the bytes are read
    as one integer folded onto itself instead of a Python loop over bytes); it runs on every
    line, so it is written here.

    >>> from pyais.util import compute_checksum
    >>> s = b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"
    >>> nmea_checksum(s[1:-3]) == compute_checksum(s) == 0x4A
    True
    """
    n = int.from_bytes(body, "little")
    k = 1 << max(len(body) - 1, 0).bit_length()  # a power of two >= len(body), in bytes
    while k > 1:
        k >>= 1
        n ^= n >> (8 * k)
    return n & 0xFF


_DAYS: dict[tuple[int, int, int], int] = {}


def gatehouse_time(sentence: bytes) -> int | None:
    """Receive time of a Gatehouse ``$PGHP,1,YYYY,M,D,h,m,s,ms,...`` sentence, else None.

    Gatehouse logs put one of these before every AIS sentence, so it is the most frequent
    line there; pyais's ``GatehouseSentence`` also decodes station fields corridor does not
    use and builds a datetime per line, so the time fields are read here directly (the
    result is the same, as the example checks).

    >>> line = b"$PGHP,1,2010,6,11,11,46,11,390,231,45,992190934,1,2B*5B"
    >>> gatehouse_time(line)
    1276256771390000
    >>> gatehouse_time(line) == datetime_to_us(NMEASentenceFactory.produce(line).timestamp)
    True
    >>> gatehouse_time(b"$PGHP,1,2010,13,45,xx*00") is None
    True
    """
    f = sentence.split(b",", 10)
    if len(f) < 10 or f[1] != b"1":
        return None
    try:
        y, mo, d, h, mi, sec, ms = (int(x) for x in f[2:9])
        days = _DAYS.get((y, mo, d))
        if days is None:
            days = (datetime(y, mo, d, tzinfo=timezone.utc) - _EPOCH).days
            if len(_DAYS) > 10_000:
                _DAYS.clear()
            _DAYS[(y, mo, d)] = days
    except (ValueError, OverflowError):
        return None
    if not (0 <= h < 24 and 0 <= mi < 60 and 0 <= sec < 61 and 0 <= ms < 1000):
        return None
    return ((days * 86400 + h * 3600 + mi * 60 + sec) * 1000 + ms) * 1000
