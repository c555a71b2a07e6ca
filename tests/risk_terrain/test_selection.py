import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose
from statsmodels.discrete.discrete_model import NegativeBinomial

from vrdp.risk_terrain.selection import (
    collapse_rows,
    elastic_net_shortlist,
    fit_negbin2,
    fit_poisson,
    poisson_elastic_net_path,
    select_model,
    stepwise_bic,
)


@pytest.fixture(scope="module")
def binary_data():
    rng = np.random.default_rng(42)
    X = rng.integers(0, 2, size=(4000, 6)).astype(float)
    y = rng.poisson(np.exp(-1 + 0.7 * X[:, 0] + 0.3 * X[:, 1]))
    return X, y


def test_elastic_net_is_optimal_and_beats_statsmodels(binary_data):
    X, y = binary_data
    path = poisson_elastic_net_path(X, y, n_lambdas=6, standardize=False)
    A = sm.add_constant(X)

    def objective(b, lam):
        eta = A @ b
        return -np.mean(y * eta - np.exp(eta)) + lam * (
            0.25 * b[1:] @ b[1:] + 0.5 * np.abs(b[1:]).sum()
        )

    for li in (2, 4):
        lam = path.lambdas[li]
        b = np.r_[path.intercepts[li], path.coefs[li]]
        # KKT conditions of the elastic-net Poisson objective
        grad = A.T @ (y - np.exp(A @ b)) / len(y)
        assert abs(grad[0]) < 1e-6
        nz = b[1:] != 0
        assert_allclose(grad[1:][nz], lam * (0.5 * np.sign(b[1:][nz]) + 0.5 * b[1:][nz]), atol=1e-6)
        assert np.all(np.abs(grad[1:][~nz]) <= lam * 0.5 + 1e-8)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = sm.GLM(y, A, family=sm.families.Poisson()).fit_regularized(
                method="elastic_net", alpha=np.r_[0.0, [lam] * 6], L1_wt=0.5
            )
        assert objective(b, lam) <= objective(ref.params, lam) + 1e-10
    assert_allclose(path.coefs[4][:2], ref.params[1:3], atol=2e-3)
    # first lambda is lambda_max: all coefficients zero; coefficients grow along the path
    assert np.all(path.coefs[0] == 0)
    assert np.count_nonzero(path.coefs[-1]) >= 2


def test_elastic_net_weights_equal_duplicated_rows(binary_data):
    X, y = binary_data
    Xd, yd = np.vstack([X, X[:500]]), np.r_[y, y[:500]]
    w = np.r_[np.full(500, 2.0), np.ones(len(y) - 500)]
    a = poisson_elastic_net_path(Xd, yd, n_lambdas=5)
    b = poisson_elastic_net_path(X, y, sample_weight=w, lambdas=a.lambdas)
    assert_allclose(a.coefs, b.coefs, atol=1e-6)


def test_shortlist_is_seed_deterministic_and_finds_signal(binary_data):
    X, y = binary_data
    r1 = elastic_net_shortlist(X, y, n_folds=4, seed=3)
    r2 = elastic_net_shortlist(X, y, n_folds=4, seed=3)
    assert r1["shortlist"].tolist() == r2["shortlist"].tolist()
    assert r1["lambda"] == r2["lambda"]
    assert {0, 1} <= set(r1["shortlist"].tolist())
    r3 = elastic_net_shortlist(X, y, n_folds=4, seed=3, max_shortlist=1)
    assert r3["shortlist"].tolist() == [0]
    # folds fitted in two threads give the same cross-validation to the last bit
    r4 = elastic_net_shortlist(X, y, n_folds=4, seed=3, n_jobs=2)
    assert np.array_equal(r4["cv_deviance"], r1["cv_deviance"])
    assert r4["shortlist"].tolist() == r1["shortlist"].tolist()


def test_fit_poisson_and_negbin2_match_statsmodels():
    rng = np.random.default_rng(5)
    X = rng.integers(0, 2, size=(3000, 2)).astype(float)
    A = sm.add_constant(X)
    y = rng.poisson(np.exp(0.2 + 0.6 * X[:, 0] - 0.4 * X[:, 1]))
    b, ll = fit_poisson(A, y)
    ref = sm.GLM(y, A, family=sm.families.Poisson()).fit()
    assert_allclose(b, ref.params, atol=1e-8)
    assert_allclose(ll, ref.llf, rtol=1e-10)
    mu = np.exp(0.5 + 0.7 * X[:, 0])
    y_nb = rng.poisson(rng.gamma(2.0, mu / 2.0))  # NB2 with alpha = 0.5
    b, alpha, ll = fit_negbin2(A, y_nb)
    ref = NegativeBinomial(y_nb, A, loglike_method="nb2").fit(disp=0, maxiter=300)
    assert_allclose(b, ref.params[:-1], atol=1e-4)
    assert_allclose(alpha, ref.params[-1], rtol=1e-3)
    assert_allclose(ll, ref.llf, rtol=1e-8)
    assert 0.4 < alpha < 0.6


def test_collapse_rows_gives_same_likelihood():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(2000, 3))
    y = rng.poisson(np.exp(-0.5 + 0.5 * X[:, 0]))
    Xc, yc, fc = collapse_rows(X, y)
    assert fc.sum() == 2000 and len(yc) < 2000
    b1, ll1 = fit_poisson(sm.add_constant(X.astype(float)), y)
    b2, ll2 = fit_poisson(sm.add_constant(Xc.astype(float), has_constant="add"), yc, fc)
    assert_allclose(b1, b2, atol=1e-9)
    assert_allclose(ll1, ll2, rtol=1e-12)
    _, _, l1 = fit_negbin2(sm.add_constant(X.astype(float)), y)
    _, _, l2 = fit_negbin2(sm.add_constant(Xc.astype(float), has_constant="add"), yc, fc)
    assert_allclose(l1, l2, rtol=1e-9)


def _nested_bands(rng, n):
    # one factor with nested bands (distance < d) and an independent noise factor
    dist = rng.exponential(100, size=n)
    noise = rng.exponential(100, size=n)
    X = np.column_stack([dist <= d for d in (50, 100, 150)] + [noise <= d for d in (50, 100, 150)])
    return X.astype(np.uint8)


def test_stepwise_one_variable_per_factor_picks_true_band():
    rng = np.random.default_rng(9)
    X = _nested_bands(rng, 20000)
    y = rng.poisson(0.2 * np.where(X[:, 1] == 1, 2.0, 1.0))
    factors = ["a", "a", "a", "b", "b", "b"]
    r = stepwise_bic(X, y, range(6), factor_of=factors)
    assert r.selected == (1,)
    assert_allclose(np.exp(r.params[1]), 2.0, rtol=0.1)
    assert r.steps[0]["move"] == "start" and r.steps[1] == {
        "move": "add",
        "variable": 1,
        "bic": r.steps[1]["bic"],
    }
    rn = stepwise_bic(X, y, range(6), factor_of=factors, family="negbin")
    assert rn.selected == (1,)
    assert rn.bic > r.bic  # Poisson data: the extra alpha parameter costs BIC


def test_select_model_chooses_family_by_bic_and_reports_p_values():
    rng = np.random.default_rng(10)
    X = _nested_bands(rng, 20000)
    variables = pd.DataFrame(
        {
            "variable": [f"{f}__proximity__{b}b" for f in "ab" for b in (0.5, 1, 1.5)],
            "factor": ["a"] * 3 + ["b"] * 3,
        }
    )
    mu = 0.3 * np.where(X[:, 2] == 1, 1.8, 1.0)
    y_pois = rng.poisson(mu)
    y_nb = rng.poisson(rng.gamma(1.0, mu))  # alpha = 1
    m_p = select_model(X, y_pois, variables, n_folds=3, seed=1)
    m_n = select_model(X, y_nb, variables, n_folds=3, seed=1)
    assert m_p.family == "poisson" and m_p.bic["poisson"] < m_p.bic["negbin"]
    assert m_n.family == "negbin" and 0.7 < m_n.alpha < 1.3
    for m in (m_p, m_n):
        assert m.variables == ["a__proximity__1.5b"]
        assert_allclose(m.table.rrv.iloc[0], 1.8, rtol=0.15)
        assert m.table.p_value.iloc[0] < 1e-6
        assert m.table.rrv_ci_low.iloc[0] < m.table.rrv.iloc[0] < m.table.rrv_ci_high.iloc[0]
    again = select_model(X, y_nb, variables, n_folds=3, seed=1)
    assert again.variables == m_n.variables and again.bic == m_n.bic


@pytest.mark.parametrize("binary", [True, False])
def test_elastic_net_with_offset_meets_kkt_conditions(binary):
    # the path fits on rows grouped by their active-variable pattern; the solution must
    # still be optimal for the ungrouped rows (KKT), binary or continuous, with an offset
    rng = np.random.default_rng(5)
    n = 3000
    X = rng.integers(0, 2, size=(n, 5)).astype(float)
    if not binary:
        X[:, 2] = np.round(rng.normal(size=n), 1)
    offset = np.log(rng.uniform(0.2, 3.0, size=n))
    y = rng.poisson(np.exp(offset - 0.5 + 0.6 * X[:, 0] - 0.4 * X[:, 2]))
    a = 0.5
    path = poisson_elastic_net_path(
        X, y, offset=offset, n_lambdas=5, l1_ratio=a, standardize=False, tol=1e-10
    )
    assert (path.coefs[-1] != 0).sum() >= 2
    for li in range(1, len(path.lambdas)):
        lam, b0, b = path.lambdas[li], path.intercepts[li], path.coefs[li]
        mu = np.exp(offset + b0 + X @ b)
        assert abs(np.mean(y - mu)) < 1e-6  # unpenalised intercept
        g = X.T @ (y - mu) / n - lam * (1 - a) * b
        nz = b != 0
        assert_allclose(g[nz], lam * a * np.sign(b[nz]), atol=1e-5)
        assert (np.abs(g[~nz]) <= lam * a + 1e-5).all()


def test_coordinate_descent_on_the_lazy_gram_equals_the_dense_one():
    """The path's weighted Gram matrix, formed column by column as coordinates move,
    gives the same minimiser as the whole matrix (and the same diagonal and products)."""
    from vrdp.risk_terrain.selection import _cd_quadratic, _WeightedGram

    rng = np.random.default_rng(3)
    A = np.column_stack([np.ones(500), rng.integers(0, 2, size=(500, 12)) / 0.4])
    w = rng.random(500) / 500
    c = A.T @ (w * (A @ rng.normal(0, 0.5, 13)))
    b0 = np.zeros(13)
    b0[[0, 2, 5]] = [0.1, 0.3, -0.2]  # a warm start with some coordinates in the model
    gram = _WeightedGram(A, w)
    dense = (A * w[:, None]).T @ A
    assert_allclose(gram.diagonal(), dense.diagonal(), rtol=1e-12)
    assert_allclose(gram @ b0, dense @ b0, rtol=1e-12)
    gram.prefetch(np.array([2, 5]))
    assert_allclose(gram.col(5), dense[:, 5], rtol=1e-12)
    assert_allclose(gram.col(7), dense[:, 7], rtol=1e-12)
    lazy = _cd_quadratic(_WeightedGram(A, w), c, b0.copy(), 0.05, 0.01, tol=1e-12)
    full = _cd_quadratic(dense, c, b0.copy(), 0.05, 0.01, tol=1e-12)
    assert 0 < np.count_nonzero(full[1:]) < 12  # the penalty keeps some variables out
    assert_allclose(lazy, full, atol=1e-10)
