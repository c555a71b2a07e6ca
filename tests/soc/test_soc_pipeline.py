"""The SOC chain on the small world: ward marts, early warning, CHB evaluation vs truth."""

import duckdb
import pandas as pd
import pytest

from vrdp.early_warning import DEFAULT_DETECTOR


def q(root, sql):
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_ward_marts_count_what_fct_soc_events_holds(soc_warehouse):
    weekly = q(soc_warehouse, "select sum(soc_events) n from marts.fct_ward_soc_weekly")
    monthly = q(soc_warehouse, "select sum(soc_events) n from marts.fct_ward_soc_monthly")
    events = q(
        soc_warehouse, "select count(*) n from marts.fct_soc_events where ward_code is not null"
    )
    assert int(weekly.n[0]) == int(monthly.n[0]) == int(events.n[0]) > 0
    wards = q(soc_warehouse, "select count(distinct ward_code) n from marts.fct_ward_soc_monthly")
    assert int(wards.n[0]) == 293  # every Thames Valley ward, quiet ones included


def test_intelligence_grading_is_kept(soc_warehouse):
    g = q(
        soc_warehouse,
        "select sum(intelligence_logs) logs, sum(intelligence_grade_a + intelligence_grade_b"
        " + intelligence_grade_c + intelligence_grade_d + intelligence_grade_e) graded"
        " from marts.fct_ward_soc_monthly",
    )
    assert int(g.logs[0]) > 0
    assert int(g.graded[0]) >= 0.95 * int(g.logs[0])  # faulted gradings are the rest


def test_county_line_alarms_in_its_ward_after_onset(soc_warehouse, small_world):
    truth = pd.read_parquet(small_world / "truth" / "emerging_problems.parquet")
    alarms = pd.read_parquet(
        soc_warehouse / "lake" / "soc_analysis" / "early_warning_alarms.parquet"
    )
    assert {"method", "parameters", "expected", "upper_bound", "score", "driving_events"} <= set(
        alarms.columns
    )
    default = alarms[alarms["is_default"]]
    assert set(default["method"]) == {DEFAULT_DETECTOR}
    for _, p in truth.iterrows():
        onset = pd.Timestamp(p["onset_week"])
        hit = default[
            (default["ward_code"] == p["ward_code"])
            & default["soc_category"].isin(p["soc_categories"].split("|"))
            & (default["week_start"] >= onset)
        ]
        assert not hit.empty, p["problem_id"]
        first = hit.sort_values("week_start").iloc[0]
        assert (first["week_start"] - onset).days <= 4 * 7
        assert first["driving_event_count"] > 0 and first["driving_events"]
        assert first["observed"] > first["expected"]


def test_chb_phase_effects_recovered_within_cis(soc_warehouse, small_world):
    truth = pd.read_parquet(small_world / "truth" / "chb_phase_effects.parquet")
    ev = pd.read_parquet(soc_warehouse / "lake" / "soc_analysis" / "chb_evaluation.parquet")
    m = ev.merge(
        truth[["site_id", "phase", "measure", "true_rate_ratio"]],
        on=["site_id", "phase", "measure"],
    )
    assert len(m[m["method"] == "did"]) == len(truth)  # 3 sites x 3 phases x 3 measures
    cover = (m["ci_low"] <= m["true_rate_ratio"]) & (m["true_rate_ratio"] <= m["ci_high"])
    did = m["method"] == "did"
    # every planted rate ratio lies inside its 95% DiD interval (seed 7) ...
    assert cover[did].all(), m.loc[did & ~cover].to_string()
    # ... and the strongest planted effect (intelligence x2.5 in hold) is detected
    hold_intel = m[did & (m["phase"] == "hold") & (m["measure"] == "intelligence")]
    assert (hold_intel["ci_low"] > 1).all()
    # the synthetic control is noisier on sparse weekly ward counts: most CIs cover
    assert cover[~did].mean() >= 0.6


@pytest.mark.parametrize("model", ["fct_disruptions", "dim_chb_site_phases"])
def test_soc_sources_reach_the_marts(soc_warehouse, small_world, model):
    n = q(soc_warehouse, f"select count(*) n from marts.{model}")
    assert int(n.n[0]) > 0


def test_early_warning_model_card_beside_the_alarms(soc_warehouse, small_world):
    """Issue 19: the alarms ship a model card in the common format; with the world's truth
    its accuracy section reports delay and false alarms of every detector."""
    import json

    from vrdp.early_warning.card import early_warning_card
    from vrdp.early_warning.evaluation import evaluate
    from vrdp.governance.model_card import REQUIRED

    lake = soc_warehouse / "lake" / "soc_analysis"
    card = json.loads((lake / "early_warning_alarms.model_card.json").read_text())
    assert all(card[k] for k in REQUIRED)
    assert card["parameters"]["default_detector"] == DEFAULT_DETECTOR
    assert card["accuracy"]["series_scored"] > 0
    assert (lake / "early_warning_alarms.model_card.md").read_text().startswith("# Model card")
    # measured on the small world: every planted line found by the default detector
    scores = pd.read_parquet(lake / "early_warning_scores.parquet")
    truth = pd.read_parquet(small_world / "truth" / "emerging_problems.parquet")
    figures = evaluate(scores, truth, set(truth["ward_code"]))
    with_truth = early_warning_card(scores, DEFAULT_DETECTOR, truth_figures=figures)
    shown = with_truth.accuracy["on_planted_problems"][DEFAULT_DETECTOR]
    assert shown["detected"] == f"{len(truth)}/{len(truth)}"
    assert shown["mean_delay_weeks"] <= 4
    assert shown["false_alarms_per_ward_year"] < 1


def test_every_soc_staging_and_mart_column_described(soc_warehouse):
    """The SOC models the person warehouse fixture does not build have dbt docs too."""
    from support import described_columns

    columns = described_columns(soc_warehouse)
    soc = columns[columns["table_name"].str.contains("soc|chb|disruption")]
    assert len(soc) > 50
    missing = soc[~soc["described"]]
    assert missing.empty, missing[["table_name", "column_name"]].to_string()
