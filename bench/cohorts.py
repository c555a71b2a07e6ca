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
rule, and the seconds taken. Also per model: the history baseline (a count of
the outcome's own kind of record in the last 12 months), the checked feature and
outcome windows, and a ranking by the world's true propensities (what no platform
can know). The truth is read for evaluation only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "cohorts.json"


def _ceiling(con, world: Path, run, events, births, labels) -> dict:
    """Per model: the world's own true propensities as a ranking at the backtest cutoff.

    What no platform can know. For perpetration it is close to a ceiling (suspects
    are drawn by offender propensity); for victims it is not (victims are drawn by
    propensity within their area, so area crime volume matters as much), which is
    why the victim model can beat it.
    """
    import pandas as pd

    from vrdp.cohorts.model import cohort_size_for, evaluate
    from vrdp.cohorts.pipeline import OUTCOME_DAYS, eligible_people
    from vrdp.cohorts.truth import true_person_of, true_propensities

    t_test = run.as_of + pd.Timedelta(days=1 - OUTCOME_DAYS)
    people = eligible_people(births, events, t_test)
    y = labels(people, t_test, OUTCOME_DAYS)
    ids = con.execute(
        "select person_key, agency, dataset, record_id from restricted.identity.person_identifiers"
    ).df()
    prop = true_propensities(true_person_of(ids, world / "truth"), world / "truth")
    prop = prop.reindex(people).fillna(0.0)
    k = cohort_size_for(len(people))
    out = {}
    for kind, label in (("victim", "victim"), ("perpetration", "perpetrator")):
        m = evaluate(prop[kind], y[label], k)
        out[kind] = {
            "ranking": f"the world's true {kind} propensity of each person (evaluation only)",
            "auc": m["auc"],
            "precision_at_cohort": m["precision_at_cohort"],
            "cohort_size": k,
        }
    return out


def run(data_root: Path, world: Path) -> dict:
    """Build the cohorts and the safeguarding list from ``data_root``'s warehouse."""
    import duckdb

    from assets.partners.cohorts import read_cohort_inputs, truth_labeller
    from vrdp.cohorts.pipeline import build_cohorts
    from vrdp.cohorts.safeguarding import load_rules, safeguarding_opportunities
    from vrdp.governance.permissions import attach_restricted

    con = duckdb.connect(str(data_root / "warehouse" / "vrdp.duckdb"), read_only=True)
    # births and ethnicity (eligibility and fairness only) live in the restricted layer
    attach_restricted(con, data_root / "restricted" / "identity.duckdb", read_only=True)
    try:
        t0 = time.perf_counter()
        events, births, groups = read_cohort_inputs(con)
        persons = con.execute("select * from marts.dim_persons").df()
        labels = truth_labeller(con, world)
        t1 = time.perf_counter()
        run = build_cohorts(events, births, groups, seed=17, truth_labels=labels)
        t2 = time.perf_counter()
        ceiling = _ceiling(con, world, run, events, births, labels)
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
            "history_baseline_recorded": run.history[kind],
            "windows": run.windows[kind],
            "true_propensity_ranking": ceiling[kind],
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
