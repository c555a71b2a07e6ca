"""Exposure for RTM from shipped public data: residents per cell from the 2011 census.

RTM counts events per cell; without an exposure term a cell's count also reflects
how many people and places it holds, so factors that sit where people are (town
centres) get inflated RRVs. When no table of candidate event locations is
available, the residential population is the exposure the shipped data support:

* LSOA 2011 polygons of the demo area with the 2011 census usual residents (the files
  :mod:`config.demo` names: ``LSOA11_BOUNDARIES`` and ``DEMO_LSOA11_POPULATION``);
* residents are spread evenly over each LSOA, so a cell's exposure is the resident
  density of the LSOA holding its centre times the cell area (persons per cell);
* the study area is the cells where crime can occur: by default the cells holding a
  point of interest or a recorded crime of any type (not only the modelled ones),
  i.e. the places people use. Cells whose centre lies outside every LSOA get no
  exposure and are left out.

What this does and does not control for: it removes the confounding of risk
factors with where residents live, not with where visitors go (footfall); factors
of the night-time economy can still absorb town-centre footfall, so their RRVs read
as "per resident", an upper bound on the environmental effect. The simulated world's
truth (assets' evaluation metadata, ``bench/rtm.py``) shows by how much.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from vrdp.geo import BNG
from vrdp.risk_terrain.grid import StudyGrid, grid_from_points

__all__ = ["PUBLIC_DATA", "lsoa_population", "population_exposure", "residents_per_cell"]

PUBLIC_DATA = Path(__file__).resolve().parents[2] / "public_data"


def lsoa_population(public_data: Path | None = None) -> gpd.GeoDataFrame:
    """LSOA 2011 polygons (EPSG:27700) with census 2011 residents and residents per m².

    Columns: ``lsoa11_code``, ``residents``, ``area_m2``, ``residents_per_m2``, geometry.
    Raises ``ValueError`` if an LSOA polygon has no census row.
    """
    root = Path(public_data) if public_data is not None else PUBLIC_DATA
    from config.demo import DEMO_FORCE, DEMO_LSOA11_POPULATION, LSOA11_BOUNDARIES

    polys = gpd.read_file(root / LSOA11_BOUNDARIES[DEMO_FORCE])
    pop = pd.read_csv(
        root / DEMO_LSOA11_POPULATION,
        usecols=["lsoa11cd", "all_usual_residents"],
    )
    out = polys[["LSOA11CD", "geometry"]].rename(columns={"LSOA11CD": "lsoa11_code"}).to_crs(BNG)
    out = out.merge(
        pop.rename(columns={"lsoa11cd": "lsoa11_code", "all_usual_residents": "residents"}),
        on="lsoa11_code",
        how="left",
    )
    missing = out["residents"].isna()
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} LSOA polygons have no census population, e.g. "
            f"{out.loc[missing, 'lsoa11_code'].iloc[0]}"
        )
    out["area_m2"] = out.geometry.area
    out["residents_per_m2"] = out["residents"] / out["area_m2"]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=BNG)


def population_exposure(
    easting_m: np.ndarray,
    northing_m: np.ndarray,
    cell_size_m: float,
    lsoas: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Exposure table (residents per cell) at the centres of the cells holding the points.

    Parameters
    ----------
    easting_m, northing_m : arrays
        Places where crime can occur (EPSG:27700 m); the study area is the cells of
        ``cell_size_m`` holding at least one of them (grid aligned to multiples of
        the cell size, as :func:`~vrdp.risk_terrain.grid.grid_from_points` does).
    cell_size_m : float
    lsoas : GeoDataFrame, optional
        From :func:`lsoa_population` (read from the shipped data when omitted).

    Returns
    -------
    DataFrame
        ``easting_m``, ``northing_m`` (cell centre), ``weight`` (residents in the
        cell if spread evenly over the LSOA; 0 outside every LSOA) and
        ``lsoa11_code`` (missing outside), one row per cell, ready for
        ``run_rtm_on_places(exposure=...)``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> lsoas = gpd.GeoDataFrame({"lsoa11_code": ["A"], "residents_per_m2": [0.01]},
    ...                          geometry=[box(0, 0, 100, 100)], crs=BNG)
    >>> ex = population_exposure(np.array([10.0, 20, 160]), np.array([10.0, 10, 10]), 50, lsoas)
    >>> ex[["easting_m", "weight"]].values.tolist(), ex["lsoa11_code"].isna().tolist()
    ([[25.0, 25.0], [175.0, 0.0]], [False, True])
    """
    grid = grid_from_points(
        np.asarray(easting_m, float), np.asarray(northing_m, float), cell_size_m
    )
    weight, code = residents_per_cell(grid, lsoas)
    return pd.DataFrame(
        {
            "easting_m": grid.cells["easting_m"].to_numpy(),
            "northing_m": grid.cells["northing_m"].to_numpy(),
            "weight": weight,
            "lsoa11_code": code,
        }
    )


def residents_per_cell(
    grid: StudyGrid, lsoas: gpd.GeoDataFrame | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Residents in each study cell (LSOA density at the cell centre times cell area).

    Returns ``(weight, lsoa11_code)`` in ``grid.cells`` order; cells whose centre is
    outside every LSOA get weight 0 and code ``None``. Take ``np.log(weight)`` for
    ``run_rtm(offset=...)`` (``-inf`` leaves a cell out of the fit).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from vrdp.risk_terrain.grid import grid_from_bounds
    >>> lsoas = gpd.GeoDataFrame({"lsoa11_code": ["A"], "residents_per_m2": [0.02]},
    ...                          geometry=[box(0, 0, 100, 100)], crs=BNG)
    >>> residents_per_cell(grid_from_bounds(0, 0, 150, 50, 50), lsoas)[0].tolist()
    [50.0, 50.0, 0.0]
    """
    lsoas = lsoa_population() if lsoas is None else lsoas
    x = grid.cells["easting_m"].to_numpy()
    y = grid.cells["northing_m"].to_numpy()
    geoms = lsoas.to_crs(BNG).geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    pt_idx, poly_idx = tree.query(shapely.points(x, y), predicate="intersects")
    owner = np.full(len(x), -1, dtype=np.int64)
    # a centre on a shared boundary belongs to the first polygon listed
    first = np.unique(pt_idx, return_index=True)[1]
    owner[pt_idx[first]] = poly_idx[first]
    dens = lsoas["residents_per_m2"].to_numpy(float)
    codes = lsoas["lsoa11_code"].to_numpy(object)
    inside = owner >= 0
    weight = np.where(inside, dens[np.maximum(owner, 0)] * grid.cell_area_m2, 0.0)
    code = codes[np.maximum(owner, 0)].copy()
    code[~inside] = None
    return weight, code
