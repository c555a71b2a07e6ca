"""Rank H3 cells by crime harm over the latest months of data.

The window is calendar months ending at the latest month present, so a month
the force never published shortens the evidence (and is reported) instead of
being silently replaced by an older month.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import h3
import pandas as pd

__all__ = ["HotspotWindow", "harm_window", "rank_cells_by_harm"]


@dataclass(frozen=True)
class HotspotWindow:
    """The months a ranking covers, and those of them with no data."""

    start: date
    end: date
    months: tuple[date, ...]
    missing: tuple[date, ...] = field(default=())

    def describe(self) -> str:
        """Human-readable window, e.g. ``2025-10..2025-12 (missing: none)``."""
        miss = ", ".join(m.strftime("%Y-%m") for m in self.missing) or "none"
        return f"{self.start:%Y-%m}..{self.end:%Y-%m} (missing: {miss})"


def _add_months(d: date, k: int) -> date:
    idx = d.year * 12 + (d.month - 1) + k
    return date(idx // 12, idx % 12 + 1, 1)


def harm_window(months_present: pd.Series | list[date], window_months: int) -> HotspotWindow:
    """The ``window_months`` calendar months ending at the latest month present.

    >>> w = harm_window([date(2025, 6, 1), date(2025, 8, 1)], 3)
    >>> w.describe()
    '2025-06..2025-08 (missing: 2025-07)'
    """
    present = sorted({pd.Timestamp(m).date().replace(day=1) for m in months_present})
    if not present:
        raise ValueError("no months of data to rank hot spots from")
    end = present[-1]
    months = tuple(_add_months(end, -k) for k in range(window_months - 1, -1, -1))
    missing = tuple(m for m in months if m not in set(present))
    return HotspotWindow(start=months[0], end=end, months=months, missing=missing)


def rank_cells_by_harm(
    cell_months: pd.DataFrame,
    *,
    window_months: int = 3,
    top_n: int = 50,
    exclude_police_generated: bool = True,
) -> tuple[pd.DataFrame, HotspotWindow]:
    """Top ``top_n`` cells by harm over the latest ``window_months`` months.

    Parameters
    ----------
    cell_months
        Rows of ``fct_cell_monthly_harm``: ``h3_cell``, ``month``, ``crime_type``,
        ``is_police_generated``, ``events``, ``harm_days``.
    window_months, top_n
        Window length in calendar months and number of cells kept.
    exclude_police_generated
        Leave out offences found mostly by police activity (feedback-loop guard).
        With an ``events_in_force_area`` column, cells with no event inside the force
        area in the window are left out too: a force's file holds a few crimes
        located far outside it (the City of London's, up to 100 km away), which are
        not its hot spots; share of harm is then of the harm of the cells kept.

    Returns
    -------
    ranked, window
        ``ranked`` has one row per cell: ``rank`` (1 = most harm), ``h3_cell``,
        ``harm_days``, ``events``, ``share_of_harm``, ``cumulative_share_of_harm``
        (of all harm in the window), ``main_crime_types`` (top three by harm),
        ``latitude``/``longitude`` of the cell centre and ``area_km2``. Ties are
        broken by events, then by cell id, so the order is deterministic.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "h3_cell": ["89195d09a13ffff", "89195d09a17ffff"], "month": [date(2025, 1, 1)] * 2,
    ...     "crime_type": ["Robbery", "Burglary"], "is_police_generated": [False, False],
    ...     "events": [1, 1], "harm_days": [365.0, 244.0]})
    >>> ranked, _ = rank_cells_by_harm(df, window_months=1, top_n=1)
    >>> ranked[["rank", "h3_cell", "harm_days"]].to_dict("records")
    [{'rank': 1, 'h3_cell': '89195d09a13ffff', 'harm_days': 365.0}]
    """
    # Sort first: float sums depend on order, and the warehouse returns rows in
    # no particular order, so without this the same data could rank differently.
    df = cell_months.sort_values(["h3_cell", "month", "crime_type"], kind="mergesort").copy()
    df["month"] = pd.to_datetime(df["month"]).dt.date
    window = harm_window(df["month"], window_months)
    df = df[df["month"].isin(set(window.months))]
    if exclude_police_generated:
        df = df[~df["is_police_generated"].astype(bool)]
    if "events_in_force_area" in df:
        inside = df.groupby("h3_cell")["events_in_force_area"].sum()
        df = df[df["h3_cell"].isin(inside.index[inside > 0])]
    total_harm = float(df["harm_days"].sum())

    per_cell = df.groupby("h3_cell", as_index=False).agg(
        harm_days=("harm_days", "sum"), events=("events", "sum")
    )
    per_cell = per_cell.sort_values(
        ["harm_days", "events", "h3_cell"], ascending=[False, False, True], kind="mergesort"
    ).head(top_n)
    per_cell.insert(0, "rank", range(1, len(per_cell) + 1))

    by_type = (
        df[df["h3_cell"].isin(per_cell["h3_cell"])]
        .groupby(["h3_cell", "crime_type"], as_index=False)["harm_days"]
        .sum()
        .sort_values(["h3_cell", "harm_days", "crime_type"], ascending=[True, False, True])
    )
    main_types = by_type.groupby("h3_cell")["crime_type"].apply(lambda s: "; ".join(s.head(3)))
    per_cell["main_crime_types"] = per_cell["h3_cell"].map(main_types)
    per_cell["share_of_harm"] = per_cell["harm_days"] / total_harm if total_harm else 0.0
    per_cell["cumulative_share_of_harm"] = per_cell["share_of_harm"].cumsum()
    centres = [h3.cell_to_latlng(c) for c in per_cell["h3_cell"]]
    per_cell["latitude"] = [c[0] for c in centres]
    per_cell["longitude"] = [c[1] for c in centres]
    per_cell["area_km2"] = [h3.cell_area(c, unit="km^2") for c in per_cell["h3_cell"]]
    return per_cell.reset_index(drop=True), window
