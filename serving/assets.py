"""Export assets: what apps, BI tools and the read API consume."""

import dagster as dg

from assets.hotspots.top_cells import TOP_HARM_CELLS_KEY
from orchestration.resources import PlatformConfig

__all__ = ["hotspot_tasking_export"]


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

    from serving.exports import publish_export
    from serving.hotspot_export import hotspot_export_files

    s = platform.resolve()
    ranked = pd.read_parquet(s.lake_dir / "hotspots" / "top_harm_cells.parquet")
    as_of = pd.Timestamp(ranked["window_end"].max()).strftime("%Y-%m") if len(ranked) else "empty"
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
    )
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
