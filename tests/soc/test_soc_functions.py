"""Pure functions of the SOC views on small hand-made data (fast)."""

import numpy as np
import pandas as pd
import pytest

from dashboard.data import suppress
from vrdp.early_warning import DETECTORS, alarm_rows, farrington, run_detectors
from vrdp.evaluation.chb import did_rate_ratio, evaluate_sites, synthetic_control


def _series(seed, weeks=104, base=2.0, surge_at=None, surge=6.0):
    rng = np.random.default_rng(seed)
    lam = np.full(weeks, base)
    if surge_at is not None:
        lam[surge_at:] += surge
    return rng.poisson(lam)


@pytest.mark.parametrize("method", sorted(DETECTORS))
def test_every_detector_sees_a_surge_soon_after_it_starts(method):
    y = _series(3, surge_at=80, surge=8.0)
    d = DETECTORS[method](y)
    after = np.flatnonzero(d.alarm[80:])
    assert len(after) and after[0] <= 3
    assert d.method == method and d.parameters
    ok = ~np.isnan(d.score)
    assert ok[60:].all() and np.isfinite(d.upper_bound[ok]).all()


def test_false_alarms_are_rare_on_a_steady_series():
    rates = {
        m: np.mean([DETECTORS[m](_series(s)).alarm.mean() for s in range(20)]) for m in DETECTORS
    }
    assert rates["farrington"] < 0.02 and rates["poisson_cusum"] < 0.02
    assert rates["ears_c3"] > rates["poisson_cusum"]  # the reason EARS is not the default


def test_farrington_minimum_count_guard():
    y = np.r_[np.zeros(60), [3]]  # a jump from nothing, below the 5-in-4-weeks guard
    assert not farrington(y).alarm[-1]
    assert farrington(np.r_[np.zeros(60), [3, 3]]).alarm[-1]


def test_alarm_rows_carry_their_events():
    p = pd.DataFrame(
        {
            "ward_code": "W1",
            "soc_category": "county_lines",
            "period_start": pd.date_range("2025-01-06", periods=12, freq="7D"),
            "soc_events": [1, 0, 1, 2, 1, 0, 1, 1, 1, 9, 0, 0],
        }
    )
    events = pd.DataFrame(
        {
            "event_key": [f"e{i}" for i in range(9)],
            "ward_code": "W1",
            "soc_category": "county_lines",
            "week_start": pd.Timestamp("2025-03-10"),
            "event_type": ["crime"] * 4 + ["intelligence"] * 5,
        }
    )
    al = alarm_rows(run_detectors(p, methods=("ears_c1",)), events)
    assert len(al) == 1
    row = al.iloc[0]
    assert (
        row["driving_event_count"] == 9 and row["driving_event_types"] == "crime:4|intelligence:5"
    )
    assert row["observed"] == 9 and row["expected"] < row["upper_bound"] < 9


def test_did_recovers_a_planted_ratio_within_its_ci():
    rng = np.random.default_rng(3)
    weeks = 120
    pre = np.arange(weeks) < 80
    covered = 0
    for _ in range(40):
        t = rng.poisson(np.where(pre, 5.0, 2.5))  # true rate ratio 0.5
        c = rng.poisson(np.full(weeks, 50.0))
        r = did_rate_ratio(t, c, pre, ~pre)
        covered += r["ci_low"] <= 0.5 <= r["ci_high"]
    assert covered >= 35  # 95% intervals: about 38 of 40


def test_synthetic_control_needs_donors_and_finds_a_drop():
    rng = np.random.default_rng(5)
    weeks = 100
    pre = np.arange(weeks) < 70
    donors = rng.poisson(np.linspace(3, 8, 10)[None, :].repeat(weeks, 0))
    treated = rng.poisson(np.where(pre, 5.5, 2.0))
    assert synthetic_control(treated, donors[:, :3], pre, ~pre) is None
    r = synthetic_control(treated, donors, pre, ~pre)
    assert r["rate_ratio"] < 0.6 and r["ci_high"] < 1


def test_evaluate_sites_one_row_per_site_phase_measure_method():
    rng = np.random.default_rng(9)
    weeks = pd.date_range("2024-01-01", periods=100, freq="7D")
    rows = []
    for w in [f"W{i}" for i in range(25)]:
        lam = np.full(100, 4.0)
        if w == "W0":
            lam[60:76] = 2.0
        rows.append(
            pd.DataFrame(
                {
                    "ward_code": w,
                    "week_start": weeks,
                    "measure": "crime",
                    "events": rng.poisson(lam),
                }
            )
        )
    phases = pd.DataFrame(
        {
            "site_id": "S1",
            "site_name": "S1",
            "ward_code": "W0",
            "phase": ["clear", "hold"],
            "phase_start": [weeks[60], weeks[68]],
            "phase_end": [weeks[67], weeks[75]],
        }
    )
    out = evaluate_sites(pd.concat(rows), phases)
    assert sorted(out["method"].unique()) == ["did", "synthetic_control"]
    assert len(out) == 4
    did = out[out["method"] == "did"]
    assert (did["ci_low"] <= 0.5).all() and (did["rate_ratio"] < 1).all()


def test_small_counts_suppressed_for_partners():
    assert [suppress(n) for n in (0, 1, 4, 5, 17)] == ["0", "<5", "<5", "5", "17"]
