"""Trial design: the trial cohort and its daily allocation (an audit record).

By default the platform allocates (``VRDP_TRIAL_SOURCE=platform``): when
``VRDP_TRIAL_START`` names a first day, :func:`vrdp.tasking.choose_cohort` takes
the cohort from the force hot spot list by its documented rule and
:func:`vrdp.tasking.randomise` allocates every trial day (design, seed, days and
size from ``VRDP_TRIAL_*``); without a start day no trial runs and the daily
tasking draws hot spots at random weighted by forecast risk. A force that
randomises elsewhere imports its schedule explicitly
(``VRDP_TRIAL_SOURCE=import``): the latest delivery folder of
``landing/patrol/<dataset>/<YYYY-MM>/``, validated. Either way the result is
written to ``lake/patrol/trial_design/`` and locked once a day has started
(:func:`vrdp.tasking.amend_allocation` rules, ``now`` = the run's start): a design
change or redelivery that would change a started day fails the run.
"""

from pathlib import Path

import dagster as dg

from assets.hotspots.analysis import FORCE_HOTSPOT_LIST_KEY
from assets.patrol.common import GROUP, HOTSPOT_LIST_KEY, TRIAL_ALLOCATION_KEY, TRIAL_UNITS_KEY
from config.resources import PlatformConfig

__all__ = [
    "TrialDesignConfig",
    "trial_units",
    "trial_allocation",
    "trial_design_dir",
    "run_started_at",
    "check_design_change",
    "platform_design",
]

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


class TrialDesignConfig(dg.Config):
    """The cohort rule's parameters (who allocates, when, how many: ``VRDP_TRIAL_*``)."""

    min_separation_m: float = 400.0
    min_hot_periods: int = 2


#: Design fields whose change after the trial started is refused (days may grow).
LOCKED_FIELDS = (
    "source",
    "start",
    "units",
    "design",
    "seed",
    "min_separation_m",
    "min_hot_periods",
)


def platform_design(s, config: TrialDesignConfig) -> dict:
    """The platform trial's design from settings and config (recorded with the cohort)."""
    return {
        "source": "platform",
        "start": s.trial_start,
        "days": s.trial_days,
        "units": s.trial_units,
        "design": s.trial_design,
        "seed": s.trial_seed,
        "min_separation_m": float(config.min_separation_m),
        "min_hot_periods": int(config.min_hot_periods),
    }


def _read_json(path: Path) -> dict | None:
    import json

    return json.loads(path.read_text()) if path.exists() else None


def _empty_units():
    import pandas as pd

    return pd.DataFrame(
        {
            "unit_id": pd.Series(dtype=str),
            "h3_cell": pd.Series(dtype=str),
            "centre_easting": pd.Series(dtype=float),
            "centre_northing": pd.Series(dtype=float),
        }
    )


def check_design_change(stored: dict | None, design: dict, now) -> list[str]:
    """Locked design fields that differ from a trial that has started (empty: allowed).

    >>> import pandas as pd
    >>> s = {"source": "platform", "start": "2026-01-05", "seed": 1}
    >>> check_design_change(s, {**s, "seed": 2}, pd.Timestamp("2026-01-06"))
    ['seed: 1 -> 2']
    >>> check_design_change(s, {**s, "seed": 2}, pd.Timestamp("2026-01-04"))
    []
    """
    import pandas as pd

    if not stored or not stored.get("start"):
        return []
    if pd.Timestamp(stored["start"]) + pd.Timedelta(hours=6) > pd.Timestamp(now):
        return []
    return [
        f"{k}: {stored.get(k)} -> {design.get(k)}"
        for k in LOCKED_FIELDS
        if stored.get(k) != design.get(k)
    ]


def _import_units(context, s):
    import pandas as pd

    from vrdp.lake import sha256_file, write_parquet_atomic

    src = _latest_delivery(s.landing_dir, "trial_units", "trial_units.csv")
    out = trial_design_dir(s.lake_dir) / "trial_units.parquet"
    if src is None:
        write_parquet_atomic(_empty_units(), out)
        context.log.warning("VRDP_TRIAL_SOURCE=import but no trial_units delivered: no trial")
        return dg.MaterializeResult(
            metadata={"trial_running": False, "source": "import", "dagster/row_count": 0}
        )
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
    (out.parent / "trial_design.json").write_text(
        __import__("json").dumps({"source": "import", "delivery": src.parent.name}) + "\n"
    )
    return dg.MaterializeResult(
        metadata={
            "trial_running": True,
            "source": "import (delivered schedule)",
            "delivery": src.parent.name,
            "source_sha256": sha256_file(src),
            "units": len(df),
            "dagster/row_count": len(df),
            "path": dg.MetadataValue.path(str(out)),
        }
    )


@dg.asset(
    key=TRIAL_UNITS_KEY,
    deps=[FORCE_HOTSPOT_LIST_KEY, HOTSPOT_LIST_KEY],
    group_name=GROUP,
    kinds={"python", "parquet"},
    code_version="2",
)
def trial_units(
    context: dg.AssetExecutionContext, config: TrialDesignConfig, platform: PlatformConfig
):
    """Trial cohort: chosen from the force hot spot list by the documented rule, frozen once set.

    Rule (:func:`vrdp.tasking.choose_cohort`): selected hot spots hot in at least
    ``min_hot_periods`` windows, by forecast risk, at least ``min_separation_m``
    apart, the first ``VRDP_TRIAL_UNITS``. No trial when ``VRDP_TRIAL_START`` is
    empty; ``VRDP_TRIAL_SOURCE=import`` reads a delivered ``trial_units.csv`` instead.
    """
    import json

    import pandas as pd

    from assets.patrol.common import read_hotspot_list
    from vrdp.geo import to_bng
    from vrdp.lake import write_parquet_atomic
    from vrdp.tasking import choose_cohort

    s = platform.resolve()
    if s.trial_source == "import":
        return _import_units(context, s)
    folder = trial_design_dir(s.lake_dir)
    out = folder / "trial_units.parquet"
    design_path = folder / "trial_design.json"
    if not s.trial_start:
        write_parquet_atomic(_empty_units(), out)
        return dg.MaterializeResult(
            metadata={
                "trial_running": False,
                "source": "platform",
                "allocation": "no trial (VRDP_TRIAL_START empty): risk-weighted daily draw",
                "dagster/row_count": 0,
            }
        )
    now = run_started_at(context)
    design = platform_design(s, config)
    stored = _read_json(design_path)
    if changed := check_design_change(stored, design, now):
        raise dg.Failure(
            f"the trial that started on {stored['start']} is locked: its design cannot change "
            f"({'; '.join(changed)}). Restore the VRDP_TRIAL_* settings, or record a protocol "
            f"deviation; to start a new trial archive {folder} first.",
            metadata={"now": str(now), "stored_design": dg.MetadataValue.json(stored)},
        )
    same = stored is not None and all(stored.get(k) == design.get(k) for k in LOCKED_FIELDS)
    if same and out.exists() and len(units := pd.read_parquet(out)):
        frozen = True
        rule = stored["rule"]
        if stored.get("days") != design["days"]:
            # Only the length may change; the allocation's lock refuses started days.
            stored = {**stored, "days": design["days"]}
            design_path.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    else:
        frozen = False
        hl, hl_source, hl_path = read_hotspot_list(s.lake_dir)
        cohort, rule = choose_cohort(
            hl,
            n_units=s.trial_units,
            min_separation_m=config.min_separation_m,
            min_hot_periods=config.min_hot_periods,
        )
        if len(cohort) < 2:
            raise dg.Failure(
                f"only {len(cohort)} hot spot(s) of {hl_source} ({hl_path}) meet the cohort "
                f"rule ({rule}): build the hot spot list first, or relax the rule"
            )
        e, n = to_bng(cohort["longitude"].to_numpy(float), cohort["latitude"].to_numpy(float))
        cov = [c for c in ("harm_days", "events", "z_score") if c in hl]
        units = cohort.assign(centre_easting=e, centre_northing=n).merge(
            hl.drop_duplicates("h3_cell")[["h3_cell", *cov]], on="h3_cell", how="left"
        )
        stored = {
            **design,
            "rule": rule,
            "chosen_at": str(now),
            "hotspot_list": hl_source,
            "hotspot_list_path": str(hl_path),
        }
        write_parquet_atomic(units, out, metadata={"vrdp.cohort_rule": rule})
        folder.mkdir(parents=True, exist_ok=True)
        design_path.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    cols = [c for c in ("unit_id", "h3_cell", "cohort_rank", "risk", "harm_days") if c in units]
    return dg.MaterializeResult(
        metadata={
            "trial_running": True,
            "source": "platform",
            "rule": rule,
            "cohort_frozen": frozen,
            "chosen_at": stored.get("chosen_at", ""),
            "design": dg.MetadataValue.json(stored),
            "units": len(units),
            "cohort": dg.MetadataValue.md(units[cols].round(3).to_markdown(index=False)),
            "dagster/row_count": len(units),
            "path": dg.MetadataValue.path(str(out)),
        }
    )


ALLOCATION_COLUMNS = [
    "unit_id",
    "h3_cell",
    "date",
    "arm",
    "block",
    "design",
    "seed",
    "allocated_at",
]


def _import_allocation(s, units):
    """The delivered schedule (explicit import), validated; ``(table, label, sha)`` or None."""
    import pandas as pd

    from vrdp.lake import sha256_file

    src = _latest_delivery(s.landing_dir, "trial_allocation", "trial_allocation.csv")
    if src is None:
        return None
    df = pd.read_csv(src, dtype={"unit_id": str, "h3_cell": str, "date": str, "arm": str})
    missing = {"unit_id", "h3_cell", "date", "arm"} - set(df.columns)
    if missing:
        raise dg.Failure(f"{src}: missing column(s) {sorted(missing)}")
    if errors := _validate_allocation(df, units):
        raise dg.Failure(f"{src}: " + "; ".join(errors))
    df["date"] = pd.to_datetime(df["date"], format="%Y-%m-%d").astype("datetime64[ns]")
    df["design"] = DELIVERED_DESIGN
    df["seed"] = -1
    df["block"] = ""
    df["allocated_at"] = pd.NaT
    return df, f"delivery {src.parent.name}", sha256_file(src)


def _platform_allocation(folder: Path, units, now):
    """:func:`vrdp.tasking.randomise` over the recorded design's days."""
    import pandas as pd

    from vrdp.tasking import matched_pair_blocks, randomise

    d = _read_json(folder / "trial_design.json") or {}
    dates = pd.date_range(d["start"], periods=int(d["days"]), freq="D")
    blocks = matched_pair_blocks(units) if d["design"] == "block" else None
    df = randomise(
        units["unit_id"].tolist(),
        dates,
        seed=int(d["seed"]),
        design=d["design"],
        blocks=blocks,
        allocated_at=now,
    )
    df["h3_cell"] = df["unit_id"].map(dict(zip(units["unit_id"], units["h3_cell"], strict=True)))
    df["date"] = df["date"].astype("datetime64[ns]")
    return df, f"randomised ({d['design']}, seed {d['seed']})", None


def balance_covariates(units, hotspots):
    """Per-unit covariates for the balance table: cohort risk and hot spot list figures."""
    import pandas as pd

    cov = units[["unit_id", "h3_cell"]].copy()
    for c in ("risk", "harm_days", "events", "z_score"):
        if c in units:
            cov[c] = pd.to_numeric(units[c], errors="coerce")
    extra = [c for c in ("harm_days", "events", "risk_score") if c in hotspots and c not in cov]
    if extra and len(hotspots):
        cov = cov.merge(
            hotspots.drop_duplicates("h3_cell")[["h3_cell", *extra]], on="h3_cell", how="left"
        )
    return cov.drop(columns="h3_cell")


@dg.asset(
    key=TRIAL_ALLOCATION_KEY,
    deps=[TRIAL_UNITS_KEY],
    group_name=GROUP,
    kinds={"python", "parquet"},
    code_version="2",
)
def trial_allocation(context: dg.AssetExecutionContext, platform: PlatformConfig):
    """Daily patrol/control allocation: randomised here or imported, digested, locked once begun.

    Metadata: seed, design, digest and the covariate balance table (standardised
    mean differences between arms over unit-days).
    """
    import json

    import pandas as pd

    from assets.patrol.common import read_hotspot_list
    from vrdp.lake import read_parquet_metadata, write_parquet_atomic
    from vrdp.tasking import AllocationLockedError, allocation_digest, balance_table

    s = platform.resolve()
    folder = trial_design_dir(s.lake_dir)
    out = folder / "trial_allocation.parquet"
    units = pd.read_parquet(folder / "trial_units.parquet")
    now = run_started_at(context)
    got = None
    if len(units):
        got = (
            _import_allocation(s, units)
            if s.trial_source == "import"
            else _platform_allocation(folder, units, now)
        )
    if got is None:
        stored = pd.read_parquet(out) if out.exists() else pd.DataFrame()
        if len(stored):
            started = pd.to_datetime(stored["date"]) + pd.Timedelta(hours=6) <= now
            if started.any():
                raise dg.Failure(
                    f"{out} holds a trial allocation with {int(started.sum())} started unit-days "
                    "but no trial is configured or delivered any more: restore the trial "
                    "settings (VRDP_TRIAL_*) or archive the trial folder to end it"
                )
        empty = pd.DataFrame(
            {
                "unit_id": pd.Series(dtype=str),
                "h3_cell": pd.Series(dtype=str),
                "date": pd.Series(dtype="datetime64[ns]"),
                "arm": pd.Series(dtype=str),
                "block": pd.Series(dtype=str),
                "design": pd.Series(dtype=str),
                "seed": pd.Series(dtype="int64"),
                "allocated_at": pd.Series(dtype="datetime64[ns]"),
            }
        )
        write_parquet_atomic(empty, out)
        return dg.MaterializeResult(metadata={"trial_running": False, "dagster/row_count": 0})
    df, label, source_sha = got
    df = df[ALLOCATION_COLUMNS].sort_values(["unit_id", "date"]).reset_index(drop=True)
    changed = 0
    if out.exists():
        stored = pd.read_parquet(out)
        begun = pd.to_datetime(stored["date"]) + pd.Timedelta(hours=6) <= now
        if len(stored) and begun.any():  # before the first day starts, a redesign replaces
            stored["date"] = pd.to_datetime(stored["date"]).astype("datetime64[ns]")
            for c in ALLOCATION_COLUMNS:
                if c not in stored:
                    stored[c] = "" if c == "block" else pd.NaT
            stored = stored[ALLOCATION_COLUMNS]
            try:
                df, changed = lock_allocation(stored, df, now=now, reason=label)
            except AllocationLockedError as exc:
                raise dg.Failure(
                    f"{label}: {exc}. The stored allocation {out} is an audit record and was "
                    "not changed.",
                    metadata={"now": str(now), "stored_digest": allocation_digest(stored)},
                ) from exc
    digest = allocation_digest(df)
    previous = read_parquet_metadata(out).get("vrdp.allocation_digest") if out.exists() else None
    write_parquet_atomic(df, out, metadata={"vrdp.allocation_digest": digest, "vrdp.source": label})
    log = folder / "allocation_digests.jsonl"
    if digest != previous:
        with log.open("a") as fh:
            fh.write(
                json.dumps(
                    {
                        "digest": digest,
                        "recorded_at": str(now),
                        "source": label,
                        "changed_rows": changed,
                    }
                )
                + "\n"
            )
    hl, _src, _path = read_hotspot_list(s.lake_dir)
    balance = balance_table(df, balance_covariates(units, hl))
    balance.to_csv(folder / "balance.csv", index=False)  # beside the allocation it describes
    smd = balance["smd"].abs().dropna()
    per_day = df.assign(p=df["arm"].eq("patrol")).groupby("date")["p"].mean()
    return dg.MaterializeResult(
        metadata={
            "trial_running": True,
            "source": "platform" if source_sha is None else "import (delivered schedule)",
            "allocated_by": label,
            "design": str(df["design"].iloc[0]),
            "seed": int(df["seed"].iloc[0]),
            **({"source_sha256": source_sha} if source_sha else {}),
            "allocation_digest": digest,
            "digest_changed": digest != previous,
            "amended_rows": changed,
            "balance_table": dg.MetadataValue.md(balance.round(3).to_markdown(index=False)),
            "balance_max_abs_smd": round(float(smd.max()), 4) if len(smd) else None,
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
