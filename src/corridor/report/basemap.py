"""The map projections the report draws with.

The basemap data is ``data/basemap/world.json`` (Natural Earth 1:50m countries, see
:func:`corridor.report.map.world`) and, for close-ups, the 1:10m land of ``data/land``. The
report projects them, and every place, track and marker, with :class:`Projection`, so all
layers line up.

The projections are written out by hand (a dozen lines of spherical formulas) rather than
taken from pyproj so that rendering a report needs no compiled geodesy library; the map
is an illustration at 1:10m–1:50m, where a spherical Lambert conic is exact enough.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Projection:
    """Lon/lat degrees -> SVG pixels, fitted to a bounding box.

    ``kind`` is ``"lcc"`` (spherical Lambert conformal conic, standard parallels
    ``lat1_deg``/``lat2_deg``, central meridian ``lon0_deg``) or ``"eqc"``
    (equirectangular with x scaled by cos(``lat1_deg``)). ``width_px`` is the output width;
    the height follows from the box's shape (:attr:`height_px`).

    >>> p = Projection.fit((129.0, 41.3, 134.2, 44.0), width_px=600, kind="eqc")
    >>> x, y = p.xy(129.0, 44.0)
    >>> (round(float(x)), round(float(y)))
    (0, 0)
    >>> round(float(p.xy(134.2, 41.3)[0]))
    600
    """

    kind: str
    lon0_deg: float
    lat0_deg: float
    lat1_deg: float
    lat2_deg: float
    scale: float = 1.0
    x_off: float = 0.0
    y_off: float = 0.0
    width_px: float = 900.0
    height_px: float = 500.0

    def _raw(self, lon, lat):
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        if self.kind == "eqc":
            return lon * math.cos(math.radians(self.lat1_deg)), -lat
        p1, p2 = math.radians(self.lat1_deg), math.radians(self.lat2_deg)
        p0 = math.radians(self.lat0_deg)

        def t(p):
            return np.tan(np.pi / 4 + np.asarray(p) / 2)

        n = math.log(math.cos(p1) / math.cos(p2)) / math.log(float(t(p2)) / float(t(p1)))
        f = math.cos(p1) * float(t(p1)) ** n / n
        rho = f / t(np.radians(lat)) ** n
        rho0 = f / float(t(p0)) ** n
        theta = n * np.radians(lon - self.lon0_deg)
        return np.degrees(rho * np.sin(theta)), -np.degrees(rho0 - rho * np.cos(theta))

    def xy(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Project degrees to SVG pixel coordinates (y grows downwards)."""
        x, y = self._raw(lon, lat)
        return x * self.scale + self.x_off, y * self.scale + self.y_off

    @classmethod
    def fit(cls, bbox: tuple[float, float, float, float], width_px: float = 900.0,
            kind: str = "lcc", lat1_deg: float | None = None,
            lat2_deg: float | None = None) -> Projection:
        """A projection whose output spans ``bbox`` (lon_min, lat_min, lon_max, lat_max)."""
        lon_min, lat_min, lon_max, lat_max = bbox
        lat1 = lat1_deg if lat1_deg is not None else (
            (lat_min + lat_max) / 2 if kind == "eqc" else lat_min + (lat_max - lat_min) / 6)
        lat2 = lat2_deg if lat2_deg is not None else lat_max - (lat_max - lat_min) / 6
        base = cls(kind, (lon_min + lon_max) / 2, (lat_min + lat_max) / 2, lat1, lat2)
        # sample the box edge: a conic bends the parallels, so corners alone are not enough
        s = np.linspace(0.0, 1.0, 41)
        lons = np.concatenate([lon_min + s * (lon_max - lon_min), np.full(41, lon_max),
                               lon_max - s * (lon_max - lon_min), np.full(41, lon_min)])
        lats = np.concatenate([np.full(41, lat_min), lat_min + s * (lat_max - lat_min),
                               np.full(41, lat_max), lat_max - s * (lat_max - lat_min)])
        x, y = base._raw(lons, lats)
        # the frame is the projected box's outer extent; the basemap data is clipped wider
        # than the box (see corridor.report.map.render_map) so the corners are not empty
        xmin, xmax, ymin, ymax = float(x.min()), float(x.max()), float(y.min()), float(y.max())
        scale = width_px / (xmax - xmin)
        return cls(kind, base.lon0_deg, base.lat0_deg, lat1, lat2, scale, -xmin * scale,
                   -ymin * scale, width_px, (ymax - ymin) * scale)


def path_d(proj: Projection, lines: list[list[list[float]]], closed: bool,
           min_step_px: float = 0.6, min_ring_px: float = 0.0) -> str:
    """SVG path data for polylines/rings of ``[lon, lat]`` points.

    Consecutive points closer than ``min_step_px`` pixels are dropped, and closed rings
    smaller than ``min_ring_px`` across (specks of islands), which keeps the file small at
    the size the map is drawn.

    >>> p = Projection.fit((0.0, 0.0, 10.0, 10.0), width_px=100, kind="eqc", lat1_deg=0.0)
    >>> path_d(p, [[[0, 0], [10, 0], [10, 10]]], closed=True)
    'M0,100L100,100L100,0Z'
    """
    parts = []
    for line in lines:
        if len(line) < 2:
            continue
        arr = np.asarray(line, dtype=float)
        x, y = proj.xy(arr[:, 0], arr[:, 1])
        if closed and min_ring_px and max(float(x.max() - x.min()),
                                          float(y.max() - y.min())) < min_ring_px:
            continue
        keep = [0]
        for i in range(1, len(x)):
            j = keep[-1]
            if abs(x[i] - x[j]) + abs(y[i] - y[j]) >= min_step_px or i == len(x) - 1:
                keep.append(i)
        if len(keep) < 2:
            continue
        pts = [f"{_n(x[i])},{_n(y[i])}" for i in keep]
        parts.append("M" + "L".join(pts) + ("Z" if closed else ""))
    return "".join(parts)


def _n(v: float) -> str:
    """Compact number: one decimal, no trailing zero."""
    s = f"{float(v):.1f}"
    return s[:-2] if s.endswith(".0") else s
