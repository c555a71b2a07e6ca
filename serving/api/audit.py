"""Append-only audit of person-level calls: one JSON line per call, never rewritten.

Each line carries ``prev_sha256``, the SHA-256 of the line before it (64 zeros
for the first), so the log is a hash chain: :func:`verify_audit` finds any line
changed, removed or inserted after the fact. Beside the log, ``<log>.head``
holds the number of lines and the hash of the last one, rewritten atomically
with every append under the same lock, so cutting lines off the end is found
too; copy the head elsewhere (a ticket, an email) to catch a rewrite of both.

The log and its head are created owner-only (0600). Check a log with::

    python -m serving.api.audit verify [data/audit/api_audit.jsonl]

(exit status 0 when intact, 1 with one message per break otherwise).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "append_audit",
    "audit_person_failure",
    "read_audit",
    "verify_audit",
    "head_path",
    "GENESIS",
    "main",
]

GENESIS = "0" * 64


def _last_line(fd: int) -> bytes | None:
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return None
    chunk, pos = b"", size
    while pos > 0:
        step = min(4096, pos)
        pos -= step
        chunk = os.pread(fd, step, pos) + chunk
        lines = chunk.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or pos == 0:
            return lines[-1]
    return None


def head_path(path: Path) -> Path:
    """The head file beside an audit log: ``{"lines": n, "last_sha256": ...}``."""
    return path.with_name(path.name + ".head")


def _write_head(path: Path, lines: int, last: str) -> None:
    head = head_path(path)
    tmp = head.with_name(f".{head.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps({"lines": lines, "last_sha256": last}) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, head)


def _read_head(path: Path) -> dict | None:
    head = head_path(path)
    if not head.exists():
        return None
    try:
        return json.loads(head.read_text())
    except ValueError:
        return {"lines": -1, "last_sha256": "unreadable"}


def append_audit(path: Path, row: dict) -> None:
    """Append ``row`` (plus ``time`` and ``prev_sha256``) as one line.

    Concurrent writers (threads or processes) are serialised with an exclusive
    lock, which also keeps the hash chain linear; the line is fsync'd.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        last = _last_line(fd)
        prev = hashlib.sha256(last).hexdigest() if last else GENESIS
        record = {"time": datetime.now(UTC).isoformat(), **row, "prev_sha256": prev}
        line = json.dumps(record, default=str).encode()
        os.write(fd, line + b"\n")
        os.fsync(fd)
        head = _read_head(path)
        if head is None or head.get("lines", -1) < 0:
            # first append, or a log from before heads existed: count its lines once
            lines = os.pread(fd, os.lseek(fd, 0, os.SEEK_END), 0).count(b"\n")
        else:
            lines = int(head["lines"]) + 1
        _write_head(path, lines, hashlib.sha256(line).hexdigest())
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def audit_person_failure(request, status: int, detail: str) -> None:
    """Audit a person-level request refused before its endpoint ran (422, 404, 405, 500).

    Installed by the app as ``app.state.audit_person_failure`` and called by the
    problem handlers (:mod:`serving.api.problems`) for paths under
    ``/v1/persons``; the caller is named when its token is valid.
    """
    from serving.api.auth import authenticate
    from serving.api.problems import Problem

    try:
        who = authenticate(request)
        user, role = who.user, who.role
    except Problem:
        user = role = None
    append_audit(
        request.app.state.settings.audit_log,
        {
            "user": user,
            "role": role,
            "purpose": request.headers.get("x-purpose"),
            "method": request.method,
            "path": request.url.path,
            "query": {**request.path_params, **dict(request.query_params)},
            "request_id": getattr(request.state, "request_id", None),
            "export_version": None,
            "record_ids": [],
            "row_ids": {},
            "outcome": status,
            "detail": detail,
        },
    )


def read_audit(path: Path) -> list[dict]:
    """Every audit row (for tests and reviews)."""
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def verify_audit(path: Path) -> list[str]:
    """Breaks in the hash chain, one message per bad line (empty when intact).

    Also compares the log with its head (:func:`head_path`): lines cut off the
    end, or a head that does not match, are reported.
    """
    head = _read_head(path)
    if not path.exists():
        return [f"{path.name}: missing, but its head records {head['lines']} lines"] if head else []
    problems, prev = [], GENESIS
    lines = path.read_bytes().split(b"\n")[:-1]
    for n, line in enumerate(lines, start=1):
        try:
            claimed = json.loads(line).get("prev_sha256")
        except ValueError:
            claimed = None
        if claimed != prev:
            problems.append(f"{path.name} line {n}: hash chain broken before this line")
        prev = hashlib.sha256(line).hexdigest()
    if head is not None and (head.get("lines") != len(lines) or head.get("last_sha256") != prev):
        problems.append(
            f"{path.name}: {len(lines)} lines ending in {prev[:12]}, but its head records "
            f"{head.get('lines')} lines ending in {str(head.get('last_sha256'))[:12]} "
            "(lines cut off the end, or the head rewritten)"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    """``python -m serving.api.audit verify [LOG]``: check the hash chain and head."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m serving.api.audit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="check the hash chain and head of an audit log")
    v.add_argument("log", nargs="?", help="the log (default: the API's, under VRDP_DATA_ROOT)")
    args = parser.parse_args(argv)
    if args.log:
        path = Path(args.log)
    else:
        from serving.api.settings import api_settings

        path = api_settings().audit_log
    problems = verify_audit(path)
    for p in problems:
        print(p)
    if not problems:
        rows = len(read_audit(path))
        print(f"{path}: {rows} rows, hash chain intact, head matches")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
