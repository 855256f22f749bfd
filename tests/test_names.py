"""Ship and place names in any script meet their Latin spellings (anyascii folding)."""

from __future__ import annotations

import pytest

from corridor.identity import NameIndex, VesselRecord, VesselResolver, normalise_name, written_without_vowels
from corridor.ingest.observations import PlaceLookup
from corridor.places import slugify


def test_cyrillic_name_folds_to_its_latin_spelling():
    assert normalise_name("Ангара") == normalise_name("ANGARA") == "ANGARA"
    assert slugify("Ангара") == "angara"
    assert slugify("Восточный порт") == "vostochnyy-port"


RESOLVER = VesselResolver([
    VesselRecord("angara", "ANGARA", imo=9179842),
    VesselRecord("maia-1", "MAIA-1"),
    VesselRecord("geumgang", "GEUMGANG"),
    VesselRecord("sahand", "SAHAND"),
    VesselRecord("hormoz", "HORMOZ"),
    VesselRecord("al-amal", "AL AMAL"),
    VesselRecord("kumsong", "금성"),  # a record kept in its own script
])


@pytest.mark.parametrize(("written", "vessel"), [
    ("Ангара", "angara"),          # Russian
    ("АНГАРА", "angara"),
    ("Мая-1", "maia-1"),           # Russian "я" = YA, folded to IA like the Latin spellings
    ("금강", "geumgang"),          # Korean, Revised Romanization
    ("GEUMSEONG", "kumsong"),      # Latin query, Korean record
    ("سهند", "sahand"),            # Persian: the consonants S-H-N-D
    ("هرمز", "hormoz"),
    ("الأمل", "al-amal"),          # Arabic, with the article
])
def test_names_in_other_scripts_resolve_to_the_vessel(written, vessel):
    r = RESOLVER.resolve(name=written)
    assert (r.status, r.vessel_id) == ("resolved", vessel), r.message


def test_no_guessing_across_romanisations_or_vowels():
    # DPRK (McCune–Reischauer) spelling of 금강 differs from Revised Romanization: an alias is needed
    assert RESOLVER.resolve(name="KUMGANG").status == "unmatched"
    # consonant matching is only for names written without vowels: Latin SHND is not SAHAND
    assert RESOLVER.resolve(name="SHND").status == "unmatched"
    assert not written_without_vowels("SAHAND") and written_without_vowels("سهند")


def test_consonant_match_is_reported_ambiguous_when_two_ships_share_it():
    r = VesselResolver([VesselRecord("sahand", "SAHAND"), VesselRecord("sohond", "SOHOND")])
    res = r.resolve(name="سهند")
    assert res.status == "ambiguous" and res.candidates == ("sahand", "sohond")


def test_exact_key_wins_over_consonants():
    ix = NameIndex()
    ix.add("SAHAND", "latin")
    ix.add("سهند", "persian")
    assert ix.find("سهند") == {"persian"}
    assert ix.find("SAHAND") == {"latin"}


def test_place_names_in_cyrillic_and_arabic_script_find_the_place():
    import pyarrow as pa

    places = PlaceLookup(pa.table({
        "place_id": ["ru-vostochny", "ir-bandar-abbas"],
        "name": ["Vostochnyy", "Bandar Abbas"],
        "aliases": [["Vostochny Port"], []],
        "lat": [42.75, 27.18], "lon": [133.07, 56.28], "radius_m": [3000.0, 5000.0],
    }))
    assert places.by_name("Восточный") == ["ru-vostochny"]  # "-ый" is "-YY", as in Vostochnyy
    assert places.by_name("بندر عباس") == ["ir-bandar-abbas"]


def test_a_sighting_naming_a_ship_in_cyrillic_is_linked_to_it(store, tmp_path):
    """The shipped case knows ANGARA; an analyst's sighting written in Russian finds it."""
    from corridor.corridors.case import load_case
    from corridor.ingest.observations import ingest_sightings

    load_case(store, "dprk-russia-2023")
    f = tmp_path / "sightings.csv"
    f.write_text("date,place_id,vessel_name,identification,subject,activity,evidence_type,"
                 "description,source\n"
                 "2023-09-10,rajin,Ангара,stated,vessel,berthed,photo,у причала,test-photo-1\n",
                 encoding="utf-8")
    res = ingest_sightings(store, f)
    assert res.status == "done", res.lines()
    row = store.query("SELECT vessel_id, vessel_name FROM sightings WHERE source = 'test-photo-1'")
    assert row.to_pylist() == [{"vessel_id": "angara", "vessel_name": "Ангара"}]
