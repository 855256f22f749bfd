"""CLI: ``corridor serve`` (the team workspace) and ``corridor users add|list``."""

from __future__ import annotations

import typer

from corridor.cli import db_path, open_store


def register(app: typer.Typer, ingest: typer.Typer) -> None:
    """Add ``serve`` and the ``users`` group to the main app."""

    @app.command("serve")
    def serve_cmd(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (default: this "
                                 "machine only; anything else needs a TLS proxy in front)."),
        port: int = typer.Option(8000, "--port", min=1, max=65535),
        session_hours: float = typer.Option(8.0, "--session-hours", min=0.1,
                                            help="Sessions expire after this many hours."),
        max_upload_mb: int = typer.Option(200, "--max-upload-mb", min=1, help="Largest upload accepted."),
    ) -> None:
        """Serve the workspace (map, tracks, events, cases, uploads) to logged-in users."""
        from corridor.serve.app import run
        from corridor.store import StoreError

        try:
            run(db_path(ctx), host, port, session_hours=session_hours, max_upload_mb=max_upload_mb,
                echo=typer.echo)
        except StoreError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc

    users_app = typer.Typer(help="Accounts of the workspace (corridor serve).", no_args_is_help=True)
    app.add_typer(users_app, name="users")

    @users_app.command("add")
    def users_add(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="User name (letters, digits, . _ -)."),
        role: str = typer.Option(..., "--role", help="viewer (reads), analyst (also writes), "
                                 "admin (also manages users)."),
        replace: bool = typer.Option(False, "--replace", help="Reset an existing user's password and role."),
    ) -> None:
        """Add a user; the password is asked for (twice) and stored as an argon2 hash."""
        from corridor.serve.auth import AuthError, add_user, check_new_user

        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            check_new_user(name, role, password)
            with open_store(ctx) as store:
                user = add_user(store, name, role, password, replace=replace)
        except AuthError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"user {user.username} ({user.role.name}) saved")

    @users_app.command("list")
    def users_list(ctx: typer.Context) -> None:
        """List the users and their roles."""
        with open_store(ctx, must_exist=True) as store:
            rows = store.con.execute(
                "SELECT username, role, disabled FROM users ORDER BY username").fetchall()
        for name, role, disabled in rows:
            typer.echo("\t".join([name, role] + (["disabled"] if disabled else [])))
