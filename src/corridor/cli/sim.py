"""``corridor simulate``: fictitious ships with ground truth, optionally scored by detection."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

import typer

from corridor.cli import FormatOption, explicit_db, info, progress
from corridor.output import render


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
        scenario: Literal["mixed", "corridor"] = typer.Option(
            "mixed", "--scenario", help="Ships going anywhere, or the corridor scenario"),
        corridor: str | None = typer.Option(
            None, "--corridor",
            help="A corridor (YAML file, case folder or shipped id): sail its own sea legs "
                 "between its nodes (implies --scenario corridor)"),
        start: datetime = typer.Option(datetime(2023, 9, 1), "--start",
                                       help="Start of the window (UTC)"),
        evaluate: bool = typer.Option(
            False, "--evaluate",
            help="Ingest into a temporary store (or --db), run detection, print precision/recall"),
        format: FormatOption = "table",
    ) -> None:
        """Simulate fictitious ships (MMSI 1000xxxxx, source 'simulated') between real ports,
        with the true port visits, voyages, gaps, loitering, encounters and MMSI conflicts."""
        from corridor.sim import SimConfig, simulate

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
                info(ctx, f"  {p.slug}: berth on water {p.berth_shift_m / 1000:.1f} km from the "
                          "node's coordinate")
            for (a, b), share in sorted(land_share(geography).items()):
                if share > 0:
                    typer.echo(f"  warning: {share:.0%} of the lane {a} -> {b} crosses land "
                               "(the sea route network is coarse near shore)", err=True)
        cfg = SimConfig(vessels=vessels, days=days, seed=seed, scenario=scenario,
                        positions=positions, start=start)
        res = simulate(cfg, out, progress(ctx), geography=geography)
        info(ctx, f"simulated {res.vessels} ships, {res.positions:,} positions in "
                  f"{res.seconds:.1f} s ({res.positions_per_s:,.0f} positions/s) -> {out}")
        for name, path in res.paths.items():
            info(ctx, f"  {name}: {path}")
        info(ctx, "  true events (wholly inside the window): " + ", ".join(
            f"{k} {v}" for k, v in sorted(res.truth_counts.items())))
        if evaluate:
            from corridor.evaluate import evaluate_sim, scores_table

            db = explicit_db(ctx)
            scores = evaluate_sim(out, db, progress=progress(ctx))
            typer.echo(f"detection against the truth ({db or 'temporary store'}):")
            typer.echo(render(scores_table(scores), format))
