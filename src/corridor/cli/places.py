"""CLI: ``init`` (create the store, load the port gazetteer) and ``places add|list``."""

from __future__ import annotations

from enum import Enum

import typer

from corridor.cli import FormatOption, db_path, info, open_store
from corridor.output import render
from corridor.place_kinds import KINDS

#: the choices of ``--kind`` (a list of Literal values is not supported by Typer)
Kind = Enum("Kind", {k: k for k in KINDS}, type=str)


def _latlon(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        lat, lon = (float(v) for v in value.split(","))
    except ValueError:
        raise typer.BadParameter(
            f"{value!r}: expected LAT,LON in degrees, e.g. 42.24,130.30") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise typer.BadParameter(f"{value!r}: latitude must be -90..90 and longitude -180..180")
    return lat, lon


def register(app: typer.Typer, ingest: typer.Typer) -> None:
    """Add this module's commands to the main app and the `ingest` group."""
    places_app = typer.Typer(help="The gazetteer: ports, anchorages and your own places.",
                             no_args_is_help=True)
    app.add_typer(places_app, name="places")

    @app.command("init")
    def init_cmd(ctx: typer.Context) -> None:
        """Create the database (if needed) and load the world port gazetteer."""
        from corridor import places

        with open_store(ctx) as store:
            counts = places.init_store(store)
        added = counts.pop("added")
        per_kind = ", ".join(f"{n:,} {k}" for k, n in counts.items())
        info(ctx, f"{db_path(ctx)}: {added:,} places added; places now: {per_kind}")

    @places_app.command("add")
    def add_cmd(
        ctx: typer.Context,
        files: list[str] = typer.Argument(..., help="CSV or GeoJSON files of places"),
        strict: bool = typer.Option(False, "--strict", help="Any skipped row makes the command fail"),
    ) -> None:
        """Add or replace places from CSV (place_id,name,kind,lat,lon,radius_m,country,
        precision,source[,aliases]) or GeoJSON (Point/Polygon features with those properties)."""
        from corridor import places

        failed = skipped = False
        with open_store(ctx) as store:
            for f in files:
                try:
                    res = places.add_places(store, f)
                except places.PlacesFileError as exc:
                    typer.echo(f"error: {exc}", err=True)
                    failed = True
                    continue
                for msg in res.errors:
                    typer.echo(f"skipped: {msg}", err=True)
                info(ctx, f"{f}: {res.stored} places stored, {res.skipped} skipped "
                          f"of {res.rows_in}")
                skipped |= res.skipped > 0
        raise typer.Exit(2 if failed else (1 if strict and skipped else 0))

    @places_app.command("list")
    def list_cmd(
        ctx: typer.Context,
        near: str | None = typer.Option(None, "--near", help="LAT,LON: only places near here"),
        name: str | None = typer.Option(None, "--name",
                                        help="Only places whose name or an alias contains this"),
        radius_km: float = typer.Option(10.0, "--radius-km", help="With --near: search radius"),
        kind: list[Kind] = typer.Option(  # type: ignore[valid-type]
            None, "--kind", help="Only these kinds (repeatable)"),
        limit: int | None = typer.Option(None, "--limit", help="At most this many rows"),
        format: FormatOption = "table",
    ) -> None:
        """List places (nearest first with --near; by name or alias with --name, the loaded
        case's places first)."""
        from corridor import places

        with open_store(ctx, must_exist=True) as store:
            tbl = places.list_places(store, near=_latlon(near), radius_km=radius_km,
                                     kinds=[k.value for k in kind or ()] or None, limit=limit,
                                     name=name)
        if format == "table":
            cols = [c for c in ("place_id", "name", "kind", "country", "lat", "lon", "radius_m",
                                "distance_km", "port_id") if c in tbl.column_names]
            if name and "aliases" in tbl.column_names:
                cols.insert(2, "aliases")
            tbl = tbl.select(cols)
        typer.echo(render(tbl, format))
