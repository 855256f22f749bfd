"""Raw AIS NMEA logs → ``positions`` and ``vessel_reports``, through pyais.

What is stored
--------------
- **positions**: one row per AIS position report of type 1, 2, 3, 18, 19 or 27 that has a
  valid latitude/longitude and a receive time. ITU-R M.1371 "not available" values become
  NULL: lat 91 / lon 181 (then the report is not a position: ``invalid_position``), sog
  102.3 kn (types 1–3, 18, 19) or 63 kn (type 27), cog 360° (511 for type 27), heading 511.
  ``ts`` is the time of the position fix: the receive time corrected to the report's own
  UTC-second field (the latest instant with that second not more than 5 s after the receive
  time), or the receive time itself when the report has no second (type 27, second ≥ 60).
  This is never less accurate than the receive time and makes every reception of one
  transmission carry the same ``ts``.
- **vessel_reports**: one row per static/voyage report of type 5, 19 or 24. A type 24 part A
  (name) and part B (call sign, ship type, dimensions) of the same MMSI received within
  ``type24_merge_window_s`` of each other (or both untimed) are merged into one row; a part
  without its partner is kept alone. Static reports without a receive time are kept with
  NULL ``ts``.

The same message heard by several stations (dedupe rule)
--------------------------------------------------------
A position's ``obs_id`` is :func:`corridor.ids.position_obs_ids` of (mmsi, ts, lat, lon,
msg_type) with ``ts`` the fix time above. Every reception of one transmission logged between
5 s before and 55 s after the fix (station clocks, network delay) therefore gets the same id
and the store keeps one row (the first ingested), within a file, across files and across
re-runs. Reports without a usable second are only recognised as copies when their receive
times are identical.
A static report's ``obs_id`` hashes (mmsi, type, receive minute or "untimed", the
stored fields of each part): the same report received twice in a minute is one row, and so
is an untimed log's repetition of an unchanged report.

Time sources, in order of precedence (see :mod:`corridor.ingest.nmea_time`): tag-block
``c:``; a leading ISO/epoch timestamp; trailing USCG/libais epoch; the preceding ``$PGHP``
line; ``assume_time``. A multi-sentence message takes the time of its first timed fragment.

Fragments of a multi-sentence message are joined when they share the tag-block group id
(``g:``), or else the same source station, talker, sentence type, channel, sequence id and
fragment count, and arrive in order. A fragment whose predecessors never came, and the
fragments of a message not completed within ``fragment_max_lines`` lines (or restarted by a
new first fragment with the same key), are counted as ``orphan_fragment``.

Skip reasons (counted with example line numbers): ``checksum``, ``malformed``,
``unsupported_type`` (message type 0 or 28–63), ``missing_time``, ``invalid_position``,
``invalid_mmsi`` (not 100000000-999999999, see :mod:`corridor.ingest.mmsi`),
``orphan_fragment``, ``future_timestamp`` (after now + 1 day), ``line_too_long`` (longer
than :data:`MAX_LINE_BYTES`: never read whole). Receive times before 1990 count as
``missing_time``; a gzip file that decompresses to more than :data:`MAX_GZIP_RATIO` times
its size fails as a compression bomb. Informational, not errors:
``other_type`` (valid AIS messages of types corridor does not store: base stations, binary,
safety..., and non-AIS NMEA such as ``$GPGGA``). Receptions of a message already seen are
reported as duplicates (offered but not added), not as skips.

How it is fast
--------------
pyais's stream assembler drops orphan fragments silently, does not key on tag-block groups
or stations and cannot read USCG trailers (it takes the last comma field as the checksum), so
line framing and fragment assembly are done here. The file is read in 1 MB blocks and cut
into chunks of lines as bytes (:func:`bounded_chunks`: no Python object per line). The plain
lines of a chunk (a single-sentence AIS line, alone or after a tag block, timed by its
``c:``, its trailer, the ``$PGHP`` line before it or ``assume_time``; most lines of most
logs) are framed, checked and cut all at once with numpy
(:func:`corridor.ingest.nmea_vector.frame_lines`), and so are the fragments of
multi-sentence messages whose assembly needs no judgement (:func:`_pair_fragments`: the
same keys as below, complete runs 1..n, nothing of the key pending); the others (orphans,
leading timestamps, anything unusual) are read one by one with one ``bytes.split`` each, in
file order, and both kinds of message are decoded in that order: the result is the same as
reading every line one by one (``NmeaOptions.bulk_framing=False``, compared on every real
capture and on files of odd lines and broken fragments by ``tests/test_nmea_bulk_*.py``).
The payloads of the message types corridor stores are de-armored from their byte ranges and
decoded a chunk at a time by :mod:`corridor.ingest.nmea_vector` (numpy, field offsets and
converters taken from pyais, the same values as pyais to the bit); pyais decodes the rest
(odd sentences, characters outside the 6-bit alphabet) one by one. Other types never become
pyais objects. Static reports are built as Arrow columns, their content hash taken once per
distinct report. Files above ``parallel_min_bytes`` are cut into chunks decoded in a process
pool (all cores; each chunk is sent as one ``bytes``); fragments that straddle a chunk
boundary are handed back and assembled in the main process, which also merges type 24
parts and feeds the store. The parser's memory is bounded by the chunk size and the chunks
in flight.
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import io
import itertools
import multiprocessing
import os
import sys
import time
import types
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyais.exceptions import MissingPayloadException
from pyais.messages import AISSentence

from corridor.ids import combine_u64, position_obs_ids
from corridor.ingest.mmsi import MMSI_MAX, MMSI_MIN
from corridor.ingest.nmea_time import (
    EARLIEST_US,
    datetime_to_us,
    gatehouse_time,
    leading_time,
    nmea_checksum,
    tag_block_info,
    trailing_time,
)
from corridor.ingest.nmea_vector import (
    ARMOR_TABLE,
    FIELDS,
    decode_sixbit,
    frame_lines,
    sixbit_matrix,
    sixbit_segments,
)
from corridor.ingest.summary import INFO_REASONS, IngestError, IngestSummary, ingest_file
from corridor.schema import POSITIONS, VESSEL_REPORTS
from corridor.store import Store
from corridor.workers import die_with_parent

KIND = "nmea"
POSITION_TYPES = frozenset({1, 2, 3, 18, 19, 27})
STATIC_TYPES = frozenset({5, 19, 24})
_DECODED_TYPES = POSITION_TYPES | STATIC_TYPES
_POSITION_LIST, _STATIC_LIST = sorted(POSITION_TYPES), sorted(STATIC_TYPES)
_SMALL_INTS = {str(i).encode(): i for i in range(1, 10)}  # fragment counts/numbers (1-9)

_OTHER_AIS = "AIS types corridor does not store (4, 8, 21, ...)"
_MINUTE_US = 60_000_000
_CLOCK_SLACK_US = 5_000_000
_BACKSLASH, _BANG, _DOLLAR, _HASH, _NL = 0x5C, 0x21, 0x24, 0x23, 0x0A


@dataclass(frozen=True)
class NmeaOptions:
    """How to read a log.

    ``assume_time``: receive time (naive = UTC) for lines that carry none.
    ``source``: dataset id stored in ``source`` (default: the file name).
    ``strict``: any skipped line (other than informational reasons) fails the file.
    ``workers``: decoding processes (0 = one per CPU, 1 = in-process).
    ``chunk_lines``: lines per decoded chunk (bounds memory).
    ``parallel_min_bytes``: files smaller than this are decoded in-process.
    ``future_tolerance_s``: receive times later than now + this are ``future_timestamp``.
    ``type24_merge_window_s``: max seconds between a type 24 part A and B to merge them.
    ``fragment_max_lines``: fragments of one message must lie within this many lines.
    ``bulk_framing``: frame the plain single-sentence lines of a chunk all at once (numpy);
    False reads every line one by one (same result, kept to check that it is the same).
    """

    assume_time: datetime | None = None
    source: str | None = None
    strict: bool = False
    workers: int = 0
    chunk_lines: int = 50_000
    parallel_min_bytes: int = 4_000_000
    future_tolerance_s: float = 86_400.0
    type24_merge_window_s: float = 600.0
    fragment_max_lines: int = 1_000
    bulk_framing: bool = True


#: |receive time| limit in µs for the int64 columns (year ~148,000).
_TS_CLAMP = 1 << 62


def _clamp_ts(t: int) -> int:
    """A receive time that fits the int64 columns: a damaged tag block's time past int64
    (``c:891694969626169519``) is clamped far beyond any real one, so it counts as
    ``future_timestamp`` instead of failing the file."""
    return max(-_TS_CLAMP, min(t, _TS_CLAMP))


@dataclass(frozen=True)
class _Ctx:
    """The picklable part of the options a decoding worker needs."""

    source: str
    assume_us: int | None
    max_ts_us: int
    fragment_max_lines: int
    bulk_framing: bool = True


# A fragment waiting for its partners: (line_no, ts_us, key, frag_num, frag_cnt, sentence).
Frag = tuple


@dataclass
class _Out:
    """Accumulated results of decoding some lines."""

    positions: list = field(default_factory=list)  # column blocks, see _Scanner._flush
    statics: list = field(default_factory=list)  # STATIC_ROWS blocks
    skips: dict = field(default_factory=dict)  # reason -> [count, [line_nos], detail]

    def skip(self, reason: str, line_no: int, detail: str | None = None, n: int = 1) -> None:
        entry = self.skips.get(reason)
        if entry is None:
            entry = self.skips[reason] = [0, [], detail]
        entry[0] += n
        # The first five lines, whatever order they were found in (messages are decoded
        # after the chunk's lines are framed).
        lines = entry[1]
        if len(lines) < 5 or line_no < lines[-1]:
            bisect.insort(lines, line_no)
            del lines[5:]


@dataclass
class ChunkResult:
    """What a worker hands back for one chunk of lines."""

    rows_in: int
    nmea_lines: int
    positions: pa.Table
    static_rows: pa.Table  # STATIC_ROWS
    skips: dict
    loose: list  # fragments n>1 whose first fragment is not in this chunk
    open: dict  # key -> fragments still waiting at the end of the chunk
    duplicates: int = 0  # receptions of a message already in this chunk (dropped)

    @property
    def statics(self) -> list[dict]:
        """The static rows as dicts (for inspection; the parser uses :attr:`static_rows`)."""
        return self.static_rows.to_pylist()


def _expand(lines: list[bytes], first_line_no: int) -> Iterator[tuple[int, bytes]]:
    """Number lines; a line holding several sentences joined by a literal ``\\r\\n`` (as
    some escaped exports do) is split into them, all with the same line number."""
    for line_no, raw in enumerate(lines, first_line_no):
        if b"\\r\\n" in raw:
            for part in raw.split(b"\\r\\n"):
                yield line_no, part
        else:
            yield line_no, raw


#: Bytes ``bytes.strip()`` removes (a line with any at either end is read line by line).
_SPACE = np.zeros(256, bool)
_SPACE[[9, 10, 11, 12, 13, 32]] = True
_DIGIT = np.zeros(256, bool)
_DIGIT[48:58] = True


@dataclass(frozen=True)
class _BulkLines:
    """The plain lines of one scanned list, framed all at once (see :func:`_bulk_lines`).

    Positions are indices into the list (a line holding sentences joined by a literal
    ``\\r\\n`` is one item per sentence, see :func:`_expand`). ``slow``: lines left to the line
    loop; ``other_pos``/``other_lines``: AIS messages of types corridor does not store (the
    position where the line loop counts each, i.e. of its last fragment, and the line number
    it names, of its first). Queued messages (decoded in position order with the line
    loop's): ``pos`` (position of the last fragment), ``fill`` bits (of the last fragment),
    ``mtype``, receive time ``ts`` (``has_ts``), ``line_nos`` (of the first fragment), and
    their fragments ``seg_first[j]:seg_first[j] + seg_n[j]`` of the segment arrays
    (``seg_bang``/``seg_star``: the sentence in ``chunk``; ``seg_a``/``seg_len``: its
    payload). ``keys``: the fragment keys of the messages assembled here; ``seen``: the
    fragment lines whose keys were read here, assembled or not (a fragment the loop reads
    with one of those keys that is not ``seen`` means the chunk must be read again without
    them, see :class:`_Rescan`); ``open_max``: most of the assembled messages open at once.
    """

    n_lines: int
    slow: np.ndarray
    other_pos: np.ndarray
    other_lines: np.ndarray
    pos: np.ndarray
    fill: np.ndarray
    mtype: np.ndarray
    ts: np.ndarray
    has_ts: np.ndarray
    line_nos: np.ndarray
    seg_first: np.ndarray
    seg_n: np.ndarray
    seg_bang: np.ndarray
    seg_star: np.ndarray
    seg_a: np.ndarray
    seg_len: np.ndarray
    chunk: bytes
    buf: np.ndarray
    keys: frozenset = frozenset()
    open_max: int = 0
    seen: np.ndarray | None = None  # fragment lines whose key was read here (assembled or not)
    line_start: np.ndarray | None = None  # every line's bytes in chunk (without "\r")
    line_end: np.ndarray | None = None

    def parts(self, j: int) -> list:
        """Queued message ``j`` as the line loop gives it: [(sentence, fields)] in order."""
        a = int(self.seg_first[j])
        out = []
        for k in range(a, a + int(self.seg_n[j])):
            sentence = self.chunk[int(self.seg_bang[k]):int(self.seg_star[k]) + 3]
            out.append((sentence, sentence.split(b",")))
        return out

    def sixbit(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The queued messages' payloads de-armored (:func:`sixbit_segments`)."""
        rows = np.repeat(np.arange(len(self.seg_n)), self.seg_n)
        values = np.frombuffer(self.chunk.translate(ARMOR_TABLE), np.uint8)
        return sixbit_segments(values, self.seg_a, self.seg_len, rows, len(self.seg_n), 72,
                               armored=False)


class _Rescan(Exception):
    """The line loop met a fragment whose message key the bulk assembly used, or so many
    open messages that evicting them could differ: the chunk is read again with fragments
    left to the loop (same result as reading every line one by one)."""


_PGHP = np.frombuffer(b"$PGHP,1,", np.uint8)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)


def _gatehouse_times(buf: np.ndarray, start: np.ndarray, end: np.ndarray,
                     rows: np.ndarray, cpos: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Receive times (µs) of the ``$PGHP,1,YYYY,M,D,h,m,s,ms,...`` lines ``rows``, read
    with array operations: (times, sure). Only lines in the plainest form (fields of 1-4
    digits, a real date and time) are ``sure``; :func:`gatehouse_time` reads the others, so
    every time is the one it gives. ``cpos``: the offsets of every comma in ``buf``, if
    known."""
    k = len(rows)
    sure = np.zeros(k, bool)
    out = np.zeros(k, np.int64)
    if not k:
        return out, sure
    s0, e0 = start[rows], end[rows]
    sure = e0 - s0 > 20
    for j, b in enumerate(_PGHP.tolist()):
        sure &= buf[np.where(sure, s0 + j, 0)] == b
    # the commas after "$PGHP,1" (the seventh byte) that end fields 2-8
    lo, hi = s0 + 7, e0
    if cpos is None:
        cpos = np.flatnonzero(buf == 44)
    first = np.searchsorted(cpos, lo)
    fields = []
    for f in range(8):  # commas 1-8 of the line: fields 2-8 lie between them
        idx = first + f
        ok = idx < len(cpos)
        c = np.where(ok, cpos[np.minimum(idx, len(cpos) - 1)], -1)
        sure &= ok & (c < hi)
        fields.append(c)
    vals = []
    for f in range(7):
        a, b = fields[f] + 1, fields[f + 1]
        width = b - a
        sure &= (width >= 1) & (width <= 4)
        v = np.zeros(k, np.int64)
        for d in range(4):
            inside = sure & (d < width)
            digit = buf[np.where(inside, a + d, 0)].astype(np.int64) - 48
            sure &= ~inside | ((digit >= 0) & (digit <= 9))
            v = np.where(inside, v * 10 + digit, v)
        vals.append(v)
    y, mo, d, h, mi, sec, ms = vals
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    dim = _MONTH_DAYS[np.clip(mo, 0, 12)] + ((mo == 2) & leap)
    sure &= (y >= 1) & (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= dim)
    sure &= (h < 24) & (mi < 60) & (sec < 61) & (ms < 1000)
    # days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil)
    yy = y - (mo <= 2)
    era = np.floor_divide(yy, 400)
    yoe = yy - era * 400
    doy = (153 * (mo + np.where(mo > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    out = ((days * 86400 + h * 3600 + mi * 60 + sec) * 1000 + ms) * 1000
    return np.where(sure, out, 0), sure


#: Largest ``c:`` seconds read in bulk: below it, seconds x 1e6 is exact in a float, so the
#: time is the one :func:`corridor.ingest.nmea_time.epoch_to_us` gives.
_PLAIN_TAG_MAX_S = 9_000_000_000


def _plain_tag_times(buf: np.ndarray, start: np.ndarray, close: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Receive times (µs) of the tag blocks ``buf[start:close + 1]`` (backslash to
    backslash) that have the plainest form, ``\\c:<1-10 digits>*hh\\`` with a matching
    checksum, read with array operations: (plain, times). The others are for
    :func:`corridor.ingest.nmea_time.tag_block_info` (pyais), which gives the same time for
    these (``tests/test_nmea_bulk_framing.py`` compares them)."""
    k = len(start)
    plain = np.zeros(k, bool)
    if not k:
        return plain, np.zeros(0, np.int64)
    star = close - 3
    ndig = star - (start + 3)
    plain = (ndig >= 1) & (ndig <= 10)
    plain &= (buf[start + 1] == ord("c")) & (buf[np.minimum(start + 2, close)] == ord(":"))
    plain &= buf[np.maximum(star, 0)] == ord("*")
    from corridor.ingest.nmea_vector import _HEX  # the hex digit table of the framer

    hi = _HEX[buf[np.maximum(close - 2, 0)]].astype(np.int64)
    lo = _HEX[buf[np.maximum(close - 1, 0)]].astype(np.int64)
    plain &= (hi < 16) & (lo < 16)
    value = np.zeros(k, np.int64)
    for d in range(10):
        inside = plain & (d < ndig)
        digit = buf[np.where(inside, start + 3 + d, 0)].astype(np.int64) - 48
        plain &= ~inside | ((digit >= 0) & (digit <= 9))
        value = np.where(inside, value * 10 + digit, value)
    plain &= value < _PLAIN_TAG_MAX_S
    rows = np.flatnonzero(plain)
    if len(rows):  # checksum: XOR of "c:<digits>"
        idx = np.empty(2 * len(rows), np.int64)
        idx[0::2], idx[1::2] = start[rows] + 1, star[rows]
        xor = np.bitwise_xor.reduceat(buf, idx)[0::2]
        plain[rows] = xor == (hi[rows] << 4 | lo[rows])
    return plain, np.where(plain, value * 1_000_000, 0)


def _bulk_lines(chunk: bytes, line_nos: np.ndarray, assume_us: int | None,
                multipart: bool = True, fragment_max_lines: int = 1_000) -> _BulkLines | None:
    """Find, with array operations over the whole chunk (the lines joined by ``\\n``), the
    lines whose reading does not need the line loop, and read them. ``line_nos``: the file
    line number of each of the lines.

    A line is taken here only when the line loop would read it the same way: a
    ``!xxVDM``/``!xxVDO`` sentence with seven fields, a matching checksum, fill bits 0-5,
    a payload of 1-200 characters, an empty or one-digit sequence id, ASCII, alone or after
    a tag block, with nothing to strip at either end and no ``!`` or ``\\`` after the
    checksum; its receive time from the tag block's ``c:``, the trailer's epoch, the
    ``$PGHP`` line just before it, or ``assume_us`` (when the line before is another such
    AIS line or there is none). A single-sentence message must start with one of types
    1-27. Fragments of multi-sentence messages (``multipart``; a channel of at most one
    character) are taken when every fragment of the chunk with their key (tag-block group,
    else station, talker, sentence type, channel, sequence id and count, as the loop keys
    them) forms complete messages in order (fragment 1 of a type 1-27, 2, ... within
    ``fragment_max_lines`` lines): the loop would assemble exactly these. A ``$PGHP`` line
    with a readable time followed by a line taken is taken too. Everything else (orphans,
    leading timestamps, broken lines) is left in ``slow``. None when the chunk does not
    split into ``n`` lines or nothing is taken.
    """
    n = len(line_nos)
    fr = frame_lines(chunk + b"\n")
    if len(fr.start) != n:
        return None
    buf = np.frombuffer(chunk + b"\0", np.uint8)
    start, end, bang, star, c = fr.start, fr.end, fr.bang, fr.star, fr.commas
    def byte(pos: np.ndarray, ok: np.ndarray) -> np.ndarray:
        return buf[np.where(ok, pos, 0)]

    cand = (bang >= 0) & fr.checksum_ok & (fr.n_commas == 6)
    cand &= ~_SPACE[byte(end - 1, cand)]
    cand &= c[:, 0] == bang + 6
    cand &= (byte(bang + 3, cand) | 0x20) == ord("v")
    cand &= (byte(bang + 4, cand) | 0x20) == ord("d")
    k5 = byte(bang + 5, cand) | 0x20
    cand &= (k5 == ord("m")) | (k5 == ord("o"))
    cnt = byte(c[:, 0] + 1, cand).astype(np.int64) - 48
    num = byte(c[:, 1] + 1, cand).astype(np.int64) - 48
    cand &= (c[:, 1] == c[:, 0] + 2) & (c[:, 2] == c[:, 1] + 2)
    cand &= (cnt >= 1) & (cnt <= 9) & (num >= 1) & (num <= cnt)
    if not multipart:
        cand &= cnt == 1
    cand &= (c[:, 3] == c[:, 2] + 1) | ((c[:, 3] == c[:, 2] + 2) & _DIGIT[byte(c[:, 2] + 1, cand)])
    cand &= (c[:, 5] > c[:, 4] + 1) & (c[:, 5] - c[:, 4] - 1 <= 200) & (star == c[:, 5] + 2)
    fill_b = byte(c[:, 5] + 1, cand)
    cand &= (fill_b >= 48) & (fill_b <= 53)
    # not ASCII (pyais refuses it), or a "!" or "\\" after the checksum (two sentences)
    high = np.flatnonzero(buf >= 128)
    hline = np.searchsorted(start, high, side="right") - 1
    cand[hline[(high >= bang[hline]) & (high < star[hline] + 3)]] = False
    stops = np.flatnonzero((buf == _BANG) | (buf == _BACKSLASH))
    sline = np.searchsorted(start, stops, side="right") - 1
    cand[sline[(stops >= star[sline] + 3) & (stops < end[sline]) & (star[sline] >= 0)]] = False
    mtype = byte(c[:, 4] + 1, cand).astype(np.int64) - 48
    mtype = np.where(mtype > 40, mtype - 8, mtype)
    frag = cand & (cnt > 1)
    frag &= c[:, 4] <= c[:, 3] + 2  # a channel of at most one character (packed in the key)
    cand &= (cnt == 1) | frag
    cand &= (num > 1) | ((mtype >= 1) & (mtype <= 27))
    frag &= cand
    rows = np.flatnonzero(cand)
    if not len(rows):
        return None
    # Receive times: the tag block's, else the trailer's, else the line before's.
    ts = np.full(n, -1, np.int64)
    own = np.zeros(n, bool)
    tagged = rows[buf[start[rows]] == _BACKSLASH]
    simple, simple_ts = _plain_tag_times(buf, start[tagged], bang[tagged] - 1)
    ts[tagged[simple]], own[tagged[simple]] = simple_ts[simple], True
    tagged = tagged[~simple].tolist()  # read by tag_block_info
    infos = [tag_block_info(chunk[a + 1:b - 1]) for a, b in
             zip(start[tagged].tolist(), bang[tagged].tolist(), strict=True)]
    for i, info in zip(tagged, infos, strict=True):
        if info.ts_us is not None:
            ts[i], own[i] = _clamp_ts(info.ts_us), True
    trail = rows[~own[rows] & (end[rows] > star[rows] + 3)].tolist()
    for i, t in zip(trail, [trailing_time(chunk[a + 3:b]) for a, b in
                            zip(star[trail].tolist(), end[trail].tolist(), strict=True)], strict=True):
        if t is not None:
            ts[i], own[i] = _clamp_ts(t), True
    gh = np.zeros(n, bool)
    need = rows[~own[rows] & (rows > 0)]
    prev = need - 1
    maybe = prev[~cand[prev] & (buf[start[prev]] == _DOLLAR)]
    gts, sure = _gatehouse_times(buf, start, end, maybe, fr.all_commas)
    odd = maybe[~sure].tolist()  # read by gatehouse_time itself
    spans = zip(start[odd].tolist(), end[odd].tolist(), strict=True)
    odd_ts = [gatehouse_time(chunk[a:b].rstrip()) if chunk.startswith(b"$PGHP", a) else None
              for a, b in spans]
    for i, t in zip(odd, odd_ts, strict=True):
        if t is not None:
            gh[i] = True
            ts[i + 1], own[i + 1] = t, True
    fine = maybe[sure]
    gh[fine] = True
    ts[fine + 1], own[fine + 1] = gts[sure], True
    # A line needing the time of a line before that is neither such an AIS line (which
    # leaves no time behind in the loop) nor a readable $PGHP (a blank line, a $PGHP of
    # another line) is left to the loop.
    first = np.zeros(n, bool)
    first[0] = True
    prev_plain = np.concatenate(([False], cand[:-1]))
    timed = own | first | prev_plain
    has = own | (assume_us is not None)
    if assume_us is not None:
        ts = np.where(cand & ~own, assume_us, ts)
    single = cand & timed & (cnt == 1)
    # Fragments: assembled here only for keys whose fragments all form complete messages.
    fr_rows = np.flatnonzero(frag)
    msgs = _pair_fragments(chunk, buf, fr_rows, ~timed[fr_rows], tagged, infos, bang, c, cnt,
                           num, line_nos, fragment_max_lines) if len(fr_rows) else None
    taken = single.copy()
    if msgs is not None:
        taken[msgs.seg_pos] = True
    # A readable $PGHP whose next line is taken is also read here (it only sets that time).
    gh &= np.concatenate((taken[1:], [False]))
    bulk = taken | gh
    decoded = np.isin(mtype, sorted(_DECODED_TYPES))
    # Queued messages: single lines, then assembled ones, ordered by their last line.
    q1 = np.flatnonzero(single & decoded)
    o1 = np.flatnonzero(single & ~decoded)
    if msgs is None:
        pos, first_pos, nseg = q1, q1, np.ones(len(q1), np.int64)
        seg_pos = q1
        o_pos = o_first = o1
    else:
        first_pos = msgs.seg_pos[msgs.seg_first]
        last_pos = msgs.seg_pos[msgs.seg_first + msgs.seg_n - 1]
        mdec = decoded[first_pos]
        pos = np.concatenate((q1, last_pos[mdec]))
        order = np.argsort(pos, kind="stable")
        pos = pos[order]
        first_pos = np.concatenate((q1, first_pos[mdec]))[order]
        nseg = np.concatenate((np.ones(len(q1), np.int64), msgs.seg_n[mdec]))[order]
        # the segments of every queued message, in message order
        m_first = np.concatenate((q1, msgs.seg_first[mdec] + n))[order]  # n+: into msgs
        seg_src = np.repeat(m_first, nseg) + _ranks(nseg)
        seg_pos = np.where(seg_src >= n, msgs.seg_pos[np.maximum(seg_src - n, 0)], seg_src)
        op = np.concatenate((o1, last_pos[~mdec]))
        oorder = np.argsort(op, kind="stable")
        o_pos = op[oorder]
        o_first = np.concatenate((o1, msgs.seg_pos[msgs.seg_first][~mdec]))[oorder]
    seg_first = np.cumsum(nseg) - nseg
    last_seg = seg_pos[seg_first + nseg - 1]
    mts = ts[first_pos]
    mhas = has[first_pos].copy()
    if msgs is not None and assume_us is None:
        # the time of the first fragment that has one
        multi = np.flatnonzero((nseg > 1) & ~mhas)
        for j in multi.tolist():
            for k in range(int(seg_first[j]) + 1, int(seg_first[j] + nseg[j])):
                if has[seg_pos[k]]:
                    mts[j], mhas[j] = ts[seg_pos[k]], True
                    break
    a = c[seg_pos, 4] + 1
    return _BulkLines(
        n_lines=int(bulk.sum()),
        slow=np.flatnonzero(~bulk),
        other_pos=o_pos,
        other_lines=line_nos[o_first],
        pos=pos,
        fill=fill_b[last_seg].astype(np.int64) - 48,
        mtype=mtype[first_pos],
        ts=mts,
        has_ts=mhas,
        line_nos=line_nos[first_pos],
        seg_first=seg_first,
        seg_n=nseg,
        seg_bang=bang[seg_pos],
        seg_star=star[seg_pos],
        seg_a=a,
        seg_len=c[seg_pos, 5] - a,
        chunk=chunk,
        buf=buf,
        keys=msgs.keys if msgs is not None else frozenset(),
        open_max=msgs.open_max if msgs is not None else 0,
        seen=frag,
        line_start=start,
        line_end=end,
    )


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., k-1 for each k of ``counts``, concatenated."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


@dataclass(frozen=True)
class _Assembled:
    """Messages assembled from fragments by :func:`_pair_fragments`: their fragments'
    positions ``seg_pos`` in message order, message ``j`` being
    ``seg_pos[seg_first[j]:seg_first[j] + seg_n[j]]``."""

    seg_pos: np.ndarray
    seg_first: np.ndarray
    seg_n: np.ndarray
    keys: frozenset
    open_max: int


def _pair_fragments(chunk: bytes, buf: np.ndarray, rows: np.ndarray, untimed: np.ndarray,
                    tagged: list, infos: list, bang: np.ndarray, c: np.ndarray,
                    cnt: np.ndarray, num: np.ndarray, line_nos: np.ndarray,
                    max_lines: int) -> _Assembled | None:
    """Assemble the fragment lines ``rows`` as the line loop's keyed assembly would, for the
    keys where that needs no judgement: every fragment of the key in the chunk belongs to a
    complete message in order (1, 2, ..., count; the same count; within ``max_lines``).
    A key with an orphan, a fragment out of sequence, a restart, an unfinished message or
    a fragment whose time only the loop can tell (``untimed``) is left to the loop whole."""
    # The loop's key: ("g", group id) for a tag-block group of more than one sentence, else
    # (station, talker, sentence type, channel, sequence id, count). Here: (namespace, code)
    # with namespace -1-k for the k-th group id, else the station's number (0: none) and
    # the other parts packed in the code.
    info_of = dict(zip(tagged, infos, strict=True))
    ns = np.zeros(len(rows), np.int64)
    stations: dict = {None: 0}
    groups: dict = {}
    for j in np.flatnonzero(buf[bang[rows] - 1] == _BACKSLASH).tolist():
        info = info_of.get(int(rows[j]))
        if info is None:  # a plain "\\c:...*hh\\": no station, no group
            continue
        g = info.group
        if g is not None and g[1] > 1:
            ns[j] = -1 - groups.setdefault(g[2], len(groups))
        else:
            ns[j] = stations.setdefault(info.station, len(stations))
    b = bang[rows]
    chan = np.where(c[rows, 4] > c[rows, 3] + 1, buf[c[rows, 3] + 1], 0).astype(np.int64)
    seq = np.where(c[rows, 3] > c[rows, 2] + 1, buf[c[rows, 2] + 1], 0).astype(np.int64)
    code = ((buf[b + 1].astype(np.int64) << 40) | (buf[b + 2].astype(np.int64) << 32)
            | ((buf[b + 5].astype(np.int64) | 0x20) << 24) | (chan << 16) | (seq << 8)
            | cnt[rows])
    code = np.where(ns < 0, 0, code)
    _, kid = np.unique(np.stack([ns, code], 1), axis=0, return_inverse=True)
    kid = kid.ravel()
    order = np.argsort(kid, kind="stable")
    k, p = kid[order], rows[order]
    nm, ct, ln = num[p], cnt[p], line_nos[p]
    m = len(p)
    new_key = np.ones(m, bool)
    new_key[1:] = k[1:] != k[:-1]
    # A run: fragment 1 of ``count`` followed, in the key's order, by fragments 2..count
    # of the same count, within max_lines, all timed.
    cont = np.zeros(m, bool)
    cont[1:] = ((nm[1:] == nm[:-1] + 1) & (ct[1:] == ct[:-1]) & (nm[1:] > 1)
                & ~new_key[1:])
    breaks = np.cumsum(~cont | untimed[order])
    starts = np.flatnonzero(nm == 1)
    ends = starts + ct[starts] - 1
    run = ends < m
    ends = np.minimum(ends, m - 1)
    run &= (breaks[ends] == breaks[starts]) & (ln[ends] - ln[starts] <= max_lines)
    run &= ~untimed[order][starts]
    # The loop holds no fragment of the key when the run starts: it is the key's first
    # fragment 1 here, or the one before began a run (completed, whatever followed).
    prev_run = np.ones(len(starts), bool)
    same = np.zeros(len(starts), bool)
    same[1:] = k[starts[1:]] == k[starts[:-1]]
    prev_run[1:] = np.where(same[1:], run[:-1], True)
    take = run & prev_run
    if not take.any():
        return None
    starts, seg_n = starts[take], ct[starts[take]]
    sel = np.repeat(starts, seg_n) + _ranks(seg_n)
    p, k = p[sel], k[sel]
    starts = np.cumsum(seg_n) - seg_n
    # the keys as the loop writes them, one per key used here
    keys = set()
    for j in np.unique(k, return_index=True)[1].tolist():
        i = int(p[j])
        r = int(np.searchsorted(rows, i))
        if ns[r] < 0:
            keys.add(("g", info_of[i].group[2]))
            continue
        station = info_of[i].station if i in info_of else None
        f = chunk[int(bang[i]):int(c[i, 5])].split(b",")
        keys.add((station, f[0][1:3], f[0][3:].upper(), f[4], f[3], int(cnt[i])))
    # most messages open at once (the loop holds each from its first fragment to its last)
    ev_pos = np.concatenate((p[starts], p[starts + seg_n - 1]))
    ev = np.concatenate((np.ones(len(starts), np.int64), -np.ones(len(starts), np.int64)))
    ev_order = np.argsort(ev_pos, kind="stable")
    open_max = int(np.cumsum(ev[ev_order]).max())
    return _Assembled(seg_pos=p, seg_first=starts, seg_n=seg_n, keys=frozenset(keys),
                      open_max=open_max)


class _Scanner:
    """Frames lines, finds receive times, assembles fragments and decodes with pyais."""

    def __init__(self, ctx: _Ctx):
        self.ctx = ctx
        self.out = _Out()
        self.pending: dict = {}
        self.loose: list = []
        self.rows_in = 0
        self.nmea_lines = 0
        self.batch: list = []  # messages waiting to be decoded: (parts, line_no, ts, mtype)
        self.batch_pos: list = []  # position of the line that completed each of them
        self.bulk: list = []  # (position of the first line, _BulkLines) framed in bulk
        self.base = 0  # position of the next scanned line (over all scan calls)
        self.cur = 0  # position of the line being read

    # ---------------------------------------------------------------- lines
    def scan(self, lines: list[bytes], first_line_no: int) -> None:
        """Read a list of lines (numbered from ``first_line_no``), queueing their messages."""
        joined = b"\n".join(lines)
        if joined.count(b"\n") == max(len(lines) - 1, 0):
            self.scan_bytes(joined, len(lines), first_line_no)
            return
        # a line break inside a line (only when called with such a list): as _expand numbers it
        expanded = list(_expand(lines, first_line_no))
        items = [e[1] for e in expanded]
        line_nos = np.array([e[0] for e in expanded], np.int64)
        self._scan_all(b"\n".join(items), line_nos, items)

    def scan_bytes(self, joined: bytes, n_lines: int, first_line_no: int) -> None:
        """Read ``n_lines`` lines joined by ``\\n`` (numbered from ``first_line_no``), queueing
        their messages. No Python object is made per line, except for lines the line loop
        reads."""
        line_nos = np.arange(first_line_no, first_line_no + n_lines, dtype=np.int64)
        if b"\\r\\n" in joined:  # sentences joined by a literal \r\n: one item per sentence
            # (as _expand numbers them, without a Python step per line)
            raw = np.frombuffer(joined, np.uint8)
            at = np.flatnonzero(raw[:-3] == _BACKSLASH)  # "\\r\\n" cannot overlap itself
            at = at[(raw[at + 1] == 0x72) & (raw[at + 2] == _BACKSLASH) & (raw[at + 3] == 0x6E)]
            line_of = np.searchsorted(np.flatnonzero(raw == 0x0A), at)
            per_line = np.bincount(line_of, minlength=n_lines) + 1
            joined = joined.replace(b"\\r\\n", b"\n")
            line_nos = np.repeat(line_nos, per_line)
        self._scan_all(joined, line_nos, None)

    def _scan_all(self, joined: bytes, line_nos: np.ndarray, items: list | None) -> None:
        if not self.ctx.bulk_framing:
            self._scan(joined, line_nos, items, False)
            return
        snap = self._snapshot()
        try:
            self._scan(joined, line_nos, items, True)
        except _Rescan:
            self._restore(snap)
            self._scan(joined, line_nos, items, False)

    def _snapshot(self) -> tuple:
        return ({r: [e[0], list(e[1]), e[2]] for r, e in self.out.skips.items()},
                {k: list(v) for k, v in self.pending.items()}, len(self.loose), len(self.batch),
                len(self.batch_pos), len(self.bulk), self.rows_in, self.nmea_lines, self.base,
                self.cur)

    def _restore(self, snap: tuple) -> None:
        skips, pending, n_loose, n_batch, n_pos, n_bulk, self.rows_in, self.nmea_lines, \
            self.base, self.cur = snap
        self.out.skips = skips
        self.pending.clear()
        self.pending.update(pending)
        del self.loose[n_loose:], self.batch[n_batch:], self.batch_pos[n_pos:], self.bulk[n_bulk:]

    def _scan(self, joined: bytes, line_nos: np.ndarray, items: list | None,
              multipart: bool) -> None:
        """Read the items of ``joined`` (split at ``\\n``; ``items``: the same, if made
        already), numbered ``line_nos``."""
        out, pending, ctx = self.out, self.pending, self.ctx
        gh_time: int | None = None
        base = self.base
        n_items = len(line_nos)
        self.base += n_items
        bulk = None
        if ctx.bulk_framing and n_items:
            bulk = _bulk_lines(joined, line_nos, ctx.assume_us, multipart, ctx.fragment_max_lines)
        if bulk is None:
            if items is None:
                items = joined.split(b"\n") if n_items else []
            numbered = zip(line_nos.tolist(), items, strict=True)
        else:
            slow = bulk.slow.tolist()
            if items is None:
                raw = [joined[a:b] for a, b in zip(bulk.line_start[slow].tolist(),
                                                   bulk.line_end[slow].tolist(), strict=True)]
            else:
                raw = [items[i] for i in slow]
            numbered = zip(slow, line_nos[bulk.slow].tolist(), raw, strict=True)
        # Lines framed in bulk: queued now, ordered among the others' messages by position.
        # The first bulk ``other_type`` skip is counted when the line loop passes it, so the
        # reason keeps the detail of its first line, as when reading line by line.
        other_at = -1
        bulk_keys: frozenset = frozenset()
        pending_max = 64  # more open messages than this: the oldest are given up (_evict)
        if bulk is not None:
            self.rows_in += bulk.n_lines
            self.nmea_lines += bulk.n_lines
            if len(bulk.pos):
                self.bulk.append((base, bulk))
            if len(bulk.other_pos):
                other_at = int(bulk.other_pos[0])
            # Messages assembled in bulk were open in the loop's table too: with fewer
            # than this, no message is evicted either way.
            bulk_keys = bulk.keys
            pending_max -= bulk.open_max
        prev = -1
        for item in numbered:
            if bulk is None:
                line_no, raw = item
            else:
                i, line_no, raw = item
                if i != prev + 1:
                    gh_time = None  # a bulk-framed AIS line came between: it took the time
                prev = i
                self.cur = base + i
                if 0 <= other_at < i:
                    self._bulk_other(bulk)
                    other_at = -1
            line = raw.strip()
            if not line or line[0] == _HASH:
                continue
            self.rows_in += 1
            ts = None
            station = None
            group = None
            c0 = line[0]
            if c0 != _BANG and c0 != _DOLLAR and c0 != _BACKSLASH:
                # Text before the sentence: a leading timestamp, or garbage.
                starts = [i for i in (line.find(b"!"), line.find(b"\\"), line.find(b"$")) if i > 0]
                if line == TOO_LONG_LINE:
                    out.skip("line_too_long", line_no, f"longer than {MAX_LINE_BYTES} bytes "
                             "(no line breaks, or CR-only line ends?); not read")
                    continue
                if not starts:
                    out.skip("malformed", line_no, "not an NMEA sentence")
                    continue
                p = min(starts)
                ts = leading_time(line[:p])
                if ts is None:
                    out.skip("malformed", line_no, "text before the sentence is not a timestamp")
                    continue
                line = line[p:]
                c0 = line[0]
            if c0 == _BACKSLASH:
                end = line.find(b"\\", 1)
                if end < 0:
                    out.skip("malformed", line_no, "unterminated tag block")
                    continue
                info = tag_block_info(line[1:end])
                if info.ts_us is not None:
                    ts = info.ts_us
                station, group = info.station, info.group
                line = line[end + 1:]
                if not line:
                    out.skip("malformed", line_no, "tag block without a sentence")
                    continue
                c0 = line[0]
            if c0 == _DOLLAR:
                self.nmea_lines += 1
                if line.startswith(b"$PGHP"):
                    gh_time = gatehouse_time(line)
                    if gh_time is None:
                        out.skip("malformed", line_no, "unreadable $PGHP time")
                else:
                    out.skip("other_type", line_no, line[:6].decode("ascii", "replace"))
                continue
            if c0 != _BANG:
                out.skip("malformed", line_no, "not an NMEA sentence")
                continue
            star = line.find(b"*")
            if star < 0 or len(line) < star + 3:
                out.skip("malformed", line_no, "no checksum")
                continue
            sentence, trailer = line[: star + 3], line[star + 3:]
            if b"!" in trailer or b"\\" in trailer:
                out.skip("malformed", line_no, "another sentence after the checksum (a missing line break?)")
                continue
            if ts is None and trailer:
                ts = trailing_time(trailer)
            if ts is None:
                ts = gh_time if gh_time is not None else ctx.assume_us
            gh_time = None
            # Framing by hand (one C-level split) so that lines of types corridor does not
            # store never build a pyais object; pyais parses every sentence it decodes.
            fields = sentence.split(b",")
            tag = fields[0]
            kind = tag[3:].upper()
            self.nmea_lines += 1
            if kind != b"VDM" and kind != b"VDO":
                out.skip("other_type", line_no, "not an AIS sentence: " + tag.decode("ascii", "replace"))
                continue
            if len(fields) < 7:
                out.skip("malformed", line_no, "too few fields")
                continue
            try:
                expected = int(sentence[-2:], 16)
            except ValueError:
                out.skip("malformed", line_no, "unreadable checksum")
                continue
            if nmea_checksum(sentence[1:-3]) != expected:
                out.skip("checksum", line_no, "NMEA checksum does not match")
                continue
            cnt, num = _SMALL_INTS.get(fields[1]), _SMALL_INTS.get(fields[2])
            if cnt is None or num is None or not 1 <= num <= cnt:
                out.skip("malformed", line_no, "bad fragment count or number")
                continue
            if cnt == 1:
                self.message([(sentence, fields)], line_no, ts)
                continue
            if group is not None and group[1] > 1:
                key = ("g", group[2])  # later parts often repeat no station
            else:
                key = (station, tag[1:3], kind, fields[4], fields[3], cnt)
            if bulk_keys and key in bulk_keys and not bulk.seen[i]:
                raise _Rescan  # a key assembled in bulk, on a line whose part it did not see
            frag = (line_no, ts, key, num, cnt, sentence, fields)
            if num == 1:
                old = pending.pop(key, None)
                if old is not None:
                    out.skip("orphan_fragment", old[0][0], "message never completed", len(old))
                pending[key] = [frag]
                if len(pending) > pending_max:
                    if bulk_keys:
                        raise _Rescan
                    self._evict(line_no)
                continue
            parts = pending.get(key)
            if parts is None:
                self.loose.append(frag)
                continue
            if line_no - parts[0][0] > ctx.fragment_max_lines:
                del pending[key]
                out.skip("orphan_fragment", parts[0][0], "message never completed", len(parts))
                out.skip("orphan_fragment", line_no, "first fragment too far back")
                continue
            if num != len(parts) + 1 or cnt != parts[0][4]:
                out.skip("orphan_fragment", line_no, "fragment out of sequence")
                continue
            parts.append(frag)
            if len(parts) == cnt:
                del pending[key]
                self.assemble(parts)
        if other_at >= 0:
            self._bulk_other(bulk)

    def _bulk_other(self, bulk: _BulkLines) -> None:
        """Count the bulk-framed lines of AIS types corridor does not store."""
        lines = bulk.other_lines.tolist()
        for ln in lines[:5]:  # the examples: the first five (see _Out.skip)
            self.out.skip("other_type", ln, _OTHER_AIS)
        if len(lines) > 5:
            self.out.skip("other_type", lines[5], _OTHER_AIS, len(lines) - 5)

    def _evict(self, line_no: int) -> None:
        """Give up on messages whose first fragment is too many lines back (bounded memory)."""
        limit = line_no - self.ctx.fragment_max_lines
        for key in [k for k, parts in self.pending.items() if parts[0][0] < limit]:
            parts = self.pending.pop(key)
            self.out.skip("orphan_fragment", parts[0][0], "message never completed", len(parts))

    # ------------------------------------------------------------- messages
    def assemble(self, frags: list) -> None:
        """Decode a complete list of fragments (in order) as one message."""
        parts = [(f[5], f[6] if len(f) > 6 else f[5].split(b",")) for f in frags]
        ts = next((f[1] for f in frags if f[1] is not None), None)
        self.message(parts, frags[0][0], ts)

    def message(self, parts: list, line_no: int, ts: int | None) -> None:
        """Queue one message, given as [(sentence, fields), ...] in fragment order, for decoding
        (see :meth:`_flush`)."""
        out = self.out
        payload = parts[0][1][5]
        if not payload:
            out.skip("malformed", line_no, "empty payload")
            return
        mtype = payload[0] - 48  # the first 6-bit character is the message type
        if mtype > 40:
            mtype -= 8
        if mtype not in _DECODED_TYPES:
            if 1 <= mtype <= 27:
                out.skip("other_type", line_no, _OTHER_AIS)
            elif 0 <= mtype <= 63:
                out.skip("unsupported_type", line_no, f"AIS message type {mtype}")
            else:
                out.skip("malformed", line_no, "payload is not 6-bit ASCII")
            return
        self.batch.append((parts, line_no, ts, mtype))
        self.batch_pos.append(self.cur)

    def _flush(self) -> None:
        """Decode the messages collected by :meth:`message` all at once.

        :func:`corridor.ingest.nmea_vector.decode_payloads` decodes the whole batch in numpy
        with pyais's exact values; the few messages it leaves (odd sentences, characters
        outside the 6-bit alphabet, type 24 parts 2-3) are decoded by pyais one by one into
        the same columns. Rows stay in message order.
        """
        batch, self.batch = self.batch, []
        pos, self.batch_pos = self.batch_pos, []
        blocks, self.bulk = self.bulk, []
        if not batch and not blocks:
            return
        out, ctx = self.out, self.ctx
        clean = [_clean_payload(b[0]) for b in batch]
        payloads = [c[0] for c in clean]
        fill = [c[1] for c in clean]
        mtype_l = [b[3] for b in batch]
        line_l = [b[1] for b in batch]
        ts_l = [-1 if b[2] is None else _clamp_ts(b[2]) for b in batch]
        has_l = [b[2] is not None for b in batch]
        n_slow = len(batch)
        # Every queued message's payload de-armored (a matrix row each), in position order.
        sixbits = [sixbit_matrix(payloads, 72)] + [bk.sixbit() for _base, bk in blocks]
        if blocks:
            pos_a = np.concatenate([np.asarray(pos, np.int64)]
                                   + [base + bk.pos for base, bk in blocks])
            fill_a = np.concatenate([np.asarray(fill, np.int64)] + [bk.fill for _b, bk in blocks])
            mtype = np.concatenate([np.asarray(mtype_l, np.int64)] + [bk.mtype for _b, bk in blocks])
            line_a = np.concatenate([np.asarray(line_l, np.int64)]
                                    + [bk.line_nos for _b, bk in blocks])
            ts = np.concatenate([np.asarray(ts_l, np.int64)] + [bk.ts for _b, bk in blocks])
            has_ts = np.concatenate([np.asarray(has_l, bool)] + [bk.has_ts for _b, bk in blocks])
            # where each merged row came from: block -1 (a queued message) or k, and its row
            src_block = np.repeat(np.arange(-1, len(blocks)),
                                  [n_slow] + [len(bk.pos) for _b, bk in blocks])
            src_row = np.concatenate([np.arange(n_slow)] + [np.arange(len(bk.pos))
                                                            for _b, bk in blocks])
            width = max(m[0].shape[1] for m in sixbits)
            mat = np.concatenate([np.pad(m[0], ((0, 0), (0, width - m[0].shape[1])))
                                  for m in sixbits])
            lens = np.concatenate([m[1] for m in sixbits])
            bad = np.concatenate([m[2] for m in sixbits])
            order = np.argsort(pos_a, kind="stable")
            if not (np.diff(order) > 0).all():
                fill_a, mtype, line_a, ts, has_ts, src_block, src_row, mat, lens, bad = (
                    x[order] for x in (fill_a, mtype, line_a, ts, has_ts, src_block, src_row,
                                       mat, lens, bad))
        else:
            fill_a = np.asarray(fill, np.int64)
            mtype = np.asarray(mtype_l, np.int64)
            line_a = np.asarray(line_l, np.int64)
            ts = np.asarray(ts_l, np.int64)
            has_ts = np.asarray(has_l, bool)
            src_block = np.full(n_slow, -1, np.int64)
            src_row = np.arange(n_slow)
            mat, lens, bad = sixbits[0]
        lines = line_a.tolist()

        def parts_of(i: int) -> list:
            k, j = int(src_block[i]), int(src_row[i])
            return batch[j][0] if k < 0 else blocks[k][1].parts(j)

        dec = decode_sixbit(mat, lens, bad, fill_a)
        cols = dec.columns
        ok = dec.supported & (dec.msg_type == mtype)
        for i in np.flatnonzero(~ok).tolist():
            msg = self._pyais(parts_of(i), lines[i], int(mtype[i]))
            if msg is None:
                continue
            ok[i] = True
            for name in FIELDS:
                v = getattr(msg, name, None)
                col = cols[name]
                col.present[i] = v is not None
                if v is not None:
                    col.values[i] = v if isinstance(v, str) else (
                        float(v) if isinstance(v, float) else int(v))
        future = ok & has_ts & (ts > ctx.max_ts_us)
        for i in np.flatnonzero(future).tolist():
            out.skip("future_timestamp", lines[i], "receive time more than a day ahead")
        ok &= ~future
        early = ok & has_ts & (ts < EARLIEST_US)
        for i in np.flatnonzero(early).tolist():
            out.skip("missing_time", lines[i], "receive time before 1990 (a damaged clock)")
        ok &= ~early
        mmsi = cols["mmsi"]
        bad_mmsi = ok & mmsi.present & ((mmsi.values < MMSI_MIN) | (mmsi.values > MMSI_MAX))
        for i in np.flatnonzero(bad_mmsi).tolist():  # once per message (a type 19 is both kinds)
            out.skip("invalid_mmsi", lines[i], "MMSI is not 9 digits (100000000-999999999)")
        ok &= ~bad_mmsi
        is_static = ok & np.isin(mtype, _STATIC_LIST)
        if not cols["mmsi"].present[is_static].all():
            for i in np.flatnonzero(is_static & ~cols["mmsi"].present).tolist():
                out.skip("malformed", lines[i], f"undecodable type {int(mtype[i])}: no MMSI")
            is_static &= cols["mmsi"].present
        rows = np.flatnonzero(is_static)
        if len(rows):
            out.statics.append(static_rows(dec, rows, mtype, line_a, ts, has_ts))
        self._positions(lines, dec, ok & np.isin(mtype, _POSITION_LIST), mtype, has_ts, ts)

    def _pyais(self, parts: list, line_no: int, mtype: int):
        """One message decoded by pyais (None, with the reason counted, if it cannot be)."""
        try:
            sentences = [AISSentence(raw, f) for raw, f in parts]
            s = sentences[0] if len(sentences) == 1 else AISSentence.assemble_from_iterable(sentences)
            return s.decode()
        except MissingPayloadException:
            self.out.skip("malformed", line_no, "empty payload")
        except Exception as exc:  # pyais raises many kinds on truncated payloads
            self.out.skip("malformed", line_no, f"undecodable type {mtype}: {type(exc).__name__}")
        return None

    def _positions(self, lines: list, dec, rows: np.ndarray, mtype: np.ndarray,
                   has_ts: np.ndarray, ts: np.ndarray) -> None:
        """Position reports of the batch (mask ``rows``) as one block of columns."""
        out, c = self.out, dec.columns
        lat, lon = c["lat"], c["lon"]
        valid = (lat.present & lon.present & (np.abs(lat.values) <= 90.0)
                 & (np.abs(lon.values) <= 180.0))
        for i in np.flatnonzero(rows & ~valid).tolist():
            out.skip("invalid_position", lines[i], "latitude/longitude not available (91/181)")
        for i in np.flatnonzero(rows & valid & ~has_ts).tolist():
            out.skip("missing_time", lines[i], "no receive time (use --assume-time)")
        keep = np.flatnonzero(rows & valid & has_ts)
        if not len(keep):
            return
        t = mtype[keep]
        lr = t == 27
        sog, cog, hdg, sec = (c[k].values[keep] for k in ("speed", "course", "heading", "second"))
        sog_ok, cog_ok, hdg_ok, sec_ok = (c[k].present[keep]
                                          for k in ("speed", "course", "heading", "second"))
        out.positions.append({
            "mmsi": c["mmsi"].values[keep],
            "ts": ts[keep],
            "lat": lat.values[keep],
            "lon": lon.values[keep],
            "sog": sog, "sog_ok": sog_ok & (sog < np.where(lr, 63.0, 102.25)),
            "cog": cog, "cog_ok": cog_ok & (cog < 360.0),
            "heading": hdg, "heading_ok": hdg_ok & (hdg <= 359) & ~lr,
            "status": c["status"].values[keep], "status_ok": (t <= 3) | lr,
            "msg_type": t,
            "second": np.where(sec_ok & (sec <= 59) & ~lr, sec, -1),
        })

    # --------------------------------------------------------------- result
    def result(self) -> ChunkResult:
        self._flush()
        table, dups = positions_table(self.out, self.ctx.source)
        return ChunkResult(
            rows_in=self.rows_in,
            nmea_lines=self.nmea_lines,
            positions=table,
            static_rows=(pa.concat_tables(self.out.statics) if len(self.out.statics) != 1
                         else self.out.statics[0]) if self.out.statics else STATIC_ROWS.empty_table(),
            skips=self.out.skips,
            loose=[f[:6] for f in self.loose],  # parsed sentences stay here
            open={k: [f[:6] for f in parts] for k, parts in self.pending.items()},
            duplicates=dups,
        )


def _clean_payload(parts: list) -> tuple[bytes, int]:
    """(payload, fill bits) of a message whose sentences pyais reads without complaint:
    7 fields, ASCII, a numeric sequence id, at most 200 payload characters, fill bits 0-5.
    Anything else gives (b"", 0), which the vector decoder leaves to pyais."""
    if len(parts) == 1:
        raw, f = parts[0]
        chk = f[-1]
        if (len(f) == 7 and len(chk) == 4 and chk[1] == 42 and 48 <= chk[0] <= 53
                and len(f[5]) <= 200 and raw.isascii() and (not f[3] or f[3].isdigit())):
            return f[5], chk[0] - 48
        return b"", 0
    for raw, f in parts:
        chk = f[-1]
        if (len(f) != 7 or len(chk) != 4 or chk[1] != 42 or not 48 <= chk[0] <= 53
                or len(f[5]) > 200 or not raw.isascii() or (f[3] and not f[3].isdigit())):
            return b"", 0
    if len(parts) == 1:
        return f[5], chk[0] - 48
    return b"".join(p[1][5] for p in parts), chk[0] - 48


#: A chunk's static reports, one row each, before type 24 parts are merged: the line and
#: receive time (NULL: untimed) of the report, its type 24 part (0 = A, 1 = B; 0 for other
#: types), the fields stored (as :data:`VESSEL_REPORTS` names them, in the decoder's types)
#: and ``hash``, the report's content hash (:func:`_content_hashes`).
STATIC_ROWS = pa.schema([
    ("line", pa.int64()), ("mmsi", pa.int64()), ("ts", pa.int64()), ("msg_type", pa.int64()),
    ("part", pa.int64()), ("imo", pa.int64()), ("name", pa.string()),
    ("callsign", pa.string()), ("ship_type", pa.int64()), ("length_m", pa.int64()),
    ("beam_m", pa.int64()), ("draught_m", pa.float64()), ("destination", pa.string()),
    ("hash", pa.int64()),
])


def _text_column(values: np.ndarray, present: np.ndarray, drop: np.ndarray | None = None
                 ) -> pa.Array:
    """Decoded 6-bit text as stored: ``@`` read as a blank, blanks trimmed, empty = NULL."""
    arr = pa.array(values, pa.string(), mask=~present if drop is None else ~present | drop)
    arr = pc.utf8_trim_whitespace(pc.replace_substring(arr, "@", " "))
    return pc.if_else(pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, pa.string()), arr)


def static_rows(dec, rows: np.ndarray, mtype: np.ndarray, line_nos: np.ndarray,
                ts: np.ndarray, has_ts: np.ndarray) -> pa.Table:
    """The static reports of decoded messages ``rows`` as :data:`STATIC_ROWS` columns.

    ITU-R M.1371 "not available" zeros (IMO, ship type, dimensions, draught) become NULL;
    length and beam are bow + stern and port + starboard (NULL if either is missing); a
    type 24 part A carries only the name.
    """
    c = dec.columns

    def col(name: str) -> tuple[np.ndarray, np.ndarray]:
        return c[name].values[rows], c[name].present[rows]

    t = mtype[rows]
    pv, pp = col("partno")
    part = np.where((t == 24) & pp, pv, 0).astype(np.int64)
    part_a = (t == 24) & (part == 0)
    imo, imo_ok = col("imo")
    ship, ship_ok = col("ship_type")
    bow, bow_ok = col("to_bow")
    stern, stern_ok = col("to_stern")
    port, port_ok = col("to_port")
    star, star_ok = col("to_starboard")
    draught, draught_ok = col("draught")
    length, beam = bow + stern, port + star
    ints = {
        "imo": (imo, imo_ok & (imo != 0)),
        "ship_type": (ship, ship_ok & (ship != 0) & ~part_a),
        "length_m": (length, bow_ok & stern_ok & (length != 0) & ~part_a),
        "beam_m": (beam, port_ok & star_ok & (beam != 0) & ~part_a),
    }
    draught_ok = draught_ok & (draught != 0)
    name = _text_column(*col("shipname"))
    callsign = _text_column(*col("callsign"), part_a)
    destination = _text_column(*col("destination"))
    hashes = _content_hashes(ints, name, callsign, (draught, draught_ok), destination)
    return pa.table({
        "line": pa.array(line_nos[rows], pa.int64()),
        "mmsi": pa.array(c["mmsi"].values[rows], pa.int64()),
        "ts": pa.array(ts[rows], pa.int64(), mask=~has_ts[rows]),
        "msg_type": pa.array(t, pa.int64()),
        "part": pa.array(part),
        "imo": pa.array(imo, pa.int64(), mask=~ints["imo"][1]),
        "name": name,
        "callsign": callsign,
        "ship_type": pa.array(ship, pa.int64(), mask=~ints["ship_type"][1]),
        "length_m": pa.array(length, pa.int64(), mask=~ints["length_m"][1]),
        "beam_m": pa.array(beam, pa.int64(), mask=~ints["beam_m"][1]),
        "draught_m": pa.array(draught, pa.float64(), mask=~draught_ok),
        "destination": destination,
        "hash": pa.array(hashes, pa.int64()),
    }, schema=STATIC_ROWS)


def _content_hashes(ints: dict, name: pa.Array, callsign: pa.Array,
                    draught: tuple[np.ndarray, np.ndarray], destination: pa.Array) -> np.ndarray:
    """:func:`_content_hash` of every row, computed once per distinct report: the rows are
    grouped by their fields' codes (the same vessel repeats the same report all day) and
    each group's first row is hashed exactly as one report is."""
    n = len(name)
    codes = [np.where(ok, v, -1) for v, ok in ints.values()]
    dv, dok = draught
    codes.append(np.where(dok, dv.view(np.int64), -1))  # a draught's bits; -1 is a NaN's
    texts = {"name": name, "callsign": callsign, "destination": destination}
    for arr in texts.values():
        enc = pc.dictionary_encode(arr)
        codes.append(np.asarray(enc.indices.fill_null(-1), np.int64))
    if not n:
        return np.zeros(0, np.int64)
    _, first, inverse = np.unique(np.stack(codes, 1), axis=0, return_index=True,
                                  return_inverse=True)
    pick = pa.array(first)
    vals = {k: pa.array(v, pa.int64(), mask=~ok).take(pick).to_pylist()
            for k, (v, ok) in ints.items()}
    vals["draught_m"] = pa.array(dv, pa.float64(), mask=~dok).take(pick).to_pylist()
    for k, arr in texts.items():
        vals[k] = arr.take(pick).to_pylist()
    hashes = np.array([_content_hash(dict(zip(vals, rec, strict=True)))
                       for rec in zip(*vals.values(), strict=True)], np.int64)
    return hashes[inverse.ravel()]


def _content_hash(rec: dict) -> int:
    """Stable signed 64-bit hash of what a static report says (BLAKE2b; hash() is salted).

    Hashing the decoded fields rather than the payload makes two receptions that differ only
    in padding bits, or in fields corridor does not keep (ETA, EPFD), one observation.
    """
    blob = repr(tuple(rec[k] for k in _STATIC_FIELDS)).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(blob, digest_size=8).digest(), "little", signed=True)


def transmission_time_us(ts_us: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The instant a report was sent, from its receive time and its UTC-second field.

    The latest time with that second that is at most 5 s after the receive time; where
    the second is unknown (-1), the receive time itself.

    >>> t = np.array([60_000_000 * 10 + 3_000_000, 60_000_000 * 10 + 58_000_000])
    >>> (transmission_time_us(t, np.array([59, 59])) // 1_000_000).tolist()
    [599, 659]
    >>> (transmission_time_us(t, np.array([-1, 2])) // 1_000_000).tolist()  # 658 s: next minute
    [603, 662]
    """
    minute = (ts_us // _MINUTE_US) * _MINUTE_US
    t = minute + second.astype(np.int64) * 1_000_000
    t = np.where(t > ts_us + _CLOCK_SLACK_US, t - _MINUTE_US, t)
    # received in the last seconds of a minute, sent at the start of the next one
    t = np.where(t + _MINUTE_US <= ts_us + _CLOCK_SLACK_US, t + _MINUTE_US, t)
    return np.where(second < 0, ts_us, t)


def positions_table(out: _Out, source: str) -> tuple[pa.Table, int]:
    """Positions accumulated in ``out`` as a POSITIONS table (duplicates dropped, first kept)."""
    if not out.positions:
        return POSITIONS.empty_table(), 0
    col = {k: np.concatenate([b[k] for b in out.positions]) for k in out.positions[0]}
    n = len(col["mmsi"])
    mmsi, ts, lat, lon, mtype = col["mmsi"], col["ts"], col["lat"], col["lon"], col["msg_type"]
    t_id = transmission_time_us(ts, col["second"])
    obs = position_obs_ids(mmsi, t_id, lat, lon, mtype)
    _, first = np.unique(obs, return_index=True)
    keep = np.sort(first)
    table = pa.table(
        {
            "obs_id": pa.array(obs),
            "mmsi": pa.array(mmsi),
            "ts": pa.array(t_id, pa.int64()).cast(pa.timestamp("us")),
            "lat": pa.array(lat),
            "lon": pa.array(lon),
            "sog": pa.array(col["sog"].astype(np.float32), mask=~col["sog_ok"]),
            "cog": pa.array(col["cog"].astype(np.float32), mask=~col["cog_ok"]),
            "heading": pa.array(col["heading"].astype(np.int16), mask=~col["heading_ok"]),
            "nav_status": pa.array(col["status"].astype(np.int8), mask=~col["status_ok"]),
            "msg_type": pa.array(mtype, pa.int8()),
            "source": pa.array([source] * n, pa.string()),
        },
        schema=POSITIONS,
    )
    if len(keep) < n:
        table = table.take(pa.array(keep))
    return table, n - len(keep)


_STATIC_FIELDS = ("imo", "name", "callsign", "ship_type", "length_m", "beam_m", "draught_m",
                  "destination")


class Type24Merger:
    """Pairs type 24 part A and part B of one MMSI received close in time.

    A part waits for its partner; a partner of the same MMSI within ``window_us`` (or both
    untimed) merges with it; anything else releases the waiting part as a row of its own.
    At most one part waits per MMSI, so memory is bounded by the number of vessels; waiting
    is not cut short by time, so the result does not depend on how a file is chunked.
    Works on :data:`STATIC_ROWS` tables: only the type 24 rows are looked at one by one.
    """

    def __init__(self, window_us: int):
        self.window_us = window_us
        self.carry = STATIC_ROWS.empty_table()  # the waiting parts, in the order they came
        self.waiting: dict[int, int] = {}  # mmsi -> its waiting part's row in carry

    def add(self, rows: pa.Table) -> _Emitted:
        """Feed static rows (in file order); returns the rows that are final now."""
        off = self.carry.num_rows
        both = pa.concat_tables([self.carry, rows]) if off else rows
        mtype = np.asarray(rows.column("msg_type"), np.int64)
        hashes = np.asarray(both.column("hash"), np.int64)
        ts_col = both.column("ts")
        ts = np.asarray(ts_col.fill_null(0), np.int64)
        timed = np.asarray(ts_col.is_valid())
        # rows of other types are final as they come
        other = np.flatnonzero(mtype != 24)
        at = [other]
        main = [other + off]
        name_of = [other + off]
        h1 = [hashes[other + off]]
        h2 = [np.zeros(len(other), np.int64)]
        ts_out, timed_out = [ts[other + off]], [timed[other + off]]
        t24 = np.flatnonzero(mtype == 24)
        if len(t24):
            mmsi_l = np.asarray(both.column("mmsi"), np.int64).tolist()
            part_l = np.asarray(both.column("part"), np.int64).tolist()
            ts_l, timed_l, hash_l = ts.tolist(), timed.tolist(), hashes.tolist()
            waiting, window = self.waiting, self.window_us
            e_at, e_main, e_name, e_h1, e_h2, e_ts, e_timed = [], [], [], [], [], [], []
            for j in t24.tolist():
                i = j + off
                m = mmsi_l[i]
                prev = waiting.pop(m, None)
                if prev is not None:
                    if timed_l[prev] and timed_l[i]:
                        near = abs(ts_l[i] - ts_l[prev]) <= window
                    else:
                        near = not timed_l[prev] and not timed_l[i]
                    if near and part_l[prev] != part_l[i]:
                        a, b = (prev, i) if part_l[prev] == 0 else (i, prev)
                        times = [ts_l[k] for k in (a, b) if timed_l[k]]
                        e_at.append(j)
                        e_main.append(b)
                        e_name.append(a)
                        e_h1.append(hash_l[a])
                        e_h2.append(hash_l[b])
                        e_ts.append(min(times) if times else 0)
                        e_timed.append(bool(times))
                        continue
                    e_at.append(j)  # released alone
                    e_main.append(prev)
                    e_name.append(prev)
                    e_h1.append(hash_l[prev] if part_l[prev] == 0 else 0)
                    e_h2.append(hash_l[prev] if part_l[prev] == 1 else 0)
                    e_ts.append(ts_l[prev])
                    e_timed.append(timed_l[prev])
                waiting[m] = i
            at.append(np.array(e_at, np.int64))
            main.append(np.array(e_main, np.int64))
            name_of.append(np.array(e_name, np.int64))
            h1.append(np.array(e_h1, np.int64))
            h2.append(np.array(e_h2, np.int64))
            ts_out.append(np.array(e_ts, np.int64))
            timed_out.append(np.array(e_timed, bool))
            # what still waits, in the order it began waiting
            keep = list(waiting.values())
            self.carry = both.take(pa.array(keep, pa.int64()))
            self.waiting = {m: k for k, m in enumerate(waiting)}
        order = np.argsort(np.concatenate(at), kind="stable")
        return _Emitted(both, *(np.concatenate(x)[order]
                                for x in (main, name_of, h1, h2, ts_out, timed_out)))

    def flush(self) -> _Emitted:
        """The parts still waiting, each as a row of its own."""
        both = self.carry
        n = both.num_rows
        part = np.asarray(both.column("part"), np.int64)
        hashes = np.asarray(both.column("hash"), np.int64)
        ts_col = both.column("ts")
        self.carry, self.waiting = STATIC_ROWS.empty_table(), {}
        idx = np.arange(n)
        return _Emitted(both, idx, idx, np.where(part == 0, hashes, 0),
                        np.where(part == 1, hashes, 0), np.asarray(ts_col.fill_null(0), np.int64),
                        np.asarray(ts_col.is_valid(), bool))


@dataclass(frozen=True)
class _Emitted:
    """Final static rows: row ``main`` of ``rows`` with the name of row ``name_of``, the
    content hashes of its part A / part B (or of the report, ``h1``), and its receive time."""

    rows: pa.Table
    main: np.ndarray
    name_of: np.ndarray
    h1: np.ndarray
    h2: np.ndarray
    ts: np.ndarray
    timed: np.ndarray


def statics_table(em: _Emitted, source: str) -> tuple[pa.Table, int]:
    """Final static rows as a VESSEL_REPORTS table (duplicates dropped, first kept)."""
    n = len(em.main)
    if not n:
        return VESSEL_REPORTS.empty_table(), 0
    main = pa.array(em.main)
    base = em.rows.take(main)
    mmsi = np.asarray(base.column("mmsi"), np.int64)
    mtype = np.asarray(base.column("msg_type"), np.int64)
    bucket = np.where(em.timed, em.ts // _MINUTE_US, -1)
    obs = combine_u64(mmsi, mtype, bucket, em.h1, em.h2)
    cols = {
        "obs_id": pa.array(obs),
        "mmsi": pa.array(mmsi),
        "ts": pa.array(em.ts, pa.int64(), mask=~em.timed).cast(pa.timestamp("us")),
        "msg_type": pa.array(mtype, pa.int8()),
    }
    for name in _STATIC_FIELDS:
        col = (em.rows.column("name").take(pa.array(em.name_of)) if name == "name"
               else base.column(name))
        cols[name] = col.cast(VESSEL_REPORTS.field(name).type)
    cols["source"] = pa.array([source] * n, pa.string())
    table = pa.table(cols, schema=VESSEL_REPORTS)
    _, first = np.unique(obs, return_index=True)
    if len(first) < n:
        table = table.take(pa.array(np.sort(first)))
    return table, n - len(first)


def scan_chunk(lines: list[bytes], first_line_no: int, ctx: _Ctx) -> ChunkResult:
    """Decode one chunk of lines."""
    scanner = _Scanner(ctx)
    scanner.scan(lines, first_line_no)
    return scanner.result()


def scan_block(chunk: bytes, n_lines: int, first_line_no: int, ctx: _Ctx) -> ChunkResult:
    """Decode one chunk of lines given as their bytes joined by ``\\n`` (runs in a worker
    process: one ``bytes`` object to send, not one per line)."""
    scanner = _Scanner(ctx)
    scanner.scan_bytes(chunk, n_lines, first_line_no)
    return scanner.result()


# ------------------------------------------------------------------ file level
def _text_ratio(head: bytes) -> float:
    if not head:
        return 1.0
    printable = sum(1 for b in head if 32 <= b < 127 or b in (9, 10, 13))
    return printable / len(head)


#: Longest line read as one (bytes). An AIS sentence is at most 82 characters; with a tag
#: block, a leading timestamp and a trailer a real line stays far below this. A longer line
#: (no line breaks, CR-only line ends, a run of garbage) is skipped as ``line_too_long``
#: without being held in memory.
MAX_LINE_BYTES = 8192
#: Bytes read (after decompression) at a time: memory stays bounded whatever the file holds.
READ_BLOCK_BYTES = 1 << 20
#: Stands in for an overlong line in a chunk (the scanner counts it); NUL bytes never start
#: a sentence.
TOO_LONG_LINE = b"\x00line too long\x00"


def bounded_lines(blocks: Iterable[bytes], max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """Lines (without ``\\n``) of a stream given as blocks of bytes; a line longer than
    ``max_line_bytes`` comes out as :data:`TOO_LONG_LINE` and is never held whole.

    >>> list(bounded_lines([b"ab\\ncd", b"e\\n" + b"x" * 20, b"yz\\nlast"], 10))
    [b'ab', b'cde', b'\\x00line too long\\x00', b'last']
    """
    pending = b""  # the start of a line that continues in the next block
    dropping = False  # inside an overlong line: discard up to its end
    for block in blocks:
        parts = block.split(b"\n")
        tail = parts.pop()
        if parts:
            if dropping:
                parts[0] = TOO_LONG_LINE
                dropping = False
            elif pending:
                parts[0] = pending + parts[0]
            pending = b""
            if max(map(len, parts)) > max_line_bytes:
                parts = [p if len(p) <= max_line_bytes else TOO_LONG_LINE for p in parts]
            yield from parts
        if dropping:
            continue
        pending += tail
        if len(pending) > max_line_bytes:
            pending, dropping = b"", True
    if dropping:
        yield TOO_LONG_LINE
    elif pending:
        yield pending


#: What reading a compressed file can raise when its bytes are damaged.
_CORRUPT = (EOFError, zlib.error, gzip.BadGzipFile)


def _open_blocks(path: Path) -> tuple[Iterator[bytes], io.BufferedIOBase]:
    """Blocks of bytes of a plain or gzip file (detected by its magic bytes, not its name),
    each at most :data:`READ_BLOCK_BYTES`; a gzip bomb fails when read (see
    :func:`_ratio_capped`)."""
    fh = open(path, "rb")
    try:
        magic = fh.read(2)
        fh.seek(0)
        if magic == b"\x1f\x8b":
            fh = gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[assignment]
        head = fh.read(65536)
    except _CORRUPT as exc:
        fh.close()
        raise IngestError(f"corrupt or truncated compressed file ({exc or type(exc).__name__})") from exc
    except BaseException:
        fh.close()
        raise
    if _text_ratio(head) < 0.7:
        fh.close()
        raise IngestError("binary data, not an NMEA text log")
    blocks = itertools.chain((head,), iter(lambda: fh.read(READ_BLOCK_BYTES), b""))
    if magic == b"\x1f\x8b":
        blocks = _ratio_capped(blocks, path.stat().st_size)
    return blocks, fh


#: A gzip file may decompress to at most this many times its size (and at least
#: :data:`MIN_BOMB_BYTES`): NMEA text compresses 4-10x; a thousandfold ratio is a bomb,
#: whose lines (a gigabyte of line breaks) would keep the decoder busy for minutes.
MAX_GZIP_RATIO = 100
MIN_BOMB_BYTES = 64 << 20


def _ratio_capped(blocks: Iterable[bytes], compressed_bytes: int) -> Iterator[bytes]:
    limit = max(MAX_GZIP_RATIO * compressed_bytes, MIN_BOMB_BYTES)
    total = 0
    for block in blocks:
        total += len(block)
        if total > limit:
            raise IngestError(f"decompresses to more than {MAX_GZIP_RATIO}x its size "
                              f"({total >> 20} MB read): a compression bomb, not a log")
        yield block


def _chunks(lines: Iterator[bytes], size: int) -> Iterator[tuple[list[bytes], int]]:
    """Cut lines into lists of about ``size``, never right after a ``$`` line (``$PGHP``).

    The line-by-line statement of the cuts :func:`bounded_chunks` makes on bytes (kept as
    its reference, ``tests/test_nmea_read_blocks.py``)."""
    buf: list[bytes] = []
    first = 1
    for line in lines:
        buf.append(line)
        if len(buf) >= size and not line.lstrip().startswith(b"$"):
            yield buf, first
            first += len(buf)
            buf = []
    if buf:
        yield buf, first


def bounded_chunks(blocks: Iterable[bytes], size: int,
                   max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[bytes, int, int]]:
    """The lines of a stream given as blocks of bytes, cut into chunks of about ``size``
    lines without a Python object per line: (the chunk's lines joined by ``\\n``, how many
    lines, the first one's line number). The same lines and cuts as :func:`bounded_lines`
    then :func:`_chunks`: a line longer than ``max_line_bytes`` becomes
    :data:`TOO_LONG_LINE` and is never held whole (beyond the block it is read in); a chunk
    never ends right after a ``$`` line (``$PGHP``: its time belongs to the next line).

    >>> list(bounded_chunks([b"a\\n$b\\nc", b"d\\n" + b"x" * 20, b"yz\\nlast\\n"], 1, 10))
    [(b'a', 1, 1), (b'$b\\ncd', 2, 2), (b'\\x00line too long\\x00', 1, 4), (b'last', 1, 5)]
    """
    pending = b""  # the start of a line that continues in the next block
    dropping = False  # inside an overlong line: discard up to its end
    acc: list[bytes] = []  # complete lines, each ending with "\n"
    n_acc = 0
    first = 1

    def full_chunks() -> Iterator[tuple[bytes, int, int]]:
        """Yield the chunks of ``size`` lines that ``acc`` holds, keeping the rest."""
        nonlocal acc, n_acc, first
        while n_acc >= size:
            cut = _cut(acc, size, max_line_bytes)
            if cut is None:
                break
            chunk, n, rest = cut
            yield chunk, n, first
            first += n
            acc, n_acc = ([rest], n_acc - n) if rest else ([], n_acc - n)

    for block in blocks:
        if dropping:
            nl = block.find(b"\n")
            if nl < 0:
                continue
            acc.append(TOO_LONG_LINE + b"\n")
            n_acc += 1
            block, dropping = block[nl + 1:], False
        data = pending + block if pending else block
        last = data.rfind(b"\n")
        if last >= 0:
            acc.append(data[:last + 1])
            n_acc += data.count(b"\n", 0, last + 1)
            pending = data[last + 1:]
        else:
            pending = data
        if len(pending) > max_line_bytes:
            pending, dropping = b"", True
        yield from full_chunks()
    if dropping:
        acc.append(TOO_LONG_LINE + b"\n")
        n_acc += 1
    elif pending:
        acc.append(pending + b"\n")
        n_acc += 1
    yield from full_chunks()
    if n_acc:
        yield _too_long_replaced(b"".join(acc)[:-1], max_line_bytes), n_acc, first


def _cut(acc: list[bytes], size: int, max_line_bytes: int) -> tuple[bytes, int, bytes] | None:
    """The first chunk of the complete lines ``acc``: (its lines joined, their number, the
    bytes after it), ending at the ``size``-th line or the first line after it that is not a
    ``$`` line; None when all lines after it are ``$`` lines (wait for more)."""
    data = b"".join(acc)
    nl = np.flatnonzero(np.frombuffer(data, np.uint8) == _NL)
    k = size - 1
    while k < len(nl):
        a = int(nl[k - 1]) + 1 if k else 0
        line = data[a:int(nl[k])]
        if len(line) > max_line_bytes or not line.lstrip().startswith(b"$"):
            end = int(nl[k])
            chunk = _too_long_replaced(data[:end], max_line_bytes, nl[:k + 1])
            return chunk, k + 1, data[end + 1:]
        k += 1
    return None


def _too_long_replaced(chunk: bytes, max_line_bytes: int, nl: np.ndarray | None = None) -> bytes:
    """``chunk`` with every line longer than ``max_line_bytes`` replaced by
    :data:`TOO_LONG_LINE` (``nl``: the line breaks in it and the one after it, if known)."""
    if nl is None:
        nl = np.concatenate((np.flatnonzero(np.frombuffer(chunk, np.uint8) == _NL), [len(chunk)]))
    starts = np.concatenate(([0], nl[:-1] + 1))
    if not len(nl) or int((nl - starts).max()) <= max_line_bytes:
        return chunk
    return b"\n".join(p if len(p) <= max_line_bytes else TOO_LONG_LINE
                      for p in chunk.split(b"\n"))


class _FileParser:
    """Drives chunk decoding for one file and stitches the chunks together."""

    def __init__(self, path: Path, summary: IngestSummary, options: NmeaOptions):
        self.path = path
        self.summary = summary
        self.options = options
        now_us = int(time.time() * 1_000_000)
        self.ctx = _Ctx(
            source=options.source or path.name,
            assume_us=datetime_to_us(options.assume_time) if options.assume_time else None,
            max_ts_us=now_us + int(options.future_tolerance_s * 1_000_000),
            fragment_max_lines=options.fragment_max_lines,
            bulk_framing=options.bulk_framing,
        )
        self.carry: dict = {}
        self.merger = Type24Merger(int(options.type24_merge_window_s * 1_000_000))
        self.nmea_lines = 0

    def workers(self) -> int:
        n = self.options.workers or (os.cpu_count() or 1)
        if n <= 1:
            return 1
        try:
            size = self.path.stat().st_size
        except OSError:
            return 1
        return n if size >= self.options.parallel_min_bytes else 1

    def run(self) -> Iterator[tuple[str, pa.Table]]:
        try:
            blocks, fh = _open_blocks(self.path)
        except OSError as exc:
            raise IngestError(f"cannot read: {exc.strerror or exc}") from exc
        try:
            yield from self._run(blocks)
        except _CORRUPT as exc:
            raise IngestError(f"corrupt or truncated compressed file ({exc or type(exc).__name__})") from exc
        except OSError as exc:  # a read error half-way (a disk, a network share)
            raise IngestError(f"cannot read: {exc.strerror or exc}") from exc
        finally:
            fh.close()
        if self.summary.rows_in and not self.nmea_lines:
            raise IngestError("no NMEA sentences found (not an AIS NMEA log?)")
        if self.options.strict:
            bad = {r: n for r, n in self.summary.skipped.items() if r not in INFO_REASONS}
            if bad:
                what = ", ".join(f"{n} {r}" for r, n in sorted(bad.items()))
                raise IngestError(f"--strict: lines skipped ({what}); nothing stored")

    def _run(self, blocks: Iterator[bytes]) -> Iterator[tuple[str, pa.Table]]:
        n = self.workers()
        chunks = bounded_chunks(blocks, self.options.chunk_lines)
        if n == 1:
            for chunk, n_lines, first in chunks:
                yield from self._absorb(scan_block(chunk, n_lines, first, self.ctx))
        else:
            yield from self._run_pool(chunks, n)
        yield from self._finish()

    def _run_pool(self, chunks: Iterator, n: int) -> Iterator[tuple[str, pa.Table]]:
        """Decode chunks in ``n`` processes, absorbing results in file order.

        Workers are started by a fork server (forking a process that holds DuckDB's threads
        is unsafe). If the pool cannot work (e.g. a script without an ``if __name__ ==
        "__main__"`` guard), the remaining chunks are decoded here instead: same result.
        """
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["corridor.ingest.nmea"])
        inflight: deque = deque()  # (future or None, chunk, lines, first line number)
        broken = False

        def collect(item: tuple) -> ChunkResult:
            nonlocal broken
            fut, chunk, n_lines, first = item
            if fut is not None and not broken:
                try:
                    return fut.result()
                except BrokenProcessPool:
                    broken = True
            return scan_block(chunk, n_lines, first, self.ctx)

        # workers end with this process, even when it is killed (kill -9, OOM)
        with ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=die_with_parent,
                                 initargs=(os.getpid(), False)) as pool:
            try:
                for chunk, n_lines, first in chunks:
                    fut = None
                    if not broken:
                        try:
                            with _main_hidden():
                                fut = pool.submit(scan_block, chunk, n_lines, first, self.ctx)
                        except (BrokenProcessPool, RuntimeError):
                            broken = True
                    inflight.append((fut, chunk, n_lines, first))
                    if len(inflight) > n + 1 or broken:
                        yield from self._absorb(collect(inflight.popleft()))
                while inflight:
                    yield from self._absorb(collect(inflight.popleft()))
            finally:
                for fut, _chunk, _n, _first in inflight:
                    if fut is not None:
                        fut.cancel()

    def _absorb(self, res: ChunkResult) -> Iterator[tuple[str, pa.Table]]:
        summary = self.summary
        summary.rows_in += res.rows_in
        self.nmea_lines += res.nmea_lines
        _merge_skips(summary, res.skips)
        # Fragments whose message started in the previous chunk.
        stitch = _Scanner(self.ctx)
        for frag in res.loose:
            parts = self.carry.get(frag[2])
            if (parts is not None and frag[3] == len(parts) + 1 and frag[4] == parts[0][4]
                    and frag[0] - parts[0][0] <= self.ctx.fragment_max_lines):
                parts.append(frag)
                if len(parts) == frag[4]:
                    del self.carry[frag[2]]
                    stitch.assemble(parts)
            else:
                stitch.out.skip("orphan_fragment", frag[0], "first fragment missing")
        for parts in self.carry.values():
            stitch.out.skip("orphan_fragment", parts[0][0], "message never completed", len(parts))
        self.carry = res.open
        extra = stitch.result()
        _merge_skips(summary, extra.skips)
        self._duplicates("positions", res.duplicates + extra.duplicates)
        yield "positions", res.positions
        yield "positions", extra.positions
        statics = res.static_rows
        if extra.static_rows.num_rows:
            statics = pa.concat_tables([statics, extra.static_rows])
        yield from self._statics(self.merger.add(statics))

    def _finish(self) -> Iterator[tuple[str, pa.Table]]:
        out = _Out()
        for parts in self.carry.values():
            out.skip("orphan_fragment", parts[0][0], "message never completed", len(parts))
        self.carry = {}
        _merge_skips(self.summary, out.skips)
        yield from self._statics(self.merger.flush())

    def _statics(self, rows: _Emitted) -> Iterator[tuple[str, pa.Table]]:
        table, dups = statics_table(rows, self.ctx.source)
        self._duplicates("vessel_reports", dups)
        yield "vessel_reports", table

    def _duplicates(self, table: str, n: int) -> None:
        """Receptions dropped before reaching the store still count as offered duplicates."""
        if n:
            self.summary.offered[table] = self.summary.offered.get(table, 0) + n


@contextmanager
def _main_hidden() -> Iterator[None]:
    """Start pool workers without re-running the caller's script in them.

    A fork-server worker imports the parent's ``__main__`` file, which re-executes a script
    that lacks an ``if __name__ == "__main__"`` guard. The workers only need this module, so
    while they are being started ``__main__`` is replaced by an empty module.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _merge_skips(summary: IngestSummary, skips: dict) -> None:
    """Add a chunk's per-reason counts (with example line numbers) to the file summary."""
    for reason, (count, lines, detail) in skips.items():
        lines = [ln for ln in lines if ln]
        for ln in lines:
            summary.skip(reason, ln, detail)
        rest = count - len(lines)
        if rest > 0:
            summary.skipped[reason] = summary.skipped.get(reason, 0) + rest
            if detail and reason not in summary.details:
                summary.details[reason] = detail


def parse_nmea(
    path: Path, summary: IngestSummary, options: NmeaOptions | None = None
) -> Iterator[tuple[str, pa.Table]]:
    """Parser for :func:`corridor.ingest.summary.ingest_file`: yields Arrow batches."""
    yield from _FileParser(Path(path), summary, options or NmeaOptions()).run()


def ingest_nmea_file(
    store: Store, path: Path, options: NmeaOptions | None = None, *, force: bool = False
) -> IngestSummary:
    """Ingest one NMEA log (plain or gzip) atomically; see the module docstring."""
    opts = options or NmeaOptions()

    def parse(p: Path, summary: IngestSummary) -> Iterator[tuple[str, pa.Table]]:
        return parse_nmea(p, summary, opts)

    return ingest_file(store, Path(path), KIND, parse, force=force)


def ingest_nmea(
    store: Store, paths: Iterable[Path], options: NmeaOptions | None = None, *, force: bool = False
) -> list[IngestSummary]:
    """Ingest several logs; a file that fails is reported and the others still go in."""
    return [ingest_nmea_file(store, Path(p), options, force=force) for p in paths]


def has_problems(summary: IngestSummary) -> bool:
    """True when the file failed or lines were skipped for a reason that is not informational."""
    if summary.status == "failed":
        return True
    return any(n for r, n in summary.skipped.items() if r not in INFO_REASONS)
