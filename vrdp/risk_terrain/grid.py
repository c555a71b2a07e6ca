"""Study grid for risk terrain modelling: square cells in British National Grid metres.

RTM works on a raster of equal square cells (RTMDx default: half the block
length). A :class:`StudyGrid` is a rectangle of ``n_rows x n_cols`` cells whose
lower-left corner is ``(x0_m, y0_m)`` in EPSG:27700, plus a mask of the cells
that belong to the study area. ``cells`` lists only the study-area cells, in
row-major order, with a stable integer ``cell_id`` (``row * n_cols + col``).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from vrdp.geo import BNG

__all__ = [
    "StudyGrid",
    "grid_from_bounds",
    "grid_from_polygons",
    "cell_of_points",
    "count_points_in_cells",
    "cell_polygons",
    "grid_from_points",
    "exposure_offset",
    "subset_grid",
]


@dataclass(frozen=True)
class StudyGrid:
    """Square-cell study grid in EPSG:27700.

    Attributes
    ----------
    x0_m, y0_m : float
        Easting and northing (m) of the lower-left corner of the rectangle.
    cell_size_m : float
        Side of a cell in metres.
    n_rows, n_cols : int
        Size of the enclosing rectangle.
    cells : pandas.DataFrame
        Study-area cells: ``cell_id``, ``row``, ``col``, ``easting_m``, ``northing_m``
        (cell centre), in row-major order.
    """

    x0_m: float
    y0_m: float
    cell_size_m: float
    n_rows: int
    n_cols: int
    cells: pd.DataFrame

    @property
    def n_cells(self) -> int:
        """Number of study-area cells."""
        return len(self.cells)

    @property
    def centres_m(self) -> np.ndarray:
        """``(n_cells, 2)`` array of cell-centre easting/northing in metres."""
        return self.cells[["easting_m", "northing_m"]].to_numpy(float)

    @property
    def cell_area_m2(self) -> float:
        """Area of one cell in square metres."""
        return float(self.cell_size_m) ** 2


def _rectangle(xmin: float, ymin: float, xmax: float, ymax: float, cell: float):
    if cell <= 0:
        raise ValueError("cell_size_m must be positive")
    if xmax <= xmin or ymax <= ymin:
        raise ValueError("empty bounds")
    n_cols = max(1, int(np.ceil((xmax - xmin) / cell - 1e-9)))
    n_rows = max(1, int(np.ceil((ymax - ymin) / cell - 1e-9)))
    return float(xmin), float(ymin), n_rows, n_cols


def _cells_frame(x0, y0, cell, n_rows, n_cols, keep: np.ndarray | None) -> pd.DataFrame:
    rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
    frame = pd.DataFrame(
        {
            "cell_id": np.arange(n_rows * n_cols, dtype=np.int64),
            "row": rows.astype(np.int32),
            "col": cols.astype(np.int32),
            "easting_m": x0 + (cols + 0.5) * cell,
            "northing_m": y0 + (rows + 0.5) * cell,
        }
    )
    if keep is not None:
        frame = frame[keep].reset_index(drop=True)
    return frame


def grid_from_bounds(
    xmin_m: float, ymin_m: float, xmax_m: float, ymax_m: float, cell_size_m: float
) -> StudyGrid:
    """Grid of square cells covering a BNG bounding box (every cell is in the study area).

    Examples
    --------
    >>> g = grid_from_bounds(0, 0, 100, 60, 20)
    >>> g.n_rows, g.n_cols, g.n_cells
    (3, 5, 15)
    >>> g.cells.iloc[0][["easting_m", "northing_m"]].tolist()
    [10.0, 10.0]
    """
    x0, y0, n_rows, n_cols = _rectangle(xmin_m, ymin_m, xmax_m, ymax_m, cell_size_m)
    cells = _cells_frame(x0, y0, float(cell_size_m), n_rows, n_cols, None)
    return StudyGrid(x0, y0, float(cell_size_m), n_rows, n_cols, cells)


def grid_from_polygons(polygons: gpd.GeoSeries | gpd.GeoDataFrame, cell_size_m: float) -> StudyGrid:
    """Grid of square cells whose centres fall inside the union of ``polygons``.

    ``polygons`` may be in any CRS; they are projected to EPSG:27700 first.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> polys = gpd.GeoSeries([box(0, 0, 100, 100), box(100, 0, 200, 50)], crs=BNG)
    >>> grid_from_polygons(polys, 50).n_cells  # 4 cells in the square, 2 in the strip
    6
    """
    geoms = polygons.geometry if isinstance(polygons, gpd.GeoDataFrame) else polygons
    if geoms.crs is None:
        raise ValueError("polygons need a CRS")
    geoms = geoms.to_crs(BNG)
    area = shapely.union_all(geoms.to_numpy())
    x0, y0, n_rows, n_cols = _rectangle(*area.bounds, cell_size_m)
    full = _cells_frame(x0, y0, float(cell_size_m), n_rows, n_cols, None)
    shapely.prepare(area)
    keep = shapely.contains_xy(area, full["easting_m"].to_numpy(), full["northing_m"].to_numpy())
    cells = full[keep].reset_index(drop=True)
    return StudyGrid(x0, y0, float(cell_size_m), n_rows, n_cols, cells)


def cell_of_points(grid: StudyGrid, easting_m: np.ndarray, northing_m: np.ndarray) -> np.ndarray:
    """Position (0..n_cells-1) in ``grid.cells`` of each point, or -1 outside the study area.

    A point on a shared edge belongs to the cell above/right of it.

    Examples
    --------
    >>> g = grid_from_bounds(0, 0, 100, 60, 20)
    >>> cell_of_points(g, np.array([5.0, 25.0, 99.0, 150.0]), np.array([5.0, 45.0, 59.0, 5.0]))
    array([ 0, 11, 14, -1])
    """
    x = np.asarray(easting_m, float)
    y = np.asarray(northing_m, float)
    col = np.floor((x - grid.x0_m) / grid.cell_size_m).astype(np.int64)
    row = np.floor((y - grid.y0_m) / grid.cell_size_m).astype(np.int64)
    inside = (col >= 0) & (col < grid.n_cols) & (row >= 0) & (row < grid.n_rows)
    # sorted search over the study cells' ids (no dense lookup: grids from points may
    # span a whole force at a fine cell size)
    ids = grid.cells["cell_id"].to_numpy()
    order = None if np.all(ids[1:] > ids[:-1]) else np.argsort(ids, kind="stable")
    sorted_ids = ids if order is None else ids[order]
    want = row[inside] * grid.n_cols + col[inside]
    pos = np.searchsorted(sorted_ids, want)
    pos_c = np.minimum(pos, max(len(sorted_ids) - 1, 0))
    found = (pos < len(sorted_ids)) & (sorted_ids[pos_c] == want) if len(sorted_ids) else pos < 0
    hit = np.where(found, pos_c if order is None else order[pos_c], -1)
    out = np.full(len(x), -1, dtype=np.int64)
    out[inside] = hit
    return out


def count_points_in_cells(
    grid: StudyGrid, easting_m: np.ndarray, northing_m: np.ndarray
) -> np.ndarray:
    """Number of points in each study-area cell (points outside are ignored).

    Examples
    --------
    >>> g = grid_from_bounds(0, 0, 40, 20, 20)
    >>> count_points_in_cells(g, np.array([1.0, 2.0, 30.0, 99.0]), np.array([1.0, 2.0, 5.0, 1.0]))
    array([2, 1])
    """
    pos = cell_of_points(grid, easting_m, northing_m)
    return np.bincount(pos[pos >= 0], minlength=grid.n_cells).astype(np.int64)


def cell_polygons(grid: StudyGrid) -> gpd.GeoSeries:
    """Square polygons of the study-area cells in EPSG:27700 (same order as ``grid.cells``)."""
    half = grid.cell_size_m / 2.0
    x = grid.cells["easting_m"].to_numpy()
    y = grid.cells["northing_m"].to_numpy()
    return gpd.GeoSeries(shapely.box(x - half, y - half, x + half, y + half), crs=BNG)


def grid_from_points(
    easting_m: np.ndarray, northing_m: np.ndarray, cell_size_m: float
) -> StudyGrid:
    """Grid whose study area is the cells containing at least one of the points.

    For a study area defined by where events can happen (e.g. the candidate event
    locations of an exposure table): only occupied cells are listed, so a fine grid
    over a whole force stays small.

    Examples
    --------
    >>> g = grid_from_points(np.array([1.0, 5.0, 35.0]), np.array([1.0, 2.0, 25.0]), 10)
    >>> g.n_rows, g.n_cols, g.cells.cell_id.tolist()
    (3, 4, [0, 11])
    """
    x = np.asarray(easting_m, float)
    y = np.asarray(northing_m, float)
    if len(x) == 0:
        raise ValueError("no points")
    cell = float(cell_size_m)
    x0 = np.floor(x.min() / cell) * cell
    y0 = np.floor(y.min() / cell) * cell
    col = np.floor((x - x0) / cell).astype(np.int64)
    row = np.floor((y - y0) / cell).astype(np.int64)
    n_cols = int(col.max()) + 1
    n_rows = int(row.max()) + 1
    ids = np.unique(row * n_cols + col)
    rows, cols = np.divmod(ids, n_cols)
    cells = pd.DataFrame(
        {
            "cell_id": ids.astype(np.int64),
            "row": rows.astype(np.int32),
            "col": cols.astype(np.int32),
            "easting_m": x0 + (cols + 0.5) * cell,
            "northing_m": y0 + (rows + 0.5) * cell,
        }
    )
    return StudyGrid(float(x0), float(y0), cell, n_rows, n_cols, cells)


def exposure_offset(
    grid: StudyGrid,
    easting_m: np.ndarray,
    northing_m: np.ndarray,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Log exposure per study cell from an exposure table, for ``run_rtm(offset=...)``.

    Parameters
    ----------
    grid : StudyGrid
    easting_m, northing_m : (k,) arrays
        Exposure units in EPSG:27700 metres, e.g. the candidate event locations.
    weights : (k,) array, optional
        Exposure of each unit (e.g. its baseline weight); default 1 (the offset is
        then the log of the number of units in the cell).

    Returns
    -------
    (n_cells,) float array
        ``log(sum of weights)`` per cell in ``grid.cells`` order; ``-inf`` where a
        cell holds no exposure (no events expected there). Units outside the study
        area are ignored.

    Examples
    --------
    >>> g = grid_from_bounds(0, 0, 20, 10, 10)
    >>> np.round(exposure_offset(g, np.array([1.0, 2, 3]), np.array([1.0, 1, 1]),
    ...                          np.array([1.0, 2, 4])), 4).tolist()
    [1.9459, -inf]
    """
    pos = cell_of_points(grid, easting_m, northing_m)
    w = np.ones(len(pos)) if weights is None else np.asarray(weights, float)
    if (w < 0).any():
        raise ValueError("exposure weights must be non-negative")
    tot = np.bincount(pos[pos >= 0], weights=w[pos >= 0], minlength=grid.n_cells)
    with np.errstate(divide="ignore"):
        return np.log(tot)


def subset_grid(grid: StudyGrid, keep: np.ndarray) -> StudyGrid:
    """The same grid with only the study cells where ``keep`` is true (order kept).

    Examples
    --------
    >>> g = grid_from_bounds(0, 0, 30, 10, 10)
    >>> subset_grid(g, np.array([True, False, True])).cells.cell_id.tolist()
    [0, 2]
    """
    keep = np.asarray(keep, dtype=bool)
    if keep.shape != (grid.n_cells,):
        raise ValueError("keep must have one value per study cell")
    cells = grid.cells[keep].reset_index(drop=True)
    return StudyGrid(grid.x0_m, grid.y0_m, grid.cell_size_m, grid.n_rows, grid.n_cols, cells)
