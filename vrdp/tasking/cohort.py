"""Which hot spots enter a trial, and which are patrolled on a day outside a trial.

Trial cohort rule (:func:`choose_cohort`)
    From the force hot spot list (selected rows), keep the cells that were hot in
    at least ``min_hot_periods`` of the classification windows (stable, not a
    one-window blip), order them by forecast risk (``risk_score``, then
    ``harm_days``), and take them greedily, skipping any cell whose centre lies
    closer than ``min_separation_m`` to a cell already taken (so geofences and
    displacement rings do not overlap), until ``n_units`` are chosen. The rule and
    its parameters are returned with the cohort so they can be recorded.

Daily draw outside a trial (:func:`risk_weighted_draw`)
    ``k`` listed hot spots drawn without replacement with probability
    proportional to forecast risk, from ``default_rng([seed, day_number])``: the
    ShotSpotter Missions practice of spreading dosage over the list rather than
    sending every patrol to the top few cells. A day's draw depends only on the
    seed, the day and the list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["COHORT_RULE", "choose_cohort", "risk_weighted_draw", "matched_pair_blocks"]

COHORT_RULE = (
    "selected hot spots hot in >= {min_hot_periods} classification windows, by forecast "
    "risk (risk_score, then harm_days) descending, greedily at least {min_separation_m:.0f} m "
    "apart (cell centres), first {n_units}"
)


def _haversine_m(lat1, lon1, lat2, lon2):
    r = 6_371_008.8
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(a))


def _risk(hotspots: pd.DataFrame) -> pd.Series:
    """Forecast risk, else harm days, else 1 (uniform)."""
    for col in ("risk_score", "harm_days"):
        if col in hotspots and hotspots[col].notna().any():
            return pd.to_numeric(hotspots[col], errors="coerce").fillna(0.0).clip(lower=0.0)
    return pd.Series(1.0, index=hotspots.index)


def choose_cohort(
    hotspots: pd.DataFrame,
    *,
    n_units: int,
    min_separation_m: float = 400.0,
    min_hot_periods: int = 2,
) -> tuple[pd.DataFrame, str]:
    """The trial cohort from a hot spot list, by the documented rule.

    Parameters
    ----------
    hotspots
        ``h3_cell`` plus, where known, ``selected``, ``hot_periods``, ``risk_score``,
        ``harm_days``.
    n_units
        Cohort size (fewer when too few cells qualify).
    min_separation_m
        Least distance between chosen cell centres.
    min_hot_periods
        Least number of classification windows a cell was hot in (ignored when the
        list has no ``hot_periods``).

    Returns
    -------
    (pandas.DataFrame, str)
        ``unit_id`` (``HS01``...), ``h3_cell``, ``latitude``, ``longitude``,
        ``cohort_rank``, ``risk``; and the rule as text with its parameters.

    Examples
    --------
    >>> import h3
    >>> a = h3.latlng_to_cell(51.75, -1.25, 9)
    >>> near = h3.grid_ring(a, 1)[0]
    >>> far = h3.latlng_to_cell(51.80, -1.30, 9)
    >>> hl = pd.DataFrame({"h3_cell": [a, near, far], "risk_score": [3.0, 2.0, 1.0],
    ...                    "hot_periods": [3, 3, 3]})
    >>> c, rule = choose_cohort(hl, n_units=3)
    >>> c["h3_cell"].tolist() == [a, far]   # the neighbour is too close to the first
    True
    """
    import h3

    hl = hotspots.copy()
    if "selected" in hl:
        hl = hl[hl["selected"].fillna(False).astype(bool)]
    if "hot_periods" in hl and hl["hot_periods"].notna().any():
        hl = hl[pd.to_numeric(hl["hot_periods"], errors="coerce").fillna(0) >= min_hot_periods]
    hl = hl.drop_duplicates("h3_cell")
    hl = hl.assign(risk=_risk(hl))
    tie = hl["harm_days"].fillna(0.0) if "harm_days" in hl else 0.0
    hl = hl.assign(_tie=tie).sort_values(
        ["risk", "_tie", "h3_cell"], ascending=[False, False, True]
    )
    latlng = np.array([h3.cell_to_latlng(c) for c in hl["h3_cell"]]).reshape(-1, 2)
    taken: list[int] = []
    for i in range(len(hl)):
        if len(taken) >= n_units:
            break
        if taken:
            d = _haversine_m(latlng[i, 0], latlng[i, 1], latlng[taken, 0], latlng[taken, 1])
            if (d < min_separation_m).any():
                continue
        taken.append(i)
    out = hl.iloc[taken][["h3_cell", "risk"]].reset_index(drop=True)
    out.insert(0, "unit_id", [f"HS{k + 1:02d}" for k in range(len(out))])
    out["latitude"] = latlng[taken, 0] if taken else []
    out["longitude"] = latlng[taken, 1] if taken else []
    out["cohort_rank"] = np.arange(1, len(out) + 1)
    rule = COHORT_RULE.format(
        min_hot_periods=min_hot_periods, min_separation_m=min_separation_m, n_units=n_units
    )
    return out, rule


def matched_pair_blocks(cohort: pd.DataFrame) -> dict[str, str]:
    """Blocks of two consecutive cohort ranks (similar forecast risk) for the block design.

    >>> matched_pair_blocks(pd.DataFrame({"unit_id": ["a", "b", "c"], "cohort_rank": [1, 2, 3]}))
    {'a': 'P01', 'b': 'P01', 'c': 'P02'}
    """
    c = cohort.sort_values("cohort_rank")
    return {u: f"P{k // 2 + 1:02d}" for k, u in enumerate(c["unit_id"])}


def risk_weighted_draw(
    hotspots: pd.DataFrame, day: str | pd.Timestamp, *, k: int, seed: int
) -> pd.DataFrame:
    """Draw ``k`` hot spots for one day, probability proportional to forecast risk.

    Parameters
    ----------
    hotspots
        ``h3_cell`` and ``risk_score`` (or ``harm_days``; uniform when neither).
    day
        The tasking day (its number seeds the draw with ``seed``).
    k
        How many to draw (all when the list is shorter).
    seed
        Recorded in the output.

    Returns
    -------
    pandas.DataFrame
        One row per listed hot spot: ``h3_cell``, ``draw_weight`` (probability
        share), ``drawn`` (bool), ``draw_seed``, ``date``.

    Examples
    --------
    >>> hl = pd.DataFrame({"h3_cell": list("abcd"), "risk_score": [4.0, 3.0, 2.0, 1.0]})
    >>> d = risk_weighted_draw(hl, "2026-01-05", k=2, seed=1)
    >>> int(d["drawn"].sum()), d.equals(risk_weighted_draw(hl, "2026-01-05", k=2, seed=1))
    (2, True)
    """
    d = pd.Timestamp(day).normalize()
    hl = hotspots.drop_duplicates("h3_cell").sort_values("h3_cell").reset_index(drop=True)
    w = _risk(hl).to_numpy(float)
    w = np.where(w > 0, w, 0.0)
    p = w / w.sum() if w.sum() > 0 else np.full(len(hl), 1.0 / max(len(hl), 1))
    n = min(int(k), int((p > 0).sum()))
    rng = np.random.default_rng([int(seed), int((d - pd.Timestamp("1970-01-01")).days)])
    drawn = np.zeros(len(hl), bool)
    if n:
        drawn[rng.choice(len(hl), size=n, replace=False, p=p)] = True
    return pd.DataFrame(
        {
            "h3_cell": hl["h3_cell"],
            "draw_weight": p,
            "drawn": drawn,
            "draw_seed": int(seed),
            "date": d,
        }
    )
