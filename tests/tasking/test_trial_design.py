"""The platform allocates: cohort rule, randomisation, balance, recorded design and locking."""

import json

import dagster as dg
import h3
import numpy as np
import pandas as pd
import pytest

from assets.patrol.common import TRIAL_ALLOCATION_KEY, TRIAL_UNITS_KEY
from assets.patrol.design import trial_allocation, trial_design_dir, trial_units
from config.resources import PlatformConfig
from vrdp.tasking import choose_cohort, risk_weighted_draw


def _hotspot_list(n=60, seed=3):
    """A force hot spot list over Oxford: cells on a grid, risk falling with rank."""
    rng = np.random.default_rng(seed)
    cells = []
    for i in range(n):
        lat = 51.70 + 0.006 * (i % 10)
        lon = -1.30 + 0.009 * (i // 10)
        cells.append(h3.latlng_to_cell(lat, lon, 9))
    return pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "h3_cell": cells,
            "selected": True,
            "harm_days": np.sort(rng.gamma(2.0, 50.0, n))[::-1],
            "events": rng.poisson(30, n),
            "risk_score": np.linspace(5.0, 0.5, n),
            "hot_periods": np.where(np.arange(n) % 7 == 3, 1, 3),
        }
    )


@pytest.fixture
def root(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("VRDP_DATA_ROOT", str(data))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("VRDP_TRIAL_SOURCE", "platform")
    monkeypatch.setenv("VRDP_TRIAL_START", "2026-01-05")
    monkeypatch.setenv("VRDP_TRIAL_DAYS", "28")
    monkeypatch.setenv("VRDP_TRIAL_UNITS", "24")
    monkeypatch.setenv("VRDP_TRIAL_SEED", "15")
    for v in ("VRDP_TRIAL_DESIGN",):
        monkeypatch.delenv(v, raising=False)
    lake = data / "lake" / "force_hotspots"
    lake.mkdir(parents=True)
    _hotspot_list().to_parquet(lake / "hotspot_list.parquet")
    return data


def _run(raise_on_error=True):
    return dg.materialize(
        [trial_units, trial_allocation],
        resources={"platform": PlatformConfig()},
        raise_on_error=raise_on_error,
    )


def _meta(result, key):
    (m,) = [
        e.materialization for e in result.get_asset_materialization_events() if e.asset_key == key
    ]
    return {k: v.value for k, v in m.metadata.items()}


def test_cohort_rule_keeps_stable_separated_cells_by_forecast_risk():
    hl = _hotspot_list()
    cohort, rule = choose_cohort(hl, n_units=24, min_separation_m=400, min_hot_periods=2)
    assert len(cohort) == 24
    assert set(cohort["h3_cell"]).isdisjoint(hl.loc[hl["hot_periods"] < 2, "h3_cell"])
    assert cohort["risk"].is_monotonic_decreasing
    lat, lon = cohort["latitude"].to_numpy(), cohort["longitude"].to_numpy()
    for i in range(len(cohort)):
        d = h3.great_circle_distance((lat[i], lon[i]), (lat[0], lon[0]), unit="m")
        assert i == 0 or d >= 400
    assert "400 m" in rule and "forecast risk" in rule
    tight, _ = choose_cohort(hl, n_units=24, min_separation_m=1500, min_hot_periods=2)
    assert len(tight) < 24  # the rule is applied, not just the count


def test_platform_randomises_records_seed_and_digest_and_is_balanced(root):
    result = _run()
    units = _meta(result, TRIAL_UNITS_KEY)
    alloc = _meta(result, TRIAL_ALLOCATION_KEY)
    assert units["source"] == "platform" and units["units"] == 24
    assert "forecast risk" in units["rule"]
    assert alloc["seed"] == 15 and alloc["design"] == "simple_daily"
    assert alloc["days"] == 28 and alloc["first_day"] == "2026-01-05"
    assert "smd" in alloc["balance_table"]
    assert alloc["balance_max_abs_smd"] < 0.1  # daily re-randomisation over 672 unit-days
    # the same table beside the allocation, for make run's summary
    balance = pd.read_csv(trial_design_dir(root / "lake") / "balance.csv")
    assert balance["smd"].abs().max() == pytest.approx(alloc["balance_max_abs_smd"], abs=1e-4)
    table = pd.read_parquet(trial_design_dir(root / "lake") / "trial_allocation.parquet")
    per_day = table.groupby("date")["arm"].apply(lambda s: (s == "patrol").sum())
    assert (per_day == 12).all()
    design = json.loads((trial_design_dir(root / "lake") / "trial_design.json").read_text())
    assert design["seed"] == 15 and design["rule"] == units["rule"]
    # the same design again: the cohort is frozen and the digest does not change
    again = _run()
    assert _meta(again, TRIAL_UNITS_KEY)["cohort_frozen"] is True
    assert _meta(again, TRIAL_ALLOCATION_KEY)["allocation_digest"] == alloc["allocation_digest"]
    assert _meta(again, TRIAL_ALLOCATION_KEY)["digest_changed"] is False


def test_a_design_change_to_a_started_trial_fails_clearly(root, monkeypatch):
    _run()
    stored = pd.read_parquet(trial_design_dir(root / "lake") / "trial_allocation.parquet")
    monkeypatch.setenv("VRDP_TRIAL_SEED", "16")
    with pytest.raises(dg.Failure, match=r"started on 2026-01-05 is locked.*seed: 15 -> 16"):
        _run()
    monkeypatch.setenv("VRDP_TRIAL_SEED", "15")
    monkeypatch.setenv("VRDP_TRIAL_DAYS", "30")  # two more days, both already started
    with pytest.raises(dg.Failure, match="is locked"):
        _run()
    after = pd.read_parquet(trial_design_dir(root / "lake") / "trial_allocation.parquet")
    pd.testing.assert_frame_equal(stored, after)
    monkeypatch.setenv("VRDP_TRIAL_START", "")  # ending a started trial silently is refused too
    with pytest.raises(dg.Failure, match="started unit-days"):
        _run()


def test_a_future_trial_can_still_be_redesigned(root, monkeypatch):
    start = (pd.Timestamp.now() + pd.Timedelta(days=10)).date().isoformat()
    monkeypatch.setenv("VRDP_TRIAL_START", start)
    first = _meta(_run(), TRIAL_ALLOCATION_KEY)
    monkeypatch.setenv("VRDP_TRIAL_SEED", "16")
    monkeypatch.setenv("VRDP_TRIAL_DESIGN", "block")
    second = _meta(_run(), TRIAL_ALLOCATION_KEY)
    assert second["seed"] == 16 and second["design"] == "block"
    assert second["allocation_digest"] != first["allocation_digest"]
    assert second["locked_days_as_of_run"] == 0


def test_no_trial_start_means_no_trial(root, monkeypatch):
    monkeypatch.setenv("VRDP_TRIAL_START", "")
    result = _run()
    assert _meta(result, TRIAL_UNITS_KEY)["trial_running"] is False
    assert "risk-weighted" in _meta(result, TRIAL_UNITS_KEY)["allocation"]
    assert _meta(result, TRIAL_ALLOCATION_KEY)["trial_running"] is False


def test_risk_weighted_draw_is_seeded_and_follows_risk():
    hl = _hotspot_list()
    days = pd.date_range("2026-02-01", periods=200)
    draws = pd.concat([risk_weighted_draw(hl, d, k=10, seed=4) for d in days])
    assert (draws.groupby("date")["drawn"].sum() == 10).all()
    share = draws.groupby("h3_cell")["drawn"].mean()
    top, bottom = hl["h3_cell"].iloc[:10], hl["h3_cell"].iloc[-10:]
    assert share[top].mean() > 2 * share[bottom].mean()  # risk-weighted
    assert (share > 0).mean() > 0.9  # but spread over the list
    a = risk_weighted_draw(hl, "2026-02-03", k=10, seed=4)
    assert a.equals(risk_weighted_draw(hl, "2026-02-03", k=10, seed=4))
    assert not a["drawn"].equals(risk_weighted_draw(hl, "2026-02-03", k=10, seed=5)["drawn"])


def test_briefings_name_the_risk_factors_or_say_there_are_none():
    from types import SimpleNamespace

    from vrdp.tasking import briefing, risk_factors_at

    v = pd.DataFrame(
        {
            "factor": ["licensed_premises", "bus_stop"],
            "operationalisation": ["proximity", "proximity"],
            "spatial_influence_m": [100.0, 50.0],
            "threshold": [0.0, 0.0],
        }
    )
    model = SimpleNamespace(
        variables=v,
        betas=np.log([2.5, 1.8]),
        features={"licensed_premises": np.array([[0.0, 0.0]]), "bus_stop": np.array([[0, 40.0]])},
    )
    at = risk_factors_at(model, [0.0, 90.0, 1000.0], [0.0, 0.0, 0.0])
    assert at == [
        ["licensed_premises (proximity 100 m, RRV 2.5)", "bus_stop (proximity 50 m, RRV 1.8)"],
        ["licensed_premises (proximity 100 m, RRV 2.5)"],
        [],
    ]
    ev = pd.DataFrame({"crime_type": ["Robbery"], "occurred_at": [pd.Timestamp("2025-12-30")]})
    with_factors = briefing("HS1", ev, as_of="2026-01-01", risk_factors=at[0])
    none_apply = briefing("HS2", ev, as_of="2026-01-01", risk_factors=at[2])
    no_model = briefing("HS3", ev, as_of="2026-01-01")
    assert "risk factors: licensed_premises (proximity 100 m, RRV 2.5)" in with_factors["text"]
    assert "no modelled risk factors" in none_apply["text"]
    assert "risk factor" not in no_model["text"]
