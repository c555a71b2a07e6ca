"""Partnership router: safeguarding only, every read audited in the API's audit chain,
timelines with victimisation and offending apart, reviews that change nothing else."""

import pytest
from api_server import PERSON_1, publish_partnership_exports

from exports.format import sha256_file
from serving.api.audit import read_audit, verify_audit

PURPOSE = {"X-Purpose": "multi-agency safeguarding review 17"}


@pytest.fixture(scope="module")
def partners(tmp_path_factory):
    from api_server import Server

    root = tmp_path_factory.mktemp("partners") / "data"
    publish_partnership_exports(root / "exports")
    srv = Server(root)
    yield srv
    srv.stop()


ENDPOINTS = [
    ("GET", f"/v1/partners/persons/{PERSON_1}/timeline", {}),
    ("GET", "/v1/partners/safeguarding/opportunities", {}),
    ("GET", "/v1/partners/safeguarding/rules", {}),
    ("GET", "/v1/partners/cohorts/victim", {}),
    (
        "POST",
        f"/v1/partners/safeguarding/opportunities/{PERSON_1}/review",
        {"json": {"status": "seen"}},
    ),
]


@pytest.mark.parametrize("method,path,kw", ENDPOINTS, ids=[e[1] for e in ENDPOINTS])
def test_refused_to_officers_analysts_and_admins_and_audited(partners, method, path, kw):
    audit = partners.data_root / "audit" / "api_audit.jsonl"
    before = len(read_audit(audit))
    with partners.client(None) as c:
        assert c.request(method, path, headers=PURPOSE, **kw).status_code == 401
    for role in ("officer", "analyst", "admin"):
        with partners.client(role) as c:
            r = c.request(method, path, headers=PURPOSE, **kw)
        assert r.status_code == 403, (role, r.text)
    with partners.client("safeguarding") as c:
        assert c.request(method, path, **kw).status_code == 422  # no purpose
        r = c.request(method, path, headers=PURPOSE, **kw)
    assert r.status_code in (200, 201), r.text
    rows = read_audit(audit)[before:]
    assert [row["outcome"] for row in rows] == [401, 403, 403, 403, 422, r.status_code]
    assert rows[-1]["user"] == "sg.one" and rows[-1]["purpose"] == PURPOSE["X-Purpose"]
    assert verify_audit(audit) == []


def test_timeline_keeps_victimisation_and_offending_apart(partners):
    with partners.client("safeguarding") as c:
        r = c.get(f"/v1/partners/persons/{PERSON_1}/timeline", headers=PURPOSE)
        missing = c.get("/v1/partners/persons/nobody/timeline", headers=PURPOSE)
    body = r.json()
    assert body["counts"] == {"victimisation": 1, "offending": 1, "contact": 1}
    assert body["victimisation"][0]["role"] == "victim"
    assert body["offending"][0]["role"] == "suspect"
    first = body["victimisation"][0]
    assert {
        "occurred_on",
        "agency",
        "event_type",
        "crime_type",
        "harm_weight_days",
        "ward_name",
    } <= set(first)
    assert not any("score" in k for k in body)
    assert missing.status_code == 404
    rows = read_audit(partners.data_root / "audit" / "api_audit.jsonl")
    hit = [x for x in rows if x["path"].endswith(f"{PERSON_1}/timeline") and x["outcome"] == 200]
    assert hit[-1]["record_ids"] == [PERSON_1]
    assert sorted(hit[-1]["row_ids"]["timeline.parquet"]) == ["pe1", "pe2", "pe3"]


def test_reviews_are_audited_and_change_nothing_else(partners):
    folder = (partners.data_root / "exports" / "restricted" / "partnership" / "latest").resolve()
    before = {p.name: sha256_file(p) for p in folder.iterdir()}
    url = f"/v1/partners/safeguarding/opportunities/{PERSON_1}/review"
    with partners.client("safeguarding") as c:
        listed = c.get("/v1/partners/safeguarding/opportunities", headers=PURPOSE).json()
        bad = c.post(url, headers=PURPOSE, json={"status": "no_action"})
        unknown = c.post(
            "/v1/partners/safeguarding/opportunities/nobody/review",
            headers=PURPOSE,
            json={"status": "seen"},
        )
        ok = c.post(
            url, headers=PURPOSE, json={"status": "no_action", "reason": "already supported by YOT"}
        )
        after = c.get("/v1/partners/safeguarding/opportunities", headers=PURPOSE).json()
    assert bad.status_code == 422 and "reason" in bad.json()["detail"]
    assert unknown.status_code == 404  # not on the list
    assert ok.status_code == 201
    assert [i["person_key"] for i in after["items"]] == [i["person_key"] for i in listed["items"]]
    assert after["items"][0]["review"]["status"] == "no_action"
    assert after["items"][0]["reasons"] == listed["items"][0]["reasons"]
    assert {p.name: sha256_file(p) for p in folder.iterdir()} == before
    log = partners.data_root / "safeguarding" / "review" / "decisions.jsonl"
    decisions = read_audit(log)
    assert decisions[-1]["status"] == "no_action" and decisions[-1]["user"] == "sg.one"
    assert verify_audit(log) == []


def test_cohort_endpoint_serves_one_model_with_its_card(partners):
    with partners.client("safeguarding") as c:
        r = c.get("/v1/partners/cohorts/victim", headers=PURPOSE)
        both = c.get("/v1/partners/cohorts/combined", headers=PURPOSE)
    assert r.status_code == 200 and r.json()["model_card"]["excluded_fields"] == ["ethnicity"]
    assert both.status_code == 422
