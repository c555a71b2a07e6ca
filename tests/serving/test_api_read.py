import math

import pandas as pd
import pytest
from api_server import OFFSETS, ORIGIN, hotspot_rows


def hand_distance(lat1, lon1, lat2, lon2):
    r = 6371008.8
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    dp = p2 - p1
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def hand_bearing(lat1, lon1, lat2, lon2):
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360


def test_nearby_nearest_first_with_distance_and_bearing(server):
    rows = hotspot_rows(OFFSETS)
    with server.client("officer") as c:
        r = c.get(
            "/v1/hotspots/nearby", params={"lat": ORIGIN[0], "lon": ORIGIN[1], "radius_m": 1000}
        )
    assert r.status_code == 200, r.text
    body = r.json()
    expected = []
    for row in rows.to_dict("records"):
        d = hand_distance(*ORIGIN, row["latitude"], row["longitude"])
        if d <= 1000:
            expected.append(
                (d, row["h3_cell"], hand_bearing(*ORIGIN, row["latitude"], row["longitude"]))
            )
    expected.sort()
    assert [i["h3_cell"] for i in body["items"]] == [e[1] for e in expected]
    assert len(expected) == 3  # the far one (about 6.5 km) is excluded
    for item, (d, _, b) in zip(body["items"], expected, strict=True):
        assert item["distance_m"] == pytest.approx(d, abs=0.2)
        assert item["bearing_deg"] == pytest.approx(b, abs=0.2)
    # planted north, east and south-west of the origin
    assert body["items"][0]["compass"] == "N"
    assert sorted(i["compass"] for i in body["items"]) == ["E", "N", "SW"]
    assert body["tasking_source"] == "fallback:top_harm_cells" and "note" in body


def test_nearby_radius_and_validation(server):
    with server.client("officer") as c:
        small = c.get(
            "/v1/hotspots/nearby", params={"lat": ORIGIN[0], "lon": ORIGIN[1], "radius_m": 50}
        )
        assert small.json()["count"] <= 1
        bad = c.get("/v1/hotspots/nearby", params={"lat": 95, "lon": 0})
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert "lat" in bad.json()["detail"]
        big = c.get("/v1/hotspots/nearby", params={"lat": 51.7, "lon": -1.2, "radius_m": 99999})
        assert big.status_code == 422 and "radius_m" in big.json()["detail"]


def test_today_and_random_deterministic_per_request_id(server):
    with server.client("officer") as c:
        today = c.get("/v1/taskings/today").json()
        assert today["count"] == 4 and today["date"] == "2025-12-01"
        assert today["team"] == "oxford-a"
        ids = {i["id"] for i in today["items"]}
        picks = {}
        for rid in ["req-1", "req-2", "req-3", "req-4", "req-5", "req-6"]:
            a = c.get(
                "/v1/taskings/random",
                params={"lat": ORIGIN[0], "lon": ORIGIN[1]},
                headers={"X-Request-ID": rid},
            ).json()
            again = c.get(
                "/v1/taskings/random",
                params={"lat": ORIGIN[0], "lon": ORIGIN[1]},
                headers={"X-Request-ID": rid},
            ).json()
            b = c.get("/v1/taskings/random", headers={"X-Request-ID": rid}).json()
            assert a["hotspot"]["id"] == again["hotspot"]["id"] in ids  # seeded by request id
            assert b["hotspot"]["id"] in ids and b["pool_size"] == 4  # no position: all
            # with a position: one of the three nearest of the team's tasked spots
            near = c.get(
                "/v1/hotspots/nearby", params={"lat": ORIGIN[0], "lon": ORIGIN[1], "limit": 3}
            ).json()
            assert a["candidates"] == [i["id"] for i in near["items"]]
            assert a["hotspot"]["id"] in a["candidates"] and a["pool_size"] == 3
            assert a["request_id"] == rid and "distance_m" in a["hotspot"]
            assert a["served_date"] == today["served_date"] == near["served_date"] == "2025-12-01"
            assert a["stale"] is today["stale"] is near["stale"] is False
            picks[rid] = a["hotspot"]["id"]
        assert len(set(picks.values())) > 1  # not always the same
        # three calls from opening the app to being directed: random -> briefing
        brief = c.get(a["briefing_url"])
        assert brief.status_code == 200 and brief.json()["briefing"]["generated"] is True
        other_team = c.get("/v1/taskings/today", params={"team": "someone-else"})
        assert other_team.status_code == 403
    assert "random tasking request_id=req-1" in server.log.read_text()


def test_briefing_404_problem(server):
    with server.client("officer") as c:
        r = c.get("/v1/hotspots/nope/briefing")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    p = r.json()
    assert p["status"] == 404 and p["title"] == "Not Found" and "nope" in p["detail"]


def test_health_version_openapi(server):
    with server.client() as c:
        assert c.get("/v1/health").json()["status"] == "ok"
        v = c.get("/v1/version").json()
        assert v["export_version"].startswith("2025-12-") and v["api_version"]
        paths = c.get("/openapi.json").json()["paths"]
        for p in [
            "/v1/hotspots/nearby",
            "/v1/taskings/today",
            "/v1/taskings/random",
            "/v1/hotspots/{hotspot_id}/briefing",
            "/v1/patrols/activity",
            "/v1/patrols/gps",
            "/v1/persons/{person_key}",
            "/v1/persons",
        ]:
            assert p in paths
        doc = c.get("/openapi.json").json()
        ok = paths["/v1/hotspots/nearby"]["get"]["responses"]["200"]["content"]
        ref = ok["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        item = doc["components"]["schemas"]["NearbyHotspotOut"]["properties"]
        assert ref == "NearbyOut" and {"distance_m", "bearing_deg", "compass"} <= set(item)
        # the contract holds for a real answer
        from serving.api.app import NearbyOut

        with server.client("officer") as o:
            r = o.get("/v1/hotspots/nearby", params={"lat": ORIGIN[0], "lon": ORIGIN[1]})
        assert NearbyOut.model_validate(r.json()).count == 3
    assert "tok-" not in server.log.read_text()  # tokens never logged


def nearby_queries():
    """Plain queries (the fast path) and unusual ones (FastAPI's route), seeded."""
    import random

    rng = random.Random(11)
    plain = [
        {
            "lat": f"{ORIGIN[0] + rng.uniform(-0.012, 0.012):.6f}",
            "lon": f"{ORIGIN[1] + rng.uniform(-0.012, 0.012):.6f}",
            "radius_m": rng.choice(["1", "50", "250", "999.5", "1000", "2500", "5000"]),
            "limit": rng.choice(["1", "2", "20", "100"]),
        }
        for _ in range(60)
    ]
    lat, lon = str(ORIGIN[0]), str(ORIGIN[1])
    odd = [
        {"lat": lat, "lon": lon},
        {"lat": "90", "lon": "-180"},
        {"lat": lat, "lon": lon, "radius_m": "1e3"},
        {"lat": "+51.752", "lon": lon},
        {"lat": lat},
        {"lat": lat, "lon": lon, "radius_m": "0"},
        {"lat": lat, "lon": lon, "radius_m": "5001"},
        {"lat": lat, "lon": lon, "limit": "0"},
        {"lat": lat, "lon": lon, "limit": "101"},
        {"lat": lat, "lon": lon, "limit": "2.5"},
        {"lat": lat, "lon": lon, "other": "x"},
        {"lat": "nan", "lon": lon},
        {"lat": "90.0001", "lon": lon},
        [("lat", lat), ("lat", "10"), ("lon", lon)],
    ]
    return plain + odd


def test_nearby_fast_path_answers_exactly_like_the_fastapi_route(server, start_server):
    """The nearby fast path and FastAPI's route give byte-identical answers."""
    ref = start_server(server.data_root, VRDP_API_FAST_PATH="0")
    headers_sets = [
        {"Authorization": "Bearer tok-officer-0000000001"},
        {"Authorization": "bearer tok-analyst-0000000001"},
        {"Authorization": "Bearer not-a-token"},
        {},
    ]
    compared = 0
    with httpx_client(server.url) as fast, httpx_client(ref.url) as slow:
        for i, q in enumerate(nearby_queries()):
            for j, h in enumerate(headers_sets if i % 10 == 0 else headers_sets[:1]):
                h = {**h, "X-Request-ID": f"cmp-{i}-{j}"}
                a = fast.get("/v1/hotspots/nearby", params=q, headers=h)
                b = slow.get("/v1/hotspots/nearby", params=q, headers=h)
                assert a.status_code == b.status_code, (q, h, a.text, b.text)
                assert a.headers["content-type"] == b.headers["content-type"]
                assert a.headers["x-request-id"] == b.headers["x-request-id"] == h["X-Request-ID"]
                assert a.json() == b.json(), (q, h)
                compared += 1
    assert compared > 80
    # the plain queries found hot spots (the comparison is not over empty lists)
    with httpx_client(server.url) as c:
        h = {"Authorization": "Bearer tok-officer-0000000001"}
        counts = [
            c.get("/v1/hotspots/nearby", params=q, headers=h).json()["count"]
            for q in nearby_queries()[:60]
        ]
    assert sum(n > 0 for n in counts) > 20 and max(counts) >= 3


def httpx_client(url):
    import httpx

    return httpx.Client(base_url=url, timeout=10)


def test_empty_allocation_says_which_days_the_export_holds():
    from types import SimpleNamespace

    from serving.api.app import _no_tasking_note

    def spot(i, date, team):
        return SimpleNamespace(id=f"h{i}", rank=i, arm="patrol", date=date, team=team)

    snap = SimpleNamespace(
        version="v1", hotspots=[spot(1, "2026-01-01", "NPT02"), spot(2, None, None)]
    )
    note = _no_tasking_note(snap, "2026-11-23", "NPT01")
    assert "no tasking for 2026-11-23" in note and "2026-01-01" in note
    assert "VRDP_API_TODAY" in note
    # a day with a tasking, none of it for this team: say which teams it tasks
    snap.hotspots = [spot(1, "2026-01-01", "NPT02"), spot(2, "2026-01-01", "NPT03")]
    note = _no_tasking_note(snap, "2026-01-01", "NPT01")
    assert "no hot spot to team 'NPT01' on 2026-01-01" in note and "NPT02, NPT03" in note


def test_the_demo_officer_belongs_to_a_team_of_the_simulated_world(small_world):
    """VRDP_API_DEMO_TOKENS' officer finds spots in the demo's tasking (not an empty team)."""
    import glob

    from serving.api.settings import DEMO_TOKENS

    (path,) = glob.glob(str(small_world / "landing" / "patrol" / "teams" / "*" / "*.csv"))
    teams = set(pd.read_csv(path)["team_id"])
    assert DEMO_TOKENS["demo-officer-token"]["team"] in teams


def test_nearby_today_and_random_agree_on_a_stale_day(tmp_path, start_server):
    from api_server import OFFSETS, ORIGIN, hotspot_rows, publish

    from exports.format import ExportFile

    cells = hotspot_rows(OFFSETS)
    tasking = cells.assign(
        hotspot_id=cells["h3_cell"], date="2025-11-28", arm="patrol", team="oxford-a"
    )
    extra = [ExportFile("tasking.parquet", 4, lambda p: tasking.to_parquet(p, index=False))]
    publish(tmp_path / "exports", cells, extra=extra)
    srv = start_server(tmp_path)  # VRDP_API_TODAY=2025-12-01: the tasking is 3 days old
    at = {"lat": ORIGIN[0], "lon": ORIGIN[1]}
    with srv.client("officer") as c:
        near = c.get("/v1/hotspots/nearby", params=at).json()
        today = c.get("/v1/taskings/today").json()
        rnd = c.get("/v1/taskings/random", params=at, headers={"X-Request-ID": "stale-1"})
    assert rnd.status_code == 200, rnd.text
    rnd = rnd.json()
    for body in (near, today, rnd):
        assert body["served_date"] == "2025-11-28" and body["today"] == "2025-12-01"
        assert body["stale"] is True and "older than today" in body["stale_note"]
    assert today["count"] == 4 and near["count"] == 3  # the fourth is 6 km away
    assert rnd["hotspot"]["id"] in {i["id"] for i in today["items"]}
