import h3
import numpy as np
import pytest
from numpy.testing import assert_allclose

from vrdp.hotspots.getis_ord import adjust_p_values, gi_star
from vrdp.hotspots.grid import neighbour_matrix, study_cells
from vrdp.hotspots.metrics import (
    rank_cells,
    recapture_rate_index,
    select_top_area,
    selection_metrics,
)


def test_pai_pei_worked_example():
    # observed (6,3,0), predicted (3,2,1), unit areas, shares 1/3, 2/3, 1
    m = selection_metrics(np.array([6, 3, 0]), np.array([3, 2, 1]), (1 / 3, 2 / 3, 1.0))
    assert_allclose(m["pai"], [2.0, 1.5, 1.0], rtol=1e-12)
    assert_allclose(m["pei"], [1.0, 1.0, 1.0], rtol=1e-12)
    assert_allclose(m["hit_rate"], [6 / 9, 1.0, 1.0], rtol=1e-12)


def test_pei_below_one_for_wrong_ranking():
    m = selection_metrics(np.array([6, 3, 0]), np.array([1, 2, 3]), (1 / 3, 2 / 3))
    assert_allclose(m["pai"], [0.0, 0.5], atol=1e-12)
    assert_allclose(m["pei"], [0.0, 0.5 / 1.5], rtol=1e-12)


def test_ties_broken_by_input_order_deterministically():
    score = np.array([1.0, 5.0, 5.0, 5.0, 0.0])
    assert rank_cells(score).tolist() == [1, 2, 3, 0, 4]
    sel = select_top_area(score, 0.4)
    assert sel.tolist() == [False, True, True, False, False]
    # same answer whatever the run
    for _ in range(3):
        assert select_top_area(score, 0.4).tolist() == sel.tolist()


def test_selection_respects_unequal_areas_and_keeps_one_cell():
    score = np.array([3.0, 2.0, 1.0])
    area = np.array([2.0, 1.0, 1.0])
    assert select_top_area(score, 0.5, area).tolist() == [True, False, False]
    assert select_top_area(score, 0.01, area).tolist() == [True, False, False]


def test_rri_levine():
    # selected cell had 2 of 6 events before, has 6 of 9 now: (6/2)/(9/6) = 2
    assert_allclose(
        recapture_rate_index(np.array([6, 3, 0]), np.array([2, 2, 2]), np.array([1, 0, 0], bool)),
        2.0,
    )


def test_p_adjust_matches_hand_values():
    p = np.array([0.01, 0.02, 0.03, 0.04, 0.5])
    # BH: p*m/rank, then cumulative min from the top
    assert_allclose(adjust_p_values(p, "fdr_bh"), [0.05, 0.05, 0.05, 0.05, 0.5], rtol=1e-12)
    assert_allclose(adjust_p_values(p, "bonferroni"), [0.05, 0.1, 0.15, 0.2, 1.0], rtol=1e-12)
    with pytest.raises(ValueError):
        adjust_p_values(p, "holm-ish")


@pytest.fixture
def small_grid():
    centre = h3.latlng_to_cell(51.752, -1.2577, 9)
    cells = np.array(sorted(h3.grid_disk(centre, 4)), dtype=object)
    rng = np.random.default_rng(3)
    x = rng.poisson(2.0, len(cells)).astype(float)
    x[cells == centre] = 25.0
    for nb in h3.grid_ring(centre, 1):
        x[cells == nb] += 8
    return cells, x


def test_gi_star_equals_esda(small_grid, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    from esda.getisord import G_Local
    from libpysal.weights import W

    cells, x = small_grid
    w = neighbour_matrix(cells, include_self=True)
    ours = gi_star(x, w)
    # esda on the same ring: neighbours without self, star=True adds self-weight 1
    index = {c: i for i, c in enumerate(cells)}
    neighbours = {
        i: [index[n] for n in h3.grid_disk(c, 1) if n in index and n != c]
        for i, c in enumerate(cells)
    }
    lw = W(neighbours, silence_warnings=True)
    g = G_Local(x, lw, transform="B", star=True, permutations=0)
    assert_allclose(ours["z_score"], g.Zs, atol=1e-6)
    assert_allclose(ours["gi_star"], g.Gs, atol=1e-9)
    assert_allclose(ours["p_value"], 2 * g.p_norm, atol=1e-9)
    centre = h3.latlng_to_cell(51.752, -1.2577, 9)
    assert bool(ours["hot_spot"][cells == centre].iloc[0])


def test_gi_star_corrections_only_shrink_significance(small_grid):
    cells, x = small_grid
    w = neighbour_matrix(cells)
    raw = gi_star(x, w)
    fdr = gi_star(x, w, correction="fdr_bh")
    bon = gi_star(x, w, correction="bonferroni")
    assert bon["hot_spot"].sum() <= fdr["hot_spot"].sum() <= raw["hot_spot"].sum()
    assert (fdr["p_adjusted"] >= raw["p_value"] - 1e-15).all()


def test_gi_star_constant_values_nothing_significant():
    cells = np.array(sorted(h3.grid_disk(h3.latlng_to_cell(51.752, -1.2577, 9), 1)), dtype=object)
    out = gi_star(np.ones(len(cells)), neighbour_matrix(cells))
    assert not out["hot_spot"].any()


def test_study_cells_include_zero_cells_in_hull():
    lat = np.array([51.74, 51.76, 51.75, 51.745])
    lon = np.array([-1.27, -1.27, -1.24, -1.26])
    cells = study_cells(lat, lon, resolution=9)
    event_cells = {h3.latlng_to_cell(a, b, 9) for a, b in zip(lat, lon, strict=True)}
    assert event_cells <= set(cells)
    assert len(cells) > 4 * len(event_cells)  # the empty cells of the hull are in the grid
    assert list(cells) == sorted(cells)
