"""Sanity checks of analytic outputs, as pure functions (the asset checks wrap them).

Each returns ``(passed, details)``: ``details`` is a dict of figures a person
reads in the Dagster UI (counts, the offending ids, the values that failed).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = ["hotspot_list_ok", "rtm_converged", "effect_cis_finite"]


def hotspot_list_ok(hotspots: pd.DataFrame, force_area) -> tuple[bool, dict]:
    """The hot spot list is non-empty and every selected cell's centre is in the force.

    Parameters
    ----------
    hotspots
        ``hotspot_list`` rows with ``h3_cell`` (and ``selected`` when present).
    force_area
        A shapely (multi)polygon in WGS84: the union of the force's LSOAs.

    Examples
    --------
    >>> import h3, shapely
    >>> inside = h3.latlng_to_cell(51.75, -1.25, 9)
    >>> area = shapely.box(-1.3, 51.7, -1.2, 51.8)
    >>> hotspot_list_ok(pd.DataFrame({"h3_cell": [inside]}), area)[0]
    True
    >>> far = h3.latlng_to_cell(53.0, -2.0, 9)
    >>> ok, d = hotspot_list_ok(pd.DataFrame({"h3_cell": [inside, far]}), area)
    >>> ok, d["outside_force"]
    (False, 1)
    """
    import h3
    import shapely

    df = hotspots[hotspots["selected"]] if "selected" in hotspots else hotspots
    cells = df["h3_cell"].dropna().astype(str).tolist()
    centres = [h3.cell_to_latlng(c) for c in cells]
    points = shapely.points([lng for _, lng in centres], [lat for lat, _ in centres])
    inside = shapely.contains(force_area, points) if cells else np.array([], bool)
    outside = [c for c, ok in zip(cells, inside, strict=True) if not ok]
    return bool(cells) and not outside, {
        "hotspots": len(cells),
        "outside_force": len(outside),
        "outside_cells": ", ".join(outside[:10]) or "none",
    }


def _finite(values: Iterable) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


def rtm_converged(report: Mapping) -> tuple[bool, dict]:
    """A risk terrain model's final fit converged to finite values.

    The fit's log-likelihood, BIC and intercept are finite, at least one
    variable was selected, and the joint exposure model (when there is one)
    reports ``converged``.

    >>> rtm_converged({"loglik": -10.0, "bic": 30.0, "intercept": -2.0, "n_selected": 2})[0]
    True
    >>> rtm_converged({"loglik": float("nan"), "bic": 30.0, "intercept": 0.0, "n_selected": 1})[0]
    False
    >>> rtm_converged({"family": "negbin", "loglik": {"poisson": -9.0, "negbin": -8.0},
    ...                "bic": {"negbin": 20.0}, "intercept": -1.0, "n_selected": 1})[0]
    True
    """
    family = report.get("family")

    def final(name):  # per-family dicts ({"poisson": .., "negbin": ..}): the chosen one
        value = report.get(name)
        return value.get(family) if isinstance(value, Mapping) else value

    figures = [final(k) for k in ("loglik", "bic", "intercept")]
    em = report.get("exposure_model") or {}
    em_ok = bool(em.get("converged", True))
    passed = _finite(figures) and int(report.get("n_selected") or 0) > 0 and em_ok
    return passed, {
        "loglik": final("loglik"),
        "bic": final("bic"),
        "n_selected": report.get("n_selected"),
        "family": report.get("family"),
        "exposure_model_converged": em_ok if em else "no exposure model",
    }


def effect_cis_finite(estimates: Mapping[str, Mapping]) -> tuple[bool, dict]:
    """Every estimate's 95% interval is finite with ``ci_low <= ci_high``.

    ``estimates`` maps an estimate's name to its dict (``ci_low``, ``ci_high``
    and the point estimate); estimates without an interval are not judged, but
    the negative binomial IRR must have one.

    >>> effect_cis_finite({"nb_irr": {"irr": 0.7, "ci_low": 0.6, "ci_high": 0.8}})[0]
    True
    >>> effect_cis_finite({"nb_irr": {"irr": 0.7, "ci_low": 0.0, "ci_high": float("inf")}})[0]
    False
    """
    bad, judged = [], []
    for name, est in estimates.items():
        if not isinstance(est, Mapping) or "ci_low" not in est:
            continue
        judged.append(name)
        lo, hi = est.get("ci_low"), est.get("ci_high")
        if not _finite([lo, hi]) or lo > hi:
            bad.append(f"{name}: [{lo}, {hi}]")
    passed = "nb_irr" in judged and not bad
    return passed, {
        "estimates_with_ci": ", ".join(judged) or "none",
        "not_finite": "; ".join(bad) or "none",
    }
