"""CLI: ``corridor report`` (HTML/PDF/PNG/GeoJSON evidence report) and ``corridor demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer

from corridor.cli import info, open_store, progress


def register(app: typer.Typer, ingest: typer.Typer) -> None:
    """Add ``report`` and ``demo`` to the main app."""

    @app.command("report")
    def report_cmd(
        ctx: typer.Context,
        corridor: str = typer.Argument(..., help="Corridor id (e.g. dprk-russia-2023) or YAML file."),
        out: Path = typer.Option(Path("report.html"), "-o", "--out", help="Output file."),
        fmt: Literal["html", "pdf", "png", "geojson"] | None = typer.Option(None, "--format", "-f",
                                help="Default: from the file extension. For GIS files (GeoPackage, "
                                     "KML, GeoParquet...) use `corridor export`."),
        sim_corridor: str = typer.Option(
            None, "--sim-corridor",
            help="Also reconstruct this corridor from simulated AIS, for the simulated section."),
    ) -> None:
        """Write a self-contained evidence report (map, timeline, claims, sources) for CORRIDOR."""
        from corridor.report.build import ReportError, write_report

        if fmt is None and out.suffix.lower() in (".kml", ".gpkg", ".fgb", ".gpx", ".parquet"):
            typer.echo(f"error: {out}: a report is html, pdf, png or geojson; for GIS files use "
                       f"`corridor export events|tracks|positions|shipments --to {out}`", err=True)
            raise typer.Exit(2)
        store = open_store(ctx, must_exist=True)
        try:
            path = write_report(store, corridor, out, fmt, sim_corridor=sim_corridor,
                                progress=progress(ctx))
        except ReportError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        except (KeyError, FileNotFoundError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        finally:
            store.close()
        info(ctx, f"wrote {path}")

    @app.command("demo")
    def demo_cmd(
        ctx: typer.Context,
        out: Path = typer.Option(Path("corridor-demo"), "--out", help="Demo directory (own database)."),
        open_: bool = typer.Option(False, "--open", help="Open the report in a browser when done."),
    ) -> None:
        """Build the dprk-russia-2023 case from bundled data and write corridor-demo/report.html."""
        from corridor.demo import run_demo

        result = run_demo(out, progress=progress(ctx), echo=lambda m: info(ctx, m))
        info(ctx, result.summary())
        if open_:
            import webbrowser

            webbrowser.open(result.report.resolve().as_uri())
