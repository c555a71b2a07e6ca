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
import numpy as np
import pandas as pd

from vrdp.early_warning import DETECTORS, run_detectors

OUT = Path(__file__).resolve().parent / "results" / "early_warning.json"
#: An alarm later than this after the onset does not count as detecting it.
MAX_DELAY_WEEKS = 26
#: A detector may be this many weeks slower than the fastest and still be the default.
DELAY_SLACK_WEEKS = 2.0


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


def evaluate(scores: pd.DataFrame, problems: pd.DataFrame, planted_wards: set[str]) -> dict:
    """Delay and false-alarm figures per detector from :func:`run_detectors` scores."""
    out = {}
    for method, s in scores.groupby("method", sort=True):
        delays = []
        for _, p in problems.iterrows():
            cats = p["soc_categories"].split("|")
            onset = pd.Timestamp(p["onset_week"])
            hit = s[
                (s["ward_code"] == p["ward_code"])
                & s["soc_category"].isin(cats)
                & s["alarm"]
                & (s["week_start"] >= onset)
                & (s["week_start"] <= onset + pd.Timedelta(weeks=MAX_DELAY_WEEKS))
            ]
            delay = None if hit.empty else int((hit["week_start"].min() - onset).days // 7)
            delays.append({"problem_id": p["problem_id"], "delay_weeks": delay})
        quiet = s[~s["ward_code"].isin(planted_wards)]
        n_weeks = s["week_start"].nunique()
        n_wards = quiet["ward_code"].nunique()
        ward_years = n_wards * n_weeks / 52.0
        alarms = int(quiet["alarm"].sum())
        ward_weeks_alarmed = quiet.loc[
            quiet["alarm"], ["ward_code", "week_start"]
        ].drop_duplicates()
        got = [d["delay_weeks"] for d in delays if d["delay_weeks"] is not None]
        out[method] = {
            "detections": delays,
            "detected": len(got),
            "planted": len(delays),
            "mean_delay_weeks": float(np.mean(got)) if got else None,
            "false_alarms": alarms,
            "ward_years_without_planted_problem": round(ward_years, 1),
            "false_alarms_per_ward_year": round(alarms / ward_years, 3) if ward_years else None,
            "share_of_quiet_ward_weeks_alarmed": round(
                len(ward_weeks_alarmed) / max(n_wards * n_weeks, 1), 4
            ),
            "parameters": json.loads(s["parameters"].iloc[0]),
        }
    return out


def choose_default(figures: dict) -> tuple[str, str]:
    """The default detector and the rule that chose it (see the module docstring)."""
    full = {m: f for m, f in figures.items() if f["detected"] == f["planted"] and f["planted"]}
    pool = full or {m: f for m, f in figures.items() if f["detected"]}
    if not pool:
        return "farrington", "no detector detected a planted problem: kept farrington"
    fastest = min(f["mean_delay_weeks"] for f in pool.values())
    ok = {m: f for m, f in pool.items() if f["mean_delay_weeks"] <= fastest + DELAY_SLACK_WEEKS}
    best = min(ok, key=lambda m: (ok[m]["false_alarms_per_ward_year"], ok[m]["mean_delay_weeks"]))
    rule = (
        f"detects {'every' if full else 'the most'} planted line, mean delay within "
        f"{DELAY_SLACK_WEEKS:g} weeks of the fastest ({fastest:.1f}), fewest false alarms per "
        "ward-year"
    )
    return best, rule


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
