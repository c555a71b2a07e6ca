"""Intention-to-treat hot spot-day table: arm, dosage delivered, crimes and harm.

Every allocated unit-day is a row whatever was delivered (intention to treat);
dosage is attached as delivered minutes, never used to re-label the arm.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from vrdp.geo import h3_cells

__all__ = ["events_to_unit_days", "itt_table"]


def events_to_unit_days(
    events: pd.DataFrame,
    units: pd.DataFrame,
    *,
    time_col: str = "occurred_at",
    cell_col: str = "h3_cell",
    h3_resolution: int = 9,
    day_start: str = "00:00",
    harm_weights: Mapping[str, float] | None = None,
    type_col: str = "crime_type",
) -> pd.DataFrame:
    """Count events (and harm) per trial unit and day.

    Parameters
    ----------
    events
        ``time_col`` plus either ``cell_col`` or ``latitude``/``longitude`` (WGS84,
        mapped to H3 at ``h3_resolution``). Rows without a time or location are dropped.
    units
        ``unit_id`` and ``h3_cell``.
    day_start
        Clock time at which a unit-day starts (``"00:00"`` = calendar days, as the
        trial allocation is by calendar date).
    harm_weights
        Harm per ``type_col`` value (e.g. CCHI days); missing types weigh 0.

    Returns
    -------
    pandas.DataFrame
        ``unit_id``, ``date``, ``crimes``, ``harm``.

    Examples
    --------
    >>> u = pd.DataFrame({"unit_id": ["TU0"], "h3_cell": ["c1"]})
    >>> e = pd.DataFrame({"h3_cell": ["c1", "c1", "c2"], "crime_type": ["a", "b", "a"],
    ...     "occurred_at": pd.to_datetime(["2025-10-03 23:00", "2025-10-04 01:00",
    ...                                    "2025-10-03 12:00"])})
    >>> out = events_to_unit_days(e, u, harm_weights={"a": 2.0})
    >>> out.assign(date=out["date"].dt.strftime("%m-%d")).values.tolist()
    [['TU0', '10-03', 1, 2.0], ['TU0', '10-04', 1, 0.0]]
    """
    ev = events.copy()
    ev["_t"] = pd.to_datetime(ev[time_col], errors="coerce")
    if cell_col not in ev:
        lat = pd.to_numeric(ev["latitude"], errors="coerce")
        lon = pd.to_numeric(ev["longitude"], errors="coerce")
        ok = lat.notna() & lon.notna()
        cells = np.full(len(ev), None, dtype=object)
        cells[ok.to_numpy()] = h3_cells(lat[ok].to_numpy(), lon[ok].to_numpy(), h3_resolution)
        ev[cell_col] = cells
    ev = ev[ev["_t"].notna() & ev[cell_col].notna()]
    ev = ev.merge(units[["unit_id", "h3_cell"]].rename(columns={"h3_cell": cell_col}), on=cell_col)
    hh, mm = (int(x) for x in day_start.split(":"))
    ev["date"] = (ev["_t"] - pd.Timedelta(hours=hh, minutes=mm)).dt.normalize()
    if harm_weights is not None:
        ev["_h"] = ev[type_col].map(dict(harm_weights)).fillna(0.0).astype(float)
    else:
        ev["_h"] = 0.0
    out = ev.groupby(["unit_id", "date"], as_index=False).agg(
        crimes=("_t", "size"), harm=("_h", "sum")
    )
    out["date"] = out["date"].astype("datetime64[ns]")
    return out


def itt_table(
    allocation: pd.DataFrame,
    outcomes: pd.DataFrame,
    dosage: pd.DataFrame | None = None,
    *,
    pre_period: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """The intention-to-treat hot spot-day table.

    Parameters
    ----------
    allocation
        ``unit_id``, ``date``, ``arm`` (``patrol``/``control``), one row per unit-day.
    outcomes
        :func:`events_to_unit_days` output (``unit_id``, ``date``, ``crimes``, ``harm``).
    dosage
        Optional delivered dosage: ``hotspot_id`` (= ``unit_id``), ``date``,
        ``dosage_minutes`` (summed over officers) and optionally ``confirmed_minutes``,
        e.g. from :func:`vrdp.dosage.daily_dosage`.
    pre_period
        Optional ``(first, last)`` dates of a pre-trial baseline; those unit-days are
        added with ``arm = "pre"`` and ``period = "pre"`` (for difference in differences).

    Returns
    -------
    pandas.DataFrame
        ``unit_id``, ``date``, ``period`` (``pre``/``trial``), ``arm``, ``treated``
        (1 on patrol days), ``dosage_minutes`` (and ``confirmed_minutes`` when the
        dosage has it), ``crimes``, ``harm``.

    Examples
    --------
    >>> a = pd.DataFrame({"unit_id": ["u", "u"], "date": ["2025-10-03", "2025-10-04"],
    ...                   "arm": ["patrol", "control"]})
    >>> o = pd.DataFrame({"unit_id": ["u"], "date": pd.to_datetime(["2025-10-04"]),
    ...                   "crimes": [2], "harm": [3.0]})
    >>> itt_table(a, o)[["arm", "treated", "crimes", "dosage_minutes"]].values.tolist()
    [['patrol', 1, 0, 0.0], ['control', 0, 2, 0.0]]
    """
    a = allocation[["unit_id", "date", "arm"]].copy()
    a["date"] = pd.to_datetime(a["date"]).astype("datetime64[ns]")
    a["period"] = "trial"
    if pre_period is not None:
        days = pd.date_range(pre_period[0], pre_period[1], freq="D")
        pre = pd.MultiIndex.from_product([a["unit_id"].unique(), days], names=["unit_id", "date"])
        pre = pre.to_frame(index=False).assign(arm="pre", period="pre")
        pre["date"] = pre["date"].astype("datetime64[ns]")
        a = pd.concat([pre, a], ignore_index=True)
    o = outcomes[["unit_id", "date", "crimes", "harm"]].copy()
    o["date"] = pd.to_datetime(o["date"]).astype("datetime64[ns]")
    t = a.merge(o, on=["unit_id", "date"], how="left")
    t["crimes"] = t["crimes"].fillna(0).astype(np.int64)
    t["harm"] = t["harm"].fillna(0.0).astype(float)
    minutes = ["dosage_minutes"]
    if dosage is not None and "confirmed_minutes" in dosage:
        minutes.append("confirmed_minutes")
    if dosage is not None:
        d = dosage.groupby(["hotspot_id", "date"], as_index=False)[minutes].sum()
        d = d.rename(columns={"hotspot_id": "unit_id"})
        d["date"] = pd.to_datetime(d["date"]).astype("datetime64[ns]")
        t = t.merge(d, on=["unit_id", "date"], how="left")
    else:
        t["dosage_minutes"] = np.nan
    t[minutes] = t[minutes].fillna(0.0)
    t["treated"] = (t["arm"] == "patrol").astype(int)
    cols = ["unit_id", "date", "period", "arm", "treated", *minutes, "crimes", "harm"]
    return t[cols].sort_values(["unit_id", "date"], kind="stable").reset_index(drop=True)
