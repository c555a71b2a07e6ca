"""Sensors: react to files arriving in the landing zone (schedules: orchestration/jobs.py)."""

from __future__ import annotations

import dagster as dg

__all__ = ["defs"]


def defs() -> dg.Definitions:
    """One file-arrival sensor per landing source."""
    from assets.sources.agencies import LANDING_SOURCES
    from sensors.landing import (
        delivery_sensor,
        police_uk_stop_search_sensor,
        police_uk_street_sensor,
    )

    return dg.Definitions(
        sensors=[
            police_uk_street_sensor(),
            police_uk_stop_search_sensor(),
            *(delivery_sensor(s) for s in LANDING_SOURCES),
        ],
    )
