"""Which MMSIs a position or static report may carry (ITU-R M.585).

A ship station's MMSI has nine digits, ``MIDxxxxxx`` with a MID of 201-775; the special
ranges a moving station uses are nine digits too (``111MIDxxx`` SAR aircraft, ``970xxyyyy``
AIS-SART, ``972``/``974`` MOB and EPIRB, ``98MIDxxxx`` craft with a parent ship, ``99MIDxxxx``
aids to navigation). Everything stored as a vessel is therefore 100000000-999999999; an
MMSI outside that range (1, 123456789012, a 64-bit sentinel, a group call ``0MIDxxxxx``
or a coast station ``00MIDxxxx``) is counted as ``invalid_mmsi``, not stored. Text must be
plain digits (a trailing ``.0``, as spreadsheets write integers, is accepted): ``3.67e8``,
``0x15DEF5C0`` or ``367_000_000`` are not read as numbers.
"""

from __future__ import annotations

import re

import numpy as np

MMSI_MIN = 100_000_000
MMSI_MAX = 999_999_999
_TEXT = re.compile(r"\s*[0-9]+(?:\.0*)?\s*", re.ASCII)
#: The same rule as a DuckDB regular expression (see :func:`mmsi_sql`)
_TEXT_SQL = r"\s*[0-9]+(\.0*)?\s*"


def valid_mmsi(value: int | str | None) -> bool:
    """True for an MMSI corridor stores as a vessel.

    >>> [valid_mmsi(v) for v in (273123456, "367000000", "367000000.0", 1, "3.67e8", 2**63 - 1)]
    [True, True, True, False, False, False]
    """
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str):
        if not _TEXT.fullmatch(value):
            return False
        value = int(value.strip().split(".")[0])
    try:
        return MMSI_MIN <= int(value) <= MMSI_MAX
    except (TypeError, ValueError, OverflowError):
        return False


def valid_mmsi_mask(mmsi: np.ndarray) -> np.ndarray:
    """Boolean mask of the valid MMSIs in an integer array."""
    return (mmsi >= MMSI_MIN) & (mmsi <= MMSI_MAX)


def mmsi_sql(column_sql: str) -> str:
    """SQL of an MMSI column as BIGINT: text only when it is plain digits (DuckDB's own cast
    reads ``3.67e8`` and ``0x...``), numbers as they are; NULL when unreadable."""
    text = f"CAST({column_sql} AS VARCHAR)"
    return (f"CASE WHEN typeof({column_sql}) <> 'VARCHAR' THEN TRY_CAST({column_sql} AS BIGINT) "
            f"WHEN regexp_full_match({text}, '{_TEXT_SQL}') THEN TRY_CAST({text} AS BIGINT) END")


def missing_mmsi_sql(mmsi_sql_expr: str, raw_sql: str) -> str:
    """SQL condition of ``missing_mmsi``: the column is empty, or 0 ("not available")."""
    return f"({raw_sql} IS NULL OR trim(CAST({raw_sql} AS VARCHAR)) = '' OR {mmsi_sql_expr} = 0)"


def invalid_mmsi_sql(mmsi_sql_expr: str) -> str:
    """SQL condition of ``invalid_mmsi`` (given it is not missing): unreadable or out of range."""
    return f"({mmsi_sql_expr} IS NULL OR {mmsi_sql_expr} NOT BETWEEN {MMSI_MIN} AND {MMSI_MAX})"
