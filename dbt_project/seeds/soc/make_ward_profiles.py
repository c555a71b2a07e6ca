"""Rebuild ``ward_profiles.csv`` from the shipped public data (run from the repo root).

Each LSOA 2011 is assigned to the ward 2025 that holds its centroid; a ward's
population is the sum of its LSOAs' 2011 census usual residents, and its
deprivation decile is the IMD 2019 decile of the population-weighted mean IMD
rank of those LSOAs (rank 1 = most deprived of England's 32,844 LSOAs).

    .venv/bin/python dbt_project/seeds/soc/make_ward_profiles.py
"""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
PUBLIC = ROOT / "public_data"
N_LSOA_ENGLAND = 32_844


def ward_profiles() -> pd.DataFrame:
    """One row per ward: code, name, population (2011), IMD 2019 decile and rank."""
    bnd = PUBLIC / "boundaries" / "thames_valley"
    wards = gpd.read_file(bnd / "thames_valley_wards_2025.geojson")
    cent = pd.read_csv(bnd / "thames_valley_lsoa_centroids.csv")
    cent = cent[cent["in_2011"] == 1]
    pts = gpd.GeoDataFrame(
        cent, geometry=gpd.points_from_xy(cent["longitude"], cent["latitude"]), crs=4326
    )
    joined = gpd.sjoin(pts, wards[["WD25CD", "geometry"]], predicate="within")
    pop = pd.read_csv(PUBLIC / "reference" / "census_2011_lsoa_population_thames_valley.csv")
    imd = pd.read_csv(PUBLIC / "reference" / "imd2019_lsoa11_england.csv.gz")
    df = (
        joined[["LSOACD", "WD25CD"]]
        .merge(pop[["lsoa11cd", "all_usual_residents"]], left_on="LSOACD", right_on="lsoa11cd")
        .merge(imd[["lsoa_code", "IMD_rank"]], left_on="LSOACD", right_on="lsoa_code")
    )
    g = df.groupby("WD25CD")
    out = pd.DataFrame(
        {
            "population": g["all_usual_residents"].sum(),
            "lsoa_count": g.size(),
            "imd_rank_weighted": g.apply(
                lambda x: np.average(x["IMD_rank"], weights=x["all_usual_residents"]),
                include_groups=False,
            ).round(0),
        }
    ).reset_index()
    out["imd_decile"] = np.ceil(out["imd_rank_weighted"] / N_LSOA_ENGLAND * 10).astype(int)
    out = wards[["WD25CD", "WD25NM"]].merge(out, on="WD25CD", how="left")
    out = out.rename(columns={"WD25CD": "ward_code", "WD25NM": "ward_name"})
    out["population"] = out["population"].fillna(0).astype(int)
    out["lsoa_count"] = out["lsoa_count"].fillna(0).astype(int)
    out["imd_rank_weighted"] = out["imd_rank_weighted"].astype("Int64")
    out["imd_decile"] = out["imd_decile"].astype("Int64")
    return out.sort_values("ward_code").reset_index(drop=True)


if __name__ == "__main__":
    path = Path(__file__).with_name("ward_profiles.csv")
    ward_profiles().to_csv(path, index=False)
    print(f"wrote {path}")
