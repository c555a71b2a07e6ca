"""Hot spot analysis: harm windows, Gi*, KDE, classification, forecast, backtest and the list.

Thin wrappers: the logic lives in :mod:`vrdp.hotspots.pipeline` and the
algorithms under it. Each asset writes one table to
``data/lake/hotspots/<name>.parquet``; downstream assets read those files.
Only ``hotspots/study_events`` + ``hotspots/cell_harm_windows`` (one step)
open the warehouse, so only they run in the warehouse pool.
"""

import dagster as dg

from assets.geography.boundaries import boundary_key, read_boundaries
from orchestration.resources import WAREHOUSE_POOL, PlatformConfig

__all__ = [
    "STUDY_EVENTS_KEY",
    "CELL_HARM_WINDOWS_KEY",
    "GI_STAR_KEY",
    "KDE_KEY",
    "CLASSIFICATION_KEY",
    "FORECAST_KEY",
    "BACKTEST_KEY",
    "HOTSPOT_LIST_KEY",
    "hotspot_analysis_assets",
]

STUDY_EVENTS_KEY = dg.AssetKey(["hotspots", "study_events"])
CELL_HARM_WINDOWS_KEY = dg.AssetKey(["hotspots", "cell_harm_windows"])
GI_STAR_KEY = dg.AssetKey(["hotspots", "gi_star"])
KDE_KEY = dg.AssetKey(["hotspots", "kde"])
CLASSIFICATION_KEY = dg.AssetKey(["hotspots", "classification"])
FORECAST_KEY = dg.AssetKey(["hotspots", "forecast"])
BACKTEST_KEY = dg.AssetKey(["hotspots", "backtest"])
HOTSPOT_LIST_KEY = dg.AssetKey(["hotspots", "hotspot_list"])

_WAREHOUSE_DEPS = [
    dg.AssetKey(["staging", "stg_police_uk__street_crimes"]),
    dg.AssetKey(["reference", "cchi_harm_weights"]),
    dg.AssetKey(["reference", "police_uk_crime_types"]),
    boundary_key("lsoa21"),
]


def _lake(platform: PlatformConfig, key: dg.AssetKey):
    return platform.resolve().lake_dir / "hotspots" / f"{key.path[-1]}.parquet"


def _read(platform: PlatformConfig, key: dg.AssetKey):
    import pandas as pd

    path = _lake(platform, key)
    if not path.exists():
        raise FileNotFoundError(f"{path}: materialize {key.to_user_string()} first")
    return pd.read_parquet(path)


def _inputs(platform: PlatformConfig):
    """Study events, the grid (cells) and the month span, from the lake."""
    from vrdp.hotspots.pipeline import month_span

    events = _read(platform, STUDY_EVENTS_KEY)
    harm = _read(platform, CELL_HARM_WINDOWS_KEY)
    return events, harm, harm["h3_cell"].to_numpy(dtype=object), month_span(events["month"])


class HarmWindowsConfig(dg.Config):
    """Feedback-loop guard and windows of the harm-weighted counts."""

    exclude_police_generated: bool = True
    windows_days: list[int] = [28, 91, 365]  # noqa: RUF012 (pydantic copies defaults)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            STUDY_EVENTS_KEY,
            description=(
                "Street crimes on the hot spot grid: cell, harm weight and the feedback-guard flag."
            ),
            group_name="hotspots",
            kinds={"python", "duckdb", "parquet"},
            deps=_WAREHOUSE_DEPS,
            code_version="1",
        ),
        dg.AssetSpec(
            CELL_HARM_WINDOWS_KEY,
            description=(
                "Harm-weighted counts per H3 cell over 28/91/365 days to the latest month's end."
            ),
            group_name="hotspots",
            kinds={"python", "duckdb", "parquet"},
            deps=[*_WAREHOUSE_DEPS, STUDY_EVENTS_KEY],
            code_version="1",
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def cell_harm_windows(
    context: dg.AssetExecutionContext, platform: PlatformConfig, config: HarmWindowsConfig
):
    """Read events and seeds from the warehouse, build the study grid and harm windows."""
    from vrdp.hotspots.grid import study_cells
    from vrdp.hotspots.pipeline import (
        cell_harm_windows_table,
        choose_region,
        md_table,
        month_span,
        prepare_study_events,
    )
    from vrdp.lake import write_parquet_atomic

    s = platform.resolve()
    with platform.warehouse(read_only=True) as con:
        events = con.execute(
            "select event_id, month, crime_type, longitude, latitude, easting_m, northing_m,"
            " lsoa21_code from staging.stg_police_uk__street_crimes order by event_id"
        ).df()
        weights = con.execute("select * from reference.cchi_harm_weights").df()
        types = con.execute("select * from reference.police_uk_crime_types").df()
    study, guard = prepare_study_events(
        events,
        types,
        weights,
        resolution=s.h3_resolution,
        exclude_police_generated=config.exclude_police_generated,
    )
    span = month_span(study["month"])
    located = float(events["lsoa21_code"].notna().mean()) if len(events) else 0.0
    region, rule = choose_region(located, read_boundaries(platform, "lsoa21"), events=study)
    if region is None:
        context.log.warning(f"no shipped boundaries cover these events: grid is the {rule}")
    cells = study_cells(
        study["latitude"].to_numpy(),
        study["longitude"].to_numpy(),
        resolution=s.h3_resolution,
        region=region,
    )
    study["exclude_police_generated"] = config.exclude_police_generated
    table = cell_harm_windows_table(
        study, weights, cells, as_of=span.as_of, windows_days=config.windows_days
    )
    table["as_of"] = span.as_of
    table["h3_resolution"] = s.h3_resolution
    table["exclude_police_generated"] = config.exclude_police_generated
    table["grid_rule"] = rule

    events_out = write_parquet_atomic(study, _lake(platform, STUDY_EVENTS_KEY))
    table_out = write_parquet_atomic(table, _lake(platform, CELL_HARM_WINDOWS_KEY))
    guard_meta = {
        "exclude_police_generated": guard["exclude_police_generated"],
        "police_generated_crime_types": ", ".join(guard["police_generated_crime_types"]),
        "events_excluded_by_guard": guard["events_excluded"],
    }
    yield dg.MaterializeResult(
        asset_key=STUDY_EVENTS_KEY,
        metadata={
            "dagster/row_count": len(study),
            "months": span.describe(),
            "months_missing": ", ".join(span.missing) or "none",
            "cells_with_events": int(study["h3_cell"].nunique()),
            **guard_meta,
            "path": dg.MetadataValue.path(str(events_out)),
        },
    )
    meta = {
        "dagster/row_count": len(table),
        "grid_cells": len(cells),
        "h3_resolution": s.h3_resolution,
        "grid_rule": rule,
        "as_of": str(span.as_of.date()),
        "months": span.describe(),
        "windows_days": ", ".join(str(d) for d in config.windows_days),
        **guard_meta,
        "time_basis": str(table["time_basis"].iloc[0]) if len(table) else "none",
    }
    for d in config.windows_days:
        meta[f"events_{d}d"] = round(float(table[f"events_{d}d"].sum()), 2)
        meta[f"harm_days_{d}d"] = round(float(table[f"harm_days_{d}d"].sum()), 2)
        meta[f"cells_with_harm_{d}d"] = int((table[f"harm_days_{d}d"] > 0).sum())
    sort_col = f"harm_days_{config.windows_days[min(1, len(config.windows_days) - 1)]}d"
    preview = table.sort_values(sort_col, ascending=False)
    meta["preview"] = dg.MetadataValue.md(
        md_table(preview[["h3_cell", *[c for c in table.columns if c.startswith(("ev", "ha"))]]])
    )
    meta["path"] = dg.MetadataValue.path(str(table_out))
    yield dg.MaterializeResult(asset_key=CELL_HARM_WINDOWS_KEY, metadata=meta)


class GiStarConfig(dg.Config):
    """Gi* options: multiple-comparison correction, significance level and window."""

    correction: str | None = "fdr_bh"
    alpha: float = 0.05
    window_days: int = 91


@dg.asset(
    key=GI_STAR_KEY,
    deps=[CELL_HARM_WINDOWS_KEY],
    group_name="hotspots",
    kinds={"python", "parquet"},
    code_version="1",
)
def gi_star(
    context: dg.AssetExecutionContext, platform: PlatformConfig, config: GiStarConfig
) -> dg.MaterializeResult:
    """Getis-Ord Gi* z and p per cell on the 91-day harm, FDR-corrected by default."""
    from vrdp.hotspots.grid import neighbour_matrix
    from vrdp.hotspots.pipeline import gi_star_table, md_table
    from vrdp.lake import write_parquet_atomic

    harm = _read(platform, CELL_HARM_WINDOWS_KEY)
    cells = harm["h3_cell"].to_numpy(dtype=object)
    col = f"harm_days_{config.window_days}d"
    if col not in harm:
        raise ValueError(f"cell_harm_windows has no {config.window_days}-day window")
    table = gi_star_table(
        cells,
        harm[col].to_numpy(float),
        neighbour_matrix(cells),
        correction=config.correction,
        alpha=config.alpha,
    )
    table["window_days"] = config.window_days
    out = write_parquet_atomic(table, _lake(platform, GI_STAR_KEY))
    hot = table[table["hot_spot"]].sort_values("z_score", ascending=False)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(table),
            "value": f"harm days over {config.window_days} days",
            "correction": config.correction or "none",
            "alpha": config.alpha,
            "significant_hot_cells": int(table["hot_spot"].sum()),
            "significant_cold_cells": int(table["cold_spot"].sum()),
            "max_z": float(table["z_score"].max()),
            "preview": dg.MetadataValue.md(
                md_table(hot[["h3_cell", "value", "z_score", "p_value", "p_adjusted"]])
            ),
            "path": dg.MetadataValue.path(str(out)),
        }
    )


class KdeConfig(dg.Config):
    """KDE options: kernel radius in metres (``None``: Silverman's rule on the window's events).

    400 m by default, as the forecast's kernel and ``bench/hotspots_backtest.py``:
    Silverman's rule over a whole force area gives kilometres (9.4 km for Thames
    Valley), far too smooth for street-level hot spots.
    """

    bandwidth_m: float | None = 400.0
    window_days: int = 91


@dg.asset(
    key=KDE_KEY,
    deps=[STUDY_EVENTS_KEY, CELL_HARM_WINDOWS_KEY],
    group_name="hotspots",
    kinds={"python", "parquet"},
    code_version="1",
)
def kde(
    context: dg.AssetExecutionContext, platform: PlatformConfig, config: KdeConfig
) -> dg.MaterializeResult:
    """Quartic kernel density (per km², metres on BNG) of events and harm at each cell centre."""
    from vrdp.hotspots.kde import cell_spacing_m
    from vrdp.hotspots.pipeline import kde_table, md_table
    from vrdp.lake import write_parquet_atomic

    s = platform.resolve()
    events, _harm, cells, span = _inputs(platform)
    spacing = cell_spacing_m(s.h3_resolution)
    table, h, warning = kde_table(
        events,
        cells,
        as_of=span.as_of,
        window_days=config.window_days,
        bandwidth_m=config.bandwidth_m,
        cell_size_m=spacing,
    )
    if warning:
        context.log.warning(warning)
    out = write_parquet_atomic(table, _lake(platform, KDE_KEY))
    top = table.sort_values("kde_rank")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(table),
            "bandwidth_m": round(h, 1),
            "bandwidth_rule": (
                "configured" if config.bandwidth_m else "Silverman's rule (quartic radius)"
            ),
            "cell_spacing_m": round(spacing, 1),
            "bandwidth_warning": warning or "none",
            "window_days": config.window_days,
            "max_harm_days_per_km2": float(table["kde_harm_days_per_km2"].max()),
            "preview": dg.MetadataValue.md(
                md_table(
                    top[["kde_rank", "h3_cell", "kde_harm_days_per_km2", "kde_events_per_km2"]]
                )
            ),
            "path": dg.MetadataValue.path(str(out)),
        }
    )


@dg.asset(
    key=CLASSIFICATION_KEY,
    deps=[STUDY_EVENTS_KEY, CELL_HARM_WINDOWS_KEY],
    group_name="hotspots",
    kinds={"python", "parquet"},
    code_version="1",
)
def classification(
    context: dg.AssetExecutionContext, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Persistent, emerging, former or intermittent hot spot per cell, with Mann-Kendall trend."""
    from vrdp.hotspots.grid import neighbour_matrix
    from vrdp.hotspots.pipeline import classification_table, md_table, monthly_matrix
    from vrdp.lake import write_parquet_atomic

    events, _harm, cells, span = _inputs(platform)
    counts = monthly_matrix(events, cells, span)
    table = classification_table(counts, cells, span, neighbour_matrix(cells))
    used, excluded = table.attrs["periods_used"], table.attrs["periods_excluded"]
    if span.missing:
        context.log.warning(f"months missing from the series (not invented): {span.missing}")
    out = write_parquet_atomic(table, _lake(platform, CLASSIFICATION_KEY))
    classes = table["hotspot_category"].value_counts()
    hot = table[table["hotspot_category"].str.endswith("hotspot")]
    hot = hot.sort_values(["prop_hot", "events_in_series"], ascending=False)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(table),
            "months": span.describe(),
            "months_missing": ", ".join(span.missing) or "none",
            "months_used": len(used),
            "months_excluded": ", ".join(excluded) or "none",
            "recent_months": int(table.attrs["recent_periods"]),
            "classes": dg.MetadataValue.json({str(k): int(v) for k, v in classes.items()}),
            "trend_increasing": int((table["trend"] == "increasing").sum()),
            "trend_decreasing": int((table["trend"] == "decreasing").sum()),
            "preview": dg.MetadataValue.md(
                md_table(hot[["h3_cell", "hotspot_category", "hot_periods", "trend", "mk_p"]])
            ),
            "path": dg.MetadataValue.path(str(out)),
        }
    )


class ForecastConfig(dg.Config):
    """Forecast options: the quartic kernel radius of the density feature."""

    kernel_bandwidth_m: float = 400.0


def _forecast_inputs(platform: PlatformConfig, bandwidth_m: float):
    from vrdp.hotspots.grid import cell_centres_bng, neighbour_matrix
    from vrdp.hotspots.kde import quartic_kernel_matrix
    from vrdp.hotspots.pipeline import monthly_matrix, type_matrices

    events, _harm, cells, span = _inputs(platform)
    ex, ny = cell_centres_bng(cells)
    return {
        "cells": cells,
        "span": span,
        "counts": monthly_matrix(events, cells, span),
        "aux": type_matrices(events, cells, span),
        "w": neighbour_matrix(cells),
        "kernel": quartic_kernel_matrix(ex, ny, bandwidth_m=bandwidth_m),
    }


@dg.asset(
    key=FORECAST_KEY,
    deps=[STUDY_EVENTS_KEY, CELL_HARM_WINDOWS_KEY],
    group_name="hotspots",
    kinds={"python", "parquet"},
    code_version="1",
)
def forecast(
    context: dg.AssetExecutionContext, platform: PlatformConfig, config: ForecastConfig
) -> dg.MaterializeResult:
    """Next-month crime risk per cell from past months, neighbours, density and crime types."""
    from vrdp.hotspots.pipeline import forecast_table, md_table
    from vrdp.lake import write_parquet_atomic

    x = _forecast_inputs(platform, config.kernel_bandwidth_m)
    table, info = forecast_table(
        x["counts"],
        x["cells"],
        neighbours=x["w"],
        kernel=x["kernel"],
        auxiliary=x["aux"],
        forecast_month=x["span"].next_month,
    )
    out = write_parquet_atomic(table, _lake(platform, FORECAST_KEY))
    top = table.sort_values("forecast_rank")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(table),
            "forecast_month": x["span"].next_month,
            "trained_on": x["span"].describe(),
            "fitted": info["fitted"],
            "transitions": info["transitions"],
            "kernel_bandwidth_m": config.kernel_bandwidth_m,
            "coefficients": dg.MetadataValue.json(info["coefficients"]),
            "preview": dg.MetadataValue.md(
                md_table(top[["forecast_rank", "h3_cell", "risk_score"]])
            ),
            "path": dg.MetadataValue.path(str(out)),
        }
    )


@dg.asset(
    key=BACKTEST_KEY,
    deps=[STUDY_EVENTS_KEY, CELL_HARM_WINDOWS_KEY],
    group_name="hotspots",
    kinds={"python", "parquet"},
    code_version="1",
)
def backtest(
    context: dg.AssetExecutionContext, platform: PlatformConfig, config: ForecastConfig
) -> dg.MaterializeResult:
    """Rolling-origin backtest: hit rate, PAI, PEI and RRI at 1/5/10% for forecast and baselines."""
    from vrdp.hotspots.grid import cell_areas_m2
    from vrdp.hotspots.pipeline import (
        AREA_SHARES,
        backtest_figures,
        backtest_tables,
        make_forecaster,
    )
    from vrdp.lake import write_parquet_atomic

    x = _forecast_inputs(platform, config.kernel_bandwidth_m)
    folds, summary = backtest_tables(
        x["counts"],
        x["span"],
        forecaster=make_forecaster(x["aux"], x["w"], x["kernel"]),
        kernel=x["kernel"],
        area=cell_areas_m2(x["cells"]),
        area_shares=AREA_SHARES,
    )
    out = write_parquet_atomic(summary, _lake(platform, BACKTEST_KEY))
    folds_out = write_parquet_atomic(
        folds, _lake(platform, BACKTEST_KEY).with_name("backtest_folds.parquet")
    )
    gap = sorted(set(folds.loc[folds["gap_before_test"], "test_period"]))
    pivot = summary.pivot(index="method", columns="area_share", values="pei").round(3)
    pivot.columns = [f"PEI@{c:.0%}" for c in pivot.columns]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(summary),
            "folds": int(folds["test_period"].nunique()),
            "test_months": ", ".join(sorted(set(folds["test_period"]))),
            "folds_after_missing_month": ", ".join(gap) or "none",
            "months_missing": ", ".join(x["span"].missing) or "none",
            "methods": ", ".join(sorted(summary["method"].unique())),
            **backtest_figures(summary),
            "pei_table": dg.MetadataValue.md(pivot.reset_index().to_markdown(index=False)),
            "path": dg.MetadataValue.path(str(out)),
            "folds_path": dg.MetadataValue.path(str(folds_out)),
        }
    )


class HotspotListConfig(dg.Config):
    """How many Gi* hot cells the list keeps (default ``VRDP_HOTSPOT_TOP_N``)."""

    top_n: int | None = None
    window_days: int = 91


@dg.asset(
    key=HOTSPOT_LIST_KEY,
    deps=[STUDY_EVENTS_KEY, CELL_HARM_WINDOWS_KEY, GI_STAR_KEY, CLASSIFICATION_KEY, FORECAST_KEY],
    group_name="hotspots",
    kinds={"python", "parquet"},
    code_version="1",
)
def hotspot_list(
    context: dg.AssetExecutionContext, platform: PlatformConfig, config: HotspotListConfig
) -> dg.MaterializeResult:
    """Gi*-significant hot cells ranked by harm, with class, forecast, patrol windows, overrides."""
    import h3

    from orchestration.overrides import overrides_path, read_overrides
    from vrdp.hotspots.pipeline import md_table, patrol_summary, select_hotspots
    from vrdp.lake import write_parquet_atomic

    s = platform.resolve()
    top_n = config.top_n or s.hotspot_top_n
    events, harm, _cells, span = _inputs(platform)
    gi = _read(platform, GI_STAR_KEY)
    cls = _read(platform, CLASSIFICATION_KEY)
    fc = _read(platform, FORECAST_KEY)
    ov_path = overrides_path(s)
    overrides = read_overrides(ov_path)
    cand = set(gi.loc[gi["hot_spot"], "h3_cell"]) | set(overrides["h3_cell"])
    patrol = patrol_summary(events[events["h3_cell"].isin(cand)], sorted(cand))
    table = select_hotspots(
        gi, harm, cls, fc, patrol, overrides, top_n=top_n, window_days=config.window_days
    )
    latlng = [h3.cell_to_latlng(c) for c in table["h3_cell"]]
    table["latitude"] = [p[0] for p in latlng]
    table["longitude"] = [p[1] for p in latlng]
    table["as_of"] = span.as_of
    table["exclude_police_generated"] = bool(harm["exclude_police_generated"].iloc[0])
    out = write_parquet_atomic(table, _lake(platform, HOTSPOT_LIST_KEY))

    applied = table[table["override"].notna()]
    listed = set(table["h3_cell"])
    not_applied = overrides[~overrides["h3_cell"].isin(listed)]
    if len(not_applied):
        context.log.warning(
            f"{len(not_applied)} override(s) for cells not on the list (suppress of an unlisted "
            f"cell, or superseded): {sorted(set(not_applied['h3_cell']))}"
        )
    sel = table[table["selected"]]
    month_only = bool((table["time_basis"] == "month_only").all()) if len(table) else False
    cols = ["rank", "h3_cell", "harm_days", "z_score", "hotspot_category", "forecast_rank"]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(table),
            "selected": len(sel),
            "top_n": top_n,
            "gi_star_hot_cells": int(gi["hot_spot"].sum()),
            "harm_window_days": config.window_days,
            "as_of": str(span.as_of.date()),
            "overrides_in_audit_table": len(overrides),
            "overrides_applied": len(applied),
            "overrides_not_on_list": len(not_applied),
            "overrides_path": dg.MetadataValue.path(str(ov_path)),
            "overrides": dg.MetadataValue.md(
                md_table(
                    applied[["h3_cell", "override", "override_reason", "override_by", "rank"]],
                    max_rows=50,
                )
            ),
            "classes_selected": dg.MetadataValue.json(
                {str(k): int(v) for k, v in sel["hotspot_category"].value_counts().items()}
            ),
            "patrol_windows": (
                "police.uk gives months only: no patrol windows (time_basis month_only)"
                if month_only
                else "from event times"
            ),
            "preview": dg.MetadataValue.md(md_table(sel[[*cols, "patrol_windows"]])),
            "path": dg.MetadataValue.path(str(out)),
        }
    )


def hotspot_analysis_assets() -> list[dg.AssetsDefinition]:
    """Every asset of this module, in dependency order."""
    return [cell_harm_windows, gi_star, kde, classification, forecast, backtest, hotspot_list]
