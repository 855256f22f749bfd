"""``corridor demo``: build the 2023 DPRK → Russia case from bundled data and write the report.

Everything comes from files shipped in the package; nothing is downloaded. The demo keeps
its own database in the output directory (recreated on every run, so two runs give the
same report) and calls the same functions as the individual commands:

1. the case: places, vessels, dated sightings, rail counts and claims of ``dprk-russia-2023``
   (:func:`corridor.corridors.case.load_case`);
2. the seed article (White House briefing of 13 Oct 2023, as reported in the press) as a
   report, with its claims extracted (:func:`corridor.ingest.reports.ingest_report`);
3. the gazetteer of ports and anchorages (:func:`corridor.places.load_gazetteer`);
4. the simulator's ``corridor`` scenario: fictitious vessels on the Najin – Dunai shuttle with
   AIS switched off, stored with ``source='simulated'`` (:mod:`corridor.sim`);
5. event detection over the simulated AIS (:func:`corridor.engines.local.run_detect`), scored against
   the simulator's ground truth (:func:`corridor.evaluate.score`);
6. the reconstruction of the corridor (and of ``sim-najin-dunai`` from the simulated AIS,
   shown only in the report's "Simulated scenario" section) and the HTML report.

No AIS unrelated to the case goes into the case database: the bundled real AIS sample
(:mod:`corridor.samples`) serves ``corridor ingest`` examples, not this case.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

from corridor.progress import Progress, silent
from corridor.store import Store

CORRIDOR_ID = "dprk-russia-2023"
#: the shipped corridor reconstructed from the simulated AIS alone (its own report section)
SIM_CORRIDOR_ID = "sim-najin-dunai"
SEED_ARTICLE = "kirby-2023-10-13-article.txt"


@dataclass
class DemoResult:
    """What the demo did: one line per step, the report path and the seconds taken."""

    out_dir: Path
    report: Path
    steps: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        """Short text for the terminal."""
        lines = ["corridor demo: " + str(self.out_dir)] + [f"  - {s}" for s in self.steps]
        lines.append(f"report: {self.report}  ({self.seconds:.1f} s)")
        return "\n".join(lines)


def demo_file(name: str) -> Path:
    """Path of a file bundled for the demo (see ``data/demo/SOURCE.md``).

    >>> demo_file(SEED_ARTICLE).name
    'kirby-2023-10-13-article.txt'
    """
    return Path(str(resources.files("corridor").joinpath("data", "demo", name)))


Context = dict
"""What steps hand to later steps (e.g. the simulation's directory, detection scores)."""


def _step_places(store: Store, work: Path, progress: Progress, ctx: Context) -> str:
    from corridor.places import load_gazetteer

    n = load_gazetteer(store)
    return f"gazetteer: {n} places"


def _step_case(store: Store, work: Path, progress: Progress, ctx: Context) -> str:
    from corridor.corridors.case import load_case

    summary = load_case(store, CORRIDOR_ID)
    stored = ", ".join(f"{n} {t}" for t, n in summary.stored.items())
    rows = sum(sum(i.stored.values()) for i in summary.ingests)
    return f"case {summary.case_id}: {stored}; {rows} sightings and rail counts"


def _step_report(store: Store, work: Path, progress: Progress, ctx: Context) -> str:
    from corridor.ingest.reports import ingest_report

    r = ingest_report(store, demo_file(SEED_ARTICLE), title="DPRK hands over more than 1,000 "
                      "containers of arms and ammunition to Russia",
                      published=date(2023, 10, 13))
    return f"seed article: report {r.report_id}, {r.claims} claims extracted"


#: the simulated corridor scenario: a few fictitious ships on the Najin - Dunai shuttle
SIM_CONFIG = {"vessels": 4, "days": 14.0, "seed": 2023, "scenario": "corridor"}


def _step_sim(store: Store, work: Path, progress: Progress, ctx: Context) -> str:
    from corridor.evaluate import load_simulation
    from corridor.sim import SimConfig, simulate

    res = simulate(SimConfig(**SIM_CONFIG), work / "sim", progress)
    added = load_simulation(store, work / "sim")
    ctx["sim_dir"] = work / "sim"
    return (f"SIMULATED corridor scenario: {res.vessels} fictitious ships, "
            f"{added.get('positions', 0):,} positions (source 'simulated')")


def _step_detect(store: Store, work: Path, progress: Progress, ctx: Context) -> str:
    from corridor.engines.local import run_detect

    # One process: the demo's few vessels do not repay starting workers.
    summary = run_detect(store, progress=progress, workers=1)
    n = store.count("events")
    line = f"detection: {summary.vessels_detected} vessels, {n} events"
    if ctx.get("sim_dir"):
        import pyarrow.parquet as pq

        from corridor.evaluate import score

        truth = pq.read_table(Path(ctx["sim_dir"]) / "truth.parquet")
        detected = store.query("SELECT type, mmsi, other_mmsi, start_ts, end_ts FROM events")
        scores = [s for s in score(detected, truth) if s.truth or s.detected]
        ctx["sim_scores"] = [vars(s) for s in scores]
        line += "; on the simulated ships " + ", ".join(
            f"{s.type} recall {s.recall:.2f}" for s in scores if s.type in ("port_visit", "gap"))
    return line


Step = Callable[[Store, Path, Progress, Context], str]

#: The demo's steps in order (label shown in progress, function).
#: The case and the seed article go in before the 64,000-place gazetteer, so their place
#: names resolve against the case's own places (what the report draws) and quickly.
STEPS: list[tuple[str, Step]] = [
    ("case dprk-russia-2023", _step_case),
    ("seed article", _step_report),
    ("gazetteer", _step_places),
    ("simulated corridor scenario", _step_sim),
    ("detection", _step_detect),
]


def run_demo(out_dir: str | Path = "corridor-demo", progress: Progress | None = None,
             echo: Callable[[str], None] | None = None) -> DemoResult:
    """Build the demo database in ``out_dir`` and write ``out_dir/report.html``."""
    from corridor.report.build import write_report

    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "corridor.duckdb"
    for p in (db, out / "corridor.duckdb.wal"):
        p.unlink(missing_ok=True)
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    progress = progress or silent
    say = echo or (lambda s: None)
    result = DemoResult(out, out / "report.html")
    ctx: Context = {}
    with Store.open(db) as store:
        for i, (label, step) in enumerate(STEPS, 1):
            say(f"[{i}/{len(STEPS) + 1}] {label} …")
            result.steps.append(step(store, work, progress, ctx))
        say(f"[{len(STEPS) + 1}/{len(STEPS) + 1}] reconstruct and report …")
        write_report(store, CORRIDOR_ID, result.report, "html", progress=progress,
                     sim_corridor=SIM_CORRIDOR_ID if ctx.get("sim_dir") else None,
                     sim_scores=ctx.get("sim_scores"))
    result.steps.append(f"report: {result.report}")
    result.seconds = time.perf_counter() - t0
    return result
