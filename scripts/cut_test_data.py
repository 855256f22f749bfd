"""Rebuild ``tests/data`` from the project's reference materials (the ``shared`` folder).

The test suite reads only ``tests/data``, so a fresh clone runs its tests with nothing beside it.
This script is how that folder was made, and how to remake it when the materials change:

    python scripts/cut_test_data.py --shared ../shared            # rewrite tests/data
    python scripts/cut_test_data.py --shared ../shared --check    # exit 1 if tests/data differs

What it does, file by file (the table is ``COPIES`` and ``DERIVED`` below):
- real captures, tables and fixtures whose licence allows redistribution are copied unchanged,
  keeping their path relative to ``shared/data`` (so ``data_dir / "ais-nmea/gpsd/sample.aivdm"``
  names the same file in both places);
- the case file ``case/case-dprk-russia.md`` (the project's own research notes) is copied to
  ``tests/data/case/``;
- one derived file is cut from a copied one: ``ais-positions/derived/noaa-2022-dayfirst.csv``,
  the first 2,000 rows (by MMSI and time, 9-digit MMSIs only) of the MarineCadastre 2022-01-03
  sample rewritten in a layout corridor does not know (other column names, day-first times), for
  the tests of explicit column mappings.

Nothing whose licence is unclear is copied (``ais-positions/suez-2021``: the data's owner is
credited but its terms are not stated); the tests that used it were rewritten on other data.
Origins and licences: ``tests/data/SOURCES.md``.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "data"

#: Paths under shared/data copied unchanged (a folder copies every file in it).
COPIES = [
    "ais-nmea",
    "ais-positions/aisdb/test_data_20210701.csv",
    "ais-positions/aisdb/test_data_noaa_20230101.csv",
    "ais-positions/noaa-boston-2014/ais.gpkg",
    "ais-positions/noaa-us-2022-01-03/AISdata_2022-01-03_first99999.parquet",
    "ais-tracks/gfw-gpsdio-segment-point-pair",
    "gfw-fixtures/gpsdio-segment",
    "gfw-fixtures/pipe-anchorages",
    "gfw-fixtures/pipe-encounters",
    "gfw-fixtures/pipe-gaps",
]
#: Paths under shared/ (not shared/data) copied unchanged.
OTHER = {"case/case-dprk-russia.md": "case/case-dprk-russia.md"}
DAYFIRST_ROWS = 2000


def _copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        for f in sorted(src.rglob("*")):
            if f.is_file():
                _copy(f, dst / f.relative_to(src))
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def _dayfirst(out: Path) -> None:
    """The first rows of the MarineCadastre sample in an unknown layout with day-first times."""
    import duckdb

    src = out / "ais-positions/noaa-us-2022-01-03/AISdata_2022-01-03_first99999.parquet"
    dst = out / "ais-positions/derived/noaa-2022-dayfirst.csv"
    dst.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT MMSI AS vessel_ref, strftime(BaseDateTime::TIMESTAMP, '%d/%m/%Y %H:%M:%S') AS seen_at, "
        "LAT AS latitude, LON AS longitude FROM read_parquet(?) "
        "WHERE MMSI BETWEEN 100000000 AND 999999999 "
        f"ORDER BY MMSI, BaseDateTime LIMIT {DAYFIRST_ROWS}) TO '{dst}' (HEADER)",
        [str(src)])
    con.close()


def build(shared: Path, out: Path) -> None:
    """Write every copied and derived file under ``out`` (SOURCES.md is kept as it is)."""
    for rel in COPIES:
        _copy(shared / "data" / rel, out / rel)
    for rel, to in OTHER.items():
        _copy(shared / rel, out / to)
    _dayfirst(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, required=True, help="the shared materials folder")
    ap.add_argument("--check", action="store_true", help="compare with tests/data, change nothing")
    args = ap.parse_args(argv)
    if not args.check:
        build(args.shared, OUT)
        print(f"wrote {OUT}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        build(args.shared, Path(tmp))
        files = [f.relative_to(tmp) for f in sorted(Path(tmp).rglob("*")) if f.is_file()]
        bad = [str(r) for r in files
               if not (OUT / r).is_file() or not filecmp.cmp(Path(tmp) / r, OUT / r, shallow=False)]
    for b in bad:
        print(f"differs or missing: tests/data/{b}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
