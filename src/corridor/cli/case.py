"""CLI: ``case new|check``, ``corridors`` (list, ``load``), ``ingest sightings|rail|watchlist|sources``,
``reconstruct``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

from corridor.cli import FormatOption, info, ingest_files, open_store
from corridor.output import render

if TYPE_CHECKING:
    import pyarrow as pa

RECON_FORMATS = ("table", "json", "geojson")


def corridors_table() -> pa.Table:
    """The shipped corridors: id, title, window, nodes, legs, case, file."""
    import pyarrow as pa

    from corridor.corridors.model import CorridorError, load_corridor, shipped_corridors

    rows = []
    for p in shipped_corridors():
        try:
            c = load_corridor(p)
        except CorridorError as exc:
            rows.append({"id": p.stem, "title": f"(invalid: {exc})", "window": "", "nodes": 0,
                         "legs": 0, "case": "", "file": str(p)})
            continue
        rows.append({"id": c.corridor_id, "title": c.title,
                     "window": f"{c.window_start} – {c.window_end}", "nodes": len(c.nodes),
                     "legs": len(c.legs), "case": c.case or "", "file": str(p)})
    if not rows:
        return pa.table({"id": pa.array([], pa.string())})
    return pa.Table.from_pylist(rows)


def register(app: typer.Typer, ingest: typer.Typer) -> None:
    """Add this module's commands to the main app and the `ingest` group."""
    case_app = typer.Typer(help="Case folders: start one (`case new`), check it (`case check`).")
    app.add_typer(case_app, name="case")

    @case_app.command("new")
    def case_new(
        name: Path = typer.Argument(..., help="Folder to create; its name becomes the case id"),
    ) -> None:
        """Write a case folder: corridor.yaml, a commented template per sheet, a README."""
        from corridor.corridors.folder import CaseFolderError, new_case

        try:
            d = new_case(name)
        except (CaseFolderError, OSError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        for f in sorted(d.iterdir()):
            typer.echo(f"wrote {f}")
        typer.echo(f"next: edit the files, then `corridor case check {d}`")

    @case_app.command("check")
    def case_check(
        folder: Path = typer.Argument(..., help="Case folder"),
    ) -> None:
        """Validate the corridor file and every sheet; print every problem as
        file:line:column: what is wrong, what is expected."""
        from corridor.corridors.check import check_case

        problems, notes = check_case(folder)
        for p in problems:
            typer.echo(str(p))
        for n in notes:
            typer.echo(f"note: {n}", err=True)
        if problems:
            typer.echo(f"{len(problems)} problem(s) in {folder}", err=True)
            raise typer.Exit(1)
        typer.echo(f"{folder}: no problems")

    corridors_app = typer.Typer(help="Corridor definitions: list the shipped ones, load a case.",
                                invoke_without_command=True)
    app.add_typer(corridors_app, name="corridors")

    @corridors_app.callback()
    def corridors_list(
        ctx: typer.Context, format: FormatOption = "table"
    ) -> None:
        """List the shipped corridors (with no subcommand)."""
        if ctx.invoked_subcommand is None:
            typer.echo(render(corridors_table(), format))

    @corridors_app.command("load")
    def corridors_load(
        ctx: typer.Context,
        target: str = typer.Argument(..., help="Shipped case or corridor id, case folder, or "
                                               "corridor YAML naming a case"),
        force: bool = typer.Option(False, "--force", help="Re-read sightings/rail files"),
    ) -> None:
        """Load a case's places, vessels, sanctions, sightings, rail counts, claims and sources."""
        from corridor.corridors.case import CaseError, load_case
        from corridor.corridors.model import CorridorError
        from corridor.ingest.summary import exit_code

        with open_store(ctx) as store:
            try:
                summary = load_case(store, target, force=force)
            except (CaseError, CorridorError) as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from exc
            for line in summary.lines():
                info(ctx, line)
        raise typer.Exit(exit_code(summary.ingests))

    def _ingest(ctx: typer.Context, files: list[Path], fn, force: bool) -> None:
        from corridor.ingest.observations import ingest_sightings

        notes: list[str] = []
        kw = {"notes": notes} if fn is ingest_sightings else {}
        ingest_files(ctx, [f for f in files if f.exists()],
                     [str(f) for f in files if not f.exists()],
                     lambda store, f: fn(store, f, force=force, **kw), notes=notes)

    @ingest.command("sightings")
    def ingest_sightings_cmd(
        ctx: typer.Context,
        files: list[Path] = typer.Argument(..., help="Sightings CSV files"),
        force: bool = typer.Option(False, "--force", help="Re-read files already ingested"),
    ) -> None:
        """Ingest sightings (date, place, vessel, subject, source…; see docs)."""
        from corridor.ingest.observations import ingest_sightings

        _ingest(ctx, files, ingest_sightings, force)

    @ingest.command("rail")
    def ingest_rail_cmd(
        ctx: typer.Context,
        files: list[Path] = typer.Argument(..., help="Rail observation CSV files"),
        force: bool = typer.Option(False, "--force", help="Re-read files already ingested"),
    ) -> None:
        """Ingest rail counts (date, place, kind, railcars, source…)."""
        from corridor.ingest.observations import ingest_rail

        _ingest(ctx, files, ingest_rail, force)

    @ingest.command("imagery")
    def ingest_imagery_cmd(
        ctx: typer.Context,
        sheets: list[Path] = typer.Argument(..., help="Annotation sheets (imagery.csv: file, label, "
                                            "count, shape, x, y, ... one row per mark)"),
    ) -> None:
        """Ingest annotated images (satellite or aerial pictures an analyst counted from): each
        file stored by its SHA-256 beside the store, each mark with its label, count, provider,
        capture time and annotator. Loading the same files again adds nothing."""
        from corridor.report.imagery import ImageryError, load_imagery

        failed = False
        with open_store(ctx) as store:
            for sheet in sheets:
                try:
                    s = load_imagery(store, sheet)
                except (ImageryError, OSError) as exc:
                    typer.echo(f"error: {sheet}: {exc}", err=True)
                    failed = True
                    continue
                info(ctx, f"{sheet}: {s.images_added} image(s) added, {s.images_known} already "
                          f"stored, {s.annotations_added} annotation(s) added")
                for msg in s.skipped:
                    typer.echo(f"  skipped: {msg}", err=True)
                failed = failed or bool(s.skipped)
        if failed:
            raise typer.Exit(1)

    @ingest.command("watchlist")
    def ingest_watchlist_cmd(
        ctx: typer.Context,
        files: list[Path] = typer.Argument(..., help="FollowTheMoney JSON lines or CSV files"),
        force: bool = typer.Option(False, "--force", help="Re-read files already ingested"),
    ) -> None:
        """Ingest a watchlist: OpenSanctions/FollowTheMoney entities (Vessel) or a plain CSV."""
        from corridor.ingest.watchlist import ingest_watchlist

        _ingest(ctx, files, ingest_watchlist, force)

    @ingest.command("sources")
    def ingest_sources_cmd(
        ctx: typer.Context,
        file: Path = typer.Argument(..., help="CSV: tag, parent, publisher, title, date, url, "
                                               "citation (a case's sources.csv layout)"),
        collection: str | None = typer.Option(None, "--collection",
                                              help="Name of the list (default: file name)"),
    ) -> None:
        """Add a numbered sources list so that [S#] tags resolve to publishers and URLs."""
        from corridor.corridors.case import CaseError, ingest_sources

        with open_store(ctx) as store:
            try:
                n = ingest_sources(store, file, collection)
            except (CaseError, OSError) as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from exc
        info(ctx, f"{file}: stored {n} sources")

    @app.command("reconstruct")
    def reconstruct_cmd(
        ctx: typer.Context,
        corridor: str = typer.Argument(..., help="Shipped corridor id, a corridor YAML file or a "
                                                 "case folder"),
        format: Literal[RECON_FORMATS] = typer.Option(  # type: ignore[valid-type]
            "table", "--format", help="table, json (the report contract) or geojson"),
        no_save: bool = typer.Option(False, "--no-save",
                                     help="Do not write the shipments table"),
    ) -> None:
        """Reconstruct shipments, rail surges, estimates and claim verdicts for a corridor."""
        from corridor.corridors.model import CorridorError
        from corridor.corridors.reconstruct import ReconstructError, reconstruct

        with open_store(ctx, must_exist=True) as store:
            try:
                rec = reconstruct(store, corridor, save=not no_save)
            except (CorridorError, ReconstructError) as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from exc
        if format == "json":
            typer.echo(json.dumps(rec.to_json(), indent=2, ensure_ascii=False, default=str))
        elif format == "geojson":
            from corridor.output import round_geojson

            typer.echo(json.dumps(round_geojson(rec.to_geojson()), ensure_ascii=False, default=str))
        else:
            typer.echo(rec.to_text())
