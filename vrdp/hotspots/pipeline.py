"""Glue between the warehouse and the hot spot algorithms: pure functions the assets call.

Every function here takes and returns plain frames and arrays (no files, no
Dagster), so the assets in ``assets/hotspots/analysis.py`` stay thin and these
steps are tested on their own (``tests/hotspots/test_pipeline.py``).

Months: police.uk gives a month per event, never a day or time. A month is
*published* if any event (police-generated ones included) falls in it; the
months between the first and the last published one that are not published
(July 2025 in the shipped data) are *missing*: they become all-NaN columns of
the cells × months matrices, which every algorithm skips, and are listed,
never invented.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = [
    "AREA_SHARES",
    "WINDOWS_DAYS",
    "OVERRIDE_ACTIONS",
    "MonthSpan",
    "month_span",
    "core_hull",
    "choose_region",
    "prepare_study_events",
    "cell_harm_windows_table",
    "window_share",
    "monthly_matrix",
    "type_matrices",
    "gi_star_table",
    "kde_table",
    "classification_table",
    "make_forecaster",
    "forecast_table",
    "backtest_tables",
    "backtest_figures",
    "patrol_summary",
    "select_hotspots",
    "validate_override",
    "md_table",
]

#: Window lengths (days) of the harm-weighted counts.
WINDOWS_DAYS: tuple[int, ...] = (28, 91, 365)
#: Shares of the study area at which forecasts are scored.
AREA_SHARES: tuple[float, ...] = (0.01, 0.05, 0.10)
#: What an analyst override may do.
OVERRIDE_ACTIONS = ("add", "suppress")


class MonthSpan:
    """Months from the first to the last published one, and which are missing.

    >>> span = month_span(pd.to_datetime(["2025-06-01", "2025-08-01", "2025-06-01"]))
    >>> span.months, span.missing, str(span.as_of.date()), span.next_month
    (['2025-06', '2025-07', '2025-08'], ['2025-07'], '2025-09-01', '2025-09')
    """

    def __init__(self, months: list[str], published: list[str]):
        self.months = months
        self.published = published
        self.missing = [m for m in months if m not in set(published)]

    @property
    def as_of(self) -> pd.Timestamp:
        """End of the latest month (exclusive): where the harm windows end."""
        return pd.Period(self.months[-1], freq="M").to_timestamp() + pd.offsets.MonthBegin(1)

    @property
    def next_month(self) -> str:
        """The month a forecast made now is for."""
        return str(pd.Period(self.months[-1], freq="M") + 1)

    def describe(self) -> str:
        """``2025-01..2025-12 (missing: 2025-07)``."""
        miss = ", ".join(self.missing) or "none"
        return f"{self.months[0]}..{self.months[-1]} (missing: {miss})"


def month_span(month: pd.Series | Sequence) -> MonthSpan:
    """The :class:`MonthSpan` of the events' months (first-of-month dates)."""
    per = pd.PeriodIndex(pd.to_datetime(pd.Series(month)).dropna(), freq="M")
    if len(per) == 0:
        raise ValueError("no events: nothing to analyse")
    published = sorted({str(p) for p in per})
    months = [str(p) for p in pd.period_range(published[0], published[-1], freq="M")]
    return MonthSpan(months, published)


def core_hull(
    lat: np.ndarray,
    lon: np.ndarray,
    easting_m: np.ndarray,
    northing_m: np.ndarray,
    *,
    quantile: float = 0.9,
    factor: float = 3.0,
):
    """Convex hull (WGS84) of the events near their median centre, and how many were left out.

    A force's data holds a few events geocoded far away (City of London has
    some in Cornwall and Durham); their hull would be most of England. Events
    farther from the median centre than ``factor`` × the ``quantile`` distance
    are left out of the hull (their own cells still join the grid).

    >>> rng = np.random.default_rng(0)
    >>> e, n = rng.normal(530000, 500, 200), rng.normal(181000, 500, 200)
    >>> e[0], n[0] = 200000.0, 60000.0
    >>> lon = -0.09 + (e - 530000) / 69000
    >>> lat = 51.51 + (n - 181000) / 111000
    >>> hull, outliers = core_hull(lat, lon, e, n)
    >>> hull.geom_type, outliers
    ('Polygon', 1)
    """
    import shapely

    x, y = np.asarray(easting_m, float), np.asarray(northing_m, float)
    d = np.hypot(x - np.median(x), y - np.median(y))
    keep = d <= factor * max(float(np.quantile(d, quantile)), 1.0)
    pts = np.column_stack([np.asarray(lon, float)[keep], np.asarray(lat, float)[keep]])
    hull = shapely.MultiPoint(pts).convex_hull if len(pts) >= 3 else None
    if hull is not None and hull.geom_type != "Polygon":
        hull = None
    return hull, int((~keep).sum())


def choose_region(
    located_share: float, outline=None, *, events: pd.DataFrame | None = None, min_share=0.5
):
    """Study region: the force outline, or (when it does not hold the events) their core's hull.

    ``outline`` is the configured force's outline (the ``geography/force_outline``
    asset: the union of its LSOA 2021 polygons; any GeoDataFrame of polygons, whose
    union is taken). When fewer than ``min_share`` of the events fall in the force
    area (the area was configured for other files), the grid falls back to the
    convex hull of the events (without far outliers, see :func:`core_hull`;
    ``None``, the plain hull, if ``events`` is not given), and the rule says so.

    Returns
    -------
    region, rule
        A shapely geometry in WGS84 (or ``None``) and a sentence saying which rule applied.

    >>> choose_region(0.0)[1]
    'convex hull of the events (0% of events in the force area)'
    """
    pct = f"{located_share:.0%}"
    if outline is not None and len(outline) and located_share >= min_share:
        region = outline.to_crs("EPSG:4326").geometry.union_all()
        area_km2 = float(outline.to_crs("EPSG:27700").geometry.union_all().area) / 1e6
        return region, (
            f"cells with centre in the force outline ({area_km2:,.1f} km2), "
            f"plus cells holding events ({pct} of events in the force area)"
        )
    rule = f"convex hull of the events ({pct} of events in the force area)"
    if events is None or len(events) < 3:
        return None, rule
    hull, outliers = core_hull(
        events["latitude"], events["longitude"], events["easting_m"], events["northing_m"]
    )
    if hull is None:
        return None, rule
    return hull, (
        f"{rule[:-1]}; {outliers} far outlying events left out of the hull, "
        "their cells added singly)"
    )


def prepare_study_events(
    events: pd.DataFrame,
    crime_types: pd.DataFrame,
    harm_weights: pd.DataFrame,
    *,
    resolution: int,
    exclude_police_generated: bool = True,
) -> tuple[pd.DataFrame, dict]:
    """Events with their cell at ``resolution``, harm weight and the feedback guard's flag.

    Nothing is dropped: ``excluded_by_guard`` marks the police-generated
    offences the guard leaves out (all ``False`` when the guard is off), so
    published months are judged on every event.

    >>> ev = pd.DataFrame({"event_id": ["1", "2"], "month": pd.to_datetime(["2025-01-01"] * 2),
    ...     "crime_type": ["Drugs", "Robbery"], "latitude": [51.752] * 2,
    ...     "longitude": [-1.2577] * 2, "easting_m": [451300.0] * 2, "northing_m": [206400.0] * 2})
    >>> types = pd.DataFrame({"crime_type": ["Drugs", "Robbery"], "is_police_generated": [1, 0]})
    >>> w = pd.DataFrame({"crime_type": ["Drugs", "Robbery"], "harm_weight_days": [2.0, 365.0]})
    >>> out, rec = prepare_study_events(ev, types, w, resolution=9)
    >>> out["excluded_by_guard"].tolist(), rec["events_excluded"], out["h3_cell"].iloc[0]
    ([True, False], 1, '89195d09a13ffff')
    """
    from vrdp.hotspots.grid import cells_of_points
    from vrdp.hotspots.guard import apply_feedback_guard

    ev = events.reset_index(drop=True)
    kept, record = apply_feedback_guard(
        ev, crime_types, exclude_police_generated=exclude_police_generated
    )
    weights = harm_weights.set_index("crime_type")["harm_weight_days"].astype(float)
    unknown = sorted(set(ev["crime_type"].dropna()) - set(weights.index))
    if unknown:
        raise ValueError(f"no harm weight for crime types: {unknown}")
    out = pd.DataFrame(
        {
            "event_id": ev["event_id"].astype(str),
            "month": pd.to_datetime(ev["month"]),
            "crime_type": ev["crime_type"].astype(str),
            "harm_weight_days": ev["crime_type"].map(weights).to_numpy(float),
            "latitude": ev["latitude"].to_numpy(float),
            "longitude": ev["longitude"].to_numpy(float),
            "easting_m": ev["easting_m"].to_numpy(float),
            "northing_m": ev["northing_m"].to_numpy(float),
            "h3_cell": cells_of_points(
                ev["latitude"].to_numpy(float), ev["longitude"].to_numpy(float), resolution
            ),
            "excluded_by_guard": ~ev.index.isin(kept.index),
        }
    )
    if "occurred_at" in ev:
        out["occurred_at"] = pd.to_datetime(ev["occurred_at"])
    return out, record


def cell_harm_windows_table(
    study_events: pd.DataFrame,
    harm_weights: pd.DataFrame,
    cells: np.ndarray,
    *,
    as_of: pd.Timestamp,
    windows_days: Sequence[int] = WINDOWS_DAYS,
) -> pd.DataFrame:
    """One row per study cell: ``events_<d>d`` and ``harm_days_<d>d`` for each window.

    Events excluded by the guard are left out; cells without events get 0.
    An event's own ``harm_weight_days`` is used when the table has that column
    (force data: calls and A&E assaults weighted per event type).

    >>> ev = pd.DataFrame({"h3_cell": ["a", "a"], "crime_type": ["Robbery"] * 2,
    ...     "month": pd.to_datetime(["2025-12-01", "2025-11-01"]), "excluded_by_guard": False})
    >>> w = pd.DataFrame({"crime_type": ["Robbery"], "harm_weight_days": [365.0]})
    >>> t = cell_harm_windows_table(ev, w, np.array(["a", "b"]), as_of=pd.Timestamp("2026-01-01"),
    ...                             windows_days=[31, 61])
    >>> t[["h3_cell", "events_31d", "harm_days_61d"]].values.tolist()
    [['a', 1.0, 730.0], ['b', 0.0, 0.0]]
    """
    from vrdp.hotspots.harm import harm_weighted_counts

    kept = study_events[~study_events["excluded_by_guard"]]
    optional = ("occurred_at", "harm_weight_days", "source")
    cols = ["h3_cell", "crime_type", "month"] + [c for c in optional if c in kept]
    long = harm_weighted_counts(
        kept[cols], harm_weights, as_of=as_of, windows_days=tuple(windows_days)
    )
    out = pd.DataFrame({"h3_cell": np.asarray(cells, dtype=object)})
    for d in windows_days:
        part = long[long["window_days"] == int(d)].groupby("h3_cell")[["events", "harm_days"]].sum()
        out[f"events_{d}d"] = out["h3_cell"].map(part["events"]).fillna(0.0).astype(float)
        out[f"harm_days_{d}d"] = out["h3_cell"].map(part["harm_days"]).fillna(0.0).astype(float)
    basis = sorted(set(long["time_basis"])) if len(long) else []
    out["time_basis"] = "mixed" if len(basis) > 1 else (basis[0] if basis else "none")
    return out


def window_share(month: pd.Series, *, as_of: pd.Timestamp, days: int) -> np.ndarray:
    """Share of each event's calendar month inside ``(as_of - days, as_of]``.

    >>> window_share(pd.to_datetime(pd.Series(["2025-12-01", "2025-11-01", "2025-09-01"])),
    ...              as_of=pd.Timestamp("2026-01-01"), days=46).round(3).tolist()
    [1.0, 0.5, 0.0]
    """
    start = pd.to_datetime(pd.Series(month)).dt.to_period("M").dt.to_timestamp()
    end = start + pd.offsets.MonthBegin(1)
    lo = as_of - pd.Timedelta(days=int(days))
    s = start.to_numpy("datetime64[ns]")
    e = end.to_numpy("datetime64[ns]")
    inside = np.minimum(e, np.datetime64(as_of, "ns")) - np.maximum(s, np.datetime64(lo, "ns"))
    return np.clip(inside / (e - s), 0.0, 1.0)


def monthly_matrix(
    study_events: pd.DataFrame,
    cells: np.ndarray,
    span: MonthSpan,
    *,
    crime_types: Sequence[str] | None = None,
) -> np.ndarray:
    """Cells × months counts of the guarded events; missing months are all-NaN columns.

    >>> ev = pd.DataFrame({"h3_cell": ["a", "b", "a"], "crime_type": ["x"] * 3,
    ...     "month": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-03-01"]),
    ...     "excluded_by_guard": False})
    >>> monthly_matrix(ev, np.array(["a", "b"]), month_span(ev["month"])).tolist()
    [[1.0, nan, 1.0], [1.0, nan, 0.0]]
    """
    ev = study_events[~study_events["excluded_by_guard"]]
    if crime_types is not None:
        ev = ev[ev["crime_type"].isin(list(crime_types))]
    ci = pd.Index(cells).get_indexer(ev["h3_cell"])
    mi = pd.Index(span.months).get_indexer(pd.to_datetime(ev["month"]).dt.strftime("%Y-%m"))
    ok = (ci >= 0) & (mi >= 0)
    n, t = len(cells), len(span.months)
    out = np.bincount(ci[ok] * t + mi[ok], minlength=n * t).astype(float).reshape(n, t)
    out[:, [span.months.index(m) for m in span.missing]] = np.nan
    return out


def type_matrices(
    study_events: pd.DataFrame, cells: np.ndarray, span: MonthSpan
) -> dict[str, np.ndarray]:
    """One cells × months matrix per (guarded) crime type: the forecast's auxiliary series."""
    kept = study_events[~study_events["excluded_by_guard"]]
    return {
        t: monthly_matrix(kept, cells, span, crime_types=[t])
        for t in sorted(kept["crime_type"].unique())
    }


def gi_star_table(
    cells: np.ndarray,
    values: np.ndarray,
    weights: sparse.spmatrix,
    *,
    correction: str | None = "fdr_bh",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Gi* of ``values`` per cell, with the cell id and the correction used."""
    from vrdp.hotspots.getis_ord import gi_star

    g = gi_star(np.asarray(values, float), weights, correction=correction, alpha=alpha)
    g.insert(0, "value", np.asarray(values, float))
    g.insert(0, "h3_cell", np.asarray(cells, dtype=object))
    g["correction"] = correction or "none"
    g["alpha"] = float(alpha)
    return g


def kde_table(
    study_events: pd.DataFrame,
    cells: np.ndarray,
    *,
    as_of: pd.Timestamp,
    window_days: int,
    bandwidth_m: float | None,
    cell_size_m: float,
) -> tuple[pd.DataFrame, float, str | None]:
    """Quartic KDE (per km²) of events and of harm in the window, at every cell centre.

    Timed events (``occurred_at``) count when inside the window; month-only
    events are weighted by the share of their month inside the window (as the
    harm windows are). Returns the table (``kde_rank`` by harm
    density), the bandwidth used (m) and the bandwidth warning, if any.
    """
    import warnings

    from vrdp.hotspots.grid import cell_centres_bng
    from vrdp.hotspots.kde import default_bandwidth_m, quartic_kde_at_points
    from vrdp.hotspots.metrics import rank_cells

    ev = study_events[~study_events["excluded_by_guard"]]
    share = window_share(ev["month"], as_of=as_of, days=window_days)
    if "occurred_at" in ev:  # timed events: in the window or not
        at = pd.to_datetime(ev["occurred_at"])
        lo = as_of - pd.Timedelta(days=int(window_days))
        timed = at.notna().to_numpy()
        share[timed] = ((at > lo) & (at <= as_of)).to_numpy(float)[timed]
    ev, share = ev[share > 0], share[share > 0]
    x, y = ev["easting_m"].to_numpy(float), ev["northing_m"].to_numpy(float)
    if bandwidth_m is None:
        bandwidth_m = default_bandwidth_m(x, y)
    cx, cy = cell_centres_bng(np.asarray(cells, dtype=object))
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        dens_events, h = quartic_kde_at_points(
            x, y, cx, cy, weights=share, bandwidth_m=bandwidth_m, cell_size_m=cell_size_m
        )
        caught = [str(w.message) for w in rec if issubclass(w.category, UserWarning)]
    dens_harm, _ = quartic_kde_at_points(
        x, y, cx, cy, weights=share * ev["harm_weight_days"].to_numpy(float), bandwidth_m=h
    )
    rank = np.empty(len(cells), int)
    rank[rank_cells(dens_harm)] = np.arange(1, len(cells) + 1)
    out = pd.DataFrame(
        {
            "h3_cell": np.asarray(cells, dtype=object),
            "kde_events_per_km2": dens_events,
            "kde_harm_days_per_km2": dens_harm,
            "kde_rank": rank,
            "bandwidth_m": h,
            "window_days": int(window_days),
        }
    )
    return out, h, (caught[0] if caught else None)


def classification_table(
    counts: np.ndarray, cells: np.ndarray, span: MonthSpan, weights: sparse.spmatrix
) -> pd.DataFrame:
    """Hot spot category and Mann-Kendall trend per cell over the monthly series.

    ``attrs`` carries ``periods_used`` and ``periods_excluded`` (missing months
    and months without events) from :func:`vrdp.hotspots.classify.classify_hotspots`.
    """
    from vrdp.hotspots.classify import classify_hotspots

    frame = pd.DataFrame(counts, index=pd.Index(cells, name="h3_cell"), columns=span.months)
    cls = classify_hotspots(frame, weights)
    attrs = dict(cls.attrs)
    out = cls.reset_index()
    out["events_in_series"] = np.nansum(counts, axis=1)
    out["months_used"] = len(attrs["periods_used"])
    out.attrs.update(attrs)
    return out


def make_forecaster(auxiliary: dict[str, np.ndarray], neighbours, kernel, covariate=None):
    """The forecast as a backtest forecaster: the training columns -> a score per cell.

    Each crime type's series, cut to the same training columns, is an auxiliary
    input (so a cell borrows strength from where other crime happens). A static
    ``covariate`` (e.g. the risk terrain score per cell) is used when given.
    """
    from vrdp.hotspots.forecast import forecast_risk

    def forecast(train: np.ndarray) -> np.ndarray:
        t = train.shape[1]
        aux = {name: m[:, :t] for name, m in auxiliary.items()}
        return forecast_risk(
            train, neighbours=neighbours, kernel=kernel, auxiliary=aux, covariate=covariate
        ).score

    return forecast


def forecast_table(
    counts: np.ndarray,
    cells: np.ndarray,
    *,
    neighbours,
    kernel,
    auxiliary: dict[str, np.ndarray],
    forecast_month: str,
    covariate: np.ndarray | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Next-month risk per cell (``forecast_rank`` 1 = riskiest) and how it was made."""
    from vrdp.hotspots.forecast import forecast_risk
    from vrdp.hotspots.metrics import rank_cells

    fc = forecast_risk(
        counts, neighbours=neighbours, kernel=kernel, auxiliary=auxiliary, covariate=covariate
    )
    score = np.asarray(fc.score, float)
    rank = np.empty(len(cells), int)
    rank[rank_cells(score)] = np.arange(1, len(cells) + 1)
    out = pd.DataFrame(
        {
            "h3_cell": np.asarray(cells, dtype=object),
            "risk_score": score,
            "forecast_rank": rank,
            "forecast_month": forecast_month,
        }
    )
    info = {
        "fitted": bool(fc.fitted),
        "transitions": int(fc.transitions),
        "coefficients": {k: round(float(v), 6) for k, v in fc.coefficients.items()},
    }
    return out, info


def backtest_tables(
    counts: np.ndarray,
    span: MonthSpan,
    *,
    forecaster,
    kernel,
    area: np.ndarray,
    area_shares: tuple[float, ...] = AREA_SHARES,
    half_life_periods: float = 3.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin backtest of the forecast and the baselines: (folds, summary).

    Every method is scored on both study areas of
    :data:`vrdp.hotspots.backtest.STUDY_AREAS` (every cell of the force area, and
    only cells with an event in the training span).
    """
    from vrdp.hotspots.backtest import (
        STUDY_AREAS,
        make_baselines,
        rolling_origin_backtest,
        summarise_backtest,
    )

    methods = {
        "forecast": forecaster,
        **make_baselines(half_life_periods=half_life_periods, kernel=kernel),
    }
    folds = rolling_origin_backtest(
        counts,
        methods,
        periods=span.months,
        area_shares=area_shares,
        area=area,
        study_areas=STUDY_AREAS,
    )
    return folds, summarise_backtest(folds)


def backtest_figures(summary: pd.DataFrame) -> dict[str, float]:
    """Flat figures for the UI: ``<metric>_at_<n>pct_<method>`` for hit rate, PAI, PEI, RRI.

    Those are on every cell of the force area; with a ``study_area`` column the
    figures on the cells with an event in the training span follow as
    ``<metric>_at_<n>pct_<method>_active_cells``.

    >>> s = pd.DataFrame({"method": ["forecast"], "area_share": [0.05], "hit_rate": [0.3],
    ...                   "pai": [6.0], "pei": [0.9], "rri": [1.1]})
    >>> backtest_figures(s)["pei_at_5pct_forecast"]
    0.9
    """
    out: dict[str, float] = {}
    for r in summary.itertuples():
        pct = f"{round(r.area_share * 100):d}pct"
        study = getattr(r, "study_area", "force_area")
        suffix = "" if study == "force_area" else f"_{study}"
        for metric in ("hit_rate", "pai", "pei", "rri"):
            v = float(getattr(r, metric))
            key = f"{metric}_at_{pct}_{r.method}{suffix}"
            out[key] = round(v, 4) if np.isfinite(v) else float("nan")
    return out


def patrol_summary(study_events: pd.DataFrame, cells: Sequence[str]) -> pd.DataFrame:
    """One line per cell: its patrol windows, or the note saying why there are none.

    police.uk gives months only, so its cells get ``time_basis = "month_only"``.

    >>> ev = pd.DataFrame({"h3_cell": ["a"], "month": pd.to_datetime(["2025-01-01"])})
    >>> patrol_summary(ev, ["a"])["time_basis"].tolist()
    ['month_only']
    """
    from vrdp.hotspots.temporal import patrol_windows

    pw = patrol_windows(study_events, list(cells))
    rows = []
    for cell, g in pw.groupby("h3_cell", sort=False):
        if (g["time_basis"] == "month_only").all():
            text = str(g["note"].iloc[0])
            basis = "month_only"
        else:
            g = g.dropna(subset=["window_start"])
            text = "; ".join(
                f"{r.window_start}-{r.window_end} ({r.share_of_events:.0%})" for r in g.itertuples()
            )
            basis = "timestamp"
        rows.append({"h3_cell": cell, "patrol_windows": text, "time_basis": basis})
    return pd.DataFrame(rows, columns=["h3_cell", "patrol_windows", "time_basis"])


def select_hotspots(
    gi: pd.DataFrame,
    harm: pd.DataFrame,
    classification: pd.DataFrame,
    forecast: pd.DataFrame,
    patrol: pd.DataFrame | None,
    overrides: pd.DataFrame,
    *,
    top_n: int,
    window_days: int = 91,
) -> pd.DataFrame:
    """The hot spot list: Gi* hot cells ranked by harm, top ``top_n``, overrides applied.

    Every row (analyst-added cells too) carries its harm, Gi*, class,
    forecast rank and patrol windows; suppressed cells stay with
    ``selected = False`` (see :func:`vrdp.hotspots.overrides.apply_overrides`).
    """
    from vrdp.hotspots.overrides import apply_overrides

    harm_col, events_col = f"harm_days_{window_days}d", f"events_{window_days}d"
    hot = gi.loc[gi["hot_spot"], ["h3_cell"]].merge(
        harm[["h3_cell", harm_col]], on="h3_cell", how="left"
    )
    hot = hot.sort_values([harm_col, "h3_cell"], ascending=[False, True], kind="mergesort")
    hot = hot.head(top_n).reset_index(drop=True)
    algo = pd.DataFrame({"rank": np.arange(1, len(hot) + 1), "h3_cell": hot["h3_cell"]})
    listed = apply_overrides(algo, overrides)
    info = (
        harm[["h3_cell", harm_col, events_col]]
        .merge(gi[["h3_cell", "z_score", "p_adjusted", "hot_spot"]], on="h3_cell", how="outer")
        .merge(
            classification[["h3_cell", "hotspot_category", "trend", "hot_periods"]],
            on="h3_cell",
            how="outer",
        )
        .merge(forecast[["h3_cell", "risk_score", "forecast_rank"]], on="h3_cell", how="outer")
    )
    out = listed.merge(info, on="h3_cell", how="left")
    if patrol is not None and len(patrol):
        out = out.merge(patrol, on="h3_cell", how="left")
    else:
        out["patrol_windows"] = None
        out["time_basis"] = None
    out["rank"] = out["rank"].astype("Int64")
    out = out.rename(
        columns={"hot_spot": "gi_hot_spot", harm_col: "harm_days", events_col: "events"}
    )
    out["harm_window_days"] = int(window_days)
    lead = ["rank", "h3_cell", "selected", "source", "override", "override_reason"]
    return out[lead + [c for c in out.columns if c not in lead]]


def validate_override(
    h3_cell: str, action: str, reason: str, analyst: str, *, resolution: int | None = None
) -> dict[str, str]:
    """Check one override and return it as a row (``created_at`` is the caller's).

    >>> validate_override("89195d09a13ffff", "suppress", " demolished ", "jo", resolution=9)
    {'h3_cell': '89195d09a13ffff', 'action': 'suppress', 'reason': 'demolished', 'analyst': 'jo'}
    >>> validate_override("89195d09a13ffff", "add", "  ", "jo")
    Traceback (most recent call last):
    ...
    ValueError: a reason is required
    """
    import h3

    cell = str(h3_cell).strip().lower()
    if not h3.is_valid_cell(cell):
        raise ValueError(f"{h3_cell!r} is not an H3 cell")
    if resolution is not None and h3.get_resolution(cell) != resolution:
        raise ValueError(
            f"{cell} is at H3 resolution {h3.get_resolution(cell)}, the grid is at {resolution}"
        )
    if action not in OVERRIDE_ACTIONS:
        raise ValueError(f"action must be one of {OVERRIDE_ACTIONS}, not {action!r}")
    if not str(reason or "").strip():
        raise ValueError("a reason is required")
    if not str(analyst or "").strip():
        raise ValueError("the analyst's name is required")
    return {
        "h3_cell": cell,
        "action": action,
        "reason": " ".join(str(reason).split()),
        "analyst": str(analyst).strip(),
    }


def md_table(df: pd.DataFrame, max_rows: int = 10) -> str:
    """Markdown preview of the first rows (floats rounded for reading)."""
    head = df.head(max_rows).copy()
    for c in head.columns:
        if pd.api.types.is_float_dtype(head[c]):
            head[c] = head[c].round(3)
    return head.to_markdown(index=False) if len(head) else "_(no rows)_"
