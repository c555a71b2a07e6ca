"""The patrol loop through a real Dagster instance, on the small world.

A new GPS day lands, sensors tick, runs load it, and declarative automation updates
dosage and the evaluation tables.
"""

import json

import pandas as pd
import pytest
from support import DEMO_WORLD_DISTRICTS

from assets.patrol.common import (
    DAILY_DOSAGE_KEY,
    ITT_TABLE_KEY,
    TRIAL_EFFECT_KEY,
    VISITS_KEY,
)
from bench.patrol_loop import dagster_instance, land_day, prepare_world, run_loop, warm_instance
from orchestration.patrol_flow import automation_tick, patrol_flow_defs, sensor_tick


@pytest.fixture(scope="module")
def flow(small_world, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("patrol_flow")
    root = tmp / "data"
    mp.setenv("VRDP_DATA_ROOT", str(root))
    mp.setenv("HOME", str(tmp / "home"))
    mp.setenv("VRDP_TRIAL_SOURCE", "import")  # the world's crimes follow its own schedule
    mp.setenv("VRDP_FORCE_DISTRICTS", DEMO_WORLD_DISTRICTS)  # the simulated world's area
    mp.delenv("DAGSTER_HOME", raising=False)
    prep = prepare_world(small_world, root, police_since="2025-06")
    defs = patrol_flow_defs()
    instance = dagster_instance(tmp / "dagster_home")
    cursors = warm_instance(defs, instance, root, prep["loaded"])
    lake = root / "lake" / "patrol"
    before = {
        "itt": pd.read_parquet(lake / "itt_table.parquet"),
        "last_runs": {
            k: instance.get_latest_materialization_event(k).run_id
            for k in (VISITS_KEY, DAILY_DOSAGE_KEY, ITT_TABLE_KEY, TRIAL_EFFECT_KEY)
        },
    }
    day = prep["hold_back"]
    land_day(small_world, root, day)
    loop = run_loop(defs, instance, cursors)
    yield {
        "root": root,
        "world": small_world,
        "day": pd.Timestamp(day),
        "defs": defs,
        "instance": instance,
        "cursors": cursors,
        "before": before,
        "loop": loop,
    }
    instance.dispose()
    mp.undo()


def test_nothing_was_pending_before_the_new_day_landed(flow):
    assert flow["cursors"]["warm_up_requested"] == []


def test_each_sensor_requested_one_run_for_the_new_day_and_it_succeeded(flow):
    runs = flow["loop"]["runs"]
    by_sensor = [r for r in runs if r["by"] != "automation"]
    assert sorted(r["by"] for r in by_sensor) == [
        "patrol_activity_deliveries",
        "patrol_gps_deliveries",
    ]
    assert all(r["success"] for r in runs)
    instance = flow["instance"]
    for r in by_sensor:
        run = instance.get_run_by_id(r["run_id"])
        assert run.tags["dagster/partition"] == flow["day"].strftime("%Y-%m-%d")
        assert run.tags["dagster/sensor_name"] == r["by"]


def test_automation_updated_dosage_and_evaluation_in_one_run(flow):
    auto = [r for r in flow["loop"]["runs"] if r["by"] == "automation"]
    assert len(auto) == 1, auto
    assert {
        "patrol/visits",
        "patrol/daily_dosage",
        "patrol/itt_table",
        "patrol/trial_effect",
        "patrol/daily_tasking",
    } <= set(auto[0]["assets"])
    instance = flow["instance"]
    for key, previous in flow["before"]["last_runs"].items():
        event = instance.get_latest_materialization_event(key)
        assert event.run_id != previous and event.run_id == auto[0]["run_id"]


def test_the_new_day_reaches_the_itt_table(flow):
    day = flow["day"]
    before = flow["before"]["itt"]
    after = pd.read_parquet(flow["root"] / "lake" / "patrol" / "itt_table.parquet")
    b = before[before["date"] == day]
    a = after[after["date"] == day]
    assert len(a) == len(b) > 0  # every allocated unit-day, before and after (ITT)
    assert b["dosage_minutes"].sum() == 0
    patrol = a[a["arm"] == "patrol"]
    truth = pd.read_parquet(flow["world"] / "truth" / "patrol_visits.parquet")
    true_day = truth[pd.to_datetime(truth["date"]) == day]
    # Every patrol unit-day the simulated officers visited now has presence and a
    # confirmed lower bound that bracket the true minutes.
    visited = set(true_day["unit_id"])
    assert (patrol.loc[patrol["unit_id"].isin(visited), "dosage_minutes"] > 0).all()
    assert patrol["confirmed_minutes"].sum() <= true_day["minutes"].sum()
    assert true_day["minutes"].sum() <= patrol["dosage_minutes"].sum()


def test_a_second_tick_requests_nothing(flow):
    defs, instance, cursors = flow["defs"], flow["instance"], flow["cursors"]
    for name, cursor in cursors["sensors"].items():
        if name.startswith("patrol_"):
            new_cursor, runs = sensor_tick(defs, name, instance, cursor)
            assert runs == []
            assert json.loads(new_cursor) == json.loads(cursor)
    _, requested, run = automation_tick(defs, instance, cursors["automation"])
    assert requested == [] and run is None
