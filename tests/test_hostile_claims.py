"""Hostile input to the claims extractor: oversized, repetitive report text."""

from __future__ import annotations

import json
from datetime import date

from corridor.claims.extract import LINK_WINDOW_CHARS, MAX_LINKS_PER_FIELD, extract_claims
from corridor.demo import SEED_ARTICLE, demo_file

SEED = demo_file(SEED_ARTICLE)  # the seed article as corridor ships it


def _repeated(n: int) -> str:
    return "\n\n".join([SEED.read_text(encoding="utf-8")] * n)


def test_links_do_not_grow_with_report_length():
    # the seed article repeated: each copy restates the same transfer; without a window
    # every anchor collected the periods and places of every copy (quadratic output)
    one = extract_claims(_repeated(1), "r", date(2023, 10, 13))
    many = extract_claims(_repeated(100), "r", date(2023, 10, 13))
    assert len(one) >= 10 and len(many) == 100 * len(one)
    most_one = max(len(c.fields["links"]) for c in one)
    most_many = max(len(c.fields["links"]) for c in many)
    assert most_one >= 5  # the seed's anchor gets its period, places and distance
    assert most_many == most_one
    biggest = max(len(c.row()["fields"]) for c in many)
    assert biggest < 4 * max(len(c.row()["fields"]) for c in one)


def test_links_are_deduplicated_and_capped():
    claims = extract_claims(_repeated(20), "r", date(2023, 10, 13))
    linked = [c for c in claims if c.fields["links"]]
    assert len(linked) >= 20
    for c in linked:
        keys = [(lk["field"], json.dumps({k: v for k, v in lk["value"].items()
                                          if k not in ("start", "end")}, sort_keys=True))
                for lk in c.fields["links"]]
        assert len(keys) == len(set(keys)), c.claim_id
        for name in ("period", "place", "distance"):
            assert sum(1 for lk in c.fields["links"] if lk["field"] == name) <= MAX_LINKS_PER_FIELD


def test_links_stay_within_the_window():
    claims = extract_claims(_repeated(10), "r", date(2023, 10, 13))
    starts = {c.claim_id: c.span_start for c in claims}
    n = 0
    for c in claims:
        for lk in c.fields["links"]:
            assert abs(starts[lk["claim_id"]] - c.span_start) <= LINK_WINDOW_CHARS
            n += 1
    assert n >= 50


def test_seed_article_links_unchanged():
    claims = extract_claims(_repeated(1), "r", date(2023, 10, 13))
    anchor = next(c for c in claims if c.quantity == 1000.0)
    fields = [(lk["field"], lk["value"]["text"]) for lk in anchor.fields["links"]]
    assert ("period", "between September 7 and October 1") in fields
    assert (str(anchor.period_start), str(anchor.period_end)) == ("2023-09-07", "2023-10-01")
    assert {"Danube", "Tikhoretsk"} <= {t for f, t in fields if f == "place"}
