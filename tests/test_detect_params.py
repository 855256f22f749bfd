"""Parameters: GFW defaults, units in names, hashing for incremental runs."""

from __future__ import annotations

import dataclasses

import pytest

from corridor.detect.params import DetectParams, GapParams, PortVisitParams, SegmentParams


def test_defaults_are_the_published_gfw_values():
    p = DetectParams()
    assert (p.port_visit.entry_distance_m, p.port_visit.exit_distance_m) == (3000.0, 4000.0)
    assert (p.port_visit.stop_begin_speed_knots, p.port_visit.stop_end_speed_knots) == (0.2, 0.5)
    assert p.port_visit.min_port_gap_hours == 4.0
    assert (p.gap.min_gap_hours, p.gap.disabling_min_gap_hours) == (6.0, 12.0)
    assert p.gap.disabling_min_shore_distance_nm == 50.0
    assert (p.loitering.max_speed_knots, p.loitering.min_duration_hours) == (2.0, 4.0)
    assert p.loitering.min_shore_distance_nm == 20.0
    assert p.segment.max_speed_knots == 50.0


def test_parameters_are_frozen_and_carry_units():
    with pytest.raises(dataclasses.FrozenInstanceError):
        GapParams().min_gap_hours = 1.0  # type: ignore[misc]
    units = ("_m", "_km", "_nm", "_hours", "_minutes", "_knots", "_positions", "_before",
             "_segments", "confidence", "fields", "_value", "_evidence", "_fraction",
             "_exponent")
    for sub in (SegmentParams, PortVisitParams, GapParams):
        for f in dataclasses.fields(sub):
            assert f.name.endswith(units), f.name


def test_hash_changes_with_any_per_vessel_parameter_but_not_encounters():
    base = DetectParams()
    assert base.hash() == DetectParams().hash()
    assert base.hash() != DetectParams(segment=SegmentParams(max_speed_knots=30)).hash()
    d = base.to_dict()
    assert d["gap"]["min_gap_hours"] == 6.0 and "encounter" in d
    if base.encounter is not None:
        other = dataclasses.replace(base, encounter=dataclasses.replace(base.encounter))
        assert other.hash() == base.hash()
