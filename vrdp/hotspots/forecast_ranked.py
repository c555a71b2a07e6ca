"""Next-period risk per cell, with the blend chosen for ranking (PEI) on the training window.

:func:`vrdp.hotspots.forecast.forecast_risk` learns its weights by least
squares on the counts; the report, however, judges a forecast only by the
order of its cells (PAI / PEI at fixed area shares). This variant scores each
cell with a small blend of the same kind of features,

``score = (1 - recency) × long_term + recency × ewm
+ ring × neighbours + density × kde + related × aux_total``

(``ewm``: mean of the available periods weighted ``0.5 ** (age / half_life)``;
``neighbours``: mean ``long_term`` of the ``grid_disk`` k=1 ring;
``kde``: ``kernel`` applied to ``long_term``, row-normalised, when a kernel is
given; ``aux_total``: ``long_term`` of the sum of the auxiliary series, when
given) and picks the blend weights that maximise the mean PEI, over
``area_shares``, of *inner* folds inside the training window: for each of the
last ``fit_periods`` available periods ``s`` the features are built from the
available periods before ``s`` and scored against the count in ``s``. Nothing
at or after the origin is used, so the function can be called on the training
columns of a rolling-origin fold.

The search is a deterministic coordinate ascent over fixed grids (no random
numbers: the same inputs always give the same score). With fewer than two
available periods there is nothing to tune and the starting blend
``long_term + 0.05 × neighbours`` is used (``fitted = False``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import sparse

from vrdp.hotspots.forecast import RiskForecast, _available, _ring_mean

__all__ = ["forecast_risk_ranked", "ranked_blend_features", "DEFAULT_GRID"]

#: Candidate values of each blend weight (``long_term`` is the fixed anchor).
DEFAULT_GRID: dict[str, tuple[float, ...]] = {
    "recency": (0.0, 0.3, 0.6),
    "ring": (0.0, 0.03, 0.06, 0.1, 0.15),
    "density": (0.0, 0.1, 0.3, 0.5),
    "related": (0.0, 0.1, 0.3, 0.6, 1.0),
}
_START = {"recency": 0.0, "ring": 0.05, "density": 0.0, "related": 0.0}


def ranked_blend_features(
    target: np.ndarray,
    cols: np.ndarray,
    *,
    ring: sparse.spmatrix,
    kernel: sparse.spmatrix | None,
    aux_total: np.ndarray | None,
    half_life_periods: float,
) -> dict[str, np.ndarray]:
    """Blend features of every cell from the available columns ``cols`` of ``target``.

    ``ring`` is the row-normalised ring (see :func:`vrdp.hotspots.forecast._ring_mean`),
    ``kernel`` is row-normalised here; age is counted in periods from the last
    column in ``cols`` (missing periods skipped but counted in the age).

    >>> r = sparse.csr_matrix(np.array([[0.0, 1], [1, 0]]))
    >>> f = ranked_blend_features(np.array([[2.0, np.nan, 4], [0, np.nan, 0]]), np.array([0, 2]),
    ...     ring=r, kernel=None, aux_total=None, half_life_periods=2.0)
    >>> f["long_term"].tolist(), f["ewm"].tolist(), f["neighbours"].tolist()
    ([3.0, 0.0], [3.333333333333333, 0.0], [0.0, 3.0])
    """
    sub = target[:, cols]
    long_term = sub.mean(axis=1)
    age = cols[-1] - cols
    wt = 0.5 ** (age / half_life_periods)
    f = {
        "long_term": long_term,
        "ewm": sub @ (wt / wt.sum()),
        "neighbours": ring @ long_term,
    }
    if kernel is not None:
        k = sparse.csr_matrix(kernel, dtype=float)
        rs = np.asarray(k.sum(axis=1)).ravel()
        f["kde"] = sparse.diags(1.0 / np.where(rs > 0, rs, 1.0)) @ (k @ long_term)
    if aux_total is not None:
        f["aux_total"] = aux_total[:, cols].mean(axis=1)
    return f


def _blend(f: Mapping[str, np.ndarray], w: Mapping[str, float]) -> np.ndarray:
    s = (1.0 - w["recency"]) * f["long_term"] + w["recency"] * f["ewm"]
    s = s + w["ring"] * f["neighbours"]
    if "kde" in f:
        s = s + w["density"] * f["kde"]
    if "aux_total" in f:
        s = s + w["related"] * f["aux_total"]
    return s


class _InnerFold:
    """One inner fold: the features, the observed counts and the oracle's capture."""

    def __init__(self, feats, obs, area, shares):
        self.f = feats
        self.obs = obs
        self.area = area
        self.limits = np.asarray(shares) * area.sum() * (1 + 1e-9)
        self.oracle = self._capture(obs)

    def _capture(self, score: np.ndarray) -> np.ndarray:
        order = np.argsort(-score, kind="stable")
        cum_a = np.cumsum(self.area[order])
        k = np.maximum(np.searchsorted(cum_a, self.limits, side="right"), 1)
        cum_o = np.cumsum(self.obs[order])
        return cum_o[k - 1] / cum_a[k - 1]

    def pei(self, w: Mapping[str, float]) -> float:
        ok = self.oracle > 0
        if not ok.any():
            return float("nan")
        return float(np.mean(self._capture(_blend(self.f, w))[ok] / self.oracle[ok]))


def forecast_risk_ranked(
    target: np.ndarray,
    *,
    neighbours: sparse.spmatrix,
    kernel: sparse.spmatrix | None = None,
    auxiliary: Mapping[str, np.ndarray] | None = None,
    area: np.ndarray | None = None,
    area_shares: tuple[float, ...] = (0.01, 0.05, 0.10),
    fit_periods: int = 9,
    half_life_periods: float = 3.0,
    grid: Mapping[str, tuple[float, ...]] | None = None,
    sweeps: int = 3,
) -> RiskForecast:
    """Forecast next-period risk with a blend tuned on inner-fold PEI (see module docstring).

    Parameters
    ----------
    target
        Cells × periods counts of what is forecast; NaN column = no data.
    neighbours
        Binary ring matrix (:func:`vrdp.hotspots.grid.neighbour_matrix`).
    kernel
        Optional cell-to-cell quartic kernel matrix (``kde`` feature).
    auxiliary
        Optional related cells × periods series (same periods as ``target``;
        only the columns of ``target``'s available periods are read). Their
        sum is the ``aux_total`` feature.
    area
        Cell areas for the PEI of the inner folds (unit areas if omitted).
    area_shares
        Area shares whose mean PEI is maximised.
    fit_periods
        How many of the latest available training periods are inner-fold targets.
    half_life_periods
        Half-life of the ``ewm`` feature.
    grid
        Candidate values per weight (default :data:`DEFAULT_GRID`).
    sweeps
        Coordinate-ascent passes over the weights.

    Returns
    -------
    RiskForecast
        ``score``, the chosen blend ``coefficients`` (plus ``inner_pei``, the
        mean inner-fold PEI reached), ``fitted``, ``transitions`` (inner folds)
        and the ``features`` at the origin.

    Examples
    --------
    >>> w = sparse.identity(3, format="csr")
    >>> past = np.array([[5.0, 6, 5, 6], [1, 0, 1, 0], [0, 3, 0, 2]])
    >>> fc = forecast_risk_ranked(past, neighbours=w, area_shares=(1 / 3,))
    >>> np.argsort(-fc.score).tolist(), fc.fitted
    ([0, 2, 1], True)
    """
    target = np.asarray(target, float)
    cols = _available(target)
    if len(cols) == 0:
        raise ValueError("no period with data")
    n = target.shape[0]
    a = np.ones(n) if area is None else np.asarray(area, float)
    ring = _ring_mean(neighbours)
    aux_total = None
    if auxiliary:
        aux_total = np.zeros((n, target.shape[1]))
        for v in auxiliary.values():
            aux_total += np.nan_to_num(np.asarray(v, float)[:, : target.shape[1]])
    g = dict(DEFAULT_GRID if grid is None else grid)
    if kernel is None:
        g["density"] = (0.0,)
    if aux_total is None:
        g["related"] = (0.0,)

    def build(c: np.ndarray) -> dict[str, np.ndarray]:
        return ranked_blend_features(
            target,
            c,
            ring=ring,
            kernel=kernel,
            aux_total=aux_total,
            half_life_periods=half_life_periods,
        )

    now = build(cols)
    inner_targets = list(range(1, len(cols)))[-fit_periods:] if fit_periods > 0 else []
    folds = [_InnerFold(build(cols[:j]), target[:, cols[j]], a, area_shares) for j in inner_targets]
    folds = [f for f in folds if f.oracle.max() > 0]
    w = dict(_START)
    if not folds:
        return RiskForecast(_blend(now, w), w, False, 0, pd.DataFrame(now))

    def objective(wt: Mapping[str, float]) -> float:
        return float(np.nanmean([f.pei(wt) for f in folds]))

    best = objective(w)
    for _ in range(max(sweeps, 1)):
        improved = False
        for name, values in g.items():
            for v in values:
                if v == w[name]:
                    continue
                cand = {**w, name: v}
                o = objective(cand)
                if o > best + 1e-9:
                    best, w, improved = o, cand, True
        if not improved:
            break
    coef = {**{k: float(v) for k, v in w.items()}, "inner_pei": best}
    return RiskForecast(_blend(now, w), coef, True, len(folds), pd.DataFrame(now))
