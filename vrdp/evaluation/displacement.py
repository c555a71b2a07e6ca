"""Spatial displacement and diffusion of benefits: WDQ and WDD in buffer rings.

Counts are taken before and after in four areas: treated (A), a displacement
buffer ring around it (B), a control area (C) and, for the WDD, a control
buffer (D). Buffer rings are ``(inner, outer]`` metres from the hot spot
boundary (default 0-100 m) and exclude every other hot spot.

* Weighted displacement quotient (Ratcliffe 2005, "Detecting spatial movement
  of intra-region crime patterns over time", J. Quant. Criminol. 21(1)):
  ``WDQ = (B_a/C_a - B_b/C_b) / (A_a/C_a - A_b/C_b)``, the displacement measure
  over the success measure, both relative to the control area. WDQ > 0 suggests
  diffusion of benefits, < 0 displacement (only meaningful when the success
  measure is negative).
* Weighted displacement difference (Wheeler & Ratcliffe 2018, "A simple weighted
  displacement difference test to evaluate place based crime interventions",
  Crime Science 7:11): ``WDD = ΔA - ΔC + ΔB - ΔD`` with ``Δ = after - before``;
  under Poisson counts ``Var(WDD)`` is the sum of all eight counts, so
  ``SE = sqrt(sum)`` and ``z = WDD / SE``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import stats

__all__ = ["wdq", "wdd", "displacement_counts"]


def wdq(
    treated_before: float,
    treated_after: float,
    control_before: float,
    control_after: float,
    displacement_before: float,
    displacement_after: float,
) -> dict:
    """Weighted displacement quotient (Ratcliffe 2005).

    Returns ``wdq``, ``displacement_measure`` and ``success_measure``.

    >>> r = wdq(207, 110, 308, 318, 178, 157)
    >>> round(r["wdq"], 3), round(r["success_measure"], 4)
    (0.258, -0.3262)
    """
    success = treated_after / control_after - treated_before / control_before
    disp = displacement_after / control_after - displacement_before / control_before
    return {
        "wdq": float(disp / success) if success != 0 else float("nan"),
        "displacement_measure": float(disp),
        "success_measure": float(success),
    }


def wdd(
    treated_before: float,
    treated_after: float,
    control_before: float,
    control_after: float,
    displacement_before: float,
    displacement_after: float,
    displacement_control_before: float,
    displacement_control_after: float,
    *,
    level: float = 0.95,
) -> dict:
    """Weighted displacement difference with its Poisson standard error (Wheeler & Ratcliffe 2018).

    >>> r = wdd(207, 110, 308, 318, 178, 157, 150, 140)
    >>> r["wdd"], round(r["se"], 1), round(r["z"], 2)
    (-118.0, 39.6, -2.98)
    """
    d_t = treated_after - treated_before
    d_c = control_after - control_before
    d_d = displacement_after - displacement_before
    d_dc = displacement_control_after - displacement_control_before
    est = float(d_t - d_c + d_d - d_dc)
    var = float(
        treated_before + treated_after + control_before + control_after
        + displacement_before + displacement_after
        + displacement_control_before + displacement_control_after
    )  # fmt: skip
    se = float(np.sqrt(var))
    z = est / se if se > 0 else float("nan")
    q = stats.norm.ppf(0.5 + level / 2)
    return {
        "wdd": est,
        "variance": var,
        "se": se,
        "z": float(z),
        "p_value": float(2 * stats.norm.sf(abs(z))),
        "ci_low": est - q * se,
        "ci_high": est + q * se,
        "local_difference": float(d_t - d_c),
        "displacement_difference": float(d_d - d_dc),
    }


def displacement_counts(
    events: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    group_col: str = "group",
    ring_m: tuple[float, float] = (0.0, 100.0),
    before: tuple[str, str],
    after: tuple[str, str],
    time_col: str = "occurred_at",
) -> pd.DataFrame:
    """Before/after counts in each group's areas and their buffer rings.

    Parameters
    ----------
    events
        ``easting``, ``northing`` (EPSG:27700 metres) and ``time_col``.
    areas
        Hot spot polygons (EPSG:27700) with ``group_col`` (e.g. ``treated`` or
        ``control``). Each group's ring is the union of its polygons buffered by
        ``ring_m[1]`` minus the union buffered by ``ring_m[0]``, minus every hot
        spot polygon of any group.
    before, after
        Inclusive date ranges ``(first, last)``.

    Returns
    -------
    pandas.DataFrame
        Per ``group_col`` value and ``area`` (``hotspot``/``ring``): ``before``, ``after``.
        Feed treated/control hotspot and ring counts to :func:`wdq` and :func:`wdd`.

    Examples
    --------
    >>> a = gpd.GeoDataFrame({"group": ["treated"]}, geometry=[shapely.box(0, 0, 10, 10)],
    ...                      crs="EPSG:27700")
    >>> e = pd.DataFrame({"easting": [5, 50, 500], "northing": [5, 5, 5], "occurred_at":
    ...                   pd.to_datetime(["2025-01-05", "2025-03-05", "2025-03-05"])})
    >>> displacement_counts(e, a, before=("2025-01-01", "2025-01-31"),
    ...                     after=("2025-03-01", "2025-03-31")).values.tolist()
    [['treated', 'hotspot', 1, 0], ['treated', 'ring', 0, 1]]
    """
    gf = areas.to_crs("EPSG:27700") if areas.crs is not None else areas
    all_hot = shapely.union_all(np.asarray(gf.geometry.values))
    t = pd.to_datetime(events[time_col])
    pts = shapely.points(events["easting"].to_numpy(float), events["northing"].to_numpy(float))
    periods = {}
    for name, (lo, hi) in (("before", before), ("after", after)):
        lo_t = pd.Timestamp(lo)
        hi_t = pd.Timestamp(hi) + pd.Timedelta(days=1)
        periods[name] = ((t >= lo_t) & (t < hi_t)).to_numpy()
    rows = []
    for g, sub in gf.groupby(group_col, sort=True):
        hot = shapely.union_all(np.asarray(sub.geometry.values))
        outer = hot.buffer(ring_m[1])
        inner = hot.buffer(ring_m[0]) if ring_m[0] > 0 else hot
        ring = outer.difference(inner).difference(all_hot)
        for area, geom in (("hotspot", hot), ("ring", ring)):
            shapely.prepare(geom)
            inside = shapely.contains_xy(geom, shapely.get_x(pts), shapely.get_y(pts))
            rows.append(
                {
                    group_col: g,
                    "area": area,
                    "before": int((inside & periods["before"]).sum()),
                    "after": int((inside & periods["after"]).sum()),
                }
            )
    return pd.DataFrame(rows)
