"""The study grid: every H3 cell of the study region, zeros included, and its neighbours.

Hot spot statistics compare a cell with the whole study region, so cells where
nothing happened must be in the grid: leaving them out would make every cell
look average. The grid here is

* **with a region polygon** (the force area, e.g. the union of its LSOA 2021
  polygons, WGS84): every cell whose centre lies in the polygon
  (``h3.geo_to_cells``, H3's centre-containment rule), **plus** every cell that
  holds at least one event (so an event on the boundary is never dropped);
* **without a region**: every cell whose centre lies in the convex hull of the
  events, plus the cells holding events.

Neighbours are the cell's ring, ``h3.grid_disk(cell, 1)`` (the cell itself and
its six neighbours), restricted to cells of the grid: a cell on the edge of the
study region has fewer neighbours, as a cell on the edge of a square grid would.
"""

from __future__ import annotations

import h3
import numpy as np
import shapely
from scipy import sparse

from vrdp.geo import to_bng
from vrdp.keys import row_numbers

__all__ = [
    "study_cells",
    "neighbour_matrix",
    "cell_centres_bng",
    "cell_areas_m2",
    "cells_of_points",
]


def cells_of_points(lat: np.ndarray, lon: np.ndarray, resolution: int = 9) -> np.ndarray:
    """H3 cell (hex string) of each WGS84 point; vectorised over distinct points.

    Police.uk coordinates are snapped to a limited set of map points, so the
    distinct points are looked up once each.

    Examples
    --------
    >>> cells_of_points(np.array([51.752, 51.752]), np.array([-1.2577, -1.2577]))
    array(['89195d09a13ffff', '89195d09a13ffff'], dtype=object)
    """
    lat = np.asarray(lat, float)
    lon = np.asarray(lon, float)
    # distinct points numbered (the order of the distinct points changes nothing
    # but which is looked up first)
    point = row_numbers([lat, lon])
    first = np.empty(int(point.max()) + 1 if len(point) else 0, np.int64)
    first[point[::-1]] = np.arange(len(point))[::-1]  # each distinct point's first row
    cells = np.array(
        [h3.latlng_to_cell(a, b, resolution) for a, b in zip(lat[first], lon[first], strict=True)],
        dtype=object,
    )
    return cells[point]


def _cells_in_geometry(geom, resolution: int) -> set[str]:
    out: set[str] = set()
    for part in getattr(geom, "geoms", [geom]):
        if part.is_empty or part.geom_type != "Polygon":
            continue
        out.update(h3.geo_to_cells(shapely.geometry.mapping(part), resolution))
    return out


def study_cells(
    lat: np.ndarray,
    lon: np.ndarray,
    *,
    resolution: int = 9,
    region=None,
) -> np.ndarray:
    """All H3 cells of the study region, sorted, including cells with no events.

    Parameters
    ----------
    lat, lon
        WGS84 coordinates of the events (their cells are always included).
    resolution
        H3 resolution (9 by default: cells of about 0.1 km², edge about 200 m).
    region
        Optional shapely (Multi)Polygon in WGS84 lon/lat, e.g. the force area.
        Without it the convex hull of the events is used.

    Returns
    -------
    numpy.ndarray
        Sorted unique cell ids (object array of hex strings).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> cells = study_cells(np.array([51.752]), np.array([-1.2577]),
    ...                     region=box(-1.27, 51.745, -1.245, 51.76))
    >>> len(cells) > 10, '89195d09a13ffff' in set(cells)
    (True, True)
    """
    lat = np.asarray(lat, float)
    lon = np.asarray(lon, float)
    cells = set(cells_of_points(lat, lon, resolution)) if len(lat) else set()
    if region is None:
        if len(lat) >= 3:
            hull = shapely.MultiPoint(np.column_stack([lon, lat])).convex_hull
            if hull.geom_type == "Polygon":
                cells |= _cells_in_geometry(hull, resolution)
    else:
        cells |= _cells_in_geometry(region, resolution)
    return np.array(sorted(cells), dtype=object)


def neighbour_matrix(
    cells: np.ndarray, *, k: int = 1, include_self: bool = True
) -> sparse.csr_matrix:
    """Binary neighbour matrix of ``cells``: ``W[i, j] = 1`` if ``j`` is in ``grid_disk(i, k)``.

    Only cells of ``cells`` are neighbours (the ring is clipped to the grid).
    With ``include_self`` the diagonal is 1 (the Gi* convention).

    Examples
    --------
    >>> c = h3.latlng_to_cell(51.752, -1.2577, 9)
    >>> ring = np.array(sorted(h3.grid_disk(c, 1)), dtype=object)
    >>> w = neighbour_matrix(ring)
    >>> w.shape, int(w.sum(axis=1).max()), int(w.sum(axis=1).min())
    ((7, 7), 7, 4)
    """
    cells = np.asarray(cells, dtype=object)
    index = {c: i for i, c in enumerate(cells)}
    rows: list[int] = []
    cols: list[int] = []
    for i, c in enumerate(cells):
        for nb in h3.grid_disk(c, k):
            j = index.get(nb)
            if j is not None and (include_self or j != i):
                rows.append(i)
                cols.append(j)
    n = len(cells)
    data = np.ones(len(rows), dtype=float)
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, n))


def cell_centres_bng(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Easting and northing (m, EPSG:27700) of each cell centre.

    >>> e, n = cell_centres_bng(np.array(['89195d09a13ffff'], dtype=object))
    >>> round(float(e[0]), -2), round(float(n[0]), -2)
    (451300.0, 206400.0)
    """
    ll = np.array([h3.cell_to_latlng(c) for c in cells], dtype=float).reshape(-1, 2)
    return to_bng(ll[:, 1], ll[:, 0])


def cell_areas_m2(cells: np.ndarray) -> np.ndarray:
    """Area of each cell in square metres.

    >>> round(float(cell_areas_m2(np.array(['89195d09a13ffff'], dtype=object))[0]), -3)
    95000.0
    """
    return np.array([h3.cell_area(c, unit="m^2") for c in cells], dtype=float)
