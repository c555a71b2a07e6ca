"""Detectors over a ward x SOC category x week panel, and alarm rows with their events."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from vrdp.early_warning.detectors import DETECTORS

__all__ = ["run_detectors", "alarm_rows"]

SCORE_COLUMNS = [
    "ward_code",
    "soc_category",
    "week_start",
    "method",
    "observed",
    "expected",
    "upper_bound",
    "score",
    "alarm",
    "parameters",
]


def run_detectors(
    panel: pd.DataFrame,
    *,
    count_col: str = "soc_events",
    methods: tuple[str, ...] | None = None,
    keys: tuple[str, str] = ("ward_code", "soc_category"),
    time_col: str = "period_start",
) -> pd.DataFrame:
    """Run each detector on every series of a weekly panel.

    Parameters
    ----------
    panel : pandas.DataFrame
        One row per series key and week (every week present, zeros kept), e.g.
        ``marts.fct_ward_soc_weekly``.
    count_col : str
        The weekly count.
    methods : tuple of str, optional
        Names in :data:`~vrdp.early_warning.detectors.DETECTORS` (default all).
    keys, time_col : column names of the series key and the week.

    Returns
    -------
    pandas.DataFrame
        ``SCORE_COLUMNS``: one row per series, week and method for the weeks a method
        scores (series without a single event are skipped: no detector can alarm on
        them). ``parameters`` is the method's parameters as JSON.

    Examples
    --------
    >>> p = pd.DataFrame({"ward_code": "W1", "soc_category": "drug_supply",
    ...                   "period_start": pd.date_range("2025-01-06", periods=12, freq="7D"),
    ...                   "soc_events": [1, 0, 1, 2, 1, 0, 1, 1, 1, 9, 9, 9]})
    >>> s = run_detectors(p, methods=("ears_c1",))
    >>> s.loc[s["alarm"], "week_start"].dt.strftime("%Y-%m-%d").tolist()
    ['2025-03-10']
    """
    methods = tuple(methods or DETECTORS)
    # one list of arrays per column, one frame at the end (a frame per series and
    # method cost more than the detectors on a force's few thousand series)
    cols: dict[str, list] = {c: [] for c in SCORE_COLUMNS}
    k1, k2 = keys
    for (a, b), g in panel.sort_values([k1, k2, time_col]).groupby([k1, k2], sort=True):
        y = g[count_col].to_numpy(float)
        if y.sum() == 0:
            continue
        weeks = g[time_col].to_numpy()
        for m in methods:
            d = DETECTORS[m](y)
            ok = ~np.isnan(d.score)
            n = int(ok.sum())
            if not n:
                continue
            for c, v in (
                ("ward_code", np.full(n, a, dtype=object)),
                ("soc_category", np.full(n, b, dtype=object)),
                ("week_start", weeks[ok]),
                ("method", np.full(n, m, dtype=object)),
                ("observed", y[ok].astype(np.int64)),
                ("expected", d.expected[ok]),
                ("upper_bound", d.upper_bound[ok]),
                ("score", d.score[ok]),
                ("alarm", d.alarm[ok]),
                ("parameters", np.full(n, json.dumps(d.parameters, sort_keys=True), dtype=object)),
            ):
                cols[c].append(v)
    if not cols["score"]:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SCORE_COLUMNS})
    res = pd.DataFrame({c: np.concatenate(v) for c, v in cols.items()})
    res["week_start"] = pd.to_datetime(res["week_start"])
    return res[SCORE_COLUMNS]


def alarm_rows(scores: pd.DataFrame, events: pd.DataFrame, *, max_events: int = 50) -> pd.DataFrame:
    """The alarms of :func:`run_detectors`, each with the events that drove it.

    Parameters
    ----------
    scores : pandas.DataFrame
        Output of :func:`run_detectors`.
    events : pandas.DataFrame
        ``event_key``, ``ward_code``, ``soc_category``, ``week_start``, ``event_type``
        (e.g. ``marts.fct_soc_events``).
    max_events : int
        At most this many event keys are listed per alarm (all are counted).

    Returns
    -------
    pandas.DataFrame
        The alarm rows of ``scores`` plus ``driving_events`` (pipe-separated event
        keys of the ward, category and week), ``driving_event_count`` and
        ``driving_event_types`` (e.g. ``crime:2|intelligence:3``).
    """
    al = scores[scores["alarm"]].copy()
    cols = ["ward_code", "soc_category", "week_start"]
    if al.empty:  # no alarm (or no score at all): the same columns, no rows
        out = {c: pd.Series(dtype=object) for c in SCORE_COLUMNS}
        out.update(
            driving_events=pd.Series(dtype=object), driving_event_types=pd.Series(dtype=object)
        )
        out["driving_event_count"] = pd.Series(dtype=np.int64)
        return pd.DataFrame(out)
    ev = events.copy()
    ev["week_start"] = pd.to_datetime(ev["week_start"])
    ev = ev.merge(al[cols].drop_duplicates(), on=cols)
    ev = ev.sort_values([*cols, "event_key"])
    agg = ev.groupby(cols).agg(
        driving_events=("event_key", lambda s: "|".join(s.iloc[:max_events])),
        driving_event_count=("event_key", "size"),
        driving_event_types=(
            "event_type",
            lambda s: "|".join(f"{k}:{v}" for k, v in s.value_counts().sort_index().items()),
        ),
    )
    al = al.merge(agg.reset_index(), on=cols, how="left")
    al["driving_events"] = al["driving_events"].fillna("")
    al["driving_event_types"] = al["driving_event_types"].fillna("")
    al["driving_event_count"] = al["driving_event_count"].fillna(0).astype(np.int64)
    return al.reset_index(drop=True)
