"""Append-only audit of person-level calls: one JSON line per call, never rewritten."""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["append_audit", "read_audit"]


def append_audit(path: Path, row: dict) -> None:
    """Append ``row`` (plus ``time``) as one line; concurrent writers are serialised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"time": datetime.now(UTC).isoformat(), **row}, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def read_audit(path: Path) -> list[dict]:
    """Every audit row (for tests and reviews)."""
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
