"""The project's Dagster home stores events with kept SQLite connections (orchestration.storage)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)

from config.settings import REPO_ROOT
from orchestration.storage import KEEP_OPEN_ENV, MAX_ENGINES, PooledSqliteEventLogStorage


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset_check(asset=numbers)
def three_numbers(numbers: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=len(numbers) == 3)


@dg.asset
def total(numbers: list[int]) -> int:
    return sum(numbers)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A Dagster home with the project's dagster.yaml, as make run creates it."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv(KEEP_OPEN_ENV, "1")
    return home


def _events(storage, run_id) -> list[str]:
    records = storage.get_records_for_run(run_id, limit=10_000).records
    return [r.event_log_entry.dagster_event_type for r in records]


def test_events_stored_with_kept_connections_are_those_dagster_stores(home):
    runs_dir = home / "history" / "runs"
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, PooledSqliteEventLogStorage)
        result = dg.materialize([numbers, three_numbers, total], instance=instance)
        assert result.success
        run_id = result.run_id
        # The index stays open; the run's shard was closed when the run ended, so
        # its write-ahead log was checkpointed into the .db file the UI watches.
        assert INDEX_SHARD_NAME in storage._engines
        assert run_id not in storage._engines
        with storage.index_connection() as conn:  # WAL, synced at checkpoints only
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        wal = runs_dir / f"{run_id}.db-wal"
        assert not wal.exists() or wal.stat().st_size == 0
        ours = _events(storage, run_id)
        # Dagster's own storage on the same files (another process's view, its
        # connections opened and closed per call) reads the same events, while
        # this process still holds its index connection.
        theirs = _events(SqliteEventLogStorage(str(runs_dir)), run_id)
        assert ours == theirs
        assert ours.count(dg.DagsterEventType.ASSET_MATERIALIZATION) == 2
        assert ours.count(dg.DagsterEventType.ASSET_CHECK_EVALUATION) == 1
        assert ours[-1] == dg.DagsterEventType.RUN_SUCCESS
        # Cross-run index queries (what make run's staleness checks read) see them too.
        latest = instance.get_latest_materialization_event(dg.AssetKey("total"))
        assert latest is not None and latest.run_id == run_id
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("numbers"), "three_numbers")]
        )
        assert len(check) == 1


def test_kept_connections_are_bounded_and_closed_with_the_instance(home):
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        run_ids = [
            dg.materialize([numbers], instance=instance).run_id for _ in range(MAX_ENGINES + 3)
        ]
        for run_id in run_ids:  # reading a run's events opens its shard and keeps it
            assert _events(storage, run_id)[-1] == dg.DagsterEventType.RUN_SUCCESS
        assert len(storage._engines) == MAX_ENGINES
        assert INDEX_SHARD_NAME in storage._engines
        assert set(run_ids[-(MAX_ENGINES - 1) :]) <= set(storage._engines)
    assert storage._engines == {}


def test_without_the_variable_it_behaves_as_dagster_does(home, monkeypatch):
    monkeypatch.delenv(KEEP_OPEN_ENV)
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize([numbers, total], instance=instance)
        assert result.success
        assert instance.event_log_storage._engines == {}
        assert _events(instance.event_log_storage, result.run_id)[-1] == (
            dg.DagsterEventType.RUN_SUCCESS
        )


def test_make_run_keeps_its_event_log_connections_open(monkeypatch):
    """make run's process (and its spawned workers, through the environment) keeps
    connections open: set before anything opens an instance. A revert once dropped
    the line, and every make run since paid Dagster's connect-and-close per event."""
    import orchestration.main as make_run

    class Stop(Exception):
        pass

    def stop():
        raise Stop

    monkeypatch.setenv(KEEP_OPEN_ENV, "0")  # restored after the test
    monkeypatch.setattr(make_run, "settings", stop)  # the first thing main() reads after
    with pytest.raises(Stop):
        make_run.main()
    assert os.environ[KEEP_OPEN_ENV] == "1"
