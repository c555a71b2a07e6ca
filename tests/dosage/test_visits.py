"""Hand-made GPS tracks with known answers, and agreement with the simulated truth."""

from __future__ import annotations

import glob
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from vrdp.dosage import (
    app_checkins,
    baseline_presence,
    clean_pings,
    compliance_table,
    confirm_visits,
    daily_dosage,
    geofences_from_h3,
    geofences_from_points,
    join_activity,
    koper_share,
    local_to_utc,
    pings_to_visits,
    pseudonymise,
)

CX, CY = 451300.0, 206200.0  # Carfax, Oxford (BNG)
T0 = pd.Timestamp("2025-10-03 20:00:00")
_TR = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def _fence(radius_m=100.0):
    return geofences_from_points(
        pd.DataFrame({"unit_id": ["HS1"], "centre_easting": [CX], "centre_northing": [CY]}),
        radius_m=radius_m,
    )


def _track(t, x, y, officer="PC1", speed=None):
    lon, lat = _TR.transform(np.asarray(x, float), np.asarray(y, float))
    df = pd.DataFrame(
        {
            "ts": T0 + pd.to_timedelta(np.asarray(t, float), "s"),
            "officer_id": officer,
            "lat": lat,
            "lon": lon,
        }
    )
    if speed is not None:
        df["speed_mps"] = speed
    return df


def _foot_visit_with_gap():
    # Walk in from 300 m west at 1.4 m/s, stand 12 minutes (ping every 10 s, 40 s gap), walk out.
    approach = np.arange(0, 215, 10.0)
    xa = CX - 400 + 1.4 * approach  # ends ~100 m short of the centre
    stay = np.arange(0, 721, 10.0)
    stay = stay[~((stay > 300) & (stay < 340))]  # 40 s without pings
    t_in = approach[-1] + 10 + stay
    t_out = t_in[-1] + np.arange(10, 215, 10.0)
    xs = np.r_[xa, np.full(stay.size, CX), CX + 1.4 * (t_out - t_in[-1]) + 100]
    t = np.r_[approach, t_in, t_out]
    return _track(t, xs, np.full(t.size, CY))


def test_foot_visit_with_40s_gap_is_one_12_minute_visit():
    v = pings_to_visits(_foot_visit_with_gap(), _fence(radius_m=30))
    assert len(v) == 1
    r = v.iloc[0]
    assert r["kind"] == "visit"
    assert r["dwell_minutes"] == pytest.approx(12.0, abs=0.2)
    assert r["mode"] == "foot"
    assert r["in_koper_band"]
    assert r["stationary_share"] > 0.9


def test_long_gap_splits_visit():
    p = _foot_visit_with_gap()
    v = pings_to_visits(p, _fence(radius_m=30), gap_tolerance_seconds=30)
    assert len(v) == 2
    assert v["dwell_minutes"].sum() < 12.0


def test_drive_through_at_30kmh_is_a_vehicle_pass_under_a_minute():
    sp = 30 / 3.6
    t = np.arange(0, 80, 5.0)
    x = CX - 330 + sp * t  # crosses the 200 m wide fence in 24 s
    v = pings_to_visits(_track(t, x, np.full(t.size, CY)), _fence(radius_m=100))
    assert len(v) == 1
    r = v.iloc[0]
    assert r["kind"] == "pass"
    assert r["mode"] == "vehicle"
    assert r["dwell_seconds"] < 60
    assert not r["in_koper_band"]


def test_parked_vehicle_visit_reads_as_vehicle_from_approach_speed():
    t_drive = np.arange(0, 40, 5.0)
    x_drive = CX - 330 + 9.0 * t_drive
    t_stay = t_drive[-1] + 5 + np.arange(0, 15 * 60 + 1, 15.0)
    t = np.r_[t_drive, t_stay]
    x = np.r_[x_drive, np.full(t_stay.size, CX)]
    v = pings_to_visits(_track(t, x, np.full(t.size, CY)), _fence(radius_m=100))
    assert len(v) == 1
    assert v.iloc[0]["mode"] == "vehicle"
    assert v.iloc[0]["kind"] == "visit"


def test_two_officers_and_pseudonyms():
    a = _foot_visit_with_gap()
    b = _foot_visit_with_gap().assign(officer_id="PC2")
    v = pings_to_visits(pd.concat([b, a]), _fence(radius_m=30), officer_key="secret")
    assert len(v) == 2
    assert not v["officer"].str.contains("PC").any()
    assert set(v["officer"]) == set(pseudonymise(["PC1", "PC2"], "secret"))
    d = daily_dosage(v)
    assert d["dosage_minutes"].sum() == pytest.approx(24.0, abs=0.4)
    assert koper_share(v) == 1.0


def test_clean_pings_and_activity_join_and_compliance():
    p = _foot_visit_with_gap()
    bad = p.iloc[:3].copy()
    bad[["lat", "lon"]] = bad[["lon", "lat"]].to_numpy()  # swapped
    p2 = pd.concat([p.iloc[3:], bad, p.iloc[[10]]])
    c = clean_pings(p2)
    assert len(c) == len(p)
    assert c.attrs["dropped"]["duplicate"] == 1
    v = pings_to_visits(c, _fence(radius_m=30))
    act = pd.DataFrame(
        {
            "officer_id": ["PC1"],
            "unit_id": ["HS1"],
            "event": ["stop_search"],
            "ts": [v["arrive"].iloc[0] + pd.Timedelta(minutes=5)],
        }
    )
    j = join_activity(v, act)
    assert j["n_stop_search"].tolist() == [1]
    d = daily_dosage(v)
    t = d[["hotspot_id", "date"]].assign(target_minutes=30.0)
    c1 = compliance_table(d, t, by=["officer"])
    assert c1["minutes_ratio"].iloc[0] == pytest.approx(0.4, abs=0.01)
    assert c1["compliance_rate"].iloc[0] == 0.0


def test_vectorised_speed_1e5_pings():
    rng = np.random.default_rng(1)
    n = 100_000
    t = np.sort(rng.uniform(0, 8 * 3600, n))
    x = CX + np.cumsum(rng.normal(0, 3, n))
    y = CY + np.cumsum(rng.normal(0, 3, n))
    p = _track(t, x, y, officer=rng.choice(["a", "b", "c"], n))
    fences = geofences_from_points(
        pd.DataFrame(
            {
                "unit_id": [f"H{i}" for i in range(50)],
                "centre_easting": CX + rng.uniform(-800, 800, 50),
                "centre_northing": CY + rng.uniform(-800, 800, 50),
            }
        ),
        radius_m=80,
    )
    v = pings_to_visits(p, fences)
    # Every run lies inside one fence and between its own first and last ping.
    assert len(v) > 0 and v["hotspot_id"].isin(fences["hotspot_id"]).all()
    assert (v["depart"] >= v["arrive"]).all() and v["n_pings"].sum() <= n


def _world_visits(w, gps_tz="Europe/London"):
    """Visits on the small world as the asset makes them: London clock, stations excluded."""
    units = pd.read_csv(glob.glob(str(w / "landing/patrol/trial_units/*/trial_units.csv"))[0])
    files = sorted(glob.glob(str(w / "landing/patrol/gps/*/gps_pings.parquet")))
    raw = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    raw["ts"], _ = local_to_utc(raw["ts"], gps_tz, groups=raw["device_id"])
    pings = clean_pings(raw)
    pois = pd.read_csv(glob.glob(str(w / "landing/places/pois/*/pois.csv"))[0])
    st = pois[pois["category"] == "police_station"]
    bases = geofences_from_points(
        st, radius_m=60, x_col="easting", y_col="northing", id_col="poi_id"
    )
    v = pings_to_visits(pings, geofences_from_h3(units), day_start="06:00", exclude=bases)
    rows = []
    for f in sorted(glob.glob(str(w / "landing/patrol/activity/*/activity.jsonl"))):
        rows += [json.loads(line) for line in Path(f).read_text().splitlines()]
    act = pd.DataFrame(rows)
    act["ts"] = pd.to_datetime(act["ts"], errors="coerce", format="%Y-%m-%dT%H:%M:%S")
    act = act.dropna(subset=["ts", "officer_id", "device_id"])  # planted faults
    act["ts"], _ = local_to_utc(act["ts"], groups=act["device_id"])
    return confirm_visits(v, app_checkins(act))


def test_simulated_world_dosage_agrees_with_truth(small_world):
    w = small_world
    visits = _world_visits(w)
    v = visits[visits["kind"] == "visit"]
    truth = pd.read_parquet(w / "truth/patrol_visits.parquet")
    # Match each true visit to the GPS visit of the same officer and unit overlapping it.
    t_utc = truth.assign(
        arrive=local_to_utc(truth["arrive"])[0], depart=local_to_utc(truth["depart"])[0]
    )
    m = t_utc.merge(v, left_on=["officer_id", "unit_id"], right_on=["officer", "hotspot_id"])
    m = m[(m["arrive_y"] <= m["depart_x"]) & (m["depart_y"] >= m["arrive_x"])]
    recall = m.drop_duplicates(["officer_id", "unit_id", "arrive_x"]).shape[0] / len(truth)
    assert recall > 0.95
    # Per unit-day minutes against the true Koper stays. Presence (GPS time inside the
    # polygon) adds the walk in and out, and other duties inside the cell; confirmed
    # minutes (app check-in and inside the polygon) miss the check-ins the app did not
    # record and GPS gaps. Truth lies between the two; both follow it day by day.
    td = truth.groupby(["unit_id", "date"])["minutes"].sum()
    gd = v.groupby(["hotspot_id", "date"])["dwell_minutes"].sum()
    cd = visits.groupby(["hotspot_id", "date"])["confirmed_minutes"].sum()
    alloc = pd.read_parquet(w / "truth/trial_allocation.parquet")
    every = pd.MultiIndex.from_frame(alloc[["unit_id", "date"]].astype({"date": "datetime64[ns]"}))
    j = pd.concat([td.rename("truth"), gd.rename("gps"), cd.rename("conf")], axis=1)
    j.index = j.index.set_levels(j.index.levels[1].astype("datetime64[ns]"), level=1)
    j = j.reindex(every).fillna(0.0)  # every allocated unit-day, as the ITT table has them
    # measured (seed 7 small): presence r 0.954, x1.55; confirmed r 0.936, x0.82
    assert np.corrcoef(j["truth"], j["gps"])[0, 1] > 0.9
    assert np.corrcoef(j["truth"], j["conf"])[0, 1] > 0.9
    assert j["conf"].sum() < j["truth"].sum() < j["gps"].sum()
    bp = baseline_presence(daily_dosage(v), alloc).set_index("arm")
    assert bp.loc["control", "mean_minutes"] < 0.1 * bp.loc["patrol", "mean_minutes"]


def test_the_world_gps_clock_is_the_app_clock(small_world):
    # The world's notes call GPS times naive UTC, but its app events (local time) fall
    # inside the GPS visits only when GPS is read on the same London clock: read as
    # UTC, every summer-time visit moves an hour and loses its check-ins.
    london = _world_visits(small_world)
    utc = _world_visits(small_world, gps_tz="UTC")
    # measured (seed 7 small): 801 check-ins confirmed on the London clock, 603 as UTC
    assert london["n_checkins"].sum() > 1.2 * utc["n_checkins"].sum()
