"""Vessel search: AIS identities, case vessels and watchlist entries in one list.

A vessel is known to corridor in three ways: as an MMSI heard on AIS (with the names, IMO and
call signs it reported), as a case-file vessel (``vessels``: name, aliases, IMO, flag), and as
a watchlist entry. :func:`build_index` gathers the first two into one list of
:class:`VesselEntry` with their watchlist hits; :func:`search` filters it. The index is small
(one entry per MMSI or case vessel), so it is built once per store generation and matched in
Python.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from corridor.identity import normalise_name
from corridor.inspect import vessels as ais_vessels
from corridor.store import Store


@dataclass(frozen=True)
class VesselEntry:
    kind: str                       # "ais" (an MMSI with positions or reports) or "case"
    key: str                        # mmsi for ais, vessel_id for case
    name: str | None
    aliases: tuple[str, ...]
    mmsi: int | None
    imo: int | None
    flag: str | None
    positions: int = 0
    first_seen: str | None = None
    last_seen: str | None = None
    watchlist: tuple[dict, ...] = field(default_factory=tuple)
    #: name and aliases folded by normalise_name, once (search compares these)
    folded: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not self.folded:
            object.__setattr__(self, "folded", tuple(
                f for f in (normalise_name(n) for n in (self.name or "", *self.aliases)) if f))

    def as_json(self) -> dict:
        d = asdict(self)
        del d["folded"]
        d["aliases"] = list(self.aliases)
        d["watchlist"] = list(self.watchlist)
        return d


def build_index(store: Store) -> list[VesselEntry]:
    """Every AIS identity and case vessel with its watchlist hits."""
    wl = store.query("SELECT entity_id, name, aliases, imo, mmsi, flag, programs, authority, source "
                     "FROM watchlist ORDER BY entity_id").to_pylist()
    by_imo: dict[int, list[dict]] = {}
    by_mmsi: dict[int, list[dict]] = {}
    by_name: dict[str, list[dict]] = {}
    for w in wl:
        hit = {"entity_id": w["entity_id"], "name": w["name"], "programs": w["programs"] or [],
               "authority": w["authority"], "source": w["source"]}
        if w["imo"]:
            by_imo.setdefault(w["imo"], []).append(hit)
        if w["mmsi"]:
            by_mmsi.setdefault(w["mmsi"], []).append(hit)
        for n in {w["name"] or ""} | set(w["aliases"] or []):
            if normalise_name(n):
                by_name.setdefault(normalise_name(n), []).append(hit)

    def hits(imo, mmsi, names) -> tuple[dict, ...]:
        found: dict[str, dict] = {}
        for h in by_imo.get(imo, []) + by_mmsi.get(mmsi, []) + [
                h for n in names for h in by_name.get(normalise_name(n), [])]:
            found.setdefault(h["entity_id"], h)
        return tuple(found[k] for k in sorted(found))

    names = dict(store.con.execute(
        "SELECT mmsi, list(DISTINCT name ORDER BY name) FROM vessel_reports WHERE name IS NOT NULL "
        "GROUP BY mmsi").fetchall())
    out = []
    for v in ais_vessels(store).to_pylist():
        aliases = tuple(n for n in names.get(v["mmsi"], []) if n != v["name"])
        out.append(VesselEntry(
            "ais", str(v["mmsi"]), v["name"], aliases, v["mmsi"], v["imo"], v["flag"],
            int(v["positions"] or 0),
            v["first_seen"].isoformat() if v["first_seen"] else None,
            v["last_seen"].isoformat() if v["last_seen"] else None,
            hits(v["imo"], v["mmsi"], [v["name"] or "", *aliases])))
    heard = {e.mmsi: e for e in out}
    for v in store.query("SELECT vessel_id, name, aliases, imo, mmsi, flag FROM vessels "
                         "ORDER BY vessel_id").to_pylist():
        aliases = tuple(v["aliases"] or [])
        ais = heard.get(v["mmsi"])  # a case vessel with a known MMSI has that MMSI's track
        out.append(VesselEntry("case", v["vessel_id"], v["name"], aliases, v["mmsi"], v["imo"],
                               v["flag"], ais.positions if ais else 0, ais.first_seen if ais else None,
                               ais.last_seen if ais else None,
                               watchlist=hits(v["imo"], v["mmsi"], [v["name"], *aliases])))
    return out


def search(index: list[VesselEntry], q: str | None = None, flag: str | None = None,
           watchlisted: bool | None = None, limit: int = 50) -> list[VesselEntry]:
    """Entries matching ``q`` (MMSI or IMO digits, ``IMO 1234567``, or part of a name or alias,
    compared as :func:`~corridor.identity.normalise_name` folds them), ``flag`` (part of the
    flag, case-insensitive) and ``watchlisted`` (only entries with / without a hit).

    >>> idx = [VesselEntry("ais", "1", "LADY R", (), 273000001, 9161003, "Russia"),
    ...        VesselEntry("ais", "2", "OTHER", ("M/V LADY-R",), 273000002, None, "Malta")]
    >>> [e.key for e in search(idx, "lady r")], [e.key for e in search(idx, "IMO 9161003")]
    (['1', '2'], ['1'])
    >>> [e.key for e in search(idx, flag="malta")]
    ['2']
    """
    out = []
    digits = re.sub(r"^\s*(imo|mmsi)\s*:?\s*", "", (q or ""), flags=re.I).strip()
    qn = normalise_name(q) if q else ""
    for e in index:
        if q:
            ok = False
            if digits.isdigit():
                ok = (e.mmsi is not None and str(e.mmsi).startswith(digits)) or \
                     (e.imo is not None and str(e.imo) == digits)
            if not ok and qn:
                ok = any(qn in f for f in e.folded)
            if not ok:
                continue
        if flag and flag.strip().lower() not in (e.flag or "").lower():
            continue
        if watchlisted is not None and bool(e.watchlist) != watchlisted:
            continue
        out.append(e)
        if len(out) >= limit:
            break
    return out
