"""Geography: British National Grid, H3 cells and point-in-polygon area codes.

Distances are computed in metres in EPSG:27700; everything served is WGS84
(EPSG:4326). H3 work stays in Python (no DuckDB h3 extension installs offline).
"""

from __future__ import annotations

import weakref
from functools import lru_cache
from typing import NamedTuple

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
    "cell_area_codes",
    "nearest_area_codes",
    "locate_points",
    "AreaLayers",
    "LOCATION_COLUMNS",
    "locate_optional_points",
]

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"

#: How far (m) a point in the force's LSOAs may lie from every ward polygon and still
#: take the nearest ward (the slivers between two boundary vintages).
WARD_GAP_M = 100.0

#: How far (m) a point may lie from every LSOA polygon and still take the nearest one.
#: The national pack is simplified with a 10 m tolerance polygon by polygon, so the
#: shared edge of two LSOAs can open a sliver up to about twice that wide: a point in
#: it is inside the force. A point further out is outside.
LSOA_GAP_M = 20.0


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
    return _codes_at(gpd.points_from_xy(lon, lat), areas, code_column)


def cell_area_codes(
    cells: pd.Series | list[str], areas: gpd.GeoDataFrame, code_column: str
) -> np.ndarray:
    """Area of each H3 cell: the one holding its centre, else the one it overlaps most.

    A hot spot cell at the edge of a small force (the City of London is about
    3 km2; a resolution-9 cell is about 0.1 km2) can have its centre just outside
    every area of the force although its crimes are inside: it takes the force
    area covering most of the cell. None when the cell touches none.

    >>> import shapely
    >>> box = shapely.box(-0.10, 51.50, -0.09, 51.51)
    >>> sq = gpd.GeoDataFrame({"code": ["A"]}, geometry=[box], crs=WGS84)
    >>> inside = h3.latlng_to_cell(51.505, -0.095, 9)
    >>> edge = h3.latlng_to_cell(51.505, -0.0898, 9)  # centre east of the box, cell overlaps
    >>> far = h3.latlng_to_cell(51.6, -0.2, 9)
    >>> cell_area_codes([inside, edge, far], sq, "code").tolist()
    ['A', 'A', None]
    """
    cells = list(cells)
    lat_lng = [h3.cell_to_latlng(c) for c in cells]
    lon = np.array([b for _, b in lat_lng], dtype=float)
    lat = np.array([a for a, _ in lat_lng], dtype=float)
    out = assign_area_codes(lon, lat, areas, code_column)
    missing = np.flatnonzero(pd.isna(out))
    if not len(missing):
        return out
    polys = h3_cell_polygons([cells[i] for i in missing]).to_crs(BNG)
    shapes = areas[[code_column, "geometry"]].to_crs(BNG).reset_index(drop=True)
    cell_idx, area_idx = shapes.sindex.query(polys, predicate="intersects")
    if len(cell_idx):
        overlap = polys.iloc[cell_idx].intersection(shapes.geometry.iloc[area_idx], align=False)
        found = pd.DataFrame(
            {
                "c": cell_idx,
                "code": shapes[code_column].to_numpy()[area_idx],
                "area": overlap.area.to_numpy(),
            }
        )
        found = found[found["area"] > 0].sort_values(["c", "area", "code"], ascending=[1, 0, 1])
        best = found.drop_duplicates("c", keep="first")
        out[missing[best["c"].to_numpy()]] = best["code"].to_numpy()
    return out


_PREPARED: dict[tuple[int, str, str], tuple[weakref.ref, gpd.GeoDataFrame]] = {}


def _prepared(areas: gpd.GeoDataFrame, code_column: str, crs: str) -> gpd.GeoDataFrame:
    """``areas``' code and geometry in ``crs``, with its spatial index, made once per layer.

    A located source codes every delivery against the same three layers; they were
    reprojected and indexed again for each (about a tenth of a second a delivery).
    The copy lives as long as ``areas`` does; layers are read, never changed in place.
    """
    key = (id(areas), code_column, crs)
    hit = _PREPARED.get(key)
    if hit is not None and hit[0]() is areas:
        return hit[1]
    prepared = areas[[code_column, "geometry"]].to_crs(crs).reset_index(drop=True)
    prepared.sindex  # noqa: B018 - built now, reused by every query
    # the callback holds the dict's pop, not the module global (gone at interpreter exit)
    forget = weakref.ref(areas, lambda _, k=key, pop=_PREPARED.pop: pop(k, None))
    _PREPARED[key] = (forget, prepared)
    return prepared


def _codes_at(points, areas: gpd.GeoDataFrame, code_column: str) -> np.ndarray:
    """:func:`assign_area_codes` for points (WGS84) built once by the caller.

    Queries the areas' spatial index with the ``intersects`` predicate (what
    ``geopandas.sjoin`` does) and keeps the smallest code per point.
    """
    areas = _prepared(areas, code_column, WGS84)
    point_idx, area_idx = areas.sindex.query(points, predicate="intersects")
    codes = areas[code_column].astype(object).to_numpy()
    out = np.full(len(points), None, dtype=object)
    if len(point_idx):
        found = pd.DataFrame({"p": point_idx, "code": codes[area_idx]})
        found = found[found["code"].notna()].sort_values(["p", "code"], kind="mergesort")
        first = found.drop_duplicates("p", keep="first")
        out[first["p"].to_numpy()] = first["code"].to_numpy()
    return out


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
    of the force's boundaries, or within :data:`LSOA_GAP_M` of one: the slivers of
    the simplified layer). Points outside keep their row with null codes.
    A point inside the force's LSOAs but in no ward polygon takes the nearest
    ward within :data:`WARD_GAP_M` metres (the two layers' edges differ).
    """
    out = df.copy()
    lon = out["longitude"].to_numpy(float)
    lat = out["latitude"].to_numpy(float)
    out["easting_m"], out["northing_m"] = to_bng(lon, lat)
    out["h3_cell"] = pd.array(h3_cells(lat, lon, h3_resolution), dtype="string")
    out["h3_resolution"] = np.int8(h3_resolution)
    points = gpd.points_from_xy(lon, lat)  # built once for the three layers
    lsoa = _codes_at(points, lsoa21, "LSOA21CD")
    # slivers the simplified layer opens between neighbouring LSOAs: the nearest within
    # LSOA_GAP_M (a point that far outside the force's edge is within its accuracy)
    sliver = pd.isna(lsoa)
    if sliver.any() and len(lsoa21):
        lsoa[sliver] = nearest_area_codes(
            lon[sliver], lat[sliver], lsoa21, "LSOA21CD", max_distance_m=LSOA_GAP_M
        )
    out["lsoa21_code"] = pd.array(lsoa, dtype="string")
    out["lsoa11_code"] = pd.array(_codes_at(points, lsoa11, "LSOA11CD"), dtype="string")
    ward = _codes_at(points, wards, "WD25CD")
    # Ward and LSOA layers are of different vintages and simplified apart: a point in
    # the force's LSOAs can fall in a sliver no ward covers. It takes the nearest ward.
    gap = out["lsoa21_code"].notna().to_numpy() & pd.isna(ward)
    if gap.any() and len(wards):
        ward[gap] = nearest_area_codes(lon[gap], lat[gap], wards, "WD25CD")
    out["ward_code"] = pd.array(ward, dtype="string")
    out["in_force_area"] = out["lsoa21_code"].notna().to_numpy()
    return out


def nearest_area_codes(
    lon: np.ndarray,
    lat: np.ndarray,
    areas: gpd.GeoDataFrame,
    code_column: str,
    *,
    max_distance_m: float = WARD_GAP_M,
) -> np.ndarray:
    """Code of the nearest polygon within ``max_distance_m`` (BNG metres), else None.

    Ties go to the smallest code.

    >>> from shapely.geometry import box
    >>> wards = gpd.GeoDataFrame({"WD25CD": ["W1"]}, geometry=[box(0, 0, 100, 100)], crs=BNG)
    >>> lon, lat = gpd.GeoSeries(gpd.points_from_xy([130.0, 500.0], [50.0, 50.0]),
    ...                          crs=BNG).to_crs(WGS84).pipe(lambda g: (g.x, g.y))
    >>> nearest_area_codes(lon.to_numpy(), lat.to_numpy(), wards, "WD25CD").tolist()
    ['W1', None]
    """
    pts = gpd.GeoDataFrame(
        {"_i": np.arange(len(lon))}, geometry=gpd.points_from_xy(lon, lat), crs=WGS84
    ).to_crs(BNG)
    polys = _prepared(areas, code_column, BNG)
    found = gpd.sjoin_nearest(pts, polys, how="inner", max_distance=max_distance_m)
    found = found.sort_values(["_i", code_column]).drop_duplicates("_i")
    out = np.full(len(lon), None, dtype=object)
    out[found["_i"].to_numpy()] = found[code_column].to_numpy()
    return out


#: Columns :func:`locate_optional_points` adds (the located-table contract).
LOCATION_COLUMNS = (
    "easting_m",
    "northing_m",
    "longitude",
    "latitude",
    "h3_cell",
    "h3_resolution",
    "lsoa21_code",
    "lsoa11_code",
    "ward_code",
    "in_force_area",
)


class AreaLayers(NamedTuple):
    """The three boundary layers points are coded against (read once per run)."""

    lsoa21: gpd.GeoDataFrame
    lsoa11: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame


def locate_optional_points(
    df: pd.DataFrame, *, h3_resolution: int, layers: AreaLayers
) -> pd.DataFrame:
    """:func:`locate_points` for tables where some rows have no usable point.

    Rows whose ``longitude``/``latitude`` are finite get the same columns as
    :func:`locate_points`; the others keep their row with every location column
    null (``in_force_area`` too: unknown, not false). Delivered ``easting_m`` /
    ``northing_m`` (e.g. BNG sources) are kept as delivered rather than
    re-projected. ``h3_resolution`` is set on every row (a property of the table).

    Parameters
    ----------
    df
        Needs ``longitude`` and ``latitude`` (WGS84, NaN when unknown).
    h3_resolution
        H3 resolution of ``h3_cell``.
    layers
        LSOA 2021, LSOA 2011 and ward polygons.

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` with :data:`LOCATION_COLUMNS` (same row order and index).

    Examples
    --------
    >>> empty = gpd.GeoDataFrame(
    ...     {"LSOA21CD": [], "LSOA11CD": [], "WD25CD": []}, geometry=[], crs=WGS84
    ... )
    >>> df = pd.DataFrame({"longitude": [-1.2577, np.nan], "latitude": [51.752, np.nan]})
    >>> out = locate_optional_points(df, h3_resolution=9, layers=AreaLayers(empty, empty, empty))
    >>> out["h3_cell"].tolist(), out["in_force_area"].tolist()
    (['89195d09a13ffff', <NA>], [False, <NA>])
    """
    out = df.copy()
    lon = pd.to_numeric(out["longitude"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(out["latitude"], errors="coerce").to_numpy(float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    n = len(out)
    e = np.full(n, np.nan)
    north = np.full(n, np.nan)
    columns = {
        name: pd.array([None] * n, dtype="string")
        for name in ("h3_cell", "lsoa21_code", "lsoa11_code", "ward_code")
    }
    in_force = pd.array([None] * n, dtype="boolean")
    if ok.any():
        # Many rows share a point (an address, a venue): locate each point once.
        unique, codes = np.unique(np.column_stack([lon[ok], lat[ok]]), axis=0, return_inverse=True)
        codes = codes.reshape(-1)
        located = locate_points(
            pd.DataFrame({"longitude": unique[:, 0], "latitude": unique[:, 1]}),
            h3_resolution=h3_resolution,
            lsoa21=layers.lsoa21,
            lsoa11=layers.lsoa11,
            wards=layers.wards,
        )
        e[ok] = located["easting_m"].to_numpy(float)[codes]
        north[ok] = located["northing_m"].to_numpy(float)[codes]
        for name in columns:
            columns[name][ok] = located[name].to_numpy(object)[codes]
        in_force[ok] = located["in_force_area"].to_numpy(bool)[codes]
    if "easting_m" in out and "northing_m" in out:
        given_e = pd.to_numeric(out["easting_m"], errors="coerce").to_numpy(float)
        given_n = pd.to_numeric(out["northing_m"], errors="coerce").to_numpy(float)
        keep = ok & np.isfinite(given_e) & np.isfinite(given_n)
        e[keep], north[keep] = given_e[keep], given_n[keep]
    out["easting_m"], out["northing_m"] = e, north
    out["longitude"] = np.where(ok, lon, np.nan)
    out["latitude"] = np.where(ok, lat, np.nan)
    for name, values in columns.items():
        out[name] = values
    out["h3_resolution"] = np.int8(h3_resolution)
    out["in_force_area"] = in_force
    return out
