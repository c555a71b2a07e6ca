"""The retention purge as an asset, run nightly by a schedule."""

import dagster as dg

from config.resources import WAREHOUSE_POOL, PlatformConfig, warehouse_lock

__all__ = ["purge_expired", "purge_schedule", "PURGE_KEY"]

PURGE_KEY = dg.AssetKey(["governance", "retention_purge"])


class PurgeConfig(dg.Config):
    """Run-time options: the purge date (default today), for reproducible re-runs."""

    today: str | None = None


@dg.asset(key=PURGE_KEY, group_name="retention", kinds={"python"}, pool=WAREHOUSE_POOL)
def purge_expired(
    context: dg.AssetExecutionContext, platform: PlatformConfig, config: PurgeConfig
) -> dg.MaterializeResult:
    """Delete expired rows (retention register) everywhere, except rows under a legal hold.

    Landing, lake, quarantine, warehouse and restricted DuckDB files (then
    compacted), snapshots and exports; the log holds counts only.
    """
    import json
    from datetime import date

    from quality.contracts.agencies import agency_contracts
    from vrdp.governance.legal_hold import holds_path
    from vrdp.governance.permissions import owner_only
    from vrdp.governance.purge import purge_data_root
    from vrdp.governance.register import load_register

    s = platform.resolve()
    today = date.fromisoformat(config.today) if config.today else date.today()
    keys = {name: c.key for name, c in agency_contracts().items() if c.key}
    # the purge rewrites the warehouse and the restricted database: alone
    with warehouse_lock(s.warehouse_path, exclusive=True):
        report = purge_data_root(
            s.data_root, load_register(s.governance_dir), today, holds_path(s.data_root), keys
        )
    counts = report.as_dict()
    log = s.data_root / "governance" / "purge_log.jsonl"
    with owner_only():
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as f:  # counts only: no record id is ever written here
            f.write(json.dumps(counts, sort_keys=True) + "\n")
    context.log.info(f"purge {today}: {counts}")
    return dg.MaterializeResult(
        metadata={
            "today": today.isoformat(),
            "rows_purged": sum(report.rows_purged.values()),
            "rows_held": sum(report.rows_held.values()),
            "files_rewritten": report.files_rewritten,
            "duckdb_rows_deleted": sum(report.duckdb_rows_deleted.values()),
            "duckdb_files_compacted": report.duckdb_files_compacted,
            "export_versions_deleted": report.export_versions_deleted,
            "by_place": dg.MetadataValue.json(counts),
            "log": dg.MetadataValue.path(str(log)),
        }
    )


#: Off until turned on: the purge deletes data for good, so a force switches it on
#: (``make ui``, Automation) once its own retention register is in place; ``make ui``
#: prints its state with every other schedule and sensor.
purge_schedule = dg.ScheduleDefinition(
    name="retention_purge_nightly",
    target=dg.AssetSelection.assets(PURGE_KEY),
    cron_schedule="30 1 * * *",
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
