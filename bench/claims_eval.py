"""Claim extraction quality and speed; writes bench/results/claims.md.

    .venv/bin/python bench/claims_eval.py

Precision and recall per field on the hand-labelled sentences in
tests/data/claims_labelled.yaml (per split), and extraction speed on the seed article.
"""

from __future__ import annotations

import re
import sys
import time
from datetime import date
from pathlib import Path

from corridor.claims.evaluate import FIELDS, evaluate_labelled
from corridor.claims.extract import extract_claims

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "data" / "claims_labelled.yaml"


def _case_places():
    """The labelled sentences are about the shipped DPRK case: its places are what extraction
    resolves names against (corridor knows no place names of its own)."""
    from corridor.corridors.case import read_case_places
    from corridor.corridors.model import case_dir

    return read_case_places(case_dir("dprk-russia-2023"), "dprk-russia-2023")


def _case_vessels():
    """The case's vessels: what ship names, IMO numbers and MMSIs in the sentences resolve against."""
    from corridor.corridors.case import read_vessels
    from corridor.corridors.model import case_dir

    return read_vessels(case_dir("dprk-russia-2023"), "dprk-russia-2023")


SEED = ROOT / "src" / "corridor" / "data" / "demo" / "kirby-2023-10-13-article.txt"
OUT = ROOT / "bench" / "results" / "claims.md"

SPLITS = [
    ("dev", "the sentences the rules were developed against (scores here are optimistic)"),
    ("heldout", "written after a first round of tuning; rules were tuned on it afterwards"),
    ("heldout2", "written after a second round; a few general rules were added afterwards"),
    ("heldout3", "written last and measured once; no rule was changed in response to it"),
    ("heldout4", "written for vessels, counted units, vague plurals, press, 'according to the' and open "
                 "starts before the new rules ran on them; a few general rules changed after the first "
                 "measurement (see the dated section)"),
]

# First measurement of each split, before any rule was changed in response to it
# (copied from the runs; the labels of 'dev' were adjusted slightly afterwards, see the
# file's header for the conventions).
FIRST_PASS = {
    "dev": {"claim": (0.96, 0.774), "supplier": (0.944, 0.85), "recipient": (1.0, 0.647),
            "materiel": (0.912, 0.939), "quantity": (0.929, 0.812), "period": (0.917, 0.688),
            "places": (1.0, 0.353), "distance_km": (1.0, 0.5), "attribution": (0.917, 0.524)},
    "heldout": {"claim": (1.0, 0.929), "supplier": (1.0, 0.625), "recipient": (1.0, 0.889),
                "materiel": (0.917, 0.917), "quantity": (0.5, 0.5), "period": (1.0, 1.0),
                "places": (1.0, 1.0), "distance_km": (1.0, 1.0), "attribution": (1.0, 0.857)},
    "heldout2": {"claim": (0.923, 0.857), "supplier": (0.857, 0.75), "recipient": (1.0, 0.857),
                 "materiel": (0.733, 0.846), "quantity": (0.833, 0.833), "period": (0.875, 0.778),
                 "places": (1.0, 1.0), "distance_km": (1.0, 1.0), "attribution": (1.0, 0.75)},
    "heldout3": {"claim": (1.0, 1.0), "supplier": (1.0, 0.778), "recipient": (1.0, 0.667),
                 "materiel": (1.0, 1.0), "quantity": (0.889, 0.889), "period": (0.875, 0.875),
                 "places": (1.0, 1.0), "distance_km": (1.0, 1.0), "attribution": (0.8, 0.8)},
    "heldout4": {"claim": (1.0, 1.0), "supplier": (0.944, 1.0), "recipient": (0.917, 0.846),
                 "materiel": (0.97, 1.0), "quantity": (0.929, 0.929), "period": (0.897, 0.897),
                 "places": (1.0, 1.0), "distance_km": (1.0, 1.0), "attribution": (0.972, 0.897),
                 "vessels": (1.0, 1.0)},
}

# 2026-12-03 (vessels and the reporting patterns of issue 15, item 9): precision/recall of the
# rules *before* the change (no vessel field, "sites" unknown, "provided to <newspaper>" a
# recipient, "not one but two" = 1, "thousands" = 2,000, "according to the" as organisation,
# "starting in September" = the month) on the labelled file as it is now, and the new rules'
# first measurement before the changes made in response to heldout4. Copied from the runs
# (the old rules run from the commit before the change with today's scorer).
CHANGE_DATE = "2026-12-03"
BEFORE_CHANGE = {
    "all": {"claim": (0.992, 0.992), "supplier": (0.984, 0.968), "recipient": (0.923, 0.873),
            "materiel": (0.964, 1.0), "quantity": (0.746, 0.701), "period": (0.875, 0.875),
            "places": (0.953, 0.938), "distance_km": (1.0, 1.0), "attribution": (0.963, 0.918),
            "vessels": (1.0, 0.0)},
    "heldout4": {"claim": (1.0, 0.979), "supplier": (0.944, 1.0), "recipient": (0.714, 0.769),
                 "materiel": (0.97, 1.0), "quantity": (0.583, 0.5), "period": (0.759, 0.759),
                 "places": (1.0, 0.967), "distance_km": (1.0, 1.0), "attribution": (0.971, 0.872),
                 "vessels": (1.0, 0.0)},
}
FIRST_AFTER_CHANGE = {
    "all": {"claim": (0.992, 1.0), "supplier": (0.984, 0.968), "recipient": (0.98, 0.891),
            "materiel": (0.964, 1.0), "quantity": (0.94, 0.94), "period": (0.917, 0.917),
            "places": (0.954, 0.954), "distance_km": (1.0, 1.0), "attribution": (0.963, 0.929),
            "vessels": (1.0, 0.957)},
    "heldout4": FIRST_PASS["heldout4"],
}


def _table(rows: dict[str, dict]) -> list[str]:
    out = ["| field | TP | FP | FN | precision | recall |", "|---|---:|---:|---:|---:|---:|"]
    for f in FIELDS:
        r = rows[f]
        out.append(f"| {f} | {r['tp']} | {r['fp']} | {r['fn']} | {r['precision']:.2f} | {r['recall']:.2f} |")
    return out


HAND_MARK = "Measured by hand (not by `bench/claims_eval.py`)"


def _hand_sections(path: Path) -> list[str]:
    """Sections of the existing results file measured by hand (they say so in their first
    lines): kept as they are when the generated sections are written again."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    kept = []
    for part in re.split(r"(?m)^(?=## )", text):
        if part.startswith("## ") and HAND_MARK in part:
            kept += part.rstrip("\n").split("\n") + [""]
    return kept


def _change_section(now: dict[str, dict]) -> list[str]:
    """The dated before/after section for the vessel field and the reporting patterns."""
    out = [f"## {CHANGE_DATE}: vessels, counted units, vague plurals, press, \"according to the\", "
           "open starts", "",
           "A vessel field (ship names after a ship noun, an MV prefix, an apposition or quotes, or a "
           "stored vessel's name; IMO numbers with the check digit; MMSIs), resolved against the "
           "case's vessels; \"sites\", \"vehicles\", \"crates\" as units; \"not one but two ships\" = 2; "
           "vague plurals from one of the unit (\"thousands\" >= 1,000, \"millions\" >= 1,000,000; four "
           "earlier labels were changed to this convention, which accounts for part of the 'before' "
           "quantity score on all splits); information \"provided to <newspaper>\" gives no recipient; "
           "\"according to the <organisation>\" names the organisation; \"starting in September\" runs to "
           "the published date. 49 new sentences (split heldout4, 18 vessels labelled there, 5 more "
           "in earlier splits). After the first measurement, general rules were changed in response "
           "to heldout4 and one regression on heldout: a dateline's date dates the report, not the "
           "transfer; \"from <date>\" opens a period only at a sentence or clause start (\"photos from "
           "early September\" had become open-ended); \"according to the Ukrainian military\" gives no "
           "recipient; \"handed over 50 guns\" is exact; a stored ship name after \"The\" is still a "
           "ship. The heldout4 sentences were written knowing the patterns, so their scores are "
           "optimistic for the new fields; heldout3 (never tuned on) scores vessels too.", "",
           "| split | field | before (P/R) | new rules, first run | now |", "|---|---|---:|---:|---:|"]
    for split in ("heldout4", "all"):
        for f in FIELDS:
            b, a = BEFORE_CHANGE[split][f], FIRST_AFTER_CHANGE[split][f]
            n = now[split][f]
            out.append(f"| {split} | {f} | {b[0]:.2f}/{b[1]:.2f} | {a[0]:.2f}/{a[1]:.2f} | "
                       f"{n['precision']:.2f}/{n['recall']:.2f} |")
    return out + [""]


def main() -> int:
    import yaml

    items = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))
    unseen, _ = evaluate_labelled(LABELLED, "heldout3", places=_case_places(), vessels=_case_vessels())
    lines = ["# Claim extraction: precision and recall per field", "",
             "Generated by `bench/claims_eval.py` from `tests/data/claims_labelled.yaml` "
             f"({len(items)} hand-labelled sentences in corridor's own wording, in five splits). "
             "Scoring rules: `corridor.claims.evaluate`. `tests/test_claims_eval.py` asserts floors "
             "below these numbers.", "",
             "**Best estimate for text the rules have not seen: the `heldout3` split** (and the first "
             "measurements of the other splits, quoted under each): "
             + "; ".join(f"{f} {v['precision']:.2f}/{v['recall']:.2f}" for f, v in unseen.items())
             + " (precision/recall). Supplier, recipient and attribution lose most on unseen "
             "wording (roles in unusual syntax: \"Moscow wants Pyongyang's launchers\", \"has taken "
             "delivery of\"); places, materiel and quantities hold up best. The sets are small "
             "(a few dozen items per field), so each number moves by several points per item.", ""]
    for split, what in SPLITS:
        scores, misses = evaluate_labelled(LABELLED, split, places=_case_places(), vessels=_case_vessels())
        n = len({m["text"] for m in misses})
        count = sum(1 for i in items if i.get("split", "dev") == split)
        lines += [f"## {split}: {count} sentences, {what}", ""] + _table(scores) + [""]
        if split in FIRST_PASS:
            fp = FIRST_PASS[split]
            lines.append("First measurement, before changes made in response to this split: "
                         + "; ".join(f"{f} {p:.2f}/{r:.2f}" for f, (p, r) in fp.items()) + " (P/R).")
            lines.append("")
        if misses:
            lines.append(f"Remaining mismatches ({n} sentences):")
            lines.append("")
            for m in misses:
                lines.append(f"- {m['field']}: expected `{m['gold']}`, got `{m['pred']}` — "
                             f"“{m['text'][:90]}…”")
            lines.append("")
    all_scores, _ = evaluate_labelled(LABELLED, places=_case_places(), vessels=_case_vessels())
    lines += ["## All splits together", ""] + _table(all_scores) + [""]
    if SEED.exists():
        text = SEED.read_text(encoding="utf-8")
        extract_claims(text, "seed", date(2023, 10, 13))  # warm-up (imports, regex compilation)
        t0 = time.perf_counter()
        runs = 20
        for _ in range(runs):
            claims = extract_claims(text, "seed", date(2023, 10, 13))
        dt = (time.perf_counter() - t0) / runs
        big = (text + "\n") * 20
        t0 = time.perf_counter()
        n_big = len(extract_claims(big, "seed20", date(2023, 10, 13)))
        dt_big = time.perf_counter() - t0
        lines += ["## Speed", "",
                  f"Seed article ({len(text):,} characters, {len(claims)} claims): "
                  f"{dt * 1000:.1f} ms per extraction ({len(text) / dt / 1000:.0f} k characters/s), "
                  "one core, after the first call (which also imports dateparser, ~0.5 s). "
                  f"Twenty copies in one text ({len(big):,} characters, {n_big} claims): "
                  f"{dt_big:.2f} s. Measured on a shared 2-core machine under load; expect noise.", ""]
    lines += _hand_sections(OUT)
    now4, _ = evaluate_labelled(LABELLED, "heldout4", places=_case_places(), vessels=_case_vessels())
    lines += _change_section({"all": all_scores, "heldout4": now4})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
