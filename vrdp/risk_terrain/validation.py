"""Predictive accuracy of a risk layer on the following period.

For a coverage ``c`` (share of the study area), the top ``c`` of cells by score are
flagged. **Hit rate** is the share of the following period's events that fall in
them; **PAI** (predictive accuracy index, Chainey et al. 2008) is hit rate divided
by area share (cells are equal-sized, so area share = cell share). The baseline is
a **hot spot** forecast: the top cells by previous-period counts.

RTM scores take few distinct values, so many cells tie at the cut-off. Tied cells
at the boundary are counted **fractionally** (each tied cell contributes the
share of the remaining budget it would get in a random tie-break), which is the
expected hit rate under random tie-breaking and does not depend on cell order.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["top_share_hits", "predictive_accuracy"]


def top_share_hits(scores: np.ndarray, counts: np.ndarray, coverage: float) -> tuple[float, float]:
    """Expected events captured, and cells flagged, by the top ``coverage`` of cells.

    Examples
    --------
    >>> top_share_hits(np.array([3.0, 2, 2, 1]), np.array([5, 1, 3, 1]), 0.5)
    (7.0, 2.0)
    """
    scores = np.asarray(scores, float)
    counts = np.asarray(counts, float)
    n = len(scores)
    budget = coverage * n
    order = np.argsort(-scores, kind="stable")
    s_sorted = scores[order]
    c_sorted = counts[order]
    _, start = np.unique(-s_sorted, return_index=True)
    bounds = np.append(start, n)
    hits = 0.0
    used = 0.0
    for a, b in itertools.pairwise(bounds):
        size = b - a
        remaining = budget - used
        if remaining <= 1e-12:
            break
        take = min(size, remaining)
        hits += c_sorted[a:b].sum() * (take / size)
        used += take
    return float(hits), float(used)


def predictive_accuracy(
    risk_scores: np.ndarray,
    next_counts: np.ndarray,
    previous_counts: np.ndarray,
    *,
    coverages: Sequence[float] = (0.01, 0.05, 0.10, 0.20),
) -> pd.DataFrame:
    """Hit rate and PAI of the RTM layer against a previous-period hot spot baseline.

    Parameters
    ----------
    risk_scores : (n,) array
        RRS per cell.
    next_counts : (n,) array
        Events per cell in the following (validation) period.
    previous_counts : (n,) array
        Events per cell in the model period (the hot spot baseline ranks these).
    coverages : sequence of float
        Shares of cells flagged.

    Returns
    -------
    DataFrame
        ``coverage``, ``cells``, ``events_next``, ``rtm_hit_rate``, ``rtm_pai``,
        ``hotspot_hit_rate``, ``hotspot_pai``.

    Examples
    --------
    >>> t = predictive_accuracy(np.array([4.0, 1, 1, 1]), np.array([6, 2, 0, 0]),
    ...                         np.array([0, 5, 0, 0]), coverages=[0.25])
    >>> t[["rtm_hit_rate", "rtm_pai", "hotspot_hit_rate", "hotspot_pai"]].iloc[0].tolist()
    [0.75, 3.0, 0.25, 1.0]
    """
    next_counts = np.asarray(next_counts, float)
    total = next_counts.sum()
    n = len(next_counts)
    rows = []
    for c in coverages:
        r_hits, cells = top_share_hits(risk_scores, next_counts, c)
        h_hits, _ = top_share_hits(previous_counts, next_counts, c)
        share = cells / n
        rtm_hr = r_hits / total if total > 0 else np.nan
        hs_hr = h_hits / total if total > 0 else np.nan
        rows.append(
            {
                "coverage": float(c),
                "cells": cells,
                "events_next": float(total),
                "rtm_hit_rate": rtm_hr,
                "rtm_pai": rtm_hr / share if share > 0 else np.nan,
                "hotspot_hit_rate": hs_hr,
                "hotspot_pai": hs_hr / share if share > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows)
