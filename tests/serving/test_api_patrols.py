import json

import pandas as pd

from quality.contracts.agencies import agency_contracts
from vrdp.ingest.landing import read_landing_file

VISIT = {
    "officer_id": "PC4001",
    "device_id": "TVP-MDT-00001",
    "hotspot_id": "89195d2b1cbffff",
    "unit_id": "TU001",
    "visit_start": "2025-11-30T20:00:00",
    "visit_end": "2025-11-30T20:15:00",
    "mode": "foot",
    "start_lat": 51.752,
    "start_lon": -1.2577,
    "activities": [
        {"ts": "2025-11-30T20:05:00", "event": "stop_search", "lat": 51.7521, "lon": -1.2578}
    ],
}


def pings(n):
    return [
        {
            "ts": f"2025-11-30T20:{i // 60:02d}:{i % 60:02d}",
            "lat": 51.752,
            "lon": -1.2577,
            "accuracy_m": 6.0,
            "speed_mps": 1.2,
        }
        for i in range(n)
    ]


def problem(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


def test_activity_lands_once_and_loads_through_the_contract(server):
    with server.client("officer") as c:
        h = {"Idempotency-Key": "visit-0001-abc"}
        first = c.post("/v1/patrols/activity", json=VISIT, headers=h)
        again = c.post("/v1/patrols/activity", json=VISIT, headers=h)
        clash = c.post("/v1/patrols/activity", json={**VISIT, "mode": "vehicle"}, headers=h)
    assert first.status_code == 201 and first.json()["duplicate"] is False
    assert again.status_code == 201 and again.json()["duplicate"] is True
    assert (
        again.json()["stored"]
        == first.json()["stored"]
        == ("patrol/activity/2025-11-30/activity_visit-0001-abc.jsonl")
    )
    problem(clash, 409)
    folder = server.data_root / "landing" / "patrol" / "activity" / "2025-11-30"
    names = [p.name for p in folder.iterdir()]
    assert names.count("activity_visit-0001-abc.jsonl") == 1
    assert not [n for n in names if n.startswith(".")]  # no temp files left behind
    path = folder / "activity_visit-0001-abc.jsonl"
    recs = [json.loads(x) for x in path.read_text().splitlines()]
    assert [r["event"] for r in recs] == ["hotspot_arrive", "stop_search", "hotspot_depart"]
    contract = agency_contracts()["patrol.activity"]
    batch = read_landing_file(path, [f.name for f in contract.fields], source="patrol.activity")
    assert len(batch.rows) == 3


def test_gps_lands_as_parquet_with_source_columns(server):
    body = {
        "officer_id": "PC4001",
        "device_id": "TVP-MDT-00001",
        "mode": "foot",
        "pings": pings(10),
    }
    with server.client("officer") as c:
        r = c.post("/v1/patrols/gps", json=body, headers={"Idempotency-Key": "gps-batch-0001"})
        dup = c.post("/v1/patrols/gps", json=body, headers={"Idempotency-Key": "gps-batch-0001"})
    assert r.status_code == 201 and dup.json()["duplicate"] is True
    path = (
        server.data_root
        / "landing"
        / "patrol"
        / "gps"
        / "2025-11-30"
        / "gps_gps-batch-0001.parquet"
    )
    df = pd.read_parquet(path)
    assert list(df.columns) == [
        "ts",
        "officer_id",
        "device_id",
        "lat",
        "lon",
        "accuracy_m",
        "speed_mps",
        "mode",
    ]
    assert str(df["ts"].dtype) == "datetime64[ms]" and len(df) == 10
    contract = agency_contracts()["patrol.gps"]
    batch = read_landing_file(path, [f.name for f in contract.fields], source="patrol.gps")
    assert len(batch.rows) == 10


def test_post_validation_problems(server):
    key = {"Idempotency-Key": "validation-0001"}
    with server.client("officer") as c:
        p = problem(
            c.post("/v1/patrols/activity", json={**VISIT, "start_lat": 123}, headers=key), 422
        )
        assert "start_lat" in p["detail"]
        p = problem(
            c.post("/v1/patrols/activity", json={**VISIT, "colour": "red"}, headers=key), 422
        )
        assert "colour" in p["detail"] and "xtra" in p["detail"].lower() + str(p["errors"]).lower()
        problem(
            c.post(
                "/v1/patrols/activity",
                json={**VISIT, "visit_end": "2025-11-30T19:00:00"},
                headers=key,
            ),
            422,
        )
        problem(c.post("/v1/patrols/activity", json=VISIT), 422)  # no idempotency key
        big = {"officer_id": "PC1", "device_id": "D1", "mode": "foot", "pings": pings(51)}
        p = problem(c.post("/v1/patrols/gps", json=big, headers=key), 413)
        assert "50" in p["detail"]
        huge = {"officer_id": "PC1", "device_id": "D1", "mode": "foot", "pings": pings(3000)}
        problem(c.post("/v1/patrols/gps", json=huge, headers=key), 413)  # body > 200 kB
        future = {
            "officer_id": "PC1",
            "device_id": "D1",
            "mode": "foot",
            "pings": [{"ts": "2999-01-01T00:00:00", "lat": 51.7, "lon": -1.2}],
        }
        problem(c.post("/v1/patrols/gps", json=future, headers=key), 422)
        problem(
            c.post(
                "/v1/patrols/gps",
                content=b"{not json",
                headers={**key, "content-type": "application/json"},
            ),
            422,
        )
    assert not (server.data_root / "api" / "idempotency" / "gps" / "validation-0001.json").exists()


def test_zoned_gps_lands_as_london_wall_time(server):
    """Landed GPS is Europe/London wall time without a zone (as the platform reads it):
    a summer ping sent in UTC lands an hour later on the wall clock, in its local day."""
    body = {
        "officer_id": "PC4001",
        "device_id": "TVP-MDT-00001",
        "mode": "foot",
        "pings": [
            {"ts": "2025-07-14T23:30:00Z", "lat": 51.752, "lon": -1.2577},
            {"ts": "2025-07-15T00:40:00+01:00", "lat": 51.752, "lon": -1.2577},
        ],
    }
    with server.client("officer") as c:
        r = c.post("/v1/patrols/gps", json=body, headers={"Idempotency-Key": "gps-zoned-0001"})
    assert r.status_code == 201, r.text
    path = (
        server.data_root
        / "landing"
        / "patrol"
        / "gps"
        / "2025-07-15"
        / "gps_gps-zoned-0001.parquet"
    )
    ts = pd.read_parquet(path)["ts"].astype(str).tolist()
    assert ts == ["2025-07-15 00:30:00", "2025-07-15 00:40:00"]
