"""CLI: ``corridor ingest nmea`` (raw AIS NMEA logs through pyais)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from corridor.cli import ingest_files
from corridor.ingest.files import expand_paths

if TYPE_CHECKING:
    from corridor.ingest.summary import IngestSummary
    from corridor.store import Store


def _parse_time(value: str | None) -> datetime | None:
    """``--assume-time``: ISO 8601 (date or date-time; naive means UTC) → naive UTC datetime."""
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace(" ", "T"))
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO 8601 time: {value!r}") from exc
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt


def register(app: typer.Typer, ingest: typer.Typer) -> None:
    """Add ``ingest nmea`` to the ``ingest`` group."""

    @ingest.command("nmea")
    def ingest_nmea_cmd(
        ctx: typer.Context,
        files: list[str] = typer.Argument(
            ..., help="NMEA logs (plain or .gz), globs, or - for standard input"
        ),
        assume_time: str | None = typer.Option(
            None, "--assume-time", help="Receive time (ISO 8601, UTC) for lines that carry none"
        ),
        source: str | None = typer.Option(None, "--source", help="Dataset id (default: file name)"),
        strict: bool = typer.Option(
            False, "--strict", help="Any skipped line fails that file (nothing of it is stored)"
        ),
        force: bool = typer.Option(False, "--force", help="Re-read files already ingested"),
        workers: int = typer.Option(0, "--workers", help="Decoding processes (0 = one per CPU)"),
        archive: Path | None = typer.Option(
            None, "--archive", help="Write to this Parquet archive instead of the database"
        ),
    ) -> None:
        """Ingest raw AIS NMEA (!AIVDM/!AIVDO) into positions and vessel_reports.

        Exit code: 0 all stored, 3 lines were skipped (counts printed), 1 a file failed.
        """
        # imported here, not with the CLI: pyais takes 0.2 s to import, which every other
        # command would pay
        from corridor.ingest.nmea import NmeaOptions, ingest_nmea_file, parse_nmea
        from corridor.ingest.summary import ingest_to_archive

        when = _parse_time(assume_time)
        paths, missing = expand_paths(files, stdin_suffix=".nmea")

        def options_for(path: Path) -> NmeaOptions:
            name = source or ("stdin" if path.name.startswith("corridor-stdin-") else None)
            return NmeaOptions(assume_time=when, source=name, strict=strict, workers=workers)

        def ingest_one(store: Store, path: Path) -> IngestSummary:
            return ingest_nmea_file(store, path, options_for(path), force=force)

        def to_archive(path: Path) -> IngestSummary:
            def parse(p: Path, summary: IngestSummary):
                return parse_nmea(p, summary, options_for(p))

            return ingest_to_archive(archive, path, "nmea", parse)

        ingest_files(ctx, paths, missing, ingest_one, to_archive=to_archive if archive else None)
