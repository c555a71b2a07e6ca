"""Rates per 1,000 with 95% confidence intervals, and small-count suppression.

The needs marts compute the Wilson score interval in SQL (closed form, portable);
:func:`wilson_interval` is the same formula here, and :func:`poisson_exact_interval`
(Garwood, from chi-square quantiles) is the reference a test compares it with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "SUPPRESS_BELOW",
    "Z95",
    "wilson_interval",
    "poisson_exact_interval",
    "suppress_small_counts",
    "small_count_findings",
    "COUNT_COLUMNS",
]

#: Counts below this are withheld from every output meant for partners.
SUPPRESS_BELOW = 5
#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054


def wilson_interval(count, population, *, per: float = 1000.0, z: float = Z95):
    """Wilson score interval of ``count / population``, scaled ``per`` residents.

    Parameters
    ----------
    count, population : array-like
        Events (or people) and residents; the proportion is capped at 1.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper bounds per ``per`` residents.

    Examples
    --------
    >>> lo, hi = wilson_interval([10], [1000])
    >>> [round(float(lo[0]), 2), round(float(hi[0]), 2)]
    [5.44, 18.31]
    """
    k = np.asarray(count, float)
    n = np.asarray(population, float)
    p = np.clip(k / n, 0.0, 1.0)
    z2 = z * z
    centre = p + z2 / (2 * n)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    denom = 1 + z2 / n
    return (centre - half) / denom * per, (centre + half) / denom * per


def poisson_exact_interval(count, population, *, per: float = 1000.0, level: float = 0.95):
    """Exact (Garwood) Poisson interval of ``count`` events among ``population``.

    >>> lo, hi = poisson_exact_interval([10], [1000])
    >>> [round(float(lo[0]), 2), round(float(hi[0]), 2)]
    [4.8, 18.39]
    """
    from scipy.stats import chi2

    k = np.asarray(count, float)
    n = np.asarray(population, float)
    a = 1 - level
    lo = np.where(k > 0, chi2.ppf(a / 2, 2 * k) / 2, 0.0)
    hi = chi2.ppf(1 - a / 2, 2 * (k + 1)) / 2
    return lo / n * per, hi / n * per


def suppress_small_counts(
    df: pd.DataFrame,
    count_col: str,
    dependent: tuple[str, ...] = (),
    *,
    below: int = SUPPRESS_BELOW,
) -> pd.DataFrame:
    """Blank counts under ``below`` and every column derived from them.

    Adds ``is_suppressed``; a suppressed row keeps its area and population but
    not its count, rate or interval.

    >>> df = pd.DataFrame({"events": [3, 12], "rate": [0.3, 1.2]})
    >>> suppress_small_counts(df, "events", ("rate",)).to_dict("list")
    {'events': [nan, 12.0], 'rate': [nan, 1.2], 'is_suppressed': [True, False]}
    """
    out = df.copy()
    small = out[count_col].fillna(0) < below
    for c in (count_col, *dependent):
        out[c] = out[c].astype(float).where(~small)
    out["is_suppressed"] = small.to_numpy()
    return out


#: Columns of the needs marts that hold counts (shown only when 5 or more).
COUNT_COLUMNS = ("events", "ae_assaults_located", "ae_assaults_not_in_police_records")


def small_count_findings(
    tables: dict[str, pd.DataFrame], *, below: int = SUPPRESS_BELOW
) -> list[str]:
    """Every shown count under ``below`` in tables meant for partners (empty when safe).

    A count column is one named in :data:`COUNT_COLUMNS`; a rate, share or
    interval shown beside a missing count is a finding too (it would let the
    count be worked back from the population).

    >>> ok = pd.DataFrame({"events": [5.0, None], "rate_per_1000": [1.0, None]})
    >>> small_count_findings({"t": ok})
    []
    >>> bad = pd.DataFrame({"events": [3.0, None], "rate_per_1000": [0.3, 0.1]})
    >>> small_count_findings({"t": bad})
    ['t: events = 3 (row 0)', 't: rate_per_1000 shown with its count suppressed (row 1)']
    """
    out = []
    for name, df in tables.items():
        for col in (c for c in COUNT_COLUMNS if c in df):
            small = df[col].notna() & (df[col] < below)
            out += [f"{name}: {col} = {int(df[col][i])} (row {i})" for i in df.index[small]]
        if "events" in df:
            for col in ("rate_per_1000", "rate_ci95_low", "rate_ci95_high"):
                if col in df:
                    leak = df["events"].isna() & df[col].notna()
                    out += [
                        f"{name}: {col} shown with its count suppressed (row {i})"
                        for i in df.index[leak]
                    ]
    return out
