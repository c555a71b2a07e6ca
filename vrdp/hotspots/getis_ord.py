r"""Getis-Ord Gi* local statistic on the H3 grid, with multiple-testing correction.

Weights are binary and include the cell itself (Gi*): ``w_ij = 1`` when ``j``
is in ``h3.grid_disk(i, 1)`` and in the study grid (see
:mod:`vrdp.hotspots.grid`, which also says which zero cells are included).
The z-score is the analytical one of Getis & Ord (1992) / Ord & Getis (1995),
computed exactly as ``esda.G_Local(y, w, transform="B", star=True)``:

.. math::

    G^*_i = \frac{\sum_j w_{ij} x_j}{\sum_j x_j}, \quad
    E[G^*_i] = \frac{W_i}{n}, \quad
    V[G^*_i] = \frac{W_i (n - W_i)}{n^2 (n - 1)} \frac{s^2}{\bar{x}^2},

with ``W_i = sum_j w_ij``, ``x̄`` and ``s²`` the mean and (population) variance
of ``x`` over all ``n`` cells. p-values are two-sided normal by default (as
sfhotspot's ``gistar``); ``alternative="greater"`` gives the one-sided p-value
for hot spots only. Corrections: Bonferroni, or Benjamini-Hochberg false
discovery rate, over the cells of the grid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse, stats

__all__ = ["adjust_p_values", "gi_star"]


def adjust_p_values(p: np.ndarray, method: str | None = None) -> np.ndarray:
    """Adjust p-values for multiple comparisons: ``None``, ``"bonferroni"`` or ``"fdr_bh"``.

    Benjamini-Hochberg adjusted values are ``min_{k>=i} p_(k) m / k`` capped at 1
    (as R's ``p.adjust(method = "BH")``). NaN p-values are left NaN and not counted.

    >>> adjust_p_values(np.array([0.01, 0.04, 0.03]), "fdr_bh").round(3).tolist()
    [0.03, 0.04, 0.04]
    >>> adjust_p_values(np.array([0.01, 0.04, 0.5]), "bonferroni").tolist()
    [0.03, 0.12, 1.0]
    """
    p = np.asarray(p, float)
    if method is None:
        return p.copy()
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = len(q)
    if m == 0:
        return out
    if method == "bonferroni":
        out[ok] = np.minimum(q * m, 1.0)
    elif method == "fdr_bh":
        order = np.argsort(q, kind="stable")
        ranked = q[order] * m / np.arange(1, m + 1)
        ranked = np.minimum.accumulate(ranked[::-1])[::-1]
        adj = np.empty(m)
        adj[order] = np.minimum(ranked, 1.0)
        out[ok] = adj
    else:
        raise ValueError(f"unknown correction {method!r}: use None, 'bonferroni' or 'fdr_bh'")
    return out


def gi_star(
    values: np.ndarray,
    weights: sparse.spmatrix,
    *,
    correction: str | None = None,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> pd.DataFrame:
    """Gi* z-scores and p-values of ``values`` on binary ``weights`` (diagonal included).

    Parameters
    ----------
    values
        Count or harm per cell, one value per grid cell (zeros included).
    weights
        Square binary sparse matrix with ones on the diagonal, e.g.
        :func:`vrdp.hotspots.grid.neighbour_matrix`.
    correction
        ``None``, ``"bonferroni"`` or ``"fdr_bh"`` (Benjamini-Hochberg FDR).
    alpha
        Significance level applied to the (adjusted) p-value.
    alternative
        ``"two-sided"`` or ``"greater"``.

    Returns
    -------
    pandas.DataFrame
        ``gi_star`` (the statistic), ``expected``, ``z_score``, ``p_value``,
        ``p_adjusted``, ``hot_spot`` (z > 0 and p_adjusted < alpha) and
        ``cold_spot`` (z < 0 and p_adjusted < alpha). If every value is equal the
        z-scores are NaN and nothing is significant.

    Examples
    --------
    >>> w = sparse.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]]))
    >>> gi_star(np.array([10.0, 8.0, 1.0, 0.0]), w)["z_score"].round(3).tolist()
    [1.703, 1.099, -1.214, -1.703]
    """
    if alternative not in ("two-sided", "greater"):
        raise ValueError("alternative must be 'two-sided' or 'greater'")
    x = np.asarray(values, float)
    w = sparse.csr_matrix(weights, dtype=float)
    n = len(x)
    if w.shape != (n, n):
        raise ValueError(f"weights shape {w.shape} does not match {n} values")
    total = x.sum()
    mean = total / n
    var = (x**2).sum() / n - mean**2
    card = np.asarray(w.sum(axis=1)).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (w @ x) / total
        expected = card / n
        v = card * (n - card) / (n - 1) / n**2 * var / mean**2
        z = (g - expected) / np.sqrt(v)
    z = np.where(np.isfinite(z), z, np.nan)
    p = 2 * stats.norm.sf(np.abs(z)) if alternative == "two-sided" else stats.norm.sf(z)
    p_adj = adjust_p_values(p, correction)
    sig = np.nan_to_num(p_adj, nan=1.0) < alpha
    return pd.DataFrame(
        {
            "gi_star": g,
            "expected": expected,
            "z_score": z,
            "p_value": p,
            "p_adjusted": p_adj,
            "hot_spot": sig & (np.nan_to_num(z) > 0),
            "cold_spot": sig & (np.nan_to_num(z) < 0),
        }
    )
