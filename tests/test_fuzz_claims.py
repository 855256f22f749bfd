"""Property-based tests (Hypothesis) of the claims extractor: any text, sound spans."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.claims.extract import MAX_LINKS_PER_FIELD, extract_claims
from corridor.demo import SEED_ARTICLE, demo_file

SEED = demo_file(SEED_ARTICLE).read_text(encoding="utf-8")  # the seed article as shipped
SENTENCES = [s for s in SEED.replace("\n", " ").split(". ") if s.strip()]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _sound(text: str, claims) -> None:
    for c in claims:
        assert 0 <= c.span_start < c.span_end <= len(text)
        assert text[c.span_start:c.span_end] == c.sentence
        assert 0.05 <= c.confidence <= 0.95
        for name in ("period", "place", "distance"):
            assert sum(1 for lk in c.fields["links"] if lk["field"] == name) <= MAX_LINKS_PER_FIELD
        for q in c.fields["quantities"]:
            assert c.span_start <= q["start"] < q["end"] <= c.span_end
    ids = [c.claim_id for c in claims]
    assert len(ids) == len(set(ids))


@FAST
@given(st.text(max_size=600))
def test_any_text_gives_sound_claims(text):
    _sound(text, extract_claims(text, "r", date(2023, 10, 13)))


@FAST
@given(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=12),
       st.lists(st.sampled_from(["\u202e", "\x00", "\ufffd", "???", "\n\n", " 1,000 ", "U.S.", "“"]),
                max_size=6), st.randoms(use_true_random=False))
def test_shuffled_and_spiked_report_text_gives_sound_claims(sentences, spikes, rnd):
    parts = [s + "." for s in sentences]
    for spike in spikes:
        parts.insert(rnd.randrange(len(parts) + 1), spike)
    text = " ".join(parts)
    claims = extract_claims(text, "r", date(2023, 10, 13))
    _sound(text, claims)
    again = extract_claims(text, "r", date(2023, 10, 13))
    assert [c.row() for c in again] == [c.row() for c in claims]  # deterministic
