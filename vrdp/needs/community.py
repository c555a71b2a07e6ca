"""Briefing context from StreetSafe-style public reports.

Reports of feeling unsafe are context for a briefing ("12 reports of feeling
unsafe here in 90 days"), never crime: nothing here feeds hot spot selection.
The dbt mart ``marts.fct_cell_community_context`` applies the same rule.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["WINDOW_DAYS", "community_context", "context_sentence", "lake_reports"]

#: Days of reports a briefing counts, to the latest report received.
WINDOW_DAYS = 90


def context_sentence(reports: int, top_category: str, window_days: int = WINDOW_DAYS) -> str:
    """One line for a briefing.

    >>> context_sentence(12, "Poor street lighting")
    '12 reports of feeling unsafe here in 90 days (most often: Poor street lighting)'
    >>> context_sentence(1, "Being followed", 30)
    '1 report of feeling unsafe here in 30 days (most often: Being followed)'
    """
    noun = "report" if reports == 1 else "reports"
    return (
        f"{reports} {noun} of feeling unsafe here in {window_days} days "
        f"(most often: {top_category})"
    )


def community_context(
    reports: pd.DataFrame,
    *,
    as_of: pd.Timestamp | str | None = None,
    window_days: int = WINDOW_DAYS,
) -> pd.DataFrame:
    """Reports per H3 cell in the ``window_days`` to ``as_of``, with a briefing sentence.

    Parameters
    ----------
    reports : pandas.DataFrame
        ``h3_cell``, ``submitted_at`` (or ``submitted_on``) and ``category``; rows
        without a cell are ignored.
    as_of : date-like, optional
        Last day of the window (inclusive); default the latest report's day, so
        the answer depends on the data, not the clock.
    window_days : int

    Returns
    -------
    pandas.DataFrame
        One row per cell with a report in the window: ``h3_cell``, ``as_of_date``,
        ``window_days``, ``reports_90d`` (reports in the window, whatever its
        length), ``last_report_on``, ``top_category`` (most reported; ties by name)
        and ``context_text``; sorted by reports, most first, then cell.

    Examples
    --------
    >>> df = pd.DataFrame({"h3_cell": ["a", "a", "b"],
    ...                    "submitted_at": ["2025-03-01", "2025-03-02", "2024-01-01"],
    ...                    "category": ["Being followed", "Being followed", "Other"]})
    >>> community_context(df)[["h3_cell", "reports_90d", "top_category"]].to_dict("records")
    [{'h3_cell': 'a', 'reports_90d': 2, 'top_category': 'Being followed'}]
    """
    cols = ["h3_cell", "as_of_date", "window_days", "reports_90d", "last_report_on"]
    cols += ["top_category", "context_text"]
    when = reports["submitted_on"] if "submitted_on" in reports else reports["submitted_at"]
    df = pd.DataFrame(
        {
            "h3_cell": reports["h3_cell"].to_numpy(),
            "day": pd.to_datetime(when).dt.normalize().to_numpy(),
            "category": reports["category"].to_numpy(),
        }
    ).dropna(subset=["h3_cell", "day"])
    if df.empty:
        return pd.DataFrame(columns=cols)
    end = pd.Timestamp(as_of).normalize() if as_of is not None else df["day"].max()
    start = end - pd.Timedelta(days=window_days)
    df = df[(df["day"] > start) & (df["day"] <= end)]
    if df.empty:
        return pd.DataFrame(columns=cols)
    per = df.groupby(["h3_cell", "category"]).size().rename("n").reset_index()
    top = per.sort_values(["h3_cell", "n", "category"], ascending=[True, False, True])
    top = top.drop_duplicates("h3_cell").set_index("h3_cell")["category"]
    g = df.groupby("h3_cell").agg(reports_90d=("day", "size"), last_report_on=("day", "max"))
    g["top_category"] = top.reindex(g.index)
    g = g.reset_index()
    g["as_of_date"] = end.date()
    g["window_days"] = window_days
    g["last_report_on"] = g["last_report_on"].dt.date
    g["reports_90d"] = g["reports_90d"].astype(int)
    g["context_text"] = [
        context_sentence(n, c, window_days)
        for n, c in zip(g["reports_90d"], g["top_category"], strict=True)
    ]
    g = g.sort_values(["reports_90d", "h3_cell"], ascending=[False, True], kind="stable")
    return g[cols].reset_index(drop=True)


def lake_reports(lake_dir, before=None) -> pd.DataFrame:
    """Located public reports from the lake (``community/streetsafe_reports``).

    ``report_id``, ``submitted_at``, ``category`` and ``h3_cell`` of every delivery,
    each report once (its latest delivery's copy: a re-sent or corrected report
    replaces the earlier one), only those submitted before ``before`` when given
    (a briefing for a day counts what was known before it). Empty when none landed.
    """
    from vrdp.lake import read_deliveries

    cols = ["report_id", "submitted_at", "category", "h3_cell"]
    df = read_deliveries(lake_dir, "community", "streetsafe_reports", cols)
    df = df.drop_duplicates("report_id", keep="last")
    if before is not None:
        df = df[pd.to_datetime(df["submitted_at"]) < pd.Timestamp(before)]
    return df.reset_index(drop=True)
