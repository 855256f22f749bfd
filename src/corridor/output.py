"""Render Arrow tables for people and programs: ``table``, ``csv``, ``json``, ``geojson``.

Every listing command takes ``--format`` and calls :func:`render`. The ``table`` format is
for a terminal: control characters in values show as escapes
(:func:`corridor.display.terminal_safe`); csv/json/geojson keep the data exact. GeoJSON uses
``lon``/``lat`` columns for point features (or a ``geometry`` column holding GeoJSON
text); rows without coordinates are kept with a null geometry so nothing is dropped.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # tables are only passed through here; importing Arrow costs 0.3 s
    import pyarrow as pa

from corridor.display import terminal_safe

FORMATS = ("table", "csv", "json", "geojson")


def _plain(value: Any) -> Any:
    """JSON-friendly value: ISO times, floats without NaN, parsed JSON text left as text."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def records(table: pa.Table, json_columns: tuple[str, ...] = ("attrs", "fields", "counts")) -> list[dict]:
    """Rows as dicts with plain values; columns holding JSON text are parsed."""
    rows = table.to_pylist()
    out = []
    for row in rows:
        clean = {}
        for k, v in row.items():
            if k in json_columns and isinstance(v, str):
                try:
                    v = json.loads(v)
                except ValueError:
                    pass
            clean[k] = _plain(v)
        out.append(clean)
    return out


#: GeoJSON coordinate decimals: 1e-6 degree is ~0.11 m, finer than any AIS position
GEOJSON_DECIMALS = 6


def round_coordinates(coords: Any, decimals: int = GEOJSON_DECIMALS) -> Any:
    """GeoJSON ``coordinates`` (any nesting) rounded to ``decimals``.

    >>> round_coordinates([[42.42405299999999, 130.1], [1.0000004, 2]])
    [[42.424053, 130.1], [1.0, 2]]
    """
    if isinstance(coords, float):
        return round(coords, decimals)
    if isinstance(coords, list):
        return [round_coordinates(c, decimals) for c in coords]
    return coords


def _round_geometry(geometry: Any) -> Any:
    if isinstance(geometry, dict):
        if "coordinates" in geometry:
            geometry = {**geometry, "coordinates": round_coordinates(geometry["coordinates"])}
        if isinstance(geometry.get("geometries"), list):
            geometry = {**geometry, "geometries": [_round_geometry(g)
                                                   for g in geometry["geometries"]]}
    return geometry


def round_geojson(doc: dict) -> dict:
    """A FeatureCollection (or Feature) with every geometry's coordinates to 6 decimals."""
    if doc.get("type") == "FeatureCollection":
        return {**doc, "features": [round_geojson(f) for f in doc.get("features") or []]}
    if doc.get("type") == "Feature":
        return {**doc, "geometry": _round_geometry(doc.get("geometry"))}
    return _round_geometry(doc)


def to_geojson(table: pa.Table) -> dict:
    """A FeatureCollection with one feature per row (coordinates to 6 decimals)."""
    features = []
    for row in records(table):
        geometry = None
        if isinstance(row.get("geometry"), str):
            try:
                geometry = _round_geometry(json.loads(row.pop("geometry")))
            except ValueError:
                geometry = None
        elif row.get("lon") is not None and row.get("lat") is not None:
            geometry = {"type": "Point", "coordinates": round_coordinates(
                [float(row["lon"]), float(row["lat"])])}
        features.append({"type": "Feature", "geometry": geometry, "properties": row})
    return {"type": "FeatureCollection", "features": features}


def _cell(value: Any, width: int = 40) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, (list, dict)):
        text = json.dumps(value, default=str)
    else:
        text = str(value)
    text = terminal_safe(text)  # a name's ESC or newline must not reach the terminal raw
    return text if len(text) <= width else text[: width - 1] + "…"


def to_text_table(table: pa.Table, max_rows: int | None = None) -> str:
    """A text table for the terminal (drawn by rich; numbers right-aligned, long cells cut)."""
    import pyarrow as pa
    from rich import box
    from rich.console import Console
    from rich.table import Table

    rows = records(table)
    if max_rows is not None:
        rows = rows[:max_rows]
    cols = [terminal_safe(c) for c in table.column_names]
    cells = [[_cell(r.get(c)) for c in table.column_names] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    out = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for name, field in zip(cols, table.schema, strict=True):
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
        out.add_column(name, justify="right" if numeric else "left", no_wrap=True)
    for row in cells:
        out.add_row(*row)
    buf = io.StringIO()
    # wide enough that no row wraps: cells are already cut to 40 characters
    console = Console(file=buf, width=sum(widths) + 3 * len(cols) + 4, color_system=None,
                      force_terminal=False, emoji=False, markup=False, highlight=False)
    console.print(out)
    lines = [line.rstrip() for line in buf.getvalue().rstrip("\n").splitlines()]
    if max_rows is not None and table.num_rows > max_rows:
        lines.append(f"… {table.num_rows - max_rows} more rows (use --format csv for all)")
    return "\n".join(lines)


def render(table: pa.Table, fmt: str = "table") -> str:
    """Render ``table`` in one of :data:`FORMATS`."""
    if fmt == "table":
        return to_text_table(table)
    if fmt == "json":
        return json.dumps(records(table), indent=2, ensure_ascii=False)
    if fmt == "geojson":
        return json.dumps(to_geojson(table), ensure_ascii=False)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(table.column_names)
        for row in records(table):
            writer.writerow(
                [
                    json.dumps(v, default=str) if isinstance(v, (list, dict)) else ("" if v is None else v)
                    for v in row.values()
                ]
            )
        return buf.getvalue().rstrip("\n")
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
