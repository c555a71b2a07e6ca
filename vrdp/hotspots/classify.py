"""Classify cells as persistent, emerging, former or intermittent hot (or cold) spots.

Chainey's scheme as implemented by the R package sfhotspot's ``hotspot_classify``
(defaults ``hotspot_prop = 0.1``, ``persistent_prop = 0.8``,
``recent_prop = 0.2``, ``critical_p = 0.05``). For each period Gi* is computed
on the grid (:mod:`vrdp.hotspots.getis_ord`); a cell is a significant hot spot
in that period if ``z > 0`` and ``p < critical_p``. With ``prop`` the share of
all periods, ``recent`` the share of the last ``floor(recent_prop × periods)``
periods (at least 1) and ``older`` the share of the periods before:

1. **persistent**: ``prop >= persistent_prop``;
2. else **emerging**: ``older < hotspot_prop`` and ``recent >= recent_prop``;
3. else **former**: ``older >= hotspot_prop`` and ``recent < hotspot_prop``;
4. else **intermittent**: ``prop >= hotspot_prop``;
5. else no pattern.

The same for cold spots (``z < 0``); a cell with both a hot and a cold category
is ``"mixed hot/coldspot"``.

Differences from sfhotspot, deliberately: the recent share counts exactly the
last ``recent_periods`` periods (sfhotspot's column range takes one extra
period but divides by ``recent_periods``); the p-value correction
(``p_adjust_method``) is applied across cells within each period only; periods
with no data at all (a month the force did not publish, a NaN column) or no
events are left out and listed in the result's ``attrs["periods_excluded"]``.

Each cell also gets a Mann-Kendall trend of its counts over the periods used
(:mod:`vrdp.hotspots.mann_kendall`): ``trend`` is ``"increasing"``,
``"decreasing"`` or ``"no trend"`` at ``critical_p``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from vrdp.hotspots.getis_ord import gi_star
from vrdp.hotspots.mann_kendall import mann_kendall_rows

__all__ = ["classify_hotspots"]


def _categories(prop, recent, older, hotspot_prop, persistent_prop, recent_prop, kind):
    return np.select(
        [
            prop >= persistent_prop,
            (older < hotspot_prop) & (recent >= recent_prop),
            (older >= hotspot_prop) & (recent < hotspot_prop),
            prop >= hotspot_prop,
        ],
        [f"persistent {kind}", f"emerging {kind}", f"former {kind}", f"intermittent {kind}"],
        "no pattern",
    )


def classify_hotspots(
    counts: pd.DataFrame,
    weights: sparse.spmatrix,
    *,
    hotspot_prop: float = 0.1,
    persistent_prop: float = 0.8,
    recent_prop: float = 0.2,
    critical_p: float = 0.05,
    p_adjust_method: str | None = None,
) -> pd.DataFrame:
    """Hot spot category of every cell from its counts per period.

    Parameters
    ----------
    counts
        Cells × periods (index = cell ids of the study grid, columns = periods
        in time order; an all-NaN column is a missing period).
    weights
        Binary neighbour matrix with the diagonal, aligned with ``counts.index``.
    hotspot_prop, persistent_prop, recent_prop, critical_p
        sfhotspot's parameters, same defaults.
    p_adjust_method
        ``None``, ``"bonferroni"`` or ``"fdr_bh"`` within each period.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``counts``: ``hotspot_category``, ``hot_periods``,
        ``cold_periods``, ``prop_hot``, ``recent_hot``, ``older_hot``,
        ``mk_s``, ``mk_z``, ``mk_p``, ``mk_tau``, ``trend``. ``attrs`` holds
        ``periods_used``, ``periods_excluded`` and ``recent_periods``.

    Examples
    --------
    >>> import h3
    >>> from vrdp.hotspots.grid import neighbour_matrix
    >>> centre = h3.latlng_to_cell(51.752, -1.2577, 9)
    >>> cells = sorted(h3.grid_disk(centre, 6))
    >>> w = neighbour_matrix(np.array(cells, dtype=object))
    >>> c = pd.DataFrame(1.0, index=cells, columns=range(10))
    >>> c.loc[centre, :] = 20.0                   # hot every period
    >>> far = sorted(h3.grid_ring(centre, 4))[0]
    >>> c.loc[far, 8:] = 20.0                     # hot in the last two periods only
    >>> out = classify_hotspots(c, w)
    >>> out.loc[[centre, far], "hotspot_category"].tolist()
    ['persistent hotspot', 'emerging hotspot']
    """
    m = counts.to_numpy(float)
    missing = np.isnan(m).all(axis=0)
    empty = np.nansum(m, axis=0) == 0
    use = ~missing & ~empty
    periods = list(counts.columns)
    used = [p for p, u in zip(periods, use, strict=True) if u]
    excluded = [p for p, u in zip(periods, use, strict=True) if not u]
    x = np.nan_to_num(m[:, use])
    n_periods = x.shape[1]
    if n_periods < 2:
        raise ValueError("need at least two periods with data to classify hot spots")
    hot = np.zeros_like(x, dtype=bool)
    cold = np.zeros_like(x, dtype=bool)
    for k in range(n_periods):
        g = gi_star(x[:, k], weights, correction=p_adjust_method, alpha=critical_p)
        hot[:, k] = g["hot_spot"].to_numpy()
        cold[:, k] = g["cold_spot"].to_numpy()
    recent_periods = max(int(np.floor(recent_prop * n_periods)), 1)
    older_n = n_periods - recent_periods

    def shares(flags):
        return (
            flags.mean(axis=1),
            flags[:, older_n:].mean(axis=1),
            flags[:, :older_n].mean(axis=1),
        )

    cat_h = _categories(*shares(hot), hotspot_prop, persistent_prop, recent_prop, "hotspot")
    cat_c = _categories(*shares(cold), hotspot_prop, persistent_prop, recent_prop, "coldspot")
    category = np.where(
        (cat_h != "no pattern") & (cat_c != "no pattern"),
        "mixed hot/coldspot",
        np.where(cat_h != "no pattern", cat_h, cat_c),
    )
    prop_h, recent_h, older_h = shares(hot)
    mk = mann_kendall_rows(x)
    trend = np.where(
        mk["p_value"] < critical_p,
        np.where(mk["s"] > 0, "increasing", "decreasing"),
        "no trend",
    )
    out = pd.DataFrame(
        {
            "hotspot_category": category,
            "hot_periods": hot.sum(axis=1),
            "cold_periods": cold.sum(axis=1),
            "prop_hot": prop_h,
            "recent_hot": recent_h,
            "older_hot": older_h,
            "mk_s": mk["s"].to_numpy(),
            "mk_z": mk["z"].to_numpy(),
            "mk_p": mk["p_value"].to_numpy(),
            "mk_tau": mk["tau"].to_numpy(),
            "trend": trend,
        },
        index=counts.index,
    )
    out.attrs.update(periods_used=used, periods_excluded=excluded, recent_periods=recent_periods)
    return out
