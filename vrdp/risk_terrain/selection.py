"""Variable selection for RTM: elastic-net Poisson shortlist, then stepwise BIC.

Two stages, as in RTMDx:

1. **Shortlist** (:func:`elastic_net_shortlist`): elastic-net penalised Poisson
   regression of cell counts on all candidate variables, objective

   ``-loglik(b0, b) / n + lambda * ((1 - l1_ratio) / 2 * ||b||^2 + l1_ratio * ||b||_1)``

   with the columns scaled to unit SD (the intercept is not penalised), solved by
   proximal Newton (IRLS) with covariance coordinate descent on an active set and
   KKT checks on all variables (each IRLS step works on the rows grouped by their
   pattern of active variables, with summed counts and summed exposure, which is
   exact for Poisson: its cost follows the few thousand patterns of ~30 active
   binary variables rather than the 100,000+ cells), over a log-spaced path of
   ``n_lambdas`` values from
   ``lambda_max`` down to ``lambda_min_ratio * lambda_max`` (stopping early once
   more than ``max_shortlist`` coefficients are non-zero). ``lambda`` is chosen by
   ``n_folds``-fold cross-validation (fold of each cell drawn with
   ``numpy.random.default_rng(seed)``) minimising the mean held-out Poisson
   deviance among the lambdas with at most ``max_shortlist`` non-zero
   coefficients; the variables non-zero there are shortlisted.
2. **Stepwise BIC** (:func:`stepwise_bic`), run for Poisson and negative binomial
   separately: bidirectional search from the null (intercept-only) model; each step
   takes the single move that lowers ``BIC = -2 loglik + k ln(n)`` most among adding
   a shortlisted variable, dropping a selected one, or (with
   ``one_variable_per_factor``, the RTMDx convention that a factor enters the model
   with a single operationalisation and spatial influence) swapping a selected
   variable for another of the same factor; it stops when no move lowers BIC. Ties
   are broken by variable order, so the result is deterministic.

**Negative binomial parameterisation**: NB2, ``Var(Y) = mu + alpha * mu^2`` with
``log(mu) = b0 + x'b`` and ``alpha > 0`` estimated by maximum likelihood (profile
likelihood over ``log(alpha)``, alternating with Fisher scoring for ``b``), counted
as one parameter in BIC. ``alpha`` is bounded to ``[1e-8, 1e3]``; at the lower bound
NB2 is Poisson with one extra parameter, so Poisson wins on BIC.

Both stepwise searches run on the cells collapsed to distinct (shortlisted
variables, count) rows with frequency weights, which gives exactly the same
likelihoods as the full cell table and makes each fit cheap. The chosen model is
refitted with statsmodels (GLM Poisson, or GLM NB2 at the estimated ``alpha``;
``b`` and ``alpha`` are asymptotically orthogonal in NB2 so the Wald p-values of
``b`` are valid) for standard errors and p-values.

**Exposure offset**: every stage takes an optional ``offset`` (one value per cell,
``log`` of the cell's exposure, e.g. of its candidate event locations or of their
summed baseline weights), entering the linear predictor with a fixed coefficient of
1, ``log(mu) = offset + b0 + x'b``, so coefficients are rate ratios *per unit of
exposure*. With an offset the elastic net and the Poisson stepwise search run on
the cells collapsed to distinct variable rows with summed counts and summed exposure
(exact for Poisson, likelihood shifted back to the full-cell value so BICs stay
comparable); NB2 is not collapsible over the offset, so its stepwise search and
refit use rows collapsed on (variables, count, offset rounded to
``offset_resolution`` on the log scale; default 0.01, i.e. exposure to within 1 %).
Cells with an offset of ``-inf`` (no exposure) must have no events and are left out.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.optimize import minimize_scalar
from scipy.special import gammaln
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning
from threadpoolctl import threadpool_limits

__all__ = [
    "EnetPath",
    "poisson_elastic_net_path",
    "elastic_net_shortlist",
    "collapse_rows",
    "fit_poisson",
    "fit_negbin2",
    "StepwiseResult",
    "stepwise_bic",
    "SelectedModel",
    "select_model",
]

_ALPHA_BOUNDS = (1e-8, 1e3)


# --------------------------------------------------------------------------- elastic net
@dataclass(frozen=True)
class EnetPath:
    """Elastic-net Poisson path: ``coefs[l, j]`` on the original (unscaled) columns."""

    lambdas: np.ndarray
    intercepts: np.ndarray
    coefs: np.ndarray


class _WeightedGram:
    """``Q = A' diag(w) A`` of a tall design, its columns computed when first used.

    Coordinate descent on the quadratic approximation only reads ``Q``'s diagonal
    and the columns of coordinates that move (glmnet's covariance updates): with a
    strong set of 200 variables and at most 30 in the model, forming the whole
    matrix was over half of the elastic-net path's time.
    """

    def __init__(self, A: np.ndarray, w: np.ndarray, A2: np.ndarray | None = None):
        self.A = A
        self.w = w
        self.A2 = A * A if A2 is None else A2  # squares, for the diagonal
        self._cols: dict[int, np.ndarray] = {}

    def __matmul__(self, b: np.ndarray) -> np.ndarray:
        return self.A.T @ (self.w * (self.A @ b))

    def diagonal(self) -> np.ndarray:
        return self.A2.T @ self.w

    def prefetch(self, cols: np.ndarray) -> None:
        """Compute the columns ``cols`` in one matrix product (faster than one by one)."""
        cols = [int(j) for j in cols if int(j) not in self._cols]
        if cols:
            block = self.A.T @ (self.A[:, cols] * self.w[:, None])
            for k, j in enumerate(cols):
                self._cols[j] = np.ascontiguousarray(block[:, k])

    def col(self, j: int) -> np.ndarray:
        q = self._cols.get(j)
        if q is None:
            q = self._cols[j] = self.A.T @ (self.w * self.A[:, j])
        return q


def _cd_quadratic(Q, c, b, pen_l1, pen_l2, tol=1e-9, max_sweeps=2000):
    """Minimise 0.5 b'Qb - c'b + sum(pen_l2/2 b^2 + pen_l1 |b|) (index 0 unpenalised).

    ``Q`` is a symmetric array or a :class:`_WeightedGram`. Cyclic coordinate
    descent with an inner active set: after each full sweep the non-zero
    coordinates are swept until they converge, then a full sweep checks the rest
    (glmnet's strategy); scalars are plain Python floats for speed.
    """
    if not isinstance(Q, _WeightedGram):
        dense = np.ascontiguousarray(Q)
        diag_arr = dense.diagonal()

        def col(j):
            return dense[j]  # Q symmetric: row j == column j

    else:
        diag_arr = Q.diagonal()
        col = Q.col
        Q.prefetch(np.flatnonzero(b))  # the coordinates most likely to move
    g = c - Q @ b  # g_j = c_j - (Qb)_j
    m = len(b)
    diag = diag_arr.tolist()
    sq = [float(np.sqrt(max(d, 1e-300))) for d in diag]
    bl = [float(v) for v in b]

    def sweep(idx):
        max_change = 0.0
        for j in idx:
            old = bl[j]
            dj = diag[j]
            r = float(g[j]) + dj * old
            if j == 0:
                new = r / dj
            elif dj > 0:
                a = abs(r) - pen_l1
                new = ((a if r > 0 else -a) / (dj + pen_l2)) if a > 0 else 0.0
            else:
                new = 0.0
            delta = new - old
            if delta != 0.0:
                bl[j] = new
                np.subtract(g, col(j) * delta, out=g)
                change = abs(delta) * sq[j]
                if change > max_change:
                    max_change = change
        return max_change

    every = range(m)
    for _ in range(max_sweeps):
        if sweep(every) < tol:
            break
        active = [j for j in every if j == 0 or bl[j] != 0.0]
        for _ in range(max_sweeps):
            if sweep(active) < tol:
                break
    b[:] = bl
    return b


def _active_groups(Xg, y, f, o, active, scale, binary):
    """Rows grouped by their values on the ``active`` columns, for a Poisson fit.

    ``Xg`` is the design kept for column gathers (uint8 when ``binary``). Returns the
    scaled design of the groups (intercept first), each row's group, the groups'
    summed counts ``sum f*y`` and log summed exposure ``log(sum f*exp(offset))``:
    the Poisson log-likelihood of the groups equals that of the rows up to a
    constant, and so do its gradient and Hessian.
    """
    n_rows = len(y)
    if active:
        Xa = Xg[:, active]
        if binary and len(active) <= 63:
            # one integer key per row: bit j set when active variable j is present
            bits = np.left_shift(np.uint64(1), np.arange(len(active), dtype=np.uint64))
            keys = Xa.astype(np.uint64) @ bits
            _, first, inv = np.unique(keys, return_index=True, return_inverse=True)
        elif binary:
            packed = np.packbits(Xa.astype(bool), axis=1)
            keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1])))
            _, first, inv = np.unique(keys.ravel(), return_index=True, return_inverse=True)
        else:
            _, first, inv = np.unique(Xa, axis=0, return_index=True, return_inverse=True)
        inv = inv.ravel()
        A = np.empty((len(first), len(active) + 1))
        A[:, 0] = 1.0
        A[:, 1:] = Xa[first]
        A[:, 1:] /= scale[active]
    else:
        inv = np.zeros(n_rows, dtype=np.int64)
        A = np.ones((1, 1))
    yg = np.bincount(inv, weights=f * y, minlength=len(A))
    og = np.log(np.bincount(inv, weights=f * np.exp(o), minlength=len(A)))
    return A, inv, yg, og


def _enet_objective(y, f, eta, b, lam, l1_ratio, n):
    ll = float(np.sum(f * (y * eta - np.exp(eta)))) / n
    pen = lam * ((1 - l1_ratio) / 2 * float(b @ b) + l1_ratio * float(np.abs(b).sum()))
    return -ll + pen


def poisson_elastic_net_path(
    X: np.ndarray,
    y: np.ndarray,
    *,
    sample_weight: np.ndarray | None = None,
    l1_ratio: float = 0.5,
    lambdas: np.ndarray | None = None,
    n_lambdas: int = 20,
    lambda_min_ratio: float = 1e-3,
    max_nonzero: int | None = None,
    standardize: bool = True,
    tol: float = 1e-7,
    max_irls: int = 50,
    offset: np.ndarray | None = None,
) -> EnetPath:
    """Elastic-net penalised Poisson regression path (log link, unpenalised intercept).

    Parameters
    ----------
    X : (n, p) array
        Covariates (binary RTM variables, any numeric works).
    y : (n,) array
        Counts (with ``sample_weight``: mean count of the rows a row stands for).
    sample_weight : (n,) array, optional
        Frequency weights (rows standing for several identical cells).
    l1_ratio : float
        Mix between L1 (1) and L2 (0); must be > 0.
    lambdas : array, optional
        Decreasing penalty values; default ``n_lambdas`` log-spaced from ``lambda_max``.
    max_nonzero : int, optional
        Stop the path after the first lambda with more non-zero coefficients.
    standardize : bool
        Scale columns to unit (weighted) SD before penalising (coefficients are
        returned unscaled).
    offset : (n,) array, optional
        Log exposure per row, added to the linear predictor with coefficient 1.

    Returns
    -------
    EnetPath

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 2, size=(2000, 3)).astype(float)
    >>> y = rng.poisson(np.exp(-1 + 0.7 * X[:, 0]))
    >>> path = poisson_elastic_net_path(X, y, n_lambdas=5)
    >>> bool(np.all(path.coefs[0] == 0)), int((path.coefs[-1] != 0).sum()) >= 1
    (True, True)
    """
    if not 0 < l1_ratio <= 1:
        raise ValueError("l1_ratio must be in (0, 1]")
    X = np.asarray(X)
    if X.dtype == bool or (X.dtype.kind in "ui" and X.size and X.min() >= 0 and X.max() <= 1):
        binary = True
    else:
        binary = bool(np.all((X == 0) | (X == 1)))
    Xf = np.asfortranarray(X, dtype=np.float32)  # for the gradient (one gemv per check)
    # column gathers from a column-major copy are contiguous; one byte per value if 0/1
    Xg = np.asfortranarray(X, dtype=np.uint8) if binary else Xf
    y = np.asarray(y, float)
    n_rows, p = Xf.shape
    f = np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight, float)
    n = float(f.sum())
    o = np.zeros(n_rows) if offset is None else np.asarray(offset, float)
    if standardize:
        # weighted column means in float64, one column at a time (no float64 copy of X)
        m1 = np.array([f @ Xg[:, j] for j in range(p)], dtype=np.float64) / n
        sd = (
            np.sqrt(np.maximum(m1 - m1**2, 0.0))
            if binary
            else np.sqrt(np.maximum((f @ (Xf.astype(np.float64) ** 2)) / n - m1**2, 0.0))
        )
    else:
        sd = np.ones(p)
    usable = sd > 1e-12
    scale = np.where(usable, sd, 1.0)
    ybar = max(float(f @ y) / float(f @ np.exp(o)), 1e-10)
    resid0 = (f * (y - ybar * np.exp(o))).astype(np.float32)
    grad0 = (Xf.T @ resid0).astype(np.float64) / scale / n
    grad0[~usable] = 0.0
    lam_max = float(np.max(np.abs(grad0))) / l1_ratio if p else 1.0
    if lambdas is None:
        lam_max = max(lam_max, 1e-12)
        lambdas = lam_max * np.logspace(0, np.log10(lambda_min_ratio), n_lambdas)
    lambdas = np.asarray(lambdas, float)

    b0 = np.log(ybar)
    beta = np.zeros(p)  # scaled coefficients
    active: list[int] = []
    grad = grad0.copy()
    lam_prev = lambdas[0]
    intercepts = np.zeros(len(lambdas))
    coefs = np.zeros((len(lambdas), p))
    done = len(lambdas)
    for li, lam in enumerate(lambdas):
        # strong rule screening plus the ever-active set
        strong = np.where(usable & (np.abs(grad) > l1_ratio * (2 * lam - lam_prev)))[0]
        active = sorted(set(active) | set(strong.tolist()))
        while True:
            # IRLS on the rows grouped by their pattern of active variables: for
            # Poisson a group is one row with the summed count and summed exposure
            # (exact), and 30 active binary variables leave a few thousand patterns
            A, inv, yg, og = _active_groups(Xg, y, f, o, active, scale, binary)
            A2 = A * A
            fg = np.ones(len(yg))
            for _ in range(max_irls):
                bvec = np.concatenate([[b0], beta[active]])
                lin = A @ bvec
                eta = lin + og
                mu = np.exp(eta)
                z = lin + (yg - mu) / mu
                Q = _WeightedGram(A, mu / n, A2)
                c = A.T @ (mu * z) / n
                new = _cd_quadratic(
                    Q, c, bvec.copy(), lam * l1_ratio, lam * (1 - l1_ratio), tol=tol * 0.1
                )
                # backtracking on the penalised objective
                obj_old = _enet_objective(yg, fg, eta, bvec[1:], lam, l1_ratio, n)
                step = 1.0
                while True:
                    trial = bvec + step * (new - bvec)
                    eta_t = A @ trial + og
                    obj_new = _enet_objective(yg, fg, eta_t, trial[1:], lam, l1_ratio, n)
                    if obj_new <= obj_old + 1e-12 or step < 1e-4:
                        break
                    step *= 0.5
                b0 = trial[0]
                beta[active] = trial[1:]
                if np.max(np.abs(trial - bvec)) < tol:
                    break
            eta = (A @ np.concatenate([[b0], beta[active]]))[inv] + o
            resid = (f * (y - np.exp(eta))).astype(np.float32)
            grad = (Xf.T @ resid).astype(np.float64) / scale / n
            grad[~usable] = 0.0
            inactive = np.setdiff1d(np.arange(p), active)
            viol = inactive[np.abs(grad[inactive]) > lam * l1_ratio * (1 + 1e-6) + 1e-10]
            if len(viol) == 0:
                break
            active = sorted(set(active) | set(viol.tolist()))
        intercepts[li] = b0
        coefs[li] = beta / scale
        lam_prev = lam
        if max_nonzero is not None and np.count_nonzero(beta) > max_nonzero:
            done = li + 1
            break
    return EnetPath(lambdas=lambdas[:done], intercepts=intercepts[:done], coefs=coefs[:done])


def _poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    mu = np.maximum(mu, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(2 * np.sum(term - (y - mu)))


def _collapse_x(X: np.ndarray, y: np.ndarray, offset: np.ndarray | None = None):
    """Distinct rows of ``X`` with mean ``y`` and frequency (exact for Poisson).

    Returns ``(X_rows, mean_y, freq, offset_rows)``; with an offset, ``offset_rows``
    is the log of the mean exposure of the collapsed cells (else ``None``), so
    ``freq * (mean_y * eta - exp(eta))`` sums the full-cell Poisson kernel.
    """
    if np.asarray(X).shape[1] == 0:  # one group: the intercept-only design
        X = np.zeros((len(y), 1), dtype=np.uint8)
        Xr, yr, fr, orr = _collapse_x(X, y, offset)
        return Xr[:, :0], yr, fr, orr
    packed = np.packbits(np.asarray(X, dtype=bool), axis=1)
    view = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1])))
    _, first, inverse, counts = np.unique(
        view.ravel(), return_index=True, return_inverse=True, return_counts=True
    )
    ysum = np.bincount(inverse.ravel(), weights=y, minlength=len(first))
    o = None
    if offset is not None:
        esum = np.bincount(inverse.ravel(), weights=np.exp(offset), minlength=len(first))
        o = np.log(esum / counts)
    return np.asarray(X)[first], ysum / counts, counts.astype(float), o


def elastic_net_shortlist(
    X: np.ndarray,
    y: np.ndarray,
    *,
    l1_ratio: float = 0.5,
    n_lambdas: int = 20,
    lambda_min_ratio: float = 1e-3,
    n_folds: int = 5,
    max_shortlist: int = 30,
    seed: int = 0,
    offset: np.ndarray | None = None,
    n_jobs: int = 1,
) -> dict:
    """Cross-validated elastic-net Poisson shortlist of binary candidate variables.

    The path on all cells runs from ``lambda_max`` down until more than
    ``max_shortlist`` coefficients are non-zero; among those lambdas, the one with
    the lowest mean held-out Poisson deviance over ``n_folds`` seeded folds is used
    unless it has more than ``max_shortlist`` non-zero coefficients, in which case
    the best lambda that has at most ``max_shortlist`` is used. Cells with identical
    variables are collapsed with frequency weights (exact for Poisson). ``offset``
    (log exposure per cell) enters every fit and the held-out deviances. ``n_jobs``
    folds are fitted at once in threads (same result for any value).

    Returns a dict with ``shortlist`` (column indices, in column order), ``lambda``,
    ``lambda_min`` (CV minimum over the path), ``cv_deviance`` (mean held-out
    deviance per lambda), ``lambdas``, ``path`` (:class:`EnetPath` on all cells) and
    ``folds``.
    """
    X = np.asarray(X)
    y = np.asarray(y, float)
    n = len(y)
    o = None if offset is None else np.asarray(offset, float)
    Xu, yu, fu, ou = _collapse_x(X, y, o)
    full = poisson_elastic_net_path(
        Xu,
        yu,
        sample_weight=fu,
        offset=ou,
        l1_ratio=l1_ratio,
        n_lambdas=n_lambdas,
        lambda_min_ratio=lambda_min_ratio,
        max_nonzero=max_shortlist,
    )
    lambdas = full.lambdas
    folds = np.random.default_rng(seed).permutation(np.arange(n) % n_folds)
    dev = np.zeros((n_folds, len(lambdas)))

    def fold(k: int) -> None:
        tr, te = folds != k, folds == k
        Xk, yk, fk, ok = _collapse_x(X[tr], y[tr], None if o is None else o[tr])
        path = poisson_elastic_net_path(
            Xk, yk, sample_weight=fk, l1_ratio=l1_ratio, lambdas=lambdas, offset=ok
        )
        eta = path.intercepts[None, :] + X[te].astype(np.float64) @ path.coefs.T
        if o is not None:
            eta = eta + o[te][:, None]
        for li in range(len(lambdas)):
            dev[k, li] = _poisson_deviance(y[te], np.exp(eta[:, li]))

    if n_jobs > 1:
        # folds are independent and each writes its own row: the result does not
        # depend on scheduling; numpy releases the GIL in the large array operations
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            list(pool.map(fold, range(n_folds)))
    else:
        for k in range(n_folds):
            fold(k)
    mean_dev = dev.sum(axis=0) / n
    nonzero = (full.coefs != 0).sum(axis=1)
    i_min = int(np.argmin(mean_dev))
    allowed = np.where(nonzero <= max_shortlist)[0]
    i_use = int(allowed[np.argmin(mean_dev[allowed])]) if len(allowed) else 0
    shortlist = np.where(full.coefs[i_use] != 0)[0]
    return {
        "shortlist": shortlist,
        "lambda": float(lambdas[i_use]),
        "lambda_min": float(lambdas[i_min]),
        "cv_deviance": mean_dev,
        "lambdas": lambdas,
        "path": full,
        "folds": folds,
        "n_distinct_rows": len(yu),
    }


# --------------------------------------------------------------------------- GLM fits
def collapse_rows(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(X row, y)`` combinations with their frequencies.

    Poisson and negative binomial log-likelihoods are sums over rows, so fitting the
    distinct rows with frequency weights gives the same estimates and likelihood.

    Examples
    --------
    >>> Xc, yc, f = collapse_rows(np.array([[1, 0], [1, 0], [0, 1]]), np.array([2, 2, 0]))
    >>> Xc.tolist(), yc.tolist(), f.tolist()
    ([[0, 1], [1, 0]], [0.0, 2.0], [1.0, 2.0])
    """
    X = np.asarray(X)
    y = np.asarray(y)
    both = np.column_stack([X.astype(np.int64), y.astype(np.int64)])
    uniq, counts = np.unique(both, axis=0, return_counts=True)
    return uniq[:, :-1].astype(np.uint8), uniq[:, -1].astype(float), counts.astype(float)


def _design(X: np.ndarray, cols: Sequence[int]) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), np.asarray(X[:, list(cols)], float)])


def _newton(A, y, f, weights_fn, start, tol=1e-9, max_iter=100, llf_fn=None):
    b = start.copy()
    llf = llf_fn(A @ b)
    for _ in range(max_iter):
        eta = A @ b
        score_w, info_w = weights_fn(eta)
        g = A.T @ (f * score_w)
        H = A.T @ (A * (f * info_w)[:, None])
        try:
            step = np.linalg.solve(H + 1e-10 * np.eye(len(b)), g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        t = 1.0
        while True:
            cand = b + t * step
            new_llf = llf_fn(A @ cand)
            if np.isfinite(new_llf) and new_llf >= llf - 1e-10:
                break
            t *= 0.5
            if t < 1e-6:
                cand, new_llf = b, llf
                break
        converged = abs(new_llf - llf) < tol * (1 + abs(llf)) and np.max(np.abs(cand - b)) < 1e-6
        b, llf = cand, new_llf
        if converged or t < 1e-6:
            break
    return b, llf


def fit_poisson(
    A: np.ndarray,
    y: np.ndarray,
    f: np.ndarray | None = None,
    start: np.ndarray | None = None,
    offset: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Poisson GLM (log link) by Newton with step halving; returns ``(params, loglik)``.

    ``A`` includes the intercept column; ``f`` are frequency weights; ``offset`` is
    added to the linear predictor (log exposure).

    Examples
    --------
    >>> A = np.column_stack([np.ones(4), [0, 0, 1, 1]])
    >>> b, ll = fit_poisson(A, np.array([1.0, 3, 4, 8]))
    >>> np.round(np.exp(b), 4).tolist()  # mean 2 and rate ratio 6/2
    [2.0, 3.0]
    """
    y = np.asarray(y, float)
    f = np.ones(len(y)) if f is None else np.asarray(f, float)
    const = float(np.sum(f * gammaln(y + 1)))
    o = np.zeros(len(y)) if offset is None else np.asarray(offset, float)
    if start is None:
        start = np.zeros(A.shape[1])
        start[0] = np.log(max(float(f @ y) / float(f @ np.exp(o)), 1e-10))

    def llf_fn(eta):
        eta = np.clip(eta + o, -700, 700)
        return float(np.sum(f * (y * eta - np.exp(eta)))) - const

    def weights_fn(eta):
        mu = np.exp(np.clip(eta + o, -700, 700))
        return y - mu, mu

    return _newton(A, y, f, weights_fn, start, llf_fn=llf_fn)


def _nb_llf(y, f, mu, alpha, ymax_logs_cache):
    theta = 1.0 / alpha
    # sum_{j<y} log(theta + j) == lgamma(y + theta) - lgamma(theta), stable for big theta
    yi = y.astype(np.int64)
    cum = np.concatenate([[0.0], np.cumsum(np.log(theta + np.arange(yi.max(initial=0))))])
    lg = cum[yi]
    return float(
        np.sum(
            f
            * (
                lg
                - ymax_logs_cache
                + theta * np.log(theta / (theta + mu))
                + y * np.log(np.where(y > 0, mu / (theta + mu), 1.0))
            )
        )
    )


def fit_negbin2(
    A: np.ndarray,
    y: np.ndarray,
    f: np.ndarray | None = None,
    start: np.ndarray | None = None,
    alpha_start: float | None = None,
    tol: float = 1e-9,
    max_outer: int = 50,
    offset: np.ndarray | None = None,
) -> tuple[np.ndarray, float, float]:
    """NB2 regression (``Var = mu + alpha mu^2``, log link); returns ``(params, alpha, loglik)``.

    Alternates Fisher scoring for the coefficients at fixed ``alpha`` with a bounded
    one-dimensional maximisation of the likelihood over ``log(alpha)``. ``offset`` is
    added to the linear predictor (log exposure).
    """
    y = np.asarray(y, float)
    f = np.ones(len(y)) if f is None else np.asarray(f, float)
    o = np.zeros(len(y)) if offset is None else np.asarray(offset, float)
    lgy = gammaln(y + 1)
    if start is None:
        start, _ = fit_poisson(A, y, f, offset=offset)
    b = start.copy()
    if alpha_start is None:
        mu = np.exp(A @ b + o)
        alpha_start = max(
            float(np.sum(f * ((y - mu) ** 2 - y) / np.maximum(mu, 1e-10) ** 2) / f.sum()), 1e-4
        )
    alpha = float(np.clip(alpha_start, *_ALPHA_BOUNDS))
    llf = -np.inf
    for _ in range(max_outer):
        a = alpha

        def llf_fn(eta, a=a):
            mu = np.exp(np.clip(eta + o, -700, 700))
            return _nb_llf(y, f, mu, a, lgy)

        def weights_fn(eta, a=a):
            mu = np.exp(np.clip(eta + o, -700, 700))
            d = 1 + a * mu
            return (y - mu) / d, mu / d

        b, _ = _newton(A, y, f, weights_fn, b, llf_fn=llf_fn, max_iter=25)
        mu = np.exp(np.clip(A @ b + o, -700, 700))
        res = minimize_scalar(
            lambda la, mu=mu: -_nb_llf(y, f, mu, float(np.exp(la)), lgy),
            bounds=np.log(_ALPHA_BOUNDS),
            method="bounded",
            options={"xatol": 1e-6},
        )
        alpha = float(np.exp(res.x))
        new_llf = -float(res.fun)
        if abs(new_llf - llf) < tol * (1 + abs(new_llf)):
            llf = new_llf
            break
        llf = new_llf
    return b, alpha, llf


# --------------------------------------------------------------------------- stepwise
@dataclass(frozen=True)
class StepwiseResult:
    """Result of one stepwise BIC search (``selected`` are column indices of ``X``)."""

    family: str
    selected: tuple[int, ...]
    params: np.ndarray
    loglik: float
    bic: float
    alpha: float | None
    steps: list[dict] = field(default_factory=list)


def _bic(llf: float, k: int, n: float) -> float:
    return -2.0 * llf + k * np.log(n)


def stepwise_bic(
    X: np.ndarray,
    y: np.ndarray,
    candidates: Sequence[int],
    *,
    family: str = "poisson",
    factor_of: Sequence[str] | None = None,
    one_variable_per_factor: bool = True,
    freq: np.ndarray | None = None,
    max_steps: int = 100,
    offset: np.ndarray | None = None,
    n_obs: float | None = None,
    loglik_shift: float = 0.0,
) -> StepwiseResult:
    """Bidirectional stepwise selection by BIC from the null model.

    Parameters
    ----------
    X : (m, p) array
        Variables (possibly collapsed rows, see :func:`collapse_rows`).
    y : (m,) array
        Counts.
    candidates : sequence of int
        Columns that may enter.
    family : {"poisson", "negbin"}
    factor_of : sequence of str, optional
        Factor of each column of ``X`` (needed for ``one_variable_per_factor``).
    freq : (m,) array, optional
        Frequency weights; the BIC sample size is ``freq.sum()`` unless ``n_obs``.
    offset : (m,) array, optional
        Log exposure per row (coefficient fixed at 1).
    n_obs : float, optional
        BIC sample size (number of cells) when rows do not stand for cells one to one.
    loglik_shift : float
        Constant added to every log-likelihood (makes a collapsed fit's likelihood
        equal to the full-cell one, so BICs of both families compare).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> X = rng.integers(0, 2, size=(3000, 4))
    >>> y = rng.poisson(np.exp(-0.5 + 0.8 * X[:, 1]))
    >>> r = stepwise_bic(X, y, [0, 1, 2, 3], factor_of=["a", "b", "c", "d"])
    >>> r.selected, round(float(np.exp(r.params[1])), 1)
    ((1,), 2.2)
    """
    y = np.asarray(y, float)
    f = np.ones(len(y)) if freq is None else np.asarray(freq, float)
    n = float(f.sum()) if n_obs is None else float(n_obs)
    candidates = [int(c) for c in candidates]
    if factor_of is None:
        factor_of = [str(j) for j in range(X.shape[1])]
        one_variable_per_factor = False
    extra = 1 if family == "negbin" else 0
    if family not in ("poisson", "negbin"):
        raise ValueError("family must be 'poisson' or 'negbin'")

    cache: dict[tuple[int, ...], tuple[np.ndarray, float, float | None]] = {}

    def fit(cols: tuple[int, ...], start_from: tuple[int, ...] | None):
        if cols in cache:
            return cache[cols]
        A = _design(X, cols)
        start = None
        alpha0 = None
        if start_from is not None and start_from in cache:
            prev_b, _, prev_alpha = cache[start_from]
            prev = dict(zip((-1, *start_from), prev_b, strict=True))
            start = np.array([prev.get(c, 0.0) for c in (-1, *cols)])
            alpha0 = prev_alpha
        if family == "poisson":
            b, llf = fit_poisson(A, y, f, start, offset=offset)
            out = (b, llf + loglik_shift, None)
        else:
            b, alpha, llf = fit_negbin2(A, y, f, start, alpha0, offset=offset)
            out = (b, llf + loglik_shift, alpha)
        cache[cols] = out
        return out

    current: tuple[int, ...] = ()
    b, llf, alpha = fit(current, None)
    bic = _bic(llf, 1 + extra, n)
    steps = [{"move": "start", "variable": None, "bic": bic}]
    for _ in range(max_steps):
        best = None
        in_model_factors = {factor_of[c] for c in current}
        moves: list[tuple[str, int, tuple[int, ...]]] = []
        for c in candidates:
            if c in current:
                continue
            if one_variable_per_factor and factor_of[c] in in_model_factors:
                continue
            moves.append(("add", c, tuple(sorted((*current, c)))))
        for c in current:
            moves.append(("drop", c, tuple(x for x in current if x != c)))
        if one_variable_per_factor:
            for c in current:
                for d in candidates:
                    if d != c and d not in current and factor_of[d] == factor_of[c]:
                        swapped = tuple(sorted([x for x in current if x != c] + [d]))
                        moves.append(("swap", d, swapped))
        for move, var, cols in moves:
            _, m_llf, _ = fit(cols, current)
            m_bic = _bic(m_llf, 1 + len(cols) + extra, n)
            if best is None or m_bic < best[0] - 1e-9:
                best = (m_bic, move, var, cols)
        if best is None or best[0] >= bic - 1e-9:
            break
        bic, move, var, current = best
        steps.append({"move": move, "variable": var, "bic": bic})
    b, llf, alpha = fit(current, None)
    return StepwiseResult(
        family=family,
        selected=current,
        params=b,
        loglik=llf,
        bic=_bic(llf, 1 + len(current) + extra, n),
        alpha=alpha,
        steps=steps,
    )


# --------------------------------------------------------------------------- both stages
@dataclass(frozen=True)
class SelectedModel:
    """The chosen RTM model.

    ``table`` has one row per selected variable: ``variable``, ``beta``, ``std_error``,
    ``z``, ``p_value``, ``rrv`` (``exp(beta)``), ``rrv_ci_low``, ``rrv_ci_high`` (95 %).
    """

    family: str
    variables: list[str]
    intercept: float
    table: pd.DataFrame
    alpha: float | None
    bic: dict
    loglik: dict
    shortlist: list[str]
    enet: dict
    stepwise: dict
    offset: dict | None = None


def _final_table(Xc, yc, fc, cols, names, family, alpha, offset=None):
    A = _design(Xc, cols)
    fam = (
        sm.families.Poisson() if family == "poisson" else sm.families.NegativeBinomial(alpha=alpha)
    )
    with warnings.catch_warnings():
        # Collapsed rows can be as few as the parameters (one binary variable: two
        # rows), so statsmodels' unweighted residual df is 0 and it warns of a
        # perfect fit; the likelihood and standard errors use the frequency weights.
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        warnings.filterwarnings(
            "ignore", "(divide by zero|invalid value) encountered", RuntimeWarning
        )
        res = sm.GLM(yc, A, family=fam, freq_weights=fc, offset=offset).fit(
            method="IRLS", tol=1e-10, maxiter=200
        )
    params = np.asarray(res.params)
    se = np.asarray(res.bse)
    z = params / np.where(se > 0, se, np.nan)
    p = np.asarray(res.pvalues)
    table = pd.DataFrame(
        {
            "variable": pd.Series([names[c] for c in cols], dtype=object),
            "beta": params[1:],
            "std_error": se[1:],
            "z": z[1:],
            "p_value": p[1:],
        }
    )
    table["rrv"] = np.exp(table["beta"])
    table["rrv_ci_low"] = np.exp(table["beta"] - 1.959964 * table["std_error"])
    table["rrv_ci_high"] = np.exp(table["beta"] + 1.959964 * table["std_error"])
    return float(params[0]), table


def select_model(
    X: np.ndarray,
    y: np.ndarray,
    variables: pd.DataFrame,
    *,
    l1_ratio: float = 0.5,
    n_lambdas: int = 20,
    lambda_min_ratio: float = 1e-3,
    n_folds: int = 5,
    max_shortlist: int = 30,
    one_variable_per_factor: bool = True,
    seed: int = 0,
    blas_threads: int | None = 1,
    offset: np.ndarray | None = None,
    offset_resolution: float = 0.01,
    n_jobs: int = 1,
) -> SelectedModel:
    """Elastic-net CV shortlist, stepwise BIC for Poisson and NB2, lower BIC wins.

    ``variables`` is the table from :func:`~vrdp.risk_terrain.factors.candidate_variables`
    (columns ``variable`` and ``factor``) in the column order of ``X``.
    ``blas_threads`` limits BLAS threads during the fits (``None``: no limit); the
    matrices are tall and thin, and on a 2-core machine multi-threaded OpenBLAS was
    measured about 9 times slower than one thread for them.

    ``offset`` (log exposure per cell, ``-inf`` for cells without exposure, which
    must have no events and are left out) enters the elastic net, both stepwise
    searches and the refit; ``offset_resolution`` is the rounding of the offset used
    to collapse rows for NB2 (see the module docstring). ``n_jobs``: cross-validation
    folds fitted at once (threads; the result does not depend on it).
    """
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        return _select_model(
            X,
            y,
            variables,
            l1_ratio=l1_ratio,
            n_lambdas=n_lambdas,
            lambda_min_ratio=lambda_min_ratio,
            n_folds=n_folds,
            max_shortlist=max_shortlist,
            one_variable_per_factor=one_variable_per_factor,
            seed=seed,
            offset=offset,
            offset_resolution=offset_resolution,
            n_jobs=n_jobs,
        )


def _collapse_offset_rows(X, y, offset, resolution):
    """Distinct (X row, count, rounded offset) rows with frequencies (for NB2)."""
    q = np.round(np.asarray(offset, float) / resolution).astype(np.int64)
    both = np.column_stack([np.asarray(X).astype(np.int64), np.asarray(y).astype(np.int64), q])
    uniq, counts = np.unique(both, axis=0, return_counts=True)
    return (
        uniq[:, :-2].astype(np.uint8),
        uniq[:, -2].astype(float),
        counts.astype(float),
        uniq[:, -1] * float(resolution),
    )


def _select_model(
    X,
    y,
    variables,
    *,
    l1_ratio,
    n_lambdas,
    lambda_min_ratio,
    n_folds,
    max_shortlist,
    one_variable_per_factor,
    seed,
    offset=None,
    offset_resolution=0.01,
    n_jobs=1,
) -> SelectedModel:
    y = np.asarray(y, float)
    X = np.asarray(X)
    offset_info = None
    if offset is not None:
        offset = np.asarray(offset, float)
        if offset.shape != y.shape:
            raise ValueError("offset must have one value per cell")
        if np.isnan(offset).any() or np.isposinf(offset).any():
            raise ValueError("offset must be finite or -inf (no exposure)")
        use = np.isfinite(offset)
        if (y[~use] > 0).any():
            raise ValueError("events in cells without exposure (offset -inf)")
        offset_info = {
            "cells_fitted": int(use.sum()),
            "cells_without_exposure": int((~use).sum()),
            "nb2_offset_resolution": offset_resolution,
        }
        X, y, offset = X[use], y[use], offset[use]
    names = variables["variable"].tolist()
    factors = variables["factor"].tolist()
    keep = np.where(np.asarray(X).max(axis=0) > 0)[0] if X.shape[1] else np.array([], int)
    enet = elastic_net_shortlist(
        X[:, keep],
        y,
        l1_ratio=l1_ratio,
        n_lambdas=n_lambdas,
        lambda_min_ratio=lambda_min_ratio,
        n_folds=n_folds,
        max_shortlist=max_shortlist,
        seed=seed,
        offset=offset,
        n_jobs=n_jobs,
    )
    short = keep[enet["shortlist"]]
    Xs = np.asarray(X[:, short])
    local_factors = [factors[c] for c in short]
    local_names = [names[c] for c in short]
    if offset is None:
        Xc, yc, fc = collapse_rows(Xs, y)
        rows = {fam: (Xc, yc, fc, None, None, 0.0) for fam in ("poisson", "negbin")}
    else:
        # Poisson: exact collapse with summed exposure; shift back to the full likelihood
        Xp, yp, fp, op = _collapse_x(Xs, y, offset)
        full0 = float(np.sum(y * offset - np.exp(offset) - gammaln(y + 1)))
        coll0 = float(np.sum(fp * (yp * op - np.exp(op) - gammaln(yp + 1))))
        Xn, yn, fn, on = _collapse_offset_rows(Xs, y, offset, offset_resolution)
        rows = {
            "poisson": (Xp, yp, fp, op, float(len(y)), full0 - coll0),
            "negbin": (Xn, yn, fn, on, None, 0.0),
        }
        offset_info["distinct_rows"] = {"poisson": len(yp), "negbin": len(yn)}
    results = {}
    for fam in ("poisson", "negbin"):
        Xf, yf, ff, of, n_obs, shift = rows[fam]
        results[fam] = stepwise_bic(
            Xf,
            yf,
            range(len(short)),
            family=fam,
            factor_of=local_factors,
            one_variable_per_factor=one_variable_per_factor,
            freq=ff,
            offset=of,
            n_obs=n_obs,
            loglik_shift=shift,
        )
    family = "poisson" if results["poisson"].bic <= results["negbin"].bic else "negbin"
    chosen = results[family]
    cols = list(chosen.selected)
    Xf, yf, ff, of, _, _ = rows[family]
    # keep the table in the order of the candidate list
    intercept, table = _final_table(Xf, yf, ff, cols, local_names, family, chosen.alpha, of)
    return SelectedModel(
        family=family,
        variables=table["variable"].tolist(),
        intercept=intercept,
        table=table,
        alpha=chosen.alpha,
        bic={k: float(r.bic) for k, r in results.items()},
        loglik={k: float(r.loglik) for k, r in results.items()},
        shortlist=local_names,
        enet={
            "lambda": enet["lambda"],
            "lambda_min": enet["lambda_min"],
            "l1_ratio": l1_ratio,
            "n_folds": n_folds,
            "cv_deviance_min": float(enet["cv_deviance"].min()),
            "n_candidates_nonconstant": len(keep),
            "n_distinct_rows": enet["n_distinct_rows"],
            "n_path_lambdas": len(enet["lambdas"]),
        },
        stepwise={
            k: {
                "selected": [local_names[c] for c in r.selected],
                "steps": len(r.steps) - 1,
                "alpha": r.alpha,
            }
            for k, r in results.items()
        },
        offset=offset_info,
    )
