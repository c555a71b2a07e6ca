"""GPS pings to hot spot visits: geofence entry/exit, dwell, mode and Koper dosage.

A *visit* is a run of an officer's pings inside one geofence. Consecutive
in-fence pings of the same officer and geofence stay in one run while the time
between them is at most ``gap_tolerance_seconds``; this bridges GPS signal gaps
and brief excursions across the boundary. Arrival is the first ping of the run
and departure the last, so dwell is measured, never extrapolated. Runs shorter
than ``min_dwell_seconds`` are kept as ``pass`` (e.g. a drive-through), the rest
are ``visit``.

Mode (foot or vehicle) comes from speed only: the larger of the 90th percentile
of speed during the run and the median speed of up to three pings either side
of it (the approach and departure) above ``foot_max_speed_mps`` means vehicle,
so a parked car visit still reads as vehicle. A ping is stationary when its
speed is at most ``stationary_max_speed_mps``.

Processing is vectorised: pings are projected to EPSG:27700 in one call (or
taken as projected at ingest), assigned to geofences by binary search on
easting within each fence's bounding box and ``shapely.contains_xy``, and
segmented with numpy run-length logic, so a million pings take seconds.

The Koper curve (Koper 1995) motivates visits of 10 to 16 minutes (15 by
default in tasking); ``in_koper_band`` flags visits whose dwell lies in the band.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from vrdp.dosage.localtime import LONDON, utc_to_local
from vrdp.dosage.pseudonym import pseudonymise
from vrdp.geo import BNG, h3_cell_polygons, to_bng

__all__ = [
    "tasking_date",
    "clean_pings",
    "geofences_from_h3",
    "geofences_from_points",
    "pings_to_visits",
    "daily_dosage",
    "koper_share",
    "baseline_presence",
]

KOPER_BAND_MINUTES = (10.0, 16.0)
_UK_BOUNDS = (-8.7, 49.8, 1.9, 60.9)  # lon_min, lat_min, lon_max, lat_max


def _offset(day_start: str) -> pd.Timedelta:
    hh, mm = (int(x) for x in day_start.split(":"))
    return pd.Timedelta(hours=hh, minutes=mm)


def tasking_date(
    ts: pd.Series | pd.DatetimeIndex, day_start: str = "06:00", tz: str = LONDON
) -> pd.Series:
    """The tasking day a timestamp belongs to (a day runs from ``day_start`` to just before it).

    The day is read on the local wall clock: tz-aware times (e.g. UTC) are converted
    to ``tz`` first, so 06:30 BST on the day the clocks go forward is that day, not
    the day before. Naive times are taken as local already.

    >>> t = pd.Series(pd.to_datetime(["2025-10-03 05:59", "2025-10-03 06:00", "2025-10-04 02:00"]))
    >>> tasking_date(t).dt.strftime("%Y-%m-%d").tolist()
    ['2025-10-02', '2025-10-03', '2025-10-03']
    >>> utc = pd.Series(pd.to_datetime(["2025-03-30 05:30", "2025-06-30 04:59"], utc=True))
    >>> tasking_date(utc).dt.strftime("%Y-%m-%d").tolist()      # 06:30 BST, 05:59 BST
    ['2025-03-30', '2025-06-29']
    """
    t = pd.Series(pd.to_datetime(ts))
    if t.dt.tz is not None:
        t = t.dt.tz_convert(tz).dt.tz_localize(None)
    return (t - _offset(day_start)).dt.normalize()


def clean_pings(pings: pd.DataFrame, *, bounds: Sequence[float] = _UK_BOUNDS) -> pd.DataFrame:
    """Drop unusable GPS pings and repair swapped coordinates.

    Removes rows with no time, officer or coordinates, swaps ``lat``/``lon``
    back when they are plainly swapped (both inside ``bounds`` after swapping),
    drops points outside ``bounds`` and exact duplicates of ``officer_id``/``ts``.
    ``out.attrs["dropped"]`` counts the removals by reason.

    >>> p = pd.DataFrame({"ts": pd.to_datetime(["2025-01-01 10:00"] * 3 + ["2025-01-01 10:01"]),
    ...     "officer_id": ["a", "a", "b", "b"], "lat": [51.7, 51.7, -1.2, None],
    ...     "lon": [-1.2, -1.2, 51.7, -1.2]})
    >>> out = clean_pings(p)
    >>> out[["officer_id", "lat", "lon"]].values.tolist(), out.attrs["dropped"]
    ([['a', 51.7, -1.2], ['b', 51.7, -1.2]], {'missing': 1, 'outside': 0, 'duplicate': 1})
    """
    p = pings.copy()
    p["ts"] = pd.to_datetime(p["ts"])
    lat = pd.to_numeric(p["lat"], errors="coerce")
    lon = pd.to_numeric(p["lon"], errors="coerce")
    missing = p["ts"].isna() | p["officer_id"].isna() | lat.isna() | lon.isna()
    lon0, lat0, lon1, lat1 = bounds
    inside = lon.between(lon0, lon1) & lat.between(lat0, lat1)
    swapped = ~inside & lat.between(lon0, lon1) & lon.between(lat0, lat1)
    p["lat"] = np.where(swapped, lon, lat)
    p["lon"] = np.where(swapped, lat, lon)
    outside = ~missing & ~(inside | swapped)
    p = p[~missing & ~outside]
    dup = p.duplicated(["officer_id", "ts"], keep="first")
    out = p[~dup].reset_index(drop=True)
    out.attrs["dropped"] = {
        "missing": int(missing.sum()),
        "outside": int(outside.sum()),
        "duplicate": int(dup.sum()),
    }
    return out


def geofences_from_h3(
    units: pd.DataFrame, *, cell_col: str = "h3_cell", id_col: str = "unit_id"
) -> gpd.GeoDataFrame:
    """Geofence polygons (EPSG:27700) of hot spots defined by H3 cells.

    Returns a GeoDataFrame with ``hotspot_id``, ``h3_cell`` and ``geometry``.
    """
    geom = h3_cell_polygons(units[cell_col].tolist()).to_crs(BNG)
    return gpd.GeoDataFrame(
        {"hotspot_id": units[id_col].to_numpy(), "h3_cell": units[cell_col].to_numpy()},
        geometry=geom.values,
        crs=BNG,
    )


def geofences_from_points(
    df: pd.DataFrame,
    *,
    radius_m: float,
    x_col: str = "centre_easting",
    y_col: str = "centre_northing",
    id_col: str = "unit_id",
) -> gpd.GeoDataFrame:
    """Circular geofences of ``radius_m`` metres around BNG points.

    >>> g = geofences_from_points(pd.DataFrame({"unit_id": ["u"], "centre_easting": [0.0],
    ...                                         "centre_northing": [0.0]}), radius_m=50)
    >>> round(float(g.area.iloc[0]) / (np.pi * 50 ** 2), 2)
    1.0
    """
    geom = shapely.buffer(
        shapely.points(df[x_col].to_numpy(float), df[y_col].to_numpy(float)), radius_m, quad_segs=32
    )
    return gpd.GeoDataFrame({"hotspot_id": df[id_col].to_numpy()}, geometry=geom, crs=BNG)


def _fence_index(e: np.ndarray, n: np.ndarray, geofences: gpd.GeoDataFrame) -> np.ndarray:
    """Index of the (first) geofence containing each point, or -1.

    Points are never built as geometries: pings are sorted by easting once, each
    fence takes the pings inside its bounding box by binary search, and only those
    are tested with ``shapely.contains_xy`` (points on the boundary are outside).
    A million pings against a few hundred fences take well under a second.
    """
    gf = geofences.to_crs(BNG) if geofences.crs is not None else geofences
    geoms = np.asarray(gf.geometry.values)
    out = np.full(len(e), -1, dtype=np.int64)
    if len(e) == 0 or len(geoms) == 0:
        return out
    order = np.argsort(e, kind="stable")
    e_sorted = e[order]
    bounds = shapely.bounds(geoms)
    # Highest index first, so that where fences overlap the lowest index is kept.
    for j in range(len(geoms) - 1, -1, -1):
        x0, y0, x1, y1 = bounds[j]
        if not np.isfinite(x0):
            continue  # empty geometry
        lo = int(np.searchsorted(e_sorted, x0, side="left"))
        hi = int(np.searchsorted(e_sorted, x1, side="right"))
        cand = order[lo:hi]
        cand = cand[(n[cand] >= y0) & (n[cand] <= y1)]
        if cand.size:
            inside = shapely.contains_xy(geoms[j], e[cand], n[cand])
            out[cand[inside]] = j
    return out


def _officer_time_order(pings: pd.DataFrame) -> np.ndarray:
    """Positions of ``pings`` by officer, then time (instants), stable; missing ones last.

    The order of ``sort_values(["officer_id", "ts"], kind="stable")``, by one
    ``np.lexsort`` of integer keys: pandas makes each key a categorical, which for
    the large world's 4 million distinct times took 3.6 s (this, under 1 s).

    >>> p = pd.DataFrame({"officer_id": ["b", "a", None, "a"], "ts": pd.to_datetime(
    ...     ["2025-01-01 10:00", "2025-01-01 10:05", "2025-01-01 09:00", None])})
    >>> _officer_time_order(p).tolist()
    [1, 3, 0, 2]
    """
    codes, _ = pd.factorize(pings["officer_id"], sort=True)
    codes = np.where(codes < 0, len(codes), codes)  # no officer: last
    t = pd.Series(pd.to_datetime(pings["ts"]))
    if t.dt.tz is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    when = t.to_numpy("datetime64[ns]")
    instants = np.where(np.isnat(when), np.iinfo(np.int64).max, when.view(np.int64))
    return np.lexsort((instants, codes))


def pings_to_visits(
    pings: pd.DataFrame,
    geofences: gpd.GeoDataFrame,
    *,
    gap_tolerance_seconds: float = 120.0,
    min_dwell_seconds: float = 60.0,
    foot_max_speed_mps: float = 3.0,
    stationary_max_speed_mps: float = 0.5,
    koper_band_minutes: tuple[float, float] = KOPER_BAND_MINUTES,
    day_start: str = "06:00",
    tz: str = LONDON,
    officer_key: bytes | str | None = None,
    exclude: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
) -> pd.DataFrame:
    """Segment GPS pings into geofence visits and passes.

    Parameters
    ----------
    pings
        ``ts``, ``officer_id``, ``lat``, ``lon`` (WGS84); optional ``speed_mps``
        (computed from successive positions where missing) and ``easting_m``,
        ``northing_m`` (EPSG:27700, used instead of projecting when complete).
        Clean first with :func:`clean_pings`.
    geofences
        ``hotspot_id`` and polygon ``geometry`` (any CRS; used in EPSG:27700).
    gap_tolerance_seconds
        Longest time between two in-fence pings of one run (bridges GPS gaps).
    min_dwell_seconds
        Runs shorter than this are ``pass`` rather than ``visit``.
    foot_max_speed_mps, stationary_max_speed_mps
        Speed thresholds for vehicle mode and stationary pings.
    koper_band_minutes
        Dwell band flagged by ``in_koper_band`` (inclusive).
    day_start
        Start of the tasking day (``date`` column), on the local wall clock.
    tz
        Zone of the local wall clock for ``date``, ``arrive_local`` and ``depart_local``.
        Give ``ts`` tz-aware (see :func:`vrdp.dosage.localtime.local_to_utc`) so that
        dwell is measured in UTC across clock changes; naive ``ts`` is taken as local
        time and ``arrive``/``depart`` stay naive.
    officer_key
        When given, ``officer`` holds HMAC-SHA256 pseudonyms and raw ids are
        dropped; otherwise ``officer`` is the raw id (internal use only).
    exclude
        Areas whose pings never count as presence (e.g. police stations buffered
        by 50 m, see :func:`geofences_from_points`): time at the base is not dosage.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``officer``, ``hotspot_id``, ``date`` (local tasking day),
        ``arrive``, ``depart`` (UTC when ``ts`` is tz-aware), ``arrive_local``,
        ``depart_local`` (``tz``), ``dwell_seconds``, ``dwell_minutes``, ``n_pings``,
        ``speed_p90_mps``, ``approach_speed_mps``, ``mode`` (``foot``/``vehicle``),
        ``stationary_share``, ``stationary_minutes``, ``kind`` (``visit``/``pass``)
        and ``in_koper_band``.

    Examples
    --------
    >>> from vrdp.geo import WGS84
    >>> from pyproj import Transformer
    >>> fence = geofences_from_points(pd.DataFrame({"unit_id": ["HS1"],
    ...     "centre_easting": [451300.0], "centre_northing": [206200.0]}), radius_m=100)
    >>> t = np.arange(0, 601, 10.0)                       # 10 minutes standing still
    >>> tr = Transformer.from_crs("EPSG:27700", WGS84, always_xy=True)
    >>> lon, lat = tr.transform(np.full(t.size, 451300.0), np.full(t.size, 206200.0))
    >>> p = pd.DataFrame({"ts": pd.Timestamp("2025-10-03 20:00") + pd.to_timedelta(t, "s"),
    ...                   "officer_id": "PC1", "lat": lat, "lon": lon, "speed_mps": 0.0})
    >>> v = pings_to_visits(p, fence)
    >>> v[["hotspot_id", "dwell_minutes", "kind", "mode", "in_koper_band"]].values.tolist()
    [['HS1', 10.0, 'visit', 'foot', True]]
    """
    cols = [
        "officer", "hotspot_id", "date", "arrive", "depart", "arrive_local", "depart_local",
        "dwell_seconds", "dwell_minutes",
        "n_pings", "speed_p90_mps", "approach_speed_mps", "mode", "stationary_share",
        "stationary_minutes", "kind", "in_koper_band",
    ]  # fmt: skip
    p = pings.take(_officer_time_order(pings)).reset_index(drop=True)
    n_all = len(p)
    if n_all == 0:
        return pd.DataFrame(columns=cols)
    t_all = pd.to_datetime(p["ts"])
    zoned = t_all.dt.tz is not None
    # Arithmetic on UTC instants: a visit across a clock change keeps its true length.
    ts = (t_all.dt.tz_convert("UTC").dt.tz_localize(None) if zoned else t_all).to_numpy(
        "datetime64[ns]"
    )
    tsec = (ts - ts.min()) / np.timedelta64(1, "s")
    off_codes, off_uniques = pd.factorize(p["officer_id"], sort=False)
    if {"easting_m", "northing_m"} <= set(p.columns) and p["easting_m"].notna().all():
        # Already projected at ingest (located lake tables carry BNG metres).
        e, n = p["easting_m"].to_numpy(float), p["northing_m"].to_numpy(float)
    else:
        e, n = to_bng(p["lon"].to_numpy(float), p["lat"].to_numpy(float))
    # Speed: reported where present, else from successive positions of the same officer.
    same_prev = np.r_[False, off_codes[1:] == off_codes[:-1]]
    dt = np.r_[np.nan, np.diff(tsec)]
    derived = np.hypot(np.r_[np.nan, np.diff(e)], np.r_[np.nan, np.diff(n)]) / dt
    derived = np.where(same_prev & (dt > 0), derived, 0.0)
    if "speed_mps" in p:
        rep = pd.to_numeric(p["speed_mps"], errors="coerce").to_numpy(float)
        speed = np.where(np.isnan(rep), derived, rep)
    else:
        speed = derived
    fence = _fence_index(e, n, geofences)
    if exclude is not None and len(exclude):
        ex = (
            exclude if isinstance(exclude, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=exclude)
        )
        fence[_fence_index(e, n, ex) >= 0] = -1
    idx = np.flatnonzero(fence >= 0)
    if idx.size == 0:
        return pd.DataFrame(columns=cols)
    f_in, o_in, t_in = fence[idx], off_codes[idx], tsec[idx]
    new = np.r_[True, (f_in[1:] != f_in[:-1]) | (o_in[1:] != o_in[:-1])
                | (np.diff(t_in) > gap_tolerance_seconds)]  # fmt: skip
    run = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], idx.size] - 1
    first, last = idx[starts], idx[ends]
    n_pings = np.diff(np.r_[starts, idx.size])
    sp_in = speed[idx]
    g = pd.DataFrame({"run": run, "sp": sp_in, "still": sp_in <= stationary_max_speed_mps})
    grp = g.groupby("run", sort=True)
    p90 = grp["sp"].quantile(0.9).to_numpy()
    still = grp["still"].mean().to_numpy()
    # Approach/departure speed: up to three pings either side of the run, same officer.
    offs = np.concatenate([first[:, None] + np.array([-3, -2, -1]),
                           last[:, None] + np.array([1, 2, 3])], axis=1)  # fmt: skip
    ok = (offs >= 0) & (offs < n_all)
    offs_c = np.clip(offs, 0, n_all - 1)
    ok &= off_codes[offs_c] == off_codes[first][:, None]
    sp_side = np.where(ok, speed[offs_c], np.nan)
    with np.errstate(all="ignore"):
        side_cnt = ok.sum(axis=1)
        approach = np.full(len(first), np.nan)
        has = side_cnt > 0
        if has.any():
            approach[has] = np.nanmedian(sp_side[has], axis=1)
    mode_speed = np.fmax(p90, approach)
    dwell = tsec[last] - tsec[first]
    arrive, depart = pd.Series(ts[first]), pd.Series(ts[last])
    if zoned:
        arrive, depart = arrive.dt.tz_localize("UTC"), depart.dt.tz_localize("UTC")
    officer = pd.Series(off_uniques.to_numpy()[off_codes[first]], dtype=object)
    if officer_key is not None:
        officer = pseudonymise(officer, officer_key)
    lo, hi = koper_band_minutes
    kind = np.where(dwell >= min_dwell_seconds, "visit", "pass")
    dwell_min = dwell / 60.0
    out = pd.DataFrame(
        {
            "officer": officer,
            "hotspot_id": geofences["hotspot_id"].to_numpy()[f_in[starts]],
            "date": tasking_date(arrive, day_start, tz),
            "arrive": arrive,
            "depart": depart,
            "arrive_local": utc_to_local(arrive, tz) if zoned else arrive,
            "depart_local": utc_to_local(depart, tz) if zoned else depart,
            "dwell_seconds": dwell,
            "dwell_minutes": dwell_min,
            "n_pings": n_pings,
            "speed_p90_mps": p90,
            "approach_speed_mps": approach,
            "mode": np.where(mode_speed > foot_max_speed_mps, "vehicle", "foot"),
            "stationary_share": still,
            "stationary_minutes": still * dwell_min,
            "kind": kind,
            "in_koper_band": (kind == "visit") & (dwell_min >= lo) & (dwell_min <= hi),
        }
    )
    return out.sort_values(["officer", "arrive"], kind="stable").reset_index(drop=True)


def daily_dosage(
    visits: pd.DataFrame, *, by: Sequence[str] = ("hotspot_id", "date", "officer")
) -> pd.DataFrame:
    """Minutes of presence per hot spot, day and officer (or any grouping).

    Only ``kind == "visit"`` rows count towards ``dosage_minutes`` (presence: GPS
    time inside the polygon); passes are counted separately. When ``visits`` carries
    :func:`vrdp.dosage.confirm_visits` columns, ``confirmed_minutes`` (checked in on
    the app and inside the polygon, passes included) and ``n_checkins`` are summed
    too: confirmed minutes are a lower bound of the patrol visits delivered (the app
    misses some check-ins, GPS drops out), presence an upper bound (it includes
    walking in and out and other duties inside the hot spot).

    >>> v = pd.DataFrame({"hotspot_id": ["a", "a", "a"], "date": ["d"] * 3,
    ...     "officer": ["o"] * 3, "dwell_minutes": [12.0, 0.5, 20.0],
    ...     "kind": ["visit", "pass", "visit"], "in_koper_band": [True, False, False]})
    >>> d = daily_dosage(v)
    >>> int(d.n_visits[0]), int(d.n_passes[0]), float(d.dosage_minutes[0]), float(d.koper_share[0])
    (2, 1, 32.0, 0.5)
    """
    v = visits.assign(
        _visit=(visits["kind"] == "visit").astype(int),
        _pass=(visits["kind"] == "pass").astype(int),
        _min=visits["dwell_minutes"].where(visits["kind"] == "visit", 0.0),
        _kop=visits["in_koper_band"].astype(int),
    )
    aggs = {
        "n_visits": ("_visit", "sum"),
        "n_passes": ("_pass", "sum"),
        "dosage_minutes": ("_min", "sum"),
        "koper_visits": ("_kop", "sum"),
    }
    if "confirmed_minutes" in v:
        aggs["confirmed_minutes"] = ("confirmed_minutes", "sum")
        aggs["n_checkins"] = ("n_checkins", "sum")
    out = v.groupby(list(by), sort=True, dropna=False).agg(**aggs)
    out["koper_share"] = np.where(
        out["n_visits"] > 0, out["koper_visits"] / out["n_visits"].clip(lower=1), np.nan
    )
    return out.reset_index()


def koper_share(
    visits: pd.DataFrame, band_minutes: tuple[float, float] = KOPER_BAND_MINUTES
) -> float:
    """Share of visits (not passes) whose dwell lies in the Koper band.

    >>> koper_share(pd.DataFrame({"dwell_minutes": [9.0, 12.0, 15.0, 30.0, 0.2],
    ...                           "kind": ["visit"] * 4 + ["pass"]}))
    0.5
    """
    v = visits[visits["kind"] == "visit"]
    if v.empty:
        return float("nan")
    lo, hi = band_minutes
    return float(v["dwell_minutes"].between(lo, hi).mean())


def baseline_presence(
    dosage: pd.DataFrame,
    allocation: pd.DataFrame,
    *,
    unit_col: str = "unit_id",
    date_col: str = "date",
) -> pd.DataFrame:
    """Police presence per arm: delivered minutes on patrol and control unit-days.

    Parameters
    ----------
    dosage
        :func:`daily_dosage` output (``hotspot_id``, ``date``, ``dosage_minutes``, ...).
    allocation
        ``unit_col``, ``date_col``, ``arm``.

    Returns
    -------
    pandas.DataFrame
        Per ``arm``: ``unit_days``, ``mean_minutes``, ``median_minutes``,
        ``share_with_presence`` and ``mean_visits``. The control row is the
        baseline police presence in control hot spots.
    """
    per = dosage.groupby(["hotspot_id", "date"], as_index=False)[
        ["dosage_minutes", "n_visits"]
    ].sum()
    a = allocation[[unit_col, date_col, "arm"]].copy()
    a[date_col] = pd.to_datetime(a[date_col])
    per["date"] = pd.to_datetime(per["date"])
    m = a.merge(
        per,
        left_on=[unit_col, date_col],
        right_on=["hotspot_id", "date"],
        how="left",
        suffixes=("", "_d"),
    )
    m["dosage_minutes"] = m["dosage_minutes"].fillna(0.0)
    m["n_visits"] = m["n_visits"].fillna(0)
    out = m.groupby("arm").agg(
        unit_days=("dosage_minutes", "size"),
        mean_minutes=("dosage_minutes", "mean"),
        median_minutes=("dosage_minutes", "median"),
        share_with_presence=("dosage_minutes", lambda s: float((s > 0).mean())),
        mean_visits=("n_visits", "mean"),
    )
    return out.reset_index()
