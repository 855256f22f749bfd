"""Detector parameters: frozen dataclasses, units in every name.

Defaults follow Global Fishing Watch's published pipelines where one exists, so that
corridor's events can be compared with GFW's and cited with the same definitions:

- segmentation: gpsdio-segment's idea (a position joins the open segment it is
  plausibly reachable from); speed ceiling 50 kn (DESIGN.md) with gpsdio-segment's
  hours-based allowance (penalty 4 h, exponent 0.5) below 6 h of silence; type-27
  positions within 1 h of another message type are noise;
- port visits: pipe-anchorages ``anchorage_cfg.yaml`` (3 km entry, 4 km exit, stop below
  0.2 kn, stop end above 0.5 kn, in-port gap 4 h, visits split when consecutive events
  are more than 60 nm apart);
- gaps: pipe-gaps production threshold 6 h (a gap is *longer than* the threshold, as
  pipe-gaps' tests require); AIS disabling after Welch et al. 2022 (>= 12 h, OFF
  position > 50 nm from shore, >= 14 positions in the 12 h before);
- loitering: pipe-loitering's hourly implied speed < 2 kn, RFMO transshipment rule
  >= 4 h and >= 20 nm from shore;
- encounters: pipe-encounters (owned by :mod:`corridor.detect.encounters`).

Every event stores the parameters of its detector in ``attrs["params"]`` and its id
depends on them, so changing a threshold gives new ids rather than silently different
rows under old ids. :func:`load_params` reads any of them from a TOML or YAML file and
:func:`gfw_params` is GFW's published set (``corridor detect --params/--preset``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SegmentParams:
    """Track cleaning and segmentation.

    A position joins the most plausible open segment: the one whose last position it
    could reach at ``max_speed_knots`` (plus ``position_noise_m`` for GPS noise and
    equal timestamps). Otherwise it opens a new segment. Segments with fewer than
    ``min_segment_positions`` positions beside a longer one are noise (marked, excluded
    from detectors). Segments of one ship split by a bad fix are joined again (see
    :func:`corridor.detect.tracks.assign_segments`). pipe-segment's own values are
    ``max_speed_knots=25, max_idle_hours=8`` (:data:`GFW_SEGMENT`).
    """

    max_speed_knots: float = 50.0
    position_noise_m: float = 1000.0
    #: hours-based allowance after GFW's gpsdio-segment: the time between two fixes counts
    #: as ``h / (1 + (h / penalty_hours) ** (1 - hours_exponent))`` hours at ``max_speed_knots``
    #: (None: plain ``max_speed_knots x h``); craft 100-400 km apart are then not reachable
    #: from each other within hours
    penalty_hours: float | None = 4.0
    hours_exponent: float = 0.5
    #: silences at least this long are judged by the plain speed ceiling instead (a ship
    #: that went dark may have sailed straight; None: never). Default: the gap threshold
    linear_after_hours: float | None = 6.0
    max_open_segments: int = 8
    #: a long-range (type 27) position this close in time to a position of another
    #: message type is noise (GFW gpsdio-segment ``min_type_27_hours``)
    min_type27_hours: float = 1.0
    #: a fix plausible for a segment of fewer positions than this (one opened by a bad
    #: fix, say) and for another segment joins the nearer of them, not the most recent
    lookback_positions: int = 3
    min_segment_positions: int = 10
    #: close a segment after this long without positions (None: never; gpsdio-segment
    #: closes idle segments, corridor keeps them open so a ship that goes dark and
    #: reappears where it could have sailed stays one segment and its gap is seen)
    max_idle_hours: float | None = None
    #: two segments are one ship when this share of the steps between them is plausible
    parallel_merge_fraction: float = 0.9
    parallel_merge_distance_m: float = 1000.0
    #: two segments overlapping in time for at least this long are a position_conflict
    min_conflict_overlap_minutes: float = 30.0
    #: conflicts of one MMSI closer than this in time are reported as one event
    conflict_merge_hours: float = 24.0


#: gpsdio/pipe-segment's segmenter settings (25 kn, segments closed after 8 h of silence)
GFW_SEGMENT = SegmentParams(max_speed_knots=25.0, max_idle_hours=8.0, linear_after_hours=None)


@dataclass(frozen=True)
class PortVisitParams:
    """Port events and visits (GFW pipe-anchorages ``anchorage_cfg.yaml``).

    Distances are measured from the place's footprint (its point, beyond ``radius_m``
    if it has one, or its polygon), as :class:`corridor.places.PlaceIndex` reports them.
    """

    entry_distance_m: float = 3000.0
    exit_distance_m: float = 4000.0
    stop_begin_speed_knots: float = 0.2
    stop_end_speed_knots: float = 0.5
    min_port_gap_hours: float = 4.0
    max_interseg_dist_nm: float = 60.0
    #: visits with a lower confidence are not stored (GFW publishes >= 2)
    min_confidence: int = 2
    #: positions inside the port during the visit (1 would keep single-message snapshots)
    min_visit_positions: int = 2
    #: positions kept as evidence per visit (first/last and key points)
    max_evidence: int = 20


@dataclass(frozen=True)
class GapParams:
    """AIS gaps (pipe-gaps) and likely intentional disabling (Welch et al. 2022)."""

    min_gap_hours: float = 6.0
    disabling_min_gap_hours: float = 12.0
    disabling_min_shore_distance_nm: float = 50.0
    #: Welch et al.: >= 14 (satellite) positions in the 12 h before the gap. corridor
    #: does not know the receiver type, so all positions of the segment are counted.
    disabling_min_positions_before: int = 14
    positions_before_window_hours: float = 12.0


@dataclass(frozen=True)
class LoiteringParams:
    """Loitering: slow at sea (pipe-loitering hourly implied speed; RFMO 4 h / 20 nm)."""

    max_speed_knots: float = 2.0
    min_duration_hours: float = 4.0
    min_shore_distance_nm: float = 20.0
    #: hourly samples further apart than this break a loitering run
    max_sample_gap_hours: float = 2.0


@dataclass(frozen=True)
class VoyageParams:
    """Voyages between consecutive port visits of one segment."""

    min_visit_confidence: int = 2


@dataclass(frozen=True)
class IdentityParams:
    """Identity changes from static reports (types 5, 19, 24)."""

    fields: tuple[str, ...] = ("name", "imo", "callsign", "ship_type")
    #: a value must be reported at least this many times to count (filters bit errors)
    min_reports_per_value: int = 1


def _encounter_default() -> Any:
    try:  # owned by the encounters module; absent until it lands
        from corridor.detect.encounters import EncounterParams  # type: ignore[attr-defined]
    except ImportError:
        return None
    return EncounterParams()


@dataclass(frozen=True)
class DetectParams:
    """All detector parameters together (what ``corridor detect`` runs with)."""

    segment: SegmentParams = field(default_factory=SegmentParams)
    port_visit: PortVisitParams = field(default_factory=PortVisitParams)
    gap: GapParams = field(default_factory=GapParams)
    loitering: LoiteringParams = field(default_factory=LoiteringParams)
    voyage: VoyageParams = field(default_factory=VoyageParams)
    identity: IdentityParams = field(default_factory=IdentityParams)
    encounter: Any = field(default_factory=_encounter_default)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every parameter (for attrs and hashing)."""
        return params_dict(self)

    def hash(self) -> str:
        """Short stable hash of every per-vessel parameter (for incremental re-runs).

        >>> DetectParams().hash() == DetectParams().hash()
        True
        >>> DetectParams().hash() == DetectParams(gap=GapParams(min_gap_hours=12)).hash()
        False
        """
        d = self.to_dict()
        d.pop("encounter", None)  # encounters are recomputed by time range, not per vessel
        blob = json.dumps(d, sort_keys=True, default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:16]


    def encounter_hash(self) -> str:
        """Short stable hash of the encounter parameters ("off" without encounters): a change
        makes the next incremental run recompute every encounter.

        >>> DetectParams().encounter_hash() == DetectParams().encounter_hash()
        True
        """
        if self.encounter is None:
            return "off"
        blob = json.dumps(params_dict(self.encounter), sort_keys=True, default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:16]


def params_dict(p: Any) -> dict[str, Any]:
    """A frozen dataclass (possibly nested) as a JSON-friendly dict; ``None`` stays ``None``."""
    if p is None:
        return {}
    d = asdict(p)
    return json.loads(json.dumps(d, default=str))


# ------------------------------------------------------------------ files and presets
class ParamsError(ValueError):
    """A parameters file or mapping that cannot be used (unknown key, wrong type)."""


def _sections() -> dict[str, type]:
    """DetectParams field -> the dataclass of that section."""
    from corridor.detect.encounters import EncounterParams

    return {"segment": SegmentParams, "port_visit": PortVisitParams, "gap": GapParams,
            "loitering": LoiteringParams, "voyage": VoyageParams, "identity": IdentityParams,
            "encounter": EncounterParams}


def _coerce(where: str, value: Any, default: Any) -> Any:
    """``value`` as the type of the field's ``default`` (bool, int, float, None, tuple)."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ParamsError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(default, (int, float)) or default is None:
        if value is None and default is None:
            return None
        if isinstance(value, str) and value.strip().lower() in ("inf", "infinity"):
            value = float("inf")
        if value is None and isinstance(default, float):
            raise ParamsError(f"{where}: a number is required")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamsError(f"{where}: expected a number, got {value!r}")
        if isinstance(default, int) and not isinstance(default, bool):
            if float(value) != int(value):
                raise ParamsError(f"{where}: expected a whole number, got {value!r}")
            return int(value)
        return float(value)
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ParamsError(f"{where}: expected a list of names, got {value!r}")
        return tuple(value)
    return value


def params_from_mapping(data: dict[str, Any], base: DetectParams | None = None,
                        source: str = "parameters") -> DetectParams:
    """``base`` (default :class:`DetectParams`) with the values of ``data`` in force.

    ``data`` has one table per section (``segment``, ``port_visit``, ``gap``,
    ``loitering``, ``voyage``, ``identity``, ``encounter``) holding field names and values;
    ``encounter = false`` turns encounters off. Unknown sections or keys are refused with
    the list of allowed ones; values are checked against the field's type.

    >>> p = params_from_mapping({"gap": {"min_gap_hours": 12}})
    >>> p.gap.min_gap_hours, p.gap.disabling_min_gap_hours
    (12.0, 12.0)
    >>> try:
    ...     params_from_mapping({"gap": {"min_gap": 12}})
    ... except ParamsError as exc:
    ...     print(str(exc)[:64])
    parameters: unknown key gap.min_gap; allowed: disabling_min_gap_
    """
    from dataclasses import fields, replace

    base = base or DetectParams()
    sections = _sections()
    if not isinstance(data, dict):
        raise ParamsError(f"{source}: expected a table of sections, got {type(data).__name__}")
    unknown = sorted(set(data) - set(sections))
    if unknown:
        raise ParamsError(f"{source}: unknown section {', '.join(unknown)}; allowed: "
                          f"{', '.join(sorted(sections))}")
    changes: dict[str, Any] = {}
    for name, values in data.items():
        cls = sections[name]
        if name == "encounter" and values is False:
            changes[name] = None
            continue
        if not isinstance(values, dict):
            raise ParamsError(f"{source}: [{name}] must be a table of parameters")
        allowed = {f.name: f for f in fields(cls)}
        bad = sorted(set(values) - set(allowed))
        if bad:
            raise ParamsError(
                f"{source}: unknown key {', '.join(f'{name}.{k}' for k in bad)}; allowed: "
                f"{', '.join(sorted(allowed))}")
        current = getattr(base, name) or cls()
        new = {k: _coerce(f"{source}: {name}.{k}", v, getattr(current, k))
               for k, v in values.items()}
        try:
            changes[name] = replace(current, **new)
        except (TypeError, ValueError) as exc:
            raise ParamsError(f"{source}: [{name}]: {exc}") from exc
    return replace(base, **changes)


def load_params(path: str | Path, base: DetectParams | None = None) -> DetectParams:
    """Detection parameters from a TOML (``.toml``) or YAML (``.yaml``/``.yml``) file, on
    top of ``base``; see :func:`params_from_mapping` for the layout."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParamsError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            raise ParamsError(f"{path}: use a .toml, .yaml or .yml file")
    except ParamsError:
        raise
    except Exception as exc:  # noqa: BLE001 - tomllib / yaml parse errors name the line
        raise ParamsError(f"{path}: not valid {suffix[1:].upper()}: {exc}") from exc
    return params_from_mapping(data, base, str(path))


def gfw_params() -> DetectParams:
    """Global Fishing Watch's published parameters (research note anchors.md, section 1).

    - segmentation: gpsdio/pipe-segment's 25 kn with its hours-based allowance; but
      segments are NOT closed after 8 h of silence as pipe-segment does
      (:data:`GFW_SEGMENT`): corridor detects gaps within segments while pipe-gaps detects
      them per MMSI, so closing segments would hide every gap longer than 8 h. Silences of
      at least the gap threshold (6 h) are judged by the plain 25 kn ceiling;
    - port visits: pipe-anchorages ``anchorage_cfg.yaml`` (corridor's defaults: 3/4 km,
      0.2/0.5 kn, 4 h in-port gap, 60 nm, confidence >= 2);
    - gaps: pipe-gaps production threshold 6 h; disabling after Welch et al. (12 h, 50 nm,
      14 positions in 12 h) (corridor's defaults);
    - encounters: pipe-encounters and the published product filter: 10-minute grid,
      interpolation across at most 1 h, no speed limit on interpolation, within 500 m for
      at least 2 h, median speed below 2 kn, at least 10 km from a port, raw encounters of
      a pair less than 4 h apart merged, and no run across a stretch where either vessel
      has no grid point;
    - loitering: pipe-loitering hourly implied speed below 2 kn, RFMO 4 h and 20 nm
      (corridor's defaults).
    """
    import math
    from dataclasses import replace

    from corridor.detect.encounters import EncounterParams

    enc = EncounterParams(max_distance_m=500.0, min_duration_hours=2.0,
                          max_median_speed_knots=2.0, min_port_distance_m=10_000.0,
                          merge_gap_hours=4.0, max_unobserved_hours=0.0, step_minutes=10.0,
                          max_gap_hours=1.0, max_interp_speed_knots=math.inf)
    segment = SegmentParams(max_speed_knots=25.0, max_idle_hours=None, linear_after_hours=6.0)
    return replace(DetectParams(), segment=segment, port_visit=PortVisitParams(),
                   gap=GapParams(min_gap_hours=6.0), loitering=LoiteringParams(), encounter=enc)


#: named parameter sets for ``corridor detect --preset``
PRESETS = {"gfw": gfw_params}
