"""Teams and shifts from the delivered teams reference."""

from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from quality.contracts.agencies import agency_contracts
from vrdp.tasking import assign_teams, parse_shift_pattern, shift_for_windows

TEAMS = pd.DataFrame(
    {
        "team_id": ["N", "S"],
        "team_name": ["North team", "South team"],
        "wards": ["E05000001;E05000003", "E05000002"],
        "base_station": ["North Police Station", "South Police Station"],
        "base_easting": [500.0, 500.0],
        "base_northing": [1900.0, 100.0],
        "shift_pattern": ["early 07:00-15:00; late 15:00-23:00", "night 22:00-06:00"],
    }
)
WARDS = gpd.GeoDataFrame(
    {"WD25CD": ["E05000001", "E05000002", "E05000009"]},
    geometry=[
        shapely.box(0, 1000, 1000, 2000),
        shapely.box(0, 0, 1000, 1000),
        shapely.box(1000, 0, 2000, 2000),
    ],
    crs="EPSG:27700",
)


def test_a_spot_goes_to_the_team_covering_its_ward_else_the_nearest_base():
    out = assign_teams([100.0, 100.0, 1500.0], [1100.0, 900.0, 1800.0], TEAMS, WARDS)
    assert out["team"].tolist() == ["N", "S", "N"]
    assert out["team_basis"].tolist() == ["ward E05000001", "ward E05000002",
                                          "nearest base station"]  # fmt: skip
    assert out.notna().all().all()
    # a ward covered by the south team, though nearer the north base: the ward wins
    assert assign_teams([900.0], [990.0], TEAMS, WARDS)["team"].item() == "S"


def test_the_shift_covering_most_window_hours_is_chosen():
    evening = pd.DataFrame({"start_hour_of_week": [24 * 5 + 19], "window_hours": [3]})
    morning = pd.DataFrame({"start_hour_of_week": [9, 24 + 10], "window_hours": [3, 3]})
    pattern = TEAMS["shift_pattern"][0]
    assert shift_for_windows(pattern, evening)[:2] == ("late", "15:00-23:00")
    assert shift_for_windows(pattern, morning)[:2] == ("early", "07:00-15:00")
    name, hours, basis = shift_for_windows(pattern, None)
    assert (name, hours) == ("early", "07:00-15:00") and "no patrol window" in basis
    # a shift over midnight covers the small hours
    late_night = pd.DataFrame({"start_hour_of_week": [1], "window_hours": [2]})
    assert shift_for_windows("late 15:00-23:00; night 22:00-06:00", late_night)[0] == "night"
    assert parse_shift_pattern("night 22:00-06:00") == [("night", 22.0, 8.0)]
    with pytest.raises(ValueError, match="HH:MM"):
        parse_shift_pattern("nights")


def test_a_bad_teams_row_is_quarantined_with_its_reason(tmp_path):
    from vrdp.ingest.deliveries import load_delivery

    bad = TEAMS.copy()
    bad.loc[1, "wards"] = "Southville"
    bad.loc[0, "shift_pattern"] = "mornings"
    path = tmp_path / "teams.csv"
    pd.concat([bad, TEAMS.assign(team_id=["N2", "S2"])]).to_csv(path, index=False)
    res = load_delivery([path], agency_contracts()["patrol.teams"], delivery="2025-10",
                        validated_on=date(2025, 10, 1))  # fmt: skip
    assert len(res.loaded) == 2 and len(res.quarantine) == 2
    reasons = " ".join(res.quarantine["detail"].astype(str))
    assert "wards" in reasons and "shift_pattern" in reasons
