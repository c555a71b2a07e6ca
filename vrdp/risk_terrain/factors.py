"""Operationalise risk factors as binary cell variables, as RTMDx does.

Each factor is a point layer (e.g. pubs, bus stops). It becomes binary variables
on the study grid:

* **proximity** at spatial influence ``d``: 1 where the cell centre is within ``d``
  metres (inclusive) of the nearest feature (cKDTree nearest-neighbour distance);
* **density** at spatial influence ``d``: kernel density of the features with a
  **quartic** (biweight) kernel of bandwidth ``d``,
  ``K(r) = 3 / (pi d^2) * (1 - r^2/d^2)^2`` for ``r < d`` (features per m², reported per
  km²), evaluated at cell centres; 1 where the density is **above mean + k SD** of
  the density over all study cells (RTMDx rule, ``k = 2`` by default). A layer whose
  threshold is not exceeded anywhere gives an all-zero variable.

Spatial influences run from one increment to ``max_blocks`` blocks in whole- or
half-block increments (``block_length_m`` metres per block). With 15 factors, 14 as
both and 1 proximity-only, 3 blocks in half-block steps give 6 influences and
``14 * 2 * 6 + 6 = 174`` variables, the RTMDx count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

__all__ = [
    "OPERATIONALISATIONS",
    "RiskFactor",
    "spatial_influences_blocks",
    "candidate_variables",
    "nearest_distance_m",
    "quartic_kernel_density",
    "density_threshold",
    "build_variables",
    "evaluate_variables_at",
]

OPERATIONALISATIONS = ("proximity", "density", "both")


@dataclass(frozen=True)
class RiskFactor:
    """A candidate risk factor: a named point layer and how to operationalise it.

    Attributes
    ----------
    name : str
        Factor name (e.g. ``"pub"``); used in variable names.
    operationalisation : str
        ``"proximity"``, ``"density"`` or ``"both"``.
    """

    name: str
    operationalisation: str = "both"

    def __post_init__(self) -> None:
        if self.operationalisation not in OPERATIONALISATIONS:
            raise ValueError(f"operationalisation must be one of {OPERATIONALISATIONS}")
        if "__" in self.name:
            raise ValueError("factor names must not contain '__'")


def spatial_influences_blocks(max_blocks: float = 3.0, increment: str = "half") -> np.ndarray:
    """Spatial influence bands in blocks: ``increment, 2*increment, ..., max_blocks``.

    Examples
    --------
    >>> spatial_influences_blocks(3, "half").tolist()
    [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    >>> spatial_influences_blocks(3, "whole").tolist()
    [1.0, 2.0, 3.0]
    """
    step = {"half": 0.5, "whole": 1.0}.get(increment)
    if step is None:
        raise ValueError("increment must be 'half' or 'whole'")
    n = int(np.floor(max_blocks / step + 1e-9))
    if n < 1:
        raise ValueError("max_blocks must be at least one increment")
    return step * np.arange(1, n + 1)


def candidate_variables(
    factors: Iterable[RiskFactor],
    *,
    block_length_m: float,
    max_blocks: float = 3.0,
    increment: str = "half",
) -> pd.DataFrame:
    """Table of the candidate variables: one row per factor x operationalisation x band.

    Columns: ``variable`` (``factor__operationalisation__<blocks>b``), ``factor``,
    ``operationalisation``, ``spatial_influence_blocks``, ``spatial_influence_m``.

    Examples
    --------
    >>> fs = [RiskFactor(f"f{i}") for i in range(14)] + [RiskFactor("p", "proximity")]
    >>> len(candidate_variables(fs, block_length_m=100))
    174
    >>> candidate_variables([RiskFactor("bar", "density")], block_length_m=80,
    ...                     max_blocks=1).variable.tolist()
    ['bar__density__0.5b', 'bar__density__1b']
    """
    bands = spatial_influences_blocks(max_blocks, increment)
    rows = []
    for f in factors:
        ops = (
            ("proximity", "density") if f.operationalisation == "both" else (f.operationalisation,)
        )
        for op in ops:
            for b in bands:
                rows.append(
                    {
                        "variable": f"{f.name}__{op}__{b:g}b",
                        "factor": f.name,
                        "operationalisation": op,
                        "spatial_influence_blocks": float(b),
                        "spatial_influence_m": float(b * block_length_m),
                    }
                )
    out = pd.DataFrame(
        rows,
        columns=[
            "variable",
            "factor",
            "operationalisation",
            "spatial_influence_blocks",
            "spatial_influence_m",
        ],
    )
    if out["variable"].duplicated().any():
        raise ValueError("duplicate factor names")
    return out


def nearest_distance_m(points_m: np.ndarray, features_m: np.ndarray) -> np.ndarray:
    """Distance (m) from each point to its nearest feature; ``inf`` if there are no features.

    Examples
    --------
    >>> nearest_distance_m(np.array([[0.0, 0.0], [10.0, 0.0]]), np.array([[3.0, 4.0]]))
    array([5.        , 8.06225775])
    """
    points_m = np.asarray(points_m, float).reshape(-1, 2)
    features_m = np.asarray(features_m, float).reshape(-1, 2)
    if len(features_m) == 0:
        return np.full(len(points_m), np.inf)
    d, _ = cKDTree(features_m).query(points_m, k=1)
    return np.asarray(d, float)


def quartic_kernel_density(
    points_m: np.ndarray, features_m: np.ndarray, bandwidth_m: float
) -> np.ndarray:
    """Quartic-kernel density of ``features_m`` at ``points_m`` in features per km².

    ``K(r) = 3 / (pi h^2) * (1 - r^2/h^2)^2`` for ``r < h``, 0 beyond; vectorised
    with a sparse distance matrix between two cKDTrees (no per-point loops).

    Examples
    --------
    >>> h = 100.0
    >>> dens = quartic_kernel_density(np.array([[0.0, 0.0], [50.0, 0.0], [200.0, 0.0]]),
    ...                               np.array([[0.0, 0.0]]), h)
    >>> np.round(dens, 2).tolist()  # 3/(pi h^2) per m² = 95.49 per km²; 9/16 of that at h/2
    [95.49, 53.71, 0.0]
    """
    points_m = np.asarray(points_m, float).reshape(-1, 2)
    pairs = _pairs_within(points_m, features_m, bandwidth_m)
    return _quartic_density_of_pairs(pairs, len(points_m), bandwidth_m)


def _pairs_within(points_m: np.ndarray, features_m: np.ndarray, max_distance_m: float):
    """(point index ``i``, distance ``v``) of every point-feature pair at most that far apart."""
    points_m = np.asarray(points_m, float).reshape(-1, 2)
    features_m = np.asarray(features_m, float).reshape(-1, 2)
    if len(features_m) == 0 or len(points_m) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0)
    sdm = cKDTree(points_m).sparse_distance_matrix(
        cKDTree(features_m), max_distance=float(max_distance_m), output_type="ndarray"
    )
    return sdm["i"], sdm["v"]


def _quartic_density_of_pairs(pairs, n_points: int, bandwidth_m: float) -> np.ndarray:
    """Quartic-kernel density (per km²) at each point from its pairs within ``bandwidth_m``.

    Pairs further apart weigh nothing, so the pairs of a larger bandwidth give the
    same densities (up to the order of summation) as those of this one: a factor's
    densities at several bandwidths share one pair search (:func:`build_variables`).
    """
    i, v = pairs
    h = float(bandwidth_m)
    if len(i) == 0:
        return np.zeros(n_points)
    u2 = (v / h) ** 2
    w = np.where(u2 < 1.0, (1.0 - u2) ** 2, 0.0)
    return np.bincount(i, weights=w, minlength=n_points) * (3.0 / (np.pi * h * h)) * 1e6


def density_threshold(density: np.ndarray, n_sd: float = 2.0) -> float:
    """RTMDx density cut-off: mean + ``n_sd`` standard deviations (population SD).

    Examples
    --------
    >>> round(density_threshold(np.array([0.0, 0.0, 0.0, 4.0]), 1.0), 6)
    2.732051
    """
    density = np.asarray(density, float)
    return float(density.mean() + n_sd * density.std())


def _feature_array(features: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    arr = features.get(name)
    if arr is None:
        return np.empty((0, 2))
    return np.asarray(arr, float).reshape(-1, 2)


def build_variables(
    centres_m: np.ndarray,
    features: Mapping[str, np.ndarray],
    variables: pd.DataFrame,
    *,
    density_threshold_sd: float = 2.0,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Binary matrix of the candidate variables at the cell centres.

    Parameters
    ----------
    centres_m : (n, 2) array
        Cell centres (easting, northing) in metres.
    features : mapping of factor name to (k, 2) array
        Feature coordinates in metres (EPSG:27700). Missing factors count as empty.
    variables : DataFrame
        From :func:`candidate_variables`.
    density_threshold_sd : float
        ``k`` in the mean + k SD density rule.

    Returns
    -------
    X : (n, p) uint8 array
        1 where the variable is present in the cell.
    variables : DataFrame
        ``variables`` with added ``threshold`` (distance in m for proximity, density
        per km² for density), ``n_features`` and ``cells_present``.

    Examples
    --------
    >>> v = candidate_variables([RiskFactor("bar")], block_length_m=20, max_blocks=1,
    ...                         increment="whole")
    >>> X, v2 = build_variables(np.array([[0.0, 0], [15, 0], [40, 0]]),
    ...                         {"bar": np.array([[0.0, 0]])}, v, density_threshold_sd=0.5)
    >>> X.tolist()  # proximity within 20 m; density above mean + 0.5 SD
    [[1, 1], [1, 0], [0, 0]]
    """
    centres_m = np.asarray(centres_m, float).reshape(-1, 2)
    X = np.zeros((len(centres_m), len(variables)), dtype=np.uint8)
    thresholds = np.zeros(len(variables))
    n_features = np.zeros(len(variables), dtype=np.int64)
    dist_cache: dict[str, np.ndarray] = {}
    # one pair search per factor at its widest density bandwidth, for all its bandwidths
    is_density = (variables["operationalisation"] != "proximity").to_numpy()
    widest = variables[is_density].groupby("factor")["spatial_influence_m"].max().to_dict()
    factor_of = variables["factor"].to_numpy()
    last_row = {factor_of[j]: j for j in np.flatnonzero(is_density)}  # last density row
    pair_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for j, row in enumerate(variables.itertuples(index=False)):
        feats = _feature_array(features, row.factor)
        n_features[j] = len(feats)
        if row.operationalisation == "proximity":
            if row.factor not in dist_cache:
                dist_cache[row.factor] = nearest_distance_m(centres_m, feats)
            thresholds[j] = row.spatial_influence_m
            X[:, j] = dist_cache[row.factor] <= row.spatial_influence_m + 1e-9
        else:
            if row.factor not in pair_cache:
                pair_cache[row.factor] = _pairs_within(centres_m, feats, widest[row.factor])
            dens = _quartic_density_of_pairs(
                pair_cache[row.factor], len(centres_m), row.spatial_influence_m
            )
            if j == last_row[row.factor]:  # held only while the factor's rows need it
                del pair_cache[row.factor]
            thresholds[j] = density_threshold(dens, density_threshold_sd)
            X[:, j] = dens > thresholds[j] + 1e-12
    out = variables.copy()
    out["threshold"] = thresholds
    out["n_features"] = n_features
    out["cells_present"] = X.sum(axis=0, dtype=np.int64)
    return X, out


def evaluate_variables_at(
    points_m: np.ndarray, features: Mapping[str, np.ndarray], variables: pd.DataFrame
) -> np.ndarray:
    """Binary matrix of already-built variables (with ``threshold``) at arbitrary points.

    Uses the thresholds stored by :func:`build_variables`, so a point gets the same
    value as a cell centre at the same place.
    """
    points_m = np.asarray(points_m, float).reshape(-1, 2)
    X = np.zeros((len(points_m), len(variables)), dtype=np.uint8)
    for j, row in enumerate(variables.itertuples(index=False)):
        feats = _feature_array(features, row.factor)
        if row.operationalisation == "proximity":
            X[:, j] = nearest_distance_m(points_m, feats) <= row.spatial_influence_m + 1e-9
        else:
            dens = quartic_kernel_density(points_m, feats, row.spatial_influence_m)
            X[:, j] = dens > row.threshold + 1e-12
    return X
