import json
import shutil

import dagster as dg
import pytest
from support import COL_STREET, land

from assets.sources.police_uk import POLICE_UK_MONTHS, STREET_CRIMES_KEY, STREET_QUARANTINE_KEY
from config.resources import PlatformConfig
from orchestration.definitions import build_defs
from sensors.landing import plan_file_runs, police_uk_street_sensor


def tick(instance, cursor):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"platform": PlatformConfig()}
    )
    return police_uk_street_sensor()(context)


def test_sensor_requests_new_and_changed_files_only(data_root):
    landing = land(
        data_root, *[COL_STREET / f"2025-0{m}-city-of-london-street.csv.gz" for m in (1, 2)]
    )
    instance = dg.DagsterInstance.ephemeral()
    first = tick(instance, None)
    assert [r.partition_key for r in first.run_requests] == ["2025-01", "2025-02"]
    assert first.dynamic_partitions_requests[0].partition_keys == ["2025-01", "2025-02"]
    cursor = json.loads(first.cursor)
    assert set(cursor["2025-01"]) == {"name", "size", "sha256"}

    again = tick(instance, first.cursor)
    assert again.run_requests == []

    # Re-delivery with other content: one run, with a run key naming the new hash.
    shutil.copy(
        COL_STREET / "2025-03-city-of-london-street.csv.gz",
        landing / "2025-02-city-of-london-street.csv.gz",
    )
    instance.add_dynamic_partitions(POLICE_UK_MONTHS.name, ["2025-01", "2025-02"])
    changed = tick(instance, again.cursor)
    assert [r.partition_key for r in changed.run_requests] == ["2025-02"]
    assert changed.dynamic_partitions_requests == []
    assert json.loads(changed.cursor)["2025-02"]["sha256"] in changed.run_requests[0].run_key


def test_plan_file_runs_is_pure(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("x")
    changed, cursor = plan_file_runs({"2025-01": f}, {})
    assert [k for k, _ in changed] == ["2025-01"]
    assert plan_file_runs({"2025-01": f}, cursor)[0] == []


@pytest.fixture
def defs():
    return build_defs()


def _materialize(defs, selection, partition_key=None):
    return dg.materialize(
        [*defs.assets, *defs.asset_checks],
        selection=selection,
        partition_key=partition_key,
        instance=dg.DagsterInstance.ephemeral(),
        resources=defs.resources,
        raise_on_error=False,
    )


def test_a_file_that_cannot_be_parsed_fails_its_run_naming_file_and_problem(
    data_root, defs, monkeypatch
):
    landing = data_root / "landing" / "police_uk" / "street"
    landing.mkdir(parents=True)
    bad = landing / "2025-03-city-of-london-street.csv"
    bad.write_text("Crime ID,Month,Longitude\nabc,2025-03,-0.1\n")
    monkeypatch.setenv("VRDP_FORCE_DISTRICTS", "E09000001")  # no LSOA codes to infer it from
    assert _materialize(defs, dg.AssetSelection.groups("geography")).success
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(POLICE_UK_MONTHS.name, ["2025-03"])
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks],
        selection=dg.AssetSelection.assets(STREET_CRIMES_KEY, STREET_QUARANTINE_KEY),
        partition_key="2025-03",
        instance=instance,
        resources=defs.resources,
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message
    assert str(bad) in message and "missing ['Reported by'" in message
    # moved out of the landing zone beside it, never deleted, with the reason
    rejected = data_root / "rejected" / "police_uk" / "street" / bad.name
    assert not bad.exists() and rejected.exists()
    assert "missing ['Reported by'" in (rejected.parent / (bad.name + ".reason.txt")).read_text()
