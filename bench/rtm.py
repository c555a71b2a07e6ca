"""Benchmark: risk terrain modelling at 100,000 cells, and the real Oxford run.

``python -m bench.rtm`` writes ``bench/results/rtm.json`` with

* **world_medium**: the project's simulated world (``synthetic``, seed 7, medium scale,
  generated into a temp dir; generation time is recorded but not counted) at 25 m
  cells over the settled area (cells within 75 m of a candidate event location:
  >= 100,000 cells; cells holding no location get an exposure floor of 1e-6 of the
  mean cell exposure), POI categories as factors (licensed premises = pub + bar +
  nightclub; 23 factors, 276 candidate variables), one RTM per planted factor on the
  crimes of its types, with the exposure offset ``log(sum of N_c * p0_c)`` of the
  truth's candidate locations (planted hot spot H3 cells left out); planted versus
  recovered RRVs and seconds per run. The small world (tests) has too few events
  for the low-volume factors (off-licence, bus stop, ATM), hence the medium world;

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
import pandas as pd

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


def load_world_inputs(world: Path) -> dict:
    """POIs, RMS crimes (with police.uk crime type), truth factors, locations, hot spots."""
    import pandas as pd

    from vrdp.risk_terrain.world import offence_crime_types

    pois = pd.concat(
        pd.read_csv(f) for f in sorted((world / "landing/places/pois").glob("*/pois.csv"))
    ).rename(columns={"easting": "easting_m", "northing": "northing_m"})
    occ = pd.concat(
        pd.read_csv(f, dtype=str, keep_default_na=False)
        for f in sorted((world / "landing/police/occurrences").glob("*/*.csv"))
    )
    occ["easting_m"] = pd.to_numeric(occ["easting"], errors="coerce")
    occ["northing_m"] = pd.to_numeric(occ["northing"], errors="coerce")
    occ = occ.dropna(subset=["easting_m", "northing_m"])
    occ["crime_type"] = offence_crime_types(occ["offence_code"])
    return {
        "pois": pois,
        "crimes": occ,
        "truth": pd.read_parquet(world / "truth/risk_factors.parquet"),
        "locations": pd.read_parquet(world / "truth/locations.parquet"),
        "hotspot_cells": set(pd.read_parquet(world / "truth/hotspots.parquet")["h3_cell"]),
    }


def factor_name(row) -> str:
    """RTM factor name of a truth risk factor (``atm_50m`` -> ``atm``)."""
    return row.factor_id.removesuffix(f"_{int(row.distance_m)}m")


def truth_exposure(inputs: dict, crime_types) -> pd.DataFrame:
    """Exposure table: candidate locations weighted by ``sum_c N_c * p0_c`` (hot spots 0)."""
    import pandas as pd

    from synthetic.crime import baseline_weights

    loc, occ = inputs["locations"], inputs["crimes"]
    w = np.zeros(len(loc))
    for t in crime_types:
        n_t = int((occ["crime_type"].str.lower() == t.lower()).sum())
        w += n_t * baseline_weights(loc, t)
    w[loc["h3_cell"].isin(inputs["hotspot_cells"]).to_numpy()] = 0.0
    return pd.DataFrame({"easting_m": loc["easting"], "northing_m": loc["northing"], "weight": w})


def recover_planted(inputs: dict, row, *, cell_size_m: float = 25.0, settled_buffer_m=None):
    """Run RTM for one planted factor; returns (result, comparison dict)."""
    from vrdp.risk_terrain.world import run_rtm_on_places

    groups = {
        factor_name(r): tuple(r.poi_categories.split("|")) for r in inputs["truth"].itertuples()
    }
    types = row.crime_types.split("|")
    exposure = truth_exposure(inputs, types)
    if settled_buffer_m:
        exposure = _settled_area(exposure, cell_size_m, settled_buffer_m)
    res = run_rtm_on_places(
        inputs["pois"],
        inputs["crimes"],
        crime_types=types,
        exposure=exposure,
        groups=groups,
        cell_size_m=cell_size_m,
        config=RTMConfig(block_length_m=100.0, seed=0),
    )
    ft = res.factor_table.set_index("factor")
    name = factor_name(row)
    hit = ft.loc[name] if name in ft.index else None
    unplanted = ft.drop(index=[f for f in groups if f in ft.index])
    cmp = {
        "factor": name,
        "crime_types": types,
        "events": res.report["n_events"],
        "true_rr": float(row.true_relative_risk),
        "true_distance_m": float(row.distance_m),
        "selected": hit is not None,
        "rrv": None if hit is None else float(hit["rrv"]),
        "operationalisation": None if hit is None else hit["operationalisation"],
        "spatial_influence_m": None if hit is None else float(hit["spatial_influence_m"]),
        "p_value": None if hit is None else float(hit["p_value"]),
        "within_30pct": hit is not None
        and abs(float(hit["rrv"]) / float(row.true_relative_risk) - 1) <= 0.3,
        "max_unplanted_rrv": float(unplanted["rrv"].max()) if len(unplanted) else None,
        "unplanted_selected": unplanted.reset_index()[["factor", "rrv"]].to_dict("records"),
        "n_cells": res.report["n_cells"],
        "n_candidate_variables": res.report["n_candidate_variables"],
        "family": res.report["family"],
        "bic": res.report["bic"],
        "seconds": res.report["seconds"],
    }
    return res, cmp


def _settled_area(exposure, cell_size_m: float, buffer_m: float):
    """Add zero-location cells within ``buffer_m`` of a location with a tiny exposure floor."""
    import pandas as pd

    from vrdp.risk_terrain.grid import grid_from_points

    pos = exposure[exposure["weight"] > 0]
    g = grid_from_points(pos["easting_m"], pos["northing_m"], cell_size_m)
    k = int(np.ceil(buffer_m / cell_size_m))
    r, c = g.cells["row"].to_numpy(), g.cells["col"].to_numpy()
    dr, dc = np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1))
    ok = (dr * dr + dc * dc) * cell_size_m**2 <= buffer_m**2
    rr = (r[:, None] + dr[ok][None, :]).ravel()
    cc = (c[:, None] + dc[ok][None, :]).ravel()
    ids = np.unique(np.column_stack([rr, cc]), axis=0)
    floor = 1e-6 * float(pos["weight"].sum()) / g.n_cells
    extra = pd.DataFrame(
        {
            "easting_m": g.x0_m + (ids[:, 1] + 0.5) * cell_size_m,
            "northing_m": g.y0_m + (ids[:, 0] + 0.5) * cell_size_m,
            "weight": floor,
        }
    )
    return pd.concat([pos, extra], ignore_index=True)


def world(scale: str = "medium", seed: int = 7, cell_size_m: float = 25.0) -> dict:
    """Planted vs recovered RRVs on the simulated world (generation not timed)."""
    import tempfile

    from synthetic.config import SCALES, WorldConfig
    from synthetic.world import generate

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        generate(WorldConfig(seed=seed, scale=SCALES[scale]), Path(tmp), log=lambda *_: None)
        t_gen = time.perf_counter() - t0
        inputs = load_world_inputs(Path(tmp))
    runs = []
    for row in inputs["truth"].itertuples():
        t1 = time.perf_counter()
        _, cmp = recover_planted(inputs, row, cell_size_m=cell_size_m, settled_buffer_m=75.0)
        cmp["wall_seconds"] = round(time.perf_counter() - t1, 3)
        runs.append(cmp)
        print(cmp["factor"], cmp["rrv"], cmp["true_rr"], cmp["n_cells"], cmp["wall_seconds"])
    return {
        "scale": scale,
        "seed": seed,
        "cell_size_m": cell_size_m,
        "generate_seconds_not_counted": round(t_gen, 1),
        "runs": runs,
        "all_planted_selected_within_30pct": all(r["within_30pct"] for r in runs),
        "max_unplanted_rrv": max((r["max_unplanted_rrv"] or 0.0) for r in runs),
        "max_rtm_seconds": max(r["seconds"]["total"] for r in runs),
        "min_n_cells": min(r["n_cells"] for r in runs),
    }


def main() -> dict:
    """Run the benchmark steps and write the figures."""
    figures = {
        "world_medium": world(),
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
    w = f["world_medium"]
    print(
        f"world: {w['min_n_cells']}+ cells, max {w['max_rtm_seconds']} s; planted within 30%: "
        f"{w['all_planted_selected_within_30pct']}; max unplanted RRV {w['max_unplanted_rrv']:.2f}"
    )
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
