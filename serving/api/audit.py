"""Append-only audit of person-level calls: one JSON line per call, never rewritten.

Each line carries ``prev_sha256``, the SHA-256 of the line before it (64 zeros
for the first), so the log is a hash chain: :func:`verify_audit` finds any line
changed, removed or inserted after the fact (short of rewriting everything after
it, which a copy of the last hash kept elsewhere also catches).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["append_audit", "read_audit", "verify_audit", "GENESIS"]

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
        os.write(fd, (json.dumps(record, default=str) + "\n").encode())
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def read_audit(path: Path) -> list[dict]:
    """Every audit row (for tests and reviews)."""
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def verify_audit(path: Path) -> list[str]:
    """Breaks in the hash chain, one message per bad line (empty when intact)."""
    if not path.exists():
        return []
    problems, prev = [], GENESIS
    for n, line in enumerate(path.read_bytes().split(b"\n")[:-1], start=1):
        try:
            claimed = json.loads(line).get("prev_sha256")
        except ValueError:
            claimed = None
        if claimed != prev:
            problems.append(f"{path.name} line {n}: hash chain broken before this line")
        prev = hashlib.sha256(line).hexdigest()
    return problems
