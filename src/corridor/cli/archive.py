"""CLI: ``corridor export`` (store -> Parquet archive) and ``corridor detect-spark``."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from pathlib import Path

import typer


class ExportWhat(str, Enum):
    positions = "positions"
    events = "events"
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
                      shuffle_partitions: int | None = None, params=None) -> None:
    """Run :func:`corridor.engines.spark.run_detect_spark` (with ``params``, a
    DetectParams, or the defaults) and print its summary."""
    from corridor.archive import ArchiveError
    from corridor.engines.spark import run_detect_spark

    try:
        summary = run_detect_spark(archive, out, params, master=master,
                                   shuffle_partitions=shuffle_partitions)
    except ArchiveError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"{summary.events:,} events from {summary.positions:,} positions of "
        f"{summary.vessels:,} vessels in {summary.seconds:.1f} s -> {summary.out}"
    )
    for mmsi, err in summary.failed:
        typer.echo(f"warning: vessel {mmsi} skipped: {err}", err=True)


def register(app: typer.Typer, ingest: typer.Typer) -> None:
    """Add ``export`` and ``detect-spark`` to the main app."""

    @app.command("export")
    def export_cmd(
        ctx: typer.Context,
        what: ExportWhat = typer.Argument(..., help="Table to export."),
        to: Path = typer.Option(..., "--to", help="Archive directory (created if missing)."),
        buckets: int = typer.Option(
            None, "--buckets", min=1, help="Vessel hash buckets per day (new archives; default 64)."
        ),
        since: str = typer.Option(None, "--since", help="Only rows at/after this UTC time."),
        until: str = typer.Option(None, "--until", help="Only rows before this UTC time."),
    ) -> None:
        """Write a stored table to a Parquet archive partitioned by day and vessel bucket.

        Exporting positions also writes the static reports and the places (what detection
        reads).
        """
        from corridor.archive import ArchiveError, export_positions, export_table
        from corridor.cli import open_store

        store = open_store(ctx, read_only=True)
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
        typer.echo(
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
    ) -> None:
        """Run the detectors on Spark over an archive; writes the EVENTS table as Parquet.

        The same as ``corridor detect --engine spark --archive DIR --out DIR``."""
        detect_with_spark(archive, out, master, shuffle_partitions)
