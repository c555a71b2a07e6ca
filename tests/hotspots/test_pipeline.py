import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from vrdp.hotspots.grid import cell_centres_bng, neighbour_matrix
from vrdp.hotspots.pipeline import (
    backtest_figures,
    backtest_tables,
    cell_harm_windows_table,
    choose_region,
    classification_table,
    gi_star_table,
    kde_table,
    make_forecaster,
    month_span,
    monthly_matrix,
    select_hotspots,
    type_matrices,
    validate_override,
)

CENTRE = h3.latlng_to_cell(51.752, -1.2577, 9)
CELLS = np.array(sorted(h3.grid_disk(CENTRE, 5)), dtype=object)
WEIGHTS = pd.DataFrame(
    {"crime_type": ["Robbery", "Drugs", "Shoplifting"], "harm_weight_days": [365.0, 2.0, 1.0]}
)
MONTHS = [f"2025-{m:02d}" for m in range(1, 13) if m != 7]


def _events(seed=3):
    """Poisson counts per cell and month, a hot centre, July missing; some Drugs (guarded)."""
    rng = np.random.default_rng(seed)
    ex, ny = cell_centres_bng(CELLS)
    rows = []
    for m in MONTHS:
        for i, c in enumerate(CELLS):
            lam = 12.0 if c == CENTRE or c in h3.grid_ring(CENTRE, 1) else 0.8
            for _ in range(rng.poisson(lam)):
                t = rng.choice(["Robbery", "Shoplifting", "Drugs"], p=[0.3, 0.5, 0.2])
                rows.append((c, m, t, ex[i], ny[i]))
    ev = pd.DataFrame(rows, columns=["h3_cell", "month", "crime_type", "easting_m", "northing_m"])
    ev["month"] = pd.to_datetime(ev["month"] + "-01")
    ev["excluded_by_guard"] = ev["crime_type"] == "Drugs"
    ev["harm_weight_days"] = ev["crime_type"].map(WEIGHTS.set_index("crime_type").iloc[:, 0])
    return ev


def test_month_span_and_matrix_leave_missing_month_nan_and_guarded_events_out():
    ev = _events()
    span = month_span(ev["month"])
    assert span.missing == ["2025-07"] and span.next_month == "2026-01"
    assert str(span.as_of.date()) == "2026-01-01"
    m = monthly_matrix(ev, CELLS, span)
    assert m.shape == (len(CELLS), 12)
    assert np.isnan(m[:, 6]).all() and not np.isnan(np.delete(m, 6, axis=1)).any()
    assert np.nansum(m) == (~ev["excluded_by_guard"]).sum()
    aux = type_matrices(ev, CELLS, span)
    assert set(aux) == {"Robbery", "Shoplifting"}
    assert np.allclose(np.nansum([aux[t] for t in aux], axis=0), np.nan_to_num(m))


def test_harm_windows_one_row_per_cell_prorated_and_guarded():
    ev = _events()
    span = month_span(ev["month"])
    t = cell_harm_windows_table(ev, WEIGHTS, CELLS, as_of=span.as_of)
    assert t["h3_cell"].tolist() == CELLS.tolist()
    kept = ev[~ev["excluded_by_guard"]]
    assert t["events_365d"].sum() == pytest.approx(len(kept))  # the whole year, July missing
    dec = kept[kept["month"] == "2025-12-01"]
    assert t["events_28d"].sum() == pytest.approx(len(dec) * 28 / 31)
    assert t["harm_days_28d"].sum() == pytest.approx(dec["harm_weight_days"].sum() * 28 / 31)
    assert set(t["time_basis"]) == {"month_prorated"}


def test_choose_region_uses_the_outline_only_when_it_holds_the_events():
    lsoa = gpd.GeoDataFrame({"lsoas": [1]}, geometry=[box(-1.3, 51.7, -1.2, 51.8)], crs=4326)
    region, rule = choose_region(0.97, lsoa)
    assert region.equals(box(-1.3, 51.7, -1.2, 51.8)) and "force outline" in rule
    region, rule = choose_region(0.0, lsoa)
    assert region is None and "convex hull" in rule


def test_kde_warns_when_bandwidth_below_cell_size():
    ev = _events()
    span = month_span(ev["month"])
    kw = {"as_of": span.as_of, "window_days": 91, "cell_size_m": 348.0}
    t, h, warning = kde_table(ev, CELLS, bandwidth_m=200.0, **kw)
    assert h == 200.0 and "below the cell size" in warning
    t, h, warning = kde_table(ev, CELLS, bandwidth_m=600.0, **kw)
    assert warning is None and t.loc[t["kde_rank"] == 1, "h3_cell"].item() in set(
        h3.grid_disk(CENTRE, 1)
    )


def _analysis(ev):
    span = month_span(ev["month"])
    w = neighbour_matrix(CELLS)
    harm = cell_harm_windows_table(ev, WEIGHTS, CELLS, as_of=span.as_of)
    gi = gi_star_table(CELLS, harm["harm_days_91d"].to_numpy(), w)
    counts = monthly_matrix(ev, CELLS, span)
    cls = classification_table(counts, CELLS, span, w)
    fc = pd.DataFrame({"h3_cell": CELLS, "risk_score": np.arange(len(CELLS), 0, -1.0)}).assign(
        forecast_rank=np.arange(1, len(CELLS) + 1)
    )
    return span, harm, gi, cls, fc, counts


def test_hotspot_list_ranks_gi_hot_cells_by_harm_and_applies_overrides():
    ev = _events()
    _span, harm, gi, cls, fc, _ = _analysis(ev)
    assert gi["hot_spot"].sum() >= 3 and CENTRE in set(gi.loc[gi["hot_spot"], "h3_cell"])
    empty = pd.DataFrame(columns=["h3_cell", "action", "reason", "analyst", "created_at"])
    base = select_hotspots(gi, harm, cls, fc, None, empty, top_n=3)
    assert len(base) == 3 and base["rank"].tolist() == [1, 2, 3]
    assert base["gi_hot_spot"].all() and base["harm_days"].is_monotonic_decreasing
    hot = gi.loc[gi["hot_spot"], "h3_cell"]
    assert (
        base["harm_days"].min()
        >= harm.set_index("h3_cell").loc[hot, "harm_days_91d"].nlargest(3).min() - 1e-9
    )
    cold = gi.loc[~gi["hot_spot"], "h3_cell"].iloc[0]
    ov = pd.DataFrame(
        {
            "h3_cell": [base["h3_cell"].iloc[0], cold],
            "action": ["suppress", "add"],
            "reason": ["closed for works", "new venue"],
            "analyst": ["jo", "jo"],
            "created_at": pd.to_datetime(["2026-01-02", "2026-01-03"], utc=True),
        }
    )
    out = select_hotspots(gi, harm, cls, fc, None, ov, top_n=3).set_index("h3_cell")
    assert len(out) == 4 and out["selected"].sum() == 3
    assert out.loc[base["h3_cell"].iloc[0], "override_reason"] == "closed for works"
    added = out.loc[cold]
    assert added["override"] == "added" and pd.isna(added["rank"])
    assert added["hotspot_category"] == cls.set_index("h3_cell").loc[cold, "hotspot_category"]
    assert added["forecast_rank"] == fc.set_index("h3_cell").loc[cold, "forecast_rank"]


def test_backtest_tables_and_figures_cover_every_method_and_share():
    ev = _events()
    span = month_span(ev["month"])
    counts = monthly_matrix(ev, CELLS, span)
    w = neighbour_matrix(CELLS)
    folds, summary = backtest_tables(
        counts,
        span,
        forecaster=make_forecaster(type_matrices(ev, CELLS, span), w, None),
        kernel=None,
        area=np.ones(len(CELLS)),
    )
    assert "2025-07" not in set(folds["test_period"])
    assert folds.loc[folds["test_period"] == "2025-08", "gap_before_test"].all()
    fig = backtest_figures(summary)
    for method in ("forecast", "previous_period", "all_periods", "ewm"):
        for pct in (1, 5, 10):
            assert {f"pai_at_{pct}pct_{method}", f"pei_at_{pct}pct_{method}"} <= set(fig)
    assert fig["pai_at_10pct_forecast"] > 2  # the hot centre is found


@pytest.mark.parametrize(
    ("cell", "action", "reason", "analyst", "match"),
    [
        ("zzz", "add", "r", "a", "not an H3 cell"),
        (h3.cell_to_parent(CENTRE, 8), "add", "r", "a", "resolution 8"),
        (CENTRE, "promote", "r", "a", "action"),
        (CENTRE, "add", "", "a", "reason"),
        (CENTRE, "add", "r", " ", "analyst"),
    ],
)
def test_validate_override_rejects_bad_rows(cell, action, reason, analyst, match):
    with pytest.raises(ValueError, match=match):
        validate_override(cell, action, reason, analyst, resolution=9)


def test_add_override_appends_only(data_root):
    from vrdp.hotspots.override_log import add_override, overrides_path, read_overrides

    add_override(CENTRE, "suppress", "closed", "jo")
    first = overrides_path().read_text()
    add_override(CENTRE, "add", "reopened, with a, comma", "kim")
    assert overrides_path().read_text().startswith(first)
    t = read_overrides()
    assert t["action"].tolist() == ["suppress", "add"]
    assert t["reason"].iloc[1] == "reopened, with a, comma"
    with pytest.raises(ValueError):
        add_override(CENTRE, "add", "  ", "kim")
    assert len(read_overrides()) == 2
