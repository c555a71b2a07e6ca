"""Benchmark: early-warning detectors on the planted emerging problems.

``python -m bench.early_warning [--data-root DIR]`` reads ``marts.fct_ward_soc_weekly``
from the warehouse a pipeline run built (``VRDP_DATA_ROOT``, default ``data/``,
after ``make run``) and the truth of the simulated world it loaded
(``<data root>/world/<scale>-seed<seed>/truth``: ``emerging_problems.parquet`` and
``chb_phase_effects.parquet``), runs every detector of ``vrdp.early_warning`` on every
ward x SOC category weekly series, and writes ``bench/results/early_warning.json``:

* **detection delay** per detector and planted county line: weeks from the onset
  week to the first alarm in the line's ward on one of its SOC categories (within
  26 weeks; later or never counts as missed);
* **false alarms per ward-year** on the wards with nothing planted (not a county-line
  or CHB ward): alarms (ward x category x week) divided by the ward-years scored, and
  the share of those ward-weeks with any alarm;
* the **default detector**: among detectors that detect every planted line, the
  lowest false-alarm rate whose mean delay is within 2 weeks of the fastest; the
  choice is recorded with the figures. Truth is read here for evaluation only.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import duckdb
import pandas as pd

from vrdp.early_warning import DETECTORS, run_detectors
from vrdp.early_warning.evaluation import MAX_DELAY_WEEKS, choose_default, evaluate

OUT = Path(__file__).resolve().parent / "results" / "early_warning.json"


def _truth_dir(root: Path) -> Path:
    worlds = sorted((root / "world").glob("*-seed*/truth/emerging_problems.parquet"))
    if not worlds:
        raise SystemExit(
            f"no simulated world with SOC truth under {root / 'world'}: make run first"
        )
    scale = os.environ.get("VRDP_WORLD_SCALE", "medium")
    seed = os.environ.get("VRDP_WORLD_SEED", "7")
    want = root / "world" / f"{scale}-seed{seed}" / "truth"
    return want if (want / "emerging_problems.parquet").exists() else worlds[0].parent


def main() -> None:
    """Run every detector on the warehouse's weekly ward panel and write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=os.environ.get("VRDP_DATA_ROOT", "data"))
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--truth", help="the truth/ folder (default: found under the data root)")
    args = ap.parse_args()
    root = Path(args.data_root).resolve()
    truth = Path(args.truth) if args.truth else _truth_dir(root)
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        panel = con.execute(
            "select ward_code, soc_category, period_start, soc_events"
            " from marts.fct_ward_soc_weekly order by 1, 2, 3"
        ).df()
    finally:
        con.close()
    problems = pd.read_parquet(truth / "emerging_problems.parquet")
    chb = pd.read_parquet(truth / "chb_phase_effects.parquet")
    planted = set(problems["ward_code"]) | set(chb["ward_code"])
    timings = {}
    parts = []
    for m in DETECTORS:
        t0 = time.perf_counter()
        parts.append(run_detectors(panel, methods=(m,)))
        timings[m] = round(time.perf_counter() - t0, 2)
    scores = pd.concat(parts, ignore_index=True)
    figures = evaluate(scores, problems, planted)
    for m, f in figures.items():
        f["seconds"] = timings[m]
    best, rule = choose_default(figures)
    result = {
        "benchmark": "early_warning",
        "world": str(truth.parent.name),
        "truth": "read for evaluation only",
        "series": int(panel.groupby(["ward_code", "soc_category"]).ngroups),
        "weeks": int(panel["period_start"].nunique()),
        "planted_problems": problems.assign(onset_week=problems["onset_week"].astype(str))[
            ["problem_id", "ward_code", "onset_week", "soc_categories"]
        ].to_dict("records"),
        "wards_excluded_from_false_alarms": sorted(planted),
        "max_delay_weeks": MAX_DELAY_WEEKS,
        "detectors": figures,
        "default_detector": best,
        "default_rule": rule,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    for m, f in figures.items():
        print(
            f"{m:14s} detected {f['detected']}/{f['planted']} delay {f['mean_delay_weeks']} "
            f"false/ward-year {f['false_alarms_per_ward_year']}"
        )
    print(f"default: {best} ({rule}) -> {args.out}")


if __name__ == "__main__":
    main()
