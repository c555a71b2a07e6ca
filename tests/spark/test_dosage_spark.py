"""GPS dwell and dosage on Spark give the same answers as the pandas path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vrdp.dosage import (
    clean_pings,
    daily_dosage,
    geofences_from_h3,
    geofences_from_points,
    local_to_utc,
    pings_to_visits,
)
from vrdp.dosage.spark import daily_dosage_spark, pings_to_visits_spark

#: GPS days of the small world compared (of 90): enough for every officer, unit and
#: mode, and the Spark tests stay inside their couple of minutes in CI.
GPS_DAYS = 30


def _assert_same_visits(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for col in a.columns:
        if a[col].dtype.kind == "f":
            np.testing.assert_allclose(
                # pandas measures seconds from the earliest ping as floats, Spark in
                # whole microseconds: the same times up to float rounding.
                b[col].to_numpy(float),
                a[col].to_numpy(float),
                rtol=1e-9,
                atol=1e-6,
                err_msg=col,
            )
        else:
            assert (a[col].astype(str).to_numpy() == b[col].astype(str).to_numpy()).all(), col


def test_hand_made_runs_gaps_modes_and_exclusion(spark):
    fences = geofences_from_points(
        pd.DataFrame({"unit_id": ["HS1", "HS2"], "centre_easting": [451300.0, 452000.0],
                      "centre_northing": [206200.0, 206200.0]}),
        radius_m=100,
    )  # fmt: skip
    station = geofences_from_points(
        pd.DataFrame({"unit_id": ["ST"], "centre_easting": [452000.0],
                      "centre_northing": [206150.0]}),
        radius_m=30,
    )  # fmt: skip
    t0 = pd.Timestamp("2025-10-26 00:30", tz="UTC")  # the night the clocks go back
    rows = []
    # PC1 stands 12 minutes in HS1, leaves 5 minutes (a gap), comes back for 30 s (a pass).
    rows += [
        (t0 + pd.Timedelta(seconds=s), "PC1", 451300.0, 206200.0, 0.0) for s in range(0, 721, 15)
    ]
    rows += [
        (t0 + pd.Timedelta(seconds=s), "PC1", 451600.0, 206200.0, 1.4) for s in range(735, 1020, 15)
    ]
    rows += [
        (t0 + pd.Timedelta(seconds=s), "PC1", 451310.0, 206210.0, np.nan)
        for s in range(1035, 1066, 15)
    ]
    # PC2 drives through HS2 (speed derived, no reported speed) and parks at the station.
    rows += [
        (t0 + pd.Timedelta(seconds=s), "PC2", 451850.0 + 8 * s, 206200.0, np.nan)
        for s in range(0, 40, 2)
    ]
    rows += [
        (t0 + pd.Timedelta(seconds=s), "PC2", 452000.0, 206150.0, 0.0) for s in range(40, 400, 10)
    ]
    p = pd.DataFrame(rows, columns=["ts", "officer_id", "easting_m", "northing_m", "speed_mps"])
    p["lat"], p["lon"] = 51.7, -1.2  # projected at ingest: easting/northing are used
    kw = {"exclude": station, "tz": "Europe/London", "officer_key": "k"}
    a = pings_to_visits(p, fences, **kw)
    b = pings_to_visits_spark(spark, p, fences, **kw)
    assert sorted(a["kind"]) == ["pass", "pass", "visit"]
    _assert_same_visits(a, b)
    pd.testing.assert_frame_equal(daily_dosage(a), daily_dosage_spark(spark, b), check_dtype=False)


@pytest.fixture(scope="module")
def small_world_pings(small_world):
    days = sorted((small_world / "landing" / "patrol" / "gps").iterdir())[:GPS_DAYS]
    raw = pd.concat([pd.read_parquet(d / "gps_pings.parquet") for d in days], ignore_index=True)
    raw["ts"], _ = local_to_utc(raw["ts"], "Europe/London", groups=raw["device_id"])
    (units_csv,) = (small_world / "landing" / "patrol" / "trial_units").glob("*/trial_units.csv")
    return clean_pings(raw), geofences_from_h3(pd.read_csv(units_csv))


def test_small_world_visits_and_dosage_identical_to_pandas(spark, small_world_pings):
    pings, fences = small_world_pings
    a = pings_to_visits(pings, fences, tz="Europe/London")
    b = pings_to_visits_spark(spark, pings, fences, tz="Europe/London")
    assert len(a) > 100 and set(a["mode"]) == {"foot", "vehicle"}
    _assert_same_visits(a, b)
    da, db = daily_dosage(a), daily_dosage_spark(spark, b)
    assert len(da) > 100
    # Dosage per geofence, day and officer: the same rows, the same minutes.
    pd.testing.assert_frame_equal(da, db, check_dtype=False)
