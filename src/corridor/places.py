"""Places: the gazetteer of ports, anchorages and other sites, and the nearest-place index.

A place is a row of the ``places`` table: a point with a geofence ``radius_m``, or a
polygon (GeoJSON). :class:`PlaceIndex` answers "which place is nearest to each of these
millions of positions, and how far is it?" on the sphere:

* distance to a point place = great-circle distance to its point minus its ``radius_m``
  (null radius counts as 0), never below 0;
* distance to a polygon place = 0 inside, else great-circle distance to its boundary.

So a distance is always "metres outside the place's footprint", and thresholds such as
GFW's 3 km entry / 4 km exit apply the same way to points and polygons.

The shipped gazetteer (``data/gazetteer``, built by ``scripts/build_gazetteer.py``) is
loaded by :func:`load_gazetteer`; users add their own places from CSV or GeoJSON with
:func:`add_places`.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from corridor.geo import EARTH_RADIUS_M, haversine_m
from corridor.place_kinds import KINDS, PRECISIONS
from corridor.schema import PLACES
from corridor.shore import SegmentIndex, lonlat_to_xyz
from corridor.store import Store

if TYPE_CHECKING:
    from scipy.spatial import cKDTree


GAZETTEER_FILE = "data/gazetteer/places.parquet"


def slugify(text: str) -> str:
    """Lower-case ASCII slug: letters and digits joined by single hyphens.

    >>> slugify("Pos'yet (Posyet) Bay")
    'posyet-posyet-bay'
    >>> slugify("Île-d'Yeu")
    'ile-dyeu'
    >>> slugify("Ангара"), slugify("Бандар-Аббас")
    ('angara', 'bandar-abbas')
    """
    from corridor.identity import fold_ascii

    t = fold_ascii(text).lower()
    t = re.sub(r"['’`]", "", t)
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-")


# --------------------------------------------------------------------------- index
def _chord(dist_m: float | np.ndarray) -> float | np.ndarray:
    """Chord length on the unit sphere for a great-circle distance in metres."""
    return 2.0 * np.sin(np.minimum(np.asarray(dist_m, dtype=np.float64) / EARTH_RADIUS_M,
                                   np.pi) / 2.0)


def _arc_m(chord: np.ndarray) -> np.ndarray:
    return 2.0 * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0)) * EARTH_RADIUS_M


@dataclass
class PlaceIndex:
    """Vectorised nearest-place search over a set of places (the rows of :attr:`table`).

    Positions returned by :meth:`nearest` index :attr:`table` / :attr:`place_ids`.

    >>> tbl = pa.table({"place_id": ["a", "b"], "name": ["A", "B"], "kind": ["port", "port"],
    ...                 "lat": [0.0, 0.0], "lon": [0.0, 1.0], "radius_m": [None, 1000.0]})
    >>> idx = PlaceIndex.from_arrow(tbl)
    >>> pos, d = idx.nearest(np.array([0.0, 0.0, 50.0]), np.array([0.01, 0.995, 0.0]), 5000.0)
    >>> pos.tolist(), d.round().tolist()
    ([0, 1, -1], [1112.0, 0.0, inf])
    """

    table: pa.Table
    place_ids: np.ndarray
    _points: list[tuple[np.ndarray, np.ndarray, cKDTree, float]] = field(repr=False)
    _polys: np.ndarray = field(repr=False)  # positions of polygon places
    _poly_geoms: np.ndarray = field(repr=False)
    _poly_tree: shapely.STRtree | None = field(repr=False)
    _poly_edges: SegmentIndex | None = field(repr=False)
    _poly_edge_owner: np.ndarray = field(repr=False)
    _lat: np.ndarray = field(repr=False)
    _lon: np.ndarray = field(repr=False)
    _radius: np.ndarray = field(repr=False)
    #: per (point tree, ``max_distance_m``): the coarse raster of :meth:`_raster`
    _rasters: dict[tuple[int, float], _NearRaster] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_store(cls, store: Store, kinds: tuple[str, ...] | list[str] | None = None
                   ) -> PlaceIndex:
        """Index the places of ``store`` (optionally only these kinds), ordered by place_id."""
        sql = "SELECT * FROM places"
        params: list = []
        if kinds:
            sql += " WHERE kind IN (" + ", ".join("?" for _ in kinds) + ")"
            params = list(kinds)
        return cls.from_arrow(store.query(sql + " ORDER BY place_id", params))

    @classmethod
    def from_arrow(cls, tbl: pa.Table) -> PlaceIndex:
        """Index an Arrow table with the ``places`` columns (``place_id``, ``lat``, ``lon``;
        optional ``radius_m`` and GeoJSON ``geometry``)."""
        n = tbl.num_rows
        lat = np.asarray(tbl.column("lat").to_numpy(zero_copy_only=False), dtype=np.float64)
        lon = np.asarray(tbl.column("lon").to_numpy(zero_copy_only=False), dtype=np.float64)
        if "radius_m" in tbl.column_names:
            radius = np.asarray(
                tbl.column("radius_m").to_numpy(zero_copy_only=False), dtype=np.float64)
            radius = np.where(np.isfinite(radius) & (radius > 0), radius, 0.0)
        else:
            radius = np.zeros(n)
        is_poly = np.zeros(n, dtype=bool)
        poly_geoms: list = []
        if "geometry" in tbl.column_names:
            for i, g in enumerate(tbl.column("geometry").to_pylist()):
                if g and '"Point"' not in g:
                    geom = shapely.from_geojson(g)
                    if geom.geom_type in ("Polygon", "MultiPolygon"):
                        is_poly[i] = True
                        poly_geoms.append(geom)
        # Point places, one k-d tree per distinct radius would multiply queries; instead
        # places with radius 0 (the gazetteer) share one tree queried with k=1, and places
        # with a radius share another, searched with a bound that accounts for radii.
        points = []
        for sel in (~is_poly & (radius == 0), ~is_poly & (radius > 0)):
            pos = np.flatnonzero(sel)
            if len(pos) and radius[pos[0]] == 0:
                # Places at identical coordinates: keep the lowest row position, so that
                # ties are resolved deterministically (the tree returns any of equals).
                _, first = np.unique(np.stack([lat[pos], lon[pos]], axis=1), axis=0,
                                     return_index=True)
                pos = pos[np.sort(first)]
            if len(pos):
                xyz = lonlat_to_xyz(lat[pos], lon[pos])
                from scipy.spatial import cKDTree  # here, not at import: scipy.spatial costs 0.4 s

                tree = cKDTree(xyz, leafsize=32, balanced_tree=False, compact_nodes=False)
                points.append((pos, radius[pos], tree, float(radius[pos].max())))
        polys = np.flatnonzero(is_poly)
        geoms = np.array(poly_geoms, dtype=object)
        poly_tree = edges = None
        owner = np.zeros(0, dtype=np.int64)
        if len(polys):
            shapely.prepare(geoms)
            poly_tree = shapely.STRtree(geoms)
            starts, ends, owners = [], [], []
            for j, g in enumerate(geoms):
                for ring in shapely.get_rings(shapely.get_parts(g)):
                    c = shapely.get_coordinates(ring)[:, ::-1]  # -> lat, lon
                    starts.append(c[:-1])
                    ends.append(c[1:])
                    owners.append(np.full(len(c) - 1, j))
            edges = SegmentIndex.from_edges(np.concatenate(starts), np.concatenate(ends),
                                            sample_spacing_m=500.0)
            owner = np.concatenate(owners)
        ids = np.asarray(tbl.column("place_id").to_pylist(), dtype=object)
        return cls(tbl, ids, points, polys, geoms, poly_tree, edges, owner, lat, lon,
                   np.where(is_poly, 0.0, radius))

    def __len__(self) -> int:
        return self.table.num_rows

    def distances_from(self, lat: float, lon: float) -> np.ndarray:
        """Distance in metres from one point to every place's footprint (row order).

        Meant for small questions ("what is near here?"); :meth:`nearest` is the bulk path.
        """
        d = haversine_m(lat, lon, self._lat, self._lon) - self._radius
        d = np.maximum(d, 0.0)
        if len(self._polys):
            inside = shapely.contains_xy(self._poly_geoms, ((lon + 180.0) % 360.0) - 180.0, lat)
            for j, pos in enumerate(self._polys):
                if inside[j]:
                    d[pos] = 0.0
                else:
                    edges = np.flatnonzero(self._poly_edge_owner == j)
                    d[pos] = self._poly_edges.edge_distance_m(lat, lon, edges).min()
        return d

    def nearest(self, lat: np.ndarray, lon: np.ndarray, max_distance_m: float
                ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest place to each point within ``max_distance_m`` metres of its footprint.

        Returns ``(place_pos, distance_m)``: int64 row positions into :attr:`table`
        (-1 where no place is that close) and distances in metres (0 inside a polygon or a
        point's radius; ``inf`` where none). Ties go to the lower row position. Unusable
        positions (NaN, |lat| > 90) get -1 / ``inf``.
        """
        lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0)
        if not ok.all():
            pos = np.full(lat.shape[0], -1, dtype=np.int64)
            dist = np.full(lat.shape[0], np.inf)
            pos[ok], dist[ok] = self.nearest(lat[ok], lon[ok], max_distance_m)
            return pos, dist
        m = lat.shape[0]
        best_d = np.full(m, np.inf)
        best_p = np.full(m, -1, dtype=np.int64)
        if m == 0 or len(self) == 0:
            return best_p, best_d
        for t, (pos, radius, tree, rmax) in enumerate(self._points):
            # positions in a raster cell out of every place's reach are not searched (most
            # of a track at sea); in a cell within reach of one place only (most of a stay
            # in port), that place is the nearest one: its distance is computed here as the
            # k-d tree computes it; the others are searched in the tree
            cand = self._raster(t, max_distance_m).lookup(lat, lon)
            near = np.flatnonzero(cand != _NONE)
            cand = cand[near]
            xyz = lonlat_to_xyz(lat[near], lon[near])
            d = np.full(len(near), np.inf)
            p = np.full(len(near), -1, dtype=np.int64)
            several = np.flatnonzero(cand == _SEVERAL) if rmax == 0.0 else np.arange(len(near))
            if rmax == 0.0:
                one = np.flatnonzero(cand >= 0)
                d[one], p[one] = self._nearest_one(xyz[one], cand[one], pos, tree,
                                                   max_distance_m)
            if len(several):
                d[several], p[several] = self._nearest_points(xyz[several], pos, radius, tree,
                                                              rmax, max_distance_m)
            sub_d, sub_p = best_d[near], best_p[near]
            _merge(sub_d, sub_p, d, p)
            best_d[near], best_p[near] = sub_d, sub_p
        if len(self._polys):
            d, p = self._nearest_polygons(lat, lon, max_distance_m)
            _merge(best_d, best_p, d, p)
        far = best_d > max_distance_m
        best_d[far] = np.inf
        best_p[far] = -1
        return best_p, best_d

    def _raster(self, tree_no: int, max_distance_m: float) -> _NearRaster:
        """The raster of a point tree's places within ``max_distance_m`` (built once)."""
        key = (tree_no, max_distance_m)
        raster = self._rasters.get(key)
        if raster is None:
            if len(self._rasters) > 16:
                self._rasters.clear()
            pos, radius, _, _ = self._points[tree_no]
            raster = self._rasters[key] = _NearRaster.build(
                self._lat[pos], self._lon[pos], radius + max_distance_m)
        return raster

    @staticmethod
    def _nearest_one(xyz, k, pos, tree, max_distance_m):
        """What ``_nearest_points`` gives (radius 0) when the tree's point ``k`` is the only
        one within reach: the chord summed over the axes in the order scipy's k-d tree sums
        them (so the same bits), kept within the same bound."""
        bound = _chord(max_distance_m) * (1 + 1e-12) + 1e-12
        diff = xyz - tree.data[k]
        chord = np.sqrt(diff[:, 0] * diff[:, 0] + diff[:, 1] * diff[:, 1]
                        + diff[:, 2] * diff[:, 2])
        ok = chord <= bound
        out_d = np.full(len(xyz), np.inf)
        out_p = np.full(len(xyz), -1, dtype=np.int64)
        out_d[ok] = _arc_m(chord[ok])
        out_p[ok] = pos[k[ok]]
        return out_d, out_p

    @staticmethod
    def _nearest_points(xyz, pos, radius, tree, rmax, max_distance_m):
        m = len(xyz)
        out_d = np.full(m, np.inf)
        out_p = np.full(m, -1, dtype=np.int64)
        bound = _chord(max_distance_m + rmax) * (1 + 1e-12) + 1e-12
        if rmax == 0.0:
            chord, i = tree.query(xyz, k=1, distance_upper_bound=bound)
            ok = np.isfinite(chord)
            out_d[ok] = _arc_m(chord[ok])
            out_p[ok] = pos[i[ok]]
            return out_d, out_p
        todo = np.arange(m)
        k = 8
        while len(todo):
            kk = min(k, tree.n)
            chord, i = tree.query(xyz[todo], k=kk, distance_upper_bound=bound)
            chord = chord.reshape(len(todo), kk)
            i = i.reshape(len(todo), kk)
            found = np.isfinite(chord)
            centre = np.where(found, _arc_m(np.where(found, chord, 0.0)), np.inf)
            eff = np.where(found, np.maximum(centre - radius[np.where(found, i, 0)], 0.0), np.inf)
            # Lowest effective distance, ties to the lowest row position.
            rowpos = np.where(found, pos[np.where(found, i, 0)], np.iinfo(np.int64).max)
            j = np.argmin(eff, axis=1)
            tied = eff == eff[np.arange(len(todo)), j][:, None]
            j = np.argmin(np.where(tied, rowpos, np.iinfo(np.int64).max), axis=1)
            r = np.arange(len(todo))
            out_d[todo] = eff[r, j]
            out_p[todo] = np.where(np.isfinite(eff[r, j]), rowpos[r, j], -1)
            # A place not among the k has its centre beyond the k-th, so its effective
            # distance is at least (k-th centre distance - largest radius).
            kth = centre[:, -1]
            done = (kk >= tree.n) | ~np.isfinite(kth) | (kth - rmax > out_d[todo])
            todo = todo[~done]
            k *= 4
        return out_d, out_p

    def _nearest_polygons(self, lat, lon, max_distance_m):
        m = len(lat)
        out_d = np.full(m, np.inf)
        out_p = np.full(m, -1, dtype=np.int64)
        x = ((lon + 180.0) % 360.0) - 180.0
        pi, gi = self._poly_tree.query(shapely.points(x, lat))
        inside = shapely.contains_xy(self._poly_geoms[gi], x[pi], lat[pi])
        pi, gi = pi[inside], gi[inside]
        if len(pi):
            # Inside several polygons: the first by row position.
            order = np.lexsort((self._polys[gi], pi))
            pi, gi = pi[order], gi[order]
            first = np.ones(len(pi), dtype=bool)
            first[1:] = pi[1:] != pi[:-1]
            out_d[pi[first]] = 0.0
            out_p[pi[first]] = self._polys[gi[first]]
        rest = np.flatnonzero(out_p < 0)
        if len(rest):
            d, e = self._poly_edges.distance_m(lat[rest], lon[rest])
            near = d <= max_distance_m
            out_d[rest[near]] = d[near]
            out_p[rest[near]] = self._polys[self._poly_edge_owner[e[near]]]
        return out_d, out_p


#: raster cell values: no place within reach, several places within reach (else: the one)
_NONE, _SEVERAL = -1, -2


@dataclass(frozen=True)
class _NearRaster:
    """A lat/lon raster of the places within reach of each cell: a cell holds ``_NONE``
    when no point of it is within the reach (metres, great circle) of any place, the row
    (into the places given) of the only place whose reach may cover it, or ``_SEVERAL``.

    Each place marks the cells its reach's bounding box overlaps, padded by 10 %: the box
    spans the reach in latitude, and in longitude the reach divided by the cosine of the
    box's poleward latitude (the whole circle of longitudes near a pole). Cells are at least
    0.01 degree, coarser when the places are spread over a large area (at most about four
    million cells). Not a library call: a k-d tree answers "nearest"; this only settles,
    in a few array operations per position, the positions far from every place or near
    only one.
    """

    lat0: float
    lon0: float
    cell_deg: float
    n_lat: int
    n_lon: int
    #: the cells row by row (int32), then a sentinel ``_NONE`` for points outside them
    flat: np.ndarray
    wraps: bool  # the columns span all 360 degrees of longitude

    @classmethod
    def build(cls, lat: np.ndarray, lon: np.ndarray, reach_m: np.ndarray) -> _NearRaster:
        theta = np.asarray(reach_m, dtype=np.float64) / (EARTH_RADIUS_M * math.pi / 180.0)
        theta = theta * 1.1 + 1e-3  # degrees of latitude, padded
        lon = ((np.asarray(lon, dtype=np.float64) + 180.0) % 360.0) - 180.0
        lat_lo = np.maximum(lat - theta, -90.0)
        lat_hi = np.minimum(lat + theta, 90.0)
        poleward = np.maximum(np.abs(lat_lo), np.abs(lat_hi))
        polar = (poleward >= 80.0) | (theta > 10.0)
        dlon = np.where(polar, 180.0, theta / np.cos(np.radians(np.minimum(poleward, 80.0))))
        lon_lo, lon_hi = lon - dlon, lon + dlon
        wraps = bool(polar.any() or (lon_lo < -180.0).any() or (lon_hi > 180.0).any())
        y0, y1 = float(lat_lo.min()), float(lat_hi.max())
        x0, x1 = (-180.0, 180.0) if wraps else (float(lon_lo.min()), float(lon_hi.max()))
        cell = max(0.01, math.sqrt((y1 - y0) * (x1 - x0) / 4e6))
        if wraps:  # whole columns around the globe, so that indices wrap exactly
            n_lon = int(math.ceil(360.0 / cell))
            cell = 360.0 / n_lon
        else:
            n_lon = int((x1 - x0) // cell) + 1
        n_lat = int((y1 - y0) // cell) + 1
        cells = np.full((n_lat, n_lon), _NONE, dtype=np.int32)
        i0 = ((lat_lo - y0) // cell).astype(np.int64)
        i1 = ((lat_hi - y0) // cell).astype(np.int64)
        j0 = np.floor((lon_lo - x0) / cell).astype(np.int64)
        j1 = np.floor((lon_hi - x0) / cell).astype(np.int64)
        for k, (a, b, c, d, pole) in enumerate(zip(i0.tolist(), i1.tolist(), j0.tolist(),
                                                   j1.tolist(), polar.tolist(), strict=True)):
            if pole or d - c + 1 >= n_lon:
                cols = slice(None)
            elif wraps:
                cols = np.arange(c, d + 1) % n_lon
            else:
                cols = slice(c, d + 1)
            sub = cells[a:b + 1, cols]
            sub[sub >= 0] = _SEVERAL  # the rows are distinct places
            sub[sub == _NONE] = k
            cells[a:b + 1, cols] = sub
        return cls(y0, x0, cell, n_lat, n_lon, np.append(cells.ravel(), np.int32(_NONE)), wraps)

    def lookup(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """The cell value of each point (lat/lon in degrees, finite)."""
        n_lat, n_lon = self.n_lat, self.n_lon
        if len(lon) and not (lon.min() >= -180.0 and lon.max() < 180.0):
            lon = ((lon + 180.0) % 360.0) - 180.0
        fi = (lat - self.lat0) / self.cell_deg
        fj = (lon - self.lon0) / self.cell_deg
        if self.wraps:  # the last column ends at 180 degrees, up to rounding
            fj = np.minimum(fj, n_lon - 0.5)
        flat = fi.astype(np.int64) * n_lon + fj.astype(np.int64)
        # outside the raster (truncation above is not floor there): the sentinel cell
        flat[~((fi >= 0) & (fi < n_lat) & (fj >= 0) & (fj < n_lon))] = n_lat * n_lon
        return np.take(self.flat, flat)


def _merge(best_d: np.ndarray, best_p: np.ndarray, d: np.ndarray, p: np.ndarray) -> None:
    """Keep the closer of two candidates in place (ties to the lower row position)."""
    better = (d < best_d) | ((d == best_d) & (p >= 0) & ((best_p < 0) | (p < best_p)))
    best_d[better] = d[better]
    best_p[better] = p[better]


# ----------------------------------------------------------------------- gazetteer
def gazetteer_table() -> pa.Table:
    """The shipped gazetteer as an Arrow table in the ``places`` layout."""
    ref = resources.files("corridor").joinpath(GAZETTEER_FILE)
    with ref.open("rb") as fh:
        return pq.read_table(fh)


def load_gazetteer(store: Store) -> int:
    """Load the shipped gazetteer into ``store``; returns rows added (0 when already loaded).

    Existing rows with the same place_id (e.g. a user's own polygon for a port) are kept.
    """
    tbl = gazetteer_table()
    before = store.count("places")
    with store.transaction() as con:
        # An anti-join rather than INSERT OR IGNORE: a re-run then costs 0.2 s, not 1.5 s.
        con.register("_gazetteer", tbl)
        try:
            con.execute("INSERT INTO places BY NAME SELECT * FROM _gazetteer "
                        "WHERE place_id NOT IN (SELECT place_id FROM places)")
        finally:
            con.unregister("_gazetteer")
    return store.count("places") - before


# --------------------------------------------------------------------- user places
class PlacesFileError(ValueError):
    """A places file that cannot be read at all (missing columns, not CSV/GeoJSON)."""


@dataclass
class AddPlacesResult:
    """What :func:`add_places` did: rows stored and rows skipped with their reasons."""

    path: str
    rows_in: int = 0
    stored: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.errors)


CSV_REQUIRED = ("place_id", "name", "kind", "lat", "lon", "radius_m", "country", "precision",
                "source")


def _check_row(where: str, rec: dict) -> dict:
    """Validate and normalise one place record; raises ValueError naming ``where``."""
    pid = (rec.get("place_id") or "").strip()
    if not pid:
        raise ValueError(f"{where}: place_id is empty")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.:-]*", pid):
        raise ValueError(f"{where}: place_id {pid!r} must be a lower-case slug "
                         "(letters, digits, '-', '_', '.', ':')")
    name = (rec.get("name") or "").strip()
    if not name:
        raise ValueError(f"{where}: name is empty")
    kind = (rec.get("kind") or "").strip().lower()
    if kind not in KINDS:
        raise ValueError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    try:
        lat = float(rec["lat"])
        lon = float(rec["lon"])
    except (TypeError, ValueError, KeyError):
        raise ValueError(f"{where}: lat/lon {rec.get('lat')!r}, {rec.get('lon')!r} "
                         "are not numbers") from None
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ValueError(f"{where}: lat {lat} is outside -90..90")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise ValueError(f"{where}: lon {lon} is outside -180..180")
    radius = rec.get("radius_m")
    if radius in (None, ""):
        radius = None
    else:
        try:
            radius = float(radius)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: radius_m {radius!r} is not a number") from None
        if not (math.isfinite(radius) and radius >= 0):
            raise ValueError(f"{where}: radius_m {radius} must be >= 0 metres")
    country = (rec.get("country") or "").strip().upper() or None
    if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
        raise ValueError(f"{where}: country {country!r} is not an ISO 3166 alpha-2 code")
    precision = (rec.get("precision") or "").strip().lower() or None
    if precision is not None and precision not in PRECISIONS:
        raise ValueError(f"{where}: precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    aliases = rec.get("aliases")
    if isinstance(aliases, str):
        aliases = [a.strip() for a in re.split(r"[;|]", aliases) if a.strip()]
    source = (rec.get("source") or "").strip()
    if not source:
        raise ValueError(f"{where}: source is empty (cite where the place comes from)")
    port_id = (rec.get("port_id") or "").strip() or None
    return {"place_id": pid, "name": name, "kind": kind, "country": country, "lat": lat,
            "lon": lon, "geometry": rec.get("geometry"), "radius_m": radius,
            "aliases": aliases or None, "precision": precision, "source": source,
            "port_id": port_id}


def _read_csv(path: Path, result: AddPlacesResult) -> list[dict]:
    # The csv module rather than DuckDB's reader: user files are small and every message
    # must name the exact line, including lines DuckDB would reject as a whole file.
    rows: list[dict] = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in CSV_REQUIRED if c not in header]
        if missing:
            raise PlacesFileError(
                f"{path}: line 1: missing column(s) {', '.join(missing)}; expected "
                f"{','.join(CSV_REQUIRED)}[,aliases]")
        reader.fieldnames = header
        for rec in reader:
            result.rows_in += 1
            where = f"{path}: line {reader.line_num}"
            try:
                rows.append(_check_row(where, rec))
            except ValueError as exc:
                result.errors.append(str(exc))
    return rows


def _read_geojson(path: Path, result: AddPlacesResult) -> list[dict]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlacesFileError(f"{path}: not readable as GeoJSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise PlacesFileError(f"{path}: not a GeoJSON object")
    feats = [doc] if doc.get("type") == "Feature" else doc.get("features")
    if not isinstance(feats, list):
        raise PlacesFileError(f"{path}: not a GeoJSON FeatureCollection")
    rows = []
    for i, feat in enumerate(feats):
        result.rows_in += 1
        props = (feat or {}).get("properties") or {}
        label = props.get("place_id") or props.get("name") or "?"
        where = f"{path}: feature {i} ({label})"
        try:
            geom = shapely.geometry.shape(feat["geometry"])
        except Exception as exc:  # noqa: BLE001 - any malformed geometry is the same user error
            result.errors.append(f"{where}: bad geometry: {exc}")
            continue
        try:
            rec = dict(props)
            if geom.geom_type == "Point":
                rec["lon"], rec["lat"] = geom.x, geom.y
                rec["geometry"] = None
            elif geom.geom_type in ("Polygon", "MultiPolygon"):
                minx, miny, maxx, maxy = geom.bounds
                if not (-180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90):
                    raise ValueError(f"{where}: polygon coordinates outside lon -180..180 / "
                                     "lat -90..90")
                if maxx - minx > 180:
                    raise ValueError(f"{where}: polygon spans more than 180 degrees of "
                                     "longitude; split it at the antimeridian")
                if not geom.is_valid:
                    raise ValueError(f"{where}: invalid polygon ({shapely.is_valid_reason(geom)})")
                c = geom.centroid
                rec["lon"], rec["lat"] = c.x, c.y
                rec["geometry"] = shapely.to_geojson(geom)
            else:
                raise ValueError(f"{where}: geometry {geom.geom_type} is not Point or Polygon")
            rows.append(_check_row(where, rec))
        except ValueError as exc:
            result.errors.append(str(exc))
    return rows


def add_places(store: Store, path: str | Path) -> AddPlacesResult:
    """Add (or replace, by place_id) the places in a CSV or GeoJSON file.

    CSV columns: ``place_id,name,kind,lat,lon,radius_m,country,precision,source[,aliases]``
    (aliases separated by ``;``). GeoJSON: Features with Point, Polygon or MultiPolygon
    geometry and those names as properties (lat/lon come from the geometry). Bad rows are
    skipped with a message naming file and line (or feature); the good ones are stored in
    one transaction. Raises :class:`PlacesFileError` when the file cannot be read at all.
    """
    path = Path(path)
    result = AddPlacesResult(str(path))
    if not path.is_file():
        raise PlacesFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        rows = _read_geojson(path, result)
    elif suffix in (".csv", ".txt"):
        rows = _read_csv(path, result)
    else:
        raise PlacesFileError(f"{path}: unknown places file type {suffix!r} (use .csv or .geojson)")
    seen: dict[str, int] = {}
    unique = []
    for r in rows:
        if r["place_id"] in seen:
            result.errors.append(f"{path}: place_id {r['place_id']!r} repeated; the later one "
                                 "was skipped")
            continue
        seen[r["place_id"]] = 1
        unique.append(r)
    if unique:
        tbl = pa.Table.from_pylist(unique, schema=PLACES)
        with store.transaction():
            store.insert_arrow("places", tbl, on_conflict="replace")
        result.stored = len(unique)
        _re_resolve_claims(store)
    return result


def _re_resolve_claims(store: Store) -> int:
    """Claims stored before these places existed resolve their place names again."""
    from corridor.claims.store import refresh_places  # claims depend on places, not the reverse

    return refresh_places(store)


# ------------------------------------------------------------------------ listing
def list_places(
    store: Store,
    near: tuple[float, float] | None = None,
    radius_km: float = 10.0,
    kinds: tuple[str, ...] | list[str] | None = None,
    limit: int | None = None,
    name: str | None = None,
) -> pa.Table:
    """Places of the store, optionally of some kinds, whose name or an alias contains ``name``
    (case-insensitive), and within ``radius_km`` of ``near`` (lat, lon in degrees); nearby
    places come nearest first with a ``distance_km`` column. With ``name``, a case's places
    come before gazetteer places (their ``source`` cites the case)."""
    sql = "SELECT * FROM places"
    where: list[str] = []
    params: list = []
    if kinds:
        where.append("kind IN (" + ", ".join("?" for _ in kinds) + ")")
        params += list(kinds)
    order = " ORDER BY place_id"
    if name:
        where.append("(contains(lower(name), ?) OR len(list_filter(coalesce(aliases, []), "
                     "lambda a: contains(lower(ltrim(a, '~')), ?))) > 0)")
        params += [name.lower(), name.lower()]
        order = " ORDER BY NOT contains(coalesce(source, ''), '(case '), lower(name) <> ?, place_id"
        params.append(name.lower())
    if where:
        sql += " WHERE " + " AND ".join(where)
    tbl = store.query(sql + order, params)
    if near is not None:
        idx = PlaceIndex.from_arrow(tbl)
        dist = idx.distances_from(near[0], near[1])
        keep = np.flatnonzero(dist <= radius_km * 1000.0)
        keep = keep[np.argsort(dist[keep], kind="stable")]
        tbl = tbl.take(pa.array(keep, type=pa.int64()))
        tbl = tbl.append_column("distance_km", pa.array(np.round(dist[keep] / 1000.0, 3)))
    if limit is not None:
        tbl = tbl.slice(0, limit)
    return tbl


def init_store(store: Store) -> dict[str, int]:
    """Load the gazetteer into a (new or existing) store; returns places added and per kind."""
    added = load_gazetteer(store)
    if added:
        _re_resolve_claims(store)
    rows = store.query("SELECT kind, count(*) AS n FROM places GROUP BY kind ORDER BY kind")
    counts = dict(zip(rows.column("kind").to_pylist(), rows.column("n").to_pylist(), strict=True))
    return {"added": added, **counts}
