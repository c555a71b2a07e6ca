import pytest
from api_server import ORIGIN, PERSON_1, PERSON_2, recent

from serving.api.audit import read_audit, verify_audit

ACT = {
    "device_id": "DEV1",
    "hotspot_id": "x",
    "mode": "foot",
    "visit_start": recent(60),
    "visit_end": recent(45),
}
GPS = {
    "device_id": "DEV1",
    "mode": "foot",
    "pings": [{"ts": recent(60), "lat": 51.75, "lon": -1.25}],
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
        f"/v1/persons/{PERSON_1}",
        {"headers": {"X-Purpose": "safeguarding review 42"}},
        {"analyst", "safeguarding"},
    ),
    (
        "GET",
        "/v1/persons",
        {
            "headers": {"X-Purpose": "safeguarding review 42"},
            "params": {"surname": "example", "date_of_birth": "1990-01-01"},
        },
        {"safeguarding"},
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
    missing = "f" * 64
    with server.client("analyst") as c:
        a = c.get(f"/v1/persons/{PERSON_1}", headers=purpose).json()
        assert a["view"] == "pseudonymised" and a["records"][0]["agency_count"] == 2
        assert not {"forename", "surname", "date_of_birth", "postcode"} & set(a["records"][0])
        assert sorted(e["role"] for e in a["events"]) == ["suspect", "victim"]
        assert a["places"] is None  # the bridge was not exported
        assert c.get(f"/v1/persons/{missing}", headers=purpose).status_code == 404
        assert c.get(f"/v1/persons/{PERSON_1}").status_code == 422  # no stated purpose
        search = c.get("/v1/persons", params={"surname": "Sample"}, headers=purpose)
        assert search.status_code == 403  # analysts never search identities
    with server.client("safeguarding") as c:
        s = c.get(f"/v1/persons/{PERSON_2}", headers=purpose).json()
        assert s["view"] == "identified" and s["records"][0]["surname"] == "Sample"
        assert s["records"][0]["nhs_number"] == "9434765919"
        found = c.get(
            "/v1/persons",
            params={"surname": " sample ", "forename": "SAM"},
            headers=purpose,
        ).json()
        assert [m["person_key"] for m in found["matches"]] == [PERSON_2]
        one = c.get("/v1/persons", params={"surname": "Example"}, headers=purpose)
        assert one.status_code == 422  # one weak identifier is a fishing trip
        nhs = c.get("/v1/persons", params={"nhs_number": "9434765919"}, headers=purpose)
        assert nhs.json()["count"] == 1
    with server.client("officer") as c:
        assert c.get(f"/v1/persons/{PERSON_1}", headers=purpose).status_code == 403
        # officer endpoints are not audited
        c.get("/v1/taskings/today")
        c.get("/v1/hotspots/nearby", params={"lat": ORIGIN[0], "lon": ORIGIN[1]})
    with server.client() as c:
        assert c.get(f"/v1/persons/{PERSON_1}", headers=purpose).status_code == 401
    rows = read_audit(audit)[before:]
    got = [(r["user"], r["role"], r["outcome"], r["record_ids"]) for r in rows]
    assert got == [
        ("an.one", "analyst", 200, [PERSON_1]),
        ("an.one", "analyst", 404, []),
        ("an.one", "analyst", 422, []),
        ("an.one", "analyst", 403, []),
        ("sg.one", "safeguarding", 200, [PERSON_2]),
        ("sg.one", "safeguarding", 200, [PERSON_2]),
        ("sg.one", "safeguarding", 422, []),
        ("sg.one", "safeguarding", 200, [PERSON_2]),
        ("pc.one", "officer", 403, []),
        (None, None, 401, []),
    ]
    assert all(r["path"].startswith("/v1/persons") for r in read_audit(audit))
    first = rows[0]
    assert first["purpose"] == purpose["X-Purpose"] and first["query"]["person_key"] == PERSON_1
    assert first["time"] and first["request_id"] and first["export_version"]
    # the rows returned are named: the analyst's events, the safeguarding identity records
    assert len(first["row_ids"]["person_events.parquet"]) == 2
    assert rows[4]["row_ids"] == {"identities.parquet": ["nhs:S3"]}
    assert rows[5]["query"] == {"surname": "sample", "forename": "SAM"}
    # append-only and hash-chained: no row was changed or removed
    assert verify_audit(audit) == []


def test_person_exports_are_separate_and_the_safeguarding_one_restricted(server):
    import stat

    exports = server.data_root / "exports"
    analyst = (exports / "persons_analyst" / "latest").resolve()
    restricted = (exports / "restricted" / "persons_safeguarding" / "latest").resolve()
    names = {p.name for p in analyst.iterdir()}
    assert names == {"manifest.json", "persons.parquet", "person_events.parquet"}
    assert {p.name for p in restricted.iterdir()} == {"manifest.json", "identities.parquet"}
    for d in (exports / "restricted", restricted):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE((restricted / "identities.parquet").stat().st_mode) == 0o600


def test_demo_tokens_only_when_enabled(tmp_path, start_server):
    from api_server import OFFSETS, hotspot_rows, publish

    publish(tmp_path / "exports", hotspot_rows(OFFSETS[:1]))
    srv = start_server(tmp_path, VRDP_API_DEMO_TOKENS="1")
    demo = {"Authorization": "Bearer demo-officer-token"}
    assert srv.client().get("/v1/taskings/today", headers=demo).status_code == 200
    assert "DEMO TOKENS ENABLED" in srv.log.read_text()
