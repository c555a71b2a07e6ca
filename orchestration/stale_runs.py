"""Runs left ``STARTED`` by a process that no longer exists are marked failed.

A ``make run`` killed mid-flight, or a crashed run worker, leaves its run
``STARTED`` in the Dagster home forever; ``make ui`` and ``make run`` call
:func:`mark_stale_runs_failed` on startup.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import dagster as dg

__all__ = ["run_pid", "mark_stale_runs_failed"]

UNFINISHED = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def run_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The process id that last wrote a Dagster event of ``run_id`` (None if none did)."""
    records = instance.get_records_for_run(run_id, limit=1, ascending=False).records
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.pid is not None:
            return int(event.pid)
    return None


def mark_stale_runs_failed(
    instance: dg.DagsterInstance, *, alive: Callable[[int], bool] = _alive
) -> list[str]:
    """Report every unfinished run whose process is gone as failed; return their ids.

    A run counts as gone when the process that wrote its last event no longer
    exists on this machine (the home is local to it, under ``data/``).
    """
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED)):
        pid = run_pid(instance, run.run_id)
        if pid is None or alive(pid):
            continue
        instance.report_run_failed(
            run,
            message=f"process {pid} that ran this run no longer exists (killed or crashed); "
            "marked failed on startup",
        )
        failed.append(run.run_id)
    return failed
