"""Risk terrain modelling (RTM) as Caplan and Kennedy's method and RTMDx do it.

Pipeline: a square study grid in EPSG:27700 (:mod:`.grid`); factors (point layers)
operationalised as proximity and kernel-density variables at spatial influence
bands (:mod:`.factors`); elastic-net Poisson shortlist then bidirectional stepwise
BIC for Poisson and NB2 (:mod:`.selection`); RRVs, relative risk scores and risk
clusters (:mod:`.scoring`); hit rate / PAI validation (:mod:`.validation`); the
end-to-end run and its outputs (:mod:`.model`); the real Oxford run (:mod:`.oxford`);
any force's run on its own POIs over a study area of its districts or wards
(:mod:`.police_uk`);
POI and crime tables with an exposure offset and the simulated world's truth check
(:mod:`.world`); exposure from candidate event locations (address and street
gazetteers, POIs) with each class's attraction estimated jointly with the model
(:mod:`.candidates`); census residents per cell as exposure (:mod:`.exposure`).
"""

from vrdp.risk_terrain.factors import (
    RiskFactor,
    build_variables,
    candidate_variables,
    nearest_distance_m,
    quartic_kernel_density,
    spatial_influences_blocks,
)
from vrdp.risk_terrain.grid import (
    StudyGrid,
    cell_of_points,
    count_points_in_cells,
    grid_from_bounds,
    grid_from_polygons,
)
from vrdp.risk_terrain.model import (
    RiskTerrainModel,
    RTMConfig,
    RTMResult,
    cell_layer,
    risk_score_at_points,
    risk_score_for_h3,
    run_rtm,
)
from vrdp.risk_terrain.scoring import relative_risk_score, relative_risk_values, risk_clusters
from vrdp.risk_terrain.selection import select_model
from vrdp.risk_terrain.validation import predictive_accuracy

__all__ = [
    "RiskFactor",
    "build_variables",
    "candidate_variables",
    "nearest_distance_m",
    "quartic_kernel_density",
    "spatial_influences_blocks",
    "StudyGrid",
    "cell_of_points",
    "count_points_in_cells",
    "grid_from_bounds",
    "grid_from_polygons",
    "RiskTerrainModel",
    "RTMConfig",
    "RTMResult",
    "cell_layer",
    "risk_score_at_points",
    "risk_score_for_h3",
    "run_rtm",
    "relative_risk_score",
    "relative_risk_values",
    "risk_clusters",
    "select_model",
    "predictive_accuracy",
]
