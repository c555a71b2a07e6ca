"""Clear-Hold-Build evaluation: rate ratios of each phase against matched comparison wards.

For a CHB site's ward and one phase (clear, hold or build), the outcome is the
weekly count of a measure (crimes, ASB calls, intelligence logs):

- **Comparison wards** (:func:`match_comparison_wards`): the ``k`` wards nearest to
  the site's ward on its pre-period level and linear trend (standardised), among
  wards with events in the pre-period and not in any CHB site.
- **Difference in differences** (:func:`did_rate_ratio`): the ratio of the site's
  phase-to-pre rate change to the comparison wards' (a Poisson DiD on summed
  counts, RR = (T1 / T0) / (C1 / C0)), with a Wald CI on the log scale inflated by
  the pre-period overdispersion (quasi-Poisson).
- **Synthetic control** (:func:`synthetic_control`): non-negative donor weights
  summing to one fitted on the pre-period weekly counts; RR = observed / synthetic
  in the phase, CI from the spread of in-space placebos (each donor treated in turn),
  only when at least ``min_donors`` donors exist.

:func:`evaluate_sites` runs both for every site, phase and measure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = [
    "match_comparison_wards",
    "did_rate_ratio",
    "synthetic_control",
    "evaluate_sites",
]


def _trend(y: np.ndarray) -> tuple[float, float]:
    t = np.arange(len(y), dtype=float)
    slope = np.polyfit(t, y, 1)[0] if len(y) > 1 else 0.0
    return float(y.mean()), float(slope)


def match_comparison_wards(
    weekly: pd.DataFrame, treated: str, pre: np.ndarray, *, k: int = 10, exclude=()
) -> list[str]:
    """The ``k`` wards closest to ``treated`` on pre-period level and trend.

    Parameters
    ----------
    weekly : pandas.DataFrame
        Weeks (rows) x wards (columns) of counts.
    treated : str
        The site's ward (a column).
    pre : numpy.ndarray of bool
        Pre-period weeks.
    k : int
    exclude : iterable of str
        Wards that may not be comparisons (other CHB sites).

    Examples
    --------
    >>> w = pd.DataFrame({"T": [4, 5, 6, 7], "A": [4, 5, 6, 8], "B": [9, 1, 0, 0],
    ...                   "C": [0, 0, 0, 0]})
    >>> match_comparison_wards(w, "T", np.array([True] * 4), k=1)
    ['A']
    """
    pre_y = weekly.loc[pre]
    feats = {c: _trend(pre_y[c].to_numpy(float)) for c in weekly.columns}
    cand = [
        c
        for c in weekly.columns
        if c != treated and c not in set(exclude) and pre_y[c].to_numpy().sum() > 0
    ]
    if not cand:
        return []
    f = np.array([feats[c] for c in cand])
    scale = f.std(axis=0)
    scale[scale == 0] = 1.0
    d = np.sqrt((((f - np.array(feats[treated])) / scale) ** 2).sum(axis=1))
    order = np.argsort(d, kind="stable")
    return [cand[i] for i in order[:k]]


def _dispersion(*series: np.ndarray) -> float:
    vals = []
    for y in series:
        y = np.asarray(y, float)
        if len(y) > 1 and y.mean() > 0:
            vals.append(y.var(ddof=1) / y.mean())
    return max(1.0, float(np.mean(vals))) if vals else 1.0


def did_rate_ratio(
    treated: np.ndarray,
    control: np.ndarray,
    pre: np.ndarray,
    post: np.ndarray,
    *,
    level: float = 0.95,
) -> dict:
    """Poisson difference in differences of weekly counts, as a rate ratio.

    Parameters
    ----------
    treated, control : numpy.ndarray
        Weekly counts of the site's ward and of the comparison wards (summed).
    pre, post : numpy.ndarray of bool
        Pre-period and phase weeks.
    level : float
        Confidence level.

    Returns
    -------
    dict
        ``rate_ratio``, ``ci_low``, ``ci_high``, ``se_log``, ``dispersion``,
        ``treated_pre``, ``treated_post``, ``control_pre``, ``control_post`` (counts),
        ``pre_weeks``, ``post_weeks``. A zero cell gets 0.5 added to every cell.

    Examples
    --------
    >>> pre = np.array([True] * 10 + [False] * 10)
    >>> r = did_rate_ratio(np.r_[[10] * 10, [5] * 10], np.r_[[20] * 10, [20] * 10], pre, ~pre)
    >>> round(r["rate_ratio"], 3)
    0.5
    """
    treated, control = np.asarray(treated, float), np.asarray(control, float)
    cells = np.array(
        [treated[pre].sum(), treated[post].sum(), control[pre].sum(), control[post].sum()]
    )
    c = cells + 0.5 if (cells == 0).any() else cells
    log_rr = np.log(c[1]) - np.log(c[0]) - (np.log(c[3]) - np.log(c[2]))
    phi = _dispersion(treated[pre], control[pre])
    se = float(np.sqrt(phi * (1 / c).sum()))
    z = stats.norm.ppf(0.5 + level / 2)
    return {
        "rate_ratio": float(np.exp(log_rr)),
        "ci_low": float(np.exp(log_rr - z * se)),
        "ci_high": float(np.exp(log_rr + z * se)),
        "se_log": se,
        "dispersion": phi,
        "treated_pre": int(cells[0]),
        "treated_post": int(cells[1]),
        "control_pre": int(cells[2]),
        "control_post": int(cells[3]),
        "pre_weeks": int(pre.sum()),
        "post_weeks": int(post.sum()),
    }


def _sc_weights(y: np.ndarray, x: np.ndarray, *, penalty: float = 100.0) -> np.ndarray:
    """Non-negative weights summing to one minimising ||y - x w||^2.

    Non-negative least squares with the sum-to-one constraint as a heavily weighted
    extra row (fast enough for every placebo), then renormalised.
    """
    scale = max(float(np.abs(x).max()), 1.0) * penalty
    a = np.vstack([x, np.full((1, x.shape[1]), scale)])
    b = np.r_[y, scale]
    w, _ = optimize.nnls(a, b)
    total = w.sum()
    return w / total if total > 0 else np.full(x.shape[1], 1.0 / x.shape[1])


def _sc_log_ratio(y, x, pre, post) -> float:
    w = _sc_weights(y[pre], x[pre])
    synth = (x[post] @ w).sum()
    return float(np.log((y[post].sum() + 0.5) / (synth + 0.5)))


def synthetic_control(
    treated: np.ndarray,
    donors: np.ndarray,
    pre: np.ndarray,
    post: np.ndarray,
    *,
    level: float = 0.95,
    min_donors: int = 8,
) -> dict | None:
    """Synthetic control rate ratio of the phase, with a placebo-based CI.

    Parameters
    ----------
    treated : numpy.ndarray
        Weekly counts of the site's ward.
    donors : numpy.ndarray
        Weeks x donor wards.
    pre, post : numpy.ndarray of bool
    level : float
    min_donors : int
        Below this many donors, None (too few for placebos).

    Returns
    -------
    dict or None
        ``rate_ratio`` (observed over synthetic phase counts, 0.5 added to each),
        ``ci_low``/``ci_high`` (the estimate's log ratio minus the ``level`` quantile
        range of the donors' placebo log ratios), ``donors``, ``pre_rmse``.
    """
    y = np.asarray(treated, float)
    x = np.asarray(donors, float)
    if x.shape[1] < min_donors:
        return None
    w = _sc_weights(y[pre], x[pre])
    est = float(np.log((y[post].sum() + 0.5) / ((x[post] @ w).sum() + 0.5)))
    placebo = []
    for j in range(x.shape[1]):
        rest = np.delete(x, j, axis=1)
        placebo.append(_sc_log_ratio(x[:, j], rest, pre, post))
    placebo = np.array(placebo)
    lo_q, hi_q = np.quantile(placebo, [(1 - level) / 2, (1 + level) / 2])
    pre_rmse = float(np.sqrt(((y[pre] - x[pre] @ w) ** 2).mean()))
    return {
        "rate_ratio": float(np.exp(est)),
        "ci_low": float(np.exp(est - hi_q)),
        "ci_high": float(np.exp(est - lo_q)),
        "donors": int(x.shape[1]),
        "pre_rmse": pre_rmse,
    }


def evaluate_sites(
    panel: pd.DataFrame,
    phases: pd.DataFrame,
    *,
    pre_weeks: int = 52,
    k: int = 10,
    donors: int = 20,
    level: float = 0.95,
) -> pd.DataFrame:
    """DiD and synthetic control rate ratios per CHB site, phase and measure.

    Parameters
    ----------
    panel : pandas.DataFrame
        ``ward_code``, ``week_start``, ``measure``, ``events``: weekly counts (weeks
        without a row count as zero).
    phases : pandas.DataFrame
        ``site_id``, ``site_name``, ``ward_code``, ``phase``, ``phase_start``,
        ``phase_end`` (dates), one row per site and phase.
    pre_weeks : int
        Weeks before the site's first phase that form the pre-period.
    k, donors : int
        Comparison wards for DiD; donor pool for the synthetic control.
    level : float

    Returns
    -------
    pandas.DataFrame
        One row per site, phase, measure and method (``did``, ``synthetic_control``):
        ``rate_ratio``, ``ci_low``, ``ci_high``, counts and the comparison wards.
    """
    p = panel.copy()
    p["week_start"] = pd.to_datetime(p["week_start"])
    site_wards = set(phases["ward_code"])
    rows = []
    for measure, g in p.groupby("measure", sort=True):
        wide = g.pivot_table(
            index="week_start", columns="ward_code", values="events", aggfunc="sum"
        )
        weeks = pd.date_range(wide.index.min(), wide.index.max(), freq="7D")
        wide = wide.reindex(weeks, fill_value=0).fillna(0)
        for site_id, site in phases.groupby("site_id", sort=True):
            ward = site["ward_code"].iloc[0]
            if ward not in wide.columns:
                wide[ward] = 0.0
            first = pd.Timestamp(site["phase_start"].min())
            pre = np.asarray(
                (wide.index < first) & (wide.index >= first - pd.Timedelta(weeks=pre_weeks))
            )
            comp = match_comparison_wards(wide, ward, pre, k=k, exclude=site_wards)
            pool = match_comparison_wards(wide, ward, pre, k=donors, exclude=site_wards)
            for _, ph in site.iterrows():
                post = np.asarray(
                    (wide.index >= pd.Timestamp(ph["phase_start"]))
                    & (wide.index <= pd.Timestamp(ph["phase_end"]))
                )
                base = {
                    "site_id": site_id,
                    "site_name": ph.get("site_name", site_id),
                    "ward_code": ward,
                    "phase": ph["phase"],
                    "phase_start": pd.Timestamp(ph["phase_start"]),
                    "phase_end": pd.Timestamp(ph["phase_end"]),
                    "measure": measure,
                    "level": level,
                }
                y = wide[ward].to_numpy(float)
                if comp:
                    did = did_rate_ratio(
                        y, wide[comp].sum(axis=1).to_numpy(), pre, post, level=level
                    )
                    rows.append(
                        {**base, "method": "did", **did, "comparison_wards": "|".join(comp)}
                    )
                sc = synthetic_control(y, wide[pool].to_numpy(float), pre, post, level=level)
                if sc is not None:
                    rows.append(
                        {
                            **base,
                            "method": "synthetic_control",
                            **sc,
                            "treated_pre": int(y[pre].sum()),
                            "treated_post": int(y[post].sum()),
                            "pre_weeks": int(pre.sum()),
                            "post_weeks": int(post.sum()),
                            "comparison_wards": "|".join(pool),
                        }
                    )
    return pd.DataFrame(rows)
