"""Trial evaluation: the intention-to-treat hot spot-day table and the effect estimates."""

import dagster as dg

from assets.patrol.common import (
    CAD_KEY,
    DAILY_DOSAGE_KEY,
    GROUP,
    HOTSPOT_LIST_KEY,
    ITT_TABLE_KEY,
    OCCURRENCES_KEY,
    TRIAL_ALLOCATION_KEY,
    TRIAL_EFFECT_KEY,
    TRIAL_UNITS_KEY,
)
from config.resources import PlatformConfig

__all__ = ["IttConfig", "TrialEffectConfig", "itt_table_asset", "trial_effect"]


class IttConfig(dg.Config):
    """Pre-trial baseline used for the difference in differences."""

    pre_period_days: int = 90


class TrialEffectConfig(dg.Config):
    """Costs for the return on investment (illustrative defaults; set your force's figures)."""

    cost_per_patrol_hour: float = 45.0
    harm_cost_per_crime: float = 2000.0
    ring_m: float = 100.0
    detectable_irr: float = 0.8


@dg.asset(
    key=ITT_TABLE_KEY,
    deps=[TRIAL_ALLOCATION_KEY, TRIAL_UNITS_KEY, DAILY_DOSAGE_KEY, OCCURRENCES_KEY, CAD_KEY],
    group_name=GROUP,
    kinds={"python", "parquet"},
    code_version="1",
)
def itt_table_asset(
    context: dg.AssetExecutionContext, config: IttConfig, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Intention-to-treat hot spot-day table: arm, delivered minutes, crimes + ASB and harm."""
    import pandas as pd

    from assets.patrol.common import harm_weights, trial_events
    from assets.patrol.design import trial_design_dir
    from vrdp.evaluation import events_to_unit_days, itt_table
    from vrdp.lake import write_parquet_atomic

    s = platform.resolve()
    design = trial_design_dir(s.lake_dir)
    alloc = pd.read_parquet(design / "trial_allocation.parquet")
    units = pd.read_parquet(design / "trial_units.parquet")
    out = s.lake_dir / "patrol" / "itt_table.parquet"
    if not len(alloc):
        empty = pd.DataFrame(
            columns=[
                "unit_id",
                "date",
                "period",
                "arm",
                "treated",
                "dosage_minutes",
                "crimes",
                "harm",
            ]
        )
        write_parquet_atomic(empty, out)
        return dg.MaterializeResult(metadata={"trial_running": False, "dagster/row_count": 0})
    events = trial_events(s.lake_dir)
    outcomes = events_to_unit_days(
        events,
        units,
        time_col="occurred_at",
        h3_resolution=s.h3_resolution,
        harm_weights=harm_weights(),
    )
    dosage = pd.read_parquet(s.lake_dir / "patrol" / "daily_dosage.parquet")
    first = pd.Timestamp(alloc["date"].min())
    pre = (
        (
            str((first - pd.Timedelta(days=config.pre_period_days)).date()),
            str((first - pd.Timedelta(days=1)).date()),
        )
        if config.pre_period_days > 0
        else None
    )
    itt = itt_table(alloc, outcomes, dosage if len(dosage) else None, pre_period=pre)
    write_parquet_atomic(itt, out)
    trial = itt[itt["period"] == "trial"]
    by_arm = trial.groupby("arm")[["crimes", "harm", "dosage_minutes"]].mean().round(3)
    return dg.MaterializeResult(
        metadata={
            "trial_running": True,
            "unit_days_trial": len(trial),
            "unit_days_pre": int((itt["period"] == "pre").sum()),
            "pre_period": f"{pre[0]} .. {pre[1]}" if pre else "none",
            "events_used": len(events),
            "events_in_units": int(outcomes["crimes"].sum()),
            "mean_per_unit_day_by_arm": dg.MetadataValue.md(by_arm.to_markdown()),
            "dagster/row_count": len(itt),
            "path": dg.MetadataValue.path(str(out)),
        }
    )


def _displacement(events, units, hotspots, trial_dates, pre_days: int, ring_m: float) -> dict:
    """WDQ and WDD: trial units (A) and rings (B) against other hot spots (C) and rings (D)."""
    import geopandas as gpd
    import pandas as pd

    from vrdp.dosage import geofences_from_h3
    from vrdp.evaluation import displacement_counts, wdd, wdq

    trial_cells = set(units["h3_cell"])
    others = hotspots[~hotspots["h3_cell"].isin(trial_cells)].drop_duplicates("h3_cell")
    if not len(others):
        return {"note": "no comparison hot spots (hotspots/hotspot_list) outside the trial"}
    areas = pd.concat(
        [
            geofences_from_h3(units).assign(group="treated"),
            geofences_from_h3(
                pd.DataFrame({"unit_id": others["h3_cell"], "h3_cell": others["h3_cell"]})
            ).assign(group="control"),
        ],
        ignore_index=True,
    )
    areas = gpd.GeoDataFrame(areas, geometry="geometry", crs=areas.crs)
    start, end = trial_dates
    n_days = (end - start).days + 1
    before = (
        str((start - pd.Timedelta(days=min(pre_days, n_days))).date()),
        str((start - pd.Timedelta(days=1)).date()),
    )
    after = (str(start.date()), str(end.date()))
    c = displacement_counts(
        events, areas, ring_m=(0.0, ring_m), before=before, after=after
    ).set_index(["group", "area"])

    def g(group, area, period):
        return float(c.loc[(group, area), period])

    a_b, a_a = g("treated", "hotspot", "before"), g("treated", "hotspot", "after")
    b_b, b_a = g("treated", "ring", "before"), g("treated", "ring", "after")
    c_b, c_a = g("control", "hotspot", "before"), g("control", "hotspot", "after")
    d_b, d_a = g("control", "ring", "before"), g("control", "ring", "after")
    return {
        "before": before,
        "after": after,
        "control_hotspots": len(others),
        "counts": {"A": [a_b, a_a], "B": [b_b, b_a], "C": [c_b, c_a], "D": [d_b, d_a]},
        "wdq": wdq(a_b, a_a, c_b, c_a, b_b, b_a) if c_b and c_a else None,
        "wdd": wdd(a_b, a_a, c_b, c_a, b_b, b_a, d_b, d_a),
    }


def _twin_truth(truth, trial, nb) -> dict:
    """Evaluation only: the twin's planted effect on the observed patrol unit-days.

    The simulated force writes, per day and cell, the expected crimes with and without
    the dose actually delivered; the planted ITT ratio is their ratio summed over the
    trial's patrol-arm unit-days (what the NB IRR estimates). Never an input.
    """
    import pandas as pd

    days = sorted({str(pd.Timestamp(d).date()) for d in trial["date"]})
    frames = []
    for d in days:
        f = truth / "twin" / d / "cells.parquet"
        if f.exists():
            frames.append(pd.read_parquet(f).assign(date=pd.Timestamp(d)))
    if not frames or "h3_cell" not in trial:
        return {}
    cells = pd.concat(frames, ignore_index=True)
    p = trial[trial["treated"] == 1][["h3_cell", "date"]].assign(
        date=lambda x: pd.to_datetime(x["date"])
    )
    m = p.merge(cells, on=["h3_cell", "date"], how="inner")
    if not len(m) or m["base_rate"].sum() <= 0:
        return {}
    planted = float((m["base_rate"] * m["multiplier"]).sum() / m["base_rate"].sum())
    return {
        "truth_twin_days": len(frames),
        "truth_twin_planted_itt_irr": round(planted, 4),
        "truth_twin_ci_contains_planted": bool(nb["ci_low"] < planted < nb["ci_high"]),
    }


@dg.asset(
    key=TRIAL_EFFECT_KEY,
    deps=[ITT_TABLE_KEY, HOTSPOT_LIST_KEY, OCCURRENCES_KEY, CAD_KEY],
    group_name=GROUP,
    kinds={"python", "parquet", "statsmodels"},
    code_version="1",
)
def trial_effect(
    context: dg.AssetExecutionContext, config: TrialEffectConfig, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Patrol effect: NB IRR with unit fixed effects, DiD, harm ratio, WDQ/WDD, power and ROI."""
    import json

    import numpy as np
    import pandas as pd

    from assets.patrol.common import trial_events
    from assets.patrol.design import trial_design_dir
    from vrdp.evaluation import (
        difference_in_differences,
        harm_rate_ratio,
        nb_irr,
        return_on_investment,
        sample_size_count_outcome,
    )
    from vrdp.lake import write_parquet_atomic

    s = platform.resolve()
    itt = pd.read_parquet(s.lake_dir / "patrol" / "itt_table.parquet")
    out = s.lake_dir / "patrol" / "trial_effect.parquet"
    trial = itt[itt["period"] == "trial"]
    # Only trial days whose patrol data has arrived are outcomes yet (a platform trial
    # is allocated ahead: its future days have no GPS and no crimes so far).
    dosage_path = s.lake_dir / "patrol" / "daily_dosage.parquet"
    dosage_days = pd.read_parquet(dosage_path, columns=["date"]) if dosage_path.exists() else None
    if dosage_days is not None and len(dosage_days) and len(trial):
        observed = pd.to_datetime(dosage_days["date"]).max()
        trial = trial[pd.to_datetime(trial["date"]) <= observed]
        itt = itt[(itt["period"] != "trial") | itt.index.isin(trial.index)]
    days_observed = pd.to_datetime(trial["date"]).nunique()
    note = None
    if trial["treated"].nunique() < 2 or trial["crimes"].sum() == 0 or days_observed < 2:
        note = "fewer than 2 observed trial days with outcomes: no estimate yet"
    else:
        try:
            nb = nb_irr(trial)
            did = difference_in_differences(itt) if (itt["period"] == "pre").any() else None
            harm = harm_rate_ratio(itt)
        except (np.linalg.LinAlgError, ValueError):
            note = f"the NB model cannot be fitted on {len(trial)} observed unit-days yet"
    if note is not None:
        write_parquet_atomic(pd.DataFrame({"estimate": [], "value_json": []}), out)
        return dg.MaterializeResult(
            metadata={
                "trial_running": bool(len(itt)),
                "note": note,
                "unit_days_observed": len(trial),
                "dagster/row_count": 0,
            }
        )
    # Dose-response beside the ITT effect: IRR per 15 minutes delivered (observational:
    # the dose, unlike the arm, is not randomised), hot spot fixed effects.
    dosed = trial.assign(dose_15min=trial["dosage_minutes"].fillna(0.0) / 15.0)
    try:
        dose = nb_irr(dosed, treat_col="dose_15min") if dosed["dose_15min"].nunique() > 1 else None
    except np.linalg.LinAlgError:
        dose = None
    patrol = trial[trial["treated"] == 1]
    try:
        roi = return_on_investment(
            patrol_hours=float(patrol["dosage_minutes"].sum()) / 60.0,
            cost_per_patrol_hour=config.cost_per_patrol_hour,
            treated_crimes=float(patrol["crimes"].sum()),
            irr=nb["irr"],
            harm_cost_per_crime=config.harm_cost_per_crime,
            irr_ci=(nb["ci_low"], nb["ci_high"]),
        )
    except ZeroDivisionError:  # a CI bound of 0 on very few unit-days: no ROI range yet
        roi = {"roi": None, "crimes_prevented": None, "note": "IRR CI reaches 0: no ROI yet"}
    mu0 = float(trial.loc[trial["treated"] == 0, "crimes"].mean())
    needed = (
        sample_size_count_outcome(mu0, config.detectable_irr, dispersion=nb["alpha"])
        if mu0 > 0
        else None
    )
    units = pd.read_parquet(trial_design_dir(s.lake_dir) / "trial_units.parquet")
    hl_path = s.lake_dir / "hotspots" / "hotspot_list.parquet"
    hotspots = pd.read_parquet(hl_path) if hl_path.exists() else pd.DataFrame(columns=["h3_cell"])
    if "selected" in hotspots:
        hotspots = hotspots[hotspots["selected"]]
    dates = pd.to_datetime(trial["date"])
    disp = _displacement(
        trial_events(s.lake_dir),
        units,
        hotspots,
        (dates.min(), dates.max()),
        IttConfig().pre_period_days,
        config.ring_m,
    )
    estimates = {
        "nb_irr": nb,
        "dose_response_per_15_min": dose,
        "difference_in_differences": did,
        "harm_rate_ratio": harm,
        "displacement": disp,
        "return_on_investment": {
            **roi,
            "cost_per_patrol_hour": config.cost_per_patrol_hour,
            "harm_cost_per_crime": config.harm_cost_per_crime,
        },
        "power": {
            "mu_control_per_unit_day": mu0,
            "detectable_irr": config.detectable_irr,
            "unit_days_per_arm_needed": needed,
            "unit_days_per_arm_observed": int((trial["treated"] == 0).sum()),
        },
    }
    table = pd.DataFrame(
        {
            "estimate": list(estimates),
            "value_json": [json.dumps(v, default=str, sort_keys=True) for v in estimates.values()],
        }
    )
    write_parquet_atomic(table, out)
    truth_meta = {}
    truth = s.world_truth_dir
    design_file = trial_design_dir(s.lake_dir) / "trial_design.json"
    imported = (
        design_file.exists() and json.loads(design_file.read_text()).get("source") == "import"
    )
    # The static world's planted IRR is the effect of its own published schedule only.
    if truth is not None and imported and (truth / "trial_effect.parquet").exists():
        # Evaluation only: the simulated world's planted effect, never an input.
        planted = float(pd.read_parquet(truth / "trial_effect.parquet")["true_irr"].iloc[0])
        truth_meta = {
            "truth_planted_irr": planted,
            "truth_ci_contains_planted": bool(nb["ci_low"] < planted < nb["ci_high"]),
        }
    if truth is not None:
        cells_of = dict(zip(units["unit_id"], units["h3_cell"], strict=True))
        truth_meta.update(
            _twin_truth(truth, trial.assign(h3_cell=trial["unit_id"].map(cells_of)), nb)
        )
    wdd_r = disp.get("wdd") or {}
    wdq_r = disp.get("wdq") or {}

    def r(x, n=4):
        return None if x is None else round(float(x), n)

    return dg.MaterializeResult(
        metadata={
            "trial_running": True,
            **truth_meta,
            "irr": r(nb["irr"]),
            "irr_ci_low": r(nb["ci_low"]),
            "irr_ci_high": r(nb["ci_high"]),
            "irr_p_value": r(nb["p_value"], 6),
            "irr_model": nb["model"],
            "nb_alpha": r(nb["alpha"]),
            "irr_per_15_min_delivered": r(dose["irr"]) if dose else None,
            "irr_per_15_min_ci": f"{dose['ci_low']:.3f} .. {dose['ci_high']:.3f}"
            if dose
            else "no dose variation",
            "did_irr": r(did["irr"]) if did else None,
            "did_ci": f"{did['ci_low']:.3f} .. {did['ci_high']:.3f}" if did else "no pre-period",
            "harm_ratio": r(harm["irr"]),
            "harm_ratio_ci": f"{harm['ci_low']:.3f} .. {harm['ci_high']:.3f}",
            "wdq": r(wdq_r.get("wdq")),
            "wdd": r(wdd_r.get("wdd")),
            "wdd_z": r(wdd_r.get("z")),
            "displacement_note": disp.get("note", f"rings 0-{config.ring_m:.0f} m"),
            "roi": r(roi["roi"]),
            "roi_range": f"{roi.get('roi_low', float('nan')):.2f} .. "
            f"{roi.get('roi_high', float('nan')):.2f}",
            "crimes_prevented": r(roi["crimes_prevented"], 1),
            "patrol_hours": r(float(patrol["dosage_minutes"].sum()) / 60.0, 1),
            "unit_days_per_arm_needed": needed,
            "unit_days": len(trial),
            "estimates": dg.MetadataValue.json(json.loads(json.dumps(estimates, default=str))),
            "dagster/row_count": len(table),
            "path": dg.MetadataValue.path(str(out)),
        }
    )
