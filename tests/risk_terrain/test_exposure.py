"""Residents per cell from the shipped 2011 census and LSOA 2011 boundaries."""

import numpy as np
import pandas as pd
import pytest

from vrdp.risk_terrain.exposure import (
    PUBLIC_DATA,
    lsoa_population,
    population_exposure,
    residents_per_cell,
)
from vrdp.risk_terrain.grid import grid_from_polygons


@pytest.fixture(scope="module")
def lsoas():
    return lsoa_population()


def test_every_lsoa_has_its_census_population(lsoas):
    census = pd.read_csv(
        PUBLIC_DATA / "reference" / "census_2011_lsoa_population_thames_valley.csv"
    )
    assert len(lsoas) == len(census) == 1415
    assert lsoas["residents"].sum() == census["all_usual_residents"].sum()
    assert (lsoas["residents_per_m2"] > 0).all()


def test_cells_of_an_lsoa_hold_its_residents(lsoas):
    # the cells whose centre lies in an LSOA hold its residents (up to the edge cells)
    for i in (0, 700):
        one = lsoas.iloc[[i]]
        grid = grid_from_polygons(one.geometry, 50.0)
        weight, code = residents_per_cell(grid, lsoas)
        assert set(code) == {one["lsoa11_code"].iloc[0]}
        covered = grid.n_cells * grid.cell_area_m2 / float(one["area_m2"].iloc[0])
        assert weight.sum() == pytest.approx(one["residents"].iloc[0] * covered, rel=1e-9)
        assert covered == pytest.approx(1.0, abs=0.1)


def test_population_exposure_is_one_row_per_study_cell(lsoas):
    c = lsoas.geometry.iloc[3].representative_point()
    pts_e = np.array([c.x, c.x + 1.0, c.x + 500.0, 0.0])
    pts_n = np.array([c.y, c.y + 1.0, c.y, 0.0])
    ex = population_exposure(pts_e, pts_n, 50.0, lsoas)
    assert len(ex) <= 3 + 1 and (ex["weight"] > 0).sum() >= 2
    far = ex[(ex["easting_m"] < 1000) & (ex["northing_m"] < 1000)]
    assert len(far) == 1 and far["weight"].iloc[0] == 0.0 and far["lsoa11_code"].isna().all()
