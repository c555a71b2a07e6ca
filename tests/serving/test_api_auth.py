import pytest
from conftest import ORIGIN

from serving.api.audit import read_audit

ACT = {
    "officer_id": "PC1",
    "device_id": "DEV1",
    "hotspot_id": "x",
    "mode": "foot",
    "visit_start": "2025-11-30T20:00:00",
    "visit_end": "2025-11-30T20:15:00",
}
GPS = {
    "officer_id": "PC1",
    "device_id": "DEV1",
    "mode": "foot",
    "pings": [{"ts": "2025-11-30T20:00:00", "lat": 51.75, "lon": -1.25}],
}

# (method, path, kwargs, roles allowed)
ALL = {"officer", "analyst", "safeguarding", "admin"}
ENDPOINTS = [
    ("GET", "/v1/hotspots/nearby", {"params": {"lat": ORIGIN[0], "lon": ORIGIN[1]}}, ALL),
    ("GET", "/v1/taskings/today", {}, ALL),
    ("GET", "/v1/taskings/random", {}, ALL),
    ("GET", "/v1/hotspots/{cell}/briefing", {}, ALL),
    ("POST", "/v1/patrols/activity", {"json": ACT}, {"officer", "admin"}),
    ("POST", "/v1/patrols/gps", {"json": GPS}, {"officer", "admin"}),
    (
        "GET",
        "/v1/persons/PK001",
        {"headers": {"X-Purpose": "safeguarding review 42"}},
        {"analyst", "safeguarding"},
    ),
    ("POST", "/v1/map/ticket", {}, ALL),
    ("GET", "/map", {}, ALL),
]


@pytest.mark.parametrize("method,path,kw,allowed", ENDPOINTS, ids=[e[1] for e in ENDPOINTS])
def test_auth_matrix(server, method, path, kw, allowed):
    with server.client("officer") as c:
        cell = c.get("/v1/taskings/today").json()["items"][0]["id"]
    path = path.replace("{cell}", cell)
    for role, bad in [(None, None), (None, "Bearer not-a-token"), (None, "Basic abc")]:
        headers = {**kw.get("headers", {}), **({"Authorization": bad} if bad else {})}
        with server.client(role) as c:
            r = c.request(method, path, **{**kw, "headers": headers})
        assert r.status_code == 401, (path, bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers.get("www-authenticate", "").startswith("Bearer")
    for role in sorted(ALL):
        extra = {"Idempotency-Key": f"matrix-{role}-{path.split('/')[-1]}"}
        headers = {**kw.get("headers", {}), **extra}
        with server.client(role) as c:
            r = c.request(method, path, **{**kw, "headers": headers})
        if role in allowed:
            assert r.status_code in (200, 201), (role, path, r.text)
        else:
            assert r.status_code == 403, (role, path, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert role in r.json()["detail"]


def test_person_views_and_audit(server):
    audit = server.data_root / "audit" / "api_audit.jsonl"
    before = len(read_audit(audit))
    purpose = {"X-Purpose": "MASH strategy meeting 2025-12-01"}
    with server.client("analyst") as c:
        a = c.get("/v1/persons/PK001", headers=purpose).json()
        assert a["view"] == "pseudonymised" and "name" not in a["records"][0]
        assert a["records"][0]["risk_band"] == "high"
        assert c.get("/v1/persons/PK999", headers=purpose).status_code == 404
        assert c.get("/v1/persons/PK001").status_code == 422  # no stated purpose
    with server.client("safeguarding") as c:
        s = c.get("/v1/persons/PK002", headers=purpose).json()
        assert s["view"] == "identified" and s["records"][0]["name"] == "Sam Sample"
    with server.client("officer") as c:
        assert c.get("/v1/persons/PK001", headers=purpose).status_code == 403
        # officer endpoints are not audited
        c.get("/v1/taskings/today")
        c.get("/v1/hotspots/nearby", params={"lat": ORIGIN[0], "lon": ORIGIN[1]})
    rows = read_audit(audit)[before:]
    assert [(r["user"], r["role"], r["outcome"], r["record_ids"]) for r in rows] == [
        ("an.one", "analyst", 200, ["PK001"]),
        ("an.one", "analyst", 404, []),
        ("an.one", "analyst", 422, []),
        ("sg.one", "safeguarding", 200, ["PK002"]),
        ("pc.one", "officer", 403, []),
    ]
    assert all(r["path"].startswith("/v1/persons/") for r in read_audit(audit))
    assert rows[0]["purpose"] == purpose["X-Purpose"] and rows[0]["query"]["person_key"] == "PK001"
    assert rows[0]["time"] and rows[0]["request_id"]


def test_demo_tokens_only_when_enabled(tmp_path, start_server):
    from conftest import OFFSETS, hotspot_rows, publish

    publish(tmp_path / "exports", hotspot_rows(OFFSETS[:1]))
    srv = start_server(tmp_path, VRDP_API_DEMO_TOKENS="1")
    demo = {"Authorization": "Bearer demo-officer-token"}
    assert srv.client().get("/v1/taskings/today", headers=demo).status_code == 200
    assert "DEMO TOKENS ENABLED" in srv.log.read_text()
