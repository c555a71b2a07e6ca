"""The lost-subject places-of-interest table: one row per item, in item order, typed alike.

``vrdp.lost_subject.places_of_interest`` builds its table column by column (a dict
per row took about 29 s on the large world, 9 s now); these check what that must
keep: the reasons in words, the perpetrator-only addresses, the order (a stable
sort by ``item_id``, duplicates in input order) and one type per column whatever
kinds of item are present.
"""

import numpy as np
import pandas as pd

from vrdp.lost_subject import POI_COLUMNS, POI_TYPES, places_of_interest


def _events():
    return pd.DataFrame(
        {
            "event_key": ["e2", "e1", "e3"],
            "event_type": ["intelligence", "crime", "intelligence"],
            "soc_category": ["county_lines", "drug_supply", "cuckooing"],
            "occurred_on": pd.to_datetime(["2025-05-01", "2025-01-01", None]),
            "latitude": [51.7521, 51.76, np.nan],
            "longitude": [-1.2577, -1.2577, -1.25],
            "ward_code": ["W1", "W2", "W1"],
            "grading_source": ["B", "A", None],
            "grading_intelligence": ["2", "1", None],
            "grading_handling": [None, "P", None],
        }
    )


def _addresses():
    return pd.DataFrame(
        {
            "place_key": ["p2", "p1", "p1", "p1"],
            "person_key": ["k2", "k1", "k1", "k9"],
            "role": ["offender", "suspect", "suspect", "victim"],
            "soc_category": ["drug_supply", "drug_supply", "drug_supply", "drug_supply"],
            "last_event_on": pd.to_datetime(
                ["2025-03-01", "2025-02-01", "2025-04-01", "2025-02-01"]
            ),
            "valid_from": pd.to_datetime(["2024-01-01", "2024-06-01", "2024-06-01", "2024-06-01"]),
            "valid_to": pd.to_datetime([None, None, None, None]),
            "latitude": [51.75, 51.74, 51.74, 51.74],
            "longitude": [-1.25, -1.24, -1.24, -1.24],
            "ward_code": ["W1", "W1", "W1", "W1"],
        }
    )


def test_items_carry_their_reasons_in_item_order_with_duplicates_in_input_order():
    pois = places_of_interest(_events(), _addresses())
    assert pois["item_id"].tolist() == [
        "addr:p1:k1:drug_supply:2024-06-01",
        "addr:p1:k1:drug_supply:2024-06-01",
        "addr:p2:k2:drug_supply:2024-01-01",
        "soc:e1:drug_supply",
        "soc:e2:county_lines",
    ]
    # the two spells of one person at one address keep their input order
    assert pois["occurred_on"].iloc[:2].tolist() == [
        pd.Timestamp("2025-02-01"),
        pd.Timestamp("2025-04-01"),
    ]
    by_id = pois.drop_duplicates("item_id").set_index("item_id")
    assert by_id.loc["soc:e2:county_lines", "reason"] == (
        "intelligence: county lines on 2025-05-01, graded B2"
    )
    # a crime carries no grading
    assert by_id.loc["soc:e1:drug_supply", "reason"] == "crime: drug supply on 2025-01-01"
    assert pd.isna(by_id.loc["soc:e1:drug_supply", "grading"])
    assert by_id.loc["soc:e1:drug_supply", "place_id"] == "pt:51.76000,-1.25770"
    assert by_id.loc["addr:p2:k2:drug_supply:2024-01-01", "reason"] == (
        "known address of a person recorded as offender in drug supply (last such event 2025-03-01)"
    )
    # victims' addresses and events without a point are never listed
    assert not pois["linked_person_key"].eq("k9").any()
    assert not pois["item_id"].str.contains("e3").any()


def test_every_column_has_one_type_whatever_kinds_are_present():
    chb = pd.DataFrame(
        {
            "site_phase_id": ["s1-clear"],
            "site_id": ["s1"],
            "site_name": ["Blackbird Leys"],
            "phase": ["clear"],
            "phase_start": pd.to_datetime(["2025-01-01"]),
            "phase_end": pd.to_datetime([None]),
            "latitude": [51.72],
            "longitude": [-1.2],
            "polygon_wkt": ["POLYGON ((-1.21 51.71, -1.19 51.71, -1.19 51.73, -1.21 51.71))"],
            "ward_code": ["W3"],
        }
    )
    expected = {c: ("str" if t == "str" else t) for c, t in POI_TYPES.items()}
    for args in [
        (_events(), None, None, None),
        (None, _addresses(), None, None),
        (None, None, chb, None),
        (_events(), _addresses(), chb, None),
        (_events().head(0), None, None, None),
        (None, None, None, None),
    ]:
        pois = places_of_interest(*args)
        assert list(pois.columns) == POI_COLUMNS
        assert dict(pois.dtypes.astype(str)) == expected, args
        assert pois["item_id"].is_monotonic_increasing
