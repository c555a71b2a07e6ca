r"""Mann-Kendall trend test, with the tie-corrected variance.

For a series ``x_1..x_n``:

.. math::

    S = \sum_{i<j} \operatorname{sign}(x_j - x_i), \quad
    \operatorname{Var}(S) = \frac{n(n-1)(2n+5) - \sum_p t_p (t_p - 1)(2 t_p + 5)}{18},

where ``t_p`` is the size of the ``p``-th group of tied values. The continuity
corrected ``Z = (S - 1)/sqrt(Var)`` for ``S > 0``, ``(S + 1)/sqrt(Var)`` for
``S < 0``, else 0; the p-value is two-sided normal; Kendall's
``tau = S / (n (n - 1) / 2)`` (tau-a). Reference: Mann (1945), Kendall (1975);
Hipel & McLeod (1994) for the tie correction. Missing values (NaN, e.g. a month
the force did not publish) are dropped, not filled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["MannKendall", "mann_kendall", "mann_kendall_rows"]


@dataclass(frozen=True)
class MannKendall:
    """Result of a Mann-Kendall test."""

    s: float
    var_s: float
    z: float
    p_value: float
    tau: float
    n: int


def _z(s: np.ndarray, var: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    return np.where(var > 0, z, 0.0)


def mann_kendall(x: np.ndarray) -> MannKendall:
    """Mann-Kendall test of one series.

    >>> r = mann_kendall(np.array([1, 2, 2, 3]))
    >>> r.s, r.var_s, round(r.z, 4), round(r.tau, 4)
    (5.0, 7.666666666666667, 1.4446, 0.8333)
    """
    v = np.asarray(x, float)
    v = v[~np.isnan(v)]
    n = len(v)
    if n < 2:
        return MannKendall(0.0, 0.0, 0.0, 1.0, float("nan"), n)
    diff = v[None, :] - v[:, None]
    s = float(np.sign(diff[np.triu_indices(n, 1)]).sum())
    _, t = np.unique(v, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - float((t * (t - 1) * (2 * t + 5)).sum())) / 18.0
    z = float(_z(np.array(s), np.array(var)))
    p = float(2 * stats.norm.sf(abs(z)))
    return MannKendall(s, var, z, p, s / (n * (n - 1) / 2), n)


def mann_kendall_rows(matrix: np.ndarray) -> pd.DataFrame:
    """Mann-Kendall test of every row of a (cells × periods) matrix, vectorised.

    Columns that are NaN in every row (missing periods) are dropped; any other
    NaN is an error (the periods of the grid are shared by all cells).

    >>> r = mann_kendall_rows(np.array([[1, 2, 2, 3], [3, 2, 1, 0]]))
    >>> r[["s", "var_s"]].to_numpy().tolist()
    [[5.0, 7.666666666666667], [-6.0, 8.666666666666666]]
    """
    m = np.asarray(matrix, float)
    m = m[:, ~np.isnan(m).all(axis=0)]
    if np.isnan(m).any():
        raise ValueError("NaN inside the matrix: drop missing periods for all cells first")
    rows, n = m.shape
    s = np.zeros(rows)
    tie_count = np.zeros((rows, n))
    for i in range(n):
        d = m[:, i + 1 :] - m[:, [i]]
        s += np.sign(d).sum(axis=1)
        tie_count[:, i] = (m == m[:, [i]]).sum(axis=1)
    # sum over tie groups of f(t) = sum over elements of f(t_k) / t_k
    t = tie_count
    tie_term = (t * (t - 1) * (2 * t + 5) / t).sum(axis=1) if n else np.zeros(rows)
    var = (n * (n - 1) * (2 * n + 5) - tie_term) / 18.0
    z = _z(s, var)
    return pd.DataFrame(
        {
            "s": s,
            "var_s": var,
            "z": z,
            "p_value": 2 * stats.norm.sf(np.abs(z)),
            "tau": s / (n * (n - 1) / 2) if n > 1 else np.nan,
            "n": n,
        }
    )
