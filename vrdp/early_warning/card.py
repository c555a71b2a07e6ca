"""The early-warning model card (the format of :mod:`vrdp.governance.model_card`)."""

from __future__ import annotations

import json

import pandas as pd

from vrdp.governance.model_card import ModelCard

__all__ = ["early_warning_card", "alarm_rates"]


def alarm_rates(scores: pd.DataFrame) -> dict:
    """Alarms per ward-year of each detector over every ward scored (no truth needed).

    >>> s = pd.DataFrame({"method": "m", "ward_code": ["A", "A", "B", "B"],
    ...     "week_start": pd.to_datetime(["2025-01-06", "2025-01-13"] * 2),
    ...     "alarm": [True, False, False, False]})
    >>> alarm_rates(s)
    {'m': 13.0}
    """
    out = {}
    for method, s in scores.groupby("method", sort=True):
        ward_years = s["ward_code"].nunique() * s["week_start"].nunique() / 52.0
        out[method] = round(float(s["alarm"].sum()) / ward_years, 3) if ward_years else None
    return out


def early_warning_card(
    scores: pd.DataFrame,
    default: str,
    *,
    truth_figures: dict | None = None,
    truth_source: str | None = None,
) -> ModelCard:
    """The card of the early-warning alarms made from ``scores`` (``run_detectors``).

    ``truth_figures`` (``vrdp.early_warning.evaluation.evaluate`` on planted problems)
    fill the accuracy section when the simulated world's truth was at hand; without
    them the card points at the detector benchmark.

    >>> s = pd.DataFrame({"method": "poisson_cusum", "ward_code": "A", "soc_category": "x",
    ...     "week_start": pd.to_datetime(["2025-01-06", "2025-01-13"]), "alarm": False,
    ...     "parameters": '{"k": 1.5}'})
    >>> card = early_warning_card(s, "poisson_cusum")
    >>> card.parameters["default_parameters"], card.training_window
    ({'k': 1.5}, 'weeks 2025-01-06 to 2025-01-13 (each series against its own past)')
    """
    params = {
        m: json.loads(g["parameters"].iloc[0]) for m, g in scores.groupby("method", sort=True)
    }
    weeks = pd.to_datetime(scores["week_start"]) if len(scores) else pd.Series([], dtype="M8[ns]")
    window = (
        f"weeks {weeks.min():%Y-%m-%d} to {weeks.max():%Y-%m-%d} (each series against its own past)"
        if len(weeks)
        else "no weeks scored"
    )
    accuracy: dict = {
        "series_scored": int(scores[["ward_code", "soc_category"]].drop_duplicates().shape[0])
        if len(scores)
        else 0,
        "alarms_per_ward_year_all_wards": alarm_rates(scores) if len(scores) else {},
    }
    if truth_figures:
        accuracy["on_planted_problems"] = {
            m: {
                "detected": f"{f['detected']}/{f['planted']}",
                "mean_delay_weeks": f["mean_delay_weeks"],
                "false_alarms_per_ward_year": f["false_alarms_per_ward_year"],
            }
            for m, f in truth_figures.items()
        }
        method = (
            f"Detection delay and false alarms per ward-year measured against the planted "
            f"emerging problems of {truth_source or 'the simulated world'} (truth read for "
            "evaluation only; the detectors never see it); false alarms counted on wards with "
            "nothing planted. Alarm rates over all wards need no truth."
        )
    else:
        accuracy["measured_by"] = "bench/results/early_warning.json (python -m bench.early_warning)"
        method = (
            "No truth here: delay and false-alarm figures come from the detector benchmark on "
            "the simulated world; alarm rates over all wards are this run's."
        )
    return ModelCard(
        name="early warning of emerging SOC problems (ward x SOC category x week)",
        inputs=[
            "weekly counts of SOC-related crimes, incidents and intelligence logs per ward "
            "and SOC category (marts.fct_ward_soc_weekly; categories from the "
            "soc_category_map seed)",
            "the SOC events behind each alarm (marts.fct_soc_events), listed with it",
        ],
        owner="force SOC intelligence analysts (serious organised crime unit)",
        excluded_fields=[
            "every person-level field (names, dates of birth, addresses, ethnicity)",
            "exploitation victims and perpetrators (restricted layer only)",
            "intelligence free text and source identities",
        ],
        parameters={
            "default_detector": default,
            "default_parameters": params.get(default, {}),
            "detectors": params,
        },
        training_window=window,
        accuracy=accuracy,
        accuracy_method=method,
        known_limits=[
            "counts are recorded activity: intelligence follows police attention, so a new "
            "operation can raise alarms with no change in harm",
            "wards with few events have little history; detectors guard minimum counts but "
            "small series alarm on noise",
            "a change in recording (a new category mapping, a new source) looks like a surge",
            "an alarm is a prompt for an analyst to look, not evidence about any place or person",
        ],
        intended_use=(
            "show senior leaders and analysts, per ward and SOC category, where a problem may "
            "be emerging early enough to assign specialist resources; each alarm is reviewed"
        ),
    )
