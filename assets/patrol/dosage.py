"""GPS dosage: hot spot visits from officers' pings, and minutes per hot spot-day-officer.

Not partitioned: one run reads every GPS day in the lake (1.1 M pings in the medium
world take seconds with the vectorised :func:`vrdp.dosage.pings_to_visits`), so the
assets sit with the other non-partitioned downstream assets in one run.
"""

import dagster as dg

from assets.hotspots.analysis import FORCE_HOTSPOT_LIST_KEY
from assets.patrol.common import (
    ACTIVITY_KEY,
    DAILY_DOSAGE_KEY,
    GPS_KEY,
    GROUP,
    HOTSPOT_LIST_KEY,
    POIS_KEY,
    TRIAL_ALLOCATION_KEY,
    TRIAL_UNITS_KEY,
    VISITS_KEY,
)
from config.resources import PlatformConfig

__all__ = ["VisitsConfig", "patrol_visits", "patrol_daily_dosage", "geofence_units"]


class VisitsConfig(dg.Config):
    """Visit segmentation and police-station exclusion."""

    gap_tolerance_seconds: float = 120.0
    min_dwell_seconds: float = 60.0
    foot_max_speed_mps: float = 3.0
    station_exclusion_m: float = 60.0
    day_start: str = "06:00"
    #: zone of the app's activity clock, of tasking days and of local report times
    time_zone: str = "Europe/London"
    #: zone of the GPS files' clock (they carry no offset); set "UTC" for devices that
    #: log UTC. On the simulated world both clocks agree (app events fall inside GPS
    #: visits only when both are read the same way).
    gps_time_zone: str = "Europe/London"


def geofence_units(lake_dir):
    """Units to geofence: trial units, every hot spot ever tasked (controls too) and the list.

    The union of the trial cohort (its unit ids), the tasking history (every hot
    spot of every tasked day, patrol and control) and the selected hot spot list
    (the force list when built), so every tasked spot gets a dosage figure. A cell
    in the trial keeps its trial unit id; any other is named by its H3 cell.
    """
    import pandas as pd

    from assets.patrol.common import read_hotspot_list
    from assets.patrol.design import trial_design_dir

    frames, sources = [], []
    path = trial_design_dir(lake_dir) / "trial_units.parquet"
    units = pd.read_parquet(path) if path.exists() else pd.DataFrame()
    if len(units):
        frames.append(units[["unit_id", "h3_cell"]])
        sources.append("trial_units")
    hist = lake_dir / "patrol" / "tasking_history.parquet"
    if hist.exists() and len(h := pd.read_parquet(hist, columns=["h3_cell"])):
        frames.append(pd.DataFrame({"unit_id": h["h3_cell"], "h3_cell": h["h3_cell"]}))
        sources.append("tasking_history")
    hl, family, _ = read_hotspot_list(lake_dir)
    hl = hl[hl["selected"]] if "selected" in hl else hl
    if len(hl):
        frames.append(pd.DataFrame({"unit_id": hl["h3_cell"], "h3_cell": hl["h3_cell"]}))
        sources.append(f"{family}/hotspot_list")
    if not frames:
        return pd.DataFrame(columns=["unit_id", "h3_cell"]), "none"
    out = pd.concat(frames, ignore_index=True).dropna().drop_duplicates("h3_cell", keep="first")
    return out.reset_index(drop=True), " + ".join(sources)


@dg.asset(
    key=VISITS_KEY,
    deps=[
        GPS_KEY,
        ACTIVITY_KEY,
        TRIAL_UNITS_KEY,
        POIS_KEY,
        HOTSPOT_LIST_KEY,
        FORCE_HOTSPOT_LIST_KEY,
    ],
    group_name=GROUP,
    kinds={"python", "parquet"},
    code_version="1",
)
def patrol_visits(
    context: dg.AssetExecutionContext, config: VisitsConfig, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Geofence visits and passes from every GPS day, with app activity, officers pseudonymised."""
    import functools

    import pandas as pd

    from assets.patrol.common import pseudonym_secret, read_lake_dataset
    from vrdp.dosage import (
        app_checkins,
        clean_pings,
        confirm_visits,
        geofences_from_h3,
        geofences_from_points,
        join_activity,
        koper_share,
        local_to_utc,
        pings_to_visits,
        pseudonymise,
        tasking_date,
    )
    from vrdp.lake import write_parquet_atomic

    key = pseudonym_secret()
    s = platform.resolve()
    units, fence_source = geofence_units(s.lake_dir)
    raw = read_lake_dataset(
        s.lake_dir,
        "patrol",
        "gps",
        [
            "ts",
            "officer_id",
            "device_id",
            "latitude",
            "longitude",
            "easting_m",
            "northing_m",
            "speed_mps",
        ],
    ).rename(columns={"latitude": "lat", "longitude": "lon"})
    # Local wall clock -> UTC per device, in file order (the fall-back hour repeats).
    raw["ts"], gps_clock = local_to_utc(raw["ts"], config.gps_time_zone, groups=raw["device_id"])
    pings = clean_pings(raw) if len(raw) else raw
    pois = read_lake_dataset(
        s.lake_dir, "places", "pois", ["poi_id", "category", "easting_m", "northing_m"]
    )
    stations = pois[pois["category"] == "police_station"].dropna(subset=["easting_m"])
    exclude = geofences_from_points(
        stations,
        radius_m=config.station_exclusion_m,
        x_col="easting_m",
        y_col="northing_m",
        id_col="poi_id",
    )
    visits = pd.DataFrame()
    activity_clock = checkins = None
    if len(pings) and len(units):
        segment = pings_to_visits
        if s.engine == "spark":  # the same segmentation as Spark jobs (VRDP_ENGINE)
            from vrdp.dosage.spark import pings_to_visits_spark
            from vrdp.engines import spark_session

            segment = functools.partial(pings_to_visits_spark, spark_session())
        visits = segment(
            pings,
            geofences_from_h3(units),
            gap_tolerance_seconds=config.gap_tolerance_seconds,
            min_dwell_seconds=config.min_dwell_seconds,
            foot_max_speed_mps=config.foot_max_speed_mps,
            day_start=config.day_start,
            tz=config.time_zone,
            exclude=exclude,
        )
    if len(visits):
        activity = read_lake_dataset(
            s.lake_dir, "patrol", "activity", ["ts", "officer_id", "device_id", "event", "unit_id"]
        )
        activity["ts"], activity_clock = local_to_utc(
            activity["ts"], config.time_zone, groups=activity["device_id"]
        )
        if len(activity):
            visits = join_activity(visits, activity)
            checkins = app_checkins(activity)
            visits = confirm_visits(visits, checkins)
        else:
            visits = visits.assign(n_activity=0, n_checkins=0, confirmed_minutes=0.0)
        visits["officer"] = pseudonymise(visits["officer"], key)
    else:
        visits = pd.DataFrame(
            columns=[
                "officer",
                "hotspot_id",
                "date",
                "arrive",
                "depart",
                "arrive_local",
                "depart_local",
                "dwell_minutes",
                "n_pings",
                "mode",
                "kind",
                "in_koper_band",
                "n_activity",
                "n_checkins",
                "confirmed_minutes",
            ]
        )
    out = s.lake_dir / "patrol" / "visits.parquet"
    write_parquet_atomic(visits.reset_index(drop=True), out)
    real = visits[visits["kind"] == "visit"]
    dropped = pings.attrs.get("dropped", {}) if len(pings) else {}
    return dg.MaterializeResult(
        metadata={
            "geofences": f"{len(units)} ({fence_source})",
            "police_stations_excluded": len(stations),
            "pings_read": len(raw),
            "pings_dropped": dg.MetadataValue.json({k: int(v) for k, v in dropped.items()}),
            "gps_days": (
                int(tasking_date(pings["ts"], config.day_start, config.time_zone).nunique())
                if len(pings)
                else 0
            ),
            "engine": s.engine,
            "time_zone": config.time_zone,
            "gps_time_zone": config.gps_time_zone,
            "gps_clock": dg.MetadataValue.json(gps_clock.as_dict()),
            "activity_clock": dg.MetadataValue.json(
                activity_clock.as_dict() if activity_clock else {}
            ),
            "visits": len(real),
            "passes": int((visits["kind"] == "pass").sum()),
            "dosage_minutes": round(float(real["dwell_minutes"].sum()), 1),
            "confirmed_minutes": round(float(visits["confirmed_minutes"].sum()), 1),
            "checkins_confirmed": int(visits["n_checkins"].sum()),
            "checkins_paired": len(checkins) if checkins is not None else 0,
            "koper_band_share": round(koper_share(visits), 4) if len(real) else None,
            "foot_visits": int((real["mode"] == "foot").sum()),
            "vehicle_visits": int((real["mode"] == "vehicle").sum()),
            "activity_records_joined": int(visits["n_activity"].sum()) if len(visits) else 0,
            "officers_pseudonymised": int(visits["officer"].nunique()),
            "dagster/row_count": len(visits),
            "path": dg.MetadataValue.path(str(out)),
        }
    )


@dg.asset(
    key=DAILY_DOSAGE_KEY,
    deps=[VISITS_KEY, TRIAL_ALLOCATION_KEY],
    group_name=GROUP,
    kinds={"python", "parquet"},
    code_version="1",
)
def patrol_daily_dosage(
    context: dg.AssetExecutionContext, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Presence and confirmed patrol minutes, visits and Koper share per hot spot, day, officer."""
    import pandas as pd

    from assets.patrol.design import trial_design_dir
    from vrdp.dosage import baseline_presence, daily_dosage
    from vrdp.lake import write_parquet_atomic

    s = platform.resolve()
    visits = pd.read_parquet(s.lake_dir / "patrol" / "visits.parquet")
    if len(visits) and s.engine == "spark":
        from vrdp.dosage.spark import daily_dosage_spark
        from vrdp.engines import spark_session

        dosage = daily_dosage_spark(spark_session(), visits)
    elif len(visits):
        dosage = daily_dosage(visits)
    else:
        dosage = pd.DataFrame(
            columns=[
                "hotspot_id",
                "date",
                "officer",
                "n_visits",
                "n_passes",
                "dosage_minutes",
                "koper_visits",
                "confirmed_minutes",
                "n_checkins",
                "koper_share",
            ]
        )
    out = s.lake_dir / "patrol" / "daily_dosage.parquet"
    write_parquet_atomic(dosage, out)
    meta = {}
    alloc_path = trial_design_dir(s.lake_dir) / "trial_allocation.parquet"
    alloc = pd.read_parquet(alloc_path) if alloc_path.exists() else pd.DataFrame()
    if len(alloc) and len(dosage):
        bp = baseline_presence(dosage, alloc).set_index("arm")
        meta["presence_by_arm"] = dg.MetadataValue.md(bp.round(3).to_markdown())
        for arm in bp.index:
            meta[f"mean_minutes_{arm}_unit_day"] = round(float(bp.loc[arm, "mean_minutes"]), 2)
    truth = s.world_truth_dir
    if truth is not None and (truth / "patrol_visits.parquet").exists() and len(alloc):
        from vrdp.dosage import dosage_agreement

        # Evaluation only: how the measured minutes agree with the simulated world's
        # true visits (presence is an upper bound, confirmed minutes a lower bound).
        meta["truth_dosage_agreement"] = dg.MetadataValue.json(
            dosage_agreement(dosage, pd.read_parquet(truth / "patrol_visits.parquet"), alloc)
        )
    visits_n = int(dosage["n_visits"].sum()) if len(dosage) else 0
    koper = int(dosage["koper_visits"].sum()) if len(dosage) else 0
    by_mode = (
        visits[visits["kind"] == "visit"].groupby("mode")["dwell_minutes"].sum().round(1).to_dict()
        if len(visits)
        else {}
    )
    return dg.MaterializeResult(
        metadata={
            **meta,
            "engine": s.engine,
            "hotspot_days": int(dosage[["hotspot_id", "date"]].drop_duplicates().shape[0]),
            "visits": visits_n,
            "dosage_minutes": round(float(dosage["dosage_minutes"].sum()), 1),
            "confirmed_minutes": (
                round(float(dosage["confirmed_minutes"].sum()), 1)
                if "confirmed_minutes" in dosage
                else None
            ),
            "koper_band_share": round(koper / visits_n, 4) if visits_n else None,
            "minutes_by_mode": dg.MetadataValue.json({k: float(v) for k, v in by_mode.items()}),
            "dagster/row_count": len(dosage),
            "path": dg.MetadataValue.path(str(out)),
        }
    )
