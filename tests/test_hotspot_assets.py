"""The hot spot analysis assets, in-process, on real City of London data.

Eleven 2025 months are landed (July held back, as in the release) and
``run_all`` materializes everything into a temporary data root with an
ephemeral Dagster instance; then two analyst overrides are added with the CLI
and only ``hotspots/hotspot_list`` is re-materialized.
"""

import json

import dagster as dg
import pandas as pd
import pytest
from support import COL_STREET, land

from assets.hotspots.analysis import (
    BACKTEST_KEY,
    CELL_HARM_WINDOWS_KEY,
    CLASSIFICATION_KEY,
    FORECAST_KEY,
    GI_STAR_KEY,
    HOTSPOT_LIST_KEY,
    KDE_KEY,
    STUDY_EVENTS_KEY,
)
from config.settings import settings
from vrdp.hotspots import override_log as overrides_cli

KEYS = [
    STUDY_EVENTS_KEY,
    CELL_HARM_WINDOWS_KEY,
    GI_STAR_KEY,
    KDE_KEY,
    CLASSIFICATION_KEY,
    FORECAST_KEY,
    BACKTEST_KEY,
    HOTSPOT_LIST_KEY,
]
MONTHS = [f"2025-{m:02d}" for m in range(1, 13) if m != 7]
SUPPRESS_REASON = "Building site, hoarding since November: no public space"
ADD_REASON = "Community intelligence: new late-night venue"


def _meta(instance, key):
    (record,) = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key), limit=1
    ).records
    return {k: v.value for k, v in record.asset_materialization.metadata.items()}


def _materialize(instance, selection, partition_key=None):
    from orchestration.definitions import build_defs

    defs = build_defs()
    result = dg.materialize(
        [*defs.assets, *(defs.asset_checks or [])],
        selection=selection,
        partition_key=partition_key,
        instance=instance,
        resources=dict(defs.resources or {}),
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    assert result.success


def _build(instance):
    """What ``run_all`` does, limited to the hot spot analysis and what it needs."""
    from assets.sources.police_uk import (
        POLICE_UK_MONTHS,
        STREET_CRIMES_KEY,
        STREET_QUARANTINE_KEY,
    )

    instance.add_dynamic_partitions(POLICE_UK_MONTHS.name, MONTHS)
    _materialize(instance, dg.AssetSelection.groups("geography"))
    source = dg.AssetSelection.assets(STREET_CRIMES_KEY, STREET_QUARANTINE_KEY)
    for month in MONTHS:
        _materialize(instance, source, partition_key=month)
    # the whole dbt build (its tests span staging and marts), then the analysis
    # The hot spot assets and the dbt models they read, nothing else of the warehouse.
    # (the harm mart too: dbt's eager indirect selection runs its relationship test
    # whenever the harm-weight seed is built)
    needed = dg.AssetSelection.assets(
        *KEYS, dg.AssetKey(["marts", "fct_cell_monthly_harm"])
    ).upstream() - dg.AssetSelection.groups("geography", "sources", "quarantine", "landing")
    _materialize(instance, needed)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("hotspots") / "data"
    mp.setenv("VRDP_DATA_ROOT", str(root))
    mp.setenv("VRDP_POLICE_UK_FORCE", "city-of-london")
    mp.setenv("HOME", str(root.parent / "home"))
    mp.delenv("DAGSTER_HOME", raising=False)
    land(root, *[COL_STREET / f"{m}-city-of-london-street.csv.gz" for m in MONTHS])
    instance = dg.DagsterInstance.ephemeral()
    _build(instance)
    s = settings()
    lake = s.lake_dir / "hotspots"
    before = pd.read_parquet(lake / "hotspot_list.parquet")
    gi = pd.read_parquet(lake / "gi_star.parquet")
    # suppress the top-ranked hot spot; add the not-listed cell with most harm
    suppressed = before.loc[before["rank"] == 1, "h3_cell"].item()
    outside = gi[~gi["h3_cell"].isin(before["h3_cell"])].sort_values("value", ascending=False)
    added = outside["h3_cell"].iloc[0]
    for cell, action, reason in (
        (suppressed, "suppress", SUPPRESS_REASON),
        (added, "add", ADD_REASON),
    ):
        argv = [
            "add",
            "--cell",
            cell,
            "--action",
            action,
            "--reason",
            reason,
            "--analyst",
            "A. Analyst",
        ]
        assert overrides_cli.main(argv) == 0
    _materialize(instance, [HOTSPOT_LIST_KEY])
    yield {
        "instance": instance,
        "settings": s,
        "lake": lake,
        "before": before,
        "suppressed": suppressed,
        "added": added,
    }
    mp.undo()


def test_gi_star_one_row_per_grid_cell_and_fdr_hot_spots(run):
    grid = pd.read_parquet(run["lake"] / "cell_harm_windows.parquet")
    gi = pd.read_parquet(run["lake"] / "gi_star.parquet")
    assert grid["h3_cell"].is_unique and len(grid) > 50
    assert gi["h3_cell"].tolist() == grid["h3_cell"].tolist()
    assert (gi["value"] == grid["harm_days_91d"]).all()
    hot = gi[(gi["z_score"] > 0) & (gi["p_adjusted"] < 0.05)]
    assert len(hot) > 0 and hot["hot_spot"].all() and set(gi["correction"]) == {"fdr_bh"}
    assert (gi["p_adjusted"].dropna() >= gi["p_value"].dropna() - 1e-12).all()
    meta = _meta(run["instance"], GI_STAR_KEY)
    assert meta["significant_hot_cells"] == len(hot) and meta["correction"] == "fdr_bh"


def test_harm_windows_record_guard_and_grid_fallback(run):
    grid = pd.read_parquet(run["lake"] / "cell_harm_windows.parquet")
    events = pd.read_parquet(run["lake"] / "study_events.parquet")
    meta = _meta(run["instance"], CELL_HARM_WINDOWS_KEY)
    assert meta["exclude_police_generated"] is True
    assert grid["exclude_police_generated"].all() and events["exclude_police_generated"].all()
    guarded = events["crime_type"].isin(["Drugs", "Possession of weapons"])
    assert (events["excluded_by_guard"] == guarded).all() and guarded.any()
    assert meta["events_excluded_by_guard"] == int(guarded.sum())
    # the grid is the force outline, cut from the national pack (said so)
    assert "force outline" in meta["grid_rule"] and set(grid["grid_rule"]) == {meta["grid_rule"]}
    assert str(grid["as_of"].iloc[0].date()) == "2026-01-01"
    # the 91-day window ending 2026-01-01 is Oct 2 .. Dec 31: Nov and Dec whole, Oct pro-rated
    kept = events[~events["excluded_by_guard"]]
    m = kept["month"].dt.strftime("%Y-%m")
    expected = m.isin(["2025-11", "2025-12"]).sum() + (m == "2025-10").sum() * 30 / 31
    assert grid["events_91d"].sum() == pytest.approx(expected)
    assert grid["events_365d"].sum() == pytest.approx(len(kept))  # July missing, not invented
    assert {"28", "91", "365"} == set(meta["windows_days"].split(", "))


def test_kde_states_bandwidth(run):
    kde = pd.read_parquet(run["lake"] / "kde.parquet")
    meta = _meta(run["instance"], KDE_KEY)
    assert meta["bandwidth_m"] > 0 and set(kde["bandwidth_m"].round(1)) == {meta["bandwidth_m"]}
    assert (kde["kde_harm_days_per_km2"] >= 0).all() and kde["kde_rank"].min() == 1
    below = meta["bandwidth_m"] < meta["cell_spacing_m"]
    assert ("below the cell size" in meta["bandwidth_warning"]) == below


def test_classification_lists_missing_month(run):
    cls = pd.read_parquet(run["lake"] / "classification.parquet")
    meta = _meta(run["instance"], CLASSIFICATION_KEY)
    assert meta["months_missing"] == "2025-07"
    assert "2025-07" in meta["months_excluded"] and meta["months_used"] <= 11
    assert cls["hotspot_category"].str.contains("persistent hotspot").any()
    assert set(cls["trend"]) <= {"increasing", "decreasing", "no trend"}


def test_forecast_is_for_next_month(run):
    fc = pd.read_parquet(run["lake"] / "forecast.parquet")
    meta = _meta(run["instance"], FORECAST_KEY)
    assert set(fc["forecast_month"]) == {"2026-01"} and meta["forecast_month"] == "2026-01"
    assert sorted(fc["forecast_rank"]) == list(range(1, len(fc) + 1))
    card = json.loads((run["lake"] / "forecast.model_card.json").read_text())  # issue 19
    assert card["training_window"] and card["owner"] and card["excluded_fields"]


def test_backtest_has_pai_pei_for_every_method_and_share(run):
    meta = _meta(run["instance"], BACKTEST_KEY)
    summary = pd.read_parquet(run["lake"] / "backtest.parquet")
    methods = {"forecast", "previous_period", "all_periods", "ewm", "kde"}
    assert set(summary["method"]) == methods
    for method in methods:
        for pct in (1, 5, 10):
            for metric in ("pai", "pei", "hit_rate", "rri"):
                assert f"{metric}_at_{pct}pct_{method}" in meta
            assert 0 <= meta[f"pei_at_{pct}pct_{method}"] <= 1 + 1e-9
    assert meta["pai_at_5pct_forecast"] > 1  # better than picking cells at random
    assert "2025-07" not in meta["test_months"] and meta["folds_after_missing_month"] == "2025-08"


def test_hotspot_list_honours_cli_overrides(run):
    lst = pd.read_parquet(run["lake"] / "hotspot_list.parquet")
    gi = pd.read_parquet(run["lake"] / "gi_star.parquet")
    algo = lst[lst["source"] == "algorithm"]
    # the algorithm's list: Gi* hot cells only, ranked by 91-day harm, at most top N
    assert set(algo["h3_cell"]) <= set(gi.loc[gi["hot_spot"], "h3_cell"])
    assert algo["harm_days"].is_monotonic_decreasing
    assert len(algo) == min(settings().hotspot_top_n, int(gi["hot_spot"].sum()))
    assert algo["h3_cell"].tolist() == run["before"]["h3_cell"].tolist()
    sup = lst.set_index("h3_cell").loc[run["suppressed"]]
    assert not sup["selected"] and sup["override"] == "suppressed"
    assert sup["override_reason"] == SUPPRESS_REASON and sup["override_by"] == "A. Analyst"
    add = lst.set_index("h3_cell").loc[run["added"]]
    assert add["selected"] and add["override"] == "added" and add["source"] == "analyst"
    assert add["override_reason"] == ADD_REASON and pd.isna(add["rank"])
    assert add["harm_days"] > 0 and add["forecast_rank"] >= 1  # context filled for added cells
    assert lst["hotspot_category"].notna().all() and lst["forecast_rank"].notna().all()
    assert (lst["time_basis"] == "month_only").all()
    assert lst["patrol_windows"].str.contains("month only").all()
    meta = _meta(run["instance"], HOTSPOT_LIST_KEY)
    assert meta["overrides_applied"] == 2 and meta["overrides_in_audit_table"] == 2
    assert SUPPRESS_REASON in meta["overrides"] and ADD_REASON in meta["overrides"]
    assert meta["selected"] == len(lst) - 1


def test_override_cli_validates_and_only_appends(run, capsys):
    path = overrides_cli.overrides_path(run["settings"])
    before = path.read_text()
    for argv in (
        ["add", "--cell", run["added"], "--action", "add", "--reason", "  ", "--analyst", "x"],
        ["add", "--cell", "not-a-cell", "--action", "add", "--reason", "r", "--analyst", "x"],
        ["add", "--cell", run["added"], "--action", "boost", "--reason", "r", "--analyst", "x"],
    ):
        with pytest.raises(SystemExit):
            overrides_cli.main(argv)
    assert path.read_text() == before
    table = overrides_cli.read_overrides(path)
    assert list(table.columns) == ["h3_cell", "action", "reason", "analyst", "created_at"]
    assert table["action"].tolist() == ["suppress", "add"]


def test_study_events_cover_every_loaded_row(run):
    import duckdb

    events = pd.read_parquet(run["lake"] / "study_events.parquet")
    con = duckdb.connect(str(run["settings"].warehouse_path), read_only=True)
    try:
        n = con.execute("select count(*) from staging.stg_police_uk__street_crimes").fetchone()[0]
    finally:
        con.close()
    assert len(events) == n and events["event_id"].is_unique
    assert _meta(run["instance"], STUDY_EVENTS_KEY)["months_missing"] == "2025-07"
