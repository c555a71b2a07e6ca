"""Seeded randomisation of hot spots to patrol or control, with an audit trail.

Designs
-------
``simple_daily``
    Each day, exactly half the hot spots (a random extra one when the number is odd)
    are patrolled.
``block``
    Each day, half of each block (e.g. matched pairs of similar hot spots) is
    patrolled; ``blocks`` maps hot spot to block.
``crossover``
    Each hot spot alternates arm day by day; a seeded half start on patrol.

Every day draws from its own generator ``default_rng([seed, day_number])``, so a
day's allocation depends only on the seed, the design and the hot spots, and
extending the trial never changes earlier days. The table records ``seed``,
``design`` and ``allocated_at``; :func:`allocation_digest` fingerprints it and
:func:`amend_allocation` refuses any change to a day that has started.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "AllocationLockedError",
    "randomise",
    "balance_table",
    "allocation_digest",
    "amend_allocation",
]

DESIGNS = ("simple_daily", "block", "crossover")


class AllocationLockedError(PermissionError):
    """Raised on an attempt to change the allocation of a day that has already started."""


def randomise(
    units: Sequence[str],
    dates: Sequence | pd.DatetimeIndex,
    *,
    seed: int,
    design: str = "simple_daily",
    blocks: Mapping[str, str] | None = None,
    allocated_at: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Allocate hot spot-days to ``patrol`` or ``control``.

    Parameters
    ----------
    units
        Hot spot ids.
    dates
        Trial days.
    seed
        Recorded in the output; the same inputs and seed give the same table.
    design
        ``simple_daily``, ``block`` or ``crossover``.
    blocks
        Hot spot -> block id (``block`` design).
    allocated_at
        When the allocation was made (recorded; default: now).

    Returns
    -------
    pandas.DataFrame
        ``unit_id``, ``date``, ``arm``, ``block``, ``design``, ``seed``, ``allocated_at``.

    Examples
    --------
    >>> days = pd.date_range("2025-10-03", periods=2)
    >>> a = randomise(["a", "b", "c", "d"], days, seed=1, allocated_at="2025-10-01")
    >>> a.groupby("date")["arm"].apply(lambda s: (s == "patrol").sum()).tolist()
    [2, 2]
    >>> a.equals(randomise(["a", "b", "c", "d"], days, seed=1, allocated_at="2025-10-01"))
    True
    """
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {DESIGNS}")
    units = np.asarray(sorted(units), dtype=object)
    days = pd.DatetimeIndex(pd.to_datetime(list(dates))).normalize().sort_values()
    if design == "block":
        if blocks is None:
            raise ValueError("the block design needs blocks")
        blk = np.array([str(blocks[u]) for u in units], dtype=object)
    else:
        blk = np.full(len(units), "", dtype=object)
    start_patrol = None
    if design == "crossover":
        r0 = np.random.default_rng([seed, 0])
        start_patrol = np.zeros(len(units), bool)
        start_patrol[r0.permutation(len(units))[: len(units) // 2]] = True
    rows = []
    for k, d in enumerate(days):
        day_no = int((d - pd.Timestamp("1970-01-01")).days)
        rng = np.random.default_rng([seed, day_no])
        treat = np.zeros(len(units), bool)
        if design == "crossover":
            treat = start_patrol ^ (k % 2 == 1)
        else:
            for b in sorted(set(blk)):
                idx = np.flatnonzero(blk == b)
                n_t = len(idx) // 2 + (int(rng.random() < 0.5) if len(idx) % 2 else 0)
                treat[idx[rng.permutation(len(idx))[:n_t]]] = True
        for u, t, b in zip(units, treat, blk, strict=True):
            rows.append((u, d, "patrol" if t else "control", b))
    out = pd.DataFrame(rows, columns=["unit_id", "date", "arm", "block"])
    out["design"] = design
    out["seed"] = int(seed)
    out["allocated_at"] = (
        pd.Timestamp(allocated_at) if allocated_at is not None else (pd.Timestamp.now().floor("s"))
    )
    return out


def balance_table(
    allocation: pd.DataFrame, covariates: pd.DataFrame, *, unit_col: str = "unit_id"
) -> pd.DataFrame:
    """Covariate balance between arms over unit-days.

    Parameters
    ----------
    allocation
        :func:`randomise` output.
    covariates
        ``unit_col`` plus numeric covariates (e.g. pre-trial crimes, harm, IMD).

    Returns
    -------
    pandas.DataFrame
        Per covariate: ``mean_patrol``, ``mean_control``, ``smd`` (standardised mean
        difference, pooled SD; |SMD| < 0.1 is conventionally balanced); plus a row
        ``share_days_patrol`` summarising the per-unit share of patrol days (its min and max).

    Examples
    --------
    >>> a = randomise(["a", "b"], pd.date_range("2025-10-03", periods=4), seed=0,
    ...               design="crossover")
    >>> b = balance_table(a, pd.DataFrame({"unit_id": ["a", "b"], "crimes": [10.0, 2.0]}))
    >>> round(float(b.loc[b.covariate == "crimes", "smd"].iloc[0]), 6)
    0.0
    """
    m = allocation[[unit_col, "arm"]].merge(covariates, on=unit_col, how="left")
    rows = []
    for c in [c for c in covariates.columns if c != unit_col]:
        p = m.loc[m["arm"] == "patrol", c].astype(float)
        q = m.loc[m["arm"] == "control", c].astype(float)
        sd = np.sqrt((p.var(ddof=1) + q.var(ddof=1)) / 2)
        smd = (p.mean() - q.mean()) / sd if sd > 0 else 0.0
        rows.append({"covariate": c, "mean_patrol": p.mean(), "mean_control": q.mean(), "smd": smd})
    share = allocation.assign(t=allocation["arm"] == "patrol").groupby(unit_col)["t"].mean()
    rows.append({"covariate": "share_days_patrol", "mean_patrol": float(share.max()),
                 "mean_control": float(share.min()), "smd": np.nan})  # fmt: skip
    return pd.DataFrame(rows)


def allocation_digest(allocation: pd.DataFrame) -> str:
    """SHA-256 fingerprint of an allocation (order-independent), to publish or store.

    >>> a = randomise(["a", "b"], ["2025-10-03"], seed=0, allocated_at="2025-10-01")
    >>> allocation_digest(a) == allocation_digest(a.iloc[::-1])
    True
    """
    cols = ["unit_id", "date", "arm", "design", "seed"]
    t = allocation[cols].copy()
    t["date"] = pd.to_datetime(t["date"]).dt.strftime("%Y-%m-%d")
    lines = sorted("|".join(map(str, r)) for r in t.itertuples(index=False))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def amend_allocation(
    allocation: pd.DataFrame,
    unit_id: str,
    date: str | pd.Timestamp,
    arm: str,
    *,
    now: pd.Timestamp | str,
    reason: str,
    day_start: str = "06:00",
) -> pd.DataFrame:
    """Change one future hot spot-day's arm, refusing once that day has started.

    Returns a new table (the input is not modified) with ``amended_at`` and
    ``amend_reason`` recorded on the changed row.

    Raises
    ------
    AllocationLockedError
        When ``now`` is at or after ``date`` + ``day_start``.

    Examples
    --------
    >>> a = randomise(["a", "b"], ["2025-10-03"], seed=0, allocated_at="2025-10-01")
    >>> amend_allocation(a, "a", "2025-10-03", "control", now="2025-10-03 06:00", reason="x")
    Traceback (most recent call last):
    ...
    vrdp.tasking.randomise.AllocationLockedError: allocation for a on 2025-10-03 is locked ...
    """
    if arm not in ("patrol", "control"):
        raise ValueError("arm must be patrol or control")
    d = pd.Timestamp(date).normalize()
    hh, mm = (int(x) for x in day_start.split(":"))
    starts = d + pd.Timedelta(hours=hh, minutes=mm)
    now_t = pd.Timestamp(now)
    if now_t >= starts:
        raise AllocationLockedError(
            f"allocation for {unit_id} on {d.date()} is locked (day started {starts}); "
            "record a protocol deviation instead"
        )
    out = allocation.copy()
    hit = (out["unit_id"] == unit_id) & (pd.to_datetime(out["date"]).dt.normalize() == d)
    if not hit.any():
        raise KeyError(f"no allocation for {unit_id} on {d.date()}")
    if "amended_at" not in out:
        out["amended_at"] = pd.NaT
        out["amend_reason"] = None
    out.loc[hit, "arm"] = arm
    out.loc[hit, "amended_at"] = now_t
    out.loc[hit, "amend_reason"] = reason
    return out
