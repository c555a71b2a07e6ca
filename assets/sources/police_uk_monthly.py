"""One factory for data.police.uk monthly sources (street crime, stop and search).

Both releases arrive as one CSV per force and month in the landing zone
(``landing/police_uk/<folder>/YYYY-MM-<force>-<kind>.csv[.gz]``) and become a
monthly partition of typed, located Parquet plus its quarantine. Partitions
exist only for months that were delivered (a sensor or ``make run`` adds them),
so a month the force never published is reported as missing, never invented.

What differs between the two is only how a file is read, validated and located
(:attr:`MonthlySource.ingest`, a function of the file) and a few lines of
metadata; the flow around it (find the month's file, move an unreadable file
to ``rejected/``, write the lake, report rows in = loaded + quarantined) is
written once here.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from config.resources import PlatformConfig

__all__ = [
    "PROVENANCE_FILE",
    "IngestedMonth",
    "MonthlySource",
    "file_origin",
    "monthly_source_asset",
]

#: Optional JSON beside the files: file name -> where it came from.
PROVENANCE_FILE = "provenance.json"


def file_origin(path: Path) -> str:
    """Where a landed file came from, per the folder's provenance file ("delivered" if none)."""
    record = path.parent / PROVENANCE_FILE
    if not record.exists():
        return "delivered"
    return json.loads(record.read_text()).get(path.name, "delivered")


@dataclass(frozen=True)
class IngestedMonth:
    """What ingesting one month file produced (already written to the lake)."""

    loaded: Any
    quarantine: Any
    rows_in: int
    file_sha256: str
    #: metadata shared by the loaded and the quarantine asset (beyond the common keys)
    common: dict = field(default_factory=dict)
    #: metadata of the loaded asset only (counts of located, fixed or repeated rows)
    loaded_metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MonthlySource:
    """A data.police.uk monthly release as a partitioned source."""

    #: lake folder and dbt table under ``police_uk`` (``street_crimes``)
    dataset: str
    #: landing sub-folder under ``landing/police_uk`` (``street``)
    landing_folder: str
    #: the landing asset's name (``police_uk_<landing_name>_files``)
    landing_name: str
    #: what one row is, for messages ("street-level", "stop and search")
    what: str
    partitions_def: dg.DynamicPartitionsDefinition
    description: str
    deps: tuple[dg.AssetKey, ...]
    #: ``(landing folder, settings) -> {month: [paths]}`` (one file per force of the unit)
    find_files: Callable[[Path, Any], dict[str, list[Path]]]
    #: ``(paths, month, platform) -> IngestedMonth``; raises SourceFileError naming the file
    ingest: Callable[[list[Path], str, PlatformConfig], IngestedMonth]

    @property
    def key(self) -> dg.AssetKey:
        """Matches the dbt source ``police_uk.<dataset>``, so lineage is one graph."""
        return dg.AssetKey(["police_uk", self.dataset])

    @property
    def quarantine_key(self) -> dg.AssetKey:
        """The rows that failed the contract."""
        return dg.AssetKey(["quarantine", f"police_uk_{self.dataset}"])

    @property
    def landing_key(self) -> dg.AssetKey:
        """The delivered files: an external asset, so the graph starts where the data does."""
        return dg.AssetKey(["landing", f"police_uk_{self.landing_name}_files"])

    def landing_dir(self, platform: PlatformConfig) -> Path:
        """Folder where this release's files land."""
        return platform.resolve().landing_dir / "police_uk" / self.landing_folder

    def lake_paths(self, lake_dir: Path, month: str) -> tuple[Path, Path]:
        """Parquet files of one month: (loaded rows, quarantined rows)."""
        return (
            lake_dir / "police_uk" / self.dataset / month / "part-0.parquet",
            lake_dir / "quarantine" / f"police_uk_{self.dataset}" / month / "part-0.parquet",
        )

    def landing_spec(self) -> dg.AssetSpec:
        """The landing asset (files as delivered)."""
        return dg.AssetSpec(
            self.landing_key,
            description=(
                f"data.police.uk {self.what} CSVs as delivered to "
                f"landing/police_uk/{self.landing_folder}."
            ),
            group_name="landing",
            kinds={"csv"},
        )


def monthly_source_asset(source: MonthlySource) -> dg.AssetsDefinition:
    """The partitioned multi-asset of a monthly release: loaded rows and quarantine."""

    def _asset(context: dg.AssetExecutionContext, platform: PlatformConfig):
        yield from _materialize_month(source, context, platform)

    _asset.__doc__ = f"Parse, validate and locate one month of data.police.uk {source.what}."
    return dg.multi_asset(
        name=f"police_uk_{source.dataset}",
        specs=[
            dg.AssetSpec(
                source.key,
                description=source.description,
                group_name="sources",
                kinds={"python", "parquet"},
                deps=[source.landing_key, *source.deps],
                partitions_def=source.partitions_def,
            ),
            dg.AssetSpec(
                source.quarantine_key,
                description=(
                    f"data.police.uk {source.what} rows that failed the contract: "
                    "file, row, raw text and reason."
                ),
                group_name="quarantine",
                deps=[source.landing_key],
                kinds={"python", "parquet"},
                partitions_def=source.partitions_def,
            ),
        ],
        partitions_def=source.partitions_def,
        code_version="1",
    )(_asset)


def _materialize_month(
    source: MonthlySource, context: dg.AssetExecutionContext, platform: PlatformConfig
):
    """The body of every monthly source asset: one delivered month in, two results out."""
    from vrdp.errors import SourceFileError
    from vrdp.governance.register import UnregisteredSourceError, refuse_unregistered
    from vrdp.ingest.landing import reject_file
    from vrdp.ingest.police_uk import missing_months

    try:  # no lawful basis registered, nothing loaded
        refuse_unregistered(f"police_uk.{source.dataset}")
    except UnregisteredSourceError as exc:
        raise dg.Failure(str(exc)) from exc
    s = platform.resolve()
    month = context.partition_key
    landing = source.landing_dir(platform)
    files = source.find_files(landing, s)
    if month not in files:
        raise dg.Failure(
            f"No {s.police_uk_force} {source.what} file for {month} in {landing}; "
            f"delivered months: {sorted(files) or 'none'}"
        )
    paths = files[month]
    try:
        result = source.ingest(paths, month, platform)
    except SourceFileError as exc:
        moved = reject_file(exc.path, s.landing_dir, s.rejected_dir, str(exc))
        raise dg.Failure(
            f"{exc} (moved to {moved})",
            metadata={"file": str(exc.path), "rejected_to": str(moved)},
        ) from exc
    out_path, q_path = source.lake_paths(s.lake_dir, month)
    delivered = sorted(files)
    gaps = missing_months(set(delivered))
    if gaps:
        context.log.info(f"{s.police_uk_force}: no file delivered for {gaps}; not invented")
    reasons = result.quarantine["reason"].value_counts().sort_index().to_dict()
    common = {
        "source_file": dg.MetadataValue.path(", ".join(str(p) for p in paths)),
        "source_sha256": result.file_sha256,
        "data_origin": ", ".join(sorted({file_origin(p) for p in paths})),
        "force": s.police_uk_force,
        **result.common,
        "rows_in": result.rows_in,
        "rows_loaded": len(result.loaded),
        "rows_quarantined": len(result.quarantine),
        # exact in-file repeats folded into a loaded row (its copies_in_file)
        "rows_collapsed": (
            int((result.loaded["copies_in_file"] - 1).clip(lower=0).sum())
            if "copies_in_file" in result.loaded
            else 0
        ),
    }
    yield dg.MaterializeResult(
        asset_key=source.key,
        metadata={
            **common,
            "dagster/row_count": len(result.loaded),
            **result.loaded_metadata,
            "rows_outside_force_area": int(result.loaded["in_force_area"].eq(False).sum()),
            "h3_resolution": s.h3_resolution,
            "months_delivered": ", ".join(delivered),
            "months_missing": ", ".join(gaps) or "none",
            "path": dg.MetadataValue.path(str(out_path)),
        },
        data_version=dg.DataVersion(result.file_sha256[:16]),
    )
    yield dg.MaterializeResult(
        asset_key=source.quarantine_key,
        metadata={
            **common,
            "dagster/row_count": len(result.quarantine),
            "reasons": dg.MetadataValue.json({k: int(v) for k, v in reasons.items()}),
            "path": dg.MetadataValue.path(str(q_path)),
        },
    )
