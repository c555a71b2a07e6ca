"""A force's area from its own files, its boundaries cut from the national pack, as assets."""

import json

import dagster as dg
import geopandas as gpd
import pytest
from support import COL_STREET, PUBLIC, TVP_STREET, land

from assets.geography.boundaries import FORCE_AREA_KEY, boundary_assets
from config.resources import PlatformConfig
from config.settings import settings
from vrdp.force_area import (
    cut_force_boundaries,
    infer_districts,
    lsoa_agreement,
    outline_box,
    reported_lsoa_codes,
)

PACK = PUBLIC / "boundaries" / "england_wales"
#: Thames Valley Police's 13 districts (ONS LAD codes, current)
TVP_DISTRICTS = [
    "E06000036", "E06000037", "E06000038", "E06000039", "E06000040", "E06000041",
    "E06000042", "E06000060", "E07000177", "E07000178", "E07000179", "E07000180",
    "E07000181",
]  # fmt: skip


@pytest.fixture(scope="module")
def national():
    return gpd.read_parquet(PACK / "ew_lsoa21_bng.parquet"), gpd.read_parquet(
        PACK / "ew_wards25_bng.parquet"
    )


def test_districts_inferred_from_the_forces_own_files(national):
    lsoas, _ = national
    table = lsoas.drop(columns="geometry")
    col = infer_districts(reported_lsoa_codes(sorted(COL_STREET.glob("2025-*"))), table)
    assert col.loc[col["in_force"], "lad_cd"].tolist() == ["E09000001"]
    # the City reports crimes in a few neighbours' LSOAs too, never most of a district's
    assert len(col) > 1 and col.loc[~col["in_force"], "share"].max() < 0.25
    tvp = infer_districts(reported_lsoa_codes(sorted(TVP_STREET.glob("2025-0[1-3]*"))), table)
    assert tvp.loc[tvp["in_force"], "lad_cd"].tolist() == TVP_DISTRICTS


def test_cut_boundaries_match_the_shipped_demo_layers(national):
    cut = cut_force_boundaries(*national, TVP_DISTRICTS)
    shipped = gpd.read_file(
        PUBLIC / "boundaries" / "thames_valley" / "thames_valley_lsoa21.geojson"
    )
    wards = gpd.read_file(
        PUBLIC / "boundaries" / "thames_valley" / "thames_valley_wards_2025.geojson"
    )
    assert set(cut.lsoa21["LSOA21CD"]) == set(shipped["LSOA21CD"])
    assert set(cut.wards["WD25CD"]) == set(wards["WD25CD"])
    box = outline_box(cut.outline)
    # the old hand-made box (shipped polygons plus 2 km), within a kilometre
    for got, old in zip(
        (box.e_min, box.e_max, box.n_min, box.n_max),
        (417_000, 508_000, 157_000, 258_000),
        strict=True,
    ):
        assert abs(got - old) < 1_000


def test_city_of_london_boundaries(national):
    cut = cut_force_boundaries(*national, ["E09000001"])
    assert len(cut.lsoa21) == 6 and len(cut.wards) == 25
    assert 2.5e6 < float(cut.outline.area.sum()) < 3.5e6  # the square mile, in m2
    with pytest.raises(ValueError, match="no LSOA"):
        cut_force_boundaries(*national, ["E99999999"])


def test_lsoa_agreement_counts():
    import pandas as pd

    out = lsoa_agreement(pd.Series(["A", "B", None]), pd.Series(["A", "C", "D"]))
    assert out == {"rows": 3, "reported": 2, "computed": 3, "both": 2, "agree": 1, "disagree": 1}


def _materialize(root):
    instance = dg.DagsterInstance.ephemeral()
    return instance, dg.materialize(
        boundary_assets(),
        instance=instance,
        resources={"platform": PlatformConfig()},
        raise_on_error=False,
    )


def test_boundary_assets_follow_the_configured_force(tmp_path, monkeypatch):
    root = tmp_path / "data"
    monkeypatch.setenv("VRDP_DATA_ROOT", str(root))
    monkeypatch.setenv("VRDP_POLICE_UK_FORCE", "city-of-london")
    monkeypatch.delenv("VRDP_FORCE_DISTRICTS", raising=False)
    # nothing landed, nothing configured: a failure that says what to do
    _, result = _materialize(root)
    assert not result.success
    land(root, *sorted(COL_STREET.glob("2025-0[1-2]*")))
    instance, result = _materialize(root)
    assert result.success
    lake = settings().lake_dir / "geography"
    record = json.loads((lake / "force_area.json").read_text())
    assert record["districts"] == ["E09000001"] and "inferred" in record["rule"]
    wards = gpd.read_parquet(lake / "wards_boundaries.parquet")
    assert len(wards) == 25 and wards.crs.to_epsg() == 4326
    assert len(gpd.read_parquet(lake / "lsoa11_boundaries.parquet")) == 0  # none shipped
    meta = instance.get_latest_materialization_event(FORCE_AREA_KEY).asset_materialization.metadata
    assert meta["districts"].value == "E09000001"
    # configured districts win over inference
    monkeypatch.setenv("VRDP_FORCE_DISTRICTS", "E09000001, E09000033")
    _, result = _materialize(root)
    record = json.loads((lake / "force_area.json").read_text())
    assert result.success and record["districts"] == ["E09000001", "E09000033"]
    assert record["rule"].startswith("configured")
