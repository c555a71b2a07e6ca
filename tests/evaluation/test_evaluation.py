"""Evaluation: published WDD/WDQ example, power formula, ROI, and the planted trial effect."""

from __future__ import annotations

import glob
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from scipy import stats

from vrdp.evaluation import (
    difference_in_differences,
    displacement_counts,
    events_to_unit_days,
    harm_rate_ratio,
    itt_table,
    nb_irr,
    power_count_outcome,
    return_on_investment,
    sample_size_count_outcome,
    wdd,
    wdq,
)


def test_wdd_wdq_published_example():
    # Wheeler & Ratcliffe (2018), Crime Science 7:11: control 308->318, treated 207->110,
    # displacement control 150->140, displacement area 178->157.
    r = wdd(207, 110, 308, 318, 178, 157, 150, 140)
    assert r["wdd"] == -118
    assert r["se"] == pytest.approx(39.6, abs=0.05)
    assert r["variance"] == 1568
    q = wdq(207, 110, 308, 318, 178, 157)
    assert q["wdq"] == pytest.approx(0.258, abs=0.0005)


def test_displacement_rings_exclude_other_hotspots():
    areas = gpd.GeoDataFrame(
        {"group": ["treated", "control"]},
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(150, 0, 250, 100)],
        crs="EPSG:27700",
    )
    ev = pd.DataFrame(
        {
            "easting": [50, 120, 160, 50, 400],
            "northing": [50, 50, 50, 150, 50],
            "occurred_at": pd.to_datetime(["2025-01-02"] * 2 + ["2025-03-02"] * 3),
        }
    )
    c = displacement_counts(
        ev, areas, before=("2025-01-01", "2025-01-31"), after=("2025-03-01", "2025-03-31")
    ).set_index(["group", "area"])
    assert c.loc[("treated", "hotspot"), "before"] == 1
    assert c.loc[("treated", "ring"), "before"] == 1  # x=120 is between the two, not in either
    assert c.loc[("treated", "ring"), "after"] == 1  # (50, 150); (160, 50) is the control spot
    assert c.loc[("control", "hotspot"), "after"] == 1


def test_sample_size_matches_poisson_formula_and_power():
    mu0, irr = 0.25, 0.7
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    expected = math.ceil(z**2 * (1 / mu0 + 1 / (mu0 * irr)) / math.log(irr) ** 2)
    n = sample_size_count_outcome(mu0, irr)
    assert n == expected
    assert power_count_outcome(n, mu0, irr) >= 0.8 > power_count_outcome(n - 5, mu0, irr)
    assert sample_size_count_outcome(mu0, irr, dispersion=0.3) > n


def test_power_by_simulation_agrees():
    rng = np.random.default_rng(3)
    mu0, irr = 2.0, 0.8
    n = sample_size_count_outcome(mu0, irr, power=0.8)
    hits = 0
    for _ in range(400):
        y0 = rng.poisson(mu0, n).sum()
        y1 = rng.poisson(mu0 * irr, n).sum()
        z = math.log(y1 / y0) / math.sqrt(1 / y0 + 1 / y1)
        hits += abs(z) > 1.96
    assert 0.72 < hits / 400 < 0.88


def test_roi():
    r = return_on_investment(
        patrol_hours=200,
        cost_per_patrol_hour=40,
        treated_crimes=35,
        irr=0.7,
        harm_cost_per_crime=2000,
        irr_ci=(0.5, 0.9),
    )
    assert r["crimes_prevented"] == pytest.approx(15.0)
    assert r["roi"] == pytest.approx((30000 - 8000) / 8000)
    assert r["roi_low"] < r["roi"] < r["roi_high"]


_TR = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def _read(pattern):
    files = sorted(glob.glob(pattern))
    return pd.concat(
        [pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True
    )


def _landing_events(w):
    """Reported crimes (RMS) and ASB (CAD) from the landing zone, with time and lat/lon."""
    occ = _read(str(w / "landing/police/occurrences/*/*.csv")).drop_duplicates()
    t0 = pd.to_datetime(occ["committed_from"], errors="coerce", format="ISO8601")
    t1 = pd.to_datetime(occ["committed_to"], errors="coerce", format="ISO8601").fillna(t0)
    occ_t = t0 + (t1 - t0).where(t1 >= t0, pd.Timedelta(0)) / 2  # midpoint of the window
    cad = _read(str(w / "landing/police/cad_incidents/*/*.csv")).drop_duplicates()
    cad = cad[cad["closing_classification"] == "ASB - no crime"]
    ev = pd.DataFrame(
        {
            "occurred_at": pd.concat(
                [occ_t, pd.to_datetime(cad["call_received_at"], errors="coerce", format="ISO8601")],
                ignore_index=True,
            ),
            "easting": pd.to_numeric(
                pd.concat([occ["easting"], cad["easting"]]), errors="coerce"
            ).to_numpy(),
            "northing": pd.to_numeric(
                pd.concat([occ["northing"], cad["northing"]]), errors="coerce"
            ).to_numpy(),
        }
    )
    ev = ev.dropna()
    ev["longitude"], ev["latitude"] = _TR.transform(
        ev["easting"].to_numpy(), ev["northing"].to_numpy()
    )
    return ev


def test_simulated_world_ci_contains_planted_effect(small_world):
    w = small_world
    units = _read(str(w / "landing/patrol/trial_units/*/trial_units.csv"))
    alloc = _read(str(w / "landing/patrol/trial_allocation/*/trial_allocation.csv"))
    true_irr = float(pd.read_parquet(w / "truth/trial_effect.parquet")["true_irr"].iloc[0])
    assert true_irr == pytest.approx(0.70)
    # From the landing files (what the platform sees).
    ev = _landing_events(w)
    out = events_to_unit_days(ev, units)
    start = pd.to_datetime(alloc["date"]).min()
    itt = itt_table(
        alloc, out, pre_period=("2025-01-01", str((start - pd.Timedelta(days=1)).date()))
    )
    trial = itt[itt["period"] == "trial"]
    assert len(trial) == len(alloc)
    r = nb_irr(trial)
    print("landing NB IRR", r)
    assert r["ci_low"] < true_irr < r["ci_high"]
    assert r["irr"] < 1.0
    did = difference_in_differences(itt)
    print("landing DiD", did)
    assert did["ci_low"] < true_irr < did["ci_high"]
    # From the truth events (reported only), as a cross-check.
    te = pd.read_parquet(w / "truth/events.parquet")
    te = te[te["reported"]].rename(columns={"committed_at": "occurred_at"})
    r2 = nb_irr(itt_table(alloc, events_to_unit_days(te, units)))
    print("truth NB IRR", r2)
    assert r2["ci_low"] < true_irr < r2["ci_high"]


def test_harm_ratio_and_itt_with_dosage():
    rng = np.random.default_rng(0)
    days = pd.date_range("2025-10-01", periods=60)
    alloc = pd.DataFrame(
        [
            (u, d, "patrol" if (i + j) % 2 else "control")
            for i, u in enumerate(["a", "b", "c", "d"])
            for j, d in enumerate(days)
        ],
        columns=["unit_id", "date", "arm"],
    )
    mu = np.where(alloc["arm"] == "patrol", 1.4, 2.0)
    y = rng.poisson(mu)
    outc = alloc[["unit_id", "date"]].assign(crimes=y, harm=y * 10.0)
    dos = (
        alloc[alloc["arm"] == "patrol"][["unit_id", "date"]]
        .rename(columns={"unit_id": "hotspot_id"})
        .assign(dosage_minutes=30.0)
    )
    t = itt_table(alloc, outc, dos)
    assert t.groupby("arm")["dosage_minutes"].mean().to_dict() == {"control": 0.0, "patrol": 30.0}
    h = harm_rate_ratio(t)
    assert nb_irr(t)["irr"] == pytest.approx(h["irr"], abs=0.01)
    assert h["ci_low"] < 0.7 < h["ci_high"]


def test_no_over_dispersion_is_the_poisson_limit(monkeypatch):
    """72 equidispersed unit-days (a twin trial's three days): the NB2 dispersion's MLE
    is the boundary alpha = 0, where NB2 is Poisson; the Poisson fit is reported, without
    the Newton refit from the boundary (NaN, after 280 s on the large world's trial)."""
    import statsmodels.api as sm
    from statsmodels.discrete.discrete_model import NegativeBinomial

    from vrdp.evaluation.effects import ALPHA_BOUNDARY, _design

    methods = []
    fit = NegativeBinomial.fit

    def recording_fit(self, *args, **kwargs):
        methods.append(kwargs.get("method"))
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(NegativeBinomial, "fit", recording_fit)
    rng = np.random.default_rng(0)
    t = pd.DataFrame({"unit_id": np.repeat(np.arange(24), 3), "treated": np.tile([0, 1, 1], 24)})
    base = rng.uniform(5, 15, 24)
    t["crimes"] = rng.poisson(base[t["unit_id"]] * np.where(t["treated"] == 1, 0.8, 1.0))
    r = nb_irr(t)
    assert methods == ["bfgs"]
    assert r["model"] == "Poisson + hot spot fixed effects"
    assert r["alpha"] == 0.0 and r["converged"]
    poisson = sm.GLM(t["crimes"], _design(t, "unit_id", ["treated"]), sm.families.Poisson()).fit()
    assert r["log_irr"] == pytest.approx(poisson.params["treated"], rel=1e-9)
    assert r["se_log_irr"] == pytest.approx(poisson.bse["treated"], rel=1e-9)
    # Over-dispersed counts still get the NB2 fit, with its dispersion.
    t["crimes"] = rng.negative_binomial(2, 2 / (2 + base[t["unit_id"]]))
    over = nb_irr(t)
    assert over["model"] == "NB2 MLE + hot spot fixed effects"
    assert over["alpha"] > ALPHA_BOUNDARY
