"""The force-data hot spot assets (``force_hotspots/*``), in-process, on the small world.

The warehouse here holds ``reference.cchi_harm_weights`` and, in the second
step, a ``marts.fct_events`` made from the small world's landing files
(:func:`vrdp.hotspots.force_events.fct_events_from_landing`: RMS crimes and
CAD calls). First the family runs without ``fct_events`` and must skip,
writing nothing; then it runs on the events, and the tasking's list reader
picks the force list over the police.uk one.
"""

import os

import dagster as dg
import duckdb
import pandas as pd
import pytest
from support import DEMO_WORLD_DISTRICTS, REPO

from assets.hotspots.analysis import FORCE_PREFIX, force_key
from assets.patrol.tasking import read_hotspot_list
from config.settings import settings
from vrdp.hotspots.force_events import fct_events_from_landing

NAMES = [
    "study_events",
    "cell_harm_windows",
    "gi_star",
    "kde",
    "classification",
    "forecast",
    "backtest",
    "hotspot_list",
]
KEYS = [force_key(n) for n in NAMES]


def _meta(instance, key):
    (record,) = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key), limit=1
    ).records
    return {k: v.value for k, v in record.asset_materialization.metadata.items()}


def _materialize(instance, selection):
    from orchestration.definitions import build_defs

    defs = build_defs()
    result = dg.materialize(
        [*defs.assets],
        selection=selection,
        instance=instance,
        resources=dict(defs.resources or {}),
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    assert result.success


@pytest.fixture(scope="module")
def run(tmp_path_factory, small_world):
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("force_hotspots") / "data"
    mp.setenv("VRDP_DATA_ROOT", str(root))
    mp.setenv("VRDP_WORLD_SCALE", "small")
    mp.setenv("VRDP_WORLD_SEED", "7")
    mp.setenv("VRDP_FORCE_DISTRICTS", DEMO_WORLD_DISTRICTS)  # the simulated world's area
    mp.setenv("HOME", str(root.parent / "home"))
    mp.delenv("DAGSTER_HOME", raising=False)
    s = settings()
    s.world_dir.parent.mkdir(parents=True)
    os.symlink(small_world, s.world_dir)  # where Settings.world_truth_dir finds the truth
    s.warehouse_path.parent.mkdir(parents=True)
    with duckdb.connect(str(s.warehouse_path)) as con:
        weights = pd.read_csv(REPO / "dbt_project" / "seeds" / "cchi_harm_weights.csv")
        con.execute("create schema reference")
        con.register("weights", weights)
        con.execute("create table reference.cchi_harm_weights as select * from weights")
    instance = dg.DagsterInstance.ephemeral()
    _materialize(instance, dg.AssetSelection.groups("geography"))
    _materialize(instance, dg.AssetSelection.assets(*KEYS))
    skipped = {k.to_user_string(): _meta(instance, k) for k in KEYS}
    files_after_skip = sorted(p.name for p in (s.lake_dir / FORCE_PREFIX).glob("*"))

    events = fct_events_from_landing(small_world)
    events["lsoa21_code"] = "E01000000"  # the located contract's column (not read for cells)
    with duckdb.connect(str(s.warehouse_path)) as con:
        con.execute("create schema marts")
        con.register("events", events)
        con.execute("create table marts.fct_events as select * from events")
    _materialize(instance, dg.AssetSelection.assets(*KEYS))
    yield {
        "instance": instance,
        "settings": s,
        "lake": s.lake_dir / FORCE_PREFIX,
        "events": events,
        "skipped": skipped,
        "files_after_skip": files_after_skip,
    }
    mp.undo()


def test_without_fct_events_the_family_skips_and_writes_nothing(run):
    assert run["files_after_skip"] == []
    for key, meta in run["skipped"].items():
        assert meta["skipped"] is True, key
        assert "marts.fct_events" in meta["note"]


def test_study_events_account_for_every_row_and_record_the_guard(run):
    meta = _meta(run["instance"], force_key("study_events"))
    study = pd.read_parquet(run["lake"] / "study_events.parquet")
    assert meta["rows_in_fct_events"] == len(run["events"])
    assert meta["rows_in_fct_events"] == (
        len(study)
        + meta["rows_other_event_types"]
        + meta["rows_not_located"]
        + meta["rows_without_time"]
        + meta["calls_linked_to_a_counted_crime"]
    )
    assert meta["exclude_police_generated"] is True
    assert meta["guard_rule"] == "is_police_generated of marts.fct_events"
    assert meta["events_excluded_by_guard"] == int(study["excluded_by_guard"].sum()) > 0
    assert meta["partial_months_outside_series"] == "2023-12"
    assert set(study["source"]) == {"crime", "incident"}


def test_harm_windows_by_timestamp_and_patrol_windows_from_event_times(run):
    harm = pd.read_parquet(run["lake"] / "cell_harm_windows.parquet")
    assert set(harm["time_basis"]) == {"timestamp"}
    assert str(harm["as_of"].iloc[0].date()) == "2026-01-01"
    hl = pd.read_parquet(run["lake"] / "hotspot_list.parquet")
    sel = hl[hl["selected"]]
    assert len(sel) > 0 and (sel["time_basis"] == "timestamp").all()
    assert sel["patrol_windows"].str.match(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d:00-").all()
    assert set(hl["hotspot_family"]) == {FORCE_PREFIX}


def test_list_metadata_reports_planted_recall_from_world_truth(run):
    meta = _meta(run["instance"], force_key("hotspot_list"))
    assert 0.6 <= meta["planted_hotspot_recall"] <= 1.0
    assert str(run["settings"].world_truth_dir) in meta["planted_recall_rule"]
    assert meta["patrol_windows"].startswith("from event times")


def test_backtest_scores_forecast_and_every_baseline_on_every_fold(run):
    meta = _meta(run["instance"], force_key("backtest"))
    summary = pd.read_parquet(run["lake"] / "backtest.parquet")
    assert set(summary["method"]) == {"forecast", "previous_period", "all_periods", "ewm", "kde"}
    assert meta["folds"] == 23 and meta["months_missing"] == "none"
    assert meta["target"].startswith("crime events")
    assert meta["risk_terrain"].startswith("not available")
    assert 0 < meta["pei_at_5pct_forecast"] <= 1


def test_backtest_is_reused_while_its_whole_months_are_unchanged(run):
    """Days of a month not yet whole (make run's twin days) leave the backtest's series
    as it was: its output is reused. An event added to a whole month is not."""
    instance, s = run["instance"], run["settings"]
    key, out = force_key("backtest"), run["lake"] / "backtest.parquet"
    first = _meta(instance, key)
    written = out.stat().st_mtime_ns
    events = run["events"]
    last = events[events["occurred_from"].dt.to_period("M") == "2025-12"].head(40).copy()

    def rerun_with(extra: pd.DataFrame) -> dict:
        with duckdb.connect(str(s.warehouse_path)) as con:
            con.register("events", pd.concat([events, extra], ignore_index=True))
            con.execute("create or replace table marts.fct_events as select * from events")
        _materialize(instance, dg.AssetSelection.assets(*KEYS))
        return _meta(instance, key)

    try:
        days = last.copy()  # three days of January at December's places and hours
        when = days["occurred_from"]
        days["occurred_from"] = (
            pd.Timestamp("2026-01-01")
            + (when - when.dt.normalize())
            + pd.to_timedelta(range(len(days)), unit="D") % pd.Timedelta(days=3)
        ).to_numpy()
        days["occurred_to"] = pd.NaT
        days["source_ref"] = days["source_ref"] + "-twin"
        days["event_key"] = days["event_key"] + "-twin"
        meta = rerun_with(days)
        assert meta["reused"] is True and meta["input_sha256"] == first["input_sha256"]
        assert out.stat().st_mtime_ns == written
        december = last.head(5).assign(
            source_ref=lambda d: d["source_ref"] + "-late",
            event_key=lambda d: d["event_key"] + "-late",
        )
        meta = rerun_with(december)
        assert meta["reused"] is False and meta["input_sha256"] != first["input_sha256"]
    finally:
        rerun_with(events.head(0))


def test_tasking_reads_the_force_list_when_it_exists(run, tmp_path):
    lake = run["settings"].lake_dir
    hl, source, path = read_hotspot_list(lake)
    assert source == FORCE_PREFIX and path == run["lake"] / "hotspot_list.parquet"
    assert len(hl) > 0
    (tmp_path / "hotspots").mkdir()
    pd.DataFrame({"h3_cell": ["89195d09a13ffff"]}).to_parquet(
        tmp_path / "hotspots" / "hotspot_list.parquet"
    )
    hl, source, _ = read_hotspot_list(tmp_path)
    assert source == "hotspots" and hl["h3_cell"].tolist() == ["89195d09a13ffff"]
    assert read_hotspot_list(tmp_path / "none")[1] == "none"
