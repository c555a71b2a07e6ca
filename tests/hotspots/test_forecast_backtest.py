import h3
import numpy as np
from numpy.testing import assert_allclose
from scipy import sparse

from vrdp.hotspots.backtest import make_baselines, rolling_origin_backtest, summarise_backtest
from vrdp.hotspots.forecast import forecast_risk, risk_features
from vrdp.hotspots.grid import cell_centres_bng, neighbour_matrix
from vrdp.hotspots.kde import quartic_kernel_matrix


def test_baselines_by_hand_with_missing_period():
    train = np.array([[1.0, 2.0, np.nan, 4.0], [3.0, 0.0, np.nan, 1.0]])
    b = make_baselines(
        half_life_periods=1.0, kernel=sparse.csr_matrix(np.array([[1, 0.5], [0.5, 1]]))
    )
    assert b["previous_period"](train).tolist() == [4.0, 1.0]
    assert b["all_periods"](train).tolist() == [7.0, 4.0]
    # ages 3, 2, 0 -> weights 1/8, 1/4, 1 (missing period skipped)
    assert_allclose(b["ewm"](train), [1 / 8 + 2 / 4 + 4, 3 / 8 + 0 + 1])
    assert_allclose(b["kde"](train), [7 + 0.5 * 4, 4 + 0.5 * 7])


def test_backtest_folds_skip_missing_period_and_flag_gap():
    rng = np.random.default_rng(1)
    c = rng.poisson(3, size=(50, 6)).astype(float)
    c[:, 3] = np.nan
    folds = rolling_origin_backtest(c, make_baselines(), periods=list("ABCDEF"), area_shares=(0.1,))
    assert sorted(folds["test_period"].unique()) == ["B", "C", "E", "F"]
    assert folds.loc[folds.test_period == "E", "gap_before_test"].all()
    assert not folds.loc[folds.test_period == "F", "gap_before_test"].any()
    assert set(folds.train_periods[folds.test_period == "E"]) == {3}
    s = summarise_backtest(folds)
    assert set(s["folds"]) == {4}


def test_forecast_beats_noisy_baselines_on_stable_world():
    # stable intensity with spatial spread: long-run + neighbours should beat last period
    centre = h3.latlng_to_cell(51.752, -1.2577, 9)
    cells = np.array(sorted(h3.grid_disk(centre, 8)), dtype=object)
    w = neighbour_matrix(cells)
    ex, ny = cell_centres_bng(cells)
    k = quartic_kernel_matrix(ex, ny, bandwidth_m=500)
    rng = np.random.default_rng(4)
    lam = rng.gamma(0.3, 2.0, len(cells))
    lam = (k @ lam) / np.asarray(k.sum(axis=1)).ravel() * 3
    c = rng.poisson(lam[:, None], size=(len(cells), 12)).astype(float)

    def fc(train):
        return forecast_risk(train, neighbours=w, kernel=k).score

    folds = rolling_origin_backtest(
        c, {"forecast": fc, **make_baselines()}, area_shares=(0.05, 0.1), min_train_periods=3
    )
    pei = summarise_backtest(folds).pivot(index="method", columns="area_share", values="pei")
    assert (pei.loc["forecast"] > pei.loc["previous_period"]).all()
    assert (pei.loc["forecast"] >= pei.loc["all_periods"] - 0.02).all()


def test_forecast_fallback_and_covariate():
    w = sparse.identity(3, format="csr")
    one = forecast_risk(np.array([[3.0], [1.0], [0.0]]), neighbours=w)
    assert not one.fitted and one.coefficients["long_term"] == 1.0
    assert np.argsort(-one.score).tolist() == [0, 1, 2]
    past = np.array([[0.0, 1, 0, 1], [2, 3, 2, 3], [0, 0, 0, 0]])
    rtm = np.array([5.0, 0.0, 9.0])
    f = risk_features(past, neighbours=w, covariate=rtm)
    assert list(f.columns) == ["long_term", "recent", "last", "neighbours", "covariate"]
    fc = forecast_risk(past, neighbours=w, covariate=rtm)
    assert fc.fitted and all(v >= 0 for v in fc.coefficients.values())
