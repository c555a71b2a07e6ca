"""The daily tasking table: which hot spots to patrol today, when, and for how long.

The tasking day runs from ``day_start`` (06:00 by default) to one second before
the next day's start. Target dosage follows the Koper curve: visits of 10 to 16
minutes (15 by default), ``visits_per_shift`` visits per shift. Once a hot spot
has received ``patrol_cap_visits`` visits that day it leaves the list.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["daily_tasking"]

KOPER_MIN, KOPER_MAX = 10, 16


def daily_tasking(
    hotspots: gpd.GeoDataFrame,
    date: str | pd.Timestamp,
    *,
    windows: pd.DataFrame | None = None,
    allocation: pd.DataFrame | None = None,
    delivered: pd.DataFrame | None = None,
    visit_minutes: float = 15.0,
    visits_per_shift: int = 2,
    shifts: Sequence[str] = ("early", "late", "night"),
    patrol_cap_visits: int | None = None,
    day_start: str = "06:00",
    id_col: str = "hotspot_id",
) -> pd.DataFrame:
    """Tasking list for one day.

    Parameters
    ----------
    hotspots
        ``id_col`` and geofence ``geometry`` (any CRS; served as WGS84 WKT).
    date
        The tasking day.
    windows
        :func:`vrdp.hotspots.temporal.patrol_windows` output keyed by ``id_col``
        (its ``window_start``/``window_end`` are listed per hot spot).
    allocation
        Trial allocation (``unit_id``, ``date``, ``arm``): only ``patrol`` hot spots
        are tasked that day; control hot spots are listed with ``tasked = False``.
    delivered
        Visits so far today (``hotspot_id``, ``date``, ``n_visits``), e.g. from
        :func:`vrdp.dosage.daily_dosage`; hot spots at the cap leave the list.
    visit_minutes
        Target visit length; must lie in the Koper band (10-16 minutes).
    visits_per_shift, shifts
        Target visits per shift and the shifts of the day.
    patrol_cap_visits
        Visits after which the hot spot leaves the list (default: the day's target).

    Returns
    -------
    pandas.DataFrame
        ``hotspot_id``, ``date``, ``day_start_at``, ``day_end_at``, ``geofence_wkt``,
        ``patrol_windows``, ``arm``, ``target_visit_minutes``, ``target_visits``,
        ``target_minutes``, ``patrol_cap_visits``, ``visits_so_far``, ``tasked``.

    Examples
    --------
    >>> import shapely
    >>> hs = gpd.GeoDataFrame({"hotspot_id": ["a", "b"]},
    ...     geometry=[shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)], crs="EPSG:4326")
    >>> done = pd.DataFrame({"hotspot_id": ["a"], "date": ["2025-10-03"], "n_visits": [6]})
    >>> t = daily_tasking(hs, "2025-10-03", delivered=done)
    >>> t[["hotspot_id", "target_visits", "target_minutes", "tasked"]].values.tolist()
    [['a', 6, 90.0, False], ['b', 6, 90.0, True]]
    """
    if not KOPER_MIN <= visit_minutes <= KOPER_MAX:
        raise ValueError("visit_minutes must lie in the Koper band (10 to 16 minutes)")
    d = pd.Timestamp(date).normalize()
    hh, mm = (int(x) for x in day_start.split(":"))
    start = d + pd.Timedelta(hours=hh, minutes=mm)
    gf = hotspots.to_crs("EPSG:4326") if hotspots.crs is not None else hotspots
    target_visits = int(visits_per_shift * len(shifts))
    cap = target_visits if patrol_cap_visits is None else int(patrol_cap_visits)
    out = pd.DataFrame(
        {
            "hotspot_id": gf[id_col].to_numpy(),
            "date": d,
            "day_start_at": start,
            "day_end_at": start + pd.Timedelta(days=1) - pd.Timedelta(seconds=1),
            "geofence_wkt": gf.geometry.to_wkt(rounding_precision=6).to_numpy(),
        }
    )
    if windows is not None and len(windows):
        w = windows.dropna(subset=["window_start"])
        w = w.sort_values([id_col, "window_rank"])
        # Join labels with a plain aggregation: groupby.apply returns a DataFrame, not
        # a Series, when no hot spot has a window (e.g. data with months only).
        label = w["window_start"].astype(str) + "-" + w["window_end"].astype(str)
        lab = label.groupby(w[id_col]).agg("; ".join)
        out["patrol_windows"] = out["hotspot_id"].map(lab).fillna("")
    else:
        out["patrol_windows"] = ""
    if allocation is not None:
        a = allocation[pd.to_datetime(allocation["date"]).dt.normalize() == d]
        out["arm"] = out["hotspot_id"].map(a.set_index("unit_id")["arm"]).fillna("not_in_trial")
    else:
        out["arm"] = "patrol"
    out["target_visit_minutes"] = float(visit_minutes)
    out["target_visits"] = np.where(out["arm"] == "control", 0, target_visits)
    out["target_minutes"] = out["target_visits"] * float(visit_minutes)
    out["patrol_cap_visits"] = cap
    if delivered is not None and len(delivered):
        dv = delivered[pd.to_datetime(delivered["date"]).dt.normalize() == d]
        so_far = dv.groupby("hotspot_id")["n_visits"].sum()
        out["visits_so_far"] = out["hotspot_id"].map(so_far).fillna(0).astype(int)
    else:
        out["visits_so_far"] = 0
    out["tasked"] = (out["arm"] != "control") & (out["visits_so_far"] < cap)
    return out
