"""Governance assets: the transparency page, the retention purge and its schedule."""

from __future__ import annotations

import dagster as dg

__all__ = ["governance_defs"]


def governance_defs() -> dg.Definitions:
    """The governance assets and the purge schedule (built lazily, no I/O)."""
    from assets.governance.disparity import disparity_report
    from assets.governance.purge import purge_expired, purge_schedule
    from assets.governance.transparency import transparency_page

    return dg.Definitions(
        assets=[transparency_page, purge_expired, disparity_report], schedules=[purge_schedule]
    )
