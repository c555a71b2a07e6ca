"""Where the platform's attention falls, against where harm falls.

Attention (patrol dosage minutes, taskings, stops and searches) and harm
(crime-harm days) are summed by group (deprivation decile, ethnicity); each
group's share of attention is compared with its share of harm as a ratio with
a 95% confidence interval, and a Lorenz curve shows how concentrated attention
is relative to harm. Groups with small numbers carry a warning; published
counts go through :func:`vrdp.governance.suppression.suppress_small_counts`.

:func:`cap_dosage` is the optional guard (off by default): a cap on dosage
minutes per cell per shift and a share reserved for lower-risk areas; the
report shows what it changes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "SMALL_NUMBER",
    "lsoa21_to_lsoa11",
    "within_force_deciles",
    "attention_vs_harm",
    "lorenz_curve",
    "cap_dosage",
]

#: groups with fewer attention events or harm events than this get a warning
SMALL_NUMBER = 20


def lsoa21_to_lsoa11(pairs: pd.DataFrame, lsoa21_codes, imd_codes) -> pd.DataFrame:
    """LSOA 2021 -> LSOA 2011 (the IMD 2019 vintage), one 2011 code per 2021 code.

    ``pairs`` are located rows with both codes (``lsoa21_code``, ``lsoa11_code``):
    each 2021 code takes the 2011 code most of its rows fall in (ties to the
    smaller code). A 2021 code with no pair keeps its own code when that code is
    a 2011 code of the IMD (``imd_codes``): the ONS kept the code of every LSOA
    whose 2011 boundary was unchanged or only adjusted, which is most of them,
    so a force with no LSOA 2011 boundaries still gets deciles. Codes that are
    neither (new in 2021, split or merged) are left out.

    >>> pairs = pd.DataFrame({"lsoa21_code": ["A", "A", "A"], "lsoa11_code": ["x", "y", "y"]})
    >>> lsoa21_to_lsoa11(pairs, ["A", "E01000001", "E01099999"], ["E01000001"]).values.tolist()
    [['A', 'y', 'located'], ['E01000001', 'E01000001', 'same code']]
    """
    pairs = pairs.dropna(subset=["lsoa21_code", "lsoa11_code"])
    n = pairs.groupby(["lsoa21_code", "lsoa11_code"]).size().rename("n").reset_index()
    located = (
        n.sort_values(["lsoa21_code", "n", "lsoa11_code"], ascending=[True, False, True])
        .drop_duplicates("lsoa21_code")[["lsoa21_code", "lsoa11_code"]]
        .assign(basis="located")
    )
    rest = pd.Index(pd.unique(pd.Series(list(lsoa21_codes)).dropna()))
    rest = rest[~rest.isin(located["lsoa21_code"]) & rest.isin(set(imd_codes))]
    same = pd.DataFrame({"lsoa21_code": rest, "lsoa11_code": rest, "basis": "same code"})
    out = pd.concat([located, same], ignore_index=True)
    return out.sort_values("lsoa21_code").reset_index(drop=True)


def within_force_deciles(imd: pd.DataFrame, lsoas) -> pd.DataFrame:
    """IMD deciles of the force's LSOAs: national (as published) and within the force.

    ``imd`` has ``lsoa_code``, ``IMD_decile`` and ``IMD_rank`` (1 = most deprived).

    >>> imd = pd.DataFrame({"lsoa_code": list("abcdefghij"), "IMD_decile": [1] * 5 + [9] * 5,
    ...     "IMD_rank": range(1, 11)})
    >>> within_force_deciles(imd, list("abcdefghij"))["force_decile"].tolist()
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    """
    f = imd[imd["lsoa_code"].isin(set(lsoas))].copy()
    ranks = f["IMD_rank"].rank(method="first")
    f["force_decile"] = (np.ceil(ranks / len(f) * 10)).astype(int).clip(1, 10)
    return f.rename(columns={"IMD_decile": "national_decile"})[
        ["lsoa_code", "national_decile", "force_decile", "IMD_rank"]
    ].reset_index(drop=True)


def attention_vs_harm(
    df: pd.DataFrame, group: str, attention: str, harm: str, harm_events: str
) -> pd.DataFrame:
    """Shares of attention and harm by group, their ratio and a 95% CI.

    ``attention`` is a count (stops, taskings) or minutes; ``harm`` crime-harm
    days; ``harm_events`` the number of harmful events behind them. The CI of
    the ratio of shares uses the log method with Poisson counts
    (var = 1/a - 1/A + 1/e - 1/E; minutes are counted as visits of 15 minutes).
    A ratio above 1 means the group gets more attention than its share of harm.

    >>> d = pd.DataFrame({"g": ["poor", "rich"], "stops": [80, 20], "harm": [50.0, 50.0],
    ...     "events": [100, 100]})
    >>> r = attention_vs_harm(d, "g", "stops", "harm", "events")
    >>> r[["g", "attention_share", "harm_share", "ratio"]].round(2).values.tolist()
    [['poor', 0.8, 0.5, 1.6], ['rich', 0.2, 0.5, 0.4]]
    >>> bool(r.loc[0, "ratio_ci_low"] > 1), r["small_numbers"].tolist()
    (True, [False, False])
    """
    g = df.groupby(group, dropna=False)[[attention, harm, harm_events]].sum().reset_index()
    a_tot, h_tot, e_tot = g[attention].sum(), g[harm].sum(), g[harm_events].sum()
    g["attention_share"] = g[attention] / a_tot if a_tot else np.nan
    g["harm_share"] = g[harm] / h_tot if h_tot else np.nan
    g["ratio"] = g["attention_share"] / g["harm_share"].replace(0, np.nan)
    a_units = g[attention] / (15.0 if "minutes" in attention else 1.0)
    a_tot_units = a_tot / (15.0 if "minutes" in attention else 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = 1 / a_units - 1 / a_tot_units + 1 / g[harm_events] - 1 / e_tot
        se = np.sqrt(var.where(var > 0))
    g["ratio_ci_low"] = g["ratio"] * np.exp(-1.96 * se)
    g["ratio_ci_high"] = g["ratio"] * np.exp(1.96 * se)
    g["small_numbers"] = (a_units < SMALL_NUMBER) | (g[harm_events] < SMALL_NUMBER)
    g["warning"] = np.where(
        g["small_numbers"],
        f"fewer than {SMALL_NUMBER} events: ratio unstable, read the interval",
        "",
    )
    return g


def lorenz_curve(df: pd.DataFrame, attention: str, harm: str) -> tuple[pd.DataFrame, float]:
    """Concentration of attention against harm across areas, and its Gini index.

    Areas are ordered by attention per unit of harm (least first); the curve
    gives the cumulative share of harm (x) and of attention (y). On the
    diagonal, attention follows harm exactly (Gini 0); the further below, the
    more attention is concentrated on areas beyond their harm.

    >>> d = pd.DataFrame({"a": [1.0, 1.0], "h": [1.0, 1.0]})
    >>> curve, gini = lorenz_curve(d, "a", "h"); round(gini, 6)
    0.0
    """
    d = df[[attention, harm]].astype(float)
    d = d[(d[attention] > 0) | (d[harm] > 0)]
    per = d[attention] / d[harm].replace(0, np.nan)
    d = d.assign(per=per.fillna(np.inf)).sort_values("per", kind="mergesort")
    x = np.concatenate([[0.0], d[harm].cumsum().to_numpy() / max(d[harm].sum(), 1e-12)])
    y = np.concatenate([[0.0], d[attention].cumsum().to_numpy() / max(d[attention].sum(), 1e-12)])
    area = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))
    return pd.DataFrame({"cum_harm_share": x, "cum_attention_share": y}), 1 - 2 * area


def cap_dosage(
    dosage: pd.DataFrame,
    *,
    cap_minutes: float | None = None,
    reserve_share: float = 0.0,
    lower_risk_cells=(),
    cell: str = "hotspot_id",
    shift: str = "date",
    minutes: str = "dosage_minutes",
) -> tuple[pd.DataFrame, dict]:
    """Planned dosage with a cap per cell per shift and a reserve for lower-risk areas.

    Off by default (no cap, no reserve): the input comes back unchanged. With
    ``cap_minutes``, minutes above the cap in a cell and shift are removed; with
    ``reserve_share``, that share of each shift's minutes is taken pro rata from
    the cells and spread evenly over ``lower_risk_cells``. Returns the new plan
    and a summary of what changed.

    >>> d = pd.DataFrame({"hotspot_id": ["a", "b"], "date": ["d", "d"],
    ...     "dosage_minutes": [90.0, 10.0]})
    >>> out, s = cap_dosage(d, cap_minutes=60)
    >>> out["dosage_minutes"].tolist(), s["minutes_capped"]
    ([60.0, 10.0], 30.0)
    >>> out, s = cap_dosage(d, reserve_share=0.2, lower_risk_cells=["z"])
    >>> out.sort_values("hotspot_id")["dosage_minutes"].tolist()
    [72.0, 8.0, 20.0]
    """
    out = dosage.groupby([cell, shift], as_index=False)[minutes].sum()
    before = float(out[minutes].sum())
    capped = 0.0
    if cap_minutes is not None:
        over = (out[minutes] - cap_minutes).clip(lower=0)
        capped = float(over.sum())
        out[minutes] = out[minutes] - over
    reserved = 0.0
    cells = list(lower_risk_cells)
    if reserve_share > 0 and cells:
        shift_tot = out.groupby(shift)[minutes].transform("sum")
        take = out[minutes] * reserve_share
        out[minutes] = out[minutes] - take
        reserved = float(take.sum())
        per_shift = (shift_tot * reserve_share).groupby(out[shift]).first()
        extra = pd.DataFrame(
            [(c, s, m / len(cells)) for s, m in per_shift.items() for c in cells],
            columns=[cell, shift, minutes],
        )
        out = pd.concat([out, extra]).groupby([cell, shift], as_index=False)[minutes].sum()
    summary = {
        "cap_minutes_per_cell_shift": cap_minutes,
        "reserve_share": reserve_share,
        "minutes_before": before,
        "minutes_capped": capped,
        "minutes_moved_to_lower_risk": reserved,
        "minutes_after": float(out[minutes].sum()),
        "cells_hitting_cap": int((dosage.groupby([cell, shift])[minutes].sum() > cap_minutes).sum())
        if cap_minutes is not None
        else 0,
    }
    return out, summary
