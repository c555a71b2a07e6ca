"""The data of the dashboard's needs view, from the published needs pack.

The dashboard (issue 16's ``dashboard/`` package) draws it; this function only
shapes the partner-safe tables (already suppressed) into what the view shows: a
ranked area table for one indicator and age band, the gradient by deprivation
decile and the A&E share never reaching police records.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["INDICATORS", "needs_view_data"]

#: Indicators of the pack with the label the view shows.
INDICATORS = {
    "violent_crimes": "Violent crimes recorded by the police",
    "ae_assaults": "A&E assault attendances (ISTV)",
    "violence_calls": "Calls for service about violence",
    "victims_under_25": "Victims of violence under 25",
    "suspects_under_25": "Suspects of violence under 25",
    "cin_referrals": "Children in need referrals",
    "probation_caseload": "People on probation",
    "safeguarding_referrals": "NHS safeguarding referrals",
}


def _records(df: pd.DataFrame) -> list[dict]:
    out = df.to_dict("records")
    for r in out:
        for k, v in r.items():
            if isinstance(v, float) and math.isnan(v):
                r[k] = None
            elif hasattr(v, "isoformat"):
                r[k] = v.isoformat()
    return out


def needs_view_data(
    area_rates: pd.DataFrame,
    deprivation: pd.DataFrame,
    ae_unreported: pd.DataFrame,
    *,
    area_type: str = "ward",
    indicator: str = "violent_crimes",
    age_band: str = "all",
    imd_basis: str = "national",
) -> dict:
    """One view of the needs pack (tables as published: ``needs_area_rates``, ...).

    Returns
    -------
    dict
        ``title``, ``period`` (start, end), ``areas`` (area code and name, count,
        population, rate per 1,000 with its 95% interval, IMD deciles,
        ``is_suppressed``; highest rate first, suppressed last), ``deprivation``
        (decile 1..10 with rate and interval), ``force`` (the force-wide row),
        ``ae_unreported`` (areas of ``area_type`` with the share and interval),
        ``choices`` (indicators, age bands, area types for the view's selectors)
        and ``notes`` (suppression and the interval method).
    """
    if indicator not in INDICATORS:
        raise ValueError(f"unknown indicator {indicator!r}")
    sel = area_rates[(area_rates["indicator"] == indicator) & (area_rates["age_band"] == age_band)]
    areas = sel[sel["area_type"] == area_type].sort_values(
        ["is_suppressed", "rate_per_1000", "area_code"], ascending=[True, False, True]
    )
    force = sel[sel["area_type"] == "force"]
    dep = deprivation[
        (deprivation["indicator"] == indicator)
        & (deprivation["age_band"] == age_band)
        & (deprivation["imd_basis"] == imd_basis)
    ].sort_values("imd_decile")
    ae = ae_unreported[ae_unreported["area_type"] == area_type].sort_values(
        ["is_suppressed", "share_not_in_police_records"], ascending=[True, False]
    )
    cols = ["area_code", "area_name", "events", "population", "rate_per_1000"]
    cols += ["rate_ci95_low", "rate_ci95_high", "imd_decile_national", "imd_decile_force"]
    cols += ["is_suppressed"]
    period = sel[["period_start", "period_end"]].drop_duplicates()
    return {
        "title": f"{INDICATORS[indicator]} per 1,000 residents ({age_band}), by {area_type}",
        "period": _records(period)[0] if len(period) else None,
        "areas": _records(areas[cols]),
        "force": _records(force[cols])[0] if len(force) else None,
        "deprivation": _records(
            dep[
                [
                    "imd_decile",
                    "events",
                    "population",
                    "rate_per_1000",
                    "rate_ci95_low",
                    "rate_ci95_high",
                    "is_suppressed",
                ]
            ]
        ),
        "ae_unreported": _records(
            ae[
                [
                    "area_code",
                    "area_name",
                    "ae_assaults_located",
                    "share_not_in_police_records",
                    "share_ci95_low",
                    "share_ci95_high",
                    "is_suppressed",
                ]
            ]
        ),
        "choices": {
            "indicators": INDICATORS,
            "age_bands": sorted(
                area_rates.loc[area_rates["indicator"] == indicator, "age_band"].unique().tolist()
            ),
            "area_types": ["ward", "lsoa", "force"],
            "imd_basis": ["national", "force"],
        },
        "notes": [
            "Counts under 5 are suppressed, with their rates and intervals.",
            "95% intervals are Wilson score intervals.",
            "Residents: 2011 census on LSOA 2021; age bands by England and Wales 2011 shares.",
        ],
    }
