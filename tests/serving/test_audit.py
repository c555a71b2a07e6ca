"""The audit log is append-only and hash-chained; concurrent writers keep it linear."""

import json
import multiprocessing as mp

from serving.api.audit import GENESIS, append_audit, read_audit, verify_audit


def _writer(path, who, n):
    for i in range(n):
        append_audit(path, {"user": who, "i": i, "record_ids": [f"{who}-{i}"]})


def test_concurrent_processes_append_a_linear_chain(tmp_path):
    path = tmp_path / "audit" / "api_audit.jsonl"
    procs = [mp.get_context("spawn").Process(target=_writer, args=(path, w, 40)) for w in "ab"]
    for p in procs:
        p.start()
    _writer(path, "c", 40)
    for p in procs:
        p.join(60)
    rows = read_audit(path)
    assert len(rows) == 120 and rows[0]["prev_sha256"] == GENESIS
    assert verify_audit(path) == []
    for who in "abc":  # each writer's rows in its own order, none lost
        assert [r["i"] for r in rows if r["user"] == who] == list(range(40))
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_an_edited_or_deleted_row_breaks_the_chain(tmp_path):
    path = tmp_path / "audit.jsonl"
    for i in range(5):
        append_audit(path, {"user": "an.one", "record_ids": [f"k{i}"]})
    lines = path.read_text().splitlines()
    edited = json.loads(lines[2]) | {"record_ids": []}  # hide what was returned
    path.write_text("\n".join([*lines[:2], json.dumps(edited), *lines[3:]]) + "\n")
    assert verify_audit(path) == ["audit.jsonl line 4: hash chain broken before this line"]
    path.write_text("\n".join([*lines[:1], *lines[2:]]) + "\n")  # a row removed
    found = verify_audit(path)
    assert found[0] == "audit.jsonl line 2: hash chain broken before this line"
    assert len(found) == 2 and "records 5 lines" in found[1]  # and the head counts it


def test_cutting_lines_off_the_end_is_found_by_the_head(tmp_path):
    path = tmp_path / "audit.jsonl"
    for i in range(4):
        append_audit(path, {"user": "an.one", "i": i})
    head = json.loads((tmp_path / "audit.jsonl.head").read_text())
    assert head["lines"] == 4 and oct((tmp_path / "audit.jsonl.head").stat().st_mode & 0o777) == (
        "0o600"
    )
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:3]) + "\n")  # the last call hidden: the chain alone is intact
    found = verify_audit(path)
    assert len(found) == 1 and "3 lines" in found[0] and "records 4 lines" in found[0]


def test_verify_command_exit_status(tmp_path, capsys):
    from serving.api.audit import main

    path = tmp_path / "audit.jsonl"
    for i in range(3):
        append_audit(path, {"user": "sg.one", "i": i})
    assert main(["verify", str(path)]) == 0
    assert "3 rows, hash chain intact" in capsys.readouterr().out
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    assert main(["verify", str(path)]) == 1
    assert "hash chain broken" in capsys.readouterr().out


def test_every_person_request_is_audited_including_validation_failures(tmp_path, start_server):
    from api_server import PERSON_1, publish_person_exports

    root = tmp_path / "data"
    publish_person_exports(root / "exports")
    srv = start_server(root)
    purpose = {"X-Purpose": "MASH strategy meeting 2025-12-01"}
    with srv.client("safeguarding") as c:
        # refused by parameter validation before the endpoint runs
        assert c.get("/v1/persons", params={"nhs_number": "12"}, headers=purpose).status_code == 422
        bad_dob = {"surname": "Sample", "date_of_birth": "1 May 90"}
        assert c.get("/v1/persons", params=bad_dob, headers=purpose).status_code == 422
        assert c.post("/v1/persons", headers=purpose).status_code == 405  # no such method
        assert c.get(f"/v1/persons/{PERSON_1}/extra", headers=purpose).status_code == 404
    with srv.client() as c:  # anonymous and invalid: still audited, with no user
        assert c.get("/v1/persons", params={"nhs_number": "x"}).status_code == 422
    with srv.client("officer") as c:  # officer endpoints are not person-level
        assert c.get("/v1/hotspots/nearby", params={"lat": "north"}).status_code >= 400
    audit = root / "audit" / "api_audit.jsonl"
    rows = read_audit(audit)
    got = [(r["user"], r["role"], r["method"], r["outcome"]) for r in rows]
    assert got == [
        ("sg.one", "safeguarding", "GET", 422),
        ("sg.one", "safeguarding", "GET", 422),
        ("sg.one", "safeguarding", "POST", 405),
        ("sg.one", "safeguarding", "GET", 404),
        (None, None, "GET", 422),
    ]
    assert rows[0]["query"] == {"nhs_number": "12"} and rows[0]["purpose"] == purpose["X-Purpose"]
    assert "nhs_number" in rows[0]["detail"] and all(r["request_id"] for r in rows)
    assert verify_audit(audit) == []
    assert oct(audit.stat().st_mode & 0o777) == "0o600"
