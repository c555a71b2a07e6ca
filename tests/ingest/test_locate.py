"""Locating lake rows: located-table columns, null where no point, intelligence first location."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from support import PUBLIC, THAMES_VALLEY_BOX

from vrdp.geo import LOCATION_COLUMNS, locate_optional_points, locate_points
from vrdp.ingest.locate import first_location_points, locate_delivery, read_area_layers

B = PUBLIC / "boundaries" / "thames_valley"


@pytest.fixture(scope="module")
def layers():
    return read_area_layers(
        B / "thames_valley_lsoa21.geojson",
        B / "thames_valley_lsoa11.geojson",
        B / "thames_valley_wards_2025.geojson",
    )


def test_optional_points_agree_with_locate_points_and_leave_the_rest_null(layers):
    df = pd.DataFrame(
        {
            "longitude": [-1.2577, np.nan, -0.9730, -3.18],
            "latitude": [51.752, np.nan, 51.4543, 51.48],
        }
    )
    out = locate_optional_points(df, h3_resolution=9, layers=layers)
    ref = locate_points(
        df.iloc[[0, 2, 3]].reset_index(drop=True),
        h3_resolution=9,
        lsoa21=layers.lsoa21,
        lsoa11=layers.lsoa11,
        wards=layers.wards,
    )
    assert set(LOCATION_COLUMNS) <= set(out.columns)
    got = out.iloc[[0, 2, 3]].reset_index(drop=True)
    for col in ("h3_cell", "lsoa21_code", "lsoa11_code", "ward_code"):
        assert got[col].tolist() == ref[col].tolist(), col
    assert got["in_force_area"].tolist() == [True, True, False]  # Oxford, Reading, Cardiff
    assert out.loc[1, ["h3_cell", "lsoa21_code", "ward_code"]].isna().all()
    assert pd.isna(out.loc[1, "in_force_area"]) and np.isnan(out.loc[1, "easting_m"])
    assert (out["h3_resolution"] == 9).all()


def test_delivered_grid_references_are_kept_as_delivered(layers):
    df = pd.DataFrame(
        {
            "longitude": [-1.2577],
            "latitude": [51.752],
            "easting_m": [451_312.0],
            "northing_m": [206_203.0],
        }
    )
    out = locate_optional_points(df, h3_resolution=9, layers=layers)
    assert (out.loc[0, "easting_m"], out.loc[0, "northing_m"]) == (451_312.0, 206_203.0)


def test_intelligence_is_located_at_its_first_location(layers):
    logs = pd.DataFrame(
        {
            "log_id": ["a", "b", "c"],
            "locations": [
                '[{"easting": 451300, "northing": 206200, "text": "Carfax"}, '
                '{"easting": 471000, "northing": 173000, "text": "x"}]',
                '[{"easting": null, "northing": null, "text": "9 Well Avenue, Marlow"}]',
                '[{"easting": 206200, "northing": 451300, "text": "swapped"}]',
            ],
        }
    )
    out = locate_delivery(
        logs, "first_location", layers=layers, h3_resolution=9, area=THAMES_VALLEY_BOX
    )
    assert out["easting_m"].tolist()[0] == 451300 and out["in_force_area"].tolist()[0]
    assert pd.isna(out.loc[1, "h3_cell"]) and out.loc[1, "coordinate_fault"] == "missing"
    assert out.loc[2, "coordinate_fault"] == "swapped_fixed" and out.loc[2, "easting_m"] == 451300
    e, _ = first_location_points(logs["locations"])
    assert e.tolist() == [451300, None, 206200]


def test_empty_frames_keep_their_columns(layers):
    empty = pd.DataFrame({"longitude": pd.Series(dtype=float), "latitude": pd.Series(dtype=float)})
    out = locate_optional_points(empty, h3_resolution=9, layers=layers)
    assert len(out) == 0 and set(LOCATION_COLUMNS) <= set(out.columns)
    assert str(out["h3_cell"].dtype) == "string"


def test_unknown_mode_is_refused(layers):
    with pytest.raises(ValueError, match="unknown locate mode"):
        locate_delivery(pd.DataFrame(), "nowhere", layers=layers, h3_resolution=9)


def test_layers_are_read_from_geoparquet_too(tmp_path, layers):
    path = tmp_path / "wards.parquet"
    layers.wards.to_parquet(path)
    again = read_area_layers(
        B / "thames_valley_lsoa21.geojson", B / "thames_valley_lsoa11.geojson", path
    )
    assert isinstance(again.wards, gpd.GeoDataFrame) and len(again.wards) == len(layers.wards)
