"""Rolling-origin backtest of cell forecasts, and the baselines a forecast must beat.

Every fold trains on the periods up to ``m`` and scores period ``m + 1``: for
each period ``t`` that has data (and at least ``min_train_periods`` periods
with data before it), a forecaster sees the columns ``[0, t)`` of the count
matrix (missing periods stay NaN) and its score is evaluated on column ``t``
with :func:`vrdp.hotspots.metrics.selection_metrics` (hit rate, PAI, PEI, RRI
against the last available training period). A test period right after a
missing one is still scored; ``gap_before_test`` flags it. Periods without
data are never scored.

Study areas: PAI depends on the area it is measured against (on a rural force
most cells are empty, which flatters any method), so each fold can be scored on
two stated areas: ``"force_area"``, every cell of the study grid (the force
outline's cells, zeros included), and ``"active_cells"``, only the cells with at
least one event in the fold's training span; there the hit rate, PAI and PEI
count the test events in those cells (``test_events_outside_study_area`` says
how many fell elsewhere).

Baselines (``make_baselines``): ``previous_period`` (the last available
period), ``all_periods`` (sum of all earlier periods), ``ewm`` (periods
weighted ``0.5 ** (age / half_life)`` by calendar age, missing periods
skipped) and, when a kernel matrix is given, ``kde`` (quartic density of all
earlier events, placed at their cell centres).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from vrdp.hotspots.metrics import selection_metrics

__all__ = [
    "STUDY_AREAS",
    "Forecaster",
    "make_baselines",
    "rolling_origin_backtest",
    "summarise_backtest",
]

#: The study areas a fold can be scored on (see the module docstring).
STUDY_AREAS = ("force_area", "active_cells")

#: A forecaster maps the training columns (cells × periods before the test) to a score per cell.
Forecaster = Callable[[np.ndarray], np.ndarray]


def make_baselines(
    *, half_life_periods: float = 3.0, kernel: sparse.spmatrix | None = None
) -> dict[str, Forecaster]:
    """The baseline forecasters.

    >>> b = make_baselines()
    >>> train = np.array([[1.0, np.nan, 4.0], [3.0, np.nan, 0.0]])
    >>> b["previous_period"](train).tolist(), b["all_periods"](train).tolist()
    ([4.0, 0.0], [5.0, 3.0])
    """

    def previous_period(train: np.ndarray) -> np.ndarray:
        cols = np.flatnonzero(~np.isnan(train).all(axis=0))
        return train[:, cols[-1]]

    def all_periods(train: np.ndarray) -> np.ndarray:
        return np.nansum(train, axis=1)

    def ewm(train: np.ndarray) -> np.ndarray:
        cols = np.flatnonzero(~np.isnan(train).all(axis=0))
        age = train.shape[1] - 1 - cols
        return train[:, cols] @ (0.5 ** (age / half_life_periods))

    out: dict[str, Forecaster] = {
        "previous_period": previous_period,
        "all_periods": all_periods,
        "ewm": ewm,
    }
    if kernel is not None:
        k = sparse.csr_matrix(kernel)
        out["kde"] = lambda train: k @ np.nansum(train, axis=1)
    return out


def rolling_origin_backtest(
    counts: np.ndarray,
    forecasters: Mapping[str, Forecaster],
    *,
    periods: Sequence | None = None,
    area_shares: tuple[float, ...] = (0.01, 0.05, 0.10),
    area: np.ndarray | None = None,
    min_train_periods: int = 1,
    study_areas: Sequence[str] = ("force_area",),
) -> pd.DataFrame:
    """Score every forecaster on every fold.

    Parameters
    ----------
    counts
        Cells × periods (time order; all-NaN column = missing period).
    forecasters
        Name -> function of the training columns returning a score per cell.
    periods
        Labels of the columns (default 0..n-1).
    area_shares
        Shares of the study area at which to select cells.
    area
        Cell areas (unit areas if omitted).
    min_train_periods
        Periods with data needed before a test period.
    study_areas
        Any of :data:`STUDY_AREAS`: every cell, and/or the cells with an event
        in the training span.

    Returns
    -------
    pandas.DataFrame
        One row per fold × study area × forecaster × area share: ``test_period``,
        ``train_periods``, ``gap_before_test``, ``study_area``, ``study_cells``,
        ``test_events_outside_study_area``, ``method``, then the columns of
        :func:`vrdp.hotspots.metrics.selection_metrics`.

    Examples
    --------
    >>> c = np.array([[5.0, 6, 5], [0, 1, 0], [1, 0, 2]])
    >>> r = rolling_origin_backtest(c, make_baselines(), area_shares=(1 / 3,))
    >>> r.groupby("method")["pei"].mean().round(2).to_dict()
    {'all_periods': 1.0, 'ewm': 1.0, 'previous_period': 1.0}

    On the cells with an event before the test period only, the empty cells do
    not pad the area, so PAI is lower:

    >>> c = np.array([[4.0, 4], [0, 1], [0, 0], [0, 0]])
    >>> r = rolling_origin_backtest(c, make_baselines(), area_shares=(0.25, 1.0),
    ...                             study_areas=("force_area", "active_cells"))
    >>> r = r[(r["method"] == "all_periods") & (r["area_share"] == 0.25)].set_index("study_area")
    >>> r["pai"].round(2).to_dict(), int(r.loc["active_cells", "test_events_outside_study_area"])
    ({'force_area': 3.2, 'active_cells': 1.0}, 1)
    """
    unknown = set(study_areas) - set(STUDY_AREAS)
    if unknown:
        raise ValueError(f"unknown study areas {sorted(unknown)}; expected {STUDY_AREAS}")
    m = np.asarray(counts, float)
    a = np.ones(m.shape[0]) if area is None else np.asarray(area, float)
    labels = list(periods) if periods is not None else list(range(m.shape[1]))
    avail = ~np.isnan(m).all(axis=0)
    rows = []
    for t in range(m.shape[1]):
        n_train = int(avail[:t].sum())
        if not avail[t] or n_train < min_train_periods:
            continue
        train = m[:, :t]
        last = int(np.flatnonzero(avail[:t])[-1])
        masks = {
            "force_area": np.ones(m.shape[0], bool),
            "active_cells": np.nansum(train, axis=1) > 0,
        }
        scores = {name: np.asarray(f(train), float) for name, f in forecasters.items()}
        for study in study_areas:
            keep = masks[study]
            if not keep.any():
                continue
            outside = float(np.nansum(m[~keep, t]))
            for name, score in scores.items():
                met = selection_metrics(
                    m[keep, t], score[keep], area_shares, area=a[keep], reference=m[keep, last]
                )
                met.insert(0, "method", name)
                met.insert(0, "test_events_outside_study_area", outside)
                met.insert(0, "study_cells", int(keep.sum()))
                met.insert(0, "study_area", study)
                met.insert(0, "gap_before_test", bool(t > 0 and not avail[t - 1]))
                met.insert(0, "train_periods", n_train)
                met.insert(0, "test_period", labels[t])
                rows.append(met)
    return pd.concat(rows, ignore_index=True)


def summarise_backtest(folds: pd.DataFrame) -> pd.DataFrame:
    """Mean of each metric over folds, per (study area,) method and area share (the report table).

    Also ``folds`` (how many) and ``pei_min`` (worst fold). With a ``study_area``
    column (from :func:`rolling_origin_backtest`) each study area is its own row.

    >>> f = pd.DataFrame({"method": ["a", "a"], "area_share": [0.05, 0.05], "hit_rate": [0.2, 0.4],
    ...                   "pai": [4.0, 8.0], "pei": [0.5, 1.0], "rri": [1.0, 2.0]})
    >>> summarise_backtest(f)[["method", "pai", "pei", "folds"]].values.tolist()
    [['a', 6.0, 0.75, 2]]
    """
    keys = ["method", "area_share"]
    if "study_area" in folds and folds["study_area"].nunique() > 1:
        keys = ["study_area", *keys]
    g = folds.groupby(keys, sort=True)
    out = g[["hit_rate", "pai", "pei", "rri"]].mean()
    out["pei_min"] = g["pei"].min()
    out["folds"] = g.size()
    return out.reset_index()
