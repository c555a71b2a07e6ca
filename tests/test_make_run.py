"""make run's driver on a slice of the small world: few runs, per-delivery checks, no rework.

The slice: eleven City of London police.uk months (as in test_slice), the place
gazetteers, and the first three deliveries of CAD incidents (one range run).
The same ``run_all`` as ``make run`` materializes everything into a temporary
data root with an ephemeral instance; a second run with no new file must
materialize nothing.
"""

import shutil

import dagster as dg
import pytest
from support import COL_STREET, land

from assets.sources.agencies import LANDING_SOURCES, source_keys
from config.settings import settings
from orchestration.main import STAGES, code_fingerprint, run_all

MONTHS = [f"2025-{m:02d}" for m in range(1, 13) if m != 7]
SOURCES = ("places.pois", "places.addresses", "places.streets", "police.cad_incidents")
RANGE_SOURCE = "police.cad_incidents"
DELIVERIES = 3


def _land_world(small_world, root):
    landed = {}
    for spec in LANDING_SOURCES:
        if spec.source not in SOURCES:
            continue
        src = small_world / "landing" / spec.agency / spec.dataset
        folders = sorted(p for p in src.iterdir() if p.is_dir())[:DELIVERIES]
        for f in folders:
            shutil.copytree(f, root / "landing" / spec.agency / spec.dataset / f.name)
        landed[spec.source] = [f.name for f in folders]
    return landed


def _materializations(instance) -> int:
    return len(
        instance.get_event_records(
            dg.EventRecordsFilter(dg.DagsterEventType.ASSET_MATERIALIZATION), limit=100_000
        )
    )


@pytest.fixture(scope="module")
def make_run(small_world, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("make_run") / "data"
    mp.setenv("VRDP_DATA_ROOT", str(root))
    mp.setenv("VRDP_POLICE_UK_FORCE", "city-of-london")
    mp.setenv("VRDP_WORLD_SCALE", "none")
    mp.setenv("HOME", str(root.parent / "home"))
    mp.delenv("DAGSTER_HOME", raising=False)
    land(root, *[COL_STREET / f"{m}-city-of-london-street.csv.gz" for m in MONTHS])
    landed = _land_world(small_world, root)
    instance = dg.DagsterInstance.ephemeral()
    first = run_all(instance, settings(), log=lambda *_: None)
    runs_first = len(instance.get_runs())
    mats_first = _materializations(instance)
    second = run_all(instance, settings(), log=lambda *_: None)
    yield {
        "root": root,
        "instance": instance,
        "landed": landed,
        "first": first,
        "second": second,
        "runs_first": runs_first,
        "mats_first": mats_first,
    }
    mp.undo()


def test_a_source_loads_in_one_run_with_every_delivery_recorded_and_checked(make_run):
    instance = make_run["instance"]
    spec = next(s for s in LANDING_SOURCES if s.source == RANGE_SOURCE)
    key = source_keys(spec)[0]
    deliveries = make_run["landed"][RANGE_SOURCE]
    for delivery in deliveries:
        (record,) = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[delivery]), limit=5
        ).records
        meta = record.asset_materialization.metadata
        # each partition carries its own delivery's figures, not the range's
        assert meta["delivery"].value == delivery
        collapsed = meta["rows_collapsed"].value if "rows_collapsed" in meta else 0  # #20
        assert (
            meta["rows_in"].value
            == meta["rows_loaded"].value + meta["rows_quarantined"].value + collapsed
        )
    run_ids = {
        r.run_id
        for r in instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key), limit=50
        ).records
    }
    assert len(run_ids) == 1, "the deliveries of one source load in one run"
    for check in ("rows_reconcile", "contract", "quarantine_share", "located_in_force_area"):
        history = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(key, check), limit=50
        )
        per_delivery = {
            r.evaluation.partition: r.evaluation.passed
            for r in history
            if r.evaluation is not None and r.evaluation.partition is not None
        }
        assert set(per_delivery) >= set(deliveries), check
        if check != "located_in_force_area":
            assert all(per_delivery[d] for d in deliveries), check


def test_loads_take_few_runs(make_run):
    # boundaries, the street months, 3 place deliveries, 1 range run, gazetteer, and the
    # downstream in its 8 runs (orchestration.jobs.downstream_stages; one each without
    # worker processes, as here)
    from orchestration.jobs import downstream_stages

    assert len(downstream_stages()) == 8
    assert make_run["runs_first"] == 1 + len(MONTHS) + 3 + 1 + 1 + 8
    assert make_run["first"]["agencies"][RANGE_SOURCE] == {
        "deliveries": DELIVERIES,
        "loaded_now": DELIVERIES,
    }


def test_second_run_with_nothing_new_materializes_nothing(make_run):
    instance = make_run["instance"]
    assert make_run["first"]["downstream"] == "rebuilt"
    assert make_run["second"]["downstream"] == "unchanged"
    assert make_run["second"]["skipped"] == MONTHS
    assert all(a["loaded_now"] == 0 for a in make_run["second"]["agencies"].values())
    assert _materializations(instance) == make_run["mats_first"]
    assert len(instance.get_runs()) == make_run["runs_first"]
    assert set(make_run["second"]["timings"]) == {s.name for s in STAGES}


def test_a_code_change_is_a_change(tmp_path):
    repo = tmp_path / "repo"
    (repo / "vrdp").mkdir(parents=True)
    (repo / "vrdp" / "a.py").write_text("x = 1\n")
    before = code_fingerprint(repo)
    assert code_fingerprint(repo) == before
    (repo / "vrdp" / "a.py").write_text("x = 2\n")
    assert code_fingerprint(repo) != before


def _materialized_by_new_runs(instance, before: set) -> tuple[set, set]:
    """(asset keys materialized, job names) of the runs not in ``before``."""
    keys, jobs = set(), set()
    for run in instance.get_runs():
        if run.run_id in before:
            continue
        jobs.add(run.job_name)
        for event in instance.all_logs(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ):
            keys.add(event.dagster_event.asset_key)
    return keys, jobs


@pytest.fixture(scope="module")
def new_delivery(make_run, small_world):
    """One more CAD delivery lands; make run with part of what it changes left for later.

    Then make run again with nothing new: it builds what was left.
    """
    from assets.automation import DOWNSTREAM_SELECTION
    from orchestration.definitions import build_defs
    from orchestration.jobs import GAZETTEER_SOURCE, reading, source_asset_keys

    instance, root = make_run["instance"], make_run["root"]
    spec = next(s for s in LANDING_SOURCES if s.source == RANGE_SOURCE)
    src = small_world / "landing" / spec.agency / spec.dataset
    folder = sorted(p for p in src.iterdir() if p.is_dir())[DELIVERIES]
    shutil.copytree(folder, root / "landing" / spec.agency / spec.dataset / folder.name)
    graph = build_defs().resolve_asset_graph()
    downstream = DOWNSTREAM_SELECTION.resolve(graph)
    # CAD incidents' located text is part of the gazetteer, rebuilt when they arrive
    loaded = set(source_asset_keys([RANGE_SOURCE, GAZETTEER_SOURCE]))
    reads = reading(graph, loaded)
    later = {k for k in reads if k.path[0] == "exports"}
    before = {r.run_id for r in instance.get_runs()}
    third = run_all(instance, settings(), log=lambda *_: None, defer=later)
    built, jobs = _materialized_by_new_runs(instance, before)
    before = {r.run_id for r in instance.get_runs()}
    fourth = run_all(instance, settings(), log=lambda *_: None)
    built_later, jobs_later = _materialized_by_new_runs(instance, before)
    return {
        "downstream": downstream,
        "reads": reads,
        "later": later,
        "third": third,
        "built": built,
        "jobs": jobs | jobs_later,
        "fourth": fourth,
        "built_later": built_later,
        "loaded": loaded,
    }


def test_a_new_delivery_rebuilds_only_what_reads_it(new_delivery):
    nd = new_delivery
    assert nd["later"] and nd["reads"] - nd["later"]
    assert nd["third"]["downstream"] == "refreshed"
    assert nd["third"]["agencies"][RANGE_SOURCE]["loaded_now"] == 1
    loaded = nd["loaded"]
    # the delivery's source assets, and of the downstream exactly what reads them
    wanted = nd["reads"] - nd["later"]
    extra, lacking = nd["built"] - loaded - wanted, wanted - nd["built"]
    assert not extra and not lacking, (sorted(map(str, extra)), sorted(map(str, lacking)))
    # e.g. the data.police.uk hot spots do not read CAD incidents: not rebuilt
    assert dg.AssetKey(["hotspots", "hotspot_list"]) in nd["downstream"] - nd["built"]


def test_what_was_left_for_later_is_built_by_the_next_run(new_delivery):
    nd = new_delivery
    assert nd["fourth"]["downstream"] == "refreshed"
    assert nd["built_later"] == nd["later"]
    # every run is a named stage job, subsets included (never __ephemeral_asset_job__)
    from orchestration.jobs import stage_selections

    assert nd["jobs"] <= set(stage_selections())


def test_the_summary_is_short_on_screen_and_whole_in_its_file(make_run):
    from orchestration.summary import lake_rows, summary

    s = settings()
    report = summary(s, make_run["second"])
    screen, full = report.screen(), report.full()
    # the screen's lines are the file's headlines, in the same order
    it = iter(full)
    assert all(any(line == f for f in it) for line in screen)
    # one line for the agencies' loads; their table per dataset only in the file
    (agencies,) = [ln for ln in screen if ln.startswith("simulated agencies")]
    rows = {}
    for source in SOURCES:
        agency, dataset = source.split(".")
        loaded = lake_rows(s.lake_dir / agency / dataset)
        quarantined = lake_rows(s.lake_dir / "quarantine" / f"{agency}_{dataset}")
        (line,) = [ln for ln in full if ln.split() and ln.split()[0] == source]
        assert line.split()[1:] == [f"{loaded:,}", "loaded", "/", f"{quarantined:,}", "quarantined"]
        assert not any(ln.split() and ln.split()[0] == source for ln in screen)
        rows[source] = (loaded, quarantined)
    assert f"{len(SOURCES)} datasets, {sum(n for n, _ in rows.values()):,} rows loaded" in agencies
    # every export file with its checksum in the file, the export on one screen line
    assert sum("sha256" in ln for ln in full) == 3 and not any("sha256" in ln for ln in screen)
    assert len(screen) <= 15
    assert max(len(ln.replace(str(s.data_root), "data")) for ln in screen) <= 150
