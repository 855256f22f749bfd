"""Decoded position tables (CSV, Parquet, GeoPackage, GeoJSON, Shapefile) into ``positions``
and ``vessel_reports``.

The layout is detected from the header; each known layout is a mapping from the file's
columns to canonical fields plus a time format:

=================  ===========================================================  ==================
layout             recognised by                                                time column
=================  ===========================================================  ==================
marinecadastre     ``MMSI, BaseDateTime, LAT, LON`` (NOAA / BOEM)               ISO ``BaseDateTime``
dma                ``# Timestamp, Type of mobile, MMSI, Latitude, Longitude``   ``dd/mm/YYYY HH:MM:SS``
spire              ``MMSI, Message_ID, Time, Millisecond, Latitude, Longitude``  ``YYYYmmdd_HHMMSS`` + ms
generic            columns whose names say what they are (mmsi, timestamp,      ISO or ``--time-format``
                   lat/latitude, lon/longitude, sog/speed, ...)
mapped             ``--map ts=COL,mmsi=COL,lat=COL,lon=COL,...``                ISO or ``--time-format``
=================  ===========================================================  ==================

DuckDB's own CSV and Parquet readers do the parsing (multi-threaded, typed); rows are
normalised in SQL (sentinels to NULL, invalid rows labelled with a reason). The counts by
reason and the static reports are settled (and ``--strict`` decided) before any row is
stored. A Parquet file (or a vector layer) is read twice for that: a first aggregate pass
counts the rows and collects the static values, a second streams the usable rows to the
store as Arrow batches. A CSV, whose parsing is most of its cost, is read once
(:mod:`corridor.ingest.table_scan`): the one pass counts, groups and stages the usable rows
in a scratch file that the store then reads.

GeoPackage, GeoJSON, Shapefile and FlatGeobuf are read through pyogrio (GDAL; the DuckDB
spatial extension would have to be downloaded at run time), their points reprojected to
WGS84 with pyproj from the layer's declared coordinate system; a layer that declares none is
refused.

Every row that cannot be a position is counted by reason with its line number:
``malformed`` (a CSV line DuckDB rejects: wrong column count, unparsable value),
``missing_mmsi``, ``invalid_mmsi`` (not a 9-digit MMSI, see :mod:`corridor.ingest.mmsi`),
``missing_time`` (absent, unparsable, or before 1990),
``invalid_position`` (lat/lon absent or outside ±90/±180, or the AIS "not available"
91/181), ``future_timestamp`` (after now + 1 day).
"""

from __future__ import annotations

import bisect
import codecs
import csv
import gzip
import json
import queue
import re
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import duckdb
import numpy as np
import pyarrow as pa
import shapely

from corridor.ids import combine_u64, position_obs_ids
from corridor.ingest.mmsi import invalid_mmsi_sql, missing_mmsi_sql, mmsi_sql
from corridor.ingest.summary import EXAMPLES_PER_REASON, INFO_REASONS, IngestError, IngestSummary
from corridor.ingest.table_scan import TableScan, rebatch, scan_once, staged_batches
from corridor.scratch import scratch_dir
from corridor.store import fetch_arrow, stream_arrow, utcnow

T = TypeVar("T")

#: Rows handed to the store at a time (obs ids, repeat checks and one INSERT per batch).
#: DuckDB's record batches are gathered to this size (see ``table_scan.rebatch``). Measured
#: on the 10M-row MarineCadastre CSV: the same CPU with 500k as with 1M rows, and about
#: 90 MB less peak RSS; DuckDB 2's own batches (70k-123k rows) cost 1.3-3 CPU s more.
BATCH_ROWS = 500_000
#: DuckDB's memory limit for reading a file (the stream needs little; the profile's groups
#: spill beyond it)
READ_MEMORY_MB = 512

#: Times before this are not AIS times (AIS was adopted in 2000-2004): an unparsable year 0
#: or ``-infinity`` counts as ``missing_time``, not as a position of 1 BC
EARLIEST_TIME = "1990-01-01"

#: Canonical fields a table may provide. The first four are required.
POSITION_FIELDS = ("mmsi", "ts", "lat", "lon", "sog", "cog", "heading", "nav_status", "msg_type")
STATIC_FIELDS = ("name", "imo", "callsign", "ship_type", "length_m", "beam_m", "draught_m", "destination")
REQUIRED = ("mmsi", "ts", "lat", "lon")

#: Header synonyms for the generic layout (compared case-insensitively, ignoring spaces/_/#).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "mmsi": ("mmsi", "userid", "ssvid", "mmsinumber"),
    "ts": ("basedatetime", "timestamp", "datetime", "time", "ts", "timestamputc", "postime", "date"),
    "lat": ("lat", "latitude", "y"),
    "lon": ("lon", "long", "longitude", "lng", "x"),
    "sog": ("sog", "speed", "speedoverground"),
    "cog": ("cog", "course", "courseoverground"),
    "heading": ("heading", "trueheading", "hdg"),
    "nav_status": ("status", "navstatus", "navigationalstatus", "navigationstatus"),
    "msg_type": ("msgtype", "messageid", "messagetype", "type"),
    "name": ("vesselname", "name", "shipname"),
    "imo": ("imo", "imonumber"),
    "callsign": ("callsign",),
    "ship_type": ("vesseltype", "shiptype"),
    "length_m": ("length",),
    "beam_m": ("width", "beam"),
    "draught_m": ("draft", "draught"),
    "destination": ("destination",),
}

# DMA publishes navigational status as text; ITU-R M.1371 codes.
DMA_NAV_STATUS = {
    "under way using engine": 0, "at anchor": 1, "not under command": 2,
    "restricted manoeuverability": 3, "restricted maneuverability": 3,
    "constrained by her draught": 4, "moored": 5, "aground": 6, "engaged in fishing": 7,
    "under way sailing": 8, "reserved for future amendment [hsc]": 9,
    "reserved for future amendment [wig]": 10, "power-driven vessel towing astern": 11,
    "power-driven vessel pushing ahead or towing alongside": 12, "ais-sart": 14,
    "unknown value": 15, "unknown": 15,
}


def _norm(name: str) -> str:
    return re.sub(r"[\s_#\-\.]", "", name.strip().lower())


@dataclass(frozen=True)
class Layout:
    """How one table layout maps onto canonical fields.

    ``columns`` maps canonical field → source column; ``time_format`` is a strptime
    format for the ts column (None: let DuckDB cast ISO text); ``time_ms`` names a
    column of milliseconds to add; ``message_types`` filters rows by a message-id
    column when a layout mixes positions and other messages.
    """

    name: str
    columns: dict[str, str]
    time_format: str | None = None
    time_ms: str | None = None
    row_filter: str | None = None
    notes: list[str] = field(default_factory=list)


def parse_mapping(text: str) -> dict[str, str]:
    """Parse ``--map ts=COL,mmsi=COL,...`` into {field: column}.

    >>> parse_mapping("ts=time, mmsi=ID,lat=y,lon=x")
    {'ts': 'time', 'mmsi': 'ID', 'lat': 'y', 'lon': 'x'}
    """
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "=" not in part:
            raise ValueError(f"--map entry {part!r} is not FIELD=COLUMN")
        key, col = (s.strip() for s in part.split("=", 1))
        if key not in POSITION_FIELDS + STATIC_FIELDS:
            raise ValueError(
                f"--map field {key!r} unknown; fields: {', '.join(POSITION_FIELDS + STATIC_FIELDS)}"
            )
        out[key] = col
    return out


def detect_layout(
    header: list[str], mapping: dict[str, str] | None = None, time_format: str | None = None
) -> Layout:
    """Choose the layout for a header; raise ValueError naming what is missing."""
    if mapping:
        missing_cols = [c for c in mapping.values() if c not in header]
        if missing_cols:
            raise ValueError(f"--map names columns not in the file: {', '.join(missing_cols)}")
        missing = [f for f in REQUIRED if f not in mapping]
        if missing:
            raise ValueError(f"--map must give {', '.join(missing)}")
        return Layout("mapped", dict(mapping), time_format=time_format)
    cols = set(header)
    if {"MMSI", "BaseDateTime", "LAT", "LON"} <= cols:
        m = {"mmsi": "MMSI", "ts": "BaseDateTime", "lat": "LAT", "lon": "LON", "sog": "SOG",
             "cog": "COG", "heading": "Heading", "nav_status": "Status", "name": "VesselName",
             "imo": "IMO", "callsign": "CallSign", "ship_type": "VesselType", "length_m": "Length",
             "beam_m": "Width", "draught_m": "Draft"}
        return Layout("marinecadastre", {k: v for k, v in m.items() if v in cols}, time_format)
    if {"# Timestamp", "MMSI", "Latitude", "Longitude"} <= cols:
        m = {"ts": "# Timestamp", "mmsi": "MMSI", "lat": "Latitude", "lon": "Longitude",
             "sog": "SOG", "cog": "COG", "heading": "Heading", "nav_status": "Navigational status",
             "imo": "IMO", "callsign": "Callsign", "name": "Name", "ship_type": "Ship type",
             "beam_m": "Width", "length_m": "Length", "draught_m": "Draught",
             "destination": "Destination"}
        return Layout(
            "dma",
            {k: v for k, v in m.items() if v in cols},
            time_format or "%d/%m/%Y %H:%M:%S",
            row_filter="\"Type of mobile\" IN ('Class A', 'Class B')" if "Type of mobile" in cols else None,
        )
    if {"MMSI", "Message_ID", "Time", "Latitude", "Longitude"} <= cols:
        m = {"mmsi": "MMSI", "ts": "Time", "lat": "Latitude", "lon": "Longitude", "sog": "SOG",
             "cog": "COG", "heading": "Heading", "nav_status": "Navigational_status",
             "msg_type": "Message_ID", "name": "Vessel_Name", "imo": "IMO", "callsign": "Call_sign",
             "ship_type": "Ship_Type", "draught_m": "Draught", "destination": "Destination"}
        return Layout(
            "spire",
            {k: v for k, v in m.items() if v in cols},
            time_format or "%Y%m%d_%H%M%S",
            time_ms="Millisecond" if "Millisecond" in cols else None,
        )
    normed = {_norm(c): c for c in header}
    found: dict[str, str] = {}
    for fld, names in SYNONYMS.items():
        for n in names:
            if n in normed and normed[n] not in found.values():
                found[fld] = normed[n]
                break
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        raise ValueError(
            f"cannot tell which columns hold {', '.join(missing)} (columns: {', '.join(header[:20])}); "
            "give them with --map ts=COL,mmsi=COL,lat=COL,lon=COL"
        )
    return Layout("generic", found, time_format)


# ---------------------------------------------------------------------------------------------
# SQL normalisation


def _q(col: str) -> str:
    return '"' + col.replace('"', '""') + '"'


def _num(layout: Layout, fld: str, cast: str) -> str:
    col = layout.columns.get(fld)
    return f"TRY_CAST({_q(col)} AS {cast})" if col else f"CAST(NULL AS {cast})"


#: strptime directives DuckDB knows (``%-d`` etc. drop the leading zero)
_TIME_DIRECTIVE = re.compile(r"%(?:-?[dmyHIMSj]|[aAwbBYpgfnzZUWcxX%])")


def check_time_format(fmt: str) -> str:
    """``fmt`` if it is a strptime format corridor can use, else ValueError saying why.

    The format reaches SQL as a quoted literal (escaped too, see :func:`_lit`); a quote,
    control characters and unknown directives are refused here so that a typo gives a
    sentence, not a DuckDB parser error.

    >>> check_time_format("%d/%m/%Y %H:%M")
    '%d/%m/%Y %H:%M'
    """
    if not fmt or len(fmt) > 100:
        raise ValueError("--time-format must be 1 to 100 characters")
    bad = sorted({c for c in fmt if c == "'" or not c.isprintable()})
    if bad:
        raise ValueError(f"--time-format {fmt!r} contains {', '.join(repr(c) for c in bad)}; "
                         "give a strptime format such as '%d/%m/%Y %H:%M:%S'")
    rest = _TIME_DIRECTIVE.sub("", fmt)
    if "%" in rest:
        raise ValueError(f"--time-format {fmt!r} has an unknown directive near "
                         f"{rest[rest.index('%'):][:2]!r}; known: %Y %m %d %H %M %S %f %z ...")
    if not _TIME_DIRECTIVE.search(fmt):
        raise ValueError(f"--time-format {fmt!r} has no % directive; e.g. '%d/%m/%Y %H:%M:%S'")
    return fmt


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _iso_formats(*zones: str) -> str:
    """A DuckDB list literal of the ISO 8601 spellings of a time (``T`` or a space, with or
    without seconds and their fraction), each followed by one of ``zones``. One literal, not
    a ``list_concat``: an expression list is rebuilt for every row (measured: twice the CPU
    and +360 MB at 2M rows)."""
    times = ["%H:%M:%S", "%H:%M:%S.%f", "%H:%M:%S.%n", "%H:%M"]
    fmts = [f"%Y-%m-%d{sep}{t}{zone}" for zone in zones for t in times for sep in ("T", " ")]
    return "[" + ", ".join(_lit(f) for f in fmts) + "]"


#: Time text is parsed with these strict formats, not a cast: DuckDB 2's cast reads
#: "2023-08-11T06:20: 7" as 06:20:00 and ignores anything after a space ("06:2 0:07" is
#: 06:02), so a damaged time would be stored wrong instead of counted (found by
#: bench/fuzz_tables.py). A UTC offset must be a real one (at most 14 h): DuckDB's %z takes
#: "+34" as 34 hours.
_ISO_PLAIN = _iso_formats("", "Z", " UTC")[:-1] + ", '%Y-%m-%d']"
_ISO_ZONED = _iso_formats("%z")


def _ts_expr(layout: Layout) -> str:
    """SQL of the row's time as a UTC TIMESTAMP. The reading connection's TimeZone is UTC
    (see :func:`table_parser`): text with an offset (``+05:00``, ``Z``) is converted to
    UTC, text without one is taken as UTC, a TIMESTAMPTZ column is converted."""
    col = _q(layout.columns["ts"])
    if layout.time_format:
        fmt = _lit(check_time_format(layout.time_format))
        base = f"TRY_STRPTIME(CAST({col} AS VARCHAR), {fmt})"
        if "%z" in layout.time_format or "%Z" in layout.time_format:
            # a TIMESTAMPTZ: its UTC wall time
            base = f"CAST({base} AT TIME ZONE 'UTC' AS TIMESTAMP)"
    else:
        # ISO text with or without T / Z / offset, or a real TIMESTAMP(TZ) column (cast in
        # the session's UTC). The plain TIMESTAMP cast accepts "+05:00" and drops it, so text
        # with a sign after the date takes the zone-aware cast; only that text, as it is 7x
        # slower (measured: 3M ISO strings, 0.14 s plain against 1.0 s zone-aware).
        text = f"trim(CAST({col} AS VARCHAR))"
        base = (
            f"CASE WHEN typeof({col}) <> 'VARCHAR' THEN TRY_CAST({col} AS TIMESTAMP) "
            f"WHEN contains(substr({text}, 11), '+') OR contains(substr({text}, 11), '-') "
            f"THEN CASE WHEN regexp_matches({text}, '[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?$') "
            f"THEN CAST(TRY_STRPTIME({text}, {_ISO_ZONED}) AT TIME ZONE 'UTC' AS TIMESTAMP) END "
            f"ELSE TRY_STRPTIME({text}, {_ISO_PLAIN}) END"
        )
    if layout.time_ms:
        base = f"({base} + to_milliseconds(COALESCE(TRY_CAST({_q(layout.time_ms)} AS BIGINT), 0)))"
    return base


def _nav_expr(layout: Layout) -> str:
    col = layout.columns.get("nav_status")
    if not col:
        return "CAST(NULL AS TINYINT)"
    if layout.name == "dma":
        cases = " ".join(f"WHEN '{k}' THEN {v}" for k, v in DMA_NAV_STATUS.items())
        return f"CAST(CASE lower(trim(CAST({_q(col)} AS VARCHAR))) {cases} ELSE NULL END AS TINYINT)"
    code = f"TRY_CAST({_q(col)} AS INTEGER)"
    return f"CAST(CASE WHEN {code} BETWEEN 0 AND 14 THEN {code} END AS TINYINT)"


def _text(layout: Layout, fld: str) -> str:
    col = layout.columns.get(fld)
    return f"NULLIF(trim(CAST({_q(col)} AS VARCHAR)), '')" if col else "CAST(NULL AS VARCHAR)"


def _imo_expr(layout: Layout) -> str:
    col = layout.columns.get("imo")
    if not col:
        return "CAST(NULL AS BIGINT)"
    return f"TRY_CAST(regexp_extract(CAST({_q(col)} AS VARCHAR), '([0-9]{{7}})', 1) AS BIGINT)"


def _raw_static(layout: Layout) -> list[str]:
    """The static fields a layout provides, in :data:`STATIC_FIELDS` order."""
    return [f for f in STATIC_FIELDS if f in layout.columns]


def normalise_sql(layout: Layout, source_sql: str, header_lines: int | None, future_limit_iso: str) -> str:
    """SQL turning the raw relation into canonical rows plus a ``reason`` (NULL = usable).

    The static fields (name, IMO, ...) ride along *untyped*, as ``raw_<field>``: they are
    only grouped (see :func:`profile_sql`) and typed once per distinct value afterwards, not
    once per row. ``header_lines`` adds a ``line_no`` column (the row's number in the file);
    it costs a blocking window over the whole file, so only a file with unusable rows is
    read again with it.
    """
    numbered = header_lines is not None
    line_col = f"row_number() OVER () + {header_lines} AS line_no, " if numbered else ""
    line_ref = "line_no, " if numbered else ""
    lat, lon = _num(layout, "lat", "DOUBLE"), _num(layout, "lon", "DOUBLE")
    sog, cog = _num(layout, "sog", "REAL"), _num(layout, "cog", "REAL")
    heading = _num(layout, "heading", "INTEGER")
    mmsi = mmsi_sql(_q(layout.columns["mmsi"]))
    msg_type = _num(layout, "msg_type", "INTEGER")
    keep = f"({layout.row_filter})" if layout.row_filter else "TRUE"
    raw = "".join(f", {_q(layout.columns[f])} AS raw_{f}" for f in _raw_static(layout))
    raw_ref = "".join(f", raw_{f}" for f in _raw_static(layout))
    return f"""
        WITH raw AS (
            SELECT {line_col}* FROM ({source_sql})
        ), typed AS (
            SELECT {line_ref}{keep} AS keep,
                   {mmsi} AS mmsi, {_q(layout.columns["mmsi"])} AS mmsi_raw,
                   {_ts_expr(layout)} AS ts, {lat} AS lat, {lon} AS lon,
                   {sog} AS sog, {cog} AS cog, {heading} AS heading, {_nav_expr(layout)} AS nav_status,
                   {msg_type} AS msg_type{raw}
            FROM raw
        )
        SELECT {line_ref}mmsi, ts,
               lat, lon,
               CASE WHEN sog >= 0 AND sog < 102.2 THEN sog END AS sog,
               CASE WHEN cog >= 0 AND cog < 360 THEN cog END AS cog,
               CAST(CASE WHEN heading BETWEEN 0 AND 359 THEN heading END AS SMALLINT) AS heading,
               nav_status,
               CAST(CASE WHEN msg_type BETWEEN 1 AND 27 THEN msg_type END AS TINYINT) AS msg_type,
               CASE
                 WHEN NOT keep THEN 'not_a_vessel'
                 WHEN {missing_mmsi_sql("mmsi", "mmsi_raw")} THEN 'missing_mmsi'
                 WHEN msg_type IS NOT NULL AND NOT (msg_type BETWEEN 1 AND 3 OR msg_type = 18 OR msg_type = 19
                                                      OR msg_type = 27) THEN 'other_type'
                 WHEN {invalid_mmsi_sql("mmsi")} THEN 'invalid_mmsi'
                 WHEN ts IS NULL OR NOT isfinite(ts) OR ts < TIMESTAMP '{EARLIEST_TIME}'
                      THEN 'missing_time'
                 WHEN lat IS NULL OR lon IS NULL OR NOT isfinite(lat) OR NOT isfinite(lon)
                      OR abs(lat) > 90 OR abs(lon) > 180 OR lat = 91 OR lon = 181 THEN 'invalid_position'
                 WHEN ts > TIMESTAMP '{future_limit_iso}' THEN 'future_timestamp'
               END AS reason{raw_ref}
        FROM typed
    """


def profile_sql(layout: Layout, normalised_sql: str) -> str:
    """SQL of a file's profile: rows per reason and, where the layout names vessels, per
    vessel and raw static values, each group with its row count and first time.

    One aggregate pass gives both the counts of the ingest summary and the static reports
    (:func:`static_sql`), before any row is stored. Grouping the raw values and typing each
    distinct one afterwards is what makes the static reports cheap: measured on 10M
    MarineCadastre rows, 0.6 s, against 2.6 s for typing every row first (trim, a regexp
    for the IMO) and then grouping.
    """
    keys = ["reason"]
    if _raw_static(layout):
        keys += ["mmsi"] + [f"raw_{f}" for f in _raw_static(layout)]
    return (f"SELECT {', '.join(keys)}, count(*) AS n_rows, min(ts) AS ts "
            f"FROM ({normalised_sql}) GROUP BY ALL")


STATIC_KEYS = ["mmsi", "imo", "name", "callsign", "ship_type", "length_m", "beam_m", "draught_m",
               "destination"]


def static_sql(layout: Layout, profile: str) -> str:
    """SQL of the distinct static reports (rows naming the vessel) in the relation
    ``profile`` (made by :func:`profile_sql`), each with the first time it was seen.

    Raw values that type to the same report are merged (" ALPHA" and "ALPHA"); ``+ 0`` turns
    a dimension of -0.0 into 0.0, which compares equal but would hash differently in the
    report's id (whichever came first would win, and the order of groups is not fixed).
    """
    raw = Layout(layout.name, {f: f"raw_{f}" for f in _raw_static(layout)})
    keys = ", ".join(STATIC_KEYS)
    return f"""
        SELECT {keys}, min(ts) AS ts FROM (
            SELECT mmsi, ts, {_imo_expr(raw)} AS imo, {_text(raw, 'name')} AS name,
                   {_text(raw, 'callsign')} AS callsign,
                   {_num(raw, 'ship_type', 'SMALLINT')} AS ship_type,
                   {_num(raw, 'length_m', 'REAL')} + 0::REAL AS length_m,
                   {_num(raw, 'beam_m', 'REAL')} + 0::REAL AS beam_m,
                   {_num(raw, 'draught_m', 'REAL')} + 0::REAL AS draught_m,
                   {_text(raw, 'destination')} AS destination
            FROM {profile}
            WHERE reason IS NULL OR reason = 'other_type'
        )
        WHERE name IS NOT NULL OR imo IS NOT NULL OR callsign IS NOT NULL
        GROUP BY {keys} ORDER BY mmsi, ts"""


# ---------------------------------------------------------------------------------------------
# Readers: each returns (SQL over the file, header, header line count)


def _duck(run: Callable[[], T], failure: str) -> T:
    """``run()``, with a DuckDB error turned into an :class:`IngestError` that starts with
    ``failure`` and gives DuckDB's first line (the file is skipped, the batch goes on)."""
    try:
        return run()
    except duckdb.Error as exc:
        raise IngestError(f"{failure}: {str(exc).splitlines()[0]}") from exc


#: Bytes looked at to tell a CSV's text encoding.
ENCODING_SAMPLE_BYTES = 1 << 20


def csv_encoding(path: Path) -> str:
    """The text encoding of a CSV, from its first :data:`ENCODING_SAMPLE_BYTES` (of the
    decompressed text for a ``.gz``): ``utf-16`` with a UTF-16 byte order mark, ``utf-8``
    if the sample is valid UTF-8, else ``latin-1`` (Windows exports of European data; every
    byte is a Latin-1 character, so names are kept rather than rejected as malformed)."""
    with open(path, "rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        fh = gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw
        try:
            head = fh.read(ENCODING_SAMPLE_BYTES)
        except (OSError, EOFError, zlib.error):
            return "utf-8"  # DuckDB will say what is wrong with the file
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def _header_delimiter(path: Path, encoding: str) -> str:
    """The likeliest delimiter of a CSV: the commonest of , ; tab | in its first line."""
    with open(path, "rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        fh = gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw
        try:
            first = fh.readline(65536).decode(encoding if encoding != "utf-16" else "utf-16", "replace")
        except (OSError, EOFError, zlib.error):
            return ","
    return max(",;\t|", key=first.count)


def _csv_header_names(path: Path, encoding: str) -> list[str]:
    """The column names of a CSV's first line, as written (repeats kept)."""
    with open(path, "rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        fh = gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw
        try:
            first = fh.readline(65536).decode(encoding, "replace").lstrip("\ufeff")
        except (OSError, EOFError, zlib.error):
            return []
    delim = max(",;\t|", key=first.count)
    return [n.strip() for n in next(csv.reader([first.rstrip("\r\n")], delimiter=delim), [])]


def _csv_source(con: duckdb.DuckDBPyConnection, path: Path, encoding: str = "utf-8") -> tuple[str, list[str]]:
    p = str(path).replace("'", "''")
    common = (f"header=true, all_varchar=true, ignore_errors=true, encoding={_lit(encoding)}, "
              "store_rejects=true, rejects_scan='corridor_reject_scans', "
              "rejects_table='corridor_reject_errors'")
    sql = f"SELECT * FROM read_csv('{p}', {common})"
    try:
        header = [r[0] for r in con.execute(f"DESCRIBE {sql}").fetchall()]
    except duckdb.Error as exc:
        if "sniff" not in str(exc):
            raise IngestError(f"not a readable CSV: {str(exc).splitlines()[0]}") from exc
        # DuckDB's dialect sniffer gives up on a file with enough odd rows (stray quotes, CRs
        # inside cells: found by bench/fuzz_tables.py); the dialect is then given and the
        # parser made lenient, so that odd rows are rejected one by one (``malformed``)
        # instead of the whole file. In this mode cells beyond the header's are ignored.
        delim = _header_delimiter(path, encoding)
        sql = (f"SELECT * FROM read_csv('{p}', {common}, delim={_lit(delim)}, quote='\"', "
               "escape='\"', strict_mode=false)")
        header = _duck(lambda: [r[0] for r in con.execute(f"DESCRIBE {sql}").fetchall()],
                       "not a readable CSV")
    return sql, header


def _parquet_source(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, list[str]]:
    p = str(path).replace("'", "''")
    sql = f"SELECT * FROM read_parquet('{p}')"
    header = _duck(lambda: [r[0] for r in con.execute(f"DESCRIBE {sql}").fetchall()],
                   "not a readable Parquet file")
    return sql, header


#: what each vector format is called in messages
_VECTOR_NAMES = {"gpkg": "GeoPackage", "geojson": "GeoJSON", "shapefile": "Shapefile",
                 "flatgeobuf": "FlatGeobuf"}


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _wgs84_transformer(crs_text: str | None, what: str, layer: str):
    """A pyproj transformer from the layer's CRS to WGS84 longitude/latitude (None when it
    is WGS84 already); :class:`IngestError` when the layer has no usable CRS."""
    import pyproj

    hint = ("declare it (e.g. `ogr2ogr -a_srs EPSG:4326 out.gpkg in.gpkg`) and ingest again")
    if not crs_text:
        raise IngestError(f"{what} layer {layer!r} declares no coordinate system, so its "
                          f"coordinates cannot be placed on the map; {hint}")
    try:
        crs = pyproj.CRS.from_user_input(crs_text)
    except pyproj.exceptions.CRSError as exc:
        raise IngestError(f"{what} layer {layer!r}: unreadable coordinate system "
                          f"({_first_line(exc)}); {hint}") from exc
    if not (crs.is_geographic or crs.is_projected):  # an engineering / "undefined" system
        raise IngestError(f"{what} layer {layer!r}: coordinate system {crs.name!r} is not tied "
                          f"to the Earth; {hint}")
    wgs84 = pyproj.CRS.from_epsg(4326)
    if crs.equals(wgs84, ignore_axis_order=True) or crs.equals(pyproj.CRS("OGC:CRS84")):
        return None
    return pyproj.Transformer.from_crs(crs, wgs84, always_xy=True)


def _vector_table(path: Path, kind: str) -> tuple[pa.Table, str]:
    """The first feature layer of a GeoPackage, GeoJSON, Shapefile or FlatGeobuf through
    pyogrio (GDAL): attribute columns as text (as the CSV reader sees them) plus ``lon`` and
    ``lat`` of point features in WGS84, reprojected with pyproj from the layer's coordinate
    system (a non-point or empty geometry gives null coordinates: ``invalid_position``).
    Also returns a note naming the layer and its coordinate system.

    Anything GDAL cannot read (malformed GeoJSON, a GeoPackage whose table is missing) and a
    layer without a usable coordinate system raise :class:`IngestError`: the file is
    skipped with one line, the other files go on.
    """
    import warnings

    what = _VECTOR_NAMES[kind]
    with warnings.catch_warnings():  # GDAL's remarks on odd files; failures raise below
        warnings.simplefilter("ignore", RuntimeWarning)
        return _read_vector(path, what)


def _read_vector(path: Path, what: str) -> tuple[pa.Table, str]:
    import pyogrio
    from pyogrio import errors as ogr_errors

    failures = (ogr_errors.DataSourceError, ogr_errors.DataLayerError, ogr_errors.FeatureError,
                ogr_errors.FieldError, ogr_errors.GeometryError, ogr_errors.CRSError,
                RuntimeError, ValueError, OSError)
    try:
        layers = [(str(n), g) for n, g in pyogrio.list_layers(path)]
    except failures as exc:
        raise IngestError(f"not a readable {what}: {_first_line(exc)}") from exc
    features = [n for n, g in layers if g is not None]
    if not features:  # GDAL leaves out a table listed in a GeoPackage but missing from it
        raise IngestError(f"{what} has no readable feature table")
    layer = features[0]
    try:
        meta, table = pyogrio.read_arrow(path, layer=layer)
    except failures as exc:
        raise IngestError(f"{what} layer {layer!r} cannot be read: {_first_line(exc)}") from exc
    transformer = _wgs84_transformer(meta.get("crs"), what, layer)
    geom_col = meta.get("geometry_name") or "wkb_geometry"
    if geom_col not in table.column_names:
        raise IngestError(f"{what} layer {layer!r} has no geometry column")
    try:
        geoms = shapely.from_wkb(table[geom_col].to_numpy(zero_copy_only=False), on_invalid="ignore")
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise IngestError(f"{what} layer {layer!r}: unreadable geometry: {_first_line(exc)}") \
            from exc
    if table.num_rows == 0:  # GDAL drops what is not a Feature object
        raise IngestError(f"{what} layer {layer!r} has no readable features")
    if shapely.is_missing(geoms).all():
        raise IngestError(f"{what} layer {layer!r}: none of its {table.num_rows:,} features has "
                          "a readable geometry (are they Feature objects with a geometry?)")
    is_point = shapely.get_type_id(geoms) == 0
    x = np.where(is_point, shapely.get_x(geoms), np.nan)
    y = np.where(is_point, shapely.get_y(geoms), np.nan)
    note = f"layer {layer!r}, {meta.get('crs')}"
    if transformer is not None:
        x, y = transformer.transform(x, y)
        note += " reprojected to WGS84"
    cols = {}
    for name in table.column_names:
        if name == geom_col:
            continue
        col = table[name]
        cols[name] = col if pa.types.is_string(col.type) else col.cast(pa.string())
    finite = np.isfinite(x) & np.isfinite(y)
    cols["lon"] = pa.array(np.where(finite, x, np.nan), pa.float64(), mask=~finite).cast(pa.string())
    cols["lat"] = pa.array(np.where(finite, y, np.nan), pa.float64(), mask=~finite).cast(pa.string())
    return pa.table(cols), note


def _physical_line(row_line: int, rejected: list[int]) -> int:
    """File line of a row numbered among the accepted rows, given the rejected lines.

    DuckDB numbers the rows it accepted; lines it rejected are missing from that count.

    >>> _physical_line(5, [5])   # 4th data row follows the rejected line 5
    6
    >>> _physical_line(3, [5, 6])
    3
    """
    line = row_line
    while True:
        shifted = row_line + bisect.bisect_right(rejected, line)
        if shifted == line:
            return line
        line = shifted


def sniff_format(path: Path) -> str:
    """csv, parquet, gpkg, flatgeobuf, shapefile or geojson, from the file's first bytes
    (then its suffix)."""
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"SQLite format 3"):
        return "gpkg"
    if head.startswith(b"fgb\x03"):
        return "flatgeobuf"
    if path.suffix.lower() == ".shp":
        return "shapefile"
    if path.suffix.lower() in (".geojson", ".json") or head.lstrip().startswith(b"{"):
        return "geojson"
    if _looks_binary(head):
        raise IngestError("binary file that is not Parquet or GeoPackage")
    return "csv"


#: How much of a file's head :func:`sniff_format` reads (bytes).
_SNIFF_BYTES = 4096
#: Bytes that never occur in a text table (C0 controls other than tab, LF, FF, CR, ESC; DEL).
_NON_TEXT = bytes(sorted(set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B}) + [0x7F])


def _looks_binary(head: bytes) -> bool:
    """True for a head that is not text: more than 1 in 10 of its bytes are control bytes.

    A stray NUL in a cell (a damaged export) leaves the file a text table, so that row is
    skipped with its line number and the rest is read; random or compressed bytes are ~12 %
    controls. UTF-16 (half its bytes NUL for Latin text) is text when it starts with its BOM.

    >>> _looks_binary(b'MMSI,LAT\\n"3\\x0067000001",40.1\\n'), _looks_binary(bytes(range(256)))
    (False, True)
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    controls = len(head) - len(head.translate(None, _NON_TEXT))
    return controls * 10 > len(head)


# ---------------------------------------------------------------------------------------------
# The parser


def _static_obs_ids(tbl: pa.Table) -> np.ndarray:
    """Stable ids for static report rows: mmsi, ts and a digest of the reported fields."""
    import hashlib

    digests = np.array(
        [
            int.from_bytes(hashlib.sha1(json.dumps(r, default=str).encode()).digest()[:8], "little",
                           signed=True)
            for r in tbl.drop_columns(["mmsi", "ts"]).to_pylist()
        ],
        dtype=np.int64,
    )
    ts = tbl.column("ts").cast(pa.int64()).fill_null(0).to_numpy()
    return combine_u64(tbl.column("mmsi").to_numpy(), ts, digests)


def _prefetch(batches: Iterator[pa.Table], depth: int = 2) -> Iterator[pa.Table]:
    """Read the next batches in a background thread while the caller stores this one.

    DuckDB and Arrow release the GIL while they work, so reading/normalising the file and
    inserting into the store overlap on two cores.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def run() -> None:
        try:
            for b in batches:
                if stop.is_set():
                    break
                q.put(b)
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(exc)
        finally:
            q.put(done)

    t = threading.Thread(target=run, name="corridor-table-reader", daemon=True)
    t.start()
    try:
        while (item := q.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # the consumer stopped early (error, Ctrl-C): let the reader finish before the
        # connection it reads from is closed
        stop.set()
        while t.is_alive():
            try:
                q.get(timeout=0.1)
            except queue.Empty:
                pass
        t.join()


#: File name of a CSV's staged usable rows in the reading connection's scratch folder.
STAGED_ROWS = "staged-positions.arrow"


def _with_ids(good: pa.Table, src: str) -> pa.Table:
    """Canonical position rows with their obs_id and source."""
    tbl = good.select(["mmsi", "ts", "lat", "lon", "sog", "cog", "heading", "nav_status", "msg_type"])
    obs = position_obs_ids(
        tbl.column("mmsi").to_numpy(),
        tbl.column("ts").cast(pa.int64()).to_numpy(),
        tbl.column("lat").to_numpy(),
        tbl.column("lon").to_numpy(),
        tbl.column("msg_type").cast(pa.int64()).fill_null(0).to_numpy(),
    )
    tbl = tbl.add_column(0, "obs_id", pa.array(obs, pa.int64()))
    return tbl.append_column(
        "source", pa.DictionaryArray.from_arrays(pa.array(np.zeros(tbl.num_rows, np.int32)), pa.array([src]))
    )


def _field_of(layout: Layout, column: str) -> str:
    return next(f for f, c in layout.columns.items() if c == column)


def _scan_csv(con: duckdb.DuckDBPyConnection, layout: Layout, normalised: str, spill: Path) -> TableScan:
    """One pass over a CSV's normalised rows (see :mod:`corridor.ingest.table_scan`); the
    usable rows are staged in ``spill``."""
    static = [f"raw_{f}" for f in _raw_static(layout)]
    sql = f"SELECT reason, {', '.join(POSITION_FIELDS + tuple(static))} FROM ({normalised})"
    # rows in file order: the example line numbers are counted from them
    con.execute("SET preserve_insertion_order = true")
    reader = _duck(lambda: stream_arrow(con, sql, BATCH_ROWS), "cannot read rows")
    # DuckDB's record batches are gathered in the reading thread, so that it reads on while
    # a gathered batch is looked at (half batches: their text columns make them larger)
    return _duck(lambda: scan_once(_prefetch(rebatch(reader, BATCH_ROWS // 2)), POSITION_FIELDS,
                                   static, spill / STAGED_ROWS, EXAMPLES_PER_REASON),
                 "cannot read rows")


def table_parser(
    mapping: dict[str, str] | None = None,
    time_format: str | None = None,
    source: str | None = None,
    fmt: str | None = None,
    strict: bool = False,
):
    """A parser for :func:`corridor.ingest.summary.ingest_file` over one position table.

    ``strict``: any unusable row fails the whole file (nothing from it is stored).
    Raises ValueError for a ``time_format`` that :func:`check_time_format` refuses.
    """
    if time_format is not None:
        check_time_format(time_format)

    def parse(path: Path, summary: IngestSummary) -> Iterator[tuple[str, pa.Table]]:
        kind = fmt or sniff_format(path)
        spill = scratch_dir("read")
        con = duckdb.connect()  # a private connection: reads files, never touches the store
        try:
            con.execute("SET enable_progress_bar = false")
            # times without an offset are UTC; with one, they are converted (see _ts_expr)
            con.execute("SET TimeZone = 'UTC'")
            # bounded like the store (a file with many distinct vessels makes a large
            # profile): beyond the cap DuckDB spills to a private directory, not to ./.tmp
            con.execute("SET temp_directory = '" + spill.name.replace("'", "''") + "'")
            con.execute(f"SET memory_limit = '{READ_MEMORY_MB}MB'")
            header_lines = 1
            if kind == "csv":
                encoding = csv_encoding(path)
                if encoding != "utf-8":
                    summary.details["encoding"] = encoding
                source_sql, header = _csv_source(con, path, encoding)
            elif kind == "parquet":
                source_sql, header = _parquet_source(con, path)
                header_lines = 0
            else:
                arrow, summary.details["coordinates"] = _vector_table(path, kind)
                con.register("corridor_features", arrow)
                source_sql, header, header_lines = "SELECT * FROM corridor_features", arrow.column_names, 0
            try:
                layout = detect_layout(header, mapping, time_format)
            except ValueError as exc:
                raise IngestError(str(exc)) from exc
            if kind == "csv" and not mapping:
                # DuckDB renames a repeated column MMSI, MMSI_1, ...: which one holds the
                # values is a guess, so the user says it (--map), rather than the first
                # silently winning
                names = _csv_header_names(path, encoding)
                twice = [c for c in layout.columns.values() if names.count(c) > 1]
                if twice:
                    raise IngestError(
                        f"column {twice[0]!r} appears more than once; say which to use with "
                        f"--map, e.g. --map {_field_of(layout, twice[0])}={twice[0]}_1,...")
            summary.details["layout"] = layout.name
            future = (utcnow() + timedelta(days=1)).isoformat(sep=" ")
            src = source or path.name
            normalised = normalise_sql(layout, source_sql, None, future)
            if kind == "csv":
                # parsed once: counts, examples, static groups and the staged usable rows
                scan = _scan_csv(con, layout, normalised, Path(spill.name))
                rows_by_reason = scan.rows_by_reason
                profile = scan.static_groups
            else:
                # 1. one aggregate pass: what the file holds, before anything is stored
                profile = _duck(lambda: fetch_arrow(con, profile_sql(layout, normalised)),
                                "cannot read rows")
                con.register("corridor_profile", profile)
                rows_by_reason = {reason: int(n) for reason, n in con.execute(
                    "SELECT reason, sum(n_rows) FROM corridor_profile GROUP BY reason").fetchall()}
            for reason in sorted(r for r in rows_by_reason if r is not None) + [None]:
                n = rows_by_reason.get(reason, 0)
                summary.rows_in += n
                if reason is not None:
                    summary.skipped[reason] = summary.skipped.get(reason, 0) + n
            rejected: list[int] = []
            if kind == "csv":
                rejected = [int(r[0]) for r in con.execute(
                    "SELECT DISTINCT line FROM corridor_reject_errors ORDER BY line"
                ).fetchall()]
                for line in rejected:
                    summary.skip("malformed", line)
                summary.rows_in += len(rejected)
            if any(r != "malformed" for r in summary.skipped):
                if kind == "csv":  # the rows' numbers from the scan
                    examples = [(r, [x + header_lines for x in rows])
                                for r, rows in scan.example_rows.items()]
                else:
                    # a second pass, with line numbers, only for files that have unusable rows
                    numbered = normalise_sql(layout, source_sql, header_lines, future)
                    examples = _duck(lambda: con.execute(
                        f"SELECT reason, min(line_no, {EXAMPLES_PER_REASON}) FROM ({numbered}) "
                        "WHERE reason IS NOT NULL GROUP BY reason").fetchall(), "cannot number rows")
                for reason, lines in examples:
                    summary.examples[reason] = [_physical_line(int(x), rejected) for x in lines]
            if strict and summary.total_skipped:
                first = ", ".join(f"{r} (line {summary.examples.get(r, ['?'])[0]})"
                                  for r in summary.skipped if r not in INFO_REASONS)
                raise IngestError(f"--strict: {summary.total_skipped} unusable rows: {first}")
            # 2. the usable positions, streamed
            if kind == "csv":
                rows: Iterator[pa.Table] = staged_batches(scan.staged, scan.staged_rows, BATCH_ROWS)
            else:
                reader = _duck(lambda: stream_arrow(
                    con, f"SELECT {', '.join(POSITION_FIELDS)} FROM ({normalised}) WHERE reason IS NULL",
                    BATCH_ROWS), "cannot read rows")
                rows = rebatch(reader, BATCH_ROWS)
            for good in _prefetch(_with_ids(t, src) for t in rows):
                yield "positions", good
            # 3. the static reports, from the profile
            if _raw_static(layout) and profile is not None:
                con.register("corridor_profile", profile)
                merged = fetch_arrow(con, static_sql(layout, "corridor_profile"))
                if merged.num_rows:
                    merged = merged.add_column(0, "obs_id", pa.array(_static_obs_ids(merged), pa.int64()))
                    merged = merged.append_column("source", pa.array([src] * merged.num_rows, pa.string()))
                    yield "vessel_reports", merged
        finally:
            try:
                con.close()
            finally:
                spill.cleanup()

    return parse
