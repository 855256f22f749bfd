"""The Python API: ``corridor.open(path)`` gives a :class:`Workspace`.

A workspace is a store plus the verbs of the CLI as methods, each a thin call into the
module that does the work (imported when first used, so ``import corridor`` stays light).
Queries return Arrow tables (``.to_pandas()``, ``polars.from_arrow``); with the ``geo`` extra,
:meth:`Workspace.to_geodataframe` and :meth:`Workspace.to_trajectories` give geopandas and
movingpandas objects and :meth:`Workspace.export` writes GIS files (see ``docs/gis.md``).
Long work takes a ``progress`` callback (see :mod:`corridor.progress`).

>>> import corridor, tempfile, os
>>> with tempfile.TemporaryDirectory() as d, corridor.open(os.path.join(d, "w.duckdb")) as ws:
...     summary = ws.ingest_positions([ws.sample_path()])
...     (summary[0].stored["positions"], ws.vessels().num_rows)
(972, 4)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from corridor.progress import Progress
from corridor.store import Store

PathLike = str | os.PathLike[str]


class Workspace:
    """One corridor database and the operations on it."""

    def __init__(self, store: Store):
        self.store = store

    # ------------------------------------------------------------------ setup
    def init(self) -> dict[str, int]:
        """Load the shipped world port gazetteer into ``places`` (idempotent)."""
        from corridor.places import init_store

        return init_store(self.store)

    def load_case(self, case: PathLike, *, force: bool = False) -> Any:
        """Load a shipped case (e.g. ``"dprk-russia-2023"``) or a case folder into the store."""
        from corridor.corridors.case import load_case

        return load_case(self.store, case, force=force)

    def add_places(self, path: PathLike) -> Any:
        """Add user places from CSV or GeoJSON."""
        from corridor.places import add_places

        return add_places(self.store, path)

    # ----------------------------------------------------------------- ingest
    def ingest_nmea(self, paths: Iterable[PathLike], *, assume_time: datetime | None = None,
                    source: str | None = None, force: bool = False) -> list:
        """Ingest raw AIS NMEA logs through pyais; one summary per file."""
        from corridor.ingest.nmea import NmeaOptions, ingest_nmea

        options = NmeaOptions(assume_time=assume_time, source=source)
        return ingest_nmea(self.store, [Path(p) for p in paths], options, force=force)

    def ingest_positions(self, paths: Iterable[PathLike], *, mapping: dict[str, str] | None = None,
                         time_format: str | None = None, source: str | None = None,
                         force: bool = False) -> list:
        """Ingest decoded position tables (CSV, Parquet, GeoPackage, GeoJSON); one summary per file."""
        from corridor.ingest.summary import ingest_file
        from corridor.ingest.tables import table_parser

        parser = table_parser(mapping, time_format, source)
        return [ingest_file(self.store, Path(p), "positions", parser, force=force) for p in paths]

    def ingest_sightings(self, path: PathLike, *, force: bool = False) -> Any:
        """Ingest an analyst's sightings CSV."""
        from corridor.ingest.observations import ingest_sightings

        return ingest_sightings(self.store, path, force=force)

    def ingest_rail(self, path: PathLike, *, force: bool = False) -> Any:
        """Ingest rail-car observations (CSV)."""
        from corridor.ingest.observations import ingest_rail

        return ingest_rail(self.store, path, force=force)

    def ingest_watchlist(self, path: PathLike, *, force: bool = False) -> Any:
        """Ingest a watchlist: OpenSanctions / FollowTheMoney JSON lines or CSV."""
        from corridor.ingest.watchlist import ingest_watchlist

        return ingest_watchlist(self.store, path, force=force)

    def ingest_report(self, path: PathLike, *, title: str | None = None, publisher: str | None = None,
                      published: date | None = None, url: str | None = None) -> Any:
        """Store a report text (text, Markdown, HTML) and the claims extracted from it."""
        from corridor.ingest.reports import ingest_report

        return ingest_report(self.store, path, title=title, publisher=publisher,
                             published=published, url=url)

    # ------------------------------------------------------------- detection
    def detect(self, params: Any = None, vessels: list[int] | None = None,
               since: datetime | None = None, until: datetime | None = None,
               progress: Progress | None = None, *, full: bool = False) -> Any:
        """Detect events (incremental: only vessels with new positions are recomputed)."""
        from corridor.engines.local import run_detect

        return run_detect(self.store, params, vessels, since, until, progress, full=full)

    def events(self, types: list[str] | None = None, vessels: list[int] | None = None,
               since: datetime | None = None, until: datetime | None = None) -> pa.Table:
        """Stored events, filtered by type, vessel and time."""
        from corridor.engines.local import query_events

        return query_events(self.store, types, vessels, since, until)

    # ------------------------------------------------------------------ looks
    def stats(self) -> pa.Table:
        from corridor.inspect import stats

        return stats(self.store)

    def vessels(self, limit: int | None = None) -> pa.Table:
        """One row per MMSI with its latest identity, MID flag, first/last seen, positions."""
        from corridor.inspect import vessels

        return vessels(self.store, limit)

    def track(self, mmsi: int, since: datetime | None = None, until: datetime | None = None) -> pa.Table:
        """One vessel's positions in time order."""
        from corridor.inspect import track

        return track(self.store, mmsi, since, until)

    def claims(self, report_id: str | None = None) -> pa.Table:
        """Claims in text order, optionally of one report."""
        from corridor.claims.store import list_claims

        return list_claims(self.store, report_id)

    def add_claims(self, path: PathLike) -> Any:
        """Add or correct claims from a YAML/CSV file (a known claim_id is corrected)."""
        from corridor.claims.store import add_claims

        return add_claims(self.store, path)

    # ---------------------------------------------------- corridors and report
    def reconstruct(self, corridor: PathLike) -> Any:
        """Shipments, estimates and claim verdicts for a corridor (id or YAML path)."""
        from corridor.corridors.reconstruct import reconstruct

        return reconstruct(self.store, corridor)

    def report(self, corridor: str, out: PathLike, fmt: str | None = None,
               progress: Progress | None = None) -> Path:
        """Write the evidence report (html, pdf, png or geojson) for a corridor."""
        from corridor.report.build import write_report

        return write_report(self.store, corridor, out, fmt, progress=progress)

    @staticmethod
    def sample_path() -> Path:
        """The bundled real AIS sample (see ``data/samples/SOURCE.md``)."""
        from corridor.samples import sample_path

        return sample_path()

    # -------------------------------------------------------------------- GIS
    def to_geodataframe(self, what: str | pa.Table = "positions", *,
                        vessels: list[int] | None = None, since: datetime | None = None,
                        until: datetime | None = None) -> Any:
        """A geopandas GeoDataFrame in WGS84 (EPSG:4326) of ``positions`` (points),
        ``tracks`` (a line per track segment), ``events`` (gaps as OFF→ON lines, others as
        points) or ``shipments`` (origin→destination lines); or of any Arrow table with
        ``lon``/``lat`` columns (e.g. :meth:`track`). Integer columns with nulls stay integers
        (pandas ``Int64``), so an ``other_mmsi`` is never a float."""
        import geopandas as gpd
        import shapely

        from corridor import export

        if isinstance(what, pa.Table):
            import numpy as np

            x = np.asarray(what["lon"].to_numpy(zero_copy_only=False), dtype=float)
            y = np.asarray(what["lat"].to_numpy(zero_copy_only=False), dtype=float)
            geoms = shapely.points(x, y)
            geoms[np.isnan(x) | np.isnan(y)] = None  # no position: no geometry, row kept
            return gpd.GeoDataFrame(export.to_pandas(what), geometry=geoms, crs=export.CRS)
        f = export.ExportFilter(mmsi=tuple(vessels) if vessels else None, since=since,
                                until=until)
        if what == "events":
            return export.events_layer(self.store, f)
        (layer,) = export.layers(self.store, what, f).values()
        return layer

    def to_trajectories(self, vessels: list[int] | None = None, since: datetime | None = None,
                        until: datetime | None = None, *, max_gap_hours: float = 6.0) -> Any:
        """Positions as a movingpandas ``TrajectoryCollection``: one trajectory per track
        segment (the same segments as :meth:`to_geodataframe` ``("tracks")``), ``traj_id``
        ``"<mmsi>-<n>"``, ``obj_id`` the MMSI, times in UTC (naive, as stored)."""
        import warnings

        from corridor import export

        with warnings.catch_warnings():  # movingpandas names optional smoothers it lacks
            warnings.filterwarnings("ignore", message="Missing optional dependencies")
            import movingpandas as mpd

        gdf = self.to_geodataframe("positions", vessels=vessels, since=since, until=until)
        params = export.ExportParams(max_gap_hours=max_gap_hours)
        cols = {"mmsi": gdf["mmsi"].to_numpy(dtype="int64"), "ts": pa.array(gdf["ts"])}
        if "segment_id" in gdf:  # the detector's own segments, when the store keeps them
            cols["segment_id"] = pa.array(gdf["segment_id"].astype(object), pa.string())
        ids = export.track_ids(pa.table(cols), params)
        gdf["traj_id"] = [f"{m}-{i}" for m, i in zip(gdf["mmsi"], ids, strict=True)]
        return mpd.TrajectoryCollection(gdf, traj_id_col="traj_id", obj_id_col="mmsi", t="ts")

    def export(self, what: str, path: PathLike, *, vessels: list[int] | None = None,
               since: datetime | None = None, until: datetime | None = None) -> Any:
        """Write ``events``, ``positions``, ``tracks`` or ``shipments`` to a GIS file whose
        extension names the format (.parquet, .gpkg, .fgb, .kml, .gpx, .geojson)."""
        from corridor import export

        f = export.ExportFilter(mmsi=tuple(vessels) if vessels else None, since=since,
                                until=until)
        return export.export_file(self.store, what, path, f)

    # ------------------------------------------------------------------ misc
    def query(self, sql: str, params: list | None = None) -> pa.Table:
        """Run SQL against the store; returns Arrow."""
        return self.store.query(sql, params)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open(path: PathLike | None = None) -> Workspace:  # noqa: A001 - the documented API name
    """Open (or create) the workspace database at ``path`` (default ``./corridor.duckdb``)."""
    return Workspace(Store.open(path))
