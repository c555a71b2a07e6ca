import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from vrdp.hotspots.guard import apply_feedback_guard
from vrdp.hotspots.harm import harm_weighted_counts
from vrdp.hotspots.kde import (
    cell_spacing_m,
    default_bandwidth_m,
    quartic_kde_at_points,
    quartic_kernel_matrix,
)

WEIGHTS = pd.DataFrame(
    {
        "crime_type": ["Robbery", "Shoplifting", "Violence and sexual offences"],
        "harm_weight_days": [365.0, 1.0, 195.93],
    }
)


def test_quartic_kde_matches_dense_formula():
    rng = np.random.default_rng(11)
    x, y = rng.uniform(0, 2000, 300), rng.uniform(0, 2000, 300)
    w = rng.uniform(0.5, 2.0, 300)
    gx, gy = np.meshgrid(np.arange(0, 2001, 250.0), np.arange(0, 2001, 250.0))
    gx, gy = gx.ravel(), gy.ravel()
    h = 400.0
    got, _ = quartic_kde_at_points(x, y, gx, gy, weights=w, bandwidth_m=h, chunk=77)
    d2 = (gx[:, None] - x[None, :]) ** 2 + (gy[:, None] - y[None, :]) ** 2
    k = np.where(d2 < h * h, 3 / (np.pi * h * h) * (1 - d2 / (h * h)) ** 2, 0.0)
    assert_allclose(got, (k @ w) * 1e6, rtol=1e-10)


def test_quartic_kernel_integrates_to_one():
    # one event, density on a fine grid: sum * cell area (km²) ≈ 1 event
    g = np.arange(-500, 501, 10.0)
    gx, gy = np.meshgrid(g, g)
    d, _ = quartic_kde_at_points(np.zeros(1), np.zeros(1), gx.ravel(), gy.ravel(), bandwidth_m=300)
    assert_allclose(d.sum() * (10 * 10) / 1e6, 1.0, rtol=1e-3)


def test_bandwidth_warning_and_default_rule():
    with pytest.warns(UserWarning, match="below the cell size"):
        quartic_kde_at_points(
            np.zeros(2),
            np.zeros(2),
            np.zeros(1),
            np.zeros(1),
            bandwidth_m=100,
            cell_size_m=cell_spacing_m(9),
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quartic_kde_at_points(
            np.zeros(2),
            np.zeros(2),
            np.zeros(1),
            np.zeros(1),
            bandwidth_m=500,
            cell_size_m=cell_spacing_m(9),
        )
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 1000, 4096), rng.normal(0, 1000, 4096)
    # 0.9 * ~1000 * 4096^(-1/6) * sqrt(8) = 0.9 * 1000 / 4 * 2.828 ≈ 636
    assert_allclose(default_bandwidth_m(x, y), 636.4, rtol=0.03)


def test_kernel_matrix_equals_kde_of_counts_at_centres():
    x = np.array([0.0, 100.0, 250.0, 1000.0])
    y = np.zeros(4)
    counts = np.array([2.0, 0.0, 1.0, 5.0])
    k = quartic_kernel_matrix(x, y, bandwidth_m=300)
    d, _ = quartic_kde_at_points(x, y, x, y, weights=counts, bandwidth_m=300)
    assert_allclose(k @ counts * 3 / (np.pi * 300**2) * 1e6, d, rtol=1e-12)


def test_harm_counts_prorates_months_and_uses_timestamps():
    ev = pd.DataFrame(
        {
            "h3_cell": ["a", "a", "b", "b"],
            "crime_type": ["Robbery", "Shoplifting", "Violence and sexual offences", "Robbery"],
            "source": ["crime", "crime", "ae_assault", "call"],
            "month": pd.to_datetime(["2025-12-01", "2025-11-01", None, None]),
            "occurred_at": pd.to_datetime([None, None, "2025-12-20 23:00", "2025-10-15 12:00"]),
        }
    )
    out = harm_weighted_counts(
        ev, WEIGHTS, as_of="2026-01-01", windows_days=(28, 91), source_weights={"call": 0.5}
    )
    a28 = out[(out.h3_cell == "a") & (out.window_days == 28)].iloc[0]
    # December robbery: 28 of 31 days in window
    assert_allclose(a28["events"], 28 / 31, rtol=1e-12)
    assert_allclose(a28["harm_days"], 365 * 28 / 31, rtol=1e-12)
    assert a28["time_basis"] == "month_prorated"
    a91 = out[(out.h3_cell == "a") & (out.window_days == 91)].iloc[0]
    assert_allclose(a91["harm_days"], 365 + 1, rtol=1e-12)  # both whole months inside
    b91 = out[(out.h3_cell == "b") & (out.window_days == 91)].set_index("source")
    assert_allclose(b91.loc["ae_assault", "harm_days"], 195.93)
    assert_allclose(b91.loc["call", "harm_days"], 0.5 * 365)  # 15 Oct: in 91 days, not 28
    assert b91.loc["call", "time_basis"] == "timestamp"
    assert not ((out.h3_cell == "b") & (out.window_days == 28) & (out.source == "call")).any()


def test_harm_counts_unknown_type_raises():
    ev = pd.DataFrame({"h3_cell": ["a"], "crime_type": ["Arson?"], "month": ["2025-01-01"]})
    with pytest.raises(ValueError, match="no harm weight"):
        harm_weighted_counts(ev, WEIGHTS, as_of="2025-02-01")


def test_feedback_guard_default_and_opt_out():
    seed = pd.DataFrame(
        {
            "crime_type": ["Drugs", "Possession of weapons", "Robbery"],
            "is_police_generated": ["true", "true", "false"],
        }
    )
    ev = pd.DataFrame({"crime_type": ["Drugs", "Robbery", "Robbery", "Possession of weapons"]})
    kept, rec = apply_feedback_guard(ev, seed)
    assert kept["crime_type"].tolist() == ["Robbery", "Robbery"]
    assert rec == {
        "exclude_police_generated": True,
        "police_generated_crime_types": ["Drugs", "Possession of weapons"],
        "events_in": 4,
        "events_excluded": 2,
    }
    kept2, rec2 = apply_feedback_guard(ev, seed, exclude_police_generated=False)
    assert len(kept2) == 4 and rec2["exclude_police_generated"] is False
