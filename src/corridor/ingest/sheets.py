"""Read a sheet an analyst wrote: CSV or XLSX, with comment lines, keeping line and column.

Rows come back with the line they are on (the CSV line, or the spreadsheet row) and the
1-based column of every header, so that a problem can be named ``file:line:column``.

- CSV (UTF-8, a BOM is fine): lines whose first character is ``#`` are comments, anywhere in
  the file (the case templates explain each column that way); blank lines are skipped.
- XLSX (read with openpyxl): the first worksheet; rows whose first cell starts with ``#`` are
  comments; cells are turned into text (dates as ``YYYY-MM-DD``, whole numbers without
  ``.0``).

The first non-comment, non-blank row is the header.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

SHEET_SUFFIXES = (".csv", ".xlsx")


class SheetError(ValueError):
    """A sheet that cannot be read at all (names the file)."""


@dataclass(frozen=True)
class SheetRow:
    """One data row: ``line`` in the file, ``values`` by column name (stripped text; a missing
    cell is ``""``), ``extra`` = cells beyond the header (an unquoted comma?)."""

    line: int
    values: dict[str, str]
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sheet:
    path: Path
    header: tuple[str, ...]
    header_line: int
    rows: tuple[SheetRow, ...]

    def column(self, name: str) -> int:
        """1-based column of ``name`` (0 when the sheet has no such column)."""
        return self.header.index(name) + 1 if name in self.header else 0


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _csv_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SheetError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SheetError(f"{path}: not UTF-8 text (save the sheet as CSV UTF-8, or as .xlsx)") \
            from exc
    # comment lines become empty lines, so that the csv module's line numbers stay the file's
    clean = "".join("\n" if line.lstrip().startswith("#") else line
                    for line in io.StringIO(text, newline=""))
    reader = csv.reader(io.StringIO(clean, newline=""))
    start = 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def _xlsx_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise SheetError(f"{path}: reading .xlsx needs openpyxl (pip install openpyxl)") from exc
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a broken file
        raise SheetError(f"{path}: not a readable .xlsx workbook: {exc}") from exc
    try:
        ws = wb.worksheets[0]
        for i, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            yield i, [_cell_text(c) for c in cells]
    finally:
        wb.close()


def read_sheet(path: str | Path) -> Sheet:
    """The header and data rows of a CSV or XLSX sheet (see the module docstring)."""
    p = Path(path)
    lines = _xlsx_lines(p) if p.suffix.lower() == ".xlsx" else _csv_lines(p)
    header: tuple[str, ...] | None = None
    header_line = 0
    rows: list[SheetRow] = []
    for line, cells in lines:
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = tuple(c.strip() for c in cells)
            while header and not header[-1]:
                header = header[:-1]
            header_line = line
            continue
        vals = {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header) if h}
        extra = tuple(c for c in cells[len(header):] if c.strip())
        rows.append(SheetRow(line, vals, extra))
    if header is None:
        return Sheet(p, (), 0, ())
    return Sheet(p, header, header_line, tuple(rows))


def find_sheet(folder: Path, name: str) -> Path | None:
    """``folder/name.csv`` or ``folder/name.xlsx`` (the first that exists), else None."""
    for suffix in SHEET_SUFFIXES:
        p = folder / f"{name}{suffix}"
        if p.exists():
            return p
    return None
