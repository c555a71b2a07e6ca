"""How measured dosage agrees with known true visits (a simulated world's truth).

For evaluation metadata and benchmarks only: nothing the platform outputs is
computed from truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["dosage_agreement"]


def dosage_agreement(
    dosage: pd.DataFrame,
    true_visits: pd.DataFrame,
    allocation: pd.DataFrame,
    *,
    columns: tuple[str, ...] = ("dosage_minutes", "confirmed_minutes"),
) -> dict:
    """Measured minutes per allocated unit-day against the true minutes.

    Parameters
    ----------
    dosage
        :func:`vrdp.dosage.daily_dosage` output (``hotspot_id``, ``date`` and ``columns``).
    true_visits
        ``unit_id``, ``date``, ``minutes`` (one row per true visit).
    allocation
        ``unit_id``, ``date``: every unit-day compared (zeros where nothing happened).
    columns
        Measured columns to compare (those absent from ``dosage`` are skipped).

    Returns
    -------
    dict
        ``unit_days``, ``true_minutes``, ``true_visits`` and per column ``minutes``,
        ``ratio_to_truth`` (total measured / total true) and ``r_unit_day`` (Pearson
        correlation over the unit-days).

    Examples
    --------
    >>> a = pd.DataFrame({"unit_id": ["u", "u", "v"], "date": ["2025-10-03", "2025-10-04",
    ...                                                         "2025-10-03"]})
    >>> t = pd.DataFrame({"unit_id": ["u", "u"], "date": ["2025-10-03", "2025-10-04"],
    ...                   "minutes": [15.0, 30.0]})
    >>> d = pd.DataFrame({"hotspot_id": ["u", "u"], "date": ["2025-10-03", "2025-10-04"],
    ...                   "dosage_minutes": [20.0, 40.0]})
    >>> r = dosage_agreement(d, t, a)
    >>> r["unit_days"], r["dosage_minutes"]["ratio_to_truth"], r["dosage_minutes"]["r_unit_day"]
    (3, 1.333, 1.0)
    """

    def keyed(df, unit_col):
        out = df.rename(columns={unit_col: "unit_id"}).copy()
        out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
        return out

    cols = [c for c in columns if c in dosage]
    t = keyed(true_visits, "unit_id").groupby(["unit_id", "date"])["minutes"].sum()
    d = keyed(dosage, "hotspot_id").groupby(["unit_id", "date"])[cols].sum()
    a = keyed(allocation, "unit_id")[["unit_id", "date"]].drop_duplicates()
    both = a.set_index(["unit_id", "date"]).join(t.rename("true")).join(d).fillna(0.0)
    out = {
        "unit_days": len(both),
        "true_minutes": round(float(both["true"].sum()), 1),
        "true_visits": len(true_visits),
    }
    for col in cols:
        r = np.corrcoef(both["true"], both[col])[0, 1] if both[col].std() > 0 else float("nan")
        out[col] = {
            "minutes": round(float(both[col].sum()), 1),
            "ratio_to_truth": round(float(both[col].sum() / both["true"].sum()), 3),
            "r_unit_day": round(float(r), 3),
        }
    return out
