"""Patrol dosage: GPS pings to hot spot visits, activity joins and compliance."""

from vrdp.dosage.activity import compliance_table, join_activity
from vrdp.dosage.pseudonym import pseudonymise
from vrdp.dosage.visits import (
    baseline_presence,
    clean_pings,
    daily_dosage,
    geofences_from_h3,
    geofences_from_points,
    koper_share,
    pings_to_visits,
    tasking_date,
)

__all__ = [
    "baseline_presence",
    "clean_pings",
    "compliance_table",
    "daily_dosage",
    "geofences_from_h3",
    "geofences_from_points",
    "join_activity",
    "koper_share",
    "pings_to_visits",
    "pseudonymise",
    "tasking_date",
]
