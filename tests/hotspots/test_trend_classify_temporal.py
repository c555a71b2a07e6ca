import h3
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from vrdp.hotspots.classify import classify_hotspots
from vrdp.hotspots.grid import neighbour_matrix
from vrdp.hotspots.mann_kendall import mann_kendall, mann_kendall_rows
from vrdp.hotspots.overrides import apply_overrides
from vrdp.hotspots.recall import planted_recall
from vrdp.hotspots.temporal import hour_of_week_profile, patrol_windows


def test_mann_kendall_hand_worked_example():
    # x = 5, 3, 3, 7, 9, 6 (n = 6)
    # sign(x_j - x_i), i < j:
    #   i=1 (5): -,-,+,+,+ -> +1 ; i=2 (3): 0,+,+,+ -> +3 ; i=3 (3): +,+,+ -> +3
    #   i=4 (7): +,- -> 0        ; i=5 (9): - -> -1            S = 6
    # Var(S) = [6*5*17 - 2*1*9] / 18 = (510 - 18) / 18 = 27.333...
    # Z = (S - 1) / sqrt(Var) = 5 / 5.22813 = 0.956365 ; tau = 6 / 15 = 0.4
    r = mann_kendall(np.array([5, 3, 3, 7, 9, 6]))
    assert r.s == 6
    assert_allclose(r.var_s, 492 / 18, rtol=1e-12)
    assert_allclose(r.z, 5 / np.sqrt(492 / 18), rtol=1e-12)
    assert_allclose(r.z, 0.956365, atol=1e-6)
    assert_allclose(r.p_value, 2 * stats.norm.sf(0.956365), atol=1e-6)
    assert_allclose(r.tau, 0.4, rtol=1e-12)


def test_mann_kendall_rows_matches_single_and_drops_missing_period():
    rng = np.random.default_rng(5)
    m = rng.poisson(2, size=(40, 9)).astype(float)
    m[:, 4] = np.nan  # a missing month for every cell
    rows = mann_kendall_rows(m)
    for i in (0, 7, 39):
        single = mann_kendall(m[i])
        assert_allclose([rows.s[i], rows.var_s[i], rows.z[i]], [single.s, single.var_s, single.z])
    with pytest.raises(ValueError):
        bad = m.copy()
        bad[0, 0] = np.nan
        mann_kendall_rows(bad)


def test_mann_kendall_constant_series():
    r = mann_kendall(np.array([2.0, 2, 2, 2]))
    assert r.s == 0 and r.var_s == 0 and r.z == 0 and r.p_value == 1


@pytest.fixture
def planted():
    centre = h3.latlng_to_cell(51.752, -1.2577, 9)
    cells = sorted(h3.grid_disk(centre, 7))
    rng = np.random.default_rng(2)
    c = pd.DataFrame(rng.poisson(1.0, size=(len(cells), 10)).astype(float), index=cells)
    persistent = centre
    emerging = sorted(h3.grid_ring(centre, 5))[0]
    former = sorted(h3.grid_ring(centre, 5))[9]
    c.loc[persistent, :] += 25
    c.loc[emerging, 8:] += 25
    c.loc[former, :5] += 25
    c.insert(3, "missing", np.nan)  # an unpublished month
    return c, {"persistent": persistent, "emerging": emerging, "former": former}


def test_classification_finds_planted_patterns(planted):
    counts, cells = planted
    w = neighbour_matrix(np.array(counts.index, dtype=object))
    out = classify_hotspots(counts, w)
    assert out.loc[cells["persistent"], "hotspot_category"] == "persistent hotspot"
    assert out.loc[cells["emerging"], "hotspot_category"] == "emerging hotspot"
    assert out.loc[cells["former"], "hotspot_category"] == "former hotspot"
    assert out.attrs["periods_excluded"] == ["missing"]
    assert out.attrs["recent_periods"] == 2
    assert out.loc[cells["emerging"], "trend"] == "increasing"
    assert out.loc[cells["former"], "trend"] == "decreasing"


def test_classification_rules_on_hand_flags(monkeypatch):
    # bypass Gi*: feed the significance flags directly to check the rule order
    import vrdp.hotspots.classify as cl

    flags = np.array(
        [
            [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],  # 0.8 overall -> persistent
            [0, 0, 0, 0, 0, 0, 0, 0, 1, 0],  # older 0, recent 0.5 -> emerging
            [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],  # older 0.125, recent 0 -> former
            [1, 0, 0, 0, 0, 0, 0, 1, 1, 0],  # older .25, recent .5, all .3 -> intermittent
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],  # no pattern
        ],
        bool,
    )
    calls = iter(range(10))

    def fake_gi(x, w, correction=None, alpha=0.05):
        k = next(calls)
        return pd.DataFrame({"hot_spot": flags[:, k], "cold_spot": np.zeros(5, bool)})

    monkeypatch.setattr(cl, "gi_star", fake_gi)
    out = cl.classify_hotspots(pd.DataFrame(np.ones((5, 10))), None)
    assert out["hotspot_category"].tolist() == [
        "persistent hotspot",
        "emerging hotspot",
        "former hotspot",
        "intermittent hotspot",
        "no pattern",
    ]


def test_patrol_windows_and_month_only_notice():
    ts = pd.to_datetime(
        ["2025-06-06 22:10", "2025-06-13 23:30", "2025-06-14 00:20", "2025-06-10 09:00"]
    )  # Fri 22, Fri 23, Sat 00, Tue 09
    ev = pd.DataFrame({"h3_cell": ["x"] * 4 + ["y"], "occurred_at": [*list(ts), pd.NaT]})
    prof = hour_of_week_profile(ev)
    assert prof.loc["x"].sum() == 4 and prof.loc["x", 4 * 24 + 22] == 1
    out = patrol_windows(ev, ["x", "y"], window_hours=3, n_windows=2)
    x = out[out.h3_cell == "x"]
    assert x["window_start"].tolist() == ["Fri 22:00", "Tue 07:00"]
    assert_allclose(x["share_of_events"], [0.75, 0.25])
    y = out[out.h3_cell == "y"].iloc[0]
    assert y["time_basis"] == "month_only" and "month only" in y["note"]


def test_patrol_window_wraps_sunday_to_monday():
    ev = pd.DataFrame(
        {
            "h3_cell": ["z", "z"],
            "occurred_at": pd.to_datetime(["2025-06-08 23:30", "2025-06-09 00:30"]),
        }
    )
    out = patrol_windows(ev, ["z"], window_hours=2, n_windows=1)
    assert out["window_start"].tolist() == ["Sun 23:00"]
    assert out["window_end"].tolist() == ["Mon 01:00"]


def test_overrides_audit_and_latest_wins():
    hs = pd.DataFrame({"h3_cell": ["a", "b", "c"], "rank": [1, 2, 3]})
    ov = pd.DataFrame(
        {
            "h3_cell": ["b", "d", "c", "c"],
            "action": ["suppress", "add", "suppress", "add"],
            "reason": ["demolished", "CCTV", "closed", "reopened"],
            "analyst": ["jo", "al", "jo", "al"],
            "created_at": pd.to_datetime(["2025-12-01", "2025-12-02", "2025-12-01", "2025-12-03"]),
        }
    )
    out = apply_overrides(hs, ov).set_index("h3_cell")
    assert out["selected"].to_dict() == {"a": True, "b": False, "c": True, "d": True}
    assert (
        out.loc["b", "override"] == "suppressed" and out.loc["b", "override_reason"] == "demolished"
    )
    assert out.loc["c", "override"] == "added" and out.loc["c", "overrides_on_cell"] == 2
    assert out.loc["d", "source"] == "analyst" and np.isnan(out.loc["d", "rank"])
    assert out.loc["a", "override"] is None
    with pytest.raises(ValueError, match="reason"):
        apply_overrides(hs, ov.assign(reason=["", "x", "y", "z"]))
    with pytest.raises(ValueError, match="action"):
        apply_overrides(hs, ov.assign(action=["drop", "add", "add", "add"]))


def test_planted_recall():
    c = h3.latlng_to_cell(51.752, -1.2577, 9)
    far = h3.latlng_to_cell(51.80, -1.20, 9)
    r = planted_recall([c, far], [c, sorted(h3.grid_ring(far, 2))[0]])
    assert r["recall"] == 0.5 and r["precision"] == 0.5 and r["missed_cells"] == [far]
    assert (
        planted_recall([c, far], [c, sorted(h3.grid_ring(far, 2))[0]], tolerance_k=2)["recall"]
        == 1.0
    )
