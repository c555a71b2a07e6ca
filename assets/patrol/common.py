"""Shared keys, lake paths and readers of the patrol assets (no I/O at import)."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

__all__ = [
    "GROUP",
    "TRIAL_UNITS_KEY",
    "TRIAL_ALLOCATION_KEY",
    "VISITS_KEY",
    "DAILY_DOSAGE_KEY",
    "ITT_TABLE_KEY",
    "TRIAL_EFFECT_KEY",
    "DAILY_TASKING_KEY",
    "TASKING_EXPORT_KEY",
    "COMPLIANCE_KEY",
    "SUPERVISOR_KEY",
    "GPS_KEY",
    "ACTIVITY_KEY",
    "OCCURRENCES_KEY",
    "CAD_KEY",
    "POIS_KEY",
    "HOTSPOT_LIST_KEY",
    "DEMO_SECRET",
    "patrol_lake",
    "read_lake_dataset",
    "pseudonym_secret",
    "trial_events",
    "harm_weights",
    "read_hotspot_list",
]

GROUP = "patrol"

TRIAL_UNITS_KEY = dg.AssetKey(["patrol", "trial_units"])
TRIAL_ALLOCATION_KEY = dg.AssetKey(["patrol", "trial_allocation"])
VISITS_KEY = dg.AssetKey(["patrol", "visits"])
DAILY_DOSAGE_KEY = dg.AssetKey(["patrol", "daily_dosage"])
ITT_TABLE_KEY = dg.AssetKey(["patrol", "itt_table"])
TRIAL_EFFECT_KEY = dg.AssetKey(["patrol", "trial_effect"])
DAILY_TASKING_KEY = dg.AssetKey(["patrol", "daily_tasking"])
TASKING_EXPORT_KEY = dg.AssetKey(["exports", "patrol_tasking_export"])
COMPLIANCE_KEY = dg.AssetKey(["patrol", "compliance"])
SUPERVISOR_KEY = dg.AssetKey(["patrol", "supervisor_dosage"])

GPS_KEY = dg.AssetKey(["patrol", "gps"])
ACTIVITY_KEY = dg.AssetKey(["patrol", "activity"])
OCCURRENCES_KEY = dg.AssetKey(["police", "occurrences"])
CAD_KEY = dg.AssetKey(["police", "cad_incidents"])
POIS_KEY = dg.AssetKey(["places", "pois"])
HOTSPOT_LIST_KEY = dg.AssetKey(["hotspots", "hotspot_list"])
#: The teams reference (source assets of ``patrol.teams`` and ``patrol.team_officers``).
TEAMS_KEY = dg.AssetKey(["patrol", "teams"])
TEAM_OFFICERS_KEY = dg.AssetKey(["patrol", "team_officers"])

#: Clearly marked demo key: used only when VRDP_ALLOW_DEMO_SECRET=1 (make run, tests).
DEMO_SECRET = "demo-only-not-secret"


def patrol_lake(lake_dir: Path) -> Path:
    """``<lake>/patrol``: where every derived patrol table is written."""
    return lake_dir / "patrol"


def read_lake_dataset(lake_dir: Path, agency: str, dataset: str, columns=None):
    """Every delivery of an agency dataset from the lake as one DataFrame (empty if none)."""
    from vrdp.lake import read_deliveries

    return read_deliveries(lake_dir, agency, dataset, columns)


def pseudonym_secret() -> str:
    """The officer pseudonym key from ``VRDP_PSEUDONYM_SECRET`` (or the opt-in demo key).

    Raises
    ------
    dagster.Failure
        When the variable is unset and ``VRDP_ALLOW_DEMO_SECRET`` is not ``1``.
    """
    secret = os.environ.get("VRDP_PSEUDONYM_SECRET", "").strip()
    if secret:
        return secret
    if os.environ.get("VRDP_ALLOW_DEMO_SECRET", "").strip() == "1":
        return DEMO_SECRET
    raise dg.Failure(
        "VRDP_PSEUDONYM_SECRET is not set: officer ids cannot be pseudonymised. Set it to a "
        "secret key, or set VRDP_ALLOW_DEMO_SECRET=1 to use the public demo key "
        f"{DEMO_SECRET!r} (demo data only, never real officers)."
    )


def harm_weights() -> dict[str, float]:
    """CCHI harm days per police.uk crime type (the dbt seed the warehouse uses)."""
    import pandas as pd

    from config.settings import REPO_ROOT

    ref = pd.read_csv(REPO_ROOT / "dbt_project" / "seeds" / "cchi_harm_weights.csv")
    return dict(zip(ref["crime_type"], ref["harm_weight_days"].astype(float), strict=True))


def trial_events(lake_dir: Path):
    """Police events for evaluation: RMS crimes plus ASB calls, located in BNG and WGS84.

    RMS occurrences are timed at the midpoint of ``committed_from``/``committed_to``
    (``committed_from`` when the end is blank) and typed by the Home Office offence
    code's police.uk category; CAD incidents closed as ``ASB - no crime`` are added as
    ``Anti-social behaviour`` at the call time (ASB is not in the RMS). Unlocated rows
    are dropped.

    Returns ``source``, ``occurred_at``, ``crime_type``, ``easting``, ``northing``,
    ``latitude``, ``longitude``.
    """
    import pandas as pd

    from vrdp.risk_terrain.world import offence_crime_types

    cols = ["source", "occurred_at", "crime_type", "easting", "northing", "latitude", "longitude"]
    occ = read_lake_dataset(
        lake_dir,
        "police",
        "occurrences",
        [
            "committed_from",
            "committed_to",
            "offence_code",
            "easting_m",
            "northing_m",
            "latitude",
            "longitude",
        ],
    )
    frames = []
    if len(occ):
        start = pd.to_datetime(occ["committed_from"])
        end = pd.to_datetime(occ["committed_to"]).fillna(start)
        frames.append(
            pd.DataFrame(
                {
                    "source": "rms",
                    "occurred_at": start + (end - start) / 2,
                    "crime_type": offence_crime_types(occ["offence_code"]).fillna("Other crime"),
                    "easting": occ["easting_m"],
                    "northing": occ["northing_m"],
                    "latitude": occ["latitude"],
                    "longitude": occ["longitude"],
                }
            )
        )
    cad = read_lake_dataset(
        lake_dir,
        "police",
        "cad_incidents",
        [
            "call_received_at",
            "closing_classification",
            "easting_m",
            "northing_m",
            "latitude",
            "longitude",
        ],
    )
    if len(cad):
        asb = cad[cad["closing_classification"] == "ASB - no crime"]
        frames.append(
            pd.DataFrame(
                {
                    "source": "cad_asb",
                    "occurred_at": pd.to_datetime(asb["call_received_at"]),
                    "crime_type": "Anti-social behaviour",
                    "easting": asb["easting_m"],
                    "northing": asb["northing_m"],
                    "latitude": asb["latitude"],
                    "longitude": asb["longitude"],
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=cols)
    ev = pd.concat(frames, ignore_index=True)
    ok = ev["occurred_at"].notna() & ev["latitude"].notna() & ev["easting"].notna()
    return ev.loc[ok, cols].reset_index(drop=True)


def read_hotspot_list(lake_dir):
    """The hot spot list the tasking uses, which family it came from, and its path.

    The force-data list (``force_hotspots/hotspot_list``: the force's own crimes,
    calls and A&E assaults with real times, the same events as the trial and its
    patrol windows) when it has been built; otherwise the data.police.uk list
    (``hotspots/hotspot_list``); an empty list (source ``"none"``) when neither exists.
    """
    import pandas as pd

    from assets.hotspots.analysis import FORCE_PREFIX

    for family in (FORCE_PREFIX, "hotspots"):
        path = lake_dir / family / "hotspot_list.parquet"
        if path.exists():
            return pd.read_parquet(path), family, path
    return pd.DataFrame(columns=["h3_cell"]), "none", None
