"""A briefing per tasked hot spot: why it is on the list. Aggregates only, no personal data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

__all__ = ["briefing", "risk_factors_at"]

_PERSONAL = ("name", "surname", "forename", "dob", "pnc", "nominal", "nhs", "officer", "address")


def briefing(
    hotspot_id: str,
    events: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    windows_days: Sequence[int] = (28, 91, 365),
    harm_weights: Mapping[str, float] | None = None,
    trend_class: str | None = None,
    risk_factors: Sequence[str] | None = None,
    patrol_windows: pd.DataFrame | None = None,
    recent_days: int = 14,
    community: str | None = None,
) -> dict:
    """Explain why a hot spot is tasked.

    Parameters
    ----------
    hotspot_id
        The hot spot.
    events
        Events of this hot spot: ``crime_type`` and ``occurred_at``. Any other
        column is ignored, so personal fields never reach the briefing.
    as_of
        End of the windows (exclusive).
    harm_weights
        Harm per crime type (e.g. CCHI days).
    trend_class
        From the trend classification (e.g. ``"persistent"``, ``"emerging"``).
    risk_factors
        Risk terrain factors that apply at the hot spot with their relative risk values
        (:func:`risk_factors_at`); an empty list says "no modelled risk factors"; None
        (no risk terrain model) says nothing.
    patrol_windows
        :func:`vrdp.hotspots.temporal.patrol_windows` rows of this hot spot.
    recent_days
        Window for the "recent pattern" sentence.
    community
        Context from public reports of feeling unsafe at the hot spot
        (:func:`vrdp.needs.community.context_sentence`); shown as context, never
        counted as crime.

    Returns
    -------
    dict
        ``hotspot_id``, ``as_of``, ``counts`` (crime type x window), ``harm`` (per
        window), ``trend_class``, ``risk_factors``, ``peak_times``, ``recent_pattern``
        and ``text`` (a short plain-English summary).

    Examples
    --------
    >>> ev = pd.DataFrame({"crime_type": ["Robbery", "Robbery", "Shoplifting"],
    ...     "occurred_at": pd.to_datetime(["2025-12-30 22:00", "2025-12-01 10:00",
    ...                                 "2025-06-01 10:00"]),
    ...     "surname": ["X", "Y", "Z"]})
    >>> b = briefing("HS1", ev, as_of="2026-01-01", harm_weights={"Robbery": 365.0})
    >>> b["counts"]["Robbery"], b["harm"]["28d"]
    ({'28d': 1, '91d': 2, '365d': 2}, 365.0)
    >>> "X" in b["text"]
    False
    """
    end = pd.Timestamp(as_of)
    ev = events[["crime_type", "occurred_at"]].copy()
    ev["occurred_at"] = pd.to_datetime(ev["occurred_at"])
    ev = ev[ev["occurred_at"] < end]
    hw = dict(harm_weights or {})
    counts: dict[str, dict[str, int]] = {}
    harm: dict[str, float] = {}
    for w in windows_days:
        sub = ev[ev["occurred_at"] >= end - pd.Timedelta(days=w)]
        key = f"{w}d"
        for ct, n in sub["crime_type"].value_counts().sort_index().items():
            counts.setdefault(str(ct), {f"{x}d": 0 for x in windows_days})[key] = int(n)
        harm[key] = float(
            pd.to_numeric(sub["crime_type"].map(hw), errors="coerce").fillna(0.0).sum()
        )
    peaks: list[str] = []
    if patrol_windows is not None and len(patrol_windows):
        pw = patrol_windows.dropna(subset=["window_start"])
        peaks = [f"{a}-{b}" for a, b in zip(pw["window_start"], pw["window_end"], strict=True)]
    recent = ev[ev["occurred_at"] >= end - pd.Timedelta(days=recent_days)]
    prev = ev[(ev["occurred_at"] < end - pd.Timedelta(days=recent_days))
              & (ev["occurred_at"] >= end - pd.Timedelta(days=2 * recent_days))]  # fmt: skip
    if len(recent):
        top = recent["crime_type"].value_counts().index[0]
        pattern = (f"{len(recent)} events in the last {recent_days} days "
                   f"({len(prev)} in the {recent_days} before), mostly {top}")  # fmt: skip
    else:
        pattern = (
            f"no events in the last {recent_days} days ({len(prev)} in the {recent_days} before)"
        )
    w0 = f"{windows_days[-1]}d"
    top_types = sorted(counts, key=lambda c: -counts[c][w0])[:3]
    parts = [f"Hot spot {hotspot_id}: {sum(v[w0] for v in counts.values())} events and "
             f"{harm.get(w0, 0.0):.0f} harm days in {windows_days[-1]} days"]  # fmt: skip
    if top_types:
        parts.append("top types " + ", ".join(f"{c} ({counts[c][w0]})" for c in top_types))
    if trend_class:
        parts.append(f"trend: {trend_class}")
    if risk_factors:
        parts.append("risk factors: " + ", ".join(risk_factors))
    elif risk_factors is not None:
        parts.append("no modelled risk factors")
    if peaks:
        parts.append("peak times: " + ", ".join(peaks))
    parts.append(pattern)
    if community:
        parts.append(f"community: {community}")
    return {
        "hotspot_id": hotspot_id,
        "as_of": end,
        "counts": counts,
        "harm": harm,
        "trend_class": trend_class,
        "risk_factors": list(risk_factors) if risk_factors else [],
        "peak_times": peaks,
        "recent_pattern": pattern,
        "community_context": community,
        "text": "; ".join(parts) + ".",
    }


def risk_factors_at(model, easting_m, northing_m) -> list[list[str]]:
    """Risk terrain factors that apply at each point, with their relative risk values.

    ``model`` is a :class:`vrdp.risk_terrain.model.RiskTerrainModel`: a factor applies
    where its variable is on at the point (within its spatial influence, or above its
    density threshold), labelled ``"<factor> (<operationalisation> <m> m, RRV <x>)"``,
    highest RRV first. An empty list means no modelled factor applies there.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> v = pd.DataFrame({"factor": ["pub"], "operationalisation": ["proximity"],
    ...                   "spatial_influence_m": [100.0], "threshold": [0.0]})
    >>> m = SimpleNamespace(variables=v, betas=np.array([np.log(2.5)]),
    ...                     features={"pub": np.array([[0.0, 0.0]])})
    >>> risk_factors_at(m, [50.0, 500.0], [0.0, 0.0])
    [['pub (proximity 100 m, RRV 2.5)'], []]
    """
    import numpy as np

    from vrdp.risk_terrain.factors import evaluate_variables_at

    pts = np.column_stack([np.asarray(easting_m, float), np.asarray(northing_m, float)])
    if len(model.variables) == 0:
        return [[] for _ in range(len(pts))]
    x = evaluate_variables_at(pts, model.features, model.variables)
    rrv = np.exp(np.asarray(model.betas, float))
    labels = [
        f"{r.factor} ({r.operationalisation} {r.spatial_influence_m:.0f} m, RRV {v:.1f})"
        for r, v in zip(model.variables.itertuples(index=False), rrv, strict=True)
    ]
    order = np.argsort(-rrv, kind="stable")
    return [[labels[j] for j in order if row[j]] for row in x]
