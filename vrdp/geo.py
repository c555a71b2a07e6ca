"""Geography: British National Grid, H3 cells and point-in-polygon area codes.

Distances are computed in metres in EPSG:27700; everything served is WGS84
(EPSG:4326). H3 work stays in Python (no DuckDB h3 extension installs offline).
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
from pyproj import Transformer

__all__ = [
    "BNG",
    "WGS84",
    "to_bng",
    "h3_cells",
    "h3_cell_polygons",
    "assign_area_codes",
    "locate_points",
]

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"


@lru_cache(maxsize=1)
def _to_bng_transformer() -> Transformer:
    return Transformer.from_crs(WGS84, BNG, always_xy=True)


def to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 longitude/latitude to British National Grid easting/northing (m).

    >>> e, n = to_bng(np.array([-1.2577]), np.array([51.7520]))  # Carfax, Oxford
    >>> round(float(e[0]), -2), round(float(n[0]), -2)
    (451300.0, 206200.0)
    """
    e, n = _to_bng_transformer().transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(e), np.asarray(n)


def h3_cells(lat: np.ndarray, lon: np.ndarray, resolution: int) -> np.ndarray:
    """H3 cell id (hex string) of each point at ``resolution``.

    >>> h3_cells(np.array([51.752]), np.array([-1.2577]), 9)[0]
    '89195d09a13ffff'
    """
    return np.array(
        [h3.latlng_to_cell(a, b, resolution) for a, b in zip(lat, lon, strict=True)],
        dtype=object,
    )


def h3_cell_polygons(cells: pd.Series | list[str]) -> gpd.GeoSeries:
    """Polygons (WGS84) of H3 cells, vertices in lon/lat order."""
    from shapely.geometry import Polygon

    polys = [Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells]
    return gpd.GeoSeries(polys, crs=WGS84)


def assign_area_codes(
    lon: np.ndarray, lat: np.ndarray, areas: gpd.GeoDataFrame, code_column: str
) -> np.ndarray:
    """Code of the polygon containing each point, or None outside every polygon.

    A point on a shared edge belongs to the polygon with the smallest code, so
    the answer does not depend on the order of the boundary file.
    """
    points = gpd.GeoDataFrame(
        {"_i": np.arange(len(lon))}, geometry=gpd.points_from_xy(lon, lat), crs=WGS84
    )
    areas = areas[[code_column, "geometry"]].to_crs(WGS84)
    joined = gpd.sjoin(points, areas, how="left", predicate="intersects")
    joined = joined.sort_values(["_i", code_column], na_position="last")
    first = joined.drop_duplicates("_i", keep="first").set_index("_i")[code_column]
    out = first.reindex(np.arange(len(lon)))
    return np.where(out.isna(), None, out.astype(object)).astype(object)


def locate_points(
    df: pd.DataFrame,
    *,
    h3_resolution: int,
    lsoa21: gpd.GeoDataFrame,
    lsoa11: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """Add BNG coordinates, H3 cell, LSOA 2021/2011 and ward codes to events.

    ``df`` needs ``longitude`` and ``latitude`` (WGS84). Adds ``easting_m``,
    ``northing_m``, ``h3_cell``, ``h3_resolution``, ``lsoa21_code``,
    ``lsoa11_code``, ``ward_code`` and ``in_force_area`` (inside an LSOA 2021
    of the shipped boundaries). Points outside keep their row with null codes.
    """
    out = df.copy()
    lon = out["longitude"].to_numpy(float)
    lat = out["latitude"].to_numpy(float)
    out["easting_m"], out["northing_m"] = to_bng(lon, lat)
    out["h3_cell"] = pd.array(h3_cells(lat, lon, h3_resolution), dtype="string")
    out["h3_resolution"] = np.int8(h3_resolution)
    out["lsoa21_code"] = pd.array(assign_area_codes(lon, lat, lsoa21, "LSOA21CD"), dtype="string")
    out["lsoa11_code"] = pd.array(assign_area_codes(lon, lat, lsoa11, "LSOA11CD"), dtype="string")
    out["ward_code"] = pd.array(assign_area_codes(lon, lat, wards, "WD25CD"), dtype="string")
    out["in_force_area"] = out["lsoa21_code"].notna().to_numpy()
    return out
