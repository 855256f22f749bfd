"""CLI: ``corridor export`` (store -> GIS file or Parquet archive) and ``corridor detect-spark``."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from pathlib import Path

import typer


class ExportWhat(str, Enum):
    positions = "positions"
    events = "events"
    tracks = "tracks"
    shipments = "shipments"


def _parse_day(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        typer.echo(f"error: {flag} {value!r}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM", err=True)
        raise typer.Exit(2) from exc


def detect_with_spark(archive: Path, out: Path, master: str | None,
                      shuffle_partitions: int | None = None, params=None,
                      gather_rows: int | None = None) -> None:
    """Run :func:`corridor.engines.spark.run_detect_spark` (with ``params``, a
    DetectParams, or the defaults) and print its summary."""
    from corridor.archive import ArchiveError
    from corridor.engines.spark import run_detect_spark

    try:
        extra = {} if gather_rows is None else {"gather_rows": gather_rows}
        summary = run_detect_spark(archive, out, params, master=master,
                                   shuffle_partitions=shuffle_partitions, **extra)
    except ArchiveError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"{summary.events:,} events from {summary.positions:,} positions of "
        f"{summary.vessels:,} vessels in {summary.seconds:.1f} s ({summary.mode}, "
        f"{summary.tasks:,} tasks) -> {summary.out}"
    )
    for mmsi, err in summary.failed:
        typer.echo(f"warning: vessel {mmsi} skipped: {err}", err=True)


def _export_file(ctx: typer.Context, what: str, to: Path, vessel: list[int] | None,
                 since: datetime | None, until: datetime | None) -> None:
    """``corridor export WHAT --to FILE.gpkg|.kml|...``: see :mod:`corridor.export`."""
    from corridor.cli import info, open_store

    try:
        import geopandas  # noqa: F401 - the geo extra
    except ImportError as exc:
        typer.echo("error: GIS files need the geo extra: pip install 'corridor[geo]'", err=True)
        raise typer.Exit(2) from exc
    from corridor.export import ExportError, ExportFilter, export_file

    filt = ExportFilter(mmsi=tuple(vessel) if vessel else None, since=since, until=until)
    with open_store(ctx, read_only=True, must_exist=True) as store:
        try:
            summary = export_file(store, what, to, filt)
        except ExportError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
    info(ctx, summary.line())


def register(app: typer.Typer, ingest: typer.Typer) -> None:
    """Add ``export`` and ``detect-spark`` to the main app."""

    @app.command("export")
    def export_cmd(
        ctx: typer.Context,
        what: ExportWhat = typer.Argument(..., help="What to export."),
        to: Path = typer.Option(..., "--to", metavar="FILE|DIR",
                                help="A GIS file, format by extension: .parquet (GeoParquet), "
                                     ".gpkg, .fgb, .kml, .gpx, .geojson; or an archive directory."),
        vessel: list[int] | None = typer.Option(None, "--vessel", metavar="MMSI",
                                                help="GIS file: only this MMSI (repeatable)."),
        buckets: int = typer.Option(
            None, "--buckets", min=1, help="Archive: vessel hash buckets per day (new archives; "
                                           "default 64)."
        ),
        since: str = typer.Option(None, "--since", metavar="TIME",
                                  help="Only rows at/after this UTC time."),
        until: str = typer.Option(None, "--until", metavar="TIME",
                                  help="Only rows before this UTC time."),
    ) -> None:
        """Write events, positions, tracks or shipments to a GIS file (GeoParquet, GeoPackage,
        FlatGeobuf, KML, GPX, GeoJSON; WGS84), or a stored table to a Parquet archive
        partitioned by day and vessel bucket.

        In GIS files tracks are lines per segment, gaps OFF→ON lines and encounters the
        meeting point with both vessels. Exporting positions to an archive also writes the
        static reports and the places (what detection reads).
        """
        from corridor.cli import info, open_store
        from corridor.export import FORMATS

        if to.suffix.lower() in FORMATS:
            _export_file(ctx, what.value, to, vessel, _parse_day(since, "--since"),
                         _parse_day(until, "--until"))
            return
        if what is ExportWhat.tracks:
            raise typer.BadParameter(f"tracks go to a GIS file ({', '.join(sorted(FORMATS))}), "
                                     "not an archive", param_hint="--to")
        from corridor.archive import ArchiveError, export_positions, export_table

        store = open_store(ctx, read_only=True, must_exist=True)
        try:
            # positions come with what detection also reads: static reports and places
            export = export_positions if what is ExportWhat.positions else (
                lambda s, d, **kw: export_table(s, what.value, d, **kw))
            summary = export(
                store,
                to,
                n_buckets=buckets,
                since=_parse_day(since, "--since"),
                until=_parse_day(until, "--until"),
            )
        except ArchiveError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        finally:
            store.close()
        info(ctx,
             f"exported {summary.rows:,} {what.value} to {summary.path} "
             f"({summary.days} days, {summary.files} files)"
        )

    @app.command("detect-spark")
    def detect_spark_cmd(
        archive: Path = typer.Option(..., "--archive", help="Archive directory (corridor export)."),
        out: Path = typer.Option(..., "--out", help="Output directory for the events archive."),
        master: str = typer.Option(
            "local[2]", "--master", help="Spark master (local[N]; ignored under spark-submit)."
        ),
        shuffle_partitions: int = typer.Option(
            None, "--shuffle-partitions", min=1, help="spark.sql.shuffle.partitions."
        ),
        gather_rows: int = typer.Option(
            None, "--gather-rows", min=0,
            help="Archives of up to this many positions run as one Spark job (per-vessel pass, "
                 "encounters and identity in one task per core; default 20,000,000); 0: always "
                 "the distributed stages."),
    ) -> None:
        """Run the detectors on Spark over an archive; writes the EVENTS table as Parquet.

        The same as ``corridor detect --engine spark --archive DIR --out DIR``."""
        detect_with_spark(archive, out, master, shuffle_partitions, gather_rows=gather_rows)
