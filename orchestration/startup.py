"""What ``make ui`` (and ``make run``) do before Dagster starts.

- create the persistent Dagster home (``data/dagster_home``);
- mark runs left ``STARTED`` by a process that no longer exists as failed (a
  ``make run`` killed mid-flight, a crashed run worker), so the UI does not show
  them running forever;
- print which sensors, schedules and the automation sensor are on or off, and
  how to turn them on.

``python -m orchestration.startup`` runs all three.
"""

from __future__ import annotations

import dagster as dg

__all__ = ["automation_status", "main"]


def automation_status(
    defs: dg.Definitions, instance: dg.DagsterInstance | None = None
) -> list[str]:
    """One line per sensor and schedule: on or off now (the instance's state, else the default).

    A sensor or schedule turned on or off in the UI keeps that state in the
    Dagster home; one never touched runs with its default.
    """
    saved: dict[str, str] = {}
    if instance is not None:
        for state in instance.all_instigator_state():
            saved[state.instigator_name] = state.status.value
    lines = []
    items = [("sensor", x, x.default_status.value) for x in defs.sensors or []]
    items += [("schedule", x, x.default_status.value) for x in defs.schedules or []]
    for kind, item, default in sorted(items, key=lambda t: (t[0], t[1].name)):
        status = saved.get(item.name, default)
        status = default if status == "DECLARED_IN_CODE" else status
        state = "ON " if status == "RUNNING" else "off"
        origin = "set in the UI" if item.name in saved else "default"
        when = f" ({item.cron_schedule} {item.execution_timezone})" if kind == "schedule" else ""
        lines.append(f"  {kind:<8} {item.name:<36} {state} ({origin}){when}")
    return lines


def main() -> None:
    """Prepare the home, fail stale runs, print the automation state."""
    import warnings

    from config.settings import settings
    from orchestration.definitions import build_defs
    from orchestration.jobs import AUTOMATION_SENSOR
    from orchestration.main import ensure_dagster_home
    from orchestration.stale_runs import mark_stale_runs_failed

    warnings.filterwarnings("ignore")
    home = ensure_dagster_home(settings())
    with dg.DagsterInstance.get() as instance:
        for run_id in mark_stale_runs_failed(instance):
            print(f"run {run_id}: its process is gone; marked failed")
        print(f"Dagster home: {home}")
        print("Sensors and schedules (a state changed in the UI is kept in the Dagster home):")
        for line in automation_status(build_defs(), instance):
            print(line)
    print(
        f"Turn on '{AUTOMATION_SENSOR}' (Automation tab) for derived assets to update "
        "themselves after a file sensor loads a delivery; turn on the file sensors for new "
        "files to load. Nothing runs on its own until you do."
    )


if __name__ == "__main__":
    main()
