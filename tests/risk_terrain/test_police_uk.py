"""The police.uk RTM's pure functions on tiny hand-made boundaries, POIs and crimes."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from vrdp.risk_terrain.model import NoEventsError, RTMConfig
from vrdp.risk_terrain.police_uk import (
    busiest_district,
    choose_poi_source,
    default_or_configured_study_area,
    label_cells,
    run_police_uk_rtm,
    study_area_polygons,
)

BNG = "EPSG:27700"


def _layers():
    """Two districts side by side (A west, B east), 1 km x 1 km each; two wards in A."""
    lsoa21 = gpd.GeoDataFrame(
        {"LSOA21CD": ["LA1", "LA2", "LB1"], "LAD_CD": ["A", "A", "B"]},
        geometry=[box(0, 0, 1000, 500), box(0, 500, 1000, 1000), box(1000, 0, 2000, 1000)],
        crs=BNG,  # the lake holds WGS84 layers; the functions take any CRS
    )
    wards = gpd.GeoDataFrame(
        {"WD25CD": ["WA1", "WA2", "WB1"], "WD25NM": ["South A", "North A", "All B"]},
        # WA1 stops 10 m short of WA2: a sliver no ward covers
        geometry=[box(0, 0, 1000, 490), box(0, 500, 1000, 1000), box(1000, 0, 2000, 1000)],
        crs=BNG,
    )
    return lsoa21, wards


def _crimes(rng, pubs, n=600, n_far=150):
    """Crimes clustered within 40 m of the pubs plus background, in district A and B."""
    near = pubs[rng.integers(0, len(pubs), n)] + rng.uniform(-40, 40, (n, 2))
    far = np.column_stack([rng.uniform(0, 2000, n_far), rng.uniform(0, 1000, n_far)])
    xy = np.vstack([near, far])
    violence = "Violence and sexual offences"
    return pd.DataFrame({"easting_m": xy[:, 0], "northing_m": xy[:, 1], "crime_type": violence})


def test_busiest_district_counts_located_crimes_only_and_breaks_ties_by_code():
    lad = pd.Series({"L1": "B", "L2": "A"})
    table = busiest_district(pd.Series(["L1", "L2", None, "ELSEWHERE"]), lad)
    assert table.values.tolist() == [["A", 1], ["B", 1]]
    assert busiest_district(pd.Series([], dtype=str), lad).empty


def test_study_area_codes_are_districts_or_wards_of_the_force_only():
    lsoa21, wards = _layers()
    area = study_area_polygons(["wa2", "B"], lsoa21, wards)  # case does not matter
    assert area[["code", "kind", "name"]].values.tolist() == [
        ["WA2", "ward", "North A"],
        ["B", "district", "B"],
    ]
    assert area.area.tolist() == [500_000.0, 1_000_000.0]
    with pytest.raises(ValueError, match="'E07000178' is neither a district nor a ward"):
        study_area_polygons(["E07000178"], lsoa21, wards)
    with pytest.raises(ValueError, match="names no code"):
        study_area_polygons([" "], lsoa21, wards)


def test_default_study_area_is_the_busiest_district_and_says_so():
    lsoa21, wards = _layers()
    codes = pd.Series(["LB1"] * 3 + ["LA1", "LA2"] + [None] * 9)
    area = default_or_configured_study_area((), lsoa21, wards, codes)
    assert area.codes == ("B",)
    assert "most located street crimes" in area.rule and "B, 3 crimes" in area.rule
    assert area.record()["crimes_by_district"] == [
        {"district": "B", "crimes": 3},
        {"district": "A", "crimes": 2},
    ]
    assert area.record()["area_km2"] == pytest.approx(1.0, abs=0.01)
    configured = default_or_configured_study_area(["WA1"], lsoa21, wards, codes)
    assert configured.codes == ("WA1",) and configured.rule.startswith("configured")
    with pytest.raises(ValueError, match="no model-period street crime"):
        default_or_configured_study_area((), lsoa21, wards, pd.Series([None, None]))


def test_label_cells_takes_the_nearest_ward_across_a_sliver_only_nearby():
    lsoa21, wards = _layers()
    labels = label_cells(
        np.array([500.0, 500.0, 1500.0, 2500.0]),
        np.array([100.0, 495.0, 500.0, 500.0]),  # the second in the 10 m sliver
        lsoa21,
        wards,
    )
    assert labels["lsoa21_code"].tolist()[:3] == ["LA1", "LA1", "LB1"]
    assert labels["ward_code"].tolist()[:3] == ["WA1", "WA1", "WB1"]
    assert labels.iloc[3].isna().all()  # outside every LSOA: no code
    far = label_cells(np.array([500.0]), np.array([495.0]), lsoa21, wards, ward_gap_m=1.0)
    assert far["lsoa21_code"].tolist() == ["LA1"] and far["ward_code"].isna().all()


def test_run_on_district_a_finds_the_planted_pub_factor_and_labels_its_cells():
    rng = np.random.default_rng(5)
    lsoa21, wards = _layers()
    pubs = rng.uniform([100, 100], [1900, 900], (12, 2))
    pois = pd.DataFrame(
        {
            "category": ["pub", "bar"] * 6 + ["atm"] * 10,
            "easting_m": np.r_[pubs[:, 0], rng.uniform(0, 2000, 10)],
            "northing_m": np.r_[pubs[:, 1], rng.uniform(0, 1000, 10)],
        }
    )
    crimes = _crimes(rng, pubs)
    area = default_or_configured_study_area(["A"], lsoa21, wards, pd.Series([], dtype=str))
    result = run_police_uk_rtm(
        pois,
        crimes,
        area,
        lsoa21,
        wards,
        next_crimes=_crimes(rng, pubs),
        config=RTMConfig(block_length_m=100.0, n_folds=3, max_shortlist=10, seed=1),
    )
    cells = result.cells
    assert len(cells) == 400  # 1 km2 of 50 m cells, every centre inside district A
    assert cells["easting_m"].max() < 1000
    assert set(cells["lsoa21_code"]) == {"LA1", "LA2"}
    assert set(cells["ward_code"]) == {"WA1", "WA2"}  # the sliver's cells take WA1
    assert "licensed_premises" in set(result.factor_table["factor"])
    data = result.report["data"]
    assert data["factor_categories"]["licensed_premises"] == ["pub", "bar", "nightclub"]
    assert data["pois_per_factor"] == {"licensed_premises": 12, "atm": 10}
    in_a = int((pubs[:, 0] < 1000).sum())
    assert data["pois_in_study_area_per_factor"]["licensed_premises"] == in_a
    in_a_crimes = int(
        (
            crimes["easting_m"].between(0, 1000, inclusive="neither")
            & crimes["northing_m"].between(0, 1000, inclusive="neither")
        ).sum()
    )
    assert data["events_in_study_area"] == in_a_crimes < data["events_selected"]
    assert data["study_area"]["codes"] == ["A"] and data["exposure"] is None
    assert result.validation is not None and data["events_next"] > 0


def test_crime_types_filter_and_no_events_in_the_area_is_an_error():
    rng = np.random.default_rng(2)
    lsoa21, wards = _layers()
    pubs = rng.uniform([100, 100], [900, 900], (6, 2))
    pois = pd.DataFrame({"category": "pub", "easting_m": pubs[:, 0], "northing_m": pubs[:, 1]})
    area = default_or_configured_study_area(["B"], lsoa21, wards, pd.Series([], dtype=str))
    with pytest.raises(NoEventsError):  # every crime lies in district A
        run_police_uk_rtm(pois, _crimes(rng, pubs, n_far=0), area, lsoa21, wards)
    area_a = default_or_configured_study_area(["A"], lsoa21, wards, pd.Series([], dtype=str))
    with pytest.raises(NoEventsError):  # no crime of the asked type
        run_police_uk_rtm(pois, _crimes(rng, pubs), area_a, lsoa21, wards, crime_types=["Burglary"])


def test_simulated_pois_are_never_put_against_real_crimes():
    assert choose_poi_source(True, "none")[0] == "delivered"
    for scale in ("small", "medium", "large"):
        source, why = choose_poi_source(True, scale)
        assert source == "demo" and "simulated world" in why
    assert choose_poi_source(False, "none")[0] == "demo"


def test_a_delivery_of_another_area_s_places_is_not_the_force_s():
    assert choose_poi_source(True, "none", 0.5)[0] == "delivered"
    source, why = choose_poi_source(True, "none", 0.49)
    assert source == "demo" and "outside the force area (49% of its POIs in it)" in why
    assert choose_poi_source(True, "none", None)[0] == "delivered"  # not located: unknown


def test_with_the_force_s_gazetteers_the_exposure_is_estimated_and_combined_rr_computed():
    rng = np.random.default_rng(5)
    lsoa21, wards = _layers()
    pubs = rng.uniform([100, 100], [1900, 900], (12, 2))
    pois = pd.DataFrame({"category": "pub", "easting_m": pubs[:, 0], "northing_m": pubs[:, 1]})
    # addresses on the southern half of district A only: its northern half holds no
    # candidate (but for the pubs) and leaves the study cells
    addr = np.column_stack([rng.uniform(0, 1000, 800), rng.uniform(0, 500, 800)])
    streets = np.column_stack([rng.uniform(0, 1000, 100), rng.uniform(0, 500, 100)])
    candidates = pd.DataFrame(
        {
            "easting_m": np.r_[addr[:, 0], streets[:, 0]],
            "northing_m": np.r_[addr[:, 1], streets[:, 1]],
            "location_class": ["address"] * 800 + ["street"] * 100,
        }
    )
    area = default_or_configured_study_area(["A"], lsoa21, wards, pd.Series([], dtype=str))
    result = run_police_uk_rtm(
        pois,
        _crimes(rng, pubs),
        area,
        lsoa21,
        wards,
        next_crimes=_crimes(rng, pubs),
        config=RTMConfig(block_length_m=100.0, n_folds=3, max_shortlist=10, seed=1),
        candidates=candidates,
    )
    cells = result.cells
    pub_cells = {(int(x // 50), int(y // 50)) for x, y in pubs if x < 1000 and y >= 500}
    # the southern half's 200 cells (almost all hold an address) and the pubs' cells
    assert 190 <= len(cells) <= 200 + len(pub_cells)
    assert (cells["northing_m"] > 500).sum() == len(pub_cells)
    em = result.report["exposure_model"]
    assert {a["location_class"] for a in em["attractions"]} == {"address", "street", "pub"}
    data = result.report["data"]
    assert data["exposure"].startswith("offset: candidate locations")
    assert data["candidate_locations"]["address"] == 800
    from vrdp.risk_terrain.outputs import combined_relative_risk

    comb = combined_relative_risk(result)  # the planted pubs are found, with their venues
    assert comb["factor"].tolist() == ["licensed_premises"]
    assert comb["combined_rr"].notna().all() and comb["venue_classes"].tolist() == ["pub"]
