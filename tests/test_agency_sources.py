"""Agency source assets on the simulated world: sensors, contracts, checks, idempotence."""

import shutil

import dagster as dg
import pandas as pd
import pytest
from support import DEMO_WORLD_DISTRICTS

from assets.sources.agencies import LANDING_SOURCES, agency_lake_paths, source_keys
from config.resources import PlatformConfig
from config.settings import settings
from orchestration.definitions import build_defs
from sensors.landing import delivery_sensor
from vrdp.lake import sha256_file

SPECS = {s.source: s for s in LANDING_SOURCES}
#: two deliveries of each dataset keep the test quick; the pure contract tests cover all.
PICK = 2


@pytest.fixture(scope="module")
def world_run(small_world, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("agencies") / "data"
    mp.setenv("VRDP_DATA_ROOT", str(root))
    mp.setenv("HOME", str(root.parent / "home"))
    mp.setenv("VRDP_FORCE_DISTRICTS", DEMO_WORLD_DISTRICTS)  # the simulated world's area
    mp.delenv("DAGSTER_HOME", raising=False)
    expected = {}
    for spec in LANDING_SOURCES:
        src = small_world / "landing" / spec.agency / spec.dataset
        picked = sorted(p for p in src.iterdir() if p.is_dir())[-PICK:]
        expected[spec.source] = [p.name for p in picked]
        for folder in picked:
            shutil.copytree(folder, root / "landing" / spec.agency / spec.dataset / folder.name)
    instance = dg.DagsterInstance.ephemeral()
    defs = build_defs()
    results = {}
    for spec in LANDING_SOURCES:
        ctx = dg.build_sensor_context(instance=instance, resources={"platform": PlatformConfig()})
        tick = delivery_sensor(spec)(ctx)
        for req in tick.dynamic_partitions_requests:
            instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
        results[spec.source] = {
            "requests": [r.partition_key for r in tick.run_requests],
            "cursor": tick.cursor,
        }
        for req in tick.run_requests:
            result = dg.materialize(
                [*defs.assets, *defs.asset_checks],
                selection=dg.AssetSelection.assets(*source_keys(spec)[:2]),
                partition_key=req.partition_key,
                instance=instance,
                resources=defs.resources,
            )
            assert result.success
    yield {
        "root": root,
        "instance": instance,
        "defs": defs,
        "results": results,
        "settings": settings(),
        "expected": expected,
    }
    mp.undo()


def test_sensors_request_one_run_per_delivery(world_run):
    for source, r in world_run["results"].items():
        assert r["requests"] == world_run["expected"][source], source


def test_every_check_passed_and_rows_reconcile(world_run):
    instance, s = world_run["instance"], world_run["settings"]
    for spec in LANDING_SOURCES:
        key = source_keys(spec)[0]
        for name in ("rows_reconcile", "contract", "quarantine_share"):
            history = instance.event_log_storage.get_asset_check_execution_history(
                dg.AssetCheckKey(key, name), limit=10
            )
            deliveries = world_run["expected"][spec.source]
            assert len(history) == len(deliveries), (spec.source, name)
            assert all(h.evaluation.passed for h in history), (spec.source, name)
        for delivery in world_run["results"][spec.source]["requests"]:
            loaded, quarantined = (
                pd.read_parquet(p) for p in agency_lake_paths(s.lake_dir, spec, delivery)
            )
            record = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, asset_partitions=[delivery]), limit=1
            ).records[0]
            meta = record.asset_materialization.metadata
            collapsed = int((loaded["copies_in_file"] - 1).sum()) if len(loaded) else 0
            assert meta["rows_collapsed"].value == collapsed
            assert meta["rows_in"].value == len(loaded) + len(quarantined) + collapsed


def test_personal_data_lands_only_in_restricted_sources(world_run):
    s = world_run["settings"]
    occurrences = pd.read_parquet(s.lake_dir / "police" / "occurrences")
    assert not {"surname", "forename", "dob", "pnc_id"} & set(occurrences.columns)
    assert {"easting_m", "northing_m", "in_area", "coordinate_fault"} <= set(occurrences.columns)


def test_same_content_redelivered_adds_no_rows_and_rematerializing_changes_nothing(world_run):
    s, instance, defs = world_run["settings"], world_run["instance"], world_run["defs"]
    spec = SPECS["police.occurrences"]
    first = world_run["results"][spec.source]["requests"][0]
    landing = s.landing_dir / spec.agency / spec.dataset
    copy = landing / "2026-01"
    copy.mkdir()
    for f in (landing / first).iterdir():
        shutil.copy(f, copy / f.name)
    ctx = dg.build_sensor_context(
        instance=instance,
        resources={"platform": PlatformConfig()},
        cursor=world_run["results"][spec.source]["cursor"],
    )
    tick = delivery_sensor(spec)(ctx)
    assert [r.partition_key for r in tick.run_requests] == ["2026-01"]
    instance.add_dynamic_partitions(
        tick.dynamic_partitions_requests[0].partitions_def_name, ["2026-01"]
    )
    loaded_first = agency_lake_paths(s.lake_dir, spec, first)[0]
    before = sha256_file(loaded_first)
    for delivery in ("2026-01", first):
        assert dg.materialize(
            [*defs.assets, *defs.asset_checks],
            selection=dg.AssetSelection.assets(*source_keys(spec)[:2]),
            partition_key=delivery,
            instance=instance,
            resources=defs.resources,
        ).success
    assert len(pd.read_parquet(agency_lake_paths(s.lake_dir, spec, "2026-01")[0])) == 0
    assert sha256_file(loaded_first) == before


def test_unparseable_file_is_rejected_with_its_name(world_run):
    s, instance, defs = world_run["settings"], world_run["instance"], world_run["defs"]
    spec = SPECS["probation.cases"]
    folder = s.landing_dir / spec.agency / spec.dataset / "2026-02"
    folder.mkdir()
    bad = folder / "probation_cases_2026-02.csv"
    bad.write_text("event_id,crn\nPE1,A123456\n")
    instance.add_dynamic_partitions(f"{spec.slug}_deliveries", ["2026-02"])
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks],
        selection=dg.AssetSelection.assets(*source_keys(spec)[:2]),
        partition_key="2026-02",
        instance=instance,
        resources=defs.resources,
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert str(bad) in failure.step_failure_data.error.message
    assert "missing column(s)" in failure.step_failure_data.error.message
    assert (s.rejected_dir / spec.agency / spec.dataset / "2026-02" / bad.name).exists()


def test_located_datasets_carry_the_location_contract(world_run):
    from vrdp.geo import LOCATION_COLUMNS

    s = world_run["settings"]
    for spec in LANDING_SOURCES:
        if not spec.locate:
            continue
        for delivery in world_run["results"][spec.source]["requests"]:
            loaded = pd.read_parquet(agency_lake_paths(s.lake_dir, spec, delivery)[0])
            assert set(LOCATION_COLUMNS) <= set(loaded.columns), spec.source
            unlocated = loaded["h3_cell"].isna()
            assert loaded.loc[unlocated, "in_force_area"].isna().all(), spec.source
            if spec.locate == "gazetteer":  # no gazetteer built in this run: kept unlocated
                assert unlocated.all() and not loaded["is_located"].any()
                continue
            assert loaded.loc[~unlocated, "lsoa21_code"].notna().mean() > 0.9, spec.source
    occurrences = pd.read_parquet(s.lake_dir / "police" / "occurrences")
    assert occurrences["h3_cell"].notna().mean() > 0.95


@pytest.mark.parametrize(
    ("source", "kind", "key", "base"),
    [
        ("places.addresses", "address", "uprn", 100_000_000_000),
        ("places.streets", "street", "usrn", 30_000_000),
    ],
)
def test_reference_places_load_whole_at_the_truth_points(
    world_run, small_world, source, kind, key, base
):
    """The address and street gazetteers: every row loaded, at the world's true points."""
    s, instance = world_run["settings"], world_run["instance"]
    spec = SPECS[source]
    (delivery,) = world_run["results"][source]["requests"]
    (csv_file,) = (small_world / "landing" / spec.agency / spec.dataset / delivery).glob("*.csv")
    rows = len(pd.read_csv(csv_file, dtype=str))
    loaded, quarantined = (
        pd.read_parquet(p) for p in agency_lake_paths(s.lake_dir, spec, delivery)
    )
    record = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=source_keys(spec)[0], asset_partitions=[delivery]),
        limit=1,
    ).records[0]
    assert record.asset_materialization.metadata["rows_in"].value == rows
    assert rows == len(loaded) + len(quarantined) and len(quarantined) == 0
    truth = pd.read_parquet(small_world / "truth" / "locations.parquet")
    truth = truth[truth["loc_class"] == kind].set_index("ref_id")
    loaded = loaded.set_index(loaded[key].astype("int64") - base).loc[truth.index]
    assert len(loaded) == len(truth) > 100
    assert (loaded["easting_m"] == truth["easting"]).all()
    assert (loaded["northing_m"] == truth["northing"]).all()
    assert (loaded["h3_cell"] == truth["h3_cell"]).all()  # both resolution 9
    # the force area is cut from the national pack (10 m generalisation), the world was
    # built on a finer copy of the same LSOAs: a handful of edge points fall outside
    assert loaded["in_force_area"].mean() > 0.999
    assert (loaded["lsoa21_code"] == truth["lsoa_code"]).mean() > 0.99


def test_a_failed_blocking_check_fails_the_run(world_run):
    """Checks share one step per delivery; a blocking one that fails still fails the run."""
    s, instance, defs = world_run["settings"], world_run["instance"], world_run["defs"]
    spec = SPECS["police.cad_incidents"]
    first = world_run["results"][spec.source]["requests"][0]
    src = next((s.landing_dir / spec.agency / spec.dataset / first).glob(spec.file_glob))
    lines = src.read_text().splitlines()
    assert len(lines) > 60
    # Blank the incident ref (required) on 40% of the rows: a broken extract.
    broken = [lines[0]] + [
        "," + line.split(",", 1)[1] if i % 5 < 2 else line for i, line in enumerate(lines[1:])
    ]
    folder = s.landing_dir / spec.agency / spec.dataset / "2026-03"
    folder.mkdir()
    (folder / src.name).write_text("\n".join(broken) + "\n")
    instance.add_dynamic_partitions(f"{spec.slug}_deliveries", ["2026-03"])
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks],
        selection=dg.AssetSelection.assets(*source_keys(spec)[:2]),
        partition_key="2026-03",
        instance=instance,
        resources=defs.resources,
        raise_on_error=False,
    )
    assert not result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["quarantine_share"] is False
    assert checks["rows_reconcile"] is True  # nothing lost, just too much quarantined
