"""Hour-of-week profile of each hot spot and the patrol windows it recommends.

Hour of week is ``weekday × 24 + hour`` with Monday 00:00 = 0 (local clock
time of the timestamp given). A patrol window is the run of ``window_hours``
consecutive hours (wrapping from Sunday night into Monday) holding the most
events (or harm); up to ``n_windows`` non-overlapping windows are chosen
greedily, best first, ties to the earliest start.

Police.uk data carry the month only. When a hot spot has no event with a
timestamp the output says so (``time_basis = "month_only"`` and a note) and
recommends nothing, rather than inventing times.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["hour_of_week_profile", "patrol_windows"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS_PER_WEEK = 168


def hour_of_week_profile(
    events: pd.DataFrame, *, group_col: str = "h3_cell", weight_col: str | None = None
) -> pd.DataFrame:
    """Events (or weight) per group and hour of week, as a groups × 168 table.

    Rows without ``occurred_at`` are ignored.

    >>> ev = pd.DataFrame({"h3_cell": ["a", "a"],
    ...                    "occurred_at": pd.to_datetime(["2025-06-06 22:15", "2025-06-09 00:05"])})
    >>> p = hour_of_week_profile(ev)
    >>> int(p.loc["a", 4 * 24 + 22]), int(p.loc["a", 0]), p.shape
    (1, 1, (1, 168))
    """
    if "occurred_at" not in events:
        return pd.DataFrame(columns=range(HOURS_PER_WEEK), dtype=float)
    ts = pd.to_datetime(events["occurred_at"])
    ok = ts.notna().to_numpy()
    t = ts[ok]
    how = (t.dt.day_of_week * 24 + t.dt.hour).to_numpy()
    w = np.ones(ok.sum()) if weight_col is None else events.loc[ok, weight_col].to_numpy(float)
    df = pd.DataFrame({"g": events.loc[ok, group_col].to_numpy(), "how": how, "w": w})
    prof = df.pivot_table(index="g", columns="how", values="w", aggfunc="sum", fill_value=0.0)
    prof = prof.reindex(columns=range(HOURS_PER_WEEK), fill_value=0.0)
    prof.index.name = group_col
    prof.columns.name = None
    return prof.astype(float)


def _label(hour_of_week: int) -> str:
    return f"{_DAYS[hour_of_week // 24]} {hour_of_week % 24:02d}:00"


def patrol_windows(
    events: pd.DataFrame,
    hotspots: list | np.ndarray | pd.Index,
    *,
    group_col: str = "h3_cell",
    window_hours: int = 3,
    n_windows: int = 3,
    weight_col: str | None = None,
) -> pd.DataFrame:
    """Recommended patrol windows (hour of week) for each hot spot.

    Parameters
    ----------
    events
        ``group_col`` (cell or hot spot id), optional ``occurred_at`` timestamp.
    hotspots
        The hot spots to profile (each gets rows even with no timed events).
    window_hours, n_windows
        Length of a window and how many non-overlapping windows to propose.
    weight_col
        Optional weight (e.g. ``harm_days``) instead of counting events.

    Returns
    -------
    pandas.DataFrame
        ``group_col``, ``window_rank``, ``start_hour_of_week``, ``window_start``
        (e.g. ``"Fri 22:00"``), ``window_end``, ``window_hours``, ``events_in_window``,
        ``share_of_events``, ``timed_events``, ``time_basis`` (``"timestamp"`` or
        ``"month_only"``) and ``note``.

    Examples
    --------
    >>> ev = pd.DataFrame({"h3_cell": ["a"] * 3 + ["b"],
    ...     "occurred_at": pd.to_datetime(["2025-06-06 22:15", "2025-06-06 23:40",
    ...                                    "2025-06-07 00:30", None])})
    >>> out = patrol_windows(ev, ["a", "b"], n_windows=1)
    >>> cols = ["h3_cell", "window_start", "window_end", "share_of_events", "time_basis"]
    >>> out[cols].values.tolist()
    [['a', 'Fri 22:00', 'Sat 01:00', 1.0, 'timestamp'], ['b', None, None, nan, 'month_only']]
    """
    prof = hour_of_week_profile(events, group_col=group_col, weight_col=weight_col)
    rows: list[dict] = []
    for h in hotspots:
        counts = prof.loc[h].to_numpy(float) if h in prof.index else np.zeros(HOURS_PER_WEEK)
        total = counts.sum()
        if total <= 0:
            rows.append(
                {
                    group_col: h,
                    "window_rank": None,
                    "start_hour_of_week": None,
                    "window_start": None,
                    "window_end": None,
                    "window_hours": window_hours,
                    "events_in_window": np.nan,
                    "share_of_events": np.nan,
                    "timed_events": 0.0,
                    "time_basis": "month_only",
                    "note": "no event times (police.uk gives month only): no patrol window",
                }
            )
            continue
        ext = np.concatenate([counts, counts[: window_hours - 1]])
        sums = np.convolve(ext, np.ones(window_hours), mode="valid")[:HOURS_PER_WEEK]
        blocked = np.zeros(HOURS_PER_WEEK, bool)
        for rank in range(1, n_windows + 1):
            cand = sums.copy()
            for s in range(HOURS_PER_WEEK):
                if blocked[(s + np.arange(window_hours)) % HOURS_PER_WEEK].any():
                    cand[s] = -1.0
            if cand.max() <= 0:
                break
            start = int(np.argmax(cand))  # first maximum = earliest start
            blocked[(start + np.arange(window_hours)) % HOURS_PER_WEEK] = True
            rows.append(
                {
                    group_col: h,
                    "window_rank": rank,
                    "start_hour_of_week": start,
                    "window_start": _label(start),
                    "window_end": _label((start + window_hours) % HOURS_PER_WEEK),
                    "window_hours": window_hours,
                    "events_in_window": float(cand[start]),
                    "share_of_events": float(cand[start] / total),
                    "timed_events": float(total),
                    "time_basis": "timestamp",
                    "note": "",
                }
            )
    out = pd.DataFrame(rows)
    for col in ("window_start", "window_end"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out
