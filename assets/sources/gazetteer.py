"""The gazetteer of places: POIs and streets with their points, built from the lake.

Read by the ISTV A&E source asset to geocode free location text
(:mod:`vrdp.ingest.gazetteer`). Built from every loaded delivery of
``places/pois``, ``police/occurrences`` and ``police/cad_incidents``.
"""

from functools import lru_cache
from pathlib import Path

import dagster as dg

from config.resources import PlatformConfig

__all__ = [
    "GAZETTEER_KEY",
    "GAZETTEER_INPUTS",
    "gazetteer_path",
    "read_gazetteer",
    "build_lake_gazetteer",
    "gazetteer",
]

GAZETTEER_KEY = dg.AssetKey(["places", "gazetteer"])
#: Lake tables the gazetteer is built from.
GAZETTEER_INPUTS = (
    dg.AssetKey(["places", "pois"]),
    dg.AssetKey(["police", "occurrences"]),
    dg.AssetKey(["police", "cad_incidents"]),
)


def gazetteer_path(lake_dir: Path) -> Path:
    """Where the gazetteer's entries are stored."""
    return lake_dir / "places" / "gazetteer" / "gazetteer.parquet"


def read_gazetteer(lake_dir: Path):
    """The stored gazetteer, or None when it has not been built yet.

    Kept per process while the file is unchanged (its indexes and the matches
    it has already made are reused by the next delivery).
    """
    path = gazetteer_path(lake_dir)
    if not path.exists():
        return None
    stat = path.stat()
    return _read_gazetteer(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=2)
def _read_gazetteer(path: str, mtime_ns: int, size: int):
    import pandas as pd

    from vrdp.ingest.gazetteer import Gazetteer

    return Gazetteer(pd.read_parquet(path))


def build_lake_gazetteer(lake_dir: Path):
    """The gazetteer from every loaded POI, occurrence and CAD delivery in the lake.

    Returns the gazetteer and the two frames it was built from (the asset's work,
    also run by the ingest benchmark).
    """
    import pandas as pd

    from vrdp.ingest.gazetteer import build_gazetteer
    from vrdp.lake import read_deliveries

    pois = read_deliveries(
        lake_dir,
        "places",
        "pois",
        ["poi_id", "name", "category", "street", "easting_m", "northing_m"],
    )
    # A POI list is re-delivered whole: keep each POI's latest row.
    pois = pois.drop_duplicates("poi_id", keep="last")
    police = pd.concat(
        [
            read_deliveries(lake_dir, "police", d, ["location_text", "easting_m", "northing_m"])
            for d in ("occurrences", "cad_incidents")
        ],
        ignore_index=True,
    )
    return build_gazetteer(pois, police), pois, police


@dg.asset(
    key=GAZETTEER_KEY,
    group_name="sources",
    kinds={"python", "parquet"},
    deps=list(GAZETTEER_INPUTS),
    description=(
        "Gazetteer of places: POI names and streets (by town) with their points, from the "
        "POIs and the located location text of police occurrences and CAD incidents."
    ),
    code_version="1",
    automation_condition=dg.AutomationCondition.eager(),
)
def gazetteer(context: dg.AssetExecutionContext, platform: PlatformConfig) -> dg.MaterializeResult:
    """Build the gazetteer from the loaded lake tables."""
    from vrdp.lake import sha256_file, write_parquet_atomic

    lake = platform.resolve().lake_dir
    g, pois, police = build_lake_gazetteer(lake)
    path = write_parquet_atomic(g.entries, gazetteer_path(lake))
    digest = sha256_file(path)
    return dg.MaterializeResult(
        metadata={
            **g.summary,
            "pois_read": len(pois),
            "police_locations_read": len(police),
            "match_threshold": g.threshold,
            "sha256": digest,
            "path": dg.MetadataValue.path(str(path)),
        },
        data_version=dg.DataVersion(digest[:16]),
    )
