"""``corridor simulate``: fictitious ships with ground truth, optionally scored by detection."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import typer

from corridor.output import FORMATS, render


def _explicit_db(ctx: typer.Context) -> Path | None:
    """The database the user named (``--db`` or ``$CORRIDOR_DB``), else None."""
    db = ctx.find_root().params.get("db")
    if db is not None:
        return Path(db)
    env = os.environ.get("CORRIDOR_DB")
    return Path(env) if env else None


def register(app: typer.Typer, ingest: typer.Typer) -> None:
    """Add ``simulate`` to the main app."""

    @app.command("simulate")
    def simulate_cmd(
        ctx: typer.Context,
        out: Path = typer.Option(..., "--out", help="Directory to write the simulation to"),
        vessels: int = typer.Option(20, "--vessels", min=1, help="Number of ships"),
        days: float = typer.Option(7.0, "--days", min=0.01, help="Length of the window, days"),
        seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same data)"),
        positions: int | None = typer.Option(
            None, "--positions", min=1,
            help="Target number of positions (sets the reporting interval)"),
        scenario: str = typer.Option("mixed", "--scenario", help="mixed | corridor"),
        corridor: str | None = typer.Option(
            None, "--corridor",
            help="A corridor (YAML file, case folder or shipped id): sail its own sea legs "
                 "between its nodes (implies --scenario corridor)"),
        start: datetime = typer.Option(datetime(2023, 9, 1), "--start",
                                       help="Start of the window (UTC)"),
        evaluate: bool = typer.Option(
            False, "--evaluate",
            help="Ingest into a temporary store (or --db), run detection, print precision/recall"),
        format: str = typer.Option("table", "--format", help="table | csv | json (scores)"),
    ) -> None:
        """Simulate fictitious ships (MMSI 1000xxxxx, source 'simulated') between real ports,
        with the true port visits, voyages, gaps, loitering, encounters and MMSI conflicts."""
        from corridor.progress import terminal_progress
        from corridor.sim import SimConfig, simulate

        if scenario not in ("mixed", "corridor"):
            raise typer.BadParameter("choose mixed or corridor", param_hint="--scenario")
        geography = None
        if corridor is not None:
            from corridor.corridors.model import CorridorError, load_corridor
            from corridor.corridors.simulate import corridor_geography, land_share

            try:
                geography = corridor_geography(load_corridor(corridor))
            except CorridorError as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from exc
            scenario = "corridor"
            for p in geography.ports.values():
                typer.echo(f"  {p.slug}: berth on water {p.berth_shift_m / 1000:.1f} km from the "
                           "node's coordinate")
            for (a, b), share in sorted(land_share(geography).items()):
                if share > 0:
                    typer.echo(f"  warning: {share:.0%} of the lane {a} -> {b} crosses land "
                               "(the sea route network is coarse near shore)")
        if format not in FORMATS:
            raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
        cfg = SimConfig(vessels=vessels, days=days, seed=seed, scenario=scenario,
                        positions=positions, start=start)
        res = simulate(cfg, out, terminal_progress(), geography=geography)
        typer.echo(f"simulated {res.vessels} ships, {res.positions:,} positions in "
                   f"{res.seconds:.1f} s ({res.positions_per_s:,.0f} positions/s) -> {out}")
        for name, path in res.paths.items():
            typer.echo(f"  {name}: {path}")
        typer.echo("  true events (wholly inside the window): " + ", ".join(
            f"{k} {v}" for k, v in sorted(res.truth_counts.items())))
        if evaluate:
            from corridor.evaluate import evaluate_sim, scores_table

            db = _explicit_db(ctx)
            scores = evaluate_sim(out, db, progress=terminal_progress())
            typer.echo(f"detection against the truth ({db or 'temporary store'}):")
            typer.echo(render(scores_table(scores), format))
