"""End-to-end risk terrain model: grid + factors + events -> factor table, cell layer, report.

Example
-------
>>> import numpy as np
>>> from vrdp.risk_terrain import RTMConfig, RiskFactor, grid_from_bounds, run_rtm
>>> rng = np.random.default_rng(3)
>>> grid = grid_from_bounds(0, 0, 3000, 3000, 50)
>>> bars = rng.uniform(0, 3000, size=(40, 2))
>>> shops = rng.uniform(0, 3000, size=(40, 2))
>>> from vrdp.risk_terrain.factors import nearest_distance_m
>>> near_bar = nearest_distance_m(grid.centres_m, bars) <= 100
>>> counts = rng.poisson(0.2 * np.where(near_bar, 3.0, 1.0))
>>> res = run_rtm(grid, counts, {"bar": bars, "shop": shops},
...               [RiskFactor("bar"), RiskFactor("shop")],
...               RTMConfig(block_length_m=100, max_blocks=2, n_folds=3))
>>> res.factor_table[["factor", "operationalisation", "spatial_influence_m"]].values.tolist()
[['bar', 'proximity', 100.0]]
>>> 2.5 < float(res.factor_table.rrv.iloc[0]) < 3.6  # planted RRV 3
True
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import geopandas as gpd
import h3
import numpy as np
import pandas as pd

from vrdp.geo import WGS84, to_bng
from vrdp.risk_terrain.factors import (
    RiskFactor,
    build_variables,
    candidate_variables,
    evaluate_variables_at,
)
from vrdp.risk_terrain.grid import StudyGrid, cell_polygons
from vrdp.risk_terrain.scoring import log_risk, risk_clusters
from vrdp.risk_terrain.selection import select_model
from vrdp.risk_terrain.validation import predictive_accuracy

__all__ = [
    "NoEventsError",
    "FACTOR_TABLE_COLUMNS",
    "RTMConfig",
    "RiskTerrainModel",
    "RTMResult",
    "run_rtm",
    "cell_layer",
    "risk_score_at_points",
    "risk_score_for_h3",
    "pearson_dispersion",
]


class NoEventsError(ValueError):
    """The study area holds no events, so there is nothing to model."""


FACTOR_TABLE_COLUMNS = [
    "factor",
    "operationalisation",
    "spatial_influence_blocks",
    "spatial_influence_m",
    "beta",
    "std_error",
    "rrv",
    "rrv_ci_low",
    "rrv_ci_high",
    "p_value",
    "cells_present",
    "n_features",
    "variable",
]


@dataclass(frozen=True)
class RTMConfig:
    """Settings of an RTM run (defaults follow RTMDx where it has one).

    Attributes
    ----------
    block_length_m : float
        Typical block length in metres (spatial influences are multiples of it).
    max_blocks : float
        Largest spatial influence in blocks (RTMDx default 3).
    increment : str
        ``"half"`` or ``"whole"`` block steps.
    density_threshold_sd : float
        Density variables flag cells above mean + this many SD.
    l1_ratio, n_lambdas, lambda_min_ratio, n_folds, max_shortlist : elastic-net settings
    one_variable_per_factor : bool
        A factor enters the model with at most one operationalisation/influence.
    cluster_threshold_sd : float
        High-risk cells for clusters: RRS above mean + this many SD.
    cluster_connectivity : int
        4 or 8 neighbours.
    coverages : tuple of float
        Area shares for validation (hit rate, PAI).
    seed : int
        Seed of the cross-validation folds.
    n_jobs : int
        Cross-validation folds fitted at once (threads); the result does not depend
        on it.
    """

    block_length_m: float = 100.0
    max_blocks: float = 3.0
    increment: str = "half"
    density_threshold_sd: float = 2.0
    l1_ratio: float = 0.5
    n_lambdas: int = 20
    lambda_min_ratio: float = 1e-3
    n_folds: int = 5
    max_shortlist: int = 30
    one_variable_per_factor: bool = True
    cluster_threshold_sd: float = 2.0
    cluster_connectivity: int = 8
    coverages: tuple[float, ...] = (0.01, 0.05, 0.10, 0.20)
    seed: int = 0
    n_jobs: int = 1


@dataclass(frozen=True)
class RiskTerrainModel:
    """What is needed to score any place: selected variables, coefficients, features.

    ``variables`` holds the selected variables (with ``threshold``), ``betas`` their
    coefficients, ``features`` the coordinates (EPSG:27700 m) of their factors, and
    ``reference_log_risk`` the study-area minimum of the log risk (score 1).
    ``uses_offset``: the model was fitted with an exposure offset, so ``intercept``
    is a rate per unit of exposure and scores are risk per unit of exposure.
    """

    family: str
    intercept: float
    alpha: float | None
    variables: pd.DataFrame
    betas: np.ndarray
    features: dict[str, np.ndarray]
    reference_log_risk: float
    block_length_m: float
    cell_size_m: float
    uses_offset: bool = False


@dataclass(frozen=True)
class RTMResult:
    """Outputs of :func:`run_rtm`.

    Attributes
    ----------
    factor_table : DataFrame
        One row per selected variable (:data:`FACTOR_TABLE_COLUMNS`), highest RRV first.
    cells : DataFrame
        Study cells (BNG): ``cell_id``, ``row``, ``col``, ``easting_m``, ``northing_m``,
        ``event_count``, ``rrs``, ``log_rrs``, ``high_risk``, ``cluster_id``,
        ``expected_events`` (fitted mean of the model period), with an offset also
        ``log_exposure``, and one 0/1 column per selected variable.
    clusters : DataFrame
        From :func:`~vrdp.risk_terrain.scoring.risk_clusters`.
    validation : DataFrame or None
        From :func:`~vrdp.risk_terrain.validation.predictive_accuracy`.
    report : dict
        Figures of the run (JSON-serialisable).
    model : RiskTerrainModel
    candidates : DataFrame
        All candidate variables with thresholds and cell counts.
    grid : StudyGrid
    """

    factor_table: pd.DataFrame
    cells: pd.DataFrame
    clusters: pd.DataFrame
    validation: pd.DataFrame | None
    report: dict
    model: RiskTerrainModel
    candidates: pd.DataFrame
    grid: StudyGrid = field(repr=False)


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def run_rtm(
    grid: StudyGrid,
    event_counts: np.ndarray,
    features: Mapping[str, np.ndarray],
    factors: Sequence[RiskFactor],
    config: RTMConfig | None = None,
    *,
    next_counts: np.ndarray | None = None,
    offset: np.ndarray | None = None,
) -> RTMResult:
    """Build candidates, select the model, score cells, find clusters and validate.

    Parameters
    ----------
    grid : StudyGrid
    event_counts : (n_cells,) int array
        Events per study cell in the model period (``grid.cells`` order); see
        :func:`~vrdp.risk_terrain.grid.count_points_in_cells`.
    features : mapping factor name -> (k, 2) array
        Feature coordinates in EPSG:27700 metres.
    factors : sequence of RiskFactor
        Candidate factors and their operationalisation.
    config : RTMConfig
    next_counts : (n_cells,) array, optional
        Events in the following period; if given, ``validation`` holds hit rates and
        PAI of the RTM layer and of the previous-period hot spot baseline.
    offset : (n_cells,) array, optional
        Log exposure per cell (see :func:`~vrdp.risk_terrain.grid.exposure_offset`):
        ``log(mu) = offset + b0 + x'b`` in the elastic net, both stepwise searches
        and the p-value refit, so RRVs are rate ratios per unit of exposure (e.g.
        per candidate event location) and are not confounded by how many places a
        cell holds. Cells with ``-inf`` (no exposure) must have no events; they are
        left out of the fit but still scored. The RRS stays the environmental risk
        per unit of exposure (``exp(x'b)`` over the study minimum); with an offset
        the validation ranks cells by ``expected_events`` (RRS times exposure),
        the count the model predicts, and the report says which score was used.
    """
    cfg = config or RTMConfig()
    t0 = time.perf_counter()
    y = np.asarray(event_counts, float)
    if not np.nansum(y) > 0:
        raise NoEventsError(f"no events in the {len(y):,} cells of the study area")
    if len(y) != grid.n_cells:
        raise ValueError("event_counts must have one value per study cell")
    off = None
    if offset is not None:
        off = np.asarray(offset, float)
        if off.shape != y.shape:
            raise ValueError("offset must have one value per study cell")
    candidates = candidate_variables(
        factors,
        block_length_m=cfg.block_length_m,
        max_blocks=cfg.max_blocks,
        increment=cfg.increment,
    )
    X, candidates = build_variables(
        grid.centres_m, features, candidates, density_threshold_sd=cfg.density_threshold_sd
    )
    t_build = time.perf_counter()
    sel = select_model(
        X,
        y,
        candidates,
        l1_ratio=cfg.l1_ratio,
        n_lambdas=cfg.n_lambdas,
        lambda_min_ratio=cfg.lambda_min_ratio,
        n_folds=cfg.n_folds,
        max_shortlist=cfg.max_shortlist,
        one_variable_per_factor=cfg.one_variable_per_factor,
        seed=cfg.seed,
        offset=off,
        n_jobs=cfg.n_jobs,
    )
    t_select = time.perf_counter()
    idx = candidates.set_index("variable")
    chosen = idx.loc[sel.variables].reset_index()
    cols = [candidates.index[candidates["variable"] == v][0] for v in sel.variables]
    Xsel = X[:, cols]
    betas = sel.table["beta"].to_numpy(float)
    lr = log_risk(Xsel, betas)
    ref = float(lr.min()) if len(lr) else 0.0
    rrs = np.exp(lr - ref)
    cluster_id, clusters = risk_clusters(
        grid, rrs, n_sd=cfg.cluster_threshold_sd, connectivity=cfg.cluster_connectivity
    )

    table = sel.table.merge(chosen, on="variable", how="left")
    table = table.sort_values(["rrv", "variable"], ascending=[False, True]).reset_index(drop=True)
    table = table[FACTOR_TABLE_COLUMNS]

    cells = grid.cells.copy()
    cells["event_count"] = y.astype(np.int64)
    cells["rrs"] = rrs
    cells["log_rrs"] = lr - ref
    cells["high_risk"] = cluster_id > 0
    cells["cluster_id"] = cluster_id
    with np.errstate(over="ignore"):
        expected = np.exp(sel.intercept + lr + (0.0 if off is None else off))
    cells["expected_events"] = expected
    dispersion = pearson_dispersion(
        y, expected, n_params=1 + len(betas), alpha=sel.alpha if sel.family == "negbin" else None
    )
    if off is not None:
        cells["log_exposure"] = off
    for j, v in enumerate(sel.variables):
        cells[v] = Xsel[:, j]

    validation = None
    if next_counts is not None:
        ranking = rrs if off is None else expected
        validation = predictive_accuracy(ranking, next_counts, y, coverages=cfg.coverages)
    t_end = time.perf_counter()

    used = set(chosen["factor"])
    model = RiskTerrainModel(
        family=sel.family,
        intercept=sel.intercept,
        alpha=sel.alpha,
        variables=chosen,
        betas=betas,
        features={k: np.asarray(v, float).reshape(-1, 2) for k, v in features.items() if k in used},
        reference_log_risk=ref,
        block_length_m=cfg.block_length_m,
        cell_size_m=grid.cell_size_m,
        uses_offset=off is not None,
    )
    report = {
        "n_cells": grid.n_cells,
        "cell_size_m": grid.cell_size_m,
        "block_length_m": cfg.block_length_m,
        "n_events": int(y.sum()),
        "n_factors": len(factors),
        "n_candidate_variables": len(candidates),
        "n_shortlisted": len(sel.shortlist),
        "shortlist": sel.shortlist,
        "elastic_net": sel.enet,
        "family": sel.family,
        "negbin_parameterisation": "NB2: Var(Y) = mu + alpha * mu^2, alpha by ML",
        "nb_alpha": sel.alpha if sel.family == "negbin" else sel.stepwise["negbin"]["alpha"],
        "dispersion": dispersion,
        "bic": sel.bic,
        "loglik": sel.loglik,
        "stepwise": sel.stepwise,
        "n_selected": len(sel.variables),
        "intercept": sel.intercept,
        "max_rrs": float(rrs.max()) if len(rrs) else None,
        "mean_rrs": float(rrs.mean()) if len(rrs) else None,
        "n_high_risk_cells": int((cluster_id > 0).sum()),
        "n_clusters": len(clusters),
        "offset": sel.offset,
        "validation_score": "rrs" if off is None else "expected_events",
        "config": asdict(cfg),
        "seconds": {
            "build_variables": round(t_build - t0, 3),
            "selection": round(t_select - t_build, 3),
            "scoring_clusters_validation": round(t_end - t_select, 3),
            "total": round(t_end - t0, 3),
        },
    }
    if validation is not None:
        report["validation"] = validation.to_dict(orient="records")
    return RTMResult(
        factor_table=table,
        cells=cells,
        clusters=clusters,
        validation=validation,
        report=_plain(report),
        model=model,
        candidates=candidates,
        grid=grid,
    )


def pearson_dispersion(
    y: np.ndarray, mu: np.ndarray, *, n_params: int, alpha: float | None = None
) -> dict:
    """Pearson chi-square over residual degrees of freedom of a fitted count model.

    ``poisson``: ``sum((y - mu)^2 / mu) / (n - n_params)``, about 1 when the counts are
    Poisson and above 1 when they are overdispersed; ``model``: the same with the
    chosen model's variance (``mu + alpha mu^2`` for NB2, ``alpha`` then counted as a
    parameter). Cells with a zero or non-finite mean (no exposure) are left out.

    Examples
    --------
    >>> d = pearson_dispersion(np.array([0.0, 2, 1, 3]), np.array([1.0, 1, 2, 2]), n_params=1)
    >>> round(d["poisson"], 4), d["model"] == d["poisson"], d["cells"]
    (1.0, True, 4)
    """
    y = np.asarray(y, float)
    mu = np.asarray(mu, float)
    ok = np.isfinite(mu) & (mu > 0)
    y, mu = y[ok], mu[ok]
    r2 = (y - mu) ** 2
    pois = float(np.sum(r2 / mu) / max(len(y) - n_params, 1))
    if alpha is None:
        model = pois
    else:
        model = float(np.sum(r2 / (mu + alpha * mu**2)) / max(len(y) - n_params - 1, 1))
    return {"poisson": pois, "model": model, "cells": len(y)}


def cell_layer(result: RTMResult) -> gpd.GeoDataFrame:
    """Cell layer as a WGS84 GeoDataFrame (square cells), ready for GeoParquet/GeoJSON.

    Keeps the BNG centre columns (``easting_m``, ``northing_m``) for joins and adds
    ``longitude``/``latitude`` of the centre.
    """
    polys = cell_polygons(result.grid).to_crs(WGS84)
    gdf = gpd.GeoDataFrame(result.cells.copy(), geometry=polys.to_numpy(), crs=WGS84)
    cent = gpd.GeoSeries(
        gpd.points_from_xy(result.cells["easting_m"], result.cells["northing_m"]), crs="EPSG:27700"
    ).to_crs(WGS84)
    gdf["longitude"] = cent.x.to_numpy()
    gdf["latitude"] = cent.y.to_numpy()
    for c in gdf.columns:
        if gdf[c].dtype == np.uint8:
            gdf[c] = gdf[c].astype(np.int8)
    return gdf


def risk_score_at_points(
    model: RiskTerrainModel, easting_m: np.ndarray, northing_m: np.ndarray
) -> np.ndarray:
    """RRS at arbitrary BNG points, computed from the model's own features and thresholds.

    On the scale of the study area (its lowest-risk cell is 1), so a point at a cell
    centre gets that cell's score.
    """
    pts = np.column_stack([np.asarray(easting_m, float), np.asarray(northing_m, float)])
    if len(model.variables) == 0:
        return np.ones(len(pts))
    Xp = evaluate_variables_at(pts, model.features, model.variables)
    return np.exp(log_risk(Xp, model.betas) - model.reference_log_risk)


def risk_score_for_h3(model: RiskTerrainModel, cells: Sequence[str]) -> pd.Series:
    """RRS at the centres of H3 cells (index: the cell ids), for hot spot forecasts and maps.

    Places outside the study area are scored by the same rules; callers that need
    study-area cells only should filter first.
    """
    cells = list(cells)
    latlng = np.array([h3.cell_to_latlng(c) for c in cells], float).reshape(-1, 2)
    e, n = to_bng(latlng[:, 1], latlng[:, 0])
    return pd.Series(
        risk_score_at_points(model, e, n), index=pd.Index(cells, name="h3_cell"), name="rrs"
    )
