from datetime import date

import pandas as pd
import pytest

from vrdp.hotspots.ranking import harm_window, rank_cells_by_harm

A, B, C = "89195d09a13ffff", "89195d09a17ffff", "89195d09a1bffff"


def rows(*records):
    return pd.DataFrame(
        records,
        columns=["h3_cell", "month", "crime_type", "is_police_generated", "events", "harm_days"],
    )


def test_window_counts_calendar_months_and_reports_gaps():
    w = harm_window([date(2025, 5, 1), date(2025, 6, 1), date(2025, 8, 1)], 3)
    assert (w.start, w.end) == (date(2025, 6, 1), date(2025, 8, 1))
    assert w.missing == (date(2025, 7, 1),)
    assert harm_window([date(2024, 12, 1), date(2025, 1, 1)], 2).missing == ()
    with pytest.raises(ValueError, match="no months"):
        harm_window([], 3)


def test_ranking_sums_window_only_and_excludes_police_generated():
    df = rows(
        (A, date(2025, 3, 1), "Robbery", False, 1, 365.0),
        (A, date(2025, 1, 1), "Robbery", False, 10, 3650.0),  # outside a 2-month window
        (B, date(2025, 2, 1), "Burglary", False, 2, 488.0),
        (C, date(2025, 3, 1), "Possession of weapons", True, 5, 1368.75),
    )
    ranked, window = rank_cells_by_harm(df, window_months=2, top_n=10)
    assert window.start == date(2025, 2, 1)
    assert list(ranked["h3_cell"]) == [B, A]
    assert list(ranked["harm_days"]) == [488.0, 365.0]
    assert ranked["share_of_harm"].sum() == pytest.approx(1.0)
    with_police, _ = rank_cells_by_harm(df, window_months=2, exclude_police_generated=False)
    assert with_police["h3_cell"].iloc[0] == C


def test_ties_are_broken_by_events_then_cell_and_input_order_does_not_matter():
    df = rows(
        (C, date(2025, 1, 1), "Robbery", False, 1, 100.0),
        (B, date(2025, 1, 1), "Robbery", False, 1, 100.0),
        (A, date(2025, 1, 1), "Robbery", False, 2, 100.0),
    )
    ranked, _ = rank_cells_by_harm(df, window_months=1)
    assert list(ranked["h3_cell"]) == [A, B, C]
    assert list(ranked["rank"]) == [1, 2, 3]
    shuffled, _ = rank_cells_by_harm(df.sample(frac=1, random_state=3), window_months=1)
    pd.testing.assert_frame_equal(ranked, shuffled)


def test_main_crime_types_are_ordered_by_harm():
    df = rows(
        (A, date(2025, 1, 1), "Shoplifting", False, 50, 50.0),
        (A, date(2025, 1, 1), "Robbery", False, 1, 365.0),
        (A, date(2025, 1, 1), "Burglary", False, 1, 244.0),
        (A, date(2025, 1, 1), "Public order", False, 1, 7.5),
    )
    ranked, _ = rank_cells_by_harm(df, window_months=1, top_n=1)
    assert ranked.loc[0, "main_crime_types"] == "Robbery; Burglary; Shoplifting"
    assert ranked.loc[0, "events"] == 53


def test_cells_with_no_event_in_the_force_area_are_not_its_hot_spots():
    df = rows(
        (A, date(2025, 1, 1), "Robbery", False, 2, 730.0),  # far outside the force
        (B, date(2025, 1, 1), "Robbery", False, 1, 365.0),
        (C, date(2025, 1, 1), "Burglary", False, 1, 244.0),
    ).assign(events_in_force_area=[0, 1, 1])
    ranked, _ = rank_cells_by_harm(df, window_months=1)
    assert list(ranked["h3_cell"]) == [B, C]
    assert ranked["share_of_harm"].sum() == pytest.approx(1.0)
    everything, _ = rank_cells_by_harm(df.drop(columns="events_in_force_area"), window_months=1)
    assert everything["h3_cell"].iloc[0] == A
