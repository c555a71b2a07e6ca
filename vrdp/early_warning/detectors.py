"""Weekly outbreak detectors on one count series.

Every detector takes the counts ``y`` (oldest first, one per week) and returns a
:class:`Detection` with, per week, the expected count, the upper bound (the count
at or above which the week alarms), a score (above 1, or above the stated
threshold, alarms) and the alarm flag, plus the parameters used. Weeks without
enough history have NaN expected/upper/score and no alarm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

__all__ = [
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "Detection",
    "ears_c1",
    "ears_c2",
    "ears_c3",
    "ewma",
    "farrington",
    "poisson_cusum",
]


@dataclass
class Detection:
    """One detector's output for one series.

    Attributes
    ----------
    method : str
    parameters : dict
    expected, upper_bound, score : numpy.ndarray
        Per week; NaN without enough history.
    alarm : numpy.ndarray of bool
    """

    method: str
    parameters: dict
    expected: np.ndarray
    upper_bound: np.ndarray
    score: np.ndarray
    alarm: np.ndarray = field(default=None)


def _empty(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)


def _ears(y: np.ndarray, lag: int, baseline: int, threshold: float, min_sd: float):
    y = np.asarray(y, float)
    n = len(y)
    exp, up, score = _empty(n)
    for t in range(lag + baseline - 1, n):
        b = y[t - lag - baseline + 1 : t - lag + 1]
        mu, sd = b.mean(), max(b.std(ddof=1), min_sd)
        exp[t], up[t], score[t] = mu, mu + threshold * sd, (y[t] - mu) / sd
    return exp, up, score


def ears_c1(y, *, baseline: int = 7, threshold: float = 3.0, min_sd: float = 0.5) -> Detection:
    """EARS C1: z-score of the week against the previous ``baseline`` weeks.

    Parameters
    ----------
    y : array-like of int
        Weekly counts, oldest first.
    baseline : int
        Weeks of history (7 in the original daily method).
    threshold : float
        Alarm when the z-score exceeds it.
    min_sd : float
        Floor of the baseline standard deviation (sparse counts have sd 0).

    Examples
    --------
    >>> d = ears_c1([1, 0, 1, 2, 1, 0, 1, 9])
    >>> bool(d.alarm[-1]), d.method
    (True, 'ears_c1')
    """
    exp, up, score = _ears(y, 1, baseline, threshold, min_sd)
    params = {"baseline": baseline, "lag": 1, "threshold": threshold, "min_sd": min_sd}
    return Detection("ears_c1", params, exp, up, score, np.nan_to_num(score) > threshold)


def ears_c2(y, *, baseline: int = 7, threshold: float = 3.0, min_sd: float = 0.5) -> Detection:
    """EARS C2: as C1 with a two-week guard between the baseline and the week.

    >>> bool(ears_c2([1, 0, 1, 2, 1, 0, 1, 1, 1, 9]).alarm[-1])
    True
    """
    exp, up, score = _ears(y, 3, baseline, threshold, min_sd)
    params = {"baseline": baseline, "lag": 3, "threshold": threshold, "min_sd": min_sd}
    return Detection("ears_c2", params, exp, up, score, np.nan_to_num(score) > threshold)


def ears_c3(
    y, *, baseline: int = 7, threshold: float = 2.0, min_sd: float = 0.5, c2_offset: float = 1.0
) -> Detection:
    """EARS C3: the sum over the week and the two before of max(0, C2 - 1).

    >>> bool(ears_c3([1, 0, 1, 2, 1, 0, 1, 1, 1, 4, 5, 6]).alarm[-1])
    True
    """
    exp, up, c2 = _ears(y, 3, baseline, 3.0, min_sd)
    part = np.maximum(0.0, np.nan_to_num(c2, nan=0.0) - c2_offset)
    score = np.full(len(part), np.nan)
    for t in range(len(part)):
        if not np.isnan(c2[t]):
            score[t] = part[max(0, t - 2) : t + 1].sum()
    # the count that would take this week's C3 to the threshold
    sd = (up - exp) / 3.0
    prev = np.array([part[max(0, t - 2) : t].sum() for t in range(len(part))])
    up3 = exp + sd * (threshold - prev + c2_offset)
    params = {
        "baseline": baseline,
        "lag": 3,
        "threshold": threshold,
        "min_sd": min_sd,
        "c2_offset": c2_offset,
    }
    return Detection("ears_c3", params, exp, up3, score, np.nan_to_num(score) > threshold)


def _trailing_mean(y: np.ndarray, t: int, baseline: int, guard: int) -> float:
    lo = max(0, t - guard - baseline)
    return float(y[lo : t - guard].mean())


def ewma(
    y,
    *,
    smoothing: float = 0.3,
    limit: float = 3.0,
    baseline: int = 52,
    guard: int = 2,
    min_history: int = 12,
    min_mean: float = 0.1,
) -> Detection:
    """Poisson EWMA chart against the trailing mean.

    z_t = smoothing * y_t + (1 - smoothing) * z_{t-1} (z starts at the first baseline
    mean); alarm when z_t > mu0 + limit * sqrt(mu0 * smoothing / (2 - smoothing)), with
    mu0 the mean of up to ``baseline`` weeks ending ``guard`` weeks before.

    >>> bool(ewma([0, 1, 0, 1] * 5 + [6, 7, 8]).alarm[-1])
    True
    """
    y = np.asarray(y, float)
    n = len(y)
    exp, up, score = _empty(n)
    alarm = np.zeros(n, bool)
    z = None
    for t in range(min_history + guard, n):
        mu0 = max(_trailing_mean(y, t, baseline, guard), min_mean)
        z = mu0 if z is None else z
        z = smoothing * y[t] + (1 - smoothing) * z
        sd = np.sqrt(mu0 * smoothing / (2 - smoothing))
        ucl = mu0 + limit * sd
        exp[t] = mu0
        # the count y_t that would put z_t on the limit
        up[t] = (ucl - (z - smoothing * y[t])) / smoothing
        score[t] = (z - mu0) / sd / limit
        alarm[t] = z > ucl
    params = {
        "smoothing": smoothing,
        "limit": limit,
        "baseline": baseline,
        "guard": guard,
        "min_history": min_history,
        "min_mean": min_mean,
    }
    return Detection("ewma", params, exp, up, score, alarm)


def poisson_cusum(
    y,
    *,
    shift: float = 2.0,
    h: float = 4.0,
    baseline: int = 52,
    guard: int = 2,
    min_history: int = 12,
    min_mean: float = 0.2,
) -> Detection:
    """Poisson CUSUM for a rise from mu0 to ``shift`` x mu0 (Lucas 1985).

    k = (mu1 - mu0) / (ln mu1 - ln mu0); S_t = max(0, S_{t-1} + y_t - k); alarm when
    S_t > h, after which S restarts at 0. mu0 is the mean of up to ``baseline`` weeks
    ending ``guard`` weeks before.

    >>> bool(poisson_cusum([0, 1, 0, 1] * 5 + [4, 5, 6]).alarm.any())
    True
    """
    y = np.asarray(y, float)
    n = len(y)
    exp, up, score = _empty(n)
    alarm = np.zeros(n, bool)
    s = 0.0
    for t in range(min_history + guard, n):
        mu0 = max(_trailing_mean(y, t, baseline, guard), min_mean)
        mu1 = shift * mu0
        k = (mu1 - mu0) / (np.log(mu1) - np.log(mu0))
        exp[t] = mu0
        up[t] = h + k - s  # S_t > h  <=>  y_t > h + k - S_{t-1}
        s = max(0.0, s + y[t] - k)
        score[t] = s / h
        if s > h:
            alarm[t] = True
            s = 0.0
    params = {
        "shift": shift,
        "h": h,
        "baseline": baseline,
        "guard": guard,
        "min_history": min_history,
        "min_mean": min_mean,
    }
    return Detection("poisson_cusum", params, exp, up, score, alarm)


def _quasi_poisson_fit(t: np.ndarray, y: np.ndarray, trend: bool):
    """IRLS fit of log mu = a (+ b t); returns (beta, cov, dispersion)."""
    x = np.column_stack([np.ones_like(t), t]) if trend else np.ones((len(t), 1))
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(max(y.mean(), 1e-8))
    for _ in range(25):
        mu = np.exp(np.clip(x @ beta, -30, 30))
        w = mu
        zz = x @ beta + (y - mu) / mu
        xtw = x.T * w
        try:
            new = np.linalg.solve(xtw @ x, xtw @ zz)
        except np.linalg.LinAlgError:
            break
        if np.max(np.abs(new - beta)) < 1e-8:
            beta = new
            break
        beta = new
    mu = np.exp(np.clip(x @ beta, -30, 30))
    dof = max(len(y) - x.shape[1], 1)
    phi = max(1.0, float(np.sum((y - mu) ** 2 / mu) / dof))
    try:
        cov = phi * np.linalg.inv((x.T * mu) @ x)
    except np.linalg.LinAlgError:
        cov = np.full((x.shape[1], x.shape[1]), np.inf)
    return beta, cov, phi


def _intercept_fit(y: np.ndarray) -> tuple[float, float, float]:
    """Quasi-Poisson fit of log mu = a in closed form: (mu, var(a), dispersion).

    The maximum likelihood estimate is the mean; var(a) = phi / (n mu), the
    inverse of the Fisher information times the dispersion. What the IRLS of
    :func:`_quasi_poisson_fit` converges to without its iterations (the detector
    fits one per week and series: most of the early warning asset's time).

    >>> b = np.array([1.0, 0.0, 2.0, 1.0, 3.0])
    >>> mu, var, phi = _intercept_fit(b)
    >>> beta, cov, phi_irls = _quasi_poisson_fit(np.arange(5.0), b, trend=False)
    >>> bool(np.isclose(mu, np.exp(beta[0])) and np.isclose(var, cov[0, 0]) and phi == phi_irls)
    True
    """
    n = len(y)
    mu = float(y.mean())
    phi = max(1.0, float(np.sum((y - mu) ** 2 / mu) / max(n - 1, 1)))
    return mu, phi / (n * mu), phi


def farrington(
    y,
    *,
    baseline: int = 52,
    guard: int = 2,
    alpha: float = 0.01,
    min_history: int = 26,
    min_recent: int = 5,
    recent_weeks: int = 4,
    trend_p: float = 0.05,
    trend: bool = False,
) -> Detection:
    """Farrington-style detector: quasi-Poisson GLM on the trailing weeks.

    For each week, fit log mu = a (+ b t when ``trend``) by quasi-Poisson on up to
    ``baseline`` weeks ending ``guard`` weeks before (a trend is kept only when
    significant at ``trend_p`` and the prediction stays within the baseline's range;
    off by default: on one year of weekly history a trend term absorbs the very
    surge it should flag, where Farrington's original fits years of data), predict the
    week, and set the upper bound by the 2/3-power transformation (Farrington et al.
    1996): U = mu (1 + 2/3 z sqrt(tau / mu)) ** 1.5, tau = phi mu + mu^2 var(eta).
    Minimum-count guard: no alarm unless the week and the ``recent_weeks - 1``
    before hold at least ``min_recent`` counts. Score = (y - mu) / (U - mu).

    >>> d = farrington([1, 0, 2, 1] * 10 + [1, 2, 9])
    >>> bool(d.alarm[-1]), bool(d.alarm[:-1].any())
    (True, False)
    """
    y = np.asarray(y, float)
    n = len(y)
    exp, up, score = _empty(n)
    alarm = np.zeros(n, bool)
    z = stats.norm.ppf(1 - alpha)
    for t in range(min_history + guard, n):
        lo = max(0, t - guard - baseline)
        b = y[lo : t - guard]
        tt = np.arange(lo, t - guard, dtype=float) - t
        if b.sum() == 0:
            mu, tau = 0.0, 0.0
        else:
            keep_trend = False
            if trend:
                beta, cov, phi = _quasi_poisson_fit(tt, b, trend=True)
                if np.all(np.isfinite(cov)) and cov[1, 1] > 0:
                    p = 2 * stats.norm.sf(abs(beta[1]) / np.sqrt(cov[1, 1]))
                    mu_t = float(np.exp(beta[0]))
                    keep_trend = p < trend_p and mu_t <= b.max()
            if keep_trend:
                mu = float(np.exp(beta[0]))  # t = 0 at the predicted week
                var_eta = cov[0, 0]
            else:
                mu, var_eta, phi = _intercept_fit(b)
            tau = phi * mu + mu**2 * var_eta
        # nothing in the baseline: any count exceeds it (the minimum-count guard decides)
        u = mu * (1 + (2 / 3) * z * np.sqrt(tau / mu)) ** 1.5 if mu > 0 else 1.0
        recent = y[max(0, t - recent_weeks + 1) : t + 1].sum()
        exp[t], up[t] = mu, u
        score[t] = (y[t] - mu) / max(u - mu, 1e-9)
        alarm[t] = y[t] > u and recent >= min_recent
    params = {
        "baseline": baseline,
        "guard": guard,
        "alpha": alpha,
        "min_history": min_history,
        "min_recent": min_recent,
        "recent_weeks": recent_weeks,
        "trend_p": trend_p,
        "trend": trend,
    }
    return Detection("farrington", params, exp, up, score, alarm)


#: Every detector by method name.
DETECTORS = {
    "ears_c1": ears_c1,
    "ears_c2": ears_c2,
    "ears_c3": ears_c3,
    "ewma": ewma,
    "poisson_cusum": poisson_cusum,
    "farrington": farrington,
}
#: The detector the ward views show, chosen from bench/results/early_warning.json
#: (see docs/soc.md).
DEFAULT_DETECTOR = "poisson_cusum"
