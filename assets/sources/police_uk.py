"""data.police.uk street-level crime: monthly partitions of typed, located Parquet.

Each partition is one delivered month file from the landing zone
(``landing/police_uk/street/YYYY-MM-<force>-street.csv[.gz]``); the flow around
a file is :mod:`assets.sources.police_uk_monthly`'s, shared with stop and search.
"""

from pathlib import Path

import dagster as dg

from assets.geography.boundaries import boundary_key, read_boundaries
from assets.sources.police_uk_monthly import IngestedMonth, MonthlySource, monthly_source_asset
from config.resources import PlatformConfig

__all__ = [
    "POLICE_UK_MONTHS",
    "STREET",
    "STREET_CRIMES_KEY",
    "STREET_LANDING_KEY",
    "street_landing_files",
    "STREET_QUARANTINE_KEY",
    "police_uk_street_crimes",
    "street_lake_paths",
    "street_landing_dir",
    "ingest_street_month",
]

#: Months for which a street-level file has been delivered (``YYYY-MM``).
POLICE_UK_MONTHS = dg.DynamicPartitionsDefinition(name="police_uk_months")


def ingest_street_month(
    path: Path | list[Path],
    *,
    month: str,
    lake_dir: Path,
    h3_resolution: int,
    lsoa21,
    lsoa11,
    wards,
):
    """Parse, validate, locate and write one month: the asset's work without Dagster.

    ``path`` is the month's file, or the files of several forces for the month
    (a unit covering several forces), parsed one by one and written together.
    Returns the parsed file(s) and the located rows (the ingest benchmark runs this too).

    Raises
    ------
    vrdp.errors.SourceFileError
        For a file that cannot be read as a street-level file.
    """
    from vrdp.force_area import combine_month_parts
    from vrdp.geo import locate_points
    from vrdp.ingest.police_uk import parse_street_file
    from vrdp.lake import write_parquet_atomic

    paths = [path] if isinstance(path, (str, Path)) else list(path)
    parts = [parse_street_file(p) for p in paths]
    parsed = combine_month_parts(parts, paths, force=",".join(p.force for p in parts))
    located = locate_points(
        parsed.loaded, h3_resolution=h3_resolution, lsoa21=lsoa21, lsoa11=lsoa11, wards=wards
    )
    out_path, q_path = street_lake_paths(lake_dir, month)
    write_parquet_atomic(located, out_path)
    write_parquet_atomic(parsed.quarantine, q_path)
    return parsed, located


def _ingest(paths: list[Path], month: str, platform: PlatformConfig) -> IngestedMonth:
    s = platform.resolve()
    parsed, located = ingest_street_month(
        paths,
        month=month,
        lake_dir=s.lake_dir,
        h3_resolution=s.h3_resolution,
        lsoa21=read_boundaries(platform, "lsoa21"),
        lsoa11=read_boundaries(platform, "lsoa11"),
        wards=read_boundaries(platform, "wards"),
    )
    from vrdp.force_area import lsoa_agreement

    # the file's own LSOA (reported_lsoa_code) beside the one computed from the point
    lsoa = lsoa_agreement(located["reported_lsoa_code"], located["lsoa21_code"])
    return IngestedMonth(
        located,
        parsed.quarantine,
        parsed.rows_in,
        parsed.file_sha256,
        loaded_metadata={
            "rows_with_ward": int(located["ward_code"].notna().sum()),
            "lsoa_reported_vs_computed": dg.MetadataValue.json(lsoa),
            "lsoa_disagreements": lsoa["disagree"],
        },
    )


def _find_files(landing: Path, s) -> dict[str, list[Path]]:
    """Each month's files: one per force of the unit (``VRDP_POLICE_UK_FORCE`` may list several)."""
    from vrdp.force_area import street_files_by_month

    return street_files_by_month(landing, s.police_uk_forces)


STREET = MonthlySource(
    dataset="street_crimes",
    landing_folder="street",
    landing_name="street",
    what="street-level crime",
    partitions_def=POLICE_UK_MONTHS,
    description="data.police.uk street-level crimes: typed, with BNG, H3 cell, LSOA and ward.",
    deps=(boundary_key("lsoa21"), boundary_key("lsoa11"), boundary_key("wards")),
    find_files=_find_files,
    ingest=_ingest,
)

STREET_LANDING_KEY = STREET.landing_key
STREET_CRIMES_KEY = STREET.key
STREET_QUARANTINE_KEY = STREET.quarantine_key
street_landing_files = STREET.landing_spec()
police_uk_street_crimes = monthly_source_asset(STREET)


def street_lake_paths(lake_dir: Path, month: str) -> tuple[Path, Path]:
    """Parquet files of one month: (loaded rows, quarantined rows)."""
    return STREET.lake_paths(lake_dir, month)


def street_landing_dir(platform: PlatformConfig) -> Path:
    """Folder where data.police.uk street-level files land."""
    return STREET.landing_dir(platform)
