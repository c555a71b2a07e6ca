"""RTM on real data: Oxford city-centre OSM points of interest and the demo force's street crime.

The study area is the bounding box of the shipped OSM extract
(``public_data/osm/oxford_centre_pois_2015.geojson``, about 1.1 x 1.2 km of central
Oxford) in EPSG:27700; crimes are the shipped police.uk street-level records of the
force that polices Oxford (:data:`config.demo.OXFORD_STREET_FORCE`) whose (snapped,
anonymised) location falls in it. The model period
and the following (validation) period are given as lists of monthly files.

Caveats, stated in the report: the POIs are from 2015 and the crimes from 2025;
police.uk locations are snapped to a set of map points, which concentrates counts
on a few cells; the area is small, so few variables can be supported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from config.demo import OXFORD_STREET_DIR, OXFORD_STREET_FORCE
from vrdp.geo import to_bng
from vrdp.risk_terrain.factors import RiskFactor
from vrdp.risk_terrain.grid import count_points_in_cells, grid_from_bounds
from vrdp.risk_terrain.model import RTMConfig, RTMResult, run_rtm

__all__ = [
    "OXFORD_FACTORS",
    "REPO_ROOT",
    "oxford_features",
    "load_crimes_bng",
    "run_oxford",
    "run_oxford_frames",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
POIS = REPO_ROOT / "public_data" / "osm" / "oxford_centre_pois_2015.geojson"
STREET = REPO_ROOT / "public_data" / OXFORD_STREET_DIR

#: Factor name -> (OSM key, OSM values). 15 factors; ``None`` values = any value of the key
#: not claimed by another factor.
OXFORD_FACTORS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "pub": ("amenity", ("pub",)),
    "bar": ("amenity", ("bar",)),
    "fast_food": ("amenity", ("fast_food",)),
    "restaurant": ("amenity", ("restaurant",)),
    "cafe": ("amenity", ("cafe",)),
    "off_licence_convenience": ("shop", ("alcohol", "convenience", "newsagent", "kiosk")),
    "other_shop": ("shop", None),
    "bus_stop": ("highway", ("bus_stop",)),
    "cash_machine_bank": ("amenity", ("atm", "bank")),
    "university": ("amenity", ("university",)),
    "car_parking": ("amenity", ("parking", "motorcycle_parking")),
    "bicycle_parking": ("amenity", ("bicycle_parking",)),
    "place_of_worship": ("amenity", ("place_of_worship",)),
    "crossing_signals": ("highway", ("crossing", "traffic_signals")),
    "leisure_venue": ("tourism", ("museum", "attraction", "hotel")),
}


def oxford_features(
    pois: gpd.GeoDataFrame | None = None,
    factors: Mapping[str, tuple[str, tuple[str, ...] | None]] | None = None,
) -> dict[str, np.ndarray]:
    """Feature coordinates (EPSG:27700 m) per factor from the Oxford OSM POIs."""
    pois = gpd.read_file(POIS) if pois is None else pois
    factors = OXFORD_FACTORS if factors is None else factors
    pts = pois.to_crs("EPSG:27700")
    xy = np.column_stack([pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()])
    key = pois["category_key"].astype(str).to_numpy()
    val = pois["category_value"].astype(str).to_numpy()
    claimed = np.zeros(len(pois), dtype=bool)
    out: dict[str, np.ndarray] = {}
    for name, (k, values) in factors.items():
        if values is not None:
            m = (key == k) & np.isin(val, list(values))
            claimed |= m
            out[name] = xy[m]
    for name, (k, values) in factors.items():
        if values is None:
            out[name] = xy[(key == k) & ~claimed]
    return {name: out[name] for name in factors}


def load_crimes_bng(
    files: Sequence[Path], crime_types: Sequence[str] | None = None
) -> pd.DataFrame:
    """Police.uk street crimes (``easting_m``, ``northing_m``, ``crime_type``, ``month``)."""
    from vrdp.ingest.police_uk import parse_street_file

    frames = []
    for f in files:
        d = parse_street_file(f).loaded
        d = d[d["longitude"].notna() & d["latitude"].notna()]
        if crime_types is not None:
            d = d[d["crime_type"].isin(list(crime_types))]
        frames.append(d[["longitude", "latitude", "crime_type", "month"]])
    d = pd.concat(frames, ignore_index=True)
    e, n = to_bng(d["longitude"].to_numpy(float), d["latitude"].to_numpy(float))
    d["easting_m"], d["northing_m"] = e, n
    return d


def run_oxford_frames(
    model_crimes: pd.DataFrame,
    next_crimes: pd.DataFrame | None = None,
    *,
    crime_types: Sequence[str] | None = None,
    config: RTMConfig | None = None,
    pois: gpd.GeoDataFrame | None = None,
    population_offset: bool = True,
) -> RTMResult:
    """RTM on central Oxford from crime tables (``easting_m``, ``northing_m``, ``crime_type``).

    Same study area, grid and factors as :func:`run_oxford`; crimes outside the OSM
    extract's bounding box are ignored; ``crime_types`` filters (``None``: all).
    With ``population_offset`` (default) the exposure is the 2011 census residents
    per cell (:func:`~vrdp.risk_terrain.exposure.residents_per_cell`), so RRVs are
    rate ratios per resident; without it they are per cell (area-based).
    """
    cfg = config or RTMConfig(block_length_m=100.0, n_folds=3, max_shortlist=20)
    pois = gpd.read_file(POIS) if pois is None else pois
    features = oxford_features(pois)
    xmin, ymin, xmax, ymax = pois.to_crs("EPSG:27700").total_bounds
    grid = grid_from_bounds(xmin, ymin, xmax, ymax, cfg.block_length_m / 2)

    def counts(crimes):
        if crime_types is not None:
            crimes = crimes[crimes["crime_type"].isin(list(crime_types))]
        return count_points_in_cells(
            grid, crimes["easting_m"].to_numpy(float), crimes["northing_m"].to_numpy(float)
        )

    y = counts(model_crimes)
    y_next = None if next_crimes is None else counts(next_crimes)
    factors = [
        RiskFactor(name, "proximity" if name == "crossing_signals" else "both") for name in features
    ]
    offset = None
    if population_offset:
        from vrdp.risk_terrain.exposure import residents_per_cell

        residents, _ = residents_per_cell(grid)
        with np.errstate(divide="ignore"):
            offset = np.log(residents)
        y = np.where(residents > 0, y, 0)
    result = run_rtm(grid, y, features, factors, cfg, next_counts=y_next, offset=offset)
    result.report["data"] = {
        "pois": str(POIS.relative_to(REPO_ROOT)),
        "pois_per_factor": {k: len(v) for k, v in features.items()},
        "crime_types": None if crime_types is None else list(crime_types),
        "events_next": None if y_next is None else int(y_next.sum()),
        "study_area_bng": [float(xmin), float(ymin), float(xmax), float(ymax)],
        "notes": [
            "POIs are OSM 2015, crimes police.uk (years apart).",
            "police.uk locations are snapped to anonymised map points.",
            "Exposure: 2011 census residents per cell (LSOA density x cell area); RRVs "
            "are per resident, so town-centre footfall is not controlled for."
            if population_offset
            else "No exposure offset: RRVs are area-based (confounded by place density).",
        ],
        "exposure": "residents_per_cell (census 2011, LSOA 2011)" if population_offset else None,
    }
    return result


def run_oxford(
    *,
    model_months: Sequence[str] = (
        "2025-01",
        "2025-02",
        "2025-03",
        "2025-04",
        "2025-05",
        "2025-06",
    ),
    next_months: Sequence[str] = ("2025-08", "2025-09", "2025-10", "2025-11", "2025-12"),
    crime_types: Sequence[str] | None = None,
    config: RTMConfig | None = None,
    street_dir: Path = STREET,
) -> RTMResult:
    """Run RTM on central Oxford; returns the :class:`~.model.RTMResult` (report has data notes).

    Defaults: block 100 m, cells 50 m, 3 blocks in half-block steps, 15 factors (14 as
    proximity and density, ``crossing_signals`` proximity only: 174 variables),
    3-fold CV (few events), all crime types; model period January-June 2025,
    validation August-December 2025 (July 2025 is not shipped).
    """

    def crimes(months):
        return load_crimes_bng(
            [street_dir / f"{m}-{OXFORD_STREET_FORCE}-street.csv.gz" for m in months], crime_types
        )

    result = run_oxford_frames(
        crimes(model_months), crimes(next_months), crime_types=crime_types, config=config
    )
    result.report["data"].update(
        {"model_months": list(model_months), "next_months": list(next_months)}
    )
    return result
