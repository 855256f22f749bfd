"""Parameters of the reconstruction (units in names)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from corridor.corridors.estimate import EstimateParams


class ReconstructError(ValueError):
    """A corridor that cannot be reconstructed (e.g. its file is invalid)."""


@dataclass(frozen=True)
class ReconstructParams:
    """Parameters of the reconstruction. Set them in the corridor YAML's ``params``; every value
    used is reported in the output.

    ``call_merge_hours``: observations of one identity at one node this close merge into a call.
    ``max_stay_days``: a ship's departure joins its earlier call at the same place up to this
    long before, when nothing shows the ship elsewhere in between (one port stay, one call).
    ``max_call_span_days``: a sighting dated more loosely than
    this cannot date a call. ``surge_ratio``: rail count / baseline at which a count is a
    surge. ``about_tolerance``: "about" as a fraction (0.1 = ±10%). ``min_load_factor``: the low
    end of a load from a vessel's capacity. ``default_radius_m``: node geofence when the place has
    none. ``gap_near_node_m``: an AIS gap starts/ends "near" a node within its radius plus this.
    ``low_tiers``: tiers counted in an estimate's low.
    """

    call_merge_hours: float = 12.0
    max_call_span_days: float = 7.0
    max_stay_days: float = 14.0
    surge_ratio: float = 2.0
    about_tolerance: float = 0.10
    min_load_factor: float = 0.5
    default_radius_m: float = 5000.0
    gap_near_node_m: float = 50000.0
    low_tiers: tuple[str, ...] = ("confirmed", "probable")

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "params") -> ReconstructParams:
        names = {f.name for f in fields(cls)}
        extra = sorted(set(d) - names)
        if extra:
            raise ReconstructError(f"{where}: unknown parameter {extra[0]!r} "
                                   f"(known: {', '.join(sorted(names))})")
        kw = dict(d)
        if "low_tiers" in kw:
            kw["low_tiers"] = tuple(kw["low_tiers"])
        return cls(**kw)

    def estimate_params(self) -> EstimateParams:
        return EstimateParams(self.about_tolerance, self.min_load_factor, self.low_tiers)
