"""How well the early-warning detectors do on planted emerging problems.

Used by ``bench.early_warning`` (the detector benchmark) and by the early-warning
asset's model card when the simulated world's truth is at hand (evaluation only:
the detectors never see it).

- **detection delay**: weeks from a planted problem's onset week to the first alarm
  in its ward on one of its SOC categories (within :data:`MAX_DELAY_WEEKS`; later or
  never counts as missed);
- **false alarms per ward-year** on the wards with nothing planted;
- :func:`choose_default`: among detectors that detect every planted problem, the
  lowest false-alarm rate whose mean delay is within :data:`DELAY_SLACK_WEEKS` of
  the fastest.

>>> import pandas as pd
>>> weeks = pd.date_range("2025-01-06", periods=8, freq="7D")
>>> scores = pd.DataFrame({"method": "m", "ward_code": ["W1"] * 8 + ["W2"] * 8,
...     "soc_category": "county_lines", "week_start": list(weeks) * 2,
...     "alarm": [False] * 5 + [True, False, False] + [False] * 7 + [True],
...     "parameters": '{"k": 1}'})
>>> problems = pd.DataFrame({"problem_id": ["P1"], "ward_code": ["W1"],
...     "onset_week": ["2025-01-27"], "soc_categories": ["county_lines|drug_supply"]})
>>> f = evaluate(scores, problems, {"W1"})["m"]
>>> f["detections"], f["false_alarms"], f["false_alarms_per_ward_year"]
([{'problem_id': 'P1', 'delay_weeks': 2}], 1, 6.5)
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

__all__ = ["MAX_DELAY_WEEKS", "DELAY_SLACK_WEEKS", "evaluate", "choose_default"]

#: An alarm later than this after the onset does not count as detecting it.
MAX_DELAY_WEEKS = 26
#: A detector may be this many weeks slower than the fastest and still be the default.
DELAY_SLACK_WEEKS = 2.0


def evaluate(scores: pd.DataFrame, problems: pd.DataFrame, planted_wards: set[str]) -> dict:
    """Delay and false-alarm figures per detector from ``run_detectors`` scores.

    ``problems``: ``problem_id``, ``ward_code``, ``onset_week``, ``soc_categories``
    (``|``-separated); ``planted_wards``: wards left out of the false-alarm count.
    """
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
    """The default detector and the rule that chose it (see the module docstring).

    >>> choose_default({"a": {"detected": 2, "planted": 2, "mean_delay_weeks": 0.0,
    ...     "false_alarms_per_ward_year": 0.7}, "b": {"detected": 2, "planted": 2,
    ...     "mean_delay_weeks": 1.0, "false_alarms_per_ward_year": 0.06}})[0]
    'b'
    """
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
