"""Harm-weighted counts per H3 cell over rolling windows of days.

Each event carries the Cambridge Crime Harm Index weight (days of custody) of
its crime type, from the ``cchi_harm_weights`` seed. Events come from several
sources (``source``: ``"crime"``, ``"call"``, ``"ae_assault"`` ...); the caller
maps calls and A&E assaults to a crime type (an A&E assault is
``"Violence and sexual offences"``) and may scale a source with
``source_weights`` (e.g. 0.5 for calls, which often duplicate a recorded crime).

Time: an event with a timestamp (``occurred_at``) is in a window
``(as_of - window_days, as_of]`` if its timestamp is. An event with only a
month (police.uk) is spread evenly over its calendar month and contributes the
share of that month that overlaps the window; no day or time is invented, and
the ``time_basis`` column says which rule applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["harm_weighted_counts"]


def _month_overlap(month_start: pd.Series, lo: pd.Timestamp, hi: pd.Timestamp) -> np.ndarray:
    start = pd.to_datetime(month_start)
    end = start + pd.offsets.MonthBegin(1)
    lo_ = np.maximum(start.to_numpy("datetime64[ns]"), np.datetime64(lo, "ns"))
    hi_ = np.minimum(end.to_numpy("datetime64[ns]"), np.datetime64(hi, "ns"))
    overlap = (hi_ - lo_) / np.timedelta64(1, "D")
    span = (end - start).to_numpy("timedelta64[ns]") / np.timedelta64(1, "D")
    return np.clip(overlap / span, 0.0, 1.0)


def harm_weighted_counts(
    events: pd.DataFrame,
    harm_weights: pd.DataFrame,
    *,
    as_of: pd.Timestamp | str,
    windows_days: Sequence[int] = (28, 91, 365),
    source_weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Events and harm (days) per cell, source and window ending at ``as_of``.

    Parameters
    ----------
    events
        ``h3_cell``, ``crime_type`` and either ``occurred_at`` (timestamp; NaT
        allowed where ``month`` is given) or ``month`` (first of the month).
        Optional ``source`` (default ``"crime"``) and ``harm_weight_days`` (an
        event's own harm, used instead of its crime type's seed weight where set).
    harm_weights
        ``crime_type``, ``harm_weight_days`` (the CCHI seed).
    as_of
        End of the windows (exclusive of later events), e.g. ``"2026-01-01"`` for
        windows ending with December 2025.
    windows_days
        Window lengths in days.
    source_weights
        Multiplier per source (1 when absent).

    Returns
    -------
    pandas.DataFrame
        One row per ``h3_cell``, ``source``, ``window_days`` with ``events``
        (float: month-only events are pro-rated), ``harm_days`` and
        ``time_basis`` (``"timestamp"``, ``"month_prorated"`` or ``"mixed"``).
        Cells with nothing in a window are absent; reindex to the study grid.

    Raises
    ------
    ValueError
        If a crime type has no harm weight.

    Examples
    --------
    >>> ev = pd.DataFrame({"h3_cell": ["a", "a", "b"], "crime_type": ["Robbery"] * 3,
    ...                    "month": pd.to_datetime(["2025-12-01", "2025-11-01", "2025-12-01"])})
    >>> w = pd.DataFrame({"crime_type": ["Robbery"], "harm_weight_days": [365.0]})
    >>> out = harm_weighted_counts(ev, w, as_of="2026-01-01", windows_days=[31, 61])
    >>> out[["h3_cell", "window_days", "events", "harm_days"]].values.tolist()[:2]
    [['a', 31, 1.0, 365.0], ['a', 61, 2.0, 730.0]]
    """
    as_of = pd.Timestamp(as_of)
    df = events
    weights = harm_weights.set_index("crime_type")["harm_weight_days"].astype(float)
    own = (
        pd.to_numeric(df["harm_weight_days"], errors="coerce")
        if "harm_weight_days" in df
        else pd.Series(np.nan, index=df.index)
    )
    needs_seed = own.isna()
    unknown = sorted(set(df.loc[needs_seed, "crime_type"].dropna()) - set(weights.index))
    if unknown:
        raise ValueError(f"no harm weight for crime types: {unknown}")
    source = df["source"] if "source" in df else pd.Series("crime", index=df.index)
    mult = source.map(lambda s: (source_weights or {}).get(s, 1.0)).to_numpy(float)
    harm = own.fillna(df["crime_type"].map(weights)).to_numpy(float) * mult

    if "occurred_at" in df:
        ts = pd.to_datetime(df["occurred_at"])
        has_ts = ts.notna().to_numpy()
    else:
        ts = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
        has_ts = np.zeros(len(df), bool)
    if (~has_ts).any() and "month" not in df:
        raise ValueError("events without occurred_at need a month column")

    frames = []
    for days in windows_days:
        lo = as_of - pd.Timedelta(days=int(days))
        share = np.zeros(len(df))
        if has_ts.any():
            t = ts.to_numpy("datetime64[ns]")
            inside = (t > np.datetime64(lo, "ns")) & (t <= np.datetime64(as_of, "ns"))
            share[has_ts] = inside[has_ts].astype(float)
        if (~has_ts).any():
            share[~has_ts] = _month_overlap(df.loc[~has_ts, "month"], lo, as_of)
        part = pd.DataFrame(
            {
                "h3_cell": df["h3_cell"].to_numpy(),
                "source": source.to_numpy(),
                "events": share * mult,
                "harm_days": share * harm,
                "_ts": has_ts,
            }
        )
        part = part[share > 0]
        agg = part.groupby(["h3_cell", "source"], as_index=False, sort=True).agg(
            events=("events", "sum"), harm_days=("harm_days", "sum"), _ts=("_ts", "mean")
        )
        agg.insert(2, "window_days", int(days))
        agg["time_basis"] = np.select(
            [agg["_ts"] == 1.0, agg["_ts"] == 0.0], ["timestamp", "month_prorated"], "mixed"
        )
        frames.append(agg.drop(columns="_ts"))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["h3_cell", "source", "window_days"], kind="mergesort").reset_index(
        drop=True
    )
