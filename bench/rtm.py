"""Benchmark: risk terrain modelling at 100,000 cells, and the real Oxford run.

``python -m bench.rtm`` writes ``bench/results/rtm.json`` with

* **world_medium** and **world_large**: the project's simulated world (``synthetic``,
  seed 7; ``/tmp/w_medium`` and ``/tmp/w_large`` when they hold that world, else
  generated into a temporary folder; generation and reading are not timed). One RTM
  per planted factor (``truth/risk_factors.parquet``) on the RMS crimes of its crime
  types: 23 POI-category factors (licensed premises = pub + bar + nightclub) as
  proximity and density at 0.5-3 blocks of 100 m in half-block steps (276 candidate
  variables); 50 m cells (half a block, as RTMDx) holding candidate event locations
  with exposure for these crime types, minus the planted hot spots' cells (their
  multipliers act on top of the environment); offset ``log(sum of N_c * p0_c)`` per
  cell, the baseline ``p0`` each planted relative risk is defined against
  (``synthetic/README.md``). Figures: planted versus recovered RRV with its 95 %
  interval, the unplanted factors selected and their RRVs, family and BICs, cells,
  seconds per stage and the 1-minute load average around each run (the machine is
  shared). On the large world the licensed-premises run is the 100,000+-cell,
  276-variable benchmark of issue 7 (target: under 2 minutes on 2 cores);
* **per_resident_medium**: the Dagster asset's treatment on the medium world (census
  residents per cell as exposure over the cells holding a POI or a recorded crime, no
  truth used; last three months held out): per-resident RRVs next to the planted ones,
  and PAI at 5 % against the hot spot baseline;
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
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.bookkeeping import load_average, machine, peak_rss_mb, write_result
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
        RTMConfig(block_length_m=100.0, seed=0, n_jobs=2),
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
    places = {}
    for name in ("addresses", "streets"):  # reference gazetteers (worlds from before: none)
        files = sorted((world / "landing/places" / name).glob("*/*.csv"))
        places[name] = (
            pd.concat(pd.read_csv(f) for f in files).rename(
                columns={"easting": "easting_m", "northing": "northing_m"}
            )
            if files
            else None
        )
    return {
        "pois": pois,
        "addresses": places["addresses"],
        "streets": places["streets"],
        "crimes": occ,
        "truth": pd.read_parquet(world / "truth/risk_factors.parquet"),
        "locations": pd.read_parquet(world / "truth/locations.parquet"),
        "hotspot_cells": set(pd.read_parquet(world / "truth/hotspots.parquet")["h3_cell"]),
    }


def factor_name(row) -> str:
    """RTM factor name of a truth risk factor (``atm_50m`` -> ``atm``)."""
    from vrdp.risk_terrain.world import truth_factor_name

    return truth_factor_name(row.factor_id, row.distance_m)


def truth_exposure(inputs: dict, crime_types) -> pd.DataFrame:
    """Exposure table: the truth's candidate locations weighted by ``sum_c N_c * p0_c``.

    The simulator defines each planted relative risk relative to the baseline weight
    ``p0`` of a location (``synthetic/README.md``, "Reading the planted effects"), so
    ``p0`` is the exposure the truth check uses: it is what a force's footfall and
    opportunity surface stands for in the simulation. Locations with ``p0 = 0`` for
    these crime types (e.g. addresses for theft from the person) are not exposed.
    """
    import pandas as pd

    from synthetic.crime import baseline_weights

    loc, occ = inputs["locations"], inputs["crimes"]
    w = np.zeros(len(loc))
    for t in crime_types:
        n_t = int((occ["crime_type"].str.lower() == t.lower()).sum())
        w += n_t * baseline_weights(loc, t)
    return pd.DataFrame({"easting_m": loc["easting"], "northing_m": loc["northing"], "weight": w})


def hotspot_points(inputs: dict) -> pd.DataFrame:
    """Candidate locations inside the planted hot spots' H3 cells (their cells are left out).

    Hot spot multipliers act on whole H3 cells (truth), on top of the environmental
    risk, so the truth check leaves those cells out of the study area, events and
    exposure alike, as "Reading the planted effects" prescribes.
    """
    loc = inputs["locations"]
    m = loc["h3_cell"].isin(inputs["hotspot_cells"]).to_numpy()
    return pd.DataFrame(
        {"easting_m": loc["easting"].to_numpy()[m], "northing_m": loc["northing"].to_numpy()[m]}
    )


def recover_planted(inputs: dict, row, *, cell_size_m: float | None = None, config=None):
    """Run RTM for one planted factor; returns (result, comparison dict).

    POI categories are the factors (the planted factor's categories merged, e.g.
    licensed premises = pub + bar + nightclub); events are the RMS crimes of the
    factor's crime types; the study area is the half-block cells (50 m for 100 m
    blocks) holding exposure, minus the planted hot spots' cells.
    """
    from vrdp.risk_terrain.world import run_rtm_on_places

    groups = {
        factor_name(r): tuple(r.poi_categories.split("|")) for r in inputs["truth"].itertuples()
    }
    types = row.crime_types.split("|")
    t0 = time.perf_counter()
    c0 = time.process_time()
    res = run_rtm_on_places(
        inputs["pois"],
        inputs["crimes"],
        crime_types=types,
        exposure=truth_exposure(inputs, types),
        exclude=hotspot_points(inputs),
        groups=groups,
        cell_size_m=cell_size_m,
        config=config or RTMConfig(block_length_m=100.0, seed=0, n_jobs=2),
    )
    wall = time.perf_counter() - t0
    cmp = compare_to_truth(res, row, groups, wall)
    # CPU seconds of this process (all threads): on a shared machine the wall time
    # depends on the load, this does not (much)
    cmp["cpu_seconds"] = round(time.process_time() - c0, 3)
    return res, cmp


def compare_to_truth(res, row, groups, wall_seconds: float | None = None) -> dict:
    """Planted versus recovered RRV of one truth factor, and the unplanted factors' RRVs."""
    ft = res.factor_table.set_index("factor")
    name = factor_name(row)
    hit = ft.loc[name] if name in ft.index else None
    unplanted = ft.drop(index=[f for f in groups if f in ft.index])
    return {
        "factor": name,
        "crime_types": row.crime_types.split("|"),
        "events": res.report["n_events"],
        "events_in_excluded_cells": res.report["data"]["events_in_excluded_cells"],
        "true_rr": float(row.true_relative_risk),
        "true_distance_m": float(row.distance_m),
        "selected": hit is not None,
        "rrv": None if hit is None else float(hit["rrv"]),
        "rrv_ci": None if hit is None else [float(hit["rrv_ci_low"]), float(hit["rrv_ci_high"])],
        "operationalisation": None if hit is None else hit["operationalisation"],
        "spatial_influence_m": None if hit is None else float(hit["spatial_influence_m"]),
        "p_value": None if hit is None else float(hit["p_value"]),
        "within_30pct": hit is not None
        and abs(float(hit["rrv"]) / float(row.true_relative_risk) - 1) <= 0.3,
        "max_unplanted_rrv": float(unplanted["rrv"].max()) if len(unplanted) else None,
        "unplanted_selected": unplanted.reset_index()[["factor", "operationalisation", "rrv"]]
        .round({"rrv": 4})
        .to_dict("records"),
        "n_cells": res.report["n_cells"],
        "cell_size_m": res.report["cell_size_m"],
        "n_candidate_variables": res.report["n_candidate_variables"],
        "n_shortlisted": res.report["n_shortlisted"],
        "family": res.report["family"],
        "nb_alpha": res.report["nb_alpha"],
        "bic": res.report["bic"],
        "seconds": res.report["seconds"],
        "wall_seconds": None if wall_seconds is None else round(wall_seconds, 3),
    }


def _world_dir(scale: str, seed: int, path: Path | None, tmp: str) -> tuple[Path, float | None]:
    """A generated world: ``path`` if it holds one of this scale and seed, else a new one."""
    from synthetic.config import SCALES, WorldConfig
    from synthetic.world import generate

    # worlds generated before the reference gazetteers were delivered are regenerated
    if (
        path is not None
        and (path / "truth" / "world.json").exists()
        and (path / "landing" / "places" / "addresses").exists()
    ):
        meta = json.loads((path / "truth" / "world.json").read_text())
        if meta.get("scale") == scale and meta.get("seed") == seed:
            return path, None
    t0 = time.perf_counter()
    generate(WorldConfig(seed=seed, scale=SCALES[scale]), Path(tmp), log=lambda *_: None)
    return Path(tmp), round(time.perf_counter() - t0, 1)


def world(
    scale: str = "medium",
    seed: int = 7,
    *,
    path: Path | None = None,
    factors: tuple[str, ...] | None = None,
) -> dict:
    """Planted vs recovered RRVs on a simulated world, one RTM per planted factor.

    ``path``: an already generated world of this scale and seed (e.g. ``/tmp/w_medium``);
    otherwise one is generated into a temporary folder (generation is not timed).
    ``factors``: RTM factor names to run (default all planted ones).
    """
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        where, t_gen = _world_dir(scale, seed, path, tmp)
        t0 = time.perf_counter()
        inputs = load_world_inputs(where)
        t_load = time.perf_counter() - t0
    runs = []
    for row in inputs["truth"].itertuples():
        if factors is not None and factor_name(row) not in factors:
            continue
        load0 = load_average()
        _, cmp = recover_planted(inputs, row)
        cmp["load_average_before_after"] = [load0, load_average()]
        runs.append(cmp)
        print(
            f"{scale} {cmp['factor']}: RRV {cmp['rrv']} (planted {cmp['true_rr']}), "
            f"{cmp['n_cells']} cells, {cmp['n_candidate_variables']} variables, "
            f"{cmp['seconds']['total']} s ({cmp['cpu_seconds']} s CPU)",
            flush=True,
        )
    return {
        "scale": scale,
        "seed": seed,
        "world": "pre-generated" if t_gen is None else "generated for the benchmark",
        "generate_seconds_not_counted": t_gen,
        "read_inputs_seconds_not_counted": round(t_load, 1),
        "method": "23 POI-category factors (licensed premises = pub + bar + nightclub), "
        "proximity and density at 0.5-3 blocks of 100 m in half-block steps (276 "
        "variables); 50 m cells holding exposure; planted hot spot cells left out; "
        "offset log(sum N_c p0_c) of the truth's candidate locations; elastic-net "
        "5-fold CV shortlist (30 max; folds fitted in 2 threads), stepwise BIC for Poisson and "
        "NB2, lower BIC wins",
        "runs": runs,
        "all_planted_selected_within_30pct": all(r["within_30pct"] for r in runs),
        "max_unplanted_rrv": max((r["max_unplanted_rrv"] or 0.0) for r in runs),
        "max_rtm_seconds": max(r["seconds"]["total"] for r in runs),
        "max_n_cells": max(r["n_cells"] for r in runs),
    }


def per_resident(scale: str = "medium", seed: int = 7, *, path: Path | None = None) -> dict:
    """The assets' exposure on a simulated world: census residents per cell, no truth used.

    Same factors, crimes and cells as :func:`world`, but the study area and offset of
    :func:`~vrdp.risk_terrain.world.run_rtm_per_resident` (what the Dagster asset runs),
    model period all but the last three months, validation on the last three against
    the hot spot baseline. Shows how far per-resident RRVs sit from the planted ones.
    """
    import tempfile

    from vrdp.risk_terrain.world import run_rtm_per_resident, truth_recovery

    with tempfile.TemporaryDirectory() as tmp:
        where, _ = _world_dir(scale, seed, path, tmp)
        inputs = load_world_inputs(where)
    pois = inputs["pois"]
    model, nxt, last3 = _split_periods(inputs["crimes"])
    groups = {
        factor_name(r): tuple(r.poi_categories.split("|")) for r in inputs["truth"].itertuples()
    }
    runs = []
    for row in inputs["truth"].itertuples():
        types = row.crime_types.split("|")
        t0 = time.perf_counter()
        res = run_rtm_per_resident(
            pois,
            model,
            crime_types=types,
            groups=groups,
            next_crimes=nxt,
            config=RTMConfig(block_length_m=100.0, seed=0, n_jobs=2),
        )
        rec = truth_recovery(res, inputs["truth"].iloc[[row.Index]], types).iloc[0]
        runs.append(
            {
                "factor": rec["factor"],
                "planted_rr": rec["planted_rr"],
                "rrv": None if pd.isna(rec["rrv"]) else float(rec["rrv"]),
                "ratio_to_planted": None
                if pd.isna(rec["ratio_to_planted"])
                else float(rec["ratio_to_planted"]),
                "n_cells": res.report["n_cells"],
                "family": res.report["family"],
                "n_selected": res.report["n_selected"],
                "max_rrv": float(res.factor_table["rrv"].max()) if len(res.factor_table) else None,
                "pai_5pct": _pai_5pct(res),
                "wall_seconds": round(time.perf_counter() - t0, 3),
            }
        )
        print(f"per resident {scale} {runs[-1]['factor']}: RRV {runs[-1]['rrv']}", flush=True)
    return {
        "scale": scale,
        "seed": seed,
        "model_months": "all but the last three",
        "next_months": last3,
        "exposure": "2011 census residents per 50 m cell over the cells holding a POI or "
        "a recorded crime (the Dagster asset's treatment; no truth used)",
        "runs": runs,
    }


def _pai_5pct(res) -> dict:
    """PAI at 5 % of the study cells: the RTM layer and the hot spot baseline."""
    v = res.validation.set_index("coverage")
    return {"rtm": float(v.loc[0.05, "rtm_pai"]), "hotspot": float(v.loc[0.05, "hotspot_pai"])}


def _split_periods(crimes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Model period (all but the last three months) and the last three months."""
    month = crimes["committed_from"].str[:7]
    # months of the world's period (planted faults put a few records in e.g. 2099)
    per_month = month.value_counts()
    valid = sorted(per_month[per_month >= 0.1 * per_month.median()].index)
    last3 = valid[-3:]
    return crimes[month.isin(valid) & ~month.isin(last3)], crimes[month.isin(last3)], last3


def reference_places(
    scale: str = "medium",
    seed: int = 7,
    *,
    path: Path | None = None,
    factors: tuple[str, ...] | None = None,
) -> dict:
    """The asset's exposure on a simulated world: reference places, attractions estimated.

    :func:`~vrdp.risk_terrain.world.run_rtm_on_reference_places` (what the Dagster
    asset runs when the address and street gazetteers have landed): candidate
    locations = the delivered address and street gazetteers and the POIs, each
    class's attraction estimated jointly with the RTM; nothing from the truth. Model
    period all but the last three months, validation on the last three. Each factor
    twice: over every study cell (the asset), and with the planted hot spots' cells
    left out (the evaluation region of "Reading the planted effects": their
    multipliers act on top of the environment).
    """
    import tempfile

    from vrdp.risk_terrain.world import run_rtm_on_reference_places

    with tempfile.TemporaryDirectory() as tmp:
        where, _ = _world_dir(scale, seed, path, tmp)
        inputs = load_world_inputs(where)
    if inputs["addresses"] is None or inputs["streets"] is None:
        raise SystemExit(f"{where} has no address/street gazetteer: regenerate the world")
    model, nxt, last3 = _split_periods(inputs["crimes"])
    groups = {
        factor_name(r): tuple(r.poi_categories.split("|")) for r in inputs["truth"].itertuples()
    }
    runs = []
    for row in inputs["truth"].itertuples():
        if factors is not None and factor_name(row) not in factors:
            continue
        types = row.crime_types.split("|")
        for region, exclude in (
            ("all_cells", None),
            ("hot_spots_left_out", hotspot_points(inputs)),
        ):
            load0 = load_average()
            t0 = time.perf_counter()
            c0 = time.process_time()
            res = run_rtm_on_reference_places(
                inputs["pois"],
                model,
                inputs["addresses"],
                inputs["streets"],
                crime_types=types,
                groups=groups,
                next_crimes=nxt,
                exclude=exclude,
                config=RTMConfig(block_length_m=100.0, seed=0, n_jobs=2),
            )
            wall = time.perf_counter() - t0
            cmp = compare_to_truth(res, row, groups, wall)
            cmp["cpu_seconds"] = round(time.process_time() - c0, 3)
            cmp["load_average_before_after"] = [load0, load_average()]
            em = res.report["exposure_model"]
            att = {a["location_class"]: a["attraction"] for a in em["attractions"]}
            cmp.update(
                {
                    "region": region,
                    "ratio_to_planted": None if cmp["rrv"] is None else cmp["rrv"] / cmp["true_rr"],
                    "selections": len(em["selections"]),
                    "exposure_converged": em["converged"],
                    "attraction_per_address": att.get("address"),
                    "attractions_relative_to_address": {
                        k: round(x / att["address"], 3) for k, x in att.items() if att["address"]
                    },
                    "pai_5pct": _pai_5pct(res),
                }
            )
            runs.append(cmp)
            print(
                f"reference places {scale} {cmp['factor']} ({region}): RRV {cmp['rrv']} "
                f"(planted {cmp['true_rr']}), max unplanted {cmp['max_unplanted_rrv']}, "
                f"{cmp['n_cells']} cells, {cmp['wall_seconds']} s",
                flush=True,
            )
    by_region = {
        reg: {
            "all_planted_selected_within_30pct": all(
                r["within_30pct"] for r in runs if r["region"] == reg
            ),
            "within_30pct": [r["factor"] for r in runs if r["region"] == reg and r["within_30pct"]],
            "not_selected": [r["factor"] for r in runs if r["region"] == reg and not r["selected"]],
            "max_unplanted_rrv": max(
                (r["max_unplanted_rrv"] or 0.0) for r in runs if r["region"] == reg
            ),
        }
        for reg in ("all_cells", "hot_spots_left_out")
    }
    return {
        "scale": scale,
        "seed": seed,
        "model_months": "all but the last three",
        "next_months": last3,
        "exposure": "candidate locations of the delivered address and street gazetteers and "
        "the POIs by category, each class's attraction estimated jointly with the RTM (the "
        "Dagster asset's treatment; no truth used)",
        "summary": by_region,
        "runs": runs,
    }


STEPS = (
    "world_medium",
    "world_large",
    "per_resident_medium",
    "reference_places_medium",
    "reference_places_large",
    "simulated_100k",
    "oxford_real",
)


def headline(large: dict) -> dict:
    """Issue 7's benchmark from the large world: the largest run's cells, variables, time."""
    run = max(large["runs"], key=lambda r: r["n_cells"] * r["events"])
    return {
        "run": f"world_large / {run['factor']}",
        "n_cells": run["n_cells"],
        "n_candidate_variables": run["n_candidate_variables"],
        "events": run["events"],
        # grid, exposure and offset, variables, selection, scoring, clusters, validation
        "seconds_selected_and_scored": run["wall_seconds"],
        "seconds_by_stage": run["seconds"],
        "cpu_seconds": run.get("cpu_seconds"),
        "loadavg_1min_before_after": run.get("loadavg_1min_before_after"),
        "target": "100,000+ cells and 100+ variables in under 120 s on 2 cores",
        "met": run["n_cells"] >= 100_000
        and run["n_candidate_variables"] >= 100
        and run["wall_seconds"] < 120,
    }


def main(
    medium: Path | None = None, large: Path | None = None, steps: tuple[str, ...] = STEPS
) -> dict:
    """Run the benchmark steps and write the figures.

    Steps not run keep their figures from an existing ``rtm.json`` (so one step can be
    re-measured on its own); ``python -m bench.rtm`` runs them all.
    """
    load_start = load_average()
    figures = json.loads(OUT.read_text()) if OUT.exists() and set(steps) != set(STEPS) else {}
    run = {
        "world_medium": lambda: world("medium", path=medium),
        "world_large": lambda: world("large", path=large),
        "per_resident_medium": lambda: per_resident("medium", path=medium),
        "reference_places_medium": lambda: reference_places("medium", path=medium),
        "reference_places_large": lambda: reference_places(
            "large", path=large, factors=("licensed_premises",)
        ),
        "simulated_100k": simulated,
        "oxford_real": oxford,
    }
    for step in steps:
        figures[step] = run[step]()
    if "world_large" in figures:
        figures["benchmark_100k"] = headline(figures["world_large"])
    figures.update(
        {
            "steps_run_last": list(steps),
            "peak_rss_mb": peak_rss_mb(),
            "load_average_before": load_start,
            "load_average_after": load_average(),
            **machine(),
            "numpy": np.__version__,
            "command": ".venv/bin/python -m bench.rtm",
        }
    )
    write_result(OUT, figures)
    return figures


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--medium", type=Path, default=Path("/tmp/w_medium"), help="generated world")
    ap.add_argument("--large", type=Path, default=Path("/tmp/w_large"), help="generated world")
    ap.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    args = ap.parse_args()
    f = main(args.medium, args.large, tuple(args.steps))
    for key in ("world_medium", "world_large"):
        if key not in f:
            continue
        w = f[key]
        print(
            f"{key}: up to {w['max_n_cells']} cells, max {w['max_rtm_seconds']} s; planted "
            f"within 30%: {w['all_planted_selected_within_30pct']}; max unplanted RRV "
            f"{w['max_unplanted_rrv']:.2f}"
        )
    if "benchmark_100k" in f:
        b = f["benchmark_100k"]
        print(
            f"benchmark: {b['n_cells']} cells, {b['n_candidate_variables']} variables, "
            f"{b['seconds_selected_and_scored']} s ({b['cpu_seconds']} s CPU); met: {b['met']}"
        )
    for key in ("reference_places_medium", "reference_places_large"):
        if key in f:
            for reg, r in f[key]["summary"].items():
                print(
                    f"{key} ({reg}): within 30%: {r['within_30pct']}; not selected: "
                    f"{r['not_selected']}; max unplanted RRV {r['max_unplanted_rrv']:.2f}"
                )
    if "simulated_100k" in f:
        s = f["simulated_100k"]
        print(
            f"simulated: {s['n_cells']} cells, {s['n_candidate_variables']} variables, "
            f"{s['seconds']['total']} s; planted recovered: {s['all_planted_within_30pct']}"
        )
    if "oxford_real" in f:
        o = f["oxford_real"]
        print(
            f"oxford: {o['n_cells']} cells, {o['n_events_model_period']} crimes, "
            f"family {o['family']}"
        )
        for row in o["factor_table"]:
            print(
                f"  {row['factor']:<24} {row['operationalisation']:<9} "
                f"{row['spatial_influence_m']:>6.0f} m  RRV {row['rrv']:.2f}  "
                f"p {row['p_value']:.2g}"
            )
    print(f"wrote {OUT}")
