"""Sensors and schedules: react to files arriving in the landing zone; refresh nightly."""

from __future__ import annotations

import dagster as dg

__all__ = ["defs"]


def defs() -> dg.Definitions:
    """One file-arrival sensor per landing source, and the nightly refresh."""
    from assets.automation import DOWNSTREAM_SELECTION
    from assets.sources.agencies import LANDING_SOURCES
    from sensors.landing import (
        delivery_sensor,
        police_uk_stop_search_sensor,
        police_uk_street_sensor,
    )

    nightly = dg.ScheduleDefinition(
        name="nightly_refresh",
        description="Rebuild the warehouse and every analysis from the day's loaded sources.",
        target=DOWNSTREAM_SELECTION,
        cron_schedule="0 2 * * *",
        execution_timezone="Europe/London",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    return dg.Definitions(
        sensors=[
            police_uk_street_sensor(),
            police_uk_stop_search_sensor(),
            *(delivery_sensor(s) for s in LANDING_SOURCES),
        ],
        schedules=[nightly],
    )
