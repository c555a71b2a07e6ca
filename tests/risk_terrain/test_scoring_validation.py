import numpy as np
from numpy.testing import assert_allclose

from vrdp.risk_terrain import (
    grid_from_bounds,
    predictive_accuracy,
    relative_risk_score,
    relative_risk_values,
    risk_clusters,
)
from vrdp.risk_terrain.validation import top_share_hits


def test_relative_risk_score_issue_example_184_84():
    betas = np.array([3.0617, 2.1578])
    X = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [0, 0]])
    s = relative_risk_score(X, betas)
    assert_allclose(s.max(), 184.84, atol=0.01)
    assert s.min() == 1.0
    assert_allclose(s, [1, np.exp(3.0617), np.exp(2.1578), 184.84, 1], atol=0.01)
    assert_allclose(relative_risk_values(betas), [21.364, 8.652], atol=1e-3)


def test_relative_risk_score_with_protective_factor_is_one_at_lowest_cell():
    X = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])
    s = relative_risk_score(X, np.log([2.0, 0.5]))
    assert_allclose(s, [2.0, 4.0, 1.0, 2.0])
    # scoring elsewhere on the study area's scale
    assert_allclose(
        relative_risk_score(np.array([[1, 0]]), np.log([2.0, 0.5]), reference_log_risk=np.log(0.5)),
        [4.0],
    )


def test_risk_clusters_rook_vs_queen_and_default_threshold():
    g = grid_from_bounds(0, 0, 50, 40, 10)  # 4 rows x 5 cols
    s = np.ones(20)
    s[[0, 6, 12]] = 10.0  # a diagonal chain
    s[[4, 9]] = 8.0  # a vertical pair in the last column
    ids8, tab8 = risk_clusters(g, s, threshold=5.0, connectivity=8)
    _, tab4 = risk_clusters(g, s, threshold=5.0, connectivity=4)
    assert len(tab8) == 2 and tab8.n_cells.tolist() == [3, 2]
    assert ids8[[0, 6, 12]].tolist() == [1, 1, 1] and ids8[[4, 9]].tolist() == [2, 2]
    assert len(tab4) == 4 and tab4.n_cells.tolist() == [2, 1, 1, 1]
    assert tab8.area_m2.tolist() == [300.0, 200.0]
    assert_allclose(tab8.max_rrs, [10.0, 8.0])
    # default threshold: mean + 2 SD of the scores
    ids, _ = risk_clusters(g, s)
    thr = s.mean() + 2 * s.std()
    assert thr > s.max()  # then only the maximum-score cells are high risk
    thr = s.max()
    assert set(np.where(ids > 0)[0]) == set(np.where(s >= thr)[0])
    ids_none, tab_none = risk_clusters(g, np.ones(20), threshold=2.0)
    assert len(tab_none) == 0 and ids_none.sum() == 0


def test_hit_rate_pai_and_hotspot_baseline_by_hand():
    scores = np.array([5.0, 4, 3, 2, 1, 1, 1, 1, 1, 1])
    nxt = np.array([4, 0, 2, 0, 1, 0, 0, 1, 1, 1])
    prev = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 9])
    t = predictive_accuracy(scores, nxt, prev, coverages=[0.1, 0.2, 0.5])
    # top 10 %: cell 0 -> 4 of 10 events; PAI 0.4 / 0.1
    assert_allclose(t.rtm_hit_rate, [0.4, 0.4, 0.6 + 0.4 * 1 / 6], atol=1e-12)
    assert_allclose(t.rtm_pai, t.rtm_hit_rate / np.array([0.1, 0.2, 0.5]))
    # hot spot baseline picks cell 9 (1 event); remaining ties among zeros are fractional
    assert_allclose(t.hotspot_hit_rate[0], 0.1)
    # hand: 9 tied zero-count cells hold 9 events; 1 of 9 taken -> +1 event
    assert_allclose(t.hotspot_hit_rate[1], 0.2)
    assert t.cells.tolist() == [1.0, 2.0, 5.0]


def test_top_share_ties_are_fractional_and_order_free():
    scores = np.array([1.0, 1.0, 1.0, 1.0])
    counts = np.array([4, 0, 0, 0])
    assert top_share_hits(scores, counts, 0.25) == (1.0, 1.0)
    assert top_share_hits(scores[::-1], counts[::-1], 0.25) == (1.0, 1.0)
