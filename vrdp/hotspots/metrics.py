"""Predictive accuracy of a hot spot selection: hit rate, PAI, PEI and recapture rate.

A forecast scores every cell; the selection at area share ``p`` is the
highest-scoring cells, taken in rank order while their cumulative area stays
within ``p`` of the study area (at least one cell). Ranks are deterministic:
score descending, ties broken by the cell's position in the input (the caller
passes cells sorted by id, so ties go to the smaller cell id).

Definitions (``n`` = test events in the selected cells, ``N`` = all test events
in the study area, ``a`` = selected area, ``A`` = study area):

* **hit rate** = ``n / N`` (Bowers, Johnson & Pease 2004; Chainey, Tompson &
  Uhlig 2008).
* **PAI**, predictive accuracy index = ``(n / N) / (a / A)`` (Chainey et al. 2008).
* **PEI**, predictive efficiency index = ``PAI / PAI*`` where ``PAI*`` is the PAI
  of an oracle that knows the test period and selects the cells with most test
  events at the same area share (Hunt 2016, "Do crime hot spots move?";
  equivalently ``n / n*``). 1 means the forecast is as good as hindsight.
* **RRI**, recapture rate index (Levine 2008, "The 'hottest' part of a
  hotspot", *Security Journal* 21) = ``(n2 / n1) / (N2 / N1)``: events in the
  selected cells in the test period over those in the same cells in the
  previous (reference) period, relative to the change in the whole area.
  RRI > 1 means the selected cells kept more than their share.

Undefined values (no test events, no reference events) are ``NaN``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "rank_cells",
    "select_top_area",
    "hit_rate",
    "pai",
    "pei",
    "recapture_rate_index",
    "selection_metrics",
]


def rank_cells(score: np.ndarray) -> np.ndarray:
    """Order of cells by score, highest first; ties keep input order (stable).

    NaN scores rank last.

    >>> rank_cells(np.array([1.0, 3.0, 3.0, np.nan, 2.0])).tolist()
    [1, 2, 4, 0, 3]
    """
    s = np.asarray(score, float)
    key = np.where(np.isnan(s), -np.inf, s)
    return np.argsort(-key, kind="stable")


def select_top_area(
    score: np.ndarray, area_share: float, area: np.ndarray | None = None
) -> np.ndarray:
    """Boolean mask of the cells selected at ``area_share`` of the total area.

    Cells are taken in :func:`rank_cells` order while the cumulative area is at
    most ``area_share`` of the total (relative tolerance 1e-9), and at least one.

    >>> select_top_area(np.array([3.0, 2.0, 1.0]), 2 / 3).tolist()
    [True, True, False]
    """
    s = np.asarray(score, float)
    a = np.ones_like(s) if area is None else np.asarray(area, float)
    order = rank_cells(s)
    cum = np.cumsum(a[order])
    k = int(np.searchsorted(cum, area_share * a.sum() * (1 + 1e-9), side="right"))
    k = max(k, 1)
    mask = np.zeros(len(s), dtype=bool)
    mask[order[:k]] = True
    return mask


def hit_rate(observed: np.ndarray, selected: np.ndarray) -> float:
    """Share of test events in the selected cells, ``n / N``.

    >>> hit_rate(np.array([6, 3, 0]), np.array([True, False, False]))
    0.6666666666666666
    """
    obs = np.asarray(observed, float)
    total = obs.sum()
    return float(obs[np.asarray(selected, bool)].sum() / total) if total > 0 else float("nan")


def pai(observed: np.ndarray, selected: np.ndarray, area: np.ndarray | None = None) -> float:
    """Predictive accuracy index ``(n / N) / (a / A)``.

    >>> pai(np.array([6, 3, 0]), np.array([True, False, False]))
    2.0
    """
    sel = np.asarray(selected, bool)
    a = np.ones(len(sel)) if area is None else np.asarray(area, float)
    share = a[sel].sum() / a.sum()
    return float(hit_rate(observed, sel) / share) if share > 0 else float("nan")


def pei(
    observed: np.ndarray,
    score: np.ndarray,
    area_share: float,
    area: np.ndarray | None = None,
) -> float:
    """Predictive efficiency index: PAI of ``score`` over the oracle's PAI at ``area_share``.

    The oracle ranks cells by ``observed`` itself (same tie rule and area rule).

    >>> pei(np.array([6, 3, 0]), np.array([1.0, 2.0, 3.0]), 1 / 3)
    0.0
    """
    obs = np.asarray(observed, float)
    p = pai(obs, select_top_area(score, area_share, area), area)
    p_star = pai(obs, select_top_area(obs, area_share, area), area)
    return float(p / p_star) if p_star and p_star > 0 else float("nan")


def recapture_rate_index(
    observed: np.ndarray, reference: np.ndarray, selected: np.ndarray
) -> float:
    """Levine's recapture rate index ``(n2 / n1) / (N2 / N1)``.

    ``observed`` are test-period counts, ``reference`` the previous period's.

    >>> recapture_rate_index(np.array([6, 3, 0]), np.array([2, 2, 2]),
    ...                      np.array([True, False, False]))
    2.0
    """
    obs = np.asarray(observed, float)
    ref = np.asarray(reference, float)
    sel = np.asarray(selected, bool)
    n1, n2, big_n1, big_n2 = ref[sel].sum(), obs[sel].sum(), ref.sum(), obs.sum()
    if n1 <= 0 or big_n1 <= 0 or big_n2 <= 0:
        return float("nan")
    return float((n2 / n1) / (big_n2 / big_n1))


def selection_metrics(
    observed: np.ndarray,
    score: np.ndarray,
    area_shares: tuple[float, ...] = (0.01, 0.05, 0.10),
    *,
    area: np.ndarray | None = None,
    reference: np.ndarray | None = None,
) -> pd.DataFrame:
    """Hit rate, PAI, PEI and RRI of ``score`` against ``observed`` at each area share.

    Parameters
    ----------
    observed
        Test-period counts per cell.
    score
        Forecast per cell (higher = riskier).
    area_shares
        Shares of the study area to select.
    area
        Cell areas (any unit); unit areas if omitted.
    reference
        Previous-period counts per cell, for RRI (``NaN`` without it).

    Returns
    -------
    pandas.DataFrame
        One row per share: ``area_share``, ``cells_selected``, ``area_share_selected``,
        ``events_captured``, ``hit_rate``, ``pai``, ``oracle_pai``, ``pei``, ``rri``.

    Examples
    --------
    >>> m = selection_metrics(np.array([6, 3, 0]), np.array([3, 2, 1]), (1 / 3, 2 / 3, 1.0))
    >>> m["pai"].tolist(), m["pei"].tolist()
    ([2.0, 1.5, 1.0], [1.0, 1.0, 1.0])
    """
    obs = np.asarray(observed, float)
    a = np.ones(len(obs)) if area is None else np.asarray(area, float)
    rows = []
    for share in area_shares:
        sel = select_top_area(score, share, a)
        oracle = select_top_area(obs, share, a)
        p = pai(obs, sel, a)
        p_star = pai(obs, oracle, a)
        rows.append(
            {
                "area_share": float(share),
                "cells_selected": int(sel.sum()),
                "area_share_selected": float(a[sel].sum() / a.sum()),
                "events_captured": float(obs[sel].sum()),
                "hit_rate": hit_rate(obs, sel),
                "pai": p,
                "oracle_pai": p_star,
                "pei": p / p_star if p_star > 0 else float("nan"),
                "rri": (
                    recapture_rate_index(obs, reference, sel)
                    if reference is not None
                    else float("nan")
                ),
            }
        )
    return pd.DataFrame(rows)
