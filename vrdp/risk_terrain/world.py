"""RTM on place and crime tables: POIs by category, crimes by offence code, optional exposure.

Inputs are plain tables in EPSG:27700 metres, as the lake holds them (the simulated
world's ``places/pois`` and ``police/occurrences``) or as a test reads them:

* ``pois``: ``category``, ``easting_m``, ``northing_m``;
* ``crimes``: ``easting_m``, ``northing_m`` and ``crime_type`` (police.uk crime type;
  :func:`offence_crime_types` maps Home Office offence codes to it);
* ``exposure`` (optional): ``easting_m``, ``northing_m``, ``weight``, the places where
  events of the crime types can happen and how much (e.g. candidate event locations
  with their baseline weights). With it the study area is the cells that hold
  exposure and the regressions use ``log(summed weight)`` per cell as an offset
  (:func:`~vrdp.risk_terrain.grid.exposure_offset`); without it the study area is the
  cells holding any POI or crime and RRVs are area-based (confounded by how many
  places a cell holds). :func:`run_rtm_on_reference_places` estimates the exposure
  from an address and a street gazetteer and the POIs
  (:mod:`~vrdp.risk_terrain.candidates`); :func:`run_rtm_per_resident` uses census
  residents per cell when there is no gazetteer;
* ``exclude`` (optional): points whose cells are left out of the study area, events
  and exposure alike (on the simulated world: the planted hot spots).

Cells are half a block by default (50 m for 100 m blocks), as RTMDx suggests.
:func:`truth_recovery` compares a run with the simulated world's planted factors
(evaluation only).

Factors are POI categories; ``groups`` merges categories into one factor (e.g.
licensed premises = pub, bar, nightclub); every other category is its own factor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from vrdp.risk_terrain.candidates import class_counts, run_rtm_estimated_exposure
from vrdp.risk_terrain.factors import RiskFactor
from vrdp.risk_terrain.grid import (
    cell_of_points,
    count_points_in_cells,
    exposure_offset,
    grid_from_points,
    subset_grid,
)
from vrdp.risk_terrain.model import RTMConfig, RTMResult, run_rtm

__all__ = [
    "DEFAULT_GROUPS",
    "DEFAULT_CRIME_TYPES",
    "OFFENCE_REFERENCE",
    "factor_categories",
    "poi_features",
    "offence_crime_types",
    "reference_candidates",
    "run_rtm_on_places",
    "run_rtm_on_reference_places",
    "run_rtm_per_resident",
    "truth_factor_name",
    "truth_recovery",
    "planted_attractions",
]

OFFENCE_REFERENCE = (
    Path(__file__).resolve().parents[2]
    / "public_data"
    / "reference"
    / "home_office_offence_codes_to_police_uk_category.csv"
)

#: Categories modelled as one factor (the rest are one factor each).
DEFAULT_GROUPS: dict[str, tuple[str, ...]] = {"licensed_premises": ("pub", "bar", "nightclub")}

#: Violence-reduction default: police.uk violence and public order.
DEFAULT_CRIME_TYPES: tuple[str, ...] = ("Violence and sexual offences", "Public order")


def factor_categories(
    categories: Sequence[str], groups: Mapping[str, Sequence[str]] | None = None
) -> dict[str, tuple[str, ...]]:
    """Factor name -> POI categories: the groups, then every ungrouped category alone.

    Examples
    --------
    >>> factor_categories(["pub", "bar", "atm"], {"licensed": ("pub", "bar")})
    {'licensed': ('pub', 'bar'), 'atm': ('atm',)}
    """
    groups = DEFAULT_GROUPS if groups is None else groups
    out = {name: tuple(cats) for name, cats in groups.items()}
    grouped = {c for cats in out.values() for c in cats}
    for c in sorted(set(categories) - grouped):
        if c in out:
            raise ValueError(f"category {c!r} clashes with a group name")
        out[c] = (c,)
    return out


def poi_features(pois: pd.DataFrame, factors: Mapping[str, Sequence[str]]) -> dict[str, np.ndarray]:
    """Feature coordinates ``(k, 2)`` in metres per factor from a POI table."""
    cat = pois["category"].astype(str).to_numpy()
    xy = pois[["easting_m", "northing_m"]].to_numpy(float)
    return {name: xy[np.isin(cat, list(cats))] for name, cats in factors.items()}


def offence_crime_types(offence_codes: pd.Series, reference: Path = OFFENCE_REFERENCE) -> pd.Series:
    """Police.uk crime type (sentence case, as police.uk writes it) of Home Office codes.

    Unknown codes give ``None``.
    """
    ref = pd.read_csv(reference, dtype=str, keep_default_na=False)
    cats = ref["police_uk_category"].str.strip().str.capitalize()
    lookup = dict(zip(ref["offence_code"].str.strip(), cats, strict=True))
    return offence_codes.astype(str).str.strip().map(lookup)


def _same_type(a: pd.Series, types: Sequence[str]) -> np.ndarray:
    wanted = {t.strip().lower() for t in types}
    return a.astype(str).str.strip().str.lower().isin(wanted).to_numpy()


def run_rtm_on_places(
    pois: pd.DataFrame,
    crimes: pd.DataFrame,
    *,
    crime_types: Sequence[str] | None = DEFAULT_CRIME_TYPES,
    exposure: pd.DataFrame | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    cell_size_m: float | None = None,
    config: RTMConfig | None = None,
    next_crimes: pd.DataFrame | None = None,
    exclude: pd.DataFrame | None = None,
    study_points: pd.DataFrame | None = None,
    candidates: pd.DataFrame | None = None,
) -> RTMResult:
    """Run RTM with POI categories as factors, crimes of ``crime_types`` as events.

    Parameters
    ----------
    pois, crimes, exposure : DataFrame
        See the module docstring (``exposure`` optional).
    crime_types : sequence of str or None
        Police.uk crime types to model (case-insensitive); ``None`` keeps all.
    groups : mapping, optional
        Categories merged into one factor (default :data:`DEFAULT_GROUPS`).
    cell_size_m : float, optional
        Grid cell size (m); default half a block (RTMDx's usual choice), 50 m for
        100 m blocks.
    config : RTMConfig, optional
        Default: 100 m blocks, 3 blocks in half-block steps (50-300 m).
    next_crimes : DataFrame, optional
        Crimes of the following period (same filter) for validation.
    exclude : DataFrame, optional
        ``easting_m``, ``northing_m`` of points whose cells are left out of the study
        area altogether (their exposure and their events), e.g. places under a
        separate intervention or, on the simulated world, the planted hot spots.
    study_points : DataFrame, optional
        ``easting_m``, ``northing_m`` of the places where crime can occur; without
        ``exposure`` the study area is the cells holding one (default: the cells
        holding a POI or a crime). With ``exposure`` the study area is the cells
        holding positive exposure and this is ignored.
    candidates : DataFrame, optional
        ``easting_m``, ``northing_m``, ``location_class``: the candidate event
        locations of reference data besides the POIs (e.g. addresses of an address
        gazetteer as ``"address"``, streets of a street gazetteer as ``"street"``).
        With it the POIs join them as candidates of their category, the study area
        is the cells holding a candidate, and the exposure is estimated jointly with
        the RTM (:func:`~vrdp.risk_terrain.candidates.run_rtm_estimated_exposure`);
        ``exposure`` must then be ``None``.

    Returns
    -------
    RTMResult
        ``report["data"]`` records the inputs (factor categories, crime types, events).
    """
    cfg = config or RTMConfig(block_length_m=100.0)
    if cell_size_m is None:
        cell_size_m = cfg.block_length_m / 2.0
    factors_map = factor_categories(pois["category"].astype(str).unique().tolist(), groups)
    features = poi_features(pois, factors_map)

    def events(df):
        if crime_types is None:
            return df
        return df[_same_type(df["crime_type"], crime_types)]

    ev = events(crimes)
    counts = None
    if candidates is not None:
        if exposure is not None:
            raise ValueError("give either an exposure table or candidate locations, not both")
        cand = pd.concat(
            [
                candidates[["easting_m", "northing_m", "location_class"]],
                pois[["easting_m", "northing_m"]].assign(
                    location_class=pois["category"].astype(str)
                ),
            ],
            ignore_index=True,
        ).dropna()
        grid = grid_from_points(cand["easting_m"], cand["northing_m"], cell_size_m)
        offset = None
    elif exposure is not None:
        ex = exposure[exposure["weight"] > 0]
        grid = grid_from_points(ex["easting_m"], ex["northing_m"], cell_size_m)
        offset = exposure_offset(grid, ex["easting_m"], ex["northing_m"], ex["weight"])
    else:
        if study_points is None:
            study_points = pd.concat(
                [pois[["easting_m", "northing_m"]], crimes[["easting_m", "northing_m"]]],
                ignore_index=True,
            )
        grid = grid_from_points(study_points["easting_m"], study_points["northing_m"], cell_size_m)
        offset = None
    n_excluded_cells = 0
    excluded_events = 0
    if exclude is not None and len(exclude):
        pos = cell_of_points(
            grid, exclude["easting_m"].to_numpy(), exclude["northing_m"].to_numpy()
        )
        drop = np.zeros(grid.n_cells, dtype=bool)
        drop[pos[pos >= 0]] = True
        n_excluded_cells = int(drop.sum())
        y_all = count_points_in_cells(grid, ev["easting_m"].to_numpy(), ev["northing_m"].to_numpy())
        excluded_events = int(y_all[drop].sum())
        grid = subset_grid(grid, ~drop)
        if offset is not None:
            offset = offset[~drop]
    if candidates is not None:
        counts = class_counts(
            grid,
            cand["easting_m"].to_numpy(),
            cand["northing_m"].to_numpy(),
            cand["location_class"].tolist(),
        )
    y = count_points_in_cells(grid, ev["easting_m"].to_numpy(), ev["northing_m"].to_numpy())
    outside = len(ev) - int(y.sum()) - excluded_events
    y_next = None
    if next_crimes is not None:
        nx = events(next_crimes)
        y_next = count_points_in_cells(
            grid, nx["easting_m"].to_numpy(), nx["northing_m"].to_numpy()
        )
    factors = [RiskFactor(name, "both") for name in factors_map]
    if counts is not None:
        result = run_rtm_estimated_exposure(
            grid, y, counts, features, factors, cfg, next_counts=y_next
        )
    else:
        result = run_rtm(grid, y, features, factors, cfg, next_counts=y_next, offset=offset)
    result.report["data"] = {
        "factor_categories": {k: list(v) for k, v in factors_map.items()},
        "features_per_factor": {k: len(v) for k, v in features.items()},
        "crime_types": None if crime_types is None else list(crime_types),
        "events_selected": len(ev),
        "events_outside_study_area": outside,
        "excluded_cells": n_excluded_cells,
        "events_in_excluded_cells": excluded_events,
        "events_next": None if y_next is None else int(y_next.sum()),
        "exposure": "offset: candidate locations by class, attractions estimated jointly"
        if counts is not None
        else "offset: log summed exposure weight per cell"
        if exposure is not None
        else "none: area-based RRVs (confounded by place density)",
        "cell_size_m": float(cell_size_m),
    }
    return result


def truth_factor_name(factor_id: str, distance_m: float) -> str:
    """RTM factor name of a simulated-world truth factor (``atm_50m`` -> ``atm``).

    Examples
    --------
    >>> truth_factor_name("licensed_premises_100m", 100.0)
    'licensed_premises'
    """
    return str(factor_id).removesuffix(f"_{int(distance_m)}m")


def planted_attractions(
    class_shares: Mapping[str, Mapping[str, float]],
    locations: pd.Series,
    type_weights: Mapping[str, float],
) -> pd.Series:
    """Planted events per place of each location class, for a mix of crime types.

    The simulated world places a crime of type ``t`` at a class-``c`` location with
    probability ``share_t[c] / n_c`` on average (``p0``, before planted risk), so a
    class's expected events per place for the modelled mix is
    ``sum_t w_t share_t[c] / n_c`` (``w_t`` the share of type ``t`` among the modelled
    events). Evaluation only: read from the world's truth, never a model input.

    >>> planted_attractions({"A": {"address": 0.5, "pub": 0.5}},
    ...     pd.Series({"address": 100, "pub": 5}), {"A": 1.0}).round(3).to_dict()
    {'address': 0.005, 'pub': 0.1}
    """
    total = sum(type_weights.values()) or 1.0
    out = {}
    for c, n in locations.items():
        if n > 0:
            out[c] = sum(
                w / total * class_shares.get(t, {}).get(c, 0.0) / n for t, w in type_weights.items()
            )
    return pd.Series(out, dtype=float)


def truth_recovery(
    result: RTMResult,
    truth_factors: pd.DataFrame,
    crime_types: Sequence[str] | None,
    planted_attraction: pd.Series | None = None,
) -> pd.DataFrame:
    """Planted versus estimated RRVs, for evaluation metadata on the simulated world.

    ``truth_factors`` is the world's ``truth/risk_factors.parquet``; only factors
    acting on at least one modelled crime type are listed (``crime_types`` ``None``:
    all). Nothing in the model is computed from the truth.

    With ``planted_attraction`` (:func:`planted_attractions`), the combined relative
    risk of each factor (:func:`~vrdp.risk_terrain.outputs.combined_relative_risk`)
    is compared with the planted product ``planted_rr * planted venue attraction``
    (relative to the model's commonest class, count-weighted over the factor's
    categories as the estimate is).

    Returns
    -------
    DataFrame
        ``factor``, ``planted_rr``, ``planted_distance_m``, ``crime_types_modelled``
        (share of the factor's crime types among the modelled ones), ``selected``,
        ``operationalisation``, ``spatial_influence_m``, ``rrv``, ``ratio_to_planted``,
        ``within_30pct``; with ``planted_attraction`` also ``venue_attraction``,
        ``combined_rr``, ``planted_venue_attraction``, ``planted_combined_rr`` and
        ``combined_ratio_to_planted``.
    """
    from vrdp.risk_terrain.outputs import combined_relative_risk

    ft = combined_relative_risk(result).set_index("factor")
    em = result.report.get("exposure_model") or {}
    counts = {r["location_class"]: r["locations"] for r in em.get("attractions", [])}
    ref = em.get("commonest_class")
    wanted = None if crime_types is None else {t.strip().lower() for t in crime_types}
    rows = []
    for r in truth_factors.itertuples():
        types = [t.strip().lower() for t in str(r.crime_types).split("|")]
        share = 1.0 if wanted is None else sum(t in wanted for t in types) / len(types)
        if share == 0:
            continue
        name = truth_factor_name(r.factor_id, r.distance_m)
        hit = ft.loc[name] if name in ft.index else None
        rrv = None if hit is None else float(hit["rrv"])
        rows.append(
            {
                "factor": name,
                "planted_rr": float(r.true_relative_risk),
                "planted_distance_m": float(r.distance_m),
                "crime_types_modelled": share,
                "selected": hit is not None,
                "operationalisation": None if hit is None else str(hit["operationalisation"]),
                "spatial_influence_m": None if hit is None else float(hit["spatial_influence_m"]),
                "rrv": rrv,
                "ratio_to_planted": None if rrv is None else rrv / float(r.true_relative_risk),
                "within_30pct": rrv is not None
                and abs(rrv / float(r.true_relative_risk) - 1) <= 0.3,
            }
        )
        if planted_attraction is not None and ref in planted_attraction.index:
            cats = [c for c in str(r.poi_categories).split("|") if counts.get(c, 0) > 0]
            cats = [c for c in cats if c in planted_attraction.index]
            n = np.array([counts[c] for c in cats], float)
            venue = (
                float((planted_attraction[cats].to_numpy() * n).sum() / n.sum())
                / float(planted_attraction[ref])
                if len(cats)
                else np.nan
            )
            planted = float(r.true_relative_risk) * venue
            comb = None if hit is None else float(hit["combined_rr"])
            rows[-1].update(
                {
                    "venue_attraction": None if hit is None else float(hit["venue_attraction"]),
                    "combined_rr": comb,
                    "planted_venue_attraction": venue,
                    "planted_combined_rr": planted,
                    "combined_ratio_to_planted": None
                    if comb is None or not np.isfinite(planted) or planted == 0
                    else comb / planted,
                }
            )
    return pd.DataFrame(rows)


def run_rtm_per_resident(
    pois: pd.DataFrame,
    crimes: pd.DataFrame,
    *,
    crime_types: Sequence[str] | None = DEFAULT_CRIME_TYPES,
    config: RTMConfig | None = None,
    next_crimes: pd.DataFrame | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
) -> RTMResult:
    """RTM with census residents as exposure, when no candidate-location table exists.

    The study area is the half-block cells holding a POI or a recorded crime of any
    type in ``crimes`` (the places people use, not only where the modelled crimes
    fell); the offset is the 2011 census residents per cell
    (:func:`~vrdp.risk_terrain.exposure.population_exposure`), cells outside every
    LSOA are left out. RRVs are rate ratios per resident: footfall is not controlled
    for, so factors of busy places read high (see :mod:`~vrdp.risk_terrain.exposure`).
    Other arguments as :func:`run_rtm_on_places`.
    """
    from vrdp.risk_terrain.exposure import population_exposure

    cfg = config or RTMConfig(block_length_m=100.0)
    cell = cfg.block_length_m / 2.0
    study = pd.concat(
        [pois[["easting_m", "northing_m"]], crimes[["easting_m", "northing_m"]]],
        ignore_index=True,
    ).dropna()
    exposure = population_exposure(study["easting_m"], study["northing_m"], cell)
    result = run_rtm_on_places(
        pois,
        crimes,
        crime_types=crime_types,
        exposure=exposure[["easting_m", "northing_m", "weight"]],
        groups=groups,
        cell_size_m=cell,
        config=cfg,
        next_crimes=next_crimes,
    )
    result.report["data"].update(
        {
            "exposure": "residents per cell (census 2011 by LSOA 2011, spread evenly)",
            "study_area": "cells holding a POI or a recorded crime of any type",
            "study_cells_outside_lsoas_left_out": int((exposure["weight"] <= 0).sum()),
        }
    )
    return result


def reference_candidates(addresses: pd.DataFrame, streets: pd.DataFrame) -> pd.DataFrame:
    """Candidate event locations from an address and a street gazetteer.

    ``addresses`` and ``streets`` need ``easting_m`` and ``northing_m`` (rows
    without a point are dropped); the result has ``location_class`` ``"address"``
    or ``"street"``, ready for ``run_rtm_on_places(candidates=...)``.

    Examples
    --------
    >>> a = pd.DataFrame({"easting_m": [1.0, None], "northing_m": [2.0, 3.0]})
    >>> s = pd.DataFrame({"easting_m": [5.0], "northing_m": [6.0]})
    >>> reference_candidates(a, s)["location_class"].tolist()
    ['address', 'street']
    """
    cols = ["easting_m", "northing_m"]
    return pd.concat(
        [
            addresses[cols].assign(location_class="address"),
            streets[cols].assign(location_class="street"),
        ],
        ignore_index=True,
    ).dropna(subset=cols)


def run_rtm_on_reference_places(
    pois: pd.DataFrame,
    crimes: pd.DataFrame,
    addresses: pd.DataFrame,
    streets: pd.DataFrame,
    *,
    crime_types: Sequence[str] | None = DEFAULT_CRIME_TYPES,
    config: RTMConfig | None = None,
    next_crimes: pd.DataFrame | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    exclude: pd.DataFrame | None = None,
) -> RTMResult:
    """RTM whose exposure is the force's reference places, attractions estimated jointly.

    Candidate event locations: every address of the address gazetteer, every
    street of the street gazetteer and every POI (by category); the study area is
    the half-block cells holding one; the exposure per cell is the sum of their
    attractions, estimated with the RTM
    (:mod:`~vrdp.risk_terrain.candidates`). Nothing about crime decides which
    cells are studied. Other arguments as :func:`run_rtm_on_places`.
    """
    cfg = config or RTMConfig(block_length_m=100.0)
    cand = reference_candidates(addresses, streets)
    result = run_rtm_on_places(
        pois,
        crimes,
        crime_types=crime_types,
        candidates=cand,
        groups=groups,
        cell_size_m=cfg.block_length_m / 2.0,
        config=cfg,
        next_crimes=next_crimes,
        exclude=exclude,
    )
    result.report["data"].update(
        {
            "exposure": "candidate event locations (address and street gazetteers, POIs by "
            "category), each class's attraction estimated jointly with the RTM",
            "study_area": "cells holding an address, a street or a POI",
            "candidate_locations": {
                "address": int((cand["location_class"] == "address").sum()),
                "street": int((cand["location_class"] == "street").sum()),
                "poi": len(pois),
            },
        }
    )
    return result
