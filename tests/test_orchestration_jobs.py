"""Named jobs, schedules, owners, freshness and checks in the code location; stale runs."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import dagster as dg
import pytest

from orchestration.definitions import build_defs

#: snapshot: the stage jobs a data engineer sees in the UI (update on purpose)
JOBS = [
    "analyse_hot_spots_beside_warehouse",
    "analyse_hotspots",
    "backtest_force_hot_spots",
    "build_gazetteer",
    "build_warehouse",
    "build_warehouse_for_hot_spots",
    "link_persons_beside_hot_spot_analyses",
    "load_boundaries",
    "load_community_streetsafe_reports",
    "load_community_voluntary_referrals",
    "load_nhs_istv_assaults",
    "load_nhs_safeguarding",
    "load_patrol_activity",
    "load_patrol_gps",
    "load_patrol_team_officers",
    "load_patrol_teams",
    "load_places_addresses",
    "load_places_pois",
    "load_places_streets",
    "load_police_cad_incidents",
    "load_police_intelligence",
    "load_police_nominals",
    "load_police_occurrence_nominals",
    "load_police_occurrences",
    "load_police_uk_stop_search",
    "load_police_uk_street",
    "load_probation_cases",
    "load_soc_chb_sites",
    "load_soc_disruptions",
    "load_social_care_cin_referrals",
    "measure_patrol_day",
    "model_risk_terrain",
    "patrol_tasking_and_evaluation",
    "publish_daily_tasking",
    "publish_exports",
    "publish_person_analyses",
    "refresh_analytics",
    "refresh_analytics_after_risk_terrain",
    "refresh_analytics_beside_hot_spot_analyses",
]
OWNERS = {
    "force_hotspots": ["team:analysts"],
    "geography": ["team:data-engineering"],
    "governance": ["team:information-governance"],
    "hotspots": ["team:analysts"],
    "identity": ["team:information-governance"],
    "intermediate": ["team:data-engineering"],
    "landing": ["team:data-engineering"],
    "linkage": ["team:data-engineering", "team:information-governance"],
    "marts": ["team:analysts", "team:data-engineering"],
    "patrol": ["team:evaluation"],
    "quarantine": ["team:data-engineering"],
    "reference": ["team:data-engineering"],
    "retention": ["team:information-governance"],
    "risk_terrain": ["team:analysts"],
    "serving": ["team:data-engineering"],
    "soc": ["team:analysts"],
    "sources": ["team:data-engineering"],
    "staging": ["team:data-engineering"],
    "warehouse": ["team:data-engineering"],
}


@pytest.fixture(scope="module")
def defs():
    return build_defs()


def test_job_names_and_schedules_snapshot(defs):
    assert sorted(j.name for j in defs.jobs) == JOBS
    targets = {s.name: s.job_name for s in defs.schedules}
    purge = targets.pop("retention_purge_nightly")  # the purge's own asset job (#19)
    assert purge.endswith("retention_purge_nightly")
    assert targets == {
        "nightly_refresh": "refresh_analytics",
        "morning_tasking": "patrol_tasking_and_evaluation",
    }
    sensors = {s.name: s.default_status for s in defs.sensors}
    assert sensors["analytics_automation"] == dg.DefaultSensorStatus.STOPPED


def test_every_asset_group_has_its_owners_snapshot(defs):
    graph = defs.resolve_asset_graph()
    owners: dict[str, set] = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners, key
        owners.setdefault(node.group_name, set()).update(node.owners)
    assert {g: sorted(o) for g, o in owners.items()} == OWNERS


def test_freshness_where_a_cadence_is_expected(defs):
    graph = defs.resolve_asset_graph()

    def policy(*path):
        return graph.get(dg.AssetKey(list(path))).freshness_policy

    assert policy("hotspots", "hotspot_list") is not None
    assert policy("exports", "hotspot_tasking_export") is not None
    assert policy("police_uk", "street_crimes") is not None
    assert policy("geography", "lsoa21_boundaries") is None  # no cadence
    assert policy("probation", "cases") is None  # partners deliver when they deliver


def test_analytic_outputs_have_checks(defs):
    graph = defs.resolve_asset_graph()
    checked = {k.asset_key.to_user_string(): k.name for k in graph.asset_check_keys}
    assert checked["hotspots/hotspot_list"] == "non_empty_and_within_force"
    assert checked["force_hotspots/hotspot_list"] == "non_empty_and_within_force"
    assert checked["risk_terrain/police_uk_rtm"] == "converged"
    assert checked["risk_terrain/simulated_world_rtm"] == "converged"
    assert checked["patrol/trial_effect"] == "confidence_intervals_finite"


def test_run_stage_uses_the_named_job(tmp_path, defs):
    from assets.sources.police_uk import STREET_CRIMES_KEY, STREET_QUARANTINE_KEY
    from orchestration.jobs import stage_selections

    graph = defs.resolve_asset_graph()
    wanted = dg.AssetSelection.assets(STREET_CRIMES_KEY, STREET_QUARANTINE_KEY).resolve(graph)
    matches = [n for n, (_, s) in stage_selections().items() if s.resolve(graph) == wanted]
    assert matches == ["load_police_uk_street"]


SLOW_JOB = """
import sys, time
import dagster as dg

@dg.op
def wait():
    time.sleep(120)

@dg.job
def slow():
    wait()

with dg.DagsterInstance.get() as instance:
    slow.execute_in_process(instance=instance)
"""


def test_a_run_whose_process_died_is_marked_failed(tmp_path):
    from orchestration.stale_runs import mark_stale_runs_failed

    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    # The instance's SQLite storages are created here, before the child opens them:
    # two processes creating them at once race on alembic's version table.
    instance = dg.DagsterInstance.from_config(str(home))
    assert instance.get_runs() == []
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(SLOW_JOB)], env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
            if runs or proc.poll() is not None:
                break
            time.sleep(0.2)
        assert runs, f"the run never started (child exit code {proc.poll()})"
        assert mark_stale_runs_failed(instance) == []  # alive: left alone
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        failed = mark_stale_runs_failed(instance)
        assert failed == [runs[0].run_id]
        assert instance.get_run_by_id(failed[0]).status == dg.DagsterRunStatus.FAILURE
        assert mark_stale_runs_failed(instance) == []
    finally:
        if proc.poll() is None:
            proc.kill()
        instance.dispose()


def test_make_runs_downstream_runs_are_the_whole_downstream_once_in_a_safe_order():
    """make run's eight downstream runs partition refresh_analytics; each reads only
    what ran before it, and what runs beside another run neither reads it nor writes
    the warehouse.

    Runs in this process: build_warehouse_for_hot_spots (dbt up to linkage), then
    link_persons_beside_hot_spot_analyses, then
    refresh_analytics_beside_hot_spot_analyses. In workers: model_risk_terrain (from
    the start), analyse_hot_spots_beside_warehouse (harm windows read from the
    warehouse, the analyses on them) once the warehouse is built,
    publish_person_analyses once linkage's run is, and
    refresh_analytics_after_risk_terrain and backtest_force_hot_spots once the models
    and the analyses are."""
    from assets.automation import DOWNSTREAM_SELECTION
    from assets.warehouse.linkage import PERSON_LINKS_KEY
    from orchestration.definitions import build_defs
    from orchestration.jobs import downstream_stages

    graph = build_defs().resolve_asset_graph()
    downstream = DOWNSTREAM_SELECTION.resolve(graph)
    stages = {n: sel.resolve(graph) for n, (_, sel) in downstream_stages().items()}
    rtm, first, spare, link, rest, persons, backtest, after = stages.values()
    assert rtm | first | spare | link | rest | persons | backtest | after == downstream
    assert sum(map(len, stages.values())) == len(downstream)  # disjoint

    def parents(keys):
        return {p for k in keys for p in graph.get(k).parent_keys} & downstream

    # model_risk_terrain beside everything before the after-run: reads none of it
    assert parents(rtm) <= rtm
    assert parents(first) <= first
    # the analyses run beside linkage and the rest: read only what was built before them
    assert parents(spare) <= first | spare
    assert parents(link) <= first | link
    assert parents(rest) <= first | link | rest
    # what reads the person marts runs beside the rest, once linkage's run is done
    assert parents(persons) <= first | link | persons
    assert not (parents(rest) & persons)
    # the force backtest runs once the models and the analyses' run are built
    assert parents(backtest) <= first | rtm | spare | backtest
    assert not (parents(link | rest | persons) & backtest)
    assert not (parents(after) & backtest)
    # what reads the models runs in a worker beside the rest, once the models and the
    # analyses are built: it reads neither the rest nor the backtest
    assert parents(after) <= first | rtm | spare | after
    # the lake-only workers' runs open no DuckDB file; the analyses' run only reads it
    assert all(not graph.get(k).pools for k in rtm | backtest | after)
    # the warehouse's writers (dbt, linkage) run in this process, in the first two
    # runs; the runs beside linkage's (the rest here, the person readers in the
    # workers) only read it
    writers = {k for k in downstream if "dbt" in graph.get(k).kinds} | {PERSON_LINKS_KEY}
    assert writers <= first | link
    assert PERSON_LINKS_KEY in link and not (writers & (spare | rest | persons))
    assert dg.AssetKey(["force_hotspots", "cell_harm_windows"]) in spare
    assert dg.AssetKey(["exports", "cohorts_export"]) in persons
    assert dg.AssetKey(["soc", "early_warning_scores"]) in rest
    assert any(k.path[0] == "marts" for k in first)  # the warehouse does not wait


def test_load_tasks_go_to_free_workers_by_rank_so_the_gazetteer_does_not_queue_last():
    """The gazetteer, queued when its last input finishes, runs before tasks queued earlier."""
    from concurrent.futures import Future

    from orchestration.main import LoadTask, RunContext, _Scheduler

    started = []

    class InlinePool:  # the WorkerPool interface, running nothing
        workers = 2

        def submit(self, task):
            started.append(task.label)
            done = Future()
            done.set_result((task, []))
            return done

    sched = _Scheduler(RunContext(None, None, pool=InlinePool()))
    for label, units, group in [
        ("other long", 48, "other"),
        ("other short", 3, "other"),
        ("places short", 1, "places"),
        ("places long", 5, "places"),
    ]:
        sched.submit(LoadTask(label, (), tuple(str(i) for i in range(units)), group=group))
    finished = sched.wait()
    assert sorted(t.label for t, _ in finished) == ["places long", "places short"]
    sched.submit(LoadTask("gazetteer", (), group="gazetteer"))
    sched.submit(LoadTask("A&E", (), ("d1",), group="geocoded"))
    while sched.wait():
        pass
    assert started == [
        "places long",
        "places short",
        "gazetteer",
        "A&E",
        "other long",
        "other short",
    ]


def test_a_worker_runs_each_task_with_the_settings_of_its_submission(monkeypatch):
    """Workers start before make run sets the twin trial's variables; tasks carry them."""
    from orchestration.main import _apply_settings_env, _settings_env

    monkeypatch.setenv("VRDP_TRIAL_START", "2026-01-01")
    monkeypatch.delenv("VRDP_TRIAL_DAYS", raising=False)
    env = _settings_env()
    assert env["VRDP_TRIAL_START"] == "2026-01-01" and env["VRDP_TRIAL_DAYS"] is None
    # the worker's environment as it was when the worker started
    monkeypatch.delenv("VRDP_TRIAL_START")
    monkeypatch.setenv("VRDP_TRIAL_DAYS", "9")
    _apply_settings_env(env)
    assert os.environ["VRDP_TRIAL_START"] == "2026-01-01"
    assert "VRDP_TRIAL_DAYS" not in os.environ


def test_what_reads_a_source_goes_through_downstream_assets_only(defs):
    """A new CAD delivery makes its readers stale; the gazetteer's rebuild does not reach
    linkage through the deliveries geocoded against it (they reload, and are then a
    changed source of their own, only when its vocabulary changes)."""
    from orchestration.jobs import GAZETTEER_SOURCE, reading, source_asset_keys

    graph = defs.resolve_asset_graph()
    links = dg.AssetKey(["linkage", "person_record_links"])
    cad = reading(graph, source_asset_keys(["police.cad_incidents"]))
    assert dg.AssetKey(["marts", "fct_events"]) in cad
    assert dg.AssetKey(["hotspots", "hotspot_list"]) not in cad  # data.police.uk family
    assert links not in reading(graph, source_asset_keys([GAZETTEER_SOURCE]))
    assert links in reading(graph, source_asset_keys(["community.voluntary_referrals"]))
    assert reading(graph, []) == set()


def test_twin_days_beside_the_warehouse_stage_share_nothing_with_its_remaining_runs():
    """make run starts the twin days once the tasking is built, while this process still
    runs linkage and the partner analyses (link_persons_beside_hot_spot_analyses,
    refresh_analytics_beside_hot_spot_analyses, publish_person_analyses) and a worker
    backtest_force_hot_spots.

    What the days build (the tasking, the measurement, the deliveries they load: the
    twin datasets, the gazetteer and what is geocoded against it) is none of what that
    run builds before them; neither reads the other's, through dbt's views over the
    lake included; and nothing the days build opens DuckDB."""
    import json

    from assets.automation import DOWNSTREAM_SELECTION
    from assets.sources.agencies import LANDING_SOURCES
    from assets.warehouse.dbt import dbt_project
    from orchestration.definitions import build_defs
    from orchestration.jobs import (
        GAZETTEER_SOURCE,
        downstream_stages,
        source_asset_keys,
        stage_selections,
    )
    from orchestration.twin_days import TWIN_SOURCES, built_after_twin_days

    defs = build_defs()
    graph = defs.resolve_asset_graph()
    downstream = DOWNSTREAM_SELECTION.resolve(graph)
    geocoded = [spec.source for spec in LANDING_SOURCES if spec.locate == "gazetteer"]
    loads = set(source_asset_keys([*TWIN_SOURCES, GAZETTEER_SOURCE, *geocoded]))
    stages = stage_selections()
    days = (
        loads
        | stages["publish_daily_tasking"][1].resolve(graph)
        | stages["measure_patrol_day"][1].resolve(graph)
    )
    runs = downstream_stages()
    rest = (
        runs["link_persons_beside_hot_spot_analyses"][1]
        | runs["refresh_analytics_beside_hot_spot_analyses"][1]
        | runs["publish_person_analyses"][1]
        | runs["backtest_force_hot_spots"][1]
    ).resolve(graph)
    rest_before = rest - built_after_twin_days(defs)
    assert dg.AssetKey(["linkage", "person_record_links"]) in rest_before
    # reused after the days (whole months only), so built before them, beside them
    assert dg.AssetKey(["force_hotspots", "backtest"]) in rest_before

    # dbt's views are read when what reads them runs: look through them
    nodes = json.loads(dbt_project().manifest_path.read_text())["nodes"].values()
    views = {
        dg.AssetKey([n["config"]["schema"], n["name"]])
        for n in nodes
        if n["resource_type"] == "model" and n["config"]["materialized"] == "view"
    }
    assert dg.AssetKey(["staging", "stg_police__occurrences"]) in views

    def reads(keys):
        seen, todo = set(), list(keys)
        while todo:
            for parent in graph.get(todo.pop()).parent_keys:
                if parent not in seen:
                    seen.add(parent)
                    if parent in views:
                        todo.append(parent)
        return seen

    assert not (days & rest_before)
    assert not (reads(rest_before) & days), sorted(reads(rest_before) & days)
    assert not (reads(days - loads) & rest_before)
    assert not (reads(loads) & downstream & rest_before)
    assert all(not graph.get(k).pools for k in days)


def test_background_twin_days_start_once_and_hand_back_their_days_or_their_error(monkeypatch):
    """make run starts the days from a worker's callback or after the stage, whichever
    comes first: the second start does nothing; join returns the days or re-raises."""
    import orchestration.twin_days as twin_days

    runs, lines = [], []

    def step(s, world, run, load, log):
        runs.append(run)
        log("a day")
        return [{"day": "2026-01-01", "stepped_now": True}]

    monkeypatch.setattr(twin_days, "step_twin_days", step)
    days = twin_days.BackgroundTwinDays(None, None, log=lines.append)
    with pytest.raises(RuntimeError, match="not started"):
        days.join()
    assert days.start("in workers", "load", lambda: lines.append("starting beside")) is True
    assert days.start("in this process", "load", lambda: lines.append("sequential")) is False
    assert days.join() == [{"day": "2026-01-01", "stepped_now": True}]
    assert runs == ["in workers"] and lines == ["starting beside", "a day"]
    assert days.seconds >= 0

    def failing(s, world, run, load, log):
        raise SystemExit("the run of patrol/daily_tasking failed")

    monkeypatch.setattr(twin_days, "step_twin_days", failing)
    days = twin_days.BackgroundTwinDays(None, None)
    days.start("run", "load")
    with pytest.raises(SystemExit, match="daily_tasking"):
        days.join()


def test_background_twin_days_seen_started_can_be_joined_at_once(monkeypatch):
    """The tasking run's callback starts the days as make run's thread reaches the
    end of the stage: whoever sees them started joins them, even while the thread
    is still being started (a make run once failed with "cannot join thread
    before it is started")."""
    import threading

    import orchestration.twin_days as twin_days

    monkeypatch.setattr(twin_days, "step_twin_days", lambda s, world, run, load, log: [run])
    real_start = threading.Thread.start

    def slow_start(thread):  # widen the moment between making the thread and running it
        time.sleep(0.2)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", slow_start)
    days = twin_days.BackgroundTwinDays(None, None)
    seen: list = []

    def make_run_thread():
        while not days.started:
            time.sleep(0.001)
        try:
            seen.append(days.join())
        except RuntimeError as exc:
            seen.append(exc)

    watcher = threading.Thread(target=make_run_thread)
    real_start(watcher)
    assert days.start("beside", "load") is True
    watcher.join(5)
    assert seen == [["beside"]]


def test_the_twin_days_runs_go_to_the_workers_with_their_config(defs):
    """Beside the warehouse stage, a day's tasking runs in a worker as the named job's
    assets with its day in the run config; a failed run stops make run, named."""
    import json
    from concurrent.futures import Future

    from orchestration.jobs import stage_selections
    from orchestration.main import make_pool_runner

    submitted, fail = [], []

    class InlinePool:  # the WorkerPool interface, running nothing
        def submit(self, task):
            submitted.append(task)
            done = Future()
            done.set_result((task, [task.label] if fail else []))
            return done

    run = make_pool_runner(InlinePool(), defs)
    tasking = stage_selections()["publish_daily_tasking"][1]
    config = {"ops": {"patrol__daily_tasking": {"config": {"date": "2026-01-02"}}}}
    run(tasking, run_config=config)
    (task,) = submitted
    graph = defs.resolve_asset_graph()
    assert {dg.AssetKey(list(k)) for k in task.keys} == tasking.resolve(graph)
    assert task.partitions == () and json.loads(task.run_config) == config
    fail.append(True)
    with pytest.raises(SystemExit, match="daily_tasking"):
        run(tasking, run_config=config)


def test_a_tasks_run_config_reaches_its_run_beside_the_loggers(monkeypatch):
    import json
    from types import SimpleNamespace

    import orchestration.jobs as jobs
    from orchestration.main import LoadTask, _materialize, run_task

    captured = {}

    def run_stage(defs, selection, **kwargs):
        captured.update(kwargs)
        return SimpleNamespace(success=True)

    monkeypatch.setattr(jobs, "run_stage", run_stage)
    ops = {"ops": {"patrol__daily_tasking": {"config": {"date": "2026-01-02"}}}}
    task = LoadTask("tasking", (("patrol", "daily_tasking"),), run_config=json.dumps(ops))

    def materialize(keys, partitions, run_config):
        return _materialize(None, None, keys, partitions, "WARNING", run_config)

    assert run_task(task, materialize) == (task, [])
    assert captured["run_config"] == {
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
        **ops,
    }


def _priority() -> int:
    import threading

    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority: Linux")
def test_a_yielding_run_runs_at_a_lower_priority_in_a_thread_of_its_own(monkeypatch):
    """make run's runs off the stage's longest path yield the cores to it: the run's own
    thread is scheduled lower, the caller's is not; its result and errors come back."""
    import orchestration.main as make_run

    before = _priority()
    assert make_run._yielding(lambda: [_priority()]) == [before + make_run.YIELD_NICENESS]
    assert _priority() == before
    with pytest.raises(SystemExit, match="failed"):
        make_run._yielding(lambda: (_ for _ in ()).throw(SystemExit("the run failed")))


def test_shared_runs_go_longest_first_to_the_workers_and_the_rest_to_this_process():
    """The workers take runs from the front, never more at once than there are workers;
    this process takes what is left from the back (shortest first)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from orchestration.main import _SharedRuns

    gate, ran = threading.Event(), []

    class ThreadPool:  # the WorkerPool interface, one worker thread
        workers = 1

        def __init__(self):
            self.executor = ThreadPoolExecutor(1)
            self.submitted = []

        def submit(self, task):
            self.submitted.append(task.label)

            def run():
                gate.wait(timeout=60)
                ran.append(task.label)
                return task, []

            return self.executor.submit(run)

    pool, futures = ThreadPool(), {}
    shared = _SharedRuns([(name, [dg.AssetKey(name)]) for name in ("long", "b", "c", "short")])
    feeder = shared.feed(pool, futures)
    while not pool.submitted:  # the worker has its first run
        threading.Event().wait(0.01)
    here = []
    while (run := shared.take_last()) is not None:
        here.append(run[0])
    gate.set()
    feeder.join(timeout=60)
    assert pool.submitted == ["long"] and ran == ["long"]
    assert here == ["short", "c", "b"]
    assert list(futures) == ["long"] and futures["long"].result()[1] == []


def test_runs_never_built_go_first_then_by_their_last_steps_time():
    import time

    from orchestration.main import _longest_first

    @dg.asset
    def quick():
        return 1

    @dg.asset
    def slow():
        time.sleep(1.0)  # well above a trivial step's time, even on a loaded machine
        return 1

    @dg.asset
    def new():
        return 1

    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize([quick, slow], instance=instance).success
    runs = [[quick.key], [slow.key], [new.key]]
    assert _longest_first(instance, runs) == [[new.key], [slow.key], [quick.key]]


def test_person_readers_split_into_runs_that_each_hold_what_they_read():
    """make run shares out publish_person_analyses a run per export; an asset that reads
    another of the stage is in that asset's run."""
    from orchestration.jobs import downstream_stages
    from orchestration.main import _separate_runs

    graph = build_defs().resolve_asset_graph()
    persons = downstream_stages()["publish_person_analyses"][1].resolve(graph)
    runs = _separate_runs(graph, persons)
    assert sorted(k for run in runs for k in run) == sorted(persons)  # each once
    assert len(runs) > 1
    for run in runs:
        assert graph.get(run[0]).parent_keys & persons <= set(run)
        for k in run:
            assert graph.get(k).parent_keys & persons <= set(run)

    # a chain within the set stays together, whatever its keys' order
    @dg.asset
    def z():
        return 1

    @dg.asset(deps=[z])
    def a():
        return 1

    @dg.asset
    def m():
        return 1

    small = dg.Definitions(assets=[z, a, m]).resolve_asset_graph()
    assert _separate_runs(small, {a.key, m.key, z.key}) == [[a.key, z.key], [m.key]]
