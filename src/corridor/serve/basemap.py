"""The map's background: the bundled Natural Earth 1:10m land as GeoJSON (no tile server).

``data/land/ne_10m_land.npz`` (public domain; see its SOURCE.md) is decoded as
:func:`corridor.shore.load_land` does, simplified with GEOS to ``tolerance_deg`` (0.02° is
about 2 km, finer than the land outline at the zoom levels where the whole world fits) and
optionally clipped to a box, then sent as one FeatureCollection. Built once per tolerance and
box, and kept.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import shapely
import shapely.geometry

_MICRODEG = 1e-6

SOURCE = "Made with Natural Earth (public domain): 1:10m land"


@lru_cache(maxsize=1)
def _land() -> np.ndarray:
    ref = resources.files("corridor").joinpath("data/land/ne_10m_land.npz")
    with ref.open("rb") as fh, np.load(fh) as z:
        coords = np.cumsum(z["dlonlat"].astype(np.int64), axis=0) * _MICRODEG
        ring_offsets = z["ring_offsets"].astype(np.int64)
        polygon_offsets = z["polygon_offsets"].astype(np.int64)
    return shapely.from_ragged_array(shapely.GeometryType.POLYGON, coords,
                                     (ring_offsets, polygon_offsets))


@lru_cache(maxsize=16)
def land_geojson(tolerance_deg: float = 0.02,
                 bbox: tuple[float, float, float, float] | None = None) -> dict:
    """Land polygons as a GeoJSON FeatureCollection (lon/lat degrees, 5 decimals)."""
    polys = _land()
    if bbox is not None:
        box = shapely.box(*bbox)
        polys = polys[shapely.intersects(polys, box)]
        polys = shapely.intersection(polys, box)
    polys = shapely.simplify(polys, tolerance_deg, preserve_topology=True)
    polys = shapely.set_precision(polys, 1e-5)
    polys = polys[~shapely.is_empty(polys)]
    feats = [{"type": "Feature", "properties": {},
              "geometry": shapely.geometry.mapping(g)} for g in polys]
    return {"type": "FeatureCollection", "features": feats, "source": SOURCE}
