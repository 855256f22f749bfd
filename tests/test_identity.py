"""Vessel identity resolution: IMO first, then MMSI, then names and aliases; never a guess."""

from __future__ import annotations

from corridor.corridors.case import load_case
from corridor.identity import (
    VesselRecord,
    VesselResolver,
    imo_valid,
    normalise_name,
    parse_imo,
)


def case_resolver(store) -> VesselResolver:
    load_case(store, "dprk-russia-2023")
    return VesselResolver.from_store(store)


def test_maia_spellings_resolve_to_one_ship_and_maria_stays_apart(store):
    r = case_resolver(store)
    for spelling in ("MAIA-1", "Maya-1", "Maia", "maia 1", "M/V MAYA-1", "Maya 1"):
        res = r.resolve(name=spelling)
        assert (res.vessel_id, res.status) == ("maia-1", "resolved"), spelling
    assert r.resolve(name="MARIA").vessel_id == "maria"
    assert r.resolve(name="Mariya").status == "unmatched"  # no fuzzy guess


def test_imo_wins_over_a_different_name(store):
    r = case_resolver(store)
    res = r.resolve(imo="IMO 9161003", name="Some Other Name")
    assert (res.vessel_id, res.matched_on) == ("lady-r", "imo")
    assert "differs" in res.message


def test_a_known_name_with_a_different_imo_is_a_conflict_not_a_match(store):
    # the car carrier ANGARA, IMO 9124043, is a different ship from the shuttle's Angara
    r = case_resolver(store)
    res = r.resolve(imo=9124043, name="ANGARA")
    assert res.status == "conflict" and res.vessel_id is None
    assert "9124043" in res.message and "9179842" in res.message


def test_ambiguous_names_are_reported_with_candidates():
    r = VesselResolver([VesselRecord("angara-a", "ANGARA", imo=9179842),
                        VesselRecord("angara-b", "Angara", imo=9124043)])
    res = r.resolve(name="Angara")
    assert res.status == "ambiguous" and res.vessel_id is None
    assert res.candidates == ("angara-a", "angara-b")
    assert r.resolve(name="Angara", imo=9124043).vessel_id == "angara-b"


def test_mmsi_after_imo_and_shared_aliases_are_ambiguous():
    r = VesselResolver([VesselRecord("x", "ALPHA", ("Shared",), mmsi=273000001),
                        VesselRecord("y", "BETA", ("Shared",))])
    assert r.resolve(mmsi="273000001", name="whatever").vessel_id == "x"
    assert r.resolve(name="shared").status == "ambiguous"
    assert r.resolve(mmsi=273000002).status == "unmatched"


def test_bad_identifiers_are_not_used():
    assert not imo_valid(9161004) and parse_imo("916100") is None
    r = VesselResolver([VesselRecord("lady-r", "LADY R", imo=9161003)])
    res = r.resolve(imo="9161004", name="Lady R")  # wrong check digit: falls back to the name
    assert res.vessel_id == "lady-r" and res.matched_on == "name"
    assert "not a valid IMO" in res.message
    assert r.resolve().status == "empty"


def test_resolve_many_is_aligned_and_vectorised_over_rows(store):
    r = case_resolver(store)
    t = r.resolve_many(["Maya-1", None, "Lady-R", "Angara"], [None, "9161003", None, 9124043])
    assert t["vessel_id"].to_pylist() == ["maia-1", "lady-r", "lady-r", None]
    assert t["status"].to_pylist() == ["resolved", "resolved", "resolved", "conflict"]


def test_normalisation_folds_case_punctuation_and_transliteration():
    assert normalise_name("Lady-R") == normalise_name("LADY R") == "LADYR"
    assert normalise_name("Vostochnyy") != normalise_name("Vostochny")  # no guessing beyond rules
