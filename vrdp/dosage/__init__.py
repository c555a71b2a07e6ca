"""Patrol dosage: GPS pings to hot spot visits, activity joins and compliance."""

from vrdp.dosage.activity import app_checkins, compliance_table, confirm_visits, join_activity
from vrdp.dosage.agreement import dosage_agreement
from vrdp.dosage.localtime import LONDON, local_to_utc, utc_to_local
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
    "app_checkins",
    "confirm_visits",
    "LONDON",
    "local_to_utc",
    "utc_to_local",
    "baseline_presence",
    "clean_pings",
    "compliance_table",
    "daily_dosage",
    "dosage_agreement",
    "geofences_from_h3",
    "geofences_from_points",
    "join_activity",
    "koper_share",
    "pings_to_visits",
    "pseudonymise",
    "tasking_date",
]
