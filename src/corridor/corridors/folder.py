"""``corridor case new NAME``: a case folder an analyst fills in.

The folder holds the corridor file (``corridor.yaml``, the only required file), one commented
template per sheet (``places.csv``, ``vessels.csv``, ``sanctions.csv``, ``sightings.csv``,
``rail.csv``, ``claims.csv``, ``sources.csv``; each optional, each may be saved as ``.xlsx``
instead) and a ``README.md``. Template lines starting with ``#`` are comments: they say what
each column holds and show a fictitious example row; corridor skips them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from corridor.corridors.model import CASE_CORRIDOR_FILE, case_slug


class CaseFolderError(ValueError):
    """A case folder that cannot be written (names the path)."""


def _corridor_yaml(case_id: str, today: date) -> str:
    y = today.year
    return f"""\
# The corridor of this case: where goods are believed to move, and how to judge the evidence.
# Every key is documented in docs/your-own-case.md. Check the folder with
#   corridor case check {case_id}
# Marks on facts (in the sheets): C stated by the cited source, I your inference, U unverified
# or weak source, ⚠ sources conflict.
id: {case_id}
title: "{case_id}: replace with a title (what moved, from where to where, when)"
description: >
  One paragraph: the suspected transfer, who reported it, what the evidence is.
data: real                 # real | simulated | all (which AIS to use)
window: {{start: {y}-01-01, end: {y}-12-31}}   # the period to reconstruct (inclusive days)
nodes:                     # place ids from places.csv (or the gazetteer: corridor places list --name)
  - {{place: port-a, role: origin}}        # origin | transit | destination
  - {{place: port-b, role: destination}}
legs:
  - id: port-a-port-b
    from: port-a
    to: port-b
    mode: sea              # sea | rail
    duration_hours: [12, 240]   # plausible last-seen-at-from -> first-seen-at-to, port time included
    # ais_dark_share: 0.8  # for `corridor simulate --corridor`: share of crossings with AIS off
    sources: []
    note: why these numbers (distance, speed, port time; mark I if it is your estimate)
vessels: []                # vessel ids of interest, from vessels.csv
cargo:
  unit: containers         # the main unit claims and estimates are counted in
  aliases: [TEU, boxes]    # other words sources use for it
  per_load: {{low: 100, high: 200}}   # one ship load when nothing better is known (or remove)
  basis: "replace: where the per-load figure comes from [S1] (I)"
  sources: []
  units: []                # further units, e.g.
  # - unit: shells
  #   aliases: [artillery shells, rounds]
  #   per_load: {{low: 10000, high: 20000}}
  #   per_vessel: {{example-star: {{low: 5000, high: 8000}}}}
  #   basis: "replace [S2]"
  #   sources: [S2]
claims:
  case: true               # test every claim of claims.csv
  match: true              # and claims extracted from ingested reports that name a node
"""


SHEETS: dict[str, tuple[str, list[str]]] = {
    "places": (
        "place_id,name,kind,country,lat,lon,precision,precision_note,radius_m,aliases,mark,"
        "sources,note",
        [
            "place_id: your id (lower case, digits, - . _), used in the corridor's nodes",
            "kind: port, berth, anchorage, rail_crossing, rail_terminal, depot, area, settlement",
            "country: ISO 3166 alpha-2 (IR, RU); lat/lon: decimal degrees, only if a source gives "
            "them (leave both empty otherwise: corridor never invents a coordinate)",
            "precision: facility, settlement or approximate; precision_note: what the "
            "coordinate stands for",
            "radius_m: geofence to match AIS and coordinates to the place; aliases: other "
            "spellings separated by ; (write ~Name for a spelling that is also something else, "
            "a river or a word: it then counts only after 'the port of', 'the village of'…)",
            "mark: C, I, U or ⚠; sources: tags of sources.csv separated by ; (S1;S2)",
            "port-a,Port A,port,XA,10.5,20.25,settlement,town centre not the quays,8000,"
            "Port-A;Porta,C,S1,example row",
        ],
    ),
    "vessels": (
        "vessel_id,name,aliases,imo,imo_status,mmsi,flag,vessel_type,length_m,gross_tonnage,"
        "capacity_teu,owner,marks,sources,notes",
        [
            "vessel_id: your id; aliases: other spellings separated by ;",
            "imo: 7 digits with a correct check digit, only if a source gives it; imo_status: "
            "confirmed, unverified or conflicting",
            "mmsi: 9 digits; length_m, gross_tonnage, capacity_teu: only if sourced",
            "example-star,EXAMPLE STAR,Example-Star,,,,XA,general cargo,,,,Example Shipping LLC,"
            "C,S1,example row",
        ],
    ),
    "sanctions": (
        "vessel_id,authority,program,listed_on,marks,sources,text",
        [
            "one row per listing of a vessel of vessels.csv; listed_on: YYYY-MM-DD",
            "example-star,US,OFAC SDN,2024-01-15,C,S2,the listing as the source words it",
        ],
    ),
    "sightings": (
        "date,date_text,place_id,place_text,lat,lon,vessel_name,identification,subject,count,"
        "unit,vessels,activity,evidence_type,description,source,mark",
        [
            "date: YYYY-MM-DD, a range (2024-01-27/28, 2024-01-27 -> 2024-02-03) or a phrase "
            "with a year (mid-Aug 2024); date_text: the source's words",
            "the place: place_id (places.csv or the gazetteer), or lat/lon, or place_text alone "
            "for a place with no coordinate",
            "subject: vessel, containers, cargo, train, railcars or activity; count: how many "
            "were seen, in unit (a unit of the corridor's cargo, default its main unit)",
            "vessels: how many ships the count covers (200 containers aboard two ships: 2), "
            "default 1",
            "activity: arrived, departed, loading, unloading, berthed, anchored…; a departure "
            "closes the ship's call",
            "source: tags (S1;S2); mark: C, I, U or ⚠",
            "2024-01-27,27 Jan 2024,port-b,,,,EXAMPLE STAR,stated,vessel,,,,arrived,"
            "satellite image,ship at the quay,S1,C",
        ],
    ),
    "rail": (
        "date,date_text,place_id,kind,railcars,qualifier,car_type,direction,description,source,"
        "mark",
        [
            "kind: count (railcars seen on the date), baseline (usual number at the place) or "
            "statement",
            "qualifier: about, at_most_about, at_least, exact",
            "2024-02-10,,port-b,count,60,about,freight railcars,could not be determined,"
            "yard full,S3,C",
        ],
    ),
    "claims": (
        "key,stated_on,attribution,sentence,quantity,unit,qualifier,measure,period_start,"
        "period_end,period_text,places,vessel_id,supplier,recipient,materiel,sources,mark,note",
        [
            "key: your short id; sentence: the exact words; attribution: who said it",
            "quantity + unit (a corridor unit, shipments, trips or calls); qualifier: "
            "more_than, at_least, about, up_to, exact",
            "period_start/period_end: YYYY-MM-DD (both needed to test the claim); places: ids "
            "separated by ;",
            "example-200,2024-03-01,Example Ministry,\"about 200 containers were shipped in "
            "February\",200,containers,about,,2024-02-01,2024-02-29,February 2024,port-a;port-b,"
            ",Country A,Country B,munitions,S4,C,example row",
        ],
    ),
    "sources": (
        "tag,parent,publisher,title,date,url,other_urls,marks,citation",
        [
            "tag: S1, S2… (S19b for a mirror of S19: parent S19); date: YYYY, YYYY-MM or "
            "YYYY-MM-DD",
            "citation: the full reference as you would write it",
            "S1,,Example News,Ships seen at Port B,2024-02-01,https://example.org/story,,,"
            "\"Example News, 'Ships seen at Port B', 1 Feb 2024\"",
        ],
    ),
}


def _readme(case_id: str) -> str:
    return f"""\
# Case `{case_id}`

This folder is one investigation: the corridor (`corridor.yaml`) and the evidence sheets.
Only `corridor.yaml` is required; every sheet is optional, and each may be a `.csv` or an
`.xlsx` with the same columns (delete a sheet you do not need). Lines starting with `#` are
comments; each template's comments say what its columns hold.

| file | what goes in it |
|---|---|
| `corridor.yaml` | the corridor: nodes (places with a role), legs with durations, cargo units |
| `places.csv` | your places, with a coordinate only if a source gives one, its precision and your note |
| `vessels.csv` | the ships, identities only as published |
| `sanctions.csv` | listings of those ships |
| `sightings.csv` | dated observations of ships, cargo or trains at places |
| `rail.csv` | railcar counts and each place's baseline |
| `claims.csv` | what officials or reports claim, with the exact sentence, to test against the evidence |
| `sources.csv` | the numbered sources `[S#]` every row cites |

Mark every fact: **C** stated by the cited source, **I** your inference, **U** unverified or
weak source, **⚠** sources conflict. A shipment resting only on U or ⚠ evidence is held
below *confirmed* (see docs/reconstruction.md).

Then:

    corridor case check {case_id}          # every problem as file:line:column
    corridor init                            # once: a store with the world port gazetteer
    corridor corridors load {case_id}      # load the sheets into the store
    corridor reconstruct {case_id}         # shipments, estimates, verdicts (--format json)
    corridor report {case_id} --out {case_id}.html

`docs/your-own-case.md` walks through it.
"""


def new_case(name: str | Path, *, today: date | None = None) -> Path:
    """Write a new case folder ``name`` (a path; its last part becomes the case id)."""
    d = Path(name)
    if d.exists() and any(d.iterdir()):
        raise CaseFolderError(f"{d}: already exists and is not empty (choose another name)")
    case_id = case_slug(d.resolve().name)
    d.mkdir(parents=True, exist_ok=True)
    (d / CASE_CORRIDOR_FILE).write_text(_corridor_yaml(case_id, today or date.today()),
                                        encoding="utf-8")
    for sheet, (header, comments) in SHEETS.items():
        lines = [header] + [f"# {c}" for c in comments[:-1]] + [f"# example: {comments[-1]}"]
        (d / f"{sheet}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (d / "README.md").write_text(_readme(case_id), encoding="utf-8")
    return d
