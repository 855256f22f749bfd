"""Property-based tests (Hypothesis) of the table-layout detector and row normalisation."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.ingest.mmsi import valid_mmsi
from corridor.ingest.summary import ingest_file
from corridor.ingest.tables import REQUIRED, SYNONYMS, check_time_format, detect_layout, table_parser
from corridor.store import Store

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])
NAMES = sorted({n for names in SYNONYMS.values() for n in names} | {"MMSI", "BaseDateTime", "LAT", "LON",
                                                                   "# Timestamp", "Latitude", "Longitude",
                                                                   "Message_ID", "Time"})
header_cells = st.one_of(st.sampled_from(NAMES), st.text(max_size=12))


@FAST
@given(st.lists(header_cells, max_size=12))
def test_layout_is_found_or_refused_with_a_sentence(header):
    try:
        layout = detect_layout(header)
    except ValueError as exc:
        assert "--map" in str(exc) or "cannot tell" in str(exc)
        return
    assert set(REQUIRED) <= set(layout.columns)
    assert set(layout.columns.values()) <= set(header)  # it only names columns that exist


@FAST
@given(st.dictionaries(st.sampled_from(["ts", "mmsi", "lat", "lon", "sog", "name"]), st.text(max_size=8),
                       max_size=6), st.lists(st.text(max_size=8), max_size=8))
def test_mapping_names_only_existing_columns(mapping, header):
    try:
        layout = detect_layout(header, mapping)
    except ValueError:
        return
    assert layout.name == "mapped" and set(layout.columns.values()) <= set(header)


@FAST
@given(st.text(max_size=40))
def test_time_format_is_accepted_only_without_quotes_or_controls(fmt):
    try:
        check_time_format(fmt)
    except ValueError:
        return
    assert "'" not in fmt and fmt.isprintable() and "%" in fmt


_cell = st.one_of(st.text(max_size=12), st.integers(-10**12, 10**12).map(str),
                  st.floats(allow_nan=True, allow_infinity=True).map(repr),
                  st.sampled_from(["", "NaN", "inf", "-0", "3.67e8", "0x15DEF5C0", "273000001",
                                   "2023-01-11T00:00:00+05:00", "1970-01-01", "91", "181", '"', "\r"]))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_cell, _cell, _cell, _cell), min_size=1, max_size=8))
def test_rows_stored_are_valid_rows(tmp_path_factory, rows):
    d = tmp_path_factory.mktemp("fz")
    f = d / "rows.csv"
    body = "\n".join(",".join('"' + c.replace('"', '""') + '"' for c in r) for r in rows)
    f.write_text("MMSI,BaseDateTime,LAT,LON\n" + body + "\n", encoding="utf-8", errors="surrogatepass")
    with Store.open(d / "s.duckdb") as store:
        result = ingest_file(store, f, "positions", table_parser())
        stored = store.con.execute("SELECT mmsi, lat, lon FROM positions").fetchall()
    assert result.status == "done", result.message
    assert len(stored) + result.total_skipped + result.duplicates == len(rows)
    for mmsi, lat, lon in stored:
        assert valid_mmsi(mmsi) and -90 <= lat <= 90 and -180 <= lon <= 180
        assert any(r[0].strip() and int(float(r[0])) == mmsi for r in rows if valid_mmsi(r[0]))
