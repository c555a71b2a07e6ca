"""data.police.uk stop and search: monthly partitions of typed, located Parquet.

Each partition is one delivered month file
(``landing/police_uk/stop_and_search/YYYY-MM-<force>-stop-and-search.csv[.gz]``),
added by the file-arrival sensor or ``make run``. The demo lands the simulated
world's files (the shipped real data is a 40-row sample); a provenance file
beside them says so, and the asset repeats it in its metadata.
"""

import json
from pathlib import Path

import dagster as dg

from assets.geography.boundaries import BOUNDARIES, boundary_key
from config.resources import PlatformConfig

__all__ = [
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

STOP_SEARCH_LANDING_KEY = dg.AssetKey(["landing", "police_uk_stop_search_files"])
#: Matches the dbt source ``police_uk.stop_searches``.
STOP_SEARCHES_KEY = dg.AssetKey(["police_uk", "stop_searches"])
STOP_SEARCH_QUARANTINE_KEY = dg.AssetKey(["quarantine", "police_uk_stop_searches"])

#: Optional JSON beside the files: file name -> where it came from.
PROVENANCE_FILE = "provenance.json"

stop_search_landing_files = dg.AssetSpec(
    STOP_SEARCH_LANDING_KEY,
    description=(
        "data.police.uk stop and search CSVs as delivered to landing/police_uk/stop_and_search."
    ),
    group_name="landing",
    kinds={"csv"},
)


def stop_search_lake_paths(lake_dir: Path, month: str) -> tuple[Path, Path]:
    """Parquet files of one month: (loaded rows, quarantined rows)."""
    return (
        lake_dir / "police_uk" / "stop_searches" / month / "part-0.parquet",
        lake_dir / "quarantine" / "police_uk_stop_searches" / month / "part-0.parquet",
    )


def stop_search_landing_dir(platform: PlatformConfig) -> Path:
    """Folder where data.police.uk stop and search files land."""
    return platform.resolve().landing_dir / "police_uk" / "stop_and_search"


def file_origin(path: Path) -> str:
    """Where a landed file came from, per the folder's provenance file ("delivered" if none)."""
    record = path.parent / PROVENANCE_FILE
    if not record.exists():
        return "delivered"
    return json.loads(record.read_text()).get(path.name, "delivered")


def ingest_stop_search_month(
    path: Path,
    *,
    month: str,
    lake_dir: Path,
    validated_on,
    force: str,
    layers,
    h3_resolution: int,
):
    """Validate, locate and write one month file: the asset's work without Dagster.

    The ingest benchmark runs this too.

    Raises
    ------
    vrdp.errors.SourceFileError
        For a file that cannot be read as a stop and search file.
    """
    from vrdp.coords import THAMES_VALLEY_BOX
    from vrdp.ingest.stop_search import load_stop_search_month
    from vrdp.lake import write_parquet_atomic

    parsed = load_stop_search_month(
        path,
        validated_on=validated_on,
        month=month,
        force=force,
        layers=layers,
        h3_resolution=h3_resolution,
        area=THAMES_VALLEY_BOX,
    )
    out_path, q_path = stop_search_lake_paths(lake_dir, month)
    write_parquet_atomic(parsed.loaded, out_path)
    write_parquet_atomic(parsed.quarantine, q_path)
    return parsed


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            STOP_SEARCHES_KEY,
            description=(
                "data.police.uk stop and search: typed, one row per search with a stable "
                "id, local time, BNG, H3 cell, LSOA and ward (null when unlocated)."
            ),
            group_name="sources",
            kinds={"python", "parquet"},
            deps=[STOP_SEARCH_LANDING_KEY, *(boundary_key(b.name) for b in BOUNDARIES)],
            partitions_def=STOP_SEARCH_MONTHS,
        ),
        dg.AssetSpec(
            STOP_SEARCH_QUARANTINE_KEY,
            description="Stop and search rows that failed the contract: file, row, text, reason.",
            group_name="quarantine",
            deps=[STOP_SEARCH_LANDING_KEY],
            kinds={"python", "parquet"},
            partitions_def=STOP_SEARCH_MONTHS,
        ),
    ],
    partitions_def=STOP_SEARCH_MONTHS,
    code_version="1",
)
def police_uk_stop_searches(context: dg.AssetExecutionContext, platform: PlatformConfig):
    """Parse, validate and locate one month of data.police.uk stop and search."""
    from datetime import date

    from assets.sources.agencies import boundary_layers
    from vrdp.errors import SourceFileError
    from vrdp.governance.register import UnregisteredSourceError, refuse_unregistered
    from vrdp.ingest.landing import reject_file
    from vrdp.ingest.stop_search import find_stop_search_files

    try:  # no lawful basis registered, nothing loaded
        refuse_unregistered("police_uk.stop_searches")
    except UnregisteredSourceError as exc:
        raise dg.Failure(str(exc)) from exc
    s = platform.resolve()
    month = context.partition_key
    landing = stop_search_landing_dir(platform)
    files = find_stop_search_files(landing, s.police_uk_force)
    if month not in files:
        raise dg.Failure(
            f"No {s.police_uk_force} stop and search file for {month} in {landing}; "
            f"delivered months: {sorted(files) or 'none'}"
        )
    validated_on = date.today()
    try:
        parsed = ingest_stop_search_month(
            files[month],
            month=month,
            lake_dir=s.lake_dir,
            validated_on=validated_on,
            force=s.police_uk_force,
            layers=boundary_layers(platform),
            h3_resolution=s.h3_resolution,
        )
    except SourceFileError as exc:
        moved = reject_file(files[month], s.landing_dir, s.rejected_dir, str(exc))
        raise dg.Failure(
            f"{exc} (moved to {moved})",
            metadata={"file": str(files[month]), "rejected_to": str(moved)},
        ) from exc
    out_path, q_path = stop_search_lake_paths(s.lake_dir, month)

    loaded, quarantine = parsed.loaded, parsed.quarantine
    faults = loaded["coordinate_fault"].fillna("ok")
    reasons = quarantine["reason"].value_counts().sort_index().to_dict()
    common = {
        "source_file": dg.MetadataValue.path(str(files[month])),
        "source_sha256": parsed.file_sha256,
        "data_origin": file_origin(files[month]),
        "force": s.police_uk_force,
        "validated_on": validated_on.isoformat(),
        "rows_in": parsed.rows_in,
        "rows_loaded": len(loaded),
        "rows_quarantined": len(quarantine),
    }
    yield dg.MaterializeResult(
        asset_key=STOP_SEARCHES_KEY,
        metadata={
            **common,
            "dagster/row_count": len(loaded),
            "rows_unlocated": int(faults.eq("missing").sum()),
            "coordinates_swapped_fixed": int(faults.eq("swapped_fixed").sum()),
            "rows_outside_force_area": int(loaded["in_force_area"].eq(False).sum()),
            "repeat_rows_kept": int(loaded["repeat_in_file"].sum()),
            "h3_resolution": s.h3_resolution,
            "path": dg.MetadataValue.path(str(out_path)),
        },
        data_version=dg.DataVersion(parsed.file_sha256[:16]),
    )
    yield dg.MaterializeResult(
        asset_key=STOP_SEARCH_QUARANTINE_KEY,
        metadata={
            **common,
            "dagster/row_count": len(quarantine),
            "reasons": dg.MetadataValue.json({k: int(v) for k, v in reasons.items()}),
            "path": dg.MetadataValue.path(str(q_path)),
        },
    )
