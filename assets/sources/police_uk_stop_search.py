"""data.police.uk stop and search: monthly partitions of typed, located Parquet.

Each partition is one delivered month file
(``landing/police_uk/stop_and_search/YYYY-MM-<force>-stop-and-search.csv[.gz]``);
the flow around a file is :mod:`assets.sources.police_uk_monthly`'s, shared with
street crime. The demo lands the simulated world's files (the shipped real data
is a 40-row sample); a provenance file beside them says so, and the asset
repeats it in its metadata (``data_origin``).
"""

from pathlib import Path

import dagster as dg

from assets.geography.boundaries import BOUNDARIES, boundary_key
from assets.sources.police_uk_monthly import (
    PROVENANCE_FILE,
    IngestedMonth,
    MonthlySource,
    file_origin,
    monthly_source_asset,
)
from config.resources import PlatformConfig

__all__ = [
    "STOP_SEARCH",
    "STOP_SEARCH_MONTHS",
    "STOP_SEARCHES_KEY",
    "STOP_SEARCH_QUARANTINE_KEY",
    "STOP_SEARCH_LANDING_KEY",
    "PROVENANCE_FILE",
    "stop_search_landing_files",
    "police_uk_stop_searches",
    "stop_search_lake_paths",
    "stop_search_landing_dir",
    "file_origin",
    "ingest_stop_search_month",
]

#: Months for which a stop and search file has been delivered (``YYYY-MM``).
STOP_SEARCH_MONTHS = dg.DynamicPartitionsDefinition(name="police_uk_stop_search_months")


def ingest_stop_search_month(
    path: Path | list[Path],
    *,
    month: str,
    lake_dir: Path,
    validated_on,
    force: str | None = None,
    layers,
    h3_resolution: int,
    area=None,
):
    """Validate, locate and write one month's files: the asset's work without Dagster.

    ``path`` is one file or the month's files of every force of the unit (one
    per force, each read with the force its name gives; ``force`` names a single
    file's force when its name does not follow data.police.uk's). The ingest
    benchmark runs this too. ``area`` is the unit's :class:`vrdp.coords.AreaBox`
    (points outside it are flagged).

    Raises
    ------
    vrdp.errors.SourceFileError
        For a file that cannot be read as a stop and search file.
    """
    from vrdp.force_area import combine_month_parts
    from vrdp.ingest.stop_search import STOP_SEARCH_FILE_PATTERN, load_stop_search_month
    from vrdp.lake import write_parquet_atomic

    paths = [Path(path)] if isinstance(path, (str, Path)) else [Path(p) for p in path]
    parts = []
    for p in paths:
        named = STOP_SEARCH_FILE_PATTERN.match(p.name)
        if not named and force is None:
            raise ValueError(f"{p}: name the force (not a data.police.uk file name)")
        parts.append(
            load_stop_search_month(
                p,
                validated_on=validated_on,
                month=month,
                force=named["force"] if named else force,
                layers=layers,
                h3_resolution=h3_resolution,
                area=area,
            )
        )
    parsed = combine_month_parts(parts, paths)
    out_path, q_path = stop_search_lake_paths(lake_dir, month)
    write_parquet_atomic(parsed.loaded, out_path)
    write_parquet_atomic(parsed.quarantine, q_path)
    return parsed


def _ingest(paths: list[Path], month: str, platform: PlatformConfig) -> IngestedMonth:
    from datetime import date

    from assets.geography.boundaries import force_area_box
    from assets.sources.agencies import boundary_layers

    s = platform.resolve()
    validated_on = date.today()
    parsed = ingest_stop_search_month(
        paths,
        month=month,
        lake_dir=s.lake_dir,
        validated_on=validated_on,
        layers=boundary_layers(platform),
        h3_resolution=s.h3_resolution,
        area=force_area_box(platform),
    )
    loaded = parsed.loaded
    faults = loaded["coordinate_fault"].fillna("ok")
    return IngestedMonth(
        loaded,
        parsed.quarantine,
        parsed.rows_in,
        parsed.file_sha256,
        common={"validated_on": validated_on.isoformat()},
        loaded_metadata={
            "rows_unlocated": int(faults.eq("missing").sum()),
            "coordinates_swapped_fixed": int(faults.eq("swapped_fixed").sum()),
            "repeat_rows_kept": int(loaded["repeat_in_file"].sum()),
        },
    )


def _find_files(landing: Path, s) -> dict[str, list[Path]]:
    """Each month's files: one per force of the unit (``VRDP_POLICE_UK_FORCE`` may list several)."""
    from vrdp.force_area import street_files_by_month
    from vrdp.ingest.stop_search import find_stop_search_files

    return street_files_by_month(landing, s.police_uk_forces, find=find_stop_search_files)


STOP_SEARCH = MonthlySource(
    dataset="stop_searches",
    landing_folder="stop_and_search",
    landing_name="stop_search",
    what="stop and search",
    partitions_def=STOP_SEARCH_MONTHS,
    description=(
        "data.police.uk stop and search: typed, one row per search with a stable "
        "id, local time, BNG, H3 cell, LSOA and ward (null when unlocated)."
    ),
    deps=tuple(boundary_key(b.name) for b in BOUNDARIES),
    find_files=_find_files,
    ingest=_ingest,
)

STOP_SEARCH_LANDING_KEY = STOP_SEARCH.landing_key
STOP_SEARCHES_KEY = STOP_SEARCH.key
STOP_SEARCH_QUARANTINE_KEY = STOP_SEARCH.quarantine_key
stop_search_landing_files = STOP_SEARCH.landing_spec()
police_uk_stop_searches = monthly_source_asset(STOP_SEARCH)


def stop_search_lake_paths(lake_dir: Path, month: str) -> tuple[Path, Path]:
    """Parquet files of one month: (loaded rows, quarantined rows)."""
    return STOP_SEARCH.lake_paths(lake_dir, month)


def stop_search_landing_dir(platform: PlatformConfig) -> Path:
    """Folder where data.police.uk stop and search files land."""
    return STOP_SEARCH.landing_dir(platform)
