"""Relative risk values, relative risk scores and risk clusters.

* **RRV** of a selected variable is ``exp(beta)``: how many times more likely an
  event is in a cell where the variable is present, the others held fixed.
* **Relative risk score (RRS)** of a cell is the product of the RRVs of the
  variables present there, rescaled so the lowest-risk cell of the study area
  scores 1 (with only risk-raising variables that is the cell with none present).
* **Risk clusters** are connected groups of high-risk cells (RRS above
  mean + ``k`` SD of the cell scores, ``k = 2`` by default; or a given cut-off),
  adjacency by shared edge or corner (8-neighbour, "queen") unless ``connectivity=4``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage

from vrdp.risk_terrain.grid import StudyGrid

__all__ = [
    "relative_risk_values",
    "log_risk",
    "relative_risk_score",
    "high_risk_threshold",
    "risk_clusters",
]


def relative_risk_values(betas: np.ndarray) -> np.ndarray:
    """``exp(beta)`` per variable.

    Examples
    --------
    >>> np.round(relative_risk_values(np.array([3.0617, 2.1578])), 2).tolist()
    [21.36, 8.65]
    """
    return np.exp(np.asarray(betas, float))


def log_risk(X: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """Sum of the coefficients of the variables present in each cell (log of RRV product)."""
    X = np.asarray(X, float).reshape(len(X), -1)
    return X @ np.asarray(betas, float)


def relative_risk_score(
    X: np.ndarray, betas: np.ndarray, reference_log_risk: float | None = None
) -> np.ndarray:
    """Relative risk score per cell: product of the RRVs present, 1 for the lowest-risk cell.

    Parameters
    ----------
    X : (n, k) array of 0/1
        Selected variables per cell.
    betas : (k,) array
        Their coefficients.
    reference_log_risk : float, optional
        Log risk that maps to a score of 1; default the minimum over ``X`` (pass the
        study-area minimum when scoring other places so scores stay comparable).

    Examples
    --------
    >>> X = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])
    >>> s = relative_risk_score(X, np.array([3.0617, 2.1578]))
    >>> round(float(s.max()), 2), float(s.min())
    (184.84, 1.0)
    """
    lr = log_risk(X, betas)
    ref = float(lr.min()) if reference_log_risk is None else float(reference_log_risk)
    return np.exp(lr - ref)


def high_risk_threshold(scores: np.ndarray, n_sd: float = 2.0) -> float:
    """Cut-off for high-risk cells: mean + ``n_sd`` SD of the scores.

    Examples
    --------
    >>> round(high_risk_threshold(np.array([1.0, 1.0, 1.0, 5.0]), 1.0), 6)
    3.732051
    """
    s = np.asarray(scores, float)
    return float(s.mean() + n_sd * s.std())


def risk_clusters(
    grid: StudyGrid,
    scores: np.ndarray,
    *,
    threshold: float | None = None,
    n_sd: float = 2.0,
    connectivity: int = 8,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Label connected clusters of high-risk cells.

    Parameters
    ----------
    grid : StudyGrid
    scores : (n_cells,) array
        RRS per study cell, in ``grid.cells`` order.
    threshold : float, optional
        Cells with ``score >= threshold`` are high risk; default mean + ``n_sd`` SD
        (if that exceeds the maximum, only the maximum-score cells are high risk).
    connectivity : {4, 8}

    Returns
    -------
    cluster_id : (n_cells,) int array
        1, 2, ... for clustered cells (largest cluster first), 0 elsewhere.
    clusters : DataFrame
        ``cluster_id``, ``n_cells``, ``area_m2``, ``max_rrs``, ``mean_rrs``,
        ``easting_m``, ``northing_m`` (centroid of cell centres).

    Examples
    --------
    >>> from vrdp.risk_terrain.grid import grid_from_bounds
    >>> g = grid_from_bounds(0, 0, 40, 30, 10)  # 3 rows x 4 cols
    >>> s = np.ones(12); s[[0, 1, 5, 11]] = 9.0
    >>> ids, tab = risk_clusters(g, s, threshold=5.0)
    >>> ids.reshape(3, 4).tolist()
    [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 2]]
    >>> tab.n_cells.tolist()
    [3, 1]
    """
    scores = np.asarray(scores, float)
    if threshold is None:
        threshold = min(high_risk_threshold(scores, n_sd), float(scores.max()))
    high = scores >= threshold - 1e-12
    raster = np.zeros((grid.n_rows, grid.n_cols), dtype=bool)
    rows = grid.cells["row"].to_numpy()
    cols = grid.cells["col"].to_numpy()
    raster[rows, cols] = high
    if connectivity == 8:
        structure = np.ones((3, 3), dtype=int)
    elif connectivity == 4:
        structure = ndimage.generate_binary_structure(2, 1)
    else:
        raise ValueError("connectivity must be 4 or 8")
    labels, n = ndimage.label(raster, structure=structure)
    raw = labels[rows, cols]
    columns = ["cluster_id", "n_cells", "area_m2", "max_rrs", "mean_rrs", "easting_m", "northing_m"]
    if n == 0:
        return np.zeros(len(scores), dtype=np.int64), pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        {
            "raw": raw,
            "rrs": scores,
            "easting_m": grid.cells["easting_m"].to_numpy(),
            "northing_m": grid.cells["northing_m"].to_numpy(),
        }
    )
    frame = frame[frame["raw"] > 0]
    tab = frame.groupby("raw").agg(
        n_cells=("rrs", "size"),
        max_rrs=("rrs", "max"),
        mean_rrs=("rrs", "mean"),
        easting_m=("easting_m", "mean"),
        northing_m=("northing_m", "mean"),
        first=("easting_m", lambda s: s.index.min()),
    )
    tab = tab.sort_values(["n_cells", "max_rrs", "first"], ascending=[False, False, True])
    relabel = np.zeros(n + 1, dtype=np.int64)
    relabel[tab.index.to_numpy()] = np.arange(1, len(tab) + 1)
    tab = tab.reset_index(drop=True)
    tab.insert(0, "cluster_id", np.arange(1, len(tab) + 1, dtype=np.int64))
    tab["area_m2"] = tab["n_cells"] * grid.cell_area_m2
    return relabel[raw], tab[columns]
