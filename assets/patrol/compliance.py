"""Compliance against the Koper target, and the supervisor's table of officers.

Dosage on every tasked hot spot-day, compliance per team, officer and day, and
officers by dosage delivered (pseudonymised, never exported).

Tasked hot spot-days are the tasking history (every day the platform tasked,
patrol and control hot spots) and the trial allocation's days. Officers are the
visits asset's HMAC pseudonyms; their team comes from the teams reference when
one is delivered (``patrol/team_officers``: ``officer_id``, ``team_id``), else
``unassigned``.
"""

import dagster as dg

from assets.patrol.common import (
    COMPLIANCE_KEY,
    DAILY_DOSAGE_KEY,
    DAILY_TASKING_KEY,
    GROUP,
    SUPERVISOR_KEY,
    TEAM_OFFICERS_KEY,
    TRIAL_ALLOCATION_KEY,
)
from config.resources import PlatformConfig

__all__ = ["tasked_spot_days", "patrol_compliance", "supervisor_dosage", "SUPERVISOR_SUBDIR"]

#: Where the supervisor's table is written: outside exports/, read by no export.
SUPERVISOR_SUBDIR = "supervisor"


def tasked_spot_days(lake_dir, *, visit_minutes: float = 15.0, visits_per_day: int = 6):
    """Every tasked hot spot-day: tasking history plus trial allocation (targets, arms).

    Trial days without a tasking row get the default Koper target (``visits_per_day``
    visits of ``visit_minutes``) on patrol and 0 on control.
    """
    import pandas as pd

    from assets.patrol.design import trial_design_dir

    cols = ["hotspot_id", "h3_cell", "date", "arm", "target_visits", "target_minutes"]
    frames = []
    hist = lake_dir / "patrol" / "tasking_history.parquet"
    if hist.exists():
        frames.append(pd.read_parquet(hist)[cols])
    alloc_path = trial_design_dir(lake_dir) / "trial_allocation.parquet"
    if alloc_path.exists() and len(alloc := pd.read_parquet(alloc_path)):
        patrol = alloc["arm"].eq("patrol")
        frames.append(
            pd.DataFrame(
                {
                    "hotspot_id": alloc["unit_id"],
                    "h3_cell": alloc["h3_cell"],
                    "date": alloc["date"],
                    "arm": alloc["arm"],
                    "target_visits": patrol.astype(int) * visits_per_day,
                    "target_minutes": patrol.astype(float) * visits_per_day * visit_minutes,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)
    out["date"] = pd.to_datetime(out["date"]).dt.normalize()
    return out.drop_duplicates(["hotspot_id", "date"], keep="first").reset_index(drop=True)


def _teams(lake_dir, officers):
    """Each pseudonymised officer's team from the delivered teams reference.

    The roster (``patrol/team_officers``, latest delivery) names officers by their
    raw ids: they are pseudonymised with the same key as the visits before the join.
    """
    import pandas as pd

    from assets.patrol.common import pseudonym_secret, read_lake_dataset
    from vrdp.dosage.pseudonym import pseudonymise

    roster = read_lake_dataset(lake_dir, "patrol", "team_officers", ["officer_id", "team_id"])
    out = pd.DataFrame({"officer": sorted(set(officers))})
    if len(roster):
        ref = pd.DataFrame(
            {
                "officer": pseudonymise(roster["officer_id"], pseudonym_secret()).to_numpy(),
                "team": roster["team_id"].to_numpy(),
            }
        ).drop_duplicates("officer", keep="last")
        out = out.merge(ref, on="officer", how="left")
        note = "teams reference (patrol/team_officers)"
    else:
        out["team"] = None
        note = "no teams reference: unassigned"
    out["team"] = out["team"].fillna("unassigned")
    return out, note


@dg.asset(
    key=COMPLIANCE_KEY,
    deps=[DAILY_DOSAGE_KEY, DAILY_TASKING_KEY, TRIAL_ALLOCATION_KEY, TEAM_OFFICERS_KEY],
    group_name=GROUP,
    kinds={"python", "parquet"},
    code_version="1",
)
def patrol_compliance(
    context: dg.AssetExecutionContext, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Dosage on every tasked spot-day (controls too); compliance per team, officer, day.

    Against the Koper target; officers are pseudonyms.
    """
    import pandas as pd

    from assets.patrol.dosage import geofence_units
    from vrdp.dosage import compliance_table
    from vrdp.lake import write_parquet_atomic

    s = platform.resolve()
    folder = s.lake_dir / "patrol"
    dosage = pd.read_parquet(folder / "daily_dosage.parquet")
    dosage["date"] = pd.to_datetime(dosage["date"]).dt.normalize()
    tasked = tasked_spot_days(s.lake_dir)
    # The visits asset names one geofence per cell; a tasked spot is measured by its cell.
    fences, _ = geofence_units(s.lake_dir)
    measured = dict(zip(fences["h3_cell"], fences["unit_id"], strict=True))
    tasked["measured_as"] = tasked["h3_cell"].map(measured).fillna(tasked["hotspot_id"])
    last = dosage["date"].max() if len(dosage) else None
    if last is not None:
        tasked = tasked[tasked["date"] <= last]
    per_spot = dosage.groupby(["hotspot_id", "date"], as_index=False)[
        [c for c in ("n_visits", "dosage_minutes", "confirmed_minutes") if c in dosage]
    ].sum()
    per_spot = per_spot.rename(columns={"hotspot_id": "measured_as"})
    spot_days = tasked.merge(per_spot, on=["measured_as", "date"], how="left")
    for c in ("n_visits", "dosage_minutes", "confirmed_minutes"):
        spot_days[c] = spot_days[c].fillna(0) if c in spot_days else 0
    spot_days["met_target"] = (spot_days["target_minutes"] > 0) & (
        spot_days["dosage_minutes"] >= spot_days["target_minutes"]
    )
    write_parquet_atomic(spot_days, folder / "tasked_dosage.parquet")
    teams, team_note = _teams(s.lake_dir, dosage["officer"] if len(dosage) else [])
    targets = tasked[tasked["target_minutes"] > 0]
    targets = targets.assign(hotspot_id=targets["measured_as"])
    if len(dosage) and len(targets):
        officer_day = compliance_table(dosage, targets, by=("team", "officer", "date"), teams=teams)
        team_day = compliance_table(dosage, targets, by=("team", "date"), teams=teams)
    else:
        officer_day = team_day = pd.DataFrame(
            columns=["team", "officer", "date", "tasked_days", "delivered_minutes"]
        )
    write_parquet_atomic(officer_day, folder / "compliance_officer_day.parquet")
    write_parquet_atomic(team_day, folder / "compliance_team_day.parquet")
    by_arm = (
        spot_days.groupby("arm")[["dosage_minutes", "n_visits"]].mean().round(2)
        if len(spot_days)
        else pd.DataFrame()
    )
    patrol = spot_days[spot_days["target_minutes"] > 0]
    return dg.MaterializeResult(
        metadata={
            "tasked_spot_days": len(spot_days),
            "tasked_spot_days_with_dosage_figure": int(spot_days["dosage_minutes"].notna().sum()),
            "spot_days_with_no_presence": int((spot_days["dosage_minutes"] == 0).sum()),
            "patrol_spot_days_met_target": int(patrol["met_target"].sum()),
            "patrol_target_met_share": round(float(patrol["met_target"].mean()), 4)
            if len(patrol)
            else None,
            "mean_per_spot_day_by_arm": dg.MetadataValue.md(by_arm.to_markdown()),
            "officer_day_rows": len(officer_day),
            "teams": team_note,
            "dagster/row_count": len(spot_days),
            "path": dg.MetadataValue.path(str(folder / "tasked_dosage.parquet")),
        }
    )


@dg.asset(
    key=SUPERVISOR_KEY,
    deps=[COMPLIANCE_KEY],
    group_name=GROUP,
    kinds={"python", "parquet"},
    code_version="1",
)
def supervisor_dosage(
    context: dg.AssetExecutionContext, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Supervisor's table: pseudonymised officers ranked by dosage delivered on tasked spots.

    Forces running hot spot apps use it to recognise the officers who keep patrols
    going. It holds officer pseudonyms, so it is written under
    ``lake/patrol/supervisor/`` for supervisors only and is part of no export.
    """
    import pandas as pd

    from vrdp.lake import write_parquet_atomic

    s = platform.resolve()
    od = pd.read_parquet(s.lake_dir / "patrol" / "compliance_officer_day.parquet")
    out = s.lake_dir / "patrol" / SUPERVISOR_SUBDIR / "officer_dosage.parquet"
    if len(od):
        t = (
            od.groupby(["team", "officer"], as_index=False)
            .agg(
                days=("date", "nunique"),
                delivered_minutes=("delivered_minutes", "sum"),
                n_visits=("n_visits", "sum"),
                koper_visits=("koper_visits", "sum"),
                spot_days_met=("days_met", "sum"),
            )
            .sort_values(["delivered_minutes", "officer"], ascending=[False, True])
        )
        t["koper_share"] = t["koper_visits"] / t["n_visits"].where(t["n_visits"] > 0)
        t.insert(0, "rank", range(1, len(t) + 1))
    else:
        t = pd.DataFrame(columns=["rank", "team", "officer", "days", "delivered_minutes"])
    write_parquet_atomic(t.reset_index(drop=True), out)
    top = t.head(10).copy()
    if len(top):
        top["officer"] = top["officer"].str[:8] + "..."
    return dg.MaterializeResult(
        metadata={
            "officers": len(t),
            "top_10": dg.MetadataValue.md(top.round(2).to_markdown(index=False)),
            "exported": False,
            "dagster/row_count": len(t),
            "path": dg.MetadataValue.path(str(out)),
        }
    )
