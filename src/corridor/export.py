"""GIS files from the store: GeoParquet, GeoPackage, FlatGeobuf, KML, GPX and GeoJSON.

``corridor export events|positions|tracks|shipments --to FILE`` (and
:meth:`corridor.Workspace.export`) write what QGIS, Google Earth, geopandas or a GPS app
open, in WGS84 (EPSG:4326), the format chosen by the file's extension:

=====================  =========================================================
``.parquet``           GeoParquet (WKB ``geometry``, ``geo`` metadata), one table
``.gpkg``              GeoPackage, one layer per kind of feature
``.fgb``               FlatGeobuf, one layer
``.kml``               KML for Google Earth: a folder per layer, ``TimeSpan`` per feature
``.gpx``               GPX: points as waypoints, lines as tracks
``.geojson``/``.json`` GeoJSON (RFC 7946), coordinates rounded to 6 decimals (~0.1 m)
=====================  =========================================================

What is drawn (evidence kept: every feature carries the ids it stands on):

- ``positions``: one point per position (``obs_id``, ``mmsi``, ``ts``...).
- ``tracks``: one line per track segment: per position ``segment_id`` when the store has one,
  else each vessel's positions split where two are more than ``max_gap_hours`` apart; with
  the first and last ``obs_id``, times and the count of positions.
- ``events``: a gap is the line from its OFF position to its ON position; an encounter is
  the meeting point with both vessels (``mmsi``, ``other_mmsi``); other events are their
  point. GeoPackage and KML get a layer per event type.
- ``shipments``: the line from the origin place to the destination place (a point when only
  one end is known), with the tier, cargo range and evidence.

Writers are geopandas / pyogrio (GDAL): GeoParquet by geopandas, GeoPackage, FlatGeobuf,
GeoJSON (through Arrow: 2-3× faster than feature by feature, measured) and KML (GDAL's LIBKML
driver, whose ``begin``/``end`` fields become ``TimeSpan``); GPX with ElementTree (see
:func:`write_gpx`). A file is written beside its target and renamed into place, so a
failed export leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corridor.store import Store

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

#: What can be exported.
WHAT = ("events", "positions", "tracks", "shipments")
#: File formats by extension.
FORMATS = {".parquet": "geoparquet", ".geoparquet": "geoparquet", ".gpkg": "gpkg",
           ".fgb": "flatgeobuf", ".kml": "kml", ".gpx": "gpx", ".geojson": "geojson",
           ".json": "geojson"}
CRS = "EPSG:4326"
#: GeoJSON coordinate decimals: 1e-6 degree is ~0.11 m, below any AIS position's accuracy
GEOJSON_DECIMALS = 6
#: The column GeoParquet files (export and archive) keep their geometry in.
GEOMETRY = "geometry"
#: GeoParquet version of the ``geo`` metadata written by :func:`geoparquet_metadata`.
GEOPARQUET_VERSION = "1.1.0"


class ExportError(ValueError):
    """An export that cannot be written (unknown format, nothing to export...)."""


@dataclass(frozen=True)
class ExportParams:
    """How features are drawn."""

    #: tracks without a stored ``segment_id`` are split where two consecutive positions of
    #: a vessel are more than this apart (the gap detector's default threshold)
    max_gap_hours: float = 6.0


@dataclass(frozen=True)
class ExportFilter:
    """Which rows: vessels (MMSI), and a UTC time window ``[since, until)``."""

    mmsi: tuple[int, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: the file, its format and the features per layer."""

    what: str
    path: Path
    fmt: str
    layers: dict[str, int] = field(default_factory=dict)

    @property
    def features(self) -> int:
        return sum(self.layers.values())

    def line(self) -> str:
        per = ", ".join(f"{n:,} {k}" for k, n in self.layers.items())
        return f"wrote {self.path} ({self.fmt}): {per or 'no features'}"


def file_format(path: str | os.PathLike[str]) -> str:
    """The export format of ``path`` from its extension; :class:`ExportError` if unknown."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(f"{path}: unknown extension {suffix or '(none)'!r}; use one of "
                          f"{', '.join(sorted(FORMATS))}")
    return FORMATS[suffix]


# --------------------------------------------------------------------------- pandas
_NULLABLE_INT = {pa.int8(): "Int8", pa.int16(): "Int16", pa.int32(): "Int32",
                 pa.int64(): "Int64", pa.uint8(): "UInt8", pa.uint16(): "UInt16",
                 pa.uint32(): "UInt32", pa.uint64(): "UInt64"}


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """``table`` as pandas with integer columns kept integers when they hold nulls
    (``Int64`` instead of float NaN: an ``other_mmsi`` stays an MMSI)."""
    import pandas as pd

    mapping = {t: pd.api.types.pandas_dtype(name) for t, name in _NULLABLE_INT.items()}
    return table.to_pandas(types_mapper=mapping.get)


def _frame(table: pa.Table, geometry: Any) -> gpd.GeoDataFrame:
    import geopandas as gpd

    return gpd.GeoDataFrame(to_pandas(table), geometry=geometry, crs=CRS)


# --------------------------------------------------------------------------- queries
def _where(f: ExportFilter, time_col: str, end_col: str | None = None,
           mmsi_col: str = "mmsi") -> tuple[str, list]:
    conds, params = [], []
    if f.mmsi:
        conds.append(f"{mmsi_col} IN ({', '.join('?' * len(f.mmsi))})")
        params += [int(m) for m in f.mmsi]
    if f.since is not None:
        conds.append(f"coalesce({end_col or time_col}, {time_col}) >= ?")
        params.append(f.since)
    if f.until is not None:
        conds.append(f"{time_col} < ?")
        params.append(f.until)
    return ("WHERE " + " AND ".join(conds)) if conds else "", params


def _positions(store: Store, f: ExportFilter) -> pa.Table:
    cols = [c for c in store.columns("positions") if c != "ingest_id"]
    where, params = _where(f, "ts")
    # with a stored per-position segment id, each segment's positions are contiguous
    seg = "segment_id, " if "segment_id" in cols else ""
    return store.query(f"SELECT {', '.join(cols)} FROM positions {where} "
                       f"ORDER BY mmsi, {seg}ts, obs_id", params)


# --------------------------------------------------------------------------- layers
def positions_layer(store: Store, f: ExportFilter = ExportFilter()) -> gpd.GeoDataFrame:
    """One point per position."""
    import shapely

    t = _positions(store, f)
    return _frame(t, shapely.points(t["lon"].to_numpy(), t["lat"].to_numpy()))


def track_ids(table: pa.Table, params: ExportParams = ExportParams()) -> np.ndarray:
    """A track id (0, 1, ...) per row of positions sorted by ``mmsi, ts`` (``mmsi,
    segment_id, ts`` when the table has a ``segment_id``): a new track at each new vessel and
    each new ``segment_id``, or, without segment ids, at each time step longer than
    ``params.max_gap_hours``.

    >>> t = pa.table({"mmsi": [1, 1, 1, 2], "ts": pa.array([0, 3600, 30 * 3600, 0],
    ...               pa.int64()).cast(pa.timestamp("s"))})
    >>> track_ids(t).tolist()
    [0, 0, 1, 2]
    """
    n = table.num_rows
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    mmsi = table["mmsi"].to_numpy()
    new = np.ones(n, dtype=bool)
    new[1:] = mmsi[1:] != mmsi[:-1]
    if "segment_id" in table.column_names:  # the detector's own segmentation, when stored
        seg = np.asarray(table["segment_id"].to_pylist(), dtype=object)
        new[1:] |= seg[1:] != seg[:-1]
    else:
        us = pc.cast(pc.cast(table["ts"], pa.timestamp("us")), pa.int64()).to_numpy()
        new[1:] |= np.diff(us) > params.max_gap_hours * 3600e6
    return np.cumsum(new) - 1


def tracks_layer(store: Store, f: ExportFilter = ExportFilter(),
                 params: ExportParams = ExportParams()) -> gpd.GeoDataFrame:
    """One line per track segment (a segment of one position is a zero-length line)."""
    import shapely

    t = _positions(store, f)
    ids = track_ids(t, params)
    if t.num_rows == 0:
        import geopandas as gpd

        return gpd.GeoDataFrame({"mmsi": [], "track": [], "geometry": []}, geometry="geometry",
                                crs=CRS)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)] - 1
    coords = np.column_stack([t["lon"].to_numpy(), t["lat"].to_numpy()])
    single = starts == ends  # a line needs two vertices: repeat a lone position
    if single.any():
        extra = np.repeat(np.arange(len(ids)), np.where(np.isin(np.arange(len(ids)),
                                                                starts[single]), 2, 1))
        coords, line_of = coords[extra], ids[extra]
    else:
        line_of = ids
    lines = shapely.linestrings(coords, indices=line_of)
    obs, ts = t["obs_id"].to_numpy(), t["ts"]
    us = pc.cast(pc.cast(ts, pa.timestamp("us")), pa.int64()).to_numpy()
    vertex_us = us[extra] if single.any() else us
    seg = (t["segment_id"].take(pa.array(starts)) if "segment_id" in t.column_names
           else pa.nulls(len(starts), pa.string()))
    out = pa.table({
        "track": pa.array(np.arange(len(starts)), pa.int64()),
        "mmsi": t["mmsi"].take(pa.array(starts)),
        "segment_id": seg,
        "start_ts": ts.take(pa.array(starts)),
        "end_ts": ts.take(pa.array(ends)),
        "positions": pa.array(ends - starts + 1, pa.int64()),
        "first_obs_id": pa.array(obs[starts], pa.int64()),
        "last_obs_id": pa.array(obs[ends], pa.int64()),
    })
    gdf = _frame(out, lines)
    # each vertex's time (µs since the epoch), for formats that keep one per point (GPX)
    cut = np.flatnonzero(np.r_[True, line_of[1:] != line_of[:-1]])[1:]
    gdf.attrs[VERTEX_TIMES] = np.split(vertex_us, cut)
    return gdf


#: ``GeoDataFrame.attrs`` key of a line layer's per-vertex times (a list of int64 arrays of
#: microseconds since the epoch, one per row)
VERTEX_TIMES = "corridor_vertex_times_us"


#: layer name of each event type (GeoPackage, KML)
EVENT_LAYERS = {"gap": "gaps", "encounter": "encounters", "port_visit": "port_visits",
                "loitering": "loitering", "voyage": "voyages",
                "identity_change": "identity_changes", "position_conflict": "position_conflicts"}


def events_layer(store: Store, f: ExportFilter = ExportFilter(),
                 types: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """One feature per event: gaps as OFF→ON lines, the rest as points; ``attrs`` as JSON
    text and ``evidence`` (obs_ids) kept."""
    import shapely.geometry

    where, params = _where(f, "start_ts", "end_ts")
    if types:
        where += (" AND " if where else "WHERE ") + f"type IN ({', '.join('?' * len(types))})"
        params += list(types)
    t = store.query("SELECT event_id, type, mmsi, other_mmsi, segment_id, start_ts, end_ts, "
                    "lat, lon, place_id, from_place_id, to_place_id, "
                    f"CAST(attrs AS VARCHAR) AS attrs, evidence FROM events {where} "
                    "ORDER BY start_ts, event_id", params)
    geoms = [None if g is None else shapely.geometry.shape(json.loads(g))
             for g in with_event_geometry(t)["geometry"].to_pylist()]
    return _frame(t, geoms)


def event_geometry(typ: str | None, lat: float | None, lon: float | None,
                   attrs: dict | None) -> dict | None:
    """An event's GeoJSON geometry: a gap is the line from its OFF to its ON position, an
    event with a position is that point, others have none.

    >>> event_geometry("gap", 1.0, 2.0, {"off_lon": 2.0, "off_lat": 1.0, "on_lon": 3.0,
    ...                                  "on_lat": 1.5})["type"]
    'LineString'
    """
    a = attrs or {}
    if typ == "gap" and all(a.get(k) is not None for k in ("off_lon", "off_lat", "on_lon",
                                                           "on_lat")):
        return {"type": "LineString", "coordinates": [[a["off_lon"], a["off_lat"]],
                                                      [a["on_lon"], a["on_lat"]]]}
    if lat is not None and lon is not None:
        return {"type": "Point", "coordinates": [lon, lat]}
    return None


def with_event_geometry(events: pa.Table) -> pa.Table:
    """``events`` plus a ``geometry`` column of GeoJSON text (:func:`event_geometry`), which
    :func:`corridor.output.to_geojson` draws instead of the ``lat``/``lon`` point."""
    attrs = events["attrs"].to_pylist() if "attrs" in events.column_names else \
        [None] * events.num_rows
    geoms = []
    for typ, lat, lon, a in zip(events["type"].to_pylist(), events["lat"].to_pylist(),
                                events["lon"].to_pylist(), attrs, strict=True):
        if isinstance(a, str):
            try:
                a = json.loads(a)
            except ValueError:
                a = None
        g = event_geometry(typ, lat, lon, a if isinstance(a, dict) else None)
        geoms.append(None if g is None else json.dumps(g))
    return events.append_column("geometry", pa.array(geoms, pa.string()))


def shipments_layer(store: Store, f: ExportFilter = ExportFilter()) -> gpd.GeoDataFrame:
    """One feature per shipment: origin→destination line (a point if one end is known)."""
    import shapely

    where, params = _where(f, "coalesce(depart_earliest, depart_latest, arrive_earliest, "
                              "arrive_latest)", mmsi_col="s.mmsi")
    t = store.query(
        "SELECT s.shipment_id, s.corridor_id, s.mode, s.vessel_id, s.mmsi, s.from_place_id, "
        "s.to_place_id, s.depart_earliest, s.depart_latest, s.arrive_earliest, s.arrive_latest, "
        "s.tier, s.evidence, s.cargo_low, s.cargo_high, s.cargo_unit, s.cargo_basis, "
        "CAST(s.attrs AS VARCHAR) AS attrs, a.lon AS from_lon, a.lat AS from_lat, "
        "b.lon AS to_lon, b.lat AS to_lat FROM shipments s "
        "LEFT JOIN places a ON a.place_id = s.from_place_id "
        f"LEFT JOIN places b ON b.place_id = s.to_place_id {where} ORDER BY s.shipment_id",
        params)
    geoms = []
    for r in t.select(["from_lon", "from_lat", "to_lon", "to_lat"]).to_pylist():
        ends = [(r[f"{e}_lon"], r[f"{e}_lat"]) for e in ("from", "to")
                if r[f"{e}_lon"] is not None]
        geoms.append(shapely.LineString(ends) if len(ends) == 2 else
                     shapely.Point(ends[0]) if ends else None)
    t = t.drop_columns(["from_lon", "from_lat", "to_lon", "to_lat"])
    return _frame(t, geoms)


def layers(store: Store, what: str, f: ExportFilter = ExportFilter(),
           params: ExportParams = ExportParams()) -> dict[str, gpd.GeoDataFrame]:
    """The GeoDataFrames of an export, by layer name (events: one layer per event type)."""
    if what == "positions":
        return {"positions": positions_layer(store, f)}
    if what == "tracks":
        return {"tracks": tracks_layer(store, f, params)}
    if what == "shipments":
        return {"shipments": shipments_layer(store, f)}
    if what == "events":
        ev = events_layer(store, f)
        out = {}
        for typ in sorted(set(ev["type"])):
            out[EVENT_LAYERS.get(typ, typ)] = ev[ev["type"] == typ].reset_index(drop=True)
        return out or {"events": ev}
    raise ExportError(f"cannot export {what!r}: one of {', '.join(WHAT)}")


# --------------------------------------------------------------------------- writers
def _ogr_ready(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns OGR formats can hold: lists (evidence ids) and dicts as JSON text."""
    out = gdf.copy()
    for c in out.columns:
        if c == out.geometry.name or out[c].dtype != object:
            continue
        if out[c].map(lambda v: isinstance(v, (list, tuple, np.ndarray, dict))).any():
            out[c] = out[c].map(lambda v: None if v is None else json.dumps(
                v.tolist() if isinstance(v, np.ndarray) else v, default=str))
    return out


def _one_table(named: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import pandas as pd

    frames = [g.assign(layer=name) for name, g in named.items()]
    if len(frames) == 1:
        return frames[0]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=CRS)


_KML_RESERVED = ("heading", "tilt", "roll", "altitudeMode", "tessellate", "extrude",
                 "visibility", "drawOrder", "icon", "snippet", "timestamp", "begin", "end",
                 "name", "description")


def _kml_ready(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """LIBKML's fields: ``name`` (the placemark's label), ``description``, ``begin``/``end``
    (its ``TimeSpan`` in Google Earth's time slider); the other columns go to ExtendedData."""
    # LIBKML reads fields of these names as view and style settings (a position's
    # ``heading`` would become a camera): they keep their values under another name
    out = _ogr_ready(gdf).rename(columns={c: f"ais_{c}" for c in _KML_RESERVED
                                          if c in gdf.columns})
    if "ts" in out.columns:  # a position: one instant
        out["begin"] = out["ts"]
        out["end"] = out["ts"]
    elif "start_ts" in out.columns:
        out["begin"] = out["start_ts"]
        out["end"] = out["end_ts"].fillna(out["start_ts"]) if "end_ts" in out else out["start_ts"]
    elif "depart_earliest" in out.columns:
        out["begin"] = out["depart_earliest"].fillna(out["depart_latest"])
        out["end"] = out["arrive_latest"].fillna(out["arrive_earliest"])
    for c in ("begin", "end"):  # the store keeps naive UTC; KML wants the zone written
        if c in out:
            out[c] = out[c].dt.tz_localize("UTC")
    key = next((c for c in ("event_id", "shipment_id", "obs_id", "track") if c in out), None)
    label = out[key].astype(str) if key else ""
    if "mmsi" in out:
        label = out["mmsi"].astype("string").fillna("") + " " + label
    out["name"] = label
    return out


GPX_NS = "http://www.topografix.com/GPX/1/1"


def _gpx_time(value: Any) -> str | None:
    import pandas as pd

    if value is None or (np.isscalar(value) and pd.isna(value)) or value is pd.NaT:
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_gpx(named: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    """GPX 1.1: points as waypoints (``wpt``: name, time, the row as JSON in ``desc``), lines
    as tracks (``trk`` with one ``trkseg``), in the order the schema wants (waypoints first).

    Written with ElementTree: GDAL's GPX driver writes one layer per file (it cannot open a
    GPX file to add the tracks after the waypoints), and an export of events has both; it
    also has no way to give each track point its time, which tracks here have (``<time>``
    of every ``trkpt``, from :data:`VERTEX_TIMES`).
    """
    import xml.etree.ElementTree as ET

    import pandas as pd

    ET.register_namespace("", GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "corridor"})
    wpts, trks = [], []
    for layer, gdf in named.items():
        ready = _ogr_ready(gdf)
        key = next((c for c in ("event_id", "shipment_id", "obs_id", "track") if c in ready),
                   None)
        time_col = next((c for c in ("ts", "start_ts", "depart_earliest") if c in ready), None)
        vertex_times = gdf.attrs.get(VERTEX_TIMES) or [None] * len(gdf)
        for row, geom, times in zip(ready.drop(columns="geometry").to_dict("records"),
                                    ready.geometry, vertex_times, strict=True):
            if geom is None or geom.is_empty:
                continue
            name = " ".join(str(row[c]) for c in ("mmsi", key) if c and row.get(c) is not None
                            and not pd.isna(row[c]))
            desc = json.dumps({k: v for k, v in row.items()
                               if not (np.isscalar(v) and pd.isna(v))} | {"layer": layer},
                              default=str)
            when = _gpx_time(row.get(time_col)) if time_col else None
            if geom.geom_type == "Point":
                wpts.append((geom, name, desc, when))
            else:
                trks.append((geom, name, desc, times))
    for geom, name, desc, when in wpts:
        w = ET.SubElement(root, f"{{{GPX_NS}}}wpt", {"lat": f"{geom.y:.7f}", "lon": f"{geom.x:.7f}"})
        if when:
            ET.SubElement(w, f"{{{GPX_NS}}}time").text = when
        ET.SubElement(w, f"{{{GPX_NS}}}name").text = name
        ET.SubElement(w, f"{{{GPX_NS}}}desc").text = desc
    for geom, name, desc, times in trks:
        t = ET.SubElement(root, f"{{{GPX_NS}}}trk")
        ET.SubElement(t, f"{{{GPX_NS}}}name").text = name
        ET.SubElement(t, f"{{{GPX_NS}}}desc").text = desc
        seg = ET.SubElement(t, f"{{{GPX_NS}}}trkseg")
        coords = list(geom.coords)
        stamps = (np.asarray(times, "datetime64[us]").astype("datetime64[s]").astype(str)
                  if times is not None and len(times) == len(coords) else None)
        for i, (x, y) in enumerate(coords):
            pt = ET.SubElement(seg, f"{{{GPX_NS}}}trkpt", {"lat": f"{y:.7f}", "lon": f"{x:.7f}"})
            if stamps is not None:
                ET.SubElement(pt, f"{{{GPX_NS}}}time").text = stamps[i] + "Z"
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)


def write_layers(named: dict[str, gpd.GeoDataFrame], path: str | os.PathLike[str],
                 what: str = "events") -> ExportSummary:
    """Write GeoDataFrames to ``path`` in the format of its extension (see the module)."""
    import pyogrio

    path = Path(path)
    fmt = file_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}{path.suffix}")
    counts = {name: len(g) for name, g in named.items()}
    try:
        if fmt == "geoparquet":
            _one_table(named).to_parquet(tmp, index=False, schema_version="1.1.0")
        elif fmt == "gpkg":
            for name, g in named.items():
                pyogrio.write_dataframe(_ogr_ready(g), tmp, layer=name, driver="GPKG",
                                        use_arrow=True)
        elif fmt == "flatgeobuf":
            g = _ogr_ready(_one_table(named))
            # FlatGeobuf's spatial index cannot hold a feature without geometry
            index = "NO" if g.geometry.isna().any() else "YES"
            pyogrio.write_dataframe(g, tmp, layer=what, driver="FlatGeobuf",
                                    geometry_type="Unknown", promote_to_multi=False,
                                    SPATIAL_INDEX=index, use_arrow=True)
        elif fmt == "geojson":
            g = _ogr_ready(_one_table(named))
            pyogrio.write_dataframe(g, tmp, driver="GeoJSON", RFC7946="YES",
                                    COORDINATE_PRECISION=GEOJSON_DECIMALS, WRITE_NAME="NO",
                                    use_arrow=True)
        elif fmt == "kml":
            for name, g in named.items():
                pyogrio.write_dataframe(_kml_ready(g), tmp, layer=name, driver="LIBKML",
                                        append=tmp.exists())
        elif fmt == "gpx":
            write_gpx(named, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            if tmp.is_dir():
                import shutil

                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink()
    return ExportSummary(what, path, fmt, counts)


def export_file(store: Store, what: str, path: str | os.PathLike[str],
                f: ExportFilter = ExportFilter(),
                params: ExportParams = ExportParams()) -> ExportSummary:
    """Write ``what`` (events, positions, tracks, shipments) to a GIS file; the format comes
    from the extension (:data:`FORMATS`)."""
    file_format(path)  # refuse an unknown extension before any query
    if what not in WHAT:
        raise ExportError(f"cannot export {what!r}: one of {', '.join(WHAT)}")
    return write_layers(layers(store, what, f, params), path, what)


# --------------------------------------------------------------------------- GeoParquet
def point_wkb(lon: np.ndarray, lat: np.ndarray) -> pa.Array:
    """Little-endian WKB points from coordinate arrays (null where either is NaN).

    Built with numpy (21 bytes a point) rather than one shapely object per row: the archive
    writes it for every position.

    >>> import shapely
    >>> shapely.from_wkb(point_wkb(np.array([130.3]), np.array([42.2]))[0].as_py()).wkt
    'POINT (130.3 42.2)'
    """
    lon = np.asarray(lon, dtype="<f8")
    lat = np.asarray(lat, dtype="<f8")
    n = len(lon)
    buf = np.empty((n, 21), dtype=np.uint8)
    buf[:, 0] = 1  # little endian
    buf[:, 1:5] = np.frombuffer(np.uint32(1).astype("<u4").tobytes(), dtype=np.uint8)  # Point
    buf[:, 5:13] = lon.view(np.uint8).reshape(n, 8)
    buf[:, 13:21] = lat.view(np.uint8).reshape(n, 8)
    valid = ~(np.isnan(lon) | np.isnan(lat))
    offsets = pa.array(np.arange(0, 21 * n + 1, 21, dtype=np.int32))
    arr = pa.BinaryArray.from_buffers(pa.binary(), n, [None, offsets.buffers()[1],
                                                       pa.py_buffer(buf.tobytes())])
    if not valid.all():
        arr = pc.if_else(pa.array(valid), arr, pa.scalar(None, pa.binary()))
    return arr


def geoparquet_metadata(lon: np.ndarray, lat: np.ndarray) -> dict[bytes, bytes]:
    """The ``geo`` key of a GeoParquet 1.1 file whose ``geometry`` column holds WKB points
    in OGC:CRS84 (longitude, latitude; the spec's default CRS, so none is written)."""
    ok = ~(np.isnan(lon) | np.isnan(lat))
    bbox = ([float(lon[ok].min()), float(lat[ok].min()), float(lon[ok].max()),
             float(lat[ok].max())] if ok.any() else [])
    column: dict[str, Any] = {"encoding": "WKB", "geometry_types": ["Point"]}
    if bbox:
        column["bbox"] = bbox
    geo = {"version": GEOPARQUET_VERSION, "primary_column": GEOMETRY,
           "columns": {GEOMETRY: column}}
    return {b"geo": json.dumps(geo).encode()}


def with_point_geometry(table: pa.Table, lon: str = "lon", lat: str = "lat") -> pa.Table:
    """``table`` plus a WKB ``geometry`` point column and GeoParquet ``geo`` metadata (the
    ``lon``/``lat`` columns stay: the canonical schema is unchanged)."""
    x = pc.fill_null(pc.cast(table[lon], pa.float64()), np.nan).to_numpy()
    y = pc.fill_null(pc.cast(table[lat], pa.float64()), np.nan).to_numpy()
    out = table.append_column(GEOMETRY, point_wkb(x, y))
    meta = dict(table.schema.metadata or {})
    meta.update(geoparquet_metadata(x, y))
    return out.replace_schema_metadata(meta)
