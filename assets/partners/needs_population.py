"""The needs pack's denominators for any force: its delivered ONS population estimates.

A force drops the ONS "Lower layer Super Output Area population estimates" CSV
(one row per LSOA 2021, single years of age; plain or gzipped) into
``landing/ons/lsoa_population/``. One multi-asset validates it against
:func:`quality.contracts.population.population_contract` (bad rows to
quarantine with a reason), and builds ``needs/lsoa_population``: residents, age
bands, IMD 2019 deciles and ward of each of the force's LSOAs
(:func:`vrdp.needs.population.lsoa_population_from_estimates`). The dbt model
``needs_lsoa_population`` reads it, and reads the shipped demo seed
``needs_lsoa21_population`` instead when no estimates were delivered.
"""

from datetime import date
from pathlib import Path

import dagster as dg

from config.resources import PlatformConfig

__all__ = [
    "POPULATION_LANDING_KEY",
    "POPULATION_KEY",
    "POPULATION_QUARANTINE_KEY",
    "NEEDS_POPULATION_KEY",
    "population_landing",
    "population_files",
    "population_lake_paths",
    "needs_population",
]

POPULATION_LANDING_KEY = dg.AssetKey(["landing", "ons_lsoa_population_files"])
POPULATION_KEY = dg.AssetKey(["ons", "lsoa_population"])
POPULATION_QUARANTINE_KEY = dg.AssetKey(["quarantine", "ons_lsoa_population"])
#: The dbt source ``needs.lsoa_population`` (same key: one lineage graph).
NEEDS_POPULATION_KEY = dg.AssetKey(["needs", "lsoa_population"])


population_landing = dg.AssetSpec(
    POPULATION_LANDING_KEY,
    description="ONS mid-year population estimates by LSOA 2021 (single years of age), "
    "as a force delivered them to landing/ons/lsoa_population.",
    group_name="landing",
    kinds={"csv"},
)


def population_files(landing_dir: Path) -> list[Path]:
    """The delivered estimate files (``*.csv``, ``*.csv.gz``, in any subfolder), by name."""
    folder = landing_dir / "ons" / "lsoa_population"
    if not folder.is_dir():
        return []
    found = [p for p in folder.rglob("*") if p.is_file() and p.name.endswith((".csv", ".csv.gz"))]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def population_lake_paths(lake_dir: Path, delivery: str) -> tuple[Path, Path, Path]:
    """(loaded estimates, quarantined rows, denominators) Parquet files."""
    return (
        lake_dir / "ons" / "lsoa_population" / delivery / "part-0.parquet",
        lake_dir / "quarantine" / "ons_lsoa_population" / delivery / "part-0.parquet",
        lake_dir / "needs" / "lsoa_population" / "current" / "part-0.parquet",
    )


def _delivery(path: Path) -> str:
    """A delivery's name: its file name without ``.csv`` / ``.csv.gz``."""
    return path.name.removesuffix(".gz").removesuffix(".csv")


@dg.multi_asset(
    name="needs_population",
    specs=[
        dg.AssetSpec(
            POPULATION_KEY,
            description="ONS population estimates by LSOA 2021 that met their contract: "
            "persons by single year of age 0..90 (females plus males for a file by sex).",
            group_name="reference",
            kinds={"python", "parquet"},
            deps=[POPULATION_LANDING_KEY],
            skippable=True,
        ),
        dg.AssetSpec(
            POPULATION_QUARANTINE_KEY,
            description="Rows of the ONS population estimates that broke their contract: "
            "file, row, raw text, reason.",
            group_name="reference",
            kinds={"python", "parquet"},
            deps=[POPULATION_LANDING_KEY],
            skippable=True,
        ),
        dg.AssetSpec(
            NEEDS_POPULATION_KEY,
            description="The needs pack's denominators from the force's delivered population "
            "estimates: residents and age bands 0-9, 10-17, 18-24, 25+, IMD 2019 deciles "
            "(national and within the force; null in Wales) and ward of each force LSOA. "
            "Empty when nothing was delivered: the dbt model then reads the demo seed.",
            group_name="reference",
            kinds={"python", "parquet"},
            deps=[
                POPULATION_LANDING_KEY,
                dg.AssetKey(["geography", "lsoa21_boundaries"]),
                dg.AssetKey(["geography", "lsoa11_boundaries"]),
                dg.AssetKey(["geography", "wards_boundaries"]),
            ],
        ),
    ],
    can_subset=True,
    code_version="1",
)
def needs_population(context: dg.AssetExecutionContext, platform: PlatformConfig):
    """Validate the newest delivered ONS population file and build the force's denominators."""
    import pandas as pd

    from assets.geography.boundaries import read_boundaries
    from quality.contracts.population import POPULATION_SOURCE, population_contract
    from vrdp.errors import SourceFileError
    from vrdp.governance.register import UnregisteredSourceError, refuse_unregistered
    from vrdp.ingest.landing import reject_file
    from vrdp.lake import sha256_file, write_parquet_atomic
    from vrdp.needs.population import (
        empty_lsoa_population,
        load_population_file,
        lsoa_population_from_estimates,
    )

    s = platform.resolve()
    files = population_files(s.landing_dir)
    _, _, denominators_path = population_lake_paths(s.lake_dir, "current")
    selected = context.selected_asset_keys
    if not files:
        write_parquet_atomic(
            empty_lsoa_population(),
            denominators_path,
            metadata={"vrdp.population": "none delivered: the demo seed stands"},
        )
        context.log.info("no ONS population estimates in landing/ons/lsoa_population")
        if NEEDS_POPULATION_KEY in selected:
            yield dg.MaterializeResult(
                asset_key=NEEDS_POPULATION_KEY,
                metadata={
                    "population": "none delivered: the needs marts read the shipped demo "
                    "seed needs_lsoa21_population",
                    "dagster/row_count": 0,
                    "path": dg.MetadataValue.path(str(denominators_path)),
                },
            )
        return
    try:  # no lawful basis registered, nothing loaded
        refuse_unregistered(POPULATION_SOURCE)
    except UnregisteredSourceError as exc:
        raise dg.Failure(str(exc)) from exc
    path = files[-1]
    delivery = _delivery(path)
    loaded_path, quarantine_path, _ = population_lake_paths(s.lake_dir, delivery)
    try:
        result = load_population_file(path, delivered_on=date.today())
    except SourceFileError as exc:
        moved = reject_file(exc.path, s.landing_dir, s.rejected_dir, str(exc))
        raise dg.Failure(
            f"{exc} (moved to {moved})", metadata={"file": str(path), "rejected_to": str(moved)}
        ) from exc
    file_meta = {"vrdp.source": POPULATION_SOURCE, "vrdp.file": path.name}
    write_parquet_atomic(result.loaded, loaded_path, metadata=file_meta)
    write_parquet_atomic(result.quarantine, quarantine_path, metadata=file_meta)
    reasons = result.quarantine["reason"].value_counts().sort_index().to_dict()
    common = {
        "file": path.name,
        "sha256": sha256_file(path),
        "files_in_landing": len(files),
        "rows_in": result.rows_in,
        "rows_loaded": len(result.loaded),
        "rows_quarantined": len(result.quarantine),
        "rows_collapsed": result.collapsed,
    }
    contract = population_contract()
    share = len(result.quarantine) / result.rows_in if result.rows_in else 0.0
    if result.rows_in >= contract.min_rows_for_share and share > contract.max_quarantine_share:
        raise dg.Failure(
            f"{path.name}: {share:.1%} of rows quarantined (more than "
            f"{contract.max_quarantine_share:.0%}): denominators not rebuilt",
            metadata={**common, "reasons": {k: int(v) for k, v in reasons.items()}},
        )
    if POPULATION_KEY in selected:
        yield dg.MaterializeResult(
            asset_key=POPULATION_KEY,
            metadata={
                **common,
                "dagster/row_count": len(result.loaded),
                "path": dg.MetadataValue.path(str(loaded_path)),
            },
        )
    if POPULATION_QUARANTINE_KEY in selected:
        yield dg.MaterializeResult(
            asset_key=POPULATION_QUARANTINE_KEY,
            metadata={
                **common,
                "dagster/row_count": len(result.quarantine),
                "reasons": dg.MetadataValue.json({k: int(v) for k, v in reasons.items()}),
                "path": dg.MetadataValue.path(str(quarantine_path)),
            },
        )
    imd = pd.read_csv(
        s.public_data / "reference" / "imd2019_lsoa11_england.csv.gz",
        usecols=["lsoa_code", "IMD_rank"],
    )
    table, report = lsoa_population_from_estimates(
        result.loaded,
        read_boundaries(platform, "lsoa21"),
        read_boundaries(platform, "wards"),
        read_boundaries(platform, "lsoa11"),
        imd,
    )
    write_parquet_atomic(
        table, denominators_path, metadata={**file_meta, "vrdp.population": "delivered"}
    )
    if report["lsoas_without_estimate"]:
        context.log.warning(
            f"{len(report['lsoas_without_estimate'])} force LSOAs have no estimate in "
            f"{path.name}: no rates for them"
        )
    if NEEDS_POPULATION_KEY in selected:
        yield dg.MaterializeResult(
            asset_key=NEEDS_POPULATION_KEY,
            metadata={
                "population": f"delivered: {path.name}",
                "force_lsoas": report["force_lsoas"],
                "lsoas_with_estimate": report["lsoas_with_estimate"],
                "lsoas_without_estimate": dg.MetadataValue.json(
                    report["lsoas_without_estimate"][:50]
                ),
                "estimate_rows_outside_force": report["estimate_rows_outside_force"],
                "imd_crosswalk": dg.MetadataValue.json(report["imd_crosswalk"]),
                "lsoas_without_imd": len(report["lsoas_without_imd"]),
                "lsoas_without_ward": len(report["lsoas_without_ward"]),
                "residents": float(table["residents"].sum()),
                "dagster/row_count": len(table),
                "path": dg.MetadataValue.path(str(denominators_path)),
            },
        )
