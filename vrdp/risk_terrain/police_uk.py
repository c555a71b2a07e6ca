"""RTM for any force: its data.police.uk street crimes and its own delivered POIs.

The force's risk terrain model, wherever the force is. Inputs are plain tables and
the force's boundary layers, as the lake holds them:

* ``pois``: the latest ``places.pois`` delivery (``category``, ``easting_m``,
  ``northing_m``); each category is a factor, pub, bar and nightclub together are
  licensed premises (:func:`~vrdp.risk_terrain.world.factor_categories`, the same
  mapping the simulated world's model uses);
* ``crimes``: located street crimes (``easting_m``, ``northing_m``, ``crime_type``
  and, for the default study area, ``lsoa21_code``);
* ``lsoa21`` and ``wards``: the force's boundary layers (``LSOA21CD``, ``LAD_CD``;
  ``WD25CD``, ``WD25NM``), cut from the national pack by the geography assets.

The study area is configuration: a list of local authority district and ward codes
(:func:`study_area_polygons`; a district is the union of its LSOAs). With none
configured it is the force district with the most located street crimes in the
model period (:func:`busiest_district`). The study grid is the square cells of
half a block whose centres fall inside that area
(:func:`~vrdp.risk_terrain.grid.grid_from_polygons`); each cell is labelled with
the LSOA and ward holding its centre (:func:`label_cells`). POIs outside the study
area still count (a pub across the boundary influences the cells near it).

Exposure: when the force has delivered an address and a street gazetteer
(``places.addresses``, ``places.streets``), every address, street and POI is a
candidate event location and each class's attraction is estimated jointly with the
model, as the simulated world's model does; the study cells are then those holding
a candidate. Without them there is no exposure offset (outside the demo area the
platform holds no population table), so RRVs are area-based (they also carry how
many places a cell holds); the report says which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from vrdp.geo import BNG
from vrdp.risk_terrain.candidates import class_counts, run_rtm_estimated_exposure
from vrdp.risk_terrain.factors import RiskFactor
from vrdp.risk_terrain.grid import (
    cell_of_points,
    count_points_in_cells,
    grid_from_polygons,
    subset_grid,
)
from vrdp.risk_terrain.model import RTMConfig, RTMResult, run_rtm
from vrdp.risk_terrain.world import factor_categories, poi_features

__all__ = [
    "DEFAULT_STUDY_AREA_RULE",
    "WARD_GAP_M",
    "StudyArea",
    "busiest_district",
    "study_area_polygons",
    "default_or_configured_study_area",
    "label_cells",
    "run_police_uk_rtm",
    "choose_poi_source",
    "is_force_own_delivery",
]

#: The documented rule behind the default study area.
DEFAULT_STUDY_AREA_RULE = (
    "default: the force district with the most located street crimes in the model "
    "period (ties: the lowest district code)"
)

#: A cell centre in no ward polygon (the simplified layers' slivers) takes the nearest
#: ward within this distance (metres); farther, its ward is left empty.
WARD_GAP_M = 100.0


@dataclass(frozen=True)
class StudyArea:
    """Where the model runs: its codes, their polygons, and how they were chosen."""

    codes: tuple[str, ...]
    polygons: gpd.GeoDataFrame  # code, kind (district or ward), name; EPSG:27700
    rule: str
    crimes_by_district: list[dict] = field(default_factory=list)

    def record(self) -> dict:
        """JSON-ready description for the model report and asset metadata."""
        return {
            "codes": list(self.codes),
            "areas": [
                {"code": r.code, "kind": r.kind, "name": r.name}
                for r in self.polygons.itertuples(index=False)
            ],
            "rule": self.rule,
            "area_km2": round(float(self.polygons.to_crs(BNG).union_all().area) / 1e6, 3),
            "crimes_by_district": self.crimes_by_district,
        }


def busiest_district(lsoa21_codes: pd.Series, lsoa_district: pd.Series) -> pd.DataFrame:
    """Located crimes per district, busiest first (ties: lowest code first).

    Parameters
    ----------
    lsoa21_codes
        One LSOA 2021 code per crime (null: outside the force's LSOAs, not counted).
    lsoa_district
        District code of each LSOA, indexed by LSOA code (the force's ``lsoa21``
        layer's ``LAD_CD`` by ``LSOA21CD``).

    Returns
    -------
    DataFrame
        ``district``, ``crimes``; the first row is the default study area.

    Examples
    --------
    >>> codes = pd.Series(["L1", "L2", "L3", "L3", None])
    >>> lad = pd.Series({"L1": "A", "L2": "B", "L3": "B"})
    >>> busiest_district(codes, lad).values.tolist()
    [['B', 3], ['A', 1]]
    """
    district = lsoa21_codes.dropna().astype(str).map(lsoa_district).dropna()
    counts = district.value_counts().rename_axis("district").reset_index(name="crimes")
    counts["crimes"] = counts["crimes"].astype(int)
    return counts.sort_values(["crimes", "district"], ascending=[False, True]).reset_index(
        drop=True
    )


def study_area_polygons(
    codes: Sequence[str], lsoa21: gpd.GeoDataFrame, wards: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """One polygon per study-area code: a district (its LSOAs' union) or a ward.

    A code is a district when some LSOA of ``lsoa21`` lies in it (``LAD_CD``), a ward
    when ``wards`` holds it (``WD25CD``); codes are of the force's layers only.

    Raises
    ------
    ValueError
        For a code that is neither (the message lists the codes it knows).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> lsoas = gpd.GeoDataFrame({"LSOA21CD": ["L1", "L2"], "LAD_CD": ["D", "D"]},
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=BNG)
    >>> wards = gpd.GeoDataFrame({"WD25CD": ["W"], "WD25NM": ["Ward"]},
    ...     geometry=[box(0, 0, 5, 5)], crs=BNG)
    >>> a = study_area_polygons(["D", "W"], lsoas, wards)
    >>> a[["code", "kind"]].values.tolist(), a.area.tolist()
    ([['D', 'district'], ['W', 'ward']], [200.0, 25.0])
    """
    lsoas = lsoa21.to_crs(BNG)
    w = wards.to_crs(BNG)
    rows, geoms = [], []
    for code in dict.fromkeys(c.strip().upper() for c in codes if c.strip()):
        in_district = lsoas["LAD_CD"].astype(str).str.upper() == code
        in_wards = w["WD25CD"].astype(str).str.upper() == code
        if in_district.any():
            rows.append({"code": code, "kind": "district", "name": code})
            geoms.append(shapely.union_all(lsoas.geometry[in_district].to_numpy()))
        elif in_wards.any():
            hit = w[in_wards].iloc[0]
            rows.append({"code": code, "kind": "ward", "name": str(hit["WD25NM"])})
            geoms.append(hit.geometry)
        else:
            raise ValueError(
                f"study area code {code!r} is neither a district nor a ward of the force's "
                f"boundaries (districts: {', '.join(sorted(lsoas['LAD_CD'].astype(str).unique()))}"
                f"; {len(w)} wards, e.g. {', '.join(sorted(w['WD25CD'].astype(str))[:3])})"
            )
    if not rows:
        raise ValueError("the study area names no code")
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=BNG)


def default_or_configured_study_area(
    configured: Sequence[str],
    lsoa21: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    model_crimes_lsoa21: pd.Series,
) -> StudyArea:
    """The configured codes, or the busiest district of the model period (the rule).

    Raises
    ------
    ValueError
        A configured code the force's layers do not hold, or no configured code and
        no model-period crime inside the force's LSOAs.
    """
    table = busiest_district(
        model_crimes_lsoa21, lsoa21.set_index("LSOA21CD")["LAD_CD"].astype(str)
    )
    by_district = table.to_dict("records")
    if configured:
        codes = tuple(dict.fromkeys(c.strip().upper() for c in configured if c.strip()))
        rule = "configured (VRDP_RTM_STUDY_AREA)"
    else:
        if table.empty:
            raise ValueError("no model-period street crime lies in the force's LSOAs")
        codes = (str(table["district"].iloc[0]),)
        rule = f"{DEFAULT_STUDY_AREA_RULE}: {codes[0]}, {int(table['crimes'].iloc[0]):,} crimes"
    return StudyArea(codes, study_area_polygons(codes, lsoa21, wards), rule, by_district)


def label_cells(
    easting_m: np.ndarray,
    northing_m: np.ndarray,
    lsoa21: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    *,
    ward_gap_m: float = WARD_GAP_M,
) -> pd.DataFrame:
    """LSOA 2021 and ward of each cell centre (``lsoa21_code``, ``ward_code``, ``ward_name``).

    A centre in no LSOA keeps a null code; a centre in an LSOA but no ward (slivers
    between the two simplified layers) takes the nearest ward within ``ward_gap_m``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> lsoas = gpd.GeoDataFrame({"LSOA21CD": ["L1"]}, geometry=[box(0, 0, 100, 100)], crs=BNG)
    >>> wards = gpd.GeoDataFrame({"WD25CD": ["W1"], "WD25NM": ["North"]},
    ...     geometry=[box(0, 0, 100, 90)], crs=BNG)
    >>> labels = label_cells(np.array([50.0, 50, 500]), np.array([50.0, 95, 50]), lsoas, wards)
    >>> labels.iloc[:2].values.tolist(), bool(labels.iloc[2].isna().all())
    ([['L1', 'W1', 'North'], ['L1', 'W1', 'North']], True)
    """
    pts = shapely.points(np.asarray(easting_m, float), np.asarray(northing_m, float))

    def first_hit(layer: gpd.GeoDataFrame) -> np.ndarray:
        geoms = layer.to_crs(BNG).geometry.to_numpy()
        owner = np.full(len(pts), -1, dtype=np.int64)
        if len(geoms) and len(pts):
            pt_idx, poly_idx = shapely.STRtree(geoms).query(pts, predicate="intersects")
            first = np.unique(pt_idx, return_index=True)[1]
            owner[pt_idx[first]] = poly_idx[first]
        return owner

    lsoa_owner = first_hit(lsoa21)
    ward_owner = first_hit(wards)
    gap = (lsoa_owner >= 0) & (ward_owner < 0)
    if gap.any() and len(wards):
        geoms = wards.to_crs(BNG).geometry.to_numpy()
        pt_idx, poly_idx = shapely.STRtree(geoms).query_nearest(
            pts[gap], max_distance=ward_gap_m, all_matches=False
        )
        ward_owner[np.flatnonzero(gap)[pt_idx]] = poly_idx

    def pick(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
        out = np.full(len(owner), None, dtype=object)
        out[owner >= 0] = values[owner[owner >= 0]] if len(values) else None
        return out

    return pd.DataFrame(
        {
            "lsoa21_code": pick(lsoa21["LSOA21CD"].astype(str).to_numpy(), lsoa_owner),
            "ward_code": pick(wards["WD25CD"].astype(str).to_numpy(), ward_owner),
            "ward_name": pick(wards["WD25NM"].astype(str).to_numpy(), ward_owner),
        }
    )


def _of_types(crimes: pd.DataFrame, crime_types: Sequence[str] | None) -> pd.DataFrame:
    if crime_types is None:
        return crimes
    wanted = {t.strip().lower() for t in crime_types}
    return crimes[crimes["crime_type"].astype(str).str.strip().str.lower().isin(wanted)]


def run_police_uk_rtm(
    pois: pd.DataFrame,
    model_crimes: pd.DataFrame,
    area: StudyArea,
    lsoa21: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    *,
    next_crimes: pd.DataFrame | None = None,
    crime_types: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    config: RTMConfig | None = None,
    candidates: pd.DataFrame | None = None,
) -> RTMResult:
    """RTM of a force's street crimes over a study area of its districts or wards.

    Parameters
    ----------
    pois, model_crimes, lsoa21, wards
        See the module docstring.
    area
        From :func:`default_or_configured_study_area`.
    next_crimes
        Crimes of the following period, for the validation against the hot spot
        baseline (PAI, hit rate).
    crime_types
        Police.uk crime types to model (case-insensitive); ``None``: all.
    groups
        Categories merged into one factor (default: licensed premises = pub, bar,
        nightclub, as the simulated world's model).
    config
        Default: 100 m blocks, 50 m cells, 3 blocks in half-block steps, 3-fold CV.
    candidates
        ``easting_m``, ``northing_m``, ``location_class``: the force's delivered
        address and street gazetteers (classes ``"address"``, ``"street"``). With
        them, as the simulated world's model does, every address, street and POI is
        a candidate event location, the study cells are those of the study area
        holding one, and each class's attraction is estimated jointly with the model
        (:func:`~vrdp.risk_terrain.candidates.run_rtm_estimated_exposure`): RRVs are
        per unit of opportunity and combined relative risks can be computed.
        Without them there is no exposure offset (area-based RRVs).

    Returns
    -------
    RTMResult
        Cells carry ``lsoa21_code``, ``ward_code`` and ``ward_name``;
        ``report["data"]`` records the POIs per factor, the study area and the events.

    Raises
    ------
    vrdp.risk_terrain.model.NoEventsError
        When no modelled crime falls in the study area.
    """
    cfg = config or RTMConfig(block_length_m=100.0, n_folds=3, max_shortlist=20)
    cell = cfg.block_length_m / 2.0
    pois = pois.dropna(subset=["category", "easting_m", "northing_m"])
    factors_map = factor_categories(pois["category"].astype(str).unique().tolist(), groups)
    features = poi_features(pois, factors_map)
    grid = grid_from_polygons(area.polygons, cell)
    classes = None
    if candidates is not None:
        cand = pd.concat(
            [
                candidates[["easting_m", "northing_m", "location_class"]],
                pois[["easting_m", "northing_m"]].assign(
                    location_class=pois["category"].astype(str)
                ),
            ],
            ignore_index=True,
        ).dropna()
        cx, cy = cand["easting_m"].to_numpy(float), cand["northing_m"].to_numpy(float)
        pos = cell_of_points(grid, cx, cy)
        grid = subset_grid(grid, np.bincount(pos[pos >= 0], minlength=grid.n_cells) > 0)
        classes = class_counts(grid, cx, cy, cand["location_class"].astype(str).tolist())

    def counts(crimes: pd.DataFrame) -> np.ndarray:
        c = _of_types(crimes.dropna(subset=["easting_m", "northing_m"]), crime_types)
        return count_points_in_cells(
            grid, c["easting_m"].to_numpy(float), c["northing_m"].to_numpy(float)
        )

    y = counts(model_crimes)
    y_next = None if next_crimes is None else counts(next_crimes)
    factors = [RiskFactor(name, "both") for name in factors_map]
    if classes is not None:
        result = run_rtm_estimated_exposure(
            grid, y, classes, features, factors, cfg, next_counts=y_next
        )
    else:
        result = run_rtm(grid, y, features, factors, cfg, next_counts=y_next)
    labels = label_cells(
        result.cells["easting_m"].to_numpy(), result.cells["northing_m"].to_numpy(), lsoa21, wards
    )
    for col in labels:
        result.cells[col] = labels[col].to_numpy()
    inside = {
        name: int((cell_of_points(grid, xy[:, 0], xy[:, 1]) >= 0).sum())
        for name, xy in features.items()
    }
    selected = len(_of_types(model_crimes, crime_types))
    result.report["data"] = {
        "poi_source": "delivered places.pois",
        "factor_categories": {k: list(v) for k, v in factors_map.items()},
        "pois_per_factor": {k: len(v) for k, v in features.items()},
        "pois_in_study_area_per_factor": inside,
        "crime_types": None if crime_types is None else list(crime_types),
        "events_selected": selected,
        "events_in_study_area": int(y.sum()),
        "events_next": None if y_next is None else int(y_next.sum()),
        "study_area": area.record(),
        "cell_size_m": float(cell),
        "cells_with_ward": int(labels["ward_code"].notna().sum()),
        "exposure": None
        if classes is None
        else "offset: candidate locations by class (delivered address and street "
        "gazetteers, POIs), attractions estimated jointly",
        "candidate_locations": None
        if classes is None
        else dict(zip(classes.classes, classes.locations.tolist(), strict=True)),
        "notes": [
            "No exposure offset: RRVs are area-based (a cell's count also reflects how "
            "many places it holds); no population table is held outside the demo area."
            if classes is None
            else "Study cells: those of the study area holding an address, a street or a "
            "POI; RRVs are rate ratios per unit of opportunity.",
            "police.uk locations are snapped to anonymised map points.",
            "POIs outside the study area count as features of the cells near them.",
        ],
    }
    return result


def choose_poi_source(
    has_delivery: bool, world_scale: str, in_force_area_share: float | None = None
) -> tuple[str, str]:
    """Which points of interest the police.uk model uses: ``"delivered"`` or ``"demo"``.

    The force's own ``places.pois`` delivery when there is one, it is not the
    simulated world's (``make run`` lands the simulated world's POIs when
    ``VRDP_WORLD_SCALE`` is not ``none``: simulated places are never put against
    real crimes) and most of its POIs lie in the force area (``in_force_area_share``
    at least one half: a delivery of another area's places is not the force's);
    otherwise the shipped OpenStreetMap points of central Oxford, the demo.

    Examples
    --------
    >>> choose_poi_source(True, "none", 0.97)[0], choose_poi_source(True, "medium", 1.0)[0]
    ('delivered', 'demo')
    >>> choose_poi_source(True, "none", 0.0)[1]
    'the places.pois delivery lies outside the force area (0% of its POIs in it): ...'
    >>> choose_poi_source(False, "none")[1]
    'no places.pois delivery: the shipped OSM demo points (central Oxford)'
    """
    demo = "the shipped OSM demo points (central Oxford)"
    if not has_delivery:
        return "demo", f"no places.pois delivery: {demo}"
    if world_scale != "none":
        return "demo", (
            f"the places.pois delivery is the simulated world's (VRDP_WORLD_SCALE="
            f"{world_scale}), never put against real crimes: {demo}"
        )
    if not is_force_own_delivery(world_scale, in_force_area_share):
        return "demo", (
            f"the places.pois delivery lies outside the force area "
            f"({in_force_area_share:.0%} of its POIs in it): {demo}"
        )
    return "delivered", "the latest places.pois delivery"


def is_force_own_delivery(world_scale: str, in_force_area_share: float | None) -> bool:
    """A place delivery (POIs, gazetteer) is the force's own, to put against real crimes.

    Not when the simulated world is landed (``world_scale`` not ``none``: its places
    are simulated), nor when less than half of its located rows lie in the force
    area (``None``: not located, taken as the force's).

    Examples
    --------
    >>> is_force_own_delivery("none", 0.9), is_force_own_delivery("none", 0.1)
    (True, False)
    >>> is_force_own_delivery("small", 1.0), is_force_own_delivery("none", None)
    (False, True)
    """
    if world_scale != "none":
        return False
    return in_force_area_share is None or in_force_area_share >= 0.5
