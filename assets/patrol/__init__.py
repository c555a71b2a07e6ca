"""Patrol: trial design, GPS dosage, trial evaluation and daily tasking (group ``patrol``)."""

from __future__ import annotations

__all__ = ["patrol_assets", "patrol_asset_checks"]


def patrol_assets() -> list:
    """Every patrol asset and its checks (non-partitioned; built without I/O)."""
    from assets.patrol.compliance import patrol_compliance, supervisor_dosage
    from assets.patrol.design import trial_allocation, trial_units
    from assets.patrol.dosage import patrol_daily_dosage, patrol_visits
    from assets.patrol.evaluation import itt_table_asset, trial_effect
    from assets.patrol.tasking import daily_tasking_asset, patrol_tasking_export, tasking_pii_check

    return [
        trial_units,
        trial_allocation,
        patrol_visits,
        patrol_daily_dosage,
        patrol_compliance,
        supervisor_dosage,
        itt_table_asset,
        trial_effect,
        daily_tasking_asset,
        patrol_tasking_export,
        tasking_pii_check,
    ]


def patrol_asset_checks() -> list:
    """The blocking personal-data check of the tasking export."""
    from assets.patrol.tasking import tasking_pii_check

    return [tasking_pii_check]
