"""Randomisation determinism and balance, audit immutability, tasking table, briefing."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from vrdp.tasking import (
    AllocationLockedError,
    allocation_digest,
    amend_allocation,
    balance_table,
    briefing,
    daily_tasking,
    randomise,
)

UNITS = [f"TU{i:03d}" for i in range(20)]
DAYS = pd.date_range("2025-10-03", periods=90)


@pytest.mark.parametrize("design", ["simple_daily", "block", "crossover"])
def test_randomise_deterministic_half_treated_and_recorded(design):
    blocks = {u: f"B{i // 2}" for i, u in enumerate(UNITS)}
    a = randomise(UNITS, DAYS, seed=42, design=design, blocks=blocks, allocated_at="2025-10-01")
    b = randomise(UNITS, DAYS, seed=42, design=design, blocks=blocks, allocated_at="2025-10-01")
    c = randomise(UNITS, DAYS, seed=43, design=design, blocks=blocks, allocated_at="2025-10-01")
    assert a.equals(b)
    assert allocation_digest(a) == allocation_digest(b) != allocation_digest(c)
    assert (a.groupby("date")["arm"].apply(lambda s: (s == "patrol").sum()) == 10).all()
    assert set(a["seed"]) == {42} and set(a["design"]) == {design}
    assert (a["allocated_at"] == pd.Timestamp("2025-10-01")).all()
    if design == "block":
        per = a[a["arm"] == "patrol"].groupby(["date", "block"]).size()
        assert (per == 1).all()
    if design == "crossover":
        piv = a.pivot(index="date", columns="unit_id", values="arm")
        assert (piv.iloc[1:].to_numpy() != piv.iloc[:-1].to_numpy()).all()
    # Extending the trial does not change earlier days.
    longer = randomise(
        UNITS,
        pd.date_range("2025-10-03", periods=100),
        seed=42,
        design=design,
        blocks=blocks,
        allocated_at="2025-10-01",
    )
    assert longer.iloc[: len(a)].reset_index(drop=True).equals(a)


def test_balance_diagnostics():
    rng = np.random.default_rng(0)
    cov = pd.DataFrame(
        {
            "unit_id": UNITS,
            "pre_crimes": rng.poisson(20, len(UNITS)),
            "imd": rng.integers(1, 11, len(UNITS)),
        }
    )
    a = randomise(UNITS, DAYS, seed=7, allocated_at="2025-10-01")
    b = balance_table(a, cov).set_index("covariate")
    assert (b.loc[["pre_crimes", "imd"], "smd"].abs() < 0.1).all()
    share = b.loc["share_days_patrol"]
    assert 0.3 < share["mean_control"] <= share["mean_patrol"] < 0.7


def test_allocation_cannot_change_once_day_started():
    a = randomise(UNITS, DAYS, seed=1, allocated_at="2025-10-01")
    d = pd.Timestamp("2025-10-05")
    before = a.copy()
    with pytest.raises(AllocationLockedError):
        amend_allocation(a, "TU001", d, "control", now="2025-10-05 06:00", reason="x")
    with pytest.raises(AllocationLockedError):
        amend_allocation(a, "TU001", d, "control", now="2025-10-06 02:00", reason="x")
    assert a.equals(before)
    new_arm = (
        "control"
        if a[(a.unit_id == "TU001") & (a.date == d)]["arm"].iloc[0] == "patrol"
        else "patrol"
    )
    b = amend_allocation(a, "TU001", d, new_arm, now="2025-10-05 05:59", reason="road closed")
    row = b[(b.unit_id == "TU001") & (b.date == d)].iloc[0]
    assert row["arm"] == new_arm and row["amend_reason"] == "road closed"
    assert allocation_digest(b) != allocation_digest(a)
    assert a.equals(before)


def test_daily_tasking_table():
    hs = gpd.GeoDataFrame(
        {"hotspot_id": ["TU000", "TU001", "TU002"]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(3)],
        crs="EPSG:27700",
    )
    alloc = pd.DataFrame(
        {
            "unit_id": ["TU000", "TU001", "TU002"],
            "date": ["2025-10-03"] * 3,
            "arm": ["patrol", "control", "patrol"],
        }
    )
    win = pd.DataFrame(
        {
            "hotspot_id": ["TU000", "TU000"],
            "window_rank": [1, 2],
            "window_start": ["Fri 22:00", "Sat 22:00"],
            "window_end": ["Sat 01:00", "Sun 01:00"],
        }
    )
    done = pd.DataFrame({"hotspot_id": ["TU002"], "date": ["2025-10-03"], "n_visits": [4]})
    t = daily_tasking(
        hs,
        "2025-10-03",
        windows=win,
        allocation=alloc,
        delivered=done,
        visits_per_shift=2,
        shifts=("late",),
        patrol_cap_visits=4,
    ).set_index("hotspot_id")
    assert (
        t.loc["TU000", "tasked"] and not t.loc["TU001", "tasked"] and not t.loc["TU002", "tasked"]
    )
    assert t.loc["TU000", "patrol_windows"] == "Fri 22:00-Sat 01:00; Sat 22:00-Sun 01:00"
    assert t.loc["TU000", "target_minutes"] == 30.0
    assert t.loc["TU000", "day_start_at"] == pd.Timestamp("2025-10-03 06:00")
    assert t.loc["TU000", "day_end_at"] == pd.Timestamp("2025-10-04 05:59:59")
    assert t.loc["TU000", "geofence_wkt"].startswith("POLYGON")
    with pytest.raises(ValueError):
        daily_tasking(hs, "2025-10-03", visit_minutes=20)


def test_briefing_has_no_personal_data():
    ev = pd.DataFrame(
        {
            "crime_type": ["Violence and sexual offences"] * 3 + ["Robbery"],
            "occurred_at": pd.to_datetime(
                ["2025-12-28 23:10", "2025-12-20 22:30", "2025-11-01 01:00", "2025-12-29 21:00"]
            ),
            "surname": ["SMITH"] * 4,
            "offender_pnc": ["2001/0000001A"] * 4,
        }
    )
    b = briefing(
        "TU000",
        ev,
        as_of="2026-01-01",
        trend_class="persistent",
        risk_factors=["licensed premises"],
        harm_weights={"Robbery": 365, "Violence and sexual offences": 30},
    )
    assert b["counts"]["Violence and sexual offences"] == {"28d": 2, "91d": 3, "365d": 3}
    assert b["harm"]["28d"] == 365 + 60
    text = repr(b)
    assert "SMITH" not in text and "2001/" not in text
    assert "licensed premises" in b["text"] and "persistent" in b["text"]
    assert b["community_context"] is None and "community" not in b["text"]
    said = "4 reports of feeling unsafe here in 90 days (most often: Poor street lighting)"
    with_reports = briefing("TU000", ev, as_of="2026-01-01", community=said)
    assert with_reports["community_context"] == said and said in with_reports["text"]
    assert with_reports["counts"] == briefing("TU000", ev, as_of="2026-01-01")["counts"]
