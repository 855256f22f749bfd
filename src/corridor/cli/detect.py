"""``corridor detect`` (incremental event detection) and ``corridor events`` (list them)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

import typer

from corridor.cli import FormatOption, info, open_store, progress
from corridor.output import render

EVENT_TYPES = ("port_visit", "gap", "encounter", "loitering", "voyage", "identity_change",
               "position_conflict")


def _types(values: list[str] | None) -> list[str] | None:
    for v in values or []:
        if v not in EVENT_TYPES:
            raise typer.BadParameter(f"unknown event type {v!r}; choose from {', '.join(EVENT_TYPES)}")
    return values or None


def detect_params(params_file: Path | None, preset: str | None):
    """The DetectParams in force: the preset's (or the defaults), then the file's values."""
    from corridor.detect.params import PRESETS, DetectParams, ParamsError, load_params

    if preset is not None and preset not in PRESETS:
        raise typer.BadParameter(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}",
                                 param_hint="--preset")
    base = PRESETS[preset]() if preset else DetectParams()
    if params_file is None:
        return base
    try:
        return load_params(params_file, base)
    except ParamsError as exc:
        raise typer.BadParameter(str(exc), param_hint="--params") from exc


def register(app: typer.Typer, ingest: typer.Typer) -> None:
    """Add ``detect`` and ``events`` to the main app."""

    @app.command("detect")
    def detect_cmd(
        ctx: typer.Context,
        vessel: list[int] | None = typer.Option(None, "--vessel", metavar="MMSI",
                                                help="Only this MMSI (repeatable)"),
        since: datetime | None = typer.Option(None, "--since", help="Only positions from (UTC)"),
        until: datetime | None = typer.Option(None, "--until", help="Only positions before (UTC)"),
        full: bool = typer.Option(False, "--full", help="Recompute every vessel, not only changed ones"),
        workers: int | None = typer.Option(None, "--workers", help="Processes (default: all cores)"),
        engine: Literal["local", "spark"] = typer.Option(
            "local", "--engine", help="local (the DuckDB store) or spark"),
        archive: Path | None = typer.Option(None, "--archive", help="spark: archive to read"),
        out: Path | None = typer.Option(None, "--out", help="spark: directory for the events"),
        master: str = typer.Option("local[2]", "--master", help="spark: master URL"),
        params_file: Path | None = typer.Option(
            None, "--params", help="TOML or YAML file of detection parameters, one table per "
            "section ([gap] min_gap_hours = 12, ...); unknown keys are refused"),
        preset: str | None = typer.Option(
            None, "--preset", help="Named parameter set: gfw (Global Fishing Watch's published "
            "parameters); --params values apply on top"),
    ) -> None:
        """Detect port visits, gaps, encounters, loitering, voyages, identity changes and
        position conflicts. Re-runs recompute only vessels with new positions.

        ``--engine spark --archive DIR --out DIR`` runs the same detectors on Spark over a
        Parquet archive (``corridor export positions --to DIR``). The parameters in force
        are stored with every event (``attrs.params``)."""
        params = detect_params(params_file, preset)
        if engine == "spark":
            if archive is None or out is None:
                raise typer.BadParameter("--engine spark needs --archive DIR and --out DIR")
            from corridor.cli.archive import detect_with_spark

            detect_with_spark(archive, out, master, params=params)
            return
        from corridor.engines.local import run_detect

        with open_store(ctx) as store:
            summary = run_detect(store, params, vessel or None, since, until,
                                 progress(ctx), full=full, workers=workers)
        d = summary.to_dict()
        info(ctx, f"detected {d['vessels_detected']} of {d['vessels_total']} vessels "
                  f"({d['positions']:,} positions) in {d['seconds']:.1f} s "
                  f"(parameters {preset or 'default'}{' + ' + str(params_file) if params_file else ''}"
                  f", hash {d['params_hash']})")
        for k, v in d["events"].items():
            info(ctx, f"  {k}: {v}")
        for k, v in d["marks"].items():
            info(ctx, f"  marked {k}: {v}")
        for note in d["notes"]:
            info(ctx, f"  note: {note}")
        if not d["vessels_detected"] and d["encounter_range"] is None:
            info(ctx, "  nothing changed since the last run (use --full to recompute)")

    @app.command("events")
    def events_cmd(
        ctx: typer.Context,
        type_: list[str] | None = typer.Option(None, "--type", metavar="[" + "|".join(EVENT_TYPES) + "]",
                                               help="Event type (repeatable)"),
        vessel: list[int] | None = typer.Option(None, "--vessel", metavar="MMSI",
                                                help="MMSI (repeatable)"),
        since: datetime | None = typer.Option(None, "--since", help="Events ending after (UTC)"),
        until: datetime | None = typer.Option(None, "--until", help="Events starting before (UTC)"),
        format: FormatOption = "table",
    ) -> None:
        """List detected events."""
        from corridor.engines.local import query_events

        with open_store(ctx, must_exist=True) as store:
            tbl = query_events(store, _types(type_), vessel or None, since, until)
        if format == "geojson":  # gaps as OFF→ON lines
            from corridor.export import with_event_geometry

            tbl = with_event_geometry(tbl)
        typer.echo(render(tbl, format))
