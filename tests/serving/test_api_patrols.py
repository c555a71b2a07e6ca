import json
from datetime import datetime, timedelta

import pandas as pd
from api_server import recent

from quality.contracts.agencies import agency_contracts
from vrdp.ingest.landing import read_landing_file

#: the officer of the server's test token (tests/serving/api_server.py)
OFFICER = "pc.one"
START = recent(90)
BEFORE_START = (datetime.fromisoformat(START) - timedelta(minutes=30)).isoformat()
DAY = START[:10]
VISIT = {
    "device_id": "TVP-MDT-00001",
    "hotspot_id": "89195d2b1cbffff",
    "unit_id": "TU001",
    "visit_start": START,
    "visit_end": recent(75),
    "mode": "foot",
    "start_lat": 51.752,
    "start_lon": -1.2577,
    "activities": [{"ts": recent(85), "event": "stop_search", "lat": 51.7521, "lon": -1.2578}],
}


def pings(n, start=START):
    t0 = datetime.fromisoformat(start)
    return [
        {
            "ts": (t0 + timedelta(seconds=i)).isoformat(),
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
        == (f"patrol/activity/{DAY}/activity_visit-0001-abc.jsonl")
    )
    problem(clash, 409)
    folder = server.data_root / "landing" / "patrol" / "activity" / DAY
    names = [p.name for p in folder.iterdir()]
    assert names.count("activity_visit-0001-abc.jsonl") == 1
    assert not [n for n in names if n.startswith(".")]  # no temp files left behind
    path = folder / "activity_visit-0001-abc.jsonl"
    recs = [json.loads(x) for x in path.read_text().splitlines()]
    assert [r["event"] for r in recs] == ["hotspot_arrive", "stop_search", "hotspot_depart"]
    assert {r["officer_id"] for r in recs} == {OFFICER}  # from the token
    contract = agency_contracts()["patrol.activity"]
    batch = read_landing_file(path, [f.name for f in contract.fields], source="patrol.activity")
    assert len(batch.rows) == 3


def test_gps_lands_as_parquet_with_source_columns(server):
    body = {
        "device_id": "TVP-MDT-00001",
        "mode": "foot",
        "pings": pings(10),
    }
    with server.client("officer") as c:
        r = c.post("/v1/patrols/gps", json=body, headers={"Idempotency-Key": "gps-batch-0001"})
        dup = c.post("/v1/patrols/gps", json=body, headers={"Idempotency-Key": "gps-batch-0001"})
    assert r.status_code == 201 and dup.json()["duplicate"] is True
    path = server.data_root / "landing" / "patrol" / "gps" / DAY / "gps_gps-batch-0001.parquet"
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
                json={**VISIT, "visit_end": BEFORE_START},  # ends before it starts
                headers=key,
            ),
            422,
        )
        problem(c.post("/v1/patrols/activity", json=VISIT), 422)  # no idempotency key
        big = {"device_id": "D1", "mode": "foot", "pings": pings(51)}
        p = problem(c.post("/v1/patrols/gps", json=big, headers=key), 413)
        assert "50" in p["detail"]
        huge = {"device_id": "D1", "mode": "foot", "pings": pings(3000)}
        problem(c.post("/v1/patrols/gps", json=huge, headers=key), 413)  # body > 200 kB
        future = {
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
    pings sent with another offset land converted to the London wall clock."""
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    t0 = datetime.now(ZoneInfo("UTC")).replace(microsecond=0) - timedelta(minutes=90)
    sent = [t0, t0 + timedelta(minutes=10)]
    body = {
        "device_id": "TVP-MDT-00001",
        "mode": "foot",
        "pings": [
            {"ts": sent[0].isoformat().replace("+00:00", "Z"), "lat": 51.752, "lon": -1.2577},
            {
                "ts": sent[1].astimezone(ZoneInfo("Asia/Karachi")).isoformat(),  # +05:00
                "lat": 51.752,
                "lon": -1.2577,
            },
        ],
    }
    with server.client("officer") as c:
        r = c.post("/v1/patrols/gps", json=body, headers={"Idempotency-Key": "gps-zoned-0001"})
    assert r.status_code == 201, r.text
    wall = [x.astimezone(london).replace(tzinfo=None) for x in sent]
    path = server.data_root / "landing" / r.json()["stored"]
    assert path.parent.name == wall[0].date().isoformat()
    ts = pd.read_parquet(path)["ts"].astype(str).tolist()
    assert ts == [str(w) for w in wall]


def test_posting_as_another_officer_is_refused_and_audited(server):
    from serving.api.audit import read_audit, verify_audit

    audit = server.data_root / "audit" / "patrol_audit.jsonl"
    before = len(read_audit(audit))
    with server.client("officer") as c:
        act = c.post(
            "/v1/patrols/activity",
            json={**VISIT, "officer_id": "PC9999"},
            headers={"Idempotency-Key": "impostor-activity-01"},
        )
        gps = c.post(
            "/v1/patrols/gps",
            json={"officer_id": "PC9999", "device_id": "D1", "mode": "foot", "pings": pings(3)},
            headers={"Idempotency-Key": "impostor-gps-0001"},
        )
        own = c.post(
            "/v1/patrols/gps",
            json={"officer_id": OFFICER, "device_id": "D1", "mode": "foot", "pings": pings(3)},
            headers={"Idempotency-Key": "own-gps-00000001"},
        )
    assert "not the token's user" in problem(act, 403)["detail"]
    problem(gps, 403)
    assert own.status_code == 201, own.text
    rows = read_audit(audit)[before:]
    refused = [r for r in rows if r.get("event") == "patrol_post_refused"]
    assert [(r["kind"], r["user"], r["claimed_officer_id"]) for r in refused] == [
        ("activity", OFFICER, "PC9999"),
        ("gps", OFFICER, "PC9999"),
    ]
    assert all(r["outcome"] == 403 for r in refused)
    assert not verify_audit(audit)
    landed = server.data_root / "landing" / "patrol"
    assert not list(landed.rglob("*impostor*"))


def test_implausible_pings_and_unknown_activity_types_are_refused(server):
    landing = server.data_root / "landing" / "patrol" / "gps"
    before = sorted(p.name for p in landing.iterdir()) if landing.exists() else []
    cases = {
        "1990 at (0, 0)": [{"ts": "1990-01-01T12:00:00", "lat": 0.0, "lon": 0.0}],
        "1990 in Oxford": [{"ts": "1990-01-01T12:00:00", "lat": 51.752, "lon": -1.2577}],
        "now at (0, 0)": [{"ts": recent(30), "lat": 0.0, "lon": 0.0}],
        "now in Manchester": [{"ts": recent(30), "lat": 53.48, "lon": -2.24}],
        "two days ago": [{"ts": recent(60 * 49), "lat": 51.752, "lon": -1.2577}],
    }
    with server.client("officer") as c:
        for i, (name, ps) in enumerate(cases.items()):
            r = c.post(
                "/v1/patrols/gps",
                json={"device_id": "D1", "mode": "foot", "pings": ps},
                headers={"Idempotency-Key": f"implausible-{i:04d}"},
            )
            detail = problem(r, 422)["detail"]
            assert "server clock" in detail or "outside the force area" in detail, name
        # inside VISIT's window, which was fixed when the module was imported
        during = VISIT["activities"][0]["ts"]
        bad = {**VISIT, "activities": [{"ts": during, "event": "coffee"}]}
        r = c.post("/v1/patrols/activity", json=bad, headers={"Idempotency-Key": "bad-type-0001"})
        detail = problem(r, 422)["detail"]
        assert "unknown activity type 'coffee'" in detail and "arrest" in detail
        ok = {**VISIT, "activities": [{"ts": during, "event": "community_contact"}]}
        r = c.post("/v1/patrols/activity", json=ok, headers={"Idempotency-Key": "good-type-0001"})
        assert r.status_code == 201, r.text
    after = sorted(p.name for p in landing.iterdir()) if landing.exists() else []
    assert after == before  # no landing folder for 1990 or any refused day
