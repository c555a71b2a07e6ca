"""Serious organised crime by ward: early-warning alarms and the CHB evaluation.

Thin wrappers: each asset reads the SOC marts from the warehouse (in the warehouse
pool), calls the pure functions of ``vrdp.early_warning`` and
``vrdp.evaluation.chb`` and writes Parquet under ``lake/soc_analysis/``.
"""

import dagster as dg

from config.resources import WAREHOUSE_POOL, PlatformConfig

__all__ = [
    "ALARMS_KEY",
    "CHB_EVALUATION_KEY",
    "SCORES_KEY",
    "chb_evaluation",
    "early_warning",
    "soc_assets",
    "soc_lake",
]

SCORES_KEY = dg.AssetKey(["soc", "early_warning_scores"])
ALARMS_KEY = dg.AssetKey(["soc", "early_warning_alarms"])
CHB_EVALUATION_KEY = dg.AssetKey(["soc", "chb_evaluation"])
WEEKLY_KEY = dg.AssetKey(["marts", "fct_ward_soc_weekly"])
SOC_EVENTS_KEY = dg.AssetKey(["marts", "fct_soc_events"])
CHB_SITES_KEY = dg.AssetKey(["marts", "dim_chb_site_phases"])
FCT_EVENTS_KEY = dg.AssetKey(["marts", "fct_events"])

#: The CHB measures: fct_events rows counted per ward and week.
CHB_MEASURES_SQL = """
select ward_code, cast(date_trunc('week', occurred_on) as date) as week_start,
    case
        when event_type = 'crime' then 'crime'
        when event_type = 'incident' and classification = 'Anti-social behaviour' then 'asb'
        when event_type = 'intelligence' then 'intelligence'
    end as measure,
    count(*) as events
from marts.fct_events
where ward_code is not null and occurred_on is not null
    and (event_type in ('crime', 'intelligence')
         or (event_type = 'incident' and classification = 'Anti-social behaviour'))
group by all
"""


def soc_lake(platform: PlatformConfig, name: str):
    """Where a SOC analysis table lands: ``lake/soc_analysis/<name>.parquet``."""
    return platform.resolve().lake_dir / "soc_analysis" / f"{name}.parquet"


def _has_table(con, schema: str, name: str) -> bool:
    q = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    return bool(con.execute(q, [schema, name]).fetchone()[0])


@dg.multi_asset(
    name="soc_early_warning",
    specs=[
        dg.AssetSpec(
            SCORES_KEY,
            description=(
                "Every early-warning detector (EARS C1-C3, EWMA, Poisson CUSUM, Farrington) "
                "on every ward x SOC category x ISO week series: expected count, upper "
                "bound, score, alarm and parameters."
            ),
            group_name="soc",
            kinds={"python", "duckdb", "parquet"},
            deps=[WEEKLY_KEY],
        ),
        dg.AssetSpec(
            ALARMS_KEY,
            description=(
                "Early-warning alarms per ward x SOC category x week, each with its method, "
                "parameters, expected count, upper bound, score and the events that drove "
                "it; is_default marks the default detector's alarms (the ward view's)."
            ),
            group_name="soc",
            kinds={"python", "duckdb", "parquet"},
            deps=[WEEKLY_KEY, SOC_EVENTS_KEY, SCORES_KEY],
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def early_warning(context: dg.AssetExecutionContext, platform: PlatformConfig):
    """Run the detectors on fct_ward_soc_weekly and list alarms with their driving events."""
    from vrdp.early_warning import DEFAULT_DETECTOR, alarm_rows, run_detectors
    from vrdp.lake import write_parquet_atomic

    with platform.warehouse(read_only=True) as con:
        if not _has_table(con, "marts", "fct_ward_soc_weekly"):
            raise dg.Failure("marts.fct_ward_soc_weekly is not built yet")
        panel = con.execute(
            "select ward_code, soc_category, period_start, soc_events"
            " from marts.fct_ward_soc_weekly order by 1, 2, 3"
        ).df()
        events = con.execute(
            "select event_key, ward_code, soc_category, week_start, event_type"
            " from marts.fct_soc_events where ward_code is not null"
        ).df()
    scores = run_detectors(panel)
    alarms = alarm_rows(scores, events)
    alarms["is_default"] = alarms["method"] == DEFAULT_DETECTOR
    s_path = write_parquet_atomic(scores, soc_lake(platform, "early_warning_scores"))
    a_path = write_parquet_atomic(alarms, soc_lake(platform, "early_warning_alarms"))
    card = _early_warning_card(platform, scores, a_path)
    by_method = alarms.groupby("method").size().to_dict() if len(alarms) else {}
    series = panel.groupby(["ward_code", "soc_category"]).ngroups
    yield dg.MaterializeResult(
        asset_key=SCORES_KEY,
        metadata={
            "dagster/row_count": len(scores),
            "series": series,
            "series_with_events": int(
                scores[["ward_code", "soc_category"]].drop_duplicates().shape[0]
            )
            if len(scores)
            else 0,
            "path": dg.MetadataValue.path(str(s_path)),
        },
    )
    latest = alarms[alarms["is_default"]].sort_values("week_start").tail(10)
    yield dg.MaterializeResult(
        asset_key=ALARMS_KEY,
        metadata={
            "dagster/row_count": len(alarms),
            "default_detector": DEFAULT_DETECTOR,
            "alarms_by_method": dg.MetadataValue.json({k: int(v) for k, v in by_method.items()}),
            "latest_default_alarms": dg.MetadataValue.md(
                latest[
                    ["ward_code", "soc_category", "week_start", "observed", "expected"]
                ].to_markdown(index=False)
                if len(latest)
                else "none"
            ),
            "path": dg.MetadataValue.path(str(a_path)),
            "model_card": dg.MetadataValue.path(str(card)),
        },
    )


def _early_warning_card(platform: PlatformConfig, scores, alarms_path):
    """Write the alarms' model card beside them; accuracy on planted problems if truth is here."""
    import pandas as pd

    from vrdp.early_warning import DEFAULT_DETECTOR
    from vrdp.early_warning.card import early_warning_card
    from vrdp.early_warning.evaluation import evaluate
    from vrdp.governance.model_card import write_model_card

    truth = platform.resolve().world_truth_dir
    figures, source = None, None
    if truth is not None and (truth / "emerging_problems.parquet").exists() and len(scores):
        problems = pd.read_parquet(truth / "emerging_problems.parquet")
        planted = set(problems["ward_code"])
        if (truth / "chb_phase_effects.parquet").exists():
            planted |= set(pd.read_parquet(truth / "chb_phase_effects.parquet")["ward_code"])
        figures = evaluate(scores, problems, planted)
        source = f"simulated world truth ({truth}), evaluation only"
    card = early_warning_card(scores, DEFAULT_DETECTOR, truth_figures=figures, truth_source=source)
    return write_model_card(card, alarms_path)[1]


@dg.asset(
    key=CHB_EVALUATION_KEY,
    description=(
        "Clear-Hold-Build evaluation per site, phase and measure (crime, ASB calls, "
        "intelligence): difference in differences against comparison wards matched on "
        "pre-period level and trend, and a synthetic control where enough donors exist, "
        "as rate ratios with 95% CIs."
    ),
    group_name="soc",
    kinds={"python", "duckdb", "parquet"},
    deps=[CHB_SITES_KEY, FCT_EVENTS_KEY],
    pool=WAREHOUSE_POOL,
)
def chb_evaluation(context: dg.AssetExecutionContext, platform: PlatformConfig):
    """Rate ratios of each CHB phase (DiD and synthetic control) with CIs."""
    from vrdp.evaluation.chb import evaluate_sites
    from vrdp.lake import write_parquet_atomic

    with platform.warehouse(read_only=True) as con:
        phases = con.execute(
            "select site_id, site_name, ward_code, phase, phase_start, phase_end"
            " from marts.dim_chb_site_phases order by site_id, phase_start"
        ).df()
        panel = con.execute(CHB_MEASURES_SQL).df()
    path = soc_lake(platform, "chb_evaluation")
    if phases.empty:
        path.unlink(missing_ok=True)
        return dg.MaterializeResult(
            metadata={"note": "no CHB site delivered yet", "dagster/row_count": 0}
        )
    result = evaluate_sites(panel, phases)
    truth = platform.resolve().world_truth_dir
    meta = {}
    if truth is not None and (truth / "chb_phase_effects.parquet").exists():
        import pandas as pd

        eff = pd.read_parquet(truth / "chb_phase_effects.parquet")
        m = result.merge(
            eff[["site_id", "phase", "measure", "true_rate_ratio"]],
            on=["site_id", "phase", "measure"],
        )
        cover = (m["ci_low"] <= m["true_rate_ratio"]) & (m["true_rate_ratio"] <= m["ci_high"])
        meta = {
            "truth_coverage_by_method": dg.MetadataValue.json(
                {k: round(float(v), 3) for k, v in cover.groupby(m["method"]).mean().items()}
            ),
            "truth_source": f"simulated world truth ({truth}), evaluation only",
        }
    out = write_parquet_atomic(result, path)
    preview = result[result["method"] == "did"][
        ["site_id", "phase", "measure", "rate_ratio", "ci_low", "ci_high"]
    ].round(2)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(result),
            "sites": int(phases["site_id"].nunique()),
            "did": dg.MetadataValue.md(preview.to_markdown(index=False)),
            **meta,
            "path": dg.MetadataValue.path(str(out)),
        }
    )


def soc_assets() -> list:
    """The SOC analysis assets (early warning, CHB evaluation, the lost-subject export)."""
    from assets.soc.lost_subject import lost_subject_export

    return [early_warning, chb_evaluation, lost_subject_export]
