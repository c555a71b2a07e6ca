import json

import geopandas as gpd
import h3
import numpy as np
import pytest
from numpy.testing import assert_allclose

from vrdp.geo import to_bng
from vrdp.risk_terrain import (
    RTMConfig,
    cell_layer,
    risk_score_at_points,
    risk_score_for_h3,
    run_rtm,
)
from vrdp.risk_terrain.model import FACTOR_TABLE_COLUMNS
from vrdp.risk_terrain.simulate import PlantedFactor, simulate_world

PLANTED = [
    PlantedFactor("f00", "proximity", 1.0, 2.0),
    PlantedFactor("f01", "density", 2.0, 1.8),
    PlantedFactor("f02", "proximity", 2.5, 1.5),
    PlantedFactor("f03", "proximity", 0.5, 2.5),
]


@pytest.fixture(scope="module")
def world():
    # 14,400 cells of 50 m; 10 factors (9 both + 1 proximity-only) -> 114 candidates
    return simulate_world(
        seed=7,
        n_rows=120,
        n_cols=120,
        n_factors=10,
        planted=PLANTED,
        proximity_only=["f09"],
        base_rate=0.15,
    )


@pytest.fixture(scope="module")
def result(world):
    return run_rtm(
        world.grid,
        world.counts,
        world.features,
        world.factors,
        RTMConfig(block_length_m=100.0, seed=0),
        next_counts=world.next_counts,
    )


def test_planted_factors_recovered_within_30_percent(world, result):
    ft = result.factor_table.set_index("variable")
    assert result.report["n_candidate_variables"] == 9 * 12 + 6
    for p in PLANTED:
        name = f"{p.factor}__{p.operationalisation}__{p.blocks:g}b"
        assert name in ft.index, f"planted {name} not selected: {ft.index.tolist()}"
        assert abs(ft.loc[name, "rrv"] / p.rr - 1) < 0.30
        assert ft.loc[name, "p_value"] < 1e-3
    unplanted = ft[~ft["factor"].isin([p.factor for p in PLANTED])]
    assert (unplanted["rrv"] <= 1.5).all()
    assert result.report["family"] == "poisson"
    assert list(result.factor_table.columns) == FACTOR_TABLE_COLUMNS


def test_scores_clusters_and_validation(world, result):
    cells = result.cells
    assert cells["rrs"].min() == pytest.approx(1.0)
    expected_max = np.prod(result.factor_table["rrv"].clip(lower=1.0))
    assert cells["rrs"].max() == pytest.approx(expected_max, rel=1e-9)
    # score = product of RRVs present in each cell
    sel = result.factor_table
    logs = cells[sel["variable"]].to_numpy(float) @ np.log(sel["rrv"].to_numpy())
    assert_allclose(cells["log_rrs"], logs - logs.min(), atol=1e-9)
    assert result.report["n_clusters"] == len(result.clusters) > 0
    assert (
        cells.loc[cells.cluster_id > 0, "rrs"]
        >= cells.rrs.mean() + 2 * cells.rrs.std(ddof=0) - 1e-9
    ).all()
    v = result.validation
    assert v is not None and len(v) == 4
    # the planted-factor risk layer beats chance, and beats hot spots of a noisy previous period
    assert (v.rtm_pai > 1.5).all()
    assert (v.rtm_hit_rate > v.hotspot_hit_rate).all()
    json.dumps(result.report)  # serialisable


def test_deterministic_for_seed(world, result):
    again = run_rtm(
        world.grid,
        world.counts,
        world.features,
        world.factors,
        RTMConfig(block_length_m=100.0, seed=0),
    )
    assert again.factor_table["variable"].tolist() == result.factor_table["variable"].tolist()
    assert_allclose(again.factor_table["beta"], result.factor_table["beta"])


def test_cell_layer_geoparquet_geojson_and_h3_scores(world, result, tmp_path):
    gdf = cell_layer(result)
    assert gdf.crs.to_epsg() == 4326 and len(gdf) == world.grid.n_cells
    assert gdf.longitude.between(-1.5, -1.2).all() and gdf.latitude.between(51.6, 51.8).all()
    for col in ("cell_id", "rrs", "cluster_id", "easting_m", "northing_m", "longitude", "latitude"):
        assert col in gdf.columns
    gdf.to_parquet(tmp_path / "rtm_cells.parquet")
    gdf.iloc[:50].to_file(tmp_path / "rtm_cells.geojson", driver="GeoJSON")
    back = gpd.read_parquet(tmp_path / "rtm_cells.parquet")
    assert_allclose(back["rrs"], gdf["rrs"])
    assert len(gpd.read_file(tmp_path / "rtm_cells.geojson")) == 50

    # points at cell centres get their cell's score
    sample = result.cells.sample(200, random_state=1)
    s = risk_score_at_points(result.model, sample.easting_m, sample.northing_m)
    assert_allclose(s, sample.rrs, rtol=1e-9)

    # H3 cells: centre -> BNG -> score; consistent with the point scorer
    hexes = list(
        dict.fromkeys(
            h3.latlng_to_cell(lat, lon, 9)
            for lon, lat in zip(gdf.longitude[::500], gdf.latitude[::500], strict=True)
        )
    )
    hs = risk_score_for_h3(result.model, hexes)
    lat, lon = np.array([h3.cell_to_latlng(c) for c in hexes]).T
    e, n = to_bng(lon, lat)
    assert hs.index.tolist() == hexes
    assert_allclose(hs.to_numpy(), risk_score_at_points(result.model, e, n))
    assert (hs >= 1.0 - 1e-12).all()
