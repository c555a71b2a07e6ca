"""data.police.uk street-level crime: monthly partitions of typed, located Parquet.

Each partition is one delivered month file from the landing zone
(``landing/police_uk/street/YYYY-MM-<force>-street.csv[.gz]``). Partitions
exist only for months that were delivered (a sensor or ``make run`` adds them),
so a month the force never published is reported as missing, never invented.
"""

from pathlib import Path

import dagster as dg

from assets.geography.boundaries import boundary_key, read_boundaries
from config.resources import PlatformConfig

__all__ = [
    "POLICE_UK_MONTHS",
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

#: The delivered files themselves: an external asset (Dagster does not make it),
#: so the graph starts where the data does.
STREET_LANDING_KEY = dg.AssetKey(["landing", "police_uk_street_files"])

street_landing_files = dg.AssetSpec(
    STREET_LANDING_KEY,
    description="data.police.uk street-level CSVs as delivered to landing/police_uk/street.",
    group_name="landing",
    kinds={"csv"},
)

#: Matches the dbt source ``police_uk.street_crimes``, so lineage is one graph.
STREET_CRIMES_KEY = dg.AssetKey(["police_uk", "street_crimes"])
STREET_QUARANTINE_KEY = dg.AssetKey(["quarantine", "police_uk_street_crimes"])


def street_lake_paths(lake_dir: Path, month: str) -> tuple[Path, Path]:
    """Parquet files of one month: (loaded rows, quarantined rows)."""
    return (
        lake_dir / "police_uk" / "street_crimes" / month / "part-0.parquet",
        lake_dir / "quarantine" / "police_uk_street_crimes" / month / "part-0.parquet",
    )


def street_landing_dir(platform: PlatformConfig):
    """Folder where data.police.uk street-level files land."""
    return platform.resolve().landing_dir / "police_uk" / "street"


def ingest_street_month(
    path: Path, *, month: str, lake_dir: Path, h3_resolution: int, lsoa21, lsoa11, wards
):
    """Parse, validate, locate and write one month file: the asset's work without Dagster.

    Returns the parsed file and the located rows (the ingest benchmark runs this too).

    Raises
    ------
    vrdp.errors.SourceFileError
        For a file that cannot be read as a street-level file.
    """
    from vrdp.geo import locate_points
    from vrdp.ingest.police_uk import parse_street_file
    from vrdp.lake import write_parquet_atomic

    parsed = parse_street_file(path)
    located = locate_points(
        parsed.loaded, h3_resolution=h3_resolution, lsoa21=lsoa21, lsoa11=lsoa11, wards=wards
    )
    out_path, q_path = street_lake_paths(lake_dir, month)
    write_parquet_atomic(located, out_path)
    write_parquet_atomic(parsed.quarantine, q_path)
    return parsed, located


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            STREET_CRIMES_KEY,
            description=(
                "data.police.uk street-level crimes: typed, with BNG, H3 cell, LSOA and ward."
            ),
            group_name="sources",
            kinds={"python", "parquet"},
            deps=[
                STREET_LANDING_KEY,
                boundary_key("lsoa21"),
                boundary_key("lsoa11"),
                boundary_key("wards"),
            ],
            partitions_def=POLICE_UK_MONTHS,
        ),
        dg.AssetSpec(
            STREET_QUARANTINE_KEY,
            description=(
                "Street-level rows that failed the contract: file, row, raw text and reason."
            ),
            group_name="quarantine",
            deps=[STREET_LANDING_KEY],
            kinds={"python", "parquet"},
            partitions_def=POLICE_UK_MONTHS,
        ),
    ],
    partitions_def=POLICE_UK_MONTHS,
    code_version="1",
)
def police_uk_street_crimes(context: dg.AssetExecutionContext, platform: PlatformConfig):
    """Parse, validate and locate one month of data.police.uk street-level crime."""
    from vrdp.errors import SourceFileError
    from vrdp.governance.register import UnregisteredSourceError, refuse_unregistered
    from vrdp.ingest.landing import reject_file
    from vrdp.ingest.police_uk import find_street_files, missing_months

    try:  # no lawful basis registered, nothing loaded
        refuse_unregistered("police_uk.street_crimes")
    except UnregisteredSourceError as exc:
        raise dg.Failure(str(exc)) from exc
    s = platform.resolve()
    month = context.partition_key
    landing = street_landing_dir(platform)
    files = find_street_files(landing, s.police_uk_force)
    if month not in files:
        raise dg.Failure(
            f"No {s.police_uk_force} street-level file for {month} in {landing}; "
            f"delivered months: {sorted(files) or 'none'}"
        )
    try:
        parsed, located = ingest_street_month(
            files[month],
            month=month,
            lake_dir=s.lake_dir,
            h3_resolution=s.h3_resolution,
            lsoa21=read_boundaries(platform, "lsoa21"),
            lsoa11=read_boundaries(platform, "lsoa11"),
            wards=read_boundaries(platform, "wards"),
        )
    except SourceFileError as exc:
        moved = reject_file(files[month], s.landing_dir, s.rejected_dir, str(exc))
        raise dg.Failure(
            f"{exc} (moved to {moved})",
            metadata={"file": str(files[month]), "rejected_to": str(moved)},
        ) from exc
    out_path, q_path = street_lake_paths(s.lake_dir, month)

    reasons = parsed.quarantine["reason"].value_counts().sort_index().to_dict()
    delivered = sorted(files)
    gaps = missing_months(set(delivered))
    if gaps:
        context.log.info(f"{s.police_uk_force}: no file delivered for {gaps}; not invented")
    common = {
        "source_file": dg.MetadataValue.path(str(files[month])),
        "source_sha256": parsed.file_sha256,
        "force": s.police_uk_force,
        "rows_in": parsed.rows_in,
        "rows_loaded": len(located),
        "rows_quarantined": len(parsed.quarantine),
    }
    yield dg.MaterializeResult(
        asset_key=STREET_CRIMES_KEY,
        metadata={
            **common,
            "dagster/row_count": len(located),
            "rows_outside_force_area": int((~located["in_force_area"]).sum()),
            "h3_resolution": s.h3_resolution,
            "months_delivered": ", ".join(delivered),
            "months_missing": ", ".join(gaps) or "none",
            "path": dg.MetadataValue.path(str(out_path)),
        },
        data_version=dg.DataVersion(parsed.file_sha256[:16]),
    )
    yield dg.MaterializeResult(
        asset_key=STREET_QUARANTINE_KEY,
        metadata={
            **common,
            "dagster/row_count": len(parsed.quarantine),
            "reasons": dg.MetadataValue.json(reasons),
            "path": dg.MetadataValue.path(str(q_path)),
        },
    )
