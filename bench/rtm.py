"""Benchmark: risk terrain modelling at 100,000 cells, and the real Oxford run.

``python -m bench.rtm`` writes ``bench/results/rtm.json`` with

* **simulated**: a 317 x 317 grid of 50 m cells (100,489 cells), 15 factors (14 as
  proximity and density, one proximity-only) at 3 blocks of 100 m in half-block
  steps = 174 candidate variables, 5 planted factors; seconds per stage (variables,
  elastic-net CV + stepwise BIC for Poisson and NB2, scoring/clusters/validation),
  peak memory, and the recovered versus planted RRVs;
* **oxford**: the real OSM 2015 points of interest of central Oxford with the
  Thames Valley police.uk street crimes of 2025 inside that area (model period
  January-June, validation August-December): the factor table, model figures and
  hit rate / PAI against a hot spot baseline.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np

from vrdp.risk_terrain import RTMConfig, run_rtm
from vrdp.risk_terrain.oxford import run_oxford
from vrdp.risk_terrain.simulate import PlantedFactor, simulate_world

OUT = Path(__file__).resolve().parent / "results" / "rtm.json"

PLANTED = [
    PlantedFactor("f00", "proximity", 1.0, 2.0),
    PlantedFactor("f01", "density", 2.0, 1.8),
    PlantedFactor("f02", "proximity", 2.5, 1.5),
    PlantedFactor("f03", "proximity", 0.5, 2.5),
    PlantedFactor("f04", "density", 1.0, 1.6),
]


def _records(df):
    return json.loads(df.to_json(orient="records", double_precision=6))


def simulated(seed: int = 11) -> dict:
    t0 = time.perf_counter()
    world = simulate_world(
        seed=seed,
        n_rows=317,
        n_cols=317,
        n_factors=15,
        planted=PLANTED,
        proximity_only=["f14"],
        base_rate=0.1,
    )
    t_sim = time.perf_counter() - t0
    res = run_rtm(
        world.grid,
        world.counts,
        world.features,
        world.factors,
        RTMConfig(block_length_m=100.0, seed=0),
        next_counts=world.next_counts,
    )
    ft = res.factor_table.set_index("variable")
    recovered = []
    for p in PLANTED:
        name = f"{p.factor}__{p.operationalisation}__{p.blocks:g}b"
        rrv = float(ft.loc[name, "rrv"]) if name in ft.index else None
        recovered.append({"variable": name, "true_rr": p.rr, "rrv": rrv})
    planted_factors = {p.factor for p in PLANTED}
    spurious = ft[~ft["factor"].isin(planted_factors)]
    return {
        "n_cells": res.report["n_cells"],
        "n_candidate_variables": res.report["n_candidate_variables"],
        "n_events": res.report["n_events"],
        "simulate_seconds": round(t_sim, 3),
        "seconds": res.report["seconds"],
        "n_shortlisted": res.report["n_shortlisted"],
        "elastic_net": res.report["elastic_net"],
        "family": res.report["family"],
        "bic": res.report["bic"],
        "n_selected": res.report["n_selected"],
        "planted_recovery": recovered,
        "all_planted_within_30pct": all(
            r["rrv"] is not None and abs(r["rrv"] / r["true_rr"] - 1) < 0.3 for r in recovered
        ),
        "max_unplanted_rrv": float(spurious["rrv"].max()) if len(spurious) else None,
        "factor_table": _records(res.factor_table),
        "validation": res.report.get("validation"),
        "n_clusters": res.report["n_clusters"],
    }


def oxford() -> dict:
    t0 = time.perf_counter()
    res = run_oxford()
    seconds = time.perf_counter() - t0
    rep = res.report
    return {
        "seconds_including_parsing": round(seconds, 3),
        "n_cells": rep["n_cells"],
        "cell_size_m": rep["cell_size_m"],
        "n_events_model_period": rep["n_events"],
        "events_next_period": rep["data"]["events_next"],
        "n_candidate_variables": rep["n_candidate_variables"],
        "shortlist": rep["shortlist"],
        "family": rep["family"],
        "bic": rep["bic"],
        "nb_alpha": rep["nb_alpha"],
        "factor_table": _records(res.factor_table),
        "max_rrs": rep["max_rrs"],
        "n_clusters": rep["n_clusters"],
        "validation": rep["validation"],
        "data": rep["data"],
    }


def main() -> dict:
    """Run both benchmark steps and write the figures."""
    figures = {
        "simulated_100k": simulated(),
        "oxford_real": oxford(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    f = main()
    s = f["simulated_100k"]
    print(
        f"simulated: {s['n_cells']} cells, {s['n_candidate_variables']} variables, "
        f"{s['seconds']['total']} s; planted recovered: {s['all_planted_within_30pct']}"
    )
    o = f["oxford_real"]
    print(
        f"oxford: {o['n_cells']} cells, {o['n_events_model_period']} crimes, family {o['family']}"
    )
    for row in o["factor_table"]:
        print(
            f"  {row['factor']:<24} {row['operationalisation']:<9} "
            f"{row['spatial_influence_m']:>6.0f} m  RRV {row['rrv']:.2f}  p {row['p_value']:.2g}"
        )
    print(f"wrote {OUT}")
