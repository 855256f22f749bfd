"""CLI commands for this domain (see corridor.cli for the pattern)."""

from __future__ import annotations

import typer


def register(app: typer.Typer, ingest: typer.Typer) -> None:
    """Add this module's commands to the main app and the `ingest` group."""
