"""NMEA ingest: every real capture stores exactly what pyais decodes, nothing lost or doubled."""

from __future__ import annotations

import gzip
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pyais import decode, encode_dict
from typer.testing import CliRunner

from corridor.cli import app
from corridor.ingest.nmea import NmeaOptions, ingest_nmea_file, parse_nmea
from corridor.ingest.summary import IngestSummary
from corridor.store import Store

ASSUMED = datetime(2020, 1, 1, 12, 0, 0)
#: Files whose lines carry no receive time (SOURCES.md); sample.aivdm has only a few.
UNTIMED = {
    "ais250.txt", "decode_encode_messages.txt", "mixed_types.nmea", "multi-part.nmea",
    "ais-18-27.log", "ais-nmea-type6-fid55.log", "ais-raw-messages.log", "sample.aivdm",
    "nmea_data_sample.txt",
}
NMEA_DIR = Path(__file__).resolve().parent / "data" / "ais-nmea"
NMEA_FILES = sorted(p.relative_to(NMEA_DIR).as_posix() for p in NMEA_DIR.glob("*/*"))


def test_every_real_capture_is_in_the_repository():
    """The oracle below runs once per capture: an empty list would run nothing."""
    assert len(NMEA_FILES) == 15, NMEA_FILES


def _ingest(store, path, **kw):
    return ingest_nmea_file(store, Path(path), NmeaOptions(**kw))


# --------------------------------------------------------------------------------------------
def _stored_fields(msg) -> tuple:
    """What vessel_reports keeps of a static message (0 and "" mean not available)."""
    def nz(v):
        return None if v in (0, None, "") else v

    dims = [getattr(msg, k, None) for k in ("to_bow", "to_stern", "to_port", "to_starboard")]
    length = dims[0] + dims[1] if dims[0] is not None else None
    beam = dims[2] + dims[3] if dims[2] is not None else None
    part_a = msg.msg_type == 24 and msg.partno == 0
    return (
        nz(getattr(msg, "imo", None)), nz(getattr(msg, "shipname", None)),
        None if part_a else nz(getattr(msg, "callsign", None)),
        None if part_a else nz(getattr(msg, "ship_type", None)),
        None if part_a else nz(length), None if part_a else nz(beam),
        nz(getattr(msg, "draught", None)), nz(getattr(msg, "destination", None)),
    )


# An independent count, written plainly: frame lines, assemble fragments, decode with pyais.
def _reference_counts(path: Path, assume: datetime | None) -> tuple[int, int]:
    """(positions, static reports) that the documented rules say should be stored."""
    assume_s = assume.timestamp() - datetime(1970, 1, 1).timestamp() if assume else None
    pending: dict = {}
    messages = []  # (receive seconds or None, decoded message, payload)
    gatehouse = None
    data = path.read_bytes().replace(b"\\r\\n", b"\n")
    for raw in data.splitlines():
        line = raw.strip()
        if not line or line.startswith(b"#"):
            continue
        ts = None
        group = None
        if line.startswith(b"\\"):
            tag, line = line[1:].split(b"\\", 1)
            c = re.search(rb"c:(\d+)", tag)
            if c:
                ts = int(c.group(1))
            g = re.search(rb"g:\d+-\d+-(\d+)", tag)
            group = g.group(1) if g else None
        if line.startswith(b"$PGHP"):
            f = [int(x) for x in line.split(b",")[2:9]]
            gatehouse = (datetime(*f[:6]).timestamp() - datetime(1970, 1, 1).timestamp()
                         + f[6] / 1000)
            continue
        if not line.startswith(b"!"):
            continue
        star = line.index(b"*")
        sentence, trailer = line[: star + 3], line[star + 3:]
        epoch = re.search(rb",(\d{10})(?:,|$)", trailer)
        if ts is None and epoch:
            ts = int(epoch.group(1))
        if ts is None:
            ts = gatehouse if gatehouse is not None else assume_s
        gatehouse = None
        f = sentence.split(b",")
        count, number = int(f[1]), int(f[2])
        if count == 1:
            parts = [(sentence, ts)]
        else:
            key = group or (f[0][3:], f[3], f[4])
            if number == 1:
                pending[key] = [(sentence, ts)]
                continue
            if key not in pending or len(pending[key]) != number - 1:
                continue
            pending[key].append((sentence, ts))
            if number < count:
                continue
            parts = pending.pop(key)
        try:
            msg = decode(*[p[0] for p in parts], error_if_checksum_invalid=True)
        except Exception:
            continue
        messages.append((parts[0][1], msg, _stored_fields(msg)))

    positions = set()
    statics = set()
    waiting: dict = {}  # type 24 part waiting for its partner, per MMSI
    for ts, msg, payload in messages:
        t = msg.msg_type
        if not 100_000_000 <= msg.mmsi <= 999_999_999:
            continue  # not a vessel's MMSI (corridor.ingest.mmsi): skipped as invalid_mmsi
        if t in (1, 2, 3, 18, 19, 27) and ts is not None:
            if msg.lat is not None and msg.lon is not None and -90 <= msg.lat <= 90 \
                    and -180 <= msg.lon <= 180:
                second = getattr(msg, "second", 60)
                minute = ts // 60 * 60
                if second < 60:
                    # the latest instant with that second at most 5 s after the receive time
                    sent = max(t for t in (minute + second - 60, minute + second, minute + second + 60)
                               if t <= ts + 5)
                else:
                    sent = ts
                positions.add((msg.mmsi, t, round(msg.lat, 6), round(msg.lon, 6), sent))
        bucket = None if ts is None else ts // 60
        if t in (5, 19):
            statics.add((msg.mmsi, t, bucket, payload))
        if t == 24:
            other = waiting.pop(msg.mmsi, None)
            if other and other[1] != msg.partno and (
                (other[0] is None and ts is None)
                or (other[0] is not None and ts is not None and abs(other[0] - ts) <= 600)
            ):
                a, b = (other[2], payload) if other[1] == 0 else (payload, other[2])
                times = [x for x in (other[0], ts) if x is not None]
                statics.add((msg.mmsi, 24, min(times) // 60 if times else None, a, b))
                continue
            if other:
                statics.add((msg.mmsi, 24, other[3], other[2], other[1]))
            waiting[msg.mmsi] = (ts, msg.partno, payload, bucket)
    for mmsi, (_ts, part, payload, bucket) in waiting.items():
        statics.add((mmsi, 24, bucket, payload, part))
    return len(positions), len(statics)


@pytest.mark.parametrize("name", NMEA_FILES)
def test_every_capture_stores_what_pyais_decodes(store, data_dir, name):
    path = data_dir / "ais-nmea" / name
    assume = ASSUMED if path.name in UNTIMED else None
    result = _ingest(store, path, assume_time=assume)
    assert result.status == "done", result.lines()
    positions, statics = _reference_counts(path, assume)
    assert store.count("positions") == positions
    assert store.count("vessel_reports") == statics
    assert positions + statics > 0


# --------------------------------------------------------------------------------------------
def _gpsd_expectations(path: Path) -> list[tuple[list[bytes], dict[str, str]]]:
    """(sentences, {field: value}) blocks of gpsd's sample.aivdm."""
    blocks: list[tuple[list[bytes], dict[str, str]]] = []
    for raw in path.read_bytes().splitlines():
        if raw.startswith(b"!"):
            if not blocks or blocks[-1][1]:
                blocks.append(([], {}))
            blocks[-1][0].append(raw)
        elif raw.startswith(b"#") and blocks and b":" in raw:
            key, _, value = raw[1:].decode("utf-8", "replace").partition(":")
            blocks[-1][1].setdefault(key.strip(), value.strip())
    return blocks


def _field(fields: dict[str, str], *names: str) -> str | None:
    for n in names:
        if n in fields:
            return fields[n]
    return None


def test_gpsd_sample_positions_have_the_documented_values(store, data_dir):
    path = data_dir / "ais-nmea" / "gpsd" / "sample.aivdm"
    _ingest(store, path, assume_time=ASSUMED)
    rows = store.query("SELECT * FROM positions").to_pylist()
    checked = 0
    for _sentences, fields in _gpsd_expectations(path):
        mtype = _field(fields, "MessageID", "Message Type")
        if mtype not in {"1", "2", "3", "18", "19"}:
            continue
        mmsi = int(_field(fields, "UserID", "MMSI"))
        lat = float(_field(fields, "latitude", "Latitude"))
        lon = float(_field(fields, "longitude", "Longitude"))
        match = [r for r in rows if r["mmsi"] == mmsi and abs(r["lat"] - lat) < 1e-5]
        assert len(match) == 1, (mmsi, fields)
        r = match[0]
        assert r["msg_type"] == int(mtype)
        assert r["lon"] == pytest.approx(lon, abs=1e-5)
        raw_units = "Speed Over Ground" in fields  # this block lists tenths of a knot/degree
        sog = float(_field(fields, "SOG", "Speed Over Ground")) / (10 if raw_units else 1)
        cog = float(_field(fields, "COG", "Course Over Ground")) / (10 if raw_units else 1)
        assert r["sog"] == pytest.approx(sog, abs=1e-4)
        assert r["cog"] == pytest.approx(cog, abs=1e-4)
        heading = int(_field(fields, "TrueHeading", "True Heading"))
        assert r["heading"] == (None if heading == 511 else heading)
        status = _field(fields, "NavigationStatus")
        assert r["nav_status"] == (int(status) if status is not None else None)
        checked += 1
    assert checked == 8


def test_gpsd_sample_static_reports_have_the_documented_values(store, data_dir):
    path = data_dir / "ais-nmea" / "gpsd" / "sample.aivdm"
    _ingest(store, path, assume_time=ASSUMED)
    rows = store.query("SELECT * FROM vessel_reports").to_pylist()
    blocks = _gpsd_expectations(path)
    checked = 0
    for i, (_sentences, fields) in enumerate(blocks):
        mtype = _field(fields, "MessageID")
        if mtype not in {"5", "19", "24"} or "dimA" not in fields:
            continue
        mmsi = int(fields["UserID"])
        name = fields.get("name") or blocks[i - 1][1].get("name")  # 24: name is in part A
        match = [r for r in rows if r["mmsi"] == mmsi and r["name"] == name]
        assert len(match) == 1, (mmsi, name)
        r = match[0]
        assert r["callsign"] == (fields["callsign"].strip() if "callsign" in fields else None)
        assert r["ship_type"] == int(fields["shipandcargo"].rstrip("|"))
        assert r["length_m"] == int(fields["dimA"]) + int(fields["dimB"])
        assert r["beam_m"] == int(fields["dimC"]) + int(fields["dimD"])
        if mtype == "5":
            assert r["imo"] == int(fields["IMOnumber"])
            assert r["draught_m"] == pytest.approx(float(fields["draught"]))
            assert r["destination"] == fields["destination"].strip()
        checked += 1
    assert checked == 3


# --------------------------------------------------------------------------------------------
def test_reingest_adds_nothing_and_says_so(store, data_dir):
    path = data_dir / "ais-nmea" / "dma-aislib" / "replay_dump.txt"
    first = _ingest(store, path)
    n = store.count("positions")
    second = _ingest(store, path)
    assert second.status == "skipped_duplicate"
    assert "already ingested" in second.lines()[0]
    forced = ingest_nmea_file(store, path, NmeaOptions(), force=True)
    assert sum(forced.stored.values()) == 0 and forced.duplicates == first.stored["positions"] + 2
    assert store.count("positions") == n


def _fix_time(received: datetime, second: int) -> datetime:
    """The documented rule: the latest instant with the report's second ≤ receive + 5 s."""
    t = received.replace(second=second, microsecond=0)
    return t if t <= received + timedelta(seconds=5) else t - timedelta(minutes=1)


def test_receive_times_from_pghp_tagblock_trailer_and_leading_iso(store, data_dir, tmp_path):
    nmea = data_dir / "ais-nmea"
    _ingest(store, nmea / "dma-aislib" / "replay_dump.txt", source="pghp")
    _ingest(store, nmea / "libais" / "tagblock.nmea", source="tag")
    _ingest(store, nmea / "libais" / "test.aivdm", source="uscg")
    iso = tmp_path / "iso.nmea"
    long_range = {"type": 27, "mmsi": 273000002, "lat": 42.5, "lon": 130.5, "speed": 5}
    iso.write_text("2023-09-07T12:00:05.250Z " + _line(long_range) + "\n"
                   + "1694088010;" + _line(dict(long_range, lat=42.6)) + "\n")
    _ingest(store, iso, source="iso")

    def times(source, mmsi):
        return store.query(
            "SELECT ts FROM positions WHERE source = ? AND mmsi = ? ORDER BY ts", [source, mmsi]
        ).column("ts").to_pylist()

    # $PGHP,1,2013,3,18,9,19,9,499,... precedes the first sentence
    first = decode(b"!BSVDM,1,1,,B,14VliT002O0q2DBP:dAu7JRD0<0s,0*28")
    assert times("pghp", first.mmsi)[0] == _fix_time(datetime(2013, 3, 18, 9, 19, 9, 499000),
                                                     first.second)
    tag = decode(b"!AIVDM,1,1,,B,13F?Vv700<DJuLEtvep`iToV0<00,0*78")  # c:1418172113
    assert _fix_time(datetime(2014, 12, 10, 0, 41, 53), tag.second) in times("tag", tag.mmsi)
    uscg = decode(b"!AIVDM,1,1,,A,15B4FT5000JRP>PE6E68Nbkl0PS5,0*70")  # ...,b003669794,1272412827
    assert times("uscg", uscg.mmsi)[0] == _fix_time(datetime(2010, 4, 28, 0, 0, 27), uscg.second)
    # Type 27 has no second of its own: the receive time is stored as written.
    assert times("iso", 273000002) == [datetime(2023, 9, 7, 12, 0, 5, 250000),
                                       datetime(2023, 9, 7, 12, 0, 10)]
    # Static reports keep the receive time: the 2-part type 5 grouped by g:1-2-1604 / g:2-2-1604
    static = store.query("SELECT ts, name FROM vessel_reports WHERE source = 'tag'").to_pylist()
    assert len(static) == 1 and static[0]["ts"] == datetime(2014, 12, 10, 0, 0, 1)


def test_untimed_positions_are_counted_not_stored_statics_kept(store, data_dir):
    path = data_dir / "ais-nmea" / "gpsd" / "ais-raw-messages.log"
    result = _ingest(store, path)
    assert store.count("positions") == 0
    assert result.skipped["missing_time"] > 80
    assert store.count("vessel_reports") > 0
    assert store.query("SELECT count(*) AS n FROM vessel_reports WHERE ts IS NULL").column(0)[0].as_py() \
        == store.count("vessel_reports")


def _line(fields: dict, station: str | None = None, c: int | None = None) -> str:
    sentence = encode_dict(fields, talker_id="AI")[0]
    if c is None:
        return sentence
    from pyais.messages import TagBlock

    tag = TagBlock.create_str(source_station=station, receiver_timestamp=c)
    return f"\\{tag}\\{sentence}"


def test_same_message_from_two_stations_is_stored_once(store, tmp_path):
    report = {"type": 1, "mmsi": 273000001, "lat": 42.5, "lon": 130.5, "speed": 8.1,
              "course": 91.0, "heading": 90, "second": 4, "status": 0}
    t = 1_694_088_004  # 2023-09-07 12:00:04, the report's own second is 4
    a = tmp_path / "a.nmea"
    a.write_text(_line(report, "stationA", t + 1) + "\n" + _line(report, "stationB", t + 3) + "\n")
    b = tmp_path / "b.nmea"
    b.write_text(_line(report, "stationC", t + 2) + "\n")
    first = _ingest(store, a)
    assert first.stored == {"positions": 1} and first.duplicates == 1
    second = _ingest(store, b)
    assert second.stored.get("positions", 0) == 0 and second.duplicates == 1
    ts = store.query("SELECT ts FROM positions").column("ts")[0].as_py()
    assert ts == datetime(2023, 9, 7, 12, 0, 4)  # the report's own second, not a receive time
    # Same vessel, same place, but a new transmission a minute later: a new row.
    c = tmp_path / "c.nmea"
    c.write_text(_line(report, "stationA", t + 61) + "\n")
    assert _ingest(store, c).stored == {"positions": 1}


def test_sentinels_become_null_and_no_position_is_not_a_position(store, tmp_path):
    lines = [
        _line({"type": 1, "mmsi": 273000001, "lat": 91, "lon": 181, "second": 60}),
        _line({"type": 1, "mmsi": 273000001, "lat": 42.5, "lon": 130.5, "speed": 102.3,
               "course": 360, "heading": 511, "second": 12, "status": 1}),
        _line({"type": 27, "mmsi": 273000002, "lat": 42.5, "lon": 130.5, "speed": 63,
               "course": 511, "status": 1}),
        _line({"type": 27, "mmsi": 273000002, "lat": 91, "lon": 181, "speed": 5, "course": 10}),
    ]
    f = tmp_path / "sentinels.nmea"
    f.write_text("\n".join(lines) + "\n")
    result = _ingest(store, f, assume_time=ASSUMED)
    assert result.skipped == {"invalid_position": 2}
    rows = store.query("SELECT * FROM positions ORDER BY mmsi").to_pylist()
    assert [(r["sog"], r["cog"], r["heading"]) for r in rows] == [(None, None, None)] * 2
    assert [(r["lat"], r["lon"], r["nav_status"]) for r in rows] == [(42.5, 130.5, 1)] * 2


def test_future_receive_time_is_reported(store, tmp_path):
    f = tmp_path / "future.nmea"
    f.write_text(_line({"type": 1, "mmsi": 273000001, "lat": 42.5, "lon": 130.5}, "s", 4_102_444_800)
                 + "\n")
    result = _ingest(store, f)
    assert result.skipped == {"future_timestamp": 1} and store.count("positions") == 0


def test_interleaved_multipart_and_orphans(store, data_dir, tmp_path):
    # gpsd's channel multiplexing case: two type-5 messages whose parts interleave on A and B,
    # then a part 2 whose part 1 never came, then a part 1 whose part 2 never comes.
    text = (data_dir / "ais-nmea" / "gpsd" / "sample.aivdm").read_text()
    mux = [ln for ln in text.splitlines() if ln.startswith("!AIVDM,2,") and ",542M92h" in ln
           or ln in ("!AIVDM,2,2,2,A,0000002,2*24", "!AIVDM,2,2,6,B,00000000000,2*21")]
    assert len(mux) == 4
    lines = mux + [
        "!AIVDM,2,2,9,A,88888888880,2*2D",
        "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
    ]
    f = tmp_path / "mux.nmea"
    f.write_text("\n".join(lines) + "\n")
    result = _ingest(store, f, assume_time=ASSUMED)
    assert store.count("vessel_reports") == 1  # both parts decode to the same report
    assert result.duplicates == 1
    assert result.skipped == {"orphan_fragment": 2}
    assert sorted(result.examples["orphan_fragment"]) == [5, 6]


def test_fragments_too_far_apart_are_orphans_not_joined(store, tmp_path):
    part1 = "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C"
    part2 = "!AIVDM,2,2,1,A,88888888880,2*25"
    filler = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"
    f = tmp_path / "gap.nmea"
    f.write_text("\n".join([part1] + [filler] * 1500 + [part2, part1, part2]) + "\n")
    result = _ingest(store, f, assume_time=ASSUMED)
    assert result.skipped == {"orphan_fragment": 2}
    assert result.examples["orphan_fragment"] == [1, 1502]
    assert store.count("vessel_reports") == 1  # the pair at the end, adjacent, is joined


def test_type24_parts_merge_when_close_in_time(store, tmp_path):
    a = {"type": 24, "mmsi": 273000003, "partno": 0, "shipname": "TEST A"}
    b = {"type": 24, "mmsi": 273000003, "partno": 1, "callsign": "UBCD", "ship_type": 70,
         "to_bow": 50, "to_stern": 20, "to_port": 5, "to_starboard": 6}
    t = 1_694_088_000
    near = tmp_path / "near.nmea"
    near.write_text(_line(a, "s", t) + "\n" + _line(b, "s", t + 30) + "\n")
    _ingest(store, near)
    rows = store.query("SELECT * FROM vessel_reports").to_pylist()
    assert len(rows) == 1
    assert (rows[0]["name"], rows[0]["callsign"], rows[0]["ship_type"], rows[0]["length_m"],
            rows[0]["beam_m"]) == ("TEST A", "UBCD", 70, 70, 11)
    far = tmp_path / "far.nmea"
    far.write_text(_line(a, "s", t + 7200) + "\n" + _line(b, "s", t + 9000) + "\n")
    _ingest(store, far)
    later = store.query("SELECT name, callsign FROM vessel_reports WHERE ts > ?",
                        [datetime(2023, 9, 7, 13)]).to_pylist()
    assert sorted(later, key=str) == sorted([{"name": "TEST A", "callsign": None},
                                             {"name": None, "callsign": "UBCD"}], key=str)


# --------------------------------------------------------------------------------------------
def test_garbage_mid_file_is_counted_and_the_rest_stored(store, data_dir, tmp_path):
    clean = (data_dir / "ais-nmea" / "gpsd" / "ais-raw-messages.log").read_bytes()
    lines = clean.splitlines(keepends=True)
    dirty = tmp_path / "dirty.log"
    dirty.write_bytes(b"".join(lines[:40]) + bytes(range(256)) + b"\n\x00\xff\xfe garbage\n"
                      + b"".join(lines[40:]))
    result = _ingest(store, dirty, assume_time=ASSUMED)
    assert result.status == "done" and result.skipped["malformed"] >= 2
    assert min(result.examples["malformed"]) == 41
    with Store.open(tmp_path / "clean.duckdb") as other:
        _ingest(other, data_dir / "ais-nmea" / "gpsd" / "ais-raw-messages.log", assume_time=ASSUMED)
        assert store.count("positions") == other.count("positions") > 0


def test_a_text_file_that_is_not_nmea_fails_with_a_clear_message(store, tmp_path):
    f = tmp_path / "positions.csv"
    f.write_text("MMSI,BaseDateTime,LAT,LON\n273000001,2023-09-07T00:00:00,42.5,130.5\n")
    result = _ingest(store, f)
    assert result.status == "failed" and "no NMEA sentences" in result.message
    assert result.lines() == [f"{f}: error: {result.message}"]


def test_gzip_is_read_and_a_truncated_gzip_fails_cleanly(store, data_dir, tmp_path):
    src = data_dir / "ais-nmea" / "dma-aislib" / "stream_example.txt"
    gz = tmp_path / "stream.txt.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    truncated = tmp_path / "cut.txt.gz"
    truncated.write_bytes(gz.read_bytes()[: len(gz.read_bytes()) // 2])
    bad = _ingest(store, truncated)
    assert bad.status == "failed" and "truncated" in bad.message
    assert store.count("positions") == 0 and store.count("vessel_reports") == 0
    good = _ingest(store, gz)
    assert good.status == "done"
    assert store.count("positions") == _reference_counts(src, None)[0]


def test_parallel_chunks_give_the_same_rows_as_one_pass(tmp_path, data_dir):
    # Real data cut into chunks of 97 lines: fragments straddle chunk boundaries.
    src = tmp_path / "both.nmea"
    src.write_bytes((data_dir / "ais-nmea" / "aisdb" / "test_data_20211101.nm4").read_bytes()
                    + (data_dir / "ais-nmea" / "dma-aislib" / "stream_example.txt").read_bytes())
    runs = []
    for workers, chunk in ((1, 50_000), (2, 97)):
        summary = IngestSummary(path=str(src), kind="nmea")
        opts = NmeaOptions(workers=workers, chunk_lines=chunk, parallel_min_bytes=0)
        ids: dict[str, list[int]] = {}
        for table, batch in parse_nmea(src, summary, opts):
            ids.setdefault(table, []).extend(batch.column("obs_id").to_pylist())
        runs.append(({t: sorted(set(v)) for t, v in ids.items()}, summary.skipped))
    assert runs[0] == runs[1]
    assert len(runs[0][0]["positions"]) > 3800 and len(runs[0][0]["vessel_reports"]) > 500


# --------------------------------------------------------------------------------------------
def test_cli_ingest_files_globs_stdin_strict_and_bad_files(db_file, data_dir, tmp_path):
    runner = CliRunner()
    nmea = data_dir / "ais-nmea"
    junk = tmp_path / "junk.nmea"
    junk.write_bytes(bytes(range(256)) * 64)
    res = runner.invoke(app, ["--db", str(db_file), "ingest", "nmea", str(junk),
                              str(nmea / "libais" / "*.nmea")])
    assert res.exit_code == 1  # the binary file failed, the others went in
    assert f"{junk}: error: binary data" in res.output
    assert "tagblock.nmea: stored 3 positions, 1 vessel_reports" in res.output
    again = runner.invoke(app, ["--db", str(db_file), "ingest", "nmea",
                                str(nmea / "libais" / "tagblock.nmea")])
    assert again.exit_code == 0 and "already ingested" in again.output

    stdin = (nmea / "gpsd" / "ais-raw-messages.log").read_bytes()
    res = runner.invoke(app, ["--db", str(db_file), "ingest", "nmea", "-", "--assume-time",
                              "2023-04-08T12:00:00Z"], input=stdin)
    assert res.exit_code == 0 and "stored 91 positions" in res.output
    with Store.open(db_file) as s:
        sources = s.query("SELECT DISTINCT source FROM positions ORDER BY 1").column(0).to_pylist()
    assert sources == ["stdin", "tagblock.nmea", "typeexamples.nmea"]

    strict = runner.invoke(app, ["--db", str(db_file), "ingest", "nmea", "--strict",
                                 "--assume-time", "2020-01-01",
                                 str(nmea / "pyais" / "nmea_data_sample.txt")])
    assert strict.exit_code == 1 and "--strict" in strict.output
    lenient = runner.invoke(app, ["--db", str(db_file), "ingest", "nmea", "--assume-time",
                                  "2020-01-01", str(nmea / "pyais" / "nmea_data_sample.txt")])
    assert lenient.exit_code == 3 and "orphan_fragment" in lenient.output
