import h3
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse

from vrdp.hotspots.backtest import make_baselines, rolling_origin_backtest, summarise_backtest
from vrdp.hotspots.forecast import forecast_risk
from vrdp.hotspots.forecast_ranked import (
    DEFAULT_GRID,
    forecast_risk_ranked,
    ranked_blend_features,
)
from vrdp.hotspots.grid import cell_centres_bng, neighbour_matrix
from vrdp.hotspots.kde import quartic_kernel_matrix


def _world(seed: int, periods: int = 10, rings: int = 7):
    """Stable, spatially smooth intensity; violence is a thin slice of all crime."""
    centre = h3.latlng_to_cell(51.752, -1.2577, 9)
    cells = np.array(sorted(h3.grid_disk(centre, rings)), dtype=object)
    w = neighbour_matrix(cells)
    ex, ny = cell_centres_bng(cells)
    k = quartic_kernel_matrix(ex, ny, bandwidth_m=500)
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.3, 2.0, len(cells))
    lam = (k @ lam) / np.asarray(k.sum(axis=1)).ravel() * 3
    other = rng.poisson(lam[:, None], size=(len(cells), periods)).astype(float)
    viol = rng.poisson(0.15 * lam[:, None], size=(len(cells), periods)).astype(float)
    return w, k, viol, other


def test_blend_features_by_hand_with_missing_period():
    ring = sparse.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    target = np.array([[2.0, np.nan, 4.0], [0.0, np.nan, 1.0]])
    aux = np.array([[1.0, np.nan, 3.0], [5.0, np.nan, 5.0]])
    kern = sparse.csr_matrix(np.array([[1.0, 1.0], [0.0, 2.0]]))
    f = ranked_blend_features(
        target, np.array([0, 2]), ring=ring, kernel=kern, aux_total=aux, half_life_periods=1.0
    )
    # ages 2, 0 -> weights 1/4, 1 -> normalised 0.2, 0.8
    assert_allclose(f["long_term"], [3.0, 0.5])
    assert_allclose(f["ewm"], [0.2 * 2 + 0.8 * 4, 0.8 * 1])
    assert_allclose(f["neighbours"], [0.5, 3.0])
    assert_allclose(f["kde"], [(3.0 + 0.5) / 2, 0.5])
    assert_allclose(f["aux_total"], [2.0, 5.0])


def test_ranked_fallback_with_one_period_and_no_kernel_or_aux():
    w = sparse.identity(3, format="csr")
    fc = forecast_risk_ranked(np.array([[3.0], [1.0], [0.0]]), neighbours=w)
    assert not fc.fitted and fc.transitions == 0
    assert np.argsort(-fc.score, kind="stable").tolist() == [0, 1, 2]
    with pytest.raises(ValueError):
        forecast_risk_ranked(np.full((3, 2), np.nan), neighbours=w)
    past = np.array([[0.0, 1, 0, 1], [2, 3, 2, 3], [0, 0, 0, 0]])
    fc = forecast_risk_ranked(past, neighbours=w, area_shares=(1 / 3,))
    assert fc.fitted and fc.transitions == 3
    # no kernel, no auxiliary -> those weights stay at zero
    assert fc.coefficients["density"] == 0.0 and fc.coefficients["related"] == 0.0
    assert set(fc.features.columns) == {"long_term", "ewm", "neighbours"}
    assert np.argmax(fc.score) == 1


def test_ranked_is_deterministic_and_in_grid():
    w, k, viol, other = _world(3)
    aux = {"other": other}
    a = forecast_risk_ranked(viol, neighbours=w, kernel=k, auxiliary=aux)
    b = forecast_risk_ranked(viol, neighbours=w, kernel=k, auxiliary=aux)
    assert_array_equal(a.score, b.score)
    assert a.coefficients == b.coefficients
    for name, values in DEFAULT_GRID.items():
        assert a.coefficients[name] in values
    assert 0 < a.coefficients["inner_pei"] <= 1


def test_ranked_uses_no_information_after_origin():
    w, k, viol, other = _world(5, periods=9)
    origin = 6  # train on columns [0, 6)
    train = viol[:, :origin].copy()
    train[:, 2] = np.nan  # a missing month inside the window
    aux_future = other.copy()  # auxiliary carries months after the origin too
    aux_cut = other[:, :origin]
    ref = forecast_risk_ranked(train, neighbours=w, kernel=k, auxiliary={"o": aux_cut})
    scrambled = aux_future.copy()
    scrambled[:, origin:] = np.random.default_rng(0).poisson(50, scrambled[:, origin:].shape)
    got = forecast_risk_ranked(train, neighbours=w, kernel=k, auxiliary={"o": scrambled})
    assert_array_equal(ref.score, got.score)
    assert ref.coefficients == got.coefficients
    # the missing month is skipped, never filled: 5 available months -> 4 inner folds
    assert ref.transitions == 4


def test_ranked_borrows_strength_and_beats_noisy_baselines():
    w, k, viol, other = _world(4, periods=12)

    def ranked(train):
        t = train.shape[1]
        return forecast_risk_ranked(
            train, neighbours=w, kernel=k, auxiliary={"other": other[:, :t]}
        ).score

    def nnls(train):
        t = train.shape[1]
        return forecast_risk(train, neighbours=w, kernel=k, auxiliary={"other": other[:, :t]}).score

    folds = rolling_origin_backtest(
        viol,
        {"ranked": ranked, "nnls": nnls, **make_baselines()},
        area_shares=(0.05, 0.1),
        min_train_periods=3,
    )
    pei = summarise_backtest(folds).pivot(index="method", columns="area_share", values="pei")
    base = pei.loc[["previous_period", "all_periods", "ewm"]].max(axis=0)
    assert (pei.loc["ranked"] > base).all()
    # the sparse target's own history is noisy: the related series gets weight
    last = forecast_risk_ranked(viol, neighbours=w, kernel=k, auxiliary={"other": other})
    assert last.coefficients["related"] > 0


def test_nnls_forecast_ignores_auxiliary_months_after_origin():
    w, k, viol, other = _world(6, periods=8)
    train = viol[:, :5]
    ref = forecast_risk(train, neighbours=w, kernel=k, auxiliary={"o": other[:, :5]})
    future = other.copy()
    future[:, 5:] = 1000.0
    got = forecast_risk(train, neighbours=w, kernel=k, auxiliary={"o": future})
    assert_array_equal(ref.score, got.score)
