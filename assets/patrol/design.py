"""Trial design: the published trial units and their daily allocation (an audit record).

Neither dataset is an agency source: each is read from the latest delivery folder
of ``landing/patrol/<dataset>/<YYYY-MM>/``, validated and written to
``lake/patrol/trial_design/``. The allocation is locked once a day has started
(:func:`vrdp.tasking.amend_allocation` rules, ``now`` = the run's start): a
redelivery that would change a started day fails the run.
"""

from pathlib import Path

import dagster as dg

from assets.patrol.common import GROUP, TRIAL_ALLOCATION_KEY, TRIAL_UNITS_KEY
from config.resources import PlatformConfig

__all__ = ["trial_units", "trial_allocation", "trial_design_dir", "run_started_at"]

ARMS = ("patrol", "control")
#: Recorded in the digest: the schedule was published, not randomised by the platform.
DELIVERED_DESIGN = "published_schedule"


def trial_design_dir(lake_dir: Path) -> Path:
    """``<lake>/patrol/trial_design``."""
    return lake_dir / "patrol" / "trial_design"


def _latest_delivery(landing_dir: Path, dataset: str, file_name: str) -> Path | None:
    root = landing_dir / "patrol" / dataset
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []
    folders = [f for f in folders if (f / file_name).exists()]
    return folders[-1] / file_name if folders else None


def run_started_at(context: dg.AssetExecutionContext):
    """The run's start as a naive local (Europe/London) timestamp, else now."""
    import pandas as pd

    record = context.instance.get_run_record_by_id(context.run.run_id)
    start = getattr(record, "start_time", None) if record is not None else None
    t = pd.Timestamp(start, unit="s", tz="UTC") if start else pd.Timestamp.now(tz="UTC")
    return t.tz_convert("Europe/London").tz_localize(None).floor("s")


def _validate_units(df) -> list[str]:
    import h3

    errors = []
    dup = df["unit_id"][df["unit_id"].duplicated()].unique().tolist()
    if dup:
        errors.append(f"duplicate unit_id: {dup[:5]}")
    bad = [c for c in df["h3_cell"].astype(str) if not h3.is_valid_cell(c)]
    if bad:
        errors.append(f"invalid H3 cells: {bad[:5]}")
    for col in ("centre_easting", "centre_northing"):
        if df[col].isna().any():
            errors.append(f"{col} missing or not numeric in {int(df[col].isna().sum())} rows")
    return errors


@dg.asset(
    key=TRIAL_UNITS_KEY,
    group_name=GROUP,
    kinds={"python", "parquet"},
    code_version="1",
)
def trial_units(context: dg.AssetExecutionContext, platform: PlatformConfig):
    """Trial hot spot units (unit id, H3 cell, BNG centre) from the latest delivery, validated."""
    import pandas as pd

    from vrdp.lake import sha256_file, write_parquet_atomic

    s = platform.resolve()
    src = _latest_delivery(s.landing_dir, "trial_units", "trial_units.csv")
    out = trial_design_dir(s.lake_dir) / "trial_units.parquet"
    if src is None:
        df = pd.DataFrame(
            {
                "unit_id": pd.Series(dtype=str),
                "h3_cell": pd.Series(dtype=str),
                "centre_easting": pd.Series(dtype=float),
                "centre_northing": pd.Series(dtype=float),
            }
        )
        write_parquet_atomic(df, out)
        context.log.warning("no trial_units delivered: no trial is running")
        return dg.MaterializeResult(metadata={"trial_running": False, "dagster/row_count": 0})
    df = pd.read_csv(src, dtype={"unit_id": str, "h3_cell": str})
    missing = {"unit_id", "h3_cell", "centre_easting", "centre_northing"} - set(df.columns)
    if missing:
        raise dg.Failure(f"{src}: missing column(s) {sorted(missing)}")
    for col in ("centre_easting", "centre_northing"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    if errors := _validate_units(df):
        raise dg.Failure(f"{src}: " + "; ".join(errors))
    df = df[["unit_id", "h3_cell", "centre_easting", "centre_northing"]]
    df = df.sort_values("unit_id").reset_index(drop=True)
    write_parquet_atomic(df, out, metadata={"vrdp.source_file": str(src)})
    return dg.MaterializeResult(
        metadata={
            "trial_running": True,
            "delivery": src.parent.name,
            "source_sha256": sha256_file(src),
            "units": len(df),
            "dagster/row_count": len(df),
            "path": dg.MetadataValue.path(str(out)),
        }
    )


def _validate_allocation(df, units) -> list[str]:
    import pandas as pd

    errors = []
    dates = pd.to_datetime(df["date"], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        bad = df.loc[dates.isna(), "date"].astype(str).head(5).tolist()
        errors.append(f"{int(dates.isna().sum())} dates do not parse (YYYY-MM-DD): {bad}")
    arms = set(df["arm"].astype(str)) - set(ARMS)
    if arms:
        errors.append(f"arms outside {{patrol, control}}: {sorted(arms)}")
    unknown = set(df["unit_id"]) - set(units["unit_id"])
    if unknown:
        errors.append(f"unit ids not in trial_units: {sorted(unknown)[:5]}")
    else:
        cells = df["unit_id"].map(units.set_index("unit_id")["h3_cell"])
        if (cells != df["h3_cell"]).any():
            errors.append(f"{int((cells != df['h3_cell']).sum())} rows whose h3_cell differs")
    if df.duplicated(["unit_id", "date"]).any():
        errors.append(f"{int(df.duplicated(['unit_id', 'date']).sum())} duplicate unit-days")
    return errors


def lock_allocation(stored, new, *, now, reason: str):
    """Apply a redelivered allocation to the stored one under the started-day lock.

    Changed arms go through :func:`vrdp.tasking.amend_allocation` (which refuses a
    started day); unit-days added or removed on a started day are refused the same
    way. Returns ``(table, changed_rows)``.

    Raises
    ------
    vrdp.tasking.AllocationLockedError
        When a started day would change.
    """
    import pandas as pd

    from vrdp.tasking import AllocationLockedError, amend_allocation

    key = ["unit_id", "date"]
    m = stored.merge(new[[*key, "arm"]], on=key, how="outer", suffixes=("", "_new"), indicator=True)
    start = pd.to_datetime(m["date"]) + pd.Timedelta(hours=6)
    structural = m[(m["_merge"] != "both") & (start <= pd.Timestamp(now))]
    if len(structural):
        r = structural.iloc[0]
        what = "added" if r["_merge"] == "right_only" else "removed"
        raise AllocationLockedError(
            f"allocation for {r['unit_id']} on {pd.Timestamp(r['date']).date()} is locked "
            f"(day started); the redelivery {what} {len(structural)} started unit-day(s)"
        )
    out = stored.copy()
    changed = m[(m["_merge"] == "both") & (m["arm"] != m["arm_new"])]
    for r in changed.itertuples(index=False):
        out = amend_allocation(out, r.unit_id, r.date, r.arm_new, now=now, reason=reason)
    added = new.merge(stored[key], on=key, how="left", indicator=True)
    added = added[added["_merge"] == "left_only"].drop(columns="_merge")
    removed = m[m["_merge"] == "left_only"][key]
    if len(removed):
        drop = out.set_index(key).index.isin(removed.set_index(key).index)
        out = out[~drop]
    out = pd.concat([out, added[out.columns.intersection(added.columns)]], ignore_index=True)
    return out.sort_values(key).reset_index(drop=True), len(changed) + len(added) + len(removed)


@dg.asset(
    key=TRIAL_ALLOCATION_KEY,
    deps=[TRIAL_UNITS_KEY],
    group_name=GROUP,
    kinds={"python", "parquet"},
    code_version="1",
)
def trial_allocation(context: dg.AssetExecutionContext, platform: PlatformConfig):
    """Daily patrol/control allocation, validated, fingerprinted and locked once a day starts."""
    import json

    import pandas as pd

    from vrdp.lake import read_parquet_metadata, sha256_file, write_parquet_atomic
    from vrdp.tasking import AllocationLockedError, allocation_digest

    s = platform.resolve()
    folder = trial_design_dir(s.lake_dir)
    out = folder / "trial_allocation.parquet"
    units = pd.read_parquet(folder / "trial_units.parquet")
    src = _latest_delivery(s.landing_dir, "trial_allocation", "trial_allocation.csv")
    now = run_started_at(context)
    if src is None:
        empty = pd.DataFrame(
            {
                "unit_id": pd.Series(dtype=str),
                "h3_cell": pd.Series(dtype=str),
                "date": pd.Series(dtype="datetime64[ns]"),
                "arm": pd.Series(dtype=str),
                "design": pd.Series(dtype=str),
                "seed": pd.Series(dtype="int64"),
            }
        )
        if out.exists() and len(pd.read_parquet(out)):
            raise dg.Failure(f"{out} holds a trial allocation but none is delivered any more")
        write_parquet_atomic(empty, out)
        return dg.MaterializeResult(metadata={"trial_running": False, "dagster/row_count": 0})
    df = pd.read_csv(src, dtype={"unit_id": str, "h3_cell": str, "date": str, "arm": str})
    missing = {"unit_id", "h3_cell", "date", "arm"} - set(df.columns)
    if missing:
        raise dg.Failure(f"{src}: missing column(s) {sorted(missing)}")
    if errors := _validate_allocation(df, units):
        raise dg.Failure(f"{src}: " + "; ".join(errors))
    df["date"] = pd.to_datetime(df["date"], format="%Y-%m-%d").astype("datetime64[ns]")
    df["design"] = DELIVERED_DESIGN
    df["seed"] = -1
    df = df[["unit_id", "h3_cell", "date", "arm", "design", "seed"]]
    df = df.sort_values(["unit_id", "date"]).reset_index(drop=True)
    changed = 0
    if out.exists():
        stored = pd.read_parquet(out)
        if len(stored):
            stored["date"] = pd.to_datetime(stored["date"]).astype("datetime64[ns]")
            try:
                df, changed = lock_allocation(
                    stored, df, now=now, reason=f"redelivered {src.parent.name}"
                )
            except AllocationLockedError as exc:
                raise dg.Failure(
                    f"{src}: {exc}. The stored allocation {out} is an audit record and was "
                    "not changed.",
                    metadata={"now": str(now), "stored_digest": allocation_digest(stored)},
                ) from exc
    digest = allocation_digest(df)
    previous = read_parquet_metadata(out).get("vrdp.allocation_digest") if out.exists() else None
    write_parquet_atomic(
        df, out, metadata={"vrdp.allocation_digest": digest, "vrdp.source_file": str(src)}
    )
    log = folder / "allocation_digests.jsonl"
    if digest != previous:
        with log.open("a") as fh:
            fh.write(
                json.dumps(
                    {
                        "digest": digest,
                        "recorded_at": str(now),
                        "delivery": src.parent.name,
                        "changed_rows": changed,
                    }
                )
                + "\n"
            )
    per_day = df.assign(p=df["arm"].eq("patrol")).groupby("date")["p"].mean()
    return dg.MaterializeResult(
        metadata={
            "trial_running": True,
            "delivery": src.parent.name,
            "source_sha256": sha256_file(src),
            "allocation_digest": digest,
            "digest_changed": digest != previous,
            "amended_rows": changed,
            "units": int(df["unit_id"].nunique()),
            "days": int(df["date"].nunique()),
            "first_day": str(df["date"].min().date()),
            "last_day": str(df["date"].max().date()),
            "patrol_share": float(df["arm"].eq("patrol").mean()),
            "patrol_share_per_day_min_max": f"{per_day.min():.3f} / {per_day.max():.3f}",
            "locked_days_as_of_run": int((df["date"] + pd.Timedelta(hours=6) <= now).sum()),
            "dagster/row_count": len(df),
            "path": dg.MetadataValue.path(str(out)),
        }
    )
