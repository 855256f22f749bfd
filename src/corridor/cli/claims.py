"""``corridor ingest report``, ``corridor claims`` and ``corridor claims add``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from corridor.cli import FormatOption, info, open_store


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc


def register(app: typer.Typer, ingest: typer.Typer) -> None:
    """Add this module's commands to the main app and the `ingest` group."""
    @ingest.command("report")
    def ingest_report_cmd(
        ctx: typer.Context,
        files: list[Path] = typer.Argument(..., help="Report files: .txt, .md or .html."),
        title: str | None = typer.Option(None, "--title", help="Report title."),
        publisher: str | None = typer.Option(None, "--publisher", help="Who published it."),
        published: str | None = typer.Option(
            None, "--published", help="Publication date YYYY-MM-DD (anchors 'in recent weeks', years)."),
        url: str | None = typer.Option(None, "--url", help="Where it was published."),
    ) -> None:
        """Store a report's text and extract its claims (same text twice is stored once)."""
        from corridor.ingest.reports import ReportError, ingest_report

        pub = _parse_date(published)
        failed = 0
        with open_store(ctx) as store:
            for f in files:
                try:
                    res = ingest_report(store, f, title=title, publisher=publisher, published=pub, url=url)
                except ReportError as exc:
                    typer.echo(f"error: {exc}", err=True)
                    failed += 1
                    continue
                for line in res.lines():
                    info(ctx, line)
        if failed:
            raise typer.Exit(1)

    claims_app = typer.Typer(help="Claims extracted from reports or written by hand.")

    @claims_app.callback(invoke_without_command=True)
    def claims_cmd(
        ctx: typer.Context,
        report: str | None = typer.Option(None, "--report", help="Only this report_id."),
        fmt: FormatOption = "table",
    ) -> None:
        """List claims (sentence, supplier, recipient, materiel, quantity, period, vessels, attribution)."""
        if ctx.invoked_subcommand is not None:
            return
        from corridor.claims.store import list_claims
        from corridor.output import render

        with open_store(ctx, must_exist=True) as store:
            tbl = list_claims(store, report)
        # the vessels the sentence names (kept in the claim's fields, not a column of its own)
        import pyarrow as pa

        from corridor.claims.store import claim_vessels

        tbl = tbl.append_column("vessels", pa.array(
            [claim_vessels(f) for f in tbl.column("fields").to_pylist()], pa.list_(pa.string())))
        if fmt == "table":
            tbl = tbl.select(["claim_id", "supplier", "recipient", "quantity", "quantity_unit",
                              "qualifier", "materiel", "period_start", "period_end", "vessels",
                              "attribution", "confidence", "origin", "sentence"])
        typer.echo(render(tbl, fmt))

    @claims_app.command("add")
    def claims_add_cmd(
        ctx: typer.Context,
        file: Path = typer.Argument(..., help="YAML or CSV of claims; a known claim_id corrects that claim."),
    ) -> None:
        """Add hand-written claims or correct extracted ones."""
        from corridor.claims.store import add_claims

        with open_store(ctx) as store:
            try:
                summary = add_claims(store, file)
            except ValueError as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from exc
        for line in summary.lines():
            info(ctx, line)

    @claims_app.command("refresh")
    def claims_refresh_cmd(ctx: typer.Context) -> None:
        """Resolve claims' place and vessel mentions again against the current places and vessels."""
        from corridor.claims.store import refresh_places, refresh_vessels

        with open_store(ctx) as store:
            n = refresh_places(store)
            nv = refresh_vessels(store)
        info(ctx, f"{n} claims now name different places")
        info(ctx, f"{nv} claims now name different vessels")

    app.add_typer(claims_app, name="claims")
