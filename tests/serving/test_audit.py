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
    assert verify_audit(path) == ["audit.jsonl line 2: hash chain broken before this line"]
