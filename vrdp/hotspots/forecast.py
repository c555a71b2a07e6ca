"""Next-period risk per cell: a fitted blend of recent, long-term, neighbouring and related counts.

Inputs are cells × periods matrices (periods in time order; a column of NaN
is a period with no data, e.g. a month the force did not publish, and is
skipped, never filled). At an origin (the last column) each cell gets the
features

* ``long_term``: mean count over the available periods;
* ``recent``: mean over the last ``recent_periods`` available periods;
* ``last``: the last available period;
* ``neighbours``: mean ``long_term`` of the cell's ring (``grid_disk`` k=1, self excluded);
* ``density``: quartic kernel smoothing of ``long_term`` over cell centres
  (``kernel``, from :func:`vrdp.hotspots.kde.quartic_kernel_matrix`), when given;
* ``aux:<name>``: ``long_term`` of each related series (e.g. the other crime
  types, so violence borrows strength from where all crime happens), when given;
* ``covariate``: a static per-cell column such as the risk terrain layer, when given.

The weights are learnt by non-negative least squares on the training data
only: for each of the last ``fit_periods`` available periods ``s`` the
features are built from the periods before ``s`` and regressed on the count
in ``s`` (pooled; cells with all features zero are left out). Non-negative
weights keep the score monotone in every feature. With fewer than two
available periods there is nothing to fit and the fixed blend
``long_term + 0.1 × neighbours`` is used (``fitted = False``).

See also :func:`vrdp.hotspots.forecast_ranked.forecast_risk_ranked`, which
picks a blend of similar features by the PEI of inner folds of the training
window instead of by least squares (the benchmark reports both).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, sparse

__all__ = ["RiskForecast", "risk_features", "forecast_risk"]

_FALLBACK = {"long_term": 1.0, "neighbours": 0.1}


@dataclass(frozen=True)
class RiskForecast:
    """Risk score per cell (higher = riskier) and how it was made."""

    score: np.ndarray
    coefficients: dict[str, float]
    fitted: bool
    transitions: int
    features: pd.DataFrame = field(repr=False)


def _available(m: np.ndarray) -> np.ndarray:
    return np.flatnonzero(~np.isnan(m).all(axis=0))


def _ring_mean(neighbours: sparse.spmatrix) -> sparse.csr_matrix:
    w = sparse.csr_matrix(neighbours, dtype=float)
    w = w - sparse.diags(w.diagonal())
    w.eliminate_zeros()
    deg = np.asarray(w.sum(axis=1)).ravel()
    return sparse.diags(1.0 / np.maximum(deg, 1.0)) @ w


def _features(
    target: np.ndarray,
    cols: np.ndarray,
    ring: sparse.csr_matrix,
    kernel: sparse.spmatrix | None,
    auxiliary: Mapping[str, np.ndarray] | None,
    covariate: np.ndarray | None,
    recent_periods: int,
) -> dict[str, np.ndarray]:
    sub = target[:, cols]
    long_term = sub.mean(axis=1)
    f = {
        "long_term": long_term,
        "recent": sub[:, -recent_periods:].mean(axis=1),
        "last": sub[:, -1],
        "neighbours": ring @ long_term,
    }
    if kernel is not None:
        f["density"] = kernel @ long_term
    for name, a in (auxiliary or {}).items():
        f[f"aux:{name}"] = np.asarray(a, float)[:, cols].mean(axis=1)
    if covariate is not None:
        f["covariate"] = np.nan_to_num(np.asarray(covariate, float))
    return f


def risk_features(
    target: np.ndarray,
    *,
    neighbours: sparse.spmatrix,
    kernel: sparse.spmatrix | None = None,
    auxiliary: Mapping[str, np.ndarray] | None = None,
    covariate: np.ndarray | None = None,
    recent_periods: int = 3,
) -> pd.DataFrame:
    """Features of every cell at the origin (after the last period), one column each.

    >>> w = sparse.csr_matrix(np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]]))
    >>> risk_features(np.array([[1.0, np.nan, 3.0], [0, np.nan, 2], [0, np.nan, 0]]),
    ...               neighbours=w, recent_periods=1)["neighbours"].tolist()
    [1.0, 1.0, 1.0]
    """
    target = np.asarray(target, float)
    cols = _available(target)
    if len(cols) == 0:
        raise ValueError("no period with data")
    return pd.DataFrame(
        _features(
            target, cols, _ring_mean(neighbours), kernel, auxiliary, covariate, recent_periods
        )
    )


def forecast_risk(
    target: np.ndarray,
    *,
    neighbours: sparse.spmatrix,
    kernel: sparse.spmatrix | None = None,
    auxiliary: Mapping[str, np.ndarray] | None = None,
    covariate: np.ndarray | None = None,
    recent_periods: int = 3,
    fit_periods: int = 6,
) -> RiskForecast:
    """Forecast next-period risk of each cell from its past counts (see module docstring).

    Parameters
    ----------
    target
        Cells × periods counts (or harm) of what is forecast; NaN column = no data.
    neighbours
        Binary ring matrix (:func:`vrdp.hotspots.grid.neighbour_matrix`).
    kernel
        Optional cell-to-cell quartic kernel matrix (density feature).
    auxiliary
        Optional related cells × periods series, same periods as ``target``.
    covariate
        Optional static per-cell covariate (e.g. risk terrain); NaN read as 0.
    recent_periods
        Periods in the ``recent`` feature.
    fit_periods
        How many of the latest training periods are used as regression targets.

    Returns
    -------
    RiskForecast
        ``score`` per cell, the learnt ``coefficients``, ``fitted``,
        ``transitions`` (periods used as targets) and the ``features`` table.

    Examples
    --------
    >>> w = sparse.identity(3, format="csr")
    >>> past = np.array([[5.0, 6, 5, 6], [1, 0, 1, 0], [0, 3, 0, 2]])
    >>> fc = forecast_risk(past, neighbours=w, recent_periods=2)
    >>> np.argsort(-fc.score).tolist(), fc.fitted
    ([0, 2, 1], True)
    """
    target = np.asarray(target, float)
    cols = _available(target)
    if len(cols) == 0:
        raise ValueError("no period with data")
    ring = _ring_mean(neighbours)

    def build(c: np.ndarray) -> dict[str, np.ndarray]:
        return _features(target, c, ring, kernel, auxiliary, covariate, recent_periods)

    now = build(cols)
    names = list(now)
    x_now = np.column_stack([now[n] for n in names])
    targets = [k for k in range(1, len(cols))][-fit_periods:] if fit_periods > 0 else []
    if not targets:
        coef = {n: _FALLBACK.get(n, 0.0) for n in names}
        score = x_now @ np.array([coef[n] for n in names])
        return RiskForecast(score, coef, False, 0, pd.DataFrame(now))
    xs, ys = [], []
    for k in targets:
        f = build(cols[:k])
        x = np.column_stack([f[n] for n in names])
        keep = (x > 0).any(axis=1)
        xs.append(x[keep])
        ys.append(target[keep, cols[k]])
    x_fit = np.vstack(xs)
    y_fit = np.concatenate(ys)
    scale = np.maximum(x_fit.std(axis=0), 1e-12)
    beta, _ = optimize.nnls(x_fit / scale, y_fit)
    beta = beta / scale
    if not np.any(beta > 0):
        beta = np.array([_FALLBACK.get(n, 0.0) for n in names])
    coef = {n: float(b) for n, b in zip(names, beta, strict=True)}
    return RiskForecast(x_now @ beta, coef, True, len(targets), pd.DataFrame(now))
