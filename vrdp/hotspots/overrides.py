"""Analyst overrides: add or suppress a hot spot, with a reason, kept for audit.

A pure function: it takes the algorithm's hot spot list and an overrides table
and returns the list an analyst signs off, where every override shows. Storing
the overrides (the audit table) is the caller's job; nothing is dropped here:
a suppressed hot spot stays in the output with ``selected = False``.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["OVERRIDE_COLUMNS", "apply_overrides"]

#: Columns of the overrides (audit) table.
OVERRIDE_COLUMNS = ("h3_cell", "action", "reason", "analyst", "created_at")


def apply_overrides(hotspots: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """Apply analyst overrides to a hot spot list.

    Parameters
    ----------
    hotspots
        The algorithm's selection: one row per ``h3_cell`` (other columns kept).
    overrides
        ``h3_cell``, ``action`` (``"add"`` or ``"suppress"``), ``reason``
        (required, non-empty), ``analyst``, ``created_at``. When a cell has
        several overrides the latest ``created_at`` wins (ties: the later row).

    Returns
    -------
    pandas.DataFrame
        The hot spots plus added cells, with ``selected`` (bool), ``override``
        (``"added"``, ``"suppressed"`` or ``None``), ``override_reason``,
        ``override_by``, ``override_at`` and ``overrides_on_cell`` (how many
        overrides the audit table holds for the cell). Added cells have NaN in
        the algorithm's columns and ``source = "analyst"``.

    Raises
    ------
    ValueError
        On an unknown action or an empty reason.

    Examples
    --------
    >>> hs = pd.DataFrame({"h3_cell": ["a", "b"], "rank": [1, 2]})
    >>> ov = pd.DataFrame({"h3_cell": ["b", "c"], "action": ["suppress", "add"],
    ...     "reason": ["building demolished", "CCTV review"], "analyst": ["jo", "jo"],
    ...     "created_at": pd.to_datetime(["2025-12-01", "2025-12-02"])})
    >>> apply_overrides(hs, ov)[["h3_cell", "selected", "override"]].values.tolist()
    [['a', True, None], ['b', False, 'suppressed'], ['c', True, 'added']]
    """
    ov = overrides.copy()
    for col in OVERRIDE_COLUMNS:
        if col not in ov:
            ov[col] = None
    bad = sorted(set(ov["action"]) - {"add", "suppress"})
    if bad:
        raise ValueError(f"unknown override action(s): {bad}; use 'add' or 'suppress'")
    blank = ov["reason"].isna() | (ov["reason"].astype(str).str.strip() == "")
    if blank.any():
        raise ValueError(
            f"every override needs a reason; missing for {ov.loc[blank, 'h3_cell'].tolist()}"
        )
    ov["_order"] = range(len(ov))
    ov = ov.sort_values(["h3_cell", "created_at", "_order"], kind="mergesort", na_position="first")
    n_per_cell = ov.groupby("h3_cell").size()
    latest = ov.groupby("h3_cell").tail(1).set_index("h3_cell")

    out = hotspots.copy()
    if "source" not in out:
        out["source"] = "algorithm"
    new = [
        c for c in latest.index if c not in set(out["h3_cell"]) and latest.loc[c, "action"] == "add"
    ]
    if new:
        out = pd.concat(
            [out, pd.DataFrame({"h3_cell": new, "source": "analyst"})], ignore_index=True
        )
    act = out["h3_cell"].map(latest["action"])
    out["selected"] = ~(act == "suppress").to_numpy()
    out["override"] = act.map({"add": "added", "suppress": "suppressed"}).astype(object)
    out["override"] = out["override"].where(out["override"].notna(), None)
    for col, src in (
        ("override_reason", "reason"),
        ("override_by", "analyst"),
        ("override_at", "created_at"),
    ):
        out[col] = out["h3_cell"].map(latest[src])
    out["overrides_on_cell"] = out["h3_cell"].map(n_per_cell).fillna(0).astype(int)
    return out.reset_index(drop=True)
