"""Waypoints inside a tasked hot spot, and the analysts' audited overrides of them."""

import geopandas as gpd
import h3
import pandas as pd
import pytest
import shapely

from vrdp.hotspots.override_log import main, read_waypoint_overrides
from vrdp.tasking.waypoints import apply_waypoint_overrides, waypoints

FENCE = gpd.GeoDataFrame(
    {"hotspot_id": ["h1", "h2"]},
    geometry=[shapely.box(0, 0, 200, 200), shapely.box(1000, 1000, 1200, 1200)],
    crs="EPSG:27700",
)
POIS = pd.DataFrame(
    {
        "category": ["bus_stop", "pub", "bus_stop"],
        "name": ["Queen Street Bus Stop", "The Kings Arms", "Far Away Bus Stop"],
        "street": ["Queen Street", "High Street", "Far Street"],
        "easting_m": [20.0, 150.0, 5000.0],
        "northing_m": [20.0, 150.0, 5000.0],
    }
)
STREETS = pd.DataFrame({"street_name": ["Mill Lane"], "easting_m": [100.0], "northing_m": [40.0]})


def _events():
    rows = [("Robbery", 22, 18)] * 4 + [("Violence and sexual offences", 148, 152)] * 2
    rows += [("Shoplifting", 100, 45)] * 3 + [("Burglary", 10, 195)]
    rows += [("Robbery", 900, 900)]  # outside every geofence
    rows += [("Robbery", 1100, 1100)]  # in h2, no venue or street near
    return pd.DataFrame(rows, columns=["crime_type", "easting", "northing"])


def test_waypoints_rank_places_by_harm_inside_the_geofence():
    weights = {"Robbery": 365.0, "Violence and sexual offences": 200.0, "Shoplifting": 2.0}
    w = waypoints(_events(), FENCE, pois=POIS, streets=STREETS, harm_weights=weights)
    h1 = w[w["hotspot_id"] == "h1"]
    assert h1["label"].tolist() == ["Bus stop, Queen Street", "Pub, The Kings Arms, High Street",
                                    "Mill Lane"]  # fmt: skip
    assert h1["what_happened"].tolist() == ["4 Robbery", "2 Violence and sexual offences",
                                            "3 Shoplifting"]  # fmt: skip
    assert h1["waypoint_rank"].tolist() == [1, 2, 3]  # at most three: the burglary is dropped
    for r in w.itertuples():
        fence = FENCE.set_index("hotspot_id").geometry[r.hotspot_id]
        assert fence.contains(shapely.Point(r.easting_m, r.northing_m))
    # the bus stop's own point is used (it is inside the geofence)
    assert (h1.iloc[0]["easting_m"], h1.iloc[0]["northing_m"]) == (20.0, 20.0)
    h2 = w[w["hotspot_id"] == "h2"]
    assert h2["label"].tolist() == ["Unnamed place"] and h2["events"].tolist() == [1]
    # ranked by counts without weights: shoplifting's three beat the pub's two
    by_count = waypoints(_events(), FENCE, pois=POIS, streets=STREETS)
    assert by_count[by_count["hotspot_id"] == "h1"]["label"].iloc[1] == "Mill Lane"


def test_no_event_text_reaches_a_waypoint():
    ev = _events().assign(location_text="4 Vicarage Drive, Marlow, SL7 2HN")
    w = waypoints(ev, FENCE, pois=POIS, streets=STREETS)
    assert not w.astype(str).apply(lambda c: c.str.contains("Vicarage")).any().any()


def test_analyst_overrides_add_and_remove_waypoints_through_the_audited_cli(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("VRDP_DATA_ROOT", str(tmp_path))
    cell = h3.latlng_to_cell(51.752, -1.2577, 9)
    lat, lon = h3.cell_to_latlng(cell)
    base = ["waypoint", "--cell", cell, "--analyst", "J. Smith"]
    add = ["--action", "add", "--label", "Bus stop, Queen Street", "--lat", str(lat)]
    assert main([*base, *add, "--lon", str(lon), "--reason", "robberies at the stop"]) == 0
    assert main([*base, "--action", "remove", "--label", "Mill Lane",
                 "--reason", "road closed"]) == 0  # fmt: skip
    with pytest.raises(SystemExit):  # a point outside the cell is refused
        main([*base, "--action", "add", "--label", "X", "--lat", "51.0", "--lon", "-1.0",
              "--reason", "r"])  # fmt: skip
    with pytest.raises(SystemExit):  # no reason, no override
        main([*base, "--action", "remove", "--label", "X", "--reason", " "])
    ov = read_waypoint_overrides()
    assert ov["action"].tolist() == ["add", "remove"] and (ov["analyst"] == "J. Smith").all()
    assert main(["list", "--waypoints"]) == 0 and "road closed" in capsys.readouterr().out
    computed = waypoints(_events(), FENCE, pois=POIS, streets=STREETS)
    out = apply_waypoint_overrides(computed, ov, pd.Series({"h1": cell, "h2": "other"}))
    h1 = out[out["hotspot_id"] == "h1"]
    assert h1["label"].tolist()[0] == "Bus stop, Queen Street"
    assert h1["source"].tolist()[0] == "analyst" and h1["analyst"].tolist()[0] == "J. Smith"
    assert "Mill Lane" not in h1["label"].tolist() and len(h1) <= 3
    assert out[out["hotspot_id"] == "h2"]["label"].tolist() == ["Unnamed place"]
