"""The typed objects passed between the reconstruction's stages.

inputs (:mod:`~corridor.corridors.inputs`) → :class:`Call` (:mod:`~corridor.corridors.calls`) →
:class:`Shipment` (:mod:`~corridor.corridors.shipments`) → :class:`Estimate`
(:mod:`~corridor.corridors.estimate`) → :class:`Verdict` (:mod:`~corridor.corridors.verdicts`),
all gathered in a :class:`Reconstruction`.

Every object is a frozen dataclass; ``to_dict()`` gives its part of the JSON contract of
``docs/reconstruction.md`` (``corridor.reconstruction/1``). Fields marked ``internal`` (the
datetimes and working identities the stages use) are left out of the JSON. Times are naive
UTC ``datetime``; ranges are :class:`TimeRange`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from typing import Any

FORMAT = "corridor.reconstruction/1"

#: dataclass field metadata: left out of ``to_dict()``
INTERNAL = {"internal": True}


def plain(value: Any) -> Any:
    """A JSON-ready value: dataclasses through their fields, tuples as lists, datetimes ISO."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.metadata.get("key", f.name): plain(getattr(value, f.name))
                for f in fields(value) if not f.metadata.get("internal")}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


class _Dict:
    """``to_dict()`` for the dataclasses below."""

    def to_dict(self) -> dict[str, Any]:
        return plain(self)


@dataclass(frozen=True)
class TimeRange(_Dict):
    """``[earliest, latest]`` (``None`` = open end); ``text`` is the sources' wording."""

    earliest: datetime | None
    latest: datetime | None
    uncertain: bool = False
    text: str | None = None


@dataclass(frozen=True)
class Obs(_Dict):
    """One observation at a node: a sighting or an AIS port visit (internal to calls)."""

    kind: str  # sighting | event
    id: str
    place_id: str
    ident: str | None  # vessel_id, "mmsi:<n>" or None (unidentified)
    vessel_id: str | None
    label: str | None
    mmsi: int | None
    subject: str  # vessel, train, railcars, containers, cargo
    start: datetime
    end: datetime
    uncertain: bool
    text: str | None
    activity: str | None
    count: int | None
    summary: str
    sources: tuple[str, ...]
    marks: tuple[str, ...]
    unit: str | None = None  # the unit of ``count`` (a corridor unit), None = not counted
    shared_by: int = 1  # number of ships a count covers ("200 containers aboard the two ships")


@dataclass(frozen=True)
class Evidence(_Dict):
    """One piece of evidence of a shipment, with its role."""

    kind: str  # sighting | event
    id: str
    role: str  # origin, destination, cargo, gap, voyage, context
    place_id: str | None
    time: TimeRange
    summary: str
    sources: tuple[str, ...]
    marks: tuple[str, ...]


@dataclass(frozen=True)
class Call(_Dict):
    """Presence at one node (a vessel, a train or cargo), merged from observations."""

    call_id: str
    place_id: str
    vessel_id: str | None
    vessel_name: str | None
    mmsi: int | None
    subject: str
    time: TimeRange
    departed: TimeRange | None
    activity: tuple[str, ...]
    count: int | None
    unidentified_merged: int
    evidence: tuple[str, ...]
    sources: tuple[str, ...]
    marks: tuple[str, ...]
    #: additive: the unit of ``count`` and the number of ships the count covers
    count_unit: str | None = None
    count_shared_by: int = 1
    # -- internal: what the shipment stage works with
    ident: str | None = field(default=None, metadata=INTERNAL)
    obs: tuple[Obs, ...] = field(default=(), metadata=INTERNAL)

    @property
    def start(self) -> datetime:
        return min(o.start for o in self.obs)

    @property
    def end(self) -> datetime:
        return max(o.end for o in self.obs)

    @property
    def uncertain(self) -> bool:
        return self.time.uncertain

    @property
    def label(self) -> str | None:
        return self.vessel_name

    @property
    def departed_at(self) -> tuple[datetime, datetime] | None:
        d = self.departed
        return (d.earliest, d.latest) if d is not None else None  # type: ignore[return-value]

    @property
    def ais_only(self) -> bool:
        """Every observation is an AIS event (times are measured, not reported)."""
        return all(o.kind == "event" for o in self.obs)


@dataclass(frozen=True)
class CargoRange(_Dict):
    """What one load carried, as a range in ``unit``; ``low``/``high`` None = no basis."""

    low: float | None
    high: float | None
    unit: str
    basis: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shipment(_Dict):
    """A reconstructed sea or rail leg (see docs/reconstruction.md, ``shipments[]``)."""

    shipment_id: str
    mode: str
    leg_id: str | None
    vessel_id: str | None
    vessel_name: str | None
    mmsi: int | None
    from_place_id: str | None
    to_place_id: str | None
    from_candidates: tuple[str, ...]
    to_candidates: tuple[str, ...]
    depart: TimeRange
    arrive: TimeRange
    tier: str
    tier_reason: str
    evidence: tuple[Evidence, ...]
    cargo: CargoRange
    counts_toward_totals: bool
    carries_shipment_id: str | None
    origin_call_inferred: bool
    unidentified_merged: int
    sources: tuple[str, ...]
    marks: tuple[str, ...]
    #: additive: the cargo in every unit the corridor declares (the first is ``cargo``)
    cargo_by_unit: tuple[CargoRange, ...] = ()
    #: additive: what bounded the tier (source reliability marks), or None
    tier_capped_by: str | None = None

    def cargo_in(self, unit: str) -> CargoRange | None:
        """The cargo range in ``unit``, or None when this shipment has no figure for it."""
        for c in (self.cargo, *self.cargo_by_unit):
            if c.unit == unit:
                return c
        return None


@dataclass(frozen=True)
class Period(_Dict):
    start: date | None
    end: date | None


@dataclass(frozen=True)
class Estimate(_Dict):
    """A total over a period (containers, shipments, calls or any declared unit)."""

    estimate_id: str
    measure: str
    period: Period
    from_place_ids: tuple[str, ...]
    vessel_id: str | None
    low: float
    high: float
    unit: str
    by_tier: dict[str, int]
    shipment_ids: tuple[str, ...]
    low_shipment_ids: tuple[str, ...]
    arithmetic: str
    sources: tuple[str, ...]
    call_ids: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = plain(self)
        if self.call_ids is None:
            d.pop("call_ids")
        return d


@dataclass(frozen=True)
class ClaimRange(_Dict):
    min: float | None
    max: float | None


@dataclass(frozen=True)
class ClaimPeriod(_Dict):
    start: date | None
    end: date | None
    text: str | None


@dataclass(frozen=True)
class Verdict(_Dict):
    """A claim held against the evidence (``claims[]`` of the JSON)."""

    claim_id: str
    key: str | None
    sentence: str
    attribution: str | None
    stated_on: str | None
    quantity: float | None
    unit: str | None
    qualifier: str | None
    measure: str | None
    claim_range: ClaimRange
    period: ClaimPeriod
    places: tuple[str, ...]
    vessel_id: str | None
    origin: str
    report_id: str | None
    sources: tuple[str, ...]
    marks: tuple[str, ...]
    estimate_id: str | None
    verdict: str
    arithmetic: str
    #: additive: the analyst's note on the claim (claims.csv ``note``)
    note: str | None = None
    #: additive: evidence the estimate rests on that comes from the claim's own sources
    own_source_evidence: tuple[str, ...] = ()
    #: additive: the sentence saying so (None when the evidence is independent of the claim)
    independence: str | None = None


@dataclass(frozen=True)
class Reconstruction(_Dict):
    """The result of :func:`corridor.corridors.reconstruct.reconstruct`.

    Nodes, legs, vessels, rail, context and sources are JSON-ready mappings already; calls,
    shipments, estimates and claims are typed. ``to_dict()`` is the documented contract
    (``to_json()`` is the same object, kept for callers), ``to_json_text()`` its text.
    """

    format: str
    corridor: dict[str, Any]
    window: dict[str, str]
    nodes: tuple[dict[str, Any], ...]
    legs: tuple[dict[str, Any], ...]
    vessels: tuple[dict[str, Any], ...]
    calls: tuple[Call, ...]
    shipments: tuple[Shipment, ...]
    rail: dict[str, Any]
    estimates: tuple[Estimate, ...]
    claims: tuple[Verdict, ...]
    context: tuple[dict[str, Any], ...]
    sources: tuple[dict[str, Any], ...]
    warnings: tuple[str, ...]
    params: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in ("calls", "shipments", "estimates", "claims"):
                out[f.name] = [x.to_dict() for x in v]
            else:
                out[f.name] = plain(v)
        return out

    def to_json(self) -> dict[str, Any]:
        """The JSON object of docs/reconstruction.md (a dict; same as :meth:`to_dict`)."""
        return self.to_dict()

    def to_json_text(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str)

    def to_geojson(self) -> dict[str, Any]:
        from corridor.corridors.export import to_geojson

        return to_geojson(self)

    def to_text(self) -> str:
        from corridor.corridors.export import to_text

        return to_text(self)

    def shipments_table(self):  # -> pa.Table
        from corridor.corridors.export import shipments_table

        return shipments_table(self)

    def summary_table(self):  # -> pa.Table
        from corridor.corridors.export import summary_table

        return summary_table(self)

    def save(self, store) -> int:
        """Replace this corridor's rows in the ``shipments`` table; returns rows written."""
        from corridor.corridors.export import save_shipments

        return save_shipments(store, self)

    @property
    def data(self) -> dict[str, Any]:
        """The JSON object (older callers read ``rec.data``)."""
        return self.to_dict()
