"""Benchmark: the early-intervention cohorts on a built warehouse, against the world's truth.

``python -m bench.cohorts [--data-root data] [--world data/world/medium-seed7]``
reads a warehouse built by ``make run`` (or any data root holding one) and the
simulated world it was built from, and writes ``bench/results/cohorts.json``:
per model (victim, perpetration; never combined) the backtest on recorded
outcomes and on the simulated truth (AUC, Brier, calibration in the large,
precision and recall at the cohort size), the rules baseline (known to 2+
agencies with violence in the last 6 months) with the model's precision on a
list of the same length, the fairness report (calibration and false-positive
rate by deprivation decile and recorded ethnicity), the safeguarding list by
rule, and the seconds taken. The truth is read for evaluation only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "cohorts.json"


def run(data_root: Path, world: Path) -> dict:
    """Build the cohorts and the safeguarding list from ``data_root``'s warehouse."""
    import duckdb

    from assets.partners.cohorts import read_cohort_inputs, truth_labeller
    from vrdp.cohorts.pipeline import build_cohorts
    from vrdp.cohorts.safeguarding import load_rules, safeguarding_opportunities

    con = duckdb.connect(str(data_root / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        t0 = time.perf_counter()
        events, births, groups = read_cohort_inputs(con)
        persons = con.execute("select * from marts.dim_persons").df()
        labels = truth_labeller(con, world)
        t1 = time.perf_counter()
        run = build_cohorts(events, births, groups, seed=17, truth_labels=labels)
        t2 = time.perf_counter()
        rules = load_rules()
        listed = safeguarding_opportunities(persons, events, rules)
        t3 = time.perf_counter()
    finally:
        con.close()
    by_rule = listed["rule_ids"].str.split("|").explode().value_counts().to_dict()
    out = {
        "world": str(world),
        "as_of": str(run.as_of.date()),
        "person_event_rows": len(events),
        "seconds_read": round(t1 - t0, 2),
        "seconds_cohorts": round(t2 - t1, 2),
        "seconds_safeguarding_list": round(t3 - t2, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average_1m": os.getloadavg()[0],
        "safeguarding": {
            "rules_version": rules.version,
            "people_listed": len(listed),
            "listed_by_rule": {k: int(v) for k, v in by_rule.items()},
        },
    }
    for kind in run.cohorts:
        strip = lambda d: {k: v for k, v in d.items() if k != "calibration"}  # noqa: E731
        out[kind] = {
            "cohort_size": len(run.cohorts[kind]),
            "backtest_recorded": strip(run.backtest[kind]),
            "backtest_truth": strip(run.truth[kind]),
            "rules_baseline_recorded": run.baseline[kind],
            "fairness_truth": run.fairness[kind].drop(columns="labels").to_dict("records"),
            "weights": run.models[kind].weights(),
        }
    return out


def main(argv=None) -> dict:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", type=Path, default=Path("data"))
    ap.add_argument("--world", type=Path, default=None)
    args = ap.parse_args(argv)
    world = args.world or args.data_root / "world" / "medium-seed7"
    result = run(args.data_root.resolve(), world.resolve())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, dict)}, indent=1))
    return result


if __name__ == "__main__":
    main()
