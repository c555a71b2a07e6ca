"""Benchmark: the heavy steps on Spark (local mode) beside the one-machine engine.

``python -m bench.spark_vs_duckdb [--scale small|medium|large] [--world PATH]``
writes ``bench/results/spark_vs_duckdb_<scale>.json`` with, on the simulated world of that
scale (seed 7; generated into the benchmark cache when ``--world`` does not hold
it):

* **dosage**: every GPS day of the world, converted to UTC and cleaned as the
  visits asset does (not timed), segmented into geofence visits around the
  world's trial units and summed per hot spot, day and officer, by pandas/numpy
  (:func:`vrdp.dosage.pings_to_visits`, :func:`vrdp.dosage.daily_dosage`) and by
  Spark (:mod:`vrdp.dosage.spark`); reported: seconds of each, and whether the
  dosage tables agree (rows, and the largest difference in minutes);
* **linkage**: the world's person records built as the platform builds them
  (:func:`bench.linkage.prepare_records`: loader, then dbt; not timed), one model
  trained on DuckDB (not timed), then every blocked pair scored and the records
  clustered at the linkage threshold by DuckDB and by Spark with that model;
  reported: seconds of each, the pairs scored, the largest difference in match
  probability and whether the two partitions of the records are identical.

The Spark session's start (a JVM; seconds) is timed on its own. Spark runs in
local mode on ``--master`` (default ``local[2]``): on one machine it is slower
than DuckDB and pandas (it pays for a JVM, shuffles and Python workers); it is
here to show the same answers and what local mode costs, not a speed-up. The
load average is recorded: the machine is shared.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.bookkeeping import load_average, machine, write_result

RESULTS = Path(__file__).resolve().parent / "results"
THRESHOLD = 0.9


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, round(time.perf_counter() - t0, 2)


def dosage(world: Path, spark) -> dict:
    """Visits and daily dosage of every GPS day, pandas against Spark."""
    from vrdp.dosage import (
        clean_pings,
        daily_dosage,
        geofences_from_h3,
        local_to_utc,
        pings_to_visits,
    )
    from vrdp.dosage.spark import daily_dosage_spark, pings_to_visits_spark

    days = sorted((world / "landing" / "patrol" / "gps").iterdir())
    raw = pd.concat([pd.read_parquet(d / "gps_pings.parquet") for d in days], ignore_index=True)
    raw["ts"], _ = local_to_utc(raw["ts"], "Europe/London", groups=raw["device_id"])
    pings = clean_pings(raw)
    (units_csv,) = (world / "landing" / "patrol" / "trial_units").glob("*/trial_units.csv")
    fences = geofences_from_h3(pd.read_csv(units_csv))
    kw = {"tz": "Europe/London"}
    v_pd, t_visits_pd = _timed(pings_to_visits, pings, fences, **kw)
    d_pd, t_dosage_pd = _timed(daily_dosage, v_pd)
    v_sp, t_visits_sp = _timed(pings_to_visits_spark, spark, pings, fences, **kw)
    d_sp, t_dosage_sp = _timed(daily_dosage_spark, spark, v_sp)
    keys = ["hotspot_id", "date", "officer"]
    m = d_pd.merge(d_sp, on=keys, how="outer", indicator=True)
    return {
        "gps_days": len(days),
        "pings": len(pings),
        "geofences": len(fences),
        "visits": len(v_pd),
        "dosage_rows": len(d_pd),
        "duckdb_pandas_seconds": {"visits": t_visits_pd, "daily_dosage": t_dosage_pd},
        "spark_seconds": {"visits": t_visits_sp, "daily_dosage": t_dosage_sp},
        "same_rows": bool((m["_merge"] == "both").all()),
        "max_abs_diff_dosage_minutes": float(
            (m["dosage_minutes_x"] - m["dosage_minutes_y"]).abs().max()
        ),
    }


def linkage(world: Path) -> dict:
    """Score and cluster the world's person records with one model, DuckDB against Spark."""
    from bench.linkage import prepare_records
    from vrdp.linkage.run import cluster_links, latest_model, score_pairs, train_model

    with tempfile.TemporaryDirectory(prefix="bench_spark_") as tmp:
        root = Path(tmp)
        records = prepare_records(world, root)
        train_model(records, root / "models", seed=42)
        path = latest_model(root / "models")
        out: dict = {"records": len(records)}
        for engine in ("duckdb", "spark"):
            (n, edges), t_score = _timed(score_pairs, records, path, 0.5, engine)
            links = edges[edges["match_probability"] >= THRESHOLD]
            clusters, t_cluster = _timed(cluster_links, records["record_uid"], links, engine)
            out[engine] = {
                "comparisons": n,
                "seconds": {"score": t_score, "cluster": t_cluster},
                "clusters": int(clusters["cluster_id"].nunique()),
            }
            out[f"_{engine}"] = (edges, clusters)
    (e_d, c_d), (e_s, c_s) = out.pop("_duckdb"), out.pop("_spark")
    m = e_d.merge(e_s, on=["record_uid_l", "record_uid_r"], how="outer", indicator=True)
    both = m[m["_merge"] == "both"]

    def partition(c):
        return {frozenset(g["record_uid"]) for _, g in c.groupby("cluster_id")}

    out["pairs_above_0_5"] = {
        "both": len(both),
        "duckdb_only": int((m["_merge"] == "left_only").sum()),
        "spark_only": int((m["_merge"] == "right_only").sum()),
    }
    out["max_abs_diff_match_probability"] = float(
        (both["match_probability_x"] - both["match_probability_y"]).abs().max()
    )
    out["identical_partition"] = partition(c_d) == partition(c_s)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run both comparisons and write the result."""
    from bench.worlds import ensure_world
    from vrdp.engines import spark_session

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="small", choices=("small", "medium", "large"))
    ap.add_argument("--world", type=Path, default=None)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--skip-linkage", action="store_true")
    ap.add_argument("--out", type=Path, default=None, help="default: spark_vs_duckdb_<scale>.json")
    args = ap.parse_args(argv)
    world = ensure_world(args.world, args.scale)
    from config.settings import settings

    figures: dict = {"scale": args.scale, "world": str(world), "master": args.master}
    figures["driver_memory"] = settings().spark_driver_memory  # VRDP_SPARK_DRIVER_MEMORY
    figures["load_average_before"] = load_average()
    with tempfile.TemporaryDirectory(prefix="bench_spark_session_") as tmp:
        spark, figures["spark_session_start_seconds"] = _timed(
            spark_session, args.master, Path(tmp)
        )
        figures["dosage"] = dosage(world, spark)
        print("dosage", figures["dosage"], flush=True)
        if args.skip_linkage:
            figures["linkage"] = "not run (--skip-linkage)"
        else:
            figures["linkage"] = linkage(world)
            print("linkage", figures["linkage"], flush=True)
        figures["load_average_after"] = load_average()
        figures["machine"] = machine()
        # written before the session stops: on the large world the driver JVM had
        # already ended when stop() was called, and the figures were nearly lost
        print(write_result(args.out or RESULTS / f"spark_vs_duckdb_{args.scale}.json", figures))
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
