"""The ``corridor`` command: a thin Typer layer over the package.

Each domain keeps its commands in its own module here (``ais``, ``nmea``, ``places``,
``detect``, ``sim``, ``case``, ``claims``, ``report``); each module exposes
``register(app, ingest)`` which adds its commands to the main app and to the
``corridor ingest`` group. Commands parse arguments, call one library function and
print; they hold no logic of their own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NoReturn

import typer

from corridor.ingest.summary import IngestSummary, exit_code
from corridor.output import FORMATS
from corridor.store import Store, StoreError, default_db_path

app = typer.Typer(
    name="corridor",
    help="Investigation workbench: reconstruct how goods move along a suspected transfer corridor.",
    no_args_is_help=True,
    add_completion=False,
)
ingest_app = typer.Typer(help="Bring data into the store (AIS, observations, watchlists, reports).",
                         no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")


@app.callback()
def _global(
    ctx: typer.Context,
    db: Path | None = typer.Option(
        None, "--db", help="Database file (default: $CORRIDOR_DB or ./corridor.duckdb)."
    ),
) -> None:
    ctx.obj = {"db": db or default_db_path()}


def db_path(ctx: typer.Context) -> Path:
    """The database path chosen by ``--db`` / ``$CORRIDOR_DB`` / default."""
    obj = ctx.find_root().obj or {}
    return Path(obj.get("db") or os.environ.get("CORRIDOR_DB", "corridor.duckdb"))


def open_store(ctx: typer.Context, read_only: bool = False) -> Store:
    """Open the store or exit with a one-line error."""
    try:
        return Store.open(db_path(ctx), read_only=read_only)
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def check_format(value: str) -> str:
    """``--format`` callback: ``value`` if :func:`corridor.output.render` knows it."""
    if value not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}")
    return value


def ingest_files(
    ctx: typer.Context,
    paths: Iterable[Path],
    missing: list[str],
    ingest_one: Callable[[Store, Path], IngestSummary],
    notes: list[str] | None = None,
    to_archive: Callable[[Path], IngestSummary] | None = None,
) -> NoReturn:
    """Ingest each of ``paths`` with ``ingest_one`` into one store, print every file's summary
    (a failed file's on stderr) and exit with :func:`~corridor.ingest.summary.exit_code`.

    ``missing`` names the files not found (reported first, and they fail the command);
    ``notes``, a list ``ingest_one`` appends remarks to, is printed and emptied after each file.
    ``to_archive``, when given, is used instead of the store (``--archive DIR``).
    """
    for m in missing:
        typer.echo(f"error: {m}: no such file", err=True)
    results = []

    def report(result: IngestSummary) -> None:
        for line in result.lines():
            typer.echo(line, err=result.status in ("failed", "partial"))
        for n in notes or ():
            typer.echo(f"  note: {n}")
        if notes:
            notes.clear()
        results.append(result)

    if to_archive is not None:
        for path in paths:
            report(to_archive(path))
    else:
        with open_store(ctx) as store:
            for path in paths:
                report(ingest_one(store, path))
    raise typer.Exit(exit_code(results, missing))


def _register_all() -> None:
    from corridor.cli import ais, archive, case, claims, detect, nmea, places, report, serve, sim

    for module in (nmea, ais, places, detect, sim, case, claims, report, archive, serve):
        module.register(app, ingest_app)


_register_all()


def main() -> None:
    app()
