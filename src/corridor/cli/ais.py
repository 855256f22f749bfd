"""CLI: ``ingest positions`` (decoded tables), ``stats``, ``vessels``, ``track``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from corridor.cli import FormatOption, ingest_files, open_store
from corridor.ingest.files import expand_paths
from corridor.output import render

if TYPE_CHECKING:
    from corridor.ingest.summary import IngestSummary
    from corridor.store import Store


def register(app: typer.Typer, ingest: typer.Typer) -> None:
    """Add this module's commands to the main app and the `ingest` group."""

    @ingest.command("positions")
    def ingest_positions(
        ctx: typer.Context,
        files: list[str] = typer.Argument(
            ..., help="CSV / Parquet / GeoPackage / GeoJSON / Shapefile / FlatGeobuf files, globs, "
                    "or -"
        ),
        map_: str | None = typer.Option(
            None, "--map", help="Column mapping for unknown layouts: ts=COL,mmsi=COL,lat=COL,lon=COL,..."
        ),
        time_format: str | None = typer.Option(
            None, "--time-format", help="strptime format of the time column, e.g. '%d/%m/%Y %H:%M'"
        ),
        source: str | None = typer.Option(None, "--source", help="Dataset id (default: file name)"),
        strict: bool = typer.Option(False, "--strict", help="Any skipped row makes the command fail"),
        force: bool = typer.Option(False, "--force", help="Re-read files already ingested"),
        archive: Path | None = typer.Option(
            None, "--archive", help="Write to this Parquet archive instead of the database"
        ),
    ) -> None:
        """Ingest decoded AIS position tables (MarineCadastre, DMA, Spire-like, or --map)."""
        from corridor.ingest.summary import ingest_file, ingest_to_archive
        from corridor.ingest.tables import check_time_format, parse_mapping, table_parser

        try:
            mapping = parse_mapping(map_) if map_ else None
            if time_format is not None:
                check_time_format(time_format)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        paths, missing = expand_paths(files, stdin_suffix=".csv")

        def ingest_one(store: Store, path: Path) -> IngestSummary:
            parser = table_parser(mapping, time_format, source, strict=strict)
            return ingest_file(store, path, "positions", parser, force=force)

        def to_archive(path: Path) -> IngestSummary:
            parser = table_parser(mapping, time_format, source, strict=strict)
            return ingest_to_archive(archive, path, "positions", parser)

        ingest_files(ctx, paths, missing, ingest_one, to_archive=to_archive if archive else None)

    @app.command("stats")
    def stats_cmd(
        ctx: typer.Context, format: FormatOption = "table"
    ) -> None:
        """Counts of what the store holds."""
        from corridor import inspect

        with open_store(ctx, must_exist=True) as store:
            typer.echo(render(inspect.stats(store), format))

    @app.command("vessels")
    def vessels_cmd(
        ctx: typer.Context,
        format: FormatOption = "table",
        limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many vessels"),
    ) -> None:
        """One row per MMSI: latest name/IMO/type, flag from the MID, first/last seen, positions."""
        from corridor import inspect

        with open_store(ctx, must_exist=True) as store:
            typer.echo(render(inspect.vessels(store, limit), format))

    @app.command("track")
    def track_cmd(
        ctx: typer.Context,
        mmsi: int = typer.Argument(..., help="The vessel's MMSI"),
        since: datetime | None = typer.Option(None, "--since"),
        until: datetime | None = typer.Option(None, "--until"),
        format: FormatOption = "table",
    ) -> None:
        """One vessel's positions in time order."""
        from corridor import inspect

        with open_store(ctx, must_exist=True) as store:
            tbl = inspect.track(store, mmsi, since, until)
        if tbl.num_rows == 0:
            typer.echo(f"no positions for MMSI {mmsi}", err=True)
            raise typer.Exit(1)
        if format == "geojson":
            typer.echo(json.dumps(inspect.track_geojson(tbl)))
        else:
            typer.echo(render(tbl, format))
