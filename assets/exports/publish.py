"""Export assets: what apps, BI tools and the read API consume."""

import dagster as dg

from assets.hotspots.top_cells import TOP_HARM_CELLS_KEY
from config.resources import PlatformConfig

__all__ = ["hotspot_tasking_export", "persons_analyst_export", "persons_safeguarding_export"]


@dg.asset(
    key=dg.AssetKey(["exports", "hotspot_tasking_export"]),
    deps=[TOP_HARM_CELLS_KEY],
    group_name="serving",
    kinds={"python", "parquet", "csv", "geojson"},
    code_version="1",
)
def hotspot_tasking_export(
    context: dg.AssetExecutionContext, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Versioned export of the top hot spot cells (Parquet, CSV, GeoJSON, manifest)."""
    import pandas as pd

    from exports.format import ExportRejected, publish_export
    from exports.hotspots import hotspot_export_files, hotspot_export_findings

    s = platform.resolve()
    ranked = pd.read_parquet(s.lake_dir / "hotspots" / "top_harm_cells.parquet")
    as_of = pd.Timestamp(ranked["window_end"].max()).strftime("%Y-%m") if len(ranked) else "empty"
    try:
        # officer-facing: the personal-data scan runs on the staged files and blocks
        published = publish_export(
            s.exports_dir,
            hotspot_export_files(ranked),
            as_of=as_of,
            parameters={
                "window_start": str(ranked["window_start"].min()) if len(ranked) else None,
                "window_end": str(ranked["window_end"].max()) if len(ranked) else None,
                "top_n": len(ranked),
                "h3_resolution": s.h3_resolution,
                "exclude_police_generated": bool(ranked["exclude_police_generated"].all()),
                "police_uk_force": s.police_uk_force,
            },
            check=hotspot_export_findings,
            lawful_bases=_bases(s, "hotspot_tasking"),
        )
    except ExportRejected as exc:
        raise dg.Failure(str(exc), metadata={"findings": exc.findings[:20]}) from exc
    context.log.info(
        f"export {published.version} {'written' if published.created else 'unchanged'}"
        f" at {published.path}"
    )
    return dg.MaterializeResult(
        metadata={
            "version": published.version,
            "created_new_version": published.created,
            "path": dg.MetadataValue.path(str(published.path)),
            "latest": dg.MetadataValue.path(str(s.exports_dir / "latest")),
            "files": dg.MetadataValue.json(published.manifest["files"]),
            "dagster/row_count": len(ranked),
        }
    )


def _bases(s, output: str) -> dict:
    """The lawful bases an output's manifest carries (from the versioned register)."""
    from vrdp.governance.register import bases_for, load_register

    return bases_for(load_register(s.governance_dir), output)


def _person_asset_kwargs(name: str, dep: dg.AssetKey, description: str) -> dict:
    from assets.automation import DOWNSTREAM_AUTOMATION
    from config.resources import WAREHOUSE_POOL

    return {
        "key": dg.AssetKey(["exports", name]),
        "deps": [dep],
        "group_name": "serving",
        "kinds": {"python", "duckdb", "parquet"},
        "pool": WAREHOUSE_POOL,
        "code_version": "1",
        "automation_condition": DOWNSTREAM_AUTOMATION,
        "description": description,
    }


def _published_metadata(published, latest) -> dict:
    return {
        "version": published.version,
        "created_new_version": published.created,
        "path": dg.MetadataValue.path(str(published.path)),
        "latest": dg.MetadataValue.path(str(latest)),
        "files": dg.MetadataValue.json(published.manifest["files"]),
        "dagster/row_count": sum(f["rows"] for f in published.manifest["files"]),
    }


@dg.asset(
    **_person_asset_kwargs(
        "persons_analyst_export",
        dg.AssetKey(["marts", "dim_persons"]),
        "Pseudonymised person view for analysts (dim_persons and, when built, the person "
        "bridges), versioned; publication blocked if it holds direct identifiers.",
    )
)
def persons_analyst_export(
    context: dg.AssetExecutionContext, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Publish ``exports/persons_analyst/<version>`` (read by the API's analyst view)."""
    from exports.format import ExportRejected
    from exports.persons import ANALYST_SUBDIR, publish_analyst_view, read_analyst_view

    s = platform.resolve()
    with platform.warehouse(read_only=True) as con:
        tables = read_analyst_view(con)
    try:
        published = publish_analyst_view(
            s.exports_dir, tables, lawful_bases=_bases(s, "persons_analyst")
        )
    except ExportRejected as exc:
        raise dg.Failure(str(exc), metadata={"findings": exc.findings[:20]}) from exc
    context.log.info(f"analyst person export {published.version} ({sorted(tables)})")
    out = s.exports_dir / ANALYST_SUBDIR
    return dg.MaterializeResult(metadata=_published_metadata(published, out / "latest"))


@dg.asset(
    **_person_asset_kwargs(
        "persons_safeguarding_export",
        dg.AssetKey(["identity", "person_identifiers"]),
        "Identified person view for safeguarding (the restricted identity schema), "
        "versioned under exports/restricted/ (owner-only permissions).",
    )
)
def persons_safeguarding_export(
    context: dg.AssetExecutionContext, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Publish ``exports/restricted/persons_safeguarding/<version>`` (mode 0700)."""
    from exports.persons import (
        SAFEGUARDING_SUBDIR,
        publish_safeguarding_view,
        read_safeguarding_view,
    )
    from vrdp.governance.permissions import attach_restricted

    s = platform.resolve()
    with platform.warehouse(read_only=True) as con:
        attach_restricted(con, s.identity_db_path, read_only=True)
        identities = read_safeguarding_view(con)
    published = publish_safeguarding_view(
        s.exports_dir, identities, lawful_bases=_bases(s, "persons_safeguarding")
    )
    out = s.exports_dir / SAFEGUARDING_SUBDIR
    context.log.info(f"safeguarding person export {published.version} (restricted)")
    return dg.MaterializeResult(metadata=_published_metadata(published, out / "latest"))
