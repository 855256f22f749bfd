"""Claim extraction on patterns of real reporting that the first rules got wrong: units such
as "sites", "not one but two", vague plurals, information handed to a newspaper, "according
to the <organisation>" and open-ended starts ("starting in September")."""

from __future__ import annotations

from datetime import date

import pytest

from corridor.claims.attribution import SpeakerRegistry, attribution_label, find_attribution
from corridor.claims.extract import extract_claims
from corridor.claims.periods import find_periods
from corridor.claims.quantities import find_quantities

PUB = date(2024, 3, 1)


@pytest.mark.parametrize(("text", "value", "unit"), [
    ("imagery shows activity at three sites near the port", 3.0, "sites"),
    ("at least 14 storage sites were expanded", 14.0, "sites"),
    ("a convoy of 40 military vehicles crossed", 40.0, "vehicles"),
    ("six launchers were unloaded", 6.0, "launchers"),
    ("roughly 120 crates were stacked", 120.0, "crates"),
])
def test_common_counted_units_are_known(text, value, unit):
    qs = find_quantities(text)
    assert len(qs) == 1
    assert (qs[0]["value"], qs[0]["unit"]) == (value, unit)


@pytest.mark.parametrize("text", ["Not one but two ships made the crossing",
                                  "not one, but two ships made the crossing",
                                  "not just one but two ships made the crossing"])
def test_not_one_but_two_is_two(text):
    qs = find_quantities(text)
    assert [(q["value"], q["unit"]) for q in qs] == [(2.0, "ships")]


@pytest.mark.parametrize(("text", "low", "high"), [
    ("thousands of containers", 1000.0, 9999.0),
    ("millions of rounds", 1e6, 9_999_999.0),
    ("tens of thousands of shells", 1e4, 99_999.0),
    ("hundreds of wagons", 100.0, 999.0),
])
def test_vague_plurals_start_at_one_of_the_unit(text, low, high):
    q = find_quantities(text)[0]
    assert (q["value"], q["qualifier"], q["low"], q["high"], q["vague"]) == (low, "at_least", low, high, True)


@pytest.mark.parametrize("text", [
    "Satellite images provided to The Washington Post show North Korea sent 300 containers of shells.",
    "Documents provided to the Kyiv Post show that North Korea supplied 300 containers of shells.",
    "Customs records shared with the Moscow Times show North Korea shipped 300 containers of shells.",
])
def test_a_newspaper_given_information_is_not_a_recipient(text):
    c = extract_claims(text, "r", PUB)[0]
    assert c.supplier == "DPRK"
    assert c.recipient is None
    assert c.quantity == 300.0


@pytest.mark.parametrize("text", [
    "North Korea provided 300 containers of shells to Russia.",
    "Satellite images show that 300 containers of North Korean shells were delivered to Russia.",
    "Documents show North Korean shells, 300 containers of them, were provided to Russia.",
])
def test_a_country_given_weapons_is_still_a_recipient(text):
    c = extract_claims(text, "r", PUB)[0]
    assert (c.supplier, c.recipient) == ("DPRK", "Russia")


@pytest.mark.parametrize(("text", "org"), [
    ("North Korea shipped 200 containers to Russia, according to the Royal United Services Institute.",
     "Royal United Services Institute"),
    ("According to the Royal United Services Institute, North Korea shipped 200 containers to Russia.",
     "Royal United Services Institute"),
    ("North Korea shipped 200 containers, according to the Centre for Information Resilience report.",
     "Centre for Information Resilience"),
    ("According to the London-based Institute of Maritime Studies (IMS), 200 containers were moved.",
     "Institute of Maritime Studies"),
])
def test_according_to_the_organisation_names_the_organisation(text, org):
    a = find_attribution(text, SpeakerRegistry())
    assert a is not None and a["organisation"] is not None
    assert a["organisation"]["name"] == org
    assert text[a["organisation"]["start"]:a["organisation"]["end"]] == org
    assert not attribution_label(a).lower().startswith("according")


def test_according_to_the_report_is_no_organisation():
    a = find_attribution("North Korea shipped 200 containers to Russia, according to the report.",
                         SpeakerRegistry())
    assert a is None or a["organisation"] is None
    assert "according to the" not in (attribution_label(a) or "").lower()


@pytest.mark.parametrize(("text", "start"), [
    ("Starting in September, North Korea shipped shells to Russia.", "2023-09-01"),
    ("Beginning in October 2023 the trains ran twice a week.", "2023-10-01"),
    ("From 7 December the ships sailed without transponders.", "2023-12-07"),
])
def test_a_start_without_an_end_runs_to_the_published_date(text, start):
    p = find_periods(text, PUB)[0]
    assert (p["start_date"], p["end_date"], p["kind"], p["open_end"]) == (start, PUB.isoformat(), "since",
                                                                          True)


def test_starting_in_a_month_is_not_the_whole_month_in_a_claim():
    c = extract_claims("Starting in September, North Korea shipped 300 containers of shells to Russia.",
                       "r", PUB)[0]
    assert (c.period_start, c.period_end) == (date(2023, 9, 1), PUB)


def test_a_start_without_published_date_has_no_end():
    p = find_periods("Starting in September 2023, the ships sailed weekly.", None)[0]
    assert (p["start_date"], p["end_date"], p["open_end"]) == ("2023-09-01", None, True)
