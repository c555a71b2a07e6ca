"""Exposure from candidate event locations, with each kind of place's attraction estimated.

RTM counts events per cell. A cell's count reflects its environment (what RTM is
after) and also how many places in it can host an event at all: a cell of forty
houses and a street sees more assaults than a cell of two houses, and a cell with
a pub sees the assaults *in* the pub whatever its surroundings. Left in the
counts, both inflate the RRVs of factors that sit where places are dense (the
night-time economy in town centres). RTM with an exposure offset removes this,
but needs the exposure per cell.

Here the exposure is built from **candidate event locations** the platform holds as
reference data, each with a **class**: residential addresses (an address
gazetteer such as AddressBase), street segments (a street gazetteer such as OS
Open USRN) and points of interest by category. A location of class ``k`` has an
**attraction** ``a_k``: its expected events per period before environmental
risk. The model is

    y_i ~ Poisson( r_i * sum_k N_ik * a_k ),    r_i = exp(b0 + x_i'b)

with ``N_ik`` the number of class-``k`` locations in cell ``i`` and ``r_i`` the
RTM risk of the cell. The attractions are not known in advance (how many assaults
does a pub host, compared with a house?), so they are **estimated jointly with
the RTM** from the event counts alone (:func:`run_rtm_estimated_exposure`):

1. start: the attractions without environmental risk, the maximum-likelihood
   solution of a Poisson model with an additive (identity-link) mean, by EM
   (:func:`attraction_em`; each step raises the likelihood, attractions stay >= 0);
2. the full RTM selection (elastic net, stepwise BIC, Poisson vs NB2) with the
   offset ``log(sum_k N_ik a_k)`` (:func:`~vrdp.risk_terrain.model.run_rtm`);
3. with the selected variables fixed, the attractions and the coefficients
   together by maximum likelihood (Poisson; :func:`joint_fit`);
4. back to 2 with the new attractions, until the selection picks the same
   variables and the expected events by class moved by less than ``tol``.

Why this recovers environmental effects: a factor's RRV is identified by the
places of the *common* classes (houses, streets) near and away from the factor's
features, while a pub's own attraction is identified by the cells holding pubs
*given* their risk; the product ``a_pub * r`` is what the data fix in those
cells, and ``r`` is fixed by the rest. What it does not see: variation of
attraction within a class (busier streets in town centres, more deprived
estates), which the RRVs of factors correlated with it still absorb. And what
it cannot separate: a factor whose influence reaches little beyond its own
features (an ATM's 50 m) is mostly measured on the features' own cells, where a
class's attraction and the factor's RRV multiply and only their product is in
the data; such factors are found only when enough other places lie within
their reach (the simulated world's figures: ``bench/results/rtm.json``).

No outcome data shapes the candidate set: a cell is in the study area because
reference data puts a place there, not because a crime happened there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import minimize

from vrdp.risk_terrain.factors import RiskFactor
from vrdp.risk_terrain.grid import StudyGrid, cell_of_points
from vrdp.risk_terrain.model import RTMConfig, RTMResult, run_rtm

__all__ = [
    "ClassCounts",
    "attraction_em",
    "class_counts",
    "run_rtm_estimated_exposure",
]


@dataclass(frozen=True)
class ClassCounts:
    """Candidate locations per study cell and class.

    ``matrix`` is ``(n_cells, n_classes)`` sparse (CSR), ``classes`` the class names
    in column order, ``locations`` the number of locations of each class inside the
    study area.
    """

    matrix: sparse.csr_matrix
    classes: list[str]
    locations: np.ndarray


def class_counts(
    grid: StudyGrid, easting_m: np.ndarray, northing_m: np.ndarray, classes: Sequence[str]
) -> ClassCounts:
    """Count candidate locations per study cell and class (outside the study area: ignored).

    Examples
    --------
    >>> from vrdp.risk_terrain.grid import grid_from_bounds
    >>> g = grid_from_bounds(0, 0, 20, 10, 10)
    >>> cc = class_counts(g, np.array([1.0, 2, 15, 15]), np.array([1.0, 1, 1, 1]),
    ...                   ["house", "pub", "house", "house"])
    >>> cc.classes, cc.matrix.toarray().tolist(), cc.locations.tolist()
    (['house', 'pub'], [[1.0, 1.0], [2.0, 0.0]], [3, 1])
    """
    pos = cell_of_points(grid, np.asarray(easting_m, float), np.asarray(northing_m, float))
    cls = pd.Categorical(pd.Series(list(classes), dtype=object).astype(str))
    inside = pos >= 0
    codes = np.asarray(cls.codes)[inside]
    m = sparse.csr_matrix(
        (np.ones(int(inside.sum())), (pos[inside], codes)),
        shape=(grid.n_cells, len(cls.categories)),
    )
    m.sum_duplicates()
    n_loc = np.bincount(codes, minlength=len(cls.categories))
    return ClassCounts(m, [str(c) for c in cls.categories], n_loc)


def attraction_em(
    counts: sparse.spmatrix,
    y: np.ndarray,
    risk: np.ndarray | None = None,
    start: np.ndarray | None = None,
    *,
    tol: float = 1e-9,
    max_iter: int = 5000,
) -> tuple[np.ndarray, int]:
    """Maximum-likelihood attractions ``a`` of ``y_i ~ Poisson(r_i * sum_k N_ik a_k)``.

    EM for a Poisson model with an additive mean (each event is attributed to the
    classes of its cell in proportion to their expected share; Shepp and Vardi's
    update): ``a_k <- a_k * sum_i N_ik r_i y_i / mu_i / sum_i N_ik r_i``. Every
    step raises the likelihood and keeps ``a >= 0``; iterations stop when the
    log-likelihood gains less than ``tol`` (relative). A class whose locations
    see no event gets ``a = 0``.

    Parameters
    ----------
    counts : (n_cells, n_classes) sparse matrix
        Candidate locations per cell and class.
    y : (n_cells,) array
        Events per cell.
    risk : (n_cells,) array, optional
        Multiplicative risk per cell (default 1).
    start : (n_classes,) array, optional
        Starting attractions (default: events per location, the same for all).

    Returns
    -------
    (attractions, iterations)

    Examples
    --------
    Houses get 1 event each and pubs 5 each, mixed in cells:

    >>> N = sparse.csr_matrix(np.array([[4.0, 0], [2, 1], [0, 2], [3, 1]]))
    >>> a, _ = attraction_em(N, np.array([4.0, 7, 10, 8]))
    >>> np.round(a, 3).tolist()
    [1.0, 5.0]
    """
    N = sparse.csr_matrix(counts, dtype=float)
    y = np.asarray(y, float)
    r = np.ones(len(y)) if risk is None else np.asarray(risk, float)
    if N.shape[0] != len(y) or len(r) != len(y):
        raise ValueError("counts, y and risk must have one row per cell")
    if (y[np.asarray(N.sum(axis=1)).ravel() == 0] > 0).any():
        raise ValueError("events in cells without candidate locations")
    Nr = sparse.diags(r) @ N
    denom = np.asarray(Nr.sum(axis=0)).ravel()
    a = (
        np.full(N.shape[1], y.sum() / max(denom.sum(), 1e-300))
        if start is None
        else np.asarray(start, float).copy()
    )
    a[denom <= 0] = 0.0
    has = y > 0
    Nh, yh = Nr[has], y[has]
    llf = -np.inf
    it = 0
    while it < max_iter:
        it += 1
        mu_h = Nh @ a
        new_llf = float(yh @ np.log(mu_h)) - float(denom @ a)
        a = a * (Nh.T @ (yh / mu_h)) / np.where(denom > 0, denom, 1.0)
        if abs(new_llf - llf) <= tol * (1.0 + abs(new_llf)):
            break
        llf = new_llf
    return a, it


def joint_fit(
    counts: sparse.spmatrix,
    X: np.ndarray,
    y: np.ndarray,
    start_attraction: np.ndarray,
    start_beta: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Maximum-likelihood ``(a, b)`` of ``y_i ~ Poisson(exp(x_i'b) * sum_k N_ik a_k)``.

    The attractions carry the scale (no intercept). Fitted by L-BFGS-B on
    ``(log a, b)`` with the analytic gradient; classes whose starting attraction is
    0 stay 0. Returns ``(a, b, loglik)`` (log-likelihood without ``log y!``).
    """
    N = sparse.csr_matrix(counts, dtype=float)
    X = np.asarray(X, float).reshape(len(y), -1)
    y = np.asarray(y, float)
    live = np.asarray(start_attraction, float) > 0
    Nl = N[:, live]
    p = X.shape[1]
    x0 = np.r_[np.log(start_attraction[live]), np.zeros(p) if start_beta is None else start_beta]
    has = y > 0

    def nll(theta):
        la, b = theta[: live.sum()], theta[live.sum() :]
        av = np.exp(np.clip(la, -700, 700))
        ex = Nl @ av
        r = np.exp(np.clip(X @ b, -700, 700))
        mu = r * ex
        ll = float(y[has] @ np.log(mu[has])) - float(mu.sum())
        w = np.where(has, y / np.where(mu > 0, mu, 1.0), 0.0) - 1.0  # d ll / d log mu
        g_b = X.T @ (w * mu)
        g_la = av * (Nl.T @ (w * r))
        return -ll, -np.r_[g_la, g_b]

    out = minimize(nll, x0, jac=True, method="L-BFGS-B", options={"maxiter": 2000, "gtol": 1e-8})
    a = np.zeros(len(start_attraction))
    a[live] = np.exp(out.x[: live.sum()])
    return a, out.x[live.sum() :], -float(out.fun)


def _change(new: np.ndarray, old: np.ndarray, weight: np.ndarray) -> float:
    """Relative L1 change of the expected events by class (weights: summed risk)."""
    tot = float(old @ weight)
    return float(np.abs(new - old) @ weight) / tot if tot > 0 else 0.0


def run_rtm_estimated_exposure(
    grid: StudyGrid,
    event_counts: np.ndarray,
    counts: ClassCounts,
    features,
    factors: Sequence[RiskFactor],
    config: RTMConfig | None = None,
    *,
    next_counts: np.ndarray | None = None,
    max_selections: int = 4,
    tol: float = 0.01,
) -> RTMResult:
    """RTM with the exposure ``sum_k N_ik a_k``, the attractions estimated jointly.

    Rounds as in the module docstring, at most ``max_selections`` selections; the
    loop ends when a selection picks the same variables as the one before and the
    joint fit then moves the expected events by class by at most ``tol``
    (relative L1). The result is the last selection's RTM;
    ``report["exposure_model"]`` holds the attractions its offset used (events per
    location per model period before environmental risk, and relative to the
    commonest class), each selection and whether the rounds converged.

    Parameters
    ----------
    grid : StudyGrid
        Study cells: the cells holding at least one candidate location.
    event_counts : (n_cells,) array
    counts : ClassCounts
        From :func:`class_counts` on the same grid.
    features, factors, config, next_counts
        As :func:`~vrdp.risk_terrain.model.run_rtm`.
    """
    y = np.asarray(event_counts, float)
    N = counts.matrix
    a, _ = attraction_em(N, y)
    rounds: list[dict] = []
    res = None
    prev_vars = None
    converged = False
    for k in range(max_selections):
        used = a.copy()
        with np.errstate(divide="ignore"):
            offset = np.log(N @ used)
        res = run_rtm(grid, y, features, factors, config, next_counts=next_counts, offset=offset)
        variables = list(res.factor_table["variable"])
        X = res.cells[variables].to_numpy(float) if variables else np.zeros((len(y), 0))
        a, beta, _ = joint_fit(N, X, y, a)
        moved = _change(a, used, np.asarray(N.T @ np.exp(X @ beta)).ravel())
        rounds.append(
            {
                "selection": k + 1,
                "selected": sorted(variables),
                "attraction_change_since_selection": round(moved, 6),
            }
        )
        if sorted(variables) == prev_vars and moved <= tol:
            converged = True
            break
        prev_vars = sorted(variables)
    assert res is not None
    shown = np.where(used > 1e-12 * used.max(), used, 0.0)  # EM's vanishing classes as 0
    table = pd.DataFrame(
        {"location_class": counts.classes, "locations": counts.locations, "attraction": shown}
    )
    ref = float(table.loc[table["locations"].idxmax(), "attraction"])
    table["relative_to_commonest"] = table["attraction"] / ref if ref > 0 else np.nan
    res.report["exposure_model"] = {
        "method": "candidate locations by class, attractions estimated jointly with the RTM "
        "(EM start; RTM selection with their offset; joint ML of attractions and the "
        "selected coefficients; reselection until stable)",
        "selections": rounds,
        "converged": converged,
        "tolerance": tol,
        "commonest_class": str(table.loc[table["locations"].idxmax(), "location_class"]),
        "attractions": _json_records(table),
    }
    return res


def _json_records(df: pd.DataFrame) -> list[dict]:
    """Plain-Python records of a frame (floats to 6 significant digits)."""

    def plain(v):
        v = v.item() if isinstance(v, np.generic) else v
        return float(f"{v:.6g}") if isinstance(v, float) and np.isfinite(v) else v

    return [{k: plain(v) for k, v in rec.items()} for rec in df.to_dict("records")]
