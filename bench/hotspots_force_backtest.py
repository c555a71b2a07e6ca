"""Benchmark: force-data hot spots and forecasts on the simulated world, against its truth.

``python -m bench.hotspots_force_backtest [world_dir]`` writes
``bench/results/hotspots_force_backtest.json``. The world is ``world_dir``, else
``$VRDP_BENCH_WORLD``, else ``/tmp/w_medium`` when it exists, else the medium
world (seed 7) generated into a temporary folder.

Events are the world's own police records shaped like ``marts.fct_events``
(:func:`vrdp.hotspots.force_events.fct_events_from_landing`: RMS crimes and
CAD calls with their times; A&E assaults need the warehouse's gazetteer and
are not in this stand-in), prepared exactly as the ``force_hotspots/*`` assets
prepare them (feedback-loop guard, calls linked to a crime left out, partial
edge months out of the monthly series). Reported:

* the rolling-origin backtest (train on months up to m, score m + 1, every
  fold) on the H3 res-9 grid of the force area, for recorded **all crime** and
  **violence**, with the calls as auxiliary series: hit rate, PAI, PEI and RRI
  at 1/5/10 % of area for ``forecast_risk`` (NNLS), ``forecast_risk_ranked``
  and every baseline (previous month, all earlier months, exponentially
  weighted months, KDE), plus the hindsight reference of
  ``bench/hotspots_backtest.py`` (mean of every other month);
* the oracle of the world itself: PEI at 5 % of a forecast that knows each
  cell's true expected count is not available from the landing files, so the
  *planted* structure is checked instead: recall of the planted hot spots by
  the hot spot list (Gi* FDR hot cells ranked by 91-day harm, top 50) and by
  the forecast's top 50 cells;
* timings and the machine's load average (timings are taken on a shared machine).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from bench.bookkeeping import measured, write_result
from bench.hotspots_backtest import SHARES
from config.settings import REPO_ROOT
from vrdp.hotspots.backtest import make_baselines, rolling_origin_backtest, summarise_backtest
from vrdp.hotspots.force_events import (
    fct_events_from_landing,
    force_series,
    planted_hotspot_recall,
    prepare_force_events,
    series_span,
)
from vrdp.hotspots.forecast import forecast_risk
from vrdp.hotspots.forecast_ranked import forecast_risk_ranked
from vrdp.hotspots.getis_ord import gi_star
from vrdp.hotspots.grid import cell_areas_m2, cell_centres_bng, neighbour_matrix, study_cells
from vrdp.hotspots.kde import quartic_kernel_matrix
from vrdp.hotspots.metrics import rank_cells, selection_metrics
from vrdp.hotspots.pipeline import cell_harm_windows_table, patrol_summary

OUT = REPO_ROOT / "bench" / "results" / "hotspots_force_backtest.json"
BANDWIDTH_M = 400.0
RESOLUTION = 9
TOP_N = 50


def world_dir(arg: str | None = None) -> Path:
    """The world to run on (see the module docstring); generates one if none is given."""
    chosen = arg or os.environ.get("VRDP_BENCH_WORLD")
    if chosen:
        return Path(chosen)
    if Path("/tmp/w_medium/truth/world.json").exists():
        return Path("/tmp/w_medium")
    from synthetic.config import SCALES, WorldConfig
    from synthetic.world import generate

    out = Path(tempfile.mkdtemp(prefix="vrdp_world_medium_"))
    generate(WorldConfig(seed=7, scale=SCALES["medium"]), out, log=lambda *_: None)
    return out


def _hindsight(counts: np.ndarray, w, area: np.ndarray, test_periods, months) -> dict:
    """Mean of every *other* month (future ones too) + 0.1 × ring mean: context, not a forecast."""
    from scipy import sparse

    ring = w - sparse.diags(w.diagonal())
    ring = sparse.diags(1.0 / np.maximum(np.asarray(ring.sum(axis=1)).ravel(), 1)) @ ring
    avail = np.flatnonzero(~np.isnan(counts).all(axis=0))
    ref = []
    for t in test_periods:
        k = months.index(t)
        lt = np.nanmean(counts[:, [j for j in avail if j != k]], axis=1)
        ref.append(selection_metrics(counts[:, k], lt + 0.1 * (ring @ lt), SHARES, area=area))
    pei = pd.concat(ref).groupby("area_share")["pei"].mean()
    return {f"{s:.2f}": round(float(v), 4) for s, v in pei.items()}


def run(world: Path) -> dict:
    """Every figure of the benchmark for one world."""
    t_all = time.perf_counter()
    weights = pd.read_csv(REPO_ROOT / "dbt_project" / "seeds" / "cchi_harm_weights.csv")
    truth = pd.read_parquet(world / "truth" / "hotspots.parquet")
    t = time.perf_counter()
    events = fct_events_from_landing(world)
    study, record = prepare_force_events(events, weights, resolution=RESOLUTION)
    span, partial = series_span(study["month"])
    load_s = time.perf_counter() - t

    t = time.perf_counter()
    lsoa = gpd.read_file(
        REPO_ROOT / "public_data" / "boundaries" / "thames_valley" / "thames_valley_lsoa21.geojson"
    ).to_crs("EPSG:4326")
    cells = study_cells(
        study["latitude"].to_numpy(),
        study["longitude"].to_numpy(),
        resolution=RESOLUTION,
        region=lsoa.geometry.union_all(),
    )
    w = neighbour_matrix(cells)
    ex, ny = cell_centres_bng(cells)
    kernel = quartic_kernel_matrix(ex, ny, bandwidth_m=BANDWIDTH_M)
    area = cell_areas_m2(cells)
    grid_s = time.perf_counter() - t

    # the hot spot list as the assets make it, and planted recall
    t = time.perf_counter()
    harm = cell_harm_windows_table(study, weights, cells, as_of=span.as_of)
    g = gi_star(harm["harm_days_91d"].to_numpy(float), w, correction="fdr_bh")
    hot = pd.DataFrame({"h3_cell": cells, "hot": g["hot_spot"].to_numpy()})
    hot["harm"] = harm["harm_days_91d"].to_numpy()
    hot = hot[hot["hot"]].sort_values(["harm", "h3_cell"], ascending=[False, True])
    listed = hot["h3_cell"].head(TOP_N).tolist()
    recall_list = planted_hotspot_recall(truth, listed, as_of=span.as_of, window_days=91)
    kept = study[~study["excluded_by_guard"]]
    windows = patrol_summary(kept[kept["h3_cell"].isin(listed)], listed)
    hotspots_s = time.perf_counter() - t

    results = {}
    for name, violence in (("all_crime", False), ("violence", True)):
        t = time.perf_counter()
        counts, aux = force_series(study, cells, span, violence_only=violence)

        def fc(train, aux=aux):
            k = train.shape[1]
            a = {n: m[:, :k] for n, m in aux.items()}
            return forecast_risk(train, neighbours=w, kernel=kernel, auxiliary=a).score

        def ranked(train, aux=aux):
            k = train.shape[1]
            a = {n: m[:, :k] for n, m in aux.items()}
            return forecast_risk_ranked(
                train, neighbours=w, kernel=kernel, auxiliary=a, area=area, area_shares=SHARES
            ).score

        methods = {
            "forecast": fc,
            "forecast_ranked": ranked,
            **make_baselines(half_life_periods=3.0, kernel=kernel),
        }
        folds = rolling_origin_backtest(
            counts, methods, periods=span.months, area_shares=SHARES, area=area
        )
        summary = summarise_backtest(folds)
        piv = summary.pivot(index="method", columns="area_share", values="pei")
        pai = summary.pivot(index="method", columns="area_share", values="pai")
        best_base = piv.drop(index=["forecast", "forecast_ranked"]).max(axis=0)
        final = fc(counts)
        top = [str(c) for c in cells[rank_cells(final)[:TOP_N]]]
        results[name] = {
            "events": int(np.nansum(counts)),
            "folds": int(folds["test_period"].nunique()),
            "pei_table": {
                m: {f"{s:.2f}": round(float(v), 4) for s, v in r.items()} for m, r in piv.iterrows()
            },
            "pai_table": {
                m: {f"{s:.2f}": round(float(v), 4) for s, v in r.items()} for m, r in pai.iterrows()
            },
            "best_baseline_pei": {f"{s:.2f}": round(float(v), 4) for s, v in best_base.items()},
            "forecast_beats_best_baseline": {
                f"{s:.2f}": bool(piv.loc["forecast", s] > best_base[s]) for s in SHARES
            },
            "hindsight_reference_pei": _hindsight(
                counts, w, area, sorted(set(folds["test_period"])), span.months
            ),
            "summary": summary.round(4).to_dict("records"),
            "planted_recall_forecast_top50": round(
                planted_hotspot_recall(truth, top, as_of=span.as_of, window_days=91)["recall"], 4
            ),
            "seconds": round(time.perf_counter() - t, 2),
        }
    return {
        "world": str(world),
        "world_parameters": json.loads((world / "truth" / "world.json").read_text()).get(
            "parameters", {}
        ),
        "events_source": (
            "fct_events stand-in from the landing files (RMS crimes, CAD calls; no A&E)"
        ),
        "preparation": {k: v for k, v in record.items() if k != "by_event_type"},
        "by_event_type": record["by_event_type"],
        "months": span.describe(),
        "partial_months_outside_series": partial,
        "grid": {"h3_resolution": RESOLUTION, "cells": len(cells), "kde_bandwidth_m": BANDWIDTH_M},
        "hotspot_list": {
            "rule": f"Gi* (FDR 0.05) hot cells on 91-day harm, top {TOP_N} by harm",
            "gi_star_hot_cells": int(g["hot_spot"].sum()),
            "planted_recall": round(float(recall_list["recall"]), 4),
            "planted_found": f"{recall_list['found']}/{recall_list['truth_cells']}",
            "planted_by_kind": recall_list["by_kind"],
            "planted_precision": round(float(recall_list["precision"]), 4),
            "recall_rule": "planted cell within one H3 ring of a listed cell",
            "with_patrol_windows": int((windows["time_basis"] == "timestamp").sum()),
            "example_patrol_windows": windows["patrol_windows"].head(3).tolist(),
        },
        "backtest": results,
        "stage_seconds": {
            "load_and_prepare": round(load_s, 2),
            "grid": round(grid_s, 2),
            "hot_spot_list": round(hotspots_s, 2),
        },
        "total_seconds": round(time.perf_counter() - t_all, 1),
    }


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and write its figures."""
    args = sys.argv[1:] if argv is None else argv
    with measured() as run_:
        figures = run(world_dir(args[0] if args else None))
    run_.pop("seconds")  # the figures carry total_seconds of their own
    figures.update(run_)
    write_result(OUT, figures)
    return figures


if __name__ == "__main__":
    f = main()
    print("hot spot list", json.dumps(f["hotspot_list"], default=str))
    for name, r in f["backtest"].items():
        print(name, "PEI", json.dumps(r["pei_table"]))
        print(name, "hindsight reference PEI", r["hindsight_reference_pei"])
        print(name, "beats best baseline", r["forecast_beats_best_baseline"])
    print(f"written to {OUT.relative_to(REPO_ROOT)}")
