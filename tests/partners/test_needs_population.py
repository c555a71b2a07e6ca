"""The needs pack's population for any force: a delivered ONS estimates file (issues 17, 18).

The City of London (a real second force, district E09000001) delivers an ONS-format
file for a handful of its LSOAs. The file is MADE UP for these tests: the codes and
names are the real LSOAs', the counts are invented and are not ONS figures.
"""

from __future__ import annotations

import csv
import gzip
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from quality.contracts.population import canonical_column, population_contract
from vrdp.needs.population import (
    POPULATION_COLUMNS,
    load_population_file,
    read_population_file,
)

REPO = Path(__file__).resolve().parents[2]
DBT = REPO / "dbt_project"
CITY = "E09000001"
#: Real City of London LSOA 2021 codes and names (the counts below are made up).
CITY_LSOAS = {
    "E01000001": "City of London 001A",
    "E01000002": "City of London 001B",
    "E01000003": "City of London 001C",
    "E01032739": "City of London 001F",
}
ONS_HEADER = [
    "LAD 2021 Code",
    "LAD 2021 Name",
    "LSOA 2021 Code",
    "LSOA 2021 Name",
    "Total",
    *(f"F{a}" for a in range(91)),
    *(f"M{a}" for a in range(91)),
]


def made_up_ages(i: int) -> tuple[list[int], list[int]]:
    """Invented females and males by single year of age for the i-th LSOA."""
    return [(a + i) % 7 + 1 for a in range(91)], [(3 * a + i) % 5 for a in range(91)]


def city_rows() -> list[list[str]]:
    """Made-up ONS rows (by sex) for four real City of London LSOAs, totals consistent."""
    rows = []
    for i, (code, name) in enumerate(CITY_LSOAS.items()):
        f, m = made_up_ages(i)
        rows.append([CITY, "City of London", code, name, str(sum(f) + sum(m)), *map(str, f + m)])
    return rows


def write_ons(path: Path, header: list[str], rows: list[list[str]], gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if gz else open
    with opener(path, "wt", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def bad_rows() -> list[list[str]]:
    """Malformed rows, each with the reason it must be quarantined for."""
    f, m = made_up_ages(9)
    ok = [*map(str, f + m)]
    total = str(sum(f) + sum(m))
    return [
        [CITY, "x", "E0100000X", "bad code", total, *ok],  # bad_format
        [CITY, "x", "E01000005", "City of London 001E", str(int(total) + 1), *ok],  # sum
        [CITY, "x", "E01032740", "City of London 001G", total, "", *ok[1:]],  # missing_age
        [CITY, "x", "E01032741", "y", "lots", *ok],  # bad_type
        [CITY, "x", "E01032742", "y", total, "-1", *ok[1:]],  # out_of_range
        [CITY, "x", "E01000001", "dup", total, *ok],  # duplicate_key with the first row
        [CITY, "short row"],  # wrong_field_count
    ]


# --- the contract and the reader ------------------------------------------------------


def test_ons_headers_are_read_case_and_space_insensitively():
    names = ["lsoa 2021 code", "LSOA_2021_NAME", "TOTAL", "f0", "M 12", "90+", "All Ages"]
    assert [canonical_column(n) for n in names] == [
        "lsoa21_code",
        "lsoa21_name",
        "total",
        "f_0",
        "m_12",
        "age_90",
        "total",
    ]
    assert canonical_column("91") is None and canonical_column("80+") is None


def test_made_up_city_file_loads_with_persons_summed_over_sexes(tmp_path):
    path = write_ons(tmp_path / "sapelsoasyoa2022.csv", ONS_HEADER, city_rows())
    res = load_population_file(path, delivered_on=date(2026, 1, 1))
    assert res.quarantine.empty and res.rows_in == 4
    loaded = res.loaded.set_index("lsoa21_code")
    assert sorted(loaded.index) == sorted(CITY_LSOAS)
    f, m = made_up_ages(2)
    assert loaded.loc["E01000003", "age_0"] == f[0] + m[0]
    assert loaded.loc["E01000003", "age_90"] == f[90] + m[90]
    ages = loaded[[f"age_{a}" for a in range(91)]].sum(axis=1)
    assert (ages == loaded["total"]).all()


def test_persons_layout_and_gzip_and_lower_case_headers(tmp_path):
    header = ["lsoa 2021 code", "lsoa 2021 name", "total", *map(str, range(90)), "90+"]
    rows = [["E01000002", "City of London 001B", str(91 * 2), *(["2"] * 91)]]
    path = write_ons(tmp_path / "persons.csv.gz", header, rows, gz=True)
    res = load_population_file(path, delivered_on=date(2026, 1, 1))
    assert len(res.loaded) == 1 and res.loaded.loc[0, "age_90"] == 2


def test_malformed_rows_are_quarantined_with_reasons(tmp_path):
    path = write_ons(tmp_path / "pop.csv", ONS_HEADER, city_rows() + bad_rows())
    res = load_population_file(path, delivered_on=date(2026, 1, 1))
    reasons = dict(zip(res.quarantine["row_number"], res.quarantine["reason"], strict=True))
    assert reasons == {
        1: "duplicate_key",  # E01000001 is sent twice with different content
        5: "bad_format",
        6: "age_sum_mismatch",
        7: "missing_age",
        8: "bad_type",
        9: "out_of_range",
        10: "duplicate_key",
        11: "wrong_field_count",
    }
    assert res.rows_in == len(res.loaded) + len(res.quarantine) + res.collapsed == 11
    assert set(res.loaded["lsoa21_code"]) == {"E01000002", "E01000003", "E01032739"}
    mismatch = res.quarantine[res.quarantine["reason"] == "age_sum_mismatch"]
    assert "single years sum to" in mismatch["detail"].iloc[0]
    assert res.quarantine["raw_row"].str.contains("E0100000X").any()


@pytest.mark.parametrize(
    "header, problem",
    [
        (["LSOA 2021 Code", "Total", *map(str, range(80))], "not one full set"),
        (["LSOA 2021 Code", *map(str, range(91))], "no total column"),
        (["LSOA 2021 Code", "Total", "Mystery", *map(str, range(91))], "unexpected column"),
    ],
)
def test_a_file_that_is_not_the_ons_layout_is_refused(tmp_path, header, problem):
    from vrdp.errors import SourceFileError

    path = write_ons(tmp_path / "pop.csv", header, [])
    with pytest.raises(SourceFileError, match=problem):
        read_population_file(path)


def test_contract_names_every_single_year_once():
    names = population_contract().names
    assert len(names) == len(set(names)) == 3 + 3 * 91


# --- the asset and the dbt model on the City of London --------------------------------


def _dbt_build(root: Path, target: Path) -> None:
    """Build the seed and the denominators model in a dbt process of its own."""
    (root / "warehouse").mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "build",
            "--select",
            "needs_lsoa21_population",
            "needs_lsoa_population",
            "--project-dir",
            str(DBT),
            "--profiles-dir",
            str(DBT),
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
        ],
        cwd=DBT,
        env={**os.environ, "VRDP_DATA_ROOT": str(root)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def _materialize(root: Path):
    from assets.geography.boundaries import force_boundaries_asset
    from assets.partners.needs_population import needs_population
    from config.resources import PlatformConfig
    from vrdp.governance.permissions import ensure_restricted_db

    ensure_restricted_db(root / "restricted" / "identity.duckdb")
    return dg.materialize(
        [force_boundaries_asset, needs_population],
        resources={"platform": PlatformConfig()},
        raise_on_error=False,
    )


def _relation(root: Path) -> pd.DataFrame:
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        return con.execute("select * from marts.needs_lsoa_population order by 1").df()
    finally:
        con.close()


@pytest.fixture
def city(data_root, monkeypatch):
    monkeypatch.setenv("VRDP_FORCE_DISTRICTS", CITY)
    return data_root


def test_city_delivery_becomes_the_needs_relation(city, tmp_path):
    landing = city / "landing" / "ons" / "lsoa_population"
    write_ons(landing / "sapelsoasyoa2022.csv", ONS_HEADER, city_rows() + bad_rows())
    result = _materialize(city)
    assert result.success
    meta = {
        k.to_user_string(): m
        for k, m in (
            (e.asset_key, e.materialization.metadata)
            for e in result.get_asset_materialization_events()
        )
    }
    src = meta["ons/lsoa_population"]
    assert src["rows_in"].value == 11
    assert src["rows_loaded"].value + src["rows_quarantined"].value == 11
    q = meta["quarantine/ons_lsoa_population"]["reasons"].value
    assert q["age_sum_mismatch"] == 1 and q["missing_age"] == 1
    needs = meta["needs/lsoa_population"]
    assert needs["force_lsoas"].value == 6
    assert needs["lsoas_with_estimate"].value == 3  # E01000001 was sent twice: quarantined
    _dbt_build(city, tmp_path / "dbt")
    rel = _relation(city)
    assert list(rel.columns[:-1]) == list(POPULATION_COLUMNS)
    assert set(rel["population_source"]) == {"delivered"}
    assert set(rel["lsoa21_code"]) == {"E01000002", "E01000003", "E01032739"}
    bands = rel[["residents_0_9", "residents_10_17", "residents_18_24", "residents_25_plus"]]
    assert (bands.sum(axis=1) == rel["residents"]).all()
    f, m = made_up_ages(1)
    row = rel.set_index("lsoa21_code").loc["E01000002"]
    assert row["residents"] == sum(f) + sum(m)
    assert row["residents_10_17"] == sum(f[10:18]) + sum(m[10:18])
    assert row["lad_code"] == CITY and row["ward_name"] == "Bassishaw"
    # IMD 2019 from the shipped England file: City LSOAs kept their 2011 codes
    assert row["imd_rank"] == 30379 and row["imd_decile_national"] == 10
    assert sorted(rel["imd_decile_force"]) == [4, 7, 10]  # three LSOAs in ten groups
    assert rel["ward_code"].str.fullmatch(r"E05\d{6}").all()


def test_without_a_delivery_the_demo_seed_stands(city, tmp_path):
    result = _materialize(city)
    assert result.success
    _dbt_build(city, tmp_path / "dbt")
    rel = _relation(city)
    seed = pd.read_csv(DBT / "seeds" / "needs_lsoa21_population.csv")
    assert set(rel["population_source"]) == {"demo_seed"}
    assert len(rel) == len(seed)
    pd.testing.assert_series_equal(
        rel["residents"].reset_index(drop=True),
        seed.sort_values("lsoa21_code")["residents"].reset_index(drop=True),
        check_dtype=False,
    )


def test_welsh_lsoas_get_no_imd_2019_decile():
    """Wales has no IMD 2019 (the Welsh index is another index): rank and deciles are null."""
    import geopandas as gpd

    from vrdp.needs.population import lsoa_population_from_estimates

    pack = REPO / "public_data" / "boundaries" / "england_wales"
    lsoas = gpd.read_parquet(pack / "ew_lsoa21_bng.parquet")
    lsoas = lsoas[lsoas["lad_cd"] == "W06000015"].head(3)  # three LSOAs of Cardiff
    lsoas = lsoas.rename(
        columns={"lsoa21cd": "LSOA21CD", "lsoa21nm": "LSOA21NM", "lad_cd": "LAD_CD"}
    )
    wards = gpd.read_parquet(pack / "ew_wards25_bng.parquet")
    wards = wards[wards["lad25cd"] == "W06000015"].rename(
        columns={"wd25cd": "WD25CD", "wd25nm": "WD25NM"}
    )
    imd = pd.read_csv(
        REPO / "public_data" / "reference" / "imd2019_lsoa11_england.csv.gz",
        usecols=["lsoa_code", "IMD_rank"],
    )
    est = pd.DataFrame({"lsoa21_code": lsoas["LSOA21CD"].to_numpy(), "total": 91})
    for a in range(91):
        est[f"age_{a}"] = 1  # made up: one resident of each age
    no_2011 = gpd.GeoDataFrame({"LSOA11CD": []}, geometry=[], crs=27700)
    out, report = lsoa_population_from_estimates(est, lsoas, wards, no_2011, imd)
    assert len(out) == 3 and (out["residents"] == 91).all()
    assert out[["imd_rank", "imd_decile_national", "imd_decile_force"]].isna().all().all()
    assert sorted(report["lsoas_without_imd"]) == sorted(lsoas["LSOA21CD"])
    assert out["ward_code"].str.startswith("W05").all()


def test_a_new_2021_lsoa_takes_the_imd_of_the_2011_lsoa_holding_it():
    """Hand-made squares: a split 2021 LSOA (new code) inherits its 2011 parent's IMD rank."""
    import geopandas as gpd
    from shapely.geometry import box

    from vrdp.needs.population import lsoa_population_from_estimates

    lsoas = gpd.GeoDataFrame(
        {
            "LSOA21CD": ["E01099998", "E01099999", "E01000003"],
            "LSOA21NM": ["new a", "new b", "kept"],
            "LAD_CD": ["E09000001"] * 3,
        },
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)],
        crs=27700,
    )
    lsoa11 = gpd.GeoDataFrame(
        {"LSOA11CD": ["E01000001"]}, geometry=[box(0, 0, 200, 100)], crs=27700
    )
    wards = gpd.GeoDataFrame(
        {"WD25CD": ["E05000001"], "WD25NM": ["Made-up ward"]},
        geometry=[box(0, 0, 300, 100)],
        crs=27700,
    )
    imd = pd.DataFrame({"lsoa_code": ["E01000001", "E01000003"], "IMD_rank": [29199, 3000]})
    est = pd.DataFrame({"lsoa21_code": list(lsoas["LSOA21CD"]), "total": 91})
    for a in range(91):
        est[f"age_{a}"] = 1
    out, report = lsoa_population_from_estimates(est, lsoas, wards, lsoa11, imd)
    got = out.set_index("lsoa21_code")
    assert got.loc["E01099998", "imd_rank"] == got.loc["E01099999", "imd_rank"] == 29199
    assert got.loc["E01000003", "imd_rank"] == 3000  # no 2011 polygon: the same code
    assert got["imd_decile_national"].tolist() == [1, 9, 9]
    assert got.loc["E01000003", "imd_decile_force"] == 4  # most deprived of three
    assert report["imd_crosswalk"] == {"located": 2, "same code": 1}
    assert (got["ward_name"] == "Made-up ward").all()
