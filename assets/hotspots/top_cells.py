"""Top hot spot cells by crime harm over the latest months (the tasking list's source)."""

import dagster as dg

from assets.geography.boundaries import boundary_key, read_boundaries
from config.resources import WAREHOUSE_POOL, PlatformConfig

__all__ = ["TOP_HARM_CELLS_KEY", "top_harm_cells", "HotspotConfig"]

TOP_HARM_CELLS_KEY = dg.AssetKey(["hotspots", "top_harm_cells"])


class HotspotConfig(dg.Config):
    """Run-time choices; the defaults come from ``config/settings.py``."""

    window_months: int | None = None
    top_n: int | None = None
    exclude_police_generated: bool = True


@dg.asset(
    key=TOP_HARM_CELLS_KEY,
    deps=[
        dg.AssetKey(["marts", "fct_cell_monthly_harm"]),
        boundary_key("wards"),
        boundary_key("lsoa21"),
    ],
    group_name="hotspots",
    kinds={"python", "duckdb", "parquet"},
    pool=WAREHOUSE_POOL,
    code_version="1",
)
def top_harm_cells(
    context: dg.AssetExecutionContext, platform: PlatformConfig, config: HotspotConfig
) -> dg.MaterializeResult:
    """The cells with the most crime harm over the latest months, with ward and main crimes."""
    from vrdp.geo import cell_area_codes
    from vrdp.hotspots.ranking import rank_cells_by_harm
    from vrdp.lake import write_parquet_atomic

    s = platform.resolve()
    window_months = config.window_months or s.hotspot_window_months
    top_n = config.top_n or s.hotspot_top_n
    with platform.warehouse(read_only=True) as con:
        cell_months = con.execute(
            "select * from marts.fct_cell_monthly_harm order by cell_month_crime_key"
        ).df()
    ranked, window = rank_cells_by_harm(
        cell_months,
        window_months=window_months,
        top_n=top_n,
        exclude_police_generated=config.exclude_police_generated,
    )
    wards = read_boundaries(platform, "wards")
    lsoas = read_boundaries(platform, "lsoa21")
    # the area holding the cell's centre, else the force area covering most of the cell
    ranked["ward_code"] = cell_area_codes(ranked["h3_cell"], wards, "WD25CD")
    ranked["ward_name"] = ranked["ward_code"].map(wards.set_index("WD25CD")["WD25NM"])
    ranked["lsoa21_code"] = cell_area_codes(ranked["h3_cell"], lsoas, "LSOA21CD")
    ranked["h3_resolution"] = s.h3_resolution
    ranked["window_start"] = window.start
    ranked["window_end"] = window.end
    ranked["exclude_police_generated"] = config.exclude_police_generated
    for col in ("ward_code", "ward_name", "lsoa21_code"):
        ranked[col] = ranked[col].astype("string")
    if window.missing:
        context.log.warning(f"hot spot window {window.describe()}: months without data")

    out = s.lake_dir / "hotspots" / "top_harm_cells.parquet"
    write_parquet_atomic(ranked, out)
    preview = ranked.head(10)[
        ["rank", "h3_cell", "harm_days", "events", "ward_name", "main_crime_types"]
    ]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(ranked),
            "window": window.describe(),
            "months_missing_in_window": len(window.missing),
            "window_months": window_months,
            "top_n": top_n,
            "exclude_police_generated": config.exclude_police_generated,
            "harm_days_in_top_cells": float(ranked["harm_days"].sum()),
            "share_of_window_harm_in_top_cells": (
                float(ranked["cumulative_share_of_harm"].iloc[-1]) if len(ranked) else 0.0
            ),
            "area_km2_of_top_cells": float(ranked["area_km2"].sum()),
            "preview": dg.MetadataValue.md(preview.to_markdown(index=False)),
            "path": dg.MetadataValue.path(str(out)),
        }
    )
