"""The ``corridor`` command: a thin Typer layer over the package.

Each domain keeps its commands in its own module here (``ais``, ``nmea``, ``places``,
``detect``, ``sim``, ``case``, ``claims``, ``report``, ``archive``); each module exposes
``register(app, ingest)`` which adds its commands to the main app and to the
``corridor ingest`` group. Commands parse arguments, call one library function and
print; they hold no logic of their own.

Conventions every command shares (set up here, once):

- ``--db FILE``, ``-q/--quiet`` and ``-v/--verbose`` are accepted before the command
  (``corridor --db x.duckdb detect``) and after it (``corridor detect --db x.duckdb``).
  :class:`CorridorGroup` copies the root options onto every subcommand when the command tree
  is built, so no command function declares them; the value lands in ``ctx.meta``.
- Options show readable metavars (``TIME``, ``FILE``, ``N``) and their choices.
- Exit codes: 0 done; 1 a file or item failed; 2 bad usage or a database that cannot be
  opened (missing for a command that only reads, not a corridor file, newer schema);
  3 rows were skipped (counts printed); 75 the database is locked by another process
  (``EX_TEMPFAIL``: try again when it has finished).
"""

from __future__ import annotations

import copy
import logging
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, get_args

import typer
from typer.core import TyperGroup

from corridor.output import FORMATS
from corridor.progress import Progress, silent, terminal_progress

if TYPE_CHECKING:  # the store (DuckDB, Arrow) is imported by the commands that use it
    from corridor.ingest.summary import IngestSummary
    from corridor.store import Store

#: exit code for a database held by another process (sysexits.h EX_TEMPFAIL)
EXIT_LOCKED = 75
#: exit code for usage errors and a database that cannot be opened
EXIT_STORE = 2

_DB, _QUIET, _VERBOSE = "corridor.db", "corridor.quiet", "corridor.verbose"
#: the root options copied onto every subcommand
SHARED_OPTIONS = ("db", "quiet", "verbose")

log = logging.getLogger("corridor")


def _remember(ctx: typer.Context, param: Any, value: Any) -> Any:
    """Option callback: keep a shared option's value in ``ctx.meta`` (seen by every command
    of the invocation; given twice, the one after the command wins)."""
    if param.name == "db" and value is not None:
        ctx.meta[_DB] = Path(value)
        root = ctx.find_root()
        if isinstance(root.obj, dict):  # ``ctx.obj["db"]``, as commands read it before
            root.obj["db"] = Path(value)
    elif param.name == "quiet" and value:
        ctx.meta[_QUIET] = True
    elif param.name == "verbose" and value:
        ctx.meta[_VERBOSE] = max(ctx.meta.get(_VERBOSE, 0), int(value))
    _configure_logging(ctx)
    return value


def _configure_logging(ctx: typer.Context) -> None:
    """``corridor`` log records to stderr: warnings by default, none with ``--quiet`` but
    errors, info with ``-v``, debug with ``-vv``."""
    level = logging.WARNING
    if ctx.meta.get(_QUIET):
        level = logging.ERROR
    elif ctx.meta.get(_VERBOSE, 0) >= 2:
        level = logging.DEBUG
    elif ctx.meta.get(_VERBOSE):
        level = logging.INFO
    log.setLevel(level)
    if not any(isinstance(h, _EchoHandler) for h in log.handlers):
        handler = _EchoHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        log.addHandler(handler)


class _EchoHandler(logging.Handler):
    """Log records to the current stderr (looked up per record, as the CLI's tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(self.format(record), err=True)


#: metavars by value type, instead of Typer's ``<list[int]>`` / ``<datetime>`` labels
_TYPE_METAVARS = {int: "N", float: "NUMBER", str: "TEXT", datetime: "TIME", Path: "PATH"}


def _type_label(desc: Any) -> str | None:
    """A readable label of a parameter's value type (choices, or the type in capitals)."""
    choices = desc.choices
    if choices:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in choices) + "]"
    annotation = desc.annotation
    if desc.is_list:
        annotation = (get_args(annotation) or (str,))[0]
    name = _TYPE_METAVARS.get(annotation)
    if name == "PATH":
        info = desc.parameter_info
        name = "DIR" if not info.file_okay else ("FILE" if not info.dir_okay else "PATH")
    return name


def _readable_metavar(param: Any) -> None:
    """Give a parameter a metavar a person reads: nothing for a flag, its choices, or its
    type in capitals (a metavar chosen by the command is kept). Reads Typer's description of
    the parameter's type; anything it does not recognise keeps Typer's own label."""
    desc = getattr(param, "type_descriptor", None)
    if desc is None or param.metavar is not None:
        return
    if not hasattr(param, "is_flag"):  # an argument: its name in the usage, its type beside
        label = _type_label(desc)
        param.metavar = param.name.upper()
        if label:
            many = "..." if param.nargs != 1 else ""
            param.display_type_rich = lambda ctx: label + many
        return
    if param.is_flag or getattr(param, "count", False):
        param.metavar = ""
        return
    label = _type_label(desc)
    if label:
        param.metavar = label


def _plain_help_option(cmd: Any) -> None:
    """``--help`` is a flag: no ``<bool>`` after it in the help (Typer makes the option
    when help is drawn, so the command's factory is wrapped)."""
    make = cmd.get_help_option

    def get_help_option(ctx: Any) -> Any:
        opt = make(ctx)
        if opt is not None:
            _readable_metavar(opt)
            opt.metavar = opt.metavar if opt.metavar is not None else ""
        return opt

    cmd.get_help_option = get_help_option


class CorridorGroup(TyperGroup):
    """The root group: puts the shared options on every subcommand and tidies help.

    Typer builds sub-groups before the root, so when this runs every command exists; the
    shared options are copies of the root's (one definition) with their values routed to
    ``ctx.meta`` instead of the command function, which therefore declares none of them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        shared = [p for p in self.params if p.name in SHARED_OPTIONS]
        for p in self.params:
            _readable_metavar(p)
        _plain_help_option(self)
        for cmd in self.commands.values():
            self._share(cmd, shared)

    def invoke(self, ctx: Any) -> Any:
        """Run the command; with ``-v`` say how long it took."""
        start = time.perf_counter()
        try:
            return super().invoke(ctx)
        finally:
            log.info("%s took %.1f s", ctx.invoked_subcommand or "corridor",
                     time.perf_counter() - start)

    def _share(self, cmd: Any, shared: list[Any]) -> None:
        names = {p.name for p in cmd.params}
        opts = {o for p in cmd.params for o in getattr(p, "opts", ())}
        for p in shared:
            if p.name in names or set(p.opts) & opts:
                continue
            c = copy.copy(p)
            c.expose_value = False
            c.callback = _remember
            cmd.params.append(c)
        for p in cmd.params:
            _readable_metavar(p)
        _plain_help_option(cmd)
        for sub in getattr(cmd, "commands", {}).values():  # a group's subcommands
            self._share(sub, shared)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"corridor {version('corridor')}")
        except PackageNotFoundError:  # a source tree on PYTHONPATH, not installed
            from corridor import __version__

            typer.echo(f"corridor {__version__}")
        raise typer.Exit(0)


app = typer.Typer(
    name="corridor",
    help="Investigation workbench: reconstruct how goods move along a suspected transfer corridor.",
    no_args_is_help=True,
    add_completion=False,
    cls=CorridorGroup,
    rich_markup_mode="markdown",  # docstrings are Markdown: wrapped lines join, `code` shows
    pretty_exceptions_show_locals=False,  # a crash must not print the rows it was holding
)
ingest_app = typer.Typer(help="Bring data into the store (AIS, observations, watchlists, reports).",
                         no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")


@app.callback()
def _global(
    ctx: typer.Context,
    db: Path | None = typer.Option(
        None, "--db", dir_okay=False, callback=_remember,
        help="Database file (default: $CORRIDOR_DB or ./corridor.duckdb). Also accepted after "
             "the command.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", callback=_remember,
                               help="Print only errors and the requested output (no progress)."),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, callback=_remember,
                                show_default=False,
                                help="Say more (-vv: debug)."),
    version_: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                  help="Print corridor's version and exit."),
) -> None:
    ctx.obj = {"db": db_path(ctx)}


def db_path(ctx: typer.Context) -> Path:
    """The database path chosen by ``--db`` (before or after the command), else
    ``$CORRIDOR_DB``, else ``./corridor.duckdb``."""
    from corridor.store import default_db_path

    return ctx.meta.get(_DB) or default_db_path()


def explicit_db(ctx: typer.Context) -> Path | None:
    """The database the user named (``--db`` or ``$CORRIDOR_DB``), else None."""
    import os

    if ctx.meta.get(_DB) is not None:
        return ctx.meta[_DB]
    env = os.environ.get("CORRIDOR_DB")
    return Path(env) if env else None


def is_quiet(ctx: typer.Context) -> bool:
    """``--quiet`` was given."""
    return bool(ctx.meta.get(_QUIET))


def progress(ctx: typer.Context) -> Progress:
    """The progress callback for long work: bars with rate and ETA on a terminal, nothing
    with ``--quiet`` or in a pipe."""
    return silent if is_quiet(ctx) else terminal_progress()


def info(ctx: typer.Context, message: str) -> None:
    """Print a remark about the work done (not the requested output); ``--quiet`` hides it."""
    if not is_quiet(ctx):
        typer.echo(message)


_LOCK = re.compile(r"Conflicting lock is held in (?P<prog>.+?) \(PID (?P<pid>\d+)\)")


def store_error_message(path: Path, exc: BaseException) -> tuple[str, int]:
    """One sentence for a store that cannot be opened, and the exit code.

    >>> from corridor.store import StoreError
    >>> store_error_message(Path("x.duckdb"), StoreError('x.duckdb: cannot open database: IO '
    ...     'Error: Could not set lock on file "x.duckdb": Conflicting lock is held in '
    ...     '/usr/bin/python3 (PID 4242) by user ana. See also https://duckdb.org/'))[1]
    75
    """
    text = str(exc)
    m = _LOCK.search(text)
    if m:
        prog = Path(m.group("prog")).name
        return (f"{path} is in use by another process ({prog}, PID {m.group('pid')}); wait for it "
                "to finish (or stop it), or work on another database with --db.", EXIT_LOCKED)
    if "Could not set lock" in text:
        return (f"{path} is in use by another process; wait for it to finish (or stop it), or "
                "work on another database with --db.", EXIT_LOCKED)
    return text, EXIT_STORE


def open_store(ctx: typer.Context, read_only: bool = False, must_exist: bool = False) -> Store:
    """Open the store or exit with a one-line error.

    ``must_exist`` (commands that only read): a missing file is an error naming the path,
    and nothing is created.
    """
    from corridor.store import Store, StoreError

    path = db_path(ctx)
    if must_exist and not path.is_file():
        typer.echo(f"error: no database at {path} (create one with `corridor init` or "
                   "`corridor ingest`, or choose another with --db)", err=True)
        raise typer.Exit(EXIT_STORE)
    log.info("opening %s%s", path, " (read-only)" if read_only else "")
    try:
        return Store.open(path, read_only=read_only)
    except StoreError as exc:
        message, code = store_error_message(path, exc)
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(code) from exc


#: ``--format`` of listings: the choices show in ``--help`` and are checked by Typer
FormatOption = Annotated[Literal[FORMATS], typer.Option("--format", help="Output format.")]


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
    With ``--quiet`` only the summaries of failed or partial files are printed.
    """
    from corridor.ingest.summary import exit_code

    for m in missing:
        typer.echo(f"error: {m}: no such file", err=True)
    results = []
    quiet = is_quiet(ctx)
    paths = list(paths)
    # several files: a bar over them (rate, ETA); each file's summary is printed as it ends
    bar = progress(ctx) if len(paths) > 1 else silent

    def report(result: IngestSummary) -> None:
        bad = result.status in ("failed", "partial")
        if bad or not quiet:
            for line in result.lines():
                typer.echo(line, err=bad)
            for n in notes or ():
                typer.echo(f"  note: {n}")
        if notes:
            notes.clear()
        results.append(result)

    if to_archive is not None:
        for i, path in enumerate(paths):
            report(to_archive(path))
            bar("files", i + 1, len(paths))
    else:
        with open_store(ctx) as store:
            for i, path in enumerate(paths):
                report(ingest_one(store, path))
                bar("files", i + 1, len(paths))
    raise typer.Exit(exit_code(results, missing))


def _register_all() -> None:
    from corridor.cli import ais, archive, case, claims, detect, nmea, places, report, serve, sim

    for module in (nmea, ais, places, detect, sim, case, claims, report, archive, serve):
        module.register(app, ingest_app)


_register_all()


def main() -> None:
    app()
