"""Population and deprivation of each LSOA 2021 and ward: the needs pack's denominators.

Built from the shipped public data (``python -m vrdp.needs.reference`` rewrites
the dbt seed ``dbt_project/seeds/needs_lsoa21_population.csv``; a test checks
the seed equals this function's output):

- residents: 2011 census usual residents. A 2021 LSOA whose code existed in
  2011 keeps its population; a new one takes an equal share of the nearest 2011
  LSOA by centroid (splits never double-count people);
- age bands: residents times England and Wales 2011 age shares (Census 2011
  KS102EW, rounded): 0-9 11.8%, 10-17 9.5%, 18-24 9.4%, 25+ 69.3%. The same
  shares everywhere, an approximation until an LSOA age table is shipped;
- IMD 2019: the 2011 parent's national rank (1 most deprived of 32,844) and
  decile; ``imd_decile_force`` re-ranks the force's LSOAs into ten equal groups
  (1 most deprived within the force);
- ward: the 2025 ward holding the LSOA's representative point.

This is the demo's table. A force that delivers the ONS population estimates by
LSOA 2021 gets the same columns from its own figures (:mod:`vrdp.needs.population`),
and the dbt model ``needs_lsoa_population`` reads those instead of the seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "AGE_BANDS",
    "AGE_SHARES",
    "IMD_LSOAS_ENGLAND",
    "lsoa21_population",
    "ward_population",
    "force_deciles",
]

AGE_BANDS = ("0-9", "10-17", "18-24", "25+")
#: England and Wales, Census 2011 (KS102EW), rounded to 0.1%.
AGE_SHARES = {"0-9": 0.118, "10-17": 0.095, "18-24": 0.094, "25+": 0.693}
#: LSOAs ranked by the English Indices of Deprivation 2019.
IMD_LSOAS_ENGLAND = 32_844


def force_deciles(rank: np.ndarray) -> np.ndarray:
    """Deciles 1..10 of ``rank`` within the given areas (1 = most deprived tenth).

    >>> force_deciles(np.arange(1, 21)).tolist()
    [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10]
    """
    rank = np.asarray(rank, float)
    order = pd.Series(rank).rank(method="first").to_numpy()
    return np.ceil(order * 10 / len(rank)).astype(int)


def national_decile(rank: np.ndarray) -> np.ndarray:
    """IMD 2019 national decile of a (possibly population-weighted) rank.

    >>> national_decile(np.array([1, 3284, 3285, 32844])).tolist()
    [1, 1, 2, 10]
    """
    r = np.asarray(rank, float)
    return np.clip(np.ceil(r * 10 / IMD_LSOAS_ENGLAND), 1, 10).astype(int)


def lsoa21_population(public_data: str | Path) -> pd.DataFrame:
    """One row per LSOA 2021 of the shipped boundaries (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        ``lsoa21_code``, ``lsoa21_name``, ``lad_code``, ``ward_code``, ``ward_name``,
        ``residents`` and ``residents_<band>`` for each age band, ``imd_rank``,
        ``imd_decile_national``, ``imd_decile_force``; sorted by code.
    """
    import geopandas as gpd
    import shapely
    from scipy.spatial import cKDTree

    from config.demo import DEMO_BOUNDARY_FILES, DEMO_LSOA11_POPULATION

    root = Path(public_data)
    gdf = gpd.read_file(root / DEMO_BOUNDARY_FILES["lsoa21"]).to_crs(27700)
    gdf = gdf.sort_values("LSOA21CD").reset_index(drop=True)
    wards = gpd.read_file(root / DEMO_BOUNDARY_FILES["wards"]).to_crs(27700)
    cent = pd.read_csv(root / DEMO_BOUNDARY_FILES["lsoa_centroids"])
    pop = pd.read_csv(root / DEMO_LSOA11_POPULATION)
    imd = pd.read_csv(
        root / "reference" / "imd2019_lsoa11_england.csv.gz", usecols=["lsoa_code", "IMD_rank"]
    )
    c11 = cent[cent["in_2011"] == 1].merge(
        pop[["lsoa11cd", "all_usual_residents"]], left_on="LSOACD", right_on="lsoa11cd"
    )
    c11 = c11.reset_index(drop=True)
    pts11 = gpd.GeoSeries(gpd.points_from_xy(c11["longitude"], c11["latitude"]), crs=4326).to_crs(
        27700
    )
    rep = shapely.point_on_surface(gdf.geometry.values)
    cx = shapely.get_x(shapely.centroid(gdf.geometry.values))
    cy = shapely.get_y(shapely.centroid(gdf.geometry.values))
    _, nearest = cKDTree(np.c_[pts11.x, pts11.y]).query(np.c_[cx, cy])
    code_to_11 = {c: i for i, c in enumerate(c11["LSOACD"])}
    parent = np.array([code_to_11.get(c, n) for c, n in zip(gdf["LSOA21CD"], nearest, strict=True)])
    children = np.bincount(parent, minlength=len(c11))
    residents = c11["all_usual_residents"].to_numpy()[parent] / children[parent]
    rank_of = dict(zip(imd["lsoa_code"], imd["IMD_rank"], strict=True))
    rank = np.array([rank_of.get(c, np.nan) for c in c11["LSOACD"]], float)[parent]
    joined = gpd.sjoin(
        gpd.GeoDataFrame(geometry=gpd.GeoSeries(rep, crs=27700)),
        wards[["WD25CD", "WD25NM", "geometry"]],
        how="left",
        predicate="within",
    )
    joined = joined[~joined.index.duplicated(keep="first")].sort_index()
    out = pd.DataFrame(
        {
            "lsoa21_code": gdf["LSOA21CD"].to_numpy(),
            "lsoa21_name": gdf["LSOA21NM"].to_numpy(),
            "lad_code": gdf["LADCD_ACTIVE"].to_numpy(),
            "ward_code": joined["WD25CD"].to_numpy(),
            "ward_name": joined["WD25NM"].to_numpy(),
            "residents": np.round(residents, 1),
        }
    )
    for band in AGE_BANDS:
        out[f"residents_{_col(band)}"] = np.round(residents * AGE_SHARES[band], 1)
    out["imd_rank"] = rank.astype(int)
    out["imd_decile_national"] = national_decile(rank)
    out["imd_decile_force"] = force_deciles(rank)
    return out


def _col(band: str) -> str:
    """Column suffix of an age band: ``0-9`` -> ``0_9``, ``25+`` -> ``25_plus``."""
    return band.replace("-", "_").replace("+", "_plus")


def ward_population(lsoas: pd.DataFrame) -> pd.DataFrame:
    """Wards from :func:`lsoa21_population`: summed residents, population-weighted IMD rank.

    Returns
    -------
    pandas.DataFrame
        ``ward_code``, ``ward_name``, ``residents``, ``residents_<band>``, ``imd_rank``
        (population-weighted mean of its LSOAs' ranks), ``imd_decile_national`` and
        ``imd_decile_force`` (ten equal groups of the force's wards).
    """
    df = lsoas.dropna(subset=["ward_code"]).copy()
    df["w_rank"] = df["imd_rank"] * df["residents"]
    cols = ["residents", *(f"residents_{_col(b)}" for b in AGE_BANDS), "w_rank"]
    g = df.groupby(["ward_code", "ward_name"], as_index=False)[cols].sum()
    g["imd_rank"] = (g["w_rank"] / g["residents"]).round(1)
    g = g.drop(columns="w_rank")
    g["imd_decile_national"] = national_decile(g["imd_rank"].to_numpy())
    g["imd_decile_force"] = force_deciles(g["imd_rank"].to_numpy())
    return g


def main() -> None:
    """Rewrite the dbt seed from the shipped public data."""
    from config.settings import REPO_ROOT

    df = lsoa21_population(REPO_ROOT / "public_data")
    path = REPO_ROOT / "dbt_project" / "seeds" / "needs_lsoa21_population.csv"
    df.to_csv(path, index=False)
    print(f"{path}: {len(df)} LSOAs, {df['residents'].sum():,.0f} residents")


if __name__ == "__main__":
    main()
