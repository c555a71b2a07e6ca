import geopandas as gpd
import numpy as np
import pytest
from numpy.testing import assert_allclose
from shapely.geometry import box

from vrdp.risk_terrain import (
    RiskFactor,
    build_variables,
    candidate_variables,
    cell_of_points,
    count_points_in_cells,
    grid_from_bounds,
    grid_from_polygons,
    nearest_distance_m,
    quartic_kernel_density,
    spatial_influences_blocks,
)
from vrdp.risk_terrain.factors import density_threshold, evaluate_variables_at


def test_rtmdx_variable_count_174():
    factors = [RiskFactor(f"factor{i}", "both") for i in range(14)]
    factors.append(RiskFactor("bus_stop", "proximity"))
    v = candidate_variables(factors, block_length_m=120, max_blocks=3, increment="half")
    assert len(v) == 174
    assert v["variable"].is_unique
    assert (v.operationalisation == "proximity").sum() == 15 * 6
    assert (v.operationalisation == "density").sum() == 14 * 6
    assert sorted(v.spatial_influence_m.unique()) == [60, 120, 180, 240, 300, 360]


def test_whole_block_increments_and_bad_input():
    assert spatial_influences_blocks(3, "whole").tolist() == [1, 2, 3]
    assert spatial_influences_blocks(2.5, "half").tolist() == [0.5, 1, 1.5, 2, 2.5]
    v = candidate_variables(
        [RiskFactor("a"), RiskFactor("b", "density")],
        block_length_m=100,
        max_blocks=3,
        increment="whole",
    )
    assert len(v) == 9
    with pytest.raises(ValueError):
        RiskFactor("a", "nearness")
    with pytest.raises(ValueError):
        spatial_influences_blocks(3, "quarter")


def test_grid_from_bounds_and_points():
    g = grid_from_bounds(1000, 2000, 1100, 2050, 25)
    assert (g.n_rows, g.n_cols, g.n_cells) == (2, 4, 8)
    assert_allclose(g.centres_m[0], [1012.5, 2012.5])
    assert_allclose(g.centres_m[-1], [1087.5, 2037.5])
    pos = cell_of_points(
        g, np.array([1000.0, 1099.9, 1050, 999]), np.array([2000.0, 2049, 2025, 2010])
    )
    assert pos.tolist() == [0, 7, 6, -1]
    assert count_points_in_cells(
        g, np.array([1001.0, 1002, 1099]), np.array([2001.0, 2002, 2049])
    ).tolist() == [2, 0, 0, 0, 0, 0, 0, 1]


def test_grid_from_polygons_keeps_cells_with_centre_inside():
    # L-shape: 100x100 square plus a 100x50 strip to its right; WGS84 input is projected.
    polys = gpd.GeoSeries([box(0, 0, 100, 100), box(100, 0, 200, 50)], crs="EPSG:27700")
    g = grid_from_polygons(polys, 50)
    assert g.n_cells == 6 and (g.n_rows, g.n_cols) == (2, 4)
    assert sorted(zip(g.cells.row, g.cells.col, strict=True)) == [
        (0, 0),
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 0),
        (1, 1),
    ]
    # a point in the excluded corner is outside the study area
    assert cell_of_points(g, np.array([175.0]), np.array([75.0])).tolist() == [-1]
    g2 = grid_from_polygons(gpd.GeoDataFrame(geometry=polys.to_crs("EPSG:4326")), 50)
    assert g2.n_cells == 6


def test_nearest_distance_and_proximity_variables():
    centres = np.array([[0.0, 0], [100, 0], [149, 0], [151, 0]])
    feats = {"pub": np.array([[0.0, 0], [0, 300]])}
    assert_allclose(nearest_distance_m(centres, feats["pub"]), [0, 100, 149, 151])
    v = candidate_variables([RiskFactor("pub", "proximity")], block_length_m=100, max_blocks=1.5)
    X, v2 = build_variables(centres, feats, v)
    # within 50 m, 100 m (inclusive), 150 m
    assert X.tolist() == [[1, 1, 1], [0, 1, 1], [0, 0, 1], [0, 0, 0]]
    assert v2.threshold.tolist() == [50, 100, 150]
    assert v2.cells_present.tolist() == [1, 2, 3]
    # no features at all -> all-zero variables
    X0, _ = build_variables(centres, {}, v)
    assert X0.sum() == 0


def test_quartic_kernel_values_and_mass():
    h = 80.0
    d = quartic_kernel_density(
        np.array([[0.0, 0], [40, 0], [0, 79.9], [0, 80]]), np.array([[0.0, 0]]), h
    )
    k0 = 3 / (np.pi * h * h) * 1e6
    assert_allclose(d[:3], [k0, k0 * (1 - 0.25) ** 2, k0 * (1 - (79.9 / 80) ** 2) ** 2])
    assert d[3] == 0
    # kernel integrates to one feature: sum over a fine grid * cell area (km²) ~= number of features
    xs = np.arange(-100, 100, 2.0) + 1.0
    pts = np.array(np.meshgrid(xs, xs)).reshape(2, -1).T
    dens = quartic_kernel_density(pts, np.array([[0.0, 0.0], [10.0, 5.0]]), h)
    assert_allclose(dens.sum() * (2 * 2) / 1e6, 2.0, rtol=1e-3)


def test_densities_at_every_bandwidth_share_one_pair_search_per_factor():
    """build_variables searches each factor's pairs once, at its widest bandwidth; every
    density variable is the one a search at its own bandwidth gives (several factors,
    both operationalisations, a factor with no features)."""
    rng = np.random.default_rng(3)
    g = grid_from_bounds(0, 0, 1500, 1500, 50)
    feats = {
        "bar": rng.uniform(0, 1500, (60, 2)),
        "shop": np.vstack([rng.normal(700, 80, (40, 2)), rng.uniform(0, 1500, (15, 2))]),
        "school": np.empty((0, 2)),
    }
    factors = [RiskFactor("bar"), RiskFactor("shop", "density"), RiskFactor("school")]
    v = candidate_variables(factors, block_length_m=100, max_blocks=3, increment="half")
    X, v2 = build_variables(g.centres_m, feats, v)
    dens_rows = np.flatnonzero(v.operationalisation.to_numpy() == "density")
    assert len(dens_rows) >= 12
    for j in dens_rows:
        row = v.iloc[j]
        dens = quartic_kernel_density(g.centres_m, feats[row.factor], row.spatial_influence_m)
        assert_allclose(v2.threshold.iloc[j], density_threshold(dens, 2.0), rtol=1e-12)
        assert X[:, j].tolist() == (dens > v2.threshold.iloc[j] + 1e-12).astype(int).tolist()


def test_density_variable_mean_plus_two_sd():
    rng = np.random.default_rng(0)
    g = grid_from_bounds(0, 0, 2000, 2000, 50)
    feats = {"bar": np.vstack([rng.normal(1000, 60, size=(30, 2)), rng.uniform(0, 2000, (10, 2))])}
    v = candidate_variables(
        [RiskFactor("bar", "density")], block_length_m=100, max_blocks=2, increment="whole"
    )
    X, v2 = build_variables(g.centres_m, feats, v)
    for j, bw in enumerate([100.0, 200.0]):
        dens = quartic_kernel_density(g.centres_m, feats["bar"], bw)
        thr = dens.mean() + 2 * dens.std()
        assert_allclose(v2.threshold.iloc[j], thr)
        assert_allclose(density_threshold(dens, 2.0), thr)
        assert X[:, j].tolist() == (dens > thr).astype(int).tolist()
        assert 0 < X[:, j].sum() < g.n_cells * 0.1
    # evaluating at the cell centres reproduces the grid variables
    assert (evaluate_variables_at(g.centres_m, feats, v2) == X).all()
