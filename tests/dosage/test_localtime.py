"""Naive Europe/London wall-clock times through the clock changes, with known answers."""

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from vrdp.dosage import geofences_from_points, local_to_utc, pings_to_visits, tasking_date

CX, CY = 451300.0, 206200.0  # Carfax, Oxford (BNG)
_TR = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
FENCE = geofences_from_points(
    pd.DataFrame({"unit_id": ["HS1"], "centre_easting": [CX], "centre_northing": [CY]}),
    radius_m=50,
)


def _wall_clock(utc: pd.DatetimeIndex) -> pd.Series:
    """What a device showing Europe/London time writes: naive local, in recording order."""
    return pd.Series(utc.tz_convert("Europe/London").tz_localize(None))


def _standing_still(naive_ts: pd.Series, device="D1") -> pd.DataFrame:
    lon, lat = _TR.transform(np.full(len(naive_ts), CX), np.full(len(naive_ts), CY))
    return pd.DataFrame(
        {
            "ts": naive_ts.to_numpy(),
            "officer_id": "PC1",
            "device_id": device,
            "lat": lat,
            "lon": lon,
            "speed_mps": 0.0,
        }
    )


def test_fall_back_hour_read_in_device_order_gives_back_the_true_instants():
    # 00:30 BST to 02:30 GMT on 26 Oct 2025, a ping a minute: the wall clock shows
    # 01:00-01:59 twice.
    utc = pd.date_range("2025-10-25 23:30", "2025-10-26 02:30", freq="1min", tz="UTC")
    naive = _wall_clock(utc)
    assert naive.duplicated().sum() == 60
    got, rep = local_to_utc(naive, groups=pd.Series(["D1"] * len(naive)))
    pd.testing.assert_index_equal(
        pd.DatetimeIndex(got), utc, check_names=False, exact=False, check_freq=False
    )
    assert (rep.ambiguous, rep.ambiguous_second_pass, rep.ambiguous_assumed_first) == (120, 60, 60)
    assert rep.nonexistent == 0


def test_each_device_is_resolved_by_its_own_clock():
    # A file that concatenates two devices' logs: A records through the fall-back,
    # B only 01:10-01:20 BST (before it). B's rows come after A's clock went back.
    a_utc = pd.date_range("2025-10-26 00:40", "2025-10-26 01:20", freq="2min", tz="UTC")
    b_utc = pd.date_range("2025-10-26 00:10", "2025-10-26 00:20", freq="2min", tz="UTC")
    f = pd.DataFrame(
        {
            "ts": pd.concat([_wall_clock(a_utc), _wall_clock(b_utc)], ignore_index=True),
            "dev": ["A"] * len(a_utc) + ["B"] * len(b_utc),
            "true": a_utc.append(b_utc),
        }
    )
    got, rep = local_to_utc(f["ts"], groups=f["dev"])
    assert (got == f["true"]).all()
    assert rep.ambiguous_second_pass == 11  # A's 01:00-01:20 GMT
    # Without the device column the two clocks are taken as one: B is read an hour late.
    wrong, _ = local_to_utc(f["ts"])
    assert (wrong != f["true"]).sum() == len(b_utc)


def test_a_device_seen_only_after_the_fall_back_is_assumed_first_pass_and_counted():
    naive = pd.Series(pd.to_datetime(["2025-10-26 01:10", "2025-10-26 01:20"]))
    got, rep = local_to_utc(naive, groups=pd.Series(["D9", "D9"]))
    assert rep.ambiguous_assumed_first == 2 and rep.ambiguous_second_pass == 0
    assert str(got.iloc[0]) == "2025-10-26 00:10:00+00:00"  # 01:10 BST


def test_twelve_minute_visit_across_the_fall_back_is_twelve_minutes():
    utc = pd.date_range("2025-10-26 00:54", "2025-10-26 01:06", freq="10s", tz="UTC")
    naive = _wall_clock(utc)  # 01:54 BST ... 01:59:50 BST, 01:00 GMT ... 01:06 GMT
    pings = _standing_still(naive)
    # Read naively, the wall clock puts 01:00-01:06 before 01:54: two short visits.
    naive_visits = pings_to_visits(pings, FENCE)
    assert len(naive_visits) == 2 and naive_visits["dwell_minutes"].max() < 6.5
    pings["ts"], rep = local_to_utc(pings["ts"], groups=pings["device_id"])
    v = pings_to_visits(pings, FENCE)
    assert len(v) == 1
    assert v["dwell_minutes"].iloc[0] == pytest.approx(12.0)
    assert str(v["arrive_local"].iloc[0]) == "2025-10-26 01:54:00+01:00"
    assert str(v["depart_local"].iloc[0]) == "2025-10-26 01:06:00+00:00"
    assert str(v["arrive"].iloc[0]) == "2025-10-26 00:54:00+00:00"
    assert v["date"].iloc[0] == pd.Timestamp("2025-10-25")  # before 06:00: the previous day
    assert rep.ambiguous_second_pass > 0


def test_twelve_minute_visit_across_the_spring_forward_is_twelve_minutes():
    # 30 Mar 2025: 00:55 GMT ... 00:59:50 GMT, then the wall clock jumps to 02:00 BST.
    utc = pd.date_range("2025-03-30 00:55", "2025-03-30 01:07", freq="10s", tz="UTC")
    pings = _standing_still(_wall_clock(utc))
    pings["ts"], rep = local_to_utc(pings["ts"])
    assert rep.nonexistent == 0 and rep.ambiguous == 0
    v = pings_to_visits(pings, FENCE)
    assert v["dwell_minutes"].tolist() == [pytest.approx(12.0)]


def test_a_clock_that_missed_the_spring_forward_is_read_as_gmt_and_counted():
    # A device still on GMT writes 01:00-01:06, wall-clock times that never happen.
    naive = pd.Series(pd.date_range("2025-03-30 00:54", "2025-03-30 01:06", freq="1min"))
    got, rep = local_to_utc(naive)
    assert rep.nonexistent == 7
    assert (got.diff().dropna() == pd.Timedelta("1min")).all()  # the track stays continuous
    assert str(got.iloc[-1]) == "2025-03-30 01:06:00+00:00"


def test_the_tasking_day_is_read_on_the_local_clock():
    utc = pd.Series(
        pd.to_datetime(
            [
                "2025-03-30 05:30",  # 06:30 BST: the day of the change
                "2025-03-30 04:30",  # 05:30 BST: still the day before
                "2025-10-26 05:30",  # 05:30 GMT: still the day before
                "2025-10-26 06:00",  # 06:00 GMT: the day
                "2025-07-01 04:59",  # 05:59 BST
            ],
            utc=True,
        )
    )
    assert tasking_date(utc).dt.strftime("%m-%d").tolist() == [
        "03-30",
        "03-29",
        "10-25",
        "10-26",
        "06-30",
    ]


def test_zoned_input_is_only_converted():
    t = pd.Series(pd.to_datetime(["2025-07-01T12:00:00+01:00"]))
    got, rep = local_to_utc(t)
    assert rep.already_zoned and str(got.iloc[0]) == "2025-07-01 11:00:00+00:00"
