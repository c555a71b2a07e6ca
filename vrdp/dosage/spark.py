"""GPS dwell and dosage as Spark jobs: the same computation as :mod:`vrdp.dosage.visits`.

At national scale (every force's officers, a ping every few seconds: ~10^8 pings
a day) dwell detection is the heaviest step of the platform, and it partitions
cleanly by officer. With ``VRDP_ENGINE=spark`` the dosage assets call these
functions instead of :func:`~vrdp.dosage.pings_to_visits` and
:func:`~vrdp.dosage.daily_dosage`:

- **geofence assignment** runs in the executors (``mapInPandas``): each batch of
  pings is projected to EPSG:27700 when not already projected and assigned to a
  fence with the same :func:`~vrdp.dosage.visits._fence_index` (bounding-box
  search and ``shapely.contains_xy``) as the one-machine path, the fences
  travelling with the task;
- **speed, runs and dwell** are window functions over each officer's pings
  ordered by time (``lag``/``lead`` for derived speed and the approach/departure
  pings, a running sum of run starts for the run number), and one ``groupBy``
  per run for arrival, departure, the 90th percentile of speed (``percentile``,
  linear interpolation like pandas' ``quantile``) and the stationary share;
- **daily dosage** is one ``groupBy`` over the visits.

Only the visits (a few per officer per hour) come back to the driver, where
local report times and the officer pseudonym are added as in the pandas path.
The answers are the same as the one-machine path's; ``tests/spark`` compares
them on the small world. Give cleaned pings (:func:`~vrdp.dosage.clean_pings`):
an officer's pings are ordered by time, so duplicate times would be ordered
arbitrarily.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from vrdp.dosage.localtime import LONDON, utc_to_local
from vrdp.dosage.pseudonym import pseudonymise
from vrdp.dosage.visits import KOPER_BAND_MINUTES, _fence_index, _offset

__all__ = ["pings_to_visits_spark", "daily_dosage_spark"]

_VISIT_COLUMNS = [
    "officer", "hotspot_id", "date", "arrive", "depart", "arrive_local", "depart_local",
    "dwell_seconds", "dwell_minutes",
    "n_pings", "speed_p90_mps", "approach_speed_mps", "mode", "stationary_share",
    "stationary_minutes", "kind", "in_koper_band",
]  # fmt: skip


def _fence_mapper(geofences, exclude, projected: bool):
    """A ``mapInPandas`` function: pings -> (officer, ts, e, n, reported speed, fence)."""
    import geopandas as gpd

    from vrdp.geo import to_bng

    if exclude is not None and len(exclude) and not isinstance(exclude, gpd.GeoDataFrame):
        exclude = gpd.GeoDataFrame(geometry=exclude)
    has_exclude = exclude is not None and len(exclude) > 0

    def assign(batches):
        for b in batches:
            if projected:
                e, n = b["easting_m"].to_numpy(float), b["northing_m"].to_numpy(float)
            else:
                e, n = to_bng(b["lon"].to_numpy(float), b["lat"].to_numpy(float))
            fence = _fence_index(e, n, geofences)
            if has_exclude:
                fence[_fence_index(e, n, exclude) >= 0] = -1
            yield pd.DataFrame(
                {
                    "officer_id": b["officer_id"].astype(str).to_numpy(),
                    "ts": b["ts"].to_numpy(),
                    "e": e,
                    "n": n,
                    "rep": pd.to_numeric(b["rep"], errors="coerce").to_numpy(float),
                    "fence": fence,
                }
            )

    return assign


def _pings_frame(spark, pings: pd.DataFrame):
    """The pings as a Spark DataFrame with UTC-naive ``ts`` (and whether ``ts`` was zoned)."""
    t = pd.to_datetime(pings["ts"])
    zoned = t.dt.tz is not None
    if zoned:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    has_xy = {"easting_m", "northing_m"} <= set(pings.columns)
    frame = pd.DataFrame(
        {
            "officer_id": pings["officer_id"].astype(str).to_numpy(object),
            "ts": t.astype("datetime64[us]").to_numpy(),
            "lat": pd.to_numeric(pings["lat"], errors="coerce").to_numpy(float),
            "lon": pd.to_numeric(pings["lon"], errors="coerce").to_numpy(float),
            "easting_m": (
                pings["easting_m"].to_numpy(float) if has_xy else np.full(len(pings), np.nan)
            ),
            "northing_m": (
                pings["northing_m"].to_numpy(float) if has_xy else np.full(len(pings), np.nan)
            ),
            "rep": (
                pd.to_numeric(pings["speed_mps"], errors="coerce").to_numpy(float)
                if "speed_mps" in pings
                else np.full(len(pings), np.nan)
            ),
        }
    )
    projected = has_xy and bool(pings["easting_m"].notna().all())
    schema = (
        "officer_id string, ts timestamp, lat double, lon double, easting_m double, "
        "northing_m double, rep double"
    )
    return spark.createDataFrame(frame, schema=schema), zoned, projected


def pings_to_visits_spark(
    spark,
    pings: pd.DataFrame,
    geofences,
    *,
    gap_tolerance_seconds: float = 120.0,
    min_dwell_seconds: float = 60.0,
    foot_max_speed_mps: float = 3.0,
    stationary_max_speed_mps: float = 0.5,
    koper_band_minutes: tuple[float, float] = KOPER_BAND_MINUTES,
    day_start: str = "06:00",
    tz: str = LONDON,
    officer_key: bytes | str | None = None,
    exclude=None,
) -> pd.DataFrame:
    """Segment GPS pings into geofence visits and passes, on Spark.

    Same parameters and output as :func:`vrdp.dosage.pings_to_visits` (see it for
    the meaning of each), with ``spark`` the session to run on. Returns a pandas
    DataFrame with one row per run, sorted by officer and arrival.

    Examples
    --------
    See ``tests/spark/test_dosage_spark.py``, which compares this function with
    the pandas one on hand-made pings and on the small simulated world.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if len(pings) == 0 or len(geofences) == 0:
        return pd.DataFrame(columns=_VISIT_COLUMNS)
    sdf, zoned, projected = _pings_frame(spark, pings)
    out_schema = "officer_id string, ts timestamp, e double, n double, rep double, fence long"
    located = sdf.mapInPandas(_fence_mapper(geofences, exclude, projected), out_schema)
    w = Window.partitionBy("officer_id").orderBy("ts")
    # Whole microseconds: differences of times are exact (epoch seconds as doubles
    # would round at ~1e-7 s).
    p = located.withColumn("tmic", F.unix_micros("ts"))
    dt = (F.col("tmic") - F.lag("tmic", 1).over(w)) / F.lit(1e6)
    derived = F.when(
        F.lag("tmic", 1).over(w).isNotNull() & (dt > 0),
        F.sqrt(
            (F.col("e") - F.lag("e", 1).over(w)) ** 2 + (F.col("n") - F.lag("n", 1).over(w)) ** 2
        )
        / dt,
    ).otherwise(F.lit(0.0))
    p = p.withColumn(
        "speed", F.when(F.col("rep").isNull() | F.isnan("rep"), derived).otherwise(F.col("rep"))
    )
    # Approach and departure: up to three pings either side of a run, same officer.
    for k in (1, 2, 3):
        p = p.withColumn(f"before{k}", F.lag("speed", k).over(w))
        p = p.withColumn(f"after{k}", F.lead("speed", k).over(w))
    inside = p.where(F.col("fence") >= 0)
    prev_fence = F.lag("fence", 1).over(w)
    new = (
        prev_fence.isNull()
        | (F.col("fence") != prev_fence)
        | (
            (F.col("tmic") - F.lag("tmic", 1).over(w)) / F.lit(1e6)
            > F.lit(float(gap_tolerance_seconds))
        )
    )
    inside = inside.withColumn("new", new.cast("int"))
    inside = inside.withColumn(
        "run", F.sum("new").over(w.rowsBetween(Window.unboundedPreceding, Window.currentRow))
    )
    runs = inside.groupBy("officer_id", "run").agg(
        F.min("fence").alias("fence"),
        F.min("ts").alias("arrive"),
        F.max("ts").alias("depart"),
        ((F.max("tmic") - F.min("tmic")) / F.lit(1e6)).alias("dwell_seconds"),
        F.count(F.lit(1)).alias("n_pings"),
        F.expr("percentile(speed, 0.9)").alias("speed_p90_mps"),
        F.avg((F.col("speed") <= F.lit(float(stationary_max_speed_mps))).cast("double")).alias(
            "stationary_share"
        ),
        F.min_by(F.array("before3", "before2", "before1"), "ts").alias("side_before"),
        F.max_by(F.array("after1", "after2", "after3"), "ts").alias("side_after"),
    )
    side = F.array_sort(F.filter(F.concat("side_before", "side_after"), lambda x: x.isNotNull()))
    k = F.size("side")
    # numpy's nanmedian: the middle value, or the mean of the two middle values.
    median = F.when(k == 0, F.lit(None).cast("double")).otherwise(
        (
            F.element_at("side", ((k + 1) / 2).cast("int"))
            + F.element_at("side", (k / 2).cast("int") + 1)
        )
        / 2.0
    )
    runs = runs.withColumn("side", side).withColumn("approach_speed_mps", median)
    lo, hi = koper_band_minutes
    dwell_min = F.col("dwell_seconds") / 60.0
    is_visit = F.col("dwell_seconds") >= F.lit(float(min_dwell_seconds))
    local_arrive = F.from_utc_timestamp("arrive", tz) if zoned else F.col("arrive")
    offset = _offset(day_start)
    runs = runs.select(
        F.col("officer_id").alias("officer"),
        "fence",
        F.to_date(local_arrive - F.expr(f"interval {int(offset.total_seconds())} seconds")).alias(
            "date"
        ),
        "arrive",
        "depart",
        "dwell_seconds",
        dwell_min.alias("dwell_minutes"),
        "n_pings",
        "speed_p90_mps",
        "approach_speed_mps",
        F.when(
            F.greatest("speed_p90_mps", "approach_speed_mps") > F.lit(float(foot_max_speed_mps)),
            "vehicle",
        )
        .otherwise("foot")
        .alias("mode"),
        "stationary_share",
        (F.col("stationary_share") * dwell_min).alias("stationary_minutes"),
        F.when(is_visit, "visit").otherwise("pass").alias("kind"),
        (is_visit & (dwell_min >= F.lit(float(lo))) & (dwell_min <= F.lit(float(hi)))).alias(
            "in_koper_band"
        ),
    )
    v = runs.toPandas()
    if v.empty:
        return pd.DataFrame(columns=_VISIT_COLUMNS)
    v["hotspot_id"] = geofences["hotspot_id"].to_numpy()[v["fence"].to_numpy(dtype=np.int64)]
    v["date"] = pd.to_datetime(v["date"]).astype("datetime64[ns]")
    arrive = pd.to_datetime(v["arrive"]).astype("datetime64[ns]")
    depart = pd.to_datetime(v["depart"]).astype("datetime64[ns]")
    if zoned:
        arrive, depart = arrive.dt.tz_localize("UTC"), depart.dt.tz_localize("UTC")
    v["arrive"], v["depart"] = arrive, depart
    v["arrive_local"] = utc_to_local(arrive, tz) if zoned else arrive
    v["depart_local"] = utc_to_local(depart, tz) if zoned else depart
    v["approach_speed_mps"] = v["approach_speed_mps"].astype(float)
    v["n_pings"] = v["n_pings"].astype(np.int64)
    v["in_koper_band"] = v["in_koper_band"].astype(bool)
    v["officer"] = v["officer"].astype(object)
    if officer_key is not None:
        v["officer"] = pseudonymise(v["officer"], officer_key)
    v = v.sort_values(["officer", "arrive"], kind="stable").reset_index(drop=True)
    return v[_VISIT_COLUMNS]


def daily_dosage_spark(
    spark, visits, *, by: Sequence[str] = ("hotspot_id", "date", "officer")
) -> pd.DataFrame:
    """Minutes of presence per hot spot, day and officer, on Spark.

    Same output as :func:`vrdp.dosage.daily_dosage`; ``visits`` is a pandas or a
    Spark DataFrame (e.g. ``spark.read.parquet`` of the visits lake table).
    """
    from pyspark.sql import functions as F

    if isinstance(visits, pd.DataFrame):
        keep = [*by, "kind", "dwell_minutes", "in_koper_band"]
        keep += [c for c in ("confirmed_minutes", "n_checkins") if c in visits]
        v = visits[keep].copy()
        if "date" in v:
            v["date"] = pd.to_datetime(v["date"]).astype("datetime64[us]")
        for c in by:
            if v[c].dtype != "datetime64[us]":
                v[c] = v[c].astype(object)
        v["in_koper_band"] = v["in_koper_band"].astype(bool)
        visits = spark.createDataFrame(v)
    cols = set(visits.columns)
    is_visit = F.col("kind") == "visit"
    aggs = [
        F.sum(is_visit.cast("long")).alias("n_visits"),
        F.sum((F.col("kind") == "pass").cast("long")).alias("n_passes"),
        F.sum(F.when(is_visit, F.col("dwell_minutes")).otherwise(0.0)).alias("dosage_minutes"),
        F.sum(F.col("in_koper_band").cast("long")).alias("koper_visits"),
    ]
    if "confirmed_minutes" in cols:
        aggs += [
            F.sum("confirmed_minutes").alias("confirmed_minutes"),
            F.sum("n_checkins").alias("n_checkins"),
        ]
    out = visits.groupBy(*by).agg(*aggs)
    out = out.withColumn(
        "koper_share",
        F.when(F.col("n_visits") > 0, F.col("koper_visits") / F.col("n_visits")).otherwise(
            F.lit(float("nan"))
        ),
    )
    d = out.toPandas()
    if "date" in d:
        d["date"] = pd.to_datetime(d["date"]).astype("datetime64[ns]")
    return d.sort_values(list(by), kind="stable").reset_index(drop=True)
