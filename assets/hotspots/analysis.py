"""Hot spot analysis: harm windows, Gi*, KDE, classification, forecast, backtest and the list.

Two families of the same assets, built by one factory:

* ``hotspots/*``: the public data.police.uk street crimes (months only,
  snapped locations);
* ``force_hotspots/*``: the force's and partners' own records
  (``marts.fct_events``: crimes, calls, A&E assaults) with real times, so the
  harm windows count by timestamp, the hot spots get hour-of-week patrol
  windows, the forecast uses the risk terrain layer when one is built, and on
  the simulated world the list reports recall of the planted hot spots. Until
  ``marts.fct_events`` holds located events the family materializes as
  ``skipped`` (and removes stale outputs), so the tasking falls back to the
  police.uk list.

Thin wrappers: the logic lives in :mod:`vrdp.hotspots.pipeline`,
:mod:`vrdp.hotspots.force_events` and the algorithms under them. Each asset
writes one table to ``data/lake/<family>/<name>.parquet``; downstream assets
read those files. Only ``study_events`` + ``cell_harm_windows`` (one step)
open the warehouse, so only they run in the warehouse pool.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg

from assets.geography.boundaries import (
    FORCE_OUTLINE_KEY,
    boundary_key,
    read_boundaries,
    read_force_outline,
)
from config.resources import WAREHOUSE_POOL, PlatformConfig

__all__ = [
    "STUDY_EVENTS_KEY",
    "CELL_HARM_WINDOWS_KEY",
    "GI_STAR_KEY",
    "KDE_KEY",
    "CLASSIFICATION_KEY",
    "FORECAST_KEY",
    "BACKTEST_KEY",
    "HOTSPOT_LIST_KEY",
    "FORCE_PREFIX",
    "FORCE_HOTSPOT_LIST_KEY",
    "force_key",
    "hotspot_analysis_assets",
    "force_hotspot_assets",
]

NAMES = (
    "study_events",
    "cell_harm_windows",
    "gi_star",
    "kde",
    "classification",
    "forecast",
    "backtest",
    "hotspot_list",
)
STUDY_EVENTS_KEY = dg.AssetKey(["hotspots", "study_events"])
CELL_HARM_WINDOWS_KEY = dg.AssetKey(["hotspots", "cell_harm_windows"])
GI_STAR_KEY = dg.AssetKey(["hotspots", "gi_star"])
KDE_KEY = dg.AssetKey(["hotspots", "kde"])
CLASSIFICATION_KEY = dg.AssetKey(["hotspots", "classification"])
FORECAST_KEY = dg.AssetKey(["hotspots", "forecast"])
BACKTEST_KEY = dg.AssetKey(["hotspots", "backtest"])
HOTSPOT_LIST_KEY = dg.AssetKey(["hotspots", "hotspot_list"])

#: Key prefix, group and lake folder of the force-data family.
FORCE_PREFIX = "force_hotspots"
FCT_EVENTS_KEY = dg.AssetKey(["marts", "fct_events"])


def force_key(name: str) -> dg.AssetKey:
    """``force_hotspots/<name>``, e.g. ``force_key("hotspot_list")``."""
    return dg.AssetKey([FORCE_PREFIX, name])


FORCE_HOTSPOT_LIST_KEY = force_key("hotspot_list")
#: Where the force family finds the simulated world's risk terrain model, if built.
RTM_MODEL = ("risk_terrain", "simulated_world", "model.pkl")
#: The asset that writes it (``assets.risk_terrain.models.SIMULATED_RTM_KEY``): the force
#: family's forecast reads that model, so it is a dependency of the forecast.
RTM_MODEL_KEY = dg.AssetKey(["risk_terrain", "simulated_world_rtm"])


# --------------------------------------------------------------------------- configs


class HarmWindowsConfig(dg.Config):
    """Feedback-loop guard and windows of the harm-weighted counts."""

    exclude_police_generated: bool = True
    windows_days: list[int] = [28, 91, 365]  # noqa: RUF012 (pydantic copies defaults)


class ForceHarmWindowsConfig(HarmWindowsConfig):
    """Also: which ``fct_events`` event types count, and harm multipliers of calls and A&E."""

    event_types: list[str] = ["crime", "incident", "ae_assault"]  # noqa: RUF012
    incident_harm_weight: float = 1.0
    ae_assault_harm_weight: float = 1.0


class GiStarConfig(dg.Config):
    """Gi* options: multiple-comparison correction, significance level and window."""

    correction: str | None = "fdr_bh"
    alpha: float = 0.05
    window_days: int = 91


class KdeConfig(dg.Config):
    """KDE options: kernel radius in metres (``None``: Silverman's rule on the window's events).

    400 m by default, as the forecast's kernel and ``bench/hotspots_backtest.py``:
    Silverman's rule over a whole force area gives kilometres (9.4 km for the
    demo force), far too smooth for street-level hot spots.
    """

    bandwidth_m: float | None = 400.0
    window_days: int = 91


class ForecastConfig(dg.Config):
    """Forecast options: the quartic kernel radius of the density feature."""

    kernel_bandwidth_m: float = 400.0


class ForceForecastConfig(ForecastConfig):
    """Also: what is forecast (recorded crime by default) and whether to use risk terrain."""

    target_event_types: list[str] = ["crime"]  # noqa: RUF012
    violence_only: bool = False
    use_risk_terrain: bool = True


class HotspotListConfig(dg.Config):
    """How many Gi* hot cells the list keeps (default ``VRDP_HOTSPOT_TOP_N``)."""

    top_n: int | None = None
    window_days: int = 91


# --------------------------------------------------------------------------- families


@dataclass(frozen=True)
class Family:
    """One family of hot spot assets: its keys, where its events come from, what it adds."""

    prefix: str
    events_text: str
    deps: tuple[dg.AssetKey, ...]
    harm_config: type
    forecast_config: type
    #: (context, platform, config) -> (study events, guard record, located share) or None
    load: Callable[..., Any]
    #: (events, cells, span, config) -> (counts, auxiliary series, target text)
    series: Callable[..., Any]
    #: months of the events -> (MonthSpan of the monthly series, partial months left out)
    span: Callable[..., Any]
    force_data: bool

    def key(self, name: str) -> dg.AssetKey:
        return dg.AssetKey([self.prefix, name])

    def lake(self, platform: PlatformConfig, name: str):
        return platform.resolve().lake_dir / self.prefix / f"{name}.parquet"


def _load_police_uk(context, platform: PlatformConfig, config):
    from vrdp.hotspots.pipeline import prepare_study_events

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
    located = float(events["lsoa21_code"].notna().mean()) if len(events) else 0.0
    return study, weights, guard, located


def _load_force(context, platform: PlatformConfig, config):
    from vrdp.hotspots.force_events import FCT_EVENTS_COLUMNS, prepare_force_events
    from vrdp.lake import query_frame

    s = platform.resolve()
    if not s.warehouse_path.exists():
        return None
    with platform.warehouse(read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'marts' and table_name = 'fct_events'"
        ).fetchone()[0]
        if not exists:
            return None
        have = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'marts' and table_name = 'fct_events'"
            ).fetchall()
        }
        optional = [c for c in ("linked_event_key", "lsoa21_code") if c in have]
        cols = ", ".join([*FCT_EVENTS_COLUMNS, *optional])
        # through Arrow (vrdp.lake.query_frame): on the large world's 3.3 million
        # events 2.3 s instead of 6.4 s, peaking at 2.0 GiB instead of 3.3
        events = query_frame(con, f"select {cols} from marts.fct_events order by event_key")
        weights = con.execute("select * from reference.cchi_harm_weights").df()
    study, guard = prepare_force_events(
        events,
        weights,
        resolution=s.h3_resolution,
        event_types=config.event_types,
        exclude_police_generated=config.exclude_police_generated,
        type_harm_weights={
            "incident": config.incident_harm_weight,
            "ae_assault": config.ae_assault_harm_weight,
        },
    )
    if not len(study):
        return None
    if "lsoa21_code" not in events:
        return study, weights, guard, 1.0
    from vrdp.keys import isin

    ok = isin(study["event_id"], events.loc[events["lsoa21_code"].notna(), "event_key"])
    return study, weights, guard, float(ok.mean())


def _span_police_uk(month):
    from vrdp.hotspots.pipeline import month_span

    return month_span(month), []


def _span_force(month):
    from vrdp.hotspots.force_events import series_span

    return series_span(month)


def _series_police_uk(events, cells, span, config):
    from vrdp.hotspots.pipeline import monthly_matrix, type_matrices

    counts = monthly_matrix(events, cells, span)
    return counts, type_matrices(events, cells, span), "street crimes (guarded), per month"


def _series_force(events, cells, span, config):
    from vrdp.hotspots.force_events import force_series

    counts, aux = force_series(
        events,
        cells,
        span,
        target_event_types=config.target_event_types,
        violence_only=config.violence_only,
    )
    what = "violence in " if config.violence_only else ""
    return counts, aux, f"{what}{'+'.join(config.target_event_types)} events (guarded), per month"


POLICE_UK = Family(
    prefix="hotspots",
    events_text="Street crimes (data.police.uk)",
    deps=(
        dg.AssetKey(["staging", "stg_police_uk__street_crimes"]),
        dg.AssetKey(["reference", "cchi_harm_weights"]),
        dg.AssetKey(["reference", "police_uk_crime_types"]),
        FORCE_OUTLINE_KEY,
    ),
    harm_config=HarmWindowsConfig,
    forecast_config=ForecastConfig,
    load=_load_police_uk,
    series=_series_police_uk,
    span=_span_police_uk,
    force_data=False,
)
FORCE = Family(
    prefix=FORCE_PREFIX,
    events_text="Force records (marts.fct_events: crimes, calls, A&E assaults)",
    deps=(FCT_EVENTS_KEY, dg.AssetKey(["reference", "cchi_harm_weights"]), FORCE_OUTLINE_KEY),
    harm_config=ForceHarmWindowsConfig,
    forecast_config=ForceForecastConfig,
    load=_load_force,
    series=_series_force,
    span=_span_force,
    force_data=True,
)


def _read(platform: PlatformConfig, fam: Family, name: str):
    import pandas as pd

    path = fam.lake(platform, name)
    if not path.exists():
        raise FileNotFoundError(f"{path}: materialize {fam.key(name).to_user_string()} first")
    return pd.read_parquet(path)


def _skipped(platform: PlatformConfig, fam: Family) -> dg.MaterializeResult | None:
    """For the force family without study events: the result saying why nothing was made."""
    if not fam.force_data or fam.lake(platform, "study_events").exists():
        return None
    return dg.MaterializeResult(
        metadata={
            "skipped": True,
            "note": "no located force events: marts.fct_events is not built or holds no "
            f"crimes, calls or A&E assaults (materialize {fam.key('cell_harm_windows')})",
        }
    )


def _inputs(platform: PlatformConfig, fam: Family):
    """Study events, the harm table, the grid (cells) and the month span, from the lake."""
    events = _read(platform, fam, "study_events")
    harm = _read(platform, fam, "cell_harm_windows")
    return events, harm, harm["h3_cell"].to_numpy(dtype=object), fam.span(events["month"])[0]


# --------------------------------------------------------------------------- assets


def _harm_windows_asset(fam: Family) -> dg.AssetsDefinition:
    study_key, harm_key = fam.key("study_events"), fam.key("cell_harm_windows")
    config_cls = fam.harm_config

    @dg.multi_asset(
        # the police.uk op keeps its first name (run configs name it)
        name="cell_harm_windows" if fam is POLICE_UK else f"{fam.prefix}__cell_harm_windows",
        specs=[
            dg.AssetSpec(
                study_key,
                description=(
                    f"{fam.events_text} on the hot spot grid: cell, harm weight and the "
                    "feedback-guard flag."
                ),
                group_name=fam.prefix,
                kinds={"python", "duckdb", "parquet"},
                deps=list(fam.deps),
                code_version="2",
            ),
            dg.AssetSpec(
                harm_key,
                description=(
                    f"Harm-weighted counts per H3 cell over 28/91/365 days ({fam.events_text})."
                ),
                group_name=fam.prefix,
                kinds={"python", "duckdb", "parquet"},
                deps=[*fam.deps, study_key],
                code_version="2",
            ),
        ],
        pool=WAREHOUSE_POOL,
    )
    def cell_harm_windows(
        context: dg.AssetExecutionContext, platform: PlatformConfig, config: config_cls
    ):
        """Read events and seeds from the warehouse, build the study grid and harm windows."""
        from vrdp.hotspots.grid import study_cells
        from vrdp.hotspots.pipeline import cell_harm_windows_table, choose_region, md_table
        from vrdp.lake import write_parquet_atomic

        s = platform.resolve()
        loaded = fam.load(context, platform, config)
        if loaded is None:
            for name in NAMES:
                fam.lake(platform, name).unlink(missing_ok=True)
            fam.lake(platform, "backtest_folds").unlink(missing_ok=True)
            skipped = _skipped(platform, fam)
            context.log.warning(skipped.metadata["note"])
            for key in (study_key, harm_key):
                yield dg.MaterializeResult(asset_key=key, metadata=skipped.metadata)
            return
        study, weights, guard, located = loaded
        span, partial = fam.span(study["month"])
        region, rule = choose_region(located, read_force_outline(platform), events=study)
        if "convex hull" in rule:
            context.log.warning(f"the force outline does not hold these events: grid is the {rule}")
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

        events_out = write_parquet_atomic(study, fam.lake(platform, "study_events"))
        table_out = write_parquet_atomic(table, fam.lake(platform, "cell_harm_windows"))
        guard_meta = {
            "exclude_police_generated": guard["exclude_police_generated"],
            "police_generated_crime_types": ", ".join(guard["police_generated_crime_types"]),
            "events_excluded_by_guard": guard["events_excluded"],
        }
        extra = {}
        if fam.force_data:
            guard_meta["guard_rule"] = guard["guard_rule"]
            extra = {
                "rows_in_fct_events": guard["rows_in"],
                "rows_other_event_types": guard["not_selected_type"],
                "rows_not_located": guard["not_located"],
                "rows_without_time": guard["no_time"],
                "calls_linked_to_a_counted_crime": guard["linked_to_crime"],
                "event_types": ", ".join(guard["event_types"]),
                "harm_weight_by_event_type": dg.MetadataValue.json(guard["type_harm_weights"]),
                "by_event_type": dg.MetadataValue.json(guard["by_event_type"]),
            }
        yield dg.MaterializeResult(
            asset_key=study_key,
            metadata={
                "dagster/row_count": len(study),
                "months": span.describe(),
                "months_missing": ", ".join(span.missing) or "none",
                "partial_months_outside_series": ", ".join(partial) or "none",
                "cells_with_events": int(study["h3_cell"].nunique()),
                **guard_meta,
                **extra,
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
        cols = [c for c in table.columns if c.startswith(("ev", "ha"))]
        meta["preview"] = dg.MetadataValue.md(md_table(preview[["h3_cell", *cols]]))
        meta["path"] = dg.MetadataValue.path(str(table_out))
        yield dg.MaterializeResult(asset_key=harm_key, metadata=meta)

    return cell_harm_windows


def _gi_star_asset(fam: Family) -> dg.AssetsDefinition:
    @dg.asset(
        key=fam.key("gi_star"),
        deps=[fam.key("cell_harm_windows")],
        group_name=fam.prefix,
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

        if (skipped := _skipped(platform, fam)) is not None:
            return skipped
        harm = _read(platform, fam, "cell_harm_windows")
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
        out = write_parquet_atomic(table, fam.lake(platform, "gi_star"))
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

    return gi_star


def _kde_asset(fam: Family) -> dg.AssetsDefinition:
    @dg.asset(
        key=fam.key("kde"),
        deps=[fam.key("study_events"), fam.key("cell_harm_windows")],
        group_name=fam.prefix,
        kinds={"python", "parquet"},
        code_version="2",
    )
    def kde(
        context: dg.AssetExecutionContext, platform: PlatformConfig, config: KdeConfig
    ) -> dg.MaterializeResult:
        """Quartic kernel density (per km², metres on BNG) of events and harm at cell centres."""
        from vrdp.hotspots.kde import cell_spacing_m
        from vrdp.hotspots.pipeline import kde_table, md_table
        from vrdp.lake import write_parquet_atomic

        if (skipped := _skipped(platform, fam)) is not None:
            return skipped
        s = platform.resolve()
        events, _harm, cells, span = _inputs(platform, fam)
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
        out = write_parquet_atomic(table, fam.lake(platform, "kde"))
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

    return kde


def _classification_asset(fam: Family) -> dg.AssetsDefinition:
    @dg.asset(
        key=fam.key("classification"),
        deps=[fam.key("study_events"), fam.key("cell_harm_windows")],
        group_name=fam.prefix,
        kinds={"python", "parquet"},
        code_version="1",
    )
    def classification(
        context: dg.AssetExecutionContext, platform: PlatformConfig
    ) -> dg.MaterializeResult:
        """Persistent, emerging, former or intermittent hot spot per cell, with Mann-Kendall."""
        from vrdp.hotspots.grid import neighbour_matrix
        from vrdp.hotspots.pipeline import classification_table, md_table, monthly_matrix
        from vrdp.lake import write_parquet_atomic

        if (skipped := _skipped(platform, fam)) is not None:
            return skipped
        events, _harm, cells, span = _inputs(platform, fam)
        counts = monthly_matrix(events, cells, span)
        table = classification_table(counts, cells, span, neighbour_matrix(cells))
        used, excluded = table.attrs["periods_used"], table.attrs["periods_excluded"]
        if span.missing:
            context.log.warning(f"months missing from the series (not invented): {span.missing}")
        out = write_parquet_atomic(table, fam.lake(platform, "classification"))
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

    return classification


def _risk_terrain_covariate(context, platform: PlatformConfig, fam: Family, config, cells):
    """The risk terrain score per cell (force family, when the model is built), and a note."""
    if not fam.force_data or not getattr(config, "use_risk_terrain", False):
        return None, "not used"
    path = platform.resolve().lake_dir.joinpath(*RTM_MODEL)
    if not path.exists():
        return None, f"not available ({path.name} not built)"
    from vrdp.risk_terrain.model import risk_score_for_h3
    from vrdp.risk_terrain.outputs import load_risk_terrain_model

    try:
        score = risk_score_for_h3(load_risk_terrain_model(path), list(cells)).to_numpy(float)
    except Exception as exc:  # another team's model format may move; the forecast runs without
        context.log.warning(f"risk terrain layer not used: {exc}")
        return None, f"not used ({type(exc).__name__})"
    return score, f"simulated-world RRS at cell centres ({path})"


def _forecast_inputs(context, platform: PlatformConfig, fam: Family, config):
    from vrdp.hotspots.grid import cell_centres_bng, neighbour_matrix
    from vrdp.hotspots.kde import quartic_kernel_matrix

    events, _harm, cells, span = _inputs(platform, fam)
    counts, aux, target = fam.series(events, cells, span, config)
    ex, ny = cell_centres_bng(cells)
    covariate, rtm_note = _risk_terrain_covariate(context, platform, fam, config, cells)
    return {
        "cells": cells,
        "span": span,
        "counts": counts,
        "aux": aux,
        "target": target,
        "covariate": covariate,
        "risk_terrain": rtm_note,
        "w": neighbour_matrix(cells),
        "kernel": quartic_kernel_matrix(ex, ny, bandwidth_m=config.kernel_bandwidth_m),
    }


def _forecast_card(fam: Family, x, config, info, out) -> None:
    """The forecast's model card, beside its Parquet (vrdp.governance.model_card)."""
    from vrdp.governance.model_card import ModelCard, write_model_card

    write_model_card(
        ModelCard(
            name=f"{fam.prefix} next-month hot spot forecast",
            inputs=[
                f"{x['target']} per H3 cell and month",
                "neighbouring cells (Gi* weights)",
                "kernel density",
                "related series",
                f"risk terrain: {x['risk_terrain']}",
            ],
            owner="force / VRU hot spot analysts",
            excluded_fields=[
                "every person-level field (names, ages, ethnicity, addresses)",
                "police-generated offences (found by patrols) by default",
            ],
            parameters={
                "kernel_bandwidth_m": config.kernel_bandwidth_m,
                "coefficients": info["coefficients"],
                "fitted": info["fitted"],
            },
            training_window=x["span"].describe(),
            accuracy={"measured_by": f"{fam.prefix}/backtest (hit rate, PAI, PEI, RRI)"},
            accuracy_method="rolling-origin backtest against naive baselines; see its asset",
            known_limits=[
                "recorded crime reflects reporting and police activity, not all harm",
                "cells with few events are noisy; ranks change month to month",
                "a place forecast: it says nothing about any person",
            ],
            intended_use="choose places and times for patrol; every list is reviewed by an analyst",
        ),
        out,
    )


def _forecast_asset(fam: Family) -> dg.AssetsDefinition:
    config_cls = fam.forecast_config

    @dg.asset(
        key=fam.key("forecast"),
        deps=[
            fam.key("study_events"),
            fam.key("cell_harm_windows"),
            *([RTM_MODEL_KEY] if fam.force_data else []),
        ],
        group_name=fam.prefix,
        kinds={"python", "parquet"},
        code_version="2",
    )
    def forecast(
        context: dg.AssetExecutionContext, platform: PlatformConfig, config: config_cls
    ) -> dg.MaterializeResult:
        """Next-month risk per cell from past months, neighbours, density and related series."""
        from vrdp.hotspots.pipeline import forecast_table, md_table
        from vrdp.lake import write_parquet_atomic

        if (skipped := _skipped(platform, fam)) is not None:
            return skipped
        x = _forecast_inputs(context, platform, fam, config)
        table, info = forecast_table(
            x["counts"],
            x["cells"],
            neighbours=x["w"],
            kernel=x["kernel"],
            auxiliary=x["aux"],
            forecast_month=x["span"].next_month,
            covariate=x["covariate"],
        )
        out = write_parquet_atomic(table, fam.lake(platform, "forecast"))
        _forecast_card(fam, x, config, info, out)
        top = table.sort_values("forecast_rank")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(table),
                "forecast_month": x["span"].next_month,
                "target": x["target"],
                "trained_on": x["span"].describe(),
                "fitted": info["fitted"],
                "transitions": info["transitions"],
                "kernel_bandwidth_m": config.kernel_bandwidth_m,
                "risk_terrain": x["risk_terrain"],
                "coefficients": dg.MetadataValue.json(info["coefficients"]),
                "preview": dg.MetadataValue.md(
                    md_table(top[["forecast_rank", "h3_cell", "risk_score"]])
                ),
                "path": dg.MetadataValue.path(str(out)),
            }
        )

    return forecast


def _backtest_asset(fam: Family) -> dg.AssetsDefinition:
    config_cls = fam.forecast_config

    @dg.asset(
        key=fam.key("backtest"),
        # the force family's forecaster reads the risk terrain model as a covariate
        # (_risk_terrain_covariate), so its backtest waits for it like the forecast
        deps=[
            fam.key("study_events"),
            fam.key("cell_harm_windows"),
            *([RTM_MODEL_KEY] if fam.force_data else []),
        ],
        group_name=fam.prefix,
        kinds={"python", "parquet"},
        code_version="2",
    )
    def backtest(
        context: dg.AssetExecutionContext, platform: PlatformConfig, config: config_cls
    ) -> dg.MaterializeResult:
        """Rolling-origin backtest: hit rate, PAI, PEI, RRI at 1/5/10%, forecast and baselines.

        Scored on whole months only: when the monthly series, the grid, the risk
        terrain layer, the configuration and the code are those of the last
        materialization (e.g. make run's twin days added days of a month not yet
        whole), that output is reused (:mod:`assets.reuse`).
        """
        from assets.reuse import computed, unchanged_output
        from vrdp.hotspots.grid import cell_areas_m2
        from vrdp.hotspots.pipeline import (
            AREA_SHARES,
            backtest_figures,
            backtest_tables,
            make_forecaster,
        )
        from vrdp.lake import write_parquet_atomic

        if (skipped := _skipped(platform, fam)) is not None:
            return skipped
        x = _forecast_inputs(context, platform, fam, config)
        out_path = fam.lake(platform, "backtest")
        folds_path = fam.lake(platform, "backtest_folds")
        digest = _backtest_digest(x, config)
        reused = unchanged_output(context, fam.key("backtest"), digest, [out_path, folds_path])
        if reused is not None:
            return reused
        folds, summary = backtest_tables(
            x["counts"],
            x["span"],
            forecaster=make_forecaster(x["aux"], x["w"], x["kernel"], x["covariate"]),
            kernel=x["kernel"],
            area=cell_areas_m2(x["cells"]),
            area_shares=AREA_SHARES,
        )
        out = write_parquet_atomic(summary, out_path)
        folds_out = write_parquet_atomic(folds, folds_path)
        gap = sorted(set(folds.loc[folds["gap_before_test"], "test_period"]))
        tables = {}
        # one study area only (e.g. no cell with an event in training): no study_area column
        by_study = (
            summary.groupby("study_area")
            if "study_area" in summary
            else [(str(folds["study_area"].iloc[0]) if len(folds) else "force_area", summary)]
        )
        for study, g in by_study:
            pivot = g.pivot(index="method", columns="area_share", values=["pai", "pei"]).round(3)
            pivot.columns = [f"{m.upper()}@{c:.0%}" for m, c in pivot.columns]
            tables[study] = pivot.reset_index().to_markdown(index=False)
        active = folds[folds["study_area"] == "active_cells"].drop_duplicates("test_period")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(summary),
                "target": x["target"],
                "risk_terrain": x["risk_terrain"],
                "folds": int(folds["test_period"].nunique()),
                "test_months": ", ".join(sorted(set(folds["test_period"]))),
                "folds_after_missing_month": ", ".join(gap) or "none",
                "months_missing": ", ".join(x["span"].missing) or "none",
                "methods": ", ".join(sorted(summary["method"].unique())),
                **backtest_figures(summary),
                "study_areas": (
                    "figures without a suffix: every cell of the force area (the study grid, "
                    "zeros included); *_active_cells: only cells with >= 1 event in the "
                    "fold's training span (test events elsewhere left out)"
                ),
                "study_cells_force_area": int(folds["study_cells"].max()),
                "study_cells_active_mean": round(float(active["study_cells"].mean()), 1),
                "test_events_outside_active_cells_mean": round(
                    float(active["test_events_outside_study_area"].mean()), 2
                ),
                "pai_pei_table_force_area": dg.MetadataValue.md(tables["force_area"]),
                "pai_pei_table_active_cells": dg.MetadataValue.md(
                    tables.get("active_cells", "no fold had an active cell")
                ),
                "path": dg.MetadataValue.path(str(out)),
                "folds_path": dg.MetadataValue.path(str(folds_out)),
                **computed(digest),
            },
            data_version=dg.DataVersion(digest),
        )

    return backtest


def _backtest_digest(x: dict, config) -> str:
    """What the backtest computes from (:func:`_forecast_inputs`), its config and code."""
    from pathlib import Path

    from assets.reuse import values_digest
    from vrdp.hotspots import pipeline

    aux = x["aux"] or {}
    return values_digest(
        [x["cells"], x["counts"], x["covariate"], *(aux[k] for k in sorted(aux))],
        code=[Path(__file__), *Path(pipeline.__file__).parent.glob("*.py")],
        config="\n".join(
            [
                config.model_dump_json(),
                x["target"],
                x["risk_terrain"],
                ",".join(x["span"].months),
                ",".join(x["span"].missing),
                ",".join(sorted(aux)),
            ]
        ),
    )


def _planted_recall(context, platform: PlatformConfig, selected, as_of, window_days):
    """Recall of the simulated world's planted hot spots (evaluation metadata only)."""
    import pandas as pd

    from vrdp.hotspots.force_events import planted_hotspot_recall

    truth_dir = platform.resolve().world_truth_dir
    if truth_dir is None or not (truth_dir / "hotspots.parquet").exists():
        return {"planted_hotspot_recall": "no simulated world truth (Settings.world_truth_dir)"}
    r = planted_hotspot_recall(
        pd.read_parquet(truth_dir / "hotspots.parquet"),
        list(selected),
        as_of=as_of,
        window_days=window_days,
        tolerance_k=1,
    )
    context.log.info(f"planted hot spot recall {r['recall']:.2f} ({r['found']}/{r['truth_cells']})")
    return {
        "planted_hotspot_recall": round(float(r["recall"]), 4),
        "planted_hotspot_precision": round(float(r["precision"]), 4),
        "planted_hotspots_found": f"{r['found']}/{r['truth_cells']}",
        "planted_hotspots_by_kind": dg.MetadataValue.json(r["by_kind"]),
        "planted_hotspots_missed": ", ".join(r["missed_cells"]) or "none",
        "planted_recall_rule": (
            f"planted hot spots active in {r['window']}; found = a selected cell within "
            f"{r['tolerance_k']} H3 ring; truth from {truth_dir} (evaluation only)"
        ),
    }


def _hotspot_list_asset(fam: Family) -> dg.AssetsDefinition:
    names = ("study_events", "cell_harm_windows", "gi_star", "classification", "forecast")

    @dg.asset(
        key=fam.key("hotspot_list"),
        deps=[*(fam.key(n) for n in names), boundary_key("wards")],
        group_name=fam.prefix,
        kinds={"python", "parquet"},
        code_version="2",
    )
    def hotspot_list(
        context: dg.AssetExecutionContext, platform: PlatformConfig, config: HotspotListConfig
    ) -> dg.MaterializeResult:
        """Gi*-significant hot cells ranked by harm, with class, forecast, windows, overrides."""
        import h3
        import pandas as pd

        from vrdp.geo import assign_area_codes
        from vrdp.hotspots.override_log import overrides_path, read_overrides
        from vrdp.hotspots.pipeline import md_table, patrol_summary, select_hotspots
        from vrdp.lake import write_parquet_atomic

        if (skipped := _skipped(platform, fam)) is not None:
            return skipped
        s = platform.resolve()
        top_n = config.top_n or s.hotspot_top_n
        events, harm, _cells, span = _inputs(platform, fam)
        gi = _read(platform, fam, "gi_star")
        cls = _read(platform, fam, "classification")
        fc = _read(platform, fam, "forecast")
        ov_path = overrides_path(s)
        overrides = read_overrides(ov_path)
        cand = set(gi.loc[gi["hot_spot"], "h3_cell"]) | set(overrides["h3_cell"])
        # patrol windows from the events that count (the guard's exclusions left out)
        counted = events[~events["excluded_by_guard"] & events["h3_cell"].isin(cand)]
        patrol = patrol_summary(counted, sorted(cand))
        table = select_hotspots(
            gi, harm, cls, fc, patrol, overrides, top_n=top_n, window_days=config.window_days
        )
        latlng = [h3.cell_to_latlng(c) for c in table["h3_cell"]]
        table["latitude"] = [p[0] for p in latlng]
        table["longitude"] = [p[1] for p in latlng]
        # the ward of the cell's centre, from the configured force's wards (null outside)
        wards = read_boundaries(platform, "wards")
        codes = assign_area_codes(table["longitude"], table["latitude"], wards, "WD25CD")
        table["ward_code"] = pd.array(codes, dtype="string")
        names_by_code = wards.set_index("WD25CD")["WD25NM"]
        table["ward_name"] = table["ward_code"].map(names_by_code).astype("string")
        table["as_of"] = span.as_of
        table["exclude_police_generated"] = bool(harm["exclude_police_generated"].iloc[0])
        table["hotspot_family"] = fam.prefix
        out = write_parquet_atomic(table, fam.lake(platform, "hotspot_list"))

        applied = table[table["override"].notna()]
        listed = set(table["h3_cell"])
        not_applied = overrides[~overrides["h3_cell"].isin(listed)]
        if len(not_applied):
            context.log.warning(
                f"{len(not_applied)} override(s) for cells not on the list (suppress of an "
                f"unlisted cell, or superseded): {sorted(set(not_applied['h3_cell']))}"
            )
        sel = table[table["selected"]]
        month_only = bool((table["time_basis"] == "month_only").all()) if len(table) else False
        cols = ["rank", "h3_cell", "harm_days", "z_score", "hotspot_category", "forecast_rank"]
        recall = (
            _planted_recall(context, platform, sel["h3_cell"], span.as_of, config.window_days)
            if fam.force_data
            else {}
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(table),
                "selected": len(sel),
                "top_n": top_n,
                "gi_star_hot_cells": int(gi["hot_spot"].sum()),
                "harm_window_days": config.window_days,
                "as_of": str(span.as_of.date()),
                "exclude_police_generated": bool(harm["exclude_police_generated"].iloc[0]),
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
                    else "from event times (hour of week, 3-hour windows)"
                ),
                **recall,
                "preview": dg.MetadataValue.md(md_table(sel[[*cols, "patrol_windows"]])),
                "path": dg.MetadataValue.path(str(out)),
            }
        )

    return hotspot_list


def _family_assets(fam: Family) -> list[dg.AssetsDefinition]:
    return [
        _harm_windows_asset(fam),
        _gi_star_asset(fam),
        _kde_asset(fam),
        _classification_asset(fam),
        _forecast_asset(fam),
        _backtest_asset(fam),
        _hotspot_list_asset(fam),
    ]


def hotspot_analysis_assets() -> list[dg.AssetsDefinition]:
    """The police.uk family (``hotspots/*``), in dependency order."""
    return _family_assets(POLICE_UK)


def force_hotspot_assets() -> list[dg.AssetsDefinition]:
    """The force-data family (``force_hotspots/*``, from ``marts.fct_events``), in order."""
    return _family_assets(FORCE)
